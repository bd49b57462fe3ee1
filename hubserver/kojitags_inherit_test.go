package hubserver_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/koji"
)

// inheritLink is a link for setInheritanceData.
func inheritLink(parent int64, priority int64, opts map[string]any) map[string]any {
	l := map[string]any{"parent_id": parent, "priority": priority, "maxdepth": nil, "intransitive": false, "noconfig": false, "pkg_filter": ""}
	for k, v := range opts {
		l[k] = v
	}
	return l
}

// walk is getFullInheritance reduced to (id, currdepth, nextdepth,
// filter, noconfig) per node.
func walk(t *testing.T, c *koji.Client, tag any, kw map[string]any) [][]any {
	t.Helper()
	var nodes []map[string]any
	require.NoError(t, c.CallKw(context.Background(), "getFullInheritance", &nodes, []any{tag}, kw))
	key := "parent_id"
	if kw["reverse"] == true {
		key = "tag_id"
	}
	out := [][]any{}
	for _, n := range nodes {
		out = append(out, []any{n[key], n["currdepth"], n["nextdepth"], n["filter"], n["noconfig"]})
	}
	return out
}

func TestKojiTagInheritance(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		ids := map[string]int64{}
		for _, n := range []string{"base", "mid", "side", "top", "deep"} {
			id, err := admin.CreateTag(ctx, n, nil)
			require.NoError(t, err)
			ids[n] = int64(id)
		}
		set := func(tag string, clear bool, links ...any) {
			t.Helper()
			require.NoError(t, admin.CallKw(ctx, "setInheritanceData", nil, []any{tag, links}, map[string]any{"clear": clear}))
		}
		// top -> mid (10) -> base; top -> side (20, intransitive links
		// below it are not followed); side -> deep (intransitive);
		// base -> deep.
		set("mid", false, inheritLink(ids["base"], 0, map[string]any{"pkg_filter": "^foo"}))
		set("top", false, inheritLink(ids["mid"], 10, nil), inheritLink(ids["side"], 20, map[string]any{"maxdepth": int64(1), "noconfig": true}))
		set("side", false, inheritLink(ids["deep"], 0, map[string]any{"intransitive": true}))
		set("base", false, inheritLink(ids["deep"], 5, nil))
		before, err := admin.LastEvent(ctx, timeZero)
		require.NoError(t, err)

		var data []map[string]any
		require.NoError(t, admin.Call(ctx, "getInheritanceData", &data, "top"))
		require.Len(t, data, 2)
		sameMembers(t, map[string]any{"parent_id": ids["mid"], "name": "mid", "priority": int64(10), "maxdepth": nil,
			"intransitive": false, "noconfig": false, "pkg_filter": "", "child_id": ids["top"]}, data[0])
		assert.Equal(t, "side", data[1]["name"])
		assert.Equal(t, int64(1), data[1]["maxdepth"])

		none := []any{}
		assert.Equal(t, [][]any{
			{ids["mid"], int64(1), nil, none, false},
			{ids["base"], int64(2), nil, []any{"^foo"}, false},
			{ids["deep"], int64(3), nil, []any{"^foo"}, false},
			// side is reached with maxdepth 1 and noconfig; its
			// intransitive link to deep is not followed.
			{ids["side"], int64(1), int64(0), none, true},
		}, walk(t, admin, "top", nil))
		// From side itself the intransitive link is followed.
		assert.Equal(t, [][]any{{ids["deep"], int64(1), nil, none, false}}, walk(t, admin, ids["side"], nil))
		// reverse: descendants; intransitive links are listed but not
		// followed.
		assert.Equal(t, [][]any{
			{ids["side"], int64(1), nil, none, false},
			{ids["base"], int64(1), nil, none, false},
			{ids["mid"], int64(2), nil, []any{"^foo"}, false},
			{ids["top"], int64(3), nil, []any{"^foo"}, false},
		}, walk(t, admin, "deep", map[string]any{"reverse": true}))

		// A loop is pruned.
		set("deep", false, inheritLink(ids["top"], 0, nil))
		nodes := walk(t, admin, "top", nil)
		assert.Len(t, nodes, 4)
		set("deep", false, map[string]any{"parent_id": ids["top"], "delete link": true})

		// Faults, with nothing written.
		assert.Equal(t, "Multiple parent tags ([2, 3]) cannot have the same priority value (10) on child tag 4",
			faultString(t, admin, koji.ErrGeneric, "setInheritanceData", []any{"top", []any{inheritLink(ids["side"], 10, nil)}}, nil))
		assert.Equal(t, "No value for maxdepth",
			faultString(t, admin, koji.ErrGeneric, "setInheritanceData", []any{"top", []any{map[string]any{"parent_id": ids["base"], "priority": int64(1)}}}, nil))
		assert.Equal(t, "No such tagInfo: 999",
			faultString(t, admin, koji.ErrGeneric, "setInheritanceData", []any{"top", []any{inheritLink(999, 1, nil)}}, nil))
		assert.Equal(t, "No such entry in table tag: nope",
			faultString(t, admin, koji.ErrGeneric, "setInheritanceData", []any{"nope", []any{}}, nil))
		assert.Equal(t, "tag permission required (user not logged in)",
			faultString(t, kh.client(t), koji.ErrActionNotAllowed, "setInheritanceData", []any{"top", []any{}}, nil))
		assert.Equal(t, "stops option has been removed since 1.26",
			faultString(t, admin, koji.ErrParameter, "getFullInheritance", []any{"top"}, map[string]any{"stops": map[string]any{"1": 1}}))
		require.NoError(t, admin.Call(ctx, "getInheritanceData", &data, "top"))
		assert.Len(t, data, 2)

		// Unchanged links write nothing; a changed one is revoked and
		// inserted; clear removes the rest.
		last, err := admin.LastEvent(ctx, timeZero)
		require.NoError(t, err)
		set("top", false, inheritLink(ids["mid"], 10, nil))
		again, err := admin.LastEvent(ctx, timeZero)
		require.NoError(t, err)
		assert.Equal(t, last.ID, again.ID)
		set("top", true, inheritLink(ids["mid"], 15, nil))
		require.NoError(t, admin.Call(ctx, "getInheritanceData", &data, "top"))
		require.Len(t, data, 1)
		assert.Equal(t, int64(15), data[0]["priority"])

		// As of an event before.
		require.NoError(t, admin.CallKw(ctx, "getInheritanceData", &data, []any{"top"}, map[string]any{"event": before.ID}))
		assert.Len(t, data, 2)
		assert.Len(t, walk(t, admin, "top", map[string]any{"event": before.ID}), 4)

		// createTag with a parent links it at priority 0.
		child, err := admin.CreateTag(ctx, "child", &koji.CreateTagOptions{Parent: "top"})
		require.NoError(t, err)
		require.NoError(t, admin.Call(ctx, "getInheritanceData", &data, child))
		require.Len(t, data, 1)
		assert.Equal(t, []any{ids["top"], int64(0), ""}, []any{data[0]["parent_id"], data[0]["priority"], data[0]["pkg_filter"]})

		// tagLastChangeEvent follows inheritance.
		created, err := admin.LastEvent(ctx, timeZero)
		require.NoError(t, err)
		var ev any
		require.NoError(t, admin.Call(ctx, "tagLastChangeEvent", &ev, "child"))
		assert.Equal(t, int64(created.ID), ev)
		require.NoError(t, admin.CallKw(ctx, "tagLastChangeEvent", &ev, []any{"base"}, map[string]any{"before": before.ID}))
		assert.Less(t, ev.(int64), int64(before.ID))
		require.NoError(t, admin.CallKw(ctx, "editTag2", nil, []any{"deep"}, map[string]any{"arches": "x86_64"}))
		edited, err := admin.LastEvent(ctx, timeZero)
		require.NoError(t, err)
		require.NoError(t, admin.Call(ctx, "tagLastChangeEvent", &ev, "base"))
		assert.Equal(t, int64(edited.ID), ev, "deep is an ancestor of base")
		require.NoError(t, admin.CallKw(ctx, "tagLastChangeEvent", &ev, []any{"base"}, map[string]any{"inherit": false}))
		assert.Less(t, ev.(int64), int64(edited.ID))

		// Deleting a tag removes the links to and from it.
		require.NoError(t, admin.Call(ctx, "deleteTag", nil, "mid"))
		require.NoError(t, admin.Call(ctx, "getInheritanceData", &data, "top"))
		assert.Empty(t, data)
	})
}
