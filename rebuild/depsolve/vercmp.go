// Package depsolve resolves build requirements against a repo's
// packages (read by repodata) as Koschei does with hawkey: the build
// group and the requirements are installed with their runtime
// requirements, problems are reported in libsolv's words, and each
// installed package gets its distance from the requirements by
// Koschei's depth-limited BFS. Version comparison is rpm's.
package depsolve

import (
	"strings"

	"github.com/gokoji/gokoji/rebuild/repodata"
)

// Vercmp compares two version or release strings as rpm's rpmvercmp:
// alternating runs of digits and ASCII letters, any other character
// separating them; "~" sorts before anything, the end included, and "^"
// after the end but before anything else; a numeric run is newer than an
// alphabetic one.
func Vercmp(a, b string) int {
	if a == b {
		return 0
	}
	for len(a) > 0 || len(b) > 0 {
		a = strings.TrimLeftFunc(a, isSeparator)
		b = strings.TrimLeftFunc(b, isSeparator)
		if strings.HasPrefix(a, "~") || strings.HasPrefix(b, "~") {
			if !strings.HasPrefix(a, "~") {
				return 1
			}
			if !strings.HasPrefix(b, "~") {
				return -1
			}
			a, b = a[1:], b[1:]
			continue
		}
		if strings.HasPrefix(a, "^") || strings.HasPrefix(b, "^") {
			switch {
			case a == "":
				return -1
			case b == "":
				return 1
			case !strings.HasPrefix(a, "^"):
				return 1
			case !strings.HasPrefix(b, "^"):
				return -1
			}
			a, b = a[1:], b[1:]
			continue
		}
		if a == "" || b == "" {
			break
		}
		numeric := isDigit(a[0])
		in := isAlpha
		if numeric {
			in = isDigit
		}
		var x, y string
		x, a = cut(a, in)
		y, b = cut(b, in)
		if y == "" {
			// Runs of different kinds: numbers are newer.
			if numeric {
				return 1
			}
			return -1
		}
		if numeric {
			x, y = strings.TrimLeft(x, "0"), strings.TrimLeft(y, "0")
			if len(x) != len(y) {
				if len(x) > len(y) {
					return 1
				}
				return -1
			}
		}
		if c := strings.Compare(x, y); c != 0 {
			return c
		}
	}
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	}
	return 1
}

// cut splits s after its leading bytes that are in.
func cut(s string, in func(byte) bool) (string, string) {
	i := 0
	for i < len(s) && in(s[i]) {
		i++
	}
	return s[:i], s[i:]
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// isSeparator reports a rune rpmvercmp skips: neither an ASCII letter or
// digit nor "~" or "^". Non-ASCII bytes are separators in rpm, so every
// rune that is not ASCII is.
func isSeparator(r rune) bool {
	return r >= 0x80 || !isDigit(byte(r)) && !isAlpha(byte(r)) && r != '~' && r != '^'
}

// CompareEVR compares two EVRs as rpm's rpmverCmp: epochs (absent is 0),
// versions, then releases only when both have one.
func CompareEVR(a, b repodata.EVR) int {
	switch {
	case a.Epoch < b.Epoch:
		return -1
	case a.Epoch > b.Epoch:
		return 1
	}
	if c := Vercmp(a.Version, b.Version); c != 0 || a.Release == "" || b.Release == "" {
		return c
	}
	return Vercmp(a.Release, b.Release)
}

// Overlap reports whether two dependency ranges intersect, as rpm's
// rpmdsCompare: a name without a comparison or an empty version matches
// any; otherwise the comparisons' directions decide.
func Overlap(aFlags repodata.Flags, a repodata.EVR, bFlags repodata.Flags, b repodata.EVR) bool {
	if aFlags == 0 || bFlags == 0 || a.Version == "" || b.Version == "" {
		return true
	}
	const lt, gt, eq = repodata.LT, repodata.GT, repodata.EQ
	switch sense := CompareEVR(a, b); {
	case sense < 0:
		return aFlags&gt != 0 || bFlags&lt != 0
	case sense > 0:
		return aFlags&lt != 0 || bFlags&gt != 0
	}
	return aFlags&eq != 0 && bFlags&eq != 0 || aFlags&lt != 0 && bFlags&lt != 0 || aFlags&gt != 0 && bFlags&gt != 0
}
