package xmlrpc

import (
	"bytes"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf8"
)

var fuzzLimits = Limits{MaxBytes: 1 << 20, MaxDepth: 32}

func addFixtureSeeds(f *testing.F) {
	files, err := filepath.Glob("testdata/wire/*.xml")
	if err != nil || len(files) == 0 {
		f.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("<methodResponse><params><param><value><array><data><value/><value><ex:nil/></value></data></array></value></param></params></methodResponse>"))
	f.Add([]byte("<?xml version='1.0' encoding='latin-1'?><methodResponse><params><param><value>\xe9<![CDATA[x]]>&#13;</value></param></params></methodResponse>"))
}

// sameValue compares generically decoded values as the wire sees them: NaN
// equals NaN, times compare as instants to the second (dateTime.iso8601
// carries no fraction).
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && (x == y && math.Signbit(x) == math.Signbit(y) || math.IsNaN(x) && math.IsNaN(y))
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Truncate(time.Second).Equal(y.Truncate(time.Second))
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameValue(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !sameValue(v, w) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

// FuzzDecodeResponse checks that no input panics the decoder or makes it
// allocate out of proportion to the input, that decoding from a stream
// agrees with decoding in memory, and that whatever decodes re-encodes to a
// document that decodes to the same value.
func FuzzDecodeResponse(f *testing.F) {
	addFixtureSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		var v any
		dec := newBytesDecoder(data)
		dec.SetLimits(fuzzLimits)
		err := dec.DecodeResponse(&v)
		runtime.ReadMemStats(&after)
		if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 64*uint64(len(data))+64<<10 {
			t.Fatalf("decoding %d bytes allocated %d bytes", len(data), allocated)
		}

		var streamed any
		sdec := NewDecoder(iotest.HalfReader(bytes.NewReader(data)))
		sdec.SetLimits(fuzzLimits)
		serr := sdec.DecodeResponse(&streamed)
		if (err == nil) != (serr == nil) {
			t.Fatalf("in memory: %v; streamed: %v", err, serr)
		}
		if err != nil {
			return
		}
		if !sameValue(v, streamed) {
			t.Fatalf("in memory %#v, streamed %#v", v, streamed)
		}
		out, err := MarshalResponse(v)
		if err != nil {
			t.Fatalf("decoded %#v but cannot encode it: %v", v, err)
		}
		var again any
		if err := DecodeResponse(out, &again); err != nil {
			t.Fatalf("re-encoded document does not decode: %v\n%s", err, out)
		}
		if !sameValue(v, again) {
			t.Fatalf("round trip changed %#v into %#v", v, again)
		}
	})
}

type fuzzTarget struct {
	ID       int               `xmlrpc:"id"`
	Name     string            `xmlrpc:"name"`
	Epoch    *int              `xmlrpc:"epoch"`
	Small    int8              `xmlrpc:"small"`
	Count    uint16            `xmlrpc:"count"`
	Ratio    float32           `xmlrpc:"ratio"`
	Flag     bool              `xmlrpc:"flag"`
	When     time.Time         `xmlrpc:"when"`
	Data     []byte            `xmlrpc:"data"`
	Tags     []string          `xmlrpc:"tags"`
	Pair     [2]int            `xmlrpc:"pair"`
	Extra    map[string]any    `xmlrpc:"extra"`
	Children []*fuzzTarget     `xmlrpc:"children"`
	Raw      RawValue          `xmlrpc:"raw"`
	Any      any               `xmlrpc:"any"`
	Result   *MulticallResult  `xmlrpc:"result"`
	Named    map[string]string `xmlrpc:"named"`
}

// FuzzDecodeTyped checks that decoding into typed values, and streaming an
// array, never panics and fails only with the package's own errors.
func FuzzDecodeTyped(f *testing.F) {
	addFixtureSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, target := range []any{new([]fuzzTarget), new(fuzzTarget), new([]MulticallResult)} {
			dec := newBytesDecoder(data)
			dec.SetLimits(fuzzLimits)
			checkDecodeError(t, dec.DecodeResponse(target))
		}
		dec := newBytesDecoder(data)
		dec.SetLimits(fuzzLimits)
		arr, err := dec.ResponseArray()
		if err != nil {
			checkDecodeError(t, err)
			return
		}
		for i := 0; arr.Next(); i++ {
			if i%2 == 0 {
				var v fuzzTarget
				_ = arr.Decode(&v)
			}
		}
		checkDecodeError(t, arr.Err())
	})
}

// FuzzDecodeCall checks calls as a server reads them, with every parameter
// and keyword argument decoded, in memory and streamed alike.
func FuzzDecodeCall(f *testing.F) {
	addFixtureSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := newBytesDecoder(data)
		dec.SetLimits(fuzzLimits)
		call, err := dec.DecodeCall()
		sdec := NewDecoder(iotest.OneByteReader(bytes.NewReader(data)))
		sdec.SetLimits(fuzzLimits)
		streamed, serr := sdec.DecodeCall()
		if (err == nil) != (serr == nil) || !reflect.DeepEqual(call, streamed) {
			t.Fatalf("in memory: %v %v; streamed: %v %v", call, err, streamed, serr)
		}
		if err != nil {
			checkDecodeError(t, err)
			return
		}
		// Capturing checks structure; a scalar's content is checked when a
		// handler decodes it, and a bad one is a TypeError (a fault to the caller).
		for _, p := range append(call.Params, slices.Collect(maps.Values(call.Kwargs))...) {
			var v any
			if err := p.Decode(&v); err != nil {
				if _, ok := err.(*TypeError); !ok {
					t.Fatalf("captured parameter fails with %T: %v", err, err)
				}
			}
		}
		if len(call.Params) == 1 {
			if _, err := DecodeMulticall(call.Params[0]); err != nil {
				checkDecodeError(t, err)
			}
		}
	})
}

func checkDecodeError(t *testing.T, err error) {
	t.Helper()
	switch err.(type) {
	case nil, *SyntaxError, *TypeError, *LimitError, *Fault:
	default:
		t.Fatalf("unexpected error type %T: %v", err, err)
	}
}

// FuzzStringRoundTrip checks that every string XML can carry survives
// encoding and decoding unchanged, and every other string is refused.
func FuzzStringRoundTrip(f *testing.F) {
	for _, s := range []string{"", "plain", "a\r\nb\rc", "<&>'\"", "žluťoučký 😀", "\x00", "\xff", "\ufffe", "]]>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		raw, err := MarshalValue(map[string]any{s: s})
		if !carriable(s) {
			if err == nil {
				t.Fatalf("%q encoded though XML cannot carry it", s)
			}
			return
		}
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		var got map[string]string
		if err := raw.Decode(&got); err != nil {
			t.Fatalf("%q: %v\n%s", s, err, raw)
		}
		if got[s] != s || len(got) != 1 {
			t.Fatalf("%q came back as %q", s, got)
		}
	})
}

func carriable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !isXMLChar(r) {
			return false
		}
	}
	return true
}
