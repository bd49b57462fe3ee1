package auth_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gokoji/gokoji/auth"
	"github.com/gokoji/gokoji/internal/kojitest"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// certificateHub serves sslLogin at /kojihub/ssllogin like a hub behind
// httpd: the user is the client certificate's CN, and kojiadmin gets the
// session the recorded hub gave it.
func certificateHub(t *testing.T, rec *recorder) http.Handler {
	recorded := kojitest.Fixture(t, "sslLogin").Response
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		call := rec.add(t, r)
		switch {
		case r.URL.Path != "/kojihub/ssllogin" || call.Method != "sslLogin":
			reply(t, w, &xmlrpc.Fault{Code: 1000, String: "unexpected call " + call.Method + " at " + r.URL.Path})
		case call.Subject != "kojiadmin":
			reply(t, w, &xmlrpc.Fault{Code: 1002, String: "could not verify client: NONE"})
		default:
			w.Header().Set("Content-Type", "text/xml")
			_, _ = w.Write(recorded)
		}
	})
}

func TestSSLLoginPresentsCertificate(t *testing.T) {
	for _, tc := range []struct {
		name       string
		clientAuth tls.ClientAuthType
	}{
		{"required in the handshake", tls.RequireAndVerifyClientCert},
		{"optional in the handshake", tls.VerifyClientCertIfGiven},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ca := newTestCA(t, "ca")
			_, certFile := ca.issue(t, "kojiadmin", false)
			rec := &recorder{}
			srv := startTLSHub(t, certificateHub(t, rec), ca, tc.clientAuth, ca)
			// The hub URL says http: sslLogin goes over https all the same.
			c := newTestClient(t, strings.Replace(srv.URL, "https:", "http:", 1)+"/kojihub", ca)

			require.NoError(t, c.Login(context.Background(), &auth.SSL{CertFile: certFile}))

			info, ok := c.Session()
			require.True(t, ok)
			assert.Equal(t, int64(11), info.ID)
			assert.Equal(t, "1-mpmDJf57WxvTtbm7aif", info.Key)
			assert.True(t, info.HeaderAuth)
			calls := rec.all()
			require.Len(t, calls, 1)
			assert.Equal(t, "kojiadmin", calls[0].Subject)
			assert.Equal(t, string(kojitest.Fixture(t, "sslLogin").Request), string(calls[0].Body),
				"the request is the one Koji's client sent, byte for byte")
			assert.Equal(t, "koji/1", calls[0].Header.Get("User-Agent"))
			assert.Empty(t, calls[0].Header.Get("Koji-Session-Id"))
		})
	}
}

func TestSSLLoginWithSeparateKeyAndCertificateValue(t *testing.T) {
	ca := newTestCA(t, "ca")
	pair, certFile := ca.issue(t, "kojiadmin", false)
	rec := &recorder{}
	srv := startTLSHub(t, certificateHub(t, rec), ca, tls.RequireAndVerifyClientCert, ca)

	c := newTestClient(t, srv.URL+"/kojihub", ca)
	require.NoError(t, c.Login(context.Background(), &auth.SSL{Certificate: &pair}))
	// The combined PEM serves as both files.
	c2 := newTestClient(t, srv.URL+"/kojihub", ca)
	require.NoError(t, c2.Login(context.Background(), &auth.SSL{CertFile: certFile, KeyFile: certFile}))
	assert.Len(t, rec.all(), 2)
}

func TestSSLLoginRefusedCertificate(t *testing.T) {
	hubCA := newTestCA(t, "hub-ca")
	otherCA := newTestCA(t, "other-ca")
	_, certFile := otherCA.issue(t, "kojiadmin", false)
	rec := &recorder{}
	srv := startTLSHub(t, certificateHub(t, rec), hubCA, tls.RequireAndVerifyClientCert, hubCA)
	c := newTestClient(t, srv.URL+"/kojihub", hubCA)

	err := c.Login(context.Background(), &auth.SSL{CertFile: certFile})

	var le *auth.LoginError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "ssl", le.Method)
	assert.ErrorIs(t, err, koji.ErrAuth)
	assert.NotErrorIs(t, err, koji.ErrGSSAPIAuth)
	var te *koji.TransportError
	assert.ErrorAs(t, err, &te, "the hub broke off the handshake")
	assert.Contains(t, err.Error(), "unable to obtain a session (ssl auth failed:")
	assert.False(t, c.LoggedIn())
	assert.Empty(t, rec.all(), "the request never reached the hub")
}

func TestSSLLoginWithoutCertificate(t *testing.T) {
	ca := newTestCA(t, "ca")
	rec := &recorder{}
	srv := startTLSHub(t, certificateHub(t, rec), ca, tls.NoClientCert, nil)
	c := newTestClient(t, srv.URL+"/kojihub", ca)

	for _, s := range []*auth.SSL{{}, {CertFile: filepath.Join(t.TempDir(), "missing.pem")}} {
		err := c.Login(context.Background(), s)
		assert.ErrorIs(t, err, koji.ErrAuth)
	}
	assert.Empty(t, rec.all(), "nothing is sent without a certificate")

	// A hub that asks for no certificate gets none, and answers with a fault.
	_, certFile := ca.issue(t, "kojiadmin", false)
	err := c.Login(context.Background(), &auth.SSL{CertFile: certFile})
	var f *koji.Fault
	require.ErrorAs(t, err, &f, "the hub's fault is in the chain")
	assert.Equal(t, "could not verify client: NONE", f.String)
}

func TestSSLLoginSendsProxyUser(t *testing.T) {
	ca := newTestCA(t, "ca")
	_, certFile := ca.issue(t, "kojiadmin", false)
	rec := &recorder{}
	srv := startTLSHub(t, certificateHub(t, rec), ca, tls.RequireAndVerifyClientCert, ca)
	c := newTestClient(t, srv.URL+"/kojihub", ca)

	require.NoError(t, c.Login(context.Background(), &auth.SSL{CertFile: certFile, ProxyUser: "testuser"}))

	calls := rec.all()
	require.Len(t, calls, 1)
	assert.Empty(t, calls[0].Params)
	assert.Equal(t, map[string]any{"proxyuser": "testuser"}, calls[0].Kwargs)
}

// recordedTLSHub serves the recorded exchanges over TLS, verifying the
// client certificates from ca that come.
func recordedTLSHub(t *testing.T, ca *testCA, names ...string) (*kojitest.ReplayHub, *httptest.Server) {
	hub := kojitest.NewReplayHub(t, names...)
	return hub, startTLSHub(t, hub, ca, tls.VerifyClientCertIfGiven, ca)
}

func TestSSLLoginRecordedProxyUser(t *testing.T) {
	ca := newTestCA(t, "ca")
	_, certFile := ca.issue(t, "kojiweb", false)
	hub, srv := recordedTLSHub(t, ca, "sslLogin_proxyuser", "sslLogin_proxy_denied", "logout")
	ctx := context.Background()

	c := newTestClient(t, srv.URL+"/kojihub", ca)
	require.NoError(t, c.Login(ctx, &auth.SSL{CertFile: certFile, ProxyUser: "testuser"}))
	info, _ := c.Session()
	assert.Equal(t, int64(14), info.ID)
	require.Len(t, hub.Received(), 1)
	assert.Equal(t, string(kojitest.Fixture(t, "sslLogin_proxyuser").Request), string(hub.Received()[0].Body))

	denied := newTestClient(t, srv.URL+"/kojihub", ca)
	err := denied.Login(ctx, &auth.SSL{CertFile: certFile, ProxyUser: "kojiadmin"})
	assert.ErrorIs(t, err, koji.ErrAuth)
	var f *koji.Fault
	require.ErrorAs(t, err, &f)
	assert.Equal(t, int(koji.ErrAuth), f.Code)
	assert.Contains(t, f.String, "is not authorized to login other users")
	assert.False(t, denied.LoggedIn())
}

func TestSSLSessionRecordedExclusiveAndLogout(t *testing.T) {
	ca := newTestCA(t, "ca")
	_, builderCert := ca.issue(t, "builder1", false)
	_, adminCert := ca.issue(t, "kojiadmin", false)
	ctx := context.Background()

	hub, srv := recordedTLSHub(t, ca, "host_sslLogin", "exclusiveSession", "logout")
	builder := newTestClient(t, srv.URL+"/kojihub", ca)
	require.NoError(t, builder.Login(ctx, &auth.SSL{CertFile: builderCert}))
	require.NoError(t, builder.Exclusive(ctx, true), "kojid's exclusiveSession(force=True) on the builder's session 12")
	received := hub.Received()
	require.Len(t, received, 2)
	assert.Equal(t, "12", received[1].Header.Get("Koji-Session-Id"))
	assert.Equal(t, "0", received[1].Header.Get("Koji-Session-Callnum"))

	hub, srv = recordedTLSHub(t, ca, "sslLogin", "logout")
	admin := newTestClient(t, srv.URL+"/kojihub", ca)
	require.NoError(t, admin.Login(ctx, &auth.SSL{CertFile: adminCert}))
	require.NoError(t, admin.Close(), "logout(session_id=None) on session 11")
	received = hub.Received()
	require.Len(t, received, 2)
	assert.Equal(t, "logout", received[1].Method)
	assert.Equal(t, "11", received[1].Header.Get("Koji-Session-Id"))
}

// postHandshakeHub stands for httpd with SSLVerifyClient only at
// /ssllogin: over TLS 1.3 it cannot ask for the certificate (Go has no
// post-handshake authentication) and answers 403 without having asked;
// over TLS 1.2 it gets the certificate, as httpd would by renegotiating.
func postHandshakeHub(t *testing.T, rec *recorder, ca *testCA) *httptest.Server {
	serverCert, _ := ca.issue(t, "hub", true)
	inner := certificateHub(t, rec)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS.Version == tls.VersionTLS13 {
			rec.add(t, r)
			http.Error(w, "You don't have permission to access this resource.", http.StatusForbidden)
			return
		}
		inner.ServeHTTP(w, r)
	}))
	base := &tls.Config{Certificates: []tls.Certificate{serverCert}}
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{serverCert},
		GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			for _, v := range hello.SupportedVersions {
				if v == tls.VersionTLS13 {
					return base, nil
				}
			}
			return &tls.Config{Certificates: base.Certificates, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.pool}, nil
		},
	}
	srv.Config.ErrorLog = discardLog
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func TestSSLLoginFallsBackToTLS12ForRenegotiatingHub(t *testing.T) {
	ca := newTestCA(t, "ca")
	_, certFile := ca.issue(t, "kojiadmin", false)
	rec := &recorder{}
	srv := postHandshakeHub(t, rec, ca)
	c := newTestClient(t, srv.URL+"/kojihub", ca)

	require.NoError(t, c.Login(context.Background(), &auth.SSL{CertFile: certFile}))

	calls := rec.all()
	require.Len(t, calls, 2)
	assert.Equal(t, uint16(tls.VersionTLS13), calls[0].TLS.Version)
	assert.Empty(t, calls[0].Subject)
	assert.Equal(t, uint16(tls.VersionTLS12), calls[1].TLS.Version)
	assert.Equal(t, "kojiadmin", calls[1].Subject)
	assert.Equal(t, calls[0].Body, calls[1].Body, "the same login, sent again")
}

func TestSSLLoginTLS13OnlyHubKeepsItsForbidden(t *testing.T) {
	ca := newTestCA(t, "ca")
	_, certFile := ca.issue(t, "kojiadmin", false)
	serverCert, _ := ca.issue(t, "hub", true)
	rec := &recorder{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.add(t, r)
		http.Error(w, "You don't have permission to access this resource.", http.StatusForbidden)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}, MinVersion: tls.VersionTLS13}
	srv.Config.ErrorLog = discardLog
	srv.StartTLS()
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL+"/kojihub", ca)

	err := c.Login(context.Background(), &auth.SSL{CertFile: certFile})

	var he *koji.HTTPError
	require.ErrorAs(t, err, &he, "the TLS 1.2 retry fails its handshake; the hub's 403 is the answer")
	assert.Equal(t, http.StatusForbidden, he.StatusCode)
	assert.Equal(t, "You don't have permission to access this resource.", he.Body)
	assert.ErrorIs(t, err, koji.ErrAuth)
	assert.Len(t, rec.all(), 1)
}

func TestSSLLoginForbiddenAfterAskingIsFinal(t *testing.T) {
	ca := newTestCA(t, "ca")
	_, certFile := ca.issue(t, "kojiadmin", false)
	rec := &recorder{}
	srv := startTLSHub(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.add(t, r)
		http.Error(w, "forbidden", http.StatusForbidden)
	}), ca, tls.RequireAndVerifyClientCert, ca)
	c := newTestClient(t, srv.URL+"/kojihub", ca)

	err := c.Login(context.Background(), &auth.SSL{CertFile: certFile})

	var he *koji.HTTPError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, http.StatusForbidden, he.StatusCode)
	assert.ErrorIs(t, err, koji.ErrAuth)
	assert.Len(t, rec.all(), 1, "the hub saw the certificate and refused: no second try")
}

func TestLoginErrorMatchesItsClasses(t *testing.T) {
	cause := errors.New("cause")
	gss := &auth.LoginError{Class: koji.ErrGSSAPIAuth, Method: "gssapi", Err: cause}
	assert.ErrorIs(t, gss, koji.ErrGSSAPIAuth)
	assert.ErrorIs(t, gss, koji.ErrAuth, "GSSAPIAuthError is an AuthError")
	assert.ErrorIs(t, gss, koji.ErrGeneric)
	assert.ErrorIs(t, gss, cause)
	assert.NotErrorIs(t, gss, koji.ErrAuthExpired)
	ssl := &auth.LoginError{Class: koji.ErrAuth, Method: "ssl", Err: cause}
	assert.NotErrorIs(t, ssl, koji.ErrGSSAPIAuth)
	assert.Equal(t, "koji: unable to obtain a session (ssl auth failed: cause)", ssl.Error())
}
