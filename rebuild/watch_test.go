package rebuild

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/messages"
)

// Run follows a build's task through the hub's messages (the watcher):
// with polling every hour, a task state message on the broker ends the
// build. When the message is lost, polling (getTaskInfo on the running
// builds) is the fallback: with the watcher consuming a queue nothing
// reaches, polling every 200 ms ends the next build.
func TestRunWatcherAndPolling(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		mcfg := BrokerConfigForTest(t, nil, ".watcher")
		watch := mcfg
		watch.Queue, watch.Bindings = mcfg.Exchange+".watcher", []string{"koji.task.#"}
		e := newTestEnv(t, dsn, nil)
		start(t, e)
		pub, err := messages.NewPublisher(ctx, mcfg)
		require.NoError(t, err)
		defer pub.Close()

		// run runs a service on the test's store and hub with the watcher
		// on and polling every poll, once its first polling run is done
		// (while the build still runs); the returned func stops it.
		run := func(poll time.Duration) func() {
			cfg := e.cfg
			cfg.Consume, cfg.PollInterval = &watch, poll
			svc, err := NewService(cfg)
			require.NoError(t, err)
			e.hub.mu.Lock()
			polls := e.hub.polls
			e.hub.mu.Unlock()
			runCtx, stop := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- svc.Run(runCtx) }()
			waitFor(t, "the first polling run", func() bool {
				e.hub.mu.Lock()
				defer e.hub.mu.Unlock()
				return e.hub.polls > polls
			})
			WaitQueueForTest(t, watch.Queue)
			return func() {
				stop()
				require.NoError(t, <-done)
			}
		}
		// submit builds bar, pushed past the threshold.
		submit := func() int {
			require.NoError(t, e.store.SetManualPriority(ctx, "f44", "bar", 1000))
			return int(e.schedule(t, true).TaskID)
		}
		state := func() BuildState {
			h, err := e.store.PackageHistory(ctx, "f44", "bar", 0)
			require.NoError(t, err)
			return h.Builds[0].Build.State
		}

		// The message: bar's build fails, and only the message says so.
		id := submit()
		stop := run(time.Hour)
		task := e.hub.finish(id, koji.TaskFailed, &koji.Fault{Code: int(koji.ErrBuild), String: "error building package"})
		time.Sleep(300 * time.Millisecond)
		require.Equal(t, BuildRunning, state(), "no message yet, no polling: still running")
		open := koji.TaskOpen
		require.NoError(t, pub.Publish(ctx, &messages.TaskStateChange{Task: task, Attribute: "state", Old: &open, New: koji.TaskFailed}))
		waitFor(t, "the build failed by the message", func() bool { return state() == BuildFailed })
		require.Equal(t, []string{"package bar ok->failing"}, e.notes.take())
		stop()

		// The lost message: bar's next build closes, nothing is published,
		// polling finds it.
		id = submit()
		stop = run(200 * time.Millisecond)
		defer stop()
		require.Equal(t, BuildRunning, state())
		e.hub.finish(id, koji.TaskClosed, nil)
		waitFor(t, "the build complete by polling", func() bool { return state() == BuildComplete })
		require.Equal(t, []string{"package bar failing->ok"}, e.notes.take())
		bar := e.pkg(t, "bar")
		require.Equal(t, int64(0), bar.BuildPriority, "the failed-build priority reset by the next build's end")
	})
}

// waitFor polls cond for up to 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	EventuallyForTest(t, 30*time.Second, what, cond)
}

// EventuallyForTest polls cond until it holds, or fails the test after
// timeout. The package's external tests use it too.
func EventuallyForTest(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A tag message into a collection's destination tag registers the new
// real build at once (Koschei's watcher on buildsys.tag); one into
// another tag is none of the collection's business.
func TestTagEvent(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		e := newTestEnv(t, dsn, nil)
		start(t, e)
		realBuilds := func() []string {
			h, err := e.store.PackageHistory(ctx, "f44", "foo", 0)
			require.NoError(t, err)
			var out []string
			for _, b := range h.Builds {
				if b.Build.Real {
					out = append(out, b.Build.Version)
				}
			}
			return out
		}
		kb := e.hub.tag("foo", "2", "gcc")
		require.NoError(t, e.svc.HandleEvent(ctx, &messages.Tag{Tag: &koji.Tag{Name: "f45"}, Build: &kb.Build}))
		require.Equal(t, []string{"1"}, realBuilds(), "another tag")
		require.NoError(t, e.svc.HandleEvent(ctx, &messages.Tag{Tag: &koji.Tag{Name: "f44"}, Build: &kb.Build}))
		require.Equal(t, []string{"2", "1"}, realBuilds())
		require.NoError(t, e.svc.HandleEvent(ctx, &messages.Tag{Tag: &koji.Tag{Name: "f44"}, Build: &kb.Build}))
		require.Equal(t, []string{"2", "1"}, realBuilds(), "registered once")
	})
}
