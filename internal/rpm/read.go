package rpm

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"os"
)

// ErrNotRPM is returned when the data does not start with an RPM lead.
var ErrNotRPM = errors.New("rpm: not an RPM file (bad lead magic)")

var leadMagic = []byte{0xed, 0xab, 0xee, 0xdb}

const (
	leadSize       = 96
	sigTypeHeader  = 5 // RPMSIGTYPE_HEADERSIG, the only one rpm accepts
	leadTypeSource = 1
)

// Dependency is one entry of Requires, Provides, Conflicts or Obsoletes.
type Dependency struct {
	Name    string
	Flags   DepFlags // RPMSENSE_* bits as rpm stores them
	Version string   // the EVR as stored: "1:2.0-3", "2.0" or ""
}

// Package is what Read takes from an RPM's lead, signature and main header.
type Package struct {
	Name, Version, Release string
	Epoch                  *int   // nil when the header has no epoch
	Arch                   string // the header's arch; "src" for a source package, as Koji records SRPMs
	SourcePackage          bool   // an SRPM: RPMTAG_SOURCEPACKAGE set, or no RPMTAG_SOURCERPM
	SourceRPM              string // RPMTAG_SOURCERPM of a binary package
	BuildTime              int64  // seconds since the epoch
	Size                   int64  // installed size: RPMTAG_LONGSIZE, else RPMTAG_SIZE
	SigMD5                 []byte // RPMTAG_SIGMD5 from the signature header (Koji's payloadhash)

	BuildHost, Summary, Description, License, URL, Group, Packager, Vendor string

	Requires, Provides, Conflicts, Obsoletes []Dependency

	Files []string // full paths, in header order

	// HeaderStart and HeaderEnd are the byte offsets of the main header
	// in the file (createrepo's rpm:header-range).
	HeaderStart, HeaderEnd int64

	Header    *Header // every tag of the main header
	Signature *Header // every tag of the signature header
}

// NVR is "name-version-release".
func (p *Package) NVR() string { return p.Name + "-" + p.Version + "-" + p.Release }

// NVRA is "name-version-release.arch".
func (p *Package) NVRA() string { return p.NVR() + "." + p.Arch }

// Filename is the package's conventional file name, NVRA plus ".rpm"
// (name-version-release.src.rpm for an SRPM).
func (p *Package) Filename() string { return p.NVRA() + ".rpm" }

// PayloadHash is the lower-case hex of SigMD5, "" when absent: the value
// Koji stores as an rpm's payloadhash.
func (p *Package) PayloadHash() string { return hex.EncodeToString(p.SigMD5) }

// ReadFile reads the RPM headers of the named file.
func ReadFile(name string) (*Package, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(bufio.NewReader(f))
}

// Read reads the lead, signature header and main header of an RPM from r,
// leaving r positioned at the start of the payload.
func Read(r io.Reader) (*Package, error) {
	p, _, err := readPackage(r)
	return p, err
}

// readPackage is Read, also returning the raw bytes of the main header.
func readPackage(r io.Reader) (*Package, []byte, error) {
	lead := make([]byte, leadSize)
	n, err := io.ReadFull(r, lead)
	if n < len(leadMagic) || !bytes.Equal(lead[:len(leadMagic)], leadMagic) {
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, nil, err
		}
		return nil, nil, ErrNotRPM
	}
	if err != nil {
		return nil, nil, &FormatError{Offset: int64(n), What: "reading lead", Err: err}
	}
	if major := lead[4]; major < 3 || major > 4 {
		return nil, nil, formatErr(4, "unsupported RPM major version %d", major)
	}
	if st := binary.BigEndian.Uint16(lead[78:]); st != sigTypeHeader {
		return nil, nil, formatErr(78, "unsupported signature type %d", st)
	}
	off := int64(leadSize)
	sig, raw, err := readHeader(r, off, "signature")
	if err != nil {
		return nil, nil, err
	}
	off += int64(len(raw))
	if pad := (8 - off%8) % 8; pad > 0 {
		if _, err := readFull(r, pad, off, "signature padding"); err != nil {
			return nil, nil, err
		}
		off += pad
	}
	h, raw, err := readHeader(r, off, "main")
	if err != nil {
		return nil, nil, err
	}
	p := &Package{Header: h, Signature: sig, HeaderStart: off, HeaderEnd: off + int64(len(raw))}
	if err := p.fill(); err != nil {
		return nil, nil, err
	}
	return p, raw, nil
}

// fill sets the Package fields from the headers, checking that the tags
// it uses have the types rpm gives them.
func (p *Package) fill() error {
	h := p.Header
	strs := []struct {
		dst      *string
		tag      int
		required bool
	}{
		{&p.Name, TagName, true}, {&p.Version, TagVersion, true}, {&p.Release, TagRelease, true},
		{&p.Arch, TagArch, true}, {&p.SourceRPM, TagSourceRPM, false}, {&p.BuildHost, TagBuildHost, false},
		{&p.Summary, TagSummary, false}, {&p.Description, TagDescription, false}, {&p.License, TagLicense, false},
		{&p.URL, TagURL, false}, {&p.Group, TagGroup, false}, {&p.Packager, TagPackager, false},
		{&p.Vendor, TagVendor, false},
	}
	var err error
	for _, s := range strs {
		if *s.dst, err = getString(h, s.tag); err != nil {
			return err
		}
		if s.required && h.get(s.tag) == nil {
			return formatErr(p.HeaderStart, "main header has no tag %d", s.tag)
		}
	}
	if v, ok, err := getInt(h, TagEpoch); err != nil {
		return err
	} else if ok {
		e := int(v)
		p.Epoch = &e
	}
	if p.BuildTime, _, err = getInt(h, TagBuildTime); err != nil {
		return err
	}
	var ok bool
	if p.Size, ok, err = getInt(h, TagLongSize); err != nil {
		return err
	} else if !ok {
		if p.Size, _, err = getInt(h, TagSize); err != nil {
			return err
		}
	}
	_, srcTag, err := getInt(h, TagSourcePackage)
	if err != nil {
		return err
	}
	p.SourcePackage = srcTag || h.get(TagSourceRPM) == nil
	if p.SourcePackage {
		p.Arch = "src"
	}
	if e := p.Signature.get(SigTagMD5); e != nil {
		if e.typ != TypeBin {
			return typeErr(e, TypeBin)
		}
		p.SigMD5 = e.val.([]byte)
	}
	deps := []struct {
		dst                  *[]Dependency
		name, flags, version int
	}{
		{&p.Requires, TagRequireName, TagRequireFlags, TagRequireVersion},
		{&p.Provides, TagProvideName, TagProvideFlags, TagProvideVersion},
		{&p.Conflicts, TagConflictName, TagConflictFlags, TagConflictVersion},
		{&p.Obsoletes, TagObsoleteName, TagObsoleteFlags, TagObsoleteVersion},
	}
	for _, d := range deps {
		if *d.dst, err = getDeps(h, d.name, d.flags, d.version); err != nil {
			return err
		}
	}
	p.Files, err = getFiles(h)
	return err
}

func typeErr(e *entry, want ...TagType) error {
	return formatErr(e.off, "tag %d has type %d, want %v", e.tag, e.typ, want)
}

// getString returns a STRING or I18NSTRING entry, "" when absent.
func getString(h *Header, tag int) (string, error) {
	e := h.get(tag)
	if e == nil {
		return "", nil
	}
	s, ok := h.String(tag)
	if !ok {
		return "", typeErr(e, TypeString, TypeI18NString)
	}
	return s, nil
}

// getInt returns the single value of an integer entry.
func getInt(h *Header, tag int) (int64, bool, error) {
	e := h.get(tag)
	if e == nil {
		return 0, false, nil
	}
	v, ok := e.val.([]int64)
	if !ok {
		return 0, false, typeErr(e, TypeInt32, TypeInt64)
	}
	return v[0], true, nil
}

// getArray returns a STRING_ARRAY or integer array entry of length n (any
// length when n < 0), nil when absent.
func getArray[T any](h *Header, tag int, n int, want TagType) ([]T, error) {
	e := h.get(tag)
	if e == nil {
		return nil, nil
	}
	v, ok := e.val.([]T)
	if !ok || (want == TypeStringArray && e.typ != TypeStringArray) {
		return nil, typeErr(e, want)
	}
	if n >= 0 && len(v) != n {
		return nil, formatErr(e.off, "tag %d has %d values, want %d", tag, len(v), n)
	}
	return v, nil
}

func getDeps(h *Header, nameTag, flagsTag, versionTag int) ([]Dependency, error) {
	names, err := getArray[string](h, nameTag, -1, TypeStringArray)
	if err != nil || names == nil {
		return nil, err
	}
	flags, err := getArray[int64](h, flagsTag, len(names), TypeInt32)
	if err != nil {
		return nil, err
	}
	versions, err := getArray[string](h, versionTag, len(names), TypeStringArray)
	if err != nil {
		return nil, err
	}
	deps := make([]Dependency, len(names))
	for i, n := range names {
		deps[i].Name = n
		if flags != nil {
			deps[i].Flags = DepFlags(flags[i])
		}
		if versions != nil {
			deps[i].Version = versions[i]
		}
	}
	return deps, nil
}

func getFiles(h *Header) ([]string, error) {
	if old, err := getArray[string](h, TagOldFilenames, -1, TypeStringArray); err != nil || old != nil {
		return old, err
	}
	bases, err := getArray[string](h, TagBasenames, -1, TypeStringArray)
	if err != nil || bases == nil {
		return nil, err
	}
	dirs, err := getArray[string](h, TagDirnames, -1, TypeStringArray)
	if err != nil {
		return nil, err
	}
	idx, err := getArray[int64](h, TagDirIndexes, len(bases), TypeInt32)
	if err != nil {
		return nil, err
	}
	if idx == nil {
		return nil, formatErr(h.get(TagBasenames).off, "BASENAMES without DIRINDEXES")
	}
	files := make([]string, len(bases))
	for i, b := range bases {
		if idx[i] >= int64(len(dirs)) {
			return nil, formatErr(h.get(TagDirIndexes).off, "dir index %d of %d directories", idx[i], len(dirs))
		}
		files[i] = dirs[idx[i]] + b
	}
	return files, nil
}
