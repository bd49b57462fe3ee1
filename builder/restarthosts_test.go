package builder_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/builder"
	"github.com/gokoji/gokoji/koji"
)

// restartHandlers are the handlers of koji restart-hosts, and sleep.
func restartHandlers() []builder.Handler {
	return []builder.Handler{builder.RestartHosts{}, builder.Restart{}, builder.RestartVerify{}, builder.Sleep{}}
}

// hostStruct is the host as getHost answers it, as restartHosts passes
// it to its subtasks.
func hostStruct(t *testing.T, c *koji.Client, name string) map[string]any {
	var h map[string]any
	require.NoError(t, c.Call(context.Background(), "getHost", &h, name))
	require.NotNil(t, h)
	return h
}

// koji restart-hosts restarts every builder: the restartHosts task makes
// a restart and a restartVerify subtask for each enabled host, assigned
// to it; the restart makes the daemon stop once idle and Run return
// ErrRestart (the restartHosts task, when on a restarting host, is given
// back meanwhile); the daemons started again (as a supervisor does) run
// the verifications, and the restartHosts task closes.
func TestRestartHostsRestartsEachBuilder(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		th := startHub(t, dsn, false)
		names := []string{"builder1", "builder2"}
		runCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		done := make(chan error, len(names))
		for _, name := range names {
			d := th.daemon(t, name, nil, restartHandlers()...)
			go func() { done <- d.Run(runCtx) }()
		}
		var id int
		require.NoError(t, th.admin.Call(ctx, "restartHosts", &id))
		for range names {
			err := within(t, done, 30*time.Second, "a daemon's Run returning")
			assert.True(t, errors.Is(err, builder.ErrRestart), "Run returned %v", err)
		}
		kids := subtasksByLabel(t, th.admin, id)
		require.Len(t, kids, 4)
		for _, name := range names {
			hid := hostStruct(t, th.admin, name)["id"].(int64)
			restart, verify := kids[fmt.Sprintf("restart %d", hid)], kids[fmt.Sprintf("sleep %d", hid)]
			require.NotNil(t, restart)
			require.NotNil(t, verify)
			assert.Equal(t, "restart", restart.Method)
			assert.Equal(t, koji.TaskClosed, restart.State, "%s's restart", name)
			var result string
			require.NoError(t, th.admin.GetTaskResult(ctx, restart.ID, true, &result))
			assert.Equal(t, "graceful restart initiated", result)
			assert.Equal(t, "restartVerify", verify.Method)
			assert.False(t, verify.State.Done(), "%s's verification ran before the restart: %v", name, verify.State)
			require.NotNil(t, verify.HostID)
			assert.Equal(t, int(hid), *verify.HostID, "assigned to its host")
		}
		parent, err := th.admin.GetTaskInfo(ctx, id, nil)
		require.NoError(t, err)
		assert.False(t, parent.State.Done(), "restartHosts is %v before the daemons come back", parent.State)

		for _, name := range names {
			start(t, th.daemon(t, name, nil, restartHandlers()...))
		}
		assert.Equal(t, koji.TaskClosed, th.waitState(t, id, koji.TaskClosed, koji.TaskFailed).State)
		kids = subtasksByLabel(t, th.admin, id)
		assert.Len(t, kids, 4, "the task run again made no other subtasks")
		for label, k := range kids {
			assert.Equal(t, koji.TaskClosed, k.State, "%s (%s)", label, k.Method)
		}
	})
}

// subtasksByLabel are a task's subtasks, by label.
func subtasksByLabel(t *testing.T, c *koji.Client, id int) map[string]*koji.Task {
	t.Helper()
	var kids []*koji.Task
	require.NoError(t, c.Call(context.Background(), "getTaskChildren", &kids, id))
	out := map[string]*koji.Task{}
	for _, k := range kids {
		require.NotNil(t, k.SubtaskLabel, "subtask %d", k.ID)
		out[*k.SubtaskLabel] = k
	}
	return out
}

// The restart tasks fail as kojid's do: a restart or restartVerify of
// another host with "Host mismatch" (the daemon does not restart), a
// verification of a restart task not closed with its state, and of one
// that closed after the daemon started with "Restart failed - start time
// is ..."; restartHosts with "No matching hosts" when options select no
// enabled host, and with its timeout when hosts do not restart in time
// (their subtasks then canceled).
func TestRestartTasksFail(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		th := startHub(t, dsn, false)
		d := th.daemon(t, "builder1", nil, restartHandlers()...)
		start(t, d)
		th.addHost(t, "ghost") // never checks in
		this, ghost := hostStruct(t, th.admin, "builder1"), hostStruct(t, th.admin, "ghost")
		assigned := func(method string, args ...any) int {
			id, err := th.admin.MakeTask(ctx, method, args, &koji.MakeTaskOptions{Assign: "builder1"})
			require.NoError(t, err)
			return id
		}
		failure := func(id int) string {
			t.Helper()
			require.Equal(t, koji.TaskFailed, th.waitState(t, id, koji.TaskClosed, koji.TaskFailed).State, "task %d", id)
			return taskFailure(t, th.admin, id).String
		}

		assert.Equal(t, "Host mismatch", failure(assigned("restart", ghost)))
		assert.False(t, d.RestartPending())

		closed := th.makeTask(t, "sleep", 0)
		require.Equal(t, koji.TaskClosed, th.waitState(t, closed, koji.TaskClosed, koji.TaskFailed).State)
		failed := th.makeTask(t, "sleep", "not a number")
		require.Equal(t, koji.TaskFailed, th.waitState(t, failed, koji.TaskClosed, koji.TaskFailed).State)
		assert.Equal(t, "Stage one restart task is FAILED", failure(assigned("restartVerify", failed, this)))
		assert.Equal(t, "Host mismatch", failure(assigned("restartVerify", closed, ghost)))
		assert.Regexp(t, `^Restart failed - start time is \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$`,
			failure(assigned("restartVerify", closed, this)))

		require.NoError(t, th.admin.Call(ctx, "addChannel", nil, "nohosts"))
		var id int
		require.NoError(t, th.admin.CallKw(ctx, "restartHosts", &id, nil, map[string]any{"options": map[string]any{"channel": "nohosts"}}))
		assert.Equal(t, "No matching hosts", failure(id))
		require.NoError(t, th.admin.CallKw(ctx, "restartHosts", &id, nil, map[string]any{"options": map[string]any{"arches": []string{"s390x"}}}))
		assert.Equal(t, "No matching hosts", failure(id))

		require.NoError(t, th.admin.Call(ctx, "addChannel", nil, "ghosts"))
		require.NoError(t, th.admin.Call(ctx, "addHostToChannel", nil, "ghost", "ghosts"))
		require.NoError(t, th.admin.CallKw(ctx, "restartHosts", &id, nil, map[string]any{"options": map[string]any{"channel": "ghosts", "timeout": 1}}))
		assert.Contains(t, failure(id), "timed out")
		kids := subtasksByLabel(t, th.admin, id)
		gid := ghost["id"].(int64)
		assert.Equal(t, []string{fmt.Sprintf("restart %d", gid), fmt.Sprintf("sleep %d", gid)}, slices.Sorted(maps.Keys(kids)))
		for label := range kids {
			assert.Equal(t, koji.TaskCanceled, th.waitState(t, kids[label].ID, koji.TaskCanceled, koji.TaskClosed).State, label)
		}
		assert.False(t, d.RestartPending())
	})
}
