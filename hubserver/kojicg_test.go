package hubserver_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/internal/rpm"
	"github.com/gokoji/gokoji/koji"
)

// cgOutput is a metadata output entry for a local file.
func cgOutput(t *testing.T, file, typ string) map[string]any {
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	sum := md5.Sum(data)
	out := map[string]any{"buildroot_id": 1, "filename": filepath.Base(file), "filesize": len(data),
		"checksum": hex.EncodeToString(sum[:]), "checksum_type": "md5", "type": typ, "arch": "noarch"}
	if typ == "rpm" {
		p, err := rpm.ReadFile(file)
		require.NoError(t, err)
		out["arch"] = p.Arch
		if p.SourcePackage {
			out["arch"] = "src"
		}
	}
	return out
}

// cgMetadata is content generator metadata of name-1-1 built in one
// buildroot of the osbs content generator.
func cgMetadata(name string, buildID any, outputs ...any) map[string]any {
	build := map[string]any{"name": name, "version": "1", "release": "1", "source": "https://example.com/" + name,
		"extra": map[string]any{"note": "cg"}, "start_time": 1700000000, "end_time": 1700000100.5}
	if buildID != nil {
		build["build_id"] = buildID
	}
	return map[string]any{
		"metadata_version": 0,
		"build":            build,
		"buildroots": []any{map[string]any{
			"id":                1,
			"content_generator": map[string]any{"name": "osbs", "version": "1.0"},
			"container":         map[string]any{"type": "none", "arch": "x86_64"},
			"host":              map[string]any{"os": "Fedora 43", "arch": "x86_64"},
			"components": []any{map[string]any{"type": "rpm", "name": "absent", "version": "1", "release": "1",
				"epoch": nil, "arch": "x86_64", "sigmd5": "00", "signature": nil}},
			"tools": []any{map[string]any{"name": "rpmbuild", "version": "4.20"}},
		}},
		"output": outputs,
	}
}

func TestKojiContentGenerators(t *testing.T) {
	pkg := buildRPMs(t, "cgpkg", "1", "1")
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		fh := startFilesHub(t, dsn, nil)
		admin := fh.admin
		bob := withBob(t, fh.kojiHub)

		// Access: granted by an admin, listed, revoked.
		assert.Equal(t, "No such entry in table content_generator: osbs",
			faultString(t, admin, koji.ErrGeneric, "grantCGAccess", []any{"kojiadmin", "osbs"}, nil))
		call(t, admin, "grantCGAccess", []any{"kojiadmin", "osbs"}, map[string]any{"create": true})
		assert.Equal(t, "User already has access to content generator osbs",
			faultString(t, admin, koji.ErrGeneric, "grantCGAccess", []any{"kojiadmin", "osbs"}, nil))
		assert.Equal(t, map[string]any{"osbs": map[string]any{"id": int64(1), "users": []any{"kojiadmin"}}},
			call(t, admin, "listCGs", nil, nil))
		assert.Equal(t, "admin permission required (logged in as bob)",
			bob.fault(t, 0, koji.ErrActionNotAllowed, "grantCGAccess", "bob", "osbs"))
		data := map[string]any{"name": "cgpkg", "version": "1", "release": "1"}
		assert.Equal(t, "Content generator access required (osbs)", bob.fault(t, 1, koji.ErrAuth, "CGInitBuild", "osbs", data))
		assert.Equal(t, `The "-" character not allowed in release field`, faultString(t, admin, koji.ErrGeneric, "CGInitBuild",
			[]any{"osbs", map[string]any{"name": "x", "version": "1", "release": "1-2"}}, nil))

		// A reservation, refunded, then reserved again (the FAILED build
		// is recycled).
		res := call(t, admin, "CGInitBuild", []any{"osbs", data}, nil).(map[string]any)
		id, token := res["build_id"].(int64), res["token"].(string)
		assert.Len(t, token, 64)
		b := call(t, admin, "getBuild", []any{id}, nil).(map[string]any)
		assert.Equal(t, int64(0), b["state"])
		assert.Equal(t, "osbs", b["cg_name"])
		assert.Equal(t, "kojiadmin", b["owner_name"])
		assert.Equal(t, "Token doesn't match build ID "+pyFmt(id),
			faultString(t, admin, koji.ErrGeneric, "CGRefundBuild", []any{"osbs", id, "bad"}, nil))
		assert.Equal(t, "Only FAILED/CANCELED build states are allowed",
			faultString(t, admin, koji.ErrGeneric, "CGRefundBuild", []any{"osbs", id, token, 1}, nil))
		call(t, admin, "CGRefundBuild", []any{"osbs", id, token}, nil)
		assert.Equal(t, int64(3), call(t, admin, "getBuild", []any{id}, nil).(map[string]any)["state"])
		assert.Equal(t, "Build ID "+pyFmt(id)+" is not in BUILDING state",
			faultString(t, admin, koji.ErrGeneric, "CGRefundBuild", []any{"osbs", id, token}, nil))
		res = call(t, admin, "CGInitBuild", []any{"osbs", data}, nil).(map[string]any)
		require.Equal(t, id, res["build_id"])
		token = res["token"].(string)

		// The files, uploaded by the user.
		dir := "cli-import/cgpkg"
		log := filepath.Join(t.TempDir(), "build.log")
		require.NoError(t, os.WriteFile(log, []byte("built\n"), 0o644))
		upload(t, admin, dir, append(pkg.all(), log)...)
		var outputs []any
		for _, f := range pkg.all() {
			outputs = append(outputs, cgOutput(t, f, "rpm"))
		}
		outputs = append(outputs, cgOutput(t, log, "log"))
		md := cgMetadata("cgpkg", id, outputs...)

		// Refusals, each leaving the reservation as it was.
		assert.Equal(t, "Token doesn't match build ID "+pyFmt(id),
			faultString(t, admin, koji.ErrGeneric, "CGImport", []any{md, dir, "bad"}, nil))
		assert.Equal(t, "Content generator access required (osbs)", bob.fault(t, 2, koji.ErrAuth, "CGImport", md, dir, token))
		bad := cgMetadata("cgpkg", id, append([]any{cgOutput(t, log, "docker-image")}, outputs...)...)
		assert.Equal(t, "No typeinfo for: build.log", faultString(t, admin, koji.ErrGeneric, "CGImport", []any{bad, dir, token}, nil))
		short := cgOutput(t, log, "log")
		short["filesize"] = 1
		bad = cgMetadata("cgpkg", id, append([]any{short}, outputs...)...)
		assert.Equal(t, "File size 6 for build.log (expected 1) doesn't match. Corrupted upload?",
			faultString(t, admin, koji.ErrGeneric, "CGImport", []any{bad, dir, token}, nil))
		assert.Equal(t, "<class 'ValueError'>: Invalid path segment: ../x",
			faultString(t, admin, 1, "CGImport", []any{md, "../x", token}, nil))
		assert.Equal(t, int64(0), call(t, admin, "getBuild", []any{id}, nil).(map[string]any)["state"])

		done := call(t, admin, "CGImport", []any{md, dir, token}, nil).(map[string]any)
		assert.Equal(t, done, call(t, admin, "getBuild", []any{id}, nil))
		assert.Equal(t, int64(1), done["state"])
		assert.Equal(t, "https://example.com/cgpkg", done["source"])
		assert.Equal(t, map[string]any{"note": "cg", "typeinfo": map[string]any{}}, done["extra"])
		rpms := call(t, admin, "listRPMs", nil, map[string]any{"buildID": id}).([]any)
		require.Len(t, rpms, 3)
		br := rpms[0].(map[string]any)["buildroot_id"].(int64)
		root := call(t, admin, "getBuildroot", []any{br}, nil).(map[string]any)
		assert.Equal(t, int64(1), root["br_type"])
		assert.Equal(t, "osbs", root["cg_name"])
		assert.Equal(t, "1.0", root["cg_version"])
		assert.Equal(t, "Fedora 43", root["host_os"])
		assert.Nil(t, root["state"], "not a standard buildroot")
		pi := koji.PathInfo{TopDir: fh.top}
		kb := &koji.Build{Name: "cgpkg", Version: "1", Release: "1"}
		var meta map[string]any
		raw, err := os.ReadFile(pi.Build(kb) + "/metadata.json")
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(raw, &meta))
		assert.EqualValues(t, 0, meta["metadata_version"])
		assert.FileExists(t, pi.Build(kb)+"/x86_64/cgpkg-1-1.x86_64.rpm")
		assert.FileExists(t, pi.BuildLogs(kb)+"/build.log")
		cglog, err := os.ReadFile(pi.BuildLogs(kb) + "/cg_import.log")
		require.NoError(t, err)
		assert.Contains(t, string(cglog), "IGNORING unmatched rpm component")
		assert.Contains(t, string(cglog), "CG import was SUCCESSFUL.\n")
		assert.Equal(t, "Build ID "+pyFmt(id)+" is not in BUILDING state",
			faultString(t, admin, koji.ErrGeneric, "CGRefundBuild", []any{"osbs", id, token}, nil))

		// Without a reservation, from JSON text: a build of its own.
		logOnly, err := json.Marshal(cgMetadata("cglog", nil, cgOutput(t, log, "log")))
		require.NoError(t, err)
		upload(t, admin, "cli-import/cglog", log)
		got := call(t, admin, "CGImport", []any{string(logOnly), "cli-import/cglog"}, nil).(map[string]any)
		assert.Equal(t, "cglog-1-1", got["nvr"])
		assert.Equal(t, "osbs", got["cg_name"])
		assert.Equal(t, 1700000100.5, got["completion_ts"])
		assert.Equal(t, "Build already exists: ", faultString(t, admin, koji.ErrGeneric, "CGImport",
			[]any{string(logOnly), "cli-import/cglog"}, nil)[:len("Build already exists: ")])
		assert.Equal(t, "Reservation token given, but no build_id in metadata", faultString(t, admin, koji.ErrGeneric,
			"CGImport", []any{string(logOnly), "cli-import/cglog", "tok"}, nil))

		call(t, admin, "revokeCGAccess", []any{"kojiadmin", "osbs"}, nil)
		assert.Empty(t, call(t, admin, "listCGs", nil, nil))
		assert.Equal(t, "Content generator access required (osbs)",
			faultString(t, admin, koji.ErrAuth, "CGInitBuild", []any{"osbs", map[string]any{"name": "n", "version": "1", "release": "1"}}, nil))
		var hist map[string]any
		require.NoError(t, admin.CallKw(ctx, "queryHistory", &hist, nil, map[string]any{"tables": []any{"cg_users"}}))
		assert.Len(t, hist["cg_users"], 1)
	})
}

func TestCGMethodSignatures(t *testing.T) {
	assertUpstreamSignatures(t, "CGInitBuild", "CGImport", "CGRefundBuild", "grantCGAccess", "revokeCGAccess", "listCGs")
}
