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

// A task's end reaches the hub as soon as its handler returns, though the
// daemon's own session waits in host.waitTasks for up to SleepTime: the
// daemon reports on the task's subsession, as kojid's task processes do.
func TestTaskEndIsPromptDuringLongPoll(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		th := startHub(t, dsn, false)
		g := newGate("block")
		d := th.daemon(t, "builder1", func(c *builder.Config) { c.SleepTime = 20 * time.Second }, g)
		start(t, d)
		id := th.makeTask(t, "block")
		within(t, g.started, 30*time.Second, "handler start")
		// Let the daemon check in again and park in host.waitTasks.
		time.Sleep(300 * time.Millisecond)
		close(g.release)
		within(t, g.ended, time.Second, "handler's end")
		released := time.Now()
		info := th.waitState(t, id, koji.TaskClosed, koji.TaskFailed)
		elapsed := time.Since(released)
		require.Equal(t, koji.TaskClosed, info.State)
		assert.Less(t, elapsed, time.Second, "the task closed %v after its handler returned", elapsed)
		var result string
		require.NoError(t, th.admin.GetTaskResult(context.Background(), id, true, &result))
		assert.Equal(t, "released", result)
	})
}

// A task that runs longer than the bound on reporting its end still
// reports it: the bound starts when the task is done. (It started with the
// task, so that a task over a minute failed to close, was freed as stale
// and ran again, forever.)
func TestTaskLongerThanReportBoundCloses(t *testing.T) {
	restore := builder.SetReportTimeout(300 * time.Millisecond)
	defer restore()
	eachBackend(t, func(t *testing.T, dsn string) {
		th := startHub(t, dsn, false)
		start(t, th.daemon(t, "builder1", nil, builder.Sleep{}))
		id := th.makeTask(t, "sleep", 1)
		info := th.waitState(t, id, koji.TaskClosed, koji.TaskFailed)
		assert.Equal(t, koji.TaskClosed, info.State)
		time.Sleep(500 * time.Millisecond)
		again, err := th.admin.GetTaskInfo(context.Background(), id, nil)
		require.NoError(t, err)
		assert.Equal(t, koji.TaskClosed, again.State, "closed for good")
	})
}
