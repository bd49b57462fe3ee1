package policy

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFnmatch: Fnmatch answers as Python's fnmatch.fnmatch (the cases'
// answers were computed with CPython 3).
func TestFnmatch(t *testing.T) {
	for _, c := range []struct {
		name, pattern string
		want          bool
	}{
		{"foo", "f*", true},
		{"foo", "*o", true},
		{"f/o", "f*o", true},
		{"foo", "f?o", true},
		{"fo", "f?o", false},
		{"abc", "[abc]bc", true},
		{"xbc", "[!abc]bc", true},
		{"abc", "[!abc]bc", false},
		{"[x", "[x", true},
		{"a", "[a-]", true},
		{"-", "[a-]", true},
		{"-", "[-a]", true},
		{"b", "[a-c]", true},
		{"d", "[a-c]", false},
		{"z", "[z-a]", false},
		{"q", "[!z-a]", true},
		{"]", "[]]", true},
		{"]", "[!]]", false},
		{"a", "[!]]", true},
		{"-", "[a-c-e]", true},
		{"e", "[a-c-e]", true},
		{"d", "[a-c-e]", false},
		{"a\\b", "a\\b", true},
		{"ab", "a\\b", false},
		{"", "*", true},
		{"", "?", false},
		{"f40-build", "f4*-build", true},
		{"f40-build", "*-build*", true},
		{"aXbXc", "a*b*c", true},
		{"aXbX", "a*b*c", false},
		{"[!]", "[!]", true},
		{"x", "[!]", false},
		{"ß", "?", true},
		{"αβ", "α*", true},
		{"abc", "a[b", false},
		{"a[b", "a[b", true},
		{"a.b", "a.b", true},
		{"axb", "a.b", false},
		{"a+b", "a+b", true},
		{"(x)", "(x)", true},
		{"x", "[x-x]", true},
		{"^", "[\\^]", true},
		{"\\", "[\\^]", true},
		{"&", "[&&]", true},
		{"", "", true},
		{"a", "", false},
		{"ab", "*?", true},
		{"a", "*?*?", false},
	} {
		assert.Equal(t, c.want, Fnmatch(c.name, c.pattern), "fnmatch(%q, %q)", c.name, c.pattern)
	}
}

func mustParse(t *testing.T, text string, tests Tests) *RuleSet {
	t.Helper()
	rs, err := Parse(text, tests)
	require.NoError(t, err)
	return rs
}

// TestApplyDefaults: upstream's default policies give their actions, and
// LastRule is upstream's last_rule() text.
func TestApplyDefaults(t *testing.T) {
	ctx := context.Background()
	tests := Generic()
	rs := mustParse(t, `
            has req_channel :: req
            is_child_task :: parent
            all :: use default
            `, Tests{"has": tests["has"], "all": tests["all"], "is_child_task": BoolField("parent")})
	for _, c := range []struct {
		data       map[string]any
		action, lr string
	}{
		{map[string]any{"req_channel": "x"}, "req", "has req_channel :: req"},
		{map[string]any{"parent": int64(3)}, "parent", "is_child_task :: parent"},
		{map[string]any{"parent": nil}, "use default", "all :: use default"},
		{map[string]any{}, "use default", "all :: use default"},
	} {
		r, err := rs.Apply(ctx, c.data)
		require.NoError(t, err)
		assert.True(t, r.Matched)
		assert.Equal(t, c.action, r.Action)
		assert.Equal(t, c.lr, r.LastRule)
	}
	assert.Equal(t, []string{"req", "parent", "use"}, rs.AllActions())
}

// TestApplyNested: blocks, "!!", "&&", comments and a block that matches
// no rule falling through to the rules after it.
func TestApplyNested(t *testing.T) {
	ctx := context.Background()
	rs := mustParse(t, `# a comment
match tag f4* :: {   # block
    match user alice bob && bool scratch :: allow scratch
    match user carol !! deny not carol
    compare n > 3 :: {
        true :: allow big
    }
}
false !! no match here
`, Generic())
	for _, c := range []struct {
		data       map[string]any
		action, lr string
		matched    bool
	}{
		{map[string]any{"tag": "f40", "user": "bob", "scratch": true}, "allow scratch",
			"match tag f4* :: ... match user alice bob && bool scratch :: allow scratch", true},
		{map[string]any{"tag": "f40", "user": "bob"}, "deny not carol",
			"match tag f4* :: ... match user carol !! deny not carol", true},
		{map[string]any{"tag": "f40", "user": "carol", "n": int64(4)}, "allow big",
			"match tag f4* :: ... compare n > 3 :: ... true :: allow big", true},
		{map[string]any{"tag": "f40", "user": "carol", "n": 2.5}, "no match here", "false !! no match here", true},
		{map[string]any{"tag": "el9"}, "no match here", "false !! no match here", true},
	} {
		r, err := rs.Apply(ctx, c.data)
		require.NoError(t, err)
		assert.Equal(t, c.matched, r.Matched)
		assert.Equal(t, c.action, r.Action)
		assert.Equal(t, c.lr, r.LastRule)
	}
	none := mustParse(t, "false :: allow\n", Generic())
	r, err := none.Apply(ctx, nil)
	require.NoError(t, err)
	assert.False(t, r.Matched)
	assert.Equal(t, "(no match)", r.LastRule)
	// A block whose rules do not match leaves its line in LastRule, as
	// upstream's lastrule keeps it.
	r, err = mustParse(t, "true :: {\nfalse :: x\n}\n", Generic()).Apply(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, "true :: (no match)", r.LastRule)
}

// TestGenericTests: the generic tests' answers and errors.
func TestGenericTests(t *testing.T) {
	ctx := context.Background()
	run := func(text string, data map[string]any) (bool, error) {
		rs, err := Parse(text+" :: yes", Generic())
		if err != nil {
			return false, err
		}
		r, err := rs.Apply(ctx, data)
		return r.Matched, err
	}
	data := map[string]any{"n": int64(5), "f": 2.5, "s": "abc", "b": false, "z": int64(0), "l": []any{}, "t": true, "none": nil}
	for _, c := range []struct {
		text string
		want bool
	}{
		{"true", true}, {"all", true}, {"false", false}, {"none", false},
		{"has n", true}, {"has q", false}, {"has none", true},
		{"bool t", true}, {"bool b", false}, {"bool z", false}, {"bool l", false}, {"bool none", false}, {"bool q", false}, {"bool s", true},
		{"match s a*", true}, {"match s x* ?b?", true}, {"match s x*", false}, {"match q *", false}, {"match s", false},
		{"compare n > 4", true}, {"compare n >= 5", true}, {"compare n < 5", false}, {"compare n <= 5", true},
		{"compare n = 5", true}, {"compare n = 5.0", true}, {"compare n != 5", false}, {"compare f < 3", true},
		{"compare f > 2.4", true}, {"compare q > 1", false}, {"compare t = 1", true}, {"compare s = 1", false}, {"compare s != 1", true},
		{"compare n > 1_0", false},
	} {
		got, err := run(c.text, data)
		require.NoError(t, err, c.text)
		assert.Equal(t, c.want, got, c.text)
	}
	for _, c := range []struct{ text, err string }{
		{"match n 5", "TypeError: expected str, bytes or os.PathLike object, not int"},
		{"match", "IndexError: list index out of range"},
		{"bool", "IndexError: list index out of range"},
		{"compare s < 1", "TypeError: '<' not supported between instances of 'str' and 'int'"},
		{"compare none > 1", "TypeError: '>' not supported between instances of 'NoneType' and 'int'"},
	} {
		_, err := run(c.text, data)
		var pe *Error
		require.ErrorAs(t, err, &pe, c.text)
		assert.Equal(t, c.err, err.Error(), c.text)
	}
	got, err := run("target f4*", map[string]any{"target": "f40"})
	require.NoError(t, err)
	assert.True(t, got)
}

// TestParseErrors: lines upstream's parser refuses fail Parse with the
// line and upstream's message.
func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		text string
		line int
		msg  string
	}{
		{"all :: allow\nallow\n", 2, "Exception: bad policy line: allow"},
		{"nosuch x :: allow", 1, "GenericError: missing test handler: nosuch"},
		{"all :: {\nall :: allow\n", 2, "GenericError: nesting error in rule set"},
		{"}\n", 1, "GenericError: nesting error in rule set"},
		{":: allow", 1, "IndexError: list index out of range"},
		{"all && :: allow", 1, "IndexError: list index out of range"},
		{"has :: allow", 1, "GenericError: Invalid or missing field in policy test"},
		{"compare n ~ 3 :: allow", 1, "GenericError: Invalid comparison in test."},
		{"compare n > x :: allow", 1, "ValueError: could not convert string to float: 'x '"},
		{"compare n > :: allow", 1, "ValueError: not enough values to unpack (expected 3, got 2)"},
	} {
		_, err := Parse(c.text, Generic())
		var se *SyntaxError
		require.ErrorAs(t, err, &se, c.text)
		assert.Equal(t, c.line, se.Line, c.text)
		assert.Equal(t, c.msg, se.Err.Error(), c.text)
		assert.Contains(t, err.Error(), "policy line ")
	}
	// "!!" is the separator only when there is no "::"; the last "::"
	// separates, so an action may not hold one but tests may.
	rs := mustParse(t, "match x a::b :: allow", Generic())
	r, err := rs.Apply(context.Background(), map[string]any{"x": "a::b"})
	require.NoError(t, err)
	assert.Equal(t, "allow", r.Action)
	// Python's splitlines: \r, \r\n, \v, \f and \x1c.. split lines too.
	rs = mustParse(t, "false :: a\rfalse :: b\r\nfalse :: c\vtrue :: d\x1ctrue :: e", Generic())
	r, err = rs.Apply(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, "d", r.Action)
}

// TestRunError: an error of a test ends Apply with it.
func TestRunError(t *testing.T) {
	boom := errors.New("boom")
	rs := mustParse(t, "x :: allow", Tests{"x": func(text string) (Test, error) {
		return &Func{Base: Base{text}, F: func(context.Context, map[string]any) (bool, error) { return false, boom }}, nil
	}})
	_, err := rs.Apply(context.Background(), nil)
	assert.ErrorIs(t, err, boom)
}

// FuzzParse: no text makes Parse or Apply panic, and a parsed rule set
// answers the same twice and reports an action it holds.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"has_perm admin :: allow\nall :: deny Only admin can do this via default policy\n",
		"match tag f4* :: {\n  bool scratch !! deny\n  compare n >= 2.5 :: allow\n}\n# c\nall :: deny",
		"}", "a :: {", "match x [!a-]* :: y", "compare x != 1_000 :: z", "\x1c\r\n::",
	} {
		f.Add(s, "f40")
	}
	f.Fuzz(func(t *testing.T, text, value string) {
		tests := Generic()
		tests["has_perm"] = MatchField("perm")
		rs, err := Parse(text, tests)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a SyntaxError", err)
			}
			return
		}
		data := map[string]any{"tag": value, "perm": value, "x": value, "n": int64(len(value)), "scratch": value != ""}
		r1, err1 := rs.Apply(context.Background(), data)
		r2, err2 := rs.Apply(context.Background(), data)
		if (err1 == nil) != (err2 == nil) || r1 != r2 {
			t.Fatalf("Apply differs: %v %v / %v %v", r1, err1, r2, err2)
		}
		if err1 == nil && r1.Matched && !strings.HasSuffix(r1.LastRule, r1.Action) {
			t.Fatalf("last rule %q does not end with the action %q", r1.LastRule, r1.Action)
		}
		_ = Fnmatch(value, text)
	})
}
