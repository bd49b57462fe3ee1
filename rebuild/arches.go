package rebuild

import (
	"path"
	"slices"
	"strings"

	"github.com/gokoji/gokoji/koji"
)

// canonArch is koji.canonArch: the canonical arch of an arch.
func canonArch(arch string) string {
	for _, m := range []struct{ pattern, canon string }{
		{"i?86", "i386"}, {"athlon", "i386"}, {"ia32e", "x86_64"}, {"ppc64le", "ppc64le"}, {"ppc64*", "ppc64"},
		{"sparc64*", "sparc64"}, {"sparc*", "sparc"}, {"alpha*", "alpha"}, {"arm*h*", "armhfp"}, {"arm*", "arm"},
	} {
		if ok, _ := path.Match(m.pattern, arch); ok {
			return m.canon
		}
	}
	return arch
}

// BuildArches returns the arches to build an SRPM for, as Koschei's
// get_srpm_arches (after kojid's getArchList): the tag's arches, replaced
// by the SRPM's BuildArch, narrowed by ExclusiveArch and ExcludeArch,
// with noarch when BuildArch or ExclusiveArch name it and ExcludeArch does
// not; then the package's arch override ("a b" replaces the list, "^a b"
// removes those); keeping noarch and the arches whose canonical arch is a
// tag arch and, when allowed is not empty, an allowed one. An empty result
// means there is nothing to build.
func BuildArches(tagArches []string, s *SRPM, override string, allowed []string) []string {
	list := slices.Clone(tagArches)
	if len(s.BuildArchs) > 0 {
		list = slices.Clone(s.BuildArchs)
	}
	if len(s.ExclusiveArch) > 0 {
		list = slices.DeleteFunc(list, func(a string) bool { return !slices.Contains(s.ExclusiveArch, a) })
	}
	if len(s.ExcludeArch) > 0 {
		list = slices.DeleteFunc(list, func(a string) bool { return slices.Contains(s.ExcludeArch, a) })
	}
	if !slices.Contains(s.ExcludeArch, "noarch") &&
		(slices.Contains(s.BuildArchs, "noarch") || slices.Contains(s.ExclusiveArch, "noarch")) {
		list = append(list, "noarch")
	}
	if rest, inverse := strings.CutPrefix(override, "^"); inverse {
		excluded := canonSet(strings.Fields(rest))
		list = slices.DeleteFunc(list, func(a string) bool { return slices.Contains(excluded, canonArch(a)) })
	} else if override != "" {
		list = strings.Fields(override)
	}
	ok := canonSet(tagArches)
	if len(allowed) > 0 {
		al := canonSet(allowed)
		ok = slices.DeleteFunc(ok, func(a string) bool { return !slices.Contains(al, a) })
	}
	var out []string
	for _, a := range list {
		if (a == "noarch" || slices.Contains(ok, canonArch(a))) && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}

func canonSet(arches []string) []string {
	var out []string
	for _, a := range arches {
		if c := canonArch(a); !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// Load computes a hub's load for building on arches, as Koschei's
// get_koji_load, from the enabled hosts of the channel that build any of
// them: per canonical arch, the sum over its hosts of min(task_load,
// capacity) for a ready host and its whole capacity for one that is not,
// over the sum of capacities (1 when there is none). The result is the
// busiest arch's load; for noarch, which builds on any of the tag's
// arches, the least busy tag arch's.
func Load(hosts []*koji.Host, tagArches, arches []string) float64 {
	noarch := slices.Contains(arches, "noarch")
	if noarch {
		arches = tagArches
	}
	minLoad, maxLoad := 1.0, 0.0
	for _, arch := range canonSet(arches) {
		var capacity, load float64
		for _, h := range hosts {
			if !h.Enabled || !slices.Contains(h.ArchList(), arch) {
				continue
			}
			capacity += h.Capacity
			if h.Ready {
				load += min(h.TaskLoad, h.Capacity)
			} else {
				load += h.Capacity
			}
		}
		archLoad := 1.0
		if capacity > 0 {
			archLoad = load / capacity
		}
		minLoad, maxLoad = min(minLoad, archLoad), max(maxLoad, archLoad)
	}
	if noarch {
		return minLoad
	}
	return maxLoad
}
