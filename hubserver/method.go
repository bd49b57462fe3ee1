package hubserver

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// A Method declares one hub method the way a Python signature does, and
// binds it to a Go function. The same declaration drives argument binding
// (with CPython's TypeError wording on a mismatch), _listapi's args, argspec
// and argdesc, and system.methodHelp.
//
// Func must be a function whose first parameter is a context.Context,
// followed by one parameter per Arg, in order; then, when VarArgs is set, a
// slice (or a Go variadic parameter) receiving the surplus positional
// arguments; then, when VarKw is set, a map[string]T receiving the keyword
// arguments no Arg names. It returns nothing, an error, a result, or a
// result and an error. Each argument is decoded into its parameter's type
// as xmlrpc.RawValue.Decode does; a parameter of type xmlrpc.RawValue gets
// the undecoded value and one of type any gets the generic decoding.
type Method struct {
	// Name is the name clients call, such as "getBuild" or "host.openTask".
	Name string
	// PyName is the Python qualified name upstream's TypeError messages
	// carry, such as "get_build" (getBuild = staticmethod(get_build)) or
	// "RootExports.hello". It defaults to the part of Name after the last
	// dot.
	PyName string
	// Bound says the Python function is a method of an exports class:
	// CPython then counts self in "takes N positional arguments" messages.
	// _listapi leaves self out either way, as upstream does.
	Bound bool
	// Args are the named parameters, in order.
	Args []Arg
	// VarArgs names the *args parameter, "" for none.
	VarArgs string
	// VarKw names the **kwargs parameter, "" for none.
	VarKw string
	// Doc is the docstring: _listapi's doc and system.methodHelp's
	// description; "" for none.
	Doc string
	// Func is the Go function implementing the method.
	Func any
}

// An Arg is one named parameter of a Method. A zero Default makes it
// required; any other Default is the value it takes when the caller leaves
// it out, with None standing for Python's None.
type Arg struct {
	Name    string
	Default any
}

// None is the Default of a parameter whose Python default is None. The Go
// parameter then gets its zero value, so its type must be one that can be
// nil: a pointer, interface, slice or map. It encodes as <nil/>.
var None = none{}

type none struct{}

// MarshalXMLRPC encodes None as <nil/>.
func (none) MarshalXMLRPC() (any, error) { return nil, nil }

func (a Arg) required() bool { return a.Default == nil }

var (
	ctxType    = reflect.TypeFor[context.Context]()
	errType    = reflect.TypeFor[error]()
	rawType    = reflect.TypeFor[xmlrpc.RawValue]()
	stringType = reflect.TypeFor[string]()
)

// A binding is a Method checked against its Func, ready to be called.
type binding struct {
	Method
	fn       reflect.Value
	argTypes []reflect.Type
	defaults []reflect.Value
	index    map[string]int
	varType  reflect.Type // element type of *args
	kwType   reflect.Type // map type of **kwargs
	hasErr   bool
	hasValue bool
}

func newBinding(m Method) (*binding, error) {
	if m.Name == "" {
		return nil, errors.New("hubserver: method without a name")
	}
	if m.PyName == "" {
		m.PyName = m.Name[strings.LastIndex(m.Name, ".")+1:]
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("hubserver: method %s: "+format, append([]any{m.Name}, args...)...)
	}
	fn := reflect.ValueOf(m.Func)
	if fn.Kind() != reflect.Func || fn.IsNil() {
		return nil, fail("Func is %T, not a function", m.Func)
	}
	ft := fn.Type()
	want := 1 + len(m.Args)
	if m.VarArgs != "" {
		want++
	}
	if m.VarKw != "" {
		want++
	}
	if ft.NumIn() != want {
		return nil, fail("Func takes %d parameters, the declaration needs %d (context, %d args%s%s)",
			ft.NumIn(), want, len(m.Args), optional(m.VarArgs != "", ", *args"), optional(m.VarKw != "", ", **kwargs"))
	}
	if ft.In(0) != ctxType {
		return nil, fail("first parameter is %s, not context.Context", ft.In(0))
	}
	if ft.IsVariadic() && (m.VarArgs == "" || m.VarKw != "") {
		return nil, fail("a variadic Func must declare VarArgs and no VarKw")
	}
	b := &binding{Method: m, fn: fn, index: make(map[string]int, len(m.Args))}
	seenDefault := false
	for i, a := range m.Args {
		if a.Name == "" || a.Name == m.VarArgs || a.Name == m.VarKw {
			return nil, fail("argument %d has an empty or duplicate name %q", i, a.Name)
		}
		if _, dup := b.index[a.Name]; dup {
			return nil, fail("duplicate argument %q", a.Name)
		}
		if a.required() && seenDefault {
			return nil, fail("non-default argument %q follows default argument", a.Name)
		}
		seenDefault = seenDefault || !a.required()
		b.index[a.Name] = i
		t := ft.In(1 + i)
		b.argTypes = append(b.argTypes, t)
		var dv reflect.Value
		if !a.required() {
			var err error
			if dv, err = defaultValue(a.Default, t); err != nil {
				return nil, fail("argument %q: %v", a.Name, err)
			}
		}
		b.defaults = append(b.defaults, dv)
	}
	next := 1 + len(m.Args)
	if m.VarArgs != "" {
		t := ft.In(next)
		if t.Kind() != reflect.Slice {
			return nil, fail("*%s parameter is %s, not a slice", m.VarArgs, t)
		}
		b.varType = t.Elem()
		next++
	}
	if m.VarKw != "" {
		t := ft.In(next)
		if t.Kind() != reflect.Map || t.Key() != stringType {
			return nil, fail("**%s parameter is %s, not a map[string]T", m.VarKw, t)
		}
		b.kwType = t
	}
	switch ft.NumOut() {
	case 0:
	case 1:
		b.hasErr = ft.Out(0) == errType
		b.hasValue = !b.hasErr
	case 2:
		if ft.Out(1) != errType {
			return nil, fail("second result is %s, not error", ft.Out(1))
		}
		b.hasErr, b.hasValue = true, true
	default:
		return nil, fail("Func returns %d results; at most a value and an error", ft.NumOut())
	}
	return b, nil
}

func optional(ok bool, s string) string {
	if ok {
		return s
	}
	return ""
}

// defaultValue converts a declared default into a value of the parameter's
// type.
func defaultValue(d any, t reflect.Type) (reflect.Value, error) {
	if d == None {
		switch t.Kind() {
		case reflect.Pointer, reflect.Interface, reflect.Slice, reflect.Map:
			return reflect.Zero(t), nil
		}
		return reflect.Value{}, fmt.Errorf("default None needs a nilable parameter, not %s", t)
	}
	v := reflect.ValueOf(d)
	switch {
	case v.Type().AssignableTo(t):
		out := reflect.New(t).Elem()
		out.Set(v)
		return out, nil
	case v.Type().ConvertibleTo(t) && sameFamily(v.Kind(), t.Kind()):
		return v.Convert(t), nil
	}
	return reflect.Value{}, fmt.Errorf("default %#v does not fit a %s parameter", d, t)
}

func sameFamily(a, b reflect.Kind) bool {
	family := func(k reflect.Kind) int {
		switch {
		case k >= reflect.Int && k <= reflect.Uint64:
			return 1
		case k == reflect.Float32 || k == reflect.Float64:
			return 2
		default:
			return int(k) + 100
		}
	}
	return family(a) == family(b)
}

// bind matches positional and keyword arguments to the declaration as
// CPython 3.11 does (initialize_locals in ceval.c), in the same order:
// keyword errors first, then surplus positionals, then missing ones. Its
// errors are ParameterError faults worded as CPython's TypeError.
func (b *binding) bind(params []xmlrpc.RawValue, kwargs map[string]xmlrpc.RawValue) ([]reflect.Value, error) {
	n := len(b.Args)
	slots := make([]xmlrpc.RawValue, n)
	for i := 0; i < n && i < len(params); i++ {
		slots[i] = params[i]
	}
	var extra []xmlrpc.RawValue
	if len(params) > n {
		extra = params[n:]
	}
	var kw reflect.Value
	if b.kwType != nil {
		kw = reflect.MakeMapWithSize(b.kwType, len(kwargs))
	}
	for _, name := range slices.Sorted(mapKeys(kwargs)) {
		i, ok := b.index[name]
		switch {
		case !ok && b.kwType == nil:
			return nil, b.typeError("got an unexpected keyword argument %s", pyStr(name))
		case !ok:
			v, err := b.decode(kwargs[name], b.kwType.Elem(), name)
			if err != nil {
				return nil, err
			}
			kw.SetMapIndex(reflect.ValueOf(name), v)
		case slots[i] != nil:
			return nil, b.typeError("got multiple values for argument %s", pyStr(name))
		default:
			slots[i] = kwargs[name]
		}
	}
	self := 0
	if b.Bound {
		self = 1
	}
	if len(extra) > 0 && b.varType == nil {
		given := len(params) + self
		argc := n + self
		var sig string
		plural := true
		if req := b.requiredCount(); req < n {
			sig = fmt.Sprintf("from %d to %d", req+self, argc)
		} else {
			sig, plural = fmt.Sprint(argc), argc != 1
		}
		verb := "were"
		if given == 1 {
			verb = "was"
		}
		return nil, b.typeError("takes %s positional argument%s but %d %s given", sig, optional(plural, "s"), given, verb)
	}
	var missing []string
	for i, a := range b.Args {
		if slots[i] == nil && a.required() {
			missing = append(missing, pyStr(a.Name))
		}
	}
	if len(missing) > 0 {
		return nil, b.typeError("missing %d required positional argument%s: %s",
			len(missing), optional(len(missing) != 1, "s"), joinNames(missing))
	}
	in := make([]reflect.Value, 0, 3+n)
	for i, a := range b.Args {
		if slots[i] == nil {
			in = append(in, b.defaults[i])
			continue
		}
		v, err := b.decode(slots[i], b.argTypes[i], a.Name)
		if err != nil {
			return nil, err
		}
		in = append(in, v)
	}
	if b.varType != nil {
		rest := reflect.MakeSlice(reflect.SliceOf(b.varType), 0, len(extra))
		for i, p := range extra {
			v, err := b.decode(p, b.varType, fmt.Sprintf("%s[%d]", b.VarArgs, i))
			if err != nil {
				return nil, err
			}
			rest = reflect.Append(rest, v)
		}
		in = append(in, rest)
	}
	if b.kwType != nil {
		in = append(in, kw)
	}
	return in, nil
}

func (b *binding) requiredCount() int {
	c := 0
	for _, a := range b.Args {
		if a.required() {
			c++
		}
	}
	return c
}

func (b *binding) typeError(format string, args ...any) error {
	return &koji.Fault{Code: int(koji.ErrParameter), String: b.PyName + "() " + fmt.Sprintf(format, args...)}
}

// decode decodes one argument into a new value of type t.
func (b *binding) decode(raw xmlrpc.RawValue, t reflect.Type, name string) (reflect.Value, error) {
	if t == rawType {
		return reflect.ValueOf(raw), nil
	}
	p := reflect.New(t)
	if err := raw.Decode(p.Interface()); err != nil {
		return reflect.Value{}, &koji.Fault{Code: int(koji.ErrParameter),
			String: fmt.Sprintf("%s(): invalid value for argument %s: %v", b.PyName, pyStr(name), err)}
	}
	return p.Elem(), nil
}

// call binds the arguments and runs the function.
func (b *binding) call(ctx context.Context, params []xmlrpc.RawValue, kwargs map[string]xmlrpc.RawValue) (any, error) {
	in, err := b.bind(params, kwargs)
	if err != nil {
		return nil, err
	}
	in = append([]reflect.Value{reflect.ValueOf(&ctx).Elem()}, in...)
	var out []reflect.Value
	if b.fn.Type().IsVariadic() {
		out = b.fn.CallSlice(in)
	} else {
		out = b.fn.Call(in)
	}
	if b.hasErr {
		if e := out[len(out)-1]; !e.IsNil() {
			return nil, e.Interface().(error)
		}
	}
	if !b.hasValue {
		return nil, nil
	}
	return out[0].Interface(), nil
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// joinNames joins quoted names as CPython's format_missing does:
// "'a'", "'a' and 'b'", "'a', 'b', and 'c'".
func joinNames(names []string) string {
	switch len(names) {
	case 1:
		return names[0]
	case 2:
		return names[0] + " and " + names[1]
	}
	return strings.Join(names[:len(names)-1], ", ") + ", and " + names[len(names)-1]
}
