package rpm

import (
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path"
	"runtime"
	"sort"
	"strings"
	"time"
)

// ErrInvalidSpec is returned (wrapped, with the reason) by Write for a
// Spec that cannot make a valid package.
var ErrInvalidSpec = errors.New("rpm: invalid spec")

// File is one entry of a package to write.
type File struct {
	Path    string      // absolute path; a bare file name ("x.spec") in a source package
	Mode    fs.FileMode // permission bits, plus fs.ModeDir or fs.ModeSymlink; 0644/0755 when no permission bits are set
	Body    []byte      // contents of a regular file
	Link    string      // target of a symlink
	ModTime time.Time   // defaults to the package's build time

	User, Group string // owner; "root" when empty
}

// Spec describes a package for Write.
type Spec struct {
	Name, Version, Release string
	Epoch                  *int

	// Arch is the binary package's architecture ("noarch", "x86_64", ...).
	// A source package instead gets this machine's architecture, as
	// rpmbuild writes it.
	Arch string
	// Source makes an SRPM: RPMTAG_SOURCEPACKAGE set, no SOURCERPM, and
	// Files are the spec (exactly one "*.spec") and sources, as bare names.
	Source bool
	// SourceRPM is a binary package's SRPM file name; by default
	// name-version-release.src.rpm.
	SourceRPM string

	// Group defaults to "Unspecified", as in rpmbuild; the other strings
	// are left out of the header when empty (Summary, Description and
	// License are always written).
	Summary, Description, License, URL, Group, Packager, Vendor, BuildHost string

	BuildTime time.Time // default: now

	// Requires gets the rpmlib() features the package uses, Provides the
	// package's own "name = [epoch:]version-release", as rpmbuild adds
	// them; each list is written sorted and without duplicates.
	Requires, Provides, Conflicts, Obsoletes []Dependency

	Files []File
}

const (
	digestSHA256 = 8                              // PGPHASHALGO_SHA256
	rpmlibFlags  = DepRPMLib | DepLess | DepEqual // "rpmlib(X) <= version"
	fileSpecFile = 1 << 5                         // RPMFILE_SPECFILE
	verifyAll    = math.MaxUint32                 // RPMVERIFY_ALL
	payloadFlags = "9"                            // gzip level
	maxCPIOSize  = math.MaxUint32                 // newc sizes are 32-bit
	defaultGroup = "Unspecified"
	defaultOwner = "root"
)

// Write writes s as an RPM package: a gzip-compressed newc cpio payload,
// a main header with SHA-256 file and payload digests, and a signature
// header with the digests rpm 4.18 checks (SHA-256 and SHA-1 of the
// header, MD5 of header and payload) and the size tags. It writes
// nothing when s is invalid.
func Write(w io.Writer, s Spec) error { return write(w, s, nil) }

// write is Write with extra entries added to the main header (tests use
// it for tags a Spec has no field for).
func write(w io.Writer, s Spec, extra []entry) error {
	if s.BuildTime.IsZero() {
		s.BuildTime = time.Now()
	}
	files, err := s.check()
	if err != nil {
		return err
	}
	payload, cpioSize, err := writePayload(files, !s.Source)
	if err != nil {
		return err
	}
	hb := s.header(files, payload)
	hb.entries = append(hb.entries, extra...)
	hdr := hb.marshal(TagHeaderImmutable)
	if int64(len(hdr))+int64(len(payload)) > maxCPIOSize {
		return fmt.Errorf("%w: package larger than 4 GiB", ErrInvalidSpec)
	}
	var sig headerBuilder
	sha1sum, sha256sum, md5sum := sha1.Sum(hdr), sha256.Sum256(hdr), md5.New()
	md5sum.Write(hdr)
	md5sum.Write(payload)
	sig.str(SigTagSHA1, hex.EncodeToString(sha1sum[:]))
	sig.str(SigTagSHA256, hex.EncodeToString(sha256sum[:]))
	sig.ints(SigTagSize, TypeInt32, int64(len(hdr)+len(payload)))
	sig.bin(SigTagMD5, md5sum.Sum(nil))
	sig.ints(SigTagPayloadSize, TypeInt32, cpioSize)
	sigBytes := sig.marshal(TagHeaderSignatures)
	if pad := (8 - len(sigBytes)%8) % 8; pad > 0 {
		sigBytes = append(sigBytes, make([]byte, pad)...)
	}
	var out bytes.Buffer
	out.Write(s.lead())
	out.Write(sigBytes)
	out.Write(hdr)
	out.Write(payload)
	_, err = out.WriteTo(w)
	return err
}

// lead is the 96-byte lead; rpm reads only its magic, version and
// signature type, the rest is informational.
func (s *Spec) lead() []byte {
	l := make([]byte, leadSize)
	copy(l, leadMagic)
	l[4], l[5] = 3, 0
	if s.Source {
		binary.BigEndian.PutUint16(l[6:], leadTypeSource)
	}
	switch s.arch() {
	case "x86_64", "i386", "i486", "i586", "i686":
		binary.BigEndian.PutUint16(l[8:], 1) // rpmrc's arch number for the x86 family
	}
	name := s.Name + "-" + s.Version + "-" + s.Release
	copy(l[10:75], name)                  // at most 65 bytes, NUL-terminated by l[75]
	binary.BigEndian.PutUint16(l[76:], 1) // Linux
	binary.BigEndian.PutUint16(l[78:], sigTypeHeader)
	return l
}

// arch is the header's arch: the build machine's for an SRPM.
func (s *Spec) arch() string {
	if !s.Source {
		return s.Arch
	}
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64"
	case "386":
		return "i686"
	case "arm64":
		return "aarch64"
	case "arm":
		return "armv7hl"
	}
	return runtime.GOARCH // ppc64le, s390x, riscv64 are spelt alike
}

func (s *Spec) evr() string {
	evr := s.Version + "-" + s.Release
	if s.Epoch != nil {
		evr = fmt.Sprintf("%d:%s", *s.Epoch, evr)
	}
	return evr
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidSpec, fmt.Sprintf(format, args...))
}

// check validates s and returns its files sorted by path (as rpm lists
// them) with defaults filled in.
func (s *Spec) check() ([]File, error) {
	for _, f := range []struct{ what, v string }{{"name", s.Name}, {"version", s.Version}, {"release", s.Release}} {
		if f.v == "" || strings.ContainsAny(f.v, " \t\n") {
			return nil, invalid("%s %q", f.what, f.v)
		}
	}
	if strings.Contains(s.Version, "-") || strings.Contains(s.Release, "-") {
		return nil, invalid("version and release must not contain '-' (%q, %q)", s.Version, s.Release)
	}
	if s.Epoch != nil && (*s.Epoch < 0 || *s.Epoch > math.MaxInt32) {
		return nil, invalid("epoch %d", *s.Epoch)
	}
	if t := s.BuildTime.Unix(); t < 0 || t > math.MaxUint32 {
		return nil, invalid("build time %v outside rpm's 32-bit range", s.BuildTime)
	}
	if !s.Source && (s.Arch == "" || s.Arch == "src" || strings.ContainsAny(s.Arch, " \t\n")) {
		return nil, invalid("arch %q of a binary package", s.Arch)
	}
	for _, deps := range [][]Dependency{s.Requires, s.Provides, s.Conflicts, s.Obsoletes} {
		for _, d := range deps {
			if d.Name == "" || strings.ContainsAny(d.Name, " \t\n") || (d.Version == "") != (d.Flags&DepSenseMask == 0) {
				return nil, invalid("dependency %q %q with flags %#x", d.Name, d.Version, d.Flags)
			}
		}
	}
	files := make([]File, len(s.Files))
	copy(files, s.Files)
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	specs := 0
	for i := range files {
		f := &files[i]
		if i > 0 && files[i-1].Path == f.Path {
			return nil, invalid("file %s listed twice", f.Path)
		}
		if s.Source {
			if f.Path == "" || strings.Contains(f.Path, "/") || f.Mode.Type() != 0 {
				return nil, invalid("source package file %q (mode %v): want a regular file with a bare name", f.Path, f.Mode)
			}
			if strings.HasSuffix(f.Path, ".spec") {
				specs++
			}
		} else if !path.IsAbs(f.Path) || path.Clean(f.Path) != f.Path || f.Path == "/" {
			return nil, invalid("file path %q: want a clean absolute path", f.Path)
		}
		switch f.Mode.Type() {
		case 0:
			if f.Link != "" {
				return nil, invalid("regular file %s with a link target", f.Path)
			}
		case fs.ModeDir:
			if len(f.Body) > 0 || f.Link != "" {
				return nil, invalid("directory %s with contents", f.Path)
			}
		case fs.ModeSymlink:
			if f.Link == "" || len(f.Body) > 0 {
				return nil, invalid("symlink %s: want a target and no body", f.Path)
			}
		default:
			return nil, invalid("file %s: unsupported type %v", f.Path, f.Mode.Type())
		}
		if len(f.Body) > maxCPIOSize {
			return nil, invalid("file %s larger than 4 GiB", f.Path)
		}
		if f.Mode.Perm() == 0 {
			switch f.Mode.Type() {
			case 0:
				f.Mode |= 0o644
			case fs.ModeDir:
				f.Mode |= 0o755
			}
		}
		if f.Mode.Type() == fs.ModeSymlink {
			f.Mode = fs.ModeSymlink | 0o777 // as Linux reports every symlink
		}
		if f.ModTime.IsZero() {
			f.ModTime = s.BuildTime
		}
		if t := f.ModTime.Unix(); t < 0 || t > math.MaxUint32 {
			return nil, invalid("file %s: time %v outside rpm's 32-bit range", f.Path, f.ModTime)
		}
		if f.User == "" {
			f.User = defaultOwner
		}
		if f.Group == "" {
			f.Group = defaultOwner
		}
	}
	if s.Source && specs != 1 {
		return nil, invalid("a source package needs exactly one .spec file, has %d", specs)
	}
	return files, nil
}

// size is a file's size as rpm records it: contents, or target length.
func (f *File) size() int64 {
	if f.Mode.Type() == fs.ModeSymlink {
		return int64(len(f.Link))
	}
	return int64(len(f.Body))
}

// writePayload returns the gzip-compressed newc cpio archive of files and
// its uncompressed size. Binary packages name files "./path", which
// rpmlib(PayloadFilesHavePrefix) announces.
func writePayload(files []File, prefix bool) ([]byte, int64, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, 0, err
	}
	cw := &countWriter{w: zw}
	for i, f := range files {
		name := f.Path
		if prefix {
			name = "." + name
		}
		body := f.Body
		if f.Mode.Type() == fs.ModeSymlink {
			body = []byte(f.Link)
		}
		writeCPIO(cw, int64(i+1), int64(unixMode(f.Mode)), f.ModTime.Unix(), name, body)
	}
	writeCPIO(cw, 0, 0, 0, cpioTrailer, nil)
	if err := zw.Close(); err != nil {
		return nil, 0, err
	}
	if cw.n > maxCPIOSize {
		return nil, 0, invalid("payload larger than 4 GiB")
	}
	return buf.Bytes(), cw.n, nil
}

// writeCPIO writes one newc entry, padding name and body to 4 bytes.
func writeCPIO(w *countWriter, ino, mode, mtime int64, name string, body []byte) {
	const nlink = 1 // no hard links: every file has its own inode
	fmt.Fprintf(w, "%s%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		cpioMagic, ino, mode, 0, 0, nlink, mtime, len(body), 0, 0, 0, 0, len(name)+1, 0)
	io.WriteString(w, name+"\x00")
	w.pad()
	w.Write(body)
	w.pad()
}

// countWriter counts what it passes on, for the cpio padding and the
// payload size; write errors of the in-memory gzip writer cannot happen
// before Close, which reports them.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func (c *countWriter) pad() {
	if n := (4 - c.n%4) % 4; n > 0 {
		c.Write(make([]byte, n))
	}
}
