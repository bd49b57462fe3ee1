package depsolve

import (
	"slices"
	"strings"

	"github.com/gokoji/gokoji/rebuild/repodata"
)

// An Index is a repo's binary packages indexed by what they provide, for
// resolving against. It is read-only once made, so resolutions may run
// concurrently.
type Index struct {
	pkgs     []*repodata.Package
	provides map[string][]provider
	files    map[string][]int32
	names    map[string][]int32
}

// provider is one provides entry of a package.
type provider struct {
	pkg   int32
	flags repodata.Flags
	evr   repodata.EVR
}

// NewIndex indexes pkgs; source packages are left out, as Koschei leaves
// them out of what is installed.
func NewIndex(pkgs []*repodata.Package) *Index {
	x := &Index{provides: map[string][]provider{}, files: map[string][]int32{}, names: map[string][]int32{}}
	for _, p := range pkgs {
		if p.Arch == "src" || p.Arch == "nosrc" {
			continue
		}
		i := int32(len(x.pkgs))
		x.pkgs = append(x.pkgs, p)
		x.names[p.Name] = append(x.names[p.Name], i)
		for _, pr := range p.Provides {
			x.provides[pr.Name] = append(x.provides[pr.Name], provider{pkg: i, flags: pr.Flags, evr: pr.EVR})
		}
		for _, f := range p.Files {
			x.files[f] = append(x.files[f], i)
		}
	}
	return x
}

// Len returns the number of packages indexed.
func (x *Index) Len() int { return len(x.pkgs) }

// whatProvides returns the packages, in index order, whose provides
// match dep (and, for a path, whose files include it).
func (x *Index) whatProvides(dep repodata.Entry) []int32 {
	var out []int32
	for _, pr := range x.provides[dep.Name] {
		if Overlap(pr.flags, pr.evr, dep.Flags, dep.EVR) {
			out = append(out, pr.pkg)
		}
	}
	if strings.HasPrefix(dep.Name, "/") {
		out = append(out, x.files[dep.Name]...)
	}
	if len(out) > 1 {
		slices.Sort(out)
		out = slices.Compact(out)
	}
	return out
}

// arches is what can be installed for an arch: native arches, then
// multilib ones, installed only when nothing native provides a
// dependency. noarch is always native.
type arches struct {
	native, multilib []string
}

var archCompat = map[string]arches{
	"x86_64":  {native: []string{"x86_64"}, multilib: []string{"athlon", "i686", "i586", "i486", "i386"}},
	"i686":    {native: []string{"i686", "i586", "i486", "i386"}},
	"i586":    {native: []string{"i586", "i486", "i386"}},
	"i386":    {native: []string{"i386"}},
	"aarch64": {native: []string{"aarch64"}},
	"armv7hl": {native: []string{"armv7hl", "armv6hl", "armv5tel"}},
	"ppc64le": {native: []string{"ppc64le"}},
	"ppc64":   {native: []string{"ppc64"}, multilib: []string{"ppc"}},
	"s390x":   {native: []string{"s390x"}, multilib: []string{"s390"}},
	"riscv64": {native: []string{"riscv64"}},
}

// archRank ranks a package arch for a target arch: 0 native or noarch,
// 1 multilib, -1 not installable.
func archRank(target, arch string) int {
	if arch == "noarch" || arch == target {
		return 0
	}
	c := archCompat[target]
	switch {
	case slices.Contains(c.native, arch):
		return 0
	case slices.Contains(c.multilib, arch):
		return 1
	}
	return -1
}
