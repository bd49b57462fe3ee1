package rebuild

import (
	"context"
	"slices"
	"strings"
)

// A RepoLoader reads a repo's metadata (repodata/repomd.xml and the
// primary metadata, as createrepo writes them) from a directory or URL
// into a RepoIndex.
type RepoLoader interface {
	Load(ctx context.Context, url string) (RepoIndex, error)
}

// A RepoIndex resolves build requirements against one repo.
type RepoIndex interface {
	// Resolve installs buildGroup (names or provides that match nothing
	// are skipped, as Koschei does) and requires for arch, and says what
	// got installed or why it could not be.
	Resolve(ctx context.Context, buildGroup []string, requires []Requirement, arch string) (*DepResolution, error)
}

// A DepResolution is a resolver's answer.
type DepResolution struct {
	// Problems say why the requirements cannot be installed; none when
	// they can.
	Problems []string
	// Installed are the packages the transaction installs (src excluded).
	Installed []Dependency
	// Distances are the installed packages' distances from the build
	// requirements by name (1 = direct), missing when unknown.
	Distances map[string]int
}

// OK reports whether the requirements resolved.
func (r *DepResolution) OK() bool { return len(r.Problems) == 0 }

// deps returns the installed packages with their distances, by name.
func (r *DepResolution) deps() []ResolvedDep {
	out := make([]ResolvedDep, 0, len(r.Installed))
	for _, d := range r.Installed {
		out = append(out, ResolvedDep{Dependency: d, Distance: r.Distances[d.Name]})
	}
	slices.SortFunc(out, func(a, b ResolvedDep) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Arch, b.Arch)
	})
	return out
}

// diffDeps is Koschei's create_dependency_changes: the NEVRAs in one set
// and not the other, merged by name; a dependency only in prev is removed
// (distance unknown), one only in curr added, one in both changed, both
// with curr's distance. Either set empty gives no changes, as upstream
// (its TODO about packages without dependencies).
func diffDeps(prev, curr []ResolvedDep) []Change {
	if len(prev) == 0 || len(curr) == 0 {
		return nil
	}
	set := func(ds []ResolvedDep) map[Dependency]bool {
		m := make(map[Dependency]bool, len(ds))
		for _, d := range ds {
			m[d.Dependency] = true
		}
		return m
	}
	inPrev, inCurr := set(prev), set(curr)
	byName := map[string]*Change{}
	var names []string
	get := func(name string) *Change {
		c, ok := byName[name]
		if !ok {
			c = &Change{Name: name}
			byName[name] = c
			names = append(names, name)
		}
		return c
	}
	for _, p := range prev {
		if !inCurr[p.Dependency] {
			d := p.Dependency
			get(p.Name).Prev = &d
		}
	}
	for _, c := range curr {
		if !inPrev[c.Dependency] {
			d := c.Dependency
			ch := get(c.Name)
			ch.Curr, ch.Distance = &d, c.Distance
		}
	}
	slices.Sort(names)
	out := make([]Change, 0, len(names))
	for _, n := range names {
		out = append(out, *byName[n])
	}
	return out
}
