package hubserver_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
)

// newBuilds makes builds of name-version-release in the given states
// (owned by kojiadmin, without a task), in order, and returns their ids.
func newBuilds(t *testing.T, kh *kojiHub, builds ...[4]any) []int64 {
	t.Helper()
	var ids []int64
	taskTx(t, kh, 1, func(ctx context.Context) error {
		for _, b := range builds {
			id, err := kh.koji.NewBuildForTest(ctx, b[0].(string), b[1].(string), b[2].(string), b[3].(int), 1, 0)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	return ids
}

func TestKojiGetNextRelease(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		next := func(name, version string, kw map[string]any) any {
			t.Helper()
			return call(t, admin, "getNextRelease", []any{map[string]any{"name": name, "version": version}}, kw)
		}
		assert.Equal(t, "1", next("foo", "1.0", nil), "no build")
		assert.Equal(t, "3", next("foo", "1.0", map[string]any{"incr": 3}))
		newBuilds(t, kh, [4]any{"foo", "1.0", "5", store.BuildComplete})
		assert.Equal(t, "6", next("foo", "1.0", nil))
		assert.Equal(t, "7", next("foo", "1.0", map[string]any{"incr": "2"}), "int('2')")
		assert.Equal(t, "1", next("foo", "2.0", nil), "another version")
		newBuilds(t, kh, [4]any{"foo", "1.0", "7.el9", store.BuildBuilding}, [4]any{"foo", "1.0", "99", store.BuildFailed})
		assert.Equal(t, "8.el9", next("foo", "1.0", nil), "the newest BUILDING, COMPLETE or DELETED one")
		newBuilds(t, kh, [4]any{"foo", "1.0", "20240101.nightly.9", store.BuildDeleted},
			[4]any{"bar", "1", "99999999999999999999", store.BuildComplete},
			[4]any{"baz", "1", "1.2.3.4", store.BuildComplete}, [4]any{"qux", "1", "a.el9", store.BuildComplete})
		assert.Equal(t, "20240101.nightly.10", next("foo", "1.0", nil))
		assert.Equal(t, "100000000000000000000", next("bar", "1", nil))

		assert.Equal(t, "Unable to increment release value: 1.2.3.4",
			faultString(t, admin, koji.ErrBuild, "getNextRelease", []any{map[string]any{"name": "baz", "version": "1"}}, nil))
		assert.Equal(t, "Unable to increment release value: a.el9",
			faultString(t, admin, koji.ErrBuild, "getNextRelease", []any{map[string]any{"name": "qux", "version": "1"}}, nil))
		assert.Equal(t, "incr parameter must be an integer",
			faultString(t, admin, koji.ErrParameter, "getNextRelease", []any{map[string]any{"name": "foo", "version": "1"}, "x"}, nil))
		assert.Equal(t, "incr parameter must be an integer",
			faultString(t, admin, koji.ErrParameter, "getNextRelease", []any{map[string]any{"name": "foo", "version": "1"}, nil}, nil))
		assert.Equal(t, "<class 'KeyError'>: 'version'",
			faultString(t, admin, 1, "getNextRelease", []any{map[string]any{"name": "foo"}}, nil))
	})
}

func TestKojiUntaggedBuilds(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		newBuilds(t, kh, [4]any{"foo", "1.0", "1", store.BuildComplete}, [4]any{"foo", "1.0", "2", store.BuildComplete},
			[4]any{"bar", "1", "1", store.BuildComplete}, [4]any{"bar", "1", "2", store.BuildFailed},
			[4]any{"baz", "1", "1", store.BuildBuilding})
		call(t, admin, "createEmptyBuild", []any{"bar", "1", "3", nil}, map[string]any{"draft": true})
		call(t, admin, "createTag", []any{"f44"}, nil)
		call(t, admin, "packageListAdd", []any{"f44", "foo", "kojiadmin"}, nil)
		call(t, admin, "tagBuildBypass", []any{"f44", "foo-1.0-2"}, nil)
		call(t, admin, "tagBuildBypass", []any{"f44", "foo-1.0-1"}, nil)
		call(t, admin, "untagBuildBypass", []any{"f44", "foo-1.0-1"}, nil) // untagged again

		nvrs := func(args []any, kw map[string]any) []string {
			t.Helper()
			out := []string{}
			for _, r := range call(t, admin, "untaggedBuilds", args, kw).([]any) {
				r := r.(map[string]any)
				require.Len(t, r, 4)
				require.IsType(t, int64(0), r["id"])
				out = append(out, r["name"].(string)+"-"+r["version"].(string)+"-"+r["release"].(string))
			}
			return out
		}
		all := nvrs(nil, nil)
		require.Len(t, all, 3)
		assert.Equal(t, []string{"foo-1.0-1", "bar-1-1"}, all[:2])
		assert.Contains(t, all[2], "bar-1-3", "the draft build")
		assert.Equal(t, []string{"bar-1-1"}, nvrs([]any{"bar"}, map[string]any{"draft": false}))
		assert.Len(t, nvrs([]any{"bar"}, map[string]any{"draft": true}), 1)
		assert.Equal(t, []string{}, nvrs([]any{"nope"}, nil))
		assert.Equal(t, []string{"bar-1-1", "foo-1.0-1"}, nvrs(nil, map[string]any{"draft": false, "queryOpts": map[string]any{"order": "-id"}}))
		assert.Equal(t, []string{"bar-1-1"}, nvrs(nil, map[string]any{"queryOpts": map[string]any{"order": "package.name,id", "limit": 1}}))
		assert.Equal(t, int64(3), call(t, admin, "untaggedBuilds", nil, map[string]any{"queryOpts": map[string]any{"countOnly": true}}))
	})
}

func TestKojiGetAllArchesAndBTypes(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		anon := kh.client(t)
		assert.Equal(t, []any{}, call(t, anon, "getAllArches", nil, nil))
		call(t, admin, "addHost", []any{"b1", []any{"x86_64", "i686"}}, nil)
		call(t, admin, "addHost", []any{"b2", []any{"ppc64le", "noarch", "i386", "x86_64"}}, nil)
		assert.Equal(t, []any{"x86_64", "i386", "ppc64le", "noarch"}, call(t, anon, "getAllArches", nil, nil))
		call(t, admin, "editHost", []any{"b2"}, map[string]any{"arches": "aarch64"})
		call(t, admin, "disableHost", []any{"b1"}, nil)
		assert.Equal(t, []any{"x86_64", "i386", "aarch64"}, call(t, anon, "getAllArches", nil, nil), "current configurations")

		var all []map[string]any
		require.NoError(t, anon.Call(context.Background(), "listBTypes", &all))
		require.NotEmpty(t, all)
		names := map[string]int64{}
		for _, bt := range all {
			require.Len(t, bt, 2)
			names[bt["name"].(string)] = bt["id"].(int64)
		}
		for _, n := range []string{"rpm", "maven", "win", "image"} {
			assert.Contains(t, names, n)
		}
		rpm := []any{map[string]any{"id": names["rpm"], "name": "rpm"}}
		assert.Equal(t, rpm, call(t, anon, "listBTypes", []any{map[string]any{"name": "rpm"}}, nil))
		assert.Equal(t, rpm, call(t, anon, "listBTypes", []any{map[string]any{"id": names["rpm"]}}, nil))
		assert.Equal(t, rpm, call(t, anon, "listBTypes", []any{map[string]any{"id": names["rpm"], "name": "rpm"}}, nil))
		assert.Equal(t, []any{}, call(t, anon, "listBTypes", []any{map[string]any{"id": names["rpm"], "name": "maven"}}, nil))
		assert.Equal(t, []any{}, call(t, anon, "listBTypes", []any{map[string]any{"name": "nope"}}, nil))
		desc := call(t, anon, "listBTypes", nil, map[string]any{"queryOpts": map[string]any{"order": "-id", "limit": 1}}).([]any)
		require.Len(t, desc, 1)
		assert.Equal(t, all[len(all)-1], desc[0])
		assert.Equal(t, "<class 'AttributeError'>: 'str' object has no attribute 'copy'",
			faultString(t, anon, 1, "listBTypes", []any{"rpm"}, nil))
	})
}

// TestKojiBuildAdminPython calls untaggedBuilds, getNextRelease,
// getAllArches and listBTypes with Python's xmlrpc.client, as the CLI's
// list-untagged, list-btypes and the builder's release lookups do, and
// checks the Python types of the answers.
func TestKojiBuildAdminPython(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		kh := startKoji(t, dsn, func(c *hubserver.KojiConfig) { c.AdminPassword = "secret" })
		newBuilds(t, kh, [4]any{"foo", "1.0", "4", store.BuildComplete})
		calls := []pyCall{
			pycall("addHost", []any{"b1", []any{"x86_64"}}, nil),
			pycall("untaggedBuilds", []any{}, nil),
			pycall("getNextRelease", []any{map[string]any{"name": "foo", "version": "1.0"}}, nil),
			pycall("getAllArches", []any{}, nil),
			pycall("listBTypes", []any{}, map[string]any{"query": map[string]any{"name": "rpm"}}),
		}
		out := runPySession(t, kh, calls)
		for i, a := range out {
			require.Nil(t, a.Fault, "call %d %v", i, calls[i])
		}
		sameShape(t, listOf(dictOf([]string{"id", "name", "version", "release"},
			map[string]string{"id": "int", "name": "str", "version": "str", "release": "str"})), out[1].Types, "untaggedBuilds")
		assert.Equal(t, "str", out[2].Types)
		assert.Equal(t, "5", out[2].Result)
		assert.Equal(t, []any{"x86_64"}, out[3].Result)
		sameShape(t, listOf(dictOf([]string{"id", "name"}, map[string]string{"id": "int", "name": "str"})), out[4].Types, "listBTypes")
	})
}

func TestBuildAdminMethodSignatures(t *testing.T) {
	assertUpstreamSignatures(t, "untaggedBuilds", "getNextRelease", "getAllArches", "listBTypes")
}
