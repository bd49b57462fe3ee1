package xmlrpc

import (
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"time"
)

// Typed decoding.

// A decoderFunc decodes one value into v. Each type has two: whole decodes
// a complete <value> element, and content decodes what follows openValue
// (nil for types that decode themselves from the raw element).
type decoderFunc func(d *decodeState, v reflect.Value) error

type typeDecoders struct {
	whole   decoderFunc
	content decoderFunc
}

var decoderCache sync.Map // reflect.Type -> *typeDecoders

func decodersFor(t reflect.Type) *typeDecoders {
	if c, ok := decoderCache.Load(t); ok {
		return c.(*typeDecoders)
	}
	// A recursive type reaches itself while its decoders are being built:
	// hand it indirect functions that wait for the real ones.
	var wg sync.WaitGroup
	wg.Add(1)
	var real *typeDecoders
	placeholder := &typeDecoders{
		whole:   func(d *decodeState, v reflect.Value) error { wg.Wait(); return real.whole(d, v) },
		content: func(d *decodeState, v reflect.Value) error { wg.Wait(); return real.content(d, v) },
	}
	if c, loaded := decoderCache.LoadOrStore(t, placeholder); loaded {
		return c.(*typeDecoders)
	}
	real = newTypeDecoders(t)
	wg.Done()
	decoderCache.Store(t, real)
	return real
}

var (
	int64Type       = reflect.TypeFor[int64]()
	float64Type     = reflect.TypeFor[float64]()
	boolType        = reflect.TypeFor[bool]()
	bytesType       = reflect.TypeFor[[]byte]()
	timeType        = reflect.TypeFor[time.Time]()
	rawValueType    = reflect.TypeFor[RawValue]()
	unmarshalerType = reflect.TypeFor[Unmarshaler]()
	marshalerType   = reflect.TypeFor[Marshaler]()
)

// whole wraps a content decoder with the <value> element around it.
func whole(content decoderFunc) decoderFunc {
	return func(d *decodeState, v reflect.Value) error {
		if err := d.openValue(); err != nil {
			return err
		}
		empty := d.emptyValue
		if err := content(d, v); err != nil {
			return err
		}
		return d.closeValue(empty)
	}
}

// capturesRaw reports whether values of type t decode from the raw <value>
// element (RawValue, an Unmarshaler, or a pointer to one): their decoders
// have no content function. It is decided from the type alone, since a
// recursive type may see its own decoders before they are built.
func capturesRaw(t reflect.Type) bool {
	return t == rawValueType || reflect.PointerTo(t).Implements(unmarshalerType) ||
		t.Kind() == reflect.Pointer && capturesRaw(t.Elem())
}

func newTypeDecoders(t reflect.Type) *typeDecoders {
	if t == rawValueType {
		return &typeDecoders{whole: func(d *decodeState, v reflect.Value) error {
			raw, err := d.captureValue()
			v.SetBytes(raw)
			return err
		}}
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return &typeDecoders{whole: func(d *decodeState, v reflect.Value) error {
			raw, err := d.captureValue()
			if err != nil {
				return err
			}
			return v.Addr().Interface().(Unmarshaler).UnmarshalXMLRPC(raw)
		}}
	}
	var content decoderFunc
	switch t.Kind() {
	case reflect.String:
		content = decodeString
	case reflect.Bool:
		content = decodeBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		content = decodeInt
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		content = decodeUint
	case reflect.Float32, reflect.Float64:
		content = decodeFloat
	case reflect.Interface:
		content = decodeInterface
	case reflect.Pointer:
		return pointerDecoders(t)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			content = decodeBytes
		} else {
			content = sliceDecoder(t)
		}
	case reflect.Array:
		content = arrayDecoder(t)
	case reflect.Map:
		content = mapDecoder(t)
	case reflect.Struct:
		if t == timeType {
			content = decodeTime
		} else {
			content = structDecoder(t)
		}
	default:
		content = func(d *decodeState, v reflect.Value) error {
			return d.typeError(v.Type(), "unsupported Go type")
		}
	}
	return &typeDecoders{whole: whole(content), content: content}
}

func decodeString(d *decodeState, v reflect.Value) error {
	switch d.kind {
	case kindNil:
		v.SetString("")
		return nil
	case kindString:
		s, err := d.stringValue()
		v.SetString(s)
		return err
	}
	return d.typeError(v.Type(), "")
}

func decodeBool(d *decodeState, v reflect.Value) error {
	switch d.kind {
	case kindNil:
		v.SetBool(false)
		return nil
	case kindBool:
		b, err := d.boolValue()
		v.SetBool(b)
		return err
	}
	return d.typeError(v.Type(), "")
}

func decodeInt(d *decodeState, v reflect.Value) error {
	switch d.kind {
	case kindNil:
		v.SetInt(0)
		return nil
	case kindInt:
		n, err := d.intValue()
		if err != nil {
			return err
		}
		if v.OverflowInt(n) {
			return d.typeError(v.Type(), fmt.Sprintf("%d overflows it", n))
		}
		v.SetInt(n)
		return nil
	}
	return d.typeError(v.Type(), "")
}

func decodeUint(d *decodeState, v reflect.Value) error {
	switch d.kind {
	case kindNil:
		v.SetUint(0)
		return nil
	case kindInt:
		n, err := d.intValue()
		if err != nil {
			return err
		}
		if n < 0 || v.OverflowUint(uint64(n)) {
			return d.typeError(v.Type(), fmt.Sprintf("%d overflows it", n))
		}
		v.SetUint(uint64(n))
		return nil
	}
	return d.typeError(v.Type(), "")
}

func decodeFloat(d *decodeState, v reflect.Value) error {
	var f float64
	var err error
	switch d.kind {
	case kindNil:
	case kindDouble:
		f, err = d.floatValue()
	case kindInt:
		var n int64
		n, err = d.intValue()
		f = float64(n)
	default:
		return d.typeError(v.Type(), "")
	}
	if err != nil {
		return err
	}
	if v.OverflowFloat(f) {
		return d.typeError(v.Type(), fmt.Sprintf("%g overflows it", f))
	}
	v.SetFloat(f)
	return nil
}

func decodeBytes(d *decodeState, v reflect.Value) error {
	switch d.kind {
	case kindNil:
		v.SetZero()
		return nil
	case kindBase64:
		b, err := d.bytesValue()
		v.SetBytes(b)
		return err
	}
	return d.typeError(v.Type(), "")
}

func decodeTime(d *decodeState, v reflect.Value) error {
	switch d.kind {
	case kindNil:
		v.SetZero()
		return nil
	case kindDateTime, kindString:
		t, err := d.timeValue()
		v.Set(reflect.ValueOf(t))
		return err
	}
	return d.typeError(v.Type(), "")
}

func decodeInterface(d *decodeState, v reflect.Value) error {
	if d.kind == kindNil {
		v.SetZero()
		return nil
	}
	if v.NumMethod() > 0 {
		// A non-empty interface holding a pointer decodes into what it points to.
		if !v.IsNil() && v.Elem().Kind() == reflect.Pointer && !v.Elem().IsNil() {
			if pt := v.Elem().Type(); !capturesRaw(pt) {
				return decodersFor(pt).content(d, v.Elem())
			}
		}
		return d.typeError(v.Type(), "")
	}
	x, err := d.anyContent()
	if err != nil {
		return err
	}
	v.Set(reflect.ValueOf(&x).Elem())
	return nil
}

func pointerDecoders(t reflect.Type) *typeDecoders {
	if capturesRaw(t.Elem()) {
		// The element decodes itself from raw XML: capture first, then a
		// <nil/> leaves the pointer nil.
		return &typeDecoders{whole: func(d *decodeState, v reflect.Value) error {
			raw, err := d.captureValue()
			if err != nil {
				return err
			}
			if raw.IsNil() {
				v.SetZero()
				return nil
			}
			if v.IsNil() {
				v.Set(reflect.New(t.Elem()))
			}
			return raw.Decode(v.Interface())
		}}
	}
	elem := decodersFor(t.Elem())
	content := func(d *decodeState, v reflect.Value) error {
		if d.kind == kindNil {
			v.SetZero()
			return nil
		}
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		return elem.content(d, v.Elem())
	}
	return &typeDecoders{whole: whole(content), content: content}
}

// openContainer does what every array and struct decoder does first: a
// <nil/> sets v to its zero value, a kind other than want is a TypeError,
// and the nesting depth is checked. It reports whether to go on; a caller
// that goes on calls d.leave when done.
func (d *decodeState) openContainer(v reflect.Value, want valueKind) (bool, error) {
	switch d.kind {
	case kindNil:
		v.SetZero()
		return false, nil
	case want:
		err := d.enter()
		return err == nil, err
	}
	return false, d.typeError(v.Type(), "")
}

func sliceDecoder(t reflect.Type) decoderFunc {
	var elem *typeDecoders
	var once sync.Once
	return func(d *decodeState, v reflect.Value) error {
		if ok, err := d.openContainer(v, kindArray); !ok {
			return err
		}
		defer d.leave()
		once.Do(func() { elem = decodersFor(t.Elem()) })
		if v.IsNil() {
			v.Set(reflect.MakeSlice(t, 0, 0))
		} else {
			v.SetLen(0)
		}
		return d.elements(func(n int) error {
			if n == v.Cap() {
				grown := reflect.MakeSlice(t, n+1, max(4, 2*n))
				reflect.Copy(grown, v)
				v.Set(grown)
			} else {
				v.SetLen(n + 1)
				v.Index(n).SetZero()
			}
			return elem.whole(d, v.Index(n))
		})
	}
}

func arrayDecoder(t reflect.Type) decoderFunc {
	var elem *typeDecoders
	var once sync.Once
	return func(d *decodeState, v reflect.Value) error {
		if ok, err := d.openContainer(v, kindArray); !ok {
			return err
		}
		defer d.leave()
		once.Do(func() { elem = decodersFor(t.Elem()) })
		v.SetZero()
		return d.elements(func(n int) error {
			if n == v.Len() {
				return &TypeError{Value: "array", Type: t, Offset: d.s.offset(), Detail: fmt.Sprintf("more than %d elements", v.Len())}
			}
			return elem.whole(d, v.Index(n))
		})
	}
}

func mapDecoder(t reflect.Type) decoderFunc {
	if t.Key().Kind() != reflect.String {
		return func(d *decodeState, v reflect.Value) error {
			return d.typeError(t, "map keys must be strings")
		}
	}
	var elem *typeDecoders
	var once sync.Once
	return func(d *decodeState, v reflect.Value) error {
		if ok, err := d.openContainer(v, kindStruct); !ok {
			return err
		}
		defer d.leave()
		once.Do(func() { elem = decodersFor(t.Elem()) })
		if v.IsNil() {
			v.Set(reflect.MakeMap(t))
		}
		return d.members(func(name []byte) error {
			key := reflect.ValueOf(string(name)).Convert(t.Key())
			ev := reflect.New(t.Elem()).Elem()
			if err := elem.whole(d, ev); err != nil {
				return prefixPath(err, key.String())
			}
			v.SetMapIndex(key, ev)
			return nil
		})
	}
}

func structDecoder(t reflect.Type) decoderFunc {
	fields := cachedFields(t)
	var decoders []*typeDecoders // by position in fields.list
	var once sync.Once
	// Peers write members in the same order for every struct of a kind, so
	// the member that followed the previous one last time is tried before
	// the map. after[0] predicts the first member, after[i+1] the one after
	// field i; each holds a field position plus one, 0 for no guess.
	after := make([]atomic.Int32, len(fields.list)+1)
	return func(d *decodeState, v reflect.Value) error {
		if ok, err := d.openContainer(v, kindStruct); !ok {
			return err
		}
		defer d.leave()
		once.Do(func() {
			decoders = make([]*typeDecoders, len(fields.list))
			for i, f := range fields.list {
				decoders[i] = decodersFor(f.typ)
			}
		})
		v.SetZero()
		prev := 0
		return d.members(func(name []byte) error {
			i := int(after[prev].Load()) - 1
			if i < 0 || fields.list[i].name != string(name) {
				var known bool
				if i, known = fields.byName[string(name)]; !known {
					return d.skipValue()
				}
				after[prev].Store(int32(i + 1))
			}
			prev = i + 1
			return prefixPath(decoders[i].whole(d, fieldOf(v, &fields.list[i])), fields.list[i].name)
		})
	}
}
