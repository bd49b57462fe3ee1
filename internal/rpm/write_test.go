package rpm

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gokoji/gokoji/internal/testenv"
)

func intp(i int) *int { return &i }

var sampleTime = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// sampleSpec is a binary package with every kind of file and dependency.
func sampleSpec() Spec {
	return Spec{
		Name: "hello", Version: "2.0", Release: "1.fc40", Epoch: intp(3), Arch: "noarch",
		SourceRPM: "hello-2.0-1.fc40.src.rpm",
		Summary:   "Says hello", Description: "Prints a greeting.\nTwo lines.", License: "MIT AND BSD",
		URL: "https://example.org/hello", Group: "Applications/System", Packager: "Koji <koji@example.org>",
		Vendor: "Example", BuildHost: "builder.example.org", BuildTime: sampleTime,
		Requires: []Dependency{
			{Name: "bash", Flags: DepGreater | DepEqual, Version: "4.0"},
			{Name: "coreutils"},
			{Name: "/bin/sh", Flags: DepScriptPre},
			{Name: "coreutils"},
		},
		Provides:  []Dependency{{Name: "greeter", Flags: DepEqual, Version: "1:5-6"}},
		Conflicts: []Dependency{{Name: "oldhello", Flags: DepLess, Version: "1.0"}},
		Obsoletes: []Dependency{{Name: "hi", Flags: DepLess | DepEqual, Version: "0.9"}},
		Files: []File{
			{Path: "/usr/share/hello/sub/greeting.txt", Body: []byte("hello, world\n")},
			{Path: "/usr/bin/hello", Mode: 0o755, Body: []byte("#!/bin/sh\necho hello\n")},
			{Path: "/usr/share/hello", Mode: fs.ModeDir | 0o755},
			{Path: "/usr/share/hello/sub", Mode: fs.ModeDir},
			{Path: "/usr/bin/hi", Mode: fs.ModeSymlink, Link: "hello"},
			{Path: "/etc/hello.conf", Mode: 0o600, Body: []byte("loud=1\n"), User: "nobody", Group: "nogroup"},
		},
	}
}

// samplePackage is what Read must return for sampleSpec, apart from the
// header range, SigMD5 and the headers themselves.
func samplePackage() *Package {
	rpmlib := DepRPMLib | DepLess | DepEqual
	return &Package{
		Name: "hello", Version: "2.0", Release: "1.fc40", Epoch: intp(3), Arch: "noarch",
		SourceRPM: "hello-2.0-1.fc40.src.rpm", BuildTime: sampleTime.Unix(), Size: 13 + 21 + 5 + 7,
		BuildHost: "builder.example.org", Summary: "Says hello", Description: "Prints a greeting.\nTwo lines.",
		License: "MIT AND BSD", URL: "https://example.org/hello", Group: "Applications/System",
		Packager: "Koji <koji@example.org>", Vendor: "Example",
		Requires: []Dependency{
			{"/bin/sh", DepScriptPre, ""}, {"bash", DepGreater | DepEqual, "4.0"}, {"coreutils", 0, ""},
			{"rpmlib(CompressedFileNames)", rpmlib, "3.0.4-1"}, {"rpmlib(FileDigests)", rpmlib, "4.6.0-1"},
			{"rpmlib(PayloadFilesHavePrefix)", rpmlib, "4.0-1"},
		},
		Provides:  []Dependency{{"greeter", DepEqual, "1:5-6"}, {"hello", DepEqual, "3:2.0-1.fc40"}},
		Conflicts: []Dependency{{"oldhello", DepLess, "1.0"}},
		Obsoletes: []Dependency{{"hi", DepLess | DepEqual, "0.9"}},
		Files: []string{"/etc/hello.conf", "/usr/bin/hello", "/usr/bin/hi", "/usr/share/hello",
			"/usr/share/hello/sub", "/usr/share/hello/sub/greeting.txt"},
	}
}

// quickSpec is the spec of the SRPM the quickstart builds: noarch, one
// source installed as a data file.
const quickSpec = `Name: quick
Version: 1.0
Release: 1
Summary: Quickstart example
License: MIT
BuildArch: noarch
Source0: quick.txt
%description
The quickstart's package.
%prep
%build
%install
mkdir -p %{buildroot}/usr/share/quick
install -m 644 %{SOURCE0} %{buildroot}/usr/share/quick/
%files
/usr/share/quick/quick.txt
`

func sampleSRPM() Spec {
	return Spec{
		Name: "quick", Version: "1.0", Release: "1", Source: true, Arch: "ignored",
		Summary: "Quickstart example", Description: "The quickstart's package.", License: "MIT",
		BuildTime: sampleTime,
		Files: []File{
			{Path: "quick.txt", Body: []byte("quick\n")},
			{Path: "quick.spec", Body: []byte(quickSpec)},
		},
	}
}

func writeSpec(t *testing.T, dir string, s Spec) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, s); err != nil {
		t.Fatalf("Write: %v", err)
	}
	name := s.Name + "-" + s.Version + "-" + s.Release + "." + s.Arch + ".rpm"
	if s.Source {
		name = s.Name + "-" + s.Version + "-" + s.Release + ".src.rpm"
	}
	file := filepath.Join(dir, name)
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// checkDigests recomputes the signature header's digests over the file.
func checkDigests(t *testing.T, p *Package, data []byte) {
	t.Helper()
	hdrSum := sha256.Sum256(data[p.HeaderStart:p.HeaderEnd])
	if s, _ := p.Signature.String(SigTagSHA256); s != hex.EncodeToString(hdrSum[:]) {
		t.Errorf("SHA256 header digest %q, want %x", s, hdrSum)
	}
	md := md5.Sum(data[p.HeaderStart:])
	if !bytes.Equal(p.SigMD5, md[:]) {
		t.Errorf("SigMD5 %x, want %x", p.SigMD5, md)
	}
	payload := data[p.HeaderEnd:]
	paySum := sha256.Sum256(payload)
	if d, _ := p.Header.Strings(TagPayloadDigest); len(d) != 1 || d[0] != hex.EncodeToString(paySum[:]) {
		t.Errorf("payload digest %q, want %x", d, paySum)
	}
	if n, _ := p.Signature.Ints(SigTagSize); len(n) != 1 || n[0] != int64(len(data))-p.HeaderStart {
		t.Errorf("signature size %v, want %d", n, int64(len(data))-p.HeaderStart)
	}
}

func TestWriteRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, sampleSpec()); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	p, err := Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	checkDigests(t, p, data)
	got := *p
	got.HeaderStart, got.HeaderEnd, got.SigMD5, got.Header, got.Signature = 0, 0, nil, nil, nil
	if want := samplePackage(); !reflect.DeepEqual(&got, want) {
		t.Errorf("Read(Write(spec)):\n got %+v\nwant %+v", got, *want)
	}
	if p.Filename() != "hello-2.0-1.fc40.noarch.rpm" {
		t.Errorf("Filename %q", p.Filename())
	}

	type file struct {
		mode        fs.FileMode
		body, link  string
		mtime, size int64
	}
	want := map[string]file{
		"/etc/hello.conf":                   {0o600, "loud=1\n", "", sampleTime.Unix(), 7},
		"/usr/bin/hello":                    {0o755, "#!/bin/sh\necho hello\n", "", sampleTime.Unix(), 21},
		"/usr/bin/hi":                       {fs.ModeSymlink | 0o777, "", "hello", sampleTime.Unix(), 5},
		"/usr/share/hello":                  {fs.ModeDir | 0o755, "", "", sampleTime.Unix(), 0},
		"/usr/share/hello/sub":              {fs.ModeDir | 0o755, "", "", sampleTime.Unix(), 0},
		"/usr/share/hello/sub/greeting.txt": {0o644, "hello, world\n", "", sampleTime.Unix(), 13},
	}
	got2 := map[string]file{}
	var order []string
	err = ReadPayload(bytes.NewReader(data), func(f PayloadFile, body io.Reader) error {
		b, err := io.ReadAll(body)
		got2[f.Path] = file{f.Mode, string(b), f.Link, f.ModTime.Unix(), f.Size}
		order = append(order, f.Path)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got2, want) {
		t.Errorf("payload:\n got %v\nwant %v", got2, want)
	}
	if !reflect.DeepEqual(order, p.Files) {
		t.Errorf("payload order %v, header order %v", order, p.Files)
	}
}

func TestWriteSourceRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, sampleSRPM()); err != nil {
		t.Fatal(err)
	}
	p, err := Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	checkDigests(t, p, buf.Bytes())
	if !p.SourcePackage || p.Arch != "src" || p.SourceRPM != "" || p.Filename() != "quick-1.0-1.src.rpm" {
		t.Errorf("source package: %v arch %q sourcerpm %q filename %q", p.SourcePackage, p.Arch, p.SourceRPM, p.Filename())
	}
	if arch, _ := p.Header.String(TagArch); arch == "" || arch == "src" || arch == "ignored" {
		t.Errorf("SRPM header arch %q, want the build machine's", arch)
	}
	if !reflect.DeepEqual(p.Files, []string{"quick.spec", "quick.txt"}) {
		t.Errorf("files %v", p.Files)
	}
	if flags, _ := p.Header.Ints(TagFileFlags); !reflect.DeepEqual(flags, []int64{fileSpecFile, 0}) {
		t.Errorf("file flags %v: the spec must be marked", flags)
	}
	if lead := buf.Bytes()[6:8]; lead[1] != leadTypeSource {
		t.Errorf("lead type %v", lead)
	}
}

func TestWriteInvalidSpec(t *testing.T) {
	cases := map[string]func(s *Spec){
		"no name":             func(s *Spec) { s.Name = "" },
		"space in name":       func(s *Spec) { s.Name = "a b" },
		"dash in version":     func(s *Spec) { s.Version = "1-2" },
		"dash in release":     func(s *Spec) { s.Release = "1-2" },
		"negative epoch":      func(s *Spec) { s.Epoch = intp(-1) },
		"no arch":             func(s *Spec) { s.Arch = "" },
		"version without op":  func(s *Spec) { s.Requires = []Dependency{{Name: "x", Version: "1"}} },
		"op without version":  func(s *Spec) { s.Requires = []Dependency{{Name: "x", Flags: DepEqual}} },
		"empty dep name":      func(s *Spec) { s.Provides = []Dependency{{}} },
		"relative path":       func(s *Spec) { s.Files[0].Path = "usr/x" },
		"unclean path":        func(s *Spec) { s.Files[0].Path = "/usr/../x" },
		"duplicate path":      func(s *Spec) { s.Files[1].Path = s.Files[0].Path },
		"dir with body":       func(s *Spec) { s.Files[2].Body = []byte("x") },
		"symlink no target":   func(s *Spec) { s.Files[4].Link = "" },
		"file with link":      func(s *Spec) { s.Files[0].Link = "x" },
		"device":              func(s *Spec) { s.Files[0].Mode = fs.ModeDevice },
		"build time 1960":     func(s *Spec) { s.BuildTime = time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC) },
		"file time 2200":      func(s *Spec) { s.Files[0].ModTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC) },
		"srpm without spec":   func(s *Spec) { *s = sampleSRPM(); s.Files = s.Files[:1] },
		"srpm with directory": func(s *Spec) { *s = sampleSRPM(); s.Files[0].Path = "sub/quick.txt" },
		"srpm two specs":      func(s *Spec) { *s = sampleSRPM(); s.Files[0].Path = "other.spec" },
	}
	for name, mutate := range cases {
		s := sampleSpec()
		mutate(&s)
		var buf bytes.Buffer
		if err := Write(&buf, s); !errors.Is(err, ErrInvalidSpec) || buf.Len() != 0 {
			t.Errorf("%s: got %v and %d bytes, want ErrInvalidSpec and nothing written", name, err, buf.Len())
		}
	}
}

// TestWriteQueryByRPM checks that rpm reads what Write wrote as Read does
// (and TestWriteRoundTrip that Read gives back the spec).
func TestWriteQueryByRPM(t *testing.T) {
	dir := t.TempDir()
	for _, s := range []Spec{sampleSpec(), sampleSRPM()} {
		file := writeSpec(t, dir, s)
		p, data := readBytes(t, file)
		if got, want := describe(p, data), rpmQuery(t, file); got != want {
			t.Errorf("%s:\n Read: %s\n  rpm: %s", file, got, want)
		}
	}
	// rpm -qip shows the SRPM's fields.
	info := runTool(t, "rpm", "-qip", filepath.Join(dir, "quick-1.0-1.src.rpm"))
	for _, want := range []string{"Name        : quick", "Version     : 1.0", "License     : MIT", "Summary     : Quickstart example"} {
		if !strings.Contains(info, want) {
			t.Errorf("rpm -qip lacks %q:\n%s", want, info)
		}
	}
}

// runTool runs an installed program (stopping the test when it is missing)
// and returns its combined output, failing the test when it fails.
func runTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := toolOutput(t, name, args...)
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return out
}

func toolOutput(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(testenv.Command(t, name), args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestWriteDigestsVerifyByRPM(t *testing.T) {
	dir := t.TempDir()
	for _, s := range []Spec{sampleSpec(), sampleSRPM()} {
		file := writeSpec(t, dir, s)
		out := runTool(t, "rpmkeys", "--checksig", "--nosignature", file)
		if !strings.Contains(out, "digests OK") {
			t.Errorf("rpmkeys --checksig: %s", out)
		}
		out = runTool(t, "rpmkeys", "--checksig", "--nosignature", "-v", file)
		for _, d := range []string{"Header SHA256 digest: OK", "Header SHA1 digest: OK", "Payload SHA256 digest: OK", "MD5 digest: OK"} {
			if !strings.Contains(out, d) {
				t.Errorf("rpmkeys -v lacks %q:\n%s", d, out)
			}
		}
	}
	// The check is real: a flipped payload byte fails it.
	file := filepath.Join(dir, "hello-2.0-1.fc40.noarch.rpm")
	p, data := readBytes(t, file)
	data[p.HeaderEnd+20] ^= 0xff
	bad := filepath.Join(dir, "bad.rpm")
	if err := os.WriteFile(bad, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := toolOutput(t, "rpmkeys", "--checksig", "--nosignature", bad); err == nil || strings.Contains(out, "digests OK") {
		t.Errorf("corrupt payload passed rpmkeys: %v %s", err, out)
	}
}
