package rebuild

import (
	"context"
	"math"
	"time"
)

// PriorityConfig holds the constants of the priority formula. Its
// defaults (DefaultPriorityConfig) are Koschei's config.cfg.template
// `priorities` section, so priorities compare with Koschei's.
type PriorityConfig struct {
	// BuildThreshold is the priority a package needs to be scheduled,
	// and the time priority reached at T1 (build_threshold, 256).
	BuildThreshold float64
	// PackageUpdate is the weight of one dependency change at distance 1
	// (package_update, 256); a change at distance d weighs
	// PackageUpdate/d, and PackageUpdate/8 when the distance is unknown.
	PackageUpdate float64
	// FailedBuild is the build priority given when a build fails after
	// one that did not (failed_build_priority, 200).
	FailedBuild float64
	// NewlyAdded is the build priority of a package whose last build
	// cannot be dependency-resolved, so that newly tracked packages build
	// soon (newly_added, 3000).
	NewlyAdded float64
	// T0 and T1 bound the time priority's logarithmic curve: 0 at T0
	// after the last build (6 h), BuildThreshold at T1 (168 h).
	T0, T1 time.Duration
}

// DefaultPriorityConfig returns Koschei's defaults.
func DefaultPriorityConfig() PriorityConfig {
	return PriorityConfig{
		BuildThreshold: 256,
		PackageUpdate:  256,
		FailedBuild:    200,
		NewlyAdded:     3000,
		T0:             6 * time.Hour,
		T1:             168 * time.Hour,
	}
}

// timePriorityFloor is the lowest time priority (Koschei's −30).
const timePriorityFloor = -30

// unknownDistance is the divisor of a change whose distance is unknown:
// removed dependencies, build-group-only ones and those deeper than the
// search (Koschei's `distance or 8`).
const unknownDistance = 8

// TimePriority is the priority of the time since the last build started:
// a·log10(hours)+b, with a and b chosen so that it is 0 at T0 and
// BuildThreshold at T1, never below −30 (models.py:TimePriority).
func (c PriorityConfig) TimePriority(since time.Duration) float64 {
	hours := max(1e-6, since.Hours())
	t0, t1 := c.T0.Hours(), c.T1.Hours()
	a := c.BuildThreshold / (math.Log10(t1) - math.Log10(t0))
	b := -a * math.Log10(t0)
	return max(a*math.Log10(hours)+b, timePriorityFloor)
}

// ChangePriority is the weight of one dependency change at distance d
// (1 = a direct build requirement); d ≤ 0 means unknown.
func (c PriorityConfig) ChangePriority(d int) float64 {
	if d <= 0 {
		d = unknownDistance
	}
	return c.PackageUpdate / float64(d)
}

// DependencyPriority is the dependency priority of a package's unapplied
// changes: the sum of their weights, truncated to an integer as Koschei
// stores it.
func (c PriorityConfig) DependencyPriority(changes []Change) int64 {
	sum := 0.0
	for _, ch := range changes {
		sum += c.ChangePriority(ch.Distance)
	}
	return int64(sum)
}

// PriorityInput is what a package's priority is computed from.
type PriorityInput struct {
	Package *Package
	// Coefficient is the collection's priority coefficient.
	Coefficient float64
	// CollectionResolved is whether the collection's buildroot resolved
	// in its latest repo (nil: not resolved yet).
	CollectionResolved *bool
	// LastBuildStarted is when the package's last build started; nil
	// without a last build.
	LastBuildStarted *time.Time
	// Extra is the sum of the PrioritySources, added to the dynamic part.
	Extra float64
}

// Unschedulable says why a package gets no priority at all (NULL in
// Koschei, §2.2), or "" when it is schedulable. The reasons are checked in
// Koschei's order (models.py:Package.skip_reasons), then the explicit
// skip reason that replaces Koschei's −1000 trick.
func (in PriorityInput) Unschedulable() string {
	p := in.Package
	switch {
	case p.Blocked:
		return "blocked"
	case !p.Tracked:
		return "not tracked"
	case p.Running():
		return "build running"
	case p.Resolved != nil && !*p.Resolved:
		return "dependencies unresolved"
	case p.Resolved == nil && !p.SkipResolution:
		return "dependencies not resolved yet"
	case in.CollectionResolved == nil:
		return "buildroot not resolved yet"
	case !*in.CollectionResolved:
		return "buildroot unresolved"
	case in.LastBuildStarted == nil:
		return "no build yet"
	case p.SkipReason != SkipNone:
		return p.SkipReason.String()
	}
	return ""
}

// Priority computes a package's current priority (§2.1):
//
//	dynamic  = (dependency + build + time + Extra) × coefficient
//	priority = manual + static + dynamic
//
// ok is false when the package is unschedulable (see Unschedulable).
func (c PriorityConfig) Priority(in PriorityInput, now time.Time) (priority float64, ok bool) {
	if in.Unschedulable() != "" {
		return 0, false
	}
	p := in.Package
	dynamic := float64(p.DependencyPriority) + float64(p.BuildPriority) +
		c.TimePriority(now.Sub(*in.LastBuildStarted)) + in.Extra
	return float64(p.ManualPriority) + float64(p.StaticPriority) + dynamic*in.Coefficient, true
}

// PackageInfo is what a PrioritySource is told about a package.
type PackageInfo struct {
	Collection *Collection
	Package    *Package
	// LastBuild is the package's last build, nil if none.
	LastBuild *Build
}

// A PrioritySource adds priority to packages for reasons of its own
// (Koschei's plugins have no hook into its formula; this is one). Its
// value is added to the dynamic part, before the collection coefficient:
//
//	dynamic = (dependency + build + time + Σ sources) × coefficient
//
// A source is asked only about schedulable packages, each scheduling
// cycle, so it should answer from memory; an error skips the package for
// that cycle.
type PrioritySource interface {
	Priority(ctx context.Context, pkg PackageInfo) (float64, error)
}

// PrioritySourceFunc adapts a function to PrioritySource.
type PrioritySourceFunc func(ctx context.Context, pkg PackageInfo) (float64, error)

// Priority calls f.
func (f PrioritySourceFunc) Priority(ctx context.Context, pkg PackageInfo) (float64, error) {
	return f(ctx, pkg)
}
