package rebuild

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/messages"
)

// repoV is the build tag's content with foo at version v: bar requires
// foo, baz requires bar (so foo is at distance 2 from baz).
func repoV(v string) map[string]fakePkg {
	return map[string]fakePkg{
		"bash": {version: "5"}, "rpm-build": {version: "4.20"}, "gcc": {version: "14"},
		"foo": {version: v}, "bar": {version: "1", requires: []string{"foo"}}, "baz": {version: "1", requires: []string{"bar"}},
	}
}

// start tags foo, bar and baz, tracks them, and runs polling and the
// resolvers once: real builds registered and resolved in repo 1.
func start(t *testing.T, e *testEnv) {
	ctx := context.Background()
	e.repo(repoV("1"))
	e.hub.tag("foo", "1", "gcc")
	e.hub.tag("bar", "1", "foo", "gcc")
	e.hub.tag("baz", "1", "bar")
	require.NoError(t, e.store.Track(ctx, "f44", []string{"foo", "bar", "baz"}, true))
	require.NoError(t, e.svc.Poll(ctx))
	require.NoError(t, e.svc.Resolve(ctx))
	// Registering the real builds announces their state (Koschei does
	// not), then the buildroot resolves.
	require.Equal(t, []string{"package bar ignored->ok", "package baz ignored->ok", "package foo ignored->ok",
		"collection f44 unknown->ok"}, e.notes.take())
}

func TestDependencyChangeReschedules(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		e := newTestEnv(t, dsn, nil)
		start(t, e)
		for _, name := range []string{"foo", "bar", "baz"} {
			p := e.pkg(t, name)
			require.Equal(t, StateOK, StateOf(p), name)
			h, err := e.store.PackageHistory(ctx, "f44", name, 0)
			require.NoError(t, err)
			require.Len(t, h.Builds, 1)
			require.True(t, h.Builds[0].Build.Real)
			require.True(t, *h.Builds[0].Build.DepsResolved, name)
		}
		// Fresh builds: nothing reaches the threshold.
		e.schedule(t, false)

		// A day later foo is rebuilt at version 2 and a new repo has it.
		e.clock.Add(24 * time.Hour)
		e.hub.tag("foo", "2", "gcc")
		e.repo(repoV("2"))
		require.NoError(t, e.svc.Poll(ctx))
		require.NoError(t, e.svc.Resolve(ctx))

		bar, baz := e.pkg(t, "bar"), e.pkg(t, "baz")
		require.Equal(t, int64(256), bar.DependencyPriority, "direct BuildRequires: 256/1")
		require.Equal(t, int64(128), baz.DependencyPriority, "at distance 2: 256/2")
		h, err := e.store.PackageHistory(ctx, "f44", "baz", 0)
		require.NoError(t, err)
		require.Len(t, h.Unapplied, 1)
		require.Equal(t, "foo", h.Unapplied[0].Name)
		require.Equal(t, "1-1", h.Unapplied[0].Prev.EVR())
		require.Equal(t, "2-1", h.Unapplied[0].Curr.EVR())
		require.Equal(t, 2, h.Unapplied[0].Distance)

		prios, err := e.svc.Priorities(ctx)
		require.NoError(t, err)
		require.Equal(t, "bar", prios[0].Package.Name)
		require.InDelta(t, 256+106.5, prios[0].Priority, 0.1)
		require.Equal(t, "baz", prios[1].Package.Name)
		require.InDelta(t, 128+106.5, prios[1].Priority, 0.1)

		e.schedule(t, true)
		require.Equal(t, []string{"bar-1-1 f44-candidate x86_64"}, e.hub.submitted)
		// bar is running now, baz is under the threshold.
		e.schedule(t, false)

		// While it runs, manual and static priority are given: the build's
		// end resets the manual one, never the static one.
		require.NoError(t, e.store.SetManualPriority(ctx, "f44", "bar", 7))
		require.NoError(t, e.store.SetStaticPriority(ctx, "f44", "bar", 3))
		// bar's build fails: its state changes and is announced.
		task := e.hub.finish(int(e.hub.nextTask-2), koji.TaskFailed, &koji.Fault{Code: int(koji.ErrBuild), String: "error building package"})
		require.NoError(t, e.svc.HandleEvent(ctx, &messages.TaskStateChange{Task: task, Attribute: "state", New: koji.TaskFailed}))
		require.Equal(t, []string{"package bar ok->failing"}, e.notes.take())
		bar = e.pkg(t, "bar")
		require.Equal(t, StateFailing, StateOf(bar))
		require.Equal(t, int64(200), bar.BuildPriority, "failed after a build that did not fail")
		require.Equal(t, int64(0), bar.DependencyPriority, "cleared on completion")
		require.Equal(t, int64(0), bar.ManualPriority, "cleared on completion")
		require.Equal(t, int64(3), bar.StaticPriority, "never reset")

		// The build resolver gives the scratch build its applied changes.
		require.NoError(t, e.svc.Resolve(ctx))
		h, err = e.store.PackageHistory(ctx, "f44", "bar", 0)
		require.NoError(t, err)
		require.Len(t, h.Builds, 2)
		require.Equal(t, BuildFailed, h.Builds[0].Build.State)
		require.Len(t, h.Builds[0].Changes, 1)
		require.Equal(t, "foo", h.Builds[0].Changes[0].Name)
		require.Equal(t, 1, h.Builds[0].Changes[0].Distance)
		require.Empty(t, h.Unapplied)
	})
}

func TestScheduleLimits(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		e := newTestEnvColl(t, dsn, func(c *Config) { c.MaxBuilds = 2; c.SubmitBurst = 2; c.SubmitInterval = time.Hour },
			func(c *Collection) { c.Channel = "heavy" })
		start(t, e)
		e.clock.Add(8 * 24 * time.Hour) // every time priority past the threshold
		for _, name := range []string{"foo", "bar", "baz"} {
			require.NoError(t, e.store.SetManualPriority(ctx, "f44", name, map[string]int64{"foo": 30, "bar": 20, "baz": 10}[name]))
		}
		// Busy hosts: nothing goes, each cycle.
		e.hub.hosts[0].TaskLoad = 3
		e.schedule(t, false)
		require.Equal(t, []string{"heavy x86_64"}, e.hub.hostQueries,
			"the collection's channel and the package's arches, once a cycle for all three packages")
		e.hub.hosts[0].TaskLoad = 1

		for range 3 {
			_, err := e.svc.Schedule(ctx)
			require.NoError(t, err)
		}
		require.Equal(t, []string{"foo-1-1 f44-candidate x86_64", "bar-1-1 f44-candidate x86_64"}, e.hub.submitted,
			"priority order, then max_builds")
		require.Equal(t, int64(0), e.pkg(t, "foo").ManualPriority, "manual priority reset on submission")

		// Both finish; the throttle (2 per hour) holds baz back for a while.
		for _, id := range []int{e.hub.nextTask - 4, e.hub.nextTask - 2} {
			task := e.hub.finish(id, koji.TaskClosed, nil)
			require.NoError(t, e.svc.HandleEvent(ctx, &messages.TaskStateChange{Task: task, New: koji.TaskClosed}))
		}
		e.schedule(t, false, "throttled")
		e.clock.Add(31 * time.Minute)
		e.schedule(t, true)
		require.Equal(t, "baz-1-1 f44-candidate x86_64", e.hub.submitted[2])
	})
}

func TestScheduleSkips(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		e := newTestEnv(t, dsn, nil)
		start(t, e)
		e.clock.Add(8 * 24 * time.Hour)
		// foo's SRPM is gone, bar builds only for ppc64le: both are skipped
		// with their reason, and baz goes.
		delete(e.hub.srpms, "foo-1-1")
		e.hub.srpms["bar-1-1"].ExclusiveArch = []string{"ppc64le"}
		require.NoError(t, e.store.SetManualPriority(ctx, "f44", "foo", 100))
		require.NoError(t, e.store.SetManualPriority(ctx, "f44", "bar", 50))
		e.schedule(t, true)
		require.Equal(t, []string{"baz-1-1 f44-candidate x86_64"}, e.hub.submitted)
		require.Equal(t, SkipNoSRPM, e.pkg(t, "foo").SkipReason)
		require.Equal(t, SkipNoArches, e.pkg(t, "bar").SkipReason)
		st, err := e.store.Packages(ctx, "f44", DefaultPriorityConfig(), e.clock.Now())
		require.NoError(t, err)
		reasons := map[string]string{}
		for _, s := range st {
			reasons[s.Package.Name] = s.Reason
		}
		require.Equal(t, map[string]string{"foo": "no SRPM to rebuild", "bar": "no arches to build for", "baz": "build running"}, reasons)
		// An arch override clears the skip: bar goes, noarch-free.
		require.NoError(t, e.store.SetArchOverride(ctx, "f44", "bar", "x86_64"))
		e.schedule(t, true)
		require.Equal(t, "bar-1-1 f44-candidate x86_64", e.hub.submitted[1])
	})
}

func TestBuildEnds(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		e := newTestEnv(t, dsn, nil)
		start(t, e)
		e.clock.Add(8 * 24 * time.Hour)
		// submit makes bar the top priority and submits it.
		submit := func() int {
			require.NoError(t, e.store.SetManualPriority(ctx, "f44", "bar", 1000))
			b := e.schedule(t, true)
			return int(b.TaskID)
		}
		history := func(name string) []BuildRecord {
			h, err := e.store.PackageHistory(ctx, "f44", name, 0)
			require.NoError(t, err)
			return h.Builds
		}
		// Cancelled: the build is deleted, priorities stay.
		id := submit()
		require.NoError(t, e.store.SetManualPriority(ctx, "f44", "bar", 5))
		e.hub.finish(id, koji.TaskCanceled, nil)
		require.NoError(t, e.svc.PollBuilds(ctx))
		require.Len(t, history("bar"), 1)
		require.Equal(t, int64(5), e.pkg(t, "bar").ManualPriority)

		// A Koji fault (an unexpected hub exception, code 1) deletes it too.
		id = submit()
		e.hub.finish(id, koji.TaskFailed, &koji.Fault{Code: 1, String: "Traceback: OSError"})
		require.NoError(t, e.svc.PollBuilds(ctx))
		require.Len(t, history("bar"), 1)
		require.Empty(t, e.notes.take())

		// Without a repo the build is useless: deleted.
		id = submit()
		e.hub.children[id] = nil
		e.hub.finish(id, koji.TaskClosed, nil)
		require.NoError(t, e.svc.PollBuilds(ctx))
		require.Len(t, history("bar"), 1)

		// Cancel requested, and timeout: the task is cancelled.
		id = submit()
		bs := history("bar")
		require.NoError(t, e.store.CancelBuild(ctx, bs[0].Build.ID))
		require.NoError(t, e.svc.PollBuilds(ctx))
		require.Equal(t, []int{id}, e.hub.cancelled)
		require.Len(t, history("bar"), 1)
		id = submit()
		e.clock.Add(49 * time.Hour)
		require.NoError(t, e.svc.PollBuilds(ctx))
		require.Equal(t, id, e.hub.cancelled[1])

		// Failed twice: the second failure gives no build priority.
		for i, want := range []int64{200, 0} {
			id = submit()
			e.hub.finish(id, koji.TaskFailed, &koji.Fault{Code: int(koji.ErrBuild), String: "failed"})
			require.NoError(t, e.svc.PollBuilds(ctx))
			require.Equal(t, want, e.pkg(t, "bar").BuildPriority, "failure %d", i+1)
		}
		require.Equal(t, []string{"package bar ok->failing"}, e.notes.take())
	})
}

func TestResolutionProblems(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		e := newTestEnv(t, dsn, nil)
		start(t, e)
		// A repo without foo: bar and baz cannot install.
		pkgs := repoV("1")
		delete(pkgs, "foo")
		e.repo(pkgs)
		require.NoError(t, e.svc.Resolve(ctx))
		// baz's own requirement, bar, is there (the fake follows no
		// runtime requires into problems).
		require.Equal(t, []string{"package bar ok->unresolved"}, e.notes.take())
		h, err := e.store.PackageHistory(ctx, "f44", "bar", 0)
		require.NoError(t, err)
		require.False(t, h.Resolutions[0].Resolved)
		require.Equal(t, []string{"nothing provides foo"}, h.Resolutions[0].Problems)
		require.Equal(t, StateUnresolved, StateOf(h.Package))

		// A repo whose buildroot cannot install: the collection is
		// unresolved and nothing is scheduled.
		id := e.repo(repoV("1"))
		url, _ := e.hub.RepoURL("f44-build", id, "x86_64")
		e.loader.indexes[url].broken = []string{"conflicting requests"}
		require.NoError(t, e.svc.Resolve(ctx))
		require.Equal(t, []string{"collection f44 ok->unresolved"}, e.notes.take())
		cs, err := e.store.Collections(ctx)
		require.NoError(t, err)
		require.Equal(t, CollectionUnresolved, CollectionStateOf(cs[0]))
		status, err := e.store.CollectionStatus(ctx, "f44", DefaultPriorityConfig(), e.clock.Now())
		require.NoError(t, err)
		require.Equal(t, []string{"conflicting requests"}, status.BuildrootProblems, "the buildroot's problems kept")
		e.clock.Add(30 * 24 * time.Hour)
		prios, err := e.svc.Priorities(ctx)
		require.NoError(t, err)
		require.Empty(t, prios)
	})
}

func TestRealBuildsUntagged(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		e := newTestEnv(t, dsn, nil)
		start(t, e)
		old := e.hub.tagged["foo"]
		require.NoError(t, e.store.SetManualPriority(ctx, "f44", "foo", 9))
		e.hub.tag("foo", "2", "gcc")
		require.NoError(t, e.svc.Poll(ctx))
		h, err := e.store.PackageHistory(ctx, "f44", "foo", 0)
		require.NoError(t, err)
		require.Len(t, h.Builds, 2)
		require.Equal(t, int64(0), h.Package.ManualPriority, "a new real build resets priorities")
		require.Equal(t, "2", h.Builds[0].Build.Version)
		require.Equal(t, h.Builds[0].Build.ID, *h.Package.LastBuildID)

		// foo-2 is untagged: foo-1 is the latest again.
		e.hub.tagged["foo"] = old
		require.NoError(t, e.svc.Poll(ctx))
		h, err = e.store.PackageHistory(ctx, "f44", "foo", 0)
		require.NoError(t, err)
		require.True(t, h.Builds[0].Build.Untagged)
		require.Equal(t, h.Builds[1].Build.ID, *h.Package.LastBuildID)

		// And tagged again.
		e.hub.tagged["foo"] = e.hub.tag("foo", "2", "gcc")
		e.hub.tagged["foo"].TaskID = koji.Ptr(int(h.Builds[0].Build.TaskID))
		require.NoError(t, e.svc.Poll(ctx))
		h, err = e.store.PackageHistory(ctx, "f44", "foo", 0)
		require.NoError(t, err)
		require.Len(t, h.Builds, 2)
		require.False(t, h.Builds[0].Build.Untagged)
		require.Equal(t, h.Builds[0].Build.ID, *h.Package.LastBuildID)
	})
}

// schedule runs a scheduler cycle and checks whether it submitted.
func (e *testEnv) schedule(t *testing.T, submitted bool, msg ...any) *Build {
	t.Helper()
	b, err := e.svc.Schedule(context.Background())
	require.NoError(t, err)
	require.Equal(t, submitted, b != nil, msg...)
	return b
}
