package hubserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// schedulerMethods are upstream's SchedulerExports (the scheduler.*
// methods) and the root method assignTask.
func (k *Koji) schedulerMethods() []Method {
	return []Method{
		{
			Name: "scheduler.getTaskRuns", PyName: "get_task_runs",
			Args: []Arg{{Name: "clauses", Default: None}, {Name: "fields", Default: None}, {Name: "opts", Default: None}},
			Func: func(ctx context.Context, clauses, fields, opts any) (any, error) {
				return queryView(ctx, (*store.Tx).QueryTaskRuns, clauses, fields, opts, true)
			},
		},
		{
			Name: "scheduler.getTaskRefusals", PyName: "get_task_refusals",
			Args: []Arg{{Name: "clauses", Default: None}, {Name: "fields", Default: None}},
			Func: func(ctx context.Context, clauses, fields any) (any, error) {
				return queryView(ctx, (*store.Tx).QueryTaskRefusals, clauses, fields, nil, false)
			},
		},
		{
			Name: "scheduler.getHostData", PyName: "get_host_data",
			Args: []Arg{{Name: "hostID", Default: None}},
			Doc: "Return actual builder data\n\n    :param int hostID: Return data for given host (otherwise for all)\n" +
				"    :returns list[dict]: list of host_id/data dicts\n    ",
			Func: getHostData,
		},
		{
			Name: "scheduler.getLogMessages", PyName: "get_log_messages",
			Args: []Arg{{Name: "clauses", Default: None}, {Name: "fields", Default: None}, {Name: "opts", Default: None}},
			Func: func(ctx context.Context, clauses, fields, opts any) (any, error) {
				return queryView(ctx, (*store.Tx).QueryLogMessages, clauses, fields, opts, true)
			},
		},
		{
			Name: "scheduler.doRun", PyName: "SchedulerExports.doRun", Bound: true,
			Args: []Arg{{Name: "force", Default: false}},
			Doc: "Run the scheduler\n\n        This is a debug tool and should not normally be needed.\n" +
				"        Scheduler runs are regularly triggered by builder checkins\n        ",
			Func: func(ctx context.Context, force any) (bool, error) {
				if err := assertPerm(ctx, "admin"); err != nil {
					return false, err
				}
				f := xmlrpc.Truthy(force)
				return k.sched.run(ctx, f, !f)
			},
		},
		{
			Name: "assignTask", PyName: "do_assign",
			Args: []Arg{{Name: "task_id"}, {Name: "host"}, {Name: "force", Default: false}, {Name: "override", Default: false}},
			Doc: "Assign a task to a host\n\n    Specify force=True to assign a non-free task\n" +
				"    Specify override=True to prevent the scheduler from reassigning later\n    ",
			Func: k.doAssign,
		},
	}
}

// doAssign is upstream's scheduler.do_assign, exported as assignTask: an
// admin assigns a task to a host, waiting for the scheduler's lock; with
// override the assignment has no run, so the scheduler never times it
// out.
func (k *Koji) doAssign(ctx context.Context, taskID, host, force, override any) (bool, error) {
	id, err := convertInt(taskID)
	if err != nil {
		return false, err
	}
	tx := storeTx(ctx)
	h, err := strictHost(ctx, tx, host, "Invalid hostInfo: %s")
	if err != nil {
		return false, err
	}
	if err := assertPerm(ctx, "admin"); err != nil {
		return false, err
	}
	if _, err := tx.Lock(ctx, schedLockName, true); err != nil {
		return false, err
	}
	return k.sched.assign(ctx, id, h.ID, xmlrpc.Truthy(force), xmlrpc.Truthy(override))
}

// getHostData is upstream's get_host_data: [{host_id, data}] for one host
// or all, data decoded from its JSON.
func getHostData(ctx context.Context, hostID any) ([]map[string]any, error) {
	var id *int64
	if hostID != nil {
		n, err := convertInt(hostID)
		if err != nil {
			return nil, err
		}
		id = &n
	}
	rows, err := storeTx(ctx).SchedulerHostData(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, 0, len(rows))
	for _, r := range rows {
		var data any
		if r.Data != nil {
			if data, err = decodeJSON(*r.Data); err != nil {
				return nil, err
			}
		}
		out = append(out, map[string]any{"host_id": r.HostID, "data": data})
	}
	return out, nil
}

// decodeJSON decodes JSON as Python's json module does for XML-RPC:
// integers stay integers.
func decodeJSON(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return jsonNumbers(v), nil
}

func jsonNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = jsonNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = jsonNumbers(e)
		}
	}
	return v
}

// encodeJSON encodes decoded XML-RPC data as Python's json.dumps does,
// refusing what it cannot encode (binary data, datetimes) with its
// TypeError.
func encodeJSON(v any) (string, error) {
	if err := jsonable(v); err != nil {
		return "", err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

func jsonable(v any) error {
	switch x := v.(type) {
	case nil, bool, int64, int, float64, string:
		return nil
	case []byte:
		return pyException("TypeError", "Object of type bytes is not JSON serializable")
	case map[string]any:
		for _, e := range x {
			if err := jsonable(e); err != nil {
				return err
			}
		}
		return nil
	case []any:
		for _, e := range x {
			if err := jsonable(e); err != nil {
				return err
			}
		}
		return nil
	}
	return pyException("TypeError", "Object of type %s is not JSON serializable", pyTypeName(v))
}

// A viewQuery runs one of the store's query views.
type viewQuery func(tx *store.Tx, ctx context.Context, clauses []store.ViewClause, fields []string, opts store.ViewOpts) (any, error)

// queryView answers a QueryView method: clauses [field, value] (a list
// value means IN) or [field, op, value], fields (a list, or one name), and
// queryOpts. Methods whose upstream function defaults opts to {'order':
// 'id'} pass orderByID.
func queryView(ctx context.Context, run viewQuery, clauses, fields, opts any, orderByID bool) (any, error) {
	var cs []store.ViewClause
	if clauses != nil {
		list, ok := clauses.([]any)
		if !ok {
			return nil, pyException("TypeError", "'%s' object is not iterable", pyTypeName(clauses))
		}
		for _, c := range list {
			vc, err := viewClause(c)
			if err != nil {
				return nil, err
			}
			cs = append(cs, vc)
		}
	}
	var fs []string
	switch f := fields.(type) {
	case nil:
	case string:
		fs = []string{f}
	case []any:
		for _, x := range f {
			s, ok := x.(string)
			if !ok {
				return nil, fault(koji.ErrParameter, "Invalid field for query %s", pyFormat(x))
			}
			fs = append(fs, s)
		}
	default:
		return nil, pyException("TypeError", "'%s' object is not iterable", pyTypeName(fields))
	}
	var vo store.ViewOpts
	switch o := opts.(type) {
	case nil:
		if orderByID {
			vo.Order = "id"
		}
	case map[string]any:
		q, err := parseQueryOpts(o)
		if err != nil {
			return nil, err
		}
		var order []string
		for _, t := range q.Order {
			if t.Desc {
				order = append(order, "-"+t.Key)
			} else {
				order = append(order, t.Key)
			}
		}
		vo = store.ViewOpts{Order: strings.Join(order, ","), Offset: int(q.Offset), Limit: int(q.Limit),
			CountOnly: q.CountOnly, AsList: q.AsList}
		if g, ok := o["group"].(string); ok {
			vo.Group = g
		}
	default:
		return nil, pyException("AttributeError", "'%s' object has no attribute 'get'", pyTypeName(opts))
	}
	res, err := run(storeTx(ctx), ctx, cs, fs, vo)
	var ve *store.ViewError
	if errors.As(err, &ve) {
		return nil, fault(koji.ErrParameter, "%s", ve.Msg)
	}
	return res, err
}

// viewClause reads one clause as QueryView.get_clauses does.
func viewClause(c any) (store.ViewClause, error) {
	list, ok := c.([]any)
	if !ok {
		return store.ViewClause{}, fault(koji.ErrParameter, "Invalid clause: %s", pyRepr(c))
	}
	var field, op any
	var value any
	switch len(list) {
	case 2:
		field, value = list[0], list[1]
		op = "="
		if _, isList := value.([]any); isList {
			op = "IN"
		}
	case 3:
		field, value = list[0], list[2]
		s, ok := list[1].(string)
		if !ok {
			return store.ViewClause{}, pyException("AttributeError", "'%s' object has no attribute 'upper'", pyTypeName(list[1]))
		}
		op = strings.ToUpper(s)
		switch op {
		case "IN", "=", "!=", ">", "<", ">=", "<=", "IS", "IS NOT", "@>", "<@":
		default:
			return store.ViewClause{}, fault(koji.ErrParameter, "Invalid operator: %s", op)
		}
	default:
		return store.ViewClause{}, fault(koji.ErrParameter, "Invalid clause: %s", pyRepr(c))
	}
	name, ok := field.(string)
	if !ok {
		return store.ViewClause{}, fault(koji.ErrParameter, "Invalid field for query %s", pyFormat(field))
	}
	return store.ViewClause{Field: name, Op: op.(string), Value: value}, nil
}
