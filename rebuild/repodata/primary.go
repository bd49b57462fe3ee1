package repodata

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Flags is a dependency's comparison, rpm's RPMSENSE_LESS, GREATER and
// EQUAL bits; 0 matches any version.
type Flags uint8

// The comparisons primary.xml names.
const (
	LT Flags = 1 << 1
	GT Flags = 1 << 2
	EQ Flags = 1 << 3
	LE       = LT | EQ
	GE       = GT | EQ
)

var flagNames = map[string]Flags{"": 0, "EQ": EQ, "LT": LT, "LE": LE, "GT": GT, "GE": GE}

// String is the comparison as rpm writes it: "<", "<=", "=", ">=", ">",
// or "" for none.
func (f Flags) String() string {
	s := ""
	if f&LT != 0 {
		s += "<"
	}
	if f&GT != 0 {
		s += ">"
	}
	if f&EQ != 0 {
		s += "="
	}
	return s
}

// ParseFlags parses a comparison as rpm writes it ("<", "<=", "=", "==",
// ">=", ">", or "" for none); ok is false for anything else.
func ParseFlags(op string) (f Flags, ok bool) {
	switch op {
	case "":
		return 0, true
	case "<":
		return LT, true
	case "<=", "=<":
		return LE, true
	case "=", "==":
		return EQ, true
	case ">=", "=>":
		return GE, true
	case ">":
		return GT, true
	}
	return 0, false
}

// EVR is an epoch, version and release. An empty Release is absent, as
// in a dependency on "foo >= 1.0", which matches any release.
type EVR struct {
	Epoch   int
	Version string
	Release string
}

// String is "[epoch:]version[-release]".
func (e EVR) String() string {
	s := e.Version
	if e.Release != "" {
		s += "-" + e.Release
	}
	if e.Epoch != 0 {
		s = strconv.Itoa(e.Epoch) + ":" + s
	}
	return s
}

// ParseEVR parses "[epoch:]version[-release]" as rpm does; the epoch,
// when there is one, must be a non-negative decimal number.
func ParseEVR(s string) (EVR, error) {
	var e EVR
	if i := strings.IndexByte(s, ':'); i >= 0 {
		n, err := parseEpoch(s[:i])
		if err != nil {
			return e, err
		}
		e.Epoch, s = n, s[i+1:]
	}
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		s, e.Release = s[:i], s[i+1:]
	}
	e.Version = s
	return e, nil
}

func parseEpoch(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 31)
	if err != nil {
		return 0, fmt.Errorf("bad epoch %q", s)
	}
	return int(n), nil
}

// An Entry is one provides, requires, conflicts or obsoletes entry.
type Entry struct {
	Name  string
	Flags Flags
	EVR   EVR // meaningful with Flags
	// Pre marks a requirement of the package's scriptlets (pre="1").
	Pre bool
}

// String is the dependency as rpm writes it: "bar >= 1.2-3".
func (e Entry) String() string {
	if e.Flags == 0 {
		return e.Name
	}
	return e.Name + " " + e.Flags.String() + " " + e.EVR.String()
}

// A Package is a package of primary.xml.
type Package struct {
	Name string
	Arch string // "src" for source packages
	EVR  EVR
	// Location is the package file, relative to the repo's root.
	Location string
	// SourceRPM is the file name of the source package it was built
	// from; empty for source packages.
	SourceRPM string
	Provides  []Entry
	Requires  []Entry
	Conflicts []Entry
	Obsoletes []Entry
	// Files are the files primary lists: createrepo puts there those in
	// /etc, in bin directories and /usr/lib/sendmail, which is what
	// file requires usually name; the others are in filelists.xml.
	Files []string
}

// NEVRA is "name-[epoch:]version-release.arch".
func (p *Package) NEVRA() string { return p.Name + "-" + p.EVR.String() + "." + p.Arch }

// ParsePrimary reads primary.xml (decompressed) and calls fn with each
// package in file order; an error from fn stops it and is returned. file
// names the input in errors.
func ParsePrimary(r io.Reader, file string, limits Limits, fn func(*Package) error) error {
	limits = limits.withDefaults()
	d := newDecoder(r, file, limits.PrimaryBytes)
	if err := d.root("metadata"); err != nil {
		return err
	}
	for n := 0; ; {
		start, err := d.child()
		if err != nil {
			return err
		}
		if start == nil {
			break
		}
		if start.Name.Local != "package" {
			if err := d.skip(); err != nil {
				return err
			}
			continue
		}
		if n++; n > limits.Packages {
			return &LimitError{File: file, What: "packages", Limit: int64(limits.Packages)}
		}
		p, err := d.pkg(limits.Entries)
		if err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	return d.end()
}

// pkg reads a <package> element.
func (d *decoder) pkg(maxEntries int) (*Package, error) {
	p := &Package{}
	entries := 0
	count := func() error {
		if entries++; entries > maxEntries {
			return &LimitError{File: d.file, What: "entries of package " + p.Name, Limit: int64(maxEntries)}
		}
		return nil
	}
	// Elements of <format> are read as children of <package>: their
	// names do not clash.
	depth := 0
	for {
		el, err := d.child()
		if err != nil {
			return nil, err
		}
		if el == nil {
			if depth == 0 {
				break
			}
			depth--
			continue
		}
		switch el.Name.Local {
		case "format":
			depth++
		case "name":
			p.Name, err = d.text()
		case "arch":
			p.Arch, err = d.text()
		case "sourcerpm":
			p.SourceRPM, err = d.text()
		case "version":
			p.EVR, err = d.evr(el)
			if err == nil {
				err = d.skip()
			}
		case "location":
			p.Location = attr(el, "href")
			err = d.skip()
		case "provides":
			p.Provides, err = d.entries(count)
		case "requires":
			p.Requires, err = d.entries(count)
		case "conflicts":
			p.Conflicts, err = d.entries(count)
		case "obsoletes":
			p.Obsoletes, err = d.entries(count)
		case "file":
			if err = count(); err == nil {
				var f string
				f, err = d.text()
				p.Files = append(p.Files, f)
			}
		default:
			err = d.skip()
		}
		if err != nil {
			return nil, err
		}
	}
	if p.Name == "" || p.Arch == "" || p.EVR.Version == "" {
		return nil, d.errorf("package %q without a name, arch or version", p.NEVRA())
	}
	return p, nil
}

// evr reads an element's epoch, ver and rel attributes.
func (d *decoder) evr(el *xml.StartElement) (EVR, error) {
	epoch, err := parseEpoch(attr(el, "epoch"))
	if err != nil {
		return EVR{}, d.errorf("%v", err)
	}
	return EVR{Epoch: epoch, Version: attr(el, "ver"), Release: attr(el, "rel")}, nil
}

// entries reads the <rpm:entry> children of a dependency list.
func (d *decoder) entries(count func() error) ([]Entry, error) {
	var out []Entry
	for {
		el, err := d.child()
		if err != nil || el == nil {
			return out, err
		}
		if el.Name.Local != "entry" {
			return nil, d.errorf("<%s> in a dependency list", el.Name.Local)
		}
		if err := count(); err != nil {
			return nil, err
		}
		e := Entry{Name: attr(el, "name"), Pre: attr(el, "pre") == "1"}
		flags, ok := flagNames[attr(el, "flags")]
		if !ok || e.Name == "" {
			return nil, d.errorf("bad entry %q flags %q", e.Name, attr(el, "flags"))
		}
		e.Flags = flags
		if flags != 0 {
			if e.EVR, err = d.evr(el); err != nil {
				return nil, err
			}
		}
		out = append(out, e)
		if err := d.skip(); err != nil {
			return nil, err
		}
	}
}
