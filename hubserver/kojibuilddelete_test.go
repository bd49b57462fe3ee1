package hubserver_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/koji"
)

func TestKojiDeleteBuild(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		foo := call(t, admin, "createEmptyBuild", []any{"foo", "1.0", "1", nil}, nil).(int64)
		bar := call(t, admin, "createEmptyBuild", []any{"bar", "1.0", "1", nil}, nil).(int64)
		var fooRPM, barRPM int64
		taskTx(t, kh, 1, func(ctx context.Context) (err error) {
			if fooRPM, err = kh.koji.AddRPMForTest(ctx, foo, "foo", "x86_64"); err != nil {
				return err
			}
			if err = kh.koji.AddRPMSigForTest(ctx, fooRPM, "fd431d51"); err != nil {
				return err
			}
			barRPM, err = kh.koji.AddBuildrootUseForTest(ctx, bar, "bar", fooRPM)
			return err
		})
		call(t, admin, "createTag", []any{"f44"}, nil)
		call(t, admin, "packageListAdd", []any{"f44", "foo", "kojiadmin"}, nil)
		call(t, admin, "tagBuildBypass", []any{"f44", "foo-1.0-1"}, nil)

		assert.Equal(t, "Cannot delete build, tagged: [{'tag_id': 1, 'name': 'f44'}]",
			faultString(t, admin, koji.ErrGeneric, "deleteBuild", []any{"foo-1.0-1"}, nil))
		assert.Equal(t, false, call(t, admin, "deleteBuild", []any{"foo-1.0-1"}, map[string]any{"strict": false}))
		call(t, admin, "untagBuildBypass", []any{"f44", "foo-1.0-1"}, nil)
		assert.Equal(t, "Cannot delete build, used in buildroots: [{'id': 2, 'name': 'bar', 'version': '1.0', "+
			"'release': '1', 'arch': 'x86_64', 'build_id': 2}]",
			faultString(t, admin, koji.ErrGeneric, "deleteBuild", []any{foo}, nil))
		assert.Equal(t, barRPM, int64(2))

		// bar is used by nothing: deleted, its listing revoked.
		user := kh.client(t)
		assert.Equal(t, "admin permission required (user not logged in)", faultString(t, user, koji.ErrActionNotAllowed, "deleteBuild", []any{bar}, nil))
		assert.Equal(t, true, call(t, admin, "deleteBuild", []any{bar}, nil))
		b := call(t, admin, "getBuild", []any{bar}, nil).(map[string]any)
		assert.Equal(t, int64(2), b["state"])
		assert.Nil(t, call(t, admin, "deleteBuild", []any{bar}, nil), "already deleted")
		// a DELETED build's RPMs no longer count as references
		assert.Equal(t, true, call(t, admin, "deleteBuild", []any{foo}, nil))
		assert.Equal(t, []any{}, call(t, admin, "queryRPMSigs", nil, map[string]any{"rpm_id": fooRPM}), "signatures deleted")
		assert.Equal(t, "No such build: 'nope-1-1'", faultString(t, admin, koji.ErrGeneric, "deleteBuild", []any{"nope-1-1"}, nil))
	})
}

func TestKojiResetBuild(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		foo := call(t, admin, "createEmptyBuild", []any{"foo", "1.0", "1", nil}, nil).(int64)
		taskTx(t, kh, 1, func(ctx context.Context) error {
			id, err := kh.koji.AddRPMForTest(ctx, foo, "foo", "x86_64")
			if err != nil {
				return err
			}
			if err := kh.koji.AddRPMSigForTest(ctx, id, ""); err != nil {
				return err
			}
			_, err = kh.koji.AddArchiveForTest(ctx, foo, "foo.tar")
			return err
		})
		call(t, admin, "createTag", []any{"f44"}, nil)
		call(t, admin, "packageListAdd", []any{"f44", "foo", "kojiadmin"}, nil)
		call(t, admin, "tagBuildBypass", []any{"f44", "foo-1.0-1"}, nil)

		assert.Nil(t, call(t, admin, "resetBuild", []any{"foo-1.0-1"}, nil))
		b := call(t, admin, "getBuild", []any{foo}, nil).(map[string]any)
		assert.Equal(t, int64(4), b["state"], "CANCELED")
		assert.Nil(t, b["task_id"])
		assert.Equal(t, int64(0), b["volume_id"])
		var rpms, archives, tagged []any
		require.NoError(t, admin.CallKw(ctx, "listRPMs", &rpms, nil, map[string]any{"buildID": foo}))
		assert.Empty(t, rpms)
		require.NoError(t, admin.CallKw(ctx, "listArchives", &archives, nil, map[string]any{"buildID": foo}))
		assert.Empty(t, archives)
		require.NoError(t, admin.Call(ctx, "listTagged", &tagged, "f44"))
		assert.Empty(t, tagged)
		hist := call(t, admin, "queryHistory", []any{[]any{"tag_listing"}}, nil).(map[string]any)
		assert.Empty(t, hist["tag_listing"], "reset_build deletes the listing's history")
		assert.Nil(t, call(t, admin, "resetBuild", []any{"nope-1-1"}, nil), "no such build")
		assert.Equal(t, "admin permission required (user not logged in)", faultString(t, kh.client(t), koji.ErrActionNotAllowed, "resetBuild", []any{foo}, nil))
	})
}

func TestKojiSetBuildOwnerAndTimestamp(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		foo := call(t, admin, "createEmptyBuild", []any{"foo", "1.0", "1", nil}, nil).(int64)
		call(t, admin, "createUser", []any{"testuser"}, nil)
		assert.Nil(t, call(t, admin, "setBuildOwner", []any{"foo-1.0-1", "testuser"}, nil))
		b := call(t, admin, "getBuild", []any{foo}, nil).(map[string]any)
		assert.Equal(t, "testuser", b["owner_name"])
		assert.Equal(t, "No such user: 'nobody'", faultString(t, admin, koji.ErrGeneric, "setBuildOwner", []any{foo, "nobody"}, nil))
		assert.Equal(t, "No such build: 'nope-1-1'", faultString(t, admin, koji.ErrGeneric, "setBuildOwner", []any{"nope-1-1", "testuser"}, nil))

		assert.Nil(t, call(t, admin, "setBuildTimestamp", []any{foo, 1700000000.5}, nil))
		b = call(t, admin, "getBuild", []any{foo}, nil).(map[string]any)
		assert.InDelta(t, 1700000000.5, b["completion_ts"], 1e-3)
		assert.Nil(t, call(t, admin, "setBuildTimestamp", []any{foo, time.Unix(1600000000, 0).UTC()}, nil))
		b = call(t, admin, "getBuild", []any{foo}, nil).(map[string]any)
		assert.InDelta(t, 1600000000, b["completion_ts"], 1e-3)
		assert.Equal(t, "Invalid type for timestamp", faultString(t, admin, koji.ErrGeneric, "setBuildTimestamp", []any{foo, "now"}, nil))
		anon := kh.client(t)
		assert.Equal(t, "admin permission required (user not logged in)", faultString(t, anon, koji.ErrActionNotAllowed, "setBuildOwner", []any{foo, "testuser"}, nil))
		assert.Equal(t, "admin permission required (user not logged in)", faultString(t, anon, koji.ErrActionNotAllowed, "setBuildTimestamp", []any{foo, 1}, nil))
	})
}

func TestBuildDeleteMethodSignatures(t *testing.T) {
	assertUpstreamSignatures(t, "deleteBuild", "resetBuild", "setBuildOwner", "setBuildTimestamp")
}
