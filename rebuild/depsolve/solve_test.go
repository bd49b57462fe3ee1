package depsolve_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/rebuild/depsolve"
	"github.com/gokoji/gokoji/rebuild/internal/repotest"
	"github.com/gokoji/gokoji/rebuild/repodata"
)

// load makes a repo of pkgs with createrepo_c and indexes it.
func load(t *testing.T, pkgs []repotest.Pkg) *depsolve.Index {
	repo, err := (&repodata.Loader{}).Load(context.Background(), repotest.Make(t, pkgs))
	require.NoError(t, err)
	return depsolve.NewIndex(repo.Packages)
}

// dep parses "name [op evr]"; rich dependencies are names.
func dep(t *testing.T, s string) repodata.Entry {
	f := strings.Fields(s)
	if len(f) != 3 || strings.HasPrefix(s, "(") {
		return repodata.Entry{Name: s}
	}
	flags, ok := repodata.ParseFlags(f[1])
	require.True(t, ok, s)
	evr, err := repodata.ParseEVR(f[2])
	require.NoError(t, err)
	return repodata.Entry{Name: f[0], Flags: flags, EVR: evr}
}

func resolve(t *testing.T, x *depsolve.Index, group []string, requires ...string) *depsolve.Result {
	req := depsolve.Request{Arch: "x86_64", Group: group}
	for _, r := range requires {
		req.Requires = append(req.Requires, dep(t, r))
	}
	res, err := x.Resolve(context.Background(), req)
	require.NoError(t, err)
	return res
}

func nevras(res *depsolve.Result) []string {
	var out []string
	for _, p := range res.Installed {
		out = append(out, p.NEVRA())
	}
	return out
}

// A buildroot of a real repo: the build group, versioned and file
// requires through runtime requires, the newest provider, native arch
// over multilib, and distances.
func TestResolveCreaterepo(t *testing.T) {
	x := load(t, []repotest.Pkg{
		{NVR: "bash-5.2-1", Arch: "x86_64", Requires: []string{"glibc"}, Files: []string{"/usr/bin/bash", "/usr/bin/sh"}},
		{NVR: "glibc-2.40-1", Arch: "x86_64"},
		{NVR: "glibc-2.41-1", Arch: "x86_64"},
		{NVR: "glibc-2.41-1", Arch: "i686"},
		{NVR: "libfoo-1-1", Arch: "x86_64", Requires: []string{"/usr/bin/sh", "glibc >= 2.41"}},
		{NVR: "libfoo-2-1", Arch: "x86_64", Requires: []string{"/usr/bin/sh", "glibc >= 2.41"}},
		{NVR: "foo-devel-1-1", Arch: "x86_64", Requires: []string{"libfoo = 1-1"}, Provides: []string{"pkgconfig(foo) = 1"}},
		{NVR: "gcc-14-1", Arch: "x86_64", Requires: []string{"glibc"}},
		{NVR: "compat-32-1", Arch: "i686", Provides: []string{"only32"}},
		{NVR: "foo-1-1.src"},
	})
	res := resolve(t, x, []string{"bash", "not-in-repo"}, "pkgconfig(foo) >= 1", "gcc")
	require.True(t, res.OK(), res.Problems)
	require.Equal(t, []string{"bash-5.2-1.x86_64", "foo-devel-1-1.x86_64", "gcc-14-1.x86_64", "glibc-2.41-1.x86_64",
		"libfoo-1-1.x86_64"}, nevras(res))
	require.Equal(t, map[string]int{"foo-devel": 1, "gcc": 1, "glibc": 2, "libfoo": 2, "bash": 3}, res.Distances,
		"bash by the file libfoo requires, at 3; the build group does not count")

	// Multilib only when nothing native provides.
	res = resolve(t, x, nil, "only32")
	require.Equal(t, []string{"compat-32-1.i686"}, nevras(res))

	// A requirement nothing matches, one whose runtime requirement is
	// missing.
	res = resolve(t, x, nil, "pkgconfig(foo) >= 2", "gcc")
	require.Equal(t, []string{"No package found for: pkgconfig(foo) >= 2"}, res.Problems)
	require.False(t, res.OK())
}

func TestResolveProblems(t *testing.T) {
	x := load(t, []repotest.Pkg{
		{NVR: "a-1-1", Requires: []string{"missing >= 3"}},
		{NVR: "b-1-1", Conflicts: []string{"c < 2"}},
		{NVR: "c-1-1"},
		{NVR: "d-1-1", Obsoletes: []string{"c <= 1"}},
		{NVR: "e-1-1", Requires: []string{"c = 1-1", "f"}},
		{NVR: "f-1-1", Requires: []string{"c >= 2"}},
		{NVR: "c-2-1"},
	})
	require.Equal(t, []string{"nothing provides missing >= 3 needed by a-1-1.noarch"}, resolve(t, x, nil, "a").Problems)
	require.Equal(t, []string{"package b-1-1.noarch conflicts with c < 2 provided by c-1-1.noarch"},
		resolve(t, x, nil, "b", "c = 1").Problems)
	require.True(t, resolve(t, x, nil, "b", "c").OK(), "c-2 is chosen, which b does not conflict with")
	require.Equal(t, []string{"package d-1-1.noarch obsoletes c <= 1 provided by c-1-1.noarch"},
		resolve(t, x, nil, "d", "c < 2").Problems)
	require.Equal(t, []string{"package f-1-1.noarch requires c >= 2, but none of the providers can be installed"},
		resolve(t, x, nil, "e").Problems)
	require.Empty(t, resolve(t, x, nil, "(c or d)").Installed, "rich dependencies are left out")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := x.Resolve(ctx, depsolve.Request{Arch: "x86_64", Requires: []repodata.Entry{{Name: "a"}}})
	require.ErrorIs(t, err, context.Canceled)
}

// Distances stop at depth 4 as Koschei's BFS does.
func TestDistanceCap(t *testing.T) {
	x := load(t, []repotest.Pkg{
		{NVR: "l1-1-1", Requires: []string{"l2"}}, {NVR: "l2-1-1", Requires: []string{"l3"}},
		{NVR: "l3-1-1", Requires: []string{"l4"}}, {NVR: "l4-1-1", Requires: []string{"l5"}}, {NVR: "l5-1-1"},
	})
	res := resolve(t, x, nil, "l1")
	require.Len(t, res.Installed, 5)
	require.Equal(t, map[string]int{"l1": 1, "l2": 2, "l3": 3, "l4": 4}, res.Distances)
	require.Equal(t, 4, depsolve.MaxDistance)
}
