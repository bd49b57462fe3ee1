package hubserver_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/koji"
)

// callFault calls method and returns its fault, which must have code.
func callFault(t *testing.T, c *koji.Client, code koji.FaultClass, method string, args []any, kw map[string]any) string {
	t.Helper()
	err := c.CallKw(context.Background(), method, nil, args, kw)
	var kf *koji.Fault
	require.ErrorAs(t, err, &kf, "%s should fault", method)
	assert.Equal(t, int(code), kf.Code, kf.String)
	return kf.String
}

func TestKojiGroups(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		bob := withBob(t, kh)
		admin := kh.sslClient(t, "")

		var gid int64
		require.NoError(t, admin.Call(ctx, "newGroup", &gid, "packagers"))
		assert.Equal(t, "user/group already exists: packagers", callFault(t, admin, koji.ErrGeneric, "newGroup", []any{"packagers"}, nil))
		assert.Equal(t, "user/group already exists: bob", callFault(t, admin, koji.ErrGeneric, "newGroup", []any{"bob"}, nil))
		assert.Equal(t, "Name bad name does not match RegexNameInternal value",
			callFault(t, admin, koji.ErrGeneric, "newGroup", []any{"bad name"}, nil))
		var g map[string]any
		require.NoError(t, admin.Call(ctx, "getUser", &g, gid))
		assert.Equal(t, int64(2), g["usertype"], "a group is a user of type GROUP")

		require.NoError(t, admin.Call(ctx, "addGroupMember", nil, "packagers", "bob"))
		assert.Equal(t, "User already in group", callFault(t, admin, koji.ErrGeneric, "addGroupMember", []any{"packagers", "bob"}, nil))
		require.NoError(t, admin.CallKw(ctx, "addGroupMember", nil, []any{"packagers", "bob"}, map[string]any{"strict": false}))
		assert.Equal(t, "Not a group: bob", callFault(t, admin, koji.ErrGeneric, "addGroupMember", []any{"bob", "kojiadmin"}, nil))
		assert.Equal(t, "Not a user: nobody", callFault(t, admin, koji.ErrGeneric, "addGroupMember", []any{"packagers", "nobody"}, nil))
		assert.Equal(t, "Groups cannot be members of other groups",
			callFault(t, admin, koji.ErrGeneric, "addGroupMember", []any{gid, "packagers"}, nil))

		var members []map[string]any
		require.NoError(t, admin.Call(ctx, "getGroupMembers", &members, "packagers"))
		require.Len(t, members, 1)
		assert.Equal(t, map[string]any{"id": int64(bob.userID(t)), "name": "bob", "usertype": int64(0), "krb_principals": []any{}}, members[0])
		assert.Equal(t, "No such group: bob", callFault(t, admin, koji.ErrGeneric, "getGroupMembers", []any{"bob"}, nil))
		assert.Equal(t, "admin permission required (logged in as bob)", bob.fault(t, 0, koji.ErrActionNotAllowed, "getGroupMembers", "packagers"))

		var groups []map[string]any
		require.NoError(t, admin.Call(ctx, "getUserGroups", &groups, "bob"))
		assert.Equal(t, []map[string]any{{"id": gid, "name": "packagers"}}, groups)
		var withGroups map[string]any
		require.NoError(t, admin.CallKw(ctx, "getUser", &withGroups, []any{"bob"}, map[string]any{"groups": true}))
		assert.Equal(t, []any{"packagers"}, withGroups["groups"])

		// A group's permissions are its members'.
		require.NoError(t, admin.Call(ctx, "grantPermission", nil, "packagers", "tag"))
		require.NoError(t, admin.Call(ctx, "grantPermission", nil, "bob", "repo"))
		assert.Equal(t, true, bob.ok(t, 1, "hasPerm", "tag"))
		var perms []string
		require.NoError(t, admin.Call(ctx, "getUserPerms", &perms, "bob"))
		assert.Equal(t, []string{"repo", "tag"}, perms)
		require.NoError(t, admin.CallKw(ctx, "getUserPerms", &perms, []any{"bob"}, map[string]any{"with_groups": false}))
		assert.Equal(t, []string{"repo"}, perms)
		require.NoError(t, admin.Call(ctx, "getUserPerms", &perms))
		assert.Equal(t, []string{"admin"}, perms, "the caller's by default")
		assert.Equal(t, "No such user: 'nobody'", callFault(t, admin, koji.ErrGeneric, "getUserPerms", []any{"nobody"}, nil))
		require.NoError(t, admin.Call(ctx, "grantPermission", nil, "packagers", "repo"))
		var inh map[string][]any
		require.NoError(t, admin.Call(ctx, "getUserPermsInheritance", &inh, "bob"))
		assert.Equal(t, map[string][]any{"repo": {nil, "packagers"}, "tag": {"packagers"}}, inh)
		assert.Equal(t, "user bob already has permission: tag",
			callFault(t, admin, koji.ErrGeneric, "grantPermission", []any{"bob", "tag"}, nil), "held through the group")

		require.NoError(t, admin.Call(ctx, "dropGroupMember", nil, "packagers", "bob"))
		assert.Equal(t, false, bob.ok(t, 2, "hasPerm", "tag"))
		assert.Equal(t, "No such user in group: packagers", callFault(t, admin, koji.ErrGeneric, "dropGroupMember", []any{"packagers", "bob"}, nil))
		assert.Equal(t, "No such user: 'nobody'", callFault(t, admin, koji.ErrGeneric, "dropGroupMember", []any{"packagers", "nobody"}, nil))
		require.NoError(t, admin.Call(ctx, "getGroupMembers", &members, gid))
		assert.Empty(t, members)
		require.NoError(t, admin.Call(ctx, "getUserGroups", &groups, "bob"))
		assert.Empty(t, groups)
	})
}

// userID reads the raw session's user id.
func (r *raw) userID(t *testing.T) int {
	var id int
	_, err := fmt.Sscanf(r.key, "%d-", &id)
	require.NoError(t, err)
	return id
}

func TestKojiEditUserAndPermission(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, func(c *hubserver.KojiConfig) { c.AllowedKrbRealms = []string{"EXAMPLE.COM"} })
		bob := withBob(t, kh)
		admin := kh.sslClient(t, "")
		assert.Equal(t, "admin permission required (logged in as bob)", bob.fault(t, 0, koji.ErrActionNotAllowed, "editUser", "bob", "robert"))

		mapping := func(old, new any) map[string]any { return map[string]any{"old": old, "new": new} }
		require.NoError(t, admin.CallKw(ctx, "editUser", nil, []any{"bob"}, map[string]any{
			"name": "robert", "krb_principal_mappings": []any{mapping(nil, "robert@EXAMPLE.COM"), mapping(nil, "bob@EXAMPLE.COM")},
		}))
		var u map[string]any
		require.NoError(t, admin.Call(ctx, "getUser", &u, "robert@EXAMPLE.COM"))
		assert.Equal(t, "robert", u["name"])
		assert.Equal(t, []any{"bob@EXAMPLE.COM", "robert@EXAMPLE.COM"}, u["krb_principals"])
		require.NoError(t, admin.Call(ctx, "editUser", nil, "robert", nil, []any{mapping("bob@EXAMPLE.COM", "rob@EXAMPLE.COM")}))
		require.NoError(t, admin.Call(ctx, "getUser", &u, "robert"))
		assert.Equal(t, []any{"rob@EXAMPLE.COM", "robert@EXAMPLE.COM"}, u["krb_principals"])
		// The session survives the rename.
		me := bob.ok(t, 1, "getLoggedInUser").(map[string]any)
		assert.Equal(t, "robert", me["name"])
		assert.Equal(t, "rob@EXAMPLE.COM", me["krb_principal"], "the first principal")

		for _, tc := range []struct {
			args []any
			want string
		}{
			{[]any{"nobody", "x"}, "No such user: 'nobody'"},
			{[]any{"robert", "kojiadmin"}, "Name kojiadmin already taken by user 1"},
			{[]any{"robert", "bad name"}, "Name bad name does not match RegexUserName value"},
			{[]any{"robert", nil, []any{mapping("x@EXAMPLE.COM", "y@EXAMPLE.COM"), mapping("y@EXAMPLE.COM", nil)}},
				"There are some conflicts between added and removed Kerberos principals: y@EXAMPLE.COM"},
			{[]any{"robert", nil, []any{mapping(nil, "rob@EXAMPLE.COM")}}, "Cannot add existing Kerberos principals: rob@EXAMPLE.COM"},
			{[]any{"robert", nil, []any{mapping("gone@EXAMPLE.COM", nil)}}, "Cannot remove non-existent Kerberos principals: gone@EXAMPLE.COM"},
		} {
			assert.Equal(t, tc.want, callFault(t, admin, koji.ErrGeneric, "editUser", tc.args, nil))
		}
		assert.Equal(t, "Kerberos principal's realm: ELSEWHERE.NET is not allowed",
			callFault(t, admin, koji.ErrAuth, "editUser", []any{"robert", nil, []any{mapping(nil, "r@ELSEWHERE.NET")}}, nil))
		require.NoError(t, admin.Call(ctx, "getUser", &u, "robert"))
		assert.Equal(t, []any{"rob@EXAMPLE.COM", "robert@EXAMPLE.COM"}, u["krb_principals"], "a failed edit changes nothing")

		// editPermission sets a description.
		require.NoError(t, admin.Call(ctx, "editPermission", nil, "tag", "Tagging."))
		var all []map[string]any
		require.NoError(t, admin.Call(ctx, "getAllPerms", &all))
		for _, p := range all {
			if p["name"] == "tag" {
				assert.Equal(t, "Tagging.", p["description"])
			}
		}
		assert.Equal(t, "No such entry in table permissions: nope",
			callFault(t, admin, koji.ErrGeneric, "editPermission", []any{"nope", "x"}, nil))
		assert.Equal(t, "Invalid type, expected type <class 'str'>",
			callFault(t, admin, koji.ErrParameter, "editPermission", []any{"tag", nil}, nil))
		assert.Equal(t, "Description should be specified only with create.",
			callFault(t, admin, koji.ErrGeneric, "grantPermission", []any{"robert", "tag"}, map[string]any{"description": "d"}))
		require.NoError(t, admin.CallKw(ctx, "grantPermission", nil, []any{"robert", "brand-new"}, map[string]any{"create": true, "description": "New."}))
		require.NoError(t, admin.Call(ctx, "getAllPerms", &all))
		assert.Equal(t, map[string]any{"id": all[len(all)-1]["id"], "name": "brand-new", "description": "New."}, all[len(all)-1])
	})
}

func TestKojiListUsers(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		for _, name := range []string{"Zed", "alice", "bob"} {
			require.NoError(t, admin.Call(ctx, "createUser", nil, name))
		}
		require.NoError(t, admin.Call(ctx, "newGroup", nil, "admins"))
		require.NoError(t, admin.Call(ctx, "addHost", nil, "builder1", []any{"x86_64"}))
		names := func(rows []map[string]any) []any {
			var out []any
			for _, r := range rows {
				out = append(out, r["name"])
			}
			return out
		}
		var rows []map[string]any
		require.NoError(t, admin.Call(ctx, "listUsers", &rows))
		assert.Equal(t, []any{"kojiadmin", "Zed", "alice", "bob"}, names(rows), "normal users by default")
		require.NoError(t, admin.Call(ctx, "listUsers", &rows, nil))
		assert.Equal(t, []any{"kojiadmin", "Zed", "alice", "bob", "admins", "builder1"}, names(rows), "None: every type")
		require.NoError(t, admin.Call(ctx, "listUsers", &rows, []any{1, 2}))
		assert.Equal(t, []any{"admins", "builder1"}, names(rows))
		require.NoError(t, admin.CallKw(ctx, "listUsers", &rows, nil, map[string]any{"userType": nil, "prefix": "A"}))
		assert.Equal(t, []any{"alice", "admins"}, names(rows), "prefix ignores case, as ILIKE")
		require.NoError(t, admin.CallKw(ctx, "listUsers", &rows, nil, map[string]any{
			"queryOpts": map[string]any{"order": "-name", "offset": 1, "limit": 2}}))
		assert.Equal(t, []any{"bob", "alice"}, names(rows))
		var n int
		require.NoError(t, admin.CallKw(ctx, "listUsers", &n, nil, map[string]any{"queryOpts": map[string]any{"countOnly": true, "limit": 3}}))
		assert.Equal(t, 3, n)
		var lists [][]any
		require.NoError(t, admin.CallKw(ctx, "listUsers", &lists, nil, map[string]any{"prefix": "bob", "queryOpts": map[string]any{"asList": true}}))
		require.Len(t, lists, 1)
		assert.Equal(t, []any{[]any{}, "bob", int64(0), int64(0)}, lists[0][1:], "id, krb_principals, name, status, usertype")
		assert.Equal(t, "queryOpts.group is not available for this API",
			callFault(t, admin, koji.ErrGeneric, "listUsers", nil, map[string]any{"queryOpts": map[string]any{"group": "name"}}))
		assert.Equal(t, "<class 'Exception'>: Invalid order: nope",
			callFault(t, admin, 1, "listUsers", nil, map[string]any{"queryOpts": map[string]any{"order": "nope"}}))

		// Python's xmlrpc.client, anonymous: the fixture's members.
		ca := filepath.Join(t.TempDir(), "ca.pem")
		require.NoError(t, os.WriteFile(ca, kh.pki.CAPEM, 0o600))
		var out []map[string]any
		runPython(t, []any{
			[]any{"listUsers", []any{}, map[string]any{"prefix": "kojiadmin"}},
			[]any{"listUsers", []any{[]any{0, "x"}}, nil},
		}, &out, "call", kh.hub.URL(), ca)
		got := out[0]["result"].([]any)
		require.Len(t, got, 1)
		want := recorded(t, "listUsers").([]any)[0].(map[string]any)
		for k, v := range want {
			if k != "id" {
				assert.EqualValues(t, v, got[0].(map[string]any)[k], k)
			}
		}
		assert.Equal(t, []any{float64(koji.ErrGeneric), "Invalid type for userType: <class 'list'>"}, out[1]["fault"])
	})
}
