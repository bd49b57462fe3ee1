package rebuild_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/messages"
	"github.com/gokoji/gokoji/rebuild"
)

// The whole loop on a gokoji hub and builder: foo, bar and qux (which
// build-require foo) and baz (which build-requires bar, which requires
// foo) are built and tracked; foo is rebuilt at version 2; bar and qux
// are rescheduled, in priority order, one at a time as the hub's load
// allows, and baz (foo at distance 2) stays under the threshold; bar
// fails with foo 2, and its state change is published to RabbitMQ and
// consumed there, as is the collection's state change when its buildroot
// first resolves. The hub's task and tag messages reach the service
// through the broker too, and they alone drive it once it started: its
// polling fallback runs only when it starts (PollInterval is an hour), so
// the scratch builds' results and foo 2 arrive as messages. Dependencies
// are resolved by the service's default loader (repodata and depsolve) on
// the createrepo_c repos the builder makes.
func TestEndToEnd(t *testing.T) {
	testenv.Command(t, "rpmbuild")
	testenv.Command(t, "createrepo_c")
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			hubDSN, rebuildDSN := filepath.Join(t.TempDir(), "hub.db"), filepath.Join(t.TempDir(), "rebuild.db")
			if backend == "postgres" {
				hubDSN, rebuildDSN = testenv.PostgresDSN(t), testenv.PostgresDSN(t)
			}
			endToEnd(t, hubDSN, rebuildDSN)
		})
	}
}

func endToEnd(t *testing.T, hubDSN, rebuildDSN string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	mcfg := broker(t)
	mcfg.TopicPrefix = "koji"
	w := startWorld(t, hubDSN, mcfg)
	a := w.admin
	require.NoError(t, a.CallKw(ctx, "createTag", nil, []any{"f44"}, map[string]any{"arches": "x86_64"}))
	require.NoError(t, a.CallKw(ctx, "createTag", nil, []any{"f44-build"}, map[string]any{"arches": "x86_64", "parent": "f44"}))
	require.NoError(t, a.Call(ctx, "createBuildTarget", nil, "f44-candidate", "f44-build", "f44"))
	for _, p := range []string{"foo", "bar", "qux", "baz"} {
		require.NoError(t, a.CallKw(ctx, "packageListAdd", nil, []any{"f44", p}, map[string]any{"owner": "kojiadmin"}))
	}
	// Each package is built in a repo that has its build requirements,
	// as a real buildroot needs.
	w.newRepo(t)
	w.build(t, makeSRPM(t, "foo", "1", nil, nil, ""))
	w.newRepo(t)
	w.build(t, makeSRPM(t, "bar", "1", []string{"foo"}, []string{"foo"}, ""))
	w.build(t, makeSRPM(t, "qux", "1", []string{"foo"}, nil, "sleep 6"))
	w.newRepo(t)
	w.build(t, makeSRPM(t, "baz", "1", []string{"bar"}, nil, ""))
	firstRepo := w.newRepo(t)

	// The service, a day ahead so that the real builds' time priority is
	// 106.5: not enough alone, enough with a direct dependency change.
	st, err := rebuild.OpenStore(ctx, rebuildDSN)
	require.NoError(t, err)
	defer st.Close()
	coll := &rebuild.Collection{Name: "f44", DisplayName: "Fedora 44", Target: "f44-candidate", BuildTag: "f44-build",
		DestTag: "f44", BuildGroupPackages: []string{"bash"}}
	require.NoError(t, st.AddCollection(ctx, coll))
	require.NoError(t, st.Track(ctx, "f44", []string{"foo", "bar", "qux", "baz"}, true))
	require.NoError(t, st.SetStaticPriority(ctx, "f44", "qux", 10)) // qux before bar

	pcfg := mcfg
	pcfg.TopicPrefix = "org.fedoraproject.prod"
	pub, err := messages.NewPublisher(ctx, pcfg)
	require.NoError(t, err)
	defer pub.Close()
	watch := mcfg
	watch.Queue, watch.Bindings = mcfg.Exchange+".watcher", []string{"koji.task.#", "koji.build.tag"}
	svc, err := rebuild.NewService(rebuild.Config{
		Store: st, Hub: rebuild.NewKojiHub(a, t.TempDir()),
		Notifier: &rebuild.MessageNotifier{Publisher: pub}, Consume: &watch,
		MaxBuilds: 10, LoadThreshold: 0.5,
		// Polling (the fallback for lost messages) runs once, at the
		// start: the builds' ends and foo 2's tagging come as messages.
		ScheduleInterval: 3 * time.Second, ResolveInterval: 300 * time.Millisecond, PollInterval: time.Hour,
		Now:    func() time.Time { return time.Now().Add(24 * time.Hour) },
		Logger: testLogger().With("side", "rebuild"),
	})
	require.NoError(t, err)

	// The test's own consumer of Koschei's messages.
	states := make(chan *messages.KoscheiPackageStateChange, 100)
	collStates := make(chan *messages.KoscheiCollectionStateChange, 100)
	tcfg := mcfg
	tcfg.Queue, tcfg.Format, tcfg.Bindings = mcfg.Exchange+".test", messages.Fedora, []string{"org.fedoraproject.prod.koschei.#"}
	consumed := make(chan error, 1)
	defer func() {
		cancel()
		require.NoError(t, <-consumed)
	}()
	go func() {
		consumed <- messages.Consume(ctx, tcfg, func(ctx context.Context, ev messages.Event) error {
			switch e := ev.(type) {
			case *messages.KoscheiPackageStateChange:
				states <- e
			case *messages.KoscheiCollectionStateChange:
				collStates <- e
			}
			return nil
		})
	}()
	// The collection resolves in the service's first seconds: its message
	// needs the queue there.
	rebuild.WaitQueueForTest(t, tcfg.Queue)
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- svc.Run(runCtx) }()
	defer func() {
		stop()
		require.NoError(t, <-ran)
	}()

	// Real builds registered and resolved in their own repos; nothing is
	// due yet.
	eventually(t, "real builds resolved", func() bool {
		for _, name := range []string{"foo", "bar", "qux", "baz"} {
			h, err := st.PackageHistory(ctx, "f44", name, 0)
			require.NoError(t, err)
			if len(h.Builds) != 1 || h.Builds[0].Build.DepsResolved == nil || h.Package.Resolved == nil {
				return false
			}
			require.True(t, *h.Builds[0].Build.DepsResolved, name)
		}
		return true
	})
	prios, err := svc.Priorities(ctx)
	require.NoError(t, err)
	for _, p := range prios {
		require.Less(t, p.Priority, 256.0, p.Package.Name)
	}
	// The buildroot resolved in the newest repo: the collection went from
	// unknown to ok, announced as koschei.collection.state.change.
	select {
	case e := <-collStates:
		require.Equal(t, &messages.KoscheiCollectionStateChange{Old: "unknown", New: "ok", KojiInstance: "primary",
			Collection: "f44", CollectionName: "Fedora 44", RepoID: &firstRepo}, e)
	case <-time.After(time.Minute):
		t.Fatal("no koschei.collection.state.change for f44")
	}

	// foo 2, and bar breaks in its repo.
	w.build(t, makeSRPM(t, "foo", "2", nil, nil, ""))
	next := w.newRepo(t)
	w.broken.breakFrom("bar", next)

	// qux, then bar, scratch-built one after the other.
	var qux, bar *rebuild.Build
	eventually(t, "qux and bar rebuilt", func() bool {
		qux, bar = lastScratch(t, st, "qux"), lastScratch(t, st, "bar")
		return qux != nil && bar != nil && qux.State != rebuild.BuildRunning && bar.State != rebuild.BuildRunning
	})
	require.Equal(t, rebuild.BuildComplete, qux.State)
	require.Equal(t, rebuild.BuildFailed, bar.State)
	require.True(t, qux.Started.Before(bar.Started), "priority order: qux (static 10) first")
	qt, err := a.GetTaskInfo(ctx, int(qux.TaskID), nil)
	require.NoError(t, err)
	bt, err := a.GetTaskInfo(ctx, int(bar.TaskID), nil)
	require.NoError(t, err)
	// qux's buildArch sleeps 6 s: the scheduler's cycles (3 s) while it
	// ran found the host busy (load 0.85 > 0.5) and held bar back. Once
	// it closed, the load is the parent's alone, under the threshold, so
	// bar may start before the parent ends (more likely on a loaded
	// machine).
	children, err := a.GetTaskChildren(ctx, qt.ID, nil)
	require.NoError(t, err)
	require.Len(t, children, 1)
	require.Equal(t, "buildArch", children[0].Method)
	archStart, ok := children[0].Started()
	require.True(t, ok)
	archEnd, ok := children[0].Completed()
	require.True(t, ok)
	require.Greater(t, archEnd.Sub(archStart), 3*time.Second)
	require.False(t, bt.Created().Before(archEnd), "one at a time: the hub's load held bar back until qux's buildArch ended")

	// bar's state change is announced on the bus.
	deadline := time.After(time.Minute)
	for found := false; !found; {
		select {
		case e := <-states:
			found = e.Name == "bar" && e.Old == "ok" && e.New == "failing"
			if found {
				require.Equal(t, "f44", e.Collection)
				require.Equal(t, "Fedora 44", e.CollectionName)
				require.Equal(t, "primary", e.KojiInstance)
			}
		case <-deadline:
			t.Fatal("no koschei.package.state.change for bar")
		}
	}

	// foo 2, tagged after the only polling run, was registered from the
	// hub's tag message.
	eventually(t, "foo 2 registered", func() bool {
		h, err := st.PackageHistory(ctx, "f44", "foo", 0)
		require.NoError(t, err)
		return len(h.Builds) > 0 && h.Builds[0].Build.Real && h.Builds[0].Build.Version == "2"
	})

	// The failed build carries the change behind it; baz was not
	// rebuilt: foo is at distance 2 from it (256/2 = 128).
	eventually(t, "bar's build resolved", func() bool {
		h, err := st.PackageHistory(ctx, "f44", "bar", 0)
		require.NoError(t, err)
		return h.Builds[0].Build.DepsResolved != nil
	})
	h, err := st.PackageHistory(ctx, "f44", "bar", 0)
	require.NoError(t, err)
	require.Equal(t, rebuild.StateFailing, rebuild.StateOf(h.Package))
	require.Len(t, h.Builds[0].Changes, 1)
	require.Equal(t, "foo", h.Builds[0].Changes[0].Name)
	require.Equal(t, "1-1", h.Builds[0].Changes[0].Prev.EVR())
	require.Equal(t, "2-1", h.Builds[0].Changes[0].Curr.EVR())
	hz, err := st.PackageHistory(ctx, "f44", "baz", 0)
	require.NoError(t, err)
	require.Len(t, hz.Builds, 1)
	require.Equal(t, int64(128), hz.Package.DependencyPriority)
	// The collection stayed ok in foo 2's repo: nothing more said.
	select {
	case e := <-collStates:
		t.Fatalf("unexpected collection state change %+v", e)
	default:
	}
}

// lastScratch returns a package's newest scratch build, nil if none.
func lastScratch(t *testing.T, st *rebuild.Store, name string) *rebuild.Build {
	h, err := st.PackageHistory(context.Background(), "f44", name, 0)
	require.NoError(t, err)
	for _, b := range h.Builds {
		if !b.Build.Real {
			return b.Build
		}
	}
	return nil
}

// eventually waits up to two minutes for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	rebuild.EventuallyForTest(t, 2*time.Minute, what, cond)
}
