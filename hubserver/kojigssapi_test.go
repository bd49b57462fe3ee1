package hubserver_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/auth"
	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/internal/krbtest"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// krbRealm is a KDC with the hub's service principal HTTP/127.0.0.1 and
// users kojiuser, alice, kojiweb and stranger.
type krbRealm struct {
	kdc           *krbtest.KDC
	serviceKeytab string
	keytabs       map[string]string // user → keytab
}

func startRealm(t *testing.T) *krbRealm {
	kdc := krbtest.Start(t)
	r := &krbRealm{kdc: kdc, keytabs: map[string]string{}}
	kdc.AddService(t, "HTTP/127.0.0.1")
	r.serviceKeytab = kdc.ExportKeytab(t, "HTTP/127.0.0.1", "http.keytab")
	for _, u := range []string{"kojiuser", "alice", "kojiweb", "stranger"} {
		kdc.AddPrincipal(t, u)
		r.keytabs[u] = kdc.ExportKeytab(t, u, u+".keytab")
	}
	return r
}

// login logs user in with GSSAPI, as proxyuser when set.
func (r *krbRealm) login(t *testing.T, kh *kojiHub, user, proxyuser string) (*koji.Client, error) {
	c := kh.client(t)
	err := c.Login(context.Background(), &auth.GSSAPI{
		Principal: user + "@" + krbtest.Realm, Keytab: r.keytabs[user], Krb5Conf: r.kdc.Krb5Conf, ProxyUser: proxyuser,
	})
	return c, err
}

func (r *krbRealm) hub(t *testing.T, dsn string, edit func(*hubserver.KojiConfig)) *kojiHub {
	return startKoji(t, dsn, func(c *hubserver.KojiConfig) {
		c.AuthKeytab = r.serviceKeytab
		c.AuthPrincipal = "HTTP/127.0.0.1@" + krbtest.Realm
		if edit != nil {
			edit(c)
		}
	})
}

func authFault(t *testing.T, err error) string {
	t.Helper()
	var kf *koji.Fault
	require.ErrorAs(t, err, &kf)
	assert.Equal(t, int(koji.ErrAuth), kf.Code, kf.String)
	return kf.String
}

func TestKojiGSSAPILogin(t *testing.T) {
	realm := startRealm(t)
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := realm.hub(t, dsn, func(c *hubserver.KojiConfig) {
			c.ProxyPrincipals = []string{"kojiweb@" + krbtest.Realm}
		})
		admin := kh.sslClient(t, "")

		// A new principal makes a new user, named before the "@"; the
		// client checked the hub's mutual authentication token.
		c, err := realm.login(t, kh, "kojiuser", "")
		require.NoError(t, err)
		var me map[string]any
		require.NoError(t, c.Call(ctx, "getLoggedInUser", &me))
		principal := "kojiuser@" + krbtest.Realm
		assert.Equal(t, "kojiuser", me["name"])
		assert.Equal(t, int64(3), me["authtype"], "GSSAPI")
		assert.Equal(t, []any{principal}, me["krb_principals"])
		assert.Equal(t, principal, me["krb_principal"])
		id := me["id"]

		// The next login finds the user by its principal.
		c, err = realm.login(t, kh, "kojiuser", "")
		require.NoError(t, err)
		require.NoError(t, c.Call(ctx, "getLoggedInUser", &me))
		assert.Equal(t, id, me["id"])
		var n int
		require.NoError(t, admin.CallKw(ctx, "listUsers", &n, nil, map[string]any{"prefix": "kojiuser", "queryOpts": map[string]any{"countOnly": true}}))
		assert.Equal(t, 1, n)

		// A user of that name without the principal gets it.
		var aliceID int64
		require.NoError(t, admin.Call(ctx, "createUser", &aliceID, "alice"))
		c, err = realm.login(t, kh, "alice", "")
		require.NoError(t, err)
		require.NoError(t, c.Call(ctx, "getLoggedInUser", &me))
		assert.Equal(t, aliceID, me["id"])
		assert.Equal(t, []any{"alice@" + krbtest.Realm}, me["krb_principals"])

		// A listed proxy logs another user in, as that user's principal
		// or name; others may not.
		c, err = realm.login(t, kh, "kojiweb", "alice@"+krbtest.Realm)
		require.NoError(t, err)
		require.NoError(t, c.Call(ctx, "getLoggedInUser", &me))
		assert.Equal(t, aliceID, me["id"])
		c, err = realm.login(t, kh, "kojiweb", "kojiadmin")
		require.NoError(t, err)
		require.NoError(t, c.Call(ctx, "getLoggedInUser", &me))
		assert.Equal(t, "kojiadmin", me["name"])
		assert.Equal(t, int64(3), me["authtype"])
		_, err = realm.login(t, kh, "stranger", "kojiadmin")
		assert.Equal(t, "stranger@"+krbtest.Realm+" is not authorized to login other users", authFault(t, err))

		// A client certificate still logs in on the same URL.
		require.NoError(t, admin.Call(ctx, "getLoggedInUser", &me))
		assert.Equal(t, int64(2), me["authtype"], "SSL")
	})
}

func TestKojiGSSAPIPolicies(t *testing.T) {
	realm := startRealm(t)
	eachBackend(t, func(t *testing.T, dsn string) {
		kh := realm.hub(t, dsn, func(c *hubserver.KojiConfig) { c.DisableUserCreation = true })
		_, err := realm.login(t, kh, "kojiuser", "")
		assert.Equal(t, "Unknown user: kojiuser@"+krbtest.Realm, authFault(t, err))

		kh = realm.hub(t, dsn, func(c *hubserver.KojiConfig) { c.AllowedKrbRealms = []string{"EXAMPLE.COM", "OTHER.ORG"} })
		_, err = realm.login(t, kh, "kojiuser", "")
		assert.Equal(t, "Kerberos principal's realm: "+krbtest.Realm+" is not allowed", authFault(t, err))

		kh = realm.hub(t, dsn, func(c *hubserver.KojiConfig) { c.AllowedKrbRealms = []string{"EXAMPLE.COM", krbtest.Realm} })
		_, err = realm.login(t, kh, "kojiuser", "")
		assert.NoError(t, err)

		// The realm rule covers principals given to users too.
		admin := kh.sslClient(t, "")
		err = admin.Call(context.Background(), "createUser", nil, "carol", nil, "carol@ELSEWHERE.NET")
		assert.Equal(t, "Kerberos principal's realm: ELSEWHERE.NET is not allowed", authFault(t, err))
	})
}

func TestKojiGSSAPIHandshake(t *testing.T) {
	realm := startRealm(t)
	eachBackend(t, func(t *testing.T, dsn string) {
		kh := realm.hub(t, dsn, nil)
		body, err := xmlrpc.MarshalCall("sslLogin")
		require.NoError(t, err)
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: kh.pki.ClientTLS(false)}}
		send := func(authorization string) reply {
			req, err := http.NewRequest(http.MethodPost, kh.hub.URL()+"/ssllogin", strings.NewReader(string(body)))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "text/xml")
			if authorization != "" {
				req.Header.Set("Authorization", authorization)
			}
			resp, err := hc.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			return reply{status: resp.StatusCode, header: resp.Header}
		}
		// No token: asked for one, as mod_auth_gssapi asks.
		for _, authz := range []string{"", "Basic Zm9vOmJhcg==", "Negotiate !!!", "Negotiate " + base64.StdEncoding.EncodeToString([]byte("not a token"))} {
			r := send(authz)
			assert.Equal(t, http.StatusUnauthorized, r.status, authz)
			assert.Equal(t, "Negotiate", r.header.Get("WWW-Authenticate"), authz)
		}
		// The hub URL itself asks nothing: anonymous calls go on.
		r := post(t, hc, kh.hub.URL(), "text/xml", body)
		assert.Equal(t, http.StatusOK, r.status)
		assert.Empty(t, r.header.Get("WWW-Authenticate"))

		// A token for another service does not verify against the keytab.
		other := realm.hub(t, dsn, func(c *hubserver.KojiConfig) { c.AuthPrincipal = "" })
		_, err = realm.login(t, other, "kojiuser", "")
		require.NoError(t, err, "any principal of the keytab")
		_, err = hubserver.OpenKoji(context.Background(), hubserver.KojiConfig{
			DSN: dsn, AuthKeytab: realm.serviceKeytab, AuthPrincipal: "HTTP/elsewhere@" + krbtest.Realm,
		})
		assert.ErrorContains(t, err, "holds no key for AuthPrincipal HTTP/elsewhere@"+krbtest.Realm)
		_, err = hubserver.OpenKoji(context.Background(), hubserver.KojiConfig{DSN: dsn, AuthKeytab: realm.kdc.Dir + "/missing.keytab"})
		assert.ErrorContains(t, err, "AuthKeytab")
	})
}
