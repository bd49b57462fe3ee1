package hubserver_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/koji"
)

// TestKojiInheritanceTextPriority: the CLI's add-tag-inheritance and
// edit-tag-inheritance send --priority (and --maxdepth) as given, a
// string; upstream keeps it and the database casts it, so a numeric string
// is stored as its integer, it never equals the stored value (the link is
// written again), and a non-numeric one is PostgreSQL's refusal.
func TestKojiInheritanceTextPriority(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		ids := map[string]int64{}
		for _, n := range []string{"p1", "p2", "p3", "child"} {
			id, err := admin.CreateTag(ctx, n, nil)
			require.NoError(t, err)
			ids[n] = int64(id)
		}
		link := func(parent string, priority, maxdepth any) map[string]any {
			return map[string]any{"parent_id": ids[parent], "priority": priority, "maxdepth": maxdepth,
				"intransitive": false, "noconfig": false, "pkg_filter": ""}
		}
		set := func(links ...any) error {
			return admin.Call(ctx, "setInheritanceData", nil, "child", links)
		}
		require.NoError(t, set(link("p1", "10", " 2 ")))
		var data []map[string]any
		require.NoError(t, admin.Call(ctx, "getInheritanceData", &data, "child"))
		require.Len(t, data, 1)
		assert.Equal(t, int64(10), data[0]["priority"])
		assert.Equal(t, int64(2), data[0]["maxdepth"])

		// The same values as strings are written again; as integers not.
		before, err := admin.LastEvent(ctx, timeZero)
		require.NoError(t, err)
		require.NoError(t, set(link("p1", "10", int64(2))))
		again, err := admin.LastEvent(ctx, timeZero)
		require.NoError(t, err)
		assert.Greater(t, again.ID, before.ID)
		require.NoError(t, set(link("p1", int64(10), int64(2))))
		last, err := admin.LastEvent(ctx, timeZero)
		require.NoError(t, err)
		assert.Equal(t, again.ID, last.ID)
		require.NoError(t, set(link("p2", "+20", nil)))

		bad := func(links ...any) string {
			return faultString(t, admin, 1, "setInheritanceData", []any{"child", links}, nil)
		}
		assert.Equal(t, `<class 'psycopg2.errors.InvalidTextRepresentation'>: invalid input syntax for type integer: "abc"`,
			bad(link("p3", "abc", nil)))
		assert.Equal(t, `<class 'psycopg2.errors.InvalidTextRepresentation'>: invalid input syntax for type integer: "1.5"`,
			bad(link("p3", "1.5", nil)))
		assert.Equal(t, `<class 'psycopg2.errors.InvalidTextRepresentation'>: invalid input syntax for type integer: "x"`,
			bad(link("p3", int64(30), "x")))
		assert.Equal(t, `<class 'psycopg2.errors.NumericValueOutOfRange'>: value "99999999999" is out of range for type integer`,
			bad(link("p3", "99999999999", nil)))
		// Two equal strings meet upstream's duplicate check, whose %d
		// refuses a string; a string equal to a stored integer passes it
		// and meets the unique constraint.
		assert.Equal(t, "<class 'TypeError'>: %d format: a real number is required, not str",
			bad(link("p3", "30", nil), link("p2", "30", nil)))
		assert.Contains(t, bad(link("p3", "10", nil)),
			`<class 'psycopg2.errors.UniqueViolation'>: duplicate key value violates unique constraint "tag_inheritance_tag_id_priority_active_key"`)
		assert.Equal(t, fmt.Sprintf("Multiple parent tags ([%d, %d]) cannot have the same priority value (10) on child tag %d", ids["p1"], ids["p3"], ids["child"]),
			faultString(t, admin, koji.ErrGeneric, "setInheritanceData", []any{"child", []any{link("p3", int64(10), nil)}}, nil))

		require.NoError(t, admin.Call(ctx, "getInheritanceData", &data, "child"))
		require.Len(t, data, 2)
		assert.Equal(t, []any{ids["p1"], int64(10), ids["p2"], int64(20)},
			[]any{data[0]["parent_id"], data[0]["priority"], data[1]["parent_id"], data[1]["priority"]})
	})
}
