package auth_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/gokoji/gokoji/auth"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFromProfileChoosesAsTheCLI(t *testing.T) {
	dir := t.TempDir()
	cert := filepath.Join(dir, "client.crt")
	require.NoError(t, os.WriteFile(cert, []byte("PEM"), 0o600))
	missing := filepath.Join(dir, "missing.crt")
	for _, tc := range []struct {
		name                      string
		authType, cert, principal string
		keytab                    string
		want                      koji.Authenticator
		wantErr                   bool
	}{
		{name: "noauth", authType: "noauth", cert: cert, want: nil},
		{name: "ssl", authType: "ssl", cert: cert, want: &auth.SSL{CertFile: cert, ProxyUser: "runas"}},
		{name: "ssl, certificate not there yet", authType: "ssl", cert: missing, want: &auth.SSL{CertFile: missing, ProxyUser: "runas"}},
		{name: "ssl without certificate", authType: "ssl", wantErr: true},
		{name: "unset, certificate exists", cert: cert, want: &auth.SSL{CertFile: cert, ProxyUser: "runas"}},
		{name: "unset, no certificate file", cert: missing, principal: "u@R", keytab: "/k",
			want: &auth.GSSAPI{Principal: "u@R", Keytab: "/k", ProxyUser: "runas"}},
		{name: "unset, certificate is a directory", cert: dir, want: &auth.GSSAPI{ProxyUser: "runas"}},
		{name: "password", authType: "password", wantErr: true},
		{name: "kerberos", authType: "kerberos", cert: cert, principal: "u@R", keytab: "/k",
			want: &auth.GSSAPI{Principal: "u@R", Keytab: "/k", ProxyUser: "runas"}},
		{name: "kerberos, keytab without principal", authType: "kerberos", keytab: "/k", want: &auth.GSSAPI{ProxyUser: "runas"}},
		{name: "unknown", authType: "krb4", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := koji.DefaultProfile()
			p.Name = "test"
			p.AuthType, p.Cert, p.Principal, p.Keytab = tc.authType, tc.cert, tc.principal, tc.keytab

			a, err := auth.FromProfile(p, "runas")

			if tc.wantErr {
				assert.ErrorIs(t, err, koji.ErrConfiguration)
				var ce *koji.ConfigError
				assert.ErrorAs(t, err, &ce)
				assert.Nil(t, a)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, a)
		})
	}
}

// helloHub serves sslLogin for kojiadmin's certificate, hello and logout.
func helloHub(t *testing.T, rec *recorder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		call := rec.add(t, r)
		switch {
		case call.Method == "sslLogin" && call.Subject == "kojiadmin":
			reply(t, w, session(50, "1-openkey"))
		case call.Method == "hello":
			reply(t, w, "Hello World")
		case call.Method == "logout":
			reply(t, w, nil)
		default:
			reply(t, w, &xmlrpc.Fault{Code: 1002, String: "unexpected " + call.Method})
		}
	})
}

// writeUserConfig writes ~/.koji/config in a new home directory.
func writeUserConfig(t *testing.T, config string) {
	home := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(home, ".koji"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(home, ".koji", "config"), []byte(config), 0o600))
	t.Setenv("HOME", home)
}

func TestOpenLogsInAndPresentsCertificateOnEveryCall(t *testing.T) {
	ca := newTestCA(t, "ca")
	_, certFile := ca.issue(t, "kojiadmin", false)
	rec := &recorder{}
	srv := startTLSHub(t, helloHub(t, rec), ca, tls.RequireAndVerifyClientCert, ca)
	writeUserConfig(t, fmt.Sprintf("[gokoji-test]\nserver = %s/kojihub\nserverca = %s\ncert = %s\n", srv.URL, ca.file, certFile))
	ctx := context.Background()

	c, err := auth.Open(ctx, "gokoji-test")

	require.NoError(t, err)
	info, ok := c.Session()
	require.True(t, ok)
	assert.Equal(t, int64(50), info.ID)
	var hello string
	require.NoError(t, c.Call(ctx, "hello", &hello), "a hub that requires the certificate on every request")
	assert.Equal(t, "Hello World", hello)
	require.NoError(t, c.Close())
	calls := rec.all()
	require.Len(t, calls, 3)
	assert.Equal(t, []string{"sslLogin", "hello", "logout"}, []string{calls[0].Method, calls[1].Method, calls[2].Method})
	for _, call := range calls {
		assert.Equal(t, "kojiadmin", call.Subject)
	}
}

func TestOpenAnonymousAndFailures(t *testing.T) {
	ca := newTestCA(t, "ca")
	_, certFile := ca.issue(t, "kojiadmin", false)
	_, strangerCert := ca.issue(t, "stranger", false)
	rec := &recorder{}
	srv := startTLSHub(t, helloHub(t, rec), ca, tls.VerifyClientCertIfGiven, ca)
	writeUserConfig(t, fmt.Sprintf(`[DEFAULT]
server = %s/kojihub
serverca = %s

[anon]
authtype = noauth
cert = %s

[stranger]
cert = %s

[password]
authtype = password
`, srv.URL, ca.file, certFile, strangerCert))
	ctx := context.Background()

	c, err := auth.Open(ctx, "anon")
	require.NoError(t, err)
	assert.False(t, c.LoggedIn())
	require.NoError(t, c.Close())
	assert.Empty(t, rec.all(), "noauth logs nothing in")

	_, err = auth.Open(ctx, "stranger")
	assert.ErrorIs(t, err, koji.ErrAuth)
	assert.ErrorContains(t, err, "unexpected sslLogin")

	_, err = auth.Open(ctx, "password")
	assert.ErrorIs(t, err, koji.ErrConfiguration)

	_, err = auth.Open(ctx, "no-such-profile")
	assert.ErrorIs(t, err, koji.ErrConfiguration)
}

func TestLoginPerClientProfile(t *testing.T) {
	ca := newTestCA(t, "ca")
	_, certFile := ca.issue(t, "kojiadmin", false)
	rec := &recorder{}
	srv := startTLSHub(t, helloHub(t, rec), ca, tls.VerifyClientCertIfGiven, ca)
	p := koji.DefaultProfile()
	p.Server, p.ServerCA, p.Cert, p.AuthType = srv.URL+"/kojihub", ca.file, certFile, "ssl"
	c, err := koji.NewClientFromProfile(p)
	require.NoError(t, err)
	defer c.Close()

	require.NoError(t, auth.Login(context.Background(), c))

	assert.True(t, c.LoggedIn())
	calls := rec.all()
	require.Len(t, calls, 1)
	assert.Equal(t, "kojiadmin", calls[0].Subject)
}
