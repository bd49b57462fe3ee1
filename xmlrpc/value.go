package xmlrpc

import "reflect"

// A RawValue is one complete, well-formed <value> element, kept as XML. It
// defers decoding: a hub dispatching a call decodes each parameter into the
// handler's own argument types, and a multicall client decodes each entry
// into the type its caller asked for. Encoding a RawValue writes it as is.
type RawValue []byte

// Decode decodes the value into v, which must be a non-nil pointer, as
// Decoder.DecodeResponse does for a response's value.
func (r RawValue) Decode(v any) error {
	var d decodeState
	d.init(nil, r, Limits{})
	if err := decodeInto(&d, v); err != nil {
		return err
	}
	return d.s.atEOF()
}

// IsNil reports whether the value is <nil/>.
func (r RawValue) IsNil() bool {
	var d decodeState
	d.init(nil, r, Limits{})
	return d.openValue() == nil && d.kind == kindNil
}

// Unmarshaler is implemented by types that decode themselves from the raw
// <value> element, typically by calling raw.Decode with a type of their own.
type Unmarshaler interface {
	UnmarshalXMLRPC(raw RawValue) error
}

// Marshaler is implemented by types that encode as another value: the
// encoder writes what MarshalXMLRPC returns in their place.
type Marshaler interface {
	MarshalXMLRPC() (any, error)
}

// An InvalidDecodeError reports a decode target that is not a non-nil pointer.
type InvalidDecodeError struct{ Type reflect.Type }

func (e *InvalidDecodeError) Error() string {
	if e.Type == nil {
		return "xmlrpc: decode target is nil"
	}
	return "xmlrpc: decode target must be a non-nil pointer, not " + e.Type.String()
}

// decodeInto decodes one whole <value> element into the value v points to.
func decodeInto(d *decodeState, v any) error {
	switch p := v.(type) {
	case *any:
		x, err := d.anyValue()
		*p = x
		return err
	case *RawValue:
		raw, err := d.captureValue()
		*p = raw
		return err
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return &InvalidDecodeError{Type: reflect.TypeOf(v)}
	}
	return decodersFor(rv.Type().Elem()).whole(d, rv.Elem())
}
