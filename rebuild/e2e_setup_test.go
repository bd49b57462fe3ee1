package rebuild_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/auth"
	"github.com/gokoji/gokoji/builder"
	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/hubserver/hubtest"
	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/messages"
	"github.com/gokoji/gokoji/rebuild"
)

func testLogger() *slog.Logger {
	if os.Getenv("REBUILD_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// broker returns a messages configuration on an exchange of the test's
// own, deleted with its queues when the test ends, or stops the test as
// Unavailable without a broker.
func broker(t *testing.T) messages.Config {
	return rebuild.BrokerConfigForTest(t, testLogger(), ".watcher", ".test")
}

// world is a gokoji hub and a builder, and the admin's client.
type world struct {
	koji    *hubserver.Koji
	methods []hubserver.Method
	admin   *koji.Client
	top     string // the hub's topurl
	broken  *breakingArch
}

// startWorld starts a hub on dsn that announces its messages on cfg's
// exchange, and a builder with the build handlers.
func startWorld(t *testing.T, dsn string, cfg messages.Config) *world {
	ctx := context.Background()
	kc := hubserver.KojiConfig{DSN: dsn, Admin: "kojiadmin", TopDir: t.TempDir()}
	kc.Logger = testLogger().With("side", "hub")
	kc.Protonmsg = hubserver.ProtonmsgConfig{Broker: &cfg}
	k, err := hubserver.OpenKoji(ctx, kc)
	require.NoError(t, err)
	t.Cleanup(func() { k.Close() })
	// rpmbuild --nodeps stands in for a buildroot with the build
	// requirements installed (mock's), which the builder, running rpmbuild
	// on the host, does not make.
	nodeps := filepath.Join(t.TempDir(), "rpmbuild")
	require.NoError(t, os.WriteFile(nodeps, []byte("#!/bin/sh\nexec "+testenv.Command(t, "rpmbuild")+" --nodeps \"$@\"\n"), 0o755))
	w := &world{koji: k, methods: k.Methods(), broken: &breakingArch{BuildArch: builder.BuildArch{RPMBuild: nodeps}, broken: map[string]int{}}}
	var a koji.Authenticator
	w.admin, a, w.top = w.client(t, "kojiadmin")
	require.NoError(t, w.admin.Login(ctx, a))

	require.NoError(t, w.admin.Call(ctx, "addHost", nil, "builder1", []string{"x86_64"}))
	require.NoError(t, w.admin.Call(ctx, "addHostToChannel", nil, "builder1", "createrepo"))
	hc, ha, htop := w.client(t, "builder1")
	d, err := builder.New(builder.Config{Client: hc, Auth: ha, WorkDir: t.TempDir(), TopURL: htop, MinSpace: -1, MaxLoad: -1,
		SleepTime: 500 * time.Millisecond, CheckInterval: 200 * time.Millisecond, LogInterval: 100 * time.Millisecond,
		Logger: testLogger().With("side", "builder")},
		builder.Build{}, w.broken, builder.TagBuild{}, builder.NewRepo{}, builder.Createrepo{})
	require.NoError(t, err)
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, d.Start(sctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = d.Stop(ctx)
	})
	return w
}

// client returns a client of a front end of the hub whose client
// certificate is name's, with the hub's files at its topurl, the login
// with it, and the topurl.
func (w *world) client(t *testing.T, name string) (*koji.Client, koji.Authenticator, string) {
	cfg := w.koji.HubConfig()
	inner := cfg.Middleware
	files := http.StripPrefix("/kojifiles", w.koji.FilesHandler())
	cfg.Middleware = func(next http.Handler) http.Handler {
		mux := http.NewServeMux()
		mux.Handle("/kojifiles/", files)
		mux.Handle("/", inner(next))
		return mux
	}
	h, pki := hubtest.StartTLS(t, cfg, name, func(h *hubserver.Hub) { require.NoError(t, h.Register(w.methods...)) })
	top := strings.TrimSuffix(h.URL(), "/kojihub") + "/kojifiles"
	c, err := koji.NewClientFromProfile(&koji.Profile{Name: name, Server: h.URL(), TopURL: top, Timeout: time.Minute},
		koji.WithHTTPClient(&http.Client{Transport: &http.Transport{TLSClientConfig: pki.ClientTLS(false)}}))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c, &auth.SSL{Certificate: &pki.Client}, top
}

// makeSRPM builds with rpmbuild -bs a noarch package name-version-1
// with BuildRequires br, whose binary package requires requires and
// whose %build runs build.
func makeSRPM(t *testing.T, name, version string, br, requires []string, build string) string {
	top := t.TempDir()
	var pre strings.Builder
	if len(br) > 0 {
		pre.WriteString("BuildRequires: " + strings.Join(br, " ") + "\n")
	}
	if len(requires) > 0 {
		pre.WriteString("Requires: " + strings.Join(requires, " ") + "\n")
	}
	spec := filepath.Join(top, name+".spec")
	require.NoError(t, os.WriteFile(spec, []byte(fmt.Sprintf(`Name: %[1]s
Version: %[2]s
Release: 1
Summary: a test package
License: MIT
BuildArch: noarch
%[3]s%%description
A test package.
%%build
%[4]s
%%install
mkdir -p %%{buildroot}/usr/share/%[1]s
echo %[1]s-%[2]s > %%{buildroot}/usr/share/%[1]s/data
%%files
/usr/share/%[1]s/data
`, name, version, pre.String(), build)), 0o644))
	out, err := exec.Command(testenv.Command(t, "rpmbuild"), "-bs", "--define", "_topdir "+top, spec).CombinedOutput()
	require.NoError(t, err, "%s", out)
	return filepath.Join(top, "SRPMS", fmt.Sprintf("%s-%s-1.src.rpm", name, version))
}

// build uploads an SRPM and builds it for the target, as the CLI does,
// and waits for the build to succeed.
func (w *world) build(t *testing.T, srpm string) {
	ctx := context.Background()
	dir := koji.UniqueUploadPath("cli-build")
	require.NoError(t, w.admin.UploadFile(ctx, srpm, dir, "", nil))
	id, err := w.admin.Build(ctx, dir+"/"+filepath.Base(srpm), "f44-candidate", nil)
	require.NoError(t, err)
	w.wait(t, id)
}

// newRepo regenerates the build tag's repo and returns its id.
func (w *world) newRepo(t *testing.T) int {
	var id int
	require.NoError(t, w.admin.Call(context.Background(), "newRepo", &id, "f44-build"))
	w.wait(t, id)
	var res []int
	require.NoError(t, w.admin.GetTaskResult(context.Background(), id, true, &res))
	return res[0]
}

// wait waits for a task to close.
func (w *world) wait(t *testing.T, id int) *koji.Task {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		info, err := w.admin.GetTaskInfo(context.Background(), id, nil)
		require.NoError(t, err)
		switch info.State {
		case koji.TaskClosed:
			return info
		case koji.TaskFailed, koji.TaskCanceled:
			t.Fatalf("task %d %s: %v", id, info.State, w.admin.GetTaskResult(context.Background(), id, true, nil))
		}
		require.True(t, time.Now().Before(deadline), "task %d still %s", id, info.State)
		time.Sleep(100 * time.Millisecond)
	}
}

// breakingArch is the builder's buildArch handler, except that a package
// named in broken fails in the repos from the one given on: it stands in
// for a buildroot in which a dependency's new version breaks the build,
// which rpmbuild on the host cannot show.
type breakingArch struct {
	builder.BuildArch
	mu     sync.Mutex
	broken map[string]int // package name -> first repo it fails in
}

func (b *breakingArch) Handle(ctx context.Context, t *builder.Task) (any, error) {
	if len(t.Params) == 5 {
		srpm, _ := t.Params[0].(string)
		opts, _ := t.Params[4].(map[string]any)
		repo, _ := opts["repo_id"].(int64)
		b.mu.Lock()
		for name, from := range b.broken {
			if strings.HasPrefix(filepath.Base(srpm), name+"-") && repo >= int64(from) {
				b.mu.Unlock()
				return nil, builder.Fail(koji.ErrBuild, "error building package (arch %v), %s does not build in repo %d",
					t.Params[2], name, repo)
			}
		}
		b.mu.Unlock()
	}
	return b.BuildArch.Handle(ctx, t)
}

func (b *breakingArch) breakFrom(name string, repo int) {
	b.mu.Lock()
	b.broken[name] = repo
	b.mu.Unlock()
}
