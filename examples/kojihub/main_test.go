package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/auth"
	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/koji"
)

// pki is a CA with a server certificate for 127.0.0.1 and client
// certificates, written as PEM files.
type pki struct {
	dir            string
	ca             *x509.Certificate
	caKey          *ecdsa.PrivateKey
	caFile         string
	certFile       string
	keyFile        string
	serial         int64
	trust          *x509.CertPool
	clientCertPair map[string]tls.Certificate
}

func newPKI(t *testing.T) *pki {
	p := &pki{dir: t.TempDir(), clientCertPair: map[string]tls.Certificate{}}
	p.ca, p.caKey = p.issue(t, "kojihub test CA", true)
	p.caFile = p.write(t, "ca.pem", "CERTIFICATE", p.ca.Raw)
	p.trust = x509.NewCertPool()
	p.trust.AddCert(p.ca)
	server, key := p.issue(t, "127.0.0.1", false)
	p.certFile = p.write(t, "hub.pem", "CERTIFICATE", server.Raw)
	der, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	p.keyFile = p.write(t, "hub.key", "EC PRIVATE KEY", der)
	return p
}

func (p *pki) issue(t *testing.T, cn string, isCA bool) (*x509.Certificate, *ecdsa.PrivateKey) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	p.serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(p.serial),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"kojihub test"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	parent, signer := tmpl, key
	if isCA {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
		tmpl.ExtKeyUsage = nil
	} else {
		parent, signer = p.ca, p.caKey
		if ip := net.ParseIP(cn); ip != nil {
			tmpl.IPAddresses = []net.IP{ip}
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return cert, key
}

func (p *pki) write(t *testing.T, name, kind string, der []byte) string {
	path := filepath.Join(p.dir, name)
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600))
	return path
}

// client returns a TLS client certificate whose CN is cn.
func (p *pki) client(t *testing.T, cn string) tls.Certificate {
	cert, key := p.issue(t, cn, false)
	return tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}
}

// syncBuffer is a log written by the hub and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// started is a hub run by run in the background.
type started struct {
	hub  *hubserver.Hub
	log  *syncBuffer
	stop func() error // cancels run and returns its error
}

func start(t *testing.T, args ...string) *started {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	log := &syncBuffer{}
	hubs := make(chan *hubserver.Hub, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, log, func(h *hubserver.Hub) { hubs <- h }) }()
	select {
	case h := <-hubs:
		s := &started{hub: h, log: log}
		var once sync.Once
		var err error
		s.stop = func() error {
			once.Do(func() { cancel(); err = <-done })
			return err
		}
		t.Cleanup(func() { s.stop() })
		return s
	case err := <-done:
		cancel()
		t.Fatalf("run: %v\n%s", err, log)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("the hub did not start\n%s", log)
	}
	return nil
}

func (p *pki) koji(t *testing.T, url string) *koji.Client {
	c, err := koji.NewClient(url, koji.WithHTTPClient(&http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: p.trust, MinVersion: tls.VersionTLS12},
	}}))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestRunAdminLogsIn(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			p := newPKI(t)
			data := t.TempDir()
			// The file's settings lose to the flags: its admin, address
			// and data directory are not used.
			conf := filepath.Join(t.TempDir(), "hub.conf")
			require.NoError(t, os.WriteFile(conf, []byte(`
[kojihub]
Listen = 127.0.0.1:1
Admin = fromfile
Data = /nonexistent/kojihub
LogLevel = debug

[hub]
MaxRequestLength = 2000
PluginPath = /usr/lib/koji-hub-plugins
`), 0o600))
			args := []string{"-config", conf, "-listen", "127.0.0.1:0", "-data", data,
				"-tls-cert", p.certFile, "-tls-key", p.keyFile, "-client-ca", p.caFile, "-admin", "kojiadmin"}
			if backend == "postgres" {
				args = append(args, "-db", testenv.PostgresDSN(t))
			}
			s := start(t, args...)
			url := s.hub.URL()
			assert.True(t, strings.HasPrefix(url, "https://127.0.0.1:"), url)

			c := p.koji(t, url)
			require.NoError(t, c.Login(ctx, &auth.SSL{Certificate: ptr(p.client(t, "kojiadmin"))}))
			var me map[string]any
			require.NoError(t, c.Call(ctx, "getLoggedInUser", &me))
			assert.Equal(t, "kojiadmin", me["name"])
			var perms []string
			require.NoError(t, c.Call(ctx, "getPerms", &perms))
			assert.Equal(t, []string{"admin"}, perms)
			var user any
			require.NoError(t, c.Call(ctx, "getUser", &user, "fromfile"))
			assert.Nil(t, user, "the flag's admin, not the file's")

			// [hub] MaxRequestLength applies; the log level is the file's.
			r, err := c.HTTPClient().Post(url, "text/xml", strings.NewReader(strings.Repeat(" ", 2001)))
			require.NoError(t, err)
			r.Body.Close()
			assert.Equal(t, http.StatusBadRequest, r.StatusCode)
			assert.Contains(t, s.log.String(), "level=DEBUG")
			assert.Contains(t, s.log.String(), "option=pluginpath", "unsupported options are named")
			if backend == "sqlite" {
				assert.FileExists(t, filepath.Join(data, "hub.db"))
			}
			assert.DirExists(t, filepath.Join(data, "files"))

			// A graceful stop, then a second start on the same data: the
			// admin is there already.
			require.NoError(t, s.stop())
			assert.Contains(t, s.log.String(), "kojihub stopping")
			s = start(t, args...)
			c = p.koji(t, s.hub.URL())
			require.NoError(t, c.Login(ctx, &auth.SSL{Certificate: ptr(p.client(t, "kojiadmin"))}))
			require.NoError(t, c.Call(ctx, "getPerms", &perms))
			assert.Equal(t, []string{"admin"}, perms)
			require.NoError(t, s.stop())
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestRunConfigOptions(t *testing.T) {
	ctx := context.Background()
	p := newPKI(t)
	conf := filepath.Join(t.TempDir(), "hub.conf")
	topdir := filepath.Join(t.TempDir(), "koji")
	require.NoError(t, os.WriteFile(conf, []byte(`
[kojihub]
Data = `+t.TempDir()+`

[hub]
KojiDir = `+topdir+`
LoginCreatesUser = Off
LockOut = yes
DNUsernameComponent = CN
`), 0o600))
	s := start(t, "-config", conf, "-listen", "127.0.0.1:0", "-admin", "kojiadmin",
		"-tls-cert", p.certFile, "-tls-key", p.keyFile, "-client-ca", p.caFile)
	assert.DirExists(t, topdir, "KojiDir is the files directory")
	err := p.koji(t, s.hub.URL()).Login(ctx, &auth.SSL{Certificate: ptr(p.client(t, "stranger"))})
	var kf *koji.Fault
	require.ErrorAs(t, err, &kf)
	assert.Equal(t, "Unknown user: stranger", kf.String, "LoginCreatesUser = Off")
	c := p.koji(t, s.hub.URL())
	var v int
	err = c.Call(ctx, "getAPIVersion", &v)
	require.ErrorAs(t, err, &kf)
	assert.Equal(t, "Server disabled for maintenance", kf.String, "LockOut = yes")
	require.NoError(t, c.Login(ctx, &auth.SSL{Certificate: ptr(p.client(t, "kojiadmin"))}))
	require.NoError(t, c.Call(ctx, "getAPIVersion", &v), "admins pass the lockout")
}

func TestRunBadInput(t *testing.T) {
	dir := t.TempDir()
	conf := func(text string) string {
		f, err := os.CreateTemp(dir, "hub*.conf")
		require.NoError(t, err)
		_, err = f.WriteString(text)
		require.NoError(t, err)
		require.NoError(t, f.Close())
		return f.Name()
	}
	data := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-nope"}, "flag provided but not defined: -nope"},
		{[]string{"extra"}, "unexpected arguments: extra"},
		{[]string{"-tls-cert", "x.pem"}, "-tls-cert and -tls-key go together"},
		{[]string{"-client-ca", "ca.pem"}, "-client-ca needs -tls-cert and -tls-key"},
		{[]string{"-log-level", "loud"}, `-log-level: want debug, info, warn or error, not "loud"`},
		{[]string{"-config", filepath.Join(dir, "missing.conf")}, "missing.conf: open"},
		{[]string{"-config", conf("[kojihub]\nBogus = 1\n")}, `[kojihub] has no option "bogus"`},
		{[]string{"-config", conf("[hub]\nLockOut = maybe\n")}, `[hub] LockOut: not a boolean: "maybe"`},
		{[]string{"-config", conf("[hub]\nMaxRequestLength = 4MB\n")}, `[hub] MaxRequestLength: not an integer: "4MB"`},
		{[]string{"-config", conf("[hub]\nReadyTimeout = -5\n")}, `[hub] ReadyTimeout: must not be negative`},
		{[]string{"-config", conf("[hub]\nDBUser = koji\n")}, "[hub] DB options without DBName"},
		{[]string{"-config", conf("[hub]\nDNUsernameComponent = XX\n")}, `unsupported DNUsernameComponent "XX"`},
		{[]string{"-config", conf("[hub]\nHostPrincipalFormat = compile@EXAMPLE.COM\n")}, "must contain one %s"},
		{[]string{"-config", conf("[hub]\nAuthKeytab = /nonexistent/koji.keytab\n")}, "AuthKeytab"},
		{[]string{"-tls-cert", filepath.Join(dir, "none.pem"), "-tls-key", filepath.Join(dir, "none.key")}, "TLS certificate"},
		{[]string{"-listen", "256.0.0.1:http"}, "listen"},
	} {
		args := append([]string{"-data", data}, tc.args...)
		var stderr bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := run(ctx, args, &stderr, func(*hubserver.Hub) { t.Errorf("%v: the hub started", tc.args) })
		cancel()
		if assert.Error(t, err, "%v", tc.args) {
			assert.Contains(t, err.Error(), tc.want, "%v", tc.args)
		}
	}
}

// TestBinary builds the program and stops it with SIGTERM, as a service
// manager would.
func TestBinary(t *testing.T) {
	goTool := testenv.Command(t, "go")
	bin := filepath.Join(t.TempDir(), "kojihub")
	out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)

	data := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(data, "files", "work"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(data, "files", "work", "x.txt"), []byte("0123456789"), 0o644))
	cmd := exec.Command(bin, "-listen", "127.0.0.1:0", "-data", data, "-admin", "kojiadmin")
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	urlRE := regexp.MustCompile(`msg="kojihub started" url=(\S+)`)
	var url string
	deadline := time.After(30 * time.Second)
	for url == "" {
		select {
		case l, ok := <-lines:
			require.True(t, ok, "the program exited before starting")
			if m := urlRE.FindStringSubmatch(l); m != nil {
				url = m[1]
			}
		case <-deadline:
			t.Fatal("the program did not start")
		}
	}
	c, err := koji.NewClient(url)
	require.NoError(t, err)
	defer c.Close()
	var hello string
	require.NoError(t, c.Call(context.Background(), "hello", &hello))
	assert.Equal(t, "Hello World", hello)

	// The files are served at /kojifiles, a range as asked.
	req, err := http.NewRequest("GET", strings.TrimSuffix(url, "/kojihub")+FilesPath+"/work/x.txt", nil)
	require.NoError(t, err)
	req.Header.Set("Range", "bytes=7-")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusPartialContent, resp.StatusCode)
	assert.Equal(t, "789", string(body))

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	var rest []string
	for l := range lines {
		rest = append(rest, l)
	}
	select {
	case err := <-exited:
		assert.NoError(t, err, "a clean exit on SIGTERM")
	case <-time.After(30 * time.Second):
		t.Fatal("the program did not stop on SIGTERM")
	}
	assert.Contains(t, strings.Join(rest, "\n"), "kojihub stopping")
}
