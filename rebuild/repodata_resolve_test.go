package rebuild

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/rebuild/internal/repotest"
)

// dirLoader is the RepodataLoader on the local repo directories that
// stand for the fake hub's repo URLs.
type dirLoader struct {
	mu   sync.Mutex
	dirs map[string]string
}

func (l *dirLoader) Load(ctx context.Context, url string) (RepoIndex, error) {
	l.mu.Lock()
	dir := l.dirs[url]
	l.mu.Unlock()
	return RepodataLoader{}.Load(ctx, dir)
}

// buildTag is the build tag's content with foo at version v, as RPMs in
// a createrepo_c repo: bar requires foo's /usr/bin/foo (a file require,
// resolved through primary's file list), so foo is at distance 2 from
// baz, which build-requires bar.
func buildTag(v string) []repotest.Pkg {
	return []repotest.Pkg{
		{NVR: "bash-5.2-1", Arch: "x86_64", Files: []string{"/usr/bin/bash"}},
		{NVR: "rpm-build-4.20-1", Arch: "x86_64", Requires: []string{"/usr/bin/bash"}},
		{NVR: "gcc-14-1", Arch: "x86_64"},
		{NVR: "foo-" + v + "-1", Files: []string{"/usr/bin/foo"}},
		{NVR: "bar-1-1", Requires: []string{"/usr/bin/foo"}},
		{NVR: "baz-1-1"},
	}
}

// On real repodata: foo's version bump is a change at distance 1 for
// bar (foo >= 1) and at distance 2 for baz, which raises their
// dependency priorities and makes bar due; qux, which needs foo >= 2,
// is unresolved until the bump.
func TestResolutionOnRepodata(t *testing.T) {
	repo1, repo2 := repotest.Make(t, buildTag("1")), repotest.Make(t, buildTag("2"))
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		loader := &dirLoader{dirs: map[string]string{}}
		e := newTestEnv(t, dsn, func(c *Config) { c.Loader = loader })
		addRepo := func(dir string) {
			url, _ := e.hub.RepoURL("f44-build", e.hub.addRepo(), "x86_64")
			loader.mu.Lock()
			loader.dirs[url] = dir
			loader.mu.Unlock()
		}
		addRepo(repo1)
		e.hub.tag("foo", "1", "gcc")
		e.hub.tag("bar", "1")
		e.hub.srpms["bar-1-1"].Requires = []Requirement{{Name: "foo", Op: ">=", Version: "1"}, {Name: "gcc"}}
		e.hub.tag("baz", "1", "bar")
		e.hub.tag("qux", "1")
		e.hub.srpms["qux-1-1"].Requires = []Requirement{{Name: "foo", Op: ">=", Version: "2"}}
		require.NoError(t, e.store.Track(ctx, "f44", []string{"foo", "bar", "baz", "qux"}, true))
		require.NoError(t, e.svc.Poll(ctx))
		require.NoError(t, e.svc.Resolve(ctx))
		require.Contains(t, e.notes.take(), "collection f44 unknown->ok", "bash and rpm-build install")

		h, err := e.store.PackageHistory(ctx, "f44", "baz", 0)
		require.NoError(t, err)
		require.True(t, *h.Builds[0].Build.DepsResolved)
		require.Equal(t, StateUnresolved, StateOf(e.pkg(t, "qux")))
		h, err = e.store.PackageHistory(ctx, "f44", "qux", 0)
		require.NoError(t, err)
		require.Equal(t, []string{"No package found for: foo >= 2"}, h.Resolutions[0].Problems)
		e.schedule(t, false)

		// A day later foo is rebuilt at version 2 and a new repo has it.
		e.clock.Add(24 * time.Hour)
		e.hub.tag("foo", "2", "gcc")
		addRepo(repo2)
		require.NoError(t, e.svc.Poll(ctx))
		require.NoError(t, e.svc.Resolve(ctx))

		require.Equal(t, int64(256), e.pkg(t, "bar").DependencyPriority, "foo >= 1 directly: 256/1")
		require.Equal(t, int64(128), e.pkg(t, "baz").DependencyPriority, "foo through bar's /usr/bin/foo: 256/2")
		require.Equal(t, StateOK, StateOf(e.pkg(t, "qux")), "foo >= 2 installs now")
		h, err = e.store.PackageHistory(ctx, "f44", "baz", 0)
		require.NoError(t, err)
		require.Len(t, h.Unapplied, 1)
		require.Equal(t, "foo", h.Unapplied[0].Name)
		require.Equal(t, "1-1", h.Unapplied[0].Prev.EVR())
		require.Equal(t, "2-1", h.Unapplied[0].Curr.EVR())
		require.Equal(t, "noarch", h.Unapplied[0].Curr.Arch)
		require.Equal(t, 2, h.Unapplied[0].Distance)

		prios, err := e.svc.Priorities(ctx)
		require.NoError(t, err)
		// qux's own build could not be resolved in its repo: it has the
		// newly-added build priority.
		require.Equal(t, []string{"qux", "bar", "baz", "foo"}, names(prios))
		require.Equal(t, int64(3000), e.pkg(t, "qux").BuildPriority, "newly_added")
		require.InDelta(t, 3000+106.5, prios[0].Priority, 0.1)
		require.InDelta(t, 256+106.5, prios[1].Priority, 0.1)
		require.InDelta(t, 128+106.5, prios[2].Priority, 0.1)
		e.schedule(t, true)
		e.schedule(t, true)
		require.Equal(t, []string{"qux-1-1 f44-candidate x86_64", "bar-1-1 f44-candidate x86_64"}, e.hub.submitted)
		e.schedule(t, false) // baz stays under the threshold
	})
}

func names(ss []Scheduled) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Package.Name)
	}
	return out
}
