package depsolve

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/rebuild/repodata"
)

// rpm's own test cases (rpm's tests/rpmvercmp.at), the documented
// "current behavior" ones included.
func TestVercmp(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0", 0}, {"1.0", "2.0", -1}, {"2.0", "1.0", 1}, {"2.0.1", "2.0.1", 0}, {"2.0", "2.0.1", -1},
		{"2.0.1", "2.0", 1}, {"2.0.1a", "2.0.1a", 0}, {"2.0.1a", "2.0.1", 1}, {"2.0.1", "2.0.1a", -1},
		{"5.5p1", "5.5p1", 0}, {"5.5p1", "5.5p2", -1}, {"5.5p2", "5.5p1", 1}, {"5.5p10", "5.5p10", 0},
		{"5.5p1", "5.5p10", -1}, {"5.5p10", "5.5p1", 1}, {"10xyz", "10.1xyz", -1}, {"10.1xyz", "10xyz", 1},
		{"xyz10", "xyz10", 0}, {"xyz10", "xyz10.1", -1}, {"xyz10.1", "xyz10", 1}, {"xyz.4", "xyz.4", 0},
		{"xyz.4", "8", -1}, {"8", "xyz.4", 1}, {"xyz.4", "2", -1}, {"2", "xyz.4", 1}, {"5.5p2", "5.6p1", -1},
		{"5.6p1", "5.5p2", 1}, {"5.6p1", "6.5p1", -1}, {"6.5p1", "5.6p1", 1}, {"6.0.rc1", "6.0", 1},
		{"6.0", "6.0.rc1", -1}, {"10b2", "10a1", 1}, {"10a2", "10b2", -1}, {"1.0aa", "1.0aa", 0},
		{"1.0a", "1.0aa", -1}, {"1.0aa", "1.0a", 1}, {"10.0001", "10.0001", 0}, {"10.0001", "10.1", 0},
		{"10.1", "10.0001", 0}, {"10.0001", "10.0039", -1}, {"10.0039", "10.0001", 1}, {"4.999.9", "5.0", -1},
		{"5.0", "4.999.9", 1}, {"20101121", "20101121", 0}, {"20101121", "20101122", -1}, {"20101122", "20101121", 1},
		{"2_0", "2_0", 0}, {"2.0", "2_0", 0}, {"2_0", "2.0", 0}, {"a", "a", 0}, {"a+", "a+", 0}, {"a+", "a_", 0},
		{"a_", "a+", 0}, {"+a", "+a", 0}, {"+a", "_a", 0}, {"_a", "+a", 0}, {"+_", "+_", 0}, {"_+", "+_", 0},
		{"_+", "_", 0}, {"+", "_", 0}, {"_", "+", 0},
		// Tilde.
		{"1.0~rc1", "1.0~rc1", 0}, {"1.0~rc1", "1.0", -1}, {"1.0", "1.0~rc1", 1}, {"1.0~rc1", "1.0~rc2", -1},
		{"1.0~rc2", "1.0~rc1", 1}, {"1.0~rc1~git123", "1.0~rc1~git123", 0}, {"1.0~rc1~git123", "1.0~rc1", -1},
		{"1.0~rc1", "1.0~rc1~git123", 1},
		// Caret.
		{"1.0^", "1.0^", 0}, {"1.0^", "1.0", 1}, {"1.0", "1.0^", -1}, {"1.0^git1", "1.0^git1", 0},
		{"1.0^git1", "1.0", 1}, {"1.0", "1.0^git1", -1}, {"1.0^git1", "1.0^git2", -1}, {"1.0^git2", "1.0^git1", 1},
		{"1.0^git1", "1.01", -1}, {"1.01", "1.0^git1", 1}, {"1.0^20160101", "1.0^20160101", 0},
		{"1.0^20160101", "1.0.1", -1}, {"1.0.1", "1.0^20160101", 1}, {"1.0^20160101^git1", "1.0^20160101^git1", 0},
		{"1.0^20160102", "1.0^20160101^git1", 1}, {"1.0^20160101^git1", "1.0^20160102", -1},
		// Tilde and caret.
		{"1.0~rc1^git1", "1.0~rc1^git1", 0}, {"1.0~rc1^git1", "1.0~rc1", 1}, {"1.0~rc1", "1.0~rc1^git1", -1},
		{"1.0^git1~pre", "1.0^git1~pre", 0}, {"1.0^git1", "1.0^git1~pre", 1}, {"1.0^git1~pre", "1.0^git1", -1},
		// Current behavior rpm documents.
		{"1b.fc17", "1b.fc17", 0}, {"1b.fc17", "1.fc17", -1}, {"1.fc17", "1b.fc17", 1}, {"1g.fc17", "1g.fc17", 0},
		{"1g.fc17", "1.fc17", 1}, {"1.fc17", "1g.fc17", -1},
		// Non-ASCII characters are separators, so all equal.
		{"1.1.α", "1.1.α", 0}, {"1.1.α", "1.1.β", 0}, {"1.1.β", "1.1.α", 0}, {"1.1.αα", "1.1.α", 0},
		{"1.1.α", "1.1.ββ", 0}, {"1.1.ββ", "1.1.αα", 0},
	} {
		require.Equal(t, tc.want, Vercmp(tc.a, tc.b), "%s vs %s", tc.a, tc.b)
	}
}

func TestCompareEVR(t *testing.T) {
	evr := func(e int, v, r string) repodata.EVR { return repodata.EVR{Epoch: e, Version: v, Release: r} }
	require.Equal(t, 1, CompareEVR(evr(1, "1", "1"), evr(0, "9", "9")))
	require.Equal(t, -1, CompareEVR(evr(0, "1.2", "3"), evr(0, "1.10", "1")))
	require.Equal(t, 1, CompareEVR(evr(0, "1", "10"), evr(0, "1", "9")))
	require.Equal(t, 0, CompareEVR(evr(0, "1", ""), evr(0, "1", "9")), "no release matches any")
}

// rpmdsCompare's range overlaps: a requirement against a provide.
func TestOverlap(t *testing.T) {
	e := func(s string) repodata.EVR {
		v, err := repodata.ParseEVR(s)
		require.NoError(t, err)
		return v
	}
	const lt, le, eq, ge, gt = repodata.LT, repodata.LE, repodata.EQ, repodata.GE, repodata.GT
	for _, tc := range []struct {
		rf       repodata.Flags
		req      string
		pf       repodata.Flags
		prov     string
		overlaps bool
	}{
		{ge, "2", eq, "2-1", true}, {ge, "2", eq, "1.9-1", false}, {gt, "2", eq, "2-1", false},
		{gt, "2-1", eq, "2-2", true}, {lt, "2", eq, "1-1", true}, {le, "2", eq, "2-5", true},
		{lt, "2", eq, "2-5", false}, {eq, "1:1", eq, "1-1", false}, {eq, "1:1", eq, "1:1-1", true},
		{ge, "2", ge, "1", true}, {lt, "1", gt, "2", false}, {lt, "2", gt, "1", true}, {0, "", eq, "1-1", true},
		{ge, "2", 0, "", true}, {eq, "1.0~rc1", eq, "1.0-1", false}, {lt, "1.0", eq, "1.0~rc1-1", true},
	} {
		require.Equal(t, tc.overlaps, Overlap(tc.rf, e(tc.req), tc.pf, e(tc.prov)), "%s %s vs %s %s", tc.rf, tc.req, tc.pf, tc.prov)
	}
}

// Vercmp is an order: antisymmetric, and equal strings compare equal.
func FuzzVercmp(f *testing.F) {
	f.Add("1.0~rc1^git1", "1.0^git1~pre")
	f.Add("10.0001", "10.1")
	f.Fuzz(func(t *testing.T, a, b string) {
		if c, r := Vercmp(a, b), Vercmp(b, a); c != -r || c < -1 || c > 1 {
			t.Fatalf("Vercmp(%q, %q) = %d, reversed %d", a, b, c, r)
		}
		if Vercmp(a, a) != 0 {
			t.Fatalf("Vercmp(%q, itself) != 0", a)
		}
	})
}
