package builder_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/builder"
	"github.com/gokoji/gokoji/koji"
)

// restarter is a handler that asks for a restart, as kojid's handlers
// raise ServerRestart.
type restarter struct{ runs chan int }

func (r restarter) Methods() []string            { return []string{"restartMe"} }
func (r restarter) Weight(*builder.Task) float64 { return 1 }
func (r restarter) Handle(_ context.Context, t *builder.Task) (any, error) {
	r.runs <- t.ID
	return nil, builder.ErrRestart
}

// A handler's ErrRestart frees its task for another run; the daemon takes
// no more tasks (nor opens those the hub assigns it), lets the running one
// finish, and Run returns ErrRestart.
// A daemon started again (the program restarting) takes both waiting
// tasks.
func TestRestartRequested(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		th := startHub(t, dsn, false)
		g := newGate("block")
		r := restarter{runs: make(chan int, 10)}
		d := th.daemon(t, "builder1", nil, g, r, builder.Sleep{})
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- d.Run(ctx) }()

		blocked := th.makeTask(t, "block")
		within(t, g.started, 30*time.Second, "block handler start")
		restart := th.makeTask(t, "restartMe")
		assert.Equal(t, restart, within(t, r.runs, 30*time.Second, "restart handler run"))
		// Freed; the hub's scheduler may assign it to the host again, which
		// does not open it.
		th.waitState(t, restart, koji.TaskFree, koji.TaskAssigned)

		later := th.makeTask(t, "sleep", 0)
		time.Sleep(2 * time.Second)                              // several check-ins
		th.waitState(t, later, koji.TaskFree, koji.TaskAssigned) // not taken once a restart is due
		th.waitState(t, restart, koji.TaskFree, koji.TaskAssigned)
		select {
		case err := <-done:
			t.Fatalf("Run returned %v while a task was running", err)
		default:
		}

		close(g.release)
		assert.Equal(t, koji.TaskClosed, th.waitState(t, blocked, koji.TaskClosed, koji.TaskFailed).State)
		err := within(t, done, 30*time.Second, "Run returning")
		assert.True(t, errors.Is(err, builder.ErrRestart), "Run returned %v", err)
		host, err := th.admin.GetHost(context.Background(), "builder1", nil)
		require.NoError(t, err)
		assert.False(t, host.Ready, "the stopped daemon checked in as not ready")

		again := th.daemon(t, "builder1", nil, builder.Sleep{}, builder.HandlerFunc([]string{"restartMe"}, 1, func(context.Context, *builder.Task) (any, error) {
			return "ran after the restart", nil
		}))
		start(t, again)
		assert.Equal(t, koji.TaskClosed, th.waitState(t, later, koji.TaskClosed, koji.TaskFailed).State)
		assert.Equal(t, koji.TaskClosed, th.waitState(t, restart, koji.TaskClosed, koji.TaskFailed).State)
		var result string
		require.NoError(t, th.admin.GetTaskResult(context.Background(), restart, true, &result))
		assert.Equal(t, "ran after the restart", result)
	})
}
