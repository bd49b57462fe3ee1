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

// Stop with the hub gone returns within about twice StopTimeout, its
// retries cut, and says the hub did not answer; a live hub's stop is
// TestStopFreesRunningTasks.
func TestStopWithoutHubIsPrompt(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		th := startHub(t, dsn, false)
		g := newGate("block")
		d, fe := th.daemonHub(t, "builder1", func(c *builder.Config) { c.StopTimeout = time.Second }, g)
		require.NoError(t, d.Start(context.Background()))
		th.makeTask(t, "block")
		within(t, g.started, 30*time.Second, "handler start")
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		require.NoError(t, fe.Shutdown(sctx))

		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		start := time.Now()
		err := d.Stop(ctx)
		took := time.Since(start)
		t.Logf("Stop took %v: %v", took, err)
		assert.Less(t, took, 4*time.Second)
		assert.ErrorIs(t, err, builder.ErrStopTimeout)
		assert.ErrorContains(t, within(t, g.ended, time.Second, "handler's context ending"), "stopping")
	})
}

// A handler that overstays the stop's context still has its task freed:
// the wait for handlers ends StopTimeout before the context does, and the
// hub calls get that time.
func TestStopFreesTasksOfOverrunningHandlers(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		th := startHub(t, dsn, false)
		h := &stubborn{started: make(chan struct{}, 1), release: make(chan struct{})}
		defer close(h.release)
		d := th.daemon(t, "builder1", func(c *builder.Config) { c.StopTimeout = 2 * time.Second }, h)
		require.NoError(t, d.Start(context.Background()))
		id := th.makeTask(t, "stubborn")
		within(t, h.started, 30*time.Second, "handler start")

		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		start := time.Now()
		err := d.Stop(ctx)
		took := time.Since(start)
		assert.ErrorContains(t, err, "handlers still running")
		assert.NotErrorIs(t, err, builder.ErrStopTimeout)
		assert.Less(t, took, 3*time.Second)
		info := th.waitState(t, id, koji.TaskFree, koji.TaskAssigned)
		assert.NotEqual(t, koji.TaskOpen, info.State)
		host, err := th.admin.GetHost(context.Background(), "builder1", nil)
		require.NoError(t, err)
		assert.False(t, host.Ready)
	})
}

// stubborn's tasks (method "stubborn") ignore their context: they run
// until released.
type stubborn struct {
	started chan struct{}
	release chan struct{}
}

func (*stubborn) Methods() []string            { return []string{"stubborn"} }
func (*stubborn) Weight(*builder.Task) float64 { return 1 }
func (h *stubborn) Handle(context.Context, *builder.Task) (any, error) {
	h.started <- struct{}{}
	<-h.release
	return nil, nil
}
