//go:build unix

package builder_test

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/auth"
	"github.com/gokoji/gokoji/builder"
	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/koji"
)

// helperEnv, set in a test binary's environment, makes it a builder
// process (runHelperBuilder) instead of running the tests; its value is
// the helperConfig in JSON.
const helperEnv = "GOKOJI_BUILDER_TEST_HELPER"

// TestMain runs the tests, or the helper builder when helperEnv is set.
func TestMain(m *testing.M) {
	if cfg := os.Getenv(helperEnv); cfg != "" {
		os.Exit(runHelperBuilder(cfg))
	}
	os.Exit(m.Run())
}

// helperConfig is what a helper builder process is given: where the hub
// is, the files of its TLS client certificate, and whether its doubler
// holds each task until the process ends.
type helperConfig struct {
	URL, CAFile, CertFile, KeyFile string
	WorkDir                        string
	ForceLock, Hold                bool
}

// runHelperBuilder runs a daemon with a doubler until SIGTERM, as a
// kojid process, writing "started <task id>" to stdout as each handler
// starts and its logs to stderr. It returns the exit code.
func runHelperBuilder(cfgJSON string) int {
	var cfg helperConfig
	if err := json.Unmarshal([]byte(cfgJSON), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	p := koji.DefaultProfile()
	p.Server, p.ServerCA, p.Cert = cfg.URL, cfg.CAFile, ""
	c, err := koji.NewClientFromProfile(p)
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 2
	}
	defer c.Close()
	d, err := builder.New(builder.Config{
		Client: c, Auth: &auth.SSL{CertFile: cfg.CertFile, KeyFile: cfg.KeyFile}, ForceLock: cfg.ForceLock,
		WorkDir: cfg.WorkDir, MinSpace: -1, MaxLoad: -1,
		SleepTime: 500 * time.Millisecond, CheckInterval: 200 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)),
	}, &doubler{hold: cfg.Hold, onStart: func(id int) { fmt.Printf("started %d\n", id) }})
	if err == nil {
		err = d.Run(ctx)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 1
	}
	return 0
}

// A doubler's tasks (method "double", weight 1) answer twice their
// integer argument; with hold, only once their context ends, which is
// never for a process that is killed.
type doubler struct {
	hold    bool
	onStart func(id int)
}

func (*doubler) Methods() []string            { return []string{"double"} }
func (*doubler) Weight(*builder.Task) float64 { return 1 }
func (h *doubler) Handle(ctx context.Context, t *builder.Task) (any, error) {
	if h.onStart != nil {
		h.onStart(t.ID)
	}
	n, ok := t.Params[0].(int64)
	if len(t.Params) != 1 || !ok {
		return nil, builder.Fail(koji.ErrParameter, "double takes one integer, not %v", t.Params)
	}
	if h.hold {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return 2 * n, nil
}

// helperProcess is a running helper builder.
type helperProcess struct {
	cmd     *exec.Cmd
	stderr  string   // the file of its stderr
	started chan int // task ids, as the handlers start
	done    chan struct{}
}

// log is what the process wrote to stderr so far.
func (hp *helperProcess) log() string {
	b, err := os.ReadFile(hp.stderr)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// startHelper starts a helper builder process logged in as the host name
// on a front end of its own.
func (th *testHub) startHelper(t *testing.T, name string, hold, forceLock bool) *helperProcess {
	url, pki, _ := th.startFrontEnd(t, name)
	dir := t.TempDir()
	write := func(file string, data []byte) string {
		p := filepath.Join(dir, file)
		require.NoError(t, os.WriteFile(p, data, 0o600))
		return p
	}
	key, err := x509.MarshalPKCS8PrivateKey(pki.Client.PrivateKey)
	require.NoError(t, err)
	cfg, err := json.Marshal(helperConfig{
		URL:      url,
		CAFile:   write("ca.pem", pki.CAPEM),
		CertFile: write("host.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pki.Client.Certificate[0]})),
		KeyFile:  write("host.key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key})),
		WorkDir:  filepath.Join(dir, "work"), ForceLock: forceLock, Hold: hold,
	})
	require.NoError(t, err)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"="+string(cfg))
	hp := &helperProcess{cmd: cmd, stderr: filepath.Join(dir, "stderr"), started: make(chan int, 10), done: make(chan struct{})}
	stderr, err := os.Create(hp.stderr)
	require.NoError(t, err)
	defer stderr.Close() // the process has its own copy
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	go func() {
		defer close(hp.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if id, err := strconv.Atoi(strings.TrimPrefix(sc.Text(), "started ")); err == nil {
				hp.started <- id
			}
		}
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		if t.Failed() {
			t.Logf("%s's stderr:\n%s", name, hp.log())
		}
	})
	return hp
}

// wait waits for the process to exit, and returns its status.
func (hp *helperProcess) wait(t *testing.T) syscall.WaitStatus {
	t.Helper()
	<-hp.done // the stdout pipe must be read to its end before Wait
	err := hp.cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return hp.cmd.ProcessState.Sys().(syscall.WaitStatus)
}

// killMidTask starts a helper builder for the host builder1 whose
// handler holds its task, makes a double task, sees it OPEN on builder1
// with its handler started, and SIGKILLs the process. It returns the
// task.
func killMidTask(t *testing.T, th *testHub) int {
	th.addHost(t, "builder1")
	hp := th.startHelper(t, "builder1", true, false)
	id := th.makeTask(t, "double", 21)
	assert.Equal(t, id, within(t, hp.started, 30*time.Second, "the helper's handler start"))
	info := th.waitState(t, id, koji.TaskOpen)
	host, err := th.admin.GetHost(context.Background(), "builder1", nil)
	require.NoError(t, err)
	require.NotNil(t, info.HostID)
	assert.Equal(t, host.ID, *info.HostID, "the task is open on builder1")

	require.NoError(t, hp.cmd.Process.Signal(syscall.SIGKILL))
	status := hp.wait(t)
	require.True(t, status.Signaled(), "exit status %v", status)
	assert.Equal(t, syscall.SIGKILL, status.Signal())
	assert.NotContains(t, hp.log(), "builder: freeing running tasks", "a killed builder frees nothing")
	assert.Equal(t, koji.TaskOpen, th.waitState(t, id, koji.TaskOpen).State, "the killed builder's task stays open")
	return id
}

// checkDoubled checks that the task closed on the host with 42, twice
// the 21 it was given.
func (th *testHub) checkDoubled(t *testing.T, id int, host string) {
	t.Helper()
	info := th.waitState(t, id, koji.TaskClosed, koji.TaskFailed)
	require.Equal(t, koji.TaskClosed, info.State)
	h, err := th.admin.GetHost(context.Background(), host, nil)
	require.NoError(t, err)
	require.NotNil(t, info.HostID)
	assert.Equal(t, h.ID, *info.HostID, "closed by %s", host)
	var result int
	require.NoError(t, th.admin.GetTaskResult(context.Background(), id, true, &result))
	assert.Equal(t, 42, result)
}

// A builder process killed with SIGKILL while its task runs leaves the
// task OPEN; the hub frees it once the host has not checked in for
// HostTimeout (upstream's "Freeing task from unresponsive host", §C8)
// and gives it to a second builder, which completes it. The dead host is
// not offered it again: it lost its ready flag after ReadyTimeout.
func TestKilledBuilderTaskGoesToAnotherBuilder(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		const hostTimeout = 3 * time.Second
		th := startHubWith(t, dsn, false, hubserver.SchedulerConfig{
			ReadyTimeout: 2 * time.Second, HostTimeout: hostTimeout, RunInterval: 200 * time.Millisecond})
		id := killMidTask(t, th)
		killed := time.Now()

		d2 := th.daemon(t, "builder2", nil, &doubler{})
		start(t, d2)
		th.checkDoubled(t, id, "builder2")
		assert.GreaterOrEqual(t, time.Since(killed), hostTimeout-time.Second,
			"freed when builder1 had been silent for HostTimeout, not before")

		host1, err := th.admin.GetHost(context.Background(), "builder1", nil)
		require.NoError(t, err)
		assert.False(t, host1.Ready, "builder1 was marked not ready")
		var msgs []struct {
			Msg    string `xmlrpc:"msg"`
			HostID *int   `xmlrpc:"host_id"`
		}
		require.NoError(t, th.admin.Call(context.Background(), "scheduler.getLogMessages", &msgs, [][]any{{"task_id", id}}))
		var texts []string
		for _, m := range msgs {
			if m.HostID != nil && *m.HostID == host1.ID {
				texts = append(texts, m.Msg)
			}
		}
		assert.Contains(t, texts, "Freeing task from unresponsive host")
	})
}

// A killed builder process started again takes its host's exclusive
// session over (--force-lock), frees the task the hub still thinks it
// runs (kojid's stale tasks after a restart, §D3) and, the hub assigning
// it again, completes it; it then stops gracefully on SIGTERM.
func TestKilledBuilderRestartedCompletesItsTask(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		th := startHub(t, dsn, false) // upstream's timeouts: nothing frees the task but the restart
		id := killMidTask(t, th)

		hp := th.startHelper(t, "builder1", false, true)
		assert.Equal(t, id, within(t, hp.started, 30*time.Second, "the restarted helper's handler start"))
		th.checkDoubled(t, id, "builder1")
		assert.Contains(t, hp.log(), "builder: freeing stale tasks")
		assert.Contains(t, hp.log(), fmt.Sprintf("tasks=[%d]", id))

		require.NoError(t, hp.cmd.Process.Signal(syscall.SIGTERM))
		status := hp.wait(t)
		assert.True(t, status.Exited() && status.ExitStatus() == 0, "exit status %v; stderr:\n%s", status, hp.log())
	})
}
