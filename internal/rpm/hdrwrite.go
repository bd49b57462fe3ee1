package rpm

import (
	"bytes"
	"encoding/binary"
	"sort"
)

// headerBuilder collects the entries of a header to be written.
type headerBuilder struct {
	entries []entry
}

func (b *headerBuilder) add(tag int, typ TagType, val any) {
	b.entries = append(b.entries, entry{tag: tag, typ: typ, val: val})
}

func (b *headerBuilder) str(tag int, s string)               { b.add(tag, TypeString, s) }
func (b *headerBuilder) i18n(tag int, s string)              { b.add(tag, TypeI18NString, []string{s}) }
func (b *headerBuilder) strs(tag int, s []string)            { b.add(tag, TypeStringArray, s) }
func (b *headerBuilder) bin(tag int, v []byte)               { b.add(tag, TypeBin, v) }
func (b *headerBuilder) ints(tag int, t TagType, v ...int64) { b.add(tag, t, v) }

// strOpt adds a STRING entry unless s is empty, as rpmbuild leaves out
// tags the spec does not set.
func (b *headerBuilder) strOpt(tag int, s string) {
	if s != "" {
		b.str(tag, s)
	}
}

// marshal encodes the header as rpm writes it into a package: sorted by
// tag, wrapped in the region regionTag (whose trailer, at the end of the
// data, spans the whole header), each value aligned to its type's size.
func (b *headerBuilder) marshal(regionTag int) []byte {
	sort.SliceStable(b.entries, func(i, j int) bool { return b.entries[i].tag < b.entries[j].tag })
	il := len(b.entries) + 1
	var index, data bytes.Buffer
	putEntry := func(buf *bytes.Buffer, tag int, typ TagType, off, count int) {
		var e [16]byte
		binary.BigEndian.PutUint32(e[0:], uint32(tag))
		binary.BigEndian.PutUint32(e[4:], uint32(typ))
		binary.BigEndian.PutUint32(e[8:], uint32(int32(off)))
		binary.BigEndian.PutUint32(e[12:], uint32(count))
		buf.Write(e[:])
	}
	for _, e := range b.entries {
		if w := int(e.typ.width()); w > 1 {
			for data.Len()%w != 0 {
				data.WriteByte(0)
			}
		}
		off, count := data.Len(), 1
		switch v := e.val.(type) {
		case string:
			data.WriteString(v)
			data.WriteByte(0)
		case []string:
			for _, s := range v {
				data.WriteString(s)
				data.WriteByte(0)
			}
			count = len(v)
		case []byte:
			data.Write(v)
			count = len(v)
		case []int64:
			for _, n := range v {
				switch e.typ {
				case TypeInt8:
					data.WriteByte(byte(n))
				case TypeInt16:
					data.Write(binary.BigEndian.AppendUint16(nil, uint16(n)))
				case TypeInt32:
					data.Write(binary.BigEndian.AppendUint32(nil, uint32(n)))
				case TypeInt64:
					data.Write(binary.BigEndian.AppendUint64(nil, uint64(n)))
				}
			}
			count = len(v)
		}
		putEntry(&index, e.tag, e.typ, off, count)
	}
	trailerOff := data.Len()
	putEntry(&data, regionTag, TypeBin, -il*16, 16)
	var out bytes.Buffer
	out.Write(headerMagic)
	out.Write(make([]byte, 4))
	out.Write(binary.BigEndian.AppendUint32(nil, uint32(il)))
	out.Write(binary.BigEndian.AppendUint32(nil, uint32(data.Len())))
	putEntry(&out, regionTag, TypeBin, trailerOff, 16)
	out.Write(index.Bytes())
	out.Write(data.Bytes())
	return out.Bytes()
}
