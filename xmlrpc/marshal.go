package xmlrpc

import (
	"io"
	"reflect"
	"slices"
	"strings"
)

// An Encoder writes XML-RPC documents to an output stream, in the layout
// Python's xmlrpc.client writes. Output goes to the writer in chunks as it
// is produced. After an error the writer may hold part of a document.
type Encoder struct {
	e encodeState
}

// NewEncoder returns an encoder writing to w.
func NewEncoder(w io.Writer) *Encoder { return &Encoder{e: encodeState{w: w}} }

const prolog = "<?xml version='1.0'?>\n"

// EncodeCall writes a method call. To pass keyword arguments the Koji way,
// build params with AppendKwargs.
func (enc *Encoder) EncodeCall(method string, params ...any) error {
	e := &enc.e
	e.str(prolog + "<methodCall>\n<methodName>")
	if method == "" {
		return &MarshalError{Msg: "empty method name"}
	}
	if err := e.escaped(method); err != nil {
		return err
	}
	e.str("</methodName>\n<params>\n")
	for i, p := range params {
		e.str("<param>\n")
		if err := e.value(p); err != nil {
			return prefixPath(err, indexPath(i))
		}
		e.str("</param>\n")
		if err := e.maybeFlush(); err != nil {
			return err
		}
	}
	e.str("</params>\n</methodCall>\n")
	return e.flush()
}

// EncodeResponse writes a method response carrying v. v may be an iterator
// (func(yield func(T) bool), or with an error as iter.Seq2[T, error]),
// encoded as an array element by element as it yields.
func (enc *Encoder) EncodeResponse(v any) error {
	e := &enc.e
	e.str(prolog + "<methodResponse>\n<params>\n<param>\n")
	if err := e.value(v); err != nil {
		return err
	}
	e.str("</param>\n</params>\n</methodResponse>\n")
	return e.flush()
}

// EncodeFault writes a fault response. The fault's Traceback is not sent:
// a fault response carries only the code and the string.
func (enc *Encoder) EncodeFault(f *Fault) error {
	e := &enc.e
	e.str(prolog + "<methodResponse>\n<fault>\n")
	if err := e.value(map[string]any{"faultCode": f.Code, "faultString": f.String}); err != nil {
		return err
	}
	e.str("</fault>\n</methodResponse>\n")
	return e.flush()
}

// MarshalCall returns the method call document; see Encoder.EncodeCall.
func MarshalCall(method string, params ...any) ([]byte, error) {
	var enc Encoder
	if err := enc.EncodeCall(method, params...); err != nil {
		return nil, err
	}
	return enc.e.buf, nil
}

// MarshalResponse returns the method response document carrying v.
func MarshalResponse(v any) ([]byte, error) {
	var enc Encoder
	if err := enc.EncodeResponse(v); err != nil {
		return nil, err
	}
	return enc.e.buf, nil
}

// MarshalFault returns the fault response document for f.
func MarshalFault(f *Fault) ([]byte, error) {
	var enc Encoder
	if err := enc.EncodeFault(f); err != nil {
		return nil, err
	}
	return enc.e.buf, nil
}

// MarshalValue encodes v as a single <value> element.
func MarshalValue(v any) (RawValue, error) {
	var e encodeState
	if err := e.value(v); err != nil {
		return nil, err
	}
	raw := e.buf
	if n := len(raw); n > 0 && raw[n-1] == '\n' {
		raw = raw[:n-1]
	}
	return RawValue(raw), nil
}

// kwargs marks the value AppendKwargs adds; see encodeState.kwargs.
type kwargs struct{ v any }

// AppendKwargs returns params followed by Koji's keyword-argument struct:
// the members of kw (a map with string keys, or a struct with xmlrpc tags)
// and the member __starstar set to true. Like Koji's client it appends
// nothing when kw has no members; a member whose value is nil is still
// sent, as <nil/>.
func AppendKwargs(params []any, kw any) []any {
	if !hasMembers(reflect.ValueOf(kw)) {
		return params
	}
	return append(params, kwargs{kw})
}

func hasMembers(v reflect.Value) bool {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return false
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Invalid:
		return false
	case reflect.Map:
		return v.Len() > 0
	case reflect.Struct:
		fields := cachedFields(v.Type())
		for i := range fields.list {
			f := &fields.list[i]
			if !f.omitEmpty || !isEmpty(fieldOf(v, f)) {
				return true
			}
		}
		return false
	}
	return true // not a map or struct: let encoding report it
}

// kwargs writes the keyword-argument struct: kw's members, then __starstar
// last, as Koji's client writes it.
func (e *encodeState) kwargs(kw any) error {
	v := reflect.ValueOf(kw)
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		v = v.Elem()
	}
	if err := e.enter(); err != nil {
		return err
	}
	e.openStruct()
	switch v.Kind() {
	case reflect.Struct:
		if err := e.structMembers(cachedFields(v.Type()), v); err != nil {
			return err
		}
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return &MarshalError{Msg: "keyword argument names must be strings, not " + v.Type().Key().String()}
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		elem := encoderFor(v.Type().Elem())
		for _, k := range keys {
			if err := e.memberName(k.String()); err != nil {
				return err
			}
			if err := elem(e, v.MapIndex(k)); err != nil {
				return prefixPath(err, k.String())
			}
			e.endMember()
		}
	default:
		return &MarshalError{Msg: "keyword arguments must be a map or a struct, not " + v.Type().String()}
	}
	e.str("<member>\n<name>" + kwargsMarker + "</name>\n")
	e.bool(true)
	e.endMember()
	e.closeStruct()
	e.depth--
	return nil
}
