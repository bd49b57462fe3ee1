package hubserver_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/koji"
)

func TestKojiQueryHistory(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		anchorTags(t, admin) // anchor-build inherits from anchor-base
		require.NoError(t, admin.CallKw(ctx, "editTag2", nil, []any{"anchor-dest"}, map[string]any{"arches": "x86_64"}))
		link := map[string]any{"parent_id": 1, "priority": 5, "maxdepth": nil, "intransitive": false, "noconfig": false, "pkg_filter": ""}
		require.NoError(t, admin.Call(ctx, "setInheritanceData", nil, "anchor-dest", []any{link}))
		link["delete link"] = true
		require.NoError(t, admin.Call(ctx, "setInheritanceData", nil, "anchor-dest", []any{link}))
		require.NoError(t, admin.Call(ctx, "createEmptyBuild", nil, "foo", "1.0", "1", nil))
		require.NoError(t, admin.PackageListAdd(ctx, "anchor-dest", "foo", &koji.PackageListAddOptions{Owner: "kojiadmin"}))
		require.NoError(t, admin.TagBuildBypass(ctx, "anchor-dest", "foo-1.0-1", nil))
		require.NoError(t, admin.Call(ctx, "createUser", nil, "testuser"))
		var last map[string]any
		require.NoError(t, admin.Call(ctx, "getLastEvent", &last))
		require.NoError(t, admin.Call(ctx, "grantPermission", nil, "testuser", "repo"))

		query := func(tables any, kw map[string]any) map[string][]map[string]any {
			t.Helper()
			var got map[string][]map[string]any
			require.NoError(t, admin.CallKw(ctx, "queryHistory", &got, []any{tables}, kw))
			return got
		}
		keys := func(m map[string][]map[string]any) []string {
			var ks []string
			for k := range m {
				ks = append(ks, k)
			}
			return ks
		}

		cfg := query([]any{"tag_config"}, map[string]any{"tag": "anchor-dest"})["tag_config"]
		require.Len(t, cfg, 2)
		assert.Nil(t, cfg[0]["active"])
		assert.Equal(t, "", cfg[0]["arches"])
		assert.NotNil(t, cfg[0]["revoke_event"])
		assert.NotNil(t, cfg[0]["revoke_ts"])
		assert.Equal(t, "kojiadmin", cfg[0]["revoker_name"])
		assert.Equal(t, true, cfg[1]["active"])
		assert.Equal(t, "x86_64", cfg[1]["arches"])
		assert.Nil(t, cfg[1]["revoke_event"])
		assert.Nil(t, cfg[1]["revoke_ts"])
		assert.Nil(t, cfg[1]["revoker_id"])
		for _, row := range cfg {
			assert.Equal(t, "anchor-dest", row["tag.name"])
			assert.Equal(t, "kojiadmin", row["creator_name"])
			assert.IsType(t, float64(0), row["create_ts"])
			for _, k := range []string{"tag_id", "locked", "perm_id", "permission.name", "maven_support", "maven_include_all",
				"create_event", "creator_id", "revoker_id", "revoker_name"} {
				assert.Contains(t, row, k)
			}
		}

		inh := query([]any{"tag_inheritance"}, map[string]any{"tag": "anchor-dest"})["tag_inheritance"]
		require.Len(t, inh, 1)
		assert.Nil(t, inh[0]["active"])
		assert.Equal(t, "anchor-base", inh[0]["parent.name"])
		assert.Equal(t, "anchor-dest", inh[0]["tag.name"])
		assert.EqualValues(t, 5, inh[0]["priority"])
		// A tag filter on tag_inheritance matches the parent too.
		assert.Len(t, query([]any{"tag_inheritance"}, map[string]any{"tag": "anchor-base"})["tag_inheritance"], 2)
		assert.Len(t, query([]any{"tag_inheritance"}, map[string]any{"tag": "anchor-base", "active": true})["tag_inheritance"], 1)
		assert.Len(t, query([]any{"tag_inheritance"}, map[string]any{"tag": "anchor-base", "active": false})["tag_inheritance"], 1)

		// A filter leaves out the tables it does not apply to.
		byTag := query(nil, map[string]any{"tag": "anchor-dest"})
		assert.ElementsMatch(t, []string{"tag_inheritance", "tag_config", "tag_extra", "build_target_config", "tag_external_repos",
			"tag_listing", "tag_packages", "tag_package_owners", "group_config", "group_req_listing", "group_package_listing"}, keys(byTag))
		assert.Len(t, byTag["tag_listing"], 1)
		assert.Len(t, byTag["tag_packages"], 1)
		assert.Empty(t, byTag["tag_extra"])
		assert.Len(t, query(nil, nil), 17)

		byBuild := query(nil, map[string]any{"build": "foo-1.0-1"})
		assert.Equal(t, []string{"tag_listing"}, keys(byBuild))
		require.Len(t, byBuild["tag_listing"], 1)
		tl := byBuild["tag_listing"][0]
		assert.Equal(t, "foo", tl["name"])
		assert.Equal(t, "1.0", tl["version"])
		assert.Equal(t, "1", tl["release"])
		assert.Nil(t, tl["epoch"])
		assert.Equal(t, "anchor-dest", tl["tag.name"])
		assert.Equal(t, true, tl["active"])
		assert.Contains(t, tl, "build.state")

		byPkg := query(nil, map[string]any{"package": "foo"})
		assert.ElementsMatch(t, []string{"tag_listing", "tag_packages", "tag_package_owners", "group_package_listing"}, keys(byPkg))
		require.Len(t, byPkg["tag_package_owners"], 1)
		assert.Equal(t, "kojiadmin", byPkg["tag_package_owners"][0]["owner.name"])
		assert.Equal(t, "foo", byPkg["tag_packages"][0]["package.name"])
		assert.Equal(t, false, byPkg["tag_packages"][0]["blocked"])

		perms := query([]any{"user_perms"}, map[string]any{"user": "testuser"})["user_perms"]
		require.Len(t, perms, 1)
		assert.Equal(t, "testuser", perms[0]["user.name"])
		assert.Equal(t, "repo", perms[0]["permission.name"])
		byPerm := query(nil, map[string]any{"permission": "repo"})
		assert.ElementsMatch(t, []string{"user_perms", "tag_config"}, keys(byPerm))
		assert.Len(t, byPerm["user_perms"], 1)
		assert.Empty(t, byPerm["tag_config"])

		after := query([]any{"user_perms", "tag_config", "tag_listing"}, map[string]any{"afterEvent": last["id"]})
		assert.Len(t, after["user_perms"], 1)
		assert.Empty(t, after["tag_config"])
		assert.Empty(t, after["tag_listing"])
		before := query([]any{"user_perms"}, map[string]any{"beforeEvent": last["id"]})["user_perms"]
		require.Len(t, before, 1) // the bootstrap admin's
		assert.Equal(t, "kojiadmin", before[0]["user.name"])
		assert.Len(t, query([]any{"tag_config"}, map[string]any{"after": 0, "before": 4e9})["tag_config"], 4)

		ed := query([]any{"tag_config"}, map[string]any{"editor": "kojiadmin", "tag": "anchor-dest"})["tag_config"]
		require.Len(t, ed, 2)
		assert.Equal(t, true, ed[0]["_created_by"])
		assert.Equal(t, true, ed[0]["_revoked_by"])
		assert.Nil(t, ed[1]["_revoked_by"], "no revoker: NULL = editor")
		assert.Empty(t, query([]any{"tag_config"}, map[string]any{"editor": "testuser"})["tag_config"])

		assert.Equal(t, "No such history table: nope",
			faultString(t, admin, koji.ErrGeneric, "queryHistory", []any{[]any{"tag_config", "nope"}}, nil))
		assert.Equal(t, "No such history table: 3",
			faultString(t, admin, koji.ErrGeneric, "queryHistory", []any{[]any{3}}, nil))
		assert.Equal(t, "No such entry in table tag: no-such-tag",
			faultString(t, admin, koji.ErrGeneric, "queryHistory", []any{nil}, map[string]any{"tag": "no-such-tag"}))
	})
}
