package hubserver_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/koji"
)

func TestKojiTargetFixtures(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		anchorTags(t, admin)
		require.NoError(t, admin.Call(ctx, "createBuildTarget", nil, "anchor-target", "anchor-build", "anchor-dest"))

		var list []any
		require.NoError(t, admin.Call(ctx, "getBuildTargets", &list))
		want := recorded(t, "getBuildTargets").([]any)
		require.Len(t, list, len(want))
		for i := range want {
			sameMembers(t, want[i], list[i])
		}
		var one any
		require.NoError(t, admin.Call(ctx, "getBuildTarget", &one, "anchor-target"))
		sameMembers(t, want[0], one)
		require.NoError(t, admin.Call(ctx, "getBuildTarget", &one, 1))
		sameMembers(t, want[0], one)
		require.NoError(t, admin.Call(ctx, "getBuildTarget", &one, map[string]any{"name": "anchor-target"}))
		sameMembers(t, want[0], one)

		// The typed client.
		target, err := admin.GetBuildTarget(ctx, "anchor-target", nil)
		require.NoError(t, err)
		assert.Equal(t, koji.Target{ID: 1, Name: "anchor-target", BuildTagID: 2, BuildTagName: "anchor-build", DestTagID: 3, DestTagName: "anchor-dest"}, *target)
		target, err = admin.GetBuildTarget(ctx, "nope", nil)
		require.NoError(t, err)
		assert.Nil(t, target)
		targets, err := admin.GetBuildTargets(ctx, &koji.GetBuildTargetsOptions{BuildTagID: "anchor-build"})
		require.NoError(t, err)
		require.Len(t, targets, 1)
		targets, err = admin.GetBuildTargets(ctx, &koji.GetBuildTargetsOptions{DestTagID: 2})
		require.NoError(t, err)
		assert.Empty(t, targets)
		_, err = admin.GetBuildTarget(ctx, "nope", &koji.GetBuildTargetOptions{Strict: true})
		var f *koji.Fault
		require.ErrorAs(t, err, &f)
		assert.Equal(t, "No such build target: nope", f.String)

		// Permission: target or admin.
		anon := kh.client(t)
		assert.Equal(t, "target permission required (user not logged in)",
			faultString(t, anon, koji.ErrActionNotAllowed, "createBuildTarget", []any{"x", "anchor-build", "anchor-dest"}, nil))
		require.NoError(t, admin.Call(ctx, "createUser", nil, "testuser"))
		require.NoError(t, kh.koji.SetPassword(ctx, "testuser", "testpass"))
		user := kh.passwordLogin(t, "testuser", "testpass")
		assert.Equal(t, "target permission required (logged in as testuser)",
			user.fault(t, 1, koji.ErrActionNotAllowed, "createBuildTarget", "x", "anchor-build", "anchor-dest"))
		assert.Equal(t, "target permission required (logged in as testuser)",
			user.fault(t, 2, koji.ErrActionNotAllowed, "deleteBuildTarget", "anchor-target"))
		require.NoError(t, admin.Call(ctx, "grantPermission", nil, "testuser", "target"))
		assert.Nil(t, user.ok(t, 3, "createBuildTarget", "by-user", "anchor-build", "anchor-dest"))
		assert.Nil(t, user.ok(t, 4, "editBuildTarget", "by-user", "by-user", "anchor-dest", "anchor-build"))
		assert.Nil(t, user.ok(t, 5, "deleteBuildTarget", "by-user"))
	})
}

func TestKojiTargetEdits(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		anchorTags(t, admin)
		call := func(method string, args ...any) {
			t.Helper()
			require.NoError(t, admin.Call(ctx, method, nil, args...))
		}
		names := func(kw map[string]any) []any {
			t.Helper()
			var list []map[string]any
			require.NoError(t, admin.CallKw(ctx, "getBuildTargets", &list, nil, kw))
			out := []any{}
			for _, r := range list {
				out = append(out, r["name"])
			}
			return out
		}
		call("createBuildTarget", "t1", "anchor-build", "anchor-dest")
		call("createBuildTarget", "t2", int64(1), "anchor-dest")
		var ev map[string]any
		require.NoError(t, admin.Call(ctx, "getLastEvent", &ev))

		// Faults.
		fs := func(method string, args ...any) string {
			t.Helper()
			return faultString(t, admin, koji.ErrGeneric, method, args, nil)
		}
		assert.Equal(t, "A build target with the name 't1' already exists", fs("createBuildTarget", "t1", "anchor-build", "anchor-dest"))
		assert.Equal(t, "build tag 'nope' does not exist", fs("createBuildTarget", "t3", "nope", "anchor-dest"))
		assert.Equal(t, "destination tag '99' does not exist", fs("createBuildTarget", "t3", "anchor-build", int64(99)))
		assert.Equal(t, "Name should be string", fs("createBuildTarget", int64(5), "anchor-build", "anchor-dest"))
		assert.Equal(t, "Name bad name does not match RegexNameInternal value", fs("createBuildTarget", "bad name", "anchor-build", "anchor-dest"))
		assert.Equal(t, "No build target with the name or id nope", fs("editBuildTarget", "nope", "x", "anchor-build", "anchor-dest"))
		assert.Equal(t, "No build target with the name or id 42", fs("deleteBuildTarget", int64(42)))
		assert.Equal(t, "Invalid name or id value: {'name': 't1'}", fs("deleteBuildTarget", map[string]any{"name": "t1"}))
		assert.Equal(t, `name "t2" is already taken by build target 2`, fs("editBuildTarget", "t1", "t2", "anchor-build", "anchor-dest"))
		assert.Equal(t, "destination tag 'gone' does not exist", fs("editBuildTarget", "t1", "t1", "anchor-build", "gone"))
		assert.Equal(t, "Invalid event: 'x'", fs("getBuildTargets", nil, "x"))
		assert.Equal(t, "Invalid name or id value: 1.5", faultString(t, admin, koji.ErrParameter, "getBuildTarget", []any{1.5}, nil))
		assert.Equal(t, "<class 'Exception'>: Invalid order: bogus",
			faultString(t, admin, 1, "getBuildTargets", nil, map[string]any{"queryOpts": map[string]any{"order": "bogus"}}))

		// Rename and retarget; the old configuration stays readable by event.
		call("editBuildTarget", "t1", "t1-renamed", "anchor-base", "anchor-build")
		var got map[string]any
		require.NoError(t, admin.Call(ctx, "getBuildTarget", &got, int64(1)))
		assert.Equal(t, map[string]any{"id": int64(1), "name": "t1-renamed", "build_tag": int64(1), "build_tag_name": "anchor-base",
			"dest_tag": int64(2), "dest_tag_name": "anchor-build"}, got)
		require.NoError(t, admin.CallKw(ctx, "getBuildTarget", &got, []any{int64(1)}, map[string]any{"event": ev["id"]}))
		assert.Equal(t, int64(2), got["build_tag"])
		assert.Equal(t, "t1-renamed", got["name"], "names are not versioned")
		assert.Equal(t, []any{"t2", "t1-renamed"}, names(map[string]any{"queryOpts": map[string]any{"order": "-id"}}))
		assert.Equal(t, []any{"t1-renamed", "t2"}, names(map[string]any{"buildTagID": "anchor-base"}))
		assert.Equal(t, []any{}, names(map[string]any{"buildTagID": "nope"}))
		assert.Equal(t, []any{"t1-renamed"}, names(map[string]any{"destTagID": map[string]any{"name": "anchor-build"}}))
		assert.Equal(t, []any{"t2"}, names(map[string]any{"info": "t2"}))
		var n int
		require.NoError(t, admin.CallKw(ctx, "getBuildTargets", &n, nil, map[string]any{"queryOpts": map[string]any{"countOnly": true}}))
		assert.Equal(t, 2, n)

		// Delete, then create again: the id is reused.
		call("deleteBuildTarget", "t2")
		assert.Equal(t, []any{"t1-renamed"}, names(nil))
		require.NoError(t, admin.Call(ctx, "getBuildTarget", &got, "t2"))
		assert.Nil(t, got)
		assert.Equal(t, []any{"t1-renamed", "t2"}, names(map[string]any{"event": ev["id"]}))
		call("createBuildTarget", "t2", "anchor-dest", "anchor-dest")
		require.NoError(t, admin.Call(ctx, "getBuildTarget", &got, "t2"))
		assert.Equal(t, int64(2), got["id"])

		// Deleting a tag revokes the targets that use it, as upstream's
		// delete_tag does.
		call("deleteTag", "anchor-build")
		assert.Equal(t, []any{"t2"}, names(nil))
		call("deleteTag", "anchor-dest")
		assert.Equal(t, []any{}, names(nil))
	})
}
