package hubserver_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/koji"
)

// tagNotifications are the requests of the tagNotification tasks made
// so far.
func tagNotifications(t *testing.T, c *koji.Client) []any {
	t.Helper()
	var tasks []map[string]any
	require.NoError(t, c.CallKw(context.Background(), "listTasks", &tasks, nil, map[string]any{
		"opts": map[string]any{"method": "tagNotification", "decode": true}, "queryOpts": map[string]any{"order": "id"}}))
	out := []any{}
	for _, task := range tasks {
		out = append(out, task["request"])
	}
	return out
}

// With upstream's default configuration (notifications on, and on
// success), untagBuild, and tagBuildBypass and untagBuildBypass with
// notify, make a tagNotification task for the build's owner and the
// package's owner in the tag.
func TestKojiTagNotifications(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		require.NoError(t, admin.Call(ctx, "createUser", nil, "carol"))
		_, err := admin.CreateTag(ctx, "dest", nil)
		require.NoError(t, err)
		require.NoError(t, admin.PackageListAdd(ctx, "dest", "foo", &koji.PackageListAddOptions{Owner: "carol"}))
		var id int64
		require.NoError(t, admin.Call(ctx, "createEmptyBuild", &id, "foo", "1", "1", nil))
		require.NotZero(t, id)
		owners := []any{"kojiadmin@None", "carol@None"}

		require.NoError(t, admin.TagBuildBypass(ctx, "dest", "foo-1-1", nil))
		assert.Empty(t, tagNotifications(t, admin), "no notify, no notification")
		require.NoError(t, admin.Call(ctx, "untagBuildBypass", nil, "dest", "foo-1-1", true, false, true))
		require.NoError(t, admin.CallKw(ctx, "tagBuildBypass", nil, []any{"dest", "foo-1-1"}, map[string]any{"notify": true}))
		require.NoError(t, admin.Call(ctx, "untagBuild", nil, "dest", "foo-1-1"))
		assert.Equal(t, []any{
			[]any{owners, true, nil, "dest", "foo-1-1", int64(1), false, ""},
			[]any{owners, true, "dest", nil, "foo-1-1", int64(1), false, ""},
			[]any{owners, true, nil, "dest", "foo-1-1", int64(1), false, ""},
		}, tagNotifications(t, admin))
		// A failing untagBuild notifies nothing: its transaction is rolled
		// back.
		faultString(t, admin, koji.ErrTag, "untagBuild", []any{"dest", "foo-1-1"}, nil)
		assert.Len(t, tagNotifications(t, admin), 3)
	})
}
