package hubserver_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/koji"
)

// refusals returns a task's refusals as [host_id, soft, by_host, msg].
func refusals(t *testing.T, admin *koji.Client, task int) [][]any {
	t.Helper()
	var rows []map[string]any
	require.NoError(t, admin.Call(context.Background(), "scheduler.getTaskRefusals", &rows,
		[]any{[]any{"task_id", task}}, []any{"host_id", "soft", "by_host", "msg"}))
	out := [][]any{}
	for _, r := range rows {
		out = append(out, []any{r["host_id"], r["soft"], r["by_host"], r["msg"]})
	}
	return out
}

// logged reports whether a line with message msg was logged.
func logged(t *testing.T, logs *logBuffer, msg string) bool {
	t.Helper()
	for _, l := range logs.lines(t) {
		if l["msg"] == msg {
			return true
		}
	}
	return false
}

func TestSchedulerAutoArchRefusal(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		logs := &logBuffer{}
		kh := startKoji(t, dsn, func(c *hubserver.KojiConfig) { c.Logger = logs.logger() })
		admin := kh.sslClient(t, "")
		b1 := builder(t, kh, admin, "b1", "x86_64")
		b2 := builder(t, kh, admin, "b2", "aarch64")
		builder(t, kh, admin, "b3", "i386")
		require.NoError(t, admin.Call(ctx, "disableHost", nil, "b3"))
		_, err := admin.CreateTag(ctx, "el-build", &koji.CreateTagOptions{Arches: "x86_64"})
		require.NoError(t, err)
		newTask := func(method string, args []any, opts *koji.MakeTaskOptions) int {
			t.Helper()
			id, err := admin.MakeTask(ctx, method, args, opts)
			require.NoError(t, err)
			return id
		}
		hard := [][]any{{int64(2), false, false, "automatic arch refusal"}}

		// A noarch buildArch task: the aarch64 host is refused it (the
		// disabled i386 host is not considered), and the scheduler does not
		// give it to b2 even while b1 is not ready.
		task := newTask("buildArch", []any{"work/foo.src.rpm", "el-build", "x86_64", false, map[string]any{}}, nil)
		assert.Equal(t, hard, refusals(t, admin, task))
		assert.Equal(t, []string{"Host refused task: automatic arch refusal"}, logMessages(t, admin, "task_id", task))
		checkIn(t, b1, 0, false, nil)
		checkIn(t, b2, 0, true, nil)
		forceRun(t, admin)
		state, host := taskHost(t, admin, task)
		assert.Equal(t, koji.TaskFree, state)
		assert.Equal(t, 0, host)
		checkIn(t, b1, 0, true, nil)
		forceRun(t, admin)
		_, host = taskHost(t, admin, task)
		assert.Equal(t, 1, host)

		// The build tag of the other methods: by keyword, by id, through
		// the target for wrapperRPM.
		task = newTask("buildSRPMFromSCM", []any{"git://x", map[string]any{"build_tag": "el-build", "__starstar": true}}, nil)
		assert.Equal(t, hard, refusals(t, admin, task))
		task = newTask("rebuildSRPM", []any{"work/foo.src.rpm", int64(1)}, nil)
		assert.Equal(t, hard, refusals(t, admin, task))
		task = newTask("buildMaven", []any{"git://x", "el-build", nil}, nil)
		assert.Equal(t, hard, refusals(t, admin, task))
		require.NoError(t, admin.Call(ctx, "createBuildTarget", nil, "el", "el-build", "el-build"))
		task = newTask("wrapperRPM", []any{"git://spec", "el", nil, nil}, nil)
		assert.Equal(t, hard, refusals(t, admin, task))
		// Canonical tag arches: i686 is i386.
		_, err = admin.CreateTag(ctx, "i-build", &koji.CreateTagOptions{Arches: "i686"})
		require.NoError(t, err)
		require.NoError(t, admin.Call(ctx, "enableHost", nil, "b3"))
		task = newTask("buildArch", []any{"work/foo.src.rpm", "i-build", "i686", false}, nil)
		assert.Equal(t, [][]any{{int64(1), false, false, "automatic arch refusal"}, hard[0]}, refusals(t, admin, task))

		// No refusals: other arches and methods, and every problem only
		// logged while the task is created.
		assert.Empty(t, refusals(t, admin, newTask("buildArch", []any{"p", "el-build", "x86_64", false}, &koji.MakeTaskOptions{Arch: "x86_64"})))
		assert.Empty(t, refusals(t, admin, newTask("sleep", []any{1}, nil)))
		for _, tc := range []struct {
			method string
			args   []any
			msg    string
		}{
			{"buildArch", []any{"p", "no-such-tag", "x86_64", false}, "Invalid build tag for task %d"},
			{"buildArch", []any{"p"}, "Invalid params for task %d"},
			{"buildArch", []any{"p", "el-build", "x86_64", false, nil, "extra"}, "Invalid params for task %d"},
			{"wrapperRPM", []any{"git://spec", "no-such-target", nil, nil}, "Invalid target for task %d"},
			{"buildArch", []any{"p", 1.5, "x86_64", false}, "Error generating auto refusals for task %d"},
		} {
			task := newTask(tc.method, tc.args, nil)
			assert.Empty(t, refusals(t, admin, task), "%s %v", tc.method, tc.args)
			assert.True(t, logged(t, logs, fmt.Sprintf(tc.msg, task)), "%s %v: %s", tc.method, tc.args, tc.msg)
		}
		_, err = admin.CreateTag(ctx, "no-arches", nil)
		require.NoError(t, err)
		task = newTask("buildArch", []any{"p", "no-arches", "x86_64", false}, nil)
		assert.Empty(t, refusals(t, admin, task))
		assert.True(t, logged(t, logs, "No arches for tag no-arches [3]"))
		require.NoError(t, admin.CallKw(ctx, "editTag2", nil, []any{"no-arches"}, map[string]any{"arches": nil}))
		task = newTask("buildArch", []any{"p", "no-arches", "x86_64", false}, nil)
		assert.Empty(t, refusals(t, admin, task))
		assert.True(t, logged(t, logs, fmt.Sprintf("Error generating auto refusals for task %d", task)))
		info, err := admin.GetTaskInfo(ctx, task, nil)
		require.NoError(t, err)
		assert.Equal(t, koji.TaskFree, info.State)
	})
}
