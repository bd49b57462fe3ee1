package xmlrpc

import "io"

// A Decoder reads one XML-RPC document, a method call or a method response,
// from an input stream. It decodes straight from the bytes into the values
// it is given, without building a tree, and buffers only what the value
// under the cursor needs.
type Decoder struct {
	d      decodeState
	r      io.Reader
	data   []byte
	limits Limits
	used   bool
}

// NewDecoder returns a decoder reading from r with DefaultLimits.
func NewDecoder(r io.Reader) *Decoder { return &Decoder{r: r} }

// newBytesDecoder decodes a complete document held in memory, in place.
func newBytesDecoder(data []byte) *Decoder { return &Decoder{data: data} }

// SetLimits replaces the decoder's limits; zero fields take the defaults.
// Call it before decoding.
func (dec *Decoder) SetLimits(l Limits) { dec.limits = l }

var errDecoderUsed = &SyntaxError{Msg: "a Decoder reads one document"}

// start reads the prolog and the root element's start tag.
func (dec *Decoder) start(root string) error {
	if dec.used {
		return errDecoderUsed
	}
	dec.used = true
	dec.d.init(dec.r, dec.data, dec.limits)
	if err := dec.d.s.prolog(); err != nil {
		return err
	}
	return dec.d.s.expectTag(tagStart, root)
}

// end reads the closing tags given and checks that nothing follows.
func (dec *Decoder) end(tags ...string) error {
	for _, tag := range tags {
		if err := dec.d.s.expectTag(tagEnd, tag); err != nil {
			return err
		}
	}
	return dec.d.s.atEOF()
}

// DecodeResponse reads a method response and decodes its value into v,
// which must be a non-nil pointer; the package documentation says how each
// XML-RPC type lands in each Go type, and in an any. A fault response is
// returned as a *Fault error.
func (dec *Decoder) DecodeResponse(v any) error {
	fault, err := dec.openResponse()
	if err != nil || fault {
		return err
	}
	if err := decodeInto(&dec.d, v); err != nil {
		return err
	}
	return dec.end("param", "params", "methodResponse")
}

// openResponse reads up to the response's <value>, or reads a fault whole
// and returns it as the error.
func (dec *Decoder) openResponse() (fault bool, err error) {
	if err := dec.start("methodResponse"); err != nil {
		return false, err
	}
	s := &dec.d.s
	k, name, err := s.nextTag()
	if err != nil {
		return false, err
	}
	switch {
	case k == tagStart && string(name) == "params":
		return false, s.expectTag(tagStart, "param")
	case k == tagStart && string(name) == "fault":
		var f faultStruct
		if err := decodeInto(&dec.d, &f); err != nil {
			return true, err
		}
		if err := dec.end("fault", "methodResponse"); err != nil {
			return true, err
		}
		return true, f.fault()
	}
	return false, s.syntaxError("expected <params> or <fault>, found %s tag <%s>", k, name)
}

// faultStruct reads a fault leniently: Python accepts any type of
// faultCode, and so do we, keeping an integral one.
type faultStruct struct {
	Code      any      `xmlrpc:"faultCode"`
	String    any      `xmlrpc:"faultString"`
	Traceback []string `xmlrpc:"traceback"`
}

func (f *faultStruct) fault() *Fault {
	out := &Fault{Traceback: f.Traceback}
	switch c := f.Code.(type) {
	case int64:
		if int64(int(c)) == c {
			out.Code = int(c)
		}
	case float64:
		out.Code = int(c)
	}
	if s, ok := f.String.(string); ok {
		out.String = s
	}
	return out
}

// A Call is a decoded method call. Params are kept as RawValues so that a
// server decodes each into its handler's argument type. Keyword arguments
// sent Koji's way, as a trailing struct whose member __starstar is true, are
// split off into Kwargs.
type Call struct {
	Method string
	Params []RawValue
	Kwargs map[string]RawValue // nil when the call had none
}

// DecodeCall reads a method call.
func (dec *Decoder) DecodeCall() (*Call, error) {
	if err := dec.start("methodCall"); err != nil {
		return nil, err
	}
	s := &dec.d.s
	if err := s.expectTag(tagStart, "methodName"); err != nil {
		return nil, err
	}
	name, err := s.text()
	if err != nil {
		return nil, err
	}
	call := &Call{Method: string(name)}
	if call.Method == "" {
		return nil, s.syntaxError("empty method name")
	}
	if err := s.expectTag(tagEnd, "methodName"); err != nil {
		return nil, err
	}
	k, tag, err := s.nextTag()
	if err != nil {
		return nil, err
	}
	switch {
	case k == tagEnd && string(tag) == "methodCall": // no <params>, as some peers send
		return call, s.atEOF()
	case k == tagEmpty && string(tag) == "params":
		return call, dec.end("methodCall")
	case k != tagStart || string(tag) != "params":
		return nil, s.syntaxError("expected <params>, found %s tag <%s>", k, tag)
	}
	for {
		k, tag, err := s.nextTag()
		if err != nil {
			return nil, err
		}
		if k == tagEnd && string(tag) == "params" {
			break
		}
		if k != tagStart || string(tag) != "param" {
			return nil, s.syntaxError("expected <param>, found %s tag <%s>", k, tag)
		}
		raw, err := dec.d.captureValue()
		if err != nil {
			return nil, err
		}
		call.Params = append(call.Params, raw)
		if err := s.expectTag(tagEnd, "param"); err != nil {
			return nil, err
		}
	}
	if err := dec.end("methodCall"); err != nil {
		return nil, err
	}
	call.Params, call.Kwargs, err = SplitKwargs(call.Params)
	return call, err
}

// SplitKwargs separates Koji's keyword arguments from positional ones: when
// the last parameter is a struct whose __starstar member is true (in
// Python's sense), its other members are the keyword arguments. Koji's hub
// does this for every call, including each call in a multicall.
func SplitKwargs(params []RawValue) ([]RawValue, map[string]RawValue, error) {
	if len(params) == 0 {
		return params, nil, nil
	}
	last := params[len(params)-1]
	var members map[string]RawValue
	if err := last.Decode(&members); err != nil {
		if _, ok := err.(*TypeError); ok { // not a struct: positional
			return params, nil, nil
		}
		return nil, nil, err
	}
	flag, ok := members[kwargsMarker]
	if !ok {
		return params, nil, nil
	}
	var v any
	if err := flag.Decode(&v); err != nil {
		return nil, nil, err
	}
	if !Truthy(v) {
		return params, nil, nil
	}
	delete(members, kwargsMarker)
	return params[:len(params)-1], members, nil
}

const kwargsMarker = "__starstar"

// Truthy applies Python's truth test to a value decoded into an any (and
// to an int): what Koji's Python code means by "if value:". nil, false,
// zero, and empty strings, byte slices, arrays and structs are false.
func Truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case int:
		return x != 0
	case float64:
		return x != 0
	case string:
		return x != ""
	case []byte:
		return len(x) > 0
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

// DecodeResponse decodes a method response held in memory; see
// Decoder.DecodeResponse.
func DecodeResponse(data []byte, v any) error { return newBytesDecoder(data).DecodeResponse(v) }

// DecodeCall decodes a method call held in memory; see Decoder.DecodeCall.
func DecodeCall(data []byte) (*Call, error) { return newBytesDecoder(data).DecodeCall() }
