package hubserver_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/koji"
)

func TestArchiveAndMiscMethodSignatures(t *testing.T) {
	assertUpstreamSignatures(t, "getArchive", "getMavenArchive", "getWinArchive", "getImageArchive", "getArchiveType",
		"getArchiveTypes", "listArchiveFiles", "getArchiveFile", "listPackagesSimple", "findBuildID", "checkTagAccess",
		"buildReferences", "getBuildLogs", "tagChangedSinceEvent")
}

// pyArchives runs testdata/pyarchives.py on spec and returns its lists,
// as JSON decodes them.
func pyArchives(t *testing.T, spec map[string]any) []any {
	t.Helper()
	py := testenv.Command(t, "python3")
	in, err := json.Marshal(spec)
	require.NoError(t, err)
	cmd := exec.Command(py, "testdata/pyarchives.py")
	cmd.Stdin = bytes.NewReader(in)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	got, err := cmd.Output()
	require.NoError(t, err, stderr.String())
	var out []any
	require.NoError(t, json.Unmarshal(got, &out), string(got))
	return out
}

// viaJSON is v as JSON decodes it, to compare with Python's answers.
func viaJSON(t *testing.T, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	var out any
	require.NoError(t, json.Unmarshal(data, &out))
	return out
}

// writeZip writes a zip file of the entries (a name ending in "/" is a
// directory) with their MS-DOS times; a name not valid as UTF-8 is
// written without the UTF-8 flag.
func writeZip(t *testing.T, path string, entries map[string]string, mtime time.Time) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, name := range []string{"META-INF/", "META-INF/MANIFEST.MF", "org/example/Foo.class", "caf\x82.txt"} {
		data, ok := entries[name]
		if !ok {
			continue
		}
		// Modified also sets the MS-DOS date and time, which zipfile reads.
		h := &zip.FileHeader{Name: name, Method: zip.Deflate, NonUTF8: true, Modified: mtime}
		f, err := w.CreateHeader(h)
		require.NoError(t, err)
		_, err = f.Write([]byte(data))
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
}

// TestKojiArchives: getArchive and the legacy type readers on a maven, a
// win, an image and a typed (rpm btype) archive; getArchiveType's
// extension matching and errors; listArchiveFiles and getArchiveFile on
// zip and tar (plain, gzip, bzip2, xz) files in the build's directories,
// compared with CPython's zipfile and tarfile reading the same files as
// kojihub's _get_zipfile_list and _get_tarball_list do.
func TestKojiArchives(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		fh := startFilesHub(t, dsn, nil)
		admin := fh.admin
		foo := call(t, admin, "createEmptyBuild", []any{"foo", "1.0", "1", nil}, nil).(int64)
		ids := map[string]int64{}
		taskTx(t, fh.kojiHub, 1, func(ctx context.Context) error {
			for _, typ := range []string{"maven", "win", "image"} {
				var info []string
				switch typ {
				case "maven":
					info = []string{"org.example", "foo", "1.0"}
				case "win":
					info = []string{"w10"}
				}
				if err := fh.koji.SetLegacyTypeForTest(ctx, foo, typ, info...); err != nil {
					return err
				}
			}
			for _, a := range []struct {
				file, btype string
				info        map[string]string
			}{
				{"foo-1.0.jar", "maven", map[string]string{"group_id": "org.example", "artifact_id": "foo", "version": "1.0"}},
				{"foo-1.0.pom", "maven", map[string]string{"group_id": "org.example", "artifact_id": "foo", "version": "1.0"}},
				{"foo.zip", "win", map[string]string{"relpath": "bin", "platforms": "w10 w11", "flags": "chk"}},
				{"foo.tar.gz", "image", map[string]string{"arch": "x86_64"}},
				{"foo-src.tar.bz2", "rpm", nil},
				{"foo-data.tar.xz", "rpm", nil},
				{"foo-plain.tar", "rpm", nil},
				{"missing.tar", "rpm", nil},
				{"broken.zip", "rpm", nil},
				{"broken.tar", "rpm", nil},
			} {
				id, err := fh.koji.AddTypedArchiveForTest(ctx, foo, a.file, a.btype, 100, a.info)
				if err != nil {
					return err
				}
				ids[a.file] = id
			}
			return nil
		})
		bdir := filepath.Join(fh.top, "packages", "foo", "1.0", "1")
		mtime := time.Date(2024, 3, 5, 13, 7, 42, 0, time.Local)
		jar := filepath.Join(bdir, "maven", "org", "example", "foo", "1.0", "foo-1.0.jar")
		writeZip(t, jar, map[string]string{"META-INF/": "", "META-INF/MANIFEST.MF": "Manifest-Version: 1.0\n",
			"org/example/Foo.class": strings.Repeat("x", 321)}, mtime)
		winZip := filepath.Join(bdir, "win", "bin", "foo.zip")
		writeZip(t, winZip, map[string]string{"caf\x82.txt": "cp437 name"}, mtime)
		require.NoError(t, os.MkdirAll(filepath.Join(bdir, "images"), 0o755))
		require.NoError(t, os.MkdirAll(filepath.Join(bdir, "files", "rpm"), 0o755))
		members := []any{
			map[string]any{"name": "foo", "type": "dir", "mode": 0o755, "uname": "root", "gname": "root", "mtime": 1700000001},
			map[string]any{"name": "foo/README", "type": "file", "data": "read me\n", "uname": "mockbuild", "gname": "mock"},
			map[string]any{"name": "foo/link", "type": "symlink", "linkname": "README", "mode": 0o777},
		}
		tars := map[string]string{
			filepath.Join(bdir, "images", "foo.tar.gz"):            "w:gz",
			filepath.Join(bdir, "files", "rpm", "foo-src.tar.bz2"): "w:bz2",
			filepath.Join(bdir, "files", "rpm", "foo-data.tar.xz"): "w:xz",
			filepath.Join(bdir, "files", "rpm", "foo-plain.tar"):   "w",
		}
		var make []any
		for p, mode := range tars {
			make = append(make, map[string]any{"path": p, "mode": mode, "members": members})
		}
		require.NoError(t, os.WriteFile(filepath.Join(bdir, "files", "rpm", "broken.zip"), []byte("not a zip"), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(bdir, "files", "rpm", "broken.tar"), bytes.Repeat([]byte("x"), 1024), 0o644))
		lists := []any{
			[]any{ids["foo-1.0.jar"], "zip", jar},
			[]any{ids["foo.zip"], "zip", winZip},
			[]any{ids["foo.tar.gz"], "tar", filepath.Join(bdir, "images", "foo.tar.gz")},
			[]any{ids["foo-src.tar.bz2"], "tar", filepath.Join(bdir, "files", "rpm", "foo-src.tar.bz2")},
			[]any{ids["foo-data.tar.xz"], "tar", filepath.Join(bdir, "files", "rpm", "foo-data.tar.xz")},
			[]any{ids["foo-plain.tar"], "tar", filepath.Join(bdir, "files", "rpm", "foo-plain.tar")},
		}
		want := pyArchives(t, map[string]any{"make": make, "list": lists})
		for i, l := range lists {
			id := l.([]any)[0].(int64)
			got := call(t, admin, "listArchiveFiles", []any{id}, nil)
			assert.Equal(t, want[i], viaJSON(t, got), "listArchiveFiles %v", l)
		}
		assert.Equal(t, "café.txt", want[1].([]any)[0].(map[string]any)["name"], "zipfile decodes CP437")
		assert.Equal(t, "foo", want[2].([]any)[0].(map[string]any)["name"], "tarfile strips a directory's slash")

		// queryOpts as _applyQueryOpts: order on a member, offset, limit,
		// countOnly.
		jarID := ids["foo-1.0.jar"]
		got := call(t, admin, "listArchiveFiles", []any{jarID}, map[string]any{"queryOpts": map[string]any{"order": "-size", "limit": 2}}).([]any)
		require.Len(t, got, 2)
		assert.Equal(t, "org/example/Foo.class", got[0].(map[string]any)["name"])
		assert.Equal(t, int64(3), call(t, admin, "listArchiveFiles", []any{jarID, map[string]any{"countOnly": true}}, nil))
		assert.Equal(t, "<class 'KeyError'>: 'nope'", faultString(t, admin, 1, "listArchiveFiles",
			[]any{jarID, map[string]any{"order": "nope"}}, nil))

		assert.Equal(t, "<class 'AttributeError'>: 'list' object has no attribute 'get'",
			faultString(t, admin, 1, "listArchiveFiles", []any{jarID, []any{}}, nil))

		// getArchiveFile
		f := call(t, admin, "getArchiveFile", []any{jarID, "META-INF/MANIFEST.MF"}, nil).(map[string]any)
		assert.Equal(t, int64(22), f["size"])
		assert.Equal(t, jarID, f["archive_id"])
		assert.Nil(t, call(t, admin, "getArchiveFile", []any{jarID, "nope"}, nil))
		assert.Equal(t, "No such file: nope in archive#"+pyFmt(jarID),
			faultString(t, admin, koji.ErrGeneric, "getArchiveFile", []any{jarID, "nope"}, map[string]any{"strict": true}))

		// Types without a compression, files that do not exist, files
		// that are not archives.
		pom := ids["foo-1.0.pom"]
		assert.Equal(t, []any{}, call(t, admin, "listArchiveFiles", []any{pom}, nil))
		assert.Equal(t, "Unsupported archive type: pom",
			faultString(t, admin, koji.ErrGeneric, "listArchiveFiles", []any{pom}, map[string]any{"strict": true}))
		assert.Equal(t, "Unsupported archive type: pom",
			faultString(t, admin, koji.ErrGeneric, "getArchiveFile", []any{pom, "x"}, map[string]any{"strict": true}))
		assert.Equal(t, []any{}, call(t, admin, "listArchiveFiles", []any{ids["missing.tar"]}, nil))
		assert.Equal(t, "<class 'zipfile.BadZipFile'>: File is not a zip file",
			faultString(t, admin, 1, "listArchiveFiles", []any{ids["broken.zip"]}, nil))
		assert.Equal(t, "<class 'tarfile.ReadError'>: file could not be opened successfully:\n"+
			"- method tar: ReadError('bad checksum')\n- method gz: ReadError('not a gzip file')\n"+
			"- method bz2: ReadError('not a bzip2 file')\n- method xz: ReadError('not an lzma file')",
			faultString(t, admin, 1, "listArchiveFiles", []any{ids["broken.tar"]}, nil))
		assert.Equal(t, "No such archive: 9999", faultString(t, admin, koji.ErrGeneric, "listArchiveFiles", []any{9999}, nil))
		assert.Equal(t, "No such archive: 9999", faultString(t, admin, koji.ErrGeneric, "getArchiveFile", []any{9999, "x"}, nil))

		// getArchive: listArchives' row with the legacy type's members.
		a := call(t, admin, "getArchive", []any{jarID}, nil).(map[string]any)
		assert.Equal(t, "maven", a["btype"])
		assert.Equal(t, "jar", a["type_name"])
		assert.Equal(t, "zip", a["compression_type"])
		assert.Equal(t, "org.example", a["group_id"])
		assert.Equal(t, "foo", a["artifact_id"])
		assert.Equal(t, "1.0", a["version"])
		assert.NotContains(t, a, "archive_id")
		w := call(t, admin, "getArchive", []any{ids["foo.zip"]}, nil).(map[string]any)
		assert.Equal(t, "bin", w["relpath"])
		assert.Equal(t, "w10 w11", w["platforms"])
		assert.Equal(t, "chk", w["flags"])
		img := call(t, admin, "getArchive", []any{ids["foo.tar.gz"]}, nil).(map[string]any)
		assert.Equal(t, "x86_64", img["arch"])
		assert.Equal(t, false, img["rootid"])
		assert.Equal(t, map[string]any{"archive_id": ids["foo.tar.gz"], "arch": "x86_64", "rootid": false},
			call(t, admin, "getImageArchive", []any{ids["foo.tar.gz"]}, nil))
		// An image holding RPMs has the root partition: rootid.
		taskTx(t, fh.kojiHub, 1, func(ctx context.Context) error {
			r, err := fh.koji.AddRPMForTest(ctx, foo, "foo", "x86_64")
			if err != nil {
				return err
			}
			return fh.koji.AddArchiveComponentsForTest(ctx, ids["foo.tar.gz"], []int64{r}, nil)
		})
		assert.Equal(t, true, call(t, admin, "getArchive", []any{ids["foo.tar.gz"]}, nil).(map[string]any)["rootid"])
		assert.Equal(t, true, call(t, admin, "getImageArchive", []any{ids["foo.tar.gz"]}, nil).(map[string]any)["rootid"])
		plain := call(t, admin, "getArchive", []any{ids["foo-plain.tar"]}, nil).(map[string]any)
		assert.Equal(t, "rpm", plain["btype"])
		for _, k := range []string{"group_id", "relpath", "arch", "rootid"} {
			assert.NotContains(t, plain, k)
		}
		assert.Nil(t, call(t, admin, "getArchive", []any{9999}, nil))
		assert.Equal(t, "No such archive: 9999", faultString(t, admin, koji.ErrGeneric, "getArchive", []any{9999, true}, nil))

		assert.Equal(t, map[string]any{"archive_id": jarID, "group_id": "org.example", "artifact_id": "foo", "version": "1.0"},
			call(t, admin, "getMavenArchive", []any{jarID}, nil))
		assert.Equal(t, map[string]any{"archive_id": ids["foo.zip"], "relpath": "bin", "platforms": "w10 w11", "flags": "chk"},
			call(t, admin, "getWinArchive", []any{ids["foo.zip"]}, nil))
		for _, m := range []string{"getMavenArchive", "getWinArchive", "getImageArchive"} {
			assert.Nil(t, call(t, admin, m, []any{ids["foo-plain.tar"]}, nil), m)
			assert.Equal(t, "query returned no rows", faultString(t, admin, koji.ErrGeneric, m, []any{ids["foo-plain.tar"], true}, nil), m)
		}

		// getArchiveType and getArchiveTypes
		types := call(t, admin, "getArchiveTypes", nil, nil).([]any)
		require.NotEmpty(t, types)
		first := types[0].(map[string]any)
		assert.Equal(t, map[string]any{"id": int64(1), "name": "jar", "description": "Jar file",
			"extensions": "jar war rar ear sar jdocbook jdocbook-style", "compression_type": "zip"}, first)
		for file, name := range map[string]string{"foo.tar.gz": "tar", "FOO.TAR.GZ": "tar", "x.tgz": "tar", "a.b.xml.gz": "xmlcompressed",
			"img.raw.xz": "raw-xz", "lib.so": "so", "foo.sig": "sig", "foo.signature": "sig", "x.jdocbook-style": "jar",
			"live.liveimg.squashfs": "liveimg-squashfs"} {
			at := call(t, admin, "getArchiveType", []any{file}, nil)
			require.NotNil(t, at, file)
			assert.Equal(t, name, at.(map[string]any)["name"], file)
		}
		assert.Nil(t, call(t, admin, "getArchiveType", []any{"foo.nope"}, nil))
		assert.Equal(t, "unsupported file extension: foo.nope",
			faultString(t, admin, koji.ErrGeneric, "getArchiveType", []any{"foo.nope"}, map[string]any{"strict": true}))
		assert.Equal(t, "unsupported file extension: README",
			faultString(t, admin, koji.ErrGeneric, "getArchiveType", []any{"README"}, map[string]any{"strict": true}))
		// The extension is a regular expression: "t.r" matches tar's.
		assert.Equal(t, "tar", call(t, admin, "getArchiveType", []any{"x.t.r"}, nil).(map[string]any)["name"])
		assert.Contains(t, faultString(t, admin, 1, "getArchiveType", []any{"x.c++"}, nil),
			"<class 'psycopg2.errors.InvalidRegularExpression'>: invalid regular expression: ")
		assert.Equal(t, first, call(t, admin, "getArchiveType", nil, map[string]any{"type_id": 1}))
		assert.Equal(t, first, call(t, admin, "getArchiveType", nil, map[string]any{"type_name": "jar"}))
		assert.Equal(t, first, call(t, admin, "getArchiveType", []any{"x.tar", "pom", 1}, nil), "type_id first")
		assert.Equal(t, "pom", call(t, admin, "getArchiveType", []any{"x.tar", "pom"}, nil).(map[string]any)["name"])
		assert.Nil(t, call(t, admin, "getArchiveType", nil, map[string]any{"type_name": "nope"}))
		assert.Equal(t, "query returned no rows",
			faultString(t, admin, koji.ErrGeneric, "getArchiveType", nil, map[string]any{"type_id": 9999, "strict": true}))
		assert.Equal(t, "one of filename, type_name, or type_id must be specified",
			faultString(t, admin, koji.ErrGeneric, "getArchiveType", nil, nil))
		assert.Equal(t, "one of filename, type_name, or type_id must be specified",
			faultString(t, admin, koji.ErrGeneric, "getArchiveType", []any{"", "", 0}, nil))
		assert.Equal(t, "Invalid type for value '['x.tar']': <class 'list'>, expected type <class 'str'>",
			faultString(t, admin, koji.ErrParameter, "getArchiveType", []any{[]any{"x.tar"}}, nil))
	})
}
