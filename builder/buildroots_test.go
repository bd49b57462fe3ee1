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

// rootMaker is a handler that records a BUILDING buildroot, as buildArch
// does, and then blocks until released or its context ends, never
// expiring the buildroot itself (a canceled buildArch cannot: the hub
// refuses the calls of a task no longer open).
type rootMaker struct {
	made    chan int64
	release chan struct{}
}

func (rootMaker) Methods() []string            { return []string{"makeRoot"} }
func (rootMaker) Weight(*builder.Task) float64 { return 1 }
func (r rootMaker) Handle(ctx context.Context, t *builder.Task) (any, error) {
	var repo []int64
	if err := t.Client.CallKw(ctx, "host.repoInit", &repo, []any{"roots"}, map[string]any{"task_id": t.ID}); err != nil {
		return nil, err
	}
	var br int64
	if err := t.Client.CallKw(ctx, "host.newBuildRoot", &br, []any{repo[0], "x86_64"}, map[string]any{"task_id": t.ID}); err != nil {
		return nil, err
	}
	if err := t.Client.CallKw(ctx, "host.setBuildRootState", nil, []any{br, "BUILDING"}, map[string]any{"task_id": t.ID}); err != nil {
		return nil, err
	}
	r.made <- br
	select {
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	case <-r.release:
		return "released", nil
	}
}

// buildrootState is the buildroot's state, as getBuildroot says.
func buildrootState(t *testing.T, c *koji.Client, id int64) int {
	var br struct {
		State int `xmlrpc:"state"`
	}
	require.NoError(t, c.Call(context.Background(), "getBuildroot", &br, id, true))
	return br.State
}

// waitBuildrootState waits up to d for the buildroot to reach state.
func waitBuildrootState(t *testing.T, c *koji.Client, id int64, state int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		got := buildrootState(t, c, id)
		if got == state {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("buildroot %d is in state %d, not %d after %v", id, got, state, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The daemon expires the buildroots of its host whose task no longer
// runs, as kojid's updateBuildroots: that of a canceled task within
// seconds, and that of a task that closed without expiring it; the
// buildroot of a task still running stays BUILDING. The host's active
// buildroots (koji hostinfo's) are then none.
func TestBuildrootsOfEndedTasksExpire(t *testing.T) {
	const building, expired = 2, 3
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		th := startHub(t, dsn, false)
		_, err := th.admin.CreateTag(ctx, "roots", &koji.CreateTagOptions{Arches: "x86_64"})
		require.NoError(t, err)
		r := rootMaker{made: make(chan int64, 2), release: make(chan struct{})}
		d := th.daemon(t, "builder1", nil, r)
		start(t, d)

		canceled := th.makeTask(t, "makeRoot")
		canceledRoot := within(t, r.made, 30*time.Second, "the first buildroot")
		running := th.makeTask(t, "makeRoot")
		runningRoot := within(t, r.made, 30*time.Second, "the second buildroot")
		assert.Equal(t, building, buildrootState(t, th.admin, canceledRoot))

		require.NoError(t, th.admin.CancelTask(ctx, canceled, true))
		waitBuildrootState(t, th.admin, canceledRoot, expired, 5*time.Second)
		time.Sleep(time.Second) // several checks
		assert.Equal(t, building, buildrootState(t, th.admin, runningRoot), "a running task's buildroot")
		var active []struct {
			ID int64 `xmlrpc:"id"`
		}
		require.NoError(t, th.admin.CallKw(ctx, "listBuildroots", &active, nil,
			map[string]any{"hostID": d.HostID(), "state": []int{0, 1, 2}}))
		require.Len(t, active, 1)
		assert.Equal(t, runningRoot, active[0].ID)

		close(r.release)
		assert.Equal(t, koji.TaskClosed, th.waitState(t, running, koji.TaskClosed, koji.TaskFailed).State)
		waitBuildrootState(t, th.admin, runningRoot, expired, 5*time.Second)
	})
}
