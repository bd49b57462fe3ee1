package hubserver_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/auth"
	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/koji"
)

// withBob adds a password user bob, made by kojiadmin over SSL.
func withBob(t *testing.T, kh *kojiHub) *raw {
	ctx := context.Background()
	admin := kh.sslClient(t, "")
	require.NoError(t, admin.Call(ctx, "createUser", nil, "bob"))
	require.NoError(t, kh.koji.SetPassword(ctx, "bob", "secret"))
	return kh.passwordLogin(t, "bob", "secret")
}

func TestKojiCallnum(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		kh := startKoji(t, dsn, nil)
		bob := withBob(t, kh)
		assert.Equal(t, "bob", bob.ok(t, 0, "getLoggedInUser").(map[string]any)["name"])
		// A pure read does not keep its callnum, as upstream: repeating it
		// is fine, and so is a lower callnum after it.
		assert.Equal(t, "bob", bob.ok(t, 0, "getLoggedInUser").(map[string]any)["name"])
		bob.ok(t, 5, "getLoggedInUser")
		bob.ok(t, 3, "getLoggedInUser")
		assert.Nil(t, bob.ok(t, 4, "getSessionInfo").(map[string]any)["callnum"], "no write yet")
		// A call that writes keeps it: sharedSession updates the session.
		bob.ok(t, 5, "sharedSession")
		assert.Equal(t, "unable to retry call 5 (method getLoggedInUser) for session "+fmt.Sprint(bob.id),
			bob.fault(t, 5, koji.ErrRetry, "getLoggedInUser"))
		assert.Equal(t, fmt.Sprintf("5 > 3 (session %d)", bob.id), bob.fault(t, 3, koji.ErrSequence, "getLoggedInUser"))
		// A whitelisted method may repeat its callnum: repoProblem gets as
		// far as its permission check instead of a RetryError.
		assert.Equal(t, "repo permission required (logged in as bob)",
			bob.fault(t, 5, koji.ErrActionNotAllowed, "repoProblem", 1))
		// A faulting call rolls back its callnum with everything else:
		// grantPermission fails, so callnum 6 is still fresh.
		assert.Equal(t, "admin permission required (logged in as bob)",
			bob.fault(t, 6, koji.ErrActionNotAllowed, "grantPermission", "bob", "admin"))
		info := bob.ok(t, 6, "getSessionInfo").(map[string]any)
		assert.Equal(t, int64(5), info["callnum"])
		// A multicall keeps its callnum whatever its calls, as upstream's
		// SAVEPOINT statements make it commit.
		bob.ok(t, 7, "multiCall", []any{map[string]any{"methodName": "getLoggedInUser", "params": []any{}}})
		assert.Equal(t, "unable to retry call 7 (method multiCall) for session "+fmt.Sprint(bob.id),
			bob.fault(t, 7, koji.ErrRetry, "multiCall", []any{}))
		bad := recordedFault(t, "bad_session")
		assert.Equal(t, bad.String, (&raw{kh: kh, id: bob.id, key: "2-bogus"}).fault(t, 8, koji.FaultClass(bad.Code), "getLoggedInUser"))
	})
}

func TestKojiExpiryAndRenewal(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, func(c *hubserver.KojiConfig) { c.SessionRenewalTimeout = 500 * time.Millisecond })
		c := kh.sslClient(t, "")
		before, _ := c.Session()
		time.Sleep(700 * time.Millisecond)
		r := &raw{kh: kh, id: before.ID, key: before.Key}
		assert.Equal(t, fmt.Sprintf("session %q has expired", fmt.Sprint(before.ID)),
			r.fault(t, 100, koji.ErrAuthExpired, "getLoggedInUser"))
		// The client renews on AuthExpired: same session, new key.
		var me map[string]any
		require.NoError(t, c.Call(ctx, "getLoggedInUser", &me))
		assert.Equal(t, "kojiadmin", me["name"])
		after, _ := c.Session()
		assert.Equal(t, before.ID, after.ID)
		assert.NotEqual(t, before.Key, after.Key)
	})
}

func TestKojiExclusiveAndSubsessions(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		kh := startKoji(t, dsn, nil)
		a := withBob(t, kh)
		b := kh.passwordLogin(t, "bob", "secret")
		a.ok(t, 1, "exclusiveSession")
		assert.Equal(t, "session is already exclusive", a.fault(t, 2, koji.ErrGeneric, "exclusiveSession"))
		assert.Equal(t, "User locked by another session", b.fault(t, 1, koji.ErrAuthLock, "getLoggedInUser"))
		assert.Equal(t, "Cannot get exclusive session", b.fault(t, 2, koji.ErrAuthLock, "exclusiveSession"))

		// A subsession of the exclusive session shares its lock.
		v := a.ok(t, 3, "subsession").(map[string]any)
		child := &raw{kh: kh, id: v["session-id"].(int64), key: v["session-key"].(string)}
		assert.Equal(t, "bob", child.ok(t, 0, "getLoggedInUser").(map[string]any)["name"])
		assert.Equal(t, "subsessions cannot become exclusive", child.fault(t, 1, koji.ErrGeneric, "exclusiveSession"))

		// force takes the lock, closing a and with it its child.
		b.ok(t, 3, "exclusiveSession", map[string]any{"force": true, "__starstar": true})
		a.fault(t, 4, koji.ErrAuth, "getLoggedInUser")
		child.fault(t, 2, koji.ErrAuth, "getLoggedInUser")
		b.ok(t, 4, "sharedSession")

		// logout expires the session and its subsessions; logoutChild
		// closes one child.
		v = b.ok(t, 5, "subsession").(map[string]any)
		c1 := &raw{kh: kh, id: v["session-id"].(int64), key: v["session-key"].(string)}
		v = b.ok(t, 6, "subsession").(map[string]any)
		c2 := &raw{kh: kh, id: v["session-id"].(int64), key: v["session-key"].(string)}
		b.ok(t, 7, "logoutChild", c1.id)
		c1.fault(t, 0, koji.ErrAuth, "getLoggedInUser")
		c2.ok(t, 0, "getLoggedInUser")
		b.ok(t, 8, "logout")
		b.fault(t, 9, koji.ErrAuth, "getLoggedInUser")
		c2.fault(t, 1, koji.ErrAuth, "getLoggedInUser")
	})
}

func TestKojiProxyUser(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		err := kh.client(t).Login(ctx, &auth.SSL{Certificate: &kh.pki.Client, ProxyUser: "testuser"})
		var kf *koji.Fault
		require.ErrorAs(t, err, &kf)
		assert.Equal(t, int(koji.ErrAuth), kf.Code)
		assert.Equal(t, kh.dn+" is not authorized to login other users", kf.String)

		kh = startKoji(t, dsn, func(c *hubserver.KojiConfig) { c.ProxyDNs = []string{kh.dn} })
		c := kh.sslClient(t, "testuser")
		var me any
		require.NoError(t, c.Call(ctx, "getLoggedInUser", &me))
		sameMembers(t, recorded(t, "getLoggedInUser_proxied"), me)
	})
}

func TestKojiPermissions(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		bob := withBob(t, kh)
		admin := kh.sslClient(t, "")
		assert.Equal(t, false, bob.ok(t, 0, "hasPerm", "tag"))
		require.NoError(t, admin.Call(ctx, "grantPermission", nil, "bob", "tag"))
		assert.Equal(t, true, bob.ok(t, 1, "hasPerm", "tag"))
		assert.Equal(t, []any{"tag"}, bob.ok(t, 2, "getPerms"))
		err := admin.Call(ctx, "grantPermission", nil, "bob", "tag")
		assert.ErrorContains(t, err, "user bob already has permission: tag")
		err = admin.Call(ctx, "grantPermission", nil, "bob", "no-such")
		assert.ErrorContains(t, err, "No such entry in table permissions: no-such")
		require.NoError(t, admin.CallKw(ctx, "grantPermission", nil, []any{"bob", "brand-new"}, map[string]any{"create": true}))
		require.NoError(t, admin.Call(ctx, "revokePermission", nil, "bob", "tag"))
		assert.Equal(t, []any{"brand-new"}, bob.ok(t, 3, "getPerms"))
		var n int
		require.NoError(t, admin.CallKw(ctx, "listUsers", &n, nil, map[string]any{"perm": "brand-new", "queryOpts": map[string]any{"countOnly": true}}))
		assert.Equal(t, 1, n)
		require.NoError(t, admin.Call(ctx, "disableUser", nil, "bob"))
		assert.Equal(t, "logins by bob are not allowed", bob.fault(t, 4, koji.ErrAuth, "getLoggedInUser"))
	})
}

func TestKojiPythonClient(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		kh := startKoji(t, dsn, nil)
		withBob(t, kh)
		ca := filepath.Join(t.TempDir(), "ca.pem")
		require.NoError(t, os.WriteFile(ca, kh.pki.CAPEM, 0o600))
		var login []map[string]any
		runPython(t, []any{[]any{"login", []any{"bob", "secret"}, map[string]any{"opts": nil}}}, &login, "call", kh.hub.URL(), ca)
		require.Contains(t, login[0], "result", "%v", login)
		s := login[0]["result"].(map[string]any)
		// Old clients carry the session in the query string.
		url := fmt.Sprintf("%s?session-id=%v&session-key=%v&callnum=0", kh.hub.URL(), s["session-id"], s["session-key"])
		var out []map[string]any
		runPython(t, []any{
			[]any{"getLoggedInUser", []any{}, nil},
			[]any{"getLoggedInUser", []any{}, nil},
			[]any{"sharedSession", []any{}, nil},
			[]any{"grantPermission", []any{"bob", "admin"}, nil},
		}, &out, "call", url, ca)
		assert.Equal(t, "bob", out[0]["result"].(map[string]any)["name"])
		assert.Equal(t, "bob", out[1]["result"].(map[string]any)["name"], "a read may be repeated with its callnum")
		assert.Contains(t, out[2], "result")
		assert.Equal(t, []any{float64(koji.ErrRetry), "unable to retry call 0 (method grantPermission) for session " + fmt.Sprint(s["session-id"])}, out[3]["fault"])
	})
}

func TestKojiProxyAuthType(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		for _, tc := range []struct {
			allow    bool
			authtype int
			want     string
		}{
			{false, 3, "Proxy must use same auth mechanism as hub (behaviour can be overriden via AllowProxyAuthType hub option)"},
			{true, 0, "Proxied authtype 0 is not valid for sslLogin"},
			{true, 3, ""},
		} {
			var kh *kojiHub
			kh = startKoji(t, dsn, func(c *hubserver.KojiConfig) { c.AllowProxyAuthType = tc.allow })
			kh = startKoji(t, dsn, func(c *hubserver.KojiConfig) { c.AllowProxyAuthType = tc.allow; c.ProxyDNs = []string{kh.dn} })
			c, err := koji.NewClient(kh.hub.URL()+"/ssllogin", koji.WithHTTPClient(&http.Client{
				Transport: &http.Transport{TLSClientConfig: kh.pki.ClientTLS(true)},
			}))
			require.NoError(t, err)
			var s koji.SessionInfo
			err = c.CallKw(ctx, "sslLogin", &s, nil, map[string]any{"proxyuser": "testuser", "proxyauthtype": tc.authtype})
			if tc.want != "" {
				var kf *koji.Fault
				require.ErrorAs(t, err, &kf)
				assert.Equal(t, [2]any{int(koji.ErrAuth), tc.want}, [2]any{kf.Code, kf.String})
				continue
			}
			require.NoError(t, err)
			r := &raw{kh: kh, id: s.ID, key: s.Key}
			me := r.ok(t, 0, "getLoggedInUser").(map[string]any)
			assert.Equal(t, "testuser", me["name"])
			assert.Equal(t, int64(3), me["authtype"], "the proxied user's authtype")
		}
	})
}
