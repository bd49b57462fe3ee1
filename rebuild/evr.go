package rebuild

import (
	"strings"
)

// vercmp compares two version or release strings as rpm's rpmvercmp:
// alternating runs of digits and letters, other characters separating
// them, "~" sorting before anything (even the end) and "^" after the end
// but before anything else; numeric runs beat alphabetic ones.
func vercmp(a, b string) int {
	if a == b {
		return 0
	}
	isAlnum := func(c byte) bool { return isDigit(c) || isAlpha(c) }
	for len(a) > 0 || len(b) > 0 {
		for len(a) > 0 && !isAlnum(a[0]) && a[0] != '~' && a[0] != '^' {
			a = a[1:]
		}
		for len(b) > 0 && !isAlnum(b[0]) && b[0] != '~' && b[0] != '^' {
			b = b[1:]
		}
		// Tilde: older than anything, the end included.
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
		// Caret: newer than the end, older than anything else.
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
		run := func(s string) (string, string) {
			i := 0
			for i < len(s) && (numeric && isDigit(s[i]) || !numeric && isAlpha(s[i])) {
				i++
			}
			return s[:i], s[i:]
		}
		var x, y string
		x, a = run(a)
		y, b = run(b)
		if y == "" {
			// b's run is of the other kind: numeric runs are newer.
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

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// compareEVR compares (epoch, version, release) as rpm's labelCompare.
func compareEVR(e1 int, v1, r1 string, e2 int, v2, r2 string) int {
	switch {
	case e1 < e2:
		return -1
	case e1 > e2:
		return 1
	}
	if c := vercmp(v1, v2); c != 0 {
		return c
	}
	return vercmp(r1, r2)
}

func epochOf(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}
