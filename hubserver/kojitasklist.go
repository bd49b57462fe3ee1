package hubserver

import (
	"context"
	"math"
	"strings"
	"time"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// listTaskFields are the columns listTasks selects (Task.fields, request,
// result and the owner's name and type), with the store columns they
// order by.
var listTaskFields = []queryField{
	{"id", "task.id", "id"},
	{"state", "task.state", "state"},
	{"create_time", "task.create_time", "create_time"},
	{"create_ts", "date_part('epoch', create_time)", "create_time"},
	{"start_time", "task.start_time", "start_time"},
	{"start_ts", "date_part('epoch', task.start_time)", "start_time"},
	{"completion_time", "task.completion_time", "completion_time"},
	{"completion_ts", "date_part('epoch', completion_time)", "completion_time"},
	{"channel_id", "task.channel_id", "channel_id"},
	{"host_id", "task.host_id", "host_id"},
	{"parent", "task.parent", "parent"},
	{"label", "task.label", "label"},
	{"waiting", "task.waiting", "waiting"},
	{"awaited", "task.awaited", "awaited"},
	{"owner", "task.owner", "owner"},
	{"method", "task.method", "method"},
	{"arch", "task.arch", "arch"},
	{"priority", "task.priority", "priority"},
	{"weight", "task.weight", "weight"},
	{"request", "task.request", "request"},
	{"result", "task.result", "result"},
	{"owner_name", "users.name", "owner_name"},
	{"owner_type", "users.usertype", "owner_type"},
}

// listTaskTimeOpts are listTasks' time filters: option, column, operator.
var listTaskTimeOpts = [][3]string{
	{"createdBefore", "create_time", "<"},
	{"createdAfter", "create_time", ">"},
	{"startedBefore", "start_time", "<"},
	{"startedAfter", "start_time", ">"},
	{"completeBefore", "completion_time", "<"},
	{"completeAfter", "completion_time", ">"},
	// aliases upstream keeps for API compatibility
	{"completedBefore", "completion_time", "<"},
	{"completedAfter", "completion_time", ">"},
}

// listTasks lists tasks filtered by opts (RootExports.listTasks): arch and
// state (lists, and their not_ variants), owner, host_id, channel_id and
// parent (an id, a list, or None for NULL, and not_ variants), method, the
// created/started/complete Before/After times (seconds since the epoch or
// an ISO string), and decode, which decodes the request and result
// documents. queryOpts order, page, count or turn rows into lists.
func listTasks(ctx context.Context, opts, queryOpts map[string]any) (any, error) {
	qo, err := parseQueryOpts(queryOpts)
	if err != nil {
		return nil, err
	}
	var q store.TaskQuery
	for _, f := range []string{"arch", "state"} {
		for _, not := range []bool{false, true} {
			key := f
			if not {
				key = "not_" + f
			}
			v, ok := opts[key]
			if !ok {
				continue
			}
			vals, err := listTaskValues(f, v)
			if err != nil {
				return nil, err
			}
			q.Conds = append(q.Conds, store.TaskCond{Column: f, Op: inOp(not), Values: vals})
		}
	}
	for _, f := range []string{"owner", "host_id", "channel_id", "parent"} {
		for _, not := range []bool{false, true} {
			key := f
			if not {
				key = "not_" + f
			}
			v, ok := opts[key]
			if !ok {
				continue
			}
			c, err := listTaskIDCond(f, v, not)
			if err != nil {
				return nil, err
			}
			q.Conds = append(q.Conds, c)
		}
	}
	if v, ok := opts["method"]; ok {
		switch m := v.(type) {
		case string:
			q.Conds = append(q.Conds, store.TaskCond{Column: "method", Op: "=", Values: []any{m}})
		case nil:
			// "method = NULL" matches nothing
			q.Conds = append(q.Conds, store.TaskCond{Column: "method", Op: "IN"})
		default:
			return nil, convertError(v, "str")
		}
	}
	for _, t := range listTaskTimeOpts {
		v := opts[t[0]]
		if v == nil {
			continue
		}
		when, err := listTaskTime(v)
		if err != nil {
			return nil, err
		}
		q.Conds = append(q.Conds, store.TaskCond{Column: t[1], Op: t[2], Values: []any{when}})
	}
	q.Offset, q.Limit = qo.Offset, qo.Limit
	tx := storeTx(ctx)
	if qo.CountOnly {
		return tx.CountTasks(ctx, q)
	}
	if q.Order, err = qo.storeOrder(listTaskFields); err != nil {
		return nil, err
	}
	rows, err := tx.QueryTasks(ctx, q)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(rows))
	for i := range rows {
		r := &rows[i]
		m := taskFields(&r.Task)
		m["request"], m["result"] = r.Request, r.Result
		m["owner_name"], m["owner_type"] = r.OwnerName, r.OwnerType
		out[i] = m
	}
	if qo.AsList {
		return asList(out, listTaskFields), nil
	}
	if xmlrpc.Truthy(opts["decode"]) {
		for i, r := range rows {
			if err := decodeTaskRow(out[i], &r.Task); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func inOp(not bool) string {
	if not {
		return "NOT IN"
	}
	return "IN"
}

// listTaskValues reads an arch or state filter: a list (a single value is
// taken as a list of one) of strings or of integers.
func listTaskValues(f string, v any) ([]any, error) {
	if v == nil {
		return nil, convertError(v, "list")
	}
	l, ok := v.([]any)
	if !ok {
		l = []any{v}
	}
	out := make([]any, len(l))
	for i, x := range l {
		if f == "state" {
			n, err := convertInt(x)
			if err != nil {
				return nil, err
			}
			out[i] = n
			continue
		}
		s, ok := x.(string)
		if !ok {
			return nil, convertError(x, "str")
		}
		out[i] = s
	}
	return out, nil
}

// listTaskIDCond reads an owner, host_id, channel_id or parent filter:
// None is IS (NOT) NULL, a list IN (NOT IN), an id = (!=).
func listTaskIDCond(f string, v any, not bool) (store.TaskCond, error) {
	switch x := v.(type) {
	case nil:
		op := "IS NULL"
		if not {
			op = "IS NOT NULL"
		}
		return store.TaskCond{Column: f, Op: op}, nil
	case []any:
		ids := make([]any, len(x))
		for i, e := range x {
			n, err := convertInt(e)
			if err != nil {
				return store.TaskCond{}, err
			}
			ids[i] = n
		}
		return store.TaskCond{Column: f, Op: inOp(not), Values: ids}, nil
	}
	n, err := convertInt(v)
	if err != nil {
		return store.TaskCond{}, err
	}
	op := "="
	if not {
		op = "!="
	}
	return store.TaskCond{Column: f, Op: op, Values: []any{n}}, nil
}

// listTaskTime reads a time filter: seconds since the epoch, or a date
// and time as PostgreSQL reads it (ISO 8601, "T" or space between date
// and time, optional fraction and zone; UTC when none is given).
func listTaskTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case int64:
		return time.Unix(x, 0).UTC(), nil
	case bool:
		return time.Unix(int64(boolInt(x)), 0).UTC(), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return time.Time{}, pyException("ValueError", "Invalid value NaN (not a number)")
		}
		sec, frac := math.Modf(x)
		return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1000).UTC(), nil
	case string:
		s := strings.TrimSpace(x)
		for _, layout := range isoLayouts {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC(), nil
			}
		}
		return time.Time{}, fault(koji.ErrGeneric, "invalid input syntax for type timestamp with time zone: %s", pyStr(x))
	}
	return time.Time{}, pyException("TypeError", "'%s' object cannot be interpreted as an integer", pyTypeName(v))
}

// isoLayouts are the date-time forms listTaskTime accepts.
var isoLayouts = func() []string {
	var out []string
	for _, date := range []string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999",
		"2006-01-02 15:04", "2006-01-02T15:04"} {
		for _, zone := range []string{"", "Z07:00", "-0700", "-07"} {
			out = append(out, date+zone)
		}
	}
	return append(out, "2006-01-02")
}()

// decodeTaskRow decodes a listTasks row's request to its parameter list
// and its result to a one-element list, or to a {faultCode, faultString}
// struct for a stored fault (RootExports._decode_tasks).
func decodeTaskRow(m map[string]any, t *store.Task) error {
	if t.Request != "" {
		req, err := decodeRequest(t.Request)
		if err != nil {
			return err
		}
		m["request"] = req
	}
	if t.Result != nil && *t.Result != "" {
		v, err := decodeResult(*t.Result)
		if f, ok := err.(*xmlrpc.Fault); ok {
			m["result"] = map[string]any{"faultCode": f.Code, "faultString": f.String}
		} else if err != nil {
			return err
		} else {
			m["result"] = []any{v}
		}
	}
	return nil
}
