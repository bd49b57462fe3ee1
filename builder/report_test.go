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
