package xmlrpc

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Scalar parsing shared by the typed and generic decoders.

func (d *decodeState) intValue() (int64, error) {
	text, err := d.scalarText()
	if err != nil {
		return 0, err
	}
	n, ok := parseInt(text)
	if !ok {
		return 0, d.typeError(int64Type, fmt.Sprintf("invalid integer %q", truncate(text, 32)))
	}
	return n, d.endScalar()
}

// parseInt parses a decimal integer with optional sign and surrounding
// white space, as Python's int() does for what XML-RPC peers send.
func parseInt(b []byte) (int64, bool) {
	b = trimSpace(b)
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (math.MaxUint64-9)/10 {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if neg {
		if n > 1<<63 {
			return 0, false
		}
		return -int64(n), true
	}
	if n > math.MaxInt64 {
		return 0, false
	}
	return int64(n), true
}

func (d *decodeState) floatValue() (float64, error) {
	text, err := d.scalarText()
	if err != nil {
		return 0, err
	}
	f, perr := strconv.ParseFloat(string(trimSpace(text)), 64)
	if perr != nil && !isRangeError(perr) {
		return 0, d.typeError(float64Type, fmt.Sprintf("invalid number %q", truncate(text, 32)))
	}
	return f, d.endScalar()
}

func isRangeError(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

func (d *decodeState) boolValue() (bool, error) {
	text, err := d.scalarText()
	if err != nil {
		return false, err
	}
	var b bool
	switch string(trimSpace(text)) {
	case "1":
		b = true
	case "0":
	default:
		return false, d.typeError(boolType, fmt.Sprintf("invalid boolean %q", truncate(text, 32)))
	}
	return b, d.endScalar()
}

func (d *decodeState) bytesValue() ([]byte, error) {
	text, err := d.scalarText()
	if err != nil {
		return nil, err
	}
	b, derr := decodeBase64(text)
	if derr != nil {
		return nil, d.typeError(bytesType, "invalid base64: "+derr.Error())
	}
	return b, d.endScalar()
}

// decodeBase64 decodes standard base64, ignoring white space (Python
// wraps lines) and accepting a missing final padding.
func decodeBase64(text []byte) ([]byte, error) {
	clean := make([]byte, 0, len(text))
	for _, c := range text {
		if !isSpace(c) {
			clean = append(clean, c)
		}
	}
	enc := base64.StdEncoding
	if len(clean)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	out := make([]byte, enc.DecodedLen(len(clean)))
	n, err := enc.Decode(out, clean)
	return out[:n], err
}

func (d *decodeState) timeValue() (time.Time, error) {
	text, err := d.scalarText()
	if err != nil {
		return time.Time{}, err
	}
	var t time.Time
	var ok bool
	if d.kind == kindDateTime {
		t, ok = parseDateTime(text)
	} else {
		t, ok = parseISOTime(text)
	}
	if !ok {
		return t, d.typeError(timeType, fmt.Sprintf("invalid time %q", truncate(text, 40)))
	}
	return t, d.endScalar()
}

// dateTime.iso8601 as Python writes it (20060102T15:04:05, no zone, taken
// as UTC) and the extended and zoned forms other peers write.
var dateTimeLayouts = []string{
	"20060102T15:04:05",
	"20060102T15:04:05Z07:00",
	"20060102T150405",
	"20060102T150405Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04:05Z07:00",
}

func parseDateTime(text []byte) (time.Time, bool) {
	return parseTime(text, dateTimeLayouts)
}

// parseTime tries each layout and keeps times whose year, in UTC, Python's
// datetime can hold (1 to 9999), so whatever decodes also encodes.
func parseTime(text []byte, layouts []string) (time.Time, bool) {
	s := string(trimSpace(text))
	for _, layout := range layouts {
		if t, err := time.Parse(layout, s); err == nil {
			y := t.UTC().Year()
			return t, y >= 1 && y <= 9999
		}
	}
	return time.Time{}, false
}

// Koji's hub sends database timestamps as strings in Python's isoformat(' ')
// ("2026-11-22 01:40:46.922628+00:00"); a time.Time field accepts those.
var isoLayouts = []string{
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02",
}

func parseISOTime(text []byte) (time.Time, bool) {
	if t, ok := parseTime(text, isoLayouts); ok {
		return t, true
	}
	return parseDateTime(text)
}

func (d *decodeState) stringValue() (string, error) {
	text, err := d.scalarText()
	if err != nil {
		return "", err
	}
	str := string(text)
	return str, d.endScalar()
}

// Generic decoding into any.

// anyValue decodes a whole value as: nil; bool; int64 for every integer
// type; float64; string; []byte for base64; time.Time (UTC unless the text
// carries a zone) for dateTime.iso8601; []any; map[string]any.
func (d *decodeState) anyValue() (any, error) {
	if err := d.openValue(); err != nil {
		return nil, err
	}
	empty := d.emptyValue
	v, err := d.anyContent()
	if err != nil {
		return nil, err
	}
	return v, d.closeValue(empty)
}

func (d *decodeState) anyContent() (any, error) {
	switch d.kind {
	case kindNil:
		return nil, nil
	case kindString:
		return d.stringValue()
	case kindInt:
		return d.intValue()
	case kindBool:
		return d.boolValue()
	case kindDouble:
		return d.floatValue()
	case kindBase64:
		return d.bytesValue()
	case kindDateTime:
		return d.timeValue()
	case kindArray:
		return d.anySlice()
	default:
		return d.anyMap()
	}
}

func (d *decodeState) anySlice() ([]any, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	defer d.leave()
	list := []any{}
	err := d.elements(func(int) error {
		v, err := d.anyValue()
		list = append(list, v)
		return err
	})
	return list, err
}

func (d *decodeState) anyMap() (map[string]any, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	defer d.leave()
	m := map[string]any{}
	err := d.members(func(name []byte) error {
		key := string(name)
		v, err := d.anyValue()
		m[key] = v
		return prefixPath(err, key)
	})
	return m, err
}
