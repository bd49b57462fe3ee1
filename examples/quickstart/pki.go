package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"time"
)

// A pki is a certificate authority made for one run, in memory: it
// signs the hub's server certificate and the client certificates the
// admin and the builder log in with (sslLogin takes the user from the
// CN), as a Koji site's CA does.
type pki struct {
	ca     *x509.Certificate
	key    *ecdsa.PrivateKey
	pool   *x509.CertPool
	serial int64
}

func newPKI() (*pki, error) {
	p := &pki{pool: x509.NewCertPool()}
	ca, key, err := p.issue("gokoji quickstart CA", true)
	if err != nil {
		return nil, err
	}
	p.ca, p.key = ca.Leaf, key
	p.pool.AddCert(p.ca)
	return p, nil
}

// issue makes a certificate for cn, signed by the CA (self-signed for the
// CA itself), valid for a day; an IP address cn is also its IP SAN.
func (p *pki) issue(cn string, isCA bool) (tls.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("certificate for %s: %w", cn, err)
	}
	p.serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(p.serial),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"gokoji quickstart"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	parent, signer := p.ca, p.key
	if isCA {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
		tmpl.ExtKeyUsage = nil
		parent, signer = tmpl, key
	} else if ip := net.ParseIP(cn); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("certificate for %s: %w", cn, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("certificate for %s: %w", cn, err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, key, nil
}

// cert is a certificate (server or client) for cn.
func (p *pki) cert(cn string) (*tls.Certificate, error) {
	c, _, err := p.issue(cn, false)
	return &c, err
}

// serverTLS is the hub's TLS configuration: its certificate, and client
// certificates asked for in the handshake and checked against the CA.
func (p *pki) serverTLS() (*tls.Config, error) {
	c, err := p.cert("127.0.0.1")
	if err != nil {
		return nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{*c},
		ClientCAs: p.pool, ClientAuth: tls.VerifyClientCertIfGiven}, nil
}

// clientTLS trusts the CA.
func (p *pki) clientTLS() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: p.pool}
}
