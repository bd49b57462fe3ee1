package hubserver_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// taskTimes are the task members whose values differ by nature between
// this hub and the recording.
var taskTimes = []string{"create_time", "create_ts", "start_time", "start_ts", "completion_time", "completion_ts"}

// taskRecordedParams decodes the parameters of the call recorded from
// Koji 1.35.3 for name.
func taskRecordedParams(t *testing.T, name string) []any {
	data, err := os.ReadFile(filepath.Join("..", "internal", "kojitest", "testdata", "wire", name+".request.xml"))
	require.NoError(t, err)
	call, err := xmlrpc.DecodeCall(data)
	require.NoError(t, err)
	out := make([]any, len(call.Params))
	for i, p := range call.Params {
		require.NoError(t, p.Decode(&out[i]))
	}
	return out
}

// taskTx runs fn as a call by the user uid, failing the test on error.
func taskTx(t *testing.T, kh *kojiHub, uid int64, fn func(ctx context.Context) error) {
	t.Helper()
	require.NoError(t, kh.koji.TaskTx(context.Background(), uid, fn))
}

// taskOpen assigns and opens tasks on the host, as the scheduler and the
// builder would.
func taskOpen(t *testing.T, kh *kojiHub, host int64, ids ...int64) {
	t.Helper()
	taskTx(t, kh, 0, func(ctx context.Context) error {
		for _, id := range ids {
			if ok, err := kh.koji.AssignTaskForTest(ctx, id, host, false); err != nil || !ok {
				return fmt.Errorf("assign %d: %v %v", id, ok, err)
			}
			if info, err := kh.koji.OpenTaskForTest(ctx, id, host); err != nil || info == nil {
				return fmt.Errorf("open %d: %v %v", id, info, err)
			}
		}
		return nil
	})
}

// taskClose ends a task with a methodResponse document.
func taskClose(t *testing.T, kh *kojiHub, id int64, result string, state int) {
	t.Helper()
	taskTx(t, kh, 0, func(ctx context.Context) error { return kh.koji.CloseTaskForTest(ctx, id, result, state) })
}

// taskWire is v as a client decodes it: marshalled and read back.
func taskWire(t *testing.T, v any) any {
	b, err := xmlrpc.MarshalResponse(v)
	require.NoError(t, err)
	var out any
	require.NoError(t, xmlrpc.DecodeResponse(b, &out))
	return out
}

// taskResponse is the methodResponse document a builder stores for v.
func taskResponse(t *testing.T, v any) string {
	b, err := xmlrpc.MarshalResponse(v)
	require.NoError(t, err)
	return string(b)
}

// TestKojiTaskFixtures replays the recorded task conversation: makeTask,
// the task through FREE, ASSIGNED, OPEN and CLOSED, a second task FAILED,
// and the reads of each state, compared with upstream's answers.
func TestKojiTaskFixtures(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")

		var id int64
		require.NoError(t, admin.CallKw(ctx, "makeTask", &id, taskRecordedParams(t, "makeTask")[:2],
			map[string]any{"channel": "default", "arch": "noarch", "priority": 15}))
		assert.Equal(t, recorded(t, "makeTask"), id)
		var info any
		require.NoError(t, admin.CallKw(ctx, "getTaskInfo", &info, []any{id}, map[string]any{"request": true}))
		sameMembers(t, recorded(t, "getTaskInfo_free"), info, "create_time", "create_ts")
		id2, err := admin.MakeTask(ctx, "sleep", []any{2}, nil)
		require.NoError(t, err)
		assert.Equal(t, 2, id2)

		var host int64
		require.NoError(t, admin.Call(ctx, "addHost", &host, "builder1", []any{"x86_64"}))
		taskTx(t, kh, 0, func(ctx context.Context) error {
			for _, id := range []int64{1, 2} {
				if ok, err := kh.koji.AssignTaskForTest(ctx, id, host, false); err != nil || !ok {
					return fmt.Errorf("assign %d: %v %v", id, ok, err)
				}
			}
			return nil
		})
		require.NoError(t, admin.CallKw(ctx, "getTaskInfo", &info, []any{1}, map[string]any{"request": true}))
		sameMembers(t, recorded(t, "getTaskInfo_assigned"), info, "create_time", "create_ts")

		var opened map[string]any
		taskTx(t, kh, 0, func(ctx context.Context) (err error) {
			opened, err = kh.koji.OpenTaskForTest(ctx, 1, host)
			return err
		})
		sameMembers(t, recorded(t, "host.openTask"), taskWire(t, opened), taskTimes...)
		assert.NotNil(t, opened["start_ts"])
		taskTx(t, kh, 0, func(ctx context.Context) error { return kh.koji.SetTaskWeightForTest(ctx, 1, 0.5) })
		require.NoError(t, admin.CallKw(ctx, "getTaskInfo", &info, []any{1}, map[string]any{"request": true}))
		sameMembers(t, recorded(t, "getTaskInfo_open"), info, taskTimes...)

		taskClose(t, kh, 1, taskRecordedParams(t, "host.closeTask")[1].(string), store.TaskClosed)
		require.NoError(t, admin.CallKw(ctx, "getTaskInfo", &info, []any{1}, map[string]any{"request": true}))
		sameMembers(t, recorded(t, "getTaskInfo"), info, taskTimes...)
		var list []any
		require.NoError(t, admin.Call(ctx, "getTaskInfo", &list, []any{1, 2}))
		want := recorded(t, "getTaskInfo_list").([]any)
		require.Len(t, list, len(want))
		for i := range want {
			sameMembers(t, want[i], list[i], taskTimes...)
		}
		require.NoError(t, admin.Call(ctx, "getTaskInfo", &info, 99999999))
		assert.Equal(t, recorded(t, "getTaskInfo_nonexistent"), info)
		f := recordedFault(t, "getTaskInfo_nonexistent_strict")
		assert.Equal(t, f.String, faultString(t, admin, koji.FaultClass(f.Code), "getTaskInfo", []any{99999999}, map[string]any{"strict": true}))

		var result any
		require.NoError(t, admin.Call(ctx, "getTaskResult", &result, 1))
		assert.Equal(t, recorded(t, "getTaskResult"), result)

		taskTx(t, kh, 0, func(ctx context.Context) error {
			_, err := kh.koji.OpenTaskForTest(ctx, 2, host)
			return err
		})
		taskClose(t, kh, 2, taskRecordedParams(t, "host.failTask")[1].(string), store.TaskFailed)
		f = recordedFault(t, "getTaskResult_failed")
		assert.Equal(t, f.String, faultString(t, admin, koji.FaultClass(f.Code), "getTaskResult", []any{2}, nil))
		require.NoError(t, admin.CallKw(ctx, "getTaskResult", &result, []any{2}, map[string]any{"raise_fault": false}))
		assert.Equal(t, recorded(t, "getTaskResult_failed_noraise"), result)
		// The typed client tells the task's failure from the call's.
		var tfe *koji.TaskFailedError
		require.ErrorAs(t, admin.GetTaskResult(ctx, 2, false, nil), &tfe)
		assert.Equal(t, "simulated failure", tfe.Fault.String)

		require.NoError(t, admin.Call(ctx, "listTasks", &list))
		want = recorded(t, "listTasks").([]any)
		require.Len(t, list, len(want))
		for i := range want {
			sameMembers(t, want[i], list[i], taskTimes...)
		}
		require.NoError(t, admin.CallKw(ctx, "listTasks", &list, nil, map[string]any{
			"opts":      map[string]any{"method": "sleep", "state": []any{2, 5}},
			"queryOpts": map[string]any{"order": "-id", "limit": 5},
		}))
		want = recorded(t, "listTasks_opts").([]any)
		require.Len(t, list, len(want))
		for i := range want {
			sameMembers(t, want[i], list[i], taskTimes...)
		}

		// The typed client reads the same answers.
		tk, err := admin.GetTaskInfo(ctx, 1, &koji.TaskInfoOptions{Request: true})
		require.NoError(t, err)
		assert.Equal(t, koji.TaskClosed, tk.State)
		assert.Equal(t, 0.5, tk.Weight)
		tasks, err := admin.ListTasks(ctx, &koji.ListTasksOptions{State: []koji.TaskState{koji.TaskFailed}}, nil)
		require.NoError(t, err)
		require.Len(t, tasks, 1)
		assert.Equal(t, "kojiadmin", tasks[0].OwnerName)
	})
}

// TestKojiTaskStates checks Task.lock's rules, free, cancel and the
// TaskStateChange callbacks with upstream's keywords.
func TestKojiTaskStates(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		var events []map[string]any
		for _, name := range []string{"preTaskStateChange", "postTaskStateChange"} {
			require.NoError(t, kh.koji.RegisterCallback(name, func(ctx context.Context, cb string, kw map[string]any) error {
				kw["callback"] = cb
				events = append(events, kw)
				return nil
			}, hubserver.CallbackOptions{}))
		}
		var h1, h2 int64
		require.NoError(t, admin.Call(ctx, "addHost", &h1, "builder1", []any{"x86_64"}))
		require.NoError(t, admin.Call(ctx, "addHost", &h2, "builder2", []any{"x86_64"}))
		mk := func() int64 {
			n, err := admin.MakeTask(ctx, "sleep", []any{1}, nil)
			require.NoError(t, err)
			return int64(n)
		}
		lock := func(id int64, host *int64, state int, force bool) bool {
			var ok bool
			taskTx(t, kh, 0, func(ctx context.Context) (err error) {
				ok, err = kh.koji.LockTaskForTest(ctx, id, host, state, force)
				return err
			})
			return ok
		}
		state := func(id int64) (int, *int) {
			tk, err := admin.GetTaskInfo(ctx, int(id), nil)
			require.NoError(t, err)
			return int(tk.State), tk.HostID
		}

		// Creation announces FREE with make_task's options as info.
		events = nil
		a := mk()
		require.Len(t, events, 2)
		assert.Equal(t, []any{"preTaskStateChange", "state", nil, "FREE"},
			[]any{events[0]["callback"], events[0]["attribute"], events[0]["old"], events[0]["new"]})
		created := events[1]["info"].(map[string]any)
		assert.Equal(t, a, created["id"])
		assert.Contains(t, created["request"], "<methodName>sleep</methodName>")
		assert.Equal(t, []any{"noarch", 20, int64(1), "sleep"}, []any{created["arch"], created["priority"], created["owner"], created["method"]})

		// FREE → ASSIGNED to h1; another host cannot take it; h1 assigning
		// again is a no-op success; h1 may open it.
		events = nil
		assert.True(t, lock(a, &h1, store.TaskAssigned, false))
		require.Len(t, events, 4)
		assert.Equal(t, []any{"state", "FREE", "ASSIGNED"}, []any{events[0]["attribute"], events[0]["old"], events[0]["new"]})
		assert.Equal(t, []any{"host_id", nil, h1}, []any{events[3]["attribute"], events[3]["old"], events[3]["new"]})
		assert.Equal(t, "postTaskStateChange", events[3]["callback"])
		assert.Equal(t, []any{int64(1)}, events[3]["info"].(map[string]any)["request"])
		assert.False(t, lock(a, &h2, store.TaskAssigned, false))
		assert.False(t, lock(a, &h2, store.TaskOpen, false))
		assert.True(t, lock(a, &h1, store.TaskAssigned, false))
		assert.True(t, lock(a, &h1, store.TaskOpen, false))
		s, host := state(a)
		assert.Equal(t, store.TaskOpen, s)
		assert.EqualValues(t, h1, *host)
		// OPEN, CLOSED, FAILED and CANCELED tasks cannot be locked, but
		// force overrides the rules.
		assert.False(t, lock(a, &h1, store.TaskOpen, false))
		assert.True(t, lock(a, &h2, store.TaskOpen, true))
		_, host = state(a)
		assert.EqualValues(t, h2, *host)
		// A FREE task naming a host is inconsistent and refused.
		b := mk()
		assert.True(t, lock(b, &h1, store.TaskFree, true))
		assert.False(t, lock(b, &h1, store.TaskOpen, false))
		err := kh.koji.TaskTx(ctx, 0, func(ctx context.Context) error { return kh.koji.FreeTaskForTest(ctx, b) })
		var kf *koji.Fault
		require.ErrorAs(t, err, &kf)
		assert.Equal(t, fmt.Sprintf("No such task: %d", b), kf.String, "upstream's free reads FREE (0) as no task")
		// An open task can be freed, and then opened again.
		taskTx(t, kh, 0, func(ctx context.Context) error { return kh.koji.FreeTaskForTest(ctx, a) })
		assert.True(t, lock(a, &h1, store.TaskOpen, false))

		events = nil
		taskClose(t, kh, a, taskResponse(t, "done"), store.TaskClosed)
		require.Len(t, events, 4)
		assert.Equal(t, []any{"state", "OPEN", "CLOSED"}, []any{events[0]["attribute"], events[0]["old"], events[0]["new"]})
		assert.Equal(t, "completion_ts", events[1]["attribute"])
		assert.Equal(t, "done", events[2]["info"].(map[string]any)["result"])
		assert.IsType(t, float64(0), events[3]["new"])
		assert.False(t, lock(a, &h1, store.TaskOpen, false))
		assert.Contains(t, faultString(t, admin, koji.ErrGeneric, "freeTask", []any{a}, nil), fmt.Sprintf("Cannot free task %d, state is CLOSED", a))
		taskTx(t, kh, 0, func(ctx context.Context) error {
			ok, err := kh.koji.CancelTaskForTest(ctx, a, true)
			if ok {
				return fmt.Errorf("canceled a closed task")
			}
			return err
		})
		var canceled bool
		taskTx(t, kh, 0, func(ctx context.Context) (err error) {
			canceled, err = kh.koji.CancelTaskForTest(ctx, b, true)
			return err
		})
		assert.True(t, canceled)
		assert.False(t, lock(b, &h1, store.TaskOpen, false))
		taskTx(t, kh, 0, func(ctx context.Context) (err error) {
			canceled, err = kh.koji.CancelTaskForTest(ctx, b, true)
			return err
		})
		assert.True(t, canceled, "canceling a canceled task succeeds")

		// makeTask may assign at once, by host name or id; a false
		// assign leaves the task FREE.
		assigned, err := admin.MakeTask(ctx, "sleep", []any{1}, &koji.MakeTaskOptions{Assign: "builder2"})
		require.NoError(t, err)
		s, host = state(int64(assigned))
		assert.Equal(t, store.TaskAssigned, s)
		assert.EqualValues(t, h2, *host)
		var unassigned int64
		require.NoError(t, admin.CallKw(ctx, "makeTask", &unassigned, []any{"sleep", []any{}}, map[string]any{"assign": 0}))
		s, host = state(unassigned)
		assert.Equal(t, store.TaskFree, s)
		assert.Nil(t, host)

		// A callback's error aborts the change and rolls it back.
		c := mk()
		require.NoError(t, kh.koji.RegisterCallback("preTaskStateChange", func(ctx context.Context, cb string, kw map[string]any) error {
			if kw["new"] == "ASSIGNED" {
				return fmt.Errorf("no assignments today")
			}
			return nil
		}, hubserver.CallbackOptions{}))
		err = kh.koji.TaskTx(ctx, 0, func(ctx context.Context) error {
			_, err := kh.koji.AssignTaskForTest(ctx, c, h1, false)
			return err
		})
		require.ErrorAs(t, err, &kf)
		assert.Equal(t, int(koji.ErrCallback), kf.Code)
		s, host = state(c)
		assert.Equal(t, store.TaskFree, s)
		assert.Nil(t, host)
	})
}

// TestKojiTaskFaults checks the faults of the root task methods for
// missing permissions, unknown tasks and bad input, and that none leaves
// a task behind.
func TestKojiTaskFaults(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		bob := withBob(t, kh)
		admin := kh.sslClient(t, "")
		anon := kh.client(t)
		var host int64
		require.NoError(t, admin.Call(ctx, "addHost", &host, "builder1", []any{"x86_64"}))

		assert.Equal(t, "admin permission required (user not logged in)",
			faultString(t, anon, koji.ErrActionNotAllowed, "makeTask", []any{"sleep", []any{1}}, nil))
		assert.Equal(t, "admin permission required (logged in as bob)",
			bob.fault(t, 1, koji.ErrActionNotAllowed, "makeTask", "sleep", []any{1}))
		for _, c := range []struct {
			args []any
			kw   map[string]any
			code koji.FaultClass
			want string
		}{
			{[]any{"sleep", []any{1}}, map[string]any{"owner": "bob"}, koji.ErrActionNotAllowed, "owner option is not allowed here"},
			{[]any{"sleep"}, nil, 1, "<class 'TypeError'>: make_task() missing 1 required positional argument: 'arglist'"},
			{nil, nil, 1, "<class 'TypeError'>: make_task() missing 2 required positional arguments: 'method' and 'arglist'"},
			{[]any{"sleep", []any{}, 3}, nil, 1, "<class 'TypeError'>: make_task() takes 2 positional arguments but 3 were given"},
			{[]any{"sleep"}, map[string]any{"method": "x", "arglist": []any{}}, 1, "<class 'TypeError'>: make_task() got multiple values for argument 'method'"},
			{[]any{7, []any{}}, nil, koji.ErrParameter, "Invalid type for value '7': <class 'int'>, expected type <class 'str'>"},
			{[]any{"sleep", 7}, nil, 1, "<class 'TypeError'>: 'int' object is not iterable"},
			{[]any{"sleep", []any{}}, map[string]any{"channel": "nochan"}, koji.ErrGeneric, "No such channel: nochan"},
			{[]any{"sleep", []any{}}, map[string]any{"channel": 99}, koji.ErrGeneric, "No such channel: 99"},
			{[]any{"sleep", []any{}}, map[string]any{"priority": "high"}, koji.ErrParameter, "Invalid type for value 'high': <class 'str'>, expected type <class 'int'>"},
			{[]any{"sleep", []any{}}, map[string]any{"arch": "x86/64"}, koji.ErrGeneric, "Invalid architecture: x86/64"},
			{[]any{"sleep", []any{}}, map[string]any{"parent": 999}, koji.ErrGeneric, "Invalid parent task: 999"},
			{[]any{"sleep", []any{}}, map[string]any{"assign": "nohost"}, koji.ErrGeneric, "Invalid hostInfo: nohost"},
			{[]any{"sleep", []any{}}, map[string]any{"label": 5}, koji.ErrParameter, "Invalid type for value '5': <class 'int'>, expected type <class 'str'>"},
		} {
			assert.Equal(t, c.want, faultString(t, admin, c.code, "makeTask", c.args, c.kw), "%v %v", c.args, c.kw)
		}
		var n int
		require.NoError(t, admin.CallKw(ctx, "listTasks", &n, nil, map[string]any{"queryOpts": map[string]any{"countOnly": true}}))
		assert.Equal(t, 0, n, "no task is left behind by a faulting call")

		id, err := admin.MakeTask(ctx, "sleep", []any{1}, nil)
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprintf("Parent task (id %d) is not open", id),
			faultString(t, admin, koji.ErrGeneric, "makeTask", []any{"sleep", []any{}}, map[string]any{"parent": id}))

		// Reads of unknown tasks and bad ids.
		assert.Equal(t, "Invalid type for value 'one': <class 'str'>, expected type <class 'int'>",
			faultString(t, anon, koji.ErrParameter, "getTaskInfo", []any{"one"}, nil))
		var info any
		require.NoError(t, anon.Call(ctx, "getTaskInfo", &info, fmt.Sprint(id)))
		assert.EqualValues(t, id, info.(map[string]any)["id"], "a numeric string is an id, as int() reads it")
		assert.Equal(t, "query returned no rows", faultString(t, anon, koji.ErrGeneric, "getTaskRequest", []any{99}, nil))
		assert.Equal(t, "query returned no rows", faultString(t, anon, koji.ErrGeneric, "taskFinished", []any{99}, nil))
		assert.Equal(t, "query returned no rows", faultString(t, anon, koji.ErrGeneric, "getTaskChildren", []any{99}, map[string]any{"strict": true}))
		assert.Equal(t, "No such task", faultString(t, anon, koji.ErrGeneric, "getTaskResult", []any{99}, nil))
		assert.Equal(t, fmt.Sprintf("Task %d is not finished", id), faultString(t, anon, koji.ErrGeneric, "getTaskResult", []any{id}, nil))
		var finished bool
		require.NoError(t, anon.Call(ctx, "taskFinished", &finished, id))
		assert.False(t, finished)
		var req []any
		require.NoError(t, anon.Call(ctx, "getTaskRequest", &req, id))
		assert.Equal(t, []any{int64(1)}, req)

		// Cancel: owner, host holding it open, or admin.
		assert.Equal(t, "Cannot cancel task, not owner", faultString(t, anon, koji.ErrActionNotAllowed, "cancelTask", []any{id}, nil))
		assert.Equal(t, "Cannot cancel task, not owner", bob.fault(t, 2, koji.ErrActionNotAllowed, "cancelTask", id))
		assert.Equal(t, "No such task: 99", bob.fault(t, 3, koji.ErrGeneric, "cancelTask", 99))
		assert.Equal(t, "Not logged in", faultString(t, anon, koji.ErrAuth, "cancelTaskChildren", []any{id}, nil))
		assert.Equal(t, "Cannot cancel task, not owner", bob.fault(t, 4, koji.ErrActionNotAllowed, "cancelTaskChildren", id))
		assert.Equal(t, "admin permission required (logged in as bob)", bob.fault(t, 5, koji.ErrActionNotAllowed, "cancelTaskFull", id))
		assert.Equal(t, "admin permission required (logged in as bob)", bob.fault(t, 6, koji.ErrActionNotAllowed, "freeTask", id))
		assert.Equal(t, "admin permission required (logged in as bob)", bob.fault(t, 7, koji.ErrActionNotAllowed, "setTaskPriority", id, 5))
		assert.Equal(t, fmt.Sprintf("No such task: %d", id), faultString(t, admin, koji.ErrGeneric, "freeTask", []any{id}, nil),
			"upstream's free reads FREE (0) as no task")
		assert.Equal(t, "query returned no rows", faultString(t, admin, koji.ErrGeneric, "setTaskPriority", []any{99, 5}, nil))
		assert.Equal(t, "Invalid type for value 'x': <class 'str'>, expected type <class 'int'>",
			faultString(t, admin, koji.ErrParameter, "setTaskPriority", []any{id, "x"}, nil))
		assert.Equal(t, "query returned no rows", faultString(t, admin, koji.ErrGeneric, "cancelTaskFull", []any{99}, nil))

		// Resubmit: only a failed or canceled top-level task, by its owner
		// or an admin.
		assert.Equal(t, "Not logged in", faultString(t, anon, koji.ErrAuth, "resubmitTask", []any{id}, nil))
		assert.Equal(t, "only canceled or failed tasks may be resubmitted", faultString(t, admin, koji.ErrGeneric, "resubmitTask", []any{id}, nil))
		require.NoError(t, admin.CancelTask(ctx, id, true))
		assert.Equal(t, fmt.Sprintf("Task %d is canceled", id), faultString(t, anon, koji.ErrGeneric, "getTaskResult", []any{id}, nil))
		assert.Equal(t, "only the task owner or an admin may resubmit a task", bob.fault(t, 8, koji.ErrGeneric, "resubmitTask", id))
		assert.Equal(t, "Finished task's priority can't be updated", faultString(t, admin, koji.ErrGeneric, "setTaskPriority", []any{id, 5}, nil))

		// Bad listTasks options.
		assert.Equal(t, "<class 'Exception'>: Invalid order: bogus",
			faultString(t, anon, 1, "listTasks", nil, map[string]any{"queryOpts": map[string]any{"order": "id,bogus"}}))
		assert.Equal(t, "Invalid type for value 'x': <class 'str'>, expected type <class 'int'>",
			faultString(t, anon, koji.ErrParameter, "listTasks", []any{map[string]any{"owner": "x"}}, nil))
		assert.Equal(t, "<class 'TypeError'>: %i format: a real number is required, not str",
			faultString(t, anon, 1, "listTasks", []any{nil, map[string]any{"limit": "5"}}, nil))
		require.NoError(t, admin.CallKw(ctx, "listTasks", &n, nil, map[string]any{"queryOpts": map[string]any{"countOnly": true}}))
		assert.Equal(t, 1, n)
	})
}

// TestKojiTaskTree checks subtasks, the tree reads, recursive cancel and
// priority, resubmission and listTasks' filters and query options.
func TestKojiTaskTree(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		bob := withBob(t, kh)
		admin := kh.sslClient(t, "")
		var host int64
		require.NoError(t, admin.Call(ctx, "addHost", &host, "builder1", []any{"x86_64"}))

		root, err := admin.MakeTask(ctx, "build", []any{"src", "target", map[string]any{"scratch": true}},
			&koji.MakeTaskOptions{Channel: "createrepo", Arch: "x86_64", Priority: 10})
		require.NoError(t, err)
		taskOpen(t, kh, host, int64(root))
		parent := int64(root)
		label := "srpm"
		var kids [3]int64
		taskTx(t, kh, 1, func(ctx context.Context) (err error) {
			if kids[0], err = kh.koji.MakeTaskForTest(ctx, "buildSRPMFromSCM", []any{"src"}, hubserver.TaskOpts{Parent: &parent, Label: &label}); err != nil {
				return err
			}
			arch := "ppc64le"
			kids[1], err = kh.koji.MakeTaskForTest(ctx, "buildArch", []any{"a"}, hubserver.TaskOpts{Parent: &parent, Arch: &arch})
			return err
		})
		taskOpen(t, kh, host, kids[1])
		p1 := kids[1]
		taskTx(t, kh, 1, func(ctx context.Context) (err error) {
			kids[2], err = kh.koji.MakeTaskForTest(ctx, "createrepo", []any{}, hubserver.TaskOpts{Parent: &p1})
			return err
		})
		err = kh.koji.TaskTx(ctx, 1, func(ctx context.Context) error {
			_, err := kh.koji.MakeTaskForTest(ctx, "x", nil, hubserver.TaskOpts{Parent: &parent, Label: &label})
			return err
		})
		assert.ErrorIs(t, err, store.ErrConflict, "a label is unique among a parent's subtasks")

		children, err := admin.GetTaskChildren(ctx, root, &koji.TaskInfoOptions{Request: true})
		require.NoError(t, err)
		require.Len(t, children, 2)
		c0 := children[0]
		assert.Equal(t, []any{9, "x86_64", 2, 1, "srpm"}, []any{c0.Priority, c0.Arch, c0.ChannelID, c0.Owner, *c0.SubtaskLabel},
			"a subtask takes priority-1, arch, channel and owner from its parent")
		assert.Equal(t, "ppc64le", children[1].Arch)
		params, err := c0.Params()
		require.NoError(t, err)
		assert.Equal(t, []any{"src"}, params)
		tree, err := admin.GetTaskDescendents(ctx, root, false)
		require.NoError(t, err)
		assert.Len(t, tree, 4)
		assert.Len(t, tree[root], 2)
		assert.Len(t, tree[int(kids[1])], 1)
		assert.Empty(t, tree[int(kids[2])])
		var raw map[string]any
		require.NoError(t, admin.Call(ctx, "getTaskDescendents", &raw, 99))
		assert.Equal(t, map[string]any{"99": []any{}}, raw)
		var req []any
		require.NoError(t, admin.Call(ctx, "getTaskRequest", &req, root))
		assert.Equal(t, []any{"src", "target", map[string]any{"scratch": true}}, req)

		// Keyword arguments stored in a request come back as the
		// __starstar struct Python's loads returns.
		kwTask, err := admin.MakeTask(ctx, "sleep", []any{5, map[string]any{"__starstar": true, "n": 1}}, nil)
		require.NoError(t, err)
		require.NoError(t, admin.Call(ctx, "getTaskRequest", &req, kwTask))
		assert.Equal(t, []any{int64(5), map[string]any{"__starstar": true, "n": int64(1)}}, req)

		// Priority: recursive by default.
		require.NoError(t, admin.Call(ctx, "setTaskPriority", nil, root, 3))
		for _, id := range append([]int64{parent}, kids[:]...) {
			tk, err := admin.GetTaskInfo(ctx, int(id), nil)
			require.NoError(t, err)
			assert.Equal(t, 3, tk.Priority, "task %d", id)
		}

		// listTasks filters.
		ids := func(opts map[string]any, q map[string]any) []int64 {
			t.Helper()
			var got []map[string]any
			require.NoError(t, admin.CallKw(ctx, "listTasks", &got, nil, map[string]any{"opts": opts, "queryOpts": q}))
			out := []int64{}
			for _, m := range got {
				out = append(out, m["id"].(int64))
			}
			return out
		}
		k0, k1, k2 := kids[0], kids[1], kids[2]
		r, kw := int64(root), int64(kwTask)
		assert.Equal(t, []int64{r, kw}, ids(map[string]any{"parent": nil}, nil))
		assert.Equal(t, []int64{k0, k1, k2}, ids(map[string]any{"not_parent": nil}, nil))
		assert.Equal(t, []int64{k0, k1}, ids(map[string]any{"parent": r}, nil))
		assert.Equal(t, []int64{k0, k1, k2}, ids(map[string]any{"parent": []any{r, k1}}, nil))
		assert.Equal(t, []int64{k2}, ids(map[string]any{"not_parent": r}, nil), "a NULL parent is not != r, as in SQL")
		assert.Equal(t, []int64{r, k1}, ids(map[string]any{"state": []any{store.TaskOpen}}, nil))
		assert.Equal(t, []int64{k0, k2, kw}, ids(map[string]any{"not_state": []any{store.TaskOpen}}, nil))
		assert.Equal(t, []int64{k1, k2}, ids(map[string]any{"arch": []any{"ppc64le"}}, nil), "k2 inherits its parent's arch")
		assert.Equal(t, []int64{k0, k1, k2}, ids(map[string]any{"not_arch": []any{"noarch"}, "not_parent": nil}, nil))
		assert.Equal(t, []int64{r, k1}, ids(map[string]any{"host_id": host}, nil))
		assert.Equal(t, []int64{k0, k2, kw}, ids(map[string]any{"host_id": nil}, nil))
		assert.Equal(t, []int64{r, k0, k1, k2}, ids(map[string]any{"channel_id": 2}, nil))
		assert.Equal(t, []int64{kw}, ids(map[string]any{"not_channel_id": []any{2}}, nil))
		assert.Equal(t, []int64{r, k0, k1, k2, kw}, ids(map[string]any{"owner": 1}, nil))
		assert.Empty(t, ids(map[string]any{"not_owner": []any{1}}, nil))
		assert.Equal(t, []int64{k1}, ids(map[string]any{"method": "buildArch"}, nil))
		assert.Empty(t, ids(map[string]any{"method": nil}, nil))
		now := float64(time.Now().Add(time.Minute).Unix())
		past := time.Now().Add(-time.Hour).UTC()
		assert.Len(t, ids(map[string]any{"createdBefore": now}, nil), 5)
		assert.Empty(t, ids(map[string]any{"createdAfter": now}, nil))
		assert.Len(t, ids(map[string]any{"createdAfter": past.Format("2006-01-02 15:04:05")}, nil), 5)
		assert.Len(t, ids(map[string]any{"createdAfter": past.Format(time.RFC3339)}, nil), 5)
		assert.Equal(t, []int64{r, k1}, ids(map[string]any{"startedAfter": float64(past.Unix())}, nil))
		assert.Empty(t, ids(map[string]any{"completeBefore": now}, nil))

		// Query options.
		assert.Equal(t, []int64{kw, k2, k1, k0, r}, ids(nil, map[string]any{"order": "-id"}))
		assert.Equal(t, []int64{k1, k0}, ids(nil, map[string]any{"order": "-id", "offset": 2, "limit": 2}))
		assert.Equal(t, []int64{r, k0, k1, k2, kw}, ids(nil, map[string]any{"order": "priority,create_ts,task.id"}))
		assert.Equal(t, []int64{kw, k2, k0, r, k1}, ids(nil, map[string]any{"order": "-host_id,-parent,id"}),
			"NULLs come first when descending, as in PostgreSQL")
		var n int
		require.NoError(t, admin.CallKw(ctx, "listTasks", &n, nil, map[string]any{"opts": map[string]any{"parent": r}, "queryOpts": map[string]any{"countOnly": true}}))
		assert.Equal(t, 2, n)
		require.NoError(t, admin.CallKw(ctx, "listTasks", &n, nil, map[string]any{"queryOpts": map[string]any{"countOnly": true, "limit": 3}}))
		assert.Equal(t, 3, n)
		var rows [][]any
		require.NoError(t, admin.CallKw(ctx, "listTasks", &rows, nil, map[string]any{"opts": map[string]any{"method": "buildArch"}, "queryOpts": map[string]any{"asList": true}}))
		require.Len(t, rows, 1)
		require.Len(t, rows[0], 23)
		assert.Equal(t, "ppc64le", rows[0][0], "asList orders columns by alias: arch first")
		assert.Equal(t, k1, rows[0][8], "… id ninth")
		assert.Equal(t, "kojiadmin", rows[0][12])
		assert.IsType(t, "", rows[0][16], "asList does not decode the request")

		// Cancel a subtree, then the whole group from a leaf.
		require.NoError(t, admin.Call(ctx, "cancelTaskChildren", nil, k1))
		tk, err := admin.GetTaskInfo(ctx, int(k2), nil)
		require.NoError(t, err)
		assert.Equal(t, koji.TaskCanceled, tk.State)
		tk, err = admin.GetTaskInfo(ctx, int(k1), nil)
		require.NoError(t, err)
		assert.Equal(t, koji.TaskOpen, tk.State)
		assert.Equal(t, fmt.Sprintf("Task %d is not top-level (parent=%d)", k1, r),
			faultString(t, admin, koji.ErrGeneric, "cancelTaskFull", []any{k1}, nil))
		taskClose(t, kh, k1, taskResponse(t, "ok"), store.TaskClosed)
		require.NoError(t, admin.CallKw(ctx, "cancelTaskFull", nil, []any{k2}, map[string]any{"strict": false}))
		want := map[int64]koji.TaskState{r: koji.TaskCanceled, k0: koji.TaskCanceled, k1: koji.TaskClosed, k2: koji.TaskCanceled, kw: koji.TaskFree}
		for id, st := range want {
			tk, err := admin.GetTaskInfo(ctx, int(id), nil)
			require.NoError(t, err)
			assert.Equal(t, st, tk.State, "task %d", id)
			if st == koji.TaskCanceled {
				_, done := tk.Completed()
				assert.True(t, done, "task %d has a completion time", id)
			}
		}

		// Decoded listing: requests as parameter lists, results as a
		// one-element list.
		var decoded []map[string]any
		require.NoError(t, admin.CallKw(ctx, "listTasks", &decoded, nil, map[string]any{"opts": map[string]any{"decode": true, "state": []any{store.TaskClosed}}}))
		require.Len(t, decoded, 1)
		assert.Equal(t, []any{"a"}, decoded[0]["request"])
		assert.Equal(t, []any{"ok"}, decoded[0]["result"])

		// Resubmit the canceled root: a new top-level task with the same
		// method, arguments, arch, channel and priority, owned by the
		// caller.
		var again int64
		require.NoError(t, admin.Call(ctx, "resubmitTask", &again, r))
		nt, err := admin.GetTaskInfo(ctx, int(again), &koji.TaskInfoOptions{Request: true})
		require.NoError(t, err)
		assert.Equal(t, []any{"build", "x86_64", 2, 3, koji.TaskFree, (*int)(nil)},
			[]any{nt.Method, nt.Arch, nt.ChannelID, nt.Priority, nt.State, nt.Parent})
		require.NoError(t, admin.Call(ctx, "getTaskRequest", &req, again))
		assert.Equal(t, []any{"src", "target", map[string]any{"scratch": true}}, req)
		assert.Equal(t, "only top-level tasks may be resubmitted", faultString(t, admin, koji.ErrGeneric, "resubmitTask", []any{k0}, nil))

		// The owner may cancel their own task and resubmit it.
		require.NoError(t, admin.Call(ctx, "grantPermission", nil, "bob", "admin"))
		bobTask := bob.ok(t, 10, "makeTask", "sleep", []any{3}).(int64)
		require.NoError(t, admin.Call(ctx, "revokePermission", nil, "bob", "admin"))
		bob.ok(t, 11, "cancelTask", bobTask)
		again2 := bob.ok(t, 12, "resubmitTask", bobTask).(int64)
		tk, err = admin.GetTaskInfo(ctx, int(again2), nil)
		require.NoError(t, err)
		assert.Equal(t, 2, tk.Owner)
	})
}

// TestKojiTasksPythonClient drives makeTask and listTasks from Python's
// xmlrpc.client, the way the koji CLI calls them.
func TestKojiTasksPythonClient(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		require.NoError(t, kh.koji.SetPassword(ctx, "kojiadmin", "pw"))
		ca := filepath.Join(t.TempDir(), "ca.pem")
		require.NoError(t, os.WriteFile(ca, kh.pki.CAPEM, 0o600))
		var login []map[string]any
		runPython(t, []any{[]any{"login", []any{"kojiadmin", "pw"}, map[string]any{"opts": nil}}}, &login, "call", kh.hub.URL(), ca)
		require.Contains(t, login[0], "result", "%v", login)
		s := login[0]["result"].(map[string]any)
		url := fmt.Sprintf("%s?session-id=%v&session-key=%v", kh.hub.URL(), s["session-id"], s["session-key"])
		var out []map[string]any
		runPython(t, []any{
			[]any{"makeTask", []any{}, map[string]any{"method": "sleep", "arglist": []any{1}, "channel": "default", "priority": 15, "arch": "noarch"}},
			[]any{"makeTask", []any{}, map[string]any{"method": "sleep", "arglist": []any{2}}},
			[]any{"listTasks", []any{map[string]any{"decode": true, "state": []any{0, 1, 4}}, map[string]any{"order": "priority,create_time"}}, nil},
			[]any{"makeTask", []any{}, map[string]any{"method": "sleep"}},
		}, &out, "call", url, ca)
		require.Len(t, out, 4)
		assert.Equal(t, map[string]any{"result": 1.0}, out[0])
		assert.Equal(t, map[string]any{"result": 2.0}, out[1])
		list := out[2]["result"].([]any)
		require.Len(t, list, 2)
		first := list[0].(map[string]any)
		assert.Equal(t, []any{1.0, 15.0, []any{1.0}, nil, "kojiadmin", 0.0},
			[]any{first["id"], first["priority"], first["request"], first["result"], first["owner_name"], first["owner_type"]})
		assert.Equal(t, 2.0, list[1].(map[string]any)["id"])
		assert.Equal(t, []any{1.0, "<class 'TypeError'>: make_task() missing 1 required positional argument: 'arglist'"}, out[3]["fault"])
	})
}
