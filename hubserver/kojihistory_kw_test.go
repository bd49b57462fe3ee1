package hubserver_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/koji"
)

// TestKojiQueryHistoryKeywords: upstream's query_history ignores a
// keyword it does not know (the CLI's untag-build and list-history send
// pkg=), takes queryOpts for each table's query, looks host and channel
// up without strict (none matches no row), and answers the editor and
// time tests it selects, NULL for a row without a revocation.
func TestKojiQueryHistoryKeywords(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		anchorTags(t, admin)
		var first map[string]any
		require.NoError(t, admin.Call(ctx, "getLastEvent", &first))
		require.NoError(t, admin.CallKw(ctx, "editTag2", nil, []any{"anchor-dest"}, map[string]any{"arches": "x86_64"}))
		require.NoError(t, admin.CallKw(ctx, "editTag2", nil, []any{"anchor-dest"}, map[string]any{"arches": "ppc64le"}))
		require.NoError(t, admin.Call(ctx, "createEmptyBuild", nil, "foo", "1.0", "1", nil))
		require.NoError(t, admin.PackageListAdd(ctx, "anchor-dest", "foo", &koji.PackageListAddOptions{Owner: "kojiadmin"}))
		require.NoError(t, admin.TagBuildBypass(ctx, "anchor-dest", "foo-1.0-1", nil))

		query := func(tables any, kw map[string]any, out any) {
			t.Helper()
			require.NoError(t, admin.CallKw(ctx, "queryHistory", out, []any{tables}, kw))
		}
		rows := func(tables any, kw map[string]any) map[string][]map[string]any {
			t.Helper()
			var got map[string][]map[string]any
			query(tables, kw, &got)
			return got
		}

		// pkg filters nothing, as upstream ignores it.
		tl := rows([]any{"tag_listing"}, map[string]any{"tag": "anchor-dest", "pkg": "foo"})["tag_listing"]
		require.Len(t, tl, 1)
		assert.Equal(t, "foo", tl[0]["name"])
		assert.Len(t, rows([]any{"tag_listing"}, map[string]any{"pkg": "no-such-package", "bogus": 1})["tag_listing"], 1)
		assert.Len(t, rows(nil, map[string]any{"pkg": "x"}), 17, "an unknown keyword leaves out no table")

		// queryOpts: order (by alias or column), limit, offset, countOnly,
		// asList.
		cfgOpts := func(opts map[string]any) map[string]any {
			return map[string]any{"tag": "anchor-dest", "queryOpts": opts}
		}
		cfg := rows([]any{"tag_config"}, cfgOpts(map[string]any{"order": "-create_event"}))["tag_config"]
		require.Len(t, cfg, 3)
		assert.Equal(t, []any{"ppc64le", "x86_64", ""}, []any{cfg[0]["arches"], cfg[1]["arches"], cfg[2]["arches"]})
		cfg = rows([]any{"tag_config"}, cfgOpts(map[string]any{"order": "tag_config.arches", "offset": 1, "limit": 1}))["tag_config"]
		require.Len(t, cfg, 1)
		assert.Equal(t, "ppc64le", cfg[0]["arches"])
		// revoke_event ascending puts the active row (NULL) last.
		cfg = rows([]any{"tag_config"}, cfgOpts(map[string]any{"order": "revoke_event"}))["tag_config"]
		assert.Equal(t, true, cfg[2]["active"])
		var counts map[string]int
		query([]any{"tag_config", "tag_listing"}, cfgOpts(map[string]any{"countOnly": true}), &counts)
		assert.Equal(t, map[string]int{"tag_config": 3, "tag_listing": 1}, counts)
		var lists map[string][][]any
		query([]any{"tag_listing"}, cfgOpts(map[string]any{"asList": true}), &lists)
		require.Len(t, lists["tag_listing"], 1)
		// aliases sorted: active, build.state, build_id, ...
		assert.Equal(t, true, lists["tag_listing"][0][0])
		assert.Equal(t, "<class 'Exception'>: Invalid order: nope",
			faultString(t, admin, 1, "queryHistory", []any{[]any{"tag_config"}}, cfgOpts(map[string]any{"order": "nope"})))

		// host and channel that do not exist match no row.
		byHost := rows(nil, map[string]any{"host": "nohost"})
		assert.Equal(t, map[string][]map[string]any{"host_config": {}, "host_channels": {}}, byHost)
		assert.Equal(t, map[string][]map[string]any{"host_channels": {}}, rows(nil, map[string]any{"channel": "nochannel"}))

		// The time tests upstream selects.
		cfg = rows([]any{"tag_config"}, map[string]any{"tag": "anchor-dest", "afterEvent": first["id"]})["tag_config"]
		require.Len(t, cfg, 3)
		assert.Equal(t, []any{false, true}, []any{cfg[0]["_created_after_event"], cfg[0]["_revoked_after_event"]})
		assert.Equal(t, []any{true, nil}, []any{cfg[2]["_created_after_event"], cfg[2]["_revoked_after_event"]})
		cfg = rows([]any{"tag_config"}, map[string]any{"tag": "anchor-dest", "beforeEvent": first["id"].(int64) + 1})["tag_config"]
		require.Len(t, cfg, 1)
		assert.Equal(t, []any{true, false}, []any{cfg[0]["_created_before_event"], cfg[0]["_revoked_before_event"]})
		cfg = rows([]any{"tag_config"}, map[string]any{"tag": "anchor-dest", "after": 0, "before": 4e9})["tag_config"]
		require.Len(t, cfg, 3)
		for _, k := range []string{"_created_after", "_created_before"} {
			assert.Equal(t, true, cfg[2][k], k)
		}
		assert.Nil(t, cfg[2]["_revoked_after"])
		assert.Nil(t, cfg[2]["_revoked_before"])
		assert.Equal(t, true, cfg[0]["_revoked_before"])
	})
}
