package hubserver

import (
	"context"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// hostTaskMethods are the builder's side of the task protocol (upstream's
// HostExports): checking in, getting, opening and finishing tasks,
// refusing and freeing them, weights, subtasks and waiting for them, plus
// the long-poll methods host.waitTasks and host.taskWaitAny that let a
// builder wait for work or subtasks without polling. Every one needs the
// caller to be a host in an exclusive session.
func (k *Koji) hostTaskMethods() []Method {
	hostArgs := func(names ...string) []Arg {
		out := make([]Arg, len(names))
		for i, n := range names {
			out[i] = Arg{Name: n}
		}
		return out
	}
	return slices.Concat(
		[]Method{
			{
				Name: "host.updateHost", PyName: "HostExports.updateHost", Bound: true,
				Args: []Arg{{Name: "task_load"}, {Name: "ready"}, {Name: "data", Default: None}},
				Doc: "Update host data\n\n        :param float task_load: current task load\n" +
					"        :param bool ready: whether the host is ready to take a task\n" +
					"        :param dict data: data for the scheduler\n\n        ",
				Func: updateHost,
			},
			{
				Name: "host.setHostData", PyName: "HostExports.setHostData", Bound: true,
				Args: hostArgs("hostdata"),
				Doc: "Provide host data for the scheduler\n\n        :param dict hostdata: host data\n\n" +
					"        For backwards compatibility, we also accept hostdata as a string containing a\n" +
					"        json-encoded dictionary.\n        ",
				Func: setHostData,
			},
			{
				Name: "host.isEnabled", PyName: "HostExports.isEnabled", Bound: true,
				Func: isEnabled,
			},
			{
				Name: "host.getTasks", PyName: "HostExports.getTasks", Bound: true,
				Func: k.hostGetTasks,
			},
			{
				Name: "host.getLoadData", PyName: "HostExports.getLoadData", Bound: true,
				Func: k.getLoadData,
			},
			{
				Name: "host.openTask", PyName: "HostExports.openTask", Bound: true,
				Args: hostArgs("task_id"),
				Func: k.hostOpenTask,
			},
			{
				Name: "host.closeTask", PyName: "HostExports.closeTask", Bound: true,
				Args: hostArgs("task_id", "response"),
				Func: func(ctx context.Context, taskID any, response string) error {
					return k.hostEndTask(ctx, taskID, response, store.TaskClosed)
				},
			},
			{
				Name: "host.failTask", PyName: "HostExports.failTask", Bound: true,
				Args: hostArgs("task_id", "response"),
				Func: func(ctx context.Context, taskID any, response string) error {
					return k.hostEndTask(ctx, taskID, response, store.TaskFailed)
				},
			},
			{
				Name: "host.freeTasks", PyName: "HostExports.freeTasks", Bound: true,
				Args: hostArgs("tasks"),
				Func: k.freeTasks,
			},
			{
				Name: "host.refuseTask", PyName: "HostExports.refuseTask", Bound: true,
				Args: []Arg{{Name: "task_id"}, {Name: "soft", Default: true}, {Name: "msg", Default: ""}},
				Func: k.refuseTask,
			},
			{
				Name: "host.setTaskWeight", PyName: "HostExports.setTaskWeight", Bound: true,
				Args: hostArgs("task_id", "weight"),
				Func: k.hostSetTaskWeight,
			},
			{
				Name: "host.getHostTasks", PyName: "HostExports.getHostTasks", Bound: true,
				Func: getHostTasks,
			},
		},
		k.hostWaitMethods(),
	)
}

// taskID reads a task id as upstream's Task(id) does (convert_value with
// cast=int).
func taskID(v any) (int64, error) { return convertInt(v) }

// verifyHost is upstream's Task.verifyHost: whether the task is OPEN on
// the host, with the task's row locked. A missing task faults.
func verifyHost(ctx context.Context, id, hostID int64) (bool, error) {
	t, err := storeTx(ctx).LockTask(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return false, fault(koji.ErrGeneric, "No such task: %d", id)
	}
	if err != nil {
		return false, err
	}
	return t.State == store.TaskOpen && t.HostID != nil && *t.HostID == hostID, nil
}

// assertHost is upstream's Task.assertHost: the task must be OPEN on the
// host.
func assertHost(ctx context.Context, id, hostID int64) error {
	ok, err := verifyHost(ctx, id, hostID)
	if err == nil && !ok {
		err = fault(koji.ErrActionNotAllowed, "host %d does not own task %d", hostID, id)
	}
	return err
}

// pyFloat is Python's float() of a decoded value.
func pyFloat(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case int64:
		return float64(x), nil
	case int:
		return float64(x), nil
	case bool:
		return float64(boolInt(x)), nil
	case string:
		s := strings.ReplaceAll(strings.TrimSpace(x), "_", "")
		if f, err := strconv.ParseFloat(s, 64); err == nil || errors.Is(err, strconv.ErrRange) {
			return f, nil
		}
		return 0, pyException("ValueError", "could not convert string to float: %s", pyStr(x))
	}
	return 0, pyException("TypeError", "float() argument must be a string or a real number, not '%s'", pyTypeName(v))
}

// updateHost is the builder's check-in: its load and readiness, now, and
// with data what it tells the scheduler about itself (its methods and
// maxjobs).
func updateHost(ctx context.Context, taskLoad, ready, data any) error {
	h, err := callerHost(ctx)
	if err != nil {
		return err
	}
	load, err := pyFloat(taskLoad)
	if err != nil {
		return err
	}
	if load < 0 || math.IsNaN(load) {
		return checkViolation("host", "host_task_load_check")
	}
	r, err := hostReady(ready)
	if err != nil {
		return err
	}
	if err := storeTx(ctx).UpdateHost(ctx, h.ID, r, load); err != nil {
		return err
	}
	if data != nil {
		return storeHostData(ctx, h.ID, data)
	}
	return nil
}

// checkViolation is the fault upstream's database answers a write that
// breaks a CHECK constraint with.
func checkViolation(table, constraint string) error {
	return pyException("psycopg2.errors.CheckViolation", "new row for relation \"%s\" violates check constraint \"%s\"", table, constraint)
}

// hostReady reads updateHost's ready as upstream's database takes it: a
// bool, or a string PostgreSQL reads as a boolean; other values fault as
// the database refuses them there.
func hostReady(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case nil:
		return false, pyException("psycopg2.errors.NotNullViolation", "null value in column \"ready\" of relation \"host\" violates not-null constraint")
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "t", "true", "y", "yes", "on", "1":
			return true, nil
		case "f", "false", "n", "no", "off", "0":
			return false, nil
		}
		return false, pyException("psycopg2.errors.InvalidTextRepresentation", "invalid input syntax for type boolean: %s", pyStr(x))
	case int64:
		return false, pyException("psycopg2.errors.DatatypeMismatch", "column \"ready\" is of type boolean but expression is of type integer")
	case float64:
		return false, pyException("psycopg2.errors.DatatypeMismatch", "column \"ready\" is of type boolean but expression is of type numeric")
	}
	return false, pyException("psycopg2.ProgrammingError", "can't adapt type '%s'", pyTypeName(v))
}

// storeHostData is upstream's set_host_data: the data must be a struct.
func storeHostData(ctx context.Context, hostID int64, data any) error {
	if _, ok := data.(map[string]any); !ok {
		return fault(koji.ErrParameter, "Host data should be a dictionary")
	}
	s, err := encodeJSON(data)
	if err != nil {
		return err
	}
	return storeTx(ctx).SetSchedulerHostData(ctx, hostID, s)
}

func setHostData(ctx context.Context, hostdata any) error {
	h, err := callerHost(ctx)
	if err != nil {
		return err
	}
	if s, ok := hostdata.(string); ok {
		// Older builders send the data JSON-encoded.
		v, err := decodeJSON(s)
		if err != nil {
			return pyException("json.decoder.JSONDecodeError", "%v", err)
		}
		hostdata = v
	}
	return storeHostData(ctx, h.ID, hostdata)
}

func isEnabled(ctx context.Context) (bool, error) {
	h, err := callerHost(ctx)
	if err != nil {
		return false, err
	}
	enabled, err := storeTx(ctx).HostEnabled(ctx, h.ID)
	if errors.Is(err, store.ErrNotFound) {
		return false, fault(koji.ErrGeneric, "query returned no rows")
	}
	return enabled, err
}

// assignedTasks is upstream's get_tasks_for_host without the retry: the
// tasks ASSIGNED to the host, in the order to take them.
func assignedTasks(ctx context.Context, hostID int64) ([]map[string]any, error) {
	ts, err := storeTx(ctx).AssignedTasks(ctx, hostID)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(ts))
	for i, t := range ts {
		out[i] = map[string]any{
			"id": t.ID, "state": t.State, "channel_id": t.ChannelID, "host_id": t.HostID,
			"arch": t.Arch, "method": t.Method, "priority": t.Priority, "create_ts": pyTS(t.CreateTime),
		}
	}
	return out, nil
}

// tasksForHost is upstream's get_tasks_for_host with retry: when nothing
// is assigned to the host, the scheduler runs (unless it ran within
// RunInterval or runs elsewhere) and the host's tasks are read again.
func (k *Koji) tasksForHost(ctx context.Context, hostID int64) ([]map[string]any, error) {
	tasks, err := assignedTasks(ctx, hostID)
	if err != nil || len(tasks) > 0 {
		return tasks, err
	}
	if _, err := k.sched.run(ctx, false, true); err != nil {
		return nil, err
	}
	return assignedTasks(ctx, hostID)
}

func (k *Koji) hostGetTasks(ctx context.Context) ([]map[string]any, error) {
	h, err := callerHost(ctx)
	if err != nil {
		return nil, err
	}
	return k.tasksForHost(ctx, h.ID)
}

// getLoadData is kept for builders older than the hub-side scheduler: it
// answers [[the caller's host with its channel ids], its assigned
// tasks], the only host and tasks such a builder then considers.
func (k *Koji) getLoadData(ctx context.Context) ([]any, error) {
	h, err := callerHost(ctx)
	if err != nil {
		return nil, err
	}
	info := hostData(h)
	chans, err := storeTx(ctx).HostChannels(ctx, h.ID, nil)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(chans))
	for i, c := range chans {
		ids[i] = c.ID
	}
	info["channels"] = ids
	tasks, err := k.tasksForHost(ctx, h.ID)
	if err != nil {
		return nil, err
	}
	return []any{[]any{info}, tasks}, nil
}

// hostOpenTask opens the task for the caller: its fields with the raw
// request document, or nil when another host holds it (or it is no
// longer FREE or ASSIGNED to the caller).
func (k *Koji) hostOpenTask(ctx context.Context, taskIDArg any) (map[string]any, error) {
	h, err := callerHost(ctx)
	if err != nil {
		return nil, err
	}
	id, err := taskID(taskIDArg)
	if err != nil {
		return nil, err
	}
	return k.openTask(ctx, id, h.ID)
}

// hostEndTask closes or fails a task the caller holds open, storing the
// builder's methodResponse document verbatim.
func (k *Koji) hostEndTask(ctx context.Context, taskIDArg any, response string, state int) error {
	h, err := callerHost(ctx)
	if err != nil {
		return err
	}
	id, err := taskID(taskIDArg)
	if err != nil {
		return err
	}
	if err := assertHost(ctx, id, h.ID); err != nil {
		return err
	}
	return k.closeTask(ctx, id, response, state)
}

// freeTasks frees the tasks the caller still holds open (a builder
// restarting, or dropping tasks it lost); others are skipped, since they
// may have been freed or reassigned meanwhile.
func (k *Koji) freeTasks(ctx context.Context, tasks []any) error {
	h, err := callerHost(ctx)
	if err != nil {
		return err
	}
	for _, v := range tasks {
		id, err := taskID(v)
		if err != nil {
			return err
		}
		ok, err := verifyHost(ctx, id, h.ID)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := k.freeTask(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// refuseTask records that the caller refuses a task assigned to it and
// frees the task; a soft refusal expires after SoftRefusalTimeout. A task
// the caller does not hold is left alone.
func (k *Koji) refuseTask(ctx context.Context, taskIDArg, soft, msg any) error {
	if soft == nil {
		return fault(koji.ErrParameter, "Invalid type, expected type <class 'bool'>")
	}
	if msg == nil {
		return fault(koji.ErrParameter, "Invalid type, expected type <class 'str'>")
	}
	isSoft := xmlrpc.Truthy(soft)
	text := pyFormat(msg)
	if s, ok := msg.(string); ok {
		text = s
	}
	h, err := callerHost(ctx)
	if err != nil {
		return err
	}
	id, err := taskID(taskIDArg)
	if err != nil {
		return err
	}
	t, err := getTask(ctx, id)
	if err != nil {
		return err
	}
	if t.HostID == nil || *t.HostID != h.ID {
		LoggerFrom(ctx).Warn("host refused unrelated task", "host", h.ID, "task", id)
		return nil
	}
	if err := k.sched.setRefusal(ctx, h.ID, id, isSoft, true, text); err != nil {
		return err
	}
	return k.freeTask(ctx, id)
}

func (k *Koji) hostSetTaskWeight(ctx context.Context, taskIDArg, weight any) error {
	h, err := callerHost(ctx)
	if err != nil {
		return err
	}
	id, err := taskID(taskIDArg)
	if err != nil {
		return err
	}
	if err := assertHost(ctx, id, h.ID); err != nil {
		return err
	}
	if weight == nil {
		return fault(koji.ErrParameter, "Invalid type, expected type <class 'float'>")
	}
	w, err := pyFloat(weight)
	if err != nil {
		return convertError(weight, "float")
	}
	if w < 0 || math.IsNaN(w) {
		return checkViolation("task", "task_weight_check")
	}
	return k.setTaskWeight(ctx, id, w)
}

// getHostTasks lists the caller's OPEN tasks for its bookkeeping: id,
// waiting and weight, and alert when a waiting task has a finished
// subtask to look at.
func getHostTasks(ctx context.Context) ([]map[string]any, error) {
	h, err := callerHost(ctx)
	if err != nil {
		return nil, err
	}
	ts, err := storeTx(ctx).HostOpenTasks(ctx, h.ID)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(ts))
	for i, t := range ts {
		m := map[string]any{"id": t.ID, "waiting": t.Waiting, "weight": t.Weight}
		if t.Alert {
			m["alert"] = true
		}
		out[i] = m
	}
	return out, nil
}
