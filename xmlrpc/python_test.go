package xmlrpc_test

// Interoperability with Python's xmlrpc.client in Koji's dialect, through
// the peer script testdata/pypeer.py: documents we write must read in
// Python as what we meant, and documents Python writes must read here as
// what Python meant. Each test runs the peer once per subcommand over a
// directory of many documents.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/xmlrpc"
)

func TestPythonDeepEqualHelper(t *testing.T) {
	nan := math.NaN()
	negZero := math.Copysign(0, -1)
	equal := [][2]any{
		{nil, nil},
		{nan, math.Float64frombits(0x7ff8000000000001)},
		{0.0, 0.0},
		{[]byte{}, []byte(nil)},
		{[]any{int64(1), map[string]any{"": nan}}, []any{int64(1), map[string]any{"": nan}}},
		{time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2000, 1, 1, 1, 0, 0, 0, time.FixedZone("x", 3600))},
	}
	for _, c := range equal {
		assert.Empty(t, pyDeepEqual(c[0], c[1]), "%#v vs %#v", c[0], c[1])
	}
	differ := [][2]any{
		{nil, ""},
		{0.0, negZero},
		{true, int64(1)},
		{int64(1), 1.0},
		{"a", []byte("a")},
		{[]any{}, []any(nil)},
		{[]any{}, nil},
		{map[string]any{"a": nil}, map[string]any{"b": nil}},
		{[]any{int64(1)}, []any{int64(1), int64(2)}},
		{[]any{nan}, []any{0.0}},
	}
	for _, c := range differ {
		assert.NotEmpty(t, pyDeepEqual(c[0], c[1]), "%#v vs %#v", c[0], c[1])
		assert.NotEmpty(t, pyDeepEqual(c[1], c[0]), "%#v vs %#v", c[1], c[0])
	}
}

// TestPythonReadsReencodedFixtures decodes every captured Koji document and
// encodes it again; Python must read our encoding as equal to the capture.
func TestPythonReadsReencodedFixtures(t *testing.T) {
	pyRequirePython(t)
	files, err := filepath.Glob(filepath.Join("testdata", "wire", "*.xml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	dir := t.TempDir()
	var names, identical, differing []string
	rejected := 0
	for _, path := range files {
		base := filepath.Base(path)
		name := strings.TrimSuffix(base, ".xml")
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		if strings.HasPrefix(base, "http_") {
			// A plain-text HTTP error body (or an empty or truncated
			// request): no XML-RPC document at all.
			_, callErr := xmlrpc.DecodeCall(data)
			var v any
			respErr := xmlrpc.DecodeResponse(data, &v)
			assert.Error(t, callErr, "%s: DecodeCall accepted %q", base, data)
			assert.Error(t, respErr, "%s: DecodeResponse accepted %q", base, data)
			rejected++
			continue
		}
		var ours []byte
		switch {
		case strings.HasSuffix(base, ".request.xml"):
			ours, err = pyReencodeCall(data)
		case strings.HasSuffix(base, ".response.xml"):
			ours, err = pyReencodeResponse(data)
		default:
			t.Errorf("%s: neither a request nor a response", base)
			continue
		}
		if !assert.NoError(t, err, "%s: decoding and re-encoding", base) {
			continue
		}
		pyWrite(t, filepath.Join(dir, name+".a.xml"), data)
		pyWrite(t, filepath.Join(dir, name+".b.xml"), ours)
		names = append(names, name)
		if bytes.Equal(ours, data) {
			identical = append(identical, base)
		} else {
			differing = append(differing, base)
		}
	}
	// Our encoder sorts struct members, so a capture comes out byte for
	// byte the same when its members were in sorted order; these are, and
	// prove our layout is Python's.
	for _, base := range []string{"echo_types.request.xml", "echo_types.response.xml", "hello.response.xml"} {
		name := strings.TrimSuffix(base, ".xml")
		capture, err := os.ReadFile(filepath.Join("testdata", "wire", base))
		require.NoError(t, err)
		ours, err := os.ReadFile(filepath.Join(dir, name+".b.xml"))
		if assert.NoError(t, err, "%s was not re-encoded", base) {
			assert.Equal(t, string(capture), string(ours), "our re-encoding of %s differs from the capture", base)
		}
	}
	t.Logf("%d fixtures re-encoded, %d of them byte-identical; %d HTTP bodies rejected", len(names), len(identical), rejected)
	t.Logf("not byte-identical: %s", strings.Join(differing, " "))

	results := pyStatuses(t, "check-equal", dir)
	ok := pyCheckStatuses(t, "Python check-equal (a = capture, b = ours)", results, names, func(name string) {
		pyLogFiles(t, dir, name+".a.xml", name+".b.xml")
	})
	t.Logf("Python read %d of %d re-encoded fixtures as equal to the capture", len(ok), len(names))
}

// pyOddDocuments are documents in shapes Python's xmlrpc.client accepts
// but neither peer writes; each must decode here as Python reads it.
var pyOddDocuments = map[string]string{
	"empty_value":      pyCallValue("<value></value>"),
	"selfclose_value":  pyCallValue("<value/>"),
	"empty_string":     pyCallValue("<value><string></string></value>"),
	"selfclose_string": pyCallValue("<value><string/></value>"),
	"bare_text":        pyCallValue("<value>  a b  </value>"),
	"bare_spaces":      pyCallValue("<value>   </value>"),
	"cdata":            pyCallValue("<value><string><![CDATA[<&>]]>x</string></value>"),
	"comment":          pyCallValue("<value><string>a<!-- c -->b</string></value>"),
	"entities":         pyCallValue("<value><string>&lt;&gt;&amp;&apos;&quot;&#x1F600;&#65;</string></value>"),
	"ns_nil":           pyCallValue("<value><ex:nil xmlns:ex='http://ws.apache.org/xmlrpc/namespaces/extensions'/></value>"),
	"i1":               pyCallValue("<value><i1>-5</i1></value>"),
	"i2":               pyCallValue("<value><i2>300</i2></value>"),
	"i4":               pyCallValue("<value><i4>+7</i4></value>"),
	"int_spaces":       pyCallValue("<value><int> 7 </int></value>"),
	"biginteger":       pyCallValue("<value><biginteger>123456789012</biginteger></value>"),
	"float":            pyCallValue("<value><float>1.5</float></value>"),
	"double_integral":  pyCallValue("<value><double>3</double></value>"),
	"double_overflow":  pyCallValue("<value><double>1E400</double></value>"),
	"double_spaces":    pyCallValue("<value><double> 1.5 </double></value>"),
	"double_Infinity":  pyCallValue("<value><double>-Infinity</double></value>"),
	"base64_one_line":  pyCallValue("<value><base64>AAFiaW5hcnk=</base64></value>"),
	"base64_spaces":    pyCallValue("<value><base64> AAFi aW5h\ncnk= </base64></value>"),
	"struct_dup":       pyCallValue("<value><struct><member><name>a</name><value><int>1</int></value></member><member><name>a</name><value><int>2</int></value></member></struct></value>"),
	"name_spaces":      pyCallValue("<value><struct><member><name> a </name><value>x</value></member></struct></value>"),
	"array_no_data":    pyCallValue("<value><array></array></value>"),
	"array_empty_data": pyCallValue("<value><array><data/></array></value>"),
	"kwargs_false":     pyCallValue("<value><struct><member><name>__starstar</name><value><boolean>0</boolean></value></member></struct></value>"),
	"c1_controls":      pyCallValue("<value><string>\u0080\u009f\u007f\u0085</string></value>"),
	"line_separators":  pyCallValue("<value><string>a\u2028b\u0085c\u2029</string></value>"),
	"value_attribute":  pyCallValue("<value type='x'><string>a</string></value>"),
	"iso8859": "<?xml version='1.0' encoding='iso-8859-1'?>\n" +
		"<methodCall><methodName>m</methodName><params><param><value><string>\xe9</string></value></param></params></methodCall>",
	"bom":          "\xef\xbb\xbf<?xml version='1.0'?>\n<methodCall><methodName>m</methodName><params><param><value>a</value></param></params></methodCall>",
	"no_decl":      "<methodCall><methodName>m</methodName><params><param><value>a</value></param></params></methodCall>",
	"no_params":    "<methodCall><methodName>m</methodName></methodCall>",
	"method_space": "<methodCall><methodName> m </methodName></methodCall>",
	"method_ent":   "<methodCall><methodName>a&amp;b</methodName></methodCall>",
	"resp_fault_extra": "<?xml version='1.0'?>\n<methodResponse><fault><value><struct>" +
		"<member><name>faultCode</name><value><int>3</int></value></member>" +
		"<member><name>faultString</name><value>x</value></member>" +
		"<member><name>extra</name><value>x</value></member></struct></value></fault></methodResponse>",
	"resp_spaces": "<?xml version='1.0'?>\n<methodResponse>\n\t<params> <param>\n <value> <int>1</int> </value>\n</param> </params>\n</methodResponse>\n",
}

// pyCallValue is a method call "m" with one parameter, its <value> given.
func pyCallValue(value string) string {
	return "<?xml version='1.0'?>\n<methodCall>\n<methodName>m</methodName>\n<params>\n<param>\n" +
		value + "\n</param>\n</params>\n</methodCall>\n"
}

// TestPythonReadsOddDocuments decodes documents Python accepts in shapes
// no peer writes, and encodes them again: Python must read our encoding as
// equal to the original.
func TestPythonReadsOddDocuments(t *testing.T) {
	pyRequirePython(t)
	dir := t.TempDir()
	var names []string
	for name, doc := range pyOddDocuments {
		var ours []byte
		var err error
		if strings.HasPrefix(name, "resp_") {
			ours, err = pyReencodeResponse([]byte(doc))
		} else {
			ours, err = pyReencodeCall([]byte(doc))
		}
		if !assert.NoError(t, err, "%s: decoding and re-encoding %q", name, doc) {
			continue
		}
		pyWrite(t, filepath.Join(dir, name+".a.xml"), []byte(doc))
		pyWrite(t, filepath.Join(dir, name+".b.xml"), ours)
		names = append(names, name)
	}
	sort.Strings(names)
	results := pyStatuses(t, "check-equal", dir)
	ok := pyCheckStatuses(t, "Python check-equal (a = odd document, b = ours)", results, names, func(name string) {
		pyLogFiles(t, dir, name+".a.xml", name+".b.xml")
	})
	t.Logf("Python read %d of %d re-encoded odd documents as equal", len(ok), len(pyOddDocuments))
}

// TestPythonRoundTripFromGo encodes random Go values, has Python read and
// re-encode them, and reads them back: they must come back equal, and
// Python must read our encoding and its own as equal.
func TestPythonRoundTripFromGo(t *testing.T) {
	pyRequirePython(t)
	const count = 300
	g := pyNewGen(t, 20261122)
	dir, pairs := t.TempDir(), t.TempDir()
	type doc struct {
		name, method string
		params       []any
		data         []byte
	}
	docs := make([]doc, count)
	names := make([]string, count)
	for i := range docs {
		d := doc{name: fmt.Sprintf("g%04d", i), method: fmt.Sprintf("m.%d", i), params: g.params()}
		var err error
		d.data, err = xmlrpc.MarshalCall(d.method, d.params...)
		require.NoError(t, err, "%s: encoding %#v", d.name, d.params)
		// Our own decoder first, so that a failure below is Python's side.
		if diff := pyCompareCall(d.data, d.method, d.params); diff != "" {
			t.Errorf("%s: Go -> Go: %s", d.name, diff)
			t.Logf("%s.xml:\n%s", d.name, pyTrunc(d.data, 3000))
		}
		pyWrite(t, filepath.Join(dir, d.name+".xml"), d.data)
		docs[i], names[i] = d, d.name
	}
	g.checkCoverage(t)

	results := pyStatuses(t, "reencode", dir)
	reencoded := pyCheckStatuses(t, "Python reencode", results, names, func(name string) {
		pyLogFiles(t, dir, name+".xml")
	})
	roundTrips := 0
	for _, d := range docs {
		if !slices.Contains(reencoded, d.name) {
			continue
		}
		out, err := os.ReadFile(filepath.Join(dir, d.name+".out.xml"))
		require.NoError(t, err)
		if diff := pyCompareCall(out, d.method, d.params); diff != "" {
			t.Errorf("%s: Go -> Python -> Go: %s", d.name, diff)
			pyLogFiles(t, dir, d.name+".xml", d.name+".out.xml")
			continue
		}
		roundTrips++
		pyWrite(t, filepath.Join(pairs, d.name+".a.xml"), d.data)
		pyWrite(t, filepath.Join(pairs, d.name+".b.xml"), out)
	}
	t.Logf("%d of %d documents came back from Python equal", roundTrips, count)

	var paired []string
	for _, name := range reencoded {
		if _, err := os.Stat(filepath.Join(pairs, name+".a.xml")); err == nil {
			paired = append(paired, name)
		}
	}
	results = pyStatuses(t, "check-equal", pairs)
	ok := pyCheckStatuses(t, "Python check-equal (a = ours, b = Python's)", results, paired, func(name string) {
		pyLogFiles(t, pairs, name+".a.xml", name+".b.xml")
	})
	t.Logf("Python read %d of %d pairs as equal", len(ok), len(paired))
}

// TestPythonRoundTripFromPython reads random documents Python wrote and
// encodes them again: Python must read our encoding as equal to its own.
func TestPythonRoundTripFromPython(t *testing.T) {
	pyRequirePython(t)
	const count = 300
	src, pairs := t.TempDir(), t.TempDir()
	out := pyRun(t, "random", "7", fmt.Sprint(count), src)
	var summary struct{ Count int }
	require.NoError(t, json.Unmarshal(out, &summary), "pypeer.py random output:\n%s", pyTrunc(out, 4000))
	require.Equal(t, count, summary.Count)

	var names []string
	for i := range count {
		name := fmt.Sprintf("r%04d", i)
		data, err := os.ReadFile(filepath.Join(src, name+".xml"))
		require.NoError(t, err)
		method, params, kwargs, err := pyDecodeCall(data)
		if !assert.NoError(t, err, "%s: decoding Python's document", name) {
			pyLogFiles(t, src, name+".xml")
			continue
		}
		all := xmlrpc.AppendKwargs(params, kwargs)
		ours, err := xmlrpc.MarshalCall(method, all...)
		if !assert.NoError(t, err, "%s: encoding %#v", name, all) {
			continue
		}
		// And our own decoder reads our encoding back the same.
		if diff := pyCompareCall(ours, method, params); kwargs == nil && diff != "" {
			t.Errorf("%s: Python -> Go -> Go: %s", name, diff)
		}
		pyWrite(t, filepath.Join(pairs, name+".a.xml"), data)
		pyWrite(t, filepath.Join(pairs, name+".b.xml"), ours)
		names = append(names, name)
	}
	results := pyStatuses(t, "check-equal", pairs)
	ok := pyCheckStatuses(t, "Python check-equal (a = Python's, b = ours)", results, names, func(name string) {
		pyLogFiles(t, pairs, name+".a.xml", name+".b.xml")
	})
	t.Logf("Python read %d of %d of our re-encodings as equal to its documents", len(ok), count)
}

// TestPythonCarriageReturn checks that a carriage return survives: we
// write it as a character reference, which Python reads as "\r", where a
// raw one would read as "\n".
func TestPythonCarriageReturn(t *testing.T) {
	pyRequirePython(t)
	const s = "a\rb\r\nc"
	ours, err := xmlrpc.MarshalCall("m", s)
	require.NoError(t, err)
	assert.Contains(t, string(ours), "<string>a&#13;b&#13;\nc</string>")
	method, params, _, err := pyDecodeCall(ours)
	require.NoError(t, err)
	assert.Equal(t, "m", method)
	assert.Equal(t, []any{s}, params, "our decoder reading our encoding")

	dir := t.TempDir()
	// Python reads the character references as "\r": the reference.
	pyWrite(t, filepath.Join(dir, "charref.a.xml"), ours)
	pyWrite(t, filepath.Join(dir, "charref.b.xml"), []byte(pyCallValue("<value><string>a&#13;b&#13;\nc</string></value>")))
	pyWrite(t, filepath.Join(dir, "hex.a.xml"), ours)
	pyWrite(t, filepath.Join(dir, "hex.b.xml"), []byte(pyCallValue("<value><string>a&#xD;b&#xd;&#10;c</string></value>")))
	// In a member name too.
	key, err := xmlrpc.MarshalCall("m", map[string]any{"k\r\n": "v"})
	require.NoError(t, err)
	pyWrite(t, filepath.Join(dir, "key.a.xml"), key)
	pyWrite(t, filepath.Join(dir, "key.b.xml"), []byte(pyCallValue(
		"<value><struct><member><name>k&#13;\n</name><value><string>v</string></value></member></struct></value>")))
	// A control: raw carriage returns read as newlines, so this differs.
	pyWrite(t, filepath.Join(dir, "raw.a.xml"), ours)
	pyWrite(t, filepath.Join(dir, "raw.b.xml"), []byte(pyCallValue("<value><string>"+s+"</string></value>")))
	pyWrite(t, filepath.Join(dir, "rawnl.a.xml"), []byte(pyCallValue("<value><string>a\nb\nc</string></value>")))
	pyWrite(t, filepath.Join(dir, "rawnl.b.xml"), []byte(pyCallValue("<value><string>"+s+"</string></value>")))
	results := pyStatuses(t, "check-equal", dir)
	show := func(name string) { pyLogFiles(t, dir, name+".a.xml", name+".b.xml") }
	want := []string{"charref", "hex", "key", "rawnl"}
	wanted := make(map[string]string)
	for _, name := range want {
		wanted[name] = results[name]
	}
	pyCheckStatuses(t, "Python check-equal", wanted, want, show)
	assert.True(t, strings.HasPrefix(results["raw"], "mismatch:"),
		"Python should read raw carriage returns as newlines, so raw differs from ours; got %q", results["raw"])

	// Our decoder normalises line ends in text as XML (and Python) does.
	for doc, want := range map[string]string{
		"<value><string>a\r\nb</string></value>":      "a\nb",
		"<value><string>a\rb</string></value>":        "a\nb",
		"<value><string>a\r\r\nb\r</string></value>":  "a\n\nb\n",
		"<value>a\r\nb</value>":                       "a\nb",
		"<value><string>a&#13;\r\nb</string></value>": "a\r\nb",
	} {
		_, params, _, err := pyDecodeCall([]byte(pyCallValue(doc)))
		if assert.NoError(t, err, "%q", doc) {
			assert.Equal(t, []any{want}, params, "decoding %q", doc)
		}
	}
	resp := []byte("<?xml version='1.0'?>\r\n<methodResponse>\r\n<params>\r\n<param>\r\n" +
		"<value><string>a\r\nb</string></value>\r\n</param>\r\n</params>\r\n</methodResponse>\r\n")
	var v any
	require.NoError(t, xmlrpc.DecodeResponse(resp, &v))
	assert.Equal(t, "a\nb", v)
}

// TestPythonResponsesAndFaults has Python re-encode responses and faults we
// wrote, and reads them back.
func TestPythonResponsesAndFaults(t *testing.T) {
	pyRequirePython(t)
	g := pyNewGen(t, 1019)
	dir := t.TempDir()
	values := map[string]any{
		"v_nil":   nil,
		"v_empty": []any{},
		"v_map":   map[string]any{},
		"v_i8":    int64(math.MinInt64),
	}
	for i := range 100 {
		values[fmt.Sprintf("v%03d", i)] = g.value(1)
	}
	faults := map[string]*xmlrpc.Fault{
		"f_1019":    {Code: 1019, String: "x <y>"},
		"f_zero":    {Code: 0, String: ""},
		"f_neg":     {Code: -32601, String: "method not found: 'nope'"},
		"f_max":     {Code: math.MaxInt32, String: "  žluťoučký kůň\n\tTraceback &amp; \U0001F600  "},
		"f_generic": {Code: 1000, String: "koji.GenericError: No such build: 'x-1-1'"},
	}
	var names []string
	for name, v := range values {
		data, err := xmlrpc.MarshalResponse(v)
		require.NoError(t, err, "%s: encoding %#v", name, v)
		pyWrite(t, filepath.Join(dir, name+".xml"), data)
		names = append(names, name)
	}
	for name, f := range faults {
		data, err := xmlrpc.MarshalFault(f)
		require.NoError(t, err, "%s: encoding %#v", name, f)
		pyWrite(t, filepath.Join(dir, name+".xml"), data)
		names = append(names, name)
	}
	sort.Strings(names)

	results := pyStatuses(t, "reencode", dir)
	ok := pyCheckStatuses(t, "Python reencode", results, names, func(name string) {
		pyLogFiles(t, dir, name+".xml")
	})
	for _, name := range ok {
		out, err := os.ReadFile(filepath.Join(dir, name+".out.xml"))
		require.NoError(t, err)
		var got any
		err = xmlrpc.DecodeResponse(out, &got)
		if want, isFault := faults[name]; isFault {
			var fault *xmlrpc.Fault
			if assert.ErrorAs(t, err, &fault, "%s: decoding Python's fault", name) {
				assert.Equal(t, want.Code, fault.Code, "%s: fault code", name)
				assert.Equal(t, want.String, fault.String, "%s: fault string", name)
			} else {
				pyLogFiles(t, dir, name+".xml", name+".out.xml")
			}
			continue
		}
		if !assert.NoError(t, err, "%s: decoding Python's response", name) {
			pyLogFiles(t, dir, name+".xml", name+".out.xml")
			continue
		}
		if diff := pyDeepEqual(values[name], got); diff != "" {
			t.Errorf("%s: Go -> Python -> Go: %s", name, diff)
			pyLogFiles(t, dir, name+".xml", name+".out.xml")
		}
	}
	t.Logf("%d responses and %d faults checked", len(values), len(faults))
}
