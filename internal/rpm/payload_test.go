package rpm

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// payloadEntry is one payload file as the tests compare it.
type payloadEntry struct {
	Path string
	Mode fs.FileMode
	Body string
	Link string
}

func listPayload(r io.Reader) ([]payloadEntry, error) {
	var got []payloadEntry
	err := ReadPayload(r, func(f PayloadFile, body io.Reader) error {
		b, err := io.ReadAll(body)
		if err != nil {
			return err
		}
		if int64(len(b)) != f.Size && f.Link == "" {
			return errors.New("body length differs from Size")
		}
		got = append(got, payloadEntry{f.Path, f.Mode, string(b), f.Link})
		return nil
	})
	return got, err
}

// tinyPayload is the payload of testdata/tiny.spec's main package.
var tinyPayload = []payloadEntry{
	{"/usr/bin/tinylink", fs.ModeSymlink | 0o777, "", "../share/tiny/data"},
	{"/usr/share/tiny", fs.ModeDir | 0o755, "", ""},
	{"/usr/share/tiny/data", 0o644, "data\n", ""},
	{"/usr/share/tiny/sub", fs.ModeDir | 0o755, "", ""},
	{"/usr/share/tiny/sub/hello.txt", 0o644, "hello\n", ""},
}

func TestReadPayloadTestdata(t *testing.T) {
	f, err := os.Open("testdata/tiny-1.2-3.x86_64.rpm")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := listPayload(f)
	if err != nil || !reflect.DeepEqual(got, tinyPayload) {
		t.Errorf("payload:\n got %v, %v\nwant %v", got, err, tinyPayload)
	}
	spec, err := os.ReadFile("testdata/tiny.spec")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.Open("testdata/tiny-1.2-3.src.rpm")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	got, err = listPayload(src)
	if want := []payloadEntry{{"tiny.spec", 0o644, string(spec), ""}}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("SRPM payload: got %v, %v", got, err)
	}
}

func TestReadPayloadUnsupported(t *testing.T) {
	for name, comp := range map[string]string{"tiny-bin-1.2-3.noarch.xz.rpm": "xz", "tiny-bin-1.2-3.noarch.zstd.rpm": "zstd"} {
		f, err := os.Open(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		called := false
		err = ReadPayload(f, func(PayloadFile, io.Reader) error { called = true; return nil })
		f.Close()
		if !errors.Is(err, ErrUnsupportedPayload) || !strings.Contains(err.Error(), comp) || called {
			t.Errorf("%s: %v (called %v), want ErrUnsupportedPayload naming %s", name, err, called, comp)
		}
	}
}

// TestReadPayloadRPMBuild reads payloads rpmbuild writes: gzip ones are
// listed, xz and zstd ones refused.
func TestReadPayloadRPMBuild(t *testing.T) {
	for _, c := range []struct{ io, comp string }{{"w9.gzdio", "gzip"}, {"w2.xzdio", "xz"}, {"w19.zstdio", "zstd"}} {
		built := rpmbuild(t, "testdata/tiny.spec", "--define", "_binary_payload "+c.io, "--define", "_source_payload "+c.io)
		for _, file := range built {
			if !strings.HasSuffix(file, "tiny-1.2-3.x86_64.rpm") {
				continue
			}
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := listPayload(f)
			f.Close()
			switch c.comp {
			case "gzip":
				if err != nil || !reflect.DeepEqual(got, tinyPayload) {
					t.Errorf("gzip payload:\n got %v, %v\nwant %v", got, err, tinyPayload)
				}
			default:
				if !errors.Is(err, ErrUnsupportedPayload) {
					t.Errorf("%s payload: %v, want ErrUnsupportedPayload", c.comp, err)
				}
			}
		}
	}
}

func TestReadPayloadBadInput(t *testing.T) {
	good, err := os.ReadFile("testdata/tiny-1.2-3.x86_64.rpm")
	if err != nil {
		t.Fatal(err)
	}
	p, _ := Read(bytes.NewReader(good))
	// Every truncation of the payload is an error, not a short listing.
	for n := int(p.HeaderEnd); n < len(good); n++ {
		_, err := listPayload(bytes.NewReader(good[:n]))
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Fatalf("payload truncated at %d: %v", n, err)
		}
	}
	bad := bytes.Clone(good)
	bad[p.HeaderEnd+30] ^= 0x55
	if _, err := listPayload(bytes.NewReader(bad)); err == nil {
		t.Error("corrupt gzip data accepted")
	}
	// fn's error stops the iteration and comes back unchanged.
	stop := errors.New("stop")
	calls := 0
	err = ReadPayload(bytes.NewReader(good), func(PayloadFile, io.Reader) error { calls++; return stop })
	if err != stop || calls != 1 {
		t.Errorf("fn error: got %v after %d calls", err, calls)
	}
	// What fn leaves unread is skipped.
	var paths []string
	err = ReadPayload(bytes.NewReader(good), func(f PayloadFile, body io.Reader) error {
		paths = append(paths, f.Path)
		_, err := body.Read(make([]byte, 1))
		if err == io.EOF {
			err = nil
		}
		return err
	})
	if err != nil || len(paths) != len(tinyPayload) {
		t.Errorf("partial reads: %v, %v", paths, err)
	}
}

// FuzzPayload fuzzes ReadPayload. It is not named FuzzReadPayload because
// then "-fuzz FuzzRead" would match two targets and refuse to run.
func FuzzPayload(f *testing.F) {
	fuzzSetup(f)
	var buf bytes.Buffer
	if err := Write(&buf, sampleSpec()); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		err := ReadPayload(bytes.NewReader(data), func(f PayloadFile, body io.Reader) error {
			_, err := io.Copy(io.Discard, body)
			return err
		})
		var fe *FormatError
		if err != nil && !errors.Is(err, ErrNotRPM) && !errors.Is(err, ErrUnsupportedPayload) && !errors.As(err, &fe) {
			t.Fatalf("untyped error %T: %v", err, err)
		}
	})
}
