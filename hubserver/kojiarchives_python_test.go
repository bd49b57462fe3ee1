package hubserver_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
)

// TestKojiArchivesPython calls the archive readers, listPackagesSimple,
// findBuildID, checkTagAccess, buildReferences, getBuildLogs and
// tagChangedSinceEvent with Python's xmlrpc.client, as koji CLI commands
// and scripts call them, and checks the members and Python types of the
// answers against kojihub.py's columns (no recording of these methods
// exists).
func TestKojiArchivesPython(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		fh := startFilesHub(t, dsn, func(c *hubserver.KojiConfig) { c.AdminPassword = "secret" })
		admin := fh.admin
		foo := call(t, admin, "createEmptyBuild", []any{"foo", "1.0", "1", nil}, nil).(int64)
		bar := call(t, admin, "createEmptyBuild", []any{"bar", "1.0", "1", nil}, nil).(int64)
		var jar, img int64
		taskTx(t, fh.kojiHub, 1, func(ctx context.Context) (err error) {
			if err = fh.koji.SetLegacyTypeForTest(ctx, foo, "maven", "org.example", "foo", "1.0"); err != nil {
				return err
			}
			if err = fh.koji.SetLegacyTypeForTest(ctx, foo, "image"); err != nil {
				return err
			}
			if jar, err = fh.koji.AddTypedArchiveForTest(ctx, foo, "foo-1.0.jar", "maven", 10,
				map[string]string{"group_id": "org.example", "artifact_id": "foo", "version": "1.0"}); err != nil {
				return err
			}
			if img, err = fh.koji.AddTypedArchiveForTest(ctx, foo, "foo.tar.gz", "image", 10, map[string]string{"arch": "x86_64"}); err != nil {
				return err
			}
			r, err := fh.koji.AddRPMForTest(ctx, foo, "foo", "x86_64")
			if err != nil {
				return err
			}
			if err = fh.koji.AddArchiveComponentsForTest(ctx, img, []int64{r}, nil); err != nil {
				return err
			}
			if _, err = fh.koji.AddBuildrootUseForTest(ctx, bar, "bar", r); err != nil {
				return err
			}
			_, err = fh.koji.AddStandardBuildrootUseForTest(ctx, fh.hostID, fh.task, r)
			return err
		})
		bdir := filepath.Join(fh.top, "packages", "foo", "1.0", "1")
		writeZip(t, filepath.Join(bdir, "maven", "org", "example", "foo", "1.0", "foo-1.0.jar"),
			map[string]string{"META-INF/": "", "META-INF/MANIFEST.MF": "Manifest-Version: 1.0\n"}, time.Now())
		require.NoError(t, os.MkdirAll(filepath.Join(bdir, "images"), 0o755))
		pyArchives(t, map[string]any{"make": []any{map[string]any{"path": filepath.Join(bdir, "images", "foo.tar.gz"), "mode": "w:gz",
			"members": []any{map[string]any{"name": "disk.raw", "type": "file", "data": "raw", "uname": "root", "gname": "root"}}}}})
		require.NoError(t, os.MkdirAll(filepath.Join(bdir, "data", "logs", "x86_64"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(bdir, "data", "logs", "x86_64", "build.log"), []byte("ok\n"), 0o644))
		event := call(t, admin, "getLastEvent", nil, nil).(map[string]any)["id"].(int64)
		tag := call(t, admin, "createTag", []any{"f44"}, nil).(int64)

		none := map[string]any(nil)
		calls := []pyCall{
			/* 0 */ pycall("getArchive", []any{img}, none),
			/* 1 */ pycall("getArchive", []any{jar}, none),
			/* 2 */ pycall("getMavenArchive", []any{jar}, none),
			/* 3 */ pycall("getImageArchive", []any{img}, none),
			/* 4 */ pycall("getArchiveTypes", []any{}, none),
			/* 5 */ pycall("getArchiveType", []any{}, map[string]any{"filename": "foo.tar.gz"}),
			/* 6 */ pycall("listArchiveFiles", []any{jar}, none),
			/* 7 */ pycall("listArchiveFiles", []any{img}, map[string]any{"queryOpts": map[string]any{"order": "name"}}),
			/* 8 */ pycall("getArchiveFile", []any{img, "disk.raw"}, none),
			/* 9 */ pycall("buildReferences", []any{"foo-1.0-1"}, none),
			/* 10 */ pycall("checkTagAccess", []any{"f44"}, none),
			/* 11 */ pycall("findBuildID", []any{"foo-1.0-1"}, none),
			/* 12 */ pycall("findBuildID", []any{"nope-1-1"}, none),
			/* 13 */ pycall("getBuildLogs", []any{foo}, none),
			/* 14 */ pycall("tagChangedSinceEvent", []any{event, []any{tag}}, none),
			/* 15 */ pycall("listPackagesSimple", []any{"fo"}, none),
			/* 16 */ pycall("getArchiveFile", []any{img, "nope"}, map[string]any{"strict": true}),
		}
		out := runPySession(t, fh.kojiHub, calls)
		for i, a := range out[:16] {
			require.Nil(t, a.Fault, "call %d %v", i, calls[i])
		}
		assert.Equal(t, []any{float64(1000), fmt.Sprintf("No such file: nope in archive#%d", img)}, out[16].Fault)

		archive := []string{"id", "type_id", "btype_id", "btype", "build_id", "buildroot_id", "filename", "size", "checksum",
			"checksum_type", "metadata_only", "extra", "type_name", "type_description", "type_extensions", "compression_type"}
		archiveTypes := map[string]string{"id": "int", "type_id": "int", "btype_id": "int", "btype": "str", "build_id": "int",
			"filename": "str", "size": "int", "checksum": "str", "checksum_type": "int", "metadata_only": "bool",
			"type_name": "str", "type_description": "str", "type_extensions": "str", "compression_type": "str"}
		with := func(extra map[string]string) map[string]string {
			m := map[string]string{}
			for k, v := range archiveTypes {
				m[k] = v
			}
			for k, v := range extra {
				m[k] = v
			}
			return m
		}
		imageTypes := with(map[string]string{"arch": "str", "rootid": "bool"})
		mavenTypes := with(map[string]string{"group_id": "str", "artifact_id": "str", "version": "str"})
		typeShape := dictOf([]string{"id", "name", "description", "extensions", "compression_type"},
			map[string]string{"id": "int", "name": "str", "description": "str", "extensions": "str", "compression_type": "str"})
		zipEntry := dictOf([]string{"archive_id", "name", "size", "mtime"},
			map[string]string{"archive_id": "int", "name": "str", "size": "int", "mtime": "int"})
		tarEntry := dictOf([]string{"archive_id", "name", "size", "mtime", "mode", "user", "group"},
			map[string]string{"archive_id": "int", "name": "str", "size": "int", "mtime": "int", "mode": "int", "user": "str", "group": "str"})
		refs := dictOf([]string{"tags", "rpms", "component_of", "archives", "last_used", "images"},
			map[string]string{"last_used": "float"})
		refs.(map[string]any)["dict"].(map[string]any)["rpms"] = listOf(dictOf([]string{"id", "name", "version", "release", "arch", "build_id"},
			map[string]string{"id": "int", "name": "str", "version": "str", "release": "str", "arch": "str", "build_id": "int"}))
		refs.(map[string]any)["dict"].(map[string]any)["component_of"] = listOf("int")
		refs.(map[string]any)["dict"].(map[string]any)["images"] = listOf("int")
		for i, want := range map[int]any{
			0:  dictOf(append(append([]string{}, archive...), "arch", "rootid"), imageTypes),
			1:  dictOf(append(append([]string{}, archive...), "group_id", "artifact_id", "version"), mavenTypes),
			2:  dictOf([]string{"archive_id", "group_id", "artifact_id", "version"}, map[string]string{"archive_id": "int", "group_id": "str", "artifact_id": "str", "version": "str"}),
			3:  dictOf([]string{"archive_id", "arch", "rootid"}, map[string]string{"archive_id": "int", "arch": "str", "rootid": "bool"}),
			4:  listOf(typeShape),
			5:  typeShape,
			6:  listOf(zipEntry),
			7:  listOf(tarEntry),
			8:  tarEntry,
			9:  refs,
			10: listOf("bool"),
			11: "int",
			12: "NoneType",
			13: listOf(dictOf([]string{"name", "dir", "path"}, map[string]string{"name": "str", "dir": "str", "path": "str"})),
			14: "bool",
			15: listOf(dictOf([]string{"package_id", "package_name"}, map[string]string{"package_id": "int", "package_name": "str"})),
		} {
			sameShape(t, want, out[i].Types, fmt.Sprintf("%d %s", i, calls[i][0]))
		}
		assert.Equal(t, true, out[0].Result.(map[string]any)["rootid"])
		assert.Len(t, out[6].Result, 2)
		assert.Equal(t, []any{true, true, ""}, out[10].Result)
		assert.Equal(t, true, out[14].Result)
		assert.Equal(t, []any{map[string]any{"name": "build.log", "dir": "x86_64",
			"path": "packages/foo/1.0/1/data/logs/x86_64/build.log"}}, out[13].Result)
	})
}
