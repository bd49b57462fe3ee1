package rstore

import (
	"strconv"
	"time"
)

// BuildState is a build's state, with Koschei's numbers (models.py:Build).
type BuildState int

// Build states. Cancelled builds are deleted, not kept in a state.
const (
	BuildRunning  BuildState = 2
	BuildComplete BuildState = 3
	BuildFailed   BuildState = 5
)

// String returns "running", "complete" or "failed".
func (s BuildState) String() string {
	switch s {
	case BuildRunning:
		return "running"
	case BuildComplete:
		return "complete"
	case BuildFailed:
		return "failed"
	}
	return "BuildState(" + strconv.Itoa(int(s)) + ")"
}

// SkipReason says why the scheduler leaves a package alone although its
// priority is high enough. Koschei has only scheduler_skip_reason 1 and 2
// and still computes a priority for them (hence its −1000 trick); here any
// reason makes the package unschedulable until it is cleared.
type SkipReason int

// Skip reasons.
const (
	SkipNone SkipReason = iota
	// SkipNoSRPM: the destination tag has no build with an SRPM to
	// rebuild. Cleared when a newer real build arrives.
	SkipNoSRPM
	// SkipNoArches: the SRPM builds for none of the collection's arches.
	// Cleared likewise.
	SkipNoArches
)

// String describes the reason.
func (r SkipReason) String() string {
	switch r {
	case SkipNone:
		return ""
	case SkipNoSRPM:
		return "no SRPM to rebuild"
	case SkipNoArches:
		return "no arches to build for"
	}
	return "SkipReason(" + strconv.Itoa(int(r)) + ")"
}

// A Collection is what the service rebuilds in: a target on a hub, with
// its build tag (repos, build group) and destination tag (package list,
// real builds).
type Collection struct {
	ID           int64
	Name         string // short name, used in messages' collection member
	DisplayName  string // collection_name in messages
	KojiInstance string // koji_instance in messages; "primary" by default
	Target       string
	BuildTag     string
	DestTag      string
	// PriorityCoefficient scales the dynamic part of priorities (time,
	// dependency and build priority); 1 by default.
	PriorityCoefficient float64
	// BuildGroup names the tag group installed in every buildroot
	// ("build"); BuildGroupPackages, when set, is its contents, for hubs
	// that cannot list tag groups.
	BuildGroup         string
	BuildGroupPackages []string
	// Channel is the hub channel whose load gates submissions; "default".
	Channel string
	// PollUntracked registers real builds of untracked packages too.
	PollUntracked bool
	// LatestRepoID is the build tag's repo last resolved and
	// LatestRepoResolved whether its build group installed; both nil
	// before the first resolution.
	LatestRepoID       *int64
	LatestRepoResolved *bool
}

// A Package is a package of a collection.
type Package struct {
	ID           int64
	CollectionID int64
	Name         string
	Tracked      bool
	Blocked      bool // blocked in the destination tag
	// SkipResolution schedules the package without resolving its
	// dependencies; Resolved is then nil.
	SkipResolution bool
	// Resolved is whether its build requirements resolved in the latest
	// repo; nil when not resolved yet.
	Resolved     *bool
	ArchOverride string // arches to build, or "^a b" to leave some out
	// Priorities, as Koschei keeps them (§2.3): static (admin, never
	// reset), manual (reset on submission and completion), build (failed
	// build, newly added) and dependency (from unapplied changes).
	StaticPriority     int64
	ManualPriority     int64
	BuildPriority      int64
	DependencyPriority int64
	SkipReason         SkipReason
	// The last build (newest by start, not untagged) and the last
	// finished one, kept by the store.
	LastBuildID            *int64
	LastCompleteBuildID    *int64
	LastCompleteBuildState *BuildState
}

// Running reports whether the package's last build is still running.
func (p *Package) Running() bool {
	if p.LastBuildID == nil {
		return false
	}
	return p.LastCompleteBuildID == nil || *p.LastCompleteBuildID != *p.LastBuildID
}

// A Build is a scratch build the service submitted, or a real build
// found in the destination tag.
type Build struct {
	ID        int64
	PackageID int64
	State     BuildState
	TaskID    int64
	Started   time.Time
	Finished  *time.Time
	Epoch     *int
	Version   string
	Release   string
	// RepoID is the repo the build ran in, known from its buildArch
	// subtasks; required once finished.
	RepoID          *int64
	Real            bool
	Untagged        bool
	CancelRequested bool
	// DepsResolved is whether the build's dependencies resolved in its
	// own repo; nil until the build resolver got to it.
	DepsResolved *bool
}

// A KojiTask is one buildArch subtask of a build.
type KojiTask struct {
	TaskID   int64
	Arch     string
	State    int // Koji's TASK_STATES value
	Started  *time.Time
	Finished *time.Time
}

// A Dependency is one installed package of a resolution, by NEVRA.
type Dependency struct {
	Name    string
	Epoch   int
	Version string
	Release string
	Arch    string
}

// EVR is "epoch:version-release", without "0:".
func (d Dependency) EVR() string {
	s := d.Version + "-" + d.Release
	if d.Epoch != 0 {
		s = strconv.Itoa(d.Epoch) + ":" + s
	}
	return s
}

// A ResolvedDep is a dependency with its distance from the package in
// the dependency graph: 1 for a direct build requirement, 0 unknown.
type ResolvedDep struct {
	Dependency
	Distance int
}

// A Change is what happened to one dependency between two resolutions:
// Prev nil for an added dependency, Curr nil for a removed one. Distance
// is the new distance, 0 when unknown (Koschei's NULL).
type Change struct {
	Name     string
	Prev     *Dependency
	Curr     *Dependency
	Distance int
}

// A Resolution is one recorded change of a package's resolution result.
type Resolution struct {
	ID       int64
	Resolved bool
	RepoID   *int64
	Time     time.Time
	Problems []string
}
