package hubserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// requestState is repo.checkRequest's answer for a request.
func requestState(t *testing.T, c *koji.Client, id any) map[string]any {
	t.Helper()
	return call(t, c, "repo.checkRequest", []any{id}, nil).(map[string]any)
}

// eventually waits (up to 10s) until cond holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// requestTask waits until the request has a task other than not, and
// returns it.
func requestTask(t *testing.T, c *koji.Client, id any, not any) int64 {
	t.Helper()
	var task int64
	eventually(t, fmt.Sprintf("a task for request %v", id), func() bool {
		req := requestState(t, c, id)["request"].(map[string]any)
		tid, ok := req["task_id"].(int64)
		task = tid
		return ok && tid != not
	})
	return task
}

// failTask fails an open task as a builder does.
func failTask(t *testing.T, host *koji.Client, task int64) {
	t.Helper()
	b, err := xmlrpc.MarshalFault(&xmlrpc.Fault{Code: 1000, String: "createrepo failed"})
	require.NoError(t, err)
	call(t, host, "host.openTask", []any{task}, nil)
	call(t, host, "host.failTask", []any{task, string(b)}, nil)
}

// runRepoTask is a builder's newRepo task for a request's task: the
// repo at the task's options, its repodata, and the task closed with
// [repo_id, event_id].
func (rh *repoHub) runRepoTask(t *testing.T, task int64) int64 {
	t.Helper()
	req := call(t, rh.admin, "getTaskRequest", []any{task}, nil).([]any)
	tagspec := req[0].(map[string]any)
	kw := req[1].(map[string]any)
	call(t, rh.host, "host.openTask", []any{task}, nil)
	res := call(t, rh.host, "host.repoInit", []any{tagspec["id"]}, map[string]any{"task_id": task, "opts": kw["opts"],
		"event": kw["event"]}).([]any)
	repoID := res[0].(int64)
	dir := fmt.Sprintf("tasks/%d/%d/x86_64", task%10000, task)
	require.NoError(t, rh.host.Upload(context.Background(), strings.NewReader("<repomd/>"), dir, "repomd.xml", nil))
	call(t, rh.host, "host.repoDone", []any{repoID, map[string]any{"x86_64": []any{dir, []any{"repomd.xml"}}}}, nil)
	b, err := xmlrpc.MarshalResponse(res)
	require.NoError(t, err)
	call(t, rh.host, "host.closeTask", []any{task, string(b)}, nil)
	return repoID
}

// TestRepoQueueWorker: the hub's worker turns requests into newRepo tasks
// at once (its timer is a minute), one at a time with MaxRepoTasks 1 and
// in priority order, retries a failed task RepoRetries times before
// giving the request up, and a finished repo fulfils its request.
// Duplicate requests join the first, lowering its priority number.
func TestRepoQueueWorker(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		rh := startRepoHub(t, dsn, func(c *hubserver.KojiConfig) {
			c.Repos.MaxRepoTasks = 1
			c.Repos.RepoRetries = 1
			c.Repos.WorkerInterval = time.Minute
		})
		call(t, rh.admin, "createTag", []any{"f41-build"}, map[string]any{"arches": "x86_64"})

		first := call(t, rh.admin, "repo.request", []any{"f40-build"}, map[string]any{"min_event": "last"}).(map[string]any)
		assert.Nil(t, first["repo"])
		assert.Equal(t, false, first["duplicate"])
		reqA := first["request"].(map[string]any)
		assert.Equal(t, int64(20), reqA["priority"])
		assert.Equal(t, "kojiadmin", reqA["owner_name"])
		assert.Equal(t, map[string]any{}, reqA["opts"])
		dup := call(t, rh.admin, "repo.request", []any{"f40-build"}, map[string]any{"min_event": "last", "priority": -5}).(map[string]any)
		assert.Equal(t, true, dup["duplicate"])
		assert.Equal(t, reqA["id"], dup["request"].(map[string]any)["id"])
		assert.Equal(t, int64(15), dup["request"].(map[string]any)["priority"], "the request's priority is raised")

		taskA := requestTask(t, rh.admin, reqA["id"], nil)
		info := call(t, rh.admin, "getTaskInfo", []any{taskA}, map[string]any{"request": true}).(map[string]any)
		assert.Equal(t, "newRepo", info["method"])
		assert.Equal(t, int64(15), info["priority"])
		assert.Equal(t, []any{map[string]any{"id": rh.tagID, "name": "f40-build"},
			map[string]any{"opts": map[string]any{}, "__starstar": true}}, info["request"])
		assert.Equal(t, int64(1), info["owner"], "kojira does not exist: the requester owns it")
		assert.Equal(t, int64(koji.TaskFree), requestState(t, rh.admin, reqA["id"])["task"].(map[string]any)["state"],
			"checkRequest shows the task")

		reqB := call(t, rh.admin, "repo.request", []any{"f41-build"}, map[string]any{"min_event": "last"}).(map[string]any)["request"].(map[string]any)
		assert.Nil(t, call(t, rh.admin, "repo.checkQueue", nil, nil))
		assert.Nil(t, requestState(t, rh.admin, reqB["id"])["request"].(map[string]any)["task_id"], "MaxRepoTasks is 1")

		// Two failures: a retry, then the request is given up and the
		// other one gets the slot.
		failTask(t, rh.host, taskA)
		taskA2 := requestTask(t, rh.admin, reqA["id"], taskA)
		assert.Equal(t, int64(2), requestState(t, rh.admin, reqA["id"])["request"].(map[string]any)["tries"])
		assert.Nil(t, requestState(t, rh.admin, reqB["id"])["request"].(map[string]any)["task_id"])
		failTask(t, rh.host, taskA2)
		taskB := requestTask(t, rh.admin, reqB["id"], nil)
		a := requestState(t, rh.admin, reqA["id"])
		assert.Equal(t, false, a["request"].(map[string]any)["active"], "retries exhausted")
		assert.Nil(t, a["repo"])

		repoID := rh.runRepoTask(t, taskB)
		b := requestState(t, rh.admin, reqB["id"])
		assert.Equal(t, false, b["request"].(map[string]any)["active"])
		assert.Equal(t, repoID, b["request"].(map[string]any)["repo_id"])
		require.NotNil(t, b["repo"])
		assert.Equal(t, int64(1), b["repo"].(map[string]any)["state"])
		assert.Equal(t, repoFields, keys(t, b["repo"]))

		// A satisfied request gets the repo straight away.
		again := call(t, rh.admin, "repo.request", []any{"f41-build"}, map[string]any{"min_event": "last"}).(map[string]any)
		assert.Equal(t, repoID, again["repo"].(map[string]any)["id"])
		assert.Nil(t, again["request"])
		forced := call(t, rh.admin, "repo.request", []any{"f41-build"}, map[string]any{"min_event": "last", "force": true}).(map[string]any)
		assert.NotNil(t, forced["request"], "force asks for a new repo")

		rows := call(t, rh.admin, "repo.queryQueue", []any{[]any{[]any{"active", "IS", true}}}, map[string]any{"fields": []any{"id", "tag_name"}}).([]any)
		assert.Equal(t, []any{map[string]any{"id": forced["request"].(map[string]any)["id"], "tag_name": "f41-build"}}, rows)
	})
}

// workerRunning reports whether a repo queue worker goroutine exists.
func workerRunning() bool {
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	return bytes.Contains(buf[:n], []byte("(*repoWorker).loop"))
}

// TestRepoWorkerStops: Close stops the worker's goroutine; with
// DisableRepoWorker there is none, and only repo.checkQueue makes tasks.
func TestRepoWorkerStops(t *testing.T) {
	ctx := context.Background()
	k, err := hubserver.OpenKoji(ctx, hubserver.KojiConfig{DSN: filepath.Join(t.TempDir(), "hub.db"), Config: hubserver.Config{Logger: quiet}})
	require.NoError(t, err)
	eventually(t, "the worker to run", workerRunning)
	require.NoError(t, k.Close())
	assert.False(t, workerRunning(), "Close stops the worker")

	rh := startRepoHub(t, filepath.Join(t.TempDir(), "hub.db"), func(c *hubserver.KojiConfig) { c.Repos.DisableRepoWorker = true })
	assert.False(t, workerRunning())
	req := call(t, rh.admin, "repo.request", []any{"f40-build"}, map[string]any{"min_event": "last"}).(map[string]any)["request"].(map[string]any)
	time.Sleep(100 * time.Millisecond)
	assert.Nil(t, requestState(t, rh.admin, req["id"])["request"].(map[string]any)["task_id"])
	assert.Nil(t, call(t, rh.admin, "repo.checkQueue", nil, nil))
	assert.NotNil(t, requestState(t, rh.admin, req["id"])["request"].(map[string]any)["task_id"])
}

// TestRepoWaitRepoPython: the calls of koji wait-repo --request, plain
// wait-repo and regen-repo, made by Python's xmlrpc.client, while a
// builder (this test) runs the newRepo task the worker creates.
func TestRepoWaitRepoPython(t *testing.T) {
	py := testenv.Command(t, "python3")
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		rh := startRepoHub(t, dsn, nil)
		call(t, rh.admin, "createUser", []any{"bob"}, nil)
		require.NoError(t, rh.koji.SetPassword(ctx, "bob", "secret"))
		call(t, rh.admin, "grantPermission", []any{"bob", "regen-repo"}, map[string]any{"create": true})
		ca := filepath.Join(t.TempDir(), "ca.pem")
		require.NoError(t, os.WriteFile(ca, rh.pki.CAPEM, 0o600))

		cmd := exec.Command(py, "testdata/pyrepos.py", rh.hub.URL(), ca, "bob", "secret", "f40-build")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		require.NoError(t, cmd.Start())
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()

		var task int64
		eventually(t, "the worker's task for bob's request", func() bool {
			rows := call(t, rh.admin, "repo.queryQueue", nil, map[string]any{"fields": []any{"task_id", "owner_name"}}).([]any)
			if len(rows) == 1 {
				task, _ = rows[0].(map[string]any)["task_id"].(int64)
			}
			return task != 0
		})
		repoID := rh.runRepoTask(t, task)
		select {
		case err := <-done:
			require.NoError(t, err, stderr.String())
		case <-time.After(30 * time.Second):
			t.Fatal("wait-repo did not finish")
		}
		var out map[string]any
		require.NoError(t, json.Unmarshal(stdout.Bytes(), &out), stdout.String())
		assert.Nil(t, out["timeout"])
		assert.Empty(t, out["missing"], "wait_request reads these request members")
		assert.NotZero(t, out["polls"])
		first := out["first"].(map[string]any)
		assert.Nil(t, first["repo"])
		assert.Equal(t, false, first["duplicate"])
		done1 := out["done"].(map[string]any)
		repo := done1["repo"].(map[string]any)
		assert.Equal(t, float64(repoID), repo["id"])
		assert.Equal(t, float64(1), repo["state"])
		assert.Equal(t, "f40-build", repo["tag_name"])
		assert.Equal(t, false, done1["request"].(map[string]any)["active"])
		assert.Equal(t, float64(repoID), out["get"].(map[string]any)["id"], "anonymous repo.get finds it")
		assert.Equal(t, []any{float64(koji.ErrActionNotAllowed), "you must be logged in for this operation"}, out["anon_request"])
		regen := int64(out["regen"].(float64))
		assert.Equal(t, "newRepo", call(t, rh.admin, "getTaskInfo", []any{regen}, nil).(map[string]any)["method"])
	})
}
