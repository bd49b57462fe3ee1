package xmlrpc

import (
	"bytes"
	"errors"
	"io"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func response(value string) []byte {
	return []byte("<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n" + value + "\n</param>\n</params>\n</methodResponse>\n")
}

func decodeAny(t *testing.T, value string) any {
	t.Helper()
	var v any
	require.NoError(t, DecodeResponse(response(value), &v), value)
	return v
}

func TestDecodeEverythingPythonSends(t *testing.T) {
	utc := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	tests := []struct {
		value string
		want  any
	}{
		{"<value><nil/></value>", nil},
		{"<value><nil></nil></value>", nil},
		{"<value><ex:nil/></value>", nil},
		{"<value><boolean>1</boolean></value>", true},
		{"<value><boolean> 0 </boolean></value>", false},
		{"<value><int>-7</int></value>", int64(-7)},
		{"<value><i4>+7</i4></value>", int64(7)},
		{"<value><i1>1</i1></value>", int64(1)},
		{"<value><i2>2</i2></value>", int64(2)},
		{"<value><i8>9223372036854775807</i8></value>", int64(math.MaxInt64)},
		{"<value><ex:i8>-9223372036854775808</ex:i8></value>", int64(math.MinInt64)},
		{"<value><biginteger>12</biginteger></value>", int64(12)},
		{"<value><int>\n 42 \n</int></value>", int64(42)},
		{"<value><double>1.5</double></value>", 1.5},
		{"<value><float>-2</float></value>", -2.0},
		{"<value><bigdecimal>0.25</bigdecimal></value>", 0.25},
		{"<value><double>1e+16</double></value>", 1e16},
		{"<value><string>text</string></value>", "text"},
		{"<value><string/></value>", ""},
		{"<value><string> padded </string></value>", " padded "},
		{"<value>bare text</value>", "bare text"},
		{"<value>  </value>", "  "},
		{"<value></value>", ""},
		{"<value/>", ""},
		{"<value>\n  <string>x</string>\n</value>", "x"},
		{"<value><string>&lt;&gt;&amp;&quot;&apos;&#65;&#x42;&#x1F600;</string></value>", `<>&"'AB😀`},
		{"<value><string>a<![CDATA[<b>&amp;]]>c</string></value>", "a<b>&amp;c"},
		{"<value><string>a<!-- gone -->b</string></value>", "ab"},
		{"<value><string>l1\r\nl2\rl3&#13;</string></value>", "l1\nl2\nl3\r"},
		{"<value><string>žluťoučký 😀</string></value>", "žluťoučký 😀"},
		{"<value><base64>\nAAFi\naW5h\ncnk=\n</base64></value>", []byte("\x00\x01binary")},
		{"<value><base64>AAFiaW5hcnk</base64></value>", []byte("\x00\x01binary")},
		{"<value><base64/></value>", []byte{}},
		{"<value><dateTime.iso8601>20261122T01:40:46</dateTime.iso8601></value>", utc("2026-11-22T01:40:46Z")},
		{"<value><dateTime.iso8601>2026-11-22T01:40:46Z</dateTime.iso8601></value>", utc("2026-11-22T01:40:46Z")},
		{"<value><dateTime.iso8601>20261122T02:40:46+01:00</dateTime.iso8601></value>", utc("2026-11-22T01:40:46Z")},
		{"<value><array><data></data></array></value>", []any{}},
		{"<value><array><data/></array></value>", []any{}},
		{"<value><array></array></value>", []any{}},
		{"<value><array/></value>", []any{}},
		{"<value><struct></struct></value>", map[string]any{}},
		{"<value><struct/></value>", map[string]any{}},
		{"<value> <!-- c --> <array> <data> <value><int>1</int></value> <value>two</value> </data> </array> </value>", []any{int64(1), "two"}},
		{"<value><struct><member><name> k </name><value><int>1</int></value></member><member><name/><value/></member></struct></value>",
			map[string]any{" k ": int64(1), "": ""}},
		{"<value><ex:struct xmlns:ex='urn:x'><ex:member><ex:name>a&amp;b</ex:name><ex:value><ex:nil/></ex:value></ex:member></ex:struct></value>",
			map[string]any{"a&b": nil}},
	}
	for _, tt := range tests {
		got := decodeAny(t, tt.value)
		if tm, ok := got.(time.Time); ok {
			assert.True(t, tm.Equal(tt.want.(time.Time)), "%s: got %v", tt.value, tm)
			continue
		}
		assert.Equal(t, tt.want, got, tt.value)
	}
}

func TestDecodeDocumentVariants(t *testing.T) {
	docs := []string{
		"<methodResponse><params><param><value><int>1</int></value></param></params></methodResponse>",
		"\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\"?><methodResponse><params><param><value><int>1</int></value></param></params></methodResponse>",
		"<?xml version='1.0'?><!-- c --><?pi x?><methodResponse xmlns:ex='http://ws.apache.org/xmlrpc/namespaces/extensions'>\r\n<params><param><value><ex:i4>1</ex:i4></value></param></params></methodResponse>\n<!-- trailing -->\n",
		"<methodResponse ><params ><param ><value ><int >1</int ></value ></param ></params ></methodResponse >",
	}
	for _, doc := range docs {
		var n int
		assert.NoError(t, DecodeResponse([]byte(doc), &n), doc)
		assert.Equal(t, 1, n)
	}
}

func TestDecodeLatin1(t *testing.T) {
	doc := append([]byte("<?xml version='1.0' encoding='ISO-8859-1'?>\n<methodResponse><params><param><value><string>"), 0x9e, 'l', 0xe9)
	doc = append(doc, "</string></value></param></params></methodResponse>"...)
	for _, r := range []io.Reader{bytes.NewReader(doc), iotest.OneByteReader(bytes.NewReader(doc))} {
		var s string
		require.NoError(t, NewDecoder(r).DecodeResponse(&s))
		assert.Equal(t, "\u009elé", s)
	}
	var s string
	require.NoError(t, DecodeResponse(doc, &s))
	assert.Equal(t, "\u009elé", s)
}

type decodeBase struct {
	Owner   string `xmlrpc:"owner_name"`
	OwnerID int    `xmlrpc:"owner_id"`
}

type decodeBuild struct {
	decodeBase
	ID         int64      `xmlrpc:"id"`
	Name       string     `xmlrpc:"name"`
	Epoch      *int       `xmlrpc:"epoch"`
	TaskID     *int       `xmlrpc:"task_id"`
	Draft      bool       `xmlrpc:"draft"`
	State      uint8      `xmlrpc:"state"`
	Completion time.Time  `xmlrpc:"completion_time"`
	Promotion  *time.Time `xmlrpc:"promotion_time"`
	VolumeName string     `xmlrpc:"volume_name"`
}

func TestDecodeTypedFixture(t *testing.T) {
	var builds []decodeBuild
	require.NoError(t, DecodeResponse(readFixture(t, "listTagged.response.xml"), &builds))
	require.Len(t, builds, 2)
	b := builds[0]
	assert.Equal(t, "bar", b.Name)
	assert.Equal(t, int64(2), b.ID)
	assert.Equal(t, "testuser", b.Owner)
	assert.Equal(t, 2, b.OwnerID)
	require.NotNil(t, b.Epoch)
	assert.Equal(t, 2, *b.Epoch)
	assert.Nil(t, b.TaskID, "<nil/> leaves a pointer nil")
	assert.Nil(t, b.Promotion)
	assert.Equal(t, uint8(1), b.State)
	assert.Equal(t, time.Date(2026, 11, 22, 1, 40, 46, 922628000, time.UTC), b.Completion.UTC())
	assert.Nil(t, builds[1].Epoch)

	var result struct {
		Slept int   `xmlrpc:"slept"`
		Big   int64 `xmlrpc:"big"`
	}
	require.NoError(t, DecodeResponse(readFixture(t, "getTaskResult.response.xml"), &result))
	assert.Equal(t, int64(1099511627776), result.Big)
}

func TestDecodeIntoExistingValues(t *testing.T) {
	// A struct is zeroed first, so a reused value holds nothing stale.
	v := decodeBuild{Name: "stale", Epoch: ptr(9)}
	require.NoError(t, DecodeResponse(response("<value><struct><member><name>id</name><value><int>3</int></value></member></struct></value>"), &v))
	assert.Equal(t, decodeBuild{ID: 3}, v)

	// A slice is truncated and refilled; nil decodes as a nil slice and an
	// empty array as an empty one.
	s := []int{7, 8, 9}
	require.NoError(t, DecodeResponse(response("<value><array><data><value><int>1</int></value></data></array></value>"), &s))
	assert.Equal(t, []int{1}, s)
	require.NoError(t, DecodeResponse(response("<value><nil/></value>"), &s))
	assert.Nil(t, s)
	require.NoError(t, DecodeResponse(response("<value><array><data/></array></value>"), &s))
	assert.Equal(t, []int{}, s)

	// Into non-pointer kinds, nil is the zero value; an int widens to float.
	n, f := 5, 0.0
	require.NoError(t, DecodeResponse(response("<value><nil/></value>"), &n))
	assert.Equal(t, 0, n)
	require.NoError(t, DecodeResponse(response("<value><int>3</int></value>"), &f))
	assert.Equal(t, 3.0, f)

	var m map[string][]string
	require.NoError(t, DecodeResponse(response("<value><struct><member><name>a</name><value><array><data><value>x</value></data></array></value></member></struct></value>"), &m))
	assert.Equal(t, map[string][]string{"a": {"x"}}, m)

	var arr [3]int
	require.NoError(t, DecodeResponse(response("<value><array><data><value><int>1</int></value><value><int>2</int></value></data></array></value>"), &arr))
	assert.Equal(t, [3]int{1, 2, 0}, arr)

	var raw RawValue
	require.NoError(t, DecodeResponse(response("<value><int>1</int></value>"), &raw))
	assert.Equal(t, "<value><int>1</int></value>", string(raw))

	var iface io.Reader = &bytes.Buffer{}
	err := DecodeResponse(response("<value><int>1</int></value>"), &iface)
	assert.Error(t, err, "a non-empty interface cannot take an int")
}

func TestDecodeTypeErrorsNameThePath(t *testing.T) {
	doc := response(`<value><array><data>
<value><struct><member><name>owner_id</name><value><int>1</int></value></member></struct></value>
<value><nil/></value>
<value><struct></struct></value>
<value><struct><member><name>owner_id</name><value><string>kojiadmin</string></value></member></struct></value>
</data></array></value>`)
	var builds []decodeBuild
	err := DecodeResponse(doc, &builds)
	var te *TypeError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "[3].owner_id", te.Path)
	assert.Equal(t, "xmlrpc: [3].owner_id: cannot decode string into Go value of type int", err.Error())

	var nested map[string][][]int
	err = DecodeResponse(response("<value><struct><member><name>k</name><value><array><data><value><array><data><value><int>1</int></value><value><boolean>1</boolean></value></data></array></value></data></array></value></member></struct></value>"), &nested)
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "k[0][1]", te.Path)
	assert.Equal(t, "boolean", te.Value)

	tests := []struct {
		value  string
		target any
		detail string
	}{
		{"<value><i8>2147483648</i8></value>", new(int32), "overflows"},
		{"<value><int>-1</int></value>", new(uint), "overflows"},
		{"<value><int>300</int></value>", new(uint8), "overflows"},
		{"<value><i8>9223372036854775808</i8></value>", new(int64), "invalid integer"},
		{"<value><int>1.5</int></value>", new(int), "invalid integer"},
		{"<value><int></int></value>", new(int), "invalid integer"},
		{"<value><boolean>true</boolean></value>", new(bool), "invalid boolean"},
		{"<value><double>x</double></value>", new(float64), "invalid number"},
		{"<value><double>1e300</double></value>", new(float32), "overflows"},
		{"<value><base64>@@@</base64></value>", new([]byte), "invalid base64"},
		{"<value><dateTime.iso8601>yesterday</dateTime.iso8601></value>", new(time.Time), "invalid time"},
		{"<value><string>now</string></value>", new(time.Time), "invalid time"},
		{"<value><double>1.5</double></value>", new(int), ""},
		{"<value><string>1</string></value>", new(int), ""},
		{"<value><array><data><value><int>1</int></value><value><int>2</int></value></data></array></value>", new([1]int), "more than 1"},
		{"<value><struct/></value>", new(map[int]string), "map keys must be strings"},
		{"<value><int>1</int></value>", new(chan int), "unsupported"},
	}
	for _, tt := range tests {
		err := DecodeResponse(response(tt.value), tt.target)
		require.ErrorAs(t, err, &te, tt.value)
		assert.Contains(t, te.Detail, tt.detail, tt.value)
	}
}

func TestDecodeRejectsMalformedInput(t *testing.T) {
	bad := []string{
		"",
		"not xml",
		"<methodResponse>",
		"<methodCall><methodName>x</methodName></methodCall>",
		"<methodResponse><params><param><value><int>1</int></value></param></params></methodResponse><extra/>",
		"<methodResponse><params><param><value><int>1</int></value></param></params></methodResponse>trailing",
		"<methodResponse><params><param><value><int>1</i4></value></param></params></methodResponse>",
		"<methodResponse><params><param><value><unknown>1</unknown></value></param></params></methodResponse>",
		"<methodResponse><params><param><value>text<int>1</int></value></param></params></methodResponse>",
		"<methodResponse><params><param><value><string>a &bogus; b</string></value></param></params></methodResponse>",
		"<methodResponse><params><param><value><string>a &#0; b</string></value></param></params></methodResponse>",
		"<methodResponse><params><param><value><string>a & b</string></value></param></params></methodResponse>",
		"<methodResponse><params><param><value><string>bell\a</string></value></param></params></methodResponse>",
		"<methodResponse><params><param><value><string>bad \xff utf-8</string></value></param></params></methodResponse>",
		"<methodResponse><params><param><value><struct><name>k</name></struct></value></param></params></methodResponse>",
		"<methodResponse><params><param><value><struct><member><value><int>1</int></value></member></struct></value></param></params></methodResponse>",
		"<methodResponse><params><param><value><array><value><int>1</int></value></array></value></param></params></methodResponse>",
		"<methodResponse><params><param><value><string><![CDATA[x</string></value></param></params></methodResponse>",
		"<methodResponse><params><param><value><string>x<!-- c</string></value></param></params></methodResponse>",
		"<?xml version='1.0' encoding='UTF-16'?><methodResponse/>",
		"\xff\xfe<\x00m\x00",
		"<?xml version='1.0' encoding='EBCDIC'?><methodResponse/>",
		"<methodResponse><params><param><value><int>1</int></value></param></params></methodResponse",
		"<>",
	}
	for _, doc := range bad {
		var v any
		err := DecodeResponse([]byte(doc), &v)
		require.Error(t, err, "%q", doc)
		var se *SyntaxError
		var te *TypeError
		assert.True(t, errors.As(err, &se) || errors.As(err, &te), "%q: %T %v", doc, err, err)
	}
}

func TestDecodeRefusesDTDs(t *testing.T) {
	for _, doc := range []string{
		`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><methodResponse><params><param><value>&lol2;</value></param></params></methodResponse>`,
		`<!DOCTYPE methodResponse SYSTEM "file:///etc/passwd"><methodResponse/>`,
		`<methodResponse><!ENTITY x "y"><params/></methodResponse>`,
		`<methodResponse><params><param><value><string>x<!DOCTYPE y></string></value></param></params></methodResponse>`,
	} {
		var v any
		assert.ErrorIs(t, DecodeResponse([]byte(doc), &v), ErrDTD, doc)
	}
}

func TestDecodeLimits(t *testing.T) {
	deep := strings.Repeat("<value><array><data>", 50) + strings.Repeat("</data></array></value>", 50)
	var v any
	dec := NewDecoder(bytes.NewReader(response(deep)))
	dec.SetLimits(Limits{MaxDepth: 49})
	err := dec.DecodeResponse(&v)
	assert.ErrorIs(t, err, ErrTooDeep)
	var le *LimitError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, int64(49), le.Limit)

	dec = NewDecoder(bytes.NewReader(response(deep)))
	dec.SetLimits(Limits{MaxDepth: 50})
	assert.NoError(t, dec.DecodeResponse(&v))

	// The default depth stops a deeply nested document before the stack grows.
	veryDeep := strings.Repeat("<value><array><data>", 100_000)
	assert.ErrorIs(t, DecodeResponse(response(veryDeep), &v), ErrTooDeep)
	var typed []any
	assert.ErrorIs(t, DecodeResponse(response(veryDeep), &typed), ErrTooDeep)
	var raw RawValue
	assert.ErrorIs(t, DecodeResponse(response(veryDeep), &raw), ErrTooDeep)

	big := response("<value><string>" + strings.Repeat("x", 1<<20) + "</string></value>")
	for _, r := range []io.Reader{bytes.NewReader(big), iotest.HalfReader(bytes.NewReader(big))} {
		dec := NewDecoder(r)
		dec.SetLimits(Limits{MaxBytes: 1 << 20})
		assert.ErrorIs(t, dec.DecodeResponse(&v), ErrTooLarge)
	}
	dec = newBytesDecoder(big)
	dec.SetLimits(Limits{MaxBytes: 1 << 20})
	assert.ErrorIs(t, dec.DecodeResponse(&v), ErrTooLarge)
}

func TestDecodeReaderErrors(t *testing.T) {
	boom := errors.New("connection reset")
	doc := readFixture(t, "listTagged.response.xml")
	r := io.MultiReader(bytes.NewReader(doc[:1000]), iotest.ErrReader(boom))
	var v any
	assert.ErrorIs(t, NewDecoder(r).DecodeResponse(&v), boom)

	assert.ErrorIs(t, NewDecoder(bytes.NewReader(doc[:1000])).DecodeResponse(&v), io.ErrUnexpectedEOF)

	dec := NewDecoder(bytes.NewReader(doc))
	require.NoError(t, dec.DecodeResponse(&v))
	assert.Error(t, dec.DecodeResponse(&v), "a Decoder reads one document")

	assert.IsType(t, &InvalidDecodeError{}, DecodeResponse(doc, v))
	assert.IsType(t, &InvalidDecodeError{}, DecodeResponse(doc, nil))
	assert.IsType(t, &InvalidDecodeError{}, DecodeResponse(doc, (*int)(nil)))
}

// Decoding through a reader that returns one byte at a time crosses every
// buffer boundary at every position and must give what decoding in memory
// gives, for every recorded document.
func TestDecodeReaderMatchesBytes(t *testing.T) {
	files, err := filepath.Glob("testdata/wire/*.xml")
	require.NoError(t, err)
	require.Greater(t, len(files), 150)
	for _, f := range files {
		data := readFixture(t, filepath.Base(f))
		if strings.Contains(f, ".request.") {
			want, wantErr := DecodeCall(data)
			got, gotErr := NewDecoder(iotest.OneByteReader(bytes.NewReader(data))).DecodeCall()
			assert.Equal(t, wantErr, gotErr, f)
			assert.Equal(t, want, got, f)
			continue
		}
		var want, got any
		wantErr := DecodeResponse(data, &want)
		gotErr := NewDecoder(iotest.OneByteReader(bytes.NewReader(data))).DecodeResponse(&got)
		assert.Equal(t, wantErr, gotErr, f)
		assert.Equal(t, want, got, f)
		if strings.HasPrefix(filepath.Base(f), "http_") {
			assert.Error(t, wantErr, "%s is a plain-text HTTP error body", f)
		}
	}
}

func TestRawValue(t *testing.T) {
	raw := RawValue("<value><nil/></value>")
	assert.True(t, raw.IsNil())
	assert.False(t, RawValue("<value><int>0</int></value>").IsNil())
	assert.False(t, RawValue("garbage").IsNil())

	var n int
	assert.Error(t, RawValue("<value><int>1</int></value><value/>").Decode(&n))
	assert.Error(t, RawValue("").Decode(&n))

	// Encoding a RawValue writes it verbatim, after checking it.
	out, err := MarshalResponse([]RawValue{RawValue("<value><i8>1</i8></value>"), nil})
	require.NoError(t, err)
	assert.Contains(t, string(out), "<value><i8>1</i8></value>\n<value><nil/></value>")
	_, err = MarshalResponse(RawValue("<value><int>1</int>"))
	assert.Error(t, err)
	_, err = MarshalResponse(RawValue("<value/><value/>"))
	assert.Error(t, err)
}
