package builder_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/builder"
	"github.com/gokoji/gokoji/koji"
)

// subtaskHandlers are a parent that makes an "ok" and a "bad" subtask
// (twice each, by label) and waits for both with the bad one in canfail,
// and the two children.
func subtaskHandlers(t *testing.T, opts builder.WaitOptions) []builder.Handler {
	parent := builder.HandlerFunc([]string{"parent"}, 0.5, func(ctx context.Context, task *builder.Task) (any, error) {
		okID, err := task.Subtask(ctx, "ok", []any{"x"}, &builder.SubtaskOptions{Label: "good"})
		if err != nil {
			return nil, err
		}
		again, err := task.Subtask(ctx, "ok", []any{"y"}, &builder.SubtaskOptions{Label: "good"})
		if err != nil {
			return nil, err
		}
		badID, err := task.Subtask(ctx, "bad", nil, &builder.SubtaskOptions{Label: "broken"})
		if err != nil {
			return nil, err
		}
		if again != okID {
			return nil, builder.Fail(koji.ErrGeneric, "label not idempotent: %d then %d", okID, again)
		}
		o := opts
		if o.CanFail != nil {
			o.CanFail = []int{badID}
		}
		results, err := task.Wait(ctx, o)
		if err != nil {
			return nil, err
		}
		var okResult string
		if err := results[okID].Decode(&okResult); err != nil {
			return nil, err
		}
		bad := results[badID].Fault
		if bad == nil {
			return nil, builder.Fail(koji.ErrGeneric, "the bad subtask has no fault")
		}
		return map[string]any{"ok": okResult, "bad_code": bad.Code, "bad_string": bad.String}, nil
	})
	ok := builder.HandlerFunc([]string{"ok"}, 0, func(ctx context.Context, task *builder.Task) (any, error) {
		return "fine " + task.Params[0].(string), nil
	})
	bad := builder.HandlerFunc([]string{"bad"}, 0, func(ctx context.Context, task *builder.Task) (any, error) {
		time.Sleep(200 * time.Millisecond) // finishes after "ok"
		return nil, builder.Fail(koji.ErrBuild, "broken on purpose")
	})
	return []builder.Handler{parent, ok, bad}
}

// A parent task whose handler makes two subtasks, one of which fails, and
// waits for both with the failing one in canfail, gets the one's result
// and the other's fault, with the hub's long poll and by polling.
func TestSubtasksWithCanFail(t *testing.T) {
	eachHub(t, func(t *testing.T, th *testHub) {
		d := th.daemon(t, "builder1", nil, subtaskHandlers(t, builder.WaitOptions{All: true, CanFail: []int{}})...)
		start(t, d)
		id := th.makeTask(t, "parent")
		info := th.waitState(t, id, koji.TaskClosed, koji.TaskFailed)
		if info.State != koji.TaskClosed {
			err := th.admin.GetTaskResult(context.Background(), id, true, nil)
			t.Fatalf("parent failed: %v", err)
		}
		var result map[string]any
		require.NoError(t, th.admin.GetTaskResult(context.Background(), id, true, &result))
		assert.Equal(t, map[string]any{"ok": "fine x", "bad_code": int64(koji.ErrBuild), "bad_string": "broken on purpose"}, result)
		children, err := th.admin.GetTaskChildren(context.Background(), id, nil)
		require.NoError(t, err)
		require.Len(t, children, 2, "the label made one subtask of two calls")
	})
}

// Without canfail, a failing subtask fails the parent with its fault;
// with failany the wait stops there and cancels the other subtasks.
func TestSubtaskFailureFailsParent(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		th := startHub(t, dsn, false)
		g := newGate("slow")
		handlers := []builder.Handler{g,
			builder.HandlerFunc([]string{"parent"}, 0, func(ctx context.Context, task *builder.Task) (any, error) {
				if _, err := task.Subtask(ctx, "slow", nil, nil); err != nil {
					return nil, err
				}
				if _, err := task.Subtask(ctx, "bad", nil, nil); err != nil {
					return nil, err
				}
				return task.Wait(ctx, builder.WaitOptions{All: true, FailAny: true})
			}),
			builder.HandlerFunc([]string{"bad"}, 0, func(context.Context, *builder.Task) (any, error) {
				return nil, builder.Fail(koji.ErrBuild, "broken on purpose")
			}),
		}
		d := th.daemon(t, "builder1", nil, handlers...)
		start(t, d)
		id := th.makeTask(t, "parent")
		slow := within(t, g.started, 30*time.Second, "slow subtask start")
		assert.Equal(t, koji.TaskFailed, th.waitState(t, id, koji.TaskClosed, koji.TaskFailed).State)
		err := th.admin.GetTaskResult(context.Background(), id, true, nil)
		assert.ErrorIs(t, err, koji.ErrBuild)
		assert.ErrorContains(t, err, "broken on purpose")
		assert.Equal(t, koji.TaskCanceled, th.waitState(t, slow.ID, koji.TaskCanceled).State)
		within(t, g.ended, 5*time.Second, "slow subtask's context ending")
	})
}

// A wait with a timeout cancels the subtasks and fails as kojid's does.
func TestWaitTimeout(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		th := startHub(t, dsn, false)
		g := newGate("slow")
		parent := builder.HandlerFunc([]string{"parent"}, 0, func(ctx context.Context, task *builder.Task) (any, error) {
			if _, err := task.Subtask(ctx, "slow", nil, nil); err != nil {
				return nil, err
			}
			return task.Wait(ctx, builder.WaitOptions{All: true, Timeout: 500 * time.Millisecond})
		})
		start(t, th.daemon(t, "builder1", nil, g, parent))
		id := th.makeTask(t, "parent")
		assert.Equal(t, koji.TaskFailed, th.waitState(t, id, koji.TaskClosed, koji.TaskFailed).State)
		err := th.admin.GetTaskResult(context.Background(), id, true, nil)
		assert.ErrorContains(t, err, "Subtasks timed out after 0.5 seconds")
	})
}

// A log is on the hub while the task runs, and complete once it ends;
// uploads land in the task's output. A handler's plain error and panic
// fail the task with a traceback-like GenericError.
func TestLogStreamsWhileRunning(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		th := startHub(t, dsn, false)
		seen := make(chan struct{})
		h := builder.HandlerFunc([]string{"logs"}, 0, func(ctx context.Context, task *builder.Task) (any, error) {
			log, err := task.Log(ctx, "build.log")
			if err != nil {
				return nil, err
			}
			if _, err := io.WriteString(log, "first line\n"); err != nil {
				return nil, err
			}
			select {
			case <-seen: // the test read it while the task ran
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if _, err := io.WriteString(log, "second line\n"); err != nil {
				return nil, err
			}
			if err := task.Upload(ctx, strings.NewReader("output"), "sub/out.txt"); err != nil {
				return nil, err
			}
			return nil, nil // the daemon closes the log
		})
		fails := builder.HandlerFunc([]string{"fails", "panics"}, 0, func(ctx context.Context, task *builder.Task) (any, error) {
			if task.Method == "panics" {
				_ = task.Params[len(task.Params)] // out of range
			}
			return nil, io.ErrUnexpectedEOF
		})
		start(t, th.daemon(t, "builder1", nil, h, fails))
		id := th.makeTask(t, "logs")
		ctx := context.Background()
		read := func() string {
			r, err := th.admin.TaskOutput(ctx, id, "build.log", nil)
			if err != nil {
				return ""
			}
			defer r.Close()
			data, err := io.ReadAll(r)
			require.NoError(t, err)
			return string(data)
		}
		deadline := time.Now().Add(30 * time.Second)
		for read() != "first line\n" {
			require.True(t, time.Now().Before(deadline), "the log did not show up while the task ran")
			time.Sleep(50 * time.Millisecond)
		}
		assert.Equal(t, koji.TaskOpen, th.waitState(t, id, koji.TaskOpen).State)
		close(seen)
		assert.Equal(t, koji.TaskClosed, th.waitState(t, id, koji.TaskClosed, koji.TaskFailed).State)
		assert.Equal(t, "first line\nsecond line\n", read())
		files, err := th.admin.ListTaskOutput(ctx, id, nil)
		require.NoError(t, err)
		var names []string
		for _, f := range files {
			names = append(names, f.Name)
		}
		assert.ElementsMatch(t, []string{"build.log", "sub/out.txt"}, names)

		for method, want := range map[string]string{"fails": "*errors.errorString: unexpected EOF", "panics": "panic: runtime error: index out of range [0] with length 0"} {
			id := th.makeTask(t, method)
			assert.Equal(t, koji.TaskFailed, th.waitState(t, id, koji.TaskClosed, koji.TaskFailed).State)
			err := th.admin.GetTaskResult(ctx, id, true, nil)
			var f *koji.Fault
			require.ErrorAs(t, err, &f)
			assert.Equal(t, int(koji.ErrGeneric), f.Code)
			assert.Contains(t, f.String, "Traceback (most recent call last):")
			assert.Contains(t, f.String, want)
		}
	})
}
