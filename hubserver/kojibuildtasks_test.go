package hubserver_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/auth"
	"github.com/gokoji/gokoji/koji"
)

// createdTask checks getTaskInfo(id, request=True) of a task just made,
// member by member as upstream's make_task leaves it, and returns it.
func createdTask(t *testing.T, c *koji.Client, id int, method string, priority, channelID, owner int64, request []any) map[string]any {
	t.Helper()
	var info map[string]any
	require.NoError(t, c.Call(context.Background(), "getTaskInfo", &info, id, true))
	want := map[string]any{
		"id": int64(id), "state": int64(0), "start_time": nil, "start_ts": nil, "completion_time": nil,
		"completion_ts": nil, "channel_id": channelID, "host_id": nil, "parent": nil, "label": nil,
		"waiting": nil, "awaited": nil, "owner": owner, "method": method, "arch": "noarch",
		"priority": priority, "weight": 1.0, "request": request,
	}
	for k, v := range want {
		require.Contains(t, info, k)
		assert.Equal(t, v, info[k], k)
	}
	assert.IsType(t, "", info["create_time"])
	assert.IsType(t, 1.0, info["create_ts"])
	assert.Len(t, info, len(want)+2)
	return info
}

func channelID(t *testing.T, c *koji.Client, name string) int64 {
	t.Helper()
	ch, err := c.GetChannel(context.Background(), name, nil)
	require.NoError(t, err)
	require.NotNil(t, ch)
	return int64(ch.ID)
}

func callerUserID(t *testing.T, c *koji.Client) int64 {
	t.Helper()
	var u map[string]any
	require.NoError(t, c.Call(context.Background(), "getLoggedInUser", &u))
	return u["id"].(int64)
}

func TestKojiBuildTask(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		anchorTags(t, admin)
		require.NoError(t, admin.Call(ctx, "createBuildTarget", nil, "anchor-target", "anchor-build", "anchor-dest"))
		def, repo := channelID(t, admin, "default"), channelID(t, admin, "createrepo")
		adminID := callerUserID(t, admin)

		src := "git+https://scm.example.com/foo.git#abc"
		id, err := admin.Build(ctx, src, "anchor-target", nil)
		require.NoError(t, err)
		createdTask(t, admin, id, "build", 20, def, adminID, []any{src, "anchor-target", map[string]any{}})

		id, err = admin.Build(ctx, src, "anchor-target", &koji.BuildOptions{Scratch: true, ArchOverride: "x86_64",
			Priority: koji.PriorityBackground, Channel: "createrepo"})
		require.NoError(t, err)
		createdTask(t, admin, id, "build", 25, repo, adminID,
			[]any{src, "anchor-target", map[string]any{"scratch": true, "arch_override": "x86_64"}})

		// Keywords and positions as the CLI may send them; a channel by id;
		// an admin may go below the default.
		var n int64
		require.NoError(t, admin.CallKw(ctx, "build", &n, []any{src, "anchor-target"},
			map[string]any{"opts": nil, "priority": -5, "channel": repo}))
		createdTask(t, admin, int(n), "build", 15, repo, adminID, []any{src, "anchor-target", map[string]any{}})
		require.NoError(t, admin.Call(ctx, "build", &n, src, "anchor-target", map[string]any{}, 0, ""))
		createdTask(t, admin, int(n), "build", 20, def, adminID, []any{src, "anchor-target", map[string]any{}})

		// Faults.
		assert.Equal(t, "No such channel: nope",
			faultString(t, admin, koji.ErrGeneric, "build", []any{src, "anchor-target"}, map[string]any{"channel": "nope"}))
		assert.Equal(t, "No such channel: 999",
			faultString(t, admin, koji.ErrGeneric, "build", []any{src, "anchor-target"}, map[string]any{"channel": 999}))
		faultString(t, admin, koji.ErrParameter, "build", []any{5, "anchor-target"}, nil)
		faultString(t, admin, koji.ErrParameter, "build", []any{src, "anchor-target", "scratch"}, nil)
		assert.Contains(t, faultString(t, admin, koji.FaultClass(1), "build", []any{src, "anchor-target", nil, "high"}, nil), "TypeError")
		faultString(t, kh.client(t), koji.ErrActionNotAllowed, "build", []any{src, "anchor-target"}, nil)

		// A user without admin may lower the priority, not raise it.
		require.NoError(t, admin.Call(ctx, "createUser", nil, "bob"))
		require.NoError(t, kh.koji.SetPassword(ctx, "bob", "secret"))
		bob := kh.client(t)
		require.NoError(t, bob.Login(ctx, &auth.Password{User: "bob", Password: "secret"}))
		bobID := callerUserID(t, bob)
		assert.Equal(t, "only admins may create high-priority tasks",
			faultString(t, bob, koji.ErrActionNotAllowed, "build", []any{src, "anchor-target", nil, -1}, nil))
		_, err = bob.Build(ctx, src, "anchor-target", &koji.BuildOptions{Priority: -10})
		var f *koji.Fault
		require.ErrorAs(t, err, &f)
		assert.Equal(t, int(koji.ErrActionNotAllowed), f.Code)
		id, err = bob.Build(ctx, src, "no-such-target", &koji.BuildOptions{Priority: 3})
		require.NoError(t, err)
		createdTask(t, bob, id, "build", 23, def, bobID, []any{src, "no-such-target", map[string]any{}})
	})
}

func TestKojiChainBuild(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		anchorTags(t, admin)
		require.NoError(t, admin.Call(ctx, "createBuildTarget", nil, "anchor-target", "anchor-build", "anchor-dest"))
		def := channelID(t, admin, "default")
		adminID := callerUserID(t, admin)

		srcs := []any{[]any{"git://a#1", "git://b#1"}, []any{"foo-1-1"}}
		var n int64
		require.NoError(t, admin.Call(ctx, "chainBuild", &n, srcs, "anchor-target"))
		createdTask(t, admin, int(n), "chainbuild", 20, def, adminID, []any{srcs, "anchor-target", map[string]any{}})
		require.NoError(t, admin.CallKw(ctx, "chainBuild", &n, []any{srcs, "anchor-target"},
			map[string]any{"opts": map[string]any{"skip_tag": true}, "priority": 5}))
		createdTask(t, admin, int(n), "chainbuild", 25, def, adminID,
			[]any{srcs, "anchor-target", map[string]any{"skip_tag": true}})

		faultString(t, admin, koji.ErrParameter, "chainBuild", []any{"git://a#1", "anchor-target"}, nil)
		faultString(t, kh.client(t), koji.ErrActionNotAllowed, "chainBuild", []any{srcs, "anchor-target"}, nil)
		require.NoError(t, admin.Call(ctx, "createUser", nil, "bob"))
		require.NoError(t, kh.koji.SetPassword(ctx, "bob", "secret"))
		bob := kh.client(t)
		require.NoError(t, bob.Login(ctx, &auth.Password{User: "bob", Password: "secret"}))
		assert.Equal(t, "only admins may create high-priority tasks",
			faultString(t, bob, koji.ErrActionNotAllowed, "chainBuild", []any{srcs, "anchor-target", nil, -1}, nil))
	})
}

func TestKojiTagBuildTask(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		anchorTags(t, admin)
		seedFixtureBuilds(t, admin)
		require.NoError(t, admin.PackageListAdd(ctx, "anchor-base", "foo", &koji.PackageListAddOptions{Owner: "kojiadmin"}))
		def := channelID(t, admin, "default")
		adminID := callerUserID(t, admin)

		// The package is listed through inheritance.
		id, err := admin.TagBuild(ctx, "anchor-build", "foo-1.0-1", nil)
		require.NoError(t, err)
		createdTask(t, admin, id, "tagBuild", 10, def, adminID, []any{int64(2), int64(1), false, nil})
		id, err = admin.TagBuild(ctx, 2, 1, &koji.TagBuildOptions{FromTag: "anchor-base"})
		require.NoError(t, err)
		createdTask(t, admin, id, "tagBuild", 10, def, adminID, []any{int64(2), int64(1), false, int64(1)})
		// The task does the tagging: nothing is tagged yet.
		assert.Empty(t, taggedNVRs(t, admin, "listTagged", []any{"anchor-build"}, nil))

		assert.Equal(t, "Package bar not in list for anchor-dest",
			faultString(t, admin, koji.ErrTag, "tagBuild", []any{"anchor-dest", "bar-2.0-3.el9"}, nil))
		require.NoError(t, admin.Call(ctx, "packageListBlock", nil, "anchor-build", "foo"))
		assert.Equal(t, "Package foo blocked in anchor-build",
			faultString(t, admin, koji.ErrTag, "tagBuild", []any{"anchor-build", "foo-1.0-1"}, nil))
		faultString(t, admin, koji.ErrGeneric, "tagBuild", []any{"nope", "foo-1.0-1"}, nil)
		faultString(t, admin, koji.ErrGeneric, "tagBuild", []any{"anchor-dest", "nope-1-1"}, nil)
		faultString(t, admin, koji.ErrGeneric, "tagBuild", []any{"anchor-build", "foo-1.0-1", false, "nope"}, nil)
		faultString(t, kh.client(t), koji.ErrActionNotAllowed, "tagBuild", []any{"anchor-build", "foo-1.0-1"}, nil)

		// A locked tag refuses, unless an admin forces (which lists the
		// blocked package again).
		require.NoError(t, admin.CallKw(ctx, "editTag2", nil, []any{"anchor-build"}, map[string]any{"locked": true}))
		assert.Equal(t, "tag is locked",
			faultString(t, admin, koji.ErrActionNotAllowed, "tagBuild", []any{"anchor-build", "foo-1.0-1"}, nil))
		id, err = admin.TagBuild(ctx, "anchor-build", "foo-1.0-1", &koji.TagBuildOptions{Force: true})
		require.NoError(t, err)
		createdTask(t, admin, id, "tagBuild", 10, def, adminID, []any{int64(2), int64(1), true, nil})
	})
}
