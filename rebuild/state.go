package rebuild

// PackageState is a package's state as Koschei shows it.
type PackageState string

// Package states.
const (
	StateOK         PackageState = "ok"
	StateFailing    PackageState = "failing"
	StateUnresolved PackageState = "unresolved"
	StateBlocked    PackageState = "blocked"
	StateUntracked  PackageState = "untracked"
	StateUnknown    PackageState = "unknown"
	// StateIgnored is what messages say for every state but ok, failing
	// and unresolved (Koschei's msg_state_string).
	StateIgnored PackageState = "ignored"
)

// StateOf returns a package's state with Koschei's precedence, first match
// winning (models.py:Package.state_string): blocked, untracked,
// unresolved, then ok or failing by the last complete build, else unknown.
func StateOf(p *Package) PackageState {
	switch {
	case p.Blocked:
		return StateBlocked
	case !p.Tracked:
		return StateUntracked
	case p.Resolved != nil && !*p.Resolved:
		return StateUnresolved
	case p.LastCompleteBuildState == nil:
		return StateUnknown
	case *p.LastCompleteBuildState == BuildComplete:
		return StateOK
	case *p.LastCompleteBuildState == BuildFailed:
		return StateFailing
	}
	return StateUnknown
}

// MsgState is the state as package state messages carry it: ok, failing
// and unresolved as they are, anything else ignored.
func (s PackageState) MsgState() PackageState {
	switch s {
	case StateOK, StateFailing, StateUnresolved:
		return s
	}
	return StateIgnored
}

// CollectionState is a collection's state: whether its buildroot
// resolved in the latest repo.
type CollectionState string

// Collection states.
const (
	CollectionOK         CollectionState = "ok"
	CollectionUnresolved CollectionState = "unresolved"
	CollectionUnknown    CollectionState = "unknown"
)

// CollectionStateOf returns a collection's state
// (models.py:Collection.state_string).
func CollectionStateOf(c *Collection) CollectionState {
	switch {
	case c.LatestRepoResolved == nil:
		return CollectionUnknown
	case *c.LatestRepoResolved:
		return CollectionOK
	}
	return CollectionUnresolved
}
