package builder_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/auth"
	"github.com/gokoji/gokoji/builder"
	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/koji"
)

// testCA issues the certificates of a hub run as a program: its own, and
// its clients', by CN.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
	dir  string
	n    int64
}

func newTestCA(t *testing.T) *testCA {
	ca := &testCA{dir: t.TempDir(), pool: x509.NewCertPool()}
	ca.cert, ca.key = ca.issue(t, "builder test CA", true)
	ca.pool.AddCert(ca.cert)
	return ca
}

func (ca *testCA) issue(t *testing.T, cn string, isCA bool) (*x509.Certificate, *ecdsa.PrivateKey) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ca.n++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(ca.n), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	parent, signer := tmpl, key
	if isCA {
		tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.ExtKeyUsage = true, true, nil
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	} else {
		parent, signer = ca.cert, ca.key
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return cert, key
}

// files writes a certificate for cn and its key as PEM files.
func (ca *testCA) files(t *testing.T, cn string) (certFile, keyFile string) {
	cert, key := ca.issue(t, cn, false)
	der, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile = filepath.Join(ca.dir, cn+".pem"), filepath.Join(ca.dir, cn+".key")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600))
	return certFile, keyFile
}

// client is a client of url trusting the CA, and the login as cn.
func (ca *testCA) client(t *testing.T, url, cn string) (*koji.Client, koji.Authenticator) {
	cert, key := ca.issue(t, cn, false)
	c, err := koji.NewClient(url, koji.WithHTTPClient(&http.Client{
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool, MinVersion: tls.VersionTLS12}},
	}))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c, &auth.SSL{Certificate: &tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}}
}

// buildHubProgram builds examples/kojihub.
func buildHubProgram(t *testing.T) string {
	goTool := testenv.Command(t, "go")
	bin := filepath.Join(t.TempDir(), "kojihub")
	out, err := exec.Command(goTool, "build", "-o", bin, "../examples/kojihub").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

// runHubProgram runs the kojihub program bin on HTTPS with
// client certificates, the admin kojiadmin, on the database dsn (a
// PostgreSQL URL, or "" for SQLite in its data directory), and returns
// its URL and files directory.
func runHubProgram(t *testing.T, bin string, ca *testCA, dsn string) (url, top string) {
	caFile := filepath.Join(ca.dir, "ca.pem")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw}), 0o600))
	certFile, keyFile := ca.files(t, "127.0.0.1")
	data := t.TempDir()
	args := []string{"-listen", "127.0.0.1:0", "-data", data, "-admin", "kojiadmin",
		"-tls-cert", certFile, "-tls-key", keyFile, "-client-ca", caFile, "-log-level", "info"}
	if dsn != "" {
		args = append(args, "-db", dsn)
	}
	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	found := make(chan string, 1)
	go func() {
		defer close(exited)
		re := regexp.MustCompile(`msg="kojihub started" url=(\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			} else if os.Getenv("BUILDER_TEST_LOG") != "" {
				t.Log(sc.Text())
			}
		}
		_ = cmd.Wait()
	}()
	select {
	case url = <-found:
	case <-exited:
		t.Fatal("kojihub exited before starting")
	case <-time.After(60 * time.Second):
		t.Fatal("kojihub did not start")
	}
	return url, filepath.Join(data, "files")
}

// The builder talks to a hub run as a program of its own only through
// the wire: XML-RPC calls, uploads, and downloads from its /kojifiles.
// A build into the target and a repo of the destination tag come out
// as in TestBuildAndRepo.
func TestBuildAgainstHubProgram(t *testing.T) {
	testenv.Command(t, "rpmbuild")
	testenv.Command(t, "createrepo_c")
	bin := buildHubProgram(t)
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			var dsn string
			if backend == "postgres" {
				dsn = testenv.PostgresDSN(t)
			}
			ca := newTestCA(t)
			url, top := runHubProgram(t, bin, ca, dsn)
			ctx := context.Background()
			admin, a := ca.client(t, url, "kojiadmin")
			require.NoError(t, admin.Login(ctx, a))
			require.NoError(t, admin.Call(ctx, "addHost", nil, "builder1", []string{"x86_64"}))
			setupTags(t, admin, "builder1", "hello")

			c, hostAuth := ca.client(t, url, "builder1")
			d, err := builder.New(builder.Config{Client: c, Auth: hostAuth, WorkDir: t.TempDir(),
				TopURL: strings.TrimSuffix(url, "/kojihub") + "/kojifiles", MinSpace: -1, MaxLoad: -1,
				SleepTime: 500 * time.Millisecond, CheckInterval: 200 * time.Millisecond, LogInterval: 100 * time.Millisecond,
				Logger: testLogger().With("host", "builder1")}, buildHandlers()...)
			require.NoError(t, err)
			start(t, d)
			buildAndRepo(t, admin, top)
		})
	}
}
