package koji

import (
	"context"
	"testing"

	"github.com/gokoji/gokoji/xmlrpc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGetPackage(t *testing.T) {
	c, hub := replayClient(t, 11, "getPackage")
	pkg, err := c.GetPackage(context.Background(), "foo", nil)
	require.NoError(t, err)
	assert.Equal(t, &Package{ID: 1, Name: "foo"}, pkg)
	assertSentAsRecorded(t, hub, 0, "getPackage")
	assert.Equal(t, "https://koji.example.org/koji/packageinfo?packageID=1", pkg.URL("https://koji.example.org/koji"))

	c, stub := newStubHub(t, func(stubCall) (any, error) { return nil, nil })
	pkg, err = c.GetPackage(context.Background(), 99, &GetPackageOptions{Strict: true, Create: true})
	require.NoError(t, err)
	assert.Nil(t, pkg)
	assert.Equal(t, stubCall{Method: "getPackage", Args: []any{int64(99)},
		Kwargs: map[string]any{"strict": true, "create": true}}, stub.only(t))
}

func TestListPackages(t *testing.T) {
	c, hub := replayClient(t, 11, "listPackages")
	pkgs, err := c.ListPackages(context.Background(), &ListPackagesOptions{TagID: "anchor-dest"})
	require.NoError(t, err)
	assertSentAsRecorded(t, hub, 0, "listPackages")
	assert.Equal(t, []*TagPackage{
		{PackageID: 1, PackageName: "foo", TagID: 3, TagName: "anchor-dest", OwnerID: apiPtr(1), OwnerName: "kojiadmin"},
		{PackageID: 2, PackageName: "bar", TagID: 3, TagName: "anchor-dest", OwnerID: apiPtr(1), OwnerName: "kojiadmin"},
	}, pkgs)
}

func TestListPackagesOptionsOnTheWire(t *testing.T) {
	c, hub := newStubHub(t, func(stubCall) (any, error) {
		return []map[string]any{{"package_id": 5, "package_name": "bash"}}, nil
	})
	pkgs, err := c.ListPackages(context.Background(), &ListPackagesOptions{TagID: 3, UserID: "kojiadmin", PkgID: "bash",
		Prefix: "ba", Inherited: true, WithDups: true, Event: 8, QueryOpts: &QueryOpts{Limit: 5},
		WithOwners: apiPtr(false), WithBlocked: apiPtr(false)})
	require.NoError(t, err)
	assert.Equal(t, stubCall{Method: "listPackages", Kwargs: map[string]any{"tagID": int64(3), "userID": "kojiadmin",
		"pkgID": "bash", "prefix": "ba", "inherited": true, "with_dups": true, "event": int64(8),
		"queryOpts": map[string]any{"limit": int64(5)}, "with_owners": false, "with_blocked": false}}, hub.only(t))
	assert.Equal(t, []*TagPackage{{PackageID: 5, PackageName: "bash"}}, pkgs)
}

func TestPackageListAdd(t *testing.T) {
	c, hub := newStubHub(t, func(stubCall) (any, error) { return nil, nil })
	ctx := context.Background()
	require.NoError(t, c.PackageListAdd(ctx, "f43", "bash", &PackageListAddOptions{Owner: "alice", Block: true,
		ExtraArches: "i686", Force: true, Update: true}))
	require.NoError(t, c.PackageListAdd(ctx, 3, 5, nil))
	assert.Equal(t, []stubCall{
		{Method: "packageListAdd", Args: []any{"f43", "bash"}, Kwargs: map[string]any{"owner": "alice", "block": true,
			"extra_arches": "i686", "force": true, "update": true}},
		{Method: "packageListAdd", Args: []any{int64(3), int64(5)}},
	}, hub.received())

	err := c.PackageListAdd(ctx, "f43", "bash", &PackageListAddOptions{Owner: ""})
	var re *RefError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "owner", re.Argument)
}

func TestListPackagesIterPages(t *testing.T) {
	c, hub := pagingHub(t, 1500, "package_id", map[string]any{"package_name": "p", "tag_id": 3, "tag_name": "f43"})
	var ids []int
	for p, err := range c.ListPackagesIter(context.Background(), &ListPackagesOptions{TagID: "f43", Inherited: true}) {
		require.NoError(t, err)
		ids = append(ids, p.PackageID)
	}
	assertPaged(t, hub, ids, 1500, "package_id", map[string]any{"tagID": "f43", "inherited": true})

	c, _ = newStubHub(t, func(stubCall) (any, error) {
		return nil, &xmlrpc.Fault{Code: 1000, String: "koji.GenericError: No such entry in table tag: f99"}
	})
	n := 0
	for p, err := range c.ListPackagesIter(context.Background(), &ListPackagesOptions{TagID: "f99"}) {
		n++
		assert.Nil(t, p)
		assert.ErrorIs(t, err, ErrGeneric, "the hub's fault ends the iteration")
	}
	assert.Equal(t, 1, n)
}
