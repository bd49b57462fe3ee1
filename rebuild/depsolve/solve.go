package depsolve

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/gokoji/gokoji/rebuild/repodata"
)

// MaxDistance is the deepest distance the BFS gives, as Koschei's
// compute_dependency_distances, whose loop stops at level 5.
const MaxDistance = 4

// A Request is what to resolve for an arch.
type Request struct {
	// Arch is the arch resolved for (Koschei's resolve_for_arch):
	// packages of it and noarch ones are installed, and multilib ones
	// (i686 for x86_64) when nothing else provides a dependency.
	Arch string
	// Group is the build group: names or provides to install; those that
	// match nothing are skipped, as Koschei does.
	Group []string
	// Requires are the build requirements. One that matches nothing is a
	// problem; rich dependencies ("(a or b)") are left out, as Koschei
	// leaves them out.
	Requires []repodata.Entry
}

// A Result is a resolution's outcome.
type Result struct {
	// Problems say why the request cannot be installed, in libsolv's
	// words; none when it can.
	Problems []string
	// Installed are the packages the transaction installs, by NEVRA.
	Installed []*repodata.Package
	// Distances are the installed packages' distances from Requires by
	// name (1 = a direct requirement), from Koschei's BFS over every
	// provider; those it does not reach (the build group's own, deeper
	// than MaxDistance) are missing.
	Distances map[string]int
}

// OK reports whether the request resolved.
func (r *Result) OK() bool { return len(r.Problems) == 0 }

// solver is one resolution's state.
type solver struct {
	x         *Index
	arch      string
	installed map[int32]bool
	byName    map[string][]int32 // installed packages by name.arch
	queue     []int32
	problems  []string
	provided  map[repodata.Entry][]int32 // whatProvides, arch-filtered, memoized
}

// Resolve installs the build group and the requirements with their
// runtime requirements (weak ones are not followed), choosing among
// providers deterministically: a native or noarch package over a
// multilib one, the package named as the dependency, then names in
// order, each at its newest EVR. Conflicts and obsoletes among the
// installed packages are reported as problems, not avoided.
func (x *Index) Resolve(ctx context.Context, req Request) (*Result, error) {
	s := &solver{x: x, arch: req.Arch, installed: map[int32]bool{}, byName: map[string][]int32{},
		provided: map[repodata.Entry][]int32{}}
	for _, g := range req.Group {
		if c := s.candidates(repodata.Entry{Name: g}); len(c) > 0 {
			s.install(s.best(g, c))
		}
	}
	for _, r := range req.Requires {
		if strings.HasPrefix(r.Name, "(") {
			continue
		}
		c := s.candidates(r)
		switch {
		case len(c) == 0:
			s.problems = append(s.problems, "No package found for: "+r.String())
		case !s.anyInstalled(c):
			s.install(s.best(r.Name, c))
		}
	}
	for n := 0; len(s.queue) > 0; n++ {
		if n%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		p := s.queue[0]
		s.queue = s.queue[1:]
		s.require(p)
	}
	s.checkConflicts()
	res := &Result{Problems: s.problems, Distances: s.distances(req.Requires)}
	for i := range s.installed {
		res.Installed = append(res.Installed, x.pkgs[i])
	}
	slices.SortFunc(res.Installed, func(a, b *repodata.Package) int { return strings.Compare(a.NEVRA(), b.NEVRA()) })
	return res, nil
}

// candidates returns the installable providers of dep.
func (s *solver) candidates(dep repodata.Entry) []int32 {
	if c, ok := s.provided[dep]; ok {
		return c
	}
	c := slices.DeleteFunc(s.x.whatProvides(dep), func(i int32) bool { return archRank(s.arch, s.x.pkgs[i].Arch) < 0 })
	s.provided[dep] = c
	return c
}

func (s *solver) anyInstalled(c []int32) bool {
	return slices.ContainsFunc(c, func(i int32) bool { return s.installed[i] })
}

func (s *solver) install(i int32) {
	if s.installed[i] {
		return
	}
	p := s.x.pkgs[i]
	s.installed[i] = true
	key := p.Name + "." + p.Arch
	s.byName[key] = append(s.byName[key], i)
	s.queue = append(s.queue, i)
}

// require installs what package i requires at run time.
func (s *solver) require(i int32) {
	p := s.x.pkgs[i]
	for _, r := range p.Requires {
		if strings.HasPrefix(r.Name, "rpmlib(") || strings.HasPrefix(r.Name, "(") {
			continue
		}
		c := s.candidates(r)
		if len(c) == 0 {
			s.problems = append(s.problems, fmt.Sprintf("nothing provides %s needed by %s", r, p.NEVRA()))
			continue
		}
		if s.anyInstalled(c) {
			continue
		}
		// A provider that would be a second version of an installed
		// name.arch cannot be installed beside it.
		free := slices.DeleteFunc(slices.Clone(c), func(j int32) bool {
			q := s.x.pkgs[j]
			return len(s.byName[q.Name+"."+q.Arch]) > 0
		})
		if len(free) == 0 {
			s.problems = append(s.problems, fmt.Sprintf("package %s requires %s, but none of the providers can be installed",
				p.NEVRA(), r))
			continue
		}
		s.install(s.best(r.Name, free))
	}
}

// best picks a provider of dependency name among candidates.
func (s *solver) best(name string, c []int32) int32 {
	return slices.MinFunc(c, func(i, j int32) int {
		a, b := s.x.pkgs[i], s.x.pkgs[j]
		if r := cmp.Compare(archRank(s.arch, a.Arch), archRank(s.arch, b.Arch)); r != 0 {
			return r
		}
		if an, bn := a.Name == name, b.Name == name; an != bn {
			if an {
				return -1
			}
			return 1
		}
		if r := strings.Compare(a.Name, b.Name); r != 0 {
			return r
		}
		if r := CompareEVR(a.EVR, b.EVR); r != 0 {
			return -r // newest first
		}
		if an, bn := a.Arch == "noarch", b.Arch == "noarch"; an != bn {
			if bn {
				return -1 // the arch's own build over noarch
			}
			return 1
		}
		return cmp.Compare(i, j)
	})
}

// checkConflicts reports the installed packages' conflicts and
// obsoletes that other installed packages match, and two versions of one
// name.arch.
func (s *solver) checkConflicts() {
	ids := make([]int32, 0, len(s.installed))
	for i := range s.installed {
		ids = append(ids, i)
	}
	slices.Sort(ids)
	for _, i := range ids {
		p := s.x.pkgs[i]
		for _, c := range p.Conflicts {
			for _, j := range s.candidates(c) {
				if j != i && s.installed[j] {
					s.problems = append(s.problems, fmt.Sprintf("package %s conflicts with %s provided by %s",
						p.NEVRA(), c, s.x.pkgs[j].NEVRA()))
				}
			}
		}
		for _, o := range p.Obsoletes {
			for _, j := range s.x.names[o.Name] {
				q := s.x.pkgs[j]
				if j != i && s.installed[j] && Overlap(o.Flags, o.EVR, repodata.EQ, q.EVR) {
					s.problems = append(s.problems, fmt.Sprintf("package %s obsoletes %s provided by %s",
						p.NEVRA(), o, q.NEVRA()))
				}
			}
		}
		if same := s.byName[p.Name+"."+p.Arch]; len(same) > 1 && same[0] == i {
			for _, j := range same[1:] {
				s.problems = append(s.problems, fmt.Sprintf("cannot install both %s and %s", p.NEVRA(), s.x.pkgs[j].NEVRA()))
			}
		}
	}
}

// distances is Koschei's compute_dependency_distances: level 1 is every
// installable package matching a requirement, each next level the
// providers of the previous level's requirements not yet visited, up to
// MaxDistance; an installed package gets the first level its name is
// seen at.
func (s *solver) distances(requires []repodata.Entry) map[string]int {
	dist := map[string]int{}
	visited := map[int32]bool{}
	var level []int32
	for _, r := range requires {
		level = append(level, s.candidates(r)...)
	}
	for d := 1; len(level) > 0 && d <= MaxDistance; d++ {
		var next []int32
		for _, i := range level {
			if visited[i] {
				continue
			}
			visited[i] = true
			p := s.x.pkgs[i]
			if _, seen := dist[p.Name]; !seen && s.installedName(p.Name) {
				dist[p.Name] = d
			}
			if d == MaxDistance {
				continue
			}
			for _, r := range p.Requires {
				if !strings.HasPrefix(r.Name, "rpmlib(") {
					next = append(next, s.candidates(r)...)
				}
			}
		}
		level = next
	}
	return dist
}

// installedName reports whether a package of that name is installed.
func (s *solver) installedName(name string) bool {
	return slices.ContainsFunc(s.x.names[name], func(i int32) bool { return s.installed[i] })
}
