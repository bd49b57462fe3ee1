package koji

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gokoji/gokoji/internal/kojitest"
	"github.com/gokoji/gokoji/xmlrpc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTaskStateNames(t *testing.T) {
	names := map[TaskState]string{TaskFree: "FREE", TaskOpen: "OPEN", TaskClosed: "CLOSED",
		TaskCanceled: "CANCELED", TaskAssigned: "ASSIGNED", TaskFailed: "FAILED"}
	for state, name := range names {
		assert.Equal(t, name, state.String())
		parsed, err := ParseTaskState(name)
		require.NoError(t, err)
		assert.Equal(t, state, parsed)
		assert.Equal(t, state == TaskClosed || state == TaskCanceled || state == TaskFailed, state.Done(), name)
	}
	parsed, err := ParseTaskState("assigned")
	require.NoError(t, err)
	assert.Equal(t, TaskAssigned, parsed)
	assert.Equal(t, "TaskState(9)", TaskState(9).String())
	_, err = ParseTaskState("RUNNING")
	var enumErr *EnumError
	require.ErrorAs(t, err, &enumErr)
	assert.Equal(t, "TaskState", enumErr.Enum)
}

// The four recorded getTaskInfo(1, request=True) replies follow task 1, a
// "sleep" task, through its life on the recording hub.
func TestGetTaskInfoThroughTheStates(t *testing.T) {
	created := time.Date(2026, 11, 22, 1, 40, 47, 91508000, time.UTC)
	started := time.Date(2026, 11, 22, 1, 40, 48, 1322000, time.UTC)
	for _, tc := range []struct {
		fixture string
		state   TaskState
		host    *int
		weight  float64
		started bool
		done    bool
	}{
		{"getTaskInfo_free", TaskFree, nil, 1.0, false, false},
		{"getTaskInfo_assigned", TaskAssigned, apiPtr(1), 1.0, false, false},
		{"getTaskInfo_open", TaskOpen, apiPtr(1), 0.5, true, false},
		{"getTaskInfo", TaskClosed, apiPtr(1), 0.5, true, true},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			c, hub := replayClient(t, 11, tc.fixture)
			task, err := c.GetTaskInfo(context.Background(), 1, &TaskInfoOptions{Request: true})
			require.NoError(t, err)
			assertSentAsRecorded(t, hub, 0, tc.fixture)

			assert.Equal(t, 1, task.ID)
			assert.Equal(t, "sleep", task.Method)
			assert.Equal(t, tc.state, task.State)
			assert.Equal(t, "noarch", task.Arch)
			assert.Equal(t, 1, task.ChannelID)
			assert.Equal(t, tc.host, task.HostID)
			assert.Equal(t, 1, task.Owner)
			assert.Nil(t, task.Parent)
			assert.Nil(t, task.SubtaskLabel)
			assert.Equal(t, 15, task.Priority)
			assert.Equal(t, tc.weight, task.Weight)
			assert.Nil(t, task.Waiting)
			assert.Nil(t, task.Awaited)
			assert.Equal(t, created, task.Created())
			assert.Equal(t, created, task.CreateTime.UTC())

			start, ok := task.Started()
			assert.Equal(t, tc.started, ok)
			end, done := task.Completed()
			assert.Equal(t, tc.done, done)
			d, ok := task.Duration(started.Add(time.Second))
			assert.Equal(t, tc.started, ok)
			if tc.started {
				assert.Equal(t, started, start)
			}
			if tc.done {
				assert.Equal(t, time.Date(2026, 11, 22, 1, 40, 48, 48042000, time.UTC), end)
				assert.Equal(t, 46720*time.Microsecond, d)
			} else if tc.started {
				assert.Equal(t, time.Second, d, "a running task's duration runs to now")
			}

			params, err := task.Params()
			require.NoError(t, err)
			assert.Equal(t, []any{int64(1)}, params)
			assert.Equal(t, "sleep (noarch)", task.Label())
			assert.Equal(t, "https://koji.example.org/koji/taskinfo?taskID=1", task.URL("https://koji.example.org/koji"))
		})
	}
}

func TestGetTaskInfoMissing(t *testing.T) {
	c, hub := replayClient(t, 11, "getTaskInfo_nonexistent", "getTaskInfo_nonexistent_strict")
	ctx := context.Background()
	task, err := c.GetTaskInfo(ctx, 99999999, nil)
	require.NoError(t, err)
	assert.Nil(t, task)
	assertSentAsRecorded(t, hub, 0, "getTaskInfo_nonexistent")

	_, err = c.GetTaskInfo(ctx, 99999999, &TaskInfoOptions{Strict: true})
	var f *Fault
	require.ErrorAs(t, err, &f)
	assert.ErrorIs(t, err, ErrGeneric)
	assert.Equal(t, "query returned no rows", f.String)
	assertSentAsRecorded(t, hub, 1, "getTaskInfo_nonexistent_strict")
}

func TestGetTasksInfo(t *testing.T) {
	c, hub := replayClient(t, 11, "getTaskInfo_list")
	tasks, err := c.GetTasksInfo(context.Background(), []int{1, 2}, nil)
	require.NoError(t, err)
	assertSentAsRecorded(t, hub, 0, "getTaskInfo_list")
	require.Len(t, tasks, 2)
	assert.Equal(t, 1, tasks[0].ID)
	assert.Equal(t, TaskClosed, tasks[0].State)
	assert.Equal(t, 2, tasks[1].ID)
	assert.Equal(t, TaskAssigned, tasks[1].State)
	assert.Equal(t, 20, tasks[1].Priority)

	// Without request=True the hub leaves the parameters out.
	assert.Nil(t, tasks[0].Request)
	_, err = tasks[0].Params()
	assert.ErrorIs(t, err, ErrNoTaskRequest)
	assert.Equal(t, "malformed task", tasks[0].Label())
}

type sleepResult struct {
	Slept int   `xmlrpc:"slept"`
	Big   int64 `xmlrpc:"big"`
}

func TestGetTaskResult(t *testing.T) {
	c, hub := replayClient(t, 11, "getTaskResult", "getTaskResult_failed", "getTaskResult_failed_noraise")
	ctx := context.Background()

	var res sleepResult
	require.NoError(t, c.GetTaskResult(ctx, 1, true, &res))
	assert.Equal(t, sleepResult{Slept: 1, Big: 1 << 40}, res)
	assertSentAsRecorded(t, hub, 0, "getTaskResult")

	// The hub re-raises the fault the task stored.
	err := c.GetTaskResult(ctx, 2, true, &res)
	var f *Fault
	require.ErrorAs(t, err, &f)
	assert.Equal(t, &Fault{Code: 1000, String: "simulated failure"}, f)
	var failed *TaskFailedError
	assert.NotErrorAs(t, err, &failed, "a raised fault cannot be told from a failed call")
	assertSentAsRecorded(t, hub, 1, "getTaskResult_failed")

	// Or hands it back as a value.
	err = c.GetTaskResult(ctx, 2, false, &res)
	require.ErrorAs(t, err, &failed)
	assert.Equal(t, 2, failed.TaskID)
	assert.Equal(t, &Fault{Code: 1000, String: "simulated failure"}, failed.Fault)
	assert.ErrorIs(t, err, ErrGeneric)
	require.ErrorAs(t, err, &f)
	assert.Equal(t, "koji: task 2 failed: koji: GenericError: simulated failure", err.Error())
	assertSentAsRecorded(t, hub, 2, "getTaskResult_failed_noraise")
}

func TestGetTaskResultValueThatIsNoFault(t *testing.T) {
	c, _ := newStubHub(t, func(stubCall) (any, error) {
		return map[string]any{"faultCode": 1, "note": "three members"}, nil
	})
	var res map[string]any
	require.NoError(t, c.GetTaskResult(context.Background(), 3, false, &res))
	assert.Equal(t, map[string]any{"faultCode": int64(1), "note": "three members"}, res)
}

func TestListTasksRecorded(t *testing.T) {
	c, hub := replayClient(t, 11, "listTasks")
	tasks, err := c.ListTasks(context.Background(), nil, nil)
	require.NoError(t, err)
	assertSentAsRecorded(t, hub, 0, "listTasks")
	require.Len(t, tasks, 2)

	assert.Equal(t, "kojiadmin", tasks[0].OwnerName)
	assert.Equal(t, UserTypeNormal, tasks[0].OwnerType)
	// Undecoded, the request and result are the stored XML documents.
	for i, task := range tasks {
		params, err := task.Params()
		require.NoError(t, err)
		assert.Equal(t, []any{int64(i + 1)}, params)
	}
	var res sleepResult
	require.NoError(t, tasks[0].DecodeResult(&res))
	assert.Equal(t, sleepResult{Slept: 1, Big: 1 << 40}, res, "the stored result keeps its i8")

	err = tasks[1].DecodeResult(&res)
	var failed *TaskFailedError
	require.ErrorAs(t, err, &failed)
	assert.Equal(t, 2, failed.TaskID)
	assert.Equal(t, "simulated failure", failed.Fault.String)
	assert.Equal(t, TaskFailed, tasks[1].State)
}

func TestListTasksWithOptionsRecorded(t *testing.T) {
	c, hub := replayClient(t, 11, "listTasks_opts")
	tasks, err := c.ListTasks(context.Background(),
		&ListTasksOptions{Method: "sleep", State: []TaskState{TaskClosed, TaskFailed}},
		&QueryOpts{Order: "-id", Limit: 5})
	require.NoError(t, err) // the replay hub matched the decoded arguments
	require.Len(t, tasks, 2)
	assert.Equal(t, []int{2, 1}, []int{tasks[0].ID, tasks[1].ID})

	// Python wrote queryOpts in its caller's order (order, limit), the
	// struct in its field order; opts, a map, comes out as recorded.
	call, err := xmlrpc.DecodeCall(hub.Received()[0].Body)
	require.NoError(t, err)
	recorded, err := xmlrpc.DecodeCall(kojitest.Fixture(t, "listTasks_opts").Request)
	require.NoError(t, err)
	assert.Equal(t, string(recorded.Kwargs["opts"]), string(call.Kwargs["opts"]))
}

func TestListTasksOptionsOnTheWire(t *testing.T) {
	c, hub := newStubHub(t, func(stubCall) (any, error) { return []any{}, nil })
	when := time.Date(2026, 1, 2, 3, 4, 5, 500000000, time.UTC)
	_, err := c.ListTasks(context.Background(), &ListTasksOptions{
		State: []TaskState{TaskFree, TaskOpen, TaskAssigned}, NotState: []TaskState{TaskFailed},
		Arch: []string{"x86_64"}, NotArch: []string{"noarch"}, Method: "buildArch",
		Owner: []int{7}, HostID: []int{1, 2}, ChannelID: []int{3},
		Parent: []int{40}, TopLevel: true,
		CreatedAfter: when, StartedBefore: when, CompletedAfter: when,
		Decode: true,
	}, &QueryOpts{Order: "priority,create_time"})
	require.NoError(t, err)
	call := hub.only(t)
	assert.Equal(t, "listTasks", call.Method)
	assert.Empty(t, call.Args)
	ts := float64(when.UnixMicro()) / 1e6
	assert.Equal(t, map[string]any{
		"opts": map[string]any{
			"state": []any{int64(0), int64(1), int64(4)}, "not_state": []any{int64(5)},
			"arch": []any{"x86_64"}, "not_arch": []any{"noarch"}, "method": "buildArch",
			"owner": int64(7), "host_id": []any{int64(1), int64(2)}, "channel_id": int64(3),
			"parent":       nil, // TopLevel wins over Parent
			"createdAfter": ts, "startedBefore": ts, "completeAfter": ts,
			"decode": true,
		},
		"queryOpts": map[string]any{"order": "priority,create_time"},
	}, call.Kwargs)
}

func TestListTasksIterPages(t *testing.T) {
	const total = 2500
	c, hub := newStubHub(t, func(call stubCall) (any, error) {
		q := call.Kwargs["queryOpts"].(map[string]any)
		offset, _ := q["offset"].(int64)
		limit := q["limit"].(int64)
		var page []any
		for id := offset + 1; id <= min(offset+limit, total); id++ {
			page = append(page, map[string]any{"id": id, "method": "sleep", "state": 2})
		}
		return page, nil
	})
	var ids []int
	for task, err := range c.ListTasksIter(context.Background(), &ListTasksOptions{Method: "sleep"}, nil) {
		require.NoError(t, err)
		ids = append(ids, task.ID)
	}
	require.Len(t, ids, total)
	assert.Equal(t, 1, ids[0])
	assert.Equal(t, total, ids[total-1])
	calls := hub.received()
	require.Len(t, calls, 3)
	for i, call := range calls {
		q := call.Kwargs["queryOpts"].(map[string]any)
		assert.Equal(t, "id", q["order"], "a stable order keeps pages apart")
		assert.Equal(t, int64(1000), q["limit"])
		assert.Equal(t, map[string]any{"method": "sleep"}, call.Kwargs["opts"])
		if i > 0 {
			assert.Equal(t, int64(1000*i), q["offset"])
		}
	}
}

func TestListTaskOutputRecorded(t *testing.T) {
	c, hub := replayClient(t, 11, "listTaskOutput")
	files, err := c.ListTaskOutput(context.Background(), 1, &ListTaskOutputOptions{Stat: true})
	require.NoError(t, err)
	assertSentAsRecorded(t, hub, 0, "listTaskOutput")
	stamp := time.Date(2026, 11, 22, 1, 40, 48, 28008000, time.UTC)
	assert.Equal(t, []TaskOutputFile{{Name: "sleep.log", Volume: "DEFAULT",
		Stat: &TaskOutputStat{Size: 81, Accessed: stamp, Modified: stamp, Changed: stamp}}}, files)
}

// rawStruct writes a struct with members in the given order, which the
// encoder cannot do for a map.
func rawStruct(members ...string) string {
	s := "<value><struct>"
	for i := 0; i < len(members); i += 2 {
		s += "<member><name>" + members[i] + "</name>" + members[i+1] + "</member>"
	}
	return s + "</struct></value>"
}

// newRawHub returns a client of a hub that answers each call with the
// <value> element reply writes for it.
func newRawHub(t *testing.T, reply func(call *xmlrpc.Call) string) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		require.NoError(t, err)
		call, err := xmlrpc.DecodeCall(body)
		require.NoError(t, err)
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n%s\n</param>\n</params>\n</methodResponse>\n", reply(call))
	}))
	t.Cleanup(srv.Close)
	c, err := NewClient(srv.URL + "/kojihub")
	require.NoError(t, err)
	return c
}

func TestListTaskOutputShapes(t *testing.T) {
	stat := func(size string) string {
		return rawStruct("st_size", size, "st_atime", "<value><double>1.5</double></value>",
			"st_mtime", "<value><double>2</double></value>", "st_ctime", "<value><int>3</int></value>")
	}
	replies := map[string]string{
		"": "<value><array><data><value><string>z.log</string></value><value><string>a.rpm</string></value></data></array></value>",
		"all_volumes": rawStruct("z.log", "<value><array><data><value><string>DEFAULT</string></value>"+
			"<value><string>vol2</string></value></data></array></value>",
			"a.rpm", "<value><array><data><value><string>DEFAULT</string></value></data></array></value>"),
		"stat all_volumes": rawStruct("z.log", rawStruct("vol2", stat("<value><string>5000000000</string></value>"),
			"DEFAULT", stat("<value><int>7</int></value>"))),
	}
	c := newRawHub(t, func(call *xmlrpc.Call) string {
		key := ""
		for _, k := range []string{"stat", "all_volumes"} {
			if _, ok := call.Kwargs[k]; ok {
				key += " " + k
			}
		}
		return replies[key[min(1, len(key)):]]
	})
	ctx := context.Background()

	files, err := c.ListTaskOutput(ctx, 5, nil)
	require.NoError(t, err)
	assert.Equal(t, []TaskOutputFile{{Name: "z.log", Volume: "DEFAULT"}, {Name: "a.rpm", Volume: "DEFAULT"}}, files)

	files, err = c.ListTaskOutput(ctx, 5, &ListTaskOutputOptions{AllVolumes: true})
	require.NoError(t, err)
	assert.Equal(t, []TaskOutputFile{{Name: "z.log", Volume: "DEFAULT"}, {Name: "z.log", Volume: "vol2"},
		{Name: "a.rpm", Volume: "DEFAULT"}}, files, "in the hub's order, not sorted")

	files, err = c.ListTaskOutput(ctx, 5, &ListTaskOutputOptions{AllVolumes: true, Stat: true})
	require.NoError(t, err)
	require.Len(t, files, 2)
	assert.Equal(t, "vol2", files[0].Volume)
	assert.Equal(t, int64(5000000000), files[0].Stat.Size, "st_size is a string so that it can pass 32 bits")
	assert.Equal(t, time.Date(1970, 1, 1, 0, 0, 1, 500000000, time.UTC), files[0].Stat.Accessed)
	assert.Equal(t, time.Unix(3, 0).UTC(), files[0].Stat.Changed)
	assert.Equal(t, "DEFAULT", files[1].Volume)
	assert.Equal(t, int64(7), files[1].Stat.Size)
}

func TestListTaskOutputBadStat(t *testing.T) {
	c := newRawHub(t, func(*xmlrpc.Call) string {
		return rawStruct("x.log", rawStruct("st_size", "<value><string>big</string></value>"))
	})
	_, err := c.ListTaskOutput(context.Background(), 5, &ListTaskOutputOptions{Stat: true})
	assert.EqualError(t, err, `koji: listTaskOutput: x.log: st_size "big" is not a number`)
}

func TestMakeTaskRecorded(t *testing.T) {
	c, hub := replayClient(t, 11, "makeTask")
	id, err := c.MakeTask(context.Background(), "sleep", []any{1},
		&MakeTaskOptions{Channel: "default", Arch: "noarch", Priority: 15})
	require.NoError(t, err)
	assert.Equal(t, 1, id)
	assertSentAsRecorded(t, hub, 0, "makeTask")
}

func TestMakeTaskChecksAssign(t *testing.T) {
	c, hub := newStubHub(t, func(stubCall) (any, error) { return 9, nil })
	_, err := c.MakeTask(context.Background(), "sleep", nil, &MakeTaskOptions{Assign: 1.5})
	var refErr *RefError
	require.ErrorAs(t, err, &refErr)
	assert.Empty(t, hub.received())

	id, err := c.MakeTask(context.Background(), "sleep", nil, &MakeTaskOptions{Assign: "builder1"})
	require.NoError(t, err)
	assert.Equal(t, 9, id)
	call := hub.only(t)
	assert.Equal(t, []any{"sleep", []any{}}, call.Args, "no arguments is an empty list, not nil")
	assert.Equal(t, map[string]any{"assign": "builder1"}, call.Kwargs)
}

func TestCancelTask(t *testing.T) {
	c, hub := newStubHub(t, func(stubCall) (any, error) { return nil, nil })
	ctx := context.Background()
	require.NoError(t, c.CancelTask(ctx, 5, true))
	require.NoError(t, c.CancelTask(ctx, 6, false))
	calls := hub.received()
	assert.Equal(t, stubCall{Method: "cancelTask", Args: []any{int64(5)}}, calls[0])
	assert.Equal(t, stubCall{Method: "cancelTask", Args: []any{int64(6)}, Kwargs: map[string]any{"recurse": false}}, calls[1])
}

func TestTaskChildrenAndDescendents(t *testing.T) {
	child := func(id, parent int) map[string]any {
		return map[string]any{"id": id, "parent": parent, "method": "buildArch", "state": 1, "request": []any{"x"}}
	}
	c, hub := newStubHub(t, func(call stubCall) (any, error) {
		if call.Method == "getTaskChildren" {
			return []any{child(6, 5)}, nil
		}
		return map[string]any{"5": []any{child(6, 5), child(7, 5)}, "6": []any{child(8, 6)}, "7": []any{}, "8": []any{}}, nil
	})
	ctx := context.Background()
	children, err := c.GetTaskChildren(ctx, 5, &TaskInfoOptions{Request: true})
	require.NoError(t, err)
	require.Len(t, children, 1)
	assert.Equal(t, 6, children[0].ID)
	assert.Equal(t, 5, *children[0].Parent)

	tree, err := c.GetTaskDescendents(ctx, 5, true)
	require.NoError(t, err)
	assert.Len(t, tree, 4)
	assert.Equal(t, []int{6, 7}, []int{tree[5][0].ID, tree[5][1].ID})
	assert.Equal(t, 8, tree[6][0].ID)
	assert.Empty(t, tree[8])

	_, err = c.GetTaskDescendents(ctx, 5, false)
	require.NoError(t, err)
	calls := hub.received()
	assert.Equal(t, stubCall{Method: "getTaskChildren", Args: []any{int64(5)}, Kwargs: map[string]any{"request": true}}, calls[0])
	assert.Equal(t, stubCall{Method: "getTaskDescendents", Args: []any{int64(5)}, Kwargs: map[string]any{"request": true}}, calls[1])
	assert.Equal(t, stubCall{Method: "getTaskDescendents", Args: []any{int64(5)}}, calls[2])
}

func TestGetTaskDescendentsBadKey(t *testing.T) {
	c, _ := newStubHub(t, func(stubCall) (any, error) { return map[string]any{"five": []any{}}, nil })
	_, err := c.GetTaskDescendents(context.Background(), 5, false)
	assert.EqualError(t, err, `koji: getTaskDescendents: task ID "five" is not a number`)
}

func TestTaskDecodeResultForms(t *testing.T) {
	var res sleepResult
	assert.ErrorIs(t, (&Task{}).DecodeResult(&res), ErrNoTaskResult)

	decoded := &Task{ID: 3}
	decoded.Result = xmlrpc.RawValue("<value><array><data>" + rawStruct("slept", "<value><int>2</int></value>") + "</data></array></value>")
	require.NoError(t, decoded.DecodeResult(&res))
	assert.Equal(t, 2, res.Slept)

	decoded.Result = xmlrpc.RawValue(rawStruct("faultCode", "<value><int>1005</int></value>", "faultString", "<value><string>no</string></value>"))
	err := decoded.DecodeResult(&res)
	assert.ErrorIs(t, err, ErrBuild)
	var failed *TaskFailedError
	require.ErrorAs(t, err, &failed)
	assert.Equal(t, 3, failed.TaskID)

	decoded.Result = xmlrpc.RawValue("<value><array><data></data></array></value>")
	var perr *TaskParamsError
	assert.ErrorAs(t, decoded.DecodeResult(&res), &perr)
}
