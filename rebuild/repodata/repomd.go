// Package repodata reads rpm-md repository metadata as createrepo_c
// writes it: repodata/repomd.xml and the primary metadata it points to
// (primary.xml, gzip- or bzip2-compressed or not), with checksums
// verified. Parsing streams through encoding/xml's token decoder, one
// package at a time, within size limits.
package repodata

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
)

// A FormatError reports metadata that is not what createrepo writes.
type FormatError struct {
	File string // "repomd.xml", "primary.xml.gz"...
	Err  error
}

func (e *FormatError) Error() string { return "repodata: " + e.File + ": " + e.Err.Error() }
func (e *FormatError) Unwrap() error { return e.Err }

// A ChecksumError reports a file whose checksum is not the one repomd.xml
// gives, or whose checksum type is unknown (Got is then empty).
type ChecksumError struct {
	File, Type, Want, Got string
}

func (e *ChecksumError) Error() string {
	if e.Got == "" {
		return fmt.Sprintf("repodata: %s: unsupported checksum type %q", e.File, e.Type)
	}
	return fmt.Sprintf("repodata: %s: %s checksum %s, repomd.xml says %s", e.File, e.Type, e.Got, e.Want)
}

// A CompressionError reports metadata compressed in a way this package
// cannot read (zstd, xz: the standard library has no decoder for them).
type CompressionError struct {
	File, Compression string
}

func (e *CompressionError) Error() string {
	return fmt.Sprintf("repodata: %s: %s compression is not supported", e.File, e.Compression)
}

// A LimitError reports metadata larger than a Limits bound.
type LimitError struct {
	File  string
	What  string // "bytes", "packages", "entries"
	Limit int64
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("repodata: %s: more than %d %s", e.File, e.Limit, e.What)
}

// Limits bound what a parser accepts. Zero fields take the defaults of
// DefaultLimits.
type Limits struct {
	// RepoMDBytes bounds repomd.xml (1 MiB).
	RepoMDBytes int64
	// PrimaryBytes bounds primary.xml, decompressed (4 GiB; Fedora's is
	// about 0.3 GiB).
	PrimaryBytes int64
	// Packages bounds the packages of a primary (2,000,000).
	Packages int
	// Entries bounds the dependency entries and files of one package
	// (1,000,000).
	Entries int
}

// DefaultLimits returns the limits zero fields stand for.
func DefaultLimits() Limits {
	return Limits{RepoMDBytes: 1 << 20, PrimaryBytes: 4 << 30, Packages: 2_000_000, Entries: 1_000_000}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.RepoMDBytes <= 0 {
		l.RepoMDBytes = d.RepoMDBytes
	}
	if l.PrimaryBytes <= 0 {
		l.PrimaryBytes = d.PrimaryBytes
	}
	if l.Packages <= 0 {
		l.Packages = d.Packages
	}
	if l.Entries <= 0 {
		l.Entries = d.Entries
	}
	return l
}

// RepoMD is repomd.xml: the repo's revision and its metadata files.
type RepoMD struct {
	Revision string
	Data     []Data
}

// Data is one metadata file of a repo.
type Data struct {
	Type         string   // "primary", "filelists", "group"...
	Href         string   // the file, relative to the repo's root
	Checksum     Checksum // of the file as stored
	OpenChecksum Checksum // of its decompressed content, when compressed
	Size         int64    // of the file as stored, 0 when not given
	OpenSize     int64
	Timestamp    int64
}

// A Checksum is a digest and its type, as repomd.xml writes them.
type Checksum struct {
	Type  string // sha256, sha1 (or sha), sha512, sha224, sha384, md5
	Value string // lowercase hex
}

// newHash returns a hash of a checksum type createrepo_c can write.
func newHash(typ string) hash.Hash {
	switch typ {
	case "sha256":
		return sha256.New()
	case "sha1", "sha":
		return sha1.New()
	case "sha512":
		return sha512.New()
	case "sha224":
		return sha256.New224()
	case "sha384":
		return sha512.New384()
	case "md5":
		return md5.New()
	}
	return nil
}

// Find returns the metadata file of a type, nil if there is none.
func (md *RepoMD) Find(typ string) *Data {
	for i := range md.Data {
		if md.Data[i].Type == typ {
			return &md.Data[i]
		}
	}
	return nil
}

// ParseRepoMD reads repomd.xml. Only RepoMDBytes of limits applies.
func ParseRepoMD(r io.Reader, limits Limits) (*RepoMD, error) {
	limits = limits.withDefaults()
	const file = "repomd.xml"
	d := newDecoder(r, file, limits.RepoMDBytes)
	md := &RepoMD{}
	if err := d.root("repomd"); err != nil {
		return nil, err
	}
	for {
		start, err := d.child()
		if err != nil {
			return nil, err
		}
		if start == nil {
			break
		}
		switch start.Name.Local {
		case "revision":
			if md.Revision, err = d.text(); err != nil {
				return nil, err
			}
		case "data":
			data, err := d.data(start)
			if err != nil {
				return nil, err
			}
			md.Data = append(md.Data, data)
		default:
			if err := d.skip(); err != nil {
				return nil, err
			}
		}
	}
	for _, data := range md.Data {
		if data.Href == "" {
			return nil, d.errorf("data of type %q without a location", data.Type)
		}
	}
	return md, d.end()
}

// data reads a <data> element of repomd.xml.
func (d *decoder) data(start *xml.StartElement) (Data, error) {
	data := Data{Type: attr(start, "type")}
	for {
		el, err := d.child()
		if err != nil || el == nil {
			return data, err
		}
		var num *int64
		switch el.Name.Local {
		case "location":
			data.Href = attr(el, "href")
			err = d.skip()
		case "checksum", "open-checksum":
			sum := Checksum{Type: attr(el, "type")}
			if sum.Value, err = d.text(); err == nil {
				sum.Value = strings.ToLower(strings.TrimSpace(sum.Value))
			}
			if el.Name.Local == "checksum" {
				data.Checksum = sum
			} else {
				data.OpenChecksum = sum
			}
		case "size":
			num = &data.Size
		case "open-size":
			num = &data.OpenSize
		case "timestamp":
			num = &data.Timestamp
		default:
			err = d.skip()
		}
		if num != nil {
			var s string
			if s, err = d.text(); err == nil {
				if *num, err = strconv.ParseInt(strings.TrimSpace(s), 10, 64); err != nil || *num < 0 {
					return data, d.errorf("data %q: bad %s %q", data.Type, el.Name.Local, s)
				}
			}
		}
		if err != nil {
			return data, err
		}
	}
}

// decoder is an xml.Decoder on a size-bounded input that reports errors
// as FormatErrors of a file.
type decoder struct {
	x     *xml.Decoder
	file  string
	input *boundedReader
}

func newDecoder(r io.Reader, file string, limit int64) *decoder {
	br := &boundedReader{r: r, left: limit, err: &LimitError{File: file, What: "bytes", Limit: limit}}
	x := xml.NewDecoder(br)
	// createrepo writes UTF-8; a declared charset other than that is
	// read as is rather than refused.
	x.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	return &decoder{x: x, file: file, input: br}
}

func (d *decoder) errorf(format string, args ...any) error {
	return &FormatError{File: d.file, Err: fmt.Errorf(format, args...)}
}

// token returns the next token, errors wrapped.
func (d *decoder) token() (xml.Token, error) {
	tok, err := d.x.Token()
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	// The input's own errors (limits, decompression, context, network)
	// pass through; everything else the XML decoder says, syntax or
	// not (an unsupported XML version, say), is about the document.
	if err != nil && (d.input.failed == nil || !errors.Is(err, d.input.failed)) {
		return nil, &FormatError{File: d.file, Err: err}
	}
	return tok, err
}

// root reads up to the root element and checks its name.
func (d *decoder) root(name string) error {
	for {
		tok, err := d.token()
		if err != nil {
			return err
		}
		if start, ok := tok.(xml.StartElement); ok {
			if start.Name.Local != name {
				return d.errorf("root element <%s>, want <%s>", start.Name.Local, name)
			}
			return nil
		}
	}
}

// end checks that nothing but whitespace, comments and processing
// instructions follows the root element.
func (d *decoder) end() error {
	for {
		tok, err := d.x.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &FormatError{File: d.file, Err: err}
		}
		if cd, ok := tok.(xml.CharData); ok && len(strings.TrimSpace(string(cd))) == 0 {
			continue
		}
		switch tok.(type) {
		case xml.Comment, xml.ProcInst:
			continue
		}
		return d.errorf("content after the root element")
	}
}

// child returns the next child element of the current one, nil at its
// end; character data between children is ignored.
func (d *decoder) child() (*xml.StartElement, error) {
	for {
		tok, err := d.token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return &t, nil
		case xml.EndElement:
			return nil, nil
		}
	}
}

// text returns the character data of the current element up to its end;
// child elements are an error.
func (d *decoder) text() (string, error) {
	var b strings.Builder
	for {
		tok, err := d.token()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.CharData:
			b.Write(t)
		case xml.StartElement:
			return "", d.errorf("element <%s> inside a text element", t.Name.Local)
		case xml.EndElement:
			return b.String(), nil
		}
	}
}

// skip skips the rest of the current element.
func (d *decoder) skip() error {
	for depth := 1; depth > 0; {
		tok, err := d.token()
		if err != nil {
			return err
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
	}
	return nil
}

func attr(el *xml.StartElement, name string) string {
	for _, a := range el.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// boundedReader fails with err once more than left bytes are read.
type boundedReader struct {
	r      io.Reader
	left   int64
	err    error
	failed error // the last error other than io.EOF that Read returned
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left < 0 {
		b.failed = b.err
		return 0, b.err
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		err = b.err
	}
	if err != nil && err != io.EOF {
		b.failed = err
	}
	return n, err
}
