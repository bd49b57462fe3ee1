package hubserver_test

import (
	"context"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/koji"
)

// The methods this file tests have upstream's signatures, from Koji
// 1.35.3's method list.
func TestUserHostAdminSignatures(t *testing.T) {
	upstream := map[string]string{
		"addUserKrbPrincipal":    "(user, krb_principal)",
		"removeUserKrbPrincipal": "(user, krb_principal)",
		"getLastHostUpdate":      "(hostID, ts=False)",
		"restartHosts":           "(priority=5, options=None)",
	}
	byName := listAPI(t, startKoji(t, filepath.Join(t.TempDir(), "hub.db"), nil))
	for name, want := range upstream {
		require.Contains(t, byName, name)
		assert.Equal(t, want, byName[name]["argdesc"], name)
	}
}

func TestKojiUserKrbPrincipals(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, func(c *hubserver.KojiConfig) { c.AllowedKrbRealms = []string{"EXAMPLE.COM"} })
		bob := withBob(t, kh)
		admin := kh.sslClient(t, "")
		principals := func(user string) []any {
			var u map[string]any
			require.NoError(t, admin.Call(ctx, "getUser", &u, user))
			return u["krb_principals"].([]any)
		}

		var id int64
		require.NoError(t, admin.Call(ctx, "addUserKrbPrincipal", &id, "bob", "bob@EXAMPLE.COM"))
		assert.Equal(t, bob.id, id, "bob's user id, as his session id: both are 2")
		require.NoError(t, admin.Call(ctx, "addUserKrbPrincipal", &id, 2, "bob/admin@EXAMPLE.COM"))
		assert.Equal(t, []any{"bob/admin@EXAMPLE.COM", "bob@EXAMPLE.COM"}, principals("bob"))
		var who map[string]any
		require.NoError(t, admin.Call(ctx, "getUser", &who, "bob/admin@EXAMPLE.COM"))
		assert.Equal(t, "bob", who["name"])

		for _, tc := range []struct {
			code       koji.FaultClass
			user, krb  any
			want       string
			addRemoves bool // the same fault from removeUserKrbPrincipal
		}{
			{koji.ErrGeneric, "kojiadmin", "bob@EXAMPLE.COM", "user with this Kerberos principal already exists: bob@EXAMPLE.COM", false},
			{koji.ErrGeneric, "bob", "bob@EXAMPLE.COM", "user with this Kerberos principal already exists: bob@EXAMPLE.COM", false},
			{koji.ErrGeneric, "nobody", "nobody@EXAMPLE.COM", "No such user: 'nobody'", true},
			{koji.ErrGeneric, 99, "nobody@EXAMPLE.COM", "No such user: 99", true},
			{koji.ErrGeneric, "bob", "bob+x@EXAMPLE.COM", "Kerberos principal bob+x@EXAMPLE.COM does not match RegexUserName value", false},
			{koji.ErrAuth, "bob", "bob@OTHER.ORG", "Kerberos principal's realm: OTHER.ORG is not allowed", false},
			{koji.ErrAuth, "bob", "bob", "invalid Kerberos principal: bob", false},
		} {
			assert.Equal(t, tc.want, faultString(t, admin, tc.code, "addUserKrbPrincipal", []any{tc.user, tc.krb}, nil), "%v", tc)
			if tc.addRemoves {
				assert.Equal(t, tc.want, faultString(t, admin, tc.code, "removeUserKrbPrincipal", []any{tc.user, tc.krb}, nil), "%v", tc)
			}
		}
		assert.Equal(t, "RootExports.addUserKrbPrincipal() missing 1 required positional argument: 'krb_principal'",
			faultString(t, admin, koji.ErrParameter, "addUserKrbPrincipal", []any{"bob"}, nil))
		assert.Equal(t, "admin permission required (logged in as bob)",
			bob.fault(t, 0, koji.ErrActionNotAllowed, "addUserKrbPrincipal", "bob", "b@EXAMPLE.COM"))
		assert.Equal(t, "admin permission required (user not logged in)",
			faultString(t, kh.client(t), koji.ErrActionNotAllowed, "removeUserKrbPrincipal", []any{"bob", "bob@EXAMPLE.COM"}, nil))
		assert.Equal(t, "admin permission required (logged in as bob)",
			bob.fault(t, 1, koji.ErrActionNotAllowed, "removeUserKrbPrincipal", "bob", "bob@EXAMPLE.COM"))

		require.NoError(t, admin.Call(ctx, "removeUserKrbPrincipal", &id, "bob", "bob@EXAMPLE.COM"))
		assert.Equal(t, bob.id, id)
		assert.Equal(t, []any{"bob/admin@EXAMPLE.COM"}, principals("bob"))
		for _, krb := range []any{"bob@EXAMPLE.COM", "bob/admin@EXAMPLE.COM", 5} {
			user := "kojiadmin"
			if krb == "bob@EXAMPLE.COM" || krb == 5 {
				user = "bob"
			}
			assert.Equal(t, "cannot remove Kerberos Principal: "+pyStr(krb)+" with user "+user,
				faultString(t, admin, koji.ErrAuth, "removeUserKrbPrincipal", []any{user, krb}, nil))
		}
		for _, krb := range []any{"", nil} {
			assert.Equal(t, "krb_principal must be specified",
				faultString(t, admin, koji.ErrGeneric, "removeUserKrbPrincipal", []any{"bob", krb}, nil))
		}
		assert.Equal(t, []any{"bob/admin@EXAMPLE.COM"}, principals("bob"), "the faults changed nothing")
		assert.Empty(t, principals("kojiadmin"))
	})
}

// pyStr is Python's str() of a string or an int.
func pyStr(v any) string {
	if n, ok := v.(int); ok {
		return strconv.Itoa(n)
	}
	return v.(string)
}

func TestKojiLastHostUpdate(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		require.NoError(t, admin.Call(ctx, "addHost", nil, "builder1", []any{"x86_64"}))
		var v any = "unset"
		require.NoError(t, kh.client(t).Call(ctx, "getLastHostUpdate", &v, 1))
		assert.Nil(t, v, "never logged in")
		require.NoError(t, admin.Call(ctx, "getLastHostUpdate", &v, 99))
		assert.Nil(t, v, "no such host")

		before := time.Now()
		host := hostClient(t, kh, "builder1")
		require.NoError(t, host.Call(ctx, "getLoggedInUser", nil))
		var when string
		var ts float64
		require.NoError(t, admin.Call(ctx, "getLastHostUpdate", &when, 1))
		require.NoError(t, admin.CallKw(ctx, "getLastHostUpdate", &ts, []any{"1"}, map[string]any{"ts": true}))
		// As the session's update_time and update_ts, which
		// getSessionInfo shows.
		var info map[string]any
		require.NoError(t, host.Call(ctx, "getSessionInfo", &info))
		assert.Regexp(t, regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?\+00:00$`), when)
		assert.InDelta(t, float64(before.UnixMicro())/1e6, ts, 5)
		at, err := time.Parse("2006-01-02 15:04:05.999999-07:00", when)
		require.NoError(t, err)
		assert.InDelta(t, ts, float64(at.UnixMicro())/1e6, 1e-6)
		assert.GreaterOrEqual(t, info["update_ts"].(float64), ts, "getSessionInfo touched the session again")

		assert.Equal(t, "Invalid type for value 'builder1': <class 'str'>, expected type <class 'int'>",
			faultString(t, admin, koji.ErrParameter, "getLastHostUpdate", []any{"builder1"}, nil))
	})
}

func TestKojiRestartHosts(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		bob := withBob(t, kh)
		admin := kh.sslClient(t, "")
		task := func(id int64) map[string]any {
			var info map[string]any
			require.NoError(t, admin.CallKw(ctx, "getTaskInfo", &info, []any{id}, map[string]any{"request": true}))
			return info
		}

		var id int64
		require.NoError(t, admin.Call(ctx, "restartHosts", &id))
		info := task(id)
		assert.Equal(t, []any{"restartHosts", []any{}, int64(5), int64(1), "noarch", int64(1), int64(0), nil},
			[]any{info["method"], info["request"], info["priority"], info["owner"], info["arch"], info["channel_id"], info["state"], info["parent"]})
		require.NoError(t, admin.CallKw(ctx, "restartHosts", &id, nil, map[string]any{"priority": 10, "options": map[string]any{"timeout": 3}}))
		info = task(id)
		assert.Equal(t, []any{[]any{map[string]any{"timeout": int64(3)}}, int64(10)}, []any{info["request"], info["priority"]})

		assert.Equal(t, "Invalid type of options: <class 'str'>",
			faultString(t, admin, koji.ErrParameter, "restartHosts", nil, map[string]any{"options": "all"}))
		assert.Equal(t, "Invalid type of options: <class 'list'>",
			faultString(t, admin, koji.ErrParameter, "restartHosts", []any{5, []any{}}, nil))
		assert.Equal(t, "Invalid type for value 'high': <class 'str'>, expected type <class 'int'>",
			faultString(t, admin, koji.ErrParameter, "restartHosts", []any{"high"}, nil))
		assert.Equal(t, "host permission required (user not logged in)",
			faultString(t, kh.client(t), koji.ErrActionNotAllowed, "restartHosts", nil, nil))
		assert.Equal(t, "host permission required (logged in as bob)",
			bob.fault(t, 0, koji.ErrActionNotAllowed, "restartHosts"))

		// The host permission is enough; the task is the caller's.
		require.NoError(t, admin.Call(ctx, "grantPermission", nil, "bob", "host"))
		v := bob.ok(t, 1, "restartHosts")
		assert.Equal(t, bob.id, task(v.(int64))["owner"])
		var n int
		require.NoError(t, admin.CallKw(ctx, "listTasks", &n, nil, map[string]any{
			"opts": map[string]any{"method": "restartHosts"}, "queryOpts": map[string]any{"countOnly": true}}))
		assert.Equal(t, 3, n, "the faulting calls made no task")
	})
}
