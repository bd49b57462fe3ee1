package rebuild

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func ptr[T any](v T) *T { return &v }

// The worked values of koschei.md §2.1; 10 h and 730 h are those of
// Koschei's test/model_test.py:PackagePriorityTest.test_time.
func TestTimePriorityWorkedValues(t *testing.T) {
	c := DefaultPriorityConfig()
	for _, tc := range []struct {
		hours float64
		want  float64
		tol   float64
	}{
		{10, 39.24, 0.005},
		{730, 368.86, 0.005},
		{24, 106.5, 0.05},
		{34, 133.3, 0.05},
		{72, 190.9, 0.05},
		{168, 256, 1e-9},
		{6, 0, 1e-9},
		{30 * 24, 368, 1},
		{365 * 24, 560, 1},
		{4.06, -30, 0.1},
		{4, -30, 0},
		{0, -30, 0},
		{1, -30, 0},
	} {
		got := c.TimePriority(time.Duration(tc.hours * float64(time.Hour)))
		require.InDelta(t, tc.want, got, tc.tol, "%v h", tc.hours)
	}
	// The curve's constants are a≈176.898 and b≈-137.654.
	p100, p10 := c.TimePriority(100*time.Hour), c.TimePriority(10*time.Hour)
	require.InDelta(t, 176.898, p100-p10, 0.001, "a: one decade")
	require.InDelta(t, -137.654, p10-(p100-p10), 0.001, "b: the value at 1 h without the floor")
}

// Per-change weights with the default package_update of 256 (§2.3), and
// Koschei's test_repo_generation: package_update 20, two changes at
// distance 2, dependency priority 20.
func TestChangeWeights(t *testing.T) {
	c := DefaultPriorityConfig()
	for d, want := range map[int]float64{1: 256, 2: 128, 3: 85.333, 4: 64, 0: 32, -1: 32} {
		require.InDelta(t, want, c.ChangePriority(d), 0.001, "distance %d", d)
	}
	c.PackageUpdate = 20
	require.Equal(t, int64(20), c.DependencyPriority([]Change{{Name: "a", Distance: 2}, {Name: "b", Distance: 2}}))
	c = DefaultPriorityConfig()
	// Σ 256/3 + 256/3 + 32 = 202.67, stored truncated.
	require.Equal(t, int64(202), c.DependencyPriority([]Change{{Distance: 3}, {Distance: 3}, {Distance: 0}}))
	require.Equal(t, int64(0), c.DependencyPriority(nil))
}

func schedulable(started time.Time) PriorityInput {
	return PriorityInput{
		Package:            &Package{Tracked: true, Resolved: ptr(true), LastBuildID: ptr(int64(1)), LastCompleteBuildID: ptr(int64(1))},
		Coefficient:        1,
		CollectionResolved: ptr(true),
		LastBuildStarted:   &started,
	}
}

func TestPriorityFormula(t *testing.T) {
	c := DefaultPriorityConfig()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	in := schedulable(now.Add(-10 * time.Hour))
	got, ok := c.Priority(in, now)
	require.True(t, ok)
	require.InDelta(t, 39.24, got, 0.005)

	// A direct BuildRequires bump alone reaches the threshold.
	in.Package.DependencyPriority = c.DependencyPriority([]Change{{Distance: 1}})
	got, _ = c.Priority(in, now)
	require.InDelta(t, 256+39.24, got, 0.005)
	require.GreaterOrEqual(t, got, c.BuildThreshold)

	// The coefficient scales the dynamic part only (test_coefficient):
	// dependency, build, time and the extra sources; manual and static
	// are added unscaled.
	in.Package.BuildPriority = 200
	in.Package.ManualPriority = 10
	in.Package.StaticPriority = -5
	in.Extra = 4
	in.Coefficient = 0.5
	got, _ = c.Priority(in, now)
	require.InDelta(t, 10-5+0.5*(256+200+39.244+4), got, 0.005)
	in.Coefficient = 2
	got, _ = c.Priority(in, now)
	require.InDelta(t, 10-5+2*(256+200+39.244+4), got, 0.005)
	// A zero coefficient leaves only manual and static priority.
	in.Coefficient = 0
	got, _ = c.Priority(in, now)
	require.Equal(t, 5.0, got)
}

// The NULL cases of §2.2, each alone on an otherwise schedulable package.
func TestPriorityUnschedulable(t *testing.T) {
	c := DefaultPriorityConfig()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		edit func(in *PriorityInput)
	}{
		{"blocked", func(in *PriorityInput) { in.Package.Blocked = true }},
		{"not tracked", func(in *PriorityInput) { in.Package.Tracked = false }},
		{"build running", func(in *PriorityInput) { in.Package.LastBuildID = ptr(int64(2)) }},
		{"dependencies unresolved", func(in *PriorityInput) { in.Package.Resolved = ptr(false) }},
		{"dependencies not resolved yet", func(in *PriorityInput) { in.Package.Resolved = nil }},
		{"buildroot not resolved yet", func(in *PriorityInput) { in.CollectionResolved = nil }},
		{"buildroot unresolved", func(in *PriorityInput) { in.CollectionResolved = ptr(false) }},
		{"no build yet", func(in *PriorityInput) { in.LastBuildStarted = nil; in.Package.LastBuildID = nil }},
		{"no SRPM to rebuild", func(in *PriorityInput) { in.Package.SkipReason = SkipNoSRPM }},
		{"no arches to build for", func(in *PriorityInput) { in.Package.SkipReason = SkipNoArches }},
	} {
		in := schedulable(now.Add(-1000 * time.Hour))
		in.Package.ManualPriority = 100000
		tc.edit(&in)
		require.Equal(t, tc.name, in.Unschedulable())
		_, ok := c.Priority(in, now)
		require.False(t, ok, tc.name)
	}
	// skip_resolution makes an unresolved (NULL) package schedulable.
	in := schedulable(now.Add(-time.Hour))
	in.Package.Resolved, in.Package.SkipResolution = nil, true
	got, ok := c.Priority(in, now)
	require.True(t, ok)
	require.Equal(t, -30.0, got)
	require.False(t, math.IsNaN(got))
}

func TestStatePrecedence(t *testing.T) {
	complete, failed := BuildComplete, BuildFailed
	for _, tc := range []struct {
		p    Package
		want PackageState
		msg  PackageState
	}{
		// Blocked wins over everything, then untracked, then unresolved.
		{Package{Blocked: true, Tracked: false, Resolved: ptr(false), LastCompleteBuildState: &failed}, StateBlocked, StateIgnored},
		{Package{Tracked: false, Resolved: ptr(false), LastCompleteBuildState: &failed}, StateUntracked, StateIgnored},
		{Package{Tracked: true, Resolved: ptr(false), LastCompleteBuildState: &complete}, StateUnresolved, StateUnresolved},
		{Package{Tracked: true, Resolved: ptr(true), LastCompleteBuildState: &complete}, StateOK, StateOK},
		{Package{Tracked: true, LastCompleteBuildState: &failed}, StateFailing, StateFailing},
		{Package{Tracked: true, Resolved: ptr(true)}, StateUnknown, StateIgnored},
	} {
		got := StateOf(&tc.p)
		require.Equal(t, tc.want, got)
		require.Equal(t, tc.msg, got.MsgState())
	}
	require.Equal(t, CollectionUnknown, CollectionStateOf(&Collection{}))
	require.Equal(t, CollectionOK, CollectionStateOf(&Collection{LatestRepoResolved: ptr(true)}))
	require.Equal(t, CollectionUnresolved, CollectionStateOf(&Collection{LatestRepoResolved: ptr(false)}))
}
