package hubserver_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/auth"
	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/hubserver/hubtest"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// recordedParams decodes the parameters of the request recorded for name,
// its keyword arguments last as a struct (without __starstar).
func recordedParams(t *testing.T, name string) []any {
	data, err := os.ReadFile(filepath.Join("..", "internal", "kojitest", "testdata", "wire", name+".request.xml"))
	require.NoError(t, err)
	call, err := xmlrpc.DecodeCall(data)
	require.NoError(t, err)
	var out []any
	for _, p := range call.Params {
		var v any
		require.NoError(t, p.Decode(&v))
		out = append(out, v)
	}
	if call.Kwargs != nil {
		kw := map[string]any{}
		for k, raw := range call.Kwargs {
			var v any
			require.NoError(t, raw.Decode(&v))
			kw[k] = v
		}
		out = append(out, kw)
	}
	return out
}

// builderHub starts a hub on kh's database whose client certificate is
// name's.
func builderHub(t testing.TB, kh *kojiHub, name string) (*hubserver.Hub, *hubtest.PKI) {
	return hubtest.StartTLS(t, kh.koji.HubConfig(), name, func(h *hubserver.Hub) {
		require.NoError(t, h.Register(kh.koji.Methods()...))
	})
}

// builder adds a host (x86_64 unless arches are given) and logs it in
// with an exclusive session, as kojid starts. Its client carries up to
// four calls at once, the others on subsessions, as kojid's task
// processes do.
func builder(t testing.TB, kh *kojiHub, admin *koji.Client, name string, arches ...string) *koji.Client {
	ctx := context.Background()
	if len(arches) == 0 {
		arches = []string{"x86_64"}
	}
	require.NoError(t, admin.Call(ctx, "addHost", nil, name, arches))
	h, pki := builderHub(t, kh, name)
	c, err := koji.NewClient(h.URL(), koji.WithSessions(4), koji.WithHTTPClient(&http.Client{
		Transport: &http.Transport{TLSClientConfig: pki.ClientTLS(false)},
	}))
	require.NoError(t, err)
	require.NoError(t, c.Login(ctx, &auth.SSL{Certificate: &pki.Client}))
	require.NoError(t, c.Call(ctx, "exclusiveSession", nil))
	// Open the subsessions now: the client opens one on a free session, so
	// it could not while a long-poll call holds the only one.
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, c.Call(ctx, "host.getID", nil))
		}()
	}
	wg.Wait()
	return c
}

// call makes a call that must succeed and returns its decoded result.
func call(t *testing.T, c *koji.Client, method string, args []any, kw map[string]any) any {
	t.Helper()
	var v any
	require.NoError(t, c.CallKw(context.Background(), method, &v, args, kw), method)
	return v
}

func TestBuilderConversation(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		t1, err := admin.MakeTask(ctx, "sleep", []any{1}, &koji.MakeTaskOptions{Channel: "default", Arch: "noarch", Priority: 15})
		require.NoError(t, err)
		t2, err := admin.MakeTask(ctx, "sleep", []any{2}, nil)
		require.NoError(t, err)
		require.Equal(t, []int{1, 2}, []int{t1, t2})
		b := builder(t, kh, admin, "builder1")
		host := b.HostAPI()

		// kojid's check-in, exactly as recorded: all keyword arguments.
		upd := recordedParams(t, "host.updateHost")[0].(map[string]any)
		assert.Equal(t, recorded(t, "host.updateHost"), call(t, b, "host.updateHost", nil, upd))
		assert.Equal(t, recorded(t, "scheduler.doRun"), call(t, admin, "scheduler.doRun", nil, map[string]any{"force": true}))
		var data []map[string]any
		require.NoError(t, admin.Call(ctx, "scheduler.getHostData", &data))
		assert.Equal(t, []map[string]any{{"host_id": int64(1), "data": map[string]any{
			"methods": []any{"sleep", "fork", "wait"}, "maxjobs": int64(10)}}}, data)

		got := call(t, b, "host.getTasks", nil, nil).([]any)
		want := recorded(t, "host.getTasks").([]any)
		require.Len(t, got, len(want))
		for i := range want {
			sameMembers(t, want[i], got[i], "create_ts")
		}
		typed, err := host.Tasks(ctx)
		require.NoError(t, err)
		require.Len(t, typed, 2)
		assert.Equal(t, koji.TaskAssigned, typed[0].State)

		// Open task 1: the request document is the one upstream stored.
		opened := call(t, b, "host.openTask", []any{1}, nil)
		sameMembers(t, recorded(t, "host.openTask"), opened, "create_time", "create_ts", "start_time", "start_ts")
		assert.Equal(t, recorded(t, "host.setTaskWeight"), call(t, b, "host.setTaskWeight", []any{1, 0.5}, nil))
		again, err := host.OpenTask(ctx, 1)
		require.NoError(t, err)
		assert.Nil(t, again, "a task opens once")

		// Subtasks: a label makes subtask idempotent; kwargs fold into the
		// request; subtask2 takes the arguments as its own.
		s1 := call(t, b, "host.subtask", []any{"sleep", []any{3}, 1}, map[string]any{"label": "child", "kwargs": map[string]any{"x": 1}})
		assert.Equal(t, int64(3), s1)
		assert.Equal(t, s1, call(t, b, "host.subtask", []any{"sleep", []any{99}, 1}, map[string]any{"label": "child"}))
		s2 := call(t, b, "host.subtask2", []any{1, map[string]any{"label": "child2", "arch": "x86_64"}, "sleep", 4}, map[string]any{"y": "z"})
		assert.Equal(t, int64(4), s2)
		assert.Equal(t, []any{int64(3), map[string]any{"x": int64(1), "__starstar": true}}, call(t, admin, "getTaskRequest", []any{3}, nil))
		assert.Equal(t, []any{int64(4), map[string]any{"y": "z", "__starstar": true}}, call(t, admin, "getTaskRequest", []any{4}, nil))
		info, err := admin.GetTaskInfo(ctx, 4, nil)
		require.NoError(t, err)
		assert.Equal(t, []any{1, "child2", "x86_64", 14}, []any{*info.Parent, *info.SubtaskLabel, info.Arch, info.Priority})

		// Wait for both subtasks; the builder runs them itself.
		assert.Nil(t, call(t, b, "host.taskSetWait", []any{1, nil}, nil))
		assert.Equal(t, []any{[]any{}, []any{int64(3), int64(4)}}, call(t, b, "host.taskWait", []any{1}, nil))
		open, err := host.OpenTasks(ctx)
		require.NoError(t, err)
		assert.Equal(t, []koji.HostTask{{ID: 1, Waiting: true, Weight: 0.5}}, open)
		require.True(t, call(t, admin, "scheduler.doRun", nil, map[string]any{"force": true}).(bool))
		for _, id := range []int{3, 4} {
			o, err := host.OpenTask(ctx, id)
			require.NoError(t, err)
			require.NotNil(t, o, "subtask %d", id)
		}
		require.NoError(t, host.CloseTask(ctx, 3, map[string]any{"slept": 3}))
		open, err = host.OpenTasks(ctx)
		require.NoError(t, err)
		require.Len(t, open, 2)
		assert.Equal(t, koji.HostTask{ID: 1, Waiting: true, Weight: 0.5, Alert: true}, open[0])
		assert.Equal(t, []any{[]any{int64(3)}, []any{int64(4)}}, call(t, b, "host.taskWait", []any{1}, nil))
		require.NoError(t, host.FailTask(ctx, 4, &koji.Fault{Code: 1000, String: "child failed"}))
		assert.Equal(t, []any{[]any{int64(4)}, []any{}}, call(t, b, "host.taskWait", []any{1}, nil))
		// A failed subtask not in canfail raises its fault (and rolls the
		// call back); in canfail it is answered as a fault struct.
		assert.Equal(t, "child failed", faultString(t, b, koji.ErrGeneric, "host.taskWaitResults", []any{1, []any{3, 4}}, nil))
		res := call(t, b, "host.taskWaitResults", []any{1, nil}, map[string]any{"canfail": []any{4}})
		assert.Equal(t, []any{
			[]any{int64(3), map[string]any{"slept": int64(3)}},
			[]any{int64(4), map[string]any{"faultCode": int64(1000), "faultString": "child failed"}},
		}, res)
		p, err := admin.GetTaskInfo(ctx, 1, nil)
		require.NoError(t, err)
		assert.False(t, *p.Waiting)

		// Finish task 1 with kojid's recorded result document and task 2
		// with the recorded fault; the results replay as upstream's did.
		require.Nil(t, call(t, b, "host.closeTask", recordedParams(t, "host.closeTask"), nil))
		assert.Equal(t, recorded(t, "getTaskResult"), call(t, admin, "getTaskResult", []any{1}, nil))
		sameMembers(t, recorded(t, "host.openTask_2"), call(t, b, "host.openTask", []any{2}, nil),
			"create_time", "create_ts", "start_time", "start_ts")
		assert.Equal(t, recorded(t, "host.failTask"), call(t, b, "host.failTask", recordedParams(t, "host.failTask"), nil))
		want2 := recordedFault(t, "getTaskResult_failed")
		assert.Equal(t, want2.String, faultString(t, admin, koji.FaultClass(want2.Code), "getTaskResult", []any{2}, nil))
		assert.Equal(t, recorded(t, "host.getHostTasks"), call(t, b, "host.getHostTasks", nil, nil))

		// freeTasks frees what the host holds open and skips the rest.
		t5, err := admin.MakeTask(ctx, "sleep", []any{5}, nil)
		require.NoError(t, err)
		require.NoError(t, admin.Call(ctx, "assignTask", nil, t5, "builder1"))
		_, err = host.OpenTask(ctx, t5)
		require.NoError(t, err)
		assert.Nil(t, call(t, b, "host.freeTasks", []any{[]any{t5, 1}}, nil))
		info, err = admin.GetTaskInfo(ctx, t5, nil)
		require.NoError(t, err)
		assert.Equal(t, koji.TaskFree, info.State)
		assert.Nil(t, info.HostID)
		assert.Equal(t, "No such task: 999", faultString(t, b, koji.ErrGeneric, "host.freeTasks", []any{[]any{999}}, nil))

		// A refusal frees the task and keeps it from the host.
		require.NoError(t, admin.Call(ctx, "assignTask", nil, t5, "builder1"))
		assert.Nil(t, call(t, b, "host.refuseTask", []any{t5}, map[string]any{"soft": false, "msg": "no handler for method"}))
		require.True(t, call(t, admin, "scheduler.doRun", nil, map[string]any{"force": true}).(bool))
		info, err = admin.GetTaskInfo(ctx, t5, nil)
		require.NoError(t, err)
		assert.Equal(t, koji.TaskFree, info.State)
		refusals := call(t, admin, "scheduler.getTaskRefusals", []any{[]any{[]any{"task_id", t5}}}, nil).([]any)
		require.Len(t, refusals, 1)
		sameMembers(t, map[string]any{"id": nil, "task_id": int64(t5), "host_id": int64(1), "by_host": true, "soft": false,
			"msg": "no handler for method", "ts": nil}, refusals[0], "id", "ts")
		// A task the host does not hold is not its to refuse.
		assert.Nil(t, call(t, b, "host.refuseTask", []any{t5}, nil))
		assert.Len(t, call(t, admin, "scheduler.getTaskRefusals", nil, nil), 1)

		assert.Equal(t, true, call(t, b, "host.isEnabled", nil, nil))
		ld := call(t, b, "host.getLoadData", nil, nil).([]any)
		require.Len(t, ld, 2)
		hosts := ld[0].([]any)
		require.Len(t, hosts, 1)
		assert.Equal(t, []any{"builder1", []any{int64(1)}}, []any{hosts[0].(map[string]any)["name"], hosts[0].(map[string]any)["channels"]})
		assert.Equal(t, []any{}, ld[1])
	})
}

func TestHostTaskFaults(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		b := builder(t, kh, admin, "builder1")
		other := builder(t, kh, admin, "builder2")
		id, err := admin.MakeTask(ctx, "sleep", []any{1}, nil)
		require.NoError(t, err)

		// Callers that are not hosts with an exclusive session.
		for _, m := range []string{"host.getTasks", "host.updateHost", "host.openTask", "host.closeTask", "host.subtask",
			"host.taskWait", "host.waitTasks", "host.taskWaitAny", "host.getHostTasks", "host.freeTasks"} {
			args := map[string][]any{"host.updateHost": {1.0, true}, "host.openTask": {id}, "host.closeTask": {id, "x"},
				"host.subtask": {"sleep", []any{}, id}, "host.taskWait": {id}, "host.taskWaitAny": {id}, "host.freeTasks": {[]any{}}}[m]
			assert.Equal(t, "Not logged-in", faultString(t, kh.client(t), koji.ErrAuth, m, args, nil), m)
			assert.Equal(t, "User 1 is not a host", faultString(t, admin, koji.ErrAuth, m, args, nil), m)
		}
		require.NoError(t, admin.Call(ctx, "addHost", nil, "builder3", []any{"x86_64"}))
		shared := hostClient(t, kh, "builder3")
		assert.Equal(t, "This method requires an exclusive session",
			faultString(t, shared, koji.ErrAuth, "host.updateHost", []any{0.0, true}, nil))
		// Another session of a host holding an exclusive one is locked out.
		assert.Equal(t, "User locked by another session",
			faultString(t, hostClient(t, kh, "builder1"), koji.ErrAuthLock, "host.updateHost", []any{0.0, true}, nil))

		require.NoError(t, admin.Call(ctx, "assignTask", nil, id, "builder1"))
		assert.Equal(t, "host 1 does not own task 1", faultString(t, b, koji.ErrActionNotAllowed, "host.closeTask", []any{id, "x"}, nil))
		o, err := other.HostAPI().OpenTask(ctx, id)
		require.NoError(t, err)
		assert.Nil(t, o, "a task assigned to another host")
		_, err = b.HostAPI().OpenTask(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, "host 2 does not own task 1", faultString(t, other, koji.ErrActionNotAllowed, "host.failTask", []any{id, "x"}, nil))
		assert.Equal(t, "host 2 does not own task 1", faultString(t, other, koji.ErrActionNotAllowed, "host.setTaskWeight", []any{id, 2}, nil))
		assert.Equal(t, "host 2 does not own task 1", faultString(t, other, koji.ErrActionNotAllowed, "host.subtask", []any{"sleep", []any{}, id}, nil))
		assert.Equal(t, "No such task: 77", faultString(t, b, koji.ErrGeneric, "host.closeTask", []any{77, "x"}, nil))
		assert.Equal(t, "query returned no rows", faultString(t, b, koji.ErrGeneric, "host.openTask", []any{77}, nil))
		assert.Equal(t, "query returned no rows", faultString(t, b, koji.ErrGeneric, "host.refuseTask", []any{77}, nil))
		assert.Equal(t, "The owner option is not allowed here",
			faultString(t, b, koji.ErrActionNotAllowed, "host.subtask", []any{"sleep", []any{}, id}, map[string]any{"owner": 1}))
		assert.Equal(t, "Invalid type for value 'x': <class 'str'>, expected type <class 'int'>",
			faultString(t, b, koji.ErrParameter, "host.openTask", []any{"x"}, nil))
		assert.Equal(t, "Invalid type for value '5': <class 'int'>, expected type <class 'list'>",
			faultString(t, b, koji.ErrParameter, "host.taskSetWait", []any{id, 5}, nil))
		assert.Equal(t, "Invalid type for value 'heavy': <class 'str'>, expected type <class 'float'>",
			faultString(t, b, koji.ErrParameter, "host.setTaskWeight", []any{id, "heavy"}, nil))
		assert.Equal(t, "Host data should be a dictionary",
			faultString(t, b, koji.ErrParameter, "host.setHostData", []any{[]any{1}}, nil))
		assert.Equal(t, "HostExports.updateHost() missing 1 required positional argument: 'ready'",
			faultString(t, b, koji.ErrParameter, "host.updateHost", []any{1.0}, nil))
		assert.Contains(t, faultString(t, b, 1, "host.updateHost", []any{"lots", true}, nil), "could not convert string to float: 'lots'")

		// A faulting check-in leaves nothing behind: the update is rolled
		// back with the bad data.
		before, err := admin.GetHost(ctx, "builder1", nil)
		require.NoError(t, err)
		assert.Equal(t, "Host data should be a dictionary",
			faultString(t, b, koji.ErrParameter, "host.updateHost", []any{0.5, true}, map[string]any{"data": "x"}))
		after, err := admin.GetHost(ctx, "builder1", nil)
		require.NoError(t, err)
		assert.Equal(t, before, after)
		require.NoError(t, b.Call(ctx, "host.setHostData", nil, `{"maxjobs": 3}`))
		var hd []map[string]any
		require.NoError(t, admin.Call(ctx, "scheduler.getHostData", &hd, 1))
		assert.Equal(t, []map[string]any{{"host_id": int64(1), "data": map[string]any{"maxjobs": int64(3)}}}, hd)
	})
}
