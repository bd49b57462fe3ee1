package hubserver_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/koji"
)

// taggedTimes are the members of listTagged rows that differ from the
// recording by time or by the events the recorded hub had used.
var taggedTimes = []string{"completion_time", "creation_time", "start_time", "create_event", "creation_event_id"}

// taggedNVRs lists tag:nvr of listTagged's (or another method's) rows.
func taggedNVRs(t *testing.T, c *koji.Client, method string, args []any, kw map[string]any) []string {
	t.Helper()
	return rowStrings(t, c, method, args, kw, func(r map[string]any) string { return fmt.Sprintf("%s:%s", r["tag_name"], r["nvr"]) })
}

func TestKojiTaggedFixtures(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		anchorTags(t, admin)
		seedFixtureBuilds(t, admin)
		for _, p := range []string{"foo", "bar"} {
			require.NoError(t, admin.PackageListAdd(ctx, "anchor-dest", p, &koji.PackageListAddOptions{Owner: "kojiadmin"}))
		}
		require.NoError(t, admin.TagBuildBypass(ctx, "anchor-dest", "foo-1.0-1", nil))
		require.NoError(t, admin.TagBuildBypass(ctx, "anchor-dest", "bar-2.0-3.el9", nil))
		var res any = "x"
		require.NoError(t, admin.Call(ctx, "tagBuildBypass", &res, recordedParams(t, "tagBuildBypass")...))
		assert.Equal(t, recorded(t, "tagBuildBypass"), res)

		// wirepkg is tagged but not in the package list: hidden.
		for name, kw := range map[string]map[string]any{"listTagged": nil, "listTagged_kwargs": {"latest": true, "inherit": true}} {
			var got []any
			require.NoError(t, admin.CallKw(ctx, "listTagged", &got, []any{"anchor-dest"}, kw))
			want := recorded(t, name).([]any)
			require.Len(t, got, len(want), name)
			for i := range want {
				sameMembers(t, want[i], got[i], taggedTimes...)
			}
		}
		typed, err := admin.ListTagged(ctx, "anchor-dest", &koji.ListTaggedOptions{Latest: 1, Inherit: true})
		require.NoError(t, err)
		require.Len(t, typed, 2)
		assert.Equal(t, "bar-2.0-3.el9", typed[0].Label())
		assert.Equal(t, "anchor-dest", typed[0].TagName)
		latest, err := admin.GetLatestBuilds(ctx, "anchor-dest", &koji.GetLatestBuildsOptions{Package: "foo"})
		require.NoError(t, err)
		require.Len(t, latest, 1)
		assert.Equal(t, "foo-1.0-1", latest[0].Label())

		// listTags' build and package filters.
		var tags []map[string]any
		require.NoError(t, admin.CallKw(ctx, "listTags", &tags, nil, map[string]any{"build": "wirepkg-1.0-1"}))
		require.Len(t, tags, 1)
		assert.Equal(t, "anchor-dest", tags[0]["name"])
		require.NoError(t, admin.CallKw(ctx, "listTags", &tags, nil, map[string]any{"package": "bar"}))
		require.Len(t, tags, 1)
		assert.Equal(t, map[string]any{"id": int64(3), "name": "anchor-dest", "arches": "", "locked": false, "maven_support": false,
			"maven_include_all": false, "perm_id": nil, "perm": nil, "owner_id": int64(1), "owner_name": "kojiadmin",
			"blocked": false, "extra_arches": nil}, tags[0])
		require.NoError(t, admin.CallKw(ctx, "listTags", &tags, nil, map[string]any{"package": "wirepkg"}))
		assert.Empty(t, tags)
		assert.Equal(t, "No such build: nope-1-1", faultString(t, admin, koji.ErrGeneric, "listTags", nil, map[string]any{"build": "nope-1-1"}))
		assert.Equal(t, "No such package: nope", faultString(t, admin, koji.ErrGeneric, "listTags", nil, map[string]any{"package": "nope"}))
		assert.Equal(t, "only one of build and package may be specified",
			faultString(t, admin, koji.ErrGeneric, "listTags", nil, map[string]any{"package": "foo", "build": 1}))

		// The tag's contents changed with each tagging.
		var ev int64
		require.NoError(t, admin.Call(ctx, "tagLastChangeEvent", &ev, "anchor-dest"))
		assert.Equal(t, []string{"anchor-dest:bar-2.0-3.el9", "anchor-dest:foo-1.0-1"},
			taggedNVRs(t, admin, "listTagged", []any{"anchor-dest"}, map[string]any{"event": ev - 1}))
		require.NoError(t, admin.Call(ctx, "deleteTag", nil, "anchor-dest"))
		assert.Equal(t, []string{}, taggedNVRs(t, admin, "listTagged", []any{"anchor-dest"}, map[string]any{"strict": false}))
		assert.Equal(t, "No such tagInfo: 'anchor-dest'",
			faultString(t, admin, koji.ErrGeneric, "listTagged", []any{"anchor-dest"}, nil))
	})
}

func TestKojiTaggingLatest(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		var calls []string
		for _, name := range []string{"preTag", "postTag", "preUntag", "postUntag"} {
			require.NoError(t, kh.koji.RegisterCallback(name, func(ctx context.Context, name string, kw map[string]any) error {
				calls = append(calls, fmt.Sprintf("%s %s %s %v", name, kw["tag"].(map[string]any)["name"],
					kw["build"].(map[string]any)["nvr"], kw["force"]))
				return nil
			}, hubserver.CallbackOptions{}))
		}
		admin := kh.sslClient(t, "")
		anchorTags(t, admin) // anchor-build inherits from anchor-base
		for _, nvr := range [][3]string{{"foo", "1.0", "1"}, {"foo", "2.0", "1"}, {"bar", "1", "1"}, {"bar", "2", "1"}, {"baz", "1", "1"}} {
			require.NoError(t, admin.Call(ctx, "createEmptyBuild", nil, nvr[0], nvr[1], nvr[2], nil))
		}
		for _, p := range []string{"foo", "bar", "baz"} {
			require.NoError(t, admin.PackageListAdd(ctx, "anchor-base", p, &koji.PackageListAddOptions{Owner: "kojiadmin"}))
		}
		tag := func(tag, nvr string) {
			t.Helper()
			require.NoError(t, admin.TagBuildBypass(ctx, tag, nvr, nil))
		}
		// Latest is the most recently tagged, not the highest version.
		tag("anchor-base", "foo-2.0-1")
		tag("anchor-base", "foo-1.0-1")
		tag("anchor-base", "bar-1-1")
		tag("anchor-base", "baz-1-1")
		tag("anchor-build", "bar-2-1")
		latest := func(tag string) []string {
			return taggedNVRs(t, admin, "getLatestBuilds", []any{tag}, nil)
		}
		assert.Equal(t, []string{"anchor-base:baz-1-1", "anchor-base:bar-1-1", "anchor-base:foo-1.0-1"}, latest("anchor-base"))
		// The child shadows its parent; its own builds come first.
		assert.Equal(t, []string{"anchor-build:bar-2-1", "anchor-base:baz-1-1", "anchor-base:foo-1.0-1"}, latest("anchor-build"))
		assert.Equal(t, []string{"anchor-build:bar-2-1"}, taggedNVRs(t, admin, "listTagged", []any{"anchor-build"}, nil))
		assert.Equal(t, []string{"anchor-build:bar-2-1", "anchor-base:baz-1-1", "anchor-base:bar-1-1", "anchor-base:foo-1.0-1", "anchor-base:foo-2.0-1"},
			taggedNVRs(t, admin, "listTagged", []any{"anchor-build"}, map[string]any{"inherit": true}))
		assert.Equal(t, []string{"anchor-build:bar-2-1", "anchor-base:bar-1-1"},
			taggedNVRs(t, admin, "listTagged", []any{"anchor-build"}, map[string]any{"inherit": true, "latest": 2, "prefix": "BA", "package": "bar"}))
		assert.Equal(t, []string{"anchor-base:foo-1.0-1", "anchor-base:foo-2.0-1"},
			taggedNVRs(t, admin, "listTagged", []any{"anchor-base"}, map[string]any{"package": "foo", "owner": "kojiadmin"}))
		assert.Equal(t, []string{}, taggedNVRs(t, admin, "listTagged", []any{"anchor-base"}, map[string]any{"owner": "nobody"}))
		assert.Equal(t, []string{}, taggedNVRs(t, admin, "listTagged", []any{"anchor-base"}, map[string]any{"draft": true}))
		for _, typ := range []string{"maven", "win", "image", "rpm"} {
			assert.Equal(t, []string{}, taggedNVRs(t, admin, "listTagged", []any{"anchor-base"}, map[string]any{"type": typ, "extra": true}), typ)
		}
		var extra []map[string]any
		require.NoError(t, admin.CallKw(ctx, "listTagged", &extra, []any{"anchor-base"}, map[string]any{"extra": true, "draft": false}))
		require.Len(t, extra, 4)
		assert.Contains(t, extra[0], "extra")

		// Blocking in the child hides the package there, not in the parent.
		require.NoError(t, admin.Call(ctx, "packageListBlock", nil, "anchor-build", "baz"))
		assert.Equal(t, []string{"anchor-build:bar-2-1", "anchor-base:foo-1.0-1"}, latest("anchor-build"))
		assert.Len(t, latest("anchor-base"), 3)

		// A retag (force) makes a build the latest again.
		assert.Equal(t, "build foo-2.0-1 already tagged (anchor-base)",
			faultString(t, admin, koji.ErrTag, "tagBuildBypass", []any{"anchor-base", "foo-2.0-1"}, nil))
		require.NoError(t, admin.TagBuildBypass(ctx, "anchor-base", "foo-2.0-1", &koji.TagBuildBypassOptions{Force: true}))
		assert.Equal(t, []string{"anchor-build:bar-2-1", "anchor-base:foo-2.0-1"}, latest("anchor-build"))

		// Untagging.
		require.NoError(t, admin.Call(ctx, "untagBuildBypass", nil, "anchor-build", "bar-2-1"))
		require.NoError(t, admin.Call(ctx, "untagBuildBypass", nil, "anchor-build", "bar-2-1", false))
		assert.Equal(t, "build bar-2-1 not in tag anchor-build",
			faultString(t, admin, koji.ErrTag, "untagBuildBypass", []any{"anchor-build", "bar-2-1"}, nil))
		assert.Equal(t, []string{"anchor-base:foo-2.0-1", "anchor-base:bar-1-1"}, latest("anchor-build"))

		// massTag retags in order, each build at its own event.
		require.NoError(t, admin.Call(ctx, "massTag", nil, "anchor-dest", []any{"foo-1.0-1", "bar-1-1", "foo-2.0-1"}))
		require.NoError(t, admin.PackageListAdd(ctx, "anchor-dest", "foo", &koji.PackageListAddOptions{Owner: "kojiadmin"}))
		assert.Equal(t, []string{"anchor-dest:foo-2.0-1", "anchor-dest:foo-1.0-1"},
			taggedNVRs(t, admin, "listTagged", []any{"anchor-dest"}, nil))
		var tags []map[string]any
		require.NoError(t, admin.CallKw(ctx, "listTags", &tags, nil, map[string]any{"build": "bar-1-1"}))
		assert.Len(t, tags, 2)

		// Locked tags and tag permissions: refused unless an admin forces.
		require.NoError(t, admin.Call(ctx, "editTag2", nil, "anchor-dest", map[string]any{"locked": true, "__starstar": true}))
		assert.Equal(t, "tag is locked", faultString(t, admin, koji.ErrActionNotAllowed, "tagBuildBypass", []any{"anchor-dest", "baz-1-1"}, nil))
		assert.Equal(t, "tag is locked", faultString(t, admin, koji.ErrActionNotAllowed, "untagBuildBypass", []any{"anchor-dest", "foo-1.0-1"}, nil))
		require.NoError(t, admin.TagBuildBypass(ctx, "anchor-dest", "baz-1-1", &koji.TagBuildBypassOptions{Force: true}))
		require.NoError(t, admin.Call(ctx, "editTag2", nil, "anchor-dest", map[string]any{"locked": false, "perm": "repo", "__starstar": true}))
		require.NoError(t, admin.Call(ctx, "createUser", nil, "tagger"))
		require.NoError(t, admin.Call(ctx, "grantPermission", nil, "tagger", "tag"))
		require.NoError(t, kh.koji.SetPassword(ctx, "tagger", "pw"))
		tagger := kh.passwordLogin(t, "tagger", "pw")
		assert.Equal(t, "tag requires repo permission", tagger.fault(t, 1, koji.ErrActionNotAllowed, "untagBuildBypass", "anchor-dest", "baz-1-1"))
		tagger.ok(t, 2, "tagBuildBypass", "anchor-base", "bar-2-1")
		// untagBuild: any logged-in user, the same access check.
		tagger.ok(t, 3, "untagBuild", "anchor-base", "bar-2-1")
		assert.Equal(t, "tag requires repo permission", tagger.fault(t, 4, koji.ErrActionNotAllowed, "untagBuild", "anchor-dest", "baz-1-1"))
		assert.Equal(t, "tag requires repo permission",
			faultString(t, admin, koji.ErrActionNotAllowed, "untagBuild", []any{"anchor-dest", "baz-1-1"}, nil))
		require.NoError(t, admin.UntagBuild(ctx, "anchor-dest", "baz-1-1", &koji.UntagBuildOptions{Force: true}))
		assert.Equal(t, "build baz-1-1 not in tag anchor-dest",
			faultString(t, admin, koji.ErrTag, "untagBuild", []any{"anchor-dest", "baz-1-1"}, map[string]any{"force": true}))
		require.NoError(t, admin.UntagBuild(ctx, "anchor-dest", "baz-1-1", &koji.UntagBuildOptions{Force: true, Strict: koji.Ptr(false)}))
		assert.Equal(t, "you must be logged in for this operation",
			faultString(t, kh.client(t), koji.ErrActionNotAllowed, "untagBuild", []any{"anchor-base", "foo-1.0-1"}, nil))

		// Faults of the lookups and the permission.
		assert.Equal(t, "No such build: 'nope-1-1'", faultString(t, admin, koji.ErrGeneric, "tagBuildBypass", []any{"anchor-base", "nope-1-1"}, nil))
		assert.Equal(t, "No such tagInfo: 'nope'", faultString(t, admin, koji.ErrGeneric, "massTag", []any{"nope", []any{}}, nil))
		assert.Equal(t, "No such entry in table tag: nope", faultString(t, admin, koji.ErrGeneric, "getLatestBuilds", []any{"nope"}, nil))
		assert.Equal(t, "unsupported build type: nope", faultString(t, admin, koji.ErrGeneric, "listTagged", []any{"anchor-base"}, map[string]any{"type": "nope"}))
		assert.Equal(t, "tag permission required (user not logged in)",
			faultString(t, kh.client(t), koji.ErrActionNotAllowed, "tagBuildBypass", []any{"anchor-base", "foo-1.0-1"}, nil))

		assert.Equal(t, []string{"preTag anchor-base foo-2.0-1 false", "postTag anchor-base foo-2.0-1 false"}, calls[:2])
		assert.Contains(t, calls, "preUntag anchor-build bar-2-1 false")
		assert.Contains(t, calls, "postTag anchor-dest foo-2.0-1 true")
	})
}

// TestKojiTaggingOddArguments sends values of every type to the package
// list and tagging methods: each call answers or faults, never panics.
func TestKojiTaggingOddArguments(t *testing.T) {
	kh := startKoji(t, t.TempDir()+"/hub.db", nil)
	ctx := context.Background()
	admin := kh.sslClient(t, "")
	anchorTags(t, admin)
	require.NoError(t, admin.Call(ctx, "createEmptyBuild", nil, "foo", "1", "1", nil))
	require.NoError(t, admin.PackageListAdd(ctx, "anchor-base", "foo", &koji.PackageListAddOptions{Owner: "kojiadmin"}))
	odd := []any{nil, true, int64(-1), 1.5, "", "x", []any{1, "a"}, map[string]any{"id": "x"}, map[string]any{}}
	calls := map[string][]any{
		"packageListAdd":     {"anchor-base", "foo", nil, nil, nil, false, false},
		"packageListRemove":  {"anchor-base", "foo", false},
		"packageListBlock":   {"anchor-base", "foo", false},
		"packageListUnblock": {"anchor-base", "foo", false},
		"listPackages":       {1, nil, nil, nil, false, false, nil, nil, true, true},
		"tagBuildBypass":     {"anchor-base", "foo-1-1", false, false},
		"untagBuildBypass":   {"anchor-base", "foo-1-1", true, false, false},
		"untagBuild":         {"anchor-base", "foo-1-1", true, false},
		"massTag":            {"anchor-base", []any{"foo-1-1"}},
		"listTagged":         {"anchor-base", nil, false, nil, false, nil, nil, nil, true, false, nil},
		"getLatestBuilds":    {"anchor-base", nil, nil, nil, nil},
		"listTags":           {nil, nil, true, nil, nil},
	}
	for method, base := range calls {
		for i := range base {
			for _, v := range odd {
				args := append([]any{}, base...)
				args[i] = v
				err := admin.Call(ctx, method, nil, args...)
				if err != nil {
					var f *koji.Fault
					require.ErrorAs(t, err, &f, "%s %v", method, args)
					assert.NotContains(t, f.String, "panic", "%s %v", method, args)
				}
			}
		}
	}
}
