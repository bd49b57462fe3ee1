package hubserver_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/koji"
)

// pyBuilder is testdata/pybuilder.py running as a host's builder, an
// independent peer speaking Python's xmlrpc.client to a hub of its own on
// the test's database.
type pyBuilder struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer
	stderr strings.Builder
}

// startPyBuilder starts pybuilder.py in role with args, logged in with
// the client certificate of host name (which must exist), with env added
// to its environment. It is killed when ctx ends or the test does.
func startPyBuilder(ctx context.Context, t *testing.T, kh *kojiHub, name string, env []string, role string, args ...string) *pyBuilder {
	t.Helper()
	py := testenv.Command(t, "python3")
	h, pki := builderHub(t, kh, name)
	dir := t.TempDir()
	key, err := x509.MarshalPKCS8PrivateKey(pki.Client.PrivateKey)
	require.NoError(t, err)
	files := map[string][]byte{
		"ca.pem":   pki.CAPEM,
		"cert.pem": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pki.Client.Certificate[0]}),
		"key.pem":  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}),
	}
	for name, data := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o600))
	}
	argv := append([]string{"testdata/pybuilder.py", h.URL(),
		filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), role}, args...)
	p := &pyBuilder{cmd: exec.CommandContext(ctx, py, argv...)}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	p.cmd.WaitDelay = 5 * time.Second
	require.NoError(t, p.cmd.Start())
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	})
	return p
}

// result waits for the builder to finish and decodes the JSON object it
// printed.
func (p *pyBuilder) result(t *testing.T) map[string]any {
	t.Helper()
	require.NoError(t, p.cmd.Wait(), "pybuilder.py %s: %s", p.cmd.Args[6], p.stderr.String())
	var out map[string]any
	require.NoError(t, json.Unmarshal(p.stdout.Bytes(), &out), p.stdout.String())
	return out
}

// asJSON is v as it reads back from JSON, to compare with what Python
// printed.
func asJSON(t *testing.T, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	var out any
	require.NoError(t, json.Unmarshal(data, &out))
	return out
}

// A builder written with Python's xmlrpc.client, an independent peer,
// goes through the main path of the conversation.
func TestBuilderConversationPython(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		require.NoError(t, admin.Call(ctx, "addHost", nil, "pybuilder", []any{"x86_64"}))
		for _, arg := range []int{1, 2} {
			_, err := admin.MakeTask(ctx, "sleep", []any{arg}, nil)
			require.NoError(t, err)
		}
		out := startPyBuilder(ctx, t, kh, "pybuilder", nil, "main").result(t)

		assert.Equal(t, 1.0, out["id"])
		assert.Nil(t, out["updateHost"])
		tasks := out["tasks"].([]any)
		require.Len(t, tasks, 2)
		for i, task := range tasks {
			m := task.(map[string]any)
			assert.Equal(t, []any{float64(i + 1), 4.0, "sleep", 1.0}, []any{m["id"], m["state"], m["method"], m["host_id"]})
		}
		assert.Equal(t, []any{"sleep", []any{1.0}}, out["request"])
		assert.Nil(t, out["setTaskWeight"])
		assert.Equal(t, []any{map[string]any{"id": 1.0, "waiting": nil, "weight": 0.5}}, out["hostTasks"])
		assert.Nil(t, out["closeTask"])
		assert.Nil(t, out["failTask"])
		assert.Equal(t, map[string]any{"slept": 1.0}, out["result"])
		assert.Equal(t, []any{1000.0, "simulated failure"}, out["fault"])
		assert.Equal(t, []any{float64(koji.ErrActionNotAllowed), "host 1 does not own task 2"}, out["notOwner"])
		assert.Equal(t, []any{}, out["waitTasks"])
		assert.Nil(t, out["freeTasks"])

		// What Python stored reads back in Go.
		var res map[string]any
		require.NoError(t, admin.GetTaskResult(ctx, 1, true, &res))
		assert.Equal(t, map[string]any{"slept": int64(1)}, res)
	})
}

// Two Python builders run a task with subtasks as kojid runs koji's
// waittest: the first opens the parent, makes its subtasks (one of them
// twice under the same label), waits for them, reads their results,
// uploads a log into the task's directory and closes the parent; the
// second takes the subtasks, closing one with a result and failing the
// other. They wait in the hub's long polls, and then again polling as
// upstream's kojid does.
func TestBuilderSubtasksPython(t *testing.T) {
	for _, poll := range []bool{false, true} {
		t.Run(map[bool]string{false: "longpoll", true: "poll"}[poll], func(t *testing.T) {
			eachBackend(t, func(t *testing.T, dsn string) { builderSubtasksPython(t, dsn, poll) })
		})
	}
}

func builderSubtasksPython(t *testing.T, dsn string, poll bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	top := filepath.Join(t.TempDir(), "koji")
	require.NoError(t, os.MkdirAll(filepath.Join(top, "work"), 0o777))
	kh := startKoji(t, dsn, func(cfg *hubserver.KojiConfig) {
		cfg.TopDir = top
		// A polling builder's host.getTasks runs the scheduler at most
		// this often.
		cfg.Scheduler.RunInterval = 200 * time.Millisecond
	})
	var env []string
	if poll {
		env = []string{"PYBUILDER_POLL=1"}
	}
	admin := kh.sslClient(t, "")
	for _, name := range []string{"pyparent", "pyworker"} {
		require.NoError(t, admin.Call(ctx, "addHost", nil, name, []any{"x86_64"}))
	}
	parent, err := admin.MakeTask(ctx, "waittest", []any{1, 0.2}, &koji.MakeTaskOptions{Assign: "pyparent"})
	require.NoError(t, err)
	// The log kojid uploaded in the recorded exchanges, so that the
	// hub's answers compare with upstream's.
	dir := t.TempDir()
	log := filepath.Join(dir, "sleep.log")
	logData, err := os.ReadFile(filepath.Join("..", "internal", "kojitest", "testdata", "wire", "host_fastUpload.2.request.bin"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(log, logData, 0o600))

	w := startPyBuilder(ctx, t, kh, "pyworker", env, "worker", "2")
	p := startPyBuilder(ctx, t, kh, "pyparent", env, "waittest", log)
	out := p.result(t)
	work := w.result(t)

	// The parent's builder.
	assert.Equal(t, 1.0, out["id"])
	tasks := out["tasks"].([]any)
	require.Len(t, tasks, 1)
	pt := tasks[0].(map[string]any)
	assert.Equal(t, []any{float64(parent), float64(koji.TaskAssigned), "waittest", 1.0}, []any{pt["id"], pt["state"], pt["method"], pt["host_id"]})
	assert.Equal(t, []any{"waittest", []any{1.0, 0.2}}, out["request"])
	subtasks := out["subtasks"].([]any)
	require.Len(t, subtasks, 2)
	good, bad := int(subtasks[0].(float64)), int(subtasks[1].(float64))
	assert.Equal(t, []int{parent + 1, parent + 2}, []int{good, bad})
	assert.Equal(t, float64(good), out["again"], "a label already used answers its subtask")
	hostTasks := out["hostTasks"].([]any)
	require.Len(t, hostTasks, 1)
	ht := hostTasks[0].(map[string]any)
	assert.Equal(t, []any{float64(parent), true, 0.1}, []any{ht["id"], ht["waiting"], ht["weight"]})

	// The waits answered every subtask finished once, the last with
	// none unfinished; a long poll answered only when one finished.
	waits := out["waits"].([]any)
	require.NotEmpty(t, waits)
	var finished []float64
	for i, w := range waits {
		pair := w.([]any)
		f, u := pair[0].([]any), pair[1].([]any)
		if !poll {
			assert.NotEmpty(t, f, "wait %d answered nothing finished", i)
		}
		for _, id := range f {
			finished = append(finished, id.(float64))
		}
		for _, id := range u {
			assert.NotContains(t, finished, id, "wait %d", i)
		}
	}
	slices.Sort(finished)
	assert.Equal(t, []float64{float64(good), float64(bad)}, finished)
	assert.Equal(t, []any{}, waits[len(waits)-1].([]any)[1])
	assert.Equal(t, []any{[]any{}, []any{}}, out["taskWait"])

	// The worker's builder ran both subtasks of the parent.
	handled := work["handled"].([]any)
	require.Len(t, handled, 2)
	byLabel := map[string]map[string]any{}
	for _, h := range handled {
		m := h.(map[string]any)
		assert.Equal(t, float64(parent), m["parent"])
		assert.Equal(t, "sleep", m["method"])
		byLabel[m["label"].(string)] = m
	}
	require.Contains(t, byLabel, "0")
	require.Contains(t, byLabel, "bad")
	assert.Equal(t, float64(good), byLabel["0"]["id"])
	assert.Equal(t, []any{0.2}, byLabel["0"]["request"])
	assert.Equal(t, map[string]any{"slept": 0.2}, byLabel["0"]["result"])
	assert.Equal(t, float64(bad), byLabel["bad"]["id"])
	assert.Equal(t, []any{"BAD_ARG"}, byLabel["bad"]["request"])
	fault := byLabel["bad"]["fault"].([]any)
	require.Len(t, fault, 2)
	assert.Equal(t, 1.0, fault[0])
	assert.Contains(t, fault[1], "TypeError")
	assert.Nil(t, work["freeTasks"])

	// What the parent learned of its subtasks: the failure raised
	// again when it may not fail, a fault struct when it may.
	assert.Equal(t, fault, out["strictResults"])
	results := []any{
		[]any{float64(good), map[string]any{"slept": 0.2}},
		[]any{float64(bad), map[string]any{"faultCode": 1.0, "faultString": fault[1]}},
	}
	assert.Equal(t, results, out["results"])

	// The upload, answered as upstream answered kojid's.
	assert.Equal(t, []any{asJSON(t, recorded(t, "host_fastUpload.2"))}, out["rawUpload"])
	sameMembers(t, asJSON(t, recorded(t, "host_fastUpload.3")), out["checkUpload"], "mtime")
	assert.Equal(t, []any{"sleep.log"}, out["listTaskOutput"])
	stored, err := os.ReadFile(filepath.Join(top, "work", "tasks", strconv.Itoa(parent%10000), strconv.Itoa(parent), "sleep.log"))
	require.NoError(t, err)
	assert.Equal(t, logData, stored)
	assert.Nil(t, out["closeTask"])
	assert.Nil(t, out["freeTasks"])

	// What the Python builders stored reads back in Go.
	var res any
	require.NoError(t, admin.GetTaskResult(ctx, parent, true, &res))
	assert.Equal(t, results, asJSON(t, res))
	// taskWaitResults ended the wait: the parent no longer waits, its
	// subtasks are no longer awaited (the columns never set stay NULL).
	no := new(bool)
	for id, want := range map[int][4]any{
		parent: {koji.TaskClosed, 1, no, (*bool)(nil)},
		good:   {koji.TaskClosed, 2, (*bool)(nil), no},
		bad:    {koji.TaskFailed, 2, (*bool)(nil), no},
	} {
		info, err := admin.GetTaskInfo(ctx, id, nil)
		require.NoError(t, err)
		require.NotNil(t, info.HostID)
		assert.Equal(t, want, [4]any{info.State, *info.HostID, info.Waiting, info.Awaited}, "task %d", id)
	}
}
