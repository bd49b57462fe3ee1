package hubserver_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/koji"
)

// rowStrings calls method and describes each of the rows it answers
// with f.
func rowStrings(t *testing.T, c *koji.Client, method string, args []any, kw map[string]any, f func(map[string]any) string) []string {
	t.Helper()
	var rows []map[string]any
	require.NoError(t, c.CallKw(context.Background(), method, &rows, args, kw))
	out := []string{}
	for _, r := range rows {
		out = append(out, f(r))
	}
	return out
}

// pkgNames lists the package names of listPackages' entries, with their
// tags and a "!" when blocked.
func pkgNames(t *testing.T, c *koji.Client, kw map[string]any) []string {
	t.Helper()
	return rowStrings(t, c, "listPackages", nil, kw, func(r map[string]any) string {
		s := r["package_name"].(string)
		if tn, ok := r["tag_name"].(string); ok {
			s += "@" + tn
		}
		if r["blocked"] == true {
			s += "!"
		}
		return s
	})
}

func TestKojiPackageListFixtures(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		anchorTags(t, admin)
		seedFixtureBuilds(t, admin)
		for _, p := range []string{"foo", "bar"} {
			require.NoError(t, admin.PackageListAdd(ctx, "anchor-dest", p, &koji.PackageListAddOptions{Owner: "kojiadmin"}))
		}
		var got []any
		require.NoError(t, admin.CallKw(ctx, "listPackages", &got, nil, map[string]any{"tagID": "anchor-dest"}))
		want := recorded(t, "listPackages").([]any)
		require.Len(t, got, len(want))
		for i := range want {
			sameMembers(t, want[i], got[i])
		}
		typed, err := admin.ListPackages(ctx, &koji.ListPackagesOptions{TagID: "anchor-dest"})
		require.NoError(t, err)
		require.Len(t, typed, 2)
		assert.Equal(t, "foo", typed[0].PackageName)
		assert.Equal(t, "kojiadmin", typed[1].OwnerName)

		// Without a filter: every package, with only its id and name.
		require.NoError(t, admin.CallKw(ctx, "listPackages", &got, nil, nil))
		require.Len(t, got, 3)
		assert.Equal(t, map[string]any{"package_id": int64(1), "package_name": "foo"}, got[0])
		assert.Equal(t, []string{"bar"}, pkgNames(t, admin, map[string]any{"prefix": "B"}))
		var n int64
		require.NoError(t, admin.CallKw(ctx, "listPackages", &n, nil, map[string]any{"tagID": 3, "queryOpts": map[string]any{"countOnly": true}}))
		assert.Equal(t, int64(2), n)
		require.NoError(t, admin.CallKw(ctx, "listPackages", &got, nil, map[string]any{"tagID": 3,
			"queryOpts": map[string]any{"order": "-package_name", "limit": 1}}))
		require.Len(t, got, 1)
		assert.Equal(t, "foo", got[0].(map[string]any)["package_name"])
	})
}

func TestKojiPackageListInheritance(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		var events []string
		kh := startKoji(t, dsn, nil)
		require.NoError(t, kh.koji.RegisterCallback("postPackageListChange", func(ctx context.Context, name string, kw map[string]any) error {
			events = append(events, kw["action"].(string)+":"+kw["package"].(map[string]any)["name"].(string))
			return nil
		}, hubserver.CallbackOptions{}))
		admin := kh.sslClient(t, "")
		anchorTags(t, admin) // anchor-build inherits from anchor-base
		require.NoError(t, admin.Call(ctx, "createUser", nil, "testuser"))
		add := func(tag, pkg string, opts *koji.PackageListAddOptions) {
			t.Helper()
			require.NoError(t, admin.PackageListAdd(ctx, tag, pkg, opts))
		}
		add("anchor-base", "foo", &koji.PackageListAddOptions{Owner: "kojiadmin"})
		add("anchor-base", "bar", &koji.PackageListAddOptions{Owner: "testuser", ExtraArches: "x86_64,  ppc64le"})
		add("anchor-build", "baz", &koji.PackageListAddOptions{Owner: "testuser"})

		assert.Equal(t, []string{"baz@anchor-build"}, pkgNames(t, admin, map[string]any{"tagID": "anchor-build"}))
		assert.Equal(t, []string{"baz@anchor-build", "foo@anchor-base", "bar@anchor-base"},
			pkgNames(t, admin, map[string]any{"tagID": "anchor-build", "inherited": true}))
		var rows []map[string]any
		require.NoError(t, admin.CallKw(ctx, "listPackages", &rows, nil, map[string]any{"tagID": "anchor-base", "pkgID": "bar"}))
		require.Len(t, rows, 1)
		assert.Equal(t, "x86_64 ppc64le", rows[0]["extra_arches"])
		assert.Equal(t, "testuser", rows[0]["owner_name"])
		assert.Equal(t, []string{"bar@anchor-base", "baz@anchor-build"}, pkgNames(t, admin, map[string]any{"userID": "testuser"}))

		// An owner is needed unless an inherited entry has one; adding
		// the same data again changes nothing.
		f := faultString(t, admin, koji.ErrGeneric, "packageListAdd", []any{"anchor-build", "newpkg"}, nil)
		assert.Equal(t, "owner not specified", f)
		add("anchor-base", "foo", nil)
		add("anchor-build", "foo", nil)                                               // the inherited entry is the same: nothing to do
		add("anchor-build", "foo", &koji.PackageListAddOptions{ExtraArches: "s390x"}) // kojiadmin inherited as owner
		assert.Equal(t, []string{"baz@anchor-build", "foo@anchor-build"}, pkgNames(t, admin, map[string]any{"tagID": "anchor-build"}))

		// Blocking in the child shadows the parent's entry.
		require.NoError(t, admin.Call(ctx, "packageListBlock", nil, "anchor-build", "bar"))
		assert.Equal(t, []string{"baz@anchor-build", "foo@anchor-build", "bar@anchor-build!"},
			pkgNames(t, admin, map[string]any{"tagID": "anchor-build", "inherited": true}))
		// As upstream's: without blocked entries, the parent's shows through.
		assert.Equal(t, []string{"baz@anchor-build", "foo@anchor-build", "bar@anchor-base"},
			pkgNames(t, admin, map[string]any{"tagID": "anchor-build", "inherited": true, "with_blocked": false}))
		// Python's dict of lists: grouped by package, in first-seen order.
		assert.Equal(t, []string{"baz@anchor-build", "foo@anchor-build", "foo@anchor-base", "bar@anchor-build!", "bar@anchor-base"},
			pkgNames(t, admin, map[string]any{"tagID": "anchor-build", "inherited": true, "with_dups": true}))
		f = faultString(t, admin, koji.ErrGeneric, "packageListAdd", []any{"anchor-build", "bar"}, map[string]any{"block": false})
		assert.Equal(t, "package bar is blocked in tag anchor-build", f)
		// Unblocking a block of the tag itself removes it.
		require.NoError(t, admin.Call(ctx, "packageListUnblock", nil, "anchor-build", "bar"))
		assert.Equal(t, []string{"baz@anchor-build", "foo@anchor-build", "bar@anchor-base"},
			pkgNames(t, admin, map[string]any{"tagID": "anchor-build", "inherited": true}))
		assert.Equal(t, "package bar NOT blocked in tag anchor-build",
			faultString(t, admin, koji.ErrGeneric, "packageListUnblock", []any{"anchor-build", "bar"}, nil))
		// Unblocking an inherited block adds an unblocked entry.
		require.NoError(t, admin.Call(ctx, "packageListBlock", nil, "anchor-base", "bar"))
		require.NoError(t, admin.Call(ctx, "packageListUnblock", nil, "anchor-build", "bar"))
		assert.Equal(t, []string{"bar@anchor-build"}, pkgNames(t, admin, map[string]any{"tagID": "anchor-build", "pkgID": "bar", "inherited": true}))
		assert.Equal(t, "No such entry in table package: nope",
			faultString(t, admin, koji.ErrGeneric, "packageListBlock", []any{"anchor-base", "nope"}, nil))
		require.NoError(t, admin.Call(ctx, "createEmptyBuild", nil, "nope", "1", "1", nil))
		assert.Equal(t, "Package nope is not in tag listing for anchor-base",
			faultString(t, admin, koji.ErrGeneric, "packageListBlock", []any{"anchor-base", "nope"}, nil))

		// Owner and arches.
		require.NoError(t, admin.Call(ctx, "packageListSetOwner", nil, "anchor-base", "foo", "testuser"))
		require.NoError(t, admin.Call(ctx, "packageListSetArches", nil, "anchor-base", "foo", "aarch64"))
		require.NoError(t, admin.CallKw(ctx, "listPackages", &rows, nil, map[string]any{"tagID": "anchor-base", "pkgID": "foo"}))
		assert.Equal(t, "testuser", rows[0]["owner_name"])
		assert.Equal(t, "aarch64", rows[0]["extra_arches"])
		assert.Equal(t, "cannot update: tag anchor-dest has no data for package foo",
			faultString(t, admin, koji.ErrGeneric, "packageListSetOwner", []any{"anchor-dest", "foo", "testuser"}, nil))

		// Removal, and the package list at an earlier event.
		var before int64
		require.NoError(t, admin.Call(ctx, "tagLastChangeEvent", &before, "anchor-build"))
		require.NoError(t, admin.Call(ctx, "packageListRemove", nil, "anchor-build", "baz"))
		assert.Equal(t, []string{"foo@anchor-build", "bar@anchor-build"}, pkgNames(t, admin, map[string]any{"tagID": "anchor-build"}))
		assert.Equal(t, []string{"baz@anchor-build", "foo@anchor-build", "bar@anchor-build"},
			pkgNames(t, admin, map[string]any{"tagID": "anchor-build", "event": before}))
		var after int64
		require.NoError(t, admin.Call(ctx, "tagLastChangeEvent", &after, "anchor-build"))
		assert.Greater(t, after, before)

		// Faults.
		assert.Equal(t, "No such entry in table package: zzz",
			faultString(t, admin, koji.ErrGeneric, "packageListRemove", []any{"anchor-base", "zzz"}, nil))
		assert.Equal(t, "No such package: 99",
			faultString(t, admin, koji.ErrGeneric, "packageListAdd", []any{"anchor-base", 99}, map[string]any{"owner": "kojiadmin"}))
		assert.Equal(t, "No such tagInfo: 'nope'",
			faultString(t, admin, koji.ErrGeneric, "packageListAdd", []any{"nope", "foo"}, nil))
		assert.Equal(t, "userID and with_owners=False can't be used together",
			faultString(t, admin, koji.ErrGeneric, "listPackages", nil, map[string]any{"userID": "testuser", "with_owners": false}))
		require.NoError(t, kh.koji.SetPassword(ctx, "testuser", "testpass"))
		user := kh.passwordLogin(t, "testuser", "testpass")
		f = user.fault(t, 1, koji.ErrActionNotAllowed, "packageListAdd", "anchor-base", "qux", "testuser")
		assert.Equal(t, "policy violation (package_list): Only admin/tag can do this via default policy\n"+
			"rule: all :: deny Only admin/tag can do this via default policy", f)
		assert.Equal(t, "you must be logged in for this operation",
			faultString(t, kh.client(t), koji.ErrActionNotAllowed, "packageListRemove", []any{"anchor-base", "foo"}, nil))

		assert.Equal(t, []string{"add:foo", "add:bar", "add:baz", "add:foo", "block:bar", "unblock:bar", "block:bar", "unblock:bar",
			"update:foo", "update:foo", "remove:baz"}, events)
	})
}
