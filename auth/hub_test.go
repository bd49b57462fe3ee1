package auth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
	"github.com/stretchr/testify/require"
)

// discardLog silences the TLS handshake errors the tests provoke.
var discardLog = log.New(io.Discard, "", 0)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
	file string // the CA certificate as PEM, for a profile's serverca
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"gokoji test"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	ca := &testCA{cert: cert, key: key, pool: x509.NewCertPool()}
	ca.pool.AddCert(cert)
	ca.file = filepath.Join(t.TempDir(), name+".crt")
	require.NoError(t, os.WriteFile(ca.file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	return ca
}

// serial numbers the issued certificates after the CAs' own, number 1.
var serial atomic.Int64

// issue makes a certificate for a server at 127.0.0.1 or a client named
// cn, and writes it with its key to one PEM file, as Koji's cert option
// expects.
func (ca *testCA) issue(t *testing.T, cn string, server bool) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1) + 1),
		Subject:      pkix.Name{CommonName: cn, OrganizationalUnit: []string{cn}, Organization: []string{"gokoji test"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	file := filepath.Join(t.TempDir(), cn+".pem")
	require.NoError(t, os.WriteFile(file, append(certPEM, keyPEM...), 0o600))
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(t, err)
	return pair, file
}

// startTLSHub serves h over TLS with a certificate from ca, asking for
// client certificates as clientAuth says and trusting those of clientCA.
func startTLSHub(t *testing.T, h http.Handler, ca *testCA, clientAuth tls.ClientAuthType, clientCA *testCA) *httptest.Server {
	t.Helper()
	serverCert, _ := ca.issue(t, "hub", true)
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientAuth: clientAuth}
	if clientCA != nil {
		srv.TLS.ClientCAs = clientCA.pool
	}
	srv.Config.ErrorLog = discardLog
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// newTestClient returns a client for the hub at url trusting ca, with
// quick retries.
func newTestClient(t *testing.T, url string, ca *testCA, opts ...koji.Option) *koji.Client {
	t.Helper()
	p := koji.DefaultProfile()
	p.Name = "test"
	p.Server = url
	p.Cert = ""
	if ca != nil {
		p.ServerCA = ca.file
	}
	p.MaxRetries = 2
	p.RetryInterval = 10 * time.Millisecond
	c, err := koji.NewClientFromProfile(p, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// hubCall is a call a fake hub received.
type hubCall struct {
	Path    string
	Method  string
	Params  []any
	Kwargs  map[string]any
	Header  http.Header
	TLS     *tls.ConnectionState
	Body    []byte
	Subject string // the client certificate's CN, if any
}

// recorder keeps the calls a fake hub received.
type recorder struct {
	mu    sync.Mutex
	calls []hubCall
}

func (rec *recorder) add(t *testing.T, r *http.Request) hubCall {
	body, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	call := hubCall{Path: r.URL.Path, Header: r.Header.Clone(), TLS: r.TLS, Body: body}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		call.Subject = r.TLS.PeerCertificates[0].Subject.CommonName
	}
	if c, err := xmlrpc.DecodeCall(body); err == nil {
		call.Method = c.Method
		for _, p := range c.Params {
			var v any
			require.NoError(t, p.Decode(&v))
			call.Params = append(call.Params, v)
		}
		if c.Kwargs != nil {
			call.Kwargs = map[string]any{}
			for k, p := range c.Kwargs {
				var v any
				require.NoError(t, p.Decode(&v))
				call.Kwargs[k] = v
			}
		}
	}
	rec.mu.Lock()
	rec.calls = append(rec.calls, call)
	rec.mu.Unlock()
	return call
}

func (rec *recorder) all() []hubCall {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]hubCall(nil), rec.calls...)
}

// reply writes an XML-RPC response, or a fault when v is one.
func reply(t *testing.T, w http.ResponseWriter, v any) {
	var body []byte
	var err error
	if f, ok := v.(*xmlrpc.Fault); ok {
		body, err = xmlrpc.MarshalFault(f)
	} else {
		body, err = xmlrpc.MarshalResponse(v)
	}
	require.NoError(t, err)
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write(body)
}

func session(id int64, key string) map[string]any {
	return map[string]any{"session-id": id, "session-key": key, "header-auth": true}
}
