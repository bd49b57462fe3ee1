package rebuild

import "github.com/gokoji/gokoji/rebuild/internal/rstore"

// The stored records, defined by the store (see their docs there).
type (
	// Collection is a target on a hub with its build and destination tags.
	Collection = rstore.Collection
	// Package is a package of a collection.
	Package = rstore.Package
	// Build is a scratch build or a real build of a package.
	Build = rstore.Build
	// BuildState is a build's state: running, complete or failed.
	BuildState = rstore.BuildState
	// SkipReason says why the scheduler leaves a package alone.
	SkipReason = rstore.SkipReason
	// Dependency is one installed package of a resolution (NEVRA).
	Dependency = rstore.Dependency
	// ResolvedDep is a dependency with its distance.
	ResolvedDep = rstore.ResolvedDep
	// Change is what happened to one dependency between resolutions.
	Change = rstore.Change
	// Resolution is one recorded change of a resolution result.
	Resolution = rstore.Resolution
	// KojiTask is a buildArch subtask of a build.
	KojiTask = rstore.KojiTask
)

// Build states (Koschei's numbers).
const (
	BuildRunning  = rstore.BuildRunning
	BuildComplete = rstore.BuildComplete
	BuildFailed   = rstore.BuildFailed
)

// Skip reasons.
const (
	SkipNone     = rstore.SkipNone
	SkipNoSRPM   = rstore.SkipNoSRPM
	SkipNoArches = rstore.SkipNoArches
)
