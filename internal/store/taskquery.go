package store

import (
	"context"
	"fmt"
	"math"
	"strings"
)

// OrderBy is one term of a query's ORDER BY: a column the query knows and
// the direction. NULLs sort as PostgreSQL sorts them by default (last when
// ascending, first when descending) on both databases.
type OrderBy struct {
	Column string
	Desc   bool
}

// TaskCond is one condition of a [TaskQuery] on a column of task.
type TaskCond struct {
	// Column is one of TaskQueryColumns' keys.
	Column string
	// Op is "=", "!=", "<", ">", "IN", "NOT IN", "IS NULL" or
	// "IS NOT NULL".
	Op string
	// Values are the operands: one for a comparison, any number for IN
	// and NOT IN (an empty IN matches nothing, an empty NOT IN
	// everything), none for IS NULL and IS NOT NULL.
	Values []any
}

// TaskQuery selects tasks for [Tx.QueryTasks] and [Tx.CountTasks]: the
// tasks matching every condition, ordered (by id when Order is empty),
// skipping Offset and returning at most Limit (all when 0).
type TaskQuery struct {
	Conds  []TaskCond
	Order  []OrderBy
	Offset int64
	Limit  int64
}

// TaskRow is a task with its owner's name and user type, as listTasks
// answers it.
type TaskRow struct {
	Task
	OwnerName *string
	OwnerType *int
}

// TaskQueryColumns maps the columns a [TaskQuery] may filter and order on
// to their SQL; owner_name and owner_type come from the owner's users row.
var TaskQueryColumns = map[string]string{
	"id": "t.id", "state": "t.state", "create_time": "t.create_time", "start_time": "t.start_time",
	"completion_time": "t.completion_time", "channel_id": "t.channel_id", "host_id": "t.host_id",
	"parent": "t.parent", "label": "t.label", "waiting": "t.waiting", "awaited": "t.awaited",
	"owner": "t.owner", "method": "t.method", "request": "t.request", "result": "t.result",
	"arch": "t.arch", "priority": "t.priority", "weight": "t.weight",
	"owner_name": "u.name", "owner_type": "u.usertype",
}

const taskRowColumns = "t.id, t.state, t.create_time, t.start_time, t.completion_time, t.channel_id, t.host_id, " +
	"t.parent, t.label, t.waiting, t.awaited, t.owner, COALESCE(t.method, ''), COALESCE(t.request, ''), t.result, " +
	"t.eta, t.arch, COALESCE(t.priority, 0), t.weight, u.name, u.usertype"

func scanTaskRow(row scanner) (*TaskRow, error) {
	var r TaskRow
	t := &r.Task
	err := row.Scan(&t.ID, &t.State, &t.CreateTime, &t.StartTime, &t.CompletionTime, &t.ChannelID, &t.HostID,
		&t.Parent, &t.Label, &t.Waiting, &t.Awaited, &t.Owner, &t.Method, &t.Request, &t.Result, &t.ETA,
		&t.Arch, &t.Priority, &t.Weight, &r.OwnerName, &r.OwnerType)
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// where renders the query's conditions as a WHERE clause with its
// arguments.
func (q *TaskQuery) where() (string, []any, error) {
	var (
		conds []string
		args  []any
	)
	for _, c := range q.Conds {
		col, ok := TaskQueryColumns[c.Column]
		if !ok {
			return "", nil, fmt.Errorf("store: no task column %q", c.Column)
		}
		switch c.Op {
		case "=", "!=", "<", ">":
			if len(c.Values) != 1 {
				return "", nil, fmt.Errorf("store: %s %s needs one value, not %d", c.Column, c.Op, len(c.Values))
			}
			conds, args = append(conds, col+" "+c.Op+" ?"), append(args, c.Values[0])
		case "IN", "NOT IN":
			switch {
			case len(c.Values) > 0:
				conds, args = append(conds, col+" "+c.Op+" ("+placeholders(len(c.Values))+")"), append(args, c.Values...)
			case c.Op == "IN":
				conds = append(conds, "1 = 0")
			}
		case "IS NULL", "IS NOT NULL":
			conds = append(conds, col+" "+c.Op)
		default:
			return "", nil, fmt.Errorf("store: unsupported operator %q", c.Op)
		}
	}
	if len(conds) == 0 {
		return "", nil, nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args, nil
}

// orderBy renders terms against columns (name → SQL) as an ORDER BY
// clause, or orders by byDefault (SQL) when there are none; unknown
// columns are an error.
func orderBy(terms []OrderBy, columns map[string]string, byDefault string) (string, error) {
	if len(terms) == 0 {
		return " ORDER BY " + byDefault, nil
	}
	parts := make([]string, 0, len(terms))
	for _, o := range terms {
		col, ok := columns[o.Column]
		if !ok {
			return "", fmt.Errorf("store: cannot order by %q", o.Column)
		}
		if o.Desc {
			parts = append(parts, col+" DESC NULLS FIRST")
		} else {
			parts = append(parts, col+" ASC NULLS LAST")
		}
	}
	return " ORDER BY " + strings.Join(parts, ", "), nil
}

// QueryTasks returns the tasks q selects, with their owners.
func (tx *Tx) QueryTasks(ctx context.Context, q TaskQuery) ([]TaskRow, error) {
	where, args, err := q.where()
	if err != nil {
		return nil, err
	}
	order, err := orderBy(q.Order, TaskQueryColumns, "t.id")
	if err != nil {
		return nil, err
	}
	sql := "SELECT " + taskRowColumns + " FROM task t LEFT JOIN users u ON u.id = t.owner" + where + order
	if q.Limit > 0 || q.Offset > 0 {
		limit := q.Limit
		if limit <= 0 {
			limit = math.MaxInt64 // SQLite has no OFFSET without LIMIT
		}
		sql, args = sql+" LIMIT ? OFFSET ?", append(args, limit, q.Offset)
	}
	rows, err := tx.query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanTaskRow)
}

// CountTasks returns how many tasks [Tx.QueryTasks] would return for q.
func (tx *Tx) CountTasks(ctx context.Context, q TaskQuery) (int64, error) {
	where, args, err := q.where()
	if err != nil {
		return 0, err
	}
	sql := "SELECT count(*) FROM task t LEFT JOIN users u ON u.id = t.owner" + where
	if q.Limit > 0 || q.Offset > 0 {
		limit := q.Limit
		if limit <= 0 {
			limit = math.MaxInt64
		}
		sql = "SELECT count(*) FROM (SELECT t.id FROM task t LEFT JOIN users u ON u.id = t.owner" + where +
			" ORDER BY t.id LIMIT ? OFFSET ?) numrows"
		args = append(args, limit, q.Offset)
	}
	var n int64
	if err := tx.queryRow(ctx, sql, args...).Scan(&n); err != nil {
		return 0, classify(err)
	}
	return n, nil
}
