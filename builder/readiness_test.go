package builder_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/builder"
	"github.com/gokoji/gokoji/koji"
)

// hostReady waits up to 10 s for the host's readiness to be want.
func hostReady(t *testing.T, th *testHub, name string, want bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		host, err := th.admin.GetHost(context.Background(), name, nil)
		require.NoError(t, err)
		if host.Ready == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("host %s ready %v, want %v", name, host.Ready, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kojid's readyForTask: a daemon at maxjobs, short of minspace or over
// the load average's bound checks in as not ready and takes nothing;
// once the cause is gone it is ready again and takes the task.
func TestReadinessChecks(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		th := startHub(t, dsn, false)

		t.Run("maxjobs", func(t *testing.T) {
			g := newGate("block")
			d := th.daemon(t, "jobs", func(c *builder.Config) { c.MaxJobs = 1 }, g, builder.Sleep{})
			start(t, d)
			first := th.makeTask(t, "block")
			within(t, g.started, 30*time.Second, "first task")
			hostReady(t, th, "jobs", false)
			// The check-in's data: the methods the daemon serves, its maxjobs.
			var data []map[string]any
			require.NoError(t, th.admin.Call(context.Background(), "scheduler.getHostData", &data, d.HostID()))
			assert.Equal(t, []map[string]any{{"host_id": int64(d.HostID()), "data": map[string]any{
				"methods": []any{"block", "sleep"}, "maxjobs": int64(1)}}}, data)
			host, err := th.admin.GetHost(context.Background(), "jobs", nil)
			require.NoError(t, err)
			assert.Equal(t, 1.0, host.TaskLoad, "the check-in's task load: the running task's weight")
			second := th.makeTask(t, "sleep", 0)
			time.Sleep(time.Second)
			th.waitState(t, second, koji.TaskFree, koji.TaskAssigned)
			close(g.release)
			th.waitState(t, first, koji.TaskClosed)
			th.waitState(t, second, koji.TaskClosed)
			hostReady(t, th, "jobs", true)
		})

		t.Run("minspace", func(t *testing.T) {
			d := th.daemon(t, "space", func(c *builder.Config) { c.MinSpace = 1 << 40 }, builder.Sleep{})
			start(t, d)
			hostReady(t, th, "space", false)
			id := th.makeTask(t, "sleep", 0)
			time.Sleep(time.Second)
			th.waitState(t, id, koji.TaskFree, koji.TaskAssigned)
			require.NoError(t, d.Stop(context.Background()))
			ok := th.daemon(t, "space", func(c *builder.Config) { c.ForceLock = true }, builder.Sleep{})
			start(t, ok)
			th.waitState(t, id, koji.TaskClosed)
		})

		t.Run("maxload", func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "loadavg")
			require.NoError(t, os.WriteFile(file, []byte("9.50 3.00 1.00 2/300 12345\n"), 0o644))
			t.Cleanup(builder.SetLoadAvgFile(file)) // after the daemon stops: cleanups run last first
			d := th.daemon(t, "loaded", func(c *builder.Config) { c.MaxLoad = 8 }, builder.Sleep{})
			start(t, d)
			hostReady(t, th, "loaded", false)
			id := th.makeTask(t, "sleep", 0)
			time.Sleep(time.Second)
			th.waitState(t, id, koji.TaskFree, koji.TaskAssigned)
			require.NoError(t, os.WriteFile(file, []byte("7.90 3.00 1.00 2/300 12345\n"), 0o644))
			hostReady(t, th, "loaded", true)
			th.waitState(t, id, koji.TaskClosed)
		})
	})
}

// A handler's Refuse and RefuseHard refuse the task on this host as
// kojid's handlers do, recorded with their message and softness; another
// host then runs it.
func TestHandlerRefuses(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		th := startHub(t, dsn, false)
		picky := builder.HandlerFunc([]string{"picky"}, 1, func(_ context.Context, task *builder.Task) (any, error) {
			if task.Params[0] == "soft" {
				return nil, builder.Refuse("not now")
			}
			return nil, builder.RefuseHard("never here")
		})
		d := th.daemon(t, "picky", nil, picky)
		start(t, d)
		ids := map[string]int{"soft": th.makeTask(t, "picky", "soft"), "hard": th.makeTask(t, "picky", "hard")}
		for how, id := range ids {
			var refusals []map[string]any
			deadline := time.Now().Add(30 * time.Second)
			for len(refusals) == 0 && time.Now().Before(deadline) {
				require.NoError(t, th.admin.Call(context.Background(), "scheduler.getTaskRefusals", &refusals, [][]any{{"task_id", id}}))
				time.Sleep(20 * time.Millisecond)
			}
			require.NotEmpty(t, refusals, how)
			assert.Equal(t, how == "soft", refusals[0]["soft"], how)
			assert.Equal(t, map[string]string{"soft": "not now", "hard": "never here"}[how], refusals[0]["msg"])
			assert.EqualValues(t, d.HostID(), refusals[0]["host_id"])
		}
		willing := th.daemon(t, "willing", nil, builder.HandlerFunc([]string{"picky"}, 1,
			func(context.Context, *builder.Task) (any, error) { return "done elsewhere", nil }))
		start(t, willing)
		for how, id := range ids {
			info := th.waitState(t, id, koji.TaskClosed, koji.TaskFailed)
			require.Equal(t, koji.TaskClosed, info.State, how)
			assert.Equal(t, willing.HostID(), *info.HostID, how)
		}
	})
}

// A running task that an admin assigns to another host (assignTask with
// force) is stopped on the first: its handler's context ends within
// seconds with the reason, and the daemon reports nothing for it.
func TestReassignedTaskStops(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		th := startHub(t, dsn, false)
		g := newGate("block")
		d := th.daemon(t, "first", nil, g)
		start(t, d)
		th.addHost(t, "second")
		id := th.makeTask(t, "block")
		within(t, g.started, 30*time.Second, "handler start")
		var ok bool
		require.NoError(t, th.admin.CallKw(context.Background(), "assignTask", &ok, []any{id, "second"}, map[string]any{"force": true}))
		require.True(t, ok)
		moved := time.Now()
		cause := within(t, g.ended, 5*time.Second, "handler's context ending")
		assert.Less(t, time.Since(moved), 5*time.Second)
		require.Error(t, cause)
		assert.True(t, strings.Contains(cause.Error(), "another host"), cause.Error())
		time.Sleep(time.Second)
		info, err := th.admin.GetTaskInfo(context.Background(), id, nil)
		require.NoError(t, err)
		assert.Equal(t, koji.TaskAssigned, info.State, "the first host neither closed nor failed it")
		host, err := th.admin.GetHost(context.Background(), "second", nil)
		require.NoError(t, err)
		assert.Equal(t, host.ID, *info.HostID)
	})
}
