package hubserver_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
)

// TestKojiTagGroupsPython makes a tag's groups as the koji CLI's
// add-group, add-group-pkg, add-group-req and block-group-pkg do, with
// Python's xmlrpc.client, and reads them back as its list-groups and
// mock-config do: members and Python types as upstream's readTagGroups
// answers them (no recording exists; the members are kojihub.py's
// columns).
func TestKojiTagGroupsPython(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		kh := startKoji(t, dsn, func(c *hubserver.KojiConfig) { c.AdminPassword = "secret" })
		none := map[string]any(nil)
		calls := []pyCall{
			/* 0 */ pycall("createTag", []any{"py-base"}, map[string]any{"arches": "x86_64"}),
			/* 1 */ pycall("createTag", []any{"py-build"}, map[string]any{"parent": "py-base"}),
			/* 2 */ pycall("groupListAdd", []any{"py-base", "build"}, none),
			/* 3 */ pycall("groupPackageListAdd", []any{"py-base", "build", "bash"}, none),
			/* 4 */ pycall("groupListAdd", []any{"py-base", "srpm-build"}, none),
			/* 5 */ pycall("groupReqListAdd", []any{"py-base", "build", "srpm-build"}, none),
			/* 6 */ pycall("groupPackageListBlock", []any{"py-build", "build", "gcc"}, none),
			/* 7 */ pycall("getTagGroups", []any{"py-build"}, none),
			/* 8 */ pycall("getTagGroups", []any{"py-build"}, map[string]any{"incl_blocked": true, "incl_reqs": false}),
			/* 9 */ pycall("groupListRemove", []any{"py-build", "build"}, none),
		}
		out := runPySession(t, kh, calls)
		for i, a := range out[:9] {
			require.Nil(t, a.Fault, "call %d %v", i, calls[i])
		}
		require.NotNil(t, out[9].Fault)
		assert.Equal(t, []any{float64(1000), "No group: build found for tag: py-build"}, out[9].Fault)

		pkg := dictOf([]string{"group_id", "tag_id", "package", "blocked", "type", "basearchonly", "requires"},
			map[string]string{"group_id": "int", "tag_id": "int", "package": "str", "blocked": "bool", "type": "str"})
		req := dictOf([]string{"group_id", "tag_id", "req_id", "name", "blocked", "type", "is_metapkg"},
			map[string]string{"group_id": "int", "tag_id": "int", "req_id": "int", "name": "str", "blocked": "bool",
				"type": "str", "is_metapkg": "bool"})
		cfg := []string{"name", "group_id", "tag_id", "blocked", "exported", "display_name", "is_default", "uservisible",
			"description", "langonly", "biarchonly"}
		cfgTypes := map[string]string{"name": "str", "group_id": "int", "tag_id": "int", "blocked": "bool", "exported": "bool",
			"display_name": "str", "uservisible": "bool", "biarchonly": "bool"}
		full := dictOf(append(cfg, "packagelist", "grouplist"), cfgTypes)
		full.(map[string]any)["dict"].(map[string]any)["packagelist"] = listOf(pkg)
		full.(map[string]any)["dict"].(map[string]any)["grouplist"] = listOf(req)
		noReqs := dictOf(append(cfg, "packagelist"), cfgTypes)
		noReqs.(map[string]any)["dict"].(map[string]any)["packagelist"] = listOf(pkg)
		for i, want := range map[int]any{0: "int", 2: "NoneType", 3: "NoneType", 5: "NoneType", 6: "NoneType",
			7: listOf(full), 8: listOf(noReqs)} {
			sameShape(t, want, out[i].Types, fmt.Sprintf("%d %s", i, calls[i][0]))
		}
		groups := out[7].Result.([]any)
		require.Len(t, groups, 2)
		build := groups[0].(map[string]any)
		assert.Equal(t, "build", build["name"])
		assert.Len(t, build["packagelist"], 1, "gcc blocked")
		assert.Equal(t, "srpm-build", build["grouplist"].([]any)[0].(map[string]any)["name"])
		blocked := out[8].Result.([]any)[0].(map[string]any)["packagelist"].([]any)
		require.Len(t, blocked, 2)
		assert.Equal(t, "gcc", blocked[0].(map[string]any)["package"])
		assert.Equal(t, true, blocked[0].(map[string]any)["blocked"])
	})
}
