package builder_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/builder"
	"github.com/gokoji/gokoji/koji"
)

// eachHub runs fn on each backend, against a gokoji hub (long polls) and
// one with upstream's methods only (polling).
func eachHub(t *testing.T, fn func(t *testing.T, th *testHub)) {
	for name, upstream := range map[string]bool{"gokoji": false, "upstream": true} {
		t.Run(name, func(t *testing.T) {
			eachBackend(t, func(t *testing.T, dsn string) { fn(t, startHub(t, dsn, upstream)) })
		})
	}
}

// A sleep task goes through hub and daemon: taken, opened, weighed, run
// and closed with a None result; Stop then checks in as not ready and
// logs out.
func TestSleepTaskEndToEnd(t *testing.T) {
	eachHub(t, func(t *testing.T, th *testHub) {
		ctx := context.Background()
		d := th.daemon(t, "builder1", nil, builder.Sleep{})
		require.NoError(t, d.Start(ctx))
		id := th.makeTask(t, "sleep", 1)
		start := time.Now()
		info := th.waitState(t, id, koji.TaskClosed, koji.TaskFailed)
		require.Equal(t, koji.TaskClosed, info.State)
		assert.GreaterOrEqual(t, time.Since(start), time.Second)
		assert.Equal(t, 1.0, info.Weight)
		require.NotNil(t, info.HostID)
		assert.Equal(t, d.HostID(), *info.HostID)
		var result any = "unset"
		require.NoError(t, th.admin.GetTaskResult(ctx, id, true, &result))
		assert.Nil(t, result)

		host, err := th.admin.GetHost(ctx, "builder1", nil)
		require.NoError(t, err)
		assert.True(t, host.Ready)
		require.NoError(t, d.Stop(ctx))
		host, err = th.admin.GetHost(ctx, "builder1", nil)
		require.NoError(t, err)
		assert.False(t, host.Ready, "Stop checks in as not ready")
		assert.NoError(t, d.Stop(ctx), "a second Stop returns the first's result")
	})
}

// A task of a method the daemon has no handler for is refused for good,
// as kojid refuses it, and the daemon goes on taking others.
func TestTaskWithoutHandlerIsRefused(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		th := startHub(t, dsn, false)
		d := th.daemon(t, "builder1", nil, builder.Sleep{})
		start(t, d)
		odd := th.makeTask(t, "frobnicate", 1)
		deadline := time.Now().Add(30 * time.Second)
		var refusals []map[string]any
		for len(refusals) == 0 && time.Now().Before(deadline) {
			require.NoError(t, th.admin.Call(context.Background(), "scheduler.getTaskRefusals", &refusals, [][]any{{"task_id", odd}}))
			time.Sleep(20 * time.Millisecond)
		}
		require.Len(t, refusals, 1)
		assert.Equal(t, false, refusals[0]["soft"])
		assert.Equal(t, "no handler for method", refusals[0]["msg"])
		assert.EqualValues(t, d.HostID(), refusals[0]["host_id"])

		ok := th.makeTask(t, "sleep", 0)
		assert.Equal(t, koji.TaskClosed, th.waitState(t, ok, koji.TaskClosed, koji.TaskFailed).State)
		assert.Equal(t, koji.TaskFree, th.waitState(t, odd, koji.TaskFree).State, "nobody else runs it")
	})
}

// Canceling a running task ends its handler's context within seconds;
// the daemon reports nothing for it and goes on.
func TestCancelRunningTask(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		th := startHub(t, dsn, false)
		g := newGate("block")
		d := th.daemon(t, "builder1", nil, g, builder.Sleep{})
		start(t, d)
		id := th.makeTask(t, "block")
		task := within(t, g.started, 30*time.Second, "handler start")
		assert.Equal(t, id, task.ID)
		require.NoError(t, th.admin.CancelTask(context.Background(), id, true))
		canceled := time.Now()
		cause := within(t, g.ended, 5*time.Second, "handler's context ending")
		assert.Less(t, time.Since(canceled), 5*time.Second)
		assert.ErrorContains(t, cause, "canceled")
		assert.Equal(t, koji.TaskCanceled, th.waitState(t, id, koji.TaskCanceled).State)

		next := th.makeTask(t, "sleep", 0)
		assert.Equal(t, koji.TaskClosed, th.waitState(t, next, koji.TaskClosed, koji.TaskFailed).State)
	})
}

// openAsCrashedDaemon opens a task as the host name's daemon would and
// then vanishes without freeing it or logging out, as a killed kojid.
func openAsCrashedDaemon(t *testing.T, th *testHub, name string, id int) {
	ctx := context.Background()
	th.addHost(t, name)
	c, a := th.client(t, name)
	require.NoError(t, c.Login(ctx, a))
	require.NoError(t, c.Exclusive(ctx, false))
	host := c.HostAPI()
	require.NoError(t, host.UpdateHost(ctx, 0, true, nil))
	_, err := th.admin.RunScheduler(ctx, true)
	require.NoError(t, err)
	tasks, err := host.Tasks(ctx)
	require.NoError(t, err)
	require.Len(t, tasks, 1)
	require.Equal(t, id, tasks[0].ID)
	opened, err := host.OpenTask(ctx, id)
	require.NoError(t, err)
	require.NotNil(t, opened)
}

// A daemon started after one that died holding a task takes the
// exclusive session over (ForceLock), frees the stale task and, the hub
// assigning it again, runs it to the end.
func TestRestartedDaemonFreesStaleTask(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		th := startHub(t, dsn, false)
		id := th.makeTask(t, "sleep", 0)
		openAsCrashedDaemon(t, th, "builder1", id)
		assert.Equal(t, koji.TaskOpen, th.waitState(t, id, koji.TaskOpen).State)

		locked := th.daemon(t, "builder1", nil, builder.Sleep{})
		err := locked.Start(context.Background())
		require.ErrorIs(t, err, koji.ErrAuthLock, "the dead daemon's exclusive session holds the host")

		d := th.daemon(t, "builder1", func(c *builder.Config) { c.ForceLock = true }, builder.Sleep{})
		start(t, d)
		assert.Equal(t, koji.TaskClosed, th.waitState(t, id, koji.TaskClosed, koji.TaskFailed).State)
	})
}

// Stop stops the running handlers and frees their tasks, which another
// builder then completes.
func TestStopFreesRunningTasks(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		th := startHub(t, dsn, false)
		g := newGate("block")
		d := th.daemon(t, "builder1", nil, g)
		require.NoError(t, d.Start(context.Background()))
		id := th.makeTask(t, "block")
		within(t, g.started, 30*time.Second, "handler start")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, d.Stop(ctx))
		assert.ErrorContains(t, within(t, g.ended, time.Second, "handler's context ending"), "stopping")
		info := th.waitState(t, id, koji.TaskFree, koji.TaskAssigned)
		assert.NotEqual(t, koji.TaskOpen, info.State)

		g2 := newGate("block")
		close(g2.release)
		d2 := th.daemon(t, "builder2", nil, g2)
		start(t, d2)
		info = th.waitState(t, id, koji.TaskClosed, koji.TaskFailed)
		require.Equal(t, koji.TaskClosed, info.State)
		assert.Equal(t, d2.HostID(), *info.HostID)
	})
}
