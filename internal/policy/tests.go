package policy

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// Generic returns the generic tests of koji/policy.py: true, false, all,
// none, has, bool, match, target and compare.
func Generic() Tests {
	return Tests{
		"true":  Const(true),
		"all":   Const(true),
		"false": Const(false),
		"none":  Const(false),
		"has":   NewHas,
		"bool":  BoolField(""),
		"match": MatchField(""),
		// target is a match of the data's target field.
		"target":  MatchField("target"),
		"compare": CompareField(""),
	}
}

// Base holds a test's text; embed it for String.
type Base struct{ Text string }

// String is the test's text as written.
func (b Base) String() string { return b.Text }

// Args are the test's arguments: the words after its name.
func (b Base) Args() []string {
	f := Fields(b.Text)
	if len(f) == 0 {
		return nil
	}
	return f[1:]
}

// A Func is a Test made of a function.
type Func struct {
	Base
	F func(ctx context.Context, data map[string]any) (bool, error)
}

// Run calls F.
func (f *Func) Run(ctx context.Context, data map[string]any) (bool, error) { return f.F(ctx, data) }

// Const is the Factory of TrueTest (v true) or FalseTest: a test whose
// answer is v.
func Const(v bool) Factory {
	return func(text string) (Test, error) {
		return &Func{Base: Base{text}, F: func(context.Context, map[string]any) (bool, error) { return v, nil }}, nil
	}
}

// NewHas is HasTest: "has field" is true when data holds field.
func NewHas(text string) (Test, error) {
	f := Fields(text)
	if len(f) < 2 {
		return nil, genericError("Invalid or missing field in policy test")
	}
	field := f[1]
	return &Func{Base: Base{text}, F: func(_ context.Context, data map[string]any) (bool, error) {
		_, ok := data[field]
		return ok, nil
	}}, nil
}

// BoolField is BoolTest: "bool field" (field "") or, for a test bound
// to a field, "name": true when data holds the field with a true value
// (Python's truth).
func BoolField(field string) Factory {
	return func(text string) (Test, error) {
		b := Base{text}
		return &Func{Base: b, F: func(_ context.Context, data map[string]any) (bool, error) {
			f := field
			if f == "" {
				args := b.Args()
				if len(args) == 0 {
					return false, &Error{Class: "IndexError", Message: "list index out of range"}
				}
				f = args[0]
			}
			v, ok := data[f]
			return ok && xmlrpc.Truthy(v), nil
		}}, nil
	}
}

// A MatchTest is upstream's MatchTest: "match field pattern..." (Field
// "") or, bound to a Field, "name pattern...": true when data holds the
// field and it matches one of the glob patterns (Python's fnmatch).
// Tests computing the value (package, tag, user...) set data[Field] and
// call Run.
type MatchTest struct {
	Base
	Field string
}

// MatchField is the Factory of MatchTests bound to field ("" for match).
func MatchField(field string) Factory {
	return func(text string) (Test, error) { return &MatchTest{Base{text}, field}, nil }
}

// Run matches data[Field] against the patterns.
func (m *MatchTest) Run(_ context.Context, data map[string]any) (bool, error) {
	args := m.Args()
	field := m.Field
	if field == "" {
		if len(args) == 0 {
			return false, &Error{Class: "IndexError", Message: "list index out of range"}
		}
		field, args = args[0], args[1:]
	}
	v, ok := data[field]
	if !ok {
		return false, nil
	}
	return MatchAny(v, args)
}

// MatchAny is upstream's loop of fnmatch.fnmatch(value, pattern) (and
// multi_fnmatch): whether value matches one of patterns. A value that is
// not a string fails as Python's fnmatch does.
func MatchAny(value any, patterns []string) (bool, error) {
	if len(patterns) == 0 {
		return false, nil
	}
	s, ok := value.(string)
	if !ok {
		return false, &Error{Class: "TypeError", Message: fmt.Sprintf(
			"expected str, bytes or os.PathLike object, not %s", koji.PyTypeName(value))}
	}
	for _, p := range patterns {
		if Fnmatch(s, p) {
			return true, nil
		}
	}
	return false, nil
}

// A compareTest is CompareTest.
type compareTest struct {
	Base
	field string
	op    string
	value any // int64 or float64
}

var compareOps = map[string]bool{"<": true, ">": true, "<=": true, ">=": true, "=": true, "!=": true}

// CompareField is CompareTest: "compare field OP number" (field "") or,
// bound to a field, "name OP number", OP one of < > <= >= = !=.
func CompareField(field string) Factory {
	return func(text string) (Test, error) {
		// str.split(None, 3)[1:] (or 2 for a bound field), unpacked.
		n := 4
		if field != "" {
			n = 3
		}
		parts := SplitN(text, n)
		if len(parts) != n {
			return nil, &Error{Class: "ValueError", Message: fmt.Sprintf(
				"not enough values to unpack (expected %d, got %d)", n-1, len(parts)-1)}
		}
		t := &compareTest{Base: Base{text}, field: field}
		if field == "" {
			t.field = parts[1]
		}
		t.op = parts[n-2]
		if !compareOps[t.op] {
			return nil, genericError("Invalid comparison in test.")
		}
		raw := parts[n-1]
		if i, err := pyInt(raw); err == nil {
			t.value = i
		} else if f, err := pyFloat(raw); err == nil {
			t.value = f
		} else {
			return nil, &Error{Class: "ValueError", Message: fmt.Sprintf("could not convert string to float: %s", koji.PyRepr(raw))}
		}
		return t, nil
	}
}

// Run compares data[field] with the number.
func (t *compareTest) Run(_ context.Context, data map[string]any) (bool, error) {
	v, ok := data[t.field]
	if !ok {
		return false, nil
	}
	return pyCompare(v, t.op, t.value)
}

// pyCompare is Python's comparison of a decoded XML-RPC value with an
// int or float: numbers (bools as 0 and 1) compare by value; for other
// types = is False, != is True and ordering raises TypeError.
func pyCompare(a any, op string, b any) (bool, error) {
	x, xok := number(a)
	y, _ := number(b)
	if !xok {
		switch op {
		case "=":
			return false, nil
		case "!=":
			return true, nil
		}
		return false, &Error{Class: "TypeError", Message: fmt.Sprintf(
			"'%s' not supported between instances of '%s' and '%s'", op, koji.PyTypeName(a), koji.PyTypeName(b))}
	}
	switch op {
	case "<":
		return x.less(y), nil
	case ">":
		return y.less(x), nil
	case "<=":
		return !y.less(x), nil
	case ">=":
		return !x.less(y), nil
	case "=":
		return x.eq(y), nil
	}
	return !x.eq(y), nil
}

// num is a Python int or float, kept exact for ints.
type num struct {
	isInt bool
	i     int64
	f     float64
}

func number(v any) (num, bool) {
	switch x := v.(type) {
	case int64:
		return num{isInt: true, i: x}, true
	case int:
		return num{isInt: true, i: int64(x)}, true
	case bool:
		if x {
			return num{isInt: true, i: 1}, true
		}
		return num{isInt: true}, true
	case float64:
		return num{f: x}, true
	}
	return num{}, false
}

func (a num) float() float64 {
	if a.isInt {
		return float64(a.i)
	}
	return a.f
}

func (a num) less(b num) bool {
	if a.isInt && b.isInt {
		return a.i < b.i
	}
	return a.float() < b.float()
}

func (a num) eq(b num) bool {
	if a.isInt && b.isInt {
		return a.i == b.i
	}
	return a.float() == b.float()
}

// SplitN is Python's str.split(None, n-1): at most n words, the last
// holding the rest of the text from its first non-space character.
func SplitN(s string, n int) []string {
	var out []string
	rest := strings.TrimLeftFunc(s, isSpace)
	for rest != "" {
		if len(out) == n-1 {
			out = append(out, rest)
			break
		}
		i := strings.IndexFunc(rest, isSpace)
		if i < 0 {
			out = append(out, rest)
			break
		}
		out = append(out, rest[:i])
		rest = strings.TrimLeftFunc(rest[i:], isSpace)
	}
	return out
}

// pyInt is Python's int() of a string: optional sign, decimal digits
// with single underscores between them, surrounding whitespace allowed.
func pyInt(s string) (int64, error) {
	s = strings.TrimFunc(s, isSpace)
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 || body == "" || strings.HasPrefix(body, "_") || strings.HasSuffix(body, "_") || strings.Contains(body, "__") {
		return 0, strconv.ErrSyntax
	}
	for _, r := range body {
		if (r < '0' || r > '9') && r != '_' {
			return 0, strconv.ErrSyntax
		}
	}
	return strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, 64)
}

// pyFloat is Python's float() of a string, near enough: Go's ParseFloat
// of the trimmed text, with Python's spellings of infinity and NaN.
func pyFloat(s string) (float64, error) {
	s = strings.TrimFunc(s, isSpace)
	if strings.ContainsAny(s, "xXpP") {
		return 0, strconv.ErrSyntax // Go accepts hex floats, Python does not
	}
	if strings.Contains(s, "_") && (strings.Contains(s, "__") || strings.HasPrefix(strings.TrimLeft(s, "+-"), "_") || strings.HasSuffix(s, "_")) {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
}
