package hubserver_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/koji"
)

// historyRows is queryHistory(tables, **kw)'s answer for one table, each
// row described by describe.
func historyRows(t *testing.T, c *koji.Client, table string, kw map[string]any, describe func(map[string]any) string) []string {
	t.Helper()
	got := call(t, c, "queryHistory", []any{[]any{table}}, kw).(map[string]any)
	rows, ok := got[table].([]any)
	if !ok {
		return nil
	}
	out := []string{}
	for _, r := range rows {
		out = append(out, describe(r.(map[string]any)))
	}
	return out
}

// groupRow describes a group table's history row:
// group@tag[/package or >req][!blocked][ -revoked].
func groupRow(r map[string]any) string {
	s := fmt.Sprintf("%v@%v", r["group.name"], r["tag.name"])
	if p, ok := r["package"]; ok {
		s += fmt.Sprintf("/%v", p)
	}
	if q, ok := r["req.name"]; ok {
		s += fmt.Sprintf(">%v", q)
	}
	if r["blocked"] == true {
		s += "!"
	}
	if r["active"] == nil {
		s += " -" + fmt.Sprint(r["revoker_name"])
	}
	return s
}

// TestKojiQueryHistoryGroups reads the comps group tables' history as
// upstream's query_history does: group_config, group_req_listing and
// group_package_listing with the groups join (group.name), the tag,
// group and package (a string column there) filters, and a group filter
// on group_req_listing that names the required group (upstream's joined
// map sends it to req.id, the last groups join).
func TestKojiQueryHistoryGroups(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		groupTags(t, admin)
		call(t, admin, "groupPackageListBlock", []any{"f44-build", "build", "gcc"}, nil)
		call(t, admin, "groupPackageListRemove", []any{"f44", "build", "rpm-build"}, nil)

		assert.Equal(t, []string{"build@f44", "srpm-build@f44"}, historyRows(t, admin, "group_config", nil, groupRow))
		assert.Equal(t, []string{"build@f44/bash", "build@f44/rpm-build -kojiadmin", "build@f44/gcc",
			"srpm-build@f44/redhat-rpm-config", "build@f44-build/gcc!"},
			historyRows(t, admin, "group_package_listing", nil, groupRow))
		assert.Equal(t, []string{"build@f44>srpm-build"}, historyRows(t, admin, "group_req_listing", nil, groupRow))

		cfg := call(t, admin, "queryHistory", []any{[]any{"group_config"}}, map[string]any{"tag": "f44"}).(map[string]any)
		row := cfg["group_config"].([]any)[0].(map[string]any)
		for k, v := range map[string]any{"group_id": int64(1), "group.name": "build", "tag_id": int64(1), "tag.name": "f44",
			"blocked": false, "exported": true, "display_name": "build", "is_default": true, "uservisible": true,
			"description": "Buildroot & tools", "langonly": nil, "biarchonly": false, "active": true,
			"creator_name": "kojiadmin", "revoke_event": nil, "revoker_id": nil, "revoker_name": nil, "revoke_ts": nil} {
			assert.Equal(t, v, row[k], k)
		}
		assert.IsType(t, float64(0), row["create_ts"])

		// The tag filter applies to the three tables.
		byTag := call(t, admin, "queryHistory", []any{nil}, map[string]any{"tag": "f44-build"}).(map[string]any)
		assert.Empty(t, byTag["group_config"])
		assert.Empty(t, byTag["group_req_listing"])
		assert.Len(t, byTag["group_package_listing"], 1)

		// group: only the tables joining groups answer.
		byGroup := call(t, admin, "queryHistory", []any{nil}, map[string]any{"group": "build"}).(map[string]any)
		assert.ElementsMatch(t, []string{"group_config", "group_req_listing", "group_package_listing"}, keysOf(byGroup))
		assert.Equal(t, []string{"build@f44"}, historyRows(t, admin, "group_config", map[string]any{"group": "build"}, groupRow))
		assert.Equal(t, []string{"build@f44/bash", "build@f44/rpm-build -kojiadmin", "build@f44/gcc", "build@f44-build/gcc!"},
			historyRows(t, admin, "group_package_listing", map[string]any{"group": int64(1)}, groupRow))
		assert.Empty(t, historyRows(t, admin, "group_req_listing", map[string]any{"group": "build"}, groupRow))
		assert.Equal(t, []string{"build@f44>srpm-build"},
			historyRows(t, admin, "group_req_listing", map[string]any{"group": "srpm-build"}, groupRow))
		assert.Equal(t, "No such entry in table groups: nope",
			faultString(t, admin, koji.ErrGeneric, "queryHistory", []any{nil}, map[string]any{"group": "nope"}))

		// package: a package name in group_package_listing, no lookup.
		assert.Equal(t, []string{"build@f44/gcc", "build@f44-build/gcc!"},
			historyRows(t, admin, "group_package_listing", map[string]any{"package": "gcc"}, groupRow))
		assert.Empty(t, historyRows(t, admin, "group_package_listing", map[string]any{"package": "no-such-rpm"}, groupRow))
		byPkg := call(t, admin, "queryHistory", []any{[]any{"group_config", "group_req_listing", "group_package_listing"}},
			map[string]any{"package": "bash"}).(map[string]any)
		assert.Equal(t, []string{"group_package_listing"}, keysOf(byPkg))

		assert.Equal(t, []string{"build@f44/rpm-build -kojiadmin"},
			historyRows(t, admin, "group_package_listing", map[string]any{"active": false}, groupRow))
		// the block's creation and the removal's revocation
		assert.Equal(t, []string{"build@f44/rpm-build -kojiadmin", "build@f44-build/gcc!"},
			historyRows(t, admin, "group_package_listing", map[string]any{"afterEvent": lastEvent(t, admin) - 2}, groupRow))
		assert.Equal(t, []string{"build@f44/rpm-build -kojiadmin"},
			historyRows(t, admin, "group_package_listing", map[string]any{"afterEvent": lastEvent(t, admin) - 1}, groupRow))
		// user (no users join) leaves the group tables out.
		byUser := call(t, admin, "queryHistory", []any{nil}, map[string]any{"user": "kojiadmin"}).(map[string]any)
		assert.NotContains(t, byUser, "group_config")
	})
}

// TestKojiDeleteTagGroups deletes tags as upstream's delete_tag does,
// which revokes their group_config, group_req_listing and
// group_package_listing rows at the deletion's event, and checks that
// tagLastChangeEvent and tagFirstChangeEvent count changes to those
// tables (upstream's tables list) for the tag and, with inherit, its
// parents.
func TestKojiDeleteTagGroups(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		groupTags(t, admin)
		last := func(tag string, kw map[string]any) any {
			return call(t, admin, "tagLastChangeEvent", []any{tag}, kw)
		}
		e := lastEvent(t, admin) // groupReqListAdd on f44
		assert.Equal(t, e, last("f44", nil))
		assert.Equal(t, e, last("f44-build", nil), "inherited")
		created := last("f44-build", map[string]any{"inherit": false})
		assert.Less(t, created.(int64), e)

		call(t, admin, "groupPackageListBlock", []any{"f44-build", "build", "gcc"}, nil)
		block := lastEvent(t, admin)
		assert.Equal(t, block, last("f44-build", map[string]any{"inherit": false}))
		assert.Equal(t, e, last("f44", nil))
		assert.Equal(t, e, last("f44", map[string]any{"before": block}))
		assert.Equal(t, block, call(t, admin, "tagFirstChangeEvent", []any{"f44-build"}, map[string]any{"after": e}))
		call(t, admin, "groupReqListRemove", []any{"f44", "build", "srpm-build"}, nil)
		req := lastEvent(t, admin)
		assert.Equal(t, req, last("f44", nil), "a revocation")
		assert.Equal(t, req, call(t, admin, "tagFirstChangeEvent", []any{"f44-build"}, map[string]any{"after": block}))
		assert.Nil(t, call(t, admin, "tagFirstChangeEvent", []any{"f44-build"}, map[string]any{"after": block, "inherit": false}))

		call(t, admin, "deleteTag", []any{"f44"}, nil)
		del := lastEvent(t, admin)
		active := map[string]any{"tag": int64(1), "active": true}
		for _, table := range []string{"group_config", "group_req_listing", "group_package_listing"} {
			assert.Empty(t, historyRows(t, admin, table, active, groupRow), table)
			got := call(t, admin, "queryHistory", []any{[]any{table}}, map[string]any{"tag": int64(1)}).(map[string]any)
			require.NotEmpty(t, got[table], table)
			for _, r := range got[table].([]any) {
				r := r.(map[string]any)
				if r["revoke_event"] != req {
					assert.Equal(t, del, r["revoke_event"], table)
				}
			}
		}
		assert.Equal(t, []string{"build@f44-build/gcc!"},
			historyRows(t, admin, "group_package_listing", map[string]any{"tag": "f44-build", "active": true}, groupRow))
		assert.Equal(t, del, last("f44", nil), "a deleted tag's deletion")
		assert.Equal(t, del, last("f44", map[string]any{"before": del + 1}))
	})
}

// TestKojiQueryHistoryGroupsPython reads the group tables' history with
// Python's xmlrpc.client, as the CLI's list-history does: the members and
// Python types of upstream's query_history columns for each table.
func TestKojiQueryHistoryGroupsPython(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		kh := startKoji(t, dsn, func(c *hubserver.KojiConfig) { c.AdminPassword = "secret" })
		none := map[string]any(nil)
		calls := []pyCall{
			pycall("createTag", []any{"py-base"}, none),
			pycall("groupListAdd", []any{"py-base", "build"}, none),
			pycall("groupPackageListAdd", []any{"py-base", "build", "bash"}, none),
			pycall("groupListAdd", []any{"py-base", "srpm-build"}, none),
			pycall("groupReqListAdd", []any{"py-base", "build", "srpm-build"}, none),
			pycall("groupPackageListRemove", []any{"py-base", "build", "bash"}, none),
			pycall("queryHistory", []any{[]any{"group_config", "group_req_listing", "group_package_listing"}},
				map[string]any{"tag": "py-base"}),
			pycall("queryHistory", []any{}, map[string]any{"tag": "py-base", "group": "build"}),
		}
		out := runPySession(t, kh, calls)
		for i, a := range out {
			require.Nil(t, a.Fault, "call %d %v", i, calls[i])
		}
		common := []string{"active", "create_event", "revoke_event", "creator_id", "revoker_id", "creator_name",
			"revoker_name", "create_ts", "revoke_ts", "tag_id", "tag.name", "group_id", "group.name", "blocked"}
		types := map[string]string{"create_event": "int", "creator_id": "int", "creator_name": "str", "create_ts": "float",
			"tag_id": "int", "tag.name": "str", "group_id": "int", "group.name": "str", "blocked": "bool"}
		with := func(members []string, more map[string]string) any {
			m := map[string]string{}
			for k, v := range types {
				m[k] = v
			}
			for k, v := range more {
				m[k] = v
			}
			return listOf(dictOf(append(append([]string{}, common...), members...), m))
		}
		want := map[string]any{"dict": map[string]any{
			"group_config": with([]string{"exported", "display_name", "is_default", "uservisible", "description", "langonly", "biarchonly"},
				map[string]string{"exported": "bool", "display_name": "str", "uservisible": "bool", "biarchonly": "bool"}),
			"group_req_listing": with([]string{"req_id", "req.name", "type", "is_metapkg"},
				map[string]string{"req_id": "int", "req.name": "str", "type": "str", "is_metapkg": "bool"}),
			"group_package_listing": with([]string{"package", "type", "basearchonly", "requires"},
				map[string]string{"package": "str", "type": "str"}),
		}}
		sameShape(t, want, out[6].Types, "queryHistory")
		got := out[7].Result.(map[string]any)
		pkgs := got["group_package_listing"].([]any)
		require.Len(t, pkgs, 1)
		p := pkgs[0].(map[string]any)
		assert.Nil(t, p["active"])
		assert.Equal(t, "kojiadmin", p["revoker_name"])
		assert.IsType(t, float64(0), p["revoke_ts"])
		assert.Empty(t, got["group_req_listing"], "group filters req.id there")
	})
}
