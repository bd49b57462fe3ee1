package hubserver

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzArchiveEntries reads arbitrary files as listArchiveFiles reads zip
// and tar archives: each either lists its entries (every entry with
// listArchiveFiles' members) or faults, and never panics.
func FuzzArchiveEntries(f *testing.F) {
	var z bytes.Buffer
	zw := zip.NewWriter(&z)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "a/b.txt", Modified: time.Unix(1700000000, 0)})
	_, _ = w.Write([]byte("hello"))
	_ = zw.Close()
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	_ = tw.WriteHeader(&tar.Header{Name: "dir/", Typeflag: tar.TypeDir, Mode: 0o755})
	_ = tw.WriteHeader(&tar.Header{Name: "dir/f", Typeflag: tar.TypeReg, Size: 2, Mode: 0o644, Uname: "root"})
	_, _ = tw.Write([]byte("hi"))
	_ = tw.Close()
	var gz bytes.Buffer
	gw := gzip.NewWriter(&gz)
	_, _ = gw.Write(tb.Bytes())
	_ = gw.Close()
	for _, seed := range [][]byte{z.Bytes(), tb.Bytes(), gz.Bytes(), nil, []byte("BZh9"), make([]byte, 512)} {
		f.Add(seed)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "archive")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		check := func(entries []any, err error, members ...string) {
			if err != nil {
				return
			}
			for _, e := range entries {
				m := e.(map[string]any)
				for _, k := range members {
					if _, ok := m[k]; !ok {
						t.Fatalf("entry %v without %s", m, k)
					}
				}
			}
		}
		entries, err := zipEntries(7, path)
		check(entries, err, "archive_id", "name", "size", "mtime")
		if len(data) >= 6 && bytes.HasPrefix(data, []byte{0xfd, '7', 'z', 'X', 'Z', 0}) {
			return // read by the xz program, not by Go
		}
		entries, err = tarEntries(context.Background(), 7, path)
		check(entries, err, "archive_id", "name", "size", "mtime", "mode", "user", "group")
	})
}
