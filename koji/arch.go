package koji

import "path"

// CanonArch is upstream's koji.canonArch: the canonical arch of an RPM
// arch, as tags, hosts and repo directories name them ("i686" is
// "i386", "armv7hl" is "armhfp"); other arches are their own.
func CanonArch(arch string) string {
	match := func(p string) bool { ok, _ := path.Match(p, arch); return ok }
	switch {
	case match("i?86") || arch == "athlon":
		return "i386"
	case arch == "ia32e":
		return "x86_64"
	case arch == "ppc64le":
		return "ppc64le"
	case match("ppc64*"):
		return "ppc64"
	case match("sparc64*"):
		return "sparc64"
	case match("sparc*"):
		return "sparc"
	case match("alpha*"):
		return "alpha"
	case match("arm*h*"):
		return "armhfp"
	case match("arm*"):
		return "arm"
	}
	return arch
}
