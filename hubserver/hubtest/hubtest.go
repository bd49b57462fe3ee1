// Package hubtest runs hubserver hubs for tests: a real hub listening on a
// free loopback port, plain HTTP or HTTPS with certificates made for the
// test, stopped when the test ends.
package hubtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"log/slog"
	"math/big"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gokoji/gokoji/hubserver"
)

// Start runs a hub configured by cfg on a free loopback port (whatever
// cfg.ListenAddr says), after calling each register function on it, and
// shuts it down when the test ends. A nil cfg.Logger discards the logs. It serves plain HTTP unless cfg
// configures TLS; StartTLS makes the certificates too.
func Start(t testing.TB, cfg hubserver.Config, register ...func(*hubserver.Hub)) *hubserver.Hub {
	t.Helper()
	cfg.ListenAddr = "127.0.0.1:0"
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h, err := hubserver.New(cfg)
	if err != nil {
		t.Fatalf("hubtest: %v", err)
	}
	for _, r := range register {
		r(h)
	}
	if err := h.Start(context.Background()); err != nil {
		t.Fatalf("hubtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			t.Errorf("hubtest: shutdown: %v", err)
		}
	})
	return h
}

// PKI holds the certificates StartTLS made: a CA, the hub's certificate
// for 127.0.0.1 and localhost, and a client certificate, all signed by the
// CA.
type PKI struct {
	// CAPool trusts the CA; set it as a client's RootCAs.
	CAPool *x509.CertPool
	// CAPEM is the CA certificate in PEM form, for a Python or koji CLI
	// client's serverca.
	CAPEM []byte
	// Client is a client certificate whose subject CN is ClientName.
	Client     tls.Certificate
	ClientName string
}

// ClientTLS returns a client configuration trusting the hub, presenting
// the client certificate when withCert is true.
func (p *PKI) ClientTLS(withCert bool) *tls.Config {
	tc := &tls.Config{RootCAs: p.CAPool, MinVersion: tls.VersionTLS12}
	if withCert {
		tc.Certificates = []tls.Certificate{p.Client}
	}
	return tc
}

// StartTLS is Start with HTTPS: it makes a CA, a server certificate and a
// client certificate (CN clientName), and configures the hub to request a
// client certificate in the handshake and verify it against the CA when
// given.
func StartTLS(t testing.TB, cfg hubserver.Config, clientName string, register ...func(*hubserver.Hub)) (*hubserver.Hub, *PKI) {
	t.Helper()
	ca, caKey := newCert(t, "hubtest CA", nil, nil, true)
	server, serverKey := newCert(t, "127.0.0.1", ca, caKey, false)
	client, clientKey := newCert(t, clientName, ca, caKey, false)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	cfg.TLSConfig = &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{{Certificate: [][]byte{server.Raw}, PrivateKey: serverKey, Leaf: server}},
		ClientCAs:    pool,
		ClientAuth:   tls.VerifyClientCertIfGiven,
	}
	h := Start(t, cfg, register...)
	return h, &PKI{
		CAPool:     pool,
		CAPEM:      pemCert(ca),
		Client:     tls.Certificate{Certificate: [][]byte{client.Raw}, PrivateKey: clientKey, Leaf: client},
		ClientName: clientName,
	}
}

var serial atomic.Int64

func newCert(t testing.TB, cn string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, isCA bool) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("hubtest: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"gokoji hubtest"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	if isCA {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
		parent, parentKey = tmpl, key
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
		tmpl.DNSNames = []string{"localhost"}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatalf("hubtest: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("hubtest: %v", err)
	}
	return cert, key
}
