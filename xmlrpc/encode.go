package xmlrpc

import (
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// encodeState accumulates output and hands it to the writer in chunks, so
// that a large array, even one produced by an iterator, never sits in
// memory whole.
type encodeState struct {
	buf   []byte
	w     io.Writer // nil: keep everything in buf
	depth int
}

const flushSize = 32 << 10

// maxEncodeDepth stops a cyclic value (a pointer loop) from recursing forever.
const maxEncodeDepth = 1000

func (e *encodeState) flush() error {
	if e.w == nil || len(e.buf) == 0 {
		return nil
	}
	_, err := e.w.Write(e.buf)
	e.buf = e.buf[:0]
	return err
}

func (e *encodeState) maybeFlush() error {
	if len(e.buf) < flushSize {
		return nil
	}
	return e.flush()
}

// str appends s, keeping room for the number or short text that usually
// follows. It grows the buffer by doubling: append alone grows a large
// slice by a quarter at a time, copying a big document again and again.
func (e *encodeState) str(s string) {
	if need := len(s) + 64; cap(e.buf)-len(e.buf) < need {
		grown := make([]byte, len(e.buf), 2*cap(e.buf)+need)
		copy(grown, e.buf)
		e.buf = grown
	}
	e.buf = append(e.buf, s...)
}

// value encodes any Go value as a <value> element followed by a newline,
// in the layout of Python's xmlrpc.client (nil has no newline after it).
func (e *encodeState) value(v any) error {
	switch x := v.(type) {
	case nil:
		e.str("<value><nil/></value>")
		return nil
	case string:
		return e.string(x)
	case int:
		e.int(int64(x))
		return nil
	case int64:
		e.int(x)
		return nil
	case bool:
		e.bool(x)
		return nil
	case float64:
		e.float(x, 64)
		return nil
	case []any:
		return e.anySlice(x)
	case map[string]any:
		return e.anyMap(x)
	case kwargs:
		return e.kwargs(x.v)
	}
	rv := reflect.ValueOf(v)
	return encoderFor(rv.Type())(e, rv)
}

func (e *encodeState) nil() { e.str("<value><nil/></value>") }

func (e *encodeState) int(n int64) {
	if n >= math.MinInt32 && n <= math.MaxInt32 {
		e.str("<value><int>")
		e.buf = strconv.AppendInt(e.buf, n, 10)
		e.str("</int></value>\n")
		return
	}
	e.str("<value><i8>")
	e.buf = strconv.AppendInt(e.buf, n, 10)
	e.str("</i8></value>\n")
}

func (e *encodeState) bool(b bool) {
	if b {
		e.str("<value><boolean>1</boolean></value>\n")
	} else {
		e.str("<value><boolean>0</boolean></value>\n")
	}
}

func (e *encodeState) float(f float64, bits int) {
	e.str("<value><double>")
	e.buf = appendPythonFloat(e.buf, f, bits)
	e.str("</double></value>\n")
}

// appendPythonFloat writes the shortest text that reads back as f, in the
// form Python's repr uses ("1.0", "1e+16", "inf", "nan") so that both
// peers write the same bytes for the same number.
func appendPythonFloat(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "nan"...)
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	}
	if f == 0 {
		if math.Signbit(f) {
			return append(b, "-0.0"...)
		}
		return append(b, "0.0"...)
	}
	exp := int(math.Floor(math.Log10(math.Abs(f))))
	// Log10 can be off by one near powers of ten; the 'e' form tells exactly.
	sci := strconv.AppendFloat(nil, f, 'e', -1, bits)
	if i := slices.Index(sci, 'e'); i >= 0 {
		exp, _ = strconv.Atoi(string(sci[i+1:]))
	}
	if exp < -4 || exp >= 16 {
		// Python writes at least two exponent digits, as Go does.
		return append(b, sci...)
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, 'f', -1, bits)
	if slices.Index(b[start:], '.') < 0 {
		b = append(b, ".0"...)
	}
	return b
}

// string writes s escaped, and fails on what XML cannot carry: control
// characters other than tab, newline and carriage return, U+FFFE, U+FFFF
// and invalid UTF-8. A carriage return is written as &#13; because XML
// parsers turn a literal one into a newline.
func (e *encodeState) string(s string) error {
	e.str("<value><string>")
	if err := e.escaped(s); err != nil {
		return err
	}
	e.str("</string></value>\n")
	return nil
}

func (e *encodeState) escaped(s string) error {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			var esc string
			switch {
			case c == '<':
				esc = "&lt;"
			case c == '>':
				esc = "&gt;"
			case c == '&':
				esc = "&amp;"
			case c == '\r':
				esc = "&#13;"
			case c < 0x20 && c != '\t' && c != '\n':
				return &MarshalError{Msg: fmt.Sprintf("string has character U+%04X at byte %d, which XML cannot carry", c, i)}
			default:
				i++
				continue
			}
			e.str(s[last:i])
			e.str(esc)
			i++
			last = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return &MarshalError{Msg: fmt.Sprintf("string has invalid UTF-8 at byte %d", i)}
		}
		if !isXMLChar(r) {
			return &MarshalError{Msg: fmt.Sprintf("string has character %U at byte %d, which XML cannot carry", r, i)}
		}
		i += size
	}
	e.str(s[last:])
	return nil
}

func (e *encodeState) bytes(b []byte) {
	// As Python's base64.encodebytes: lines of 76 characters, each ending in a newline.
	e.str("<value><base64>\n")
	for len(b) > 0 {
		n := min(len(b), 57) // 57 bytes make 76 characters
		e.buf = base64.StdEncoding.AppendEncode(e.buf, b[:n])
		e.buf = append(e.buf, '\n')
		b = b[n:]
	}
	e.str("</base64></value>\n")
}

func (e *encodeState) time(t time.Time) error {
	t = t.UTC()
	if y := t.Year(); y < 1 || y > 9999 {
		return &MarshalError{Msg: fmt.Sprintf("year %d is outside dateTime.iso8601's range", y)}
	}
	e.str("<value><dateTime.iso8601>")
	e.buf = t.AppendFormat(e.buf, "20060102T15:04:05")
	e.str("</dateTime.iso8601></value>\n")
	return nil
}

func (e *encodeState) enter() error {
	e.depth++
	if e.depth > maxEncodeDepth {
		return &MarshalError{Msg: fmt.Sprintf("values nested more than %d deep (a cycle?)", maxEncodeDepth)}
	}
	return nil
}

func (e *encodeState) openArray() { e.str("<value><array><data>\n") }

func (e *encodeState) closeArray() { e.str("</data></array></value>\n") }

func (e *encodeState) openStruct() { e.str("<value><struct>\n") }

func (e *encodeState) closeStruct() { e.str("</struct></value>\n") }

func (e *encodeState) memberName(name string) error {
	e.str("<member>\n<name>")
	if err := e.escaped(name); err != nil {
		return prefixPath(err, name)
	}
	e.str("</name>\n")
	return nil
}

func (e *encodeState) endMember() { e.str("</member>\n") }

func (e *encodeState) anySlice(list []any) error {
	if list == nil {
		e.nil()
		return nil
	}
	if err := e.enter(); err != nil {
		return err
	}
	e.openArray()
	for i, x := range list {
		if err := e.value(x); err != nil {
			return prefixPath(err, indexPath(i))
		}
		if err := e.maybeFlush(); err != nil {
			return err
		}
	}
	e.closeArray()
	e.depth--
	return nil
}

func (e *encodeState) anyMap(m map[string]any) error {
	if m == nil {
		e.nil()
		return nil
	}
	if err := e.enter(); err != nil {
		return err
	}
	e.openStruct()
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // deterministic output; XML-RPC structs are unordered
	for _, k := range keys {
		if err := e.memberName(k); err != nil {
			return err
		}
		if err := e.value(m[k]); err != nil {
			return prefixPath(err, k)
		}
		e.endMember()
	}
	e.closeStruct()
	e.depth--
	return nil
}

// Typed encoding by reflection, one cached function per type.

type encoderFunc func(e *encodeState, v reflect.Value) error

var encoderCache sync.Map // reflect.Type -> encoderFunc

func encoderFor(t reflect.Type) encoderFunc {
	if f, ok := encoderCache.Load(t); ok {
		return f.(encoderFunc)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	var real encoderFunc
	indirect := encoderFunc(func(e *encodeState, v reflect.Value) error { wg.Wait(); return real(e, v) })
	if f, loaded := encoderCache.LoadOrStore(t, indirect); loaded {
		return f.(encoderFunc)
	}
	real = newEncoder(t)
	wg.Done()
	encoderCache.Store(t, real)
	return real
}

func newEncoder(t reflect.Type) encoderFunc {
	if t == rawValueType {
		return encodeRaw
	}
	if t.Implements(marshalerType) {
		return encodeMarshaler
	}
	if t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(marshalerType) {
		return func(e *encodeState, v reflect.Value) error {
			if v.CanAddr() {
				return encodeMarshaler(e, v.Addr())
			}
			p := reflect.New(t)
			p.Elem().Set(v)
			return encodeMarshaler(e, p)
		}
	}
	switch t.Kind() {
	case reflect.Bool:
		return func(e *encodeState, v reflect.Value) error { e.bool(v.Bool()); return nil }
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return func(e *encodeState, v reflect.Value) error { e.int(v.Int()); return nil }
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return func(e *encodeState, v reflect.Value) error {
			n := v.Uint()
			if n > math.MaxInt64 {
				return &MarshalError{Msg: fmt.Sprintf("integer %d exceeds the 64-bit range of <i8>", n)}
			}
			e.int(int64(n))
			return nil
		}
	case reflect.Float32:
		return func(e *encodeState, v reflect.Value) error { e.float(v.Float(), 32); return nil }
	case reflect.Float64:
		return func(e *encodeState, v reflect.Value) error { e.float(v.Float(), 64); return nil }
	case reflect.String:
		return func(e *encodeState, v reflect.Value) error { return e.string(v.String()) }
	case reflect.Interface:
		return func(e *encodeState, v reflect.Value) error {
			if v.IsNil() {
				e.nil()
				return nil
			}
			return e.value(v.Elem().Interface())
		}
	case reflect.Pointer:
		elem := t.Elem()
		return func(e *encodeState, v reflect.Value) error {
			if v.IsNil() {
				e.nil()
				return nil
			}
			if err := e.enter(); err != nil {
				return err
			}
			err := encoderFor(elem)(e, v.Elem())
			e.depth--
			return err
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return func(e *encodeState, v reflect.Value) error {
				if v.IsNil() {
					e.nil()
				} else {
					e.bytes(v.Bytes())
				}
				return nil
			}
		}
		return listEncoder(t)
	case reflect.Array:
		return listEncoder(t)
	case reflect.Map:
		return mapEncoder(t)
	case reflect.Struct:
		if t == timeType {
			return func(e *encodeState, v reflect.Value) error { return e.time(v.Interface().(time.Time)) }
		}
		return structEncoder(t)
	case reflect.Func:
		if enc := iteratorEncoder(t); enc != nil {
			return enc
		}
	}
	return func(e *encodeState, v reflect.Value) error {
		return &MarshalError{Msg: "unsupported type " + t.String()}
	}
}

func encodeRaw(e *encodeState, v reflect.Value) error {
	raw := v.Bytes()
	if raw == nil {
		e.nil()
		return nil
	}
	// Check it is one well-formed value: it goes into the document verbatim.
	var d decodeState
	d.init(nil, raw, Limits{})
	if err := d.skipValue(); err != nil {
		return &MarshalError{Msg: "RawValue is not a well-formed <value>: " + err.Error()}
	}
	if err := d.s.atEOF(); err != nil {
		return &MarshalError{Msg: "RawValue holds more than one value"}
	}
	e.buf = append(e.buf, raw...)
	e.buf = append(e.buf, '\n')
	return nil
}

func encodeMarshaler(e *encodeState, v reflect.Value) error {
	if v.Kind() == reflect.Pointer && v.IsNil() {
		e.nil()
		return nil
	}
	x, err := v.Interface().(Marshaler).MarshalXMLRPC()
	if err != nil {
		return &MarshalError{Msg: fmt.Sprintf("%s.MarshalXMLRPC: %v", v.Type(), err)}
	}
	if err := e.enter(); err != nil {
		return err
	}
	err = e.value(x)
	e.depth--
	return err
}

func listEncoder(t reflect.Type) encoderFunc {
	return func(e *encodeState, v reflect.Value) error {
		if v.Kind() == reflect.Slice && v.IsNil() {
			e.nil()
			return nil
		}
		if err := e.enter(); err != nil {
			return err
		}
		elem := encoderFor(t.Elem())
		e.openArray()
		for i, n := 0, v.Len(); i < n; i++ {
			if err := elem(e, v.Index(i)); err != nil {
				return prefixPath(err, indexPath(i))
			}
			if err := e.maybeFlush(); err != nil {
				return err
			}
		}
		e.closeArray()
		e.depth--
		return nil
	}
}

func mapEncoder(t reflect.Type) encoderFunc {
	if t.Key().Kind() != reflect.String {
		return func(e *encodeState, v reflect.Value) error {
			return &MarshalError{Msg: "map keys must be strings, not " + t.Key().String()}
		}
	}
	return func(e *encodeState, v reflect.Value) error {
		if v.IsNil() {
			e.nil()
			return nil
		}
		if err := e.enter(); err != nil {
			return err
		}
		elem := encoderFor(t.Elem())
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		e.openStruct()
		for _, k := range keys {
			if err := e.memberName(k.String()); err != nil {
				return err
			}
			if err := elem(e, v.MapIndex(k)); err != nil {
				return prefixPath(err, k.String())
			}
			e.endMember()
		}
		e.closeStruct()
		e.depth--
		return nil
	}
}

func structEncoder(t reflect.Type) encoderFunc {
	fields := cachedFields(t)
	return func(e *encodeState, v reflect.Value) error {
		if err := e.enter(); err != nil {
			return err
		}
		e.openStruct()
		if err := e.structMembers(fields, v); err != nil {
			return err
		}
		e.closeStruct()
		e.depth--
		return nil
	}
}

func (e *encodeState) structMembers(fields *structFields, v reflect.Value) error {
	for i := range fields.list {
		f := &fields.list[i]
		fv := fieldOf(v, f)
		if f.omitEmpty && isEmpty(fv) {
			continue
		}
		if err := e.memberName(f.name); err != nil {
			return err
		}
		if err := encoderFor(f.typ)(e, fv); err != nil {
			return prefixPath(err, f.name)
		}
		e.endMember()
	}
	return nil
}

// isEmpty is omitempty's test: the zero value, or an empty slice or map.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Slice, reflect.Map:
		return v.Len() == 0
	}
	return v.IsZero()
}

// iteratorEncoder encodes an iterator, func(yield func(T) bool) as
// iter.Seq[T] is, as an array, element by element: a server can stream a
// result from a database cursor without holding it. With func(yield func(T,
// error) bool), as iter.Seq2[T, error], the first error stops encoding.
func iteratorEncoder(t reflect.Type) encoderFunc {
	if t.NumIn() != 1 || t.NumOut() != 0 {
		return nil
	}
	yield := t.In(0)
	if yield.Kind() != reflect.Func || yield.NumOut() != 1 || yield.Out(0).Kind() != reflect.Bool {
		return nil
	}
	withErr := false
	switch yield.NumIn() {
	case 1:
	case 2:
		if yield.In(1) != reflect.TypeFor[error]() {
			return nil
		}
		withErr = true
	default:
		return nil
	}
	elem := yield.In(0)
	return func(e *encodeState, v reflect.Value) error {
		if v.IsNil() {
			e.nil()
			return nil
		}
		if err := e.enter(); err != nil {
			return err
		}
		enc := encoderFor(elem)
		e.openArray()
		var err error
		i := 0
		f := reflect.MakeFunc(yield, func(args []reflect.Value) []reflect.Value {
			if withErr && !args[1].IsNil() {
				err = args[1].Interface().(error)
			} else if err = enc(e, args[0]); err != nil {
				err = prefixPath(err, indexPath(i))
			} else {
				err = e.maybeFlush()
			}
			i++
			return []reflect.Value{reflect.ValueOf(err == nil)}
		})
		v.Call([]reflect.Value{f})
		if err != nil {
			return err
		}
		e.closeArray()
		e.depth--
		return nil
	}
}
