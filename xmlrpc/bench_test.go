package xmlrpc_test

// Benchmarks of the decoder and encoder on a listTagged response the size a
// large Koji tag produces (44 MB, 20,000 builds), against
// github.com/kolo/xmlrpc and, when python3 is present, Python's
// xmlrpc.client. See BENCHMARKS.md for the figures and how to run them.

import (
	"bytes"
	"fmt"
	"io"
	"iter"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	kolo "github.com/kolo/xmlrpc"

	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/xmlrpc"
)

// benchBuild is one entry of Koji's listTagged answer, with the members of
// testdata/wire/listTagged.response.xml in the order the hub writes them
// (alphabetical). Timestamps stay strings, as the hub sends them, so that
// kolo/xmlrpc (which cannot read a string into a time.Time) decodes the
// same type.
type benchBuild struct {
	BuildID         int     `xmlrpc:"build_id"`
	CompletionTime  string  `xmlrpc:"completion_time"`
	CreateEvent     int     `xmlrpc:"create_event"`
	CreationEventID int     `xmlrpc:"creation_event_id"`
	CreationTime    string  `xmlrpc:"creation_time"`
	Draft           bool    `xmlrpc:"draft"`
	Epoch           *int    `xmlrpc:"epoch"`
	ID              int     `xmlrpc:"id"`
	Name            string  `xmlrpc:"name"`
	NVR             string  `xmlrpc:"nvr"`
	OwnerID         int     `xmlrpc:"owner_id"`
	OwnerName       string  `xmlrpc:"owner_name"`
	PackageID       int     `xmlrpc:"package_id"`
	PackageName     string  `xmlrpc:"package_name"`
	PromoterID      *int    `xmlrpc:"promoter_id"`
	PromoterName    *string `xmlrpc:"promoter_name"`
	PromotionTime   *string `xmlrpc:"promotion_time"`
	Release         string  `xmlrpc:"release"`
	StartTime       string  `xmlrpc:"start_time"`
	State           int     `xmlrpc:"state"`
	TagID           int     `xmlrpc:"tag_id"`
	TagName         string  `xmlrpc:"tag_name"`
	TaskID          *int    `xmlrpc:"task_id"`
	Version         string  `xmlrpc:"version"`
	VolumeID        int     `xmlrpc:"volume_id"`
	VolumeName      string  `xmlrpc:"volume_name"`
}

// benchBuildCount is the number of builds in the benchmark document.
const benchBuildCount = 20000

// Parts of realistic source package names, as found in Fedora and RHEL.
var (
	benchNamePrefixes = []string{
		"", "", "python-", "python-", "golang-github-", "golang-github-", "rust-", "rust-",
		"perl-", "ghc-", "nodejs-", "texlive-", "php-pecl-", "R-", "ocaml-", "mingw-",
		"java-", "rubygem-", "gnome-shell-extension-", "kf6-", "qt6-", "libreoffice-",
	}
	benchNameStems = []string{
		"kernel", "glibc", "systemd", "openssl", "NetworkManager", "prometheus-client",
		"tokio-util", "django-rest-framework", "Test-Harness", "typescript", "aiohttp",
		"cryptography", "sqlalchemy", "pydantic-core", "serde-json", "hyper-rustls",
		"opentelemetry-collector", "kubernetes-client", "containers-storage", "podman",
		"buildah", "skopeo", "grpc-gateway", "protobuf", "ansible-collection-community",
		"cockpit-machines", "gstreamer1-plugins-bad-free", "mesa", "llvm", "gcc-toolset",
		"libvirt-daemon-driver", "qemu-kvm", "anaconda-webui", "dnf-plugins-core",
		"Unicode-LineBreak", "Devel-NYTProf", "aws-sdk-go-v2", "golang-x-crypto",
		"spring-boot-autoconfigure", "hibernate-validator", "rpm-ostree", "bootc",
		"azure-mgmt-containerservice", "googleapis-gax-go", "collection-latexextra",
		"sphinxcontrib-applehelp", "jupyterlab-server", "opentelemetry-instrumentation-asgi",
		"elasticsearch-dsl", "apache-commons-configuration", "maven-surefire-provider-junit5",
	}
	benchNameSuffixes = []string{
		"", "", "", "", "-compat", "-extras", "-doc", "-tests", "-bootstrap", "-lib",
	}
	benchDists = []string{"fc41", "fc42", "fc43", "el9", "el9_6", "el10", "el10_1", "eln150"}
	benchUsers = []string{
		"kojiadmin", "releng-bot", "packit", "distrobaker", "mbs-automation",
		"abrewer", "cmoreno", "dkovacs", "eokafor", "fnakamura", "gliu", "hsvensson",
		"ipatel", "jnovak", "kmueller", "lrossi", "mhansen", "nsato", "ooconnor",
		"pdubois", "qzhang", "rgarcia", "sivanova", "tlindqvist", "uahmed",
	}
	benchTags = []string{
		"rhel-10.1.0-z-candidate", "rhel-10.1.0-z-build", "rhel-10.1.0-gate",
		"rhel-10.0.0-z-candidate",
	}
)

// benchHubTime formats a timestamp as the hub sends a database timestamp:
// Python's str() of an aware datetime, which leaves out the fraction when it
// is zero.
func benchHubTime(t time.Time) string {
	if t.Nanosecond() == 0 {
		return t.UTC().Format("2006-01-02 15:04:05-07:00")
	}
	return t.UTC().Format("2006-01-02 15:04:05.000000-07:00")
}

// benchBuilds returns n listTagged entries, deterministically, varied the way
// a real tag's builds vary: some packages have several builds, some builds
// have an epoch, a tenth are imports without a task, a few were promoted
// from drafts.
func benchBuilds(n int) iter.Seq[benchBuild] {
	return func(yield func(benchBuild) bool) {
		rng := rand.New(rand.NewPCG(20261122, uint64(n)))
		type pkg struct {
			id                     int
			name, version, release string
			epoch                  *int
		}
		pkgs := make([]pkg, max(n/4, 1))
		for i := range pkgs {
			p := &pkgs[i]
			p.id = 1000 + i*7 + rng.IntN(7)
			p.name = benchNamePrefixes[rng.IntN(len(benchNamePrefixes))] +
				benchNameStems[rng.IntN(len(benchNameStems))] +
				benchNameSuffixes[rng.IntN(len(benchNameSuffixes))]
			if rng.IntN(2) == 0 {
				p.name += "-" + benchNameStems[rng.IntN(len(benchNameStems))]
			}
			p.name = strings.ToLower(p.name[:1]) + p.name[1:]
			if rng.IntN(7) == 0 {
				e := 1 + rng.IntN(3)
				p.epoch = &e
			}
		}
		start := time.Date(2019, 3, 1, 8, 0, 0, 0, time.UTC)
		event := 1_200_000
		for i := range n {
			p := &pkgs[rng.IntN(len(pkgs))]
			// a new version: semver, major.minor, a kernel-style
			// release candidate, or a date
			switch rng.IntN(4) {
			case 0:
				p.version = fmt.Sprintf("%d.%d.%d", rng.IntN(5), rng.IntN(40), rng.IntN(20))
			case 1:
				p.version = fmt.Sprintf("%d.%d", 1+rng.IntN(30), rng.IntN(12))
			case 2:
				p.version = fmt.Sprintf("%d.%d.%d~rc%d", 5+rng.IntN(2), rng.IntN(20), rng.IntN(200), 1+rng.IntN(5))
			default:
				p.version = fmt.Sprintf("%d%02d%02d", 2019+rng.IntN(8), 1+rng.IntN(12), 1+rng.IntN(28))
			}
			dist := benchDists[rng.IntN(len(benchDists))]
			switch rng.IntN(5) {
			case 0:
				p.release = fmt.Sprintf("%d.%s", 1+rng.IntN(40), dist)
			case 1: // a snapshot
				day := start.AddDate(0, 0, rng.IntN(8*365)).Format("20060102")
				p.release = fmt.Sprintf("0.%d.%sgit%07x.%s", 1+rng.IntN(30), day, rng.Uint32()>>4, dist)
			case 2, 3: // built in a module stream
				p.release = fmt.Sprintf("%d.module+el%d.%d.0+%d+%08x", 1+rng.IntN(9), 8+rng.IntN(2), rng.IntN(11), 10000+rng.IntN(30000), rng.Uint32())
			default: // kernel style
				p.release = fmt.Sprintf("%d.%d.%d.%s", 100+rng.IntN(500), rng.IntN(60), 1+rng.IntN(3), dist)
			}
			buildID := 2_000_000 + i*3 + rng.IntN(3)
			owner := rng.IntN(len(benchUsers))
			tag := rng.IntN(len(benchTags))
			if rng.IntN(5) != 0 {
				tag = 0 // most builds are in the tag itself, the rest inherited
			}
			begin := start.Add(time.Duration(i)*2*time.Hour + time.Duration(rng.Int64N(int64(time.Hour))))
			begin = begin.Add(time.Duration(rng.IntN(1_000_000)) * time.Microsecond)
			if rng.IntN(200) == 0 {
				begin = begin.Truncate(time.Second) // Python drops a zero fraction
			}
			end := begin.Add(time.Duration(30+rng.IntN(6*3600)) * time.Second).Add(time.Duration(rng.IntN(1_000_000)) * time.Microsecond)
			created := end.Add(time.Duration(1000+rng.IntN(5000)) * time.Microsecond)
			event += 20 + rng.IntN(400)
			b := benchBuild{
				BuildID:         buildID,
				CompletionTime:  benchHubTime(end),
				CreateEvent:     event + 1 + rng.IntN(5000),
				CreationEventID: event,
				CreationTime:    benchHubTime(created),
				Epoch:           p.epoch,
				ID:              buildID,
				Name:            p.name,
				NVR:             p.name + "-" + p.version + "-" + p.release,
				OwnerID:         1 + owner*13,
				OwnerName:       benchUsers[owner],
				PackageID:       p.id,
				PackageName:     p.name,
				Release:         p.release,
				StartTime:       benchHubTime(begin),
				State:           1,
				TagID:           4000 + tag*3,
				TagName:         benchTags[tag],
				Version:         p.version,
				VolumeName:      "DEFAULT",
			}
			if rng.IntN(10) != 0 { // a tenth are imports, without a task
				task := 50_000_000 + i*400 + rng.IntN(400)
				b.TaskID = &task
			}
			switch rng.IntN(50) {
			case 0: // promoted from a draft
				promoter := rng.IntN(len(benchUsers))
				id, name := 1+promoter*13, benchUsers[promoter]
				when := benchHubTime(created.Add(time.Duration(rng.IntN(72*3600)) * time.Second))
				b.PromoterID, b.PromoterName, b.PromotionTime = &id, &name, &when
			case 1: // a draft build
				b.Draft = true
			}
			if rng.IntN(8) == 0 {
				b.VolumeID, b.VolumeName = 1, "archive-2021"
			}
			if !yield(b) {
				return
			}
		}
	}
}

// benchDoc holds the benchmark document in a file that is unlinked once
// opened: it is generated once per process, streamed to disk (never held
// whole by the generator), and goes away with the process.
var benchDoc struct {
	once sync.Once
	f    *os.File
	size int64
	err  error
}

// benchDocument returns a reader of the benchmark document and its size. The
// reader streams from the file; nothing keeps the document in memory.
func benchDocument(tb testing.TB) (*io.SectionReader, int64) {
	tb.Helper()
	benchDoc.once.Do(func() {
		f, err := os.CreateTemp("", "gokoji-bench-listTagged-*.xml")
		if err != nil {
			benchDoc.err = err
			return
		}
		if err := os.Remove(f.Name()); err != nil {
			tb.Logf("leaving %s behind: %v", f.Name(), err)
		}
		if err := xmlrpc.NewEncoder(f).EncodeResponse(benchBuilds(benchBuildCount)); err != nil {
			benchDoc.err = err
			return
		}
		benchDoc.f = f
		benchDoc.size, benchDoc.err = f.Seek(0, io.SeekEnd)
	})
	if benchDoc.err != nil {
		tb.Fatal(benchDoc.err)
	}
	return io.NewSectionReader(benchDoc.f, 0, benchDoc.size), benchDoc.size
}

// benchDocumentBytes reads the benchmark document into memory.
func benchDocumentBytes(tb testing.TB) []byte {
	tb.Helper()
	r, size := benchDocument(tb)
	doc := make([]byte, size)
	if _, err := io.ReadFull(r, doc); err != nil {
		tb.Fatal(err)
	}
	return doc
}

// benchSink keeps results alive so that the compiler cannot drop the work.
var benchSink int

func BenchmarkDecodeListTagged(b *testing.B) {
	doc := benchDocumentBytes(b)
	b.Logf("document: %d builds, %d bytes (%.1f MB)", benchBuildCount, len(doc), float64(len(doc))/1e6)

	b.Run("gokoji-struct", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		b.ReportAllocs()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		b.ResetTimer()
		for range b.N {
			var builds []benchBuild
			if err := xmlrpc.DecodeResponse(doc, &builds); err != nil {
				b.Fatal(err)
			}
			if len(builds) != benchBuildCount {
				b.Fatalf("decoded %d builds, want %d", len(builds), benchBuildCount)
			}
			benchSink += builds[len(builds)-1].ID
		}
		b.StopTimer()
		runtime.ReadMemStats(&after)
		perOp := float64(after.TotalAlloc-before.TotalAlloc) / float64(b.N)
		b.ReportMetric(perOp/float64(len(doc)), "alloc/input")
	})
	b.Run("gokoji-any", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		b.ReportAllocs()
		for range b.N {
			var v any
			if err := xmlrpc.DecodeResponse(doc, &v); err != nil {
				b.Fatal(err)
			}
			if n := len(v.([]any)); n != benchBuildCount {
				b.Fatalf("decoded %d builds, want %d", n, benchBuildCount)
			}
		}
	})
	b.Run("kolo-struct", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		b.ReportAllocs()
		for range b.N {
			var builds []benchBuild
			if err := kolo.Response(doc).Unmarshal(&builds); err != nil {
				b.Fatal(err)
			}
			if len(builds) != benchBuildCount {
				b.Fatalf("decoded %d builds, want %d", len(builds), benchBuildCount)
			}
			benchSink += builds[len(builds)-1].ID
		}
	})
	b.Run("kolo-any", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		b.ReportAllocs()
		for range b.N {
			var v any
			if err := kolo.Response(doc).Unmarshal(&v); err != nil {
				b.Fatal(err)
			}
			if n := len(v.([]any)); n != benchBuildCount {
				b.Fatalf("decoded %d builds, want %d", n, benchBuildCount)
			}
		}
	})
}

func BenchmarkDecodeListTaggedStream(b *testing.B) {
	_, size := benchDocument(b) // generate outside the measurement
	b.Run("gokoji-stream", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var peak uint64
		sample := func() {
			metrics.Read(samples)
			peak = max(peak, samples[0].Value.Uint64())
		}
		runtime.GC() // nothing of earlier benchmarks counts
		b.ResetTimer()
		for range b.N {
			r, _ := benchDocument(b)
			arr, err := xmlrpc.NewDecoder(r).ResponseArray()
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			var build benchBuild
			for arr.Next() {
				if err := arr.Decode(&build); err != nil {
					b.Fatal(err)
				}
				benchSink += build.ID
				if n++; n%200 == 0 {
					sample()
				}
			}
			if err := arr.Err(); err != nil {
				b.Fatal(err)
			}
			if n != benchBuildCount {
				b.Fatalf("decoded %d builds, want %d", n, benchBuildCount)
			}
			sample()
		}
		b.StopTimer()
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	})
}

func BenchmarkEncodeListTagged(b *testing.B) {
	builds := slices.Collect(benchBuilds(benchBuildCount))
	b.Run("gokoji", func(b *testing.B) {
		b.ReportAllocs()
		var size int
		for range b.N {
			out, err := xmlrpc.MarshalCall("listTagged", builds)
			if err != nil {
				b.Fatal(err)
			}
			size = len(out)
		}
		b.SetBytes(int64(size))
	})
	b.Run("kolo", func(b *testing.B) {
		b.ReportAllocs()
		var size int
		for range b.N {
			out, err := kolo.EncodeMethodCall("listTagged", builds)
			if err != nil {
				b.Fatal(err)
			}
			size = len(out)
		}
		b.SetBytes(int64(size))
	})
}

// benchPythonLoads times xmlrpc.client.loads on the document read from
// stdin, argv[1] times, and prints the seconds it took.
const benchPythonLoads = `
import sys, time, xmlrpc.client
data = sys.stdin.buffer.read()
n = int(sys.argv[1])
t0 = time.perf_counter()
for _ in range(n):
    (builds,), _ = xmlrpc.client.loads(data)
    assert len(builds) == int(sys.argv[2]), len(builds)
print(time.perf_counter() - t0)
`

func BenchmarkDecodeListTaggedPython(b *testing.B) {
	python, err := exec.LookPath("python3")
	if err != nil {
		b.Skip("python3 not found")
	}
	r, size := benchDocument(b)
	b.SetBytes(size)
	b.ResetTimer()
	cmd := exec.Command(python, "-c", benchPythonLoads, strconv.Itoa(b.N), strconv.Itoa(benchBuildCount))
	cmd.Stdin = r
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	b.StopTimer()
	if err != nil {
		b.Fatalf("python3: %v\n%s", err, stderr.Bytes())
	}
	secs, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		b.Fatalf("python3 printed %q", out)
	}
	// ns/op includes starting the interpreter and reading the document
	// once; loads-s/op is xmlrpc.client.loads alone.
	b.ReportMetric(secs/float64(b.N), "loads-s/op")
}

// TestBenchDocumentIsRealistic checks the generator against the wire
// capture of a real hub's listTagged answer: the encoder lays out the
// fixture's own builds byte for byte as the hub did, and every generated
// build has exactly the fixture's members, with the fixture's types.
func TestBenchDocumentIsRealistic(t *testing.T) {
	fixture, err := os.ReadFile("testdata/wire/listTagged.response.xml")
	if err != nil {
		t.Fatal(err)
	}

	// The fixture's builds, decoded into benchBuild and encoded again, give
	// the fixture back: the generated document has the hub's layout.
	var fixtureBuilds []benchBuild
	if err := xmlrpc.DecodeResponse(fixture, &fixtureBuilds); err != nil {
		t.Fatal(err)
	}
	again, err := xmlrpc.MarshalResponse(fixtureBuilds)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, fixture) {
		t.Errorf("re-encoded fixture differs from the hub's bytes:\n%s", again)
	}

	var want []map[string]any
	if err := xmlrpc.DecodeResponse(fixture, &want); err != nil {
		t.Fatal(err)
	}
	wantMembers := slices.Sorted(maps.Keys(want[0]))
	// The type of each member where the fixture has a value, and which
	// members the fixture has nil for (in some build).
	wantType := map[string]string{}
	nullable := map[string]bool{}
	for _, m := range want {
		for k, v := range m {
			if v == nil {
				nullable[k] = true
			} else {
				wantType[k] = fmt.Sprintf("%T", v)
			}
		}
	}

	const n = 50
	builds := slices.Collect(benchBuilds(n))
	small, err := xmlrpc.MarshalResponse(builds)
	if err != nil {
		t.Fatal(err)
	}
	// Streamed from the iterator, as the benchmark document is, the bytes
	// are the same.
	var streamed bytes.Buffer
	if err := xmlrpc.NewEncoder(&streamed).EncodeResponse(benchBuilds(n)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(streamed.Bytes(), small) {
		t.Errorf("streamed encoding differs from MarshalResponse")
	}

	var got []map[string]any
	if err := xmlrpc.DecodeResponse(small, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("decoded %d builds, want %d", len(got), n)
	}
	nilSeen := map[string]bool{}
	for i, m := range got {
		if members := slices.Sorted(maps.Keys(m)); !slices.Equal(members, wantMembers) {
			t.Errorf("build %d has members %v, want %v", i, members, wantMembers)
		}
		for k, v := range m {
			switch {
			case v == nil && !nullable[k]:
				t.Errorf("build %d: %s is nil; the hub never sends nil there", i, k)
			case v == nil:
				nilSeen[k] = true
			case wantType[k] != "" && fmt.Sprintf("%T", v) != wantType[k]:
				t.Errorf("build %d: %s is %T, the hub sends %s", i, k, v, wantType[k])
			}
		}
	}
	for k := range nullable {
		if !nilSeen[k] {
			t.Errorf("no generated build has %s nil", k)
		}
	}

	// Typed decoding gives the generated values back.
	var typed []benchBuild
	if err := xmlrpc.DecodeResponse(small, &typed); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(typed, builds) {
		t.Errorf("typed decode differs from the generated builds")
	}

	// Python's xmlrpc.client reads the document too.
	python := testenv.Command(t, "python3")
	cmd := exec.Command(python, "-c", `
import sys, xmlrpc.client
(builds,), method = xmlrpc.client.loads(sys.stdin.buffer.read())
assert method is None
print(len(builds), sorted(builds[0]) == sorted(builds[-1]))
`)
	cmd.Stdin = bytes.NewReader(small)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3 xmlrpc.client.loads: %v\n%s", err, stderr.Bytes())
	}
	if got, want := strings.TrimSpace(string(out)), fmt.Sprintf("%d True", n); got != want {
		t.Errorf("python3 read %q, want %q", got, want)
	}
}
