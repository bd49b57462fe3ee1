package koji

import "testing"

func TestCanonArch(t *testing.T) {
	for arch, want := range map[string]string{
		"i386": "i386", "i686": "i386", "athlon": "i386", "ia32e": "x86_64", "x86_64": "x86_64",
		"ppc64le": "ppc64le", "ppc64": "ppc64", "ppc64p7": "ppc64", "sparc64v": "sparc64", "sparcv9": "sparc",
		"alphaev6": "alpha", "armv7hl": "armhfp", "armv7l": "arm", "aarch64": "aarch64", "noarch": "noarch",
		"src": "src", "s390x": "s390x",
	} {
		if got := CanonArch(arch); got != want {
			t.Errorf("CanonArch(%q) = %q, want %q", arch, got, want)
		}
	}
}
