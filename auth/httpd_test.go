package auth_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gokoji/gokoji/auth"
	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/koji"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests log in against a real Apache httpd with mod_ssl, set up as
// Koji's example httpd.conf has it: the virtual host asks for no client
// certificate, only <Location /kojihub/ssllogin> does, so that httpd has
// to ask for it after the handshake, by renegotiating under TLS 1.2.

// httpdModules is where Debian's apache2 package keeps its modules.
const httpdModules = "/usr/lib/apache2/modules"

// hubCGI answers like a Koji hub, statelessly: sslLogin gives a session
// whose key carries the client certificate's CN as httpd passed it, and
// getLoggedInUser, on /kojihub where no certificate is asked for, names
// the user of the session the request carries.
const hubCGI = `import os, sys, xmlrpc.client

def respond(result):
    if isinstance(result, xmlrpc.client.Fault):
        body = xmlrpc.client.dumps(result, methodresponse=True)
    else:
        body = xmlrpc.client.dumps((result,), methodresponse=True, allow_none=True)
    body = body.encode()
    sys.stdout.buffer.write(b"Content-Type: text/xml\r\nContent-Length: %d\r\n\r\n" % len(body) + body)

def main():
    env = os.environ
    data = sys.stdin.buffer.read(int(env.get("CONTENT_LENGTH") or 0))
    _, method = xmlrpc.client.loads(data)
    path = env.get("PATH_INFO", "")
    if method == "sslLogin" and path == "/ssllogin":
        cn = env.get("SSL_CLIENT_S_DN_CN")
        if env.get("SSL_CLIENT_VERIFY") != "SUCCESS" or not cn:
            return respond(xmlrpc.client.Fault(1002, "could not verify client: %s" % env.get("SSL_CLIENT_VERIFY")))
        sys.stderr.write("hub.cgi: sslLogin from %s over %s\n" % (env.get("SSL_CLIENT_S_DN"), env.get("SSL_PROTOCOL")))
        return respond({"session-id": 1, "session-key": "1-" + cn, "header-auth": True})
    if method == "getLoggedInUser" and path == "":
        key = env.get("HTTP_KOJI_SESSION_KEY", "")
        if env.get("HTTP_KOJI_SESSION_ID") != "1" or not key.startswith("1-"):
            return respond(None)
        return respond({"id": 1, "name": key[2:], "status": 0, "usertype": 0, "krb_principals": []})
    if method == "logout":
        return respond(None)
    respond(xmlrpc.client.Fault(1000, "unexpected call %s at /kojihub%s" % (method, path)))

main()
`

// testHTTPD is an httpd running for one test.
type testHTTPD struct {
	url  string // the hub URL, https://127.0.0.1:port/kojihub
	dir  string // ServerRoot, with the configuration, the CGI and the logs
	exec *exec.Cmd
}

// httpdSetup is the TLS setup of a test httpd.
type httpdSetup struct {
	protocols string // SSLProtocol
	host      string // more directives for the virtual host
	sslLogin  string // <Location /kojihub/ssllogin>'s, when not Koji's
}

// kojiSSLLogin is what Koji's example httpd.conf has for /kojihub/ssllogin.
const kojiSSLLogin = `SSLVerifyClient require
	SSLVerifyDepth 10
	SSLOptions +StdEnvVars`

// startHTTPD runs httpd in the foreground on a free loopback port with a
// server certificate from ca, trusting client certificates from ca, set
// up as s says, until the test ends. A test whose httpd is missing is
// skipped, or fails under CI=true.
func startHTTPD(t *testing.T, ca *testCA, s httpdSetup) *testHTTPD {
	t.Helper()
	apache := "/usr/sbin/apache2"
	if _, err := os.Stat(apache); err != nil {
		apache = testenv.Command(t, "apache2")
	}
	modules := []string{"mpm_prefork", "authz_core", "alias", "cgi", "ssl"}
	for _, m := range modules {
		if _, err := os.Stat(filepath.Join(httpdModules, "mod_"+m+".so")); err != nil {
			testenv.Unavailable(t, "httpd's mod_%s is not installed (%v)", m, err)
		}
	}
	python := "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		python = testenv.Command(t, "python3")
	}
	_, serverPEM := ca.issue(t, "hub", true)

	if s.sslLogin == "" {
		s.sslLogin = kojiSSLLogin
	}
	h := &testHTTPD{dir: t.TempDir()}
	port := freePort(t)
	h.url = fmt.Sprintf("https://127.0.0.1:%d/kojihub", port)
	script := filepath.Join(h.dir, "hub.cgi")
	require.NoError(t, os.WriteFile(script, []byte("#!"+python+"\n"+hubCGI), 0o755))

	var conf strings.Builder
	for _, m := range modules {
		fmt.Fprintf(&conf, "LoadModule %s_module %s/mod_%[1]s.so\n", m, httpdModules)
	}
	if os.Geteuid() == 0 {
		// httpd will not serve as root: its children, which run the CGI,
		// become nobody, who must be able to reach the script.
		conf.WriteString("User #65534\nGroup #65534\n")
		for _, d := range []string{h.dir, filepath.Dir(h.dir)} {
			require.NoError(t, os.Chmod(d, 0o755))
		}
	}
	fmt.Fprintf(&conf, `ServerRoot %[1]q
ServerName 127.0.0.1
Listen 127.0.0.1:%[2]d
PidFile httpd.pid
DefaultRuntimeDir .
StartServers 2
MinSpareServers 2
MaxSpareServers 4
MaxRequestWorkers 8
ErrorLog error_log
LogLevel info ssl:debug
LogFormat "%%r %%>s %%{SSL_PROTOCOL}x %%{SSL_CLIENT_S_DN_CN}x" hub
CustomLog access_log hub

SSLEngine on
SSLProtocol %[3]s
SSLCertificateFile %[4]q
SSLCACertificateFile %[5]q
%[7]s

ScriptAlias /kojihub %[6]q
<Directory %[1]q>
	Require all granted
</Directory>
<Location /kojihub/ssllogin>
	%[8]s
</Location>
`, h.dir, port, s.protocols, serverPEM, ca.file, script, s.host, s.sslLogin)
	confFile := filepath.Join(h.dir, "httpd.conf")
	require.NoError(t, os.WriteFile(confFile, []byte(conf.String()), 0o644))

	var out bytes.Buffer
	h.exec = exec.Command(apache, "-DFOREGROUND", "-d", h.dir, "-f", confFile)
	h.exec.Stdout, h.exec.Stderr = &out, &out
	h.exec.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, h.exec.Start())
	exited := make(chan error, 1)
	go func() { exited <- h.exec.Wait() }()
	t.Cleanup(func() {
		// SIGTERM stops httpd and its children at once; whatever is left
		// of the process group after that goes with SIGKILL.
		_ = h.exec.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = h.exec.Process.Kill()
			<-exited
		}
		_ = syscall.Kill(-h.exec.Process.Pid, syscall.SIGKILL)
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("httpd's output:\n%s%s", out.String(), h.logs())
		}
	})

	deadline := time.Now().Add(15 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			conn.Close()
			return h
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("httpd exited (%v)", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("httpd does not answer on port %d", port)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (h *testHTTPD) read(name string) string {
	b, err := os.ReadFile(filepath.Join(h.dir, name))
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// logs returns httpd's error and access logs, for a failure message.
func (h *testHTTPD) logs() string {
	return "error_log:\n" + h.read("error_log") + "\naccess_log:\n" + h.read("access_log")
}

// accessLog returns the lines of the access log once there are n of them
// at least, since httpd logs a request after answering it.
func (h *testHTTPD) accessLog(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		lines := strings.Split(h.read("access_log"), "\n")
		if lines = lines[:len(lines)-1]; len(lines) >= n { // whole lines only
			return lines
		}
		if time.Now().After(deadline) {
			t.Fatalf("httpd logged fewer than %d requests", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// loginHTTPD logs in to h as kojiadmin with a certificate from ca, and
// returns the client, the client's log and the login's error.
func loginHTTPD(t *testing.T, h *testHTTPD, ca *testCA) (*koji.Client, string, error) {
	t.Helper()
	_, certFile := ca.issue(t, "kojiadmin", false)
	var logs bytes.Buffer
	c := newTestClient(t, h.url, ca, koji.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := c.Login(ctx, &auth.SSL{CertFile: certFile})
	return c, logs.String(), err
}

// assertLoggedInAs checks, through getLoggedInUser on /kojihub, that the
// session c got is the one the hub gave to the certificate's CN.
func assertLoggedInAs(t *testing.T, c *koji.Client, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var user struct {
		ID   int64  `xmlrpc:"id"`
		Name string `xmlrpc:"name"`
	}
	require.NoError(t, c.Call(ctx, "getLoggedInUser", &user))
	assert.Equal(t, name, user.Name)
	info, ok := c.Session()
	require.True(t, ok)
	assert.Equal(t, int64(1), info.ID)
	assert.True(t, info.HeaderAuth)
}

func TestSSLLoginHTTPDRenegotiatesOverTLS12(t *testing.T) {
	ca := newTestCA(t, "ca")
	h := startHTTPD(t, ca, httpdSetup{protocols: "-all +TLSv1.2"})

	c, logs, err := loginHTTPD(t, h, ca)
	require.NoError(t, err)

	assertLoggedInAs(t, c, "kojiadmin")
	assert.Equal(t, []string{
		"POST /kojihub/ssllogin HTTP/1.1 200 TLSv1.2 kojiadmin",
		"POST /kojihub HTTP/1.1 200 TLSv1.2 -",
	}, h.accessLog(t, 2))
	errorLog := h.read("error_log")
	assert.Contains(t, errorLog, "Requesting connection re-negotiation", "httpd asked for the certificate by renegotiating")
	assert.Contains(t, errorLog, "hub.cgi: sslLogin from CN=kojiadmin,OU=kojiadmin,O=gokoji test over TLSv1.2")
	assert.NotContains(t, logs, "retrying over TLS 1.2", "TLS 1.2 from the start: nothing to retry")
}

func TestSSLLoginHTTPDFallsBackFromTLS13ToTLS12(t *testing.T) {
	ca := newTestCA(t, "ca")
	h := startHTTPD(t, ca, httpdSetup{protocols: "-all +TLSv1.2 +TLSv1.3"})

	c, logs, err := loginHTTPD(t, h, ca)
	require.NoError(t, err)

	assertLoggedInAs(t, c, "kojiadmin")
	assert.Equal(t, []string{
		"POST /kojihub/ssllogin HTTP/1.1 403 TLSv1.3 -",
		"POST /kojihub/ssllogin HTTP/1.1 200 TLSv1.2 kojiadmin",
		"POST /kojihub HTTP/1.1 200 TLSv1.3 -",
	}, h.accessLog(t, 3), "refused over TLS 1.3, then renegotiated over TLS 1.2; later calls keep TLS 1.3")
	errorLog := h.read("error_log")
	assert.Contains(t, errorLog, "cannot perform post-handshake authentication", "why httpd refused over TLS 1.3")
	assert.Contains(t, errorLog, "Requesting connection re-negotiation")
	assert.Contains(t, logs, "hub refused the certificate login over TLS 1.3 without asking for the certificate; retrying over TLS 1.2")
}

func TestSSLLoginHTTPDTLS13OnlyIsForbidden(t *testing.T) {
	ca := newTestCA(t, "ca")
	h := startHTTPD(t, ca, httpdSetup{protocols: "-all +TLSv1.3"})

	c, logs, err := loginHTTPD(t, h, ca)

	assert.ErrorIs(t, err, koji.ErrAuth)
	var le *auth.LoginError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "ssl", le.Method)
	var he *koji.HTTPError
	require.ErrorAs(t, err, &he, "httpd's answer, not the TLS 1.2 handshake it refused")
	assert.Equal(t, http.StatusForbidden, he.StatusCode)
	assert.Contains(t, he.Body, "You don't have permission to access this resource.")
	var te *koji.TransportError
	assert.False(t, errors.As(err, &te))
	assert.False(t, c.LoggedIn())
	assert.Equal(t, []string{"POST /kojihub/ssllogin HTTP/1.1 403 TLSv1.3 -"}, h.accessLog(t, 1))
	assert.Contains(t, h.read("error_log"), "cannot perform post-handshake authentication")
	assert.Contains(t, logs, "retrying over TLS 1.2")
	assert.Contains(t, logs, `the certificate login over TLS 1.2 failed; the hub's 403 over TLS 1.3 stands" err=`)
	assert.Contains(t, logs, "protocol version not supported", "the retry's failure is logged")
}

// A virtual host that asks for the certificate in the handshake needs no
// renegotiation, and works over TLS 1.3, unless /ssllogin asks for more:
// to apply Koji's require there on top of optional for the host, httpd
// wants post-handshake authentication although it holds a verified
// certificate, even with SSLOptions +OptRenegotiate, and answers 403; the
// login then goes again over TLS 1.2.
func TestSSLLoginHTTPDAskingInHandshake(t *testing.T) {
	for _, tc := range []struct {
		name string
		httpdSetup
	}{
		{"require for the host", httpdSetup{host: "SSLVerifyClient require\nSSLVerifyDepth 10"}},
		{"optional for the host, nothing more at ssllogin", httpdSetup{
			host: "SSLVerifyClient optional\nSSLVerifyDepth 10", sslLogin: "SSLOptions +StdEnvVars"}},
	} {
		t.Run(tc.name+" over TLS 1.3", func(t *testing.T) {
			ca := newTestCA(t, "ca")
			tc.protocols = "-all +TLSv1.3"
			h := startHTTPD(t, ca, tc.httpdSetup)

			c, logs, err := loginHTTPD(t, h, ca)
			require.NoError(t, err)

			info, ok := c.Session()
			require.True(t, ok)
			assert.Equal(t, "1-kojiadmin", info.Key, "the session the hub gave to the certificate's CN")
			assert.Equal(t, []string{"POST /kojihub/ssllogin HTTP/1.1 200 TLSv1.3 kojiadmin"}, h.accessLog(t, 1))
			assert.NotContains(t, h.read("error_log"), "post-handshake")
			assert.NotContains(t, logs, "retrying over TLS 1.2")
		})
	}
	t.Run("optional for the host, require at ssllogin", func(t *testing.T) {
		ca := newTestCA(t, "ca")
		h := startHTTPD(t, ca, httpdSetup{protocols: "-all +TLSv1.2 +TLSv1.3",
			host: "SSLVerifyClient optional\nSSLVerifyDepth 10\nSSLOptions +OptRenegotiate"})

		c, logs, err := loginHTTPD(t, h, ca)

		require.NoError(t, err)
		assert.True(t, c.LoggedIn())
		assert.Equal(t, []string{"POST /kojihub/ssllogin HTTP/1.1 403 TLSv1.3 kojiadmin", "POST /kojihub/ssllogin HTTP/1.1 200 TLSv1.2 kojiadmin"},
			h.accessLog(t, 2), "httpd had the certificate from the handshake, and wanted it again")
		assert.Contains(t, h.read("error_log"), "cannot perform post-handshake authentication")
		assert.Contains(t, logs, "for want of post-handshake authentication; retrying over TLS 1.2")
	})
}
