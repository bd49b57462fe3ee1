package hubserver_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// cbCall is one callback run a cbRecorder saw.
type cbCall struct {
	name string
	kw   map[string]any
}

// cbRecorder records the callbacks it is registered for, in order.
type cbRecorder struct {
	mu    sync.Mutex
	calls []cbCall
}

func (r *cbRecorder) record(ctx context.Context, name string, kw map[string]any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, cbCall{name, maps.Clone(kw)})
	return nil
}

// take returns the calls so far and forgets them.
func (r *cbRecorder) take() []cbCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.calls
	r.calls = nil
	return out
}

// names returns the callback names of calls, with the attribute of state
// changes: "postTaskStateChange:state".
func names(calls []cbCall) []string {
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i] = c.name
		if a, ok := c.kw["attribute"].(string); ok {
			out[i] += ":" + a
		}
	}
	return out
}

func (r *cbRecorder) register(t *testing.T, k *hubserver.Koji, cbNames ...string) {
	for _, n := range cbNames {
		require.NoError(t, k.RegisterCallback(n, r.record, hubserver.CallbackOptions{}))
	}
}

func TestRegisterCallback(t *testing.T) {
	kh := startKoji(t, ":memory:", nil)
	err := kh.koji.RegisterCallback("postNothing", func(context.Context, string, map[string]any) error { return nil },
		hubserver.CallbackOptions{})
	assert.Equal(t, &koji.Fault{Code: 1016, String: `"postNothing" is not a valid callback type`}, err)
	assert.ErrorIs(t, err, koji.ErrPlugin)
	err = kh.koji.RegisterCallback("postTag", nil, hubserver.CallbackOptions{})
	assert.ErrorIs(t, err, koji.ErrPlugin)
	// The builder's callback points are valid names, as upstream.
	assert.NoError(t, kh.koji.RegisterCallback("postSCMCheckout",
		func(context.Context, string, map[string]any) error { return nil }, hubserver.CallbackOptions{}))
}

var taskCallbacks = []string{"preTaskStateChange", "postTaskStateChange", "preCommit", "postCommit"}

func TestTaskCallbacks(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		anon := kh.client(t)
		rec := &cbRecorder{}
		rec.register(t, kh.koji, taskCallbacks...)
		// postCommit runs once the task is visible to other calls.
		var visible []koji.TaskState
		require.NoError(t, kh.koji.RegisterCallback("postCommit", func(ctx context.Context, _ string, _ map[string]any) error {
			rec.mu.Lock()
			defer rec.mu.Unlock()
			for _, c := range rec.calls {
				if c.name == "postTaskStateChange" {
					id := c.kw["info"].(map[string]any)["id"]
					ti, err := anon.GetTaskInfo(ctx, int(id.(int64)), nil)
					if err != nil {
						return err
					}
					visible = append(visible, ti.State)
				}
			}
			return nil
		}, hubserver.CallbackOptions{}))
		seen := func() []koji.TaskState {
			rec.mu.Lock()
			defer rec.mu.Unlock()
			out := visible
			visible = nil
			return out
		}

		id, err := admin.MakeTask(ctx, "sleep", []any{5}, nil)
		require.NoError(t, err)
		calls := rec.take()
		require.Equal(t, []string{"preTaskStateChange:state", "postTaskStateChange:state", "preCommit", "postCommit"}, names(calls))
		assert.Equal(t, []koji.TaskState{koji.TaskFree}, seen())
		request, err := xmlrpc.MarshalCall("sleep", 5)
		require.NoError(t, err)
		pre, post := calls[0].kw, calls[1].kw
		wantInfo := map[string]any{
			"method": "sleep", "request": string(request), "state": 0, "owner": int64(1), "arch": "noarch",
			"priority": 20, "channel_id": int64(1), "label": nil, "parent": nil,
		}
		for _, kw := range []map[string]any{pre, post} {
			assert.Equal(t, "state", kw["attribute"])
			assert.Nil(t, kw["old"])
			assert.Equal(t, "FREE", kw["new"])
			info := kw["info"].(map[string]any)
			for k, v := range wantInfo {
				assert.EqualValues(t, v, info[k], k)
			}
		}
		assert.EqualValues(t, id, post["info"].(map[string]any)["id"])
		assert.Empty(t, calls[2].kw)
		assert.Empty(t, calls[3].kw)

		require.NoError(t, admin.CancelTask(ctx, id, true))
		calls = rec.take()
		require.Equal(t, []string{
			"preTaskStateChange:state", "preTaskStateChange:completion_ts",
			"postTaskStateChange:state", "postTaskStateChange:completion_ts", "preCommit", "postCommit",
		}, names(calls))
		assert.Equal(t, []any{"FREE", "CANCELED"}, []any{calls[0].kw["old"], calls[0].kw["new"]})
		assert.Equal(t, []any{"FREE", "CANCELED"}, []any{calls[2].kw["old"], calls[2].kw["new"]})
		assert.EqualValues(t, 0, calls[0].kw["info"].(map[string]any)["state"], "pre: the task before the change")
		assert.EqualValues(t, 3, calls[2].kw["info"].(map[string]any)["state"], "post: the task after it")
		assert.NotNil(t, calls[3].kw["new"], "completion_ts")
		assert.Equal(t, []koji.TaskState{koji.TaskCanceled, koji.TaskCanceled}, seen())

		// Reads run no callback point, hence no pre/postCommit.
		_, err = admin.GetTaskInfo(ctx, id, nil)
		require.NoError(t, err)
		assert.Empty(t, rec.take())
	})
}

func TestCallbackErrorAborts(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		rec := &cbRecorder{}
		rec.register(t, kh.koji, taskCallbacks...)
		// Fails for tasks of method "veto", after the row was written.
		veto := func(ctx context.Context, name string, kw map[string]any) error {
			if kw["info"].(map[string]any)["method"] == "veto" {
				return errors.New("vetoed")
			}
			return nil
		}
		require.NoError(t, kh.koji.RegisterCallback("postTaskStateChange", veto, hubserver.CallbackOptions{}))

		_, err := admin.MakeTask(ctx, "veto", nil, nil)
		assert.Equal(t, &koji.Fault{Code: 1017, String: "Error running postTaskStateChange callback from " +
			"github.com/gokoji/gokoji/hubserver_test:\nvetoed\n"}, err)
		assert.ErrorIs(t, err, koji.ErrCallback)
		assert.Equal(t, []string{"preTaskStateChange:state", "postTaskStateChange:state"}, names(rec.take()),
			"no pre/postCommit for a call rolled back")
		tasks, err := admin.ListTasks(ctx, nil, nil)
		require.NoError(t, err)
		assert.Empty(t, tasks, "the aborted call left no task behind")

		// In a multicall only the failing entry is rolled back, and only
		// the entries that committed run postCommit.
		var res []xmlrpc.MulticallResult
		require.NoError(t, admin.Call(ctx, "multiCall", &res, []any{
			xmlrpc.MulticallCall{Method: "makeTask", Params: []any{"sleep", []any{1}}},
			xmlrpc.MulticallCall{Method: "makeTask", Params: []any{"veto", []any{}}},
			xmlrpc.MulticallCall{Method: "makeTask", Params: []any{"sleep", []any{2}}},
		}))
		require.Len(t, res, 3)
		require.NotNil(t, res[1].Fault)
		assert.Equal(t, 1017, res[1].Fault.Code)
		assert.Equal(t, []string{
			"preTaskStateChange:state", "postTaskStateChange:state", "preCommit",
			"preTaskStateChange:state", "postTaskStateChange:state",
			"preTaskStateChange:state", "postTaskStateChange:state", "preCommit",
			"postCommit", "postCommit",
		}, names(rec.take()))
		tasks, err = admin.ListTasks(ctx, nil, nil)
		require.NoError(t, err)
		require.Len(t, tasks, 2)
		for _, task := range tasks {
			assert.Equal(t, "sleep", task.Method)
		}

		// A failing preCommit aborts the call too.
		require.NoError(t, kh.koji.RegisterCallback("preCommit", func(ctx context.Context, _ string, _ map[string]any) error {
			return errors.New("not now")
		}, hubserver.CallbackOptions{}))
		_, err = admin.MakeTask(ctx, "sleep", nil, nil)
		assert.Equal(t, &koji.Fault{Code: 1017, String: "Error running preCommit callback from " +
			"github.com/gokoji/gokoji/hubserver_test:\nnot now\n"}, err)
		assert.NotContains(t, names(rec.take()), "postCommit")
		tasks, err = admin.ListTasks(ctx, nil, nil)
		require.NoError(t, err)
		assert.Len(t, tasks, 2)
	})
}

func TestCallbackIgnoreError(t *testing.T) {
	kh := startKoji(t, ":memory:", nil)
	ctx := context.Background()
	admin := kh.sslClient(t, "")
	rec := &cbRecorder{}
	require.NoError(t, kh.koji.RegisterCallback("postTaskStateChange", func(context.Context, string, map[string]any) error {
		return errors.New("broker down")
	}, hubserver.CallbackOptions{IgnoreError: true}))
	require.NoError(t, kh.koji.RegisterCallback("postTaskStateChange", func(context.Context, string, map[string]any) error {
		panic("bad plugin")
	}, hubserver.CallbackOptions{IgnoreError: true}))
	rec.register(t, kh.koji, "postTaskStateChange", "postCommit")
	id, err := admin.MakeTask(ctx, "sleep", nil, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"postTaskStateChange:state", "postCommit"}, names(rec.take()),
		"the callbacks after the failing ones ran")
	_, err = admin.GetTaskInfo(ctx, id, nil)
	assert.NoError(t, err)

	// Without IgnoreError a panic is a CallbackError.
	require.NoError(t, kh.koji.RegisterCallback("preTaskStateChange", func(context.Context, string, map[string]any) error {
		panic("bad plugin")
	}, hubserver.CallbackOptions{}))
	_, err = admin.MakeTask(ctx, "sleep", nil, nil)
	assert.ErrorIs(t, err, koji.ErrCallback)
	assert.Contains(t, err.Error(), "panic: bad plugin")
}

func ExampleKoji_RegisterCallback() {
	k, err := hubserver.OpenKoji(context.Background(), hubserver.KojiConfig{DSN: ":memory:"})
	if err != nil {
		panic(err)
	}
	defer k.Close()
	// Announce every task that finishes; a failure to announce must not
	// fail the builder's call.
	err = k.RegisterCallback("postTaskStateChange", func(ctx context.Context, name string, kw map[string]any) error {
		if kw["attribute"] == "state" && (kw["new"] == "CLOSED" || kw["new"] == "FAILED") {
			info := kw["info"].(map[string]any)
			fmt.Printf("task %v %s\n", info["id"], kw["new"])
		}
		return nil
	}, hubserver.CallbackOptions{IgnoreError: true})
	fmt.Println(err)
	fmt.Println(k.RegisterCallback("postTaskFinished", nil, hubserver.CallbackOptions{}))
	// Output:
	// <nil>
	// koji: PluginError: "postTaskFinished" is not a valid callback type
}
