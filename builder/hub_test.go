package builder_test

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/auth"
	"github.com/gokoji/gokoji/builder"
	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/hubserver/hubtest"
	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/koji"
)

// eachBackend runs fn on a fresh SQLite file and a fresh PostgreSQL
// schema.
func eachBackend(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, filepath.Join(t.TempDir(), "hub.db")) })
	t.Run("postgres", func(t *testing.T) { fn(t, testenv.PostgresDSN(t)) })
}

// testLogger discards logs unless BUILDER_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("BUILDER_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// testHub is a gokoji hub on HTTPS with kojiadmin as its admin.
type testHub struct {
	koji     *hubserver.Koji
	methods  []hubserver.Method
	admin    *koji.Client
	upstream bool
	topDir   string // the hub's KojiDir
}

// startHub starts a hub on dsn. upstream leaves out gokoji's long-poll
// methods, host.waitTasks and host.taskWaitAny, as an upstream hub has
// neither; its scheduler then runs at every poll.
func startHub(t testing.TB, dsn string, upstream bool) *testHub {
	return startHubWith(t, dsn, upstream, hubserver.SchedulerConfig{})
}

// startHubWith is startHub with the scheduler's settings.
func startHubWith(t testing.TB, dsn string, upstream bool, sched hubserver.SchedulerConfig) *testHub {
	return startHubOptions(t, dsn, upstream, func(c *hubserver.KojiConfig) { c.Scheduler = sched })
}

// startHubConfig is a gokoji hub (not upstream) with edit's settings.
func startHubConfig(t testing.TB, dsn string, edit func(*hubserver.KojiConfig)) *testHub {
	return startHubOptions(t, dsn, false, edit)
}

func startHubOptions(t testing.TB, dsn string, upstream bool, edit func(*hubserver.KojiConfig)) *testHub {
	cfg := hubserver.KojiConfig{DSN: dsn, Admin: "kojiadmin", TopDir: t.TempDir()}
	edit(&cfg)
	cfg.Logger = testLogger().With("side", "hub")
	if upstream {
		cfg.Scheduler.RunInterval = time.Millisecond
	}
	k, err := hubserver.OpenKoji(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { k.Close() })
	th := &testHub{koji: k, upstream: upstream, topDir: cfg.TopDir}
	for _, m := range k.Methods() {
		if upstream && (m.Name == "host.waitTasks" || m.Name == "host.taskWaitAny") {
			continue
		}
		th.methods = append(th.methods, m)
	}
	c, a := th.client(t, "kojiadmin")
	require.NoError(t, c.Login(context.Background(), a))
	th.admin = c
	return th
}

// client returns an anonymous client of a front end of the hub whose
// client certificate is name's, and the login with it.
func (th *testHub) client(t testing.TB, name string) (*koji.Client, koji.Authenticator) {
	c, a, _ := th.frontEnd(t, name)
	return c, a
}

// frontEnd is client, with the URL where the front end serves the hub's
// files (its topurl), as examples/kojihub serves them at /kojifiles.
func (th *testHub) frontEnd(t testing.TB, name string) (*koji.Client, koji.Authenticator, string) {
	c, a, top, _ := th.frontEndHub(t, name)
	return c, a, top
}

// frontEndHub is frontEnd, with the front end's hub, which a test may
// shut down to take the hub away from the client.
func (th *testHub) frontEndHub(t testing.TB, name string) (*koji.Client, koji.Authenticator, string, *hubserver.Hub) {
	url, pki, hub := th.startFrontEnd(t, name)
	c, err := koji.NewClient(url, koji.WithHTTPClient(&http.Client{
		Transport: &http.Transport{TLSClientConfig: pki.ClientTLS(false)},
	}))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c, &auth.SSL{Certificate: &pki.Client}, strings.TrimSuffix(url, "/kojihub") + "/kojifiles", hub
}

// startFrontEnd starts a front end of the hub whose client certificate
// is name's, and returns its URL, certificates and hub.
func (th *testHub) startFrontEnd(t testing.TB, name string) (string, *hubtest.PKI, *hubserver.Hub) {
	cfg := th.koji.HubConfig()
	inner := cfg.Middleware
	files := http.StripPrefix("/kojifiles", th.koji.FilesHandler())
	cfg.Middleware = func(next http.Handler) http.Handler {
		mux := http.NewServeMux()
		mux.Handle("/kojifiles/", files)
		mux.Handle("/", inner(next))
		return mux
	}
	h, pki := hubtest.StartTLS(t, cfg, name, func(h *hubserver.Hub) {
		require.NoError(t, h.Register(th.methods...))
	})
	return h.URL(), pki, h
}

// addHost adds a builder host (x86_64, capacity 2) as the admin.
func (th *testHub) addHost(t testing.TB, name string) {
	require.NoError(t, th.admin.Call(context.Background(), "addHost", nil, name, []string{"x86_64"}))
}

// daemon returns a daemon logged in as the host name (added if new),
// with short intervals, not started.
func (th *testHub) daemon(t testing.TB, name string, edit func(*builder.Config), handlers ...builder.Handler) *builder.Daemon {
	d, _ := th.daemonHub(t, name, edit, handlers...)
	return d
}

// daemonHub is daemon, with the hub of the daemon's own front end.
func (th *testHub) daemonHub(t testing.TB, name string, edit func(*builder.Config), handlers ...builder.Handler) (*builder.Daemon, *hubserver.Hub) {
	hosts, err := th.admin.ListHosts(context.Background(), nil)
	require.NoError(t, err)
	if !slices.ContainsFunc(hosts, func(h *koji.Host) bool { return h.Name == name }) {
		th.addHost(t, name)
	}
	c, a, top, hub := th.frontEndHub(t, name)
	cfg := builder.Config{Client: c, Auth: a, WorkDir: t.TempDir(), TopURL: top, MinSpace: -1, MaxLoad: -1,
		SleepTime: 500 * time.Millisecond, CheckInterval: 200 * time.Millisecond, LogInterval: 100 * time.Millisecond,
		Logger: testLogger().With("host", name)}
	if edit != nil {
		edit(&cfg)
	}
	d, err := builder.New(cfg, handlers...)
	require.NoError(t, err)
	return d, hub
}

// start starts d and stops it when the test ends.
func start(t testing.TB, d *builder.Daemon) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, d.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = d.Stop(ctx)
	})
}

// makeTask makes a task as the admin.
func (th *testHub) makeTask(t testing.TB, method string, args ...any) int {
	if args == nil {
		args = []any{}
	}
	id, err := th.admin.MakeTask(context.Background(), method, args, nil)
	require.NoError(t, err)
	return id
}

// waitState waits up to 30s for the task to reach one of the states.
func (th *testHub) waitState(t testing.TB, id int, states ...koji.TaskState) *koji.Task {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, err := th.admin.GetTaskInfo(context.Background(), id, nil)
		require.NoError(t, err)
		if slices.Contains(states, info.State) {
			return info
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %d is %v, not %v", id, info.State, states)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// gate is a handler that reports its runs and blocks each until released
// or its context ends.
type gate struct {
	method  string
	started chan *builder.Task
	ended   chan error // the context's cause, or nil when released
	release chan struct{}
}

func newGate(method string) *gate {
	return &gate{method: method, started: make(chan *builder.Task, 10), ended: make(chan error, 10), release: make(chan struct{})}
}

func (g *gate) Methods() []string            { return []string{g.method} }
func (g *gate) Weight(*builder.Task) float64 { return 1 }
func (g *gate) Handle(ctx context.Context, t *builder.Task) (any, error) {
	g.started <- t
	select {
	case <-ctx.Done():
		g.ended <- context.Cause(ctx)
		return nil, ctx.Err()
	case <-g.release:
		g.ended <- nil
		return "released", nil
	}
}

// within receives from ch within d, or fails the test.
func within[T any](t *testing.T, ch <-chan T, d time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("%s: not within %v", what, d)
		panic("unreachable")
	}
}
