package hubserver_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/hubserver/hubtest"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// TestTypeErrorWording binds calls that do not fit their signature and
// compares the ParameterError text with the TypeError CPython raises for
// the same signature and call.
func TestTypeErrorWording(t *testing.T) {
	type sig struct {
		QualName string   `json:"qualname"`
		Bound    bool     `json:"bound"`
		Args     [][2]any `json:"args"`
		VarArgs  string   `json:"varargs"`
		VarKw    string   `json:"varkw"`
		Pos      int      `json:"pos"`
		Kw       []string `json:"kw"`
	}
	sigs := []sig{
		{QualName: "get_tag", Args: [][2]any{{"tagInfo", false}, {"strict", true}, {"event", true}, {"blocked", true}}},
		{QualName: "RootExports.getAPIVersion", Bound: true},
		{QualName: "f0"},
		{QualName: "f1", Args: [][2]any{{"a", false}}},
		{QualName: "RootExports.f1", Bound: true, Args: [][2]any{{"a", false}}},
		{QualName: "f3", Args: [][2]any{{"a", false}, {"b", false}, {"c", false}, {"d", true}}},
		{QualName: "f4", Args: [][2]any{{"a", false}, {"b", false}, {"c", false}, {"d", false}}},
		{QualName: "RootExports.hello", Bound: true, VarArgs: "args"},
		{QualName: "count", Args: [][2]any{{"methodName", false}}, VarArgs: "args", VarKw: "kw"},
	}
	var cases []sig
	for _, s := range sigs {
		for _, pos := range []int{0, 1, 2, 3, 5} {
			for _, kw := range [][]string{nil, {"a"}, {"strict"}, {"zzz"}, {"d", "b"}} {
				c := s
				c.Pos, c.Kw = pos, kw
				cases = append(cases, c)
			}
		}
	}
	var want []*string
	runPython(t, cases, &want, "typeerror")
	require.Len(t, want, len(cases))

	h, err := hubserver.New(hubserver.Config{Logger: quiet})
	require.NoError(t, err)
	for i, s := range sigs {
		m := hubserver.Method{Name: "m" + string(rune('a'+i)), PyName: s.QualName, Bound: s.Bound, VarArgs: s.VarArgs, VarKw: s.VarKw}
		for _, a := range s.Args {
			if a[1].(bool) {
				m.Args = append(m.Args, hubserver.Arg{Name: a[0].(string), Default: hubserver.None})
			} else {
				m.Args = append(m.Args, hubserver.Arg{Name: a[0].(string)})
			}
		}
		m.Func = funcFor(len(s.Args), s.VarArgs != "", s.VarKw != "")
		require.NoError(t, h.Register(m))
	}
	require.NoError(t, h.Start(context.Background()))
	t.Cleanup(func() { h.Shutdown(context.Background()) })
	c, err := koji.NewClient(h.URL())
	require.NoError(t, err)
	for i, cs := range cases {
		var sigIdx int
		for j, s := range sigs {
			if s.QualName == cs.QualName {
				sigIdx = j
			}
		}
		args := make([]any, cs.Pos)
		for k := range args {
			args[k] = k
		}
		kw := map[string]any{}
		for _, k := range cs.Kw {
			kw[k] = 1
		}
		var res any
		if len(kw) == 0 {
			kw = nil
		}
		err := c.Call(context.Background(), "m"+string(rune('a'+sigIdx)), &res, xmlrpc.AppendKwargs(args, kw)...)
		if want[i] == nil {
			assert.NoError(t, err, "%+v", cs)
			continue
		}
		assert.Equal(t, &koji.Fault{Code: 1019, String: *want[i]}, err, "%+v", cs)
	}
}

// funcFor returns a method function taking n arguments of type any, and
// *args and **kwargs as asked.
func funcFor(n int, varargs, varkw bool) any {
	switch {
	case varargs && varkw:
		return func(ctx context.Context, a any, rest []any, kw map[string]any) {}
	case varargs:
		return func(ctx context.Context, rest ...any) {}
	}
	return []any{
		func(ctx context.Context) {},
		func(ctx context.Context, a any) {},
		nil, nil,
		func(ctx context.Context, a, b, c, d any) {},
	}[n]
}

// TestPythonClient drives the hub with Python's xmlrpc.client over HTTP
// and HTTPS.
func TestPythonClient(t *testing.T) {
	calls := []any{
		[]any{"hello", []any{}, nil},
		[]any{"getAPIVersion", []any{}, nil},
		[]any{"getKojiVersion", []any{}, nil},
		[]any{"echo", []any{1, "ü", nil, []any{true, 1.5}, map[string]any{"k": "v"}}, nil},
		[]any{"getTag", []any{}, nil},
		[]any{"getTag", []any{"anchor-build"}, map[string]any{"nope": 1}},
		[]any{"getTag", []any{"anchor-build"}, map[string]any{"strict": true, "event": nil}},
		[]any{"getBuild", []any{"no-such-build-1-1"}, map[string]any{"strict": true}},
		[]any{"noSuchMethodAtAll", []any{}, nil},
		[]any{"fault", []any{}, nil},
		[]any{"system.methodHelp", []any{"getBuild"}, nil},
	}
	want := []map[string]any{
		{"result": "Hello World"},
		{"result": 1.0},
		{"result": "1.35.3"},
		{"result": []any{1.0, "ü", nil, []any{true, 1.5}, map[string]any{"k": "v"}}},
		{"fault": []any{1019.0, "get_tag() missing 1 required positional argument: 'tagInfo'"}},
		{"fault": []any{1019.0, "get_tag() got an unexpected keyword argument 'nope'"}},
		{"result": map[string]any{"arches": "x86_64", "id": 2.0, "locked": false, "maven_include_all": false,
			"maven_support": false, "name": "anchor-build", "perm": nil, "perm_id": nil, "extra": map[string]any{}}},
		{"fault": []any{1000.0, "No such build: 'no-such-build-1-1'"}},
		{"fault": []any{1000.0, "Invalid method: noSuchMethodAtAll"}},
		{"fault": []any{1.0, "<class 'Exception'>: test exception"}},
		{"result": "getBuild(buildInfo, strict=False)"},
	}
	t.Run("http", func(t *testing.T) {
		h := hubtest.Start(t, hubserver.Config{}, testMethods)
		var got []map[string]any
		runPython(t, calls, &got, "call", h.URL(), "")
		assert.Equal(t, want, got)
	})
	t.Run("https", func(t *testing.T) {
		h, pki := hubtest.StartTLS(t, hubserver.Config{}, "kojiadmin", testMethods)
		ca := filepath.Join(t.TempDir(), "ca.pem")
		require.NoError(t, os.WriteFile(ca, pki.CAPEM, 0o600))
		var got []map[string]any
		runPython(t, calls[:3], &got, "call", h.URL(), ca)
		assert.Equal(t, want[:3], got)
	})
}
