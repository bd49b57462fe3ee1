package builder_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/builder"
	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/multicall"
)

// A loadMeter runs "unit" tasks (fixed weight 1) and "part" tasks (whose
// weight is their argument) for hold each, and records the weight of the
// handlers running at once on its host.
type loadMeter struct {
	hold time.Duration

	mu        sync.Mutex
	load, max float64
	done      float64 // the weight of the tasks run
	tasks     int
}

func (*loadMeter) Methods() []string { return []string{"unit", "part"} }

func (*loadMeter) Weight(t *builder.Task) float64 {
	if w, ok := t.Params[0].(float64); ok && t.Method == "part" {
		return w
	}
	return 1
}

func (m *loadMeter) Handle(ctx context.Context, t *builder.Task) (any, error) {
	w := m.Weight(t)
	m.mu.Lock()
	m.load += w
	m.max = max(m.max, m.load)
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.load -= w
		m.done += w
		m.tasks++
		m.mu.Unlock()
	}()
	select {
	case <-time.After(m.hold):
		return nil, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Two builders of capacity 2 and 4 share a queue of tasks of weight 1
// and 0.5 (the latter computed by the handler from the task): the hub
// never gives a host more weight than its capacity, both hosts work, and
// the bigger one runs more at once than the smaller one can, and more in
// all. The hub is set to overcommit nothing (CapacityOvercommit, 5 by
// default, would let a task in while the host has any capacity left).
// The hub schedules a task at weight 1.0 until its builder opens it and
// sets its computed weight, so computed weights above 1 could overshoot;
// these are below.
func TestBuildersShareLoadByCapacity(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		th := startHubWith(t, dsn, false, hubserver.SchedulerConfig{CapacityOvercommit: 1e-6})
		capacity := map[string]float64{"small": 2, "big": 4}
		meters := map[string]*loadMeter{}
		for name, c := range capacity {
			meters[name] = &loadMeter{hold: 300 * time.Millisecond}
			d := th.daemon(t, name, nil, meters[name])
			require.NoError(t, th.admin.CallKw(ctx, "editHost", nil, []any{name}, map[string]any{"capacity": c}))
			start(t, d)
		}

		const n = 36
		batch := multicall.New(th.admin, &multicall.Options{Strict: true})
		ids := make([]*multicall.Result[int], n)
		for i := range ids {
			if i%2 == 0 {
				ids[i] = multicall.Add[int](batch, "makeTask", "unit", []any{1})
			} else {
				ids[i] = multicall.Add[int](batch, "makeTask", "part", []any{0.5})
			}
		}
		require.NoError(t, batch.Run(ctx))
		for i, r := range ids {
			id, err := r.Value()
			require.NoError(t, err)
			info := th.waitState(t, id, koji.TaskClosed, koji.TaskFailed)
			require.Equal(t, koji.TaskClosed, info.State, "task %d", id)
			assert.Equal(t, []float64{1, 0.5}[i%2], info.Weight, "task %d's weight, as its builder set it", id)
		}

		var tasks int
		for name, m := range meters {
			m.mu.Lock()
			t.Logf("%s (capacity %g): %d tasks, weight %g in all, at most %g at once", name, capacity[name], m.tasks, m.done, m.max)
			assert.LessOrEqual(t, m.max, capacity[name], "%s ran more than its capacity at once", name)
			assert.Positive(t, m.tasks, "%s took no task", name)
			tasks += m.tasks
			m.mu.Unlock()
		}
		assert.Equal(t, n, tasks)
		assert.Greater(t, meters["big"].max, capacity["small"], "the big host runs more at once than the small one can")
		assert.GreaterOrEqual(t, meters["small"].max, 1.5, "the small host filled up")
		assert.Greater(t, meters["big"].done, meters["small"].done, "the big host did more of the work")
	})
}
