package hubserver_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/koji"
)

func TestKojiBuildConfig(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		ids := map[string]int64{}
		var got map[string]any
		for _, tc := range []struct {
			name string
			opts *koji.CreateTagOptions
		}{
			{"bc-root", &koji.CreateTagOptions{Arches: "i686", Extra: map[string]any{"r": "root", "shared": "root"}}},
			{"bc-base", &koji.CreateTagOptions{Arches: "x86_64 aarch64", Extra: map[string]any{"shared": "base", "b": 2, "blk": 3}}},
			{"bc-mid", &koji.CreateTagOptions{Parent: "bc-base", Extra: map[string]any{"m": true}}},
			{"bc-nocfg", &koji.CreateTagOptions{Arches: "s390x", Extra: map[string]any{"nc": 1}}},
			{"bc-child", &koji.CreateTagOptions{Locked: true, Perm: "admin", Extra: map[string]any{"c": 1}}},
		} {
			id, err := admin.CreateTag(ctx, tc.name, tc.opts)
			require.NoError(t, err)
			ids[tc.name] = int64(id)
		}
		// createTag stores no arches as "", which getBuildConfig keeps (its
		// test is "is None"); editTag2 with arches None stores NULL, which
		// is inherited.
		require.NoError(t, admin.Call(ctx, "getBuildConfig", &got, "bc-mid"))
		assert.Equal(t, "", got["arches"])
		require.NoError(t, admin.CallKw(ctx, "editTag2", nil, []any{"bc-mid"}, map[string]any{"block_extra": []any{"blk"}, "arches": nil}))
		require.NoError(t, admin.CallKw(ctx, "editTag2", nil, []any{"bc-child"}, map[string]any{"arches": nil}))
		require.NoError(t, admin.Call(ctx, "setInheritanceData", nil, "bc-child", []any{
			inheritLink(ids["bc-nocfg"], 5, map[string]any{"noconfig": true}),
			inheritLink(ids["bc-mid"], 10, nil),
			inheritLink(ids["bc-root"], 20, nil),
		}))
		from := func(name string) map[string]any { return map[string]any{"id": ids[name], "name": name} }

		var before map[string]any
		require.NoError(t, admin.Call(ctx, "getLastEvent", &before))
		require.NoError(t, admin.Call(ctx, "getBuildConfig", &got, "bc-child"))
		// getTag's members and config_inheritance; the arches come from
		// the nearest configured ancestor (bc-nocfg's noconfig link is
		// skipped), each extra key from the nearest tag that has it, and
		// bc-mid's block hides bc-base's blk.
		var tag map[string]any
		require.NoError(t, admin.Call(ctx, "getTag", &tag, "bc-child"))
		tag["config_inheritance"] = nil
		sameMembers(t, tag, got, "arches", "extra", "config_inheritance")
		assert.Equal(t, "x86_64 aarch64", got["arches"])
		assert.Equal(t, true, got["locked"])
		assert.Equal(t, "admin", got["perm"])
		assert.Equal(t, map[string]any{"c": int64(1), "m": true, "shared": "base", "b": int64(2), "r": "root"}, got["extra"])
		assert.Equal(t, map[string]any{
			"arches": from("bc-base"),
			"extra":  map[string]any{"m": from("bc-mid"), "shared": from("bc-base"), "b": from("bc-base"), "blk": from("bc-mid"), "r": from("bc-root")},
		}, got["config_inheritance"])

		// A tag's own settings win; by event, the configuration then.
		require.NoError(t, admin.CallKw(ctx, "editTag2", nil, []any{"bc-child"}, map[string]any{"arches": "ppc64le", "extra": map[string]any{"b": "own"}}))
		require.NoError(t, admin.Call(ctx, "getBuildConfig", &got, ids["bc-child"]))
		assert.Equal(t, "ppc64le", got["arches"])
		assert.Equal(t, "own", got["extra"].(map[string]any)["b"])
		ci := got["config_inheritance"].(map[string]any)
		assert.Nil(t, ci["arches"])
		assert.NotContains(t, ci["extra"], "b")
		assert.NotContains(t, got, "query_event")
		require.NoError(t, admin.CallKw(ctx, "getBuildConfig", &got, []any{"bc-child"}, map[string]any{"event": before["id"]}))
		assert.Equal(t, "x86_64 aarch64", got["arches"])
		assert.Equal(t, int64(2), got["extra"].(map[string]any)["b"])
		assert.Equal(t, before["id"], got["query_event"])

		// A tag with no arches anywhere has None.
		require.NoError(t, admin.Call(ctx, "getBuildConfig", &got, "bc-nocfg"))
		assert.Equal(t, "s390x", got["arches"])
		_, err := admin.CreateTag(ctx, "bc-bare", nil)
		require.NoError(t, err)
		require.NoError(t, admin.CallKw(ctx, "editTag2", nil, []any{"bc-bare"}, map[string]any{"arches": nil}))
		require.NoError(t, admin.Call(ctx, "getBuildConfig", &got, "bc-bare"))
		assert.Nil(t, got["arches"])
		assert.Equal(t, map[string]any{"arches": nil, "extra": map[string]any{}}, got["config_inheritance"])

		assert.Equal(t, "No such tagInfo: 'nope'", faultString(t, admin, koji.ErrGeneric, "getBuildConfig", []any{"nope"}, nil))
		assert.Equal(t, "Invalid event: 'x'", faultString(t, admin, koji.ErrGeneric, "getBuildConfig", []any{"bc-child"}, map[string]any{"event": "x"}))
		assert.Equal(t, "Invalid name or id value: 1.5", faultString(t, admin, koji.ErrParameter, "getBuildConfig", []any{1.5}, nil))
		// Anonymous callers may read it.
		require.NoError(t, kh.client(t).Call(ctx, "getBuildConfig", &got, "bc-child"))
		assert.Equal(t, "ppc64le", got["arches"])
	})
}
