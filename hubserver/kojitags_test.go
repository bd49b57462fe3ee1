package hubserver_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/koji"
)

// anchorTags creates the tags the recorded hub had: anchor-base,
// anchor-build (x86_64, inheriting from anchor-base) and anchor-dest.
func anchorTags(t *testing.T, admin *koji.Client) {
	ctx := context.Background()
	for i, tc := range []struct {
		name string
		opts *koji.CreateTagOptions
	}{
		{"anchor-base", nil},
		{"anchor-build", &koji.CreateTagOptions{Arches: "x86_64", Parent: "anchor-base"}},
		{"anchor-dest", nil},
	} {
		id, err := admin.CreateTag(ctx, tc.name, tc.opts)
		require.NoError(t, err)
		require.Equal(t, i+1, id)
	}
}

func TestKojiTagFixtures(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		anchorTags(t, admin)

		var got any
		require.NoError(t, admin.Call(ctx, "getTag", &got, "anchor-build"))
		sameMembers(t, recorded(t, "getTag"), got)
		require.NoError(t, admin.Call(ctx, "getTag", &got, 2))
		sameMembers(t, recorded(t, "getTag_by_id"), got)
		require.NoError(t, admin.Call(ctx, "getTag", &got, map[string]any{"name": "anchor-build"}))
		sameMembers(t, recorded(t, "getTag"), got)
		got = "x"
		require.NoError(t, admin.Call(ctx, "getTag", &got, "no-such-tag"))
		assert.Equal(t, recorded(t, "getTag_nonexistent"), got)
		assert.Equal(t, "No such tagInfo: 'no-such-tag'",
			faultString(t, admin, koji.ErrGeneric, "getTag", []any{"no-such-tag"}, map[string]any{"strict": true}))
		assert.Equal(t, "Invalid name or id value: 1.5", faultString(t, admin, koji.ErrParameter, "getTag", []any{1.5}, nil))
		assert.Equal(t, "Invalid event: 'x'", faultString(t, admin, koji.ErrGeneric, "getTag", []any{"anchor-build"}, map[string]any{"event": "x"}))

		var list []any
		require.NoError(t, admin.Call(ctx, "listTags", &list))
		want := recorded(t, "listTags").([]any)
		require.Len(t, list, len(want))
		for i := range want {
			sameMembers(t, want[i], list[i])
		}

		// The typed client.
		tag, err := admin.GetTag(ctx, "anchor-build", nil)
		require.NoError(t, err)
		assert.Equal(t, koji.Tag{ID: 2, Name: "anchor-build", Arches: "x86_64", Extra: map[string]any{}}, *tag)
		tag, err = admin.GetTag(ctx, "nope", nil)
		require.NoError(t, err)
		assert.Nil(t, tag)
		tags, err := admin.ListTags(ctx, &koji.ListTagsOptions{Pattern: "ANCHOR-b*"})
		require.NoError(t, err)
		require.Len(t, tags, 2)
		assert.Equal(t, []string{"anchor-base", "anchor-build"}, []string{tags[0].Name, tags[1].Name})

		// Faults recorded from upstream.
		anon := kh.client(t)
		f := recordedFault(t, "createTag_anonymous")
		assert.Equal(t, f.String, faultString(t, anon, koji.FaultClass(f.Code), "createTag", []any{"x-not-allowed"}, nil))
		require.NoError(t, admin.Call(ctx, "createUser", nil, "testuser"))
		require.NoError(t, kh.koji.SetPassword(ctx, "testuser", "testpass"))
		user := kh.passwordLogin(t, "testuser", "testpass")
		f = recordedFault(t, "ActionNotAllowed_loggedin")
		assert.Equal(t, f.String, user.fault(t, 1, koji.FaultClass(f.Code), "createTag", "x-not-allowed"))
		// The tag permission is enough.
		require.NoError(t, admin.Call(ctx, "grantPermission", nil, "testuser", "tag"))
		assert.EqualValues(t, 4, user.ok(t, 2, "createTag", "by-tagger"))
	})
}

func TestKojiTagListOptions(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		anchorTags(t, admin)

		var list []map[string]any
		require.NoError(t, admin.CallKw(ctx, "listTags", &list, nil, map[string]any{"perms": false, "queryOpts": map[string]any{"order": "-name", "limit": 2}}))
		require.Len(t, list, 2)
		assert.Equal(t, "anchor-dest", list[0]["name"])
		assert.Equal(t, "anchor-build", list[1]["name"])
		assert.NotContains(t, list[0], "perm")
		var n int
		require.NoError(t, admin.CallKw(ctx, "listTags", &n, nil, map[string]any{"queryOpts": map[string]any{"countOnly": true}, "pattern": "*-b?se"}))
		assert.Equal(t, 1, n)
		assert.Equal(t, "<class 'Exception'>: Invalid order: bogus", faultString(t, admin, 1, "listTags", nil, map[string]any{"queryOpts": map[string]any{"order": "bogus"}}))
		faultString(t, admin, koji.ErrGeneric, "listTags", nil, map[string]any{"build": 1})

		// getTagID answers deleted names too, and creates bare names.
		var id any
		require.NoError(t, admin.Call(ctx, "getTagID", &id, "anchor-dest"))
		assert.Equal(t, int64(3), id)
		require.NoError(t, admin.Call(ctx, "getTagID", &id, "nope"))
		assert.Nil(t, id)
		assert.Equal(t, "No such entry in table tag: nope", faultString(t, admin, koji.ErrGeneric, "getTagID", []any{"nope"}, map[string]any{"strict": true}))
		require.NoError(t, admin.CallKw(ctx, "getTagID", &id, []any{"bare"}, map[string]any{"create": true}))
		assert.Equal(t, int64(4), id)
		require.NoError(t, admin.Call(ctx, "getTag", &id, "bare"))
		assert.Nil(t, id, "a name without configuration is no tag")
	})
}

func TestKojiTagEdit(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")

		id, err := admin.CreateTag(ctx, "f40", &koji.CreateTagOptions{Arches: "x86_64,aarch64", Perm: "admin", Locked: true,
			Extra: map[string]any{"mock.package_manager": "dnf", "n": 3}})
		require.NoError(t, err)
		created, err := admin.LastEvent(ctx, timeZero)
		require.NoError(t, err)
		var tag map[string]any
		require.NoError(t, admin.Call(ctx, "getTag", &tag, id))
		assert.Equal(t, map[string]any{"id": int64(id), "name": "f40", "arches": "x86_64 aarch64", "locked": true, "perm_id": int64(1),
			"perm": "admin", "maven_support": false, "maven_include_all": false,
			"extra": map[string]any{"mock.package_manager": "dnf", "n": int64(3)}}, tag)

		assert.Equal(t, "A tag with the name 'f40' already exists", faultString(t, admin, koji.ErrGeneric, "createTag", []any{"f40"}, nil))
		assert.Equal(t, "Parent tag 'nope' could not be found", faultString(t, admin, koji.ErrGeneric, "createTag", []any{"x"}, map[string]any{"parent": "nope"}))
		assert.Equal(t, "No such entry in table permissions: nope", faultString(t, admin, koji.ErrGeneric, "createTag", []any{"x"}, map[string]any{"perm": "nope"}))
		assert.Equal(t, "Maven support not enabled", faultString(t, admin, koji.ErrGeneric, "createTag", []any{"x"}, map[string]any{"maven_support": true}))
		assert.Equal(t, "Invalid architecture: x$", faultString(t, admin, koji.ErrGeneric, "createTag", []any{"x"}, map[string]any{"arches": "x$"}))
		assert.Equal(t, "Name a b does not match RegexNameInternal value", faultString(t, admin, koji.ErrGeneric, "createTag", []any{"a b"}, nil))

		require.NoError(t, admin.CallKw(ctx, "editTag2", nil, []any{"f40"}, map[string]any{
			"name": "f41", "arches": "ppc64le", "locked": false, "perm": nil,
			"extra": map[string]any{"n": 4, "new": []any{"a"}}, "remove_extra": []any{"mock.package_manager"}, "block_extra": []any{"inherited"},
		}))
		require.NoError(t, admin.Call(ctx, "getTag", &tag, "f41"))
		assert.Equal(t, map[string]any{"id": int64(id), "name": "f41", "arches": "ppc64le", "locked": false, "perm_id": nil,
			"perm": nil, "maven_support": false, "maven_include_all": false,
			"extra": map[string]any{"n": int64(4), "new": []any{"a"}}}, tag)
		require.NoError(t, admin.CallKw(ctx, "getTag", &tag, []any{"f41"}, map[string]any{"blocked": true}))
		assert.Equal(t, map[string]any{"n": []any{false, int64(4)}, "new": []any{false, []any{"a"}}, "inherited": []any{true, nil}}, tag["extra"])

		// As of the creation event: the old configuration and extra.
		require.NoError(t, admin.CallKw(ctx, "getTag", &tag, []any{id}, map[string]any{"event": created.ID}))
		assert.Equal(t, "x86_64 aarch64", tag["arches"])
		assert.Equal(t, "f41", tag["name"], "renaming is not versioned")
		assert.Equal(t, int64(created.ID), tag["query_event"])
		assert.Equal(t, map[string]any{"mock.package_manager": "dnf", "n": int64(3)}, tag["extra"])

		assert.Equal(t, "Can not both add/update and remove tag-extra: 'n'",
			faultString(t, admin, koji.ErrGeneric, "editTag2", []any{"f41"}, map[string]any{"extra": map[string]any{"n": 1}, "remove_extra": []any{"n"}}))
		assert.Equal(t, "Tag: f41 doesn't have extra: zz, yy",
			faultString(t, admin, koji.ErrGeneric, "editTag2", []any{"f41"}, map[string]any{"remove_extra": []any{"zz", "yy"}}))
		assert.Equal(t, "No such tagInfo: 'f40'", faultString(t, admin, koji.ErrGeneric, "editTag2", []any{"f40"}, map[string]any{"locked": true}))
		_, err = admin.CreateTag(ctx, "other", nil)
		require.NoError(t, err)
		assert.Equal(t, "Name other already taken by tag 2", faultString(t, admin, koji.ErrGeneric, "editTag2", []any{"f41"}, map[string]any{"name": "other"}))
		assert.Equal(t, "Maven support not enabled", faultString(t, admin, koji.ErrGeneric, "editTag2", []any{"f41"}, map[string]any{"maven_support": false}))

		// The old editTag signature.
		require.NoError(t, admin.Call(ctx, "editTag", nil, "other", "other2", "s390x", true, "admin", map[string]any{}))
		require.NoError(t, admin.Call(ctx, "getTag", &tag, "other2"))
		assert.Equal(t, []any{"s390x", true, "admin"}, []any{tag["arches"], tag["locked"], tag["perm"]})

		// Deleting keeps the id for the name; event "auto" finds it.
		require.NoError(t, admin.Call(ctx, "deleteTag", nil, "f41"))
		deleted, err := admin.LastEvent(ctx, timeZero)
		require.NoError(t, err)
		require.NoError(t, admin.Call(ctx, "getTag", &tag, "f41"))
		assert.Nil(t, tag)
		require.NoError(t, admin.CallKw(ctx, "getTag", &tag, []any{"f41"}, map[string]any{"event": "auto"}))
		assert.Equal(t, int64(deleted.ID), tag["revoke_event"])
		assert.Equal(t, int64(deleted.ID-1), tag["query_event"])
		assert.Equal(t, "ppc64le", tag["arches"])
		var last any
		require.NoError(t, admin.Call(ctx, "tagLastChangeEvent", &last, "f41"))
		assert.Equal(t, int64(deleted.ID), last)
		assert.Equal(t, "No such tagInfo: 'f41'", faultString(t, admin, koji.ErrGeneric, "deleteTag", []any{"f41"}, nil))
		again, err := admin.CreateTag(ctx, "f41", nil)
		require.NoError(t, err)
		assert.Equal(t, id, again)
		require.NoError(t, admin.Call(ctx, "getTag", &tag, "f41"))
		assert.Equal(t, map[string]any{}, tag["extra"])

		anon := kh.client(t)
		for _, m := range [][]any{{"editTag2", "f41"}, {"deleteTag", "f41"}} {
			assert.Equal(t, "tag permission required (user not logged in)", faultString(t, anon, koji.ErrActionNotAllowed, m[0].(string), m[1:], nil))
		}
	})
}

var timeZero time.Time
