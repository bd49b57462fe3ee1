package hubserver_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/auth"
	"github.com/gokoji/gokoji/koji"
)

// externalRepoDataRow is a row of external_repo_data.
type externalRepoDataRow struct {
	RepoID, CreateEvent, CreatorID int64
	Data                           *string
	RevokeEvent, RevokerID         *int64
	Active                         *bool
}

// externalRepoDataRows reads dsn's external_repo_data table, oldest row
// first: upstream's queryHistory does not cover it.
func externalRepoDataRows(t *testing.T, dsn string) []externalRepoDataRow {
	t.Helper()
	driver := "sqlite"
	if strings.HasPrefix(dsn, "postgres") {
		driver = "pgx"
	}
	db, err := sql.Open(driver, dsn)
	require.NoError(t, err)
	defer db.Close()
	rows, err := db.Query("SELECT external_repo_id, data, create_event, revoke_event, creator_id, revoker_id, active " +
		"FROM external_repo_data ORDER BY create_event")
	require.NoError(t, err)
	defer rows.Close()
	var out []externalRepoDataRow
	for rows.Next() {
		var r externalRepoDataRow
		require.NoError(t, rows.Scan(&r.RepoID, &r.Data, &r.CreateEvent, &r.RevokeEvent, &r.CreatorID, &r.RevokerID, &r.Active))
		out = append(out, r)
	}
	require.NoError(t, rows.Err())
	return out
}

// TestKojiExternalRepoData sets an external repo's data and reads it back
// by id, name and struct, as nested JSON (integers stay integers, floats
// floats), replaces it in a new event, and converts and refuses data as
// upstream's convert_value(data, cast=dict) and json.dumps do.
func TestKojiExternalRepoData(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		call(t, admin, "createExternalRepo", []any{"updates", "https://example.com/updates/"}, nil)
		call(t, admin, "createExternalRepo", []any{"epel", "https://example.com/epel/"}, nil)
		get := func(erepo any) any { return call(t, admin, "repo.getExternalRepoData", []any{erepo}, nil) }
		assert.Nil(t, get("updates"), "no data yet")
		assert.Nil(t, get(int64(0)), "INTERNAL has an id, and no data")

		data := map[string]any{
			"max_ts": int64(1733600000),
			"nested": map[string]any{"list": []any{int64(1), 2.5, "x", true, nil, map[string]any{"deep": int64(3)}},
				"float": 1.0, "big": 1e16, "small": 1.5e-7},
			"text": "ünï \"q\"\n",
		}
		before := lastEvent(t, admin)
		assert.Nil(t, call(t, admin, "repo.setExternalRepoData", []any{"updates", data}, nil))
		want := map[string]any{
			"max_ts": int64(1733600000),
			"nested": map[string]any{"list": []any{int64(1), 2.5, "x", true, nil, map[string]any{"deep": int64(3)}},
				"float": 1.0, "big": int64(10000000000000000), "small": 1.5e-7},
			"text": "ünï \"q\"\n",
		}
		for _, erepo := range []any{"updates", int64(1), map[string]any{"id": int64(1)}, map[string]any{"name": "updates"}} {
			assert.Equal(t, want, get(erepo), "%v", erepo)
		}
		assert.Nil(t, get("epel"), "the other repo has none")

		call(t, admin, "repo.setExternalRepoData", []any{int64(1), map[string]any{"max_ts": int64(1733700000)}}, nil)
		assert.Equal(t, map[string]any{"max_ts": int64(1733700000)}, get("updates"))
		rows := externalRepoDataRows(t, dsn)
		require.Len(t, rows, 2)
		first, second := rows[0], rows[1]
		assert.Greater(t, first.CreateEvent, before, "a new event")
		require.NotNil(t, first.Data)
		assert.Equal(t, `{"text": "ünï \"q\"\n", "max_ts": 1733600000, "nested": {"big": 10000000000000000, `+
			`"list": [1, 2.5, "x", true, null, {"deep": 3}], "float": 1.0, "small": 0.00000015}}`, *first.Data,
			"as the JSONB column prints it")
		assert.Nil(t, first.Active)
		require.NotNil(t, first.RevokeEvent)
		assert.Equal(t, second.CreateEvent, *first.RevokeEvent, "the old row revoked in the new row's event")
		assert.Greater(t, second.CreateEvent, first.CreateEvent)
		require.NotNil(t, first.RevokerID)
		assert.Equal(t, first.CreatorID, *first.RevokerID)
		assert.Equal(t, int64(1), second.RepoID)
		require.NotNil(t, second.Active)
		assert.True(t, *second.Active)
		assert.Nil(t, second.RevokeEvent)
		assert.Nil(t, second.RevokerID)
		assert.Equal(t, "No such history table: external_repo_data",
			faultString(t, admin, koji.ErrGeneric, "queryHistory", []any{[]any{"external_repo_data"}}, nil),
			"upstream's queryHistory does not read it")

		// dict() of a list of pairs (two-item lists, two-character
		// strings), keys as json.dumps writes them: 1 and True are one key.
		for _, c := range []struct {
			data any
			want map[string]any
		}{
			{[]any{[]any{"a", int64(1)}, []any{"b", []any{int64(2)}}}, map[string]any{"a": int64(1), "b": []any{int64(2)}}},
			{[]any{[]any{int64(1), "x"}, []any{true, "y"}, []any{nil, "z"}, "kv"}, map[string]any{"1": "y", "null": "z", "k": "v"}},
			{"", map[string]any{}},
			{[]any{}, map[string]any{}},
			{map[string]any{}, map[string]any{}},
		} {
			call(t, admin, "repo.setExternalRepoData", []any{"epel", c.data}, nil)
			assert.Equal(t, c.want, get("epel"), "%#v", c.data)
		}

		for _, c := range []struct {
			data any
			want string
		}{
			{nil, "Invalid type, expected type <class 'dict'>"},
			{"abc", "Invalid type for value 'abc': <class 'str'>, expected type <class 'dict'>"},
			{int64(5), "Invalid type for value '5': <class 'int'>, expected type <class 'dict'>"},
			{true, "Invalid type for value 'True': <class 'bool'>, expected type <class 'dict'>"},
			{[]any{int64(1), int64(2)}, "Invalid type for value '[1, 2]': <class 'list'>, expected type <class 'dict'>"},
			{[]any{[]any{"a", int64(1), int64(2)}}, "Invalid type for value '[['a', 1, 2]]': <class 'list'>, expected type <class 'dict'>"},
			{[]any{[]any{[]any{"a"}, int64(1)}}, "Invalid type for value '[[['a'], 1]]': <class 'list'>, expected type <class 'dict'>"},
		} {
			assert.Equal(t, c.want, faultString(t, admin, koji.ErrParameter, "repo.setExternalRepoData", []any{"epel", c.data}, nil))
		}
		assert.Equal(t, "<class 'TypeError'>: Object of type bytes is not JSON serializable",
			faultString(t, admin, koji.FaultClass(1), "repo.setExternalRepoData", []any{"epel", map[string]any{"b": []byte("x")}}, nil))
		assert.Equal(t, map[string]any{}, get("epel"), "a refused call changes nothing")

		// Unknown repos: get_external_repo_id's fault, before the data is
		// looked at.
		for _, c := range []struct {
			erepo any
			shown string
		}{{"nope", "nope"}, {int64(99), "99"}, {map[string]any{"name": "nope"}, "{'name': 'nope'}"}} {
			want := "No such entry in table external_repo: " + c.shown
			assert.Equal(t, want, faultString(t, admin, koji.ErrGeneric, "repo.getExternalRepoData", []any{c.erepo}, nil))
			assert.Equal(t, want, faultString(t, admin, koji.ErrGeneric, "repo.setExternalRepoData", []any{c.erepo, "not a dict"}, nil))
		}
		assert.Equal(t, "Invalid name or id value: 1.5",
			faultString(t, admin, koji.ErrParameter, "repo.getExternalRepoData", []any{1.5}, nil))
		assert.Equal(t, "Invalid name or id value: None",
			faultString(t, admin, koji.ErrParameter, "repo.getExternalRepoData", []any{nil}, nil))

		// deleteExternalRepo leaves the data, as upstream's does, and the
		// repo's name still finds it.
		call(t, admin, "deleteExternalRepo", []any{"updates"}, nil)
		assert.Equal(t, map[string]any{"max_ts": int64(1733700000)}, get("updates"))
		assert.Len(t, externalRepoDataRows(t, dsn), 2+5)
	})
}

// Reading needs no login; setting needs the repo permission (or admin),
// checked before the repo is looked up.
func TestKojiExternalRepoDataPermission(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		call(t, admin, "createExternalRepo", []any{"updates", "https://example.com/updates/"}, nil)
		call(t, admin, "repo.setExternalRepoData", []any{"updates", map[string]any{"max_ts": int64(1)}}, nil)
		anon := kh.client(t)
		assert.Equal(t, map[string]any{"max_ts": int64(1)}, call(t, anon, "repo.getExternalRepoData", []any{"updates"}, nil))
		assert.Equal(t, "repo permission required (user not logged in)",
			faultString(t, anon, koji.ErrActionNotAllowed, "repo.setExternalRepoData", []any{"updates", map[string]any{}}, nil))
		call(t, admin, "createUser", []any{"bob"}, nil)
		require.NoError(t, kh.koji.SetPassword(ctx, "bob", "secret"))
		bob := kh.client(t)
		require.NoError(t, bob.Login(ctx, &auth.Password{User: "bob", Password: "secret"}))
		for _, erepo := range []any{"updates", "nope"} {
			assert.Equal(t, "repo permission required (logged in as bob)",
				faultString(t, bob, koji.ErrActionNotAllowed, "repo.setExternalRepoData", []any{erepo, map[string]any{}}, nil))
		}
		call(t, admin, "grantPermission", []any{"bob", "repo"}, nil)
		call(t, bob, "repo.setExternalRepoData", []any{"updates", map[string]any{"max_ts": int64(2)}}, nil)
		assert.Equal(t, map[string]any{"max_ts": int64(2)}, call(t, anon, "repo.getExternalRepoData", []any{"updates"}, nil))
		rows := externalRepoDataRows(t, dsn)
		require.Len(t, rows, 2)
		bobID := call(t, admin, "getUser", []any{"bob"}, nil).(map[string]any)["id"].(int64)
		assert.Equal(t, bobID, rows[1].CreatorID)
		require.NotNil(t, rows[0].RevokerID)
		assert.Equal(t, bobID, *rows[0].RevokerID)
	})
}
