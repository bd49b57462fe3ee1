package rpm

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/gokoji/gokoji/internal/testenv"
)

var update = flag.Bool("update", false, "rebuild the testdata RPMs and their rpm -qp output with rpmbuild")

// queryFormat makes rpm print what Package holds, in the form describe
// writes it.
const queryFormat = `NAME=%{NAME}
VERSION=%{VERSION}
RELEASE=%{RELEASE}
EPOCH=%|EPOCH?{%{EPOCH}}:{nil}|
EPOCHNUM=%{EPOCHNUM}
ARCH=%|SOURCEPACKAGE?{src}:{%{ARCH}}|
SOURCEPACKAGE=%|SOURCEPACKAGE?{1}:{0}|
SOURCERPM=%|SOURCERPM?{%{SOURCERPM}}:{}|
BUILDTIME=%{BUILDTIME}
BUILDHOST=%|BUILDHOST?{%{BUILDHOST}}:{}|
SUMMARY=%{SUMMARY}
LICENSE=%|LICENSE?{%{LICENSE}}:{}|
URL=%|URL?{%{URL}}:{}|
GROUP=%|GROUP?{%{GROUP}}:{}|
PACKAGER=%|PACKAGER?{%{PACKAGER}}:{}|
VENDOR=%|VENDOR?{%{VENDOR}}:{}|
LONGSIZE=%{LONGSIZE}
SIGMD5=%|SIGMD5?{%{SIGMD5}}:{}|
SHA256HEADER=%{SHA256HEADER}
[REQUIRE=%{REQUIRENAME}|%{REQUIREFLAGS}|%{REQUIREVERSION}
][PROVIDE=%{PROVIDENAME}|%{PROVIDEFLAGS}|%{PROVIDEVERSION}
][CONFLICT=%{CONFLICTNAME}|%{CONFLICTFLAGS}|%{CONFLICTVERSION}
][OBSOLETE=%{OBSOLETENAME}|%{OBSOLETEFLAGS}|%{OBSOLETEVERSION}
][FILE=%{FILENAMES}
]DESCRIPTION=%{DESCRIPTION}`

// describe prints p (read from file) as rpm prints queryFormat. The header
// range is checked through the SHA-256 header digest, which covers exactly
// those bytes.
func describe(p *Package, file []byte) string {
	var b strings.Builder
	epoch, epochNum := "nil", 0
	if p.Epoch != nil {
		epoch, epochNum = fmt.Sprint(*p.Epoch), *p.Epoch
	}
	src := 0
	if p.SourcePackage {
		src = 1
	}
	var hdrSum string
	if p.HeaderStart >= 0 && p.HeaderEnd <= int64(len(file)) && p.HeaderStart < p.HeaderEnd {
		sum := sha256.Sum256(file[p.HeaderStart:p.HeaderEnd])
		hdrSum = hex.EncodeToString(sum[:])
	}
	fmt.Fprintf(&b, "NAME=%s\nVERSION=%s\nRELEASE=%s\nEPOCH=%s\nEPOCHNUM=%d\nARCH=%s\nSOURCEPACKAGE=%d\nSOURCERPM=%s\n",
		p.Name, p.Version, p.Release, epoch, epochNum, p.Arch, src, p.SourceRPM)
	fmt.Fprintf(&b, "BUILDTIME=%d\nBUILDHOST=%s\nSUMMARY=%s\nLICENSE=%s\nURL=%s\nGROUP=%s\nPACKAGER=%s\nVENDOR=%s\n",
		p.BuildTime, p.BuildHost, p.Summary, p.License, p.URL, p.Group, p.Packager, p.Vendor)
	fmt.Fprintf(&b, "LONGSIZE=%d\nSIGMD5=%s\nSHA256HEADER=%s\n", p.Size, p.PayloadHash(), hdrSum)
	for _, d := range []struct {
		kind string
		deps []Dependency
	}{{"REQUIRE", p.Requires}, {"PROVIDE", p.Provides}, {"CONFLICT", p.Conflicts}, {"OBSOLETE", p.Obsoletes}} {
		for _, dep := range d.deps {
			fmt.Fprintf(&b, "%s=%s|%d|%s\n", d.kind, dep.Name, dep.Flags, dep.Version)
		}
	}
	for _, f := range p.Files {
		fmt.Fprintf(&b, "FILE=%s\n", f)
	}
	b.WriteString("DESCRIPTION=" + p.Description)
	return b.String()
}

// rpmQuery runs rpm -qp with queryFormat (or the given format) on file.
func rpmQuery(t *testing.T, file string, format ...string) string {
	t.Helper()
	qf := queryFormat
	if len(format) > 0 {
		qf = format[0]
	}
	cmd := exec.Command(testenv.Command(t, "rpm"), "-qp", "--nosignature", "--qf", qf, file)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("rpm -qp %s: %v\n%s", file, err, stderr.String())
	}
	return string(out)
}

// rpmbuild builds spec in a new top directory with the extra arguments and
// returns the paths of the RPMs it wrote.
func rpmbuild(t *testing.T, spec string, args ...string) []string {
	t.Helper()
	top := t.TempDir()
	args = append([]string{"-ba", "--define", "_topdir " + top, "--define", "_buildhost build.example.org"}, args...)
	cmd := exec.Command(testenv.Command(t, "rpmbuild"), append(args, spec)...)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rpmbuild %s: %v\n%s", spec, err, out)
	}
	rpms, err := filepath.Glob(filepath.Join(top, "*RPMS", "*", "*.rpm"))
	if err != nil {
		t.Fatal(err)
	}
	srpms, _ := filepath.Glob(filepath.Join(top, "SRPMS", "*.rpm"))
	return append(rpms, srpms...)
}

func readBytes(t *testing.T, file string) (*Package, []byte) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Read(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Read(%s): %v", file, err)
	}
	return p, data
}

// testdataRPMs are the fixtures, by the suffix of their file name: gzip,
// xz and zstd payloads.
var testdataRPMs = []string{
	"tiny-1.2-3.src.rpm",
	"tiny-1.2-3.x86_64.rpm",
	"tiny-bin-1.2-3.noarch.rpm",
	"tiny-bin-1.2-3.noarch.xz.rpm",
	"tiny-bin-1.2-3.noarch.zstd.rpm",
}

// triggersRPM is the fixture built from triggers.spec, whose scripts are
// every kind of trigger (the seeds of the fuzz targets include it).
const triggersRPM = "triggers-1.0-1.noarch.rpm"

// updateTestdata rebuilds testdata from tiny.spec: small (no space reserved
// for signatures), with each payload compressor the tests need; and
// triggersRPM from triggers.spec.
func updateTestdata(t *testing.T) {
	small := []string{"--define", "__gpg_reserved_space 0"}
	for _, f := range rpmbuild(t, "testdata/triggers.spec", append(small, "--define", "_binary_payload w9.gzdio")...) {
		if filepath.Base(f) == triggersRPM {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join("testdata", triggersRPM), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, comp := range []struct{ suffix, io string }{{"", "w9.gzdio"}, {".xz", "w2.xzdio"}, {".zstd", "w3.zstdio"}} {
		built := rpmbuild(t, "testdata/tiny.spec", append(small,
			"--define", "_binary_payload "+comp.io, "--define", "_source_payload "+comp.io)...)
		for _, f := range built {
			name := filepath.Base(f)
			if comp.suffix != "" {
				if !strings.HasPrefix(name, "tiny-bin-") {
					continue
				}
				name = strings.TrimSuffix(name, ".rpm") + comp.suffix + ".rpm"
			}
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join("testdata", name)
			if err := os.WriteFile(dst, data, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dst+".qf", []byte(rpmQuery(t, dst)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestReadTestdata checks Read against rpm's own view of the committed
// RPMs (saved with them, so the test needs no rpm binary).
func TestReadTestdata(t *testing.T) {
	if *update {
		updateTestdata(t)
	}
	for _, name := range testdataRPMs {
		file := filepath.Join("testdata", name)
		p, data := readBytes(t, file)
		want, err := os.ReadFile(file + ".qf")
		if err != nil {
			t.Fatal(err)
		}
		if got := describe(p, data); got != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, ".xz.rpm"), ".zstd.rpm"), ".rpm") + ".rpm"
		if p.Filename() != base {
			t.Errorf("%s: Filename() = %q", name, p.Filename())
		}
	}
	p, _ := readBytes(t, "testdata/tiny-1.2-3.x86_64.rpm")
	if p.NVR() != "tiny-1.2-3" || p.NVRA() != "tiny-1.2-3.x86_64" {
		t.Errorf("NVR %q NVRA %q", p.NVR(), p.NVRA())
	}
	if c, ok := p.Header.String(TagPayloadCompressor); !ok || c != "gzip" {
		t.Errorf("payload compressor %q, %v", c, ok)
	}
	if tags := p.Header.Tags(); tags[0] != TagHeaderImmutable || len(tags) < 40 {
		t.Errorf("main header tags %v", tags)
	}
	if _, ok := p.Signature.Bytes(SigTagMD5); !ok {
		t.Error("signature header has no MD5")
	}
}

// TestReadFileMatchesRPM builds packages with this machine's rpmbuild (its
// default payload compressor and signature space) and compares everything
// Read returns with rpm -qp.
func TestReadFileMatchesRPM(t *testing.T) {
	built := rpmbuild(t, "testdata/tiny.spec")
	if len(built) != 3 {
		t.Fatalf("rpmbuild wrote %v, want a binary RPM, a noarch subpackage and an SRPM", built)
	}
	for _, f := range built {
		p, err := ReadFile(f)
		if err != nil {
			t.Fatalf("ReadFile(%s): %v", f, err)
		}
		data, _ := os.ReadFile(f)
		if got, want := describe(p, data), rpmQuery(t, f); got != want {
			t.Errorf("%s:\n got %s\nwant %s", f, got, want)
		}
		if filepath.Base(f) != p.Filename() {
			t.Errorf("Filename() = %q for %s", p.Filename(), f)
		}
	}
}

// mainEntry returns the file offset of tag's index entry in the main header.
func mainEntry(t *testing.T, data []byte, tag int) int {
	t.Helper()
	p, err := Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	e := p.Header.get(tag)
	if e == nil {
		t.Fatalf("no tag %d", tag)
	}
	return int(e.off)
}

func TestReadBadInput(t *testing.T) {
	good, err := os.ReadFile("testdata/tiny-bin-1.2-3.noarch.rpm")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Read(bytes.NewReader(nil)); !errors.Is(err, ErrNotRPM) {
		t.Errorf("empty input: %v", err)
	}
	if _, err := Read(strings.NewReader("<html>not an rpm</html>")); !errors.Is(err, ErrNotRPM) {
		t.Errorf("wrong magic: %v", err)
	}
	// Every truncation is reported as such, never a panic.
	p, _ := Read(bytes.NewReader(good))
	for n := 4; n < int(p.HeaderEnd); n++ {
		_, err := Read(bytes.NewReader(good[:n]))
		var fe *FormatError
		if !errors.As(err, &fe) || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("truncated at %d: %v", n, err)
		}
	}
	mainIdx := mainEntry(t, good, TagName)
	cases := []struct {
		name   string
		at     int    // where to patch
		patch  uint32 // big-endian value written there
		offset int64  // the FormatError's expected offset
		what   string // in its message
	}{
		{"signature type", 78 - 2, 0x00010003, 78, "signature type"},
		{"too many index entries", leadSize + 8, 0x7fffffff, leadSize + 8, "index entries"},
		{"too much data", leadSize + 12, 0x7fffffff, leadSize + 12, "bytes of data"},
		{"data offset out of range", mainIdx + 8, 0x00ffffff, int64(mainIdx), "outside"},
		{"negative data offset", mainIdx + 8, 0xfffffff0, int64(mainIdx), "outside"},
		{"absurd count", mainIdx + 12, 0xffffffff, int64(mainIdx), "count"},
		{"wrong type for NAME", mainIdx + 4, uint32(TypeInt32), int64(mainIdx), "tag 1000 has type 4"},
		{"unknown type", mainIdx + 4, 42, int64(mainIdx), "unknown type"},
		{"duplicate tag", mainIdx + 16, TagName, int64(mainIdx + 16), "twice"},
		{"main header magic", int(p.HeaderStart), 0xdeadbeef, p.HeaderStart, "magic"},
		{"no NAME", mainIdx, 999999, p.HeaderStart, "no tag 1000"},
	}
	for _, c := range cases {
		bad := bytes.Clone(good)
		binary.BigEndian.PutUint32(bad[c.at:], c.patch)
		_, err := Read(bytes.NewReader(bad))
		var fe *FormatError
		if !errors.As(err, &fe) || fe.Offset != c.offset || !strings.Contains(fe.What, c.what) {
			t.Errorf("%s: got %v, want a FormatError at %d about %q", c.name, err, c.offset, c.what)
		}
	}
}

// TestReadHugeCountsAllocateLittle checks that sizes read from the file
// are not trusted for allocation: a header claiming 256 MB of data in a
// short file costs about what the file holds.
func TestReadHugeCountsAllocateLittle(t *testing.T) {
	good, err := os.ReadFile("testdata/tiny-bin-1.2-3.noarch.rpm")
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(good)
	binary.BigEndian.PutUint32(bad[leadSize+8:], maxHeaderTags)
	binary.BigEndian.PutUint32(bad[leadSize+12:], maxHeaderData)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = Read(bytes.NewReader(bad))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("got %v, want a truncation", err)
	}
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 1<<20 {
		t.Errorf("Read allocated %d bytes for a %d-byte file", grown, len(bad))
	}
}

// limitMinimizing caps how long the fuzzer minimizes each new input
// unless -fuzzminimizetime is given: its default 60 s goes on quadratic
// byte-removal passes over these multi-kilobyte seeds, which starves the
// fuzzing itself.
func limitMinimizing(f *testing.F) {
	given := false
	flag.Visit(func(fl *flag.Flag) { given = given || fl.Name == "test.fuzzminimizetime" })
	if !given {
		if err := flag.Set("test.fuzzminimizetime", "1s"); err != nil {
			f.Fatal(err)
		}
	}
}

// fuzzSetup seeds a fuzz target with the testdata RPMs and triggersRPM.
func fuzzSetup(f *testing.F) {
	limitMinimizing(f)
	for _, name := range append(testdataRPMs[:len(testdataRPMs):len(testdataRPMs)], triggersRPM) {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

func FuzzRead(f *testing.F) {
	fuzzSetup(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Read(bytes.NewReader(data))
		if err != nil {
			var fe *FormatError
			if !errors.Is(err, ErrNotRPM) && !errors.As(err, &fe) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		if p.Name == "" && p.Header.get(TagName) == nil || p.HeaderEnd > int64(len(data)) || p.HeaderStart >= p.HeaderEnd {
			t.Fatalf("accepted a package without name or with header range %d-%d of %d bytes", p.HeaderStart, p.HeaderEnd, len(data))
		}
	})
}
