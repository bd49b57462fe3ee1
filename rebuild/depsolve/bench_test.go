package depsolve_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/gokoji/gokoji/rebuild/depsolve"
	"github.com/gokoji/gokoji/rebuild/repodata"
)

// The generated repo's shape, after Fedora's x86_64 repo: 60,000 binary
// packages, a core of libraries everything links against, each package
// requiring a few core libraries and a few packages below it (biased
// towards the bottom of the stack), sonames and virtual provides, file
// requires on /usr/bin, versioned requires, i686 multilib copies of the
// core, older versions of some packages beside the newest.
const (
	fedoraPackages = 60_000
	fedoraCore     = 300
	fedoraI686     = 3_000
)

var (
	fedoraOnce    sync.Once
	fedoraPrimary []byte // gzip-compressed primary.xml
)

func pkgName(i int) string { return fmt.Sprintf("p%05d", i) }

// writeFedoraPrimary writes the generated primary.xml to w.
func writeFedoraPrimary(w io.Writer) {
	rng := rand.New(rand.NewPCG(44, 60))
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, `<?xml version="1.0" encoding="UTF-8"?>
<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="%d">
`, fedoraPackages)
	entry := func(name, flags, ver string) {
		if flags == "" {
			fmt.Fprintf(bw, "      <rpm:entry name=\"%s\"/>\n", name)
			return
		}
		fmt.Fprintf(bw, "      <rpm:entry name=\"%s\" flags=\"%s\" epoch=\"0\" ver=\"%s\" rel=\"1.fc44\"/>\n", name, flags, ver)
	}
	isLib := func(i int) bool { return i < fedoraCore || i%5 < 2 }
	archOf := func(i int) string {
		if i%4 == 1 && !isLib(i) {
			return "noarch"
		}
		return "x86_64"
	}
	// dependency is what requiring package j looks like.
	dependency := func(j int) {
		switch {
		case isLib(j):
			entry(fmt.Sprintf("lib%s.so.1()(64bit)", pkgName(j)), "", "")
		case j%10 == 3:
			entry("/usr/bin/"+pkgName(j), "", "")
		case j%10 == 4:
			entry(pkgName(j), "GE", "1.0")
		case archOf(j) == "noarch":
			entry(pkgName(j), "", "")
		default:
			entry(fmt.Sprintf("%s(x86-64)", pkgName(j)), "", "")
		}
	}
	written := 0
	pkg := func(i int, arch, ver string) {
		written++
		name := pkgName(i)
		fmt.Fprintf(bw, `<package type="rpm">
  <name>%s</name>
  <arch>%s</arch>
  <version epoch="0" ver="%s" rel="1.fc44"/>
  <checksum type="sha256" pkgid="YES">%064x</checksum>
  <summary>generated package %d</summary>
  <description>A generated package.</description>
  <packager>Fedora Project</packager>
  <url>https://example.org/%s</url>
  <time file="1796664571" build="1796664000"/>
  <size package="123456" installed="456789" archive="460000"/>
  <location href="Packages/%s-%s-1.fc44.%s.rpm"/>
  <format>
    <rpm:license>MIT</rpm:license>
    <rpm:sourcerpm>%s-%s-1.fc44.src.rpm</rpm:sourcerpm>
    <rpm:header-range start="4504" end="23456"/>
    <rpm:provides>
`, name, arch, ver, i, i, name, name, ver, arch, name, ver)
		entry(name, "EQ", ver)
		if arch != "noarch" {
			suffix := "x86-64"
			if arch == "i686" {
				suffix = "x86-32"
			}
			entry(name+"("+suffix+")", "EQ", ver)
		}
		if isLib(i) {
			soname := fmt.Sprintf("lib%s.so.1()(64bit)", name)
			if arch == "i686" {
				soname = fmt.Sprintf("lib%s.so.1", name)
			}
			entry(soname, "", "")
		}
		if i%5 == 2 {
			entry(fmt.Sprintf("perl(P%05d::Util)", i), "EQ", ver)
			entry(fmt.Sprintf("python3.13dist(p%05d)", i), "EQ", ver)
		}
		fmt.Fprintf(bw, "    </rpm:provides>\n    <rpm:requires>\n")
		entry("rpmlib(CompressedFileNames)", "LE", "3.0.4")
		entry("rpmlib(PayloadFilesHavePrefix)", "LE", "4.0")
		if i > 0 {
			for range 3 {
				dependency(rng.IntN(min(i, fedoraCore)))
			}
		}
		if i >= fedoraCore {
			for range 4 {
				u := rng.Float64()
				dependency(int(float64(i) * u * u * u))
			}
			if i%50 == 7 {
				entry(fmt.Sprintf("(%s if %s)", pkgName(i-1), pkgName(i-2)), "", "")
			}
		}
		fmt.Fprintf(bw, "    </rpm:requires>\n")
		if i%7 == 0 {
			fmt.Fprintf(bw, "    <rpm:obsoletes>\n")
			entry(name+"-compat", "LT", "0.9")
			fmt.Fprintf(bw, "    </rpm:obsoletes>\n")
		}
		if i%10 == 3 || i < fedoraCore {
			fmt.Fprintf(bw, "    <file>/usr/bin/%s</file>\n", name)
		}
		if i%10 == 5 {
			fmt.Fprintf(bw, "    <file>/etc/%s.conf</file>\n    <file type=\"dir\">/etc/%s.d</file>\n", name, name)
		}
		fmt.Fprintf(bw, "  </format>\n</package>\n")
	}
	older := 0
	for i := 0; written < fedoraPackages; i++ {
		arch := archOf(i)
		pkg(i, arch, "1.2")
		if i < fedoraI686 && isLib(i) {
			pkg(i, "i686", "1.2")
		}
		if i%20 == 0 && older < 2000 {
			older++
			pkg(i, arch, "1.1")
		}
	}
	fmt.Fprintf(bw, "</metadata>\n")
	if err := bw.Flush(); err != nil {
		panic(err)
	}
}

// fedoraRepo writes the generated repo into a new directory.
func fedoraRepo(b *testing.B) string {
	fedoraOnce.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		size := &countingWriter{w: zw}
		writeFedoraPrimary(size)
		b.Logf("generated primary.xml: %d packages, %d MB, %d MB gzipped", fedoraPackages, size.n>>20, buf.Len()>>20)
		if err := zw.Close(); err != nil {
			b.Fatal(err)
		}
		fedoraPrimary = buf.Bytes()
	})
	dir := b.TempDir()
	sum := sha256.Sum256(fedoraPrimary)
	hexSum := hex.EncodeToString(sum[:])
	href := "repodata/" + hexSum + "-primary.xml.gz"
	md := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">
  <revision>1796664571</revision>
  <data type="primary">
    <checksum type="sha256">%s</checksum>
    <location href="%s"/>
    <timestamp>1796664571</timestamp>
    <size>%d</size>
  </data>
</repomd>
`, hexSum, href, len(fedoraPrimary))
	if err := os.MkdirAll(filepath.Join(dir, "repodata"), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "repodata", "repomd.xml"), []byte(md), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(href)), fedoraPrimary, 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}

func loadFedora(b *testing.B, dir string) *depsolve.Index {
	repo, err := (&repodata.Loader{}).Load(context.Background(), dir)
	if err != nil {
		b.Fatal(err)
	}
	return depsolve.NewIndex(repo.Packages)
}

// BenchmarkLoadFedoraSized reads and indexes the generated repo:
// repomd.xml, primary.xml.gz decompressed, parsed, checksum verified,
// then indexed by provides, files and names.
func BenchmarkLoadFedoraSized(b *testing.B) {
	dir := fedoraRepo(b)
	b.SetBytes(int64(len(fedoraPrimary)))
	for b.Loop() {
		if x := loadFedora(b, dir); x.Len() != fedoraPackages {
			b.Fatalf("%d packages", x.Len())
		}
	}
}

// BenchmarkResolveFedoraSized resolves one package's build requirements
// (20 packages of the middle of the stack, by name, provides, soname,
// file and versioned requires) plus a build group of 15 core packages
// against the generated repo; each iteration takes the next of 64
// packages. It reports the packages installed and the distances found,
// on average over the 64.
func BenchmarkResolveFedoraSized(b *testing.B) {
	x := loadFedora(b, fedoraRepo(b))
	var mem runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&mem)
	b.Logf("heap with the index loaded: %d MB", mem.HeapAlloc>>20)
	rng := rand.New(rand.NewPCG(8, 50))
	var group []string
	for i := range 15 {
		group = append(group, pkgName(i))
	}
	reqs := make([]depsolve.Request, 64)
	for n := range reqs {
		reqs[n] = depsolve.Request{Arch: "x86_64", Group: group}
		for k := range 20 {
			j := fedoraCore + rng.IntN(fedoraPackages/2)
			e := repodata.Entry{Name: pkgName(j)}
			switch k % 4 {
			case 1:
				e = repodata.Entry{Name: pkgName(j), Flags: repodata.GE, EVR: repodata.EVR{Version: "1.2"}}
			case 2:
				e.Name = fmt.Sprintf("perl(P%05d::Util)", j-j%5+2)
			case 3:
				e.Name = "/usr/bin/" + pkgName(j-j%10+3)
			}
			reqs[n].Requires = append(reqs[n].Requires, e)
		}
	}
	ctx := context.Background()
	n := 0
	for b.Loop() {
		res, err := x.Resolve(ctx, reqs[n%len(reqs)])
		if err != nil {
			b.Fatal(err)
		}
		if !res.OK() {
			b.Fatalf("problems: %v", res.Problems)
		}
		n++
	}
	// The sizes are the means over the 64 requests, whatever b.N was.
	installed, distances := 0, 0
	for _, req := range reqs {
		res, err := x.Resolve(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		installed += len(res.Installed)
		distances += len(res.Distances)
	}
	b.ReportMetric(float64(installed)/float64(len(reqs)), "installed/op")
	b.ReportMetric(float64(distances)/float64(len(reqs)), "distances/op")
}

// countingWriter counts what goes through it.
type countingWriter struct {
	w io.Writer
	n int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += len(p)
	return c.w.Write(p)
}
