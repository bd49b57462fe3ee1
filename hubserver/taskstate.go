package hubserver

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// The task model: creation and the state machine of upstream's make_task
// and Task class (lock, assign, open, free, _close, cancel). The functions
// work in the request's transaction; access checks belong to their callers,
// as upstream leaves them to its callers.

// taskOpts are make_task's options; nil/zero fields take upstream's defaults.
type taskOpts struct {
	Parent   *int64
	Label    *string
	Owner    any // user id or name; nil = the caller (or the parent's owner)
	Channel  *string
	Arch     *string
	Priority *int
	Assign   any // host id or name; nil = leave FREE
}

// taskStateName is koji.TASK_STATES[state].
func taskStateName(state any) any {
	switch s := state.(type) {
	case int:
		return koji.TaskState(s).String()
	case int64:
		return koji.TaskState(s).String()
	}
	return state
}

// taskFields are getTaskInfo's members for t (upstream's Task.fields),
// without the request.
func taskFields(t *store.Task) map[string]any {
	out := map[string]any{
		"id": t.ID, "state": t.State, "create_time": pyTime(t.CreateTime), "create_ts": pyTS(t.CreateTime),
		"start_time": nil, "start_ts": nil, "completion_time": nil, "completion_ts": nil,
		"channel_id": t.ChannelID, "host_id": ptrValue(t.HostID), "parent": ptrValue(t.Parent),
		"label": ptrValue(t.Label), "waiting": ptrValue(t.Waiting), "awaited": ptrValue(t.Awaited),
		"owner": t.Owner, "method": t.Method,
		"arch": t.Arch, "priority": t.Priority, "weight": t.Weight,
	}
	if t.StartTime != nil {
		out["start_time"], out["start_ts"] = pyTime(*t.StartTime), pyTS(*t.StartTime)
	}
	if t.CompletionTime != nil {
		out["completion_time"], out["completion_ts"] = pyTime(*t.CompletionTime), pyTS(*t.CompletionTime)
	}
	return out
}

// ptrValue is *p, or nil (Python's None) for a nil p.
func ptrValue[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// storedDocument returns a stored request or result as XML: rows written
// by old hubs hold it base64-encoded, recognised as upstream does by the
// absence of "<?xml" in the first ten characters.
func storedDocument(s string) []byte {
	if strings.Contains(s[:min(len(s), 10)], "<?xml") {
		return []byte(s)
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b
	}
	return []byte(s)
}

// decodeRequest returns the parameters of a stored methodCall as Python's
// xmlrpc.client.loads does: a trailing keyword-argument struct stays a
// struct with its __starstar member.
func decodeRequest(raw string) ([]any, error) {
	call, err := xmlrpc.DecodeCall(storedDocument(raw))
	if err != nil {
		return nil, err
	}
	params := make([]any, 0, len(call.Params)+1)
	for _, p := range call.Params {
		var v any
		if err := p.Decode(&v); err != nil {
			return nil, err
		}
		params = append(params, v)
	}
	if call.Kwargs != nil {
		kw := make(map[string]any, len(call.Kwargs)+1)
		for name, raw := range call.Kwargs {
			var v any
			if err := raw.Decode(&v); err != nil {
				return nil, err
			}
			kw[name] = v
		}
		kw["__starstar"] = true
		params = append(params, kw)
	}
	return params, nil
}

// decodeResult returns the value of a stored methodResponse; a stored
// fault is returned as the *xmlrpc.Fault error, which the hub answers as
// that very fault.
func decodeResult(raw string) (any, error) {
	var v any
	if err := xmlrpc.DecodeResponse(storedDocument(raw), &v); err != nil {
		return nil, err
	}
	return v, nil
}

// taskInfo is upstream's Task.getInfo(request=True): the task's fields and
// its decoded request.
func taskInfo(t *store.Task) (map[string]any, error) {
	info := taskFields(t)
	req, err := decodeRequest(t.Request)
	if err != nil {
		return nil, err
	}
	info["request"] = req
	return info, nil
}

// noTaskRow is the fault of upstream's strict getInfo for a missing task
// (QueryProcessor.executeOne(strict=True)).
func noTaskRow(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fault(koji.ErrGeneric, "query returned no rows")
	}
	return err
}

// lockedTaskInfo locks the task's row and returns it with its info for the
// pre-change callbacks.
func lockedTaskInfo(ctx context.Context, id int64) (*store.Task, map[string]any, error) {
	t, err := storeTx(ctx).LockTask(ctx, id)
	if err != nil {
		return nil, nil, noTaskRow(err)
	}
	info, err := taskInfo(t)
	if err != nil {
		return nil, nil, err
	}
	return t, info, nil
}

// postTaskInfo is the info the post-change callbacks get: the task as
// updated, its request, and its result when it is CLOSED (upstream's
// Task.runCallbacks).
func postTaskInfo(t *store.Task, request any) (map[string]any, error) {
	info := taskFields(t)
	info["request"] = request
	if t.State == store.TaskClosed && t.Result != nil {
		res, err := decodeResult(*t.Result)
		if err != nil {
			return nil, err
		}
		info["result"] = res
	}
	return info, nil
}

// taskCallback runs a pre- or post-TaskStateChange callback for one
// attribute, with upstream's keywords: attribute, old, new (state names for
// the state) and info (the task before the change for pre, after it for
// post; post's new value is read from it).
func (k *Koji) taskCallback(ctx context.Context, name string, before, after map[string]any, attr string, newVal any) error {
	info := before
	if after != nil {
		info, newVal = after, after[attr]
	}
	oldVal := before[attr]
	if attr == "state" {
		oldVal, newVal = taskStateName(oldVal), taskStateName(newVal)
	}
	return k.runCallbacks(ctx, name, map[string]any{"attribute": attr, "old": oldVal, "new": newVal, "info": info})
}

// taskCallbacks runs taskCallback for each attribute in turn.
func (k *Koji) taskCallbacks(ctx context.Context, name string, before, after map[string]any, attrs []string, newVals ...any) error {
	for i, attr := range attrs {
		if err := k.taskCallback(ctx, name, before, after, attr, newVals[i]); err != nil {
			return err
		}
	}
	return nil
}

// makeTask creates a task as upstream's make_task does and returns its id.
//
// A subtask (opts.Parent) needs an OPEN parent and defaults to the parent's
// priority minus one, owner and arch. A top-level task defaults to priority
// 20 and arch noarch, and is owned by the caller whatever opts.Owner says
// (upstream only validates it), so it needs a logged-in caller; it has no
// label. The channel and priority policies (taskPolicies) give the
// channel and may change the priority; by upstream's defaults the
// channel is the requested one (which must exist and be enabled), else
// the parent's for a subtask, else "default" (which must be enabled), and
// the priority stays. The request is the methodCall
// document of arglist, a trailing keyword struct included. The task starts
// FREE, or ASSIGNED to opts.Assign; its weight is the column's default.
func (k *Koji) makeTask(ctx context.Context, method string, arglist []any, opts taskOpts) (int64, error) {
	tx := storeTx(ctx)
	info := map[string]any{}
	t := store.Task{Method: method}
	var ownerGiven, labelGiven bool
	if opts.Parent != nil {
		info["parent"] = *opts.Parent
	}
	if opts.Label != nil {
		info["label"], labelGiven = *opts.Label, true
	}
	if opts.Owner != nil {
		u, err := strictUser(ctx, tx, opts.Owner)
		if err != nil {
			return 0, err
		}
		info["owner"], t.Owner, ownerGiven = u.ID, u.ID, true
	}
	if opts.Arch != nil {
		arch, err := parseArches([]string{*opts.Arch})
		if err != nil {
			return 0, err
		}
		info["arch"], t.Arch = arch, arch
	}
	if opts.Priority != nil {
		info["priority"], t.Priority = *opts.Priority, *opts.Priority
	}
	if opts.Assign != nil {
		h, err := strictHost(ctx, tx, opts.Assign, "Invalid hostInfo: %s")
		if err != nil {
			return 0, err
		}
		info["assign"], t.HostID = h.ID, &h.ID
	}
	if opts.Channel != nil {
		info["channel"] = *opts.Channel
	}

	var parentChannel int64
	if opts.Parent != nil {
		p, err := tx.GetTask(ctx, *opts.Parent)
		if errors.Is(err, store.ErrNotFound) {
			return 0, fault(koji.ErrGeneric, "Invalid parent task: %d", *opts.Parent)
		} else if err != nil {
			return 0, err
		}
		if p.State != store.TaskOpen {
			return 0, fault(koji.ErrGeneric, "Parent task (id %d) is not open", *opts.Parent)
		}
		parentChannel = p.ChannelID
		t.Parent = opts.Parent
		if opts.Priority == nil {
			info["priority"], t.Priority = p.Priority-1, p.Priority-1
		}
		if !ownerGiven {
			info["owner"], t.Owner = p.Owner, p.Owner
		}
		if opts.Arch == nil {
			info["arch"], t.Arch = p.Arch, p.Arch
		}
		if labelGiven {
			t.Label = opts.Label
		} else {
			info["label"] = nil
		}
	} else {
		if opts.Priority == nil {
			info["priority"], t.Priority = koji.PriorityDefault, koji.PriorityDefault
		}
		if opts.Arch == nil {
			info["arch"], t.Arch = "noarch", "noarch"
		}
		uid := callerID(ctx)
		if uid == 0 {
			return 0, fault(koji.ErrGeneric, "task must have an owner")
		}
		info["owner"], t.Owner = uid, uid
		info["label"], info["parent"] = nil, nil
	}

	if err := k.taskPolicies(ctx, &t, info, method, arglist, opts.Channel, parentChannel); err != nil {
		return 0, err
	}
	info["channel_id"] = t.ChannelID

	req, err := xmlrpc.MarshalCall(method, arglist...)
	if err != nil {
		return 0, fault(koji.ErrGeneric, "cannot encode the task request: %v", err)
	}
	t.Request = string(req)
	t.State = store.TaskFree
	info["request"], info["state"], info["method"] = t.Request, store.TaskFree, method
	creation := map[string]any{"attribute": "state", "old": nil, "new": "FREE", "info": info}
	if err := k.runCallbacks(ctx, "preTaskStateChange", creation); err != nil {
		return 0, err
	}
	if t.HostID != nil {
		t.State = store.TaskAssigned
	}
	id, err := tx.CreateTask(ctx, t)
	if err != nil {
		return 0, err
	}
	info["id"] = id
	if err := k.runCallbacks(ctx, "postTaskStateChange", creation); err != nil {
		return 0, err
	}
	k.autoArchRefuse(ctx, id, t.ChannelID, method, t.Arch, arglist)
	return id, nil
}

// lockTask associates the task with a host in newState (ASSIGNED or OPEN)
// as upstream's Task.lock does, and reports whether it did. Unless force,
// it fails (false) for a FREE task that names a host, a task ASSIGNED to
// another host, a CANCELED, OPEN, CLOSED or FAILED task; a task ASSIGNED to
// this host may be opened, and assigning it again succeeds without change.
// Opening sets start_time. A missing task is a fault.
func (k *Koji) lockTask(ctx context.Context, id int64, hostID *int64, newState int, force bool) (bool, error) {
	t, err := k.lock(ctx, id, hostID, newState, force)
	return t != nil, err
}

// lock is lockTask returning the task as locked, nil when the lock fails.
func (k *Koji) lock(ctx context.Context, id int64, hostID *int64, newState int, force bool) (*store.Task, error) {
	t, before, err := lockedTaskInfo(ctx, id)
	if err != nil {
		return nil, err
	}
	attrs := []string{"state", "host_id"}
	if err := k.taskCallbacks(ctx, "preTaskStateChange", before, nil, attrs, newState, ptrValue(hostID)); err != nil {
		return nil, err
	}
	log := LoggerFrom(ctx)
	if !force {
		sameHost := t.HostID != nil && hostID != nil && *t.HostID == *hostID
		switch t.State {
		case store.TaskFree:
			if t.HostID != nil {
				log.Error("task is both free and handled by a host", "task", id, "host", *t.HostID)
				return nil, nil
			}
		case store.TaskAssigned:
			switch {
			case t.HostID == nil:
				log.Error("task is assigned, but no host is really assigned", "task", id)
				return nil, nil
			case !sameHost:
				return nil, nil // assigned to another host: no error
			case newState == store.TaskAssigned:
				log.Error("double assign of task", "task", id, "host", *hostID)
				return t, nil
			}
		case store.TaskCanceled:
			return nil, nil // canceled meanwhile: fine
		case store.TaskOpen:
			if t.HostID == nil {
				log.Error("task is opened but not handled by any host", "task", id)
			} else if sameHost {
				log.Error("task is already open and handled by this host (double open/assign)", "task", id, "host", *hostID)
			}
			return nil, nil
		default:
			if t.HostID == nil {
				log.Error("task is non-free but not handled by any host", "task", id, "state", taskStateName(t.State))
			}
			return nil, nil
		}
	}
	nt, err := storeTx(ctx).SetTaskState(ctx, id, newState, hostID, newState == store.TaskOpen)
	if err != nil {
		return nil, err
	}
	after, err := postTaskInfo(nt, before["request"])
	if err != nil {
		return nil, err
	}
	if err := k.taskCallbacks(ctx, "postTaskStateChange", before, after, attrs, nil, nil); err != nil {
		return nil, err
	}
	return nt, nil
}

// assignTask assigns a FREE task to a host (Task.assign); see lockTask.
func (k *Koji) assignTask(ctx context.Context, id, hostID int64, force bool) (bool, error) {
	return k.lockTask(ctx, id, &hostID, store.TaskAssigned, force)
}

// openTask opens the task for the host (Task.open) and returns its fields
// with the raw request document, or nil when the lock fails.
func (k *Koji) openTask(ctx context.Context, id, hostID int64) (map[string]any, error) {
	t, err := k.lock(ctx, id, &hostID, store.TaskOpen, false)
	if err != nil || t == nil {
		return nil, err
	}
	out := taskFields(t)
	out["request"] = string(storedDocument(t.Request))
	return out, nil
}

// freeTask makes a task FREE again with no host (Task.free). A finished
// task cannot be freed.
func (k *Koji) freeTask(ctx context.Context, id int64) error {
	t, before, err := lockedTaskInfo(ctx, id)
	if err != nil {
		return err
	}
	attrs := []string{"state", "host_id"}
	if err := k.taskCallbacks(ctx, "preTaskStateChange", before, nil, attrs, store.TaskFree, nil); err != nil {
		return err
	}
	switch t.State {
	case store.TaskFree:
		// Upstream tests the old state for truth, and FREE is 0: freeing
		// a FREE task says it does not exist.
		return fault(koji.ErrGeneric, "No such task: %d", id)
	case store.TaskClosed, store.TaskCanceled, store.TaskFailed:
		return fault(koji.ErrGeneric, "Cannot free task %d, state is %s", id, taskStateName(t.State))
	}
	nt, err := storeTx(ctx).SetTaskState(ctx, id, store.TaskFree, nil, false)
	if err != nil {
		return err
	}
	after, err := postTaskInfo(nt, before["request"])
	if err != nil {
		return err
	}
	return k.taskCallbacks(ctx, "postTaskStateChange", before, after, attrs, nil, nil)
}

// closeTask stores the task's result (a methodResponse document) and ends
// it in state (CLOSED or FAILED), as upstream's Task._close; callers check
// that the host holds it. The pre-change callbacks see the result in info
// and may rewrite it there.
func (k *Koji) closeTask(ctx context.Context, id int64, result string, state int) error {
	_, before, err := lockedTaskInfo(ctx, id)
	if err != nil {
		return err
	}
	before["result"] = result
	attrs := []string{"state", "completion_ts"}
	now := pyTS(time.Now())
	if err := k.taskCallbacks(ctx, "preTaskStateChange", before, nil, attrs, state, now); err != nil {
		return err
	}
	if s, ok := before["result"].(string); ok {
		result = s
	}
	nt, err := storeTx(ctx).EndTask(ctx, id, state, &result)
	if err != nil {
		return err
	}
	after, err := postTaskInfo(nt, before["request"])
	if err != nil {
		return err
	}
	return k.taskCallbacks(ctx, "postTaskStateChange", before, after, attrs, nil, nil)
}

// cancelTask cancels the task (Task.cancel), its BUILDING builds and,
// with recurse, its descendants. It reports true when the task is (or already was) CANCELED
// and false when it had already finished otherwise.
func (k *Koji) cancelTask(ctx context.Context, id int64, recurse bool) (bool, error) {
	t, before, err := lockedTaskInfo(ctx, id)
	if err != nil {
		return false, err
	}
	attrs := []string{"state", "completion_ts"}
	if err := k.taskCallbacks(ctx, "preTaskStateChange", before, nil, attrs, store.TaskCanceled, pyTS(time.Now())); err != nil {
		return false, err
	}
	switch t.State {
	case store.TaskCanceled:
		return true, nil
	case store.TaskClosed, store.TaskFailed:
		return false, nil
	}
	tx := storeTx(ctx)
	nt, err := tx.EndTask(ctx, id, store.TaskCanceled, nil)
	if err != nil {
		return false, err
	}
	after, err := postTaskInfo(nt, before["request"])
	if err != nil {
		return false, err
	}
	if err := k.taskCallbacks(ctx, "postTaskStateChange", before, after, attrs, nil, nil); err != nil {
		return false, err
	}
	// The task's BUILDING builds are canceled too (not their task again:
	// the build's state guards against the loop).
	builds, err := tx.BuildingBuildsOfTask(ctx, id)
	if err != nil {
		return false, err
	}
	for _, b := range builds {
		if _, err := k.cancelBuild(ctx, b, false); err != nil {
			return false, err
		}
	}
	if recurse {
		kids, err := tx.TaskChildIDs(ctx, id)
		if err != nil {
			return false, err
		}
		for _, kid := range kids {
			if _, err := k.cancelTask(ctx, kid, true); err != nil {
				return false, err
			}
		}
	}
	return true, nil
}

// setTaskWeight sets the task's weight (Task.setWeight) with the weight
// callbacks.
func (k *Koji) setTaskWeight(ctx context.Context, id int64, weight float64) error {
	return k.setTaskAttr(ctx, id, "weight", weight, func(tx *store.Tx) error { return tx.SetTaskWeight(ctx, id, weight) })
}

// setTaskPriority sets the task's priority (Task.setPriority) and, with
// recurse, its descendants'.
func (k *Koji) setTaskPriority(ctx context.Context, id int64, priority int, recurse bool) error {
	err := k.setTaskAttr(ctx, id, "priority", priority, func(tx *store.Tx) error { return tx.SetTaskPriority(ctx, id, priority) })
	if err != nil || !recurse {
		return err
	}
	kids, err := storeTx(ctx).TaskChildIDs(ctx, id)
	if err != nil {
		return err
	}
	for _, kid := range kids {
		if err := k.setTaskPriority(ctx, kid, priority, true); err != nil {
			return err
		}
	}
	return nil
}

// setTaskAttr runs write between the callbacks for attr.
func (k *Koji) setTaskAttr(ctx context.Context, id int64, attr string, val any, write func(*store.Tx) error) error {
	_, before, err := lockedTaskInfo(ctx, id)
	if err != nil {
		return err
	}
	if err := k.taskCallback(ctx, "preTaskStateChange", before, nil, attr, val); err != nil {
		return err
	}
	tx := storeTx(ctx)
	if err := write(tx); err != nil {
		return err
	}
	nt, err := tx.GetTask(ctx, id)
	if err != nil {
		return err
	}
	after, err := postTaskInfo(nt, before["request"])
	if err != nil {
		return err
	}
	return k.taskCallback(ctx, "postTaskStateChange", before, after, attr, nil)
}

// cancelTaskFull cancels a task and every task in its group
// (Task.cancelFull): with strict the task must be top-level; otherwise the
// group's root is found first. Descendants are canceled breadth first,
// each without recursion, so finished tasks do not stop the walk.
func (k *Koji) cancelTaskFull(ctx context.Context, id int64, strict bool) error {
	tx := storeTx(ctx)
	t, err := tx.LockTask(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if t != nil && t.Parent != nil {
		if strict {
			return fault(koji.ErrGeneric, "Task %d is not top-level (parent=%d)", id, *t.Parent)
		}
		seen := map[int64]bool{id: true}
		root := *t.Parent
		for {
			if seen[root] {
				return fault(koji.ErrGeneric, "Task LOOP at task %d", id)
			}
			seen[root] = true
			p, err := tx.LockTask(ctx, root)
			if err != nil {
				return noTaskRow(err)
			}
			if p.Parent == nil {
				break
			}
			root = *p.Parent
		}
		return k.cancelTaskFull(ctx, root, true)
	}
	queue := []int64{id}
	seen := map[int64]bool{}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if seen[cur] {
			return fault(koji.ErrGeneric, "Task LOOP at task %d", cur)
		}
		seen[cur] = true
		if _, err := k.cancelTask(ctx, cur, false); err != nil {
			return err
		}
		kids, err := tx.TaskChildIDs(ctx, cur)
		if err != nil {
			return err
		}
		queue = append(queue, kids...)
	}
	return nil
}
