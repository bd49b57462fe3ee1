package rpm

import (
	"compress/gzip"
	"encoding/xml"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestWritePayloadExtractsByRPM unpacks written packages with rpm's own
// archive reader (rpm2archive, then tar) and, when running as root, by
// installing into a scratch root, which also checks the file digests.
func TestWritePayloadExtractsByRPM(t *testing.T) {
	dir := t.TempDir()
	file := writeSpec(t, dir, sampleSpec())
	runTool(t, "rpm2archive", file)
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	runTool(t, "tar", "-xzf", file+".tgz", "-C", out)
	checkTree(t, out)

	if os.Geteuid() != 0 {
		t.Log("not root: skipping the rpm -i check")
		return
	}
	root := filepath.Join(dir, "root")
	runTool(t, "rpm", "-i", "--root", root, "--nodeps", "--noscripts", file)
	checkTree(t, root)
	if v := runTool(t, "rpm", "-V", "--root", root, "--nodeps", "--nouser", "--nogroup", "hello"); strings.TrimSpace(v) != "" {
		t.Errorf("rpm -V after install: %s", v)
	}
}

// checkTree compares the files of sampleSpec under root with the spec.
func checkTree(t *testing.T, root string) {
	t.Helper()
	for _, f := range sampleSpec().Files {
		p := filepath.Join(root, f.Path)
		st, err := os.Lstat(p)
		if err != nil {
			t.Error(err)
			continue
		}
		switch f.Mode.Type() {
		case fs.ModeSymlink:
			if target, _ := os.Readlink(p); target != f.Link {
				t.Errorf("%s -> %q, want %q", f.Path, target, f.Link)
			}
		case fs.ModeDir:
			if !st.IsDir() {
				t.Errorf("%s is %v, want a directory", f.Path, st.Mode())
			}
		default:
			body, _ := os.ReadFile(p)
			want := f.Mode
			if want.Perm() == 0 {
				want |= 0o644 // Write's default
			}
			if string(body) != string(f.Body) || st.Mode() != want || !st.ModTime().Equal(sampleTime) {
				t.Errorf("%s: %q mode %v mtime %v, want %q %v %v", f.Path, body, st.Mode(), st.ModTime(), f.Body, want, sampleTime)
			}
		}
	}
}

// repomd is what the test reads of createrepo's primary.xml and
// filelists.xml.
type repomd struct {
	Packages []struct {
		Name     string `xml:"name"`
		NameAttr string `xml:"name,attr"` // filelists.xml's
		Arch     string `xml:"arch"`
		Version  struct {
			Epoch string `xml:"epoch,attr"`
			Ver   string `xml:"ver,attr"`
			Rel   string `xml:"rel,attr"`
		} `xml:"version"`
		Location struct {
			Href string `xml:"href,attr"`
		} `xml:"location"`
		Format struct {
			SourceRPM   string `xml:"sourcerpm"`
			HeaderRange struct {
				Start int64 `xml:"start,attr"`
				End   int64 `xml:"end,attr"`
			} `xml:"header-range"`
			Provides  []repoEntry `xml:"provides>entry"`
			Requires  []repoEntry `xml:"requires>entry"`
			Conflicts []repoEntry `xml:"conflicts>entry"`
			Obsoletes []repoEntry `xml:"obsoletes>entry"`
			Files     []string    `xml:"file"` // primary.xml's
		} `xml:"format"`
		Files []string `xml:"file"` // filelists.xml's
	} `xml:"package"`
}

type repoEntry struct {
	Name  string `xml:"name,attr"`
	Flags string `xml:"flags,attr"`
	Epoch string `xml:"epoch,attr"`
	Ver   string `xml:"ver,attr"`
	Rel   string `xml:"rel,attr"`
	Pre   string `xml:"pre,attr"`
}

func readRepoXML(t *testing.T, repo, kind string) repomd {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(repo, "repodata", "*"+kind+".xml.gz"))
	if len(files) != 1 {
		t.Fatalf("repodata %s: %v", kind, files)
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var md repomd
	if err := xml.NewDecoder(zr).Decode(&md); err != nil {
		t.Fatal(err)
	}
	return md
}

// TestWriteCreaterepo runs createrepo_c on a written binary RPM and SRPM
// and checks its metadata against the spec.
func TestWriteCreaterepo(t *testing.T) {
	repo := t.TempDir()
	bin := writeSpec(t, repo, sampleSpec())
	writeSpec(t, repo, sampleSRPM())
	runTool(t, "createrepo_c", "--quiet", repo)
	primary := readRepoXML(t, repo, "primary")
	if len(primary.Packages) != 2 {
		t.Fatalf("primary.xml lists %d packages", len(primary.Packages))
	}
	var gotHello bool
	p, err := ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range primary.Packages {
		switch pkg.Name {
		case "quick":
			if pkg.Arch != "src" || pkg.Location.Href != "quick-1.0-1.src.rpm" || pkg.Format.SourceRPM != "" {
				t.Errorf("SRPM in primary.xml: %+v", pkg)
			}
		case "hello":
			gotHello = true
			f := pkg.Format
			if pkg.Arch != "noarch" || pkg.Version.Epoch != "3" || pkg.Version.Ver != "2.0" || pkg.Version.Rel != "1.fc40" ||
				f.SourceRPM != "hello-2.0-1.fc40.src.rpm" || pkg.Location.Href != "hello-2.0-1.fc40.noarch.rpm" {
				t.Errorf("package in primary.xml: %+v", pkg)
			}
			if f.HeaderRange.Start != p.HeaderStart || f.HeaderRange.End != p.HeaderEnd {
				t.Errorf("header-range %+v, Read says %d-%d", f.HeaderRange, p.HeaderStart, p.HeaderEnd)
			}
			check := func(kind string, got, want []repoEntry) {
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s:\n got %+v\nwant %+v", kind, got, want)
				}
			}
			check("provides", f.Provides, []repoEntry{
				{Name: "greeter", Flags: "EQ", Epoch: "1", Ver: "5", Rel: "6"},
				{Name: "hello", Flags: "EQ", Epoch: "3", Ver: "2.0", Rel: "1.fc40"},
			})
			check("requires", f.Requires, []repoEntry{
				{Name: "/bin/sh", Pre: "1"},
				{Name: "bash", Flags: "GE", Epoch: "0", Ver: "4.0"},
				{Name: "coreutils"},
			})
			check("conflicts", f.Conflicts, []repoEntry{{Name: "oldhello", Flags: "LT", Epoch: "0", Ver: "1.0"}})
			check("obsoletes", f.Obsoletes, []repoEntry{{Name: "hi", Flags: "LE", Epoch: "0", Ver: "0.9"}})
			// createrepo's Op and Pre are what DepFlags computes.
			for _, d := range p.Requires {
				if d.Name == "bash" && d.Flags.Op() != "GE" || d.Name == "/bin/sh" && !d.Flags.Pre() {
					t.Errorf("DepFlags of %+v: Op %q Pre %v", d, d.Flags.Op(), d.Flags.Pre())
				}
			}
			// primary.xml lists only the "primary" files (/etc, bin dirs).
			if want := []string{"/etc/hello.conf", "/usr/bin/hello", "/usr/bin/hi"}; !reflect.DeepEqual(f.Files, want) {
				t.Errorf("primary files %v, want %v", f.Files, want)
			}
		}
	}
	if !gotHello {
		t.Error("primary.xml lacks hello")
	}
	var listed bool
	for _, pkg := range readRepoXML(t, repo, "filelists").Packages {
		if pkg.NameAttr == "hello" {
			listed = true
			if !reflect.DeepEqual(pkg.Files, samplePackage().Files) {
				t.Errorf("filelists: %v, want %v", pkg.Files, samplePackage().Files)
			}
		}
	}
	if !listed {
		t.Error("filelists.xml lacks hello")
	}
}

// TestWriteSRPMRebuild builds a written SRPM with rpmbuild --rebuild, as
// the quickstart does when it has rpmbuild.
func TestWriteSRPMRebuild(t *testing.T) {
	srpm := writeSpec(t, t.TempDir(), sampleSRPM())
	top := t.TempDir()
	runTool(t, "rpmbuild", "--rebuild", "--define", "_topdir "+top, "--define", "_binary_payload w9.gzdio", srpm)
	built := filepath.Join(top, "RPMS", "noarch", "quick-1.0-1.noarch.rpm")
	p, err := ReadFile(built)
	if err != nil {
		t.Fatal(err)
	}
	if p.SourceRPM != "quick-1.0-1.src.rpm" || !reflect.DeepEqual(p.Files, []string{"/usr/share/quick/quick.txt"}) {
		t.Errorf("rebuilt package: sourcerpm %q files %v", p.SourceRPM, p.Files)
	}
	f, err := os.Open(built)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var body string
	err = ReadPayload(f, func(pf PayloadFile, r io.Reader) error {
		b, err := io.ReadAll(r)
		body += pf.Path + ":" + string(b)
		return err
	})
	if err != nil || body != "/usr/share/quick/quick.txt:quick\n" {
		t.Errorf("payload %q, %v", body, err)
	}
}
