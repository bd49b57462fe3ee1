package xmlrpc

import (
	"bytes"
	"io"
	"reflect"
)

// Limits bound what a Decoder accepts, so that no input can make it use
// memory or stack without bound.
type Limits struct {
	// MaxBytes is the largest document accepted, in bytes (after Latin-1
	// is transcoded). Zero means DefaultLimits.MaxBytes.
	MaxBytes int64
	// MaxDepth is the deepest nesting of arrays and structs accepted.
	// Zero means DefaultLimits.MaxDepth.
	MaxDepth int
}

// DefaultLimits suit a client reading a Koji hub: listTagged on a large
// distribution tag answers with tens of megabytes. A server reading requests
// should set MaxBytes lower; Koji's hub accepts 4 MiB (MaxRequestLength).
var DefaultLimits = Limits{MaxBytes: 1 << 30, MaxDepth: 100}

func (l Limits) orDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultLimits.MaxDepth
	}
	return l
}

// valueKind is the XML-RPC type of the value being decoded.
type valueKind uint8

const (
	kindNil valueKind = iota + 1
	kindBool
	kindInt
	kindDouble
	kindString
	kindBase64
	kindDateTime
	kindArray
	kindStruct
)

// decodeState holds the decoder's position and what openValue learnt about
// the value under the cursor.
type decodeState struct {
	s        scanner
	depth    int
	maxDepth int

	kind       valueKind
	tag        string // the type tag as written ("i4", "string"), "" for bare text
	emptyTag   bool   // the type tag was self-closing: <string/>
	emptyValue bool   // the value itself was self-closing: <value/>
	bare       []byte // the text of a value without a type tag
	valueAt    int64  // offset of the value, for errors

	name []byte // member name copied out of the scanner buffer when needed
}

func (d *decodeState) init(r io.Reader, data []byte, l Limits) {
	l = l.orDefaults()
	d.maxDepth = l.MaxDepth
	d.s.maxBytes = l.MaxBytes
	if r == nil {
		d.s.buf = data
		if int64(len(data)) > l.MaxBytes {
			d.s.rerr = &LimitError{What: "document size", Limit: l.MaxBytes, Err: ErrTooLarge}
			d.s.buf = nil
		}
		return
	}
	d.s.r = r
	d.s.buf = make([]byte, 0, initialBufferSize)
}

// openValue reads <value> and the type tag after it (or the bare text that
// stands for a string), and records the kind.
func (d *decodeState) openValue() error {
	s := &d.s
	k := tagStart
	if !s.skipLiteral("<value>") {
		var name []byte
		var err error
		if k, name, err = s.nextTag(); err != nil {
			return err
		}
		if k == tagEnd || string(name) != "value" {
			return s.syntaxError("expected <value>, found %s tag <%s>", k, name)
		}
	}
	d.valueAt = s.offset()
	if k == tagEmpty {
		d.kind, d.tag, d.bare, d.emptyValue = kindString, "", nil, true
		return nil
	}
	d.emptyValue = false
	if s.pos+1 < len(s.buf) && s.buf[s.pos] == '<' {
		if c := s.buf[s.pos+1]; c != '/' && c != '!' && c != '?' {
			return d.typeTag()
		}
	}
	text, err := s.text()
	if err != nil {
		return err
	}
	if s.buf[s.pos+1] == '/' { // </value>: the text is the string
		d.kind, d.tag, d.bare = kindString, "", text
		return nil
	}
	if len(trimSpace(text)) > 0 {
		return s.syntaxError("text %q before a type tag", truncate(text, 16))
	}
	return d.typeTag()
}

func (d *decodeState) typeTag() error {
	s := &d.s
	k, name, err := s.nextTag()
	if err != nil {
		return err
	}
	if k == tagEnd {
		return s.syntaxError("expected a type tag, found </%s>", name)
	}
	d.emptyTag = k == tagEmpty
	switch string(name) {
	case "string":
		d.kind, d.tag = kindString, "string"
	case "int":
		d.kind, d.tag = kindInt, "int"
	case "i4":
		d.kind, d.tag = kindInt, "i4"
	case "i8":
		d.kind, d.tag = kindInt, "i8"
	case "boolean":
		d.kind, d.tag = kindBool, "boolean"
	case "double":
		d.kind, d.tag = kindDouble, "double"
	case "nil":
		d.kind, d.tag = kindNil, "nil"
		if !d.emptyTag {
			d.emptyTag = true
			return s.expectTag(tagEnd, "nil")
		}
	case "struct":
		d.kind, d.tag = kindStruct, "struct"
	case "array":
		d.kind, d.tag = kindArray, "array"
	case "base64":
		d.kind, d.tag = kindBase64, "base64"
	case "dateTime.iso8601":
		d.kind, d.tag = kindDateTime, "dateTime.iso8601"
	case "i1":
		d.kind, d.tag = kindInt, "i1"
	case "i2":
		d.kind, d.tag = kindInt, "i2"
	case "biginteger":
		d.kind, d.tag = kindInt, "biginteger"
	case "float":
		d.kind, d.tag = kindDouble, "float"
	case "bigdecimal":
		d.kind, d.tag = kindDouble, "bigdecimal"
	default:
		return s.syntaxError("unknown value type <%s>", name)
	}
	return nil
}

// closeValue reads </value>. Callers pass the emptyValue that openValue
// set, saved before any nested value overwrote it.
func (d *decodeState) closeValue(empty bool) error {
	if empty {
		return nil
	}
	s := &d.s
	if s.skipLiteral("</value>") {
		return nil
	}
	return s.expectTag(tagEnd, "value")
}

// scalarText returns the content of a scalar value: valid until the next
// scanner call, so callers convert it before calling endScalar.
func (d *decodeState) scalarText() ([]byte, error) {
	switch {
	case d.tag == "":
		return d.bare, nil
	case d.emptyTag:
		return nil, nil
	}
	return d.s.text()
}

// endScalar reads the end tag matching a scalar's type tag.
func (d *decodeState) endScalar() error {
	if d.tag == "" || d.emptyTag {
		return nil
	}
	s := &d.s
	rest := s.buf[s.pos:]
	if n := len(d.tag); len(rest) >= n+3 && rest[0] == '<' && rest[1] == '/' && string(rest[2:2+n]) == d.tag && rest[2+n] == '>' {
		s.pos += n + 3
		return nil
	}
	return s.expectTag(tagEnd, d.tag)
}

func (d *decodeState) enter() error {
	d.depth++
	if d.depth > d.maxDepth {
		return &LimitError{What: "nesting depth", Limit: int64(d.maxDepth), Err: ErrTooDeep}
	}
	return nil
}

func (d *decodeState) leave() { d.depth-- }

func (d *decodeState) typeError(t reflect.Type, detail string) error {
	tag := d.tag
	if tag == "" {
		tag = "string"
	}
	return &TypeError{Value: tag, Type: t, Offset: d.valueAt, Detail: detail}
}

// openArray reads what follows <array> up to the first element, and
// reports whether the array is empty (and fully read).
func (d *decodeState) openArray() (done bool, err error) {
	if d.emptyTag {
		return true, nil
	}
	k, name, err := d.s.nextTag()
	if err != nil {
		return false, err
	}
	switch {
	case k == tagStart && string(name) == "data":
		return false, nil
	case k == tagEmpty && string(name) == "data":
		return true, d.s.expectTag(tagEnd, "array")
	case k == tagEnd && string(name) == "array": // <array></array>, as Python accepts
		return true, nil
	}
	return false, d.s.syntaxError("expected <data>, found %s tag <%s>", k, name)
}

// nextElement reports whether another array element follows; at the end it
// reads </data></array>.
func (d *decodeState) nextElement() (bool, error) {
	end, err := d.s.atEndTag()
	if err != nil || !end {
		return !end, err
	}
	if err := d.s.expectTag(tagEnd, "data"); err != nil {
		return false, err
	}
	return false, d.s.expectTag(tagEnd, "array")
}

// elements calls fn for each element of the array under the cursor, with
// the cursor on the element's <value>, and puts the element's index in the
// path of fn's errors.
func (d *decodeState) elements(fn func(n int) error) error {
	done, err := d.openArray()
	for n := 0; err == nil && !done; n++ {
		var more bool
		if more, err = d.nextElement(); err != nil || !more {
			break
		}
		if err = fn(n); err != nil {
			err = prefixPath(err, indexPath(n))
		}
	}
	return err
}

// members calls fn for each member of the struct under the cursor, with
// the member's name (valid until fn reads on) and the cursor on its <value>.
func (d *decodeState) members(fn func(name []byte) error) error {
	if d.emptyTag {
		return nil
	}
	for {
		name, ok, err := d.nextMember()
		if err != nil || !ok {
			return err
		}
		if err := fn(name); err != nil {
			return err
		}
		if err := d.endMember(); err != nil {
			return err
		}
	}
}

// nextMember reads a struct member's <member><name>…</name> and returns the
// name, valid until the next scanner call, or ok false at </struct>.
func (d *decodeState) nextMember() (name []byte, ok bool, err error) {
	s := &d.s
	if !s.skipLiteral("<member>") {
		k, tag, err := s.nextTag()
		if err != nil {
			return nil, false, err
		}
		if k == tagEnd && string(tag) == "struct" {
			return nil, false, nil
		}
		if k != tagStart || string(tag) != "member" {
			return nil, false, s.syntaxError("expected <member>, found %s tag <%s>", k, tag)
		}
	}
	if s.skipLiteral("<name>") {
		return d.memberName()
	}
	k, tag, err := s.nextTag()
	if err != nil {
		return nil, false, err
	}
	if string(tag) != "name" || k == tagEnd {
		return nil, false, s.syntaxError("expected <name>, found %s tag <%s>", k, tag)
	}
	if k == tagEmpty {
		return nil, true, nil
	}
	return d.memberName()
}

// memberName reads a member's name after <name>, and </name>.
func (d *decodeState) memberName() ([]byte, bool, error) {
	s := &d.s
	text, err := s.text()
	if err != nil {
		return nil, false, err
	}
	if bytes.HasPrefix(s.buf[s.pos:], []byte("</name>")) {
		s.pos += len("</name>")
		return text, true, nil
	}
	d.name = append(d.name[:0], text...) // the end tag may refill the buffer
	return d.name, true, s.expectTag(tagEnd, "name")
}

func (d *decodeState) endMember() error {
	s := &d.s
	if s.skipLiteral("</member>") {
		return nil
	}
	return s.expectTag(tagEnd, "member")
}

// skipValue reads a whole value without storing it.
func (d *decodeState) skipValue() error {
	if err := d.openValue(); err != nil {
		return err
	}
	empty := d.emptyValue
	if err := d.skipContent(); err != nil {
		return err
	}
	return d.closeValue(empty)
}

func (d *decodeState) skipContent() error {
	switch d.kind {
	case kindNil:
		return nil
	case kindArray, kindStruct:
		if err := d.enter(); err != nil {
			return err
		}
		defer d.leave()
		if d.kind == kindArray {
			return d.elements(func(int) error { return d.skipValue() })
		}
		return d.members(func([]byte) error { return d.skipValue() })
	}
	// Scalars: check the content is well-formed text.
	if _, err := d.scalarText(); err != nil {
		return err
	}
	return d.endScalar()
}

// captureValue reads a whole value and returns its bytes.
func (d *decodeState) captureValue() (RawValue, error) {
	s := &d.s
	if end, err := s.atEndTag(); err != nil {
		return nil, err
	} else if end {
		return nil, s.syntaxError("expected <value>, found end tag %q", s.preview())
	}
	s.capturing, s.capStart, s.captured = true, s.pos, s.captured[:0]
	err := d.skipValue()
	raw := make(RawValue, 0, len(s.captured)+s.pos-s.capStart)
	raw = append(append(raw, s.captured...), s.buf[s.capStart:s.pos]...)
	s.capturing = false
	return raw, err
}
