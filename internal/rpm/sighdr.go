package rpm

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
)

// The signature header as Koji handles it (koji/__init__.py): ripped out
// of a package (rip_rpm_sighdr), read by RawHeader, its OpenPGP
// signature's key ID (get_sigpacket_key_id), spliced into a copy of a
// package (splice_rpm_sighdr).

// leadLen is the size of the lead before the signature header.
const leadLen = 96

// PyError is an error Koji's Python raises there: its exception class and
// message.
type PyError struct {
	Class, Msg string
}

func (e *PyError) Error() string { return e.Class + ": " + e.Msg }

func pyErr(class, format string, args ...any) error {
	return &PyError{Class: class, Msg: fmt.Sprintf(format, args...)}
}

// BadMagicError is Koji's "bad magic" GenericError: the first three bytes
// of what should have been a header.
type BadMagicError struct {
	Got []byte
}

func (e *BadMagicError) Error() string { return fmt.Sprintf("bad magic: %q", e.Got) }

// headerSize is koji.rpm_hdr_size of the header starting with intro (at
// least 16 bytes): its index and data rounded up to 8 bytes, plus the
// 16-byte intro.
func headerSize(intro []byte) (int64, error) {
	if len(intro) < 3 || string(intro[:3]) != string(headerMagic[:3]) {
		return 0, &BadMagicError{Got: intro[:min(3, len(intro))]}
	}
	if len(intro) < 16 {
		return 0, pyErr("IndexError", "list index out of range")
	}
	il := int64(binary.BigEndian.Uint32(intro[8:]))
	dl := int64(binary.BigEndian.Uint32(intro[12:]))
	size := 8 + 16*il + dl
	size += (8 - size%8) % 8
	return size + 8, nil
}

// SigHeaderRange is koji.find_rpm_sighdr: the offset and size of the
// signature header (with its padding) of the package in r.
func SigHeaderRange(r io.ReaderAt) (start, size int64, err error) {
	intro := make([]byte, 16)
	n, err := r.ReadAt(intro, leadLen)
	if err != nil && err != io.EOF {
		return 0, 0, err
	}
	size, err = headerSize(intro[:n])
	return leadLen, size, err
}

// RipSigHeader is koji.rip_rpm_sighdr: the signature header of the
// package file, as its bytes (a short file gives what there is).
func RipSigHeader(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	start, size, err := SigHeaderRange(f)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err == nil && start+size > fi.Size() {
		size = max(fi.Size()-start, 0)
	}
	buf := make([]byte, size)
	n, err := f.ReadAt(buf, start)
	if err != nil && err != io.EOF {
		return nil, err
	}
	return buf[:n], nil
}

// SpliceSigHeader is koji.splice_rpm_sighdr: writes to w the package file
// src with its signature header replaced by sighdr.
func SpliceSigHeader(sighdr []byte, src string, w io.Writer) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	start, size, err := SigHeaderRange(f)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, io.NewSectionReader(f, 0, start)); err != nil {
		return err
	}
	if _, err := w.Write(sighdr); err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	rest := start + size
	if rest > fi.Size() {
		return nil
	}
	_, err = io.Copy(w, io.NewSectionReader(f, rest, fi.Size()-rest))
	return err
}

// RawHeader is koji.RawHeader: a header's index read from its bytes, its
// entries decoded on demand.
type RawHeader struct {
	data  []byte
	index map[int][3]int64 // tag → type, offset, count
}

// ParseRawHeader reads data as RawHeader does: the magic, then every
// index entry that is there.
func ParseRawHeader(data []byte) (*RawHeader, error) {
	if len(data) < 3 || string(data[:3]) != string(headerMagic[:3]) {
		return nil, &BadMagicError{Got: data[:min(3, len(data))]}
	}
	be := func(off int64) int64 {
		var v int64
		for i := off; i < off+4; i++ {
			v <<= 8
			if i < int64(len(data)) {
				v |= int64(data[i])
			} else {
				v >>= 8 // Python's multibyte of a short slice
			}
		}
		return v
	}
	il := be(8)
	if il > int64(len(data))/16 {
		il = int64(len(data)) / 16
	}
	h := &RawHeader{data: data, index: map[int][3]int64{}}
	for i := int64(0); i < il; i++ {
		off := 16 + 16*i
		h.index[int(be(off))] = [3]int64{be(off + 4), be(off + 8), be(off + 12)}
	}
	return h, nil
}

// Get is RawHeader.get: an integer entry's first value as an int64, a
// STRING one's bytes up to its NUL, a BIN one's bytes; nil without the
// entry. Other types are Koji's GenericError "Unable to read header data
// type".
func (h *RawHeader) Get(tag int) (any, error) {
	e, ok := h.index[tag]
	if !ok {
		return nil, nil
	}
	typ, offset, count := e[0], e[1], e[2]
	pos := 16 + int64(len(h.index))*16 + offset
	slice := func(from, to int64) []byte {
		n := int64(len(h.data))
		from, to = max(min(from, n), 0), max(min(to, n), 0)
		if to < from {
			return []byte{}
		}
		return h.data[from:to]
	}
	switch {
	case typ >= 2 && typ <= 5:
		var v int64
		for _, b := range slice(pos, pos+int64(1)<<(typ-2)) {
			v = v<<8 | int64(b)
		}
		return v, nil
	case typ == 6:
		rest := slice(pos, int64(len(h.data)))
		for i, b := range rest {
			if b == 0 {
				return rest[:i], nil
			}
		}
		return rest[:max(len(rest)-1, 0)], nil
	case typ == 7:
		return slice(pos, pos+count), nil
	}
	return nil, &UnreadableTypeError{Type: typ}
}

// UnreadableTypeError is RawHeader's "Unable to read header data type".
type UnreadableTypeError struct{ Type int64 }

func (e *UnreadableTypeError) Error() string {
	return fmt.Sprintf("Unable to read header data type: %x", e.Type)
}

// Signature header tags holding OpenPGP signatures (RPMSIGTAG_*), in the
// order add_rpm_sig looks for one.
var SigPacketTags = []int{1005, 1002, 267, 268} // GPG, PGP, DSA, RSA

// SigPacketKeyID is koji.get_sigpacket_key_id: the last four bytes of the
// issuer key ID of an OpenPGP signature packet, as lower-case hex.
func SigPacketKeyID(pkt []byte) (string, error) {
	at := func(b []byte, i int) (int, error) {
		if i >= len(b) {
			return 0, pyErr("IndexError", "index out of range")
		}
		return int(b[i]), nil
	}
	unpack := func(b []byte, from, n int) (int, error) {
		if from+n > len(b) || from > len(b) {
			return 0, pyErr("struct.error", "unpack requires a buffer of %d bytes", n)
		}
		v := 0
		for _, c := range b[from : from+n] {
			v = v<<8 | int(c)
		}
		return v, nil
	}
	byte0, err := at(pkt, 0)
	if err != nil {
		return "", err
	}
	if byte0&0x80 == 0 {
		return "", pyErr("ValueError", "Not an OpenPGP packet")
	}
	var tag, offset, length int
	if byte0&0x40 == 0 {
		tag = (byte0 & 0x3c) >> 2
		switch lt := byte0 & 0x03; lt {
		case 3:
			offset, length = 1, len(pkt)-1
		default:
			offset = map[int]int{0: 2, 1: 3, 2: 5}[lt]
			if length, err = unpack(pkt, 1, offset-1); err != nil {
				return "", err
			}
		}
	} else {
		tag = byte0 & 0x3f
		byte1, err := at(pkt, 1)
		if err != nil {
			return "", err
		}
		switch {
		case byte1 < 192:
			length, offset = byte1, 2
		case byte1 < 224:
			b2, err := at(pkt, 2)
			if err != nil {
				return "", err
			}
			length, offset = (byte1-192)<<8+b2+192, 3
		case byte1 == 255:
			if length, err = unpack(pkt, 2, 4); err != nil {
				return "", err
			}
			offset = 6
		default:
			return "", pyErr("NotImplementedError", "OpenPGP packet with partial body lengths")
		}
	}
	if len(pkt) != offset+length {
		return "", pyErr("ValueError", "Invalid OpenPGP packet length")
	}
	if tag != 2 {
		return "", pyErr("ValueError", "Not a signature packet")
	}
	body := pkt[offset:]
	version, err := at(body, 0)
	if err != nil {
		return "", err
	}
	var keyID []byte
	switch version {
	case 3:
		keyID = body[min(11, len(body)):min(15, len(body))]
	case 4:
		subLen, err := unpack(body, 4, 2)
		if err != nil {
			return "", err
		}
		off := 6 + subLen
		ids, err := subpacketKeyIDs(body[min(6, len(body)):min(off, len(body))])
		if err != nil {
			return "", err
		}
		if subLen, err = unpack(body, off, 2); err != nil {
			return "", err
		}
		off += 2
		more, err := subpacketKeyIDs(body[min(off, len(body)):min(off+subLen, len(body))])
		if err != nil {
			return "", err
		}
		ids = append(ids, more...)
		if len(ids) != 1 {
			return "", pyErr("NotImplementedError", "Unexpected number of key IDs: %d", len(ids))
		}
		keyID = ids[0][max(len(ids[0])-4, 0):]
	default:
		return "", pyErr("NotImplementedError", "Unknown PGP signature packet version %d", version)
	}
	return hex.EncodeToString(keyID), nil
}

// subpacketKeyIDs is koji's __subpacket_key_ids: the issuer key IDs
// (subpacket type 16) of v4 signature subpackets.
func subpacketKeyIDs(subs []byte) ([][]byte, error) {
	var res [][]byte
	for len(subs) > 0 {
		var length, off int
		byte0 := int(subs[0])
		switch {
		case byte0 < 192:
			length, off = byte0, 1
		case byte0 < 255:
			if len(subs) < 2 {
				return nil, pyErr("IndexError", "index out of range")
			}
			length, off = (byte0-192)<<8+int(subs[1])+192, 2
		default:
			if len(subs) < 5 {
				return nil, pyErr("struct.error", "unpack requires a buffer of 4 bytes")
			}
			length, off = int(binary.BigEndian.Uint32(subs[1:5])), 5
		}
		if off >= len(subs) {
			return nil, pyErr("IndexError", "index out of range")
		}
		end := min(off+length, len(subs))
		if subs[off] == 16 {
			res = append(res, subs[min(off+1, end):end])
		}
		subs = subs[end:]
	}
	return res, nil
}
