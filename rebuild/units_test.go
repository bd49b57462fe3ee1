package rebuild

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/koji"
)

func TestThrottle(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	th := NewThrottle(3, time.Minute, t0)
	for i := range 3 {
		require.True(t, th.Allow(t0), "token %d", i)
	}
	require.False(t, th.Allow(t0), "burst spent")
	require.Equal(t, 20*time.Second, th.Next(t0))
	require.False(t, th.Allow(t0.Add(19*time.Second)))
	require.True(t, th.Allow(t0.Add(20*time.Second)), "one token per interval/burst")
	require.False(t, th.Allow(t0.Add(21*time.Second)))
	th.Return()
	require.True(t, th.Allow(t0.Add(21*time.Second)), "a returned token")
	// A long pause refills to the burst, not beyond.
	later := t0.Add(time.Hour)
	for range 3 {
		require.True(t, th.Allow(later))
	}
	require.False(t, th.Allow(later))
	// A clock going back takes nothing back.
	require.False(t, th.Allow(t0))

	for _, off := range []*Throttle{nil, NewThrottle(0, time.Minute, t0), NewThrottle(-1, time.Minute, t0), NewThrottle(5, 0, t0)} {
		for range 100 {
			require.True(t, off.Allow(t0))
		}
		require.Zero(t, off.Next(t0))
	}
}

func TestLoad(t *testing.T) {
	hosts := []*koji.Host{
		{Arches: "x86_64 i386", Capacity: 4, TaskLoad: 3, Ready: true, Enabled: true},
		{Arches: "x86_64", Capacity: 4, TaskLoad: 9, Ready: true, Enabled: true},   // over capacity: counts as full
		{Arches: "aarch64", Capacity: 2, TaskLoad: 0, Ready: false, Enabled: true}, // not ready: counts as full
		{Arches: "aarch64", Capacity: 2, TaskLoad: 0, Ready: true, Enabled: true},
		{Arches: "ppc64le", Capacity: 8, TaskLoad: 0, Ready: true, Enabled: false},
	}
	tag := []string{"x86_64", "aarch64", "i686"}
	require.InDelta(t, 7.0/8, Load(hosts, tag, []string{"x86_64"}), 1e-9)
	require.InDelta(t, 0.75, Load(hosts, tag, []string{"i686"}), 1e-9, "i686 is i386")
	require.InDelta(t, 0.5, Load(hosts, tag, []string{"aarch64"}), 1e-9)
	require.InDelta(t, 7.0/8, Load(hosts, tag, []string{"x86_64", "aarch64"}), 1e-9, "the busiest arch")
	require.InDelta(t, 0.5, Load(hosts, tag, []string{"noarch"}), 1e-9, "noarch: the least busy tag arch")
	require.Equal(t, 1.0, Load(hosts, tag, []string{"ppc64le"}), "no capacity: full")
}

func TestBuildArches(t *testing.T) {
	tag := []string{"x86_64", "aarch64", "i686"}
	for _, tc := range []struct {
		srpm     SRPM
		override string
		allowed  []string
		want     []string
	}{
		{SRPM{}, "", nil, []string{"aarch64", "i686", "x86_64"}},
		{SRPM{}, "", []string{"i386", "x86_64"}, []string{"i686", "x86_64"}},
		{SRPM{BuildArchs: []string{"noarch"}}, "", nil, []string{"noarch"}},
		{SRPM{ExclusiveArch: []string{"x86_64", "ppc64le"}}, "", nil, []string{"x86_64"}},
		{SRPM{ExcludeArch: []string{"i686"}}, "", nil, []string{"aarch64", "x86_64"}},
		{SRPM{ExclusiveArch: []string{"noarch", "x86_64"}}, "", nil, []string{"noarch", "x86_64"}},
		{SRPM{BuildArchs: []string{"noarch"}, ExcludeArch: []string{"noarch"}}, "", nil, nil},
		{SRPM{ExclusiveArch: []string{"s390x"}}, "", nil, nil},
		{SRPM{}, "^i386 aarch64", nil, []string{"x86_64"}},
		{SRPM{}, "x86_64 ppc64le", nil, []string{"x86_64"}},
	} {
		require.Equal(t, tc.want, BuildArches(tag, &tc.srpm, tc.override, tc.allowed), "%+v %q", tc.srpm, tc.override)
	}
}

// compareEVR is depsolve's rpm comparison (tested there) on the fields
// of builds.
func TestCompareEVR(t *testing.T) {
	require.Equal(t, 1, compareEVR(1, "1", "1", 0, "9", "9"))
	require.Equal(t, -1, compareEVR(0, "1.2", "3", 0, "1.10", "1"))
	require.Equal(t, 1, compareEVR(0, "1", "10", 0, "1", "9"))
}

func TestDiffDeps(t *testing.T) {
	dep := func(name, v string, dist int) ResolvedDep {
		return ResolvedDep{Dependency: Dependency{Name: name, Version: v, Release: "1", Arch: "x86_64"}, Distance: dist}
	}
	prev := []ResolvedDep{dep("gcc", "14", 1), dep("glibc", "2.40", 2), dep("old", "1", 3), dep("same", "1", 1)}
	curr := []ResolvedDep{dep("gcc", "15", 1), dep("glibc", "2.41", 3), dep("new", "1", 2), dep("same", "1", 1)}
	got := diffDeps(prev, curr)
	require.Len(t, got, 4)
	byName := map[string]Change{}
	for _, c := range got {
		byName[c.Name] = c
	}
	require.Equal(t, "14-1", byName["gcc"].Prev.EVR())
	require.Equal(t, "15-1", byName["gcc"].Curr.EVR())
	require.Equal(t, 1, byName["gcc"].Distance)
	require.Equal(t, 3, byName["glibc"].Distance, "the new distance")
	require.Nil(t, byName["old"].Curr)
	require.Equal(t, 0, byName["old"].Distance, "removed: distance unknown")
	require.Nil(t, byName["new"].Prev)
	require.Equal(t, 2, byName["new"].Distance)
	// 256 + 256/3 + 256/8 + 256/2 = 501.33
	require.Equal(t, int64(501), DefaultPriorityConfig().DependencyPriority(got))
	require.Nil(t, diffDeps(nil, curr), "no baseline, no changes")
	require.Nil(t, diffDeps(prev, nil))
}
