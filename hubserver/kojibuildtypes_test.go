package hubserver_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/koji"
)

func TestKojiLegacyBuildTypes(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		anon := kh.client(t)
		ids := map[string]int64{}
		for _, nvr := range [][3]string{{"mvn", "1", "1"}, {"winpkg", "2", "1"}, {"img", "3", "1"}, {"plain", "4", "1"}} {
			id, err := admin.CreateEmptyBuild(ctx, nvr[0], nvr[1], nvr[2], nil, nil)
			require.NoError(t, err)
			ids[nvr[0]] = int64(id)
		}
		require.NoError(t, kh.koji.TaskTx(ctx, 0, func(ctx context.Context) error {
			require.NoError(t, kh.koji.SetLegacyTypeForTest(ctx, ids["mvn"], "maven", "org.example", "mvn", "1.0"))
			require.NoError(t, kh.koji.SetLegacyTypeForTest(ctx, ids["winpkg"], "win", "w10"))
			return kh.koji.SetLegacyTypeForTest(ctx, ids["img"], "image")
		}))
		call := func(method string, args ...any) any {
			var v any
			require.NoError(t, anon.Call(ctx, method, &v, args...))
			return v
		}
		assert.Equal(t, map[string]any{"build_id": ids["mvn"], "group_id": "org.example", "artifact_id": "mvn", "version": "1.0"},
			call("getMavenBuild", "mvn-1-1"))
		assert.Equal(t, call("getMavenBuild", "mvn-1-1"), call("getMavenBuild", ids["mvn"], true))
		assert.Equal(t, call("getMavenBuild", "mvn-1-1"),
			call("getMavenBuild", map[string]any{"name": "mvn", "version": "1", "release": "1"}))
		assert.Equal(t, map[string]any{"build_id": ids["winpkg"], "platform": "w10"}, call("getWinBuild", "winpkg-2-1"))
		assert.Equal(t, map[string]any{"build_id": ids["img"]}, call("getImageBuild", ids["img"]))
		// not of the type, or no such build: None, or with strict upstream's faults
		for _, m := range []string{"getMavenBuild", "getWinBuild", "getImageBuild"} {
			assert.Nil(t, call(m, "plain-4-1"))
			assert.Nil(t, call(m, "nosuch-1-1"))
			assert.Nil(t, call(m, 999))
		}
		kw := map[string]any{"strict": true}
		assert.Equal(t, "no such maven build: plain-4-1", faultString(t, anon, koji.ErrGeneric, "getMavenBuild", []any{"plain-4-1"}, kw))
		assert.Equal(t, "no such Windows build: mvn-1-1", faultString(t, anon, koji.ErrGeneric, "getWinBuild", []any{"mvn-1-1"}, kw))
		assert.Equal(t, "no such image build: 999", faultString(t, anon, koji.ErrGeneric, "getImageBuild", []any{999}, kw))
		assert.Equal(t, "No such build: 'nosuch-1-1'", faultString(t, anon, koji.ErrGeneric, "getMavenBuild", []any{"nosuch-1-1"}, kw))
		assert.Equal(t, "no such image build: {'name': 'plain', 'release': '1', 'version': '4'}",
			faultString(t, anon, koji.ErrGeneric, "getImageBuild", []any{map[string]any{"name": "plain", "version": "4", "release": "1"}}, kw))
		assert.Equal(t, "Invalid type for argument: <class 'float'>", faultString(t, anon, koji.ErrGeneric, "getWinBuild", []any{1.5}, nil))

		// getBuildType: btypes with their typeinfo, the legacy rows first
		assert.Equal(t, map[string]any{"maven": call("getMavenBuild", "mvn-1-1")}, call("getBuildType", ids["mvn"]))
		assert.Equal(t, map[string]any{"win": call("getWinBuild", "winpkg-2-1")}, call("getBuildType", "winpkg-2-1"))
		assert.Equal(t, map[string]any{"image": map[string]any{"build_id": ids["img"]}}, call("getBuildType", call("getBuild", ids["img"])))
		assert.Equal(t, map[string]any{}, call("getBuildType", "plain-4-1"))
		assert.Nil(t, call("getBuildType", "nosuch-1-1"))
		assert.Equal(t, "No such build: 'nosuch-1-1'", faultString(t, anon, koji.ErrGeneric, "getBuildType", []any{"nosuch-1-1"}, kw))
	})
}

// upstreamArgdesc reads Koji 1.35.3's method list: name to argdesc.
func upstreamArgdesc(t *testing.T) map[string]string {
	data, err := os.ReadFile(filepath.Join("..", "koji", "testdata", "koji-1.35.3-methods.txt"))
	require.NoError(t, err)
	upstream := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if name, args, ok := strings.Cut(line, "("); ok {
			upstream[name] = "(" + args
		}
	}
	return upstream
}

// The methods of buildinfo, rpminfo and import have upstream's
// signatures, as _listapi shows them.
func TestBuildInfoMethodSignatures(t *testing.T) {
	upstream := upstreamArgdesc(t)
	kh := startKoji(t, filepath.Join(t.TempDir(), "hub.db"), nil)
	byName := listAPI(t, kh)
	for _, name := range []string{"getMavenBuild", "getWinBuild", "getImageBuild", "getBuildType", "getRPMHeaders", "getChangelogEntries", "queryRPMSigs", "addRPMSig", "deleteRPMSig", "writeSignedRPM", "host.writeSignedRPM", "importRPM"} {
		require.Contains(t, upstream, name)
		require.Contains(t, byName, name)
		assert.Equal(t, upstream[name], byName[name]["argdesc"], name)
	}
}
