package hubserver_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
)

// koji import's calls: the SRPM and RPM uploaded and imported with
// importRPM, which creates the build from the SRPM and finds it for the
// RPM by its sourcerpm.
func TestKojiImportRPM(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		srpm, bin := buildChangelogRPMs(t)
		top := t.TempDir()
		kh := startKoji(t, dsn, func(cfg *hubserver.KojiConfig) { cfg.TopDir = top })
		admin := kh.sslClient(t, "")
		anon := kh.client(t)
		require.NoError(t, admin.Call(ctx, "createTag", nil, "imports"))
		upload(t, admin, "cli-import/a", srpm, bin)

		var got map[string]any
		require.NoError(t, admin.Call(ctx, "importRPM", &got, "cli-import/a", "clog-2.0-1.src.rpm"))
		build := got["build"].(map[string]any)
		assert.Equal(t, "clog-2.0-1", build["nvr"])
		assert.Equal(t, int64(store.BuildComplete), build["state"])
		assert.Equal(t, "kojiadmin", build["owner_name"])
		assert.Equal(t, int64(3), build["epoch"])
		var srpmInfo map[string]any
		require.NoError(t, anon.Call(ctx, "getRPM", &srpmInfo, "clog-2.0-1.src"))
		for _, k := range []string{"id", "name", "version", "release", "epoch", "arch", "buildtime", "size", "payloadhash", "build_id",
			"buildroot_id", "external_repo_id"} {
			assert.Equal(t, srpmInfo[k], got[k], k)
		}
		assert.Equal(t, int64(1), got["sourcepackage"])
		assert.Nil(t, got["sourcerpm"])
		assert.Nil(t, got["brootid"])
		buildID := build["id"].(int64)
		require.NoError(t, admin.Call(ctx, "tagBuildBypass", nil, "imports", buildID))
		var before int64
		require.NoError(t, anon.Call(ctx, "tagLastChangeEvent", &before, "imports"))

		require.NoError(t, admin.Call(ctx, "importRPM", &got, "cli-import/a", "clog-2.0-1.x86_64.rpm"))
		assert.Equal(t, buildID, got["build_id"])
		assert.Equal(t, "clog-2.0-1.src.rpm", got["sourcerpm"])
		assert.Nil(t, got["sourcepackage"])
		// the build's tags are marked updated
		var after int64
		require.NoError(t, anon.Call(ctx, "tagLastChangeEvent", &after, "imports"))
		assert.Greater(t, after, before)

		// the files moved into the build's directory, links left behind
		builddir := filepath.Join(top, "packages", "clog", "2.0", "1")
		for _, rel := range []string{"src/clog-2.0-1.src.rpm", "x86_64/clog-2.0-1.x86_64.rpm"} {
			fi, err := os.Lstat(filepath.Join(builddir, rel))
			require.NoError(t, err)
			assert.True(t, fi.Mode().IsRegular(), rel)
		}
		link, err := os.Readlink(filepath.Join(top, "work", "cli-import", "a", "clog-2.0-1.x86_64.rpm"))
		require.NoError(t, err)
		assert.Contains(t, link, "packages/clog/2.0/1/x86_64/clog-2.0-1.x86_64.rpm")
		// their unsigned headers are stored
		var sigs []any
		require.NoError(t, anon.Call(ctx, "queryRPMSigs", &sigs, got["id"]))
		require.Len(t, sigs, 1)
		assert.Equal(t, "", sigs[0].(map[string]any)["sigkey"])
		assert.Equal(t, md5Hex(string(ripSigHeader(t, bin))), sigs[0].(map[string]any)["sighash"])
		// buildinfo and rpminfo read them
		var rpms []any
		require.NoError(t, anon.CallKw(ctx, "listRPMs", &rpms, nil, map[string]any{"buildID": buildID}))
		assert.Len(t, rpms, 2)
		var entries []any
		require.NoError(t, anon.Call(ctx, "getChangelogEntries", &entries, buildID))
		assert.Len(t, entries, 3)
		var hdrs map[string]any
		require.NoError(t, anon.CallKw(ctx, "getRPMHeaders", &hdrs, []any{got["id"]}, map[string]any{"headers": []any{"name", "arch"}}))
		assert.Equal(t, map[string]any{"name": "clog", "arch": "x86_64"}, hdrs)

		// upstream's errors
		other := buildRPMs(t, "orphan", "1", "1")
		failed := buildRPMs(t, "failing", "1", "1")
		upload(t, admin, "cli-import/b", other.rpms[0], failed.rpms[0])
		require.NoError(t, os.WriteFile(filepath.Join(top, "work", "cli-import", "b", "misnamed.rpm"), mustRead(t, bin), 0o644))
		require.NoError(t, kh.koji.TaskTx(ctx, 1, func(ctx context.Context) error {
			_, err := kh.koji.NewBuildForTest(ctx, "failing", "1", "1", store.BuildFailed, 1, 0)
			return err
		}))
		for _, tc := range []struct {
			base string
			want string
		}{
			{"orphan-1-1.x86_64.rpm", "No such build"},
			{"failing-1-1.x86_64.rpm", "Build is FAILED: failing-1-1"},
			{"misnamed.rpm", "bad filename: misnamed.rpm (expected clog-2.0-1.x86_64.rpm)"},
			{"missing.rpm", "No such file: " + filepath.Join(top, "work", "cli-import", "b", "missing.rpm")},
		} {
			assert.Equal(t, tc.want, faultString(t, admin, koji.ErrGeneric, "importRPM", []any{"cli-import/b", tc.base}, nil))
		}
		assert.Equal(t, "admin permission required (user not logged in)",
			faultString(t, anon, koji.ErrActionNotAllowed, "importRPM", []any{"cli-import/a", "clog-2.0-1.x86_64.rpm"}, nil))
		// nothing of the failed imports stays
		var orphan any
		require.NoError(t, anon.Call(ctx, "getBuild", &orphan, "orphan-1-1"))
		assert.Nil(t, orphan)
		assert.FileExists(t, filepath.Join(top, "work", "cli-import", "b", "orphan-1-1.x86_64.rpm"))
	})
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	require.NoError(t, err)
	return data
}
