package hubserver_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/koji"
)

// schedulerConfig edits a test hub's scheduler settings.
func schedulerConfig(sc hubserver.SchedulerConfig) func(*hubserver.KojiConfig) {
	return func(c *hubserver.KojiConfig) { c.Scheduler = sc }
}

func checkIn(t *testing.T, c *koji.Client, load float64, ready bool, data any) {
	t.Helper()
	require.NoError(t, c.HostAPI().UpdateHost(context.Background(), load, ready, data))
}

func forceRun(t *testing.T, admin *koji.Client) {
	t.Helper()
	ran, err := admin.RunScheduler(context.Background(), true)
	require.NoError(t, err)
	require.True(t, ran)
}

// taskHost returns a task's state and host (0 for none).
func taskHost(t *testing.T, admin *koji.Client, id int) (koji.TaskState, int) {
	t.Helper()
	info, err := admin.GetTaskInfo(context.Background(), id, nil)
	require.NoError(t, err)
	if info.HostID == nil {
		return info.State, 0
	}
	return info.State, *info.HostID
}

func makeTask(t *testing.T, admin *koji.Client, opts *koji.MakeTaskOptions) int {
	t.Helper()
	id, err := admin.MakeTask(context.Background(), "sleep", []any{1}, opts)
	require.NoError(t, err)
	return id
}

// logMessages returns the scheduler's messages about a task, or about a
// host when task is 0, oldest first.
func logMessages(t *testing.T, admin *koji.Client, field string, id int) []string {
	t.Helper()
	var rows []map[string]any
	require.NoError(t, admin.Call(context.Background(), "scheduler.getLogMessages", &rows, []any{[]any{field, id}}))
	var out []string
	for _, r := range rows {
		out = append(out, r["msg"].(string))
	}
	return out
}

func TestSchedulerAssignment(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, schedulerConfig(hubserver.SchedulerConfig{SoftRefusalTimeout: time.Second}))
		admin := kh.sslClient(t, "")
		b1 := builder(t, kh, admin, "b1")
		b2 := builder(t, kh, admin, "b2")
		b3 := builder(t, kh, admin, "b3", "aarch64")
		require.NoError(t, admin.Call(ctx, "addHostToChannel", nil, "b3", "createrepo"))
		require.NoError(t, admin.Call(ctx, "removeHostFromChannel", nil, "b3", "default"))
		for _, b := range []*koji.Client{b1, b2, b3} {
			checkIn(t, b, 0, true, nil)
		}
		// b1 already runs a task: load 1, one job.
		busy := makeTask(t, admin, &koji.MakeTaskOptions{Assign: "b1"})
		o, err := b1.HostAPI().OpenTask(ctx, busy)
		require.NoError(t, err)
		require.NotNil(t, o)

		var free []int
		for range 4 {
			free = append(free, makeTask(t, admin, nil))
		}
		repo := makeTask(t, admin, &koji.MakeTaskOptions{Channel: "createrepo"})
		arm := makeTask(t, admin, &koji.MakeTaskOptions{Arch: "aarch64"})
		ppc := makeTask(t, admin, &koji.MakeTaskOptions{Arch: "ppc64le"})
		forceRun(t, admin)

		// Ranks (load + jobs + normalized demand): b2 0.4, b1 2.4. The
		// first task goes to b2; then both rank 2.4 and b1 comes first; then
		// b1 is full (capacity 2, load 2) and b2 gets the third; the fourth
		// fits nowhere.
		want := []int{2, 1, 2, 0}
		for i, id := range free {
			state, host := taskHost(t, admin, id)
			assert.Equal(t, want[i], host, "task %d", i)
			if want[i] == 0 {
				assert.Equal(t, koji.TaskFree, state)
			} else {
				assert.Equal(t, koji.TaskAssigned, state)
			}
		}
		// Bins: channel and arch.
		_, h := taskHost(t, admin, repo)
		assert.Equal(t, 3, h, "createrepo goes to the host in that channel")
		for _, id := range []int{arm, ppc} {
			state, _ := taskHost(t, admin, id)
			assert.Equal(t, koji.TaskFree, state, "no aarch64 or ppc64le host in the default channel")
		}
		assert.Equal(t, []string{"Assigning task"}, logMessages(t, admin, "task_id", free[0]))
		var runs []map[string]any
		require.NoError(t, admin.Call(ctx, "scheduler.getTaskRuns", &runs, []any{[]any{"active", true}}, []any{"task_id", "host_name"}))
		assert.Equal(t, []map[string]any{
			{"task_id": int64(free[0]), "host_name": "b2"}, {"task_id": int64(free[1]), "host_name": "b1"},
			{"task_id": int64(free[2]), "host_name": "b2"}, {"task_id": int64(repo), "host_name": "b3"},
		}, runs)

		// maxjobs from the host's data.
		repo2 := makeTask(t, admin, &koji.MakeTaskOptions{Channel: "createrepo"})
		checkIn(t, b3, 0, true, map[string]any{"maxjobs": 1})
		forceRun(t, admin)
		state, _ := taskHost(t, admin, repo2)
		assert.Equal(t, koji.TaskFree, state, "b3 runs its maxjobs already")
		checkIn(t, b3, 0, false, map[string]any{"maxjobs": 2})
		forceRun(t, admin)
		state, _ = taskHost(t, admin, repo2)
		assert.Equal(t, koji.TaskFree, state, "b3 is not ready")
		checkIn(t, b3, 0, true, map[string]any{"maxjobs": 2})
		forceRun(t, admin)
		_, h = taskHost(t, admin, repo2)
		assert.Equal(t, 3, h)

		// A soft refusal keeps the task from the host until it expires.
		require.NoError(t, b3.Call(ctx, "host.refuseTask", nil, repo2))
		forceRun(t, admin)
		state, _ = taskHost(t, admin, repo2)
		assert.Equal(t, koji.TaskFree, state)
		assert.Equal(t, []string{"Assigning task", "Host refused task: "}, logMessages(t, admin, "task_id", repo2))
		time.Sleep(1100 * time.Millisecond)
		checkIn(t, b3, 0, true, nil)
		forceRun(t, admin)
		_, h = taskHost(t, admin, repo2)
		assert.Equal(t, 3, h, "the soft refusal expired")
		var refusals []any
		require.NoError(t, admin.Call(ctx, "scheduler.getTaskRefusals", &refusals))
		assert.Empty(t, refusals, "expired refusals are deleted")

		// A disabled host loses its assigned tasks.
		require.NoError(t, admin.Call(ctx, "disableHost", nil, "b3"))
		forceRun(t, admin)
		state, _ = taskHost(t, admin, repo2)
		assert.Equal(t, koji.TaskFree, state)
		assert.Contains(t, logMessages(t, admin, "task_id", repo2), "Task assigned to disabled host")
	})
}

func TestSchedulerTimeouts(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, schedulerConfig(hubserver.SchedulerConfig{
			AssignTimeout: time.Second, HostTimeout: time.Second, ReadyTimeout: 2 * time.Second,
		}))
		admin := kh.sslClient(t, "")
		b1 := builder(t, kh, admin, "b1")
		b2 := builder(t, kh, admin, "b2")
		checkIn(t, b1, 0, true, nil)
		checkIn(t, b2, 0, true, nil)
		task := makeTask(t, admin, nil)
		forceRun(t, admin)
		_, h := taskHost(t, admin, task)
		require.Equal(t, 1, h)

		// b1 checks in but does not open the task: an implicit soft
		// refusal once AssignTimeout passed, and the task goes to b2.
		time.Sleep(1100 * time.Millisecond)
		checkIn(t, b1, 0, true, nil)
		checkIn(t, b2, 0, true, nil)
		forceRun(t, admin)
		state, _ := taskHost(t, admin, task)
		assert.Equal(t, koji.TaskFree, state)
		assert.Equal(t, []string{"Assigning task", "Host refused task: assignment timeout", "Task assignment timeout"},
			logMessages(t, admin, "task_id", task))
		forceRun(t, admin)
		_, h = taskHost(t, admin, task)
		require.Equal(t, 2, h)
		o, err := b2.HostAPI().OpenTask(ctx, task)
		require.NoError(t, err)
		require.NotNil(t, o)

		// An override assignment is never timed out.
		pinned := makeTask(t, admin, nil)
		require.NoError(t, admin.CallKw(ctx, "assignTask", nil, []any{pinned, "b1"}, map[string]any{"override": true}))

		// Both hosts go silent: not ready after ReadyTimeout, and b2's open
		// task is freed after HostTimeout.
		time.Sleep(2100 * time.Millisecond)
		forceRun(t, admin)
		state, _ = taskHost(t, admin, task)
		assert.Equal(t, koji.TaskFree, state)
		assert.Contains(t, logMessages(t, admin, "task_id", task), "Freeing task from unresponsive host")
		for _, id := range []int{1, 2} {
			assert.Contains(t, logMessages(t, admin, "host_id", id), "Marking host not ready")
		}
		host, err := admin.GetHost(ctx, "b1", nil)
		require.NoError(t, err)
		assert.False(t, host.Ready)
		state, h = taskHost(t, admin, pinned)
		assert.Equal(t, []any{koji.TaskAssigned, 1}, []any{state, h})
		assert.Equal(t, []string{"Assigning task (override)"}, logMessages(t, admin, "task_id", pinned))
	})
}

func TestSchedulerRunInterval(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, schedulerConfig(hubserver.SchedulerConfig{RunInterval: time.Hour}))
		admin := kh.sslClient(t, "")
		b := builder(t, kh, admin, "b1")
		checkIn(t, b, 0, true, nil)
		t1 := makeTask(t, admin, nil)
		// The first getTasks with nothing assigned runs the scheduler.
		tasks, err := b.HostAPI().Tasks(ctx)
		require.NoError(t, err)
		require.Len(t, tasks, 1)
		assert.Equal(t, t1, tasks[0].ID)
		o, err := b.HostAPI().OpenTask(ctx, t1)
		require.NoError(t, err)
		require.NotNil(t, o)
		t2 := makeTask(t, admin, nil)
		// Within RunInterval it does not run again, nor does doRun unforced.
		tasks, err = b.HostAPI().Tasks(ctx)
		require.NoError(t, err)
		assert.Empty(t, tasks)
		ran, err := admin.RunScheduler(ctx, false)
		require.NoError(t, err)
		assert.False(t, ran)
		forceRun(t, admin)
		tasks, err = b.HostAPI().Tasks(ctx)
		require.NoError(t, err)
		require.Len(t, tasks, 1)
		assert.Equal(t, t2, tasks[0].ID)
	})
}

// The scheduler runs on its own: a builder that stops checking in loses
// its open task though no builder asks for work.
func TestSchedulerFreesDeadHostWithoutPolling(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, schedulerConfig(hubserver.SchedulerConfig{
			RunInterval: 100 * time.Millisecond, HostTimeout: 300 * time.Millisecond, ReadyTimeout: time.Minute,
		}))
		admin := kh.sslClient(t, "")
		b := builder(t, kh, admin, "b1")
		checkIn(t, b, 0, true, nil)
		task := makeTask(t, admin, nil)
		// The background run assigns it, as a builder's poll would.
		require.Eventually(t, func() bool {
			state, _ := taskHost(t, admin, task)
			return state == koji.TaskAssigned
		}, 5*time.Second, 20*time.Millisecond)
		o, err := b.HostAPI().OpenTask(ctx, task)
		require.NoError(t, err)
		require.NotNil(t, o)
		// Freed, the task may well be assigned again at once: b1 is still
		// ready, only silent.
		require.Eventually(t, func() bool {
			state, _ := taskHost(t, admin, task)
			return state != koji.TaskOpen
		}, 5*time.Second, 20*time.Millisecond)
		assert.Contains(t, logMessages(t, admin, "task_id", task), "Freeing task from unresponsive host")
	})
}

func TestSchedulerMethods(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		bob := withBob(t, kh)
		admin := kh.sslClient(t, "")
		b := builder(t, kh, admin, "b1")
		checkIn(t, b, 0, true, map[string]any{"methods": []any{"sleep"}})
		task := makeTask(t, admin, nil)

		assert.Equal(t, "admin permission required (logged in as bob)",
			bob.fault(t, 0, koji.ErrActionNotAllowed, "scheduler.doRun"))
		assert.Equal(t, "admin permission required (logged in as bob)",
			bob.fault(t, 0, koji.ErrActionNotAllowed, "assignTask", task, "b1"))
		assert.Equal(t, "Invalid hostInfo: nope", bob.fault(t, 0, koji.ErrGeneric, "assignTask", task, "nope"))
		require.NoError(t, admin.Call(ctx, "addHost", nil, "b2", []any{"x86_64"}))
		var ok bool
		require.NoError(t, admin.Call(ctx, "assignTask", &ok, task, "b1"))
		assert.True(t, ok)
		require.NoError(t, admin.Call(ctx, "assignTask", &ok, task, 1))
		assert.True(t, ok, "a second assignment to the same host is a no-op success")
		// Taking an assigned task from its host needs force.
		require.NoError(t, admin.Call(ctx, "assignTask", &ok, task, "b2"))
		assert.False(t, ok)
		assert.Equal(t, []string{"Assigning task", "Assigning task", "Assignment failed"}, logMessages(t, admin, "task_id", task))
		require.NoError(t, admin.CallKw(ctx, "assignTask", &ok, []any{task, "b2"}, map[string]any{"force": true}))
		assert.True(t, ok)
		require.NoError(t, admin.Call(ctx, "assignTask", &ok, task, "b1", true))
		assert.True(t, ok)

		// The views: clauses, fields, options, and their faults.
		var rows []map[string]any
		require.NoError(t, admin.CallKw(ctx, "scheduler.getTaskRuns", &rows, nil,
			map[string]any{"clauses": []any{[]any{"task_id", "=", task}, []any{"host_id", []any{1, 2}}, []any{"active", "is", true}},
				"fields": []any{"*"}}))
		require.Len(t, rows, 1)
		assert.Equal(t, int64(1), rows[0]["host_id"])
		assert.ElementsMatch(t, []string{"id", "task_id", "host_id", "active", "create_ts"}, keysOf(rows[0]))
		var n int
		require.NoError(t, admin.CallKw(ctx, "scheduler.getTaskRuns", &n, nil, map[string]any{"opts": map[string]any{"countOnly": true}}))
		assert.Equal(t, 4, n, "every assignment made a run")
		var lists [][]any
		require.NoError(t, admin.CallKw(ctx, "scheduler.getTaskRuns", &lists, nil,
			map[string]any{"fields": []any{"method", "active"}, "opts": map[string]any{"order": "-id", "asList": true, "limit": 2}}))
		assert.Equal(t, [][]any{{true, "sleep"}, {false, "sleep"}}, lists, "fields in name order")
		require.NoError(t, admin.CallKw(ctx, "scheduler.getLogMessages", &rows, nil,
			map[string]any{"clauses": []any{[]any{"msg", "Assigning task"}}, "fields": []any{"msg", "method", "host_name"}}))
		assert.Equal(t, map[string]any{"msg": "Assigning task", "method": "sleep", "host_name": "b1"}, rows[0])
		require.NoError(t, admin.Call(ctx, "scheduler.getHostData", &rows))
		assert.Equal(t, []map[string]any{{"host_id": int64(1), "data": map[string]any{"methods": []any{"sleep"}}}}, rows)
		require.NoError(t, admin.Call(ctx, "scheduler.getHostData", &rows, 7))
		assert.Empty(t, rows)
		for _, c := range []struct {
			method string
			args   []any
			code   koji.FaultClass
			msg    string
		}{
			{"scheduler.getTaskRuns", []any{nil, []any{"nope"}}, koji.ErrParameter, "Invalid field for query nope"},
			{"scheduler.getTaskRuns", []any{[]any{[]any{"id", "LIKE", 1}}}, koji.ErrParameter, "Invalid operator: LIKE"},
			{"scheduler.getTaskRuns", []any{[]any{[]any{"id"}}}, koji.ErrParameter, "Invalid clause: ['id']"},
			{"scheduler.getTaskRefusals", []any{[]any{[]any{"nope", 1}}}, koji.ErrParameter, "Invalid field for query nope"},
			{"scheduler.getLogMessages", []any{nil, nil, map[string]any{"order": "-nope"}}, koji.ErrParameter, "Invalid field for query nope"},
			{"scheduler.getTaskRefusals", []any{nil, nil, nil}, koji.ErrParameter,
				"get_task_refusals() takes from 0 to 2 positional arguments but 3 were given"},
		} {
			assert.Equal(t, c.msg, faultString(t, admin, c.code, c.method, c.args, nil), "%s %v", c.method, c.args)
		}
	})
}

func keysOf(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// listAPI is the hub's _listapi answer by method name.
func listAPI(t *testing.T, kh *kojiHub) map[string]map[string]any {
	t.Helper()
	var api []map[string]any
	require.NoError(t, kh.client(t).Call(context.Background(), "_listapi", &api))
	byName := map[string]map[string]any{}
	for _, m := range api {
		byName[m["name"].(string)] = m
	}
	return byName
}

// The builder protocol's and the scheduler's methods have upstream's
// signatures (from Koji 1.35.3's method list), as _listapi shows them; the
// long-poll methods are listed and documented.
func TestHostTaskMethodSignatures(t *testing.T) {
	upstream := map[string]string{
		"assignTask":                "(task_id, host, force=False, override=False)",
		"host.closeTask":            "(task_id, response)",
		"host.failTask":             "(task_id, response)",
		"host.freeTasks":            "(tasks)",
		"host.getHostTasks":         "()",
		"host.getLoadData":          "()",
		"host.getTasks":             "()",
		"host.isEnabled":            "()",
		"host.openTask":             "(task_id)",
		"host.refuseTask":           "(task_id, soft=True, msg='')",
		"host.setHostData":          "(hostdata)",
		"host.setTaskWeight":        "(task_id, weight)",
		"host.subtask":              "(method, arglist, parent, **opts)",
		"host.subtask2":             "(_HostExports__parent, _HostExports__taskopts, _HostExports__method, *args, **opts)",
		"host.taskSetWait":          "(parent, tasks)",
		"host.taskWait":             "(parent)",
		"host.taskWaitResults":      "(parent, tasks, canfail=None)",
		"host.updateHost":           "(task_load, ready, data=None)",
		"scheduler.doRun":           "(force=False)",
		"scheduler.getHostData":     "(hostID=None)",
		"scheduler.getLogMessages":  "(clauses=None, fields=None, opts=None)",
		"scheduler.getTaskRefusals": "(clauses=None, fields=None)",
		"scheduler.getTaskRuns":     "(clauses=None, fields=None, opts=None)",
	}
	kh := startKoji(t, filepath.Join(t.TempDir(), "hub.db"), nil)
	byName := listAPI(t, kh)
	for name, want := range upstream {
		require.Contains(t, byName, name)
		assert.Equal(t, want, byName[name]["argdesc"], name)
	}
	for name, argdesc := range map[string]string{"host.waitTasks": "(timeout=None)", "host.taskWaitAny": "(parent, timeout=None)"} {
		require.Contains(t, byName, name)
		assert.Equal(t, argdesc, byName[name]["argdesc"])
		assert.Contains(t, byName[name]["doc"], "not in upstream Koji")
	}
	var names []string
	require.NoError(t, kh.client(t).Call(context.Background(), "system.listMethods", &names))
	assert.Contains(t, names, "host.waitTasks")
}
