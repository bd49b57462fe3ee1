package hubserver_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/koji"
)

// rpmLines are the lines rpm -qp --qf prints for a format.
func rpmLines(t *testing.T, file, format string) []string {
	out := strings.TrimSuffix(rpmQuery(t, file, format), "\n")
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

// rpmInts are rpmLines as integers.
func rpmInts(t *testing.T, file, format string) []int64 {
	var out []int64
	for _, s := range rpmLines(t, file, format) {
		n, err := strconv.ParseInt(s, 10, 64)
		require.NoError(t, err)
		out = append(out, n)
	}
	return out
}

// TestKojiRPMFilesAndDeps: getRPMDeps, listRPMFiles and getRPMFile read
// the RPM's header as rpm -qp prints it (dependencies of each type with
// koji.DEP_* numbers, files with their digests, owners, sizes, modes and
// times), take queryOpts, and answer [] or {} (faults when strict) for a
// missing RPM, file or package file; also through Python's xmlrpc.client.
func TestKojiRPMFilesAndDeps(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		h := startRPMFilesHub(t, dsn)
		require.NoError(t, h.koji.SetPassword(ctx, "kojiadmin", "secret"))
		anon := h.client(t)

		deps := call(t, anon, "getRPMDeps", []any{h.binRPMID}, nil).([]any)
		var want []any
		for _, dt := range []struct {
			tag string
			id  int64
		}{{"REQUIRE", 0}, {"PROVIDE", 1}, {"CONFLICT", 3}, {"OBSOLETE", 2}} {
			names := rpmLines(t, h.bin, "[%{"+dt.tag+"NAME}\n]")
			versions := rpmLines(t, h.bin, "[%{"+dt.tag+"VERSION}\n]")
			flags := rpmInts(t, h.bin, "[%{"+dt.tag+"FLAGS}\n]")
			for i := range names {
				want = append(want, map[string]any{"name": names[i], "version": versions[i], "flags": flags[i], "type": dt.id})
			}
		}
		require.NotEmpty(t, want)
		assert.Equal(t, want, deps)
		provides := call(t, anon, "getRPMDeps", []any{h.binRPMID, 1}, nil).([]any)
		assert.Contains(t, provides, map[string]any{"name": "clog", "version": "3:2.0-1", "flags": int64(8), "type": int64(1)})
		for _, p := range provides {
			assert.Equal(t, int64(1), p.(map[string]any)["type"])
		}
		assert.Equal(t, "<class 'TypeError'>: list indices must be integers or slices, not str",
			faultString(t, anon, koji.FaultClass(1), "getRPMDeps", []any{h.binRPMID}, map[string]any{"depType": 1,
				"queryOpts": map[string]any{"asList": true, "order": "-name"}}), "asList rows cannot be ordered by name, as upstream")
		assert.Equal(t, int64(len(want)), call(t, anon, "getRPMDeps", []any{h.binRPMID}, map[string]any{"queryOpts": map[string]any{"countOnly": true}}))

		files := call(t, anon, "listRPMFiles", []any{h.binRPMID}, nil).([]any)
		digests := rpmLines(t, h.bin, "[%{FILEDIGESTS}\n]")
		file := map[string]any{"name": "/usr/share/clog/data", "digest": digests[0], "md5": digests[0], "digest_algo": "sha256",
			"size": int64(5), "flags": rpmInts(t, h.bin, "[%{FILEFLAGS}\n]")[0], "user": "root", "group": "root",
			"mtime": rpmInts(t, h.bin, "[%{FILEMTIMES}\n]")[0], "mode": rpmInts(t, h.bin, "[%{FILEMODES}\n]")[0]}
		assert.Equal(t, []any{file}, files)
		assert.Equal(t, []any{[]any{file["name"], file["digest"], file["size"], file["flags"], "sha256", "root", "root",
			file["mtime"], file["mode"]}}, call(t, anon, "listRPMFiles", []any{h.binRPMID}, map[string]any{"queryOpts": map[string]any{"asList": true}}))
		got := call(t, anon, "getRPMFile", []any{"clog-2.0-1.x86_64", "/usr/share/clog/data"}, nil).(map[string]any)
		file["rpm_id"] = h.binRPMID
		assert.Equal(t, file, got)
		assert.Equal(t, map[string]any{}, call(t, anon, "getRPMFile", []any{h.binRPMID, "/nope"}, nil))
		assert.Equal(t, "No file: /nope found in RPM: "+pyFmt(h.binRPMID),
			faultString(t, anon, koji.ErrGeneric, "getRPMFile", []any{h.binRPMID, "/nope"}, map[string]any{"strict": true}))

		// No such RPM, or its file gone.
		assert.Equal(t, []any{}, call(t, anon, "getRPMDeps", []any{999}, nil))
		assert.Equal(t, []any{}, call(t, anon, "listRPMFiles", []any{999}, nil))
		assert.Equal(t, map[string]any{}, call(t, anon, "getRPMFile", []any{999, "/x"}, nil))
		assert.Equal(t, "No such rpm: {'id': 999}", faultString(t, anon, koji.ErrGeneric, "getRPMDeps", []any{999},
			map[string]any{"strict": true}))
		built := filepath.Join(h.top, "packages", "clog", "2.0", "1", "x86_64", "clog-2.0-1.x86_64.rpm")
		require.NoError(t, os.Remove(built))
		assert.Equal(t, []any{}, call(t, anon, "listRPMFiles", []any{h.binRPMID}, nil))
		assert.Equal(t, []any{}, call(t, anon, "getRPMDeps", []any{h.binRPMID}, nil))
		assert.Equal(t, "RPM file of "+pyFmt(h.binRPMID)+" doesn't exist", faultString(t, anon, koji.ErrGeneric, "getRPMDeps",
			[]any{h.binRPMID}, map[string]any{"strict": true}))
		assert.Equal(t, "RPM package file of "+pyFmt(h.binRPMID)+" doesn't exist", faultString(t, anon, koji.ErrGeneric,
			"getRPMFile", []any{h.binRPMID, "/usr/share/clog/data"}, map[string]any{"strict": true}))

		out := runPySession(t, h.kojiHub, []pyCall{
			pycall("getRPMDeps", []any{h.srpmID}, nil),
			pycall("listRPMFiles", []any{h.srpmID}, nil),
			pycall("getRPMFile", []any{h.srpmID, "clog.spec"}, nil),
		})
		for i, a := range out {
			require.Nil(t, a.Fault, "call %d", i)
		}
		dep := out[0].Types.(map[string]any)["list"].([]any)[0].(map[string]any)["dict"].(map[string]any)
		assert.Equal(t, map[string]any{"name": "str", "version": "str", "flags": "int", "type": "int"}, dep)
		assert.Equal(t, "clog.spec", out[2].Result.(map[string]any)["name"])
		assert.Equal(t, map[string]any{"rpm_id": "int", "name": "str", "digest": "str", "md5": "str", "digest_algo": "str",
			"size": "int", "flags": "int", "user": "str", "group": "str", "mtime": "int", "mode": "int"},
			out[2].Types.(map[string]any)["dict"])
	})
	assertUpstreamSignatures(t, "getRPMDeps", "listRPMFiles", "getRPMFile")
}
