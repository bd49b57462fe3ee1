package xmlrpc_test

// Interoperability with github.com/kolo/xmlrpc, the XML-RPC package Go
// programs most often use, on the subset of XML-RPC it supports: no nil
// (kolo writes a nil pointer as an empty <value/>, a string), integers
// within 32 bits (kolo writes every integer as <int>), strings, booleans,
// doubles, base64 (which kolo carries as the encoded text, in its Base64
// string type), dateTime.iso8601 in UTC to the second, arrays and structs,
// nested.

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	kolo "github.com/kolo/xmlrpc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/xmlrpc"
)

type koloPoint struct {
	X     float64 `xmlrpc:"x"`
	Y     float64 `xmlrpc:"y"`
	Label string  `xmlrpc:"label"`
}

// koloRecord uses every kind of field both packages handle alike.
type koloRecord struct {
	ID      int               `xmlrpc:"id"`
	Count   int64             `xmlrpc:"count"`
	Small   int32             `xmlrpc:"small"`
	Name    string            `xmlrpc:"name"`
	Score   float64           `xmlrpc:"score"`
	Ratio   float32           `xmlrpc:"ratio"`
	Active  bool              `xmlrpc:"active"`
	Created time.Time         `xmlrpc:"created"`
	Tags    []string          `xmlrpc:"tags"`
	Matrix  [][]int           `xmlrpc:"matrix"`
	Origin  koloPoint         `xmlrpc:"origin"`
	Parent  *koloPoint        `xmlrpc:"parent"`
	Path    []koloPoint       `xmlrpc:"path"`
	Attrs   map[string]string `xmlrpc:"attrs"`
	Extra   map[string]any    `xmlrpc:"extra"`
	Flags   []bool            `xmlrpc:"flags"`
	Stamps  []time.Time       `xmlrpc:"stamps"`
	Ignored string            `xmlrpc:"-"`
	NoTag   string
}

func koloSampleRecord() koloRecord {
	return koloRecord{
		ID:      42,
		Count:   math.MaxInt32,
		Small:   math.MinInt32,
		Name:    "bar-2.0-3.el9 <&> \"quoted\" 'single' \t tab\nnewline\r\ncrlf é 日本 🚀",
		Score:   -1234.5625,
		Ratio:   0.1,
		Active:  true,
		Created: time.Date(2026, 11, 22, 1, 40, 46, 0, time.UTC),
		Tags:    []string{"rhel-10.1.0-z-candidate", "", "  spaced  ", "]]>"},
		Matrix:  [][]int{{1, 2, 3}, {-4}, {math.MaxInt32, math.MinInt32}},
		Origin:  koloPoint{X: 0, Y: 1e-7, Label: "origin"},
		Parent:  &koloPoint{X: 1e21, Y: -2.5, Label: "parent"},
		Path:    []koloPoint{{X: 1, Y: 2, Label: "a"}, {X: 3.25, Y: 4, Label: "b & c"}},
		Attrs:   map[string]string{"arch": "x86_64", "volume": "DEFAULT", "empty": ""},
		Extra: map[string]any{
			"int": int64(7), "neg": int64(-7), "float": 2.5, "str": "s", "bool": false,
			"when": time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC),
			"list": []any{int64(1), "two", 3.0, true},
			"map":  map[string]any{"k": "v"},
		},
		Flags:  []bool{true, false, true},
		Stamps: []time.Time{time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)},
		NoTag:  "no tag",
	}
}

// (a) kolo writes a call; we read it.
func TestKoloInteropKoloCallDecodes(t *testing.T) {
	rec := koloSampleRecord()
	blob := []byte("\x00\x01binary\xff\xfe payload that spans more than one line of base64 output, to be sure")
	when := time.Date(2026, 11, 22, 1, 40, 46, 0, time.UTC)
	tree := map[string]any{
		"builds": []any{map[string]any{"id": int64(1), "nvr": "foo-1.0-1"}, []any{}, map[string]any{}},
		"ok":     true,
	}
	body, err := kolo.EncodeMethodCall("koji.test",
		int(-17), "héllo & <bye>", 3.5, false, when,
		[]int{1, 2, 3}, []string{"a", "b"}, [][]string{{"x"}, {"y", "z"}, {}},
		rec, []koloRecord{rec, {Name: "second", Created: when, Parent: &koloPoint{}}},
		kolo.Base64(base64.StdEncoding.EncodeToString(blob)), tree)
	require.NoError(t, err)

	call, err := xmlrpc.DecodeCall(body)
	require.NoError(t, err, "%s", body)
	assert.Equal(t, "koji.test", call.Method)
	assert.Nil(t, call.Kwargs)
	require.Len(t, call.Params, 12)

	var (
		i      int
		s      string
		f      float64
		bl     bool
		tm     time.Time
		ints   []int
		strs   []string
		nested [][]string
		gotRec koloRecord
		recs   []koloRecord
		data   []byte
		gotAny any
	)
	targets := []any{&i, &s, &f, &bl, &tm, &ints, &strs, &nested, &gotRec, &recs, &data, &gotAny}
	for k, target := range targets {
		require.NoError(t, call.Params[k].Decode(target), "param %d: %s", k, call.Params[k])
	}
	assert.Equal(t, -17, i)
	assert.Equal(t, "héllo & <bye>", s)
	assert.Equal(t, 3.5, f)
	assert.False(t, bl)
	assert.Equal(t, when, tm)
	assert.Equal(t, []int{1, 2, 3}, ints)
	assert.Equal(t, []string{"a", "b"}, strs)
	assert.Equal(t, [][]string{{"x"}, {"y", "z"}, {}}, nested)
	rec.Ignored = ""
	assert.Equal(t, rec, gotRec)
	second := koloRecord{Name: "second", Created: when, Parent: &koloPoint{}}
	// kolo writes the record's nil slices and maps as empty arrays and
	// structs (it has no nil), which read back empty, not nil.
	second.Tags, second.Matrix, second.Path, second.Flags, second.Stamps = []string{}, [][]int{}, []koloPoint{}, []bool{}, []time.Time{}
	second.Attrs, second.Extra = map[string]string{}, map[string]any{}
	assert.Equal(t, []koloRecord{rec, second}, recs)
	assert.Equal(t, blob, data)
	assert.Equal(t, any(tree), gotAny)
}

// (b) we write a response; kolo reads it.
func TestKoloInteropResponseDecodesInKolo(t *testing.T) {
	rec := koloSampleRecord()
	body, err := xmlrpc.MarshalResponse(rec)
	require.NoError(t, err)
	var got koloRecord
	require.NoError(t, kolo.Response(body).Err())
	require.NoError(t, kolo.Response(body).Unmarshal(&got), "%s", body)
	rec.Ignored = ""
	assert.Equal(t, rec, got)

	// Scalars and lists, each as a whole response.
	for _, v := range []any{
		int(-17), "héllo & <bye>\r\n", 3.5, true, time.Date(2026, 11, 22, 1, 40, 46, 0, time.UTC),
		[]int{1, 2, 3}, [][]string{{"x"}, {"y", "z"}}, []koloRecord{rec, rec},
		map[string]any{"builds": []any{map[string]any{"id": int64(1)}, []any{}, map[string]any{}}, "ok": true},
	} {
		body, err := xmlrpc.MarshalResponse(v)
		require.NoError(t, err)
		got := koloNewLike(v)
		require.NoError(t, kolo.Response(body).Unmarshal(got), "%s", body)
		assert.Equal(t, koloAsKoloReads(v), koloElem(got), "%s", body)
	}

	// base64: kolo hands over the encoded text, which decodes to our bytes.
	for _, blob := range [][]byte{{}, []byte("x"), []byte("\x00\x01\xff binary payload, long enough for Python's 76-column base64 lines to wrap")} {
		body, err := xmlrpc.MarshalResponse(blob)
		require.NoError(t, err)
		var text string
		require.NoError(t, kolo.Response(body).Unmarshal(&text), "%s", body)
		decoded, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(text, "\n", ""))
		require.NoError(t, err)
		assert.Equal(t, blob, decoded)
	}
}

// (c) kolo reports our fault response as its FaultError.
func TestKoloInteropFault(t *testing.T) {
	for _, f := range []*xmlrpc.Fault{
		{Code: 1000, String: "x"},
		{Code: 1000, String: "GenericError: no such build: <foo> & \"bar\"\nsecond line"},
		{Code: -32601, String: "method not found", Traceback: []string{"not sent"}},
	} {
		body, err := xmlrpc.MarshalFault(f)
		require.NoError(t, err)
		err = kolo.Response(body).Err()
		require.Error(t, err, "%s", body)
		var fe kolo.FaultError
		require.True(t, errors.As(err, &fe), "kolo returned %T %v", err, err)
		assert.Equal(t, f.Code, fe.Code)
		assert.Equal(t, f.String, fe.String)
	}
}

// (d) both directions on random values of the subset.
func TestKoloInteropRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 20261122))
	for n := range 200 {
		var v any
		if n%2 == 0 {
			v = koloRandRecord(rng)
		} else {
			v = koloRandAny(rng, 0)
		}
		blob := koloRandBytes(rng)

		// (a) kolo writes a call; we read it.
		body, err := kolo.EncodeMethodCall("random", v, kolo.Base64(base64.StdEncoding.EncodeToString(blob)))
		require.NoError(t, err)
		call, err := xmlrpc.DecodeCall(body)
		require.NoError(t, err, "value %d: %s", n, body)
		require.Len(t, call.Params, 2, "value %d", n)
		target := func() any { // typed, or generic for random trees
			if n%2 == 0 {
				return new(koloRecord)
			}
			return new(any)
		}
		got := target()
		require.NoError(t, call.Params[0].Decode(got), "value %d: %s", n, call.Params[0])
		assert.Equal(t, v, koloElem(got), "value %d: kolo wrote\n%s", n, body)
		var data []byte
		require.NoError(t, call.Params[1].Decode(&data), "value %d: %s", n, call.Params[1])
		assert.Equal(t, blob, data, "value %d", n)

		// (b) we write a response; kolo reads it.
		body, err = xmlrpc.MarshalResponse(v)
		require.NoError(t, err, "value %d", n)
		got = target()
		require.NoError(t, kolo.Response(body).Unmarshal(got), "value %d: %s", n, body)
		assert.Equal(t, koloAsKoloReads(v), koloElem(got), "value %d: we wrote\n%s", n, body)
	}
}

// koloAsKoloReads returns v as kolo reads it back. Two quirks of kolo
// show when it decodes into an interface (a whole any, an element of a
// []any, a member of a map[string]any): an empty struct becomes a nil
// map[string]any, not an empty one, and an empty <string></string> becomes
// nil, not "". Typed targets are not affected.
func koloAsKoloReads(v any) any {
	switch v := v.(type) {
	case string:
		if v == "" {
			return nil
		}
	case koloRecord:
		extra := make(map[string]any, len(v.Extra))
		for k, x := range v.Extra {
			extra[k] = koloAsKoloReads(x)
		}
		v.Extra = extra
		return v
	case []koloRecord:
		out := make([]koloRecord, len(v))
		for i, r := range v {
			out[i] = koloAsKoloReads(r).(koloRecord)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = koloAsKoloReads(x)
		}
		return out
	case map[string]any:
		if len(v) == 0 {
			return map[string]any(nil)
		}
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = koloAsKoloReads(x)
		}
		return out
	}
	return v
}

// koloNewLike returns a pointer to a new zero value of v's type (*any for
// generic values).
func koloNewLike(v any) any {
	switch v.(type) {
	case koloRecord:
		return new(koloRecord)
	case []koloRecord:
		return new([]koloRecord)
	case int:
		return new(int)
	case string:
		return new(string)
	case float64:
		return new(float64)
	case bool:
		return new(bool)
	case time.Time:
		return new(time.Time)
	case []int:
		return new([]int)
	case [][]string:
		return new([][]string)
	}
	return new(any)
}

func koloElem(p any) any {
	switch p := p.(type) {
	case *koloRecord:
		return *p
	case *[]koloRecord:
		return *p
	case *int:
		return *p
	case *string:
		return *p
	case *float64:
		return *p
	case *bool:
		return *p
	case *time.Time:
		return *p
	case *[]int:
		return *p
	case *[][]string:
		return *p
	case *any:
		return *p
	}
	panic(fmt.Sprintf("koloElem: %T", p))
}

// koloRandString draws from characters both packages carry: printable
// ASCII with XML's specials, tab, newline, carriage return, and non-ASCII
// runes up to the astral planes.
func koloRandString(rng *rand.Rand) string {
	const ascii = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCXYZ[\\]^_`abcxyz{|}~"
	other := []rune{'\t', '\n', '\r', 'é', 'ß', 'Ж', '日', '本', '\u00a0', '\u2028', '\ufeff', '🚀', '𝄞'}
	var b strings.Builder
	for range rng.IntN(24) {
		if rng.IntN(5) == 0 {
			b.WriteRune(other[rng.IntN(len(other))])
		} else {
			b.WriteByte(ascii[rng.IntN(len(ascii))])
		}
	}
	if rng.IntN(10) == 0 {
		b.WriteString("]]>")
	}
	return b.String()
}

// koloRandKey is a member name: kolo writes names without escaping them.
func koloRandKey(rng *rand.Rand) string {
	const chars = "abcdefghijklmnopqrstuvwxyz_0123456789"
	b := make([]byte, 1+rng.IntN(10))
	for i := range b {
		b[i] = chars[rng.IntN(len(chars))]
	}
	return string(b)
}

func koloRandInt(rng *rand.Rand) int64 {
	switch rng.IntN(6) {
	case 0:
		return math.MaxInt32
	case 1:
		return math.MinInt32
	case 2:
		return int64(rng.IntN(10))
	}
	return rng.Int64N(1<<32) - 1<<31
}

func koloRandFloat(rng *rand.Rand) float64 {
	switch rng.IntN(8) {
	case 0:
		return 0
	case 1:
		return float64(koloRandInt(rng))
	case 2:
		return math.SmallestNonzeroFloat64
	case 3:
		return math.MaxFloat64 * float64(1-2*rng.IntN(2))
	}
	return rng.NormFloat64() * math.Pow(10, float64(rng.IntN(60)-30))
}

func koloRandTime(rng *rand.Rand) time.Time {
	lo := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	hi := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
	if rng.IntN(2) == 0 { // mostly the dates Koji deals in
		lo, hi = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	}
	return time.Unix(lo+rng.Int64N(hi-lo+1), 0).UTC()
}

func koloRandBytes(rng *rand.Rand) []byte {
	b := make([]byte, rng.IntN(120))
	for i := range b {
		b[i] = byte(rng.UintN(256))
	}
	return b
}

// koloRandAny returns a generic value as both packages decode one into an
// any: int64, float64, string, bool, time.Time, []any, map[string]any.
func koloRandAny(rng *rand.Rand, depth int) any {
	k := rng.IntN(7)
	if depth >= 3 {
		k = rng.IntN(5)
	}
	switch k {
	case 0:
		return koloRandInt(rng)
	case 1:
		return koloRandFloat(rng)
	case 2:
		return koloRandString(rng)
	case 3:
		return rng.IntN(2) == 0
	case 4:
		return koloRandTime(rng)
	case 5:
		list := make([]any, rng.IntN(5))
		for i := range list {
			list[i] = koloRandAny(rng, depth+1)
		}
		return list
	}
	m := make(map[string]any)
	for range rng.IntN(5) {
		m[koloRandKey(rng)] = koloRandAny(rng, depth+1)
	}
	return m
}

func koloRandPoint(rng *rand.Rand) koloPoint {
	return koloPoint{X: koloRandFloat(rng), Y: koloRandFloat(rng), Label: koloRandString(rng)}
}

// koloRandRecord fills every field. Slices have at least one element:
// kolo reads an empty array into a nil slice.
func koloRandRecord(rng *rand.Rand) koloRecord {
	r := koloRecord{
		ID:      int(koloRandInt(rng)),
		Count:   koloRandInt(rng),
		Small:   int32(koloRandInt(rng)),
		Name:    koloRandString(rng),
		Score:   koloRandFloat(rng),
		Ratio:   float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(20)-10))),
		Active:  rng.IntN(2) == 0,
		Created: koloRandTime(rng),
		Origin:  koloRandPoint(rng),
		Attrs:   map[string]string{},
		Extra:   map[string]any{},
		NoTag:   koloRandString(rng),
	}
	if rng.IntN(2) == 0 {
		p := koloRandPoint(rng)
		r.Parent = &p
	} else {
		r.Parent = &koloPoint{Label: "non-zero"}
	}
	for range 1 + rng.IntN(4) {
		r.Tags = append(r.Tags, koloRandString(rng))
		r.Path = append(r.Path, koloRandPoint(rng))
		r.Flags = append(r.Flags, rng.IntN(2) == 0)
		r.Stamps = append(r.Stamps, koloRandTime(rng))
		row := make([]int, 1+rng.IntN(4))
		for i := range row {
			row[i] = int(koloRandInt(rng))
		}
		r.Matrix = append(r.Matrix, row)
	}
	for range rng.IntN(4) {
		r.Attrs[koloRandKey(rng)] = koloRandString(rng)
		r.Extra[koloRandKey(rng)] = koloRandAny(rng, 1)
	}
	return r
}
