//go:build unix

package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/koji"
)

// mainEnv, set in the test binary's environment, makes it kojid: TestMain
// runs main with the binary's arguments instead of the tests.
const mainEnv = "GOKOJI_KOJID_TEST_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) != "" {
		os.Args = append([]string{"kojid"}, os.Args[1:]...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// stopBound is how soon after SIGTERM kojid must have exited, whatever
// the hub does.
const stopBound = 10 * time.Second

// On SIGTERM with the hub gone, stopped (connections refused) or
// unreachable (connections that never answer), kojid exits within
// seconds: its retries end with the signal and its last calls (freeing
// its task, checking in as not ready, logging out) are bounded, as a
// dead hub cannot answer them anyway.
func TestKojidStopsPromptlyWithoutHub(t *testing.T) {
	for _, how := range []string{"stopped", "unreachable"} {
		t.Run(how, func(t *testing.T) {
			eachBackend(t, func(t *testing.T, dsn string) { testStopWithoutHub(t, dsn, how) })
		})
	}
}

func testStopWithoutHub(t *testing.T, dsn, how string) {
	h := startHostHub(t, dsn)
	p := startProxy(t, h.url)
	k := startKojid(t, h, p.url)
	id := k.runningSleepTask(t, h)
	switch how {
	case "stopped":
		p.refuse()
	case "unreachable":
		p.blackhole()
	}
	// Let the daemon find the hub gone: its calls fail and are retried
	// (soon enough for the client's retry budget to be left, which a
	// long outage spends).
	time.Sleep(500 * time.Millisecond)
	took, code := k.terminate(t)
	t.Logf("task %d; exited %d in %v after SIGTERM with the hub %s", id, code, took, how)
	assert.Less(t, took, stopBound, "kojid exited %v after SIGTERM; logs:\n%s", took, k.logs())
	// The hub never heard of the stop: kojid says so.
	assert.Equal(t, 1, code, k.logs())
	assert.Contains(t, k.logs(), "builder: stopped")
}

// On SIGTERM with the hub up, kojid stops its running task, frees it for
// another builder, checks in as not ready, logs out (closing its
// exclusive session) and exits 0, at once, as kojid's shutdown does.
func TestKojidSigtermFreesTasksAndLogsOut(t *testing.T) { eachBackend(t, testSigtermWithHub) }

func testSigtermWithHub(t *testing.T, dsn string) {
	ctx := context.Background()
	h := startHostHub(t, dsn)
	k := startKojid(t, h, h.url)
	id := k.runningSleepTask(t, h)
	took, code := k.terminate(t)
	t.Logf("exited %d in %v after SIGTERM", code, took)
	assert.Equal(t, 0, code, k.logs())
	assert.Less(t, took, stopBound, k.logs())

	info, err := h.admin.GetTaskInfo(ctx, id, nil)
	require.NoError(t, err)
	assert.Contains(t, []koji.TaskState{koji.TaskFree, koji.TaskAssigned}, info.State, "task %d after the stop", id)
	host, err := h.admin.GetHost(ctx, "builder1", nil)
	require.NoError(t, err)
	assert.False(t, host.Ready)
	var sessions []map[string]any
	require.NoError(t, h.admin.Call(ctx, "getSessionInfo", &sessions, false, host.UserID))
	assert.Empty(t, sessions, "builder1's sessions still open after logout")
}

// A second SIGTERM (or SIGINT) ends kojid at once, even while its stop
// waits for the hub, as kojid's during its shutdown.
func TestKojidSecondSignalEndsIt(t *testing.T) { eachBackend(t, testSecondSignal) }

func testSecondSignal(t *testing.T, dsn string) {
	h := startHostHub(t, dsn)
	p := startProxy(t, h.url)
	k := startKojid(t, h, p.url)
	k.runningSleepTask(t, h)
	p.blackhole()
	time.Sleep(500 * time.Millisecond)
	require.NoError(t, k.cmd.Process.Signal(syscall.SIGTERM))
	time.Sleep(200 * time.Millisecond)
	select {
	case <-k.exited:
		t.Fatalf("kojid exited %d on the first SIGTERM with the hub unreachable, before the test's second; logs:\n%s", k.code, k.logs())
	default:
	}
	took, _ := k.terminate(t)
	assert.Less(t, took, time.Second, k.logs())
	ws, ok := k.cmd.ProcessState.Sys().(syscall.WaitStatus)
	require.True(t, ok)
	assert.True(t, ws.Signaled() && ws.Signal() == syscall.SIGTERM, "kojid ended with %v, not by the second SIGTERM; logs:\n%s", ws, k.logs())
}

// kojidProcess is kojid (the test binary as main) running as builder1.
type kojidProcess struct {
	cmd     *exec.Cmd
	logFile string
	exited  chan struct{}
	code    int
}

// startKojid runs kojid against server (the hub, or a proxy of it) and
// waits until it checked in as ready.
func startKojid(t *testing.T, h *hostHub, server string) *kojidProcess {
	conf := h.write("kojid.conf", fmt.Appendf(nil, "[kojid]\nserver = %s\nserverca = %s\nsleeptime = 1\nminspace = -1\n"+
		"maxload = -1\nworkdir = %s\nlog_level = debug\n", server, h.caFile, filepath.Join(h.dir, "work")))
	k := &kojidProcess{logFile: filepath.Join(t.TempDir(), "kojid.log"), exited: make(chan struct{})}
	logs, err := os.Create(k.logFile)
	require.NoError(t, err)
	defer logs.Close()
	k.cmd = exec.Command(os.Args[0], "-config", conf, "-cert", h.certFile, "-key", h.keyFile)
	k.cmd.Env = append(os.Environ(), mainEnv+"=1")
	k.cmd.Stdout, k.cmd.Stderr = logs, logs
	require.NoError(t, k.cmd.Start())
	go func() {
		_ = k.cmd.Wait()
		k.code = k.cmd.ProcessState.ExitCode()
		close(k.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-k.exited:
		default:
			_ = k.cmd.Process.Kill()
			<-k.exited
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		host, err := h.admin.GetHost(context.Background(), "builder1", nil)
		require.NoError(t, err)
		if host.Ready {
			return k
		}
		select {
		case <-k.exited:
			t.Fatalf("kojid exited %d; logs:\n%s", k.code, k.logs())
		default:
		}
		require.True(t, time.Now().Before(deadline), "kojid not ready; logs:\n%s", k.logs())
		time.Sleep(50 * time.Millisecond)
	}
}

// runningSleepTask makes a long sleep task and waits until kojid runs it.
func (k *kojidProcess) runningSleepTask(t *testing.T, h *hostHub) int {
	ctx := context.Background()
	id, err := h.admin.MakeTask(ctx, "sleep", []any{600}, nil)
	require.NoError(t, err)
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, err := h.admin.GetTaskInfo(ctx, id, nil)
		require.NoError(t, err)
		if info.State == koji.TaskOpen {
			return id
		}
		require.False(t, info.State.Done(), "task ended %v; logs:\n%s", info.State, k.logs())
		require.True(t, time.Now().Before(deadline), "task still %v; logs:\n%s", info.State, k.logs())
		time.Sleep(50 * time.Millisecond)
	}
}

// terminate sends SIGTERM and waits (up to a few minutes) for the exit:
// how long it took and the exit code.
func (k *kojidProcess) terminate(t *testing.T) (time.Duration, int) {
	start := time.Now()
	require.NoError(t, k.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-k.exited:
		return time.Since(start), k.code
	case <-time.After(3 * time.Minute):
		t.Fatalf("kojid still running 3 minutes after SIGTERM; logs:\n%s", k.logs())
		return 0, 0
	}
}

func (k *kojidProcess) logs() string {
	data, _ := os.ReadFile(k.logFile)
	return string(data)
}

// A proxy forwards TCP connections to a hub until told to refuse them
// (the hub stopped) or to black-hole them (the hub unreachable: the
// connections stay open and nothing answers).
type proxy struct {
	url    string
	ln     net.Listener
	target string

	mu        sync.Mutex
	blackHole bool
	clients   []net.Conn // what kojid connected
	upstreams []net.Conn // to the hub
}

// startProxy starts a proxy of hubURL; url is the hub's URL through it.
func startProxy(t *testing.T, hubURL string) *proxy {
	u, err := url.Parse(hubURL)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{ln: ln, target: u.Host}
	u.Host = ln.Addr().String()
	p.url = u.String()
	go p.serve()
	t.Cleanup(p.refuse)
	return p
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.clients = append(p.clients, c)
		hole := p.blackHole
		p.mu.Unlock()
		if hole {
			continue // held open, never read
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.upstreams = append(p.upstreams, up)
		p.mu.Unlock()
		go p.pipe(up, c)
		go p.pipe(c, up)
	}
}

// pipe copies src to dst; at the end, it closes both unless the proxy
// black-holes, which leaves kojid's side open.
func (p *proxy) pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	p.mu.Lock()
	hole := p.blackHole
	p.mu.Unlock()
	if !hole {
		dst.Close()
		src.Close()
	}
}

// refuse closes the listener and every connection: new ones are refused.
func (p *proxy) refuse() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range append(p.clients, p.upstreams...) {
		c.Close()
	}
	p.clients, p.upstreams = nil, nil
}

// blackhole cuts the hub off: kojid's connections, open and new, stay
// open and get no answer.
func (p *proxy) blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.blackHole = true
	for _, c := range p.upstreams {
		c.Close()
	}
	p.upstreams = nil
}
