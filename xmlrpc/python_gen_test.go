package xmlrpc_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

// pyGen generates random values of every type the package decodes into an
// any, nested at most 4 deep (a top-level container is depth 1).
type pyGen struct {
	r    *rand.Rand
	seen map[string]int // how many values of each kind were generated
}

func pyNewGen(t *testing.T, seed uint64) *pyGen {
	t.Logf("random values from seed %d", seed)
	return &pyGen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), seen: map[string]int{}}
}

// pyKinds are the kinds of value pyGen.seen counts.
var pyKinds = []string{
	"nil", "bool", "int", "i8", "min-i8", "double", "nan", "-0.0", "inf", "string", "empty-string",
	"astral", "base64", "empty-base64", "dateTime", "array", "empty-array", "struct", "empty-struct",
	"empty-key", "depth-4",
}

func (g *pyGen) value(depth int) any {
	v := g.newValue(depth)
	switch x := v.(type) {
	case nil:
		g.seen["nil"]++
	case bool:
		g.seen["bool"]++
	case int64:
		switch {
		case x == math.MinInt64:
			g.seen["min-i8"]++
			g.seen["i8"]++
		case x < math.MinInt32 || x > math.MaxInt32:
			g.seen["i8"]++
		default:
			g.seen["int"]++
		}
	case float64:
		g.seen["double"]++
		switch {
		case math.IsNaN(x):
			g.seen["nan"]++
		case math.IsInf(x, 0):
			g.seen["inf"]++
		case x == 0 && math.Signbit(x):
			g.seen["-0.0"]++
		}
	case string:
		g.seen["string"]++
		if x == "" {
			g.seen["empty-string"]++
		}
		if strings.ContainsFunc(x, func(r rune) bool { return r > 0xFFFF }) {
			g.seen["astral"]++
		}
	case []byte:
		g.seen["base64"]++
		if len(x) == 0 {
			g.seen["empty-base64"]++
		}
	case time.Time:
		g.seen["dateTime"]++
	case []any:
		g.seen["array"]++
		if len(x) == 0 {
			g.seen["empty-array"]++
		}
	case map[string]any:
		g.seen["struct"]++
		if len(x) == 0 {
			g.seen["empty-struct"]++
		}
		if _, ok := x[""]; ok {
			g.seen["empty-key"]++
		}
	}
	if depth == 4 {
		switch v.(type) {
		case []any, map[string]any:
			g.seen["depth-4"]++
		}
	}
	return v
}

func (g *pyGen) newValue(depth int) any {
	if depth <= 4 && g.r.IntN(4) == 0 {
		n := g.r.IntN(7)
		if g.r.IntN(2) == 0 {
			list := make([]any, n)
			for i := range list {
				list[i] = g.value(depth + 1)
			}
			return list
		}
		m := make(map[string]any, n)
		for range n {
			m[g.string()] = g.value(depth + 1)
		}
		return m
	}
	switch g.r.IntN(7) {
	case 0:
		return nil
	case 1:
		return g.r.IntN(2) == 0
	case 2:
		return g.int()
	case 3:
		return g.float()
	case 4:
		return g.string()
	case 5:
		return g.bytes()
	default:
		return g.time()
	}
}

// checkCoverage logs how many values of each kind were generated and
// fails the test when a kind never came up: the seed no longer exercises it.
func (g *pyGen) checkCoverage(t *testing.T) {
	t.Helper()
	var b strings.Builder
	for _, kind := range pyKinds {
		fmt.Fprintf(&b, " %s=%d", kind, g.seen[kind])
		assert.Positive(t, g.seen[kind], "no value of kind %s was generated", kind)
	}
	t.Logf("generated:%s", b.String())
}

func (g *pyGen) int() int64 {
	switch g.r.IntN(4) {
	case 0:
		return g.r.Int64N(2001) - 1000
	case 1: // around the <int>/<i8> boundary
		return []int64{1 << 31, -1 << 31}[g.r.IntN(2)] + g.r.Int64N(6) - 3
	case 2:
		return []int64{math.MaxInt64, -math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1, 0}[g.r.IntN(6)]
	default:
		n := int64(g.r.Uint64() >> (1 + g.r.IntN(63))) // 1 to 63 bits
		if g.r.IntN(2) == 0 {
			n = -n
		}
		return n
	}
}

var pySpecialFloats = []float64{
	0, math.Copysign(0, -1), 0.1, -1.5, 1e-5, 1e-4, 1e-7, 1e15, 1e16, 9999999999999998, 1e21, 1e22,
	1 << 53, 1<<53 + 2, 123456789.125, 5e-324, 2.2250738585072014e-308,
	math.MaxFloat64, -math.MaxFloat64, math.Inf(1), math.Inf(-1),
}

func (g *pyGen) float() float64 {
	p := g.r.Float64()
	switch {
	case p < 0.01:
		return math.NaN()
	case p < 0.4:
		return pySpecialFloats[g.r.IntN(len(pySpecialFloats))]
	case p < 0.6:
		return g.r.Float64()*2e6 - 1e6
	case p < 0.8:
		f := g.r.Float64() * math.Pow(10, float64(g.r.IntN(628)-320))
		if g.r.IntN(2) == 0 {
			f = -f
		}
		return f
	default:
		return math.Float64frombits(g.r.Uint64()) // any bit pattern, rarely a NaN
	}
}

var (
	pySpecialStrings = []string{
		"", " ", "   ", "  padded  ", "\t", "\n", " \n\t ", "\n\n", "<>&'\"", "]]>", "&amp;", "&#13;",
		"<![CDATA[x]]>", "<value><nil/></value>", "\U0001F600", "\u00a0", "e\u0301",
	}
	pyAlphabet = []rune("abcXYZ019 !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~  \t\n" +
		"\u00a0\u00e9\u017e\u016f\u00df\u0301\u20ac\u2014\u201c\u2028\u2029\ufeff\ufffd\ufffc\u4e2d\u6587" +
		"\U0001F600\U0001F4A9\U00010348\U0010FFFD\U000E0001")
)

// string returns a random valid UTF-8 string of characters XML can carry:
// no carriage return (Python writes it raw, and XML reads a raw one as a
// newline), no other control character, no U+FFFE or U+FFFF.
func (g *pyGen) string() string {
	if g.r.IntN(4) == 0 {
		return pySpecialStrings[g.r.IntN(len(pySpecialStrings))]
	}
	var b strings.Builder
	for range g.r.IntN(25) {
		var c rune
		switch g.r.IntN(4) {
		case 0: // any character of the BMP outside controls and surrogates
			for c = 0xFFFE; c < 0xA0 || (c >= 0xD800 && c <= 0xDFFF) || c >= 0xFFFE; {
				c = 0x20 + g.r.Int32N(0xFFFE-0x20)
			}
		case 1: // any astral character
			c = 0x10000 + g.r.Int32N(utf8.MaxRune-0x10000+1)
		default:
			c = pyAlphabet[g.r.IntN(len(pyAlphabet))]
		}
		b.WriteRune(c)
	}
	return b.String()
}

func (g *pyGen) bytes() []byte {
	if g.r.IntN(10) == 0 {
		return []byte{}
	}
	b := make([]byte, g.r.IntN(201))
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	return b
}

var (
	pyFirstTime = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	pyTimeSpan  = time.Date(2101, 1, 1, 0, 0, 0, 0, time.UTC).Unix() - pyFirstTime.Unix()
)

func (g *pyGen) time() time.Time {
	return time.Unix(pyFirstTime.Unix()+g.r.Int64N(pyTimeSpan), 0).UTC()
}

// params returns 0 to 5 random parameters.
func (g *pyGen) params() []any {
	params := make([]any, g.r.IntN(6))
	for i := range params {
		params[i] = g.value(1)
	}
	return params
}

// pyCompareCall decodes a method call and compares it with what was encoded.
func pyCompareCall(data []byte, method string, params []any) string {
	gotMethod, got, kwargs, err := pyDecodeCall(data)
	switch {
	case err != nil:
		return "decoding: " + err.Error()
	case gotMethod != method:
		return fmt.Sprintf("method %q != %q", gotMethod, method)
	case kwargs != nil:
		return fmt.Sprintf("unexpected keyword arguments %v", kwargs)
	case len(got) != len(params):
		return fmt.Sprintf("%d params != %d", len(got), len(params))
	}
	for i := range params {
		if d := pyDeepEqual(params[i], got[i]); d != "" {
			return fmt.Sprintf("param %d: %s", i, d)
		}
	}
	return ""
}
