package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// The scheduler's query views (upstream's QueryView subclasses
// TaskRunsQuery, TaskRefusalsQuery and LogMessagesQuery): a table, the
// fields a caller may select, filter and order by, and the joins some
// fields need.

// A ViewError reports a field, operator or value a query view refuses;
// the hub answers it with a ParameterError carrying Msg.
type ViewError struct{ Msg string }

func (e *ViewError) Error() string { return e.Msg }

// fieldKind is the type of a view field's values.
type fieldKind int

const (
	kindInt fieldKind = iota
	kindBool
	kindString
	kindEpoch // a timestamp column answered as seconds since the epoch
	kindTime  // a timestamp column answered as a time.Time
	kindJSON  // a TEXT column holding JSON, answered as a JSONText
)

// viewField is one field of a view: its column and the join it needs
// ("" for none).
type viewField struct {
	column string
	join   string
	kind   fieldKind
}

// queryView is upstream's QueryView: tables, joinmap, fieldmap and
// default_fields.
type queryView struct {
	table    string
	joins    map[string]string
	fields   map[string]viewField
	order    []string // the fields in fieldmap order, for '*' and '**'
	defaults []string
}

func newView(table string, joins map[string]string, defaults []string, fields ...any) *queryView {
	v := &queryView{table: table, joins: joins, fields: map[string]viewField{}, defaults: defaults}
	for i := 0; i < len(fields); i += 2 {
		name := fields[i].(string)
		v.fields[name] = fields[i+1].(viewField)
		v.order = append(v.order, name)
	}
	return v
}

var (
	taskJoinFields = []any{
		"method", viewField{"task.method", "task", kindString},
		"state", viewField{"task.state", "task", kindInt},
		"owner", viewField{"task.owner", "task", kindInt},
		"arch", viewField{"task.arch", "task", kindString},
		"channel_id", viewField{"task.channel_id", "task", kindInt},
		"host_name", viewField{"host.name", "host", kindString},
		"host_ready", viewField{"host.ready", "host", kindBool},
	}

	taskRunsView = newView("scheduler_task_runs",
		map[string]string{
			"task": "JOIN task ON scheduler_task_runs.task_id = task.id",
			"host": "JOIN host ON scheduler_task_runs.host_id = host.id",
		},
		[]string{"id", "task_id", "host_id", "active", "create_ts"},
		slices.Concat([]any{
			"id", viewField{"scheduler_task_runs.id", "", kindInt},
			"task_id", viewField{"scheduler_task_runs.task_id", "", kindInt},
		}, taskJoinFields, []any{
			"host_id", viewField{"scheduler_task_runs.host_id", "", kindInt},
			"active", viewField{"scheduler_task_runs.active", "", kindBool},
			"create_ts", viewField{"scheduler_task_runs.create_time", "", kindEpoch},
			"start_ts", viewField{"task.start_time", "task", kindEpoch},
			"completion_ts", viewField{"task.completion_time", "task", kindEpoch},
		})...)

	taskRefusalsView = newView("scheduler_task_refusals",
		map[string]string{
			"task": "JOIN task ON scheduler_task_refusals.task_id = task.id",
			"host": "JOIN host ON scheduler_task_refusals.host_id = host.id",
		},
		[]string{"id", "task_id", "host_id", "by_host", "soft", "msg", "ts"},
		slices.Concat([]any{
			"id", viewField{"scheduler_task_refusals.id", "", kindInt},
			"task_id", viewField{"scheduler_task_refusals.task_id", "", kindInt},
			"host_id", viewField{"scheduler_task_refusals.host_id", "", kindInt},
			"by_host", viewField{"scheduler_task_refusals.by_host", "", kindBool},
			"soft", viewField{"scheduler_task_refusals.soft", "", kindBool},
			"msg", viewField{"scheduler_task_refusals.msg", "", kindString},
			"ts", viewField{"scheduler_task_refusals.time", "", kindEpoch},
		}, taskJoinFields)...)

	logMessagesView = newView("scheduler_log_messages",
		map[string]string{
			// outer joins: either id may be null
			"task": "LEFT JOIN task ON scheduler_log_messages.task_id = task.id",
			"host": "LEFT JOIN host ON scheduler_log_messages.host_id = host.id",
		},
		[]string{"id", "task_id", "host_id", "msg", "msg_ts"},
		slices.Concat([]any{
			"id", viewField{"scheduler_log_messages.id", "", kindInt},
			"task_id", viewField{"scheduler_log_messages.task_id", "", kindInt},
			"host_id", viewField{"scheduler_log_messages.host_id", "", kindInt},
			"msg_ts", viewField{"scheduler_log_messages.msg_time", "", kindEpoch},
			"msg", viewField{"scheduler_log_messages.msg", "", kindString},
		}, taskJoinFields)...)
)

// A ViewClause is one condition of a view query: Field Op Value. Op is one
// of IN, =, !=, >, <, >=, <=, IS, IS NOT (upper case); IN takes a []any.
// Values of timestamp fields are seconds since the epoch.
type ViewClause struct {
	Field string
	Op    string
	Value any
}

// ViewOpts are the query options a view query honours (upstream's
// queryOpts): Order is a comma-separated list of fields, each optionally
// prefixed with "-" for descending order; Group only has its fields
// checked, as upstream's views do not group.
type ViewOpts struct {
	Order     string
	Group     string
	Offset    int
	Limit     int
	CountOnly bool
	AsList    bool
}

// QueryTaskRuns answers scheduler.getTaskRuns: rows of
// scheduler_task_runs (and, for some fields, of its task and host).
func (tx *Tx) QueryTaskRuns(ctx context.Context, clauses []ViewClause, fields []string, opts ViewOpts) (any, error) {
	return tx.queryView(ctx, taskRunsView, clauses, fields, opts)
}

// QueryTaskRefusals answers scheduler.getTaskRefusals.
func (tx *Tx) QueryTaskRefusals(ctx context.Context, clauses []ViewClause, fields []string, opts ViewOpts) (any, error) {
	return tx.queryView(ctx, taskRefusalsView, clauses, fields, opts)
}

// QueryLogMessages answers scheduler.getLogMessages.
func (tx *Tx) QueryLogMessages(ctx context.Context, clauses []ViewClause, fields []string, opts ViewOpts) (any, error) {
	return tx.queryView(ctx, logMessagesView, clauses, fields, opts)
}

// viewQuery is one query being built, as QueryView.get_query builds it.
type viewQuery struct {
	v     *queryView
	joins []string // join keys, in the order first needed
}

func (q *viewQuery) mapField(name string) (viewField, error) {
	f, ok := q.v.fields[name]
	if !ok {
		return f, &ViewError{"Invalid field for query " + name}
	}
	if f.join != "" && !slices.Contains(q.joins, f.join) {
		q.joins = append(q.joins, f.join)
	}
	return f, nil
}

// queryView runs a view query. It answers a count (countOnly), rows as
// lists of values in field name order (asList), or rows as maps.
func (tx *Tx) queryView(ctx context.Context, v *queryView, clauses []ViewClause, fields []string, opts ViewOpts) (any, error) {
	q := &viewQuery{v: v}
	// Options first, then clauses, then fields: the order upstream maps
	// them in, which decides which error a bad query gets and which joins
	// '*' includes.
	var orderBy []string
	if opts.Order != "" {
		for _, key := range strings.Split(opts.Order, ",") {
			desc := strings.HasPrefix(key, "-")
			f, err := q.mapField(strings.TrimPrefix(key, "-"))
			if err != nil {
				return nil, err
			}
			if desc {
				orderBy = append(orderBy, f.column+" DESC")
			} else {
				orderBy = append(orderBy, f.column)
			}
		}
	}
	if opts.Group != "" {
		for _, key := range strings.Split(opts.Group, ",") {
			if _, err := q.mapField(key); err != nil {
				return nil, err
			}
		}
	}
	var where []string
	var args []any
	for _, c := range clauses {
		f, err := q.mapField(c.Field)
		if err != nil {
			return nil, err
		}
		cond, cargs, err := tx.clauseSQL(f, c)
		if err != nil {
			return nil, err
		}
		where, args = append(where, cond), append(args, cargs...)
	}
	names := q.fieldNames(fields)
	cols := make([]viewField, len(names))
	for i, n := range names {
		var err error
		if cols[i], err = q.mapField(n); err != nil {
			return nil, err
		}
	}

	from := " FROM " + v.table
	for _, j := range q.joins {
		from += " " + v.joins[j]
	}
	if len(where) > 0 {
		from += " WHERE (" + strings.Join(where, ") AND (") + ")"
	}
	var limit string
	if opts.Limit > 0 || opts.Offset > 0 {
		n := int64(opts.Limit)
		if n <= 0 {
			n = math.MaxInt64 // SQLite has no OFFSET without LIMIT
		}
		limit = fmt.Sprintf(" LIMIT %d OFFSET %d", n, max(opts.Offset, 0))
	}
	if opts.CountOnly {
		var n int64
		query := "SELECT count(*)" + from
		if limit != "" {
			query = "SELECT count(*) FROM (SELECT 1" + from + limit + ") numrows"
		}
		err := tx.queryRow(ctx, query, args...).Scan(&n)
		return n, err
	}
	exprs := make([]string, len(cols))
	for i, c := range cols {
		exprs[i] = c.column
	}
	query := "SELECT " + strings.Join(exprs, ", ") + from
	if len(orderBy) > 0 {
		query += " ORDER BY " + strings.Join(orderBy, ", ")
	}
	rows, err := tx.query(ctx, query+limit, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var maps []map[string]any
	lists := [][]any{}
	for rows.Next() {
		vals, err := scanViewRow(rows, cols)
		if err != nil {
			return nil, err
		}
		if opts.AsList {
			lists = append(lists, vals)
			continue
		}
		m := make(map[string]any, len(names))
		for i, n := range names {
			m[n] = vals[i]
		}
		maps = append(maps, m)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if opts.AsList {
		return lists, nil
	}
	if maps == nil {
		maps = []map[string]any{}
	}
	return maps, nil
}

// fieldNames expands the requested fields as upstream's get_fields: none
// means the view's defaults, '*' the fields needing no join beyond those
// the query already has, '**' every field. The result is sorted, the
// order in which upstream's QueryProcessor lists aliases.
func (q *viewQuery) fieldNames(fields []string) []string {
	if len(fields) == 0 {
		fields = q.v.defaults
	}
	seen := map[string]bool{}
	var out []string
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, f := range fields {
		switch f {
		case "*":
			for _, n := range q.v.order {
				if j := q.v.fields[n].join; j == "" || slices.Contains(q.joins, j) {
					add(n)
				}
			}
		case "**":
			for _, n := range q.v.order {
				add(n)
			}
		default:
			add(f)
		}
	}
	slices.Sort(out)
	return out
}

// epochSQL is the SQL expression of a timestamp column in seconds since
// the epoch.
func (tx *Tx) epochSQL(column string) string {
	if tx.pool.dialect == Postgres {
		return "date_part('epoch', " + column + ")"
	}
	return "((julianday(" + column + ") - 2440587.5) * 86400.0)"
}

// clauseSQL renders one clause.
func (tx *Tx) clauseSQL(f viewField, c ViewClause) (string, []any, error) {
	if f.kind == kindJSON {
		return tx.jsonClauseSQL(f, c)
	}
	col := f.column
	if f.kind == kindEpoch {
		col = tx.epochSQL(col)
	}
	switch c.Op {
	case "IN":
		list, ok := c.Value.([]any)
		if !ok {
			return "", nil, &ViewError{fmt.Sprintf("Invalid value for IN: %v", c.Value)}
		}
		if len(list) == 0 {
			return "1 = 0", nil, nil
		}
		args := make([]any, len(list))
		for i, x := range list {
			if args[i], ok = sqlScalar(x); !ok {
				return "", nil, &ViewError{fmt.Sprintf("Invalid value for field %s: %v", c.Field, x)}
			}
		}
		return col + " IN (" + placeholders(len(list)) + ")", args, nil
	case "=", "!=", ">", "<", ">=", "<=":
		x, ok := sqlScalar(c.Value)
		if !ok {
			return "", nil, &ViewError{fmt.Sprintf("Invalid value for field %s: %v", c.Field, c.Value)}
		}
		if x == nil {
			// SQL's comparison with NULL, which is never true.
			return "1 = 0", nil, nil
		}
		return col + " " + c.Op + " ?", []any{x}, nil
	case "IS", "IS NOT":
		switch c.Value {
		case nil:
			return col + " " + c.Op + " NULL", nil, nil
		case true:
			return col + " " + c.Op + " TRUE", nil, nil
		case false:
			return col + " " + c.Op + " FALSE", nil, nil
		}
		return "", nil, &ViewError{fmt.Sprintf("Invalid value for %s: %v", c.Op, c.Value)}
	case "@>", "<@":
		return "", nil, &ViewError{fmt.Sprintf("Operator %s is not supported for field %s", c.Op, c.Field)}
	}
	return "", nil, &ViewError{"Invalid operator: " + c.Op}
}

// sqlScalar checks that x is a value a clause may compare with.
func sqlScalar(x any) (any, bool) {
	switch v := x.(type) {
	case nil, bool, int64, float64, string:
		return v, true
	case int:
		return int64(v), true
	}
	return nil, false
}

// scanViewRow scans one row of the given fields into XML-RPC ready
// values: ints, bools, strings, epoch floats, or nil.
func scanViewRow(rows *sql.Rows, cols []viewField) ([]any, error) {
	dest := make([]any, len(cols))
	for i, c := range cols {
		switch c.kind {
		case kindInt:
			dest[i] = new(sql.NullInt64)
		case kindBool:
			dest[i] = new(sql.NullBool)
		case kindString:
			dest[i] = new(sql.NullString)
		case kindEpoch, kindTime:
			dest[i] = new(sql.NullTime)
		case kindJSON:
			dest[i] = new(sql.NullString)
		}
	}
	if err := rows.Scan(dest...); err != nil {
		return nil, err
	}
	out := make([]any, len(cols))
	for i, d := range dest {
		switch v := d.(type) {
		case *sql.NullInt64:
			if v.Valid {
				out[i] = v.Int64
			}
		case *sql.NullBool:
			if v.Valid {
				out[i] = v.Bool
			}
		case *sql.NullString:
			if v.Valid && cols[i].kind == kindJSON {
				out[i] = JSONText(v.String)
			} else if v.Valid {
				out[i] = v.String
			}
		case *sql.NullTime:
			if v.Valid && cols[i].kind == kindTime {
				out[i] = v.Time
			} else if v.Valid {
				out[i] = epoch(v.Time)
			}
		}
	}
	return out, nil
}

// epoch is a time in seconds since the epoch, to the microsecond, as
// PostgreSQL's date_part('epoch', …) answers it.
func epoch(t time.Time) float64 { return float64(t.UnixMicro()) / 1e6 }
