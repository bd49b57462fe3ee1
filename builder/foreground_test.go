package builder_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/gokoji/gokoji/builder"
	"github.com/gokoji/gokoji/koji"
)

// foregroundGate is a gate whose tasks run in the daemon's main loop.
type foregroundGate struct{ *gate }

func (foregroundGate) Foreground() bool { return true }

// A Foreground handler's task runs before the daemon takes another: a
// task made while it runs waits, and runs once it ended.
func TestForegroundTaskHoldsTheLoop(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		th := startHub(t, dsn, false)
		g := foregroundGate{newGate("fg")}
		start(t, th.daemon(t, "builder1", nil, g, builder.Sleep{}))
		fg := th.makeTask(t, "fg")
		within(t, g.started, 30*time.Second, "the foreground task's start")
		later := th.makeTask(t, "sleep", 0)
		time.Sleep(1500 * time.Millisecond) // several check-ins
		th.waitState(t, later, koji.TaskFree, koji.TaskAssigned)
		close(g.release)
		assert.Equal(t, koji.TaskClosed, th.waitState(t, fg, koji.TaskClosed, koji.TaskFailed).State)
		assert.Equal(t, koji.TaskClosed, th.waitState(t, later, koji.TaskClosed, koji.TaskFailed).State)
	})
}
