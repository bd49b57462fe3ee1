package hubserver

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// pyStr returns Python's repr of a str: single quotes unless the text holds
// a single quote and no double one.
func pyStr(s string) string {
	q := byte('\'')
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(q):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// pyRepr returns Python's repr of a declared default value.
func pyRepr(v any) string {
	if v == nil || v == None {
		return "None"
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Bool:
		if rv.Bool() {
			return "True"
		}
		return "False"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(rv.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		f := rv.Float()
		switch {
		case math.IsInf(f, 1):
			return "inf"
		case math.IsInf(f, -1):
			return "-inf"
		case math.IsNaN(f):
			return "nan"
		}
		s := strconv.FormatFloat(f, 'g', -1, 64)
		if !strings.ContainsAny(s, ".en") {
			s += ".0"
		}
		return s
	case reflect.String:
		return pyStr(rv.String())
	case reflect.Slice, reflect.Array:
		parts := make([]string, rv.Len())
		for i := range parts {
			parts[i] = pyRepr(rv.Index(i).Interface())
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case reflect.Map:
		keys := rv.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = pyRepr(k.Interface()) + ": " + pyRepr(rv.MapIndex(k).Interface())
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}

// argdesc renders the signature as upstream's list_api does, from
// inspect.signature: "(tagInfo, strict=False, event=None, blocked=False)".
func (m *Method) argdesc() string {
	var parts []string
	for _, a := range m.Args {
		if a.required() {
			parts = append(parts, a.Name)
		} else {
			parts = append(parts, a.Name+"="+pyRepr(a.Default))
		}
	}
	if m.VarArgs != "" {
		parts = append(parts, "*"+m.VarArgs)
	}
	if m.VarKw != "" {
		parts = append(parts, "**"+m.VarKw)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// APIEntry is one element of _listapi's answer, shaped as upstream's
// HandlerRegistry.list_api builds it.
type APIEntry struct {
	Name string  `xmlrpc:"name"`
	Doc  *string `xmlrpc:"doc"`
	// Argspec is Python's getfullargspec as a 7-element array: args,
	// varargs, varkw, defaults, kwonlyargs, kwonlydefaults, annotations.
	Argspec []any  `xmlrpc:"argspec"`
	Argdesc string `xmlrpc:"argdesc"`
	// Args lists each parameter: its name when required, [name, default]
	// otherwise.
	Args []any `xmlrpc:"args"`
}

func (m *Method) apiEntry() APIEntry {
	e := APIEntry{Name: m.Name, Argdesc: m.argdesc(), Args: []any{}}
	if m.Doc != "" {
		doc := m.Doc
		e.Doc = &doc
	}
	names := []any{}
	var defaults []any
	for _, a := range m.Args {
		names = append(names, a.Name)
		if a.required() {
			e.Args = append(e.Args, a.Name)
		} else {
			e.Args = append(e.Args, []any{a.Name, a.Default})
			defaults = append(defaults, a.Default)
		}
	}
	e.Argspec = []any{names, nilIfEmpty(m.VarArgs), nilIfEmpty(m.VarKw), defaults, []any{}, nil, map[string]any{}}
	return e
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// The introspection methods, bound to the hub; upstream implements them on
// HandlerRegistry, whose qualified names its TypeErrors carry.
func (h *Hub) introspectionMethods() []Method {
	return []Method{
		{
			Name: "_listapi", PyName: "HandlerRegistry.list_api", Bound: true,
			Func: func(ctx context.Context) []APIEntry {
				ms := h.methods()
				out := make([]APIEntry, len(ms))
				for i, m := range ms {
					out[i] = m.apiEntry()
				}
				return out
			},
		},
		{
			Name: "system.listMethods", PyName: "HandlerRegistry.system_listMethods", Bound: true,
			Func: func(ctx context.Context) []string {
				ms := h.methods()
				out := make([]string, len(ms))
				for i, m := range ms {
					out[i] = m.Name
				}
				return out
			},
		},
		{
			Name: "system.methodSignature", PyName: "HandlerRegistry.system_methodSignature", Bound: true,
			Args: []Arg{{Name: "method"}},
			Func: func(ctx context.Context, method any) string { return "signatures not supported" },
		},
		{
			Name: "system.methodHelp", PyName: "HandlerRegistry.system_methodHelp", Bound: true,
			Args: []Arg{{Name: "method"}},
			Func: func(ctx context.Context, method any) string {
				name, _ := method.(string)
				b := h.lookup(name)
				if b == nil {
					return ""
				}
				help := b.Name + b.argdesc()
				if b.Doc != "" {
					help += "\ndescription: " + b.Doc
				}
				return help
			},
		},
	}
}

// The RootExports methods with no database behind them.
func (h *Hub) builtinMethods() []Method {
	return []Method{
		{
			Name: "echo", PyName: "RootExports.echo", Bound: true, VarArgs: "args",
			Func: func(ctx context.Context, args ...any) []any {
				if args == nil {
					return []any{}
				}
				return args
			},
		},
		{
			Name: "getAPIVersion", PyName: "RootExports.getAPIVersion", Bound: true,
			Func: func(ctx context.Context) int { return APIVersion },
		},
		{
			Name: "getKojiVersion", PyName: "RootExports.getKojiVersion", Bound: true,
			Func: func(ctx context.Context) string { return h.cfg.KojiVersion },
		},
		{
			Name: "hello", PyName: "RootExports.hello", Bound: true, VarArgs: "args",
			Func: func(ctx context.Context, args ...any) string { return "Hello World" },
		},
	}
}
