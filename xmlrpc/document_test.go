package xmlrpc

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func decodeRaw[T any](t *testing.T, raw RawValue) T {
	t.Helper()
	var v T
	require.NoError(t, raw.Decode(&v), string(raw))
	return v
}

func TestDecodeCallSplitsKwargs(t *testing.T) {
	call, err := DecodeCall(readFixture(t, "getUser_kwargs.request.xml"))
	require.NoError(t, err)
	assert.Equal(t, "getUser", call.Method)
	require.Len(t, call.Params, 1)
	assert.Equal(t, "kojiadmin", decodeRaw[string](t, call.Params[0]))
	require.Len(t, call.Kwargs, 2)
	assert.True(t, decodeRaw[bool](t, call.Kwargs["strict"]))
	assert.True(t, decodeRaw[bool](t, call.Kwargs["krb_princs"]))

	// A keyword argument that is None is still sent.
	call, err = DecodeCall(readFixture(t, "sslLogin.request.xml"))
	require.NoError(t, err)
	assert.Empty(t, call.Params)
	require.Contains(t, call.Kwargs, "proxyuser")
	assert.True(t, call.Kwargs["proxyuser"].IsNil())

	call, err = DecodeCall(readFixture(t, "hello.request.xml"))
	require.NoError(t, err)
	assert.Equal(t, &Call{Method: "hello"}, call)
}

func TestSplitKwargsFollowsPythonTruth(t *testing.T) {
	marker := func(v string) RawValue {
		return RawValue("<value><struct><member><name>__starstar</name>" + v + "</member><member><name>a</name><value><int>1</int></value></member></struct></value>")
	}
	for value, isKwargs := range map[string]bool{
		"<value><boolean>1</boolean></value>":   true,
		"<value><int>2</int></value>":           true,
		"<value><string>x</string></value>":     true,
		"<value><boolean>0</boolean></value>":   false,
		"<value><int>0</int></value>":           false,
		"<value><string></string></value>":      false,
		"<value><nil/></value>":                 false,
		"<value><array><data/></array></value>": false,
	} {
		args, kw, err := SplitKwargs([]RawValue{RawValue("<value><int>0</int></value>"), marker(value)})
		require.NoError(t, err)
		if isKwargs {
			assert.Len(t, args, 1, value)
			assert.Equal(t, map[string]RawValue{"a": RawValue("<value><int>1</int></value>")}, kw, value)
		} else {
			assert.Len(t, args, 2, value)
			assert.Nil(t, kw, value)
		}
	}
	// Only the last parameter counts, and a struct without the marker is positional.
	args, kw, err := SplitKwargs([]RawValue{marker("<value><boolean>1</boolean></value>"), RawValue("<value><struct/></value>")})
	require.NoError(t, err)
	assert.Len(t, args, 2)
	assert.Nil(t, kw)
}

func TestDecodeCallShapes(t *testing.T) {
	call, err := DecodeCall([]byte("<methodCall><methodName>system.listMethods</methodName></methodCall>"))
	require.NoError(t, err)
	assert.Equal(t, "system.listMethods", call.Method)

	call, err = DecodeCall([]byte("<methodCall><methodName>a&amp;b</methodName><params/></methodCall>"))
	require.NoError(t, err)
	assert.Equal(t, "a&b", call.Method)

	for _, bad := range []string{
		"<methodCall><methodName></methodName><params/></methodCall>",
		"<methodCall><params/></methodCall>",
		"<methodCall><methodName>x</methodName><params><value><int>1</int></value></params></methodCall>",
		"<methodCall><methodName>x</methodName><params><param></param></params></methodCall>",
		"<methodCall><methodName>x</methodName><params><param><value><int>1</int></value><value/></param></params></methodCall>",
		"<methodResponse><params/></methodResponse>",
	} {
		_, err := DecodeCall([]byte(bad))
		var se *SyntaxError
		assert.ErrorAs(t, err, &se, bad)
	}
}

func TestCallRoundTrip(t *testing.T) {
	type queryOpts struct {
		Order string `xmlrpc:"order,omitempty"`
		Limit int    `xmlrpc:"limit,omitempty"`
	}
	params := AppendKwargs([]any{"f43", nil, []string{"x86_64"}}, struct {
		Inherit   bool       `xmlrpc:"inherit"`
		QueryOpts *queryOpts `xmlrpc:"queryOpts"`
	}{true, &queryOpts{Limit: 5}})
	data, err := MarshalCall("listTagged", params...)
	require.NoError(t, err)
	call, err := DecodeCall(data)
	require.NoError(t, err)
	assert.Equal(t, "listTagged", call.Method)
	require.Len(t, call.Params, 3)
	assert.True(t, call.Params[1].IsNil())
	assert.Equal(t, []string{"x86_64"}, decodeRaw[[]string](t, call.Params[2]))
	assert.Equal(t, queryOpts{Limit: 5}, decodeRaw[queryOpts](t, call.Kwargs["queryOpts"]))
	assert.True(t, decodeRaw[bool](t, call.Kwargs["inherit"]))

	// No members, no kwargs struct, as Koji's client does.
	assert.Len(t, AppendKwargs([]any{1}, queryOpts{}), 1)
	assert.Len(t, AppendKwargs([]any{1}, map[string]any{}), 1)
	assert.Len(t, AppendKwargs([]any{1}, nil), 1)
	assert.Len(t, AppendKwargs([]any{1}, (*queryOpts)(nil)), 1)
	_, err = MarshalCall("x", AppendKwargs(nil, 42)...)
	assert.Error(t, err, "keyword arguments must be a map or struct")
	_, err = MarshalCall("x", AppendKwargs(nil, map[int]int{1: 1})...)
	assert.Error(t, err)
}

func TestDecodeFaults(t *testing.T) {
	var v any
	err := DecodeResponse(readFixture(t, "getBuild_nonexistent_strict.response.xml"), &v)
	var f *Fault
	require.ErrorAs(t, err, &f)
	assert.Equal(t, 1000, f.Code)
	assert.Equal(t, "No such build: 'no-such-build-1-1'", f.String)
	assert.Nil(t, v)

	err = DecodeResponse(readFixture(t, "fault_Exception.response.xml"), &v)
	require.ErrorAs(t, err, &f)
	assert.Equal(t, 1, f.Code)
	assert.True(t, strings.HasSuffix(f.String, "Exception: test exception\n"))

	err = DecodeResponse(readFixture(t, "wrong_arg_count.response.xml"), &v)
	require.ErrorAs(t, err, &f)
	assert.Equal(t, 1019, f.Code)

	// A fault written by us reads back; a peer's odd fault code type is tolerated.
	data, err := MarshalFault(&Fault{Code: 1007, String: "session expired <x>"})
	require.NoError(t, err)
	err = DecodeResponse(data, &v)
	require.ErrorAs(t, err, &f)
	assert.Equal(t, &Fault{Code: 1007, String: "session expired <x>"}, f)

	odd := "<methodResponse><fault><value><struct><member><name>faultCode</name><value><string>E42</string></value></member></struct></value></fault></methodResponse>"
	require.ErrorAs(t, DecodeResponse([]byte(odd), &v), &f)
	assert.Equal(t, &Fault{}, f)

	bad := "<methodResponse><fault><value><int>1</int></value></fault></methodResponse>"
	err = DecodeResponse([]byte(bad), &v)
	assert.False(t, errors.As(err, &f))
	assert.Error(t, err)
}

func TestMulticallResponse(t *testing.T) {
	var results []MulticallResult
	require.NoError(t, DecodeResponse(readFixture(t, "multicall_koji.response.xml"), &results))
	require.Len(t, results, 3)

	require.Nil(t, results[0].Fault)
	var tag struct {
		Name   string         `xmlrpc:"name"`
		Arches string         `xmlrpc:"arches"`
		Extra  map[string]any `xmlrpc:"extra"`
	}
	require.NoError(t, results[0].Value.Decode(&tag))
	assert.Equal(t, "anchor-build", tag.Name)
	assert.Equal(t, map[string]any{}, tag.Extra)

	require.NotNil(t, results[1].Fault)
	assert.Equal(t, 1000, results[1].Fault.Code)
	assert.Equal(t, "No such build: 'no-such-build-1-1'", results[1].Fault.String)
	require.Len(t, results[1].Fault.Traceback, 7)
	assert.Equal(t, "koji.GenericError: No such build: 'no-such-build-1-1'\n", results[1].Fault.Traceback[6])

	assert.Equal(t, 1, decodeRaw[int](t, results[2].Value))

	// The same shapes written by us read back equal, and as Koji's hub writes them.
	data, err := MarshalResponse(results)
	require.NoError(t, err)
	var again []MulticallResult
	require.NoError(t, DecodeResponse(data, &again))
	assert.Equal(t, results, again)
	data, err = MarshalResponse([]MulticallResult{{}})
	require.NoError(t, err)
	assert.Contains(t, string(data), "<value><array><data>\n<value><nil/></value></data></array></value>")

	for _, bad := range []string{
		"<value><array><data><value><int>1</int></value><value><int>2</int></value></data></array></value>",
		"<value><int>1</int></value>",
	} {
		var r MulticallResult
		assert.Error(t, RawValue(bad).Decode(&r), bad)
	}

	// system.multicall answers the same way.
	require.NoError(t, DecodeResponse(readFixture(t, "system_multicall.response.xml"), &results))
	assert.NotEmpty(t, results)
}

func TestDecodeMulticallRequest(t *testing.T) {
	call, err := DecodeCall(readFixture(t, "multicall_koji.request.xml"))
	require.NoError(t, err)
	assert.Equal(t, "multiCall", call.Method)
	require.Len(t, call.Params, 1)
	entries, err := DecodeMulticall(call.Params[0])
	require.NoError(t, err)
	require.Len(t, entries, 3)
	assert.Equal(t, "getTag", entries[0].Call.Method)
	assert.Equal(t, "anchor-build", decodeRaw[string](t, entries[0].Call.Params[0]))
	assert.Equal(t, "getBuild", entries[1].Call.Method)
	assert.True(t, decodeRaw[bool](t, entries[1].Call.Kwargs["strict"]))
	assert.Equal(t, "getAPIVersion", entries[2].Call.Method)
	assert.Empty(t, entries[2].Call.Params)
	for _, e := range entries {
		assert.NoError(t, e.Err)
	}

	// A malformed entry is reported on its own; the others still decode.
	param := RawValue(`<value><array><data>
<value><struct><member><name>methodName</name><value>hello</value></member><member><name>params</name><value><array><data/></array></value></member></struct></value>
<value><struct><member><name>params</name><value><array><data/></array></value></member></struct></value>
<value><int>7</int></value>
</data></array></value>`)
	entries, err = DecodeMulticall(param)
	require.NoError(t, err)
	require.Len(t, entries, 3)
	assert.NoError(t, entries[0].Err)
	assert.Equal(t, "hello", entries[0].Call.Method)
	assert.Error(t, entries[1].Err)
	assert.Error(t, entries[2].Err)

	_, err = DecodeMulticall(RawValue("<value><int>1</int></value>"))
	assert.Error(t, err)
}

func TestTruthy(t *testing.T) {
	for _, v := range []any{true, int64(-1), 2, 0.5, "x", []byte{0}, []any{nil}, map[string]any{"": nil}, time.Time{}} {
		assert.True(t, Truthy(v), "%#v", v)
	}
	for _, v := range []any{nil, false, int64(0), 0, 0.0, "", []byte{}, []any{}, map[string]any{}} {
		assert.False(t, Truthy(v), "%#v", v)
	}
}
