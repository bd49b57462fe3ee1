package hubserver_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// sessionKeys are the members of a login's answer that differ from one
// login to the next.
var sessionKeys = []string{"session-id", "session-key"}

// rawSSLLogin posts sslLogin with kw to kh's ssllogin URL with the client
// certificate, as the koji library does, and returns the undecoded
// answer: the struct, or the fault.
func (kh *kojiHub) rawSSLLogin(t *testing.T, kw map[string]any) (any, *koji.Fault) {
	t.Helper()
	c, err := koji.NewClient(kh.hub.URL()+"/ssllogin", koji.WithHTTPClient(&http.Client{
		Transport: &http.Transport{TLSClientConfig: kh.pki.ClientTLS(true)},
	}))
	require.NoError(t, err)
	var v any
	err = c.CallKw(context.Background(), "sslLogin", &v, nil, kw)
	if err != nil {
		var f *koji.Fault
		require.ErrorAs(t, err, &f)
		return nil, f
	}
	return v, nil
}

// loggedIn is the raw session of a login's answer.
func (kh *kojiHub) loggedIn(t *testing.T, login any) *raw {
	t.Helper()
	m := login.(map[string]any)
	return &raw{kh: kh, id: m["session-id"].(int64), key: m["session-key"].(string)}
}

// sameFault requires a fault with the recorded fault's code and string.
func sameFault(t *testing.T, want *xmlrpc.Fault, code int, msg string) {
	t.Helper()
	assert.Equal(t, [2]any{want.Code, want.String}, [2]any{code, msg})
}

// TestKojiAuthFixtures replays the recorded logins and the calls around
// them (anonymous, by certificate, by password, proxied, as a host, a bad
// session, a refused proxy) and compares the answers with upstream's,
// member by member.
func TestKojiAuthFixtures(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)

		var anon any = "unset"
		require.NoError(t, kh.client(t).Call(ctx, "getLoggedInUser", &anon))
		assert.Equal(t, recorded(t, "getLoggedInUser_anon"), anon)

		// kojiadmin by certificate, as sslLogin sends proxyuser=None.
		login, f := kh.rawSSLLogin(t, map[string]any{"proxyuser": nil})
		require.Nil(t, f)
		sameMembers(t, recorded(t, "sslLogin"), login, sessionKeys...)
		admin := kh.loggedIn(t, login)
		assert.Equal(t, recorded(t, "hello_auth"), admin.ok(t, 1, "hello"))
		assert.Equal(t, recorded(t, "getUser_nonexistent"), admin.ok(t, 2, "getUser", "nobody-here"))
		admin.ok(t, 3, "createUser", "testuser")
		require.NoError(t, kh.koji.SetPassword(ctx, "testuser", "testpass"))
		admin.ok(t, 4, "addHost", "builder1", []any{"x86_64"})
		sameMembers(t, recorded(t, "getLoggedInUser_after"), admin.ok(t, 5, "getLoggedInUser"))

		// A key that is not the session's.
		bogus := &raw{kh: kh, id: admin.id, key: "1-bogus"}
		_, bf := bogus.call(t, 0, "getLoggedInUser")
		require.NotNil(t, bf)
		sameFault(t, recordedFault(t, "bad_session"), bf.Code, bf.String)

		// testuser by password: login(user, password, opts=None).
		var pw any
		require.NoError(t, kh.client(t).CallKw(ctx, "login", &pw, []any{"testuser", "testpass"}, map[string]any{"opts": nil}))
		sameMembers(t, recorded(t, "login_password"), pw, sessionKeys...)
		sameMembers(t, recorded(t, "getLoggedInUser_password"), kh.loggedIn(t, pw).ok(t, 0, "getLoggedInUser"))

		// A certificate not in ProxyDNs cannot log another user in; the
		// message names the certificate's subject.
		_, f = kh.rawSSLLogin(t, map[string]any{"proxyuser": "kojiadmin"})
		require.NotNil(t, f)
		want := recordedFault(t, "sslLogin_proxy_denied")
		const upstreamDN = "CN=testuser,OU=testuser,O=AnchorKoji,L=Loopback,ST=Anchor,C=US"
		require.True(t, strings.HasPrefix(want.String, upstreamDN), want.String)
		sameFault(t, &xmlrpc.Fault{Code: want.Code, String: kh.dn + strings.TrimPrefix(want.String, upstreamDN)}, f.Code, f.String)

		// One that is logs testuser in.
		proxy := startKoji(t, dsn, func(c *hubserver.KojiConfig) { c.ProxyDNs = []string{kh.dn} })
		login, f = proxy.rawSSLLogin(t, map[string]any{"proxyuser": "testuser"})
		require.Nil(t, f)
		sameMembers(t, recorded(t, "sslLogin_proxyuser"), login, sessionKeys...)
		sameMembers(t, recorded(t, "getLoggedInUser_proxied"), proxy.loggedIn(t, login).ok(t, 0, "getLoggedInUser"))

		// builder1 by its host certificate, then its logout(session_id=None).
		host := hostHub(t, kh, "builder1")
		login, f = host.rawSSLLogin(t, map[string]any{"proxyuser": nil})
		require.Nil(t, f)
		sameMembers(t, recorded(t, "host_sslLogin"), login, sessionKeys...)
		builder := host.loggedIn(t, login)
		logoutKw := map[string]any{"session_id": nil, "__starstar": true}
		assert.Equal(t, recorded(t, "host_logout"), builder.ok(t, 0, "logout", logoutKw))
		builder.fault(t, 1, koji.ErrAuth, "getLoggedInUser")

		assert.Equal(t, recorded(t, "logout"), admin.ok(t, 6, "logout", logoutKw))
	})
}
