package rpm

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"time"
)

// ErrUnsupportedPayload is returned (wrapped, with the compressor's or
// format's name) by ReadPayload for a payload it cannot decode: anything
// but a gzip-compressed cpio archive.
var ErrUnsupportedPayload = errors.New("rpm: unsupported payload")

// PayloadFile describes one entry of an RPM's cpio payload.
type PayloadFile struct {
	Path    string      // as in the file list: "/usr/bin/x"; relative ("x.spec") in an SRPM
	Mode    fs.FileMode // type and permission bits
	Size    int64       // length of the body; of the target for a symlink
	ModTime time.Time
	Link    string // a symlink's target
}

// Unix file type and permission bits of cpio (and RPM) modes.
const (
	sIFMT   = 0o170000
	sIFSOCK = 0o140000
	sIFLNK  = 0o120000
	sIFREG  = 0o100000
	sIFBLK  = 0o060000
	sIFDIR  = 0o040000
	sIFCHR  = 0o020000
	sIFIFO  = 0o010000
	sISUID  = 0o4000
	sISGID  = 0o2000
	sISVTX  = 0o1000
)

// newc cpio framing.
const (
	cpioMagic      = "070701"
	cpioHeaderSize = 110
	cpioTrailer    = "TRAILER!!!"
	maxPathLen     = 4096 // PATH_MAX: longer names or link targets are corrupt
	maxTrailing    = 512  // cpio block padding after the trailer
)

// ReadPayload reads the RPM at r (positioned at the start of the file) and
// calls fn for each entry of its payload, in archive order, with a reader
// of the entry's contents (empty for directories and symlinks, whose
// target is in Link); what fn leaves unread is skipped. Hard-linked files
// appear as rpm stores them: the contents come with the last link, the
// others have size 0. An error from fn stops the iteration and is
// returned as is.
func ReadPayload(r io.Reader, fn func(f PayloadFile, body io.Reader) error) error {
	p, err := Read(r)
	if err != nil {
		return err
	}
	if f, ok := p.Header.String(TagPayloadFormat); ok && f != "cpio" {
		return fmt.Errorf("%w: format %q", ErrUnsupportedPayload, f)
	}
	if c, ok := p.Header.String(TagPayloadCompressor); ok && c != "gzip" {
		return fmt.Errorf("%w: compressor %q (only gzip is supported)", ErrUnsupportedPayload, c)
	}
	zr, err := gzip.NewReader(r)
	if err != nil {
		return &FormatError{Offset: p.HeaderEnd, What: "gzip payload", Err: err}
	}
	zr.Multistream(false)
	c := &cpioReader{r: bufio.NewReader(zr), base: p.HeaderEnd}
	for {
		f, size, err := c.next()
		if err != nil {
			return err
		}
		if f == nil {
			// Read to the end of the gzip stream so that its checksum
			// and length are verified; rpm writes nothing after the
			// trailer, so a little block padding at most is allowed.
			n, err := io.CopyN(io.Discard, c.r, maxTrailing+1)
			if errors.Is(err, io.EOF) {
				err = nil
			}
			if err == nil && n > maxTrailing {
				err = errors.New("data after the cpio trailer")
			}
			if err != nil {
				return c.fail("end of payload", err)
			}
			return nil
		}
		b := &body{c: c, n: size}
		if err := fn(*f, b); err != nil {
			return err
		}
		if err := c.skip(b); err != nil {
			return err
		}
	}
}

// cpioReader reads newc cpio entries from the uncompressed payload.
type cpioReader struct {
	r    *bufio.Reader
	base int64 // file offset of the payload, for errors
	pos  int64 // position in the uncompressed payload
}

func (c *cpioReader) fail(what string, err error) error {
	return &FormatError{Offset: c.base, What: fmt.Sprintf("payload offset %d: %s", c.pos, what), Err: err}
}

// read reads exactly n bytes.
func (c *cpioReader) read(n int64, what string) ([]byte, error) {
	buf := make([]byte, n)
	got, err := io.ReadFull(c.r, buf)
	c.pos += int64(got)
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, c.fail(what, err)
	}
	return buf, nil
}

// pad skips to the next 4-byte boundary.
func (c *cpioReader) pad() error {
	if n := (4 - c.pos%4) % 4; n > 0 {
		_, err := c.read(n, "padding")
		return err
	}
	return nil
}

// body reads one entry's contents, reporting a payload that ends or
// breaks before them as a FormatError, to fn as to skip.
type body struct {
	c *cpioReader
	n int64 // bytes left
}

func (b *body) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.c.r.Read(p)
	b.n -= int64(n)
	b.c.pos += int64(n)
	if errors.Is(err, io.EOF) && b.n > 0 {
		err = io.ErrUnexpectedEOF
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return n, b.c.fail("file contents", err)
	}
	return n, nil
}

// skip discards what fn left of b and the padding after it.
func (c *cpioReader) skip(b *body) error {
	if _, err := io.Copy(io.Discard, b); err != nil {
		return err
	}
	return c.pad()
}

// next reads the next entry's header and name (and a symlink's target); it
// returns nil at the trailer.
func (c *cpioReader) next() (*PayloadFile, int64, error) {
	hdr, err := c.read(cpioHeaderSize, "cpio header")
	if err != nil {
		return nil, 0, err
	}
	if string(hdr[:6]) != cpioMagic {
		return nil, 0, c.fail(fmt.Sprintf("cpio magic %q, want %q (newc)", hdr[:6], cpioMagic), nil)
	}
	var fields [13]int64
	for i := range fields {
		v, err := strconv.ParseUint(string(hdr[6+8*i:14+8*i]), 16, 32)
		if err != nil {
			return nil, 0, c.fail("cpio header field", err)
		}
		fields[i] = int64(v)
	}
	mode, mtime, size, namesize := fields[1], fields[5], fields[6], fields[11]
	if namesize < 2 || namesize > maxPathLen {
		return nil, 0, c.fail(fmt.Sprintf("cpio name size %d", namesize), nil)
	}
	name, err := c.read(namesize, "cpio name")
	if err != nil {
		return nil, 0, err
	}
	if name[namesize-1] != 0 {
		return nil, 0, c.fail("cpio name without NUL", nil)
	}
	path := string(name[:namesize-1])
	if err := c.pad(); err != nil {
		return nil, 0, err
	}
	if path == cpioTrailer {
		return nil, 0, nil
	}
	if strings.HasPrefix(path, "./") {
		path = path[1:]
	}
	f := &PayloadFile{Path: path, Mode: fileMode(mode), Size: size, ModTime: time.Unix(mtime, 0)}
	if mode&sIFMT == sIFLNK {
		if size > maxPathLen {
			return nil, 0, c.fail(fmt.Sprintf("symlink target of %d bytes", size), nil)
		}
		target, err := c.read(size, "symlink target")
		if err != nil {
			return nil, 0, err
		}
		f.Link = string(target)
		if err := c.pad(); err != nil {
			return nil, 0, err
		}
		size = 0
	}
	return f, size, nil
}

// unixTypes and unixBits pair Unix mode bits with fs.FileMode bits.
var (
	unixTypes = []struct {
		unix int64
		mode fs.FileMode
	}{
		{sIFDIR, fs.ModeDir}, {sIFLNK, fs.ModeSymlink}, {sIFCHR, fs.ModeDevice | fs.ModeCharDevice},
		{sIFBLK, fs.ModeDevice}, {sIFIFO, fs.ModeNamedPipe}, {sIFSOCK, fs.ModeSocket},
	}
	unixBits = []struct {
		unix int64
		mode fs.FileMode
	}{{sISUID, fs.ModeSetuid}, {sISGID, fs.ModeSetgid}, {sISVTX, fs.ModeSticky}}
)

// fileMode converts a Unix mode to fs.FileMode.
func fileMode(m int64) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	for _, t := range unixTypes {
		if m&sIFMT == t.unix {
			mode |= t.mode
		}
	}
	for _, b := range unixBits {
		if m&b.unix != 0 {
			mode |= b.mode
		}
	}
	return mode
}

// unixMode converts fs.FileMode to a Unix mode, the inverse of fileMode.
func unixMode(m fs.FileMode) uint32 {
	mode := int64(m.Perm()) | sIFREG
	for _, t := range unixTypes {
		if m.Type() == t.mode {
			mode = mode&^sIFMT | t.unix
		}
	}
	for _, b := range unixBits {
		if m&b.mode != 0 {
			mode |= b.unix
		}
	}
	return uint32(mode)
}
