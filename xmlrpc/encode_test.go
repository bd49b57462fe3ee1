package xmlrpc

import (
	"bytes"
	"errors"
	"iter"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/wire/" + name)
	require.NoError(t, err)
	return data
}

// The encoder writes the exact bytes Python's xmlrpc.client (with Koji's
// extensions) wrote in these captures from a real hub.
func TestEncodeMatchesRecordedRequests(t *testing.T) {
	type userOpts struct {
		Strict    bool `xmlrpc:"strict"`
		KrbPrincs bool `xmlrpc:"krb_princs"`
	}
	tests := []struct {
		fixture string
		method  string
		params  []any
	}{
		{"hello.request.xml", "hello", nil},
		{"getUser_kwargs.request.xml", "getUser", AppendKwargs([]any{"kojiadmin"}, userOpts{Strict: true, KrbPrincs: true})},
		{"sslLogin.request.xml", "sslLogin", AppendKwargs(nil, map[string]any{"proxyuser": nil})},
		{"echo_types.request.xml", "echo", []any{
			1, 2147483647, -2147483648, int64(2147483648), int64(1099511627776),
			int64(-4611686018427387904), int64(math.MaxInt64), 1.5, true, false, nil,
			"plain", "žluťoučký kůň <&>",
			[]any{1, "a", nil},
			map[string]any{"k": "v", "n": int64(8589934592), "none": nil},
			[]byte("\x00\x01binary"),
		}},
		{"multicall_koji.request.xml", "multiCall", []any{[]MulticallCall{
			{Method: "getTag", Params: []any{"anchor-build"}},
			{Method: "getBuild", Params: AppendKwargs([]any{"no-such-build-1-1"}, struct {
				Strict bool `xmlrpc:"strict"`
			}{true})},
			{Method: "getAPIVersion"},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			got, err := MarshalCall(tt.method, tt.params...)
			require.NoError(t, err)
			assert.Equal(t, string(readFixture(t, tt.fixture)), string(got))
		})
	}
}

func TestEncodeMatchesRecordedResponses(t *testing.T) {
	got, err := MarshalResponse("Hello World")
	require.NoError(t, err)
	assert.Equal(t, string(readFixture(t, "hello.response.xml")), string(got))

	got, err = MarshalFault(&Fault{Code: 1000, String: "test error", Traceback: []string{"not sent"}})
	require.NoError(t, err)
	assert.Equal(t, string(readFixture(t, "error_GenericError.response.xml")), string(got))

	got, err = MarshalResponse(map[string]int64{"slept": 1, "big": 1099511627776})
	require.NoError(t, err)
	// Members come out sorted; the hub wrote them in dict order.
	assert.Contains(t, string(got), "<name>big</name>\n<value><i8>1099511627776</i8></value>\n")
}

func encodeValue(t *testing.T, v any) string {
	t.Helper()
	raw, err := MarshalValue(v)
	require.NoError(t, err)
	return string(raw)
}

func TestEncodeIntegers(t *testing.T) {
	assert.Equal(t, "<value><int>2147483647</int></value>", encodeValue(t, int32(math.MaxInt32)))
	assert.Equal(t, "<value><int>-2147483648</int></value>", encodeValue(t, math.MinInt32))
	assert.Equal(t, "<value><i8>2147483648</i8></value>", encodeValue(t, uint32(math.MaxInt32+1)))
	assert.Equal(t, "<value><i8>-9223372036854775808</i8></value>", encodeValue(t, int64(math.MinInt64)))
	assert.Equal(t, "<value><i8>9223372036854775807</i8></value>", encodeValue(t, uint64(math.MaxInt64)))

	_, err := MarshalValue([]any{uint64(math.MaxInt64 + 1)})
	var me *MarshalError
	require.ErrorAs(t, err, &me)
	assert.Equal(t, "[0]", me.Path)
	assert.Contains(t, err.Error(), "exceeds the 64-bit range")
}

func TestEncodeFloatsAsPythonRepr(t *testing.T) {
	tests := map[float64]string{
		1:                     "1.0",
		1.5:                   "1.5",
		0.1:                   "0.1",
		1234567:               "1234567.0",
		1e15:                  "1000000000000000.0",
		1e16:                  "1e+16",
		123456789012345678:    "1.2345678901234568e+17",
		0.0001:                "0.0001",
		0.00001:               "1e-05",
		5e-324:                "5e-324",
		math.MaxFloat64:       "1.7976931348623157e+308",
		math.Inf(1):           "inf",
		math.Inf(-1):          "-inf",
		1.7976931348623157e10: "17976931348.623158",
	}
	for f, want := range tests {
		assert.Equal(t, "<value><double>"+want+"</double></value>", encodeValue(t, f), "%v", f)
	}
	assert.Equal(t, "<value><double>-0.0</double></value>", encodeValue(t, math.Copysign(0, -1)))
	assert.Equal(t, "<value><double>nan</double></value>", encodeValue(t, math.NaN()))
	assert.Equal(t, "<value><double>0.1</double></value>", encodeValue(t, float32(0.1)))
}

func TestEncodeStrings(t *testing.T) {
	assert.Equal(t, "<value><string>a &lt;b&gt; &amp; 'c' \"d\"</string></value>", encodeValue(t, `a <b> & 'c' "d"`))
	// A literal CR would reach the peer as LF; a character reference keeps it.
	assert.Equal(t, "<value><string>a&#13;\nb\tc</string></value>", encodeValue(t, "a\r\nb\tc"))
	assert.Equal(t, "<value><string>😀 ž</string></value>", encodeValue(t, "😀 ž"))

	for _, bad := range []string{"bell\a", "nul\x00", "bad utf-8 \xff", "\ufffe", "\uffff"} {
		_, err := MarshalValue(map[string]any{"name": bad})
		var me *MarshalError
		require.ErrorAs(t, err, &me, "%q", bad)
		assert.Equal(t, "name", me.Path)
	}
	_, err := MarshalCall("bad\x01method")
	assert.Error(t, err)
	_, err = MarshalCall("")
	assert.Error(t, err)
}

func TestEncodeBase64WrapsLikePython(t *testing.T) {
	data := bytes.Repeat([]byte{0xfb}, 100)
	want := "<value><base64>\n" + strings.Repeat("+/v7", 19) + "\n" + strings.Repeat("+/v7", 14) + "+w==\n</base64></value>"
	assert.Equal(t, want, encodeValue(t, data))
	assert.Equal(t, "<value><base64>\n</base64></value>", encodeValue(t, []byte{}))
	assert.Equal(t, "<value><nil/></value>", encodeValue(t, []byte(nil)))
}

func TestEncodeTime(t *testing.T) {
	zone := time.FixedZone("CET", 3600)
	assert.Equal(t, "<value><dateTime.iso8601>20261122T01:40:46</dateTime.iso8601></value>",
		encodeValue(t, time.Date(2026, 11, 22, 2, 40, 46, 999, zone)))
	_, err := MarshalValue(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))
	assert.Error(t, err)
}

type encodeEmbedded struct {
	Owner string `xmlrpc:"owner"`
	Extra int    `xmlrpc:"extra,omitempty"`
}

type encodeBuild struct {
	encodeEmbedded
	ID       int               `xmlrpc:"id"`
	Name     string            `xmlrpc:"name"`
	Epoch    *int              `xmlrpc:"epoch"`
	Tags     []string          `xmlrpc:"tags,omitempty"`
	Arches   []string          `xmlrpc:"arches"`
	Meta     map[string]string `xmlrpc:"meta,omitempty"`
	Skipped  string            `xmlrpc:"-"`
	Untagged bool
	hidden   int
}

func TestEncodeStructs(t *testing.T) {
	b := encodeBuild{encodeEmbedded: encodeEmbedded{Owner: "me"}, ID: 7, Name: "foo", Arches: []string{}, Skipped: "x", hidden: 1}
	want := "<value><struct>\n" +
		"<member>\n<name>owner</name>\n<value><string>me</string></value>\n</member>\n" +
		"<member>\n<name>id</name>\n<value><int>7</int></value>\n</member>\n" +
		"<member>\n<name>name</name>\n<value><string>foo</string></value>\n</member>\n" +
		"<member>\n<name>epoch</name>\n<value><nil/></value></member>\n" +
		"<member>\n<name>arches</name>\n<value><array><data>\n</data></array></value>\n</member>\n" +
		"<member>\n<name>Untagged</name>\n<value><boolean>0</boolean></value>\n</member>\n" +
		"</struct></value>"
	assert.Equal(t, want, encodeValue(t, b))
	assert.Equal(t, encodeValue(t, b), encodeValue(t, &b))

	// Maps come out with sorted keys; nil containers as nil.
	assert.Equal(t, "<value><struct>\n<member>\n<name>a</name>\n<value><nil/></value></member>\n<member>\n<name>b</name>\n<value><int>1</int></value>\n</member>\n</struct></value>",
		encodeValue(t, map[string]*int{"b": ptr(1), "a": nil}))
	assert.Equal(t, "<value><nil/></value>", encodeValue(t, map[string]int(nil)))
	assert.Equal(t, "<value><nil/></value>", encodeValue(t, []int(nil)))
	assert.Equal(t, "<value><array><data>\n<value><int>1</int></value>\n<value><int>2</int></value>\n</data></array></value>", encodeValue(t, [2]int{1, 2}))
}

func ptr[T any](v T) *T { return &v }

func TestEncodeRejectsWhatXMLRPCCannotCarry(t *testing.T) {
	type cyclic struct {
		Next *cyclic `xmlrpc:"next"`
	}
	loop := &cyclic{}
	loop.Next = loop
	for name, v := range map[string]any{
		"chan":    make(chan int),
		"complex": complex(1, 2),
		"int key": map[int]string{1: "a"},
		"func":    func() {},
		"cycle":   loop,
	} {
		_, err := MarshalValue(v)
		var me *MarshalError
		assert.ErrorAs(t, err, &me, name)
	}
}

type celsius float64

func (c celsius) MarshalXMLRPC() (any, error) { return map[string]any{"celsius": float64(c)}, nil }

type version struct{ major, minor int }

func (v *version) UnmarshalXMLRPC(raw RawValue) error {
	var parts []int
	if err := raw.Decode(&parts); err != nil {
		return err
	}
	if len(parts) != 2 {
		return errors.New("want two parts")
	}
	v.major, v.minor = parts[0], parts[1]
	return nil
}

func TestMarshalerAndUnmarshaler(t *testing.T) {
	assert.Contains(t, encodeValue(t, []celsius{21.5}), "<name>celsius</name>\n<value><double>21.5</double></value>")

	var got struct {
		V  version  `xmlrpc:"v"`
		P  *version `xmlrpc:"p"`
		NP *version `xmlrpc:"np"`
	}
	raw, err := MarshalValue(map[string]any{"v": []int{1, 35}, "p": []int{2, 0}, "np": nil})
	require.NoError(t, err)
	require.NoError(t, raw.Decode(&got))
	assert.Equal(t, version{1, 35}, got.V)
	assert.Equal(t, &version{2, 0}, got.P)
	assert.Nil(t, got.NP)

	raw, err = MarshalValue(map[string]any{"v": []int{1}})
	require.NoError(t, err)
	assert.EqualError(t, raw.Decode(&got), "want two parts")
}

// chunkWriter records the writes it gets.
type chunkWriter struct {
	total, largest, writes int
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	w.total += len(p)
	w.largest = max(w.largest, len(p))
	w.writes++
	return len(p), nil
}

func TestEncodeIteratorStreams(t *testing.T) {
	const n = 200_000
	seq := func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
	w := &chunkWriter{}
	require.NoError(t, NewEncoder(w).EncodeResponse(iter.Seq[int](seq)))
	assert.Greater(t, w.total, n*30)
	assert.LessOrEqual(t, w.largest, 2*flushSize, "the encoder must write in bounded chunks")
	assert.Greater(t, w.writes, 50)

	// The document is a plain array of those integers.
	out, err := MarshalResponse(iter.Seq[int](func(yield func(int) bool) { _ = yield(1) && yield(2) }))
	require.NoError(t, err)
	var got []int
	require.NoError(t, DecodeResponse(out, &got))
	assert.Equal(t, []int{1, 2}, got)

	// An iterator's error stops the encoding.
	boom := errors.New("cursor failed")
	_, err = MarshalResponse(iter.Seq2[string, error](func(yield func(string, error) bool) {
		if yield("a", nil) {
			yield("", boom)
		}
	}))
	assert.ErrorIs(t, err, boom)
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

func TestEncoderReportsWriteErrors(t *testing.T) {
	boom := errors.New("disk full")
	err := NewEncoder(failingWriter{boom}).EncodeResponse(make([]string, 10_000))
	assert.ErrorIs(t, err, boom)
}
