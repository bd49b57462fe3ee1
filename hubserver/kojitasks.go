package hubserver

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// taskMethods are upstream's root task methods: creating tasks, reading
// them and their requests and results, listing, canceling, freeing,
// reprioritising and resubmitting them.
func (k *Koji) taskMethods() []Method {
	return []Method{
		{
			Name: "makeTask", PyName: "RootExports.makeTask", Bound: true, VarArgs: "args", VarKw: "opts",
			Doc: "Creates task manually. This is mainly for debugging, only an admin\n" +
				"        can make arbitrary tasks. You need to supply all *args and **opts\n" +
				"        accordingly to the task.",
			Func: k.rootMakeTask,
		},
		{
			Name: "getTaskInfo", PyName: "RootExports.getTaskInfo", Bound: true,
			Args: []Arg{{Name: "task_id"}, {Name: "request", Default: false}, {Name: "strict", Default: false}},
			Func: getTaskInfo,
		},
		{
			Name: "getTaskChildren", PyName: "RootExports.getTaskChildren", Bound: true,
			Args: []Arg{{Name: "task_id"}, {Name: "request", Default: false}, {Name: "strict", Default: false}},
			Func: getTaskChildren,
		},
		{
			Name: "getTaskDescendents", PyName: "RootExports.getTaskDescendents", Bound: true,
			Args: []Arg{{Name: "task_id"}, {Name: "request", Default: false}},
			Func: getTaskDescendents,
		},
		{
			Name: "getTaskRequest", PyName: "RootExports.getTaskRequest", Bound: true,
			Args: []Arg{{Name: "taskId"}},
			Func: getTaskRequest,
		},
		{
			Name: "getTaskResult", PyName: "RootExports.getTaskResult", Bound: true,
			Args: []Arg{{Name: "taskId"}, {Name: "raise_fault", Default: true}},
			Func: getTaskResult,
		},
		{
			Name: "taskFinished", PyName: "RootExports.taskFinished", Bound: true,
			Args: []Arg{{Name: "taskId"}},
			Func: taskFinished,
		},
		{
			Name: "listTasks", PyName: "RootExports.listTasks", Bound: true,
			Args: []Arg{{Name: "opts", Default: None}, {Name: "queryOpts", Default: None}},
			Func: listTasks,
		},
		{
			Name: "cancelTask", PyName: "RootExports.cancelTask", Bound: true,
			Args: []Arg{{Name: "task_id"}, {Name: "recurse", Default: true}},
			Func: k.rootCancelTask,
		},
		{
			Name: "cancelTaskChildren", PyName: "RootExports.cancelTaskChildren", Bound: true,
			Args: []Arg{{Name: "task_id"}},
			Func: k.cancelTaskChildren,
		},
		{
			Name: "cancelTaskFull", PyName: "RootExports.cancelTaskFull", Bound: true,
			Args: []Arg{{Name: "task_id"}, {Name: "strict", Default: true}},
			Func: k.rootCancelTaskFull,
		},
		{
			Name: "freeTask", PyName: "RootExports.freeTask", Bound: true,
			Args: []Arg{{Name: "task_id"}},
			Func: k.rootFreeTask,
		},
		{
			Name: "setTaskPriority", PyName: "RootExports.setTaskPriority", Bound: true,
			Args: []Arg{{Name: "task_id"}, {Name: "priority"}, {Name: "recurse", Default: true}},
			Func: k.rootSetTaskPriority,
		},
		{
			Name: "resubmitTask", PyName: "RootExports.resubmitTask", Bound: true,
			Args: []Arg{{Name: "taskID"}},
			Func: k.resubmitTask,
		},
	}
}

// mustLogin is upstream's Session.assertLogin.
func mustLogin(ctx context.Context) error {
	if callerID(ctx) == 0 {
		return fault(koji.ErrAuth, "Not logged in")
	}
	return nil
}

// callerIsAdmin is Session.hasPerm('admin'): false for anonymous callers.
func callerIsAdmin(ctx context.Context) (bool, error) {
	uid := callerID(ctx)
	if uid == 0 {
		return false, nil
	}
	return hasPerm(ctx, storeTx(ctx), uid, "admin")
}

// getTask returns the task, faulting "query returned no rows" (upstream's
// strict single-row queries) when there is none.
func getTask(ctx context.Context, id int64) (*store.Task, error) {
	t, err := storeTx(ctx).GetTask(ctx, id)
	return t, noTaskRow(err)
}

func taskFinishedState(state int) bool {
	return state == store.TaskClosed || state == store.TaskCanceled || state == store.TaskFailed
}

// makeTaskArgs binds makeTask's *args and **opts to make_task(method,
// arglist, **opts), with CPython's TypeError wording.
func makeTaskArgs(args []any, opts map[string]any) (method any, arglist any, err error) {
	if len(args) > 2 {
		return nil, nil, pyException("TypeError", "make_task() takes 2 positional arguments but %d were given", len(args))
	}
	vals := [2]any{}
	have := [2]bool{}
	for i, name := range []string{"method", "arglist"} {
		if i < len(args) {
			vals[i], have[i] = args[i], true
		}
		if v, ok := opts[name]; ok {
			if have[i] {
				return nil, nil, pyException("TypeError", "make_task() got multiple values for argument '%s'", name)
			}
			vals[i], have[i] = v, true
		}
	}
	switch {
	case !have[0] && !have[1]:
		return nil, nil, pyException("TypeError", "make_task() missing 2 required positional arguments: 'method' and 'arglist'")
	case !have[0]:
		return nil, nil, pyException("TypeError", "make_task() missing 1 required positional argument: 'method'")
	case !have[1]:
		return nil, nil, pyException("TypeError", "make_task() missing 1 required positional argument: 'arglist'")
	}
	return vals[0], vals[1], nil
}

// rootMakeTask is RootExports.makeTask: make_task for admins, who may not
// choose the owner.
func (k *Koji) rootMakeTask(ctx context.Context, args []any, opts map[string]any) (int64, error) {
	if err := assertPerm(ctx, "admin"); err != nil {
		return 0, err
	}
	if _, ok := opts["owner"]; ok {
		return 0, fault(koji.ErrActionNotAllowed, "owner option is not allowed here")
	}
	m, al, err := makeTaskArgs(args, opts)
	if err != nil {
		return 0, err
	}
	method, err := checkString(m, false)
	if err != nil {
		return 0, err
	}
	var arglist []any
	switch v := al.(type) {
	case []any:
		arglist = v
	case string:
		for _, r := range v {
			arglist = append(arglist, string(r))
		}
	default:
		return 0, pyException("TypeError", "'%s' object is not iterable", pyTypeName(al))
	}
	var o taskOpts
	if v, ok := opts["parent"]; ok {
		p, err := convertInt(v)
		if err != nil {
			return 0, err
		}
		o.Parent = &p
	}
	if v, ok := opts["label"]; ok {
		if o.Label, err = checkString(v, false); err != nil {
			return 0, err
		}
	}
	if v, ok := opts["arch"]; ok && v != nil {
		switch a := v.(type) {
		case string:
			o.Arch = &a
		case []any:
			parts := make([]string, len(a))
			for i, x := range a {
				s, ok := x.(string)
				if !ok {
					return 0, pyException("TypeError", "sequence item %d: expected str instance, %s found", i, pyTypeName(x))
				}
				parts[i] = s
			}
			joined := strings.Join(parts, " ")
			o.Arch = &joined
		default:
			return 0, pyException("AttributeError", "'%s' object has no attribute 'replace'", pyTypeName(v))
		}
	}
	if v, ok := opts["priority"]; ok {
		p, err := convertInt(v)
		if err != nil {
			return 0, err
		}
		n := int(p)
		o.Priority = &n
	}
	if v, ok := opts["assign"]; ok && v != nil && v != int64(0) && v != false {
		// make_task assigns only when the option is true in Python's
		// sense; a name (even "") is looked up.
		o.Assign = v
	}
	if v, ok := opts["channel"]; ok {
		if s, isStr := v.(string); isStr {
			o.Channel = &s
		} else {
			c, err := lookupChannel(ctx, storeTx(ctx), v)
			if err != nil {
				return 0, err
			}
			if c == nil {
				return 0, fault(koji.ErrGeneric, "No such channel: %s", pyFormat(v))
			}
			o.Channel = &c.Name
		}
	}
	return k.makeTask(ctx, *method, arglist, o)
}

// taskData is Task.getInfo: the fields, and the decoded request when
// request is set.
func taskData(t *store.Task, request bool) (map[string]any, error) {
	if request {
		return taskInfo(t)
	}
	return taskFields(t), nil
}

func getTaskInfo(ctx context.Context, taskID, request, strict any) (any, error) {
	ids, single := []any{taskID}, true
	if l, ok := taskID.([]any); ok {
		ids, single = l, false
	}
	out := make([]any, 0, len(ids))
	for _, v := range ids {
		id, err := convertInt(v)
		if err != nil {
			return nil, err
		}
		t, err := storeTx(ctx).GetTask(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			if xmlrpc.Truthy(strict) {
				return nil, noTaskRow(err)
			}
			out = append(out, nil)
			continue
		} else if err != nil {
			return nil, err
		}
		info, err := taskData(t, xmlrpc.Truthy(request))
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	if single {
		return out[0], nil
	}
	return out, nil
}

// taskChildren is Task.getChildren.
func taskChildren(ctx context.Context, id int64, request bool) ([]map[string]any, error) {
	kids, err := storeTx(ctx).ListTasks(ctx, store.TaskFilter{Parent: &id})
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(kids))
	for i := range kids {
		if out[i], err = taskData(&kids[i], request); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func getTaskChildren(ctx context.Context, taskID, request, strict any) ([]map[string]any, error) {
	id, err := convertInt(taskID)
	if err != nil {
		return nil, err
	}
	if xmlrpc.Truthy(strict) {
		if _, err := getTask(ctx, id); err != nil {
			return nil, err
		}
	}
	return taskChildren(ctx, id, xmlrpc.Truthy(request))
}

// getTaskDescendents maps the task's id and each descendant's id, as
// strings, to its children (get_task_descendents).
func getTaskDescendents(ctx context.Context, taskID, request any) (map[string]any, error) {
	id, err := convertInt(taskID)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	var walk func(id int64) error
	walk = func(id int64) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		kids, err := taskChildren(ctx, id, xmlrpc.Truthy(request))
		if err != nil {
			return err
		}
		out[strconv.FormatInt(id, 10)] = kids
		for _, kid := range kids {
			if err := walk(kid["id"].(int64)); err != nil {
				return err
			}
		}
		return nil
	}
	return out, walk(id)
}

func getTaskRequest(ctx context.Context, taskID any) ([]any, error) {
	id, err := convertInt(taskID)
	if err != nil {
		return nil, err
	}
	t, err := getTask(ctx, id)
	if err != nil {
		return nil, err
	}
	return decodeRequest(t.Request)
}

// getTaskResult is Task.getResult: the decoded result of a finished task;
// a stored fault is raised again as itself, or with raise_fault false
// returned as a {faultCode, faultString} struct, as multiCall reports one.
func getTaskResult(ctx context.Context, taskID, raiseFault any) (any, error) {
	id, err := convertInt(taskID)
	if err != nil {
		return nil, err
	}
	t, err := storeTx(ctx).GetTask(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fault(koji.ErrGeneric, "No such task")
	} else if err != nil {
		return nil, err
	}
	switch t.State {
	case store.TaskCanceled:
		return nil, fault(koji.ErrGeneric, "Task %d is canceled", id)
	case store.TaskClosed, store.TaskFailed:
	default:
		return nil, fault(koji.ErrGeneric, "Task %d is not finished", id)
	}
	if t.Result == nil {
		return nil, pyException("AttributeError", "'NoneType' object has no attribute 'find'")
	}
	v, err := decodeResult(*t.Result)
	var f *xmlrpc.Fault
	if errors.As(err, &f) && !xmlrpc.Truthy(raiseFault) {
		return map[string]any{"faultCode": f.Code, "faultString": f.String}, nil
	}
	return v, err
}

func taskFinished(ctx context.Context, taskID any) (bool, error) {
	id, err := convertInt(taskID)
	if err != nil {
		return false, err
	}
	t, err := getTask(ctx, id)
	if err != nil {
		return false, err
	}
	return taskFinishedState(t.State), nil
}

// assertCanCancel lets the task's owner, the host holding it open, or an
// admin cancel it (RootExports.cancelTask's check, with Task.verifyOwner
// and verifyHost locking the task's row).
func assertCanCancel(ctx context.Context, id int64) error {
	tx := storeTx(ctx)
	uid := callerID(ctx)
	if uid != 0 {
		t, err := tx.LockTask(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return fault(koji.ErrGeneric, "No such task: %d", id)
		} else if err != nil {
			return err
		}
		if t.Owner == uid {
			return nil
		}
		h, err := tx.GetHostByUser(ctx, uid)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if h != nil && t.State == store.TaskOpen && t.HostID != nil && *t.HostID == h.ID {
			return nil
		}
	}
	if admin, err := callerIsAdmin(ctx); err != nil || admin {
		return err
	}
	return fault(koji.ErrActionNotAllowed, "Cannot cancel task, not owner")
}

func (k *Koji) rootCancelTask(ctx context.Context, taskID, recurse any) error {
	id, err := convertInt(taskID)
	if err != nil {
		return err
	}
	if err := assertCanCancel(ctx, id); err != nil {
		return err
	}
	_, err = k.cancelTask(ctx, id, xmlrpc.Truthy(recurse))
	return err
}

// cancelTaskChildren cancels the task's children (and theirs), not the
// task itself.
func (k *Koji) cancelTaskChildren(ctx context.Context, taskID any) error {
	if err := mustLogin(ctx); err != nil {
		return err
	}
	id, err := convertInt(taskID)
	if err != nil {
		return err
	}
	if err := assertCanCancel(ctx, id); err != nil {
		return err
	}
	kids, err := storeTx(ctx).TaskChildIDs(ctx, id)
	if err != nil {
		return err
	}
	for _, kid := range kids {
		if _, err := k.cancelTask(ctx, kid, true); err != nil {
			return err
		}
	}
	return nil
}

func (k *Koji) rootCancelTaskFull(ctx context.Context, taskID, strict any) error {
	if err := assertPerm(ctx, "admin"); err != nil {
		return err
	}
	id, err := convertInt(taskID)
	if err != nil {
		return err
	}
	return k.cancelTaskFull(ctx, id, xmlrpc.Truthy(strict))
}

func (k *Koji) rootFreeTask(ctx context.Context, taskID any) error {
	if err := assertPerm(ctx, "admin"); err != nil {
		return err
	}
	id, err := convertInt(taskID)
	if err != nil {
		return err
	}
	return k.freeTask(ctx, id)
}

func (k *Koji) rootSetTaskPriority(ctx context.Context, taskID, priority, recurse any) error {
	if err := assertPerm(ctx, "admin"); err != nil {
		return err
	}
	id, err := convertInt(taskID)
	if err != nil {
		return err
	}
	t, err := getTask(ctx, id)
	if err != nil {
		return err
	}
	if taskFinishedState(t.State) {
		return fault(koji.ErrGeneric, "Finished task's priority can't be updated")
	}
	p, err := convertInt(priority)
	if err != nil {
		return err
	}
	return k.setTaskPriority(ctx, id, int(p), xmlrpc.Truthy(recurse))
}

// resubmitTask makes a new task with the method, arguments, arch, channel
// and priority of a FAILED or CANCELED top-level task, owned by the
// caller, who must own the original or be an admin.
func (k *Koji) resubmitTask(ctx context.Context, taskID any) (int64, error) {
	if err := mustLogin(ctx); err != nil {
		return 0, err
	}
	id, err := convertInt(taskID)
	if err != nil {
		return 0, err
	}
	t, err := getTask(ctx, id)
	if err != nil {
		return 0, err
	}
	if t.State != store.TaskCanceled && t.State != store.TaskFailed {
		return 0, fault(koji.ErrGeneric, "only canceled or failed tasks may be resubmitted")
	}
	if t.Parent != nil {
		return 0, fault(koji.ErrGeneric, "only top-level tasks may be resubmitted")
	}
	if callerID(ctx) != t.Owner {
		if admin, err := callerIsAdmin(ctx); err != nil {
			return 0, err
		} else if !admin {
			return 0, fault(koji.ErrGeneric, "only the task owner or an admin may resubmit a task")
		}
	}
	args, err := decodeRequest(t.Request)
	if err != nil {
		return 0, err
	}
	c, err := storeTx(ctx).GetChannel(ctx, t.ChannelID)
	if err != nil {
		return 0, err
	}
	return k.makeTask(ctx, t.Method, args, taskOpts{Arch: &t.Arch, Channel: &c.Name, Priority: &t.Priority})
}
