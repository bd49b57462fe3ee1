package hubserver_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/koji"
)

// waitResult is what a long-poll call answered, and when.
type waitResult struct {
	v   any
	err error
	at  time.Time
}

// goCall makes a call in the background.
func goCall(c *koji.Client, method string, args ...any) <-chan waitResult {
	ch := make(chan waitResult, 1)
	go func() {
		var v any
		err := c.Call(context.Background(), method, &v, args...)
		ch <- waitResult{v, err, time.Now()}
	}()
	return ch
}

// parked checks that a background call has not answered yet.
func parked(t *testing.T, ch <-chan waitResult, d time.Duration) {
	t.Helper()
	select {
	case r := <-ch:
		t.Fatalf("the call answered while it should wait: %v %v", r.v, r.err)
	case <-time.After(d):
	}
}

func answer(t *testing.T, ch <-chan waitResult, within time.Duration) waitResult {
	t.Helper()
	select {
	case r := <-ch:
		require.NoError(t, r.err)
		return r
	case <-time.After(within):
		t.Fatalf("no answer within %v", within)
	}
	return waitResult{}
}

// longPoll is a scheduler configuration whose re-check interval is too
// long to matter: only the wake-ups after a commit answer in time.
var longPoll = hubserver.SchedulerConfig{WaitRecheck: time.Minute, MaxWait: time.Minute}

func TestWaitTasks(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, schedulerConfig(longPoll))
		admin := kh.sslClient(t, "")
		b := builder(t, kh, admin, "b1")
		checkIn(t, b, 0, true, nil)

		// Nothing to do: the call waits, and answers nothing at its timeout.
		start := time.Now()
		r := answer(t, goCall(b, "host.waitTasks", 0.5), 10*time.Second)
		assert.Equal(t, []any{}, r.v)
		assert.GreaterOrEqual(t, r.at.Sub(start), 500*time.Millisecond)

		// A task created meanwhile is scheduled and answered at once after
		// makeTask commits. A task this host cannot take does not wake it,
		// and makeTask is not held up by the waiting call (on SQLite, by
		// its single writer).
		ch := goCall(b, "host.waitTasks", 30)
		parked(t, ch, 300*time.Millisecond)
		begin := time.Now()
		makeTask(t, admin, &koji.MakeTaskOptions{Arch: "ppc64le"})
		assert.Less(t, time.Since(begin), 2*time.Second, "makeTask waited for the parked call")
		parked(t, ch, 300*time.Millisecond)
		id := makeTask(t, admin, nil)
		created := time.Now()
		r = answer(t, ch, 10*time.Second)
		assert.Less(t, r.at.Sub(created), 3*time.Second)
		tasks := r.v.([]any)
		require.Len(t, tasks, 1)
		assert.Equal(t, int64(id), tasks[0].(map[string]any)["id"])
		assert.Equal(t, int64(koji.TaskAssigned), tasks[0].(map[string]any)["state"])
		// Assigned tasks are answered without waiting.
		r = answer(t, goCall(b, "host.waitTasks", 30), 5*time.Second)
		assert.Len(t, r.v, 1)

		// Inside a multicall it answers at once.
		o, err := b.HostAPI().OpenTask(ctx, id)
		require.NoError(t, err)
		require.NotNil(t, o)
		var multi []any
		start = time.Now()
		require.NoError(t, b.Call(ctx, "multiCall", &multi, []any{map[string]any{"methodName": "host.waitTasks", "params": []any{30}}}))
		assert.Equal(t, []any{[]any{[]any{}}}, multi)
		assert.Less(t, time.Since(start), 5*time.Second)
	})
}

func TestWaitTasksWakesTheAssignedHost(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		kh := startKoji(t, dsn, schedulerConfig(longPoll))
		admin := kh.sslClient(t, "")
		b1 := builder(t, kh, admin, "b1")
		b2 := builder(t, kh, admin, "b2")
		checkIn(t, b1, 0, true, nil)
		checkIn(t, b2, 0, true, nil)
		ch1 := goCall(b1, "host.waitTasks", 30)
		ch2 := goCall(b2, "host.waitTasks", 30)
		parked(t, ch1, 300*time.Millisecond)
		parked(t, ch2, 0)
		// One run assigns both, one to each host; whichever host ran it, the
		// other is woken by its assignment.
		_, err := admin.MakeTask(context.Background(), "sleep", []any{1}, nil)
		require.NoError(t, err)
		_, err = admin.MakeTask(context.Background(), "sleep", []any{2}, nil)
		require.NoError(t, err)
		r1, r2 := answer(t, ch1, 10*time.Second), answer(t, ch2, 10*time.Second)
		got := append(slices.Clone(r1.v.([]any)), r2.v.([]any)...)
		require.Len(t, got, 2)
		assert.NotEqual(t, got[0].(map[string]any)["id"], got[1].(map[string]any)["id"])
		assert.Len(t, r1.v, 1)
		assert.Len(t, r2.v, 1)
	})
}

// Another hub process sharing the database: its commits reach a waiting
// call within the re-check interval.
func TestWaitTasksAcrossProcesses(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		cfg := schedulerConfig(hubserver.SchedulerConfig{WaitRecheck: 200 * time.Millisecond})
		kh := startKoji(t, dsn, cfg)
		other := startKoji(t, dsn, cfg)
		admin := kh.sslClient(t, "")
		b := builder(t, kh, admin, "b1")
		checkIn(t, b, 0, true, nil)
		ch := goCall(b, "host.waitTasks", 30)
		parked(t, ch, 300*time.Millisecond)
		id, err := other.sslClient(t, "").MakeTask(context.Background(), "sleep", []any{1}, nil)
		require.NoError(t, err)
		created := time.Now()
		r := answer(t, ch, 10*time.Second)
		assert.Less(t, r.at.Sub(created), 5*time.Second)
		require.Len(t, r.v, 1)
		assert.Equal(t, int64(id), r.v.([]any)[0].(map[string]any)["id"])
	})
}

func TestTaskWaitAny(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, schedulerConfig(longPoll))
		admin := kh.sslClient(t, "")
		b := builder(t, kh, admin, "b1")
		checkIn(t, b, 0, true, nil)
		parent := makeTask(t, admin, &koji.MakeTaskOptions{Assign: "b1"})
		o, err := b.HostAPI().OpenTask(ctx, parent)
		require.NoError(t, err)
		require.NotNil(t, o)
		// Nothing awaited: answered at once.
		r := answer(t, goCall(b, "host.taskWaitAny", parent, 30), 5*time.Second)
		assert.Equal(t, []any{[]any{}, []any{}}, r.v)

		var kids []int64
		for i := range 2 {
			var id int64
			require.NoError(t, b.Call(ctx, "host.subtask", &id, "sleep", []any{i}, parent))
			kids = append(kids, id)
		}
		require.NoError(t, b.Call(ctx, "host.taskSetWait", nil, parent, nil))
		ch := goCall(b, "host.taskWaitAny", parent, 30)
		parked(t, ch, 300*time.Millisecond)
		forceRun(t, admin)
		for _, id := range kids {
			o, err := b.HostAPI().OpenTask(ctx, int(id))
			require.NoError(t, err)
			require.NotNil(t, o)
		}
		parked(t, ch, 100*time.Millisecond)
		require.NoError(t, b.HostAPI().CloseTask(ctx, int(kids[1]), "done"))
		closed := time.Now()
		r = answer(t, ch, 10*time.Second)
		assert.Less(t, r.at.Sub(closed), 3*time.Second)
		assert.Equal(t, []any{[]any{kids[1]}, []any{kids[0]}}, r.v)
		// The finished one is no longer awaited; a canceled subtask wakes too.
		ch = goCall(b, "host.taskWaitAny", parent, 30)
		parked(t, ch, 300*time.Millisecond)
		require.NoError(t, admin.CancelTask(ctx, int(kids[0]), false))
		r = answer(t, ch, 10*time.Second)
		assert.Equal(t, []any{[]any{kids[0]}, []any{}}, r.v)
		// At its timeout it answers what taskWait would.
		require.NoError(t, b.Call(ctx, "host.taskSetWait", nil, parent, nil))
		var kid int64
		require.NoError(t, b.Call(ctx, "host.subtask", &kid, "sleep", []any{9}, parent))
		require.NoError(t, b.Call(ctx, "host.taskSetWait", nil, parent, []any{kid}))
		r = answer(t, goCall(b, "host.taskWaitAny", parent, 0.3), 5*time.Second)
		assert.Equal(t, []any{[]any{}, []any{kid}}, r.v)
	})
}

// Four builders taking tasks at once never get the same task: neither
// through the scheduler nor racing to open the same FREE tasks.
func TestHostsTakeTasksConcurrently(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, schedulerConfig(hubserver.SchedulerConfig{RunInterval: time.Millisecond}))
		admin := kh.sslClient(t, "")
		var builders []*koji.Client
		for _, name := range []string{"b1", "b2", "b3", "b4"} {
			b := builder(t, kh, admin, name)
			checkIn(t, b, 0, true, nil)
			builders = append(builders, b)
		}
		const n = 24
		var ids []int
		for i := range n {
			ids = append(ids, makeTask(t, admin, &koji.MakeTaskOptions{Arch: []string{"noarch", "x86_64"}[i%2]}))
		}

		// Old builders race to open the same FREE tasks.
		var mu sync.Mutex
		opened := map[int][]int{} // task -> hosts that opened it
		var wg sync.WaitGroup
		for h, b := range builders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, id := range ids[:n/2] {
					o, err := b.HostAPI().OpenTask(ctx, id)
					if !assert.NoError(t, err) {
						return
					}
					if o != nil {
						mu.Lock()
						opened[id] = append(opened[id], h)
						mu.Unlock()
						assert.NoError(t, b.HostAPI().CloseTask(ctx, id, h))
					}
				}
			}()
		}
		wg.Wait()
		for _, id := range ids[:n/2] {
			assert.Len(t, opened[id], 1, "task %d", id)
		}

		// Builders of today: check in, get assigned tasks, run them.
		deadline := time.Now().Add(60 * time.Second)
		for h, b := range builders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				api := b.HostAPI()
				for time.Now().Before(deadline) {
					if !assert.NoError(t, api.UpdateHost(ctx, 0, true, nil)) {
						return
					}
					tasks, err := api.Tasks(ctx)
					if !assert.NoError(t, err) {
						return
					}
					for _, task := range tasks {
						o, err := api.OpenTask(ctx, task.ID)
						if !assert.NoError(t, err) || o == nil {
							continue
						}
						mu.Lock()
						opened[task.ID] = append(opened[task.ID], h)
						mu.Unlock()
						assert.NoError(t, api.CloseTask(ctx, task.ID, h))
					}
					mu.Lock()
					done := len(opened) == n
					mu.Unlock()
					if done {
						return
					}
				}
			}()
		}
		wg.Wait()
		require.Len(t, opened, n)
		for _, id := range ids {
			assert.Len(t, opened[id], 1, "task %d", id)
			state, _ := taskHost(t, admin, id)
			assert.Equal(t, koji.TaskClosed, state)
		}
	})
}
