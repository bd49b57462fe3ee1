package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/auth"
	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/hubserver/hubtest"
	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/koji"
)

// The binary, configured by a kojid.conf and flags, logs in with a
// client certificate, runs a sleep task and stops on its context (the
// signal), checking in as not ready.
func TestKojidRunsSleepTasks(t *testing.T) { eachBackend(t, testKojid) }

// eachBackend runs fn on a fresh SQLite file and a fresh PostgreSQL
// schema.
func eachBackend(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, filepath.Join(t.TempDir(), "hub.db")) })
	t.Run("postgres", func(t *testing.T) { fn(t, testenv.PostgresDSN(t)) })
}

func testKojid(t *testing.T, dsn string) {
	ctx := context.Background()
	h := startHostHub(t, dsn)
	admin, dir := h.admin, h.dir
	conf := h.write("kojid.conf", fmt.Appendf(nil, "[kojid]\nserver = %s\nserverca = %s\nsleeptime = 1\nminspace = -1\n"+
		"workdir = %s\nmockdir = /var/lib/mock\nlog_level = debug\n", h.url, h.caFile, filepath.Join(dir, "work")))

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	logs := logFile(t)
	done := make(chan error, 1)
	go func() { done <- run(runCtx, []string{"-config", conf, "-cert", h.certFile, "-key", h.keyFile}, logs) }()

	id, err := admin.MakeTask(ctx, "sleep", []any{0}, nil)
	require.NoError(t, err)
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, err := admin.GetTaskInfo(ctx, id, nil)
		require.NoError(t, err)
		if info.State == koji.TaskClosed {
			break
		}
		require.False(t, info.State.Done(), "task ended %v; logs:\n%s", info.State, logs.String())
		require.True(t, time.Now().Before(deadline), "task still %v; logs:\n%s", info.State, logs.String())
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	select {
	case err := <-done:
		require.NoError(t, err, logs.String())
	case <-time.After(30 * time.Second):
		t.Fatal("kojid did not stop")
	}
	host, err := admin.GetHost(ctx, "builder1", nil)
	require.NoError(t, err)
	assert.False(t, host.Ready)
	assert.Contains(t, logs.String(), "builder: stopped")
}

// Bad settings are errors before any login.
func TestKojidSettingsErrors(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "kojid.conf")
	for contents, want := range map[string]string{
		"[kojid]\nserver = https://h/kojihub\nfrobs = 1\n":                  `unknown option "frobs"`,
		"[kojid]\nserver = https://h/kojihub\nmaxjobs = zero\n":             `maxjobs = "zero"`,
		"[kojid]\nserver = https://h/kojihub\nsleeptime = -1\n":             `sleeptime = "-1"`,
		"[kojid]\nserver = https://h/kojihub\nuse_fast_upload = maybe\n":    "not a boolean",
		"[kojid]\nsleeptime = 5\n":                                          "no server",
		"[kojid]\nserver = https://h/kojihub\n":                             "no login",
		"[kojid]\nserver = https://h/kojihub\nuser = u\nlog_level = loud\n": "log_level",
	} {
		require.NoError(t, os.WriteFile(conf, []byte(contents), 0o600))
		var stderr bytes.Buffer
		err := run(context.Background(), []string{"-config", conf}, &stderr)
		require.Error(t, err, contents)
		assert.Contains(t, err.Error(), want, contents)
	}
	err := run(context.Background(), []string{"-config", filepath.Join(dir, "missing.conf")}, &bytes.Buffer{})
	assert.ErrorContains(t, err, "config")
	err = run(context.Background(), []string{"-nosuchflag"}, &bytes.Buffer{})
	assert.True(t, err != nil && strings.Contains(err.Error(), "nosuchflag"))
}

// hostHub is a hub with the admin kojiadmin and the host builder1,
// whose certificate, key and CA files are in dir.
type hostHub struct {
	admin                     *koji.Client
	url, dir                  string
	certFile, keyFile, caFile string
	t                         *testing.T
}

func (h *hostHub) write(name string, data []byte) string {
	p := filepath.Join(h.dir, name)
	require.NoError(h.t, os.WriteFile(p, data, 0o600))
	return p
}

func startHostHub(t *testing.T, dsn string) *hostHub {
	ctx := context.Background()
	cfg := hubserver.KojiConfig{DSN: dsn, Admin: "kojiadmin"}
	cfg.Logger = slog.New(slog.DiscardHandler)
	k, err := hubserver.OpenKoji(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { k.Close() })
	register := func(h *hubserver.Hub) { require.NoError(t, h.Register(k.Methods()...)) }
	adminHub, adminPKI := hubtest.StartTLS(t, k.HubConfig(), "kojiadmin", register)
	admin, err := koji.NewClient(adminHub.URL(), koji.WithHTTPClient(httpClient(adminPKI)))
	require.NoError(t, err)
	require.NoError(t, admin.Login(ctx, &auth.SSL{Certificate: &adminPKI.Client}))
	require.NoError(t, admin.Call(ctx, "addHost", nil, "builder1", []string{"x86_64"}))

	hub, pki := hubtest.StartTLS(t, k.HubConfig(), "builder1", register)
	h := &hostHub{admin: admin, url: hub.URL(), dir: t.TempDir(), t: t}
	key, err := x509.MarshalPKCS8PrivateKey(pki.Client.PrivateKey)
	require.NoError(t, err)
	h.certFile = h.write("host.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pki.Client.Certificate[0]}))
	h.keyFile = h.write("host.key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}))
	h.caFile = h.write("ca.pem", pki.CAPEM)
	return h
}

func httpClient(p *hubtest.PKI) *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: p.ClientTLS(false)}}
}

// logFile is a file for the daemon's logs, which its goroutines may write
// at once; String reads what they wrote.
type logFileT struct{ *os.File }

func logFile(t *testing.T) logFileT {
	f, err := os.Create(filepath.Join(t.TempDir(), "kojid.log"))
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return logFileT{f}
}

func (f logFileT) String() string {
	data, _ := os.ReadFile(f.Name())
	return string(data)
}
