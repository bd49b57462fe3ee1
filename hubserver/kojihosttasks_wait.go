package hubserver

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
)

// hostWaitMethods are the builder's subtask methods (creating subtasks,
// waiting for them, collecting their results) and the long-poll methods.
func (k *Koji) hostWaitMethods() []Method {
	return []Method{
		{
			Name: "host.taskSetWait", PyName: "HostExports.taskSetWait", Bound: true,
			Args: []Arg{{Name: "parent"}, {Name: "tasks"}},
			Func: taskSetWait,
		},
		{
			Name: "host.taskWait", PyName: "HostExports.taskWait", Bound: true,
			Args: []Arg{{Name: "parent"}},
			Func: func(ctx context.Context, parent any) ([]any, error) {
				if _, err := callerHost(ctx); err != nil {
					return nil, err
				}
				return taskWait(ctx, parent, false)
			},
		},
		{
			Name: "host.taskWaitResults", PyName: "HostExports.taskWaitResults", Bound: true,
			Args: []Arg{{Name: "parent"}, {Name: "tasks"}, {Name: "canfail", Default: None}},
			Func: taskWaitResults,
		},
		{
			Name: "host.subtask", PyName: "HostExports.subtask", Bound: true,
			Args: []Arg{{Name: "method"}, {Name: "arglist"}, {Name: "parent"}}, VarKw: "opts",
			Func: k.subtask,
		},
		{
			Name: "host.subtask2", PyName: "HostExports.subtask2", Bound: true,
			Args:    []Arg{{Name: "_HostExports__parent"}, {Name: "_HostExports__taskopts"}, {Name: "_HostExports__method"}},
			VarArgs: "args", VarKw: "opts",
			Doc: "A wrapper around subtask with optional signature\n\n        Parameters:\n" +
				"            __parent: task id of the parent task\n" +
				"            __taskopts: dictionary of task options\n" +
				"            __method: the method to be invoked\n\n" +
				"        Remaining args are passed on to the subtask\n        ",
			Func: k.subtask2,
		},
		{
			Name: "host.waitTasks", PyName: "HostExports.waitTasks", Bound: true,
			Args: []Arg{{Name: "timeout", Default: None}},
			Doc: "Wait for tasks assigned to this host (gokoji; not in upstream Koji)\n\n" +
				"        A long-poll host.getTasks: answers the tasks ASSIGNED to the calling\n" +
				"        host as host.getTasks does, but when there are none it waits until the\n" +
				"        hub assigns one (the scheduler runs as soon as there is free work this\n" +
				"        host could take) or until timeout seconds have passed, and then answers\n" +
				"        the assigned tasks, possibly none. No database transaction is held while\n" +
				"        waiting. The timeout (default and maximum: the hub's MaxWait, at most\n" +
				"        half of its ReadyTimeout) is capped; call host.updateHost between waits\n" +
				"        as usual. In a multicall it answers at once. A builder should use it\n" +
				"        only when system.listMethods lists it, and fall back to host.getTasks.\n\n" +
				"        :param float timeout: seconds to wait at most\n" +
				"        :returns list: the assigned tasks, as host.getTasks\n        ",
			Func: k.waitTasks,
		},
		{
			Name: "host.taskWaitAny", PyName: "HostExports.taskWaitAny", Bound: true,
			Args: []Arg{{Name: "parent"}, {Name: "timeout", Default: None}},
			Doc: "Wait for an awaited subtask to finish (gokoji; not in upstream Koji)\n\n" +
				"        A long-poll host.taskWait: answers [finished, unfinished] among the\n" +
				"        subtasks of parent marked awaited by host.taskSetWait, as host.taskWait\n" +
				"        does, but while none has finished and some are unfinished it waits until\n" +
				"        one finishes or until timeout seconds have passed. No database\n" +
				"        transaction is held while waiting. The timeout (default and maximum: the\n" +
				"        hub's MaxWait) is capped. In a multicall it answers at once. A builder\n" +
				"        should use it only when system.listMethods lists it, and fall back to\n" +
				"        host.taskWait.\n\n" +
				"        :param int parent: the waiting task\n" +
				"        :param float timeout: seconds to wait at most\n" +
				"        :returns list: [finished task ids, unfinished task ids]\n        ",
			Func: k.taskWaitAny,
		},
	}
}

// intList reads a list of task ids.
func intList(v []any) ([]int64, error) {
	out := make([]int64, len(v))
	for i, x := range v {
		n, err := convertInt(x)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// taskSetWait makes parent wait for its subtasks: all of them when tasks
// is None, else those listed (the others are no longer awaited).
func taskSetWait(ctx context.Context, parentArg, tasks any) error {
	if _, err := callerHost(ctx); err != nil {
		return err
	}
	var ids []int64
	switch v := tasks.(type) {
	case nil:
	case []any:
		var err error
		if ids, err = intList(v); err != nil {
			return err
		}
	default:
		return convertError(tasks, "list")
	}
	parent, err := convertInt(parentArg)
	if err != nil {
		return err
	}
	tx := storeTx(ctx)
	if err := tx.SetTaskWaiting(ctx, parent, true); err != nil {
		return err
	}
	if tasks != nil && len(ids) == 0 {
		LoggerFrom(ctx).Warn("taskSetWait called on empty task list", "parent", parent)
		return nil
	}
	return tx.AwaitChildren(ctx, parent, ids)
}

// taskWait answers [finished, unfinished] among parent's awaited
// subtasks and stops awaiting the finished ones. With peek it only looks.
func taskWait(ctx context.Context, parentArg any, peek bool) ([]any, error) {
	parent, err := convertInt(parentArg)
	if err != nil {
		return nil, err
	}
	tx := storeTx(ctx)
	finished, unfinished, err := tx.AwaitedChildren(ctx, parent)
	if err != nil {
		return nil, err
	}
	if !peek {
		if err := tx.SetTasksAwaited(ctx, finished, false); err != nil {
			return nil, err
		}
	}
	return []any{finished, unfinished}, nil
}

// taskWaitResults ends parent's wait and answers [[task_id, result], …]
// for the given subtasks (None: every finished one). A failed subtask not
// in canfail raises its fault again, a canceled one "Task N is canceled";
// in canfail, either is answered as {faultCode, faultString}.
func taskWaitResults(ctx context.Context, parentArg, tasks, canfail any) ([]any, error) {
	if _, err := callerHost(ctx); err != nil {
		return nil, err
	}
	parent, err := convertInt(parentArg)
	if err != nil {
		return nil, err
	}
	var mayFail []any
	switch v := canfail.(type) {
	case nil:
	case []any:
		mayFail = v
	default:
		return nil, pyException("TypeError", "argument of type '%s' is not iterable", pyTypeName(canfail))
	}
	tx := storeTx(ctx)
	if err := tx.TaskUnwait(ctx, parent); err != nil {
		return nil, err
	}
	var list []any
	switch v := tasks.(type) {
	case nil:
		ids, err := tx.FinishedChildren(ctx, parent)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			list = append(list, id)
		}
	case []any:
		list = v
	default:
		return nil, pyException("TypeError", "'%s' object is not iterable", pyTypeName(tasks))
	}
	results := []any{}
	for _, item := range list {
		id, err := convertInt(item)
		if err != nil {
			return nil, err
		}
		raise := !slices.ContainsFunc(mayFail, func(c any) bool { return sameNumber(c, item) })
		res, err := getTaskResult(ctx, id, raise)
		if err != nil {
			var f *koji.Fault
			if !raise && errors.As(err, &f) && f.Code == int(koji.ErrGeneric) {
				if t, terr := tx.GetTask(ctx, id); terr == nil && t.State == store.TaskCanceled {
					results = append(results, []any{item, map[string]any{"faultCode": f.Code, "faultString": f.String}})
					continue
				}
			}
			return nil, err
		}
		results = append(results, []any{item, res})
	}
	return results, nil
}

// sameNumber is Python's == between two decoded ids: ints and floats
// compare by value, other types never equal a number.
func sameNumber(a, b any) bool {
	num := func(v any) (float64, bool) {
		switch x := v.(type) {
		case int64:
			return float64(x), true
		case int:
			return float64(x), true
		case float64:
			return x, true
		case bool:
			return float64(boolInt(x)), true
		}
		return 0, false
	}
	x, ok1 := num(a)
	y, ok2 := num(b)
	return ok1 && ok2 && x == y
}

// subtask creates a subtask of a task the caller holds open; see
// upstream's HostExports.subtask. A label already used under the parent
// answers the existing subtask, so a restarted builder does not create
// it twice; opts' kwargs are folded into the arglist as keyword
// arguments.
func (k *Koji) subtask(ctx context.Context, method, arglist, parentArg any, opts map[string]any) (int64, error) {
	h, err := callerHost(ctx)
	if err != nil {
		return 0, err
	}
	parent, err := convertInt(parentArg)
	if err != nil {
		return 0, err
	}
	if err := assertHost(ctx, parent, h.ID); err != nil {
		return 0, err
	}
	if _, ok := opts["owner"]; ok {
		return 0, fault(koji.ErrActionNotAllowed, "The owner option is not allowed here")
	}
	if l, ok := opts["label"]; ok {
		if label, isStr := l.(string); isStr {
			id, found, err := storeTx(ctx).ChildByLabel(ctx, parent, label)
			if err != nil || found {
				return id, err
			}
		}
	}
	args, err := iterableArgs(arglist)
	if err != nil {
		return 0, err
	}
	if kw, ok := opts["kwargs"]; ok {
		m, isMap := kw.(map[string]any)
		if !isMap {
			return 0, pyException("TypeError", "koji.encode_args() argument after ** must be a mapping, not %s", pyTypeName(kw))
		}
		args = encodeArgs(args, m)
	}
	o, err := subtaskOpts(ctx, opts)
	if err != nil {
		return 0, err
	}
	o.Parent = &parent
	name, err := checkString(method, false)
	if err != nil {
		return 0, err
	}
	return k.makeTask(ctx, *name, args, o)
}

// subtask2 is subtask with the task options apart and the subtask's
// arguments given as the call's own (keyword arguments included).
func (k *Koji) subtask2(ctx context.Context, parent, taskopts, method any, args []any, opts map[string]any) (int64, error) {
	to, ok := taskopts.(map[string]any)
	if !ok {
		return 0, pyException("TypeError", "kojihub.kojihub.HostExports.subtask() argument after ** must be a mapping, not %s", pyTypeName(taskopts))
	}
	return k.subtask(ctx, method, encodeArgs(args, opts), parent, to)
}

// encodeArgs is koji.encode_args: keyword arguments become a trailing
// struct marked __starstar.
func encodeArgs(args []any, kw map[string]any) []any {
	out := slices.Clone(args)
	if len(kw) > 0 {
		m := make(map[string]any, len(kw)+1)
		for k, v := range kw {
			m[k] = v
		}
		m["__starstar"] = true
		out = append(out, m)
	}
	if out == nil {
		out = []any{}
	}
	return out
}

// iterableArgs is Python's tuple() of an arglist.
func iterableArgs(v any) ([]any, error) {
	switch x := v.(type) {
	case []any:
		return x, nil
	case string:
		out := []any{}
		for _, r := range x {
			out = append(out, string(r))
		}
		return out, nil
	case map[string]any:
		out := []any{}
		for _, key := range slices.Sorted(mapKeys(x)) {
			out = append(out, key)
		}
		return out, nil
	}
	return nil, pyException("TypeError", "'%s' object is not iterable", pyTypeName(v))
}

// subtaskOpts reads make_task's options from a subtask's keyword
// arguments; options make_task does not know are ignored, as upstream
// ignores them.
func subtaskOpts(ctx context.Context, opts map[string]any) (taskOpts, error) {
	var o taskOpts
	var err error
	if v, ok := opts["label"]; ok {
		if o.Label, err = checkString(v, false); err != nil {
			return o, err
		}
	}
	if v, ok := opts["arch"]; ok && v != nil {
		a, ok := v.(string)
		if !ok {
			return o, pyException("AttributeError", "'%s' object has no attribute 'replace'", pyTypeName(v))
		}
		o.Arch = &a
	}
	if v, ok := opts["priority"]; ok {
		p, err := convertInt(v)
		if err != nil {
			return o, err
		}
		n := int(p)
		o.Priority = &n
	}
	if v, ok := opts["assign"]; ok && v != nil {
		o.Assign = v
	}
	if v, ok := opts["channel"]; ok && v != nil {
		if s, isStr := v.(string); isStr {
			o.Channel = &s
		} else {
			c, err := lookupChannel(ctx, storeTx(ctx), v)
			if err != nil {
				return o, err
			}
			if c == nil {
				return o, fault(koji.ErrGeneric, "No such channel: %s", pyFormat(v))
			}
			o.Channel = &c.Name
		}
	}
	return o, nil
}

// waitTimeout reads a long-poll timeout in seconds: None means the
// maximum, and no timeout exceeds it.
func waitTimeout(v any, maxWait time.Duration) (time.Duration, error) {
	if v == nil {
		return maxWait, nil
	}
	secs, err := pyFloat(v)
	if err != nil {
		return 0, convertError(v, "float")
	}
	if math.IsNaN(secs) || secs <= 0 {
		return 0, nil
	}
	if secs >= maxWait.Seconds() {
		return maxWait, nil
	}
	return time.Duration(secs * float64(time.Second)), nil
}

// A parkState is what a long-poll call keeps across the re-runs of its
// parked call: its deadline, and the wait it subscribed to last.
type parkState struct {
	deadline time.Time
	mu       sync.Mutex
	cancel   func()
}

// subscribe starts a new wait on keys, ending the previous one.
func (p *parkState) subscribe(w *waiters, recheck time.Duration, keys ...waitKey) <-chan struct{} {
	ch, cancel := w.wait(recheck, keys...)
	p.mu.Lock()
	prev := p.cancel
	p.cancel = cancel
	p.mu.Unlock()
	if prev != nil {
		prev()
	}
	return ch
}

// done ends the current wait: the call answers.
func (p *parkState) done() {
	p.mu.Lock()
	cancel := p.cancel
	p.cancel = nil
	p.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// parkState returns the state of ctx's long-poll call, created with a
// deadline timeout from now on its first run. The re-runs of a parked call
// see the same request, which keeps the state until the request ends.
func (s *scheduler) parkState(ctx context.Context, timeout time.Duration) *parkState {
	st := &parkState{deadline: time.Now().Add(timeout)}
	r := RequestFrom(ctx)
	if r == nil {
		return st
	}
	v, loaded := s.parked.LoadOrStore(r, st)
	if !loaded {
		context.AfterFunc(r.Context(), func() {
			s.parked.Delete(r)
			st.done()
		})
	}
	return v.(*parkState)
}

// lockRetry is how soon a long-poll call that found the scheduler running
// elsewhere looks again, for the work that run may not have seen.
const lockRetry = 100 * time.Millisecond

// waitTasks is host.waitTasks: host.getTasks that waits for an
// assignment instead of answering nothing.
func (k *Koji) waitTasks(ctx context.Context, timeout any) ([]map[string]any, error) {
	h, err := callerHost(ctx)
	if err != nil {
		return nil, err
	}
	d, err := waitTimeout(timeout, k.sched.cfg.MaxWait)
	if err != nil {
		return nil, err
	}
	st := k.sched.parkState(ctx, d)
	recheck := k.sched.cfg.WaitRecheck
	wake := st.subscribe(&k.sched.waits, recheck, hostKey(h.ID), workKey)
	tasks, err := assignedTasks(ctx, h.ID)
	if err != nil || len(tasks) > 0 {
		st.done()
		return tasks, err
	}
	// Free work this host could take: schedule it now rather than at the
	// next interval. The run assigns it to the best-ranked host, which
	// need not be this one; the host it goes to is woken.
	fits, err := k.sched.workFits(ctx, h)
	if err != nil {
		st.done()
		return nil, err
	}
	if fits {
		ran, err := k.sched.run(ctx, false, false)
		if err != nil {
			st.done()
			return nil, err
		}
		if ran {
			if tasks, err = assignedTasks(ctx, h.ID); err != nil || len(tasks) > 0 {
				st.done()
				return tasks, err
			}
		} else if recheck > lockRetry {
			// Another run holds the scheduler lock and may have read the
			// free tasks before this work was committed: look again soon.
			wake = st.subscribe(&k.sched.waits, lockRetry, hostKey(h.ID), workKey)
		}
	}
	if ParkExpired(ctx) || !time.Now().Before(st.deadline) {
		st.done()
		return tasks, nil
	}
	return nil, Park(wake, st.deadline)
}

// workFits reports whether the scheduler would give the host some free
// task now: it is enabled, ready and recently checked in, has a job slot
// and capacity, and a free task of its channels and arches that it has
// not refused fits that capacity. This is the scheduler's candidate test
// for one host, so a run it triggers assigns some task.
func (s *scheduler) workFits(ctx context.Context, h *store.Host) (bool, error) {
	if !h.Enabled || !h.Ready || h.UpdateTime == nil || time.Since(*h.UpdateTime) > s.cfg.ReadyTimeout {
		return false, nil
	}
	tx := storeTx(ctx)
	n, load, err := tx.HostOpenLoad(ctx, h.ID)
	if err != nil {
		return false, err
	}
	data, err := tx.SchedulerHostData(ctx, &h.ID)
	if err != nil {
		return false, err
	}
	maxjobs := s.cfg.MaxJobs
	if len(data) == 1 {
		maxjobs = hostMaxJobs(data[0].Data, maxjobs)
	}
	if n >= maxjobs || h.Capacity-load <= 0 {
		return false, nil
	}
	return tx.FreeTaskFits(ctx, h.ID, strings.Fields(h.Arches), h.Capacity-load+s.cfg.CapacityOvercommit)
}

// taskWaitAny is host.taskWaitAny: host.taskWait that waits for an
// awaited subtask to finish instead of answering none finished.
func (k *Koji) taskWaitAny(ctx context.Context, parentArg, timeout any) ([]any, error) {
	if _, err := callerHost(ctx); err != nil {
		return nil, err
	}
	parent, err := convertInt(parentArg)
	if err != nil {
		return nil, err
	}
	d, err := waitTimeout(timeout, k.sched.cfg.MaxWait)
	if err != nil {
		return nil, err
	}
	st := k.sched.parkState(ctx, d)
	wake := st.subscribe(&k.sched.waits, k.sched.cfg.WaitRecheck, taskKey(parent))
	peek, err := taskWait(ctx, parent, true)
	if err != nil {
		st.done()
		return nil, err
	}
	finished, unfinished := peek[0].([]int64), peek[1].([]int64)
	if len(finished) > 0 || len(unfinished) == 0 || ParkExpired(ctx) || !time.Now().Before(st.deadline) {
		st.done()
		return taskWait(ctx, parent, false)
	}
	return nil, Park(wake, st.deadline)
}
