package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/auth"
	"github.com/gokoji/gokoji/builder"
	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/hubserver/hubtest"
	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/rebuild"
)

// testHub is a gokoji hub serving its files at /kojifiles, with a
// builder, and the admin's client.
type testHub struct {
	koji  *hubserver.Koji
	admin *koji.Client
	// adminPKI is the admin's front end's PKI (its client certificate's
	// CN is kojiadmin); url its XML-RPC URL.
	adminPKI *hubtest.PKI
	url      string
}

// frontEnd starts a front end of the hub whose client certificate is
// name's.
func frontEnd(t *testing.T, k *hubserver.Koji, name string) (*hubserver.Hub, *hubtest.PKI) {
	cfg := k.HubConfig()
	inner := cfg.Middleware
	files := http.StripPrefix("/kojifiles", k.FilesHandler())
	cfg.Middleware = func(next http.Handler) http.Handler {
		mux := http.NewServeMux()
		mux.Handle("/kojifiles/", files)
		mux.Handle("/", inner(next))
		return mux
	}
	methods := k.Methods()
	return hubtest.StartTLS(t, cfg, name, func(h *hubserver.Hub) { require.NoError(t, h.Register(methods...)) })
}

func clientOf(t *testing.T, h *hubserver.Hub, pki *hubtest.PKI) (*koji.Client, string) {
	top := strings.TrimSuffix(h.URL(), "/kojihub") + "/kojifiles"
	c, err := koji.NewClientFromProfile(&koji.Profile{Name: "test", Server: h.URL(), TopURL: top, Timeout: time.Minute},
		koji.WithHTTPClient(&http.Client{Transport: &http.Transport{TLSClientConfig: pki.ClientTLS(false)}}))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.Login(context.Background(), &auth.SSL{Certificate: &pki.Client}))
	return c, top
}

func startHub(t *testing.T, dsn string) *testHub {
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	kc := hubserver.KojiConfig{DSN: dsn, Admin: "kojiadmin", TopDir: t.TempDir()}
	kc.Logger = quiet
	k, err := hubserver.OpenKoji(ctx, kc)
	require.NoError(t, err)
	t.Cleanup(func() { k.Close() })
	ah, apki := frontEnd(t, k, "kojiadmin")
	admin, _ := clientOf(t, ah, apki)
	require.NoError(t, admin.Call(ctx, "addHost", nil, "builder1", []string{"x86_64"}))
	require.NoError(t, admin.Call(ctx, "addHostToChannel", nil, "builder1", "createrepo"))

	// rpmbuild --nodeps stands in for a buildroot with the build
	// requirements installed, which the builder on the host does not make.
	nodeps := filepath.Join(t.TempDir(), "rpmbuild")
	require.NoError(t, os.WriteFile(nodeps, []byte("#!/bin/sh\nexec "+testenv.Command(t, "rpmbuild")+" --nodeps \"$@\"\n"), 0o755))
	hh, hpki := frontEnd(t, k, "builder1")
	host, top := clientOf(t, hh, hpki)
	d, err := builder.New(builder.Config{Client: host, Auth: &auth.SSL{Certificate: &hpki.Client}, WorkDir: t.TempDir(), TopURL: top,
		MinSpace: -1, MaxLoad: -1, SleepTime: 500 * time.Millisecond, CheckInterval: 200 * time.Millisecond, Logger: quiet},
		builder.Build{}, &builder.BuildArch{RPMBuild: nodeps}, builder.TagBuild{}, builder.NewRepo{}, builder.Createrepo{})
	require.NoError(t, err)
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, d.Start(sctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = d.Stop(ctx)
	})
	return &testHub{koji: k, admin: admin, adminPKI: apki, url: ah.URL()}
}

// makeSRPM builds with rpmbuild -bs a noarch package name-version-1
// build-requiring br.
func makeSRPM(t *testing.T, name, version string, br ...string) string {
	top := t.TempDir()
	pre := ""
	if len(br) > 0 {
		pre = "BuildRequires: " + strings.Join(br, " ") + "\n"
	}
	spec := filepath.Join(top, name+".spec")
	require.NoError(t, os.WriteFile(spec, fmt.Appendf(nil, `Name: %[1]s
Version: %[2]s
Release: 1
Summary: a test package
License: MIT
BuildArch: noarch
%[3]s%%description
A test package.
%%install
mkdir -p %%{buildroot}/usr/share/%[1]s
echo %[1]s-%[2]s > %%{buildroot}/usr/share/%[1]s/data
%%files
/usr/share/%[1]s/data
`, name, version, pre), 0o644))
	out, err := exec.Command(testenv.Command(t, "rpmbuild"), "-bs", "--define", "_topdir "+top, spec).CombinedOutput()
	require.NoError(t, err, "%s", out)
	return filepath.Join(top, "SRPMS", fmt.Sprintf("%s-%s-1.src.rpm", name, version))
}

// wait waits for a task to close and returns its result.
func (h *testHub) wait(t *testing.T, id int) {
	ctx := context.Background()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		info, err := h.admin.GetTaskInfo(ctx, id, nil)
		require.NoError(t, err)
		switch info.State {
		case koji.TaskClosed:
			return
		case koji.TaskFailed, koji.TaskCanceled:
			t.Fatalf("task %d %s: %v", id, info.State, h.admin.GetTaskResult(ctx, id, true, nil))
		}
		require.True(t, time.Now().Before(deadline), "task %d still %s", id, info.State)
		time.Sleep(100 * time.Millisecond)
	}
}

// build uploads an SRPM and builds it for the target, as the CLI does.
func (h *testHub) build(t *testing.T, srpm string) {
	ctx := context.Background()
	dir := koji.UniqueUploadPath("cli-build")
	require.NoError(t, h.admin.UploadFile(ctx, srpm, dir, "", nil))
	id, err := h.admin.Build(ctx, dir+"/"+filepath.Base(srpm), "f44-candidate", nil)
	require.NoError(t, err)
	h.wait(t, id)
}

// newRepo regenerates the build tag's repo.
func (h *testHub) newRepo(t *testing.T) {
	var id int
	require.NoError(t, h.admin.Call(context.Background(), "newRepo", &id, "f44-build"))
	h.wait(t, id)
}

// syncBuffer is a log the program's goroutines write at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// The program against a gokoji hub and builder: it tracks foo and bar
// (which build-requires foo), registers and resolves their real builds,
// and its pages show the collection, the packages with their states and
// priorities, and bar's second build with the change behind it (foo 1-1
// → 2-1 at distance 1).
func TestKoschei(t *testing.T) {
	testenv.Command(t, "rpmbuild")
	testenv.Command(t, "createrepo_c")
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			hubDSN, dsn := filepath.Join(t.TempDir(), "hub.db"), filepath.Join(t.TempDir(), "koschei.db")
			if backend == "postgres" {
				hubDSN, dsn = testenv.PostgresDSN(t), testenv.PostgresDSN(t)
			}
			testKoschei(t, hubDSN, dsn)
		})
	}
}

func testKoschei(t *testing.T, hubDSN, dsn string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	h := startHub(t, hubDSN)
	a := h.admin
	require.NoError(t, a.CallKw(ctx, "createTag", nil, []any{"f44"}, map[string]any{"arches": "x86_64"}))
	require.NoError(t, a.CallKw(ctx, "createTag", nil, []any{"f44-build"}, map[string]any{"arches": "x86_64", "parent": "f44"}))
	require.NoError(t, a.Call(ctx, "createBuildTarget", nil, "f44-candidate", "f44-build", "f44"))
	// The build group comes from the hub's getTagGroups; bash is in no
	// repo here, and skipped as Koschei skips it.
	require.NoError(t, a.Call(ctx, "groupListAdd", nil, "f44-build", "build"))
	require.NoError(t, a.Call(ctx, "groupPackageListAdd", nil, "f44-build", "build", "bash"))
	for _, p := range []string{"foo", "bar"} {
		require.NoError(t, a.CallKw(ctx, "packageListAdd", nil, []any{"f44", p}, map[string]any{"owner": "kojiadmin"}))
	}
	h.newRepo(t)
	h.build(t, makeSRPM(t, "foo", "1"))
	h.newRepo(t)
	h.build(t, makeSRPM(t, "bar", "1", "foo"))
	h.newRepo(t)

	dir := t.TempDir()
	key, err := x509.MarshalPKCS8PrivateKey(h.adminPKI.Client.PrivateKey)
	require.NoError(t, err)
	cert := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: h.adminPKI.Client.Certificate[0]}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key})...)
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, data, 0o600))
		return p
	}
	top := strings.TrimSuffix(h.url, "/kojihub") + "/kojifiles"
	conf := write("koschei.conf", fmt.Appendf(nil, `[hub]
server = %s
topurl = %s
weburl = https://kojiweb.example/koji
serverca = %s
cert = %s
authtype = ssl
cache_dir = %s

[collection]
name = f44
display_name = Fedora <44> & co
target = f44-candidate
track = foo bar

[store]
dsn = %s

[http]
listen = 127.0.0.1:0

[service]
poll_interval = 1
resolve_interval = 0.3
schedule_interval = 1
`, h.url, top, write("ca.pem", h.adminPKI.CAPEM), write("admin.pem", cert), filepath.Join(dir, "cache"), dsn))

	logs := &syncBuffer{}
	urls := make(chan string, 1)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() {
		done <- run(runCtx, []string{"-config", conf, "-log-level", "debug"}, logs, func(u string) { urls <- u })
	}()
	var base string
	select {
	case base = <-urls:
	case err := <-done:
		t.Fatalf("koschei stopped: %v\n%s", err, logs.String())
	}
	eventually := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for !cond() {
			require.True(t, time.Now().Before(deadline), "timed out waiting: %s\n%s", what, logs.String())
			time.Sleep(200 * time.Millisecond)
		}
	}
	// The real builds registered and resolved: both ok, with a priority.
	okRow := regexp.MustCompile(`<a href="/package/bar">bar</a></td>\s*<td class="state ok">ok</td>\s*<td class="priority">-?\d+\.\d</td>`)
	eventually("bar ok with a priority", func() bool {
		_, body := get(t, base+"/")
		return okRow.MatchString(body)
	})

	// foo 2, then bar rebuilt on it: bar's new build carries the change.
	h.build(t, makeSRPM(t, "foo", "2"))
	h.newRepo(t)
	h.build(t, makeSRPM(t, "bar", "2", "foo"))
	change := regexp.MustCompile(`<td>2-1</td>\s*<td><a href="https://kojiweb.example/koji/taskinfo\?taskID=\d+">\d+</a></td>\s*` +
		`<td>[^<]+</td><td>[^<]+</td><td>yes</td>\s*` +
		`<td><ul class="changes"><li><span class="dep">foo</span> 1-1 → 2-1 \(distance 1\)</li></ul></td></tr>`)
	var page string
	eventually("bar's build with its change", func() bool {
		var code int
		code, page = get(t, base+"/package/bar")
		require.Equal(t, http.StatusOK, code)
		return change.MatchString(page)
	})
	assert.Regexp(t, `<td>1-1</td>`, page)
	assert.Regexp(t, `<span class="state ok">ok</span>`, page)
	assert.Regexp(t, `Priority: <span class="priority">(-?\d+\.\d|— \(.*\))</span>:\s*manual 0, static 0, \(dependency \d+ \+ build \d+ \+ time -?\d+\.\d\) × 1`, page)
	assert.Contains(t, page, "<td>real</td>")

	code, body := get(t, base+"/")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "<h1>Fedora &lt;44&gt; &amp; co <small>(f44)</small></h1>", "HTML-escaped")
	assert.NotContains(t, body, "Fedora <44>")
	assert.Contains(t, body, `State: <span class="collection-state ok">ok</span>`)
	assert.Contains(t, body, "build tag f44-build, destination tag f44", "taken from the target")
	assert.Contains(t, body, `<a href="/package/foo">foo</a>`)

	code, body = get(t, base+"/package/nosuch")
	assert.Equal(t, http.StatusNotFound, code)
	assert.Contains(t, body, "<h1>Not found</h1>")
	code, _ = get(t, base+"/package/%3Cscript%3E")
	assert.Equal(t, http.StatusNotFound, code)
	code, _ = get(t, base+"/nosuch")
	assert.Equal(t, http.StatusNotFound, code)

	stop()
	select {
	case err := <-done:
		require.NoError(t, err, logs.String())
	case <-time.After(30 * time.Second):
		t.Fatal("koschei did not stop")
	}
	assert.Contains(t, logs.String(), "koschei stopped")
}

// Bad configurations are errors before anything starts.
func TestKoscheiConfigErrors(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "koschei.conf")
	coll := "[collection]\nname = f44\ntarget = f44-candidate\n"
	ok := "[hub]\nserver = https://h/kojihub\n" + coll
	for contents, want := range map[string]string{
		ok + "[store]\nfrobs = 1\n":                         `[store] frobs = "1": unknown option`,
		ok + "[nosuch]\na = 1\n":                            "unknown section [nosuch]",
		ok + "[service]\nmax_builds = zero\n":               `max_builds = "zero"`,
		ok + "[service]\npoll_interval = -1\n":              "not positive",
		ok + "priority_coefficient = 0\n":                   "not positive",
		ok + "poll_untracked = maybe\n":                     "not a boolean",
		ok + "[priorities]\nt0 = soon\n":                    `t0 = "soon"`,
		"[hub]\nserver = https://h/kojihub\n[collection]\n": "needs a name and a target",
		coll: "needs a profile or a server",
		"[hub]\nprofile = no-such-profile-here\n" + coll: "no-such-profile-here",
		"[hub\n": "config",
	} {
		require.NoError(t, os.WriteFile(conf, []byte(contents), 0o600))
		err := run(context.Background(), []string{"-config", conf}, io.Discard, nil)
		require.Error(t, err, contents)
		assert.Contains(t, err.Error(), want, contents)
	}
	assert.ErrorContains(t, run(context.Background(), nil, io.Discard, nil), "no configuration")
	assert.ErrorContains(t, run(context.Background(), []string{"-config", filepath.Join(dir, "missing.conf")}, io.Discard, nil), "config")
	assert.ErrorContains(t, run(context.Background(), []string{"-config", conf, "-log-level", "loud"}, io.Discard, nil), "-log-level")
	assert.ErrorContains(t, run(context.Background(), []string{"-config", conf, "extra"}, io.Discard, nil), "unexpected arguments")
}

// The example configuration is one loadSettings reads.
func TestKoscheiExampleConfig(t *testing.T) {
	s, err := loadSettings("koschei.conf")
	require.NoError(t, err)
	assert.Equal(t, "fedora", s.hub.profile)
	assert.Equal(t, "Fedora 44", s.collection.DisplayName)
	assert.Equal(t, []string{"bash", "coreutils", "rpm"}, s.track)
	require.NotNil(t, s.broker)
	watch, publish := s.broker.messages()
	assert.Equal(t, []string{"koji.task.#", "koji.build.tag"}, watch.Bindings)
	assert.Equal(t, "org.fedoraproject.prod", publish.TopicPrefix)
	assert.Equal(t, 20*time.Minute, s.service.PollInterval)
	assert.Equal(t, rebuild.DefaultPriorityConfig(), s.priorities)
}
