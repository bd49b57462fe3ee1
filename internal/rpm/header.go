package rpm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// headerMagic starts every header structure (signature and main header).
var headerMagic = []byte{0x8e, 0xad, 0xe8, 0x01}

// Limits rpm itself enforces on a header (header_internal.h), so a
// corrupt count cannot make the reader allocate more than rpm would.
const (
	maxHeaderTags = 0xffff     // HEADER_TAGS_MAX
	maxHeaderData = 0x0fffffff // HEADER_DATA_MAX
)

// Header is a parsed RPM header: every entry, as tag and typed value, in
// the order of the file's index.
type Header struct {
	entries []entry
	index   map[int]int // tag → position in entries
}

// entry is one header entry. val is []byte for CHAR and BIN, []int64 for
// the integer types, string for STRING and []string for STRING_ARRAY and
// I18NSTRING.
type entry struct {
	tag int
	typ TagType
	val any
	off int64 // file offset of the index entry, for errors about it
}

// Tags lists the header's tags in file order.
func (h *Header) Tags() []int {
	tags := make([]int, len(h.entries))
	for i, e := range h.entries {
		tags[i] = e.tag
	}
	return tags
}

// Type returns the data type of tag's entry.
func (h *Header) Type(tag int) (TagType, bool) {
	e := h.get(tag)
	if e == nil {
		return 0, false
	}
	return e.typ, true
}

func (h *Header) get(tag int) *entry {
	if h == nil {
		return nil
	}
	i, ok := h.index[tag]
	if !ok {
		return nil
	}
	return &h.entries[i]
}

// String returns a STRING entry, or the first (untranslated) value of an
// I18NSTRING entry.
func (h *Header) String(tag int) (string, bool) {
	e := h.get(tag)
	if e == nil {
		return "", false
	}
	switch v := e.val.(type) {
	case string:
		return v, true
	case []string:
		if e.typ == TypeI18NString && len(v) > 0 {
			return v[0], true
		}
	}
	return "", false
}

// Strings returns a STRING_ARRAY or I18NSTRING entry.
func (h *Header) Strings(tag int) ([]string, bool) { return value[[]string](h, tag) }

// Ints returns an INT8, INT16, INT32 or INT64 entry. INT32 and smaller
// are unsigned in rpm and are returned as such.
func (h *Header) Ints(tag int) ([]int64, bool) { return value[[]int64](h, tag) }

// Bytes returns a BIN (or CHAR) entry.
func (h *Header) Bytes(tag int) ([]byte, bool) { return value[[]byte](h, tag) }

// value returns tag's value if it is held as a T.
func value[T any](h *Header, tag int) (T, bool) {
	var v T
	e := h.get(tag)
	if e == nil {
		return v, false
	}
	v, ok := e.val.(T)
	return v, ok
}

// FormatError reports malformed RPM data at a byte offset of the file.
type FormatError struct {
	Offset int64  // where in the file the problem is
	What   string // what is wrong there
	Err    error  // underlying cause, e.g. io.ErrUnexpectedEOF; may be nil
}

// Error describes the problem and where it is.
func (e *FormatError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("rpm: offset %d: %s: %v", e.Offset, e.What, e.Err)
	}
	return fmt.Sprintf("rpm: offset %d: %s", e.Offset, e.What)
}

// Unwrap returns the underlying cause.
func (e *FormatError) Unwrap() error { return e.Err }

func formatErr(off int64, format string, args ...any) error {
	return &FormatError{Offset: off, What: fmt.Sprintf(format, args...)}
}

// readFull reads n bytes, growing the buffer only as data arrives so a
// length read from a corrupt file cannot allocate more than the file holds.
func readFull(r io.Reader, n int64, off int64, what string) ([]byte, error) {
	var buf bytes.Buffer
	if n <= 1<<16 {
		buf.Grow(int(n))
	}
	got, err := io.Copy(&buf, io.LimitReader(r, n))
	if err == nil && got < n {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return nil, &FormatError{Offset: off + got, What: "reading " + what, Err: err}
	}
	return buf.Bytes(), nil
}

// readHeader reads a header structure at file offset off. It returns the
// header and the raw bytes it was parsed from (magic through data store),
// which the signature digests cover.
func readHeader(r io.Reader, off int64, what string) (*Header, []byte, error) {
	intro, err := readFull(r, 16, off, what+" header")
	if err != nil {
		return nil, nil, err
	}
	if !bytes.Equal(intro[:4], headerMagic) {
		return nil, nil, formatErr(off, "%s header: bad magic %x", what, intro[:4])
	}
	il := int64(binary.BigEndian.Uint32(intro[8:]))
	dl := int64(binary.BigEndian.Uint32(intro[12:]))
	if il < 1 || il > maxHeaderTags {
		return nil, nil, formatErr(off+8, "%s header: %d index entries", what, il)
	}
	if dl > maxHeaderData {
		return nil, nil, formatErr(off+12, "%s header: %d bytes of data", what, dl)
	}
	body, err := readFull(r, il*16+dl, off+16, what+" header")
	if err != nil {
		return nil, nil, err
	}
	h, err := parseHeader(body[:il*16], body[il*16:], off+16)
	if err != nil {
		return nil, nil, err
	}
	return h, append(intro, body...), nil
}

// parseHeader decodes the index entries of index (16 bytes each) against
// the data store, both located at file offset off.
func parseHeader(index, data []byte, off int64) (*Header, error) {
	n := len(index) / 16
	dataOff := off + int64(len(index))
	dl := int64(len(data))
	h := &Header{entries: make([]entry, 0, n), index: make(map[int]int, n)}
	for i := 0; i < n; i++ {
		ie := index[i*16:]
		eoff := off + int64(i*16)
		tag := int(binary.BigEndian.Uint32(ie))
		typ := TagType(binary.BigEndian.Uint32(ie[4:]))
		start := int64(int32(binary.BigEndian.Uint32(ie[8:])))
		count := int64(binary.BigEndian.Uint32(ie[12:]))
		if _, dup := h.index[tag]; dup {
			return nil, formatErr(eoff, "tag %d appears twice", tag)
		}
		if typ == TypeNull || typ > TypeI18NString {
			return nil, formatErr(eoff, "tag %d has unknown type %d", tag, typ)
		}
		if start < 0 || start >= dl {
			return nil, formatErr(eoff, "tag %d: data offset %d outside the %d-byte data store", tag, start, dl)
		}
		if count < 1 || count > dl-start {
			return nil, formatErr(eoff, "tag %d: count %d does not fit in the data store", tag, count)
		}
		val, err := decodeValue(typ, data[start:], count)
		if err != nil {
			return nil, &FormatError{Offset: dataOff + start, What: fmt.Sprintf("tag %d", tag), Err: err}
		}
		h.index[tag] = len(h.entries)
		h.entries = append(h.entries, entry{tag: tag, typ: typ, val: val, off: eoff})
	}
	return h, nil
}

var errShortData = errors.New("value runs past the data store")

// decodeValue decodes count values of type typ from the start of data.
func decodeValue(typ TagType, data []byte, count int64) (any, error) {
	switch typ {
	case TypeString, TypeStringArray, TypeI18NString:
		if typ == TypeString && count != 1 {
			return nil, fmt.Errorf("STRING with count %d", count)
		}
		strs := make([]string, 0, min(count, 1024))
		for range count {
			end := bytes.IndexByte(data, 0)
			if end < 0 {
				return nil, errors.New("string without terminating NUL")
			}
			strs = append(strs, string(data[:end]))
			data = data[end+1:]
		}
		if typ == TypeString {
			return strs[0], nil
		}
		return strs, nil
	}
	w := typ.width()
	if count*w > int64(len(data)) {
		return nil, errShortData
	}
	if typ == TypeChar || typ == TypeBin {
		return bytes.Clone(data[:count]), nil
	}
	ints := make([]int64, count)
	for i := range ints {
		b := data[int64(i)*w:]
		switch typ {
		case TypeInt8:
			ints[i] = int64(b[0])
		case TypeInt16:
			ints[i] = int64(binary.BigEndian.Uint16(b))
		case TypeInt32:
			ints[i] = int64(binary.BigEndian.Uint32(b))
		case TypeInt64:
			ints[i] = int64(binary.BigEndian.Uint64(b))
		}
	}
	return ints, nil
}
