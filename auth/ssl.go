package auth

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"

	"github.com/gokoji/gokoji/koji"
)

// SSL logs in with a TLS client certificate, as Koji's ssl_login: it sends
// sslLogin to <hub>/ssllogin over https, presenting the certificate, and
// the hub takes the user name from the certificate's subject (CN by
// default). See the package documentation for the hub setups that work.
//
// The login is sent through a clone of the client's *http.Transport, or
// of http.DefaultTransport when the client uses another kind of
// RoundTripper, keeping its proxy settings and TLS roots (the profile's
// serverca and no_ssl_verify when the transport has no TLS settings).
type SSL struct {
	// CertFile is a PEM file holding the certificate and, unless KeyFile
	// is set, its private key, as Koji's cert option.
	CertFile string
	// KeyFile is a PEM file holding the private key, when CertFile holds
	// only the certificate.
	KeyFile string
	// Certificate is presented instead of the files when it is set.
	Certificate *tls.Certificate
	// ProxyUser logs in as that user instead of the certificate's
	// (sslLogin's proxyuser, the CLI's --runas). The hub allows it only
	// for certificates whose subject it lists in ProxyDNs.
	ProxyUser string
}

// Login obtains a session with sslLogin. A failure is a *LoginError of
// class koji.ErrAuth.
func (s *SSL) Login(ctx context.Context, c *koji.Client, r koji.LoginRequest) (koji.SessionInfo, error) {
	info, err := s.login(ctx, c, r)
	if err != nil {
		return koji.SessionInfo{}, &LoginError{Class: koji.ErrAuth, Method: "ssl", Err: err}
	}
	return info, nil
}

func (s *SSL) login(ctx context.Context, c *koji.Client, r koji.LoginRequest) (koji.SessionInfo, error) {
	cert, err := s.certificate()
	if err != nil {
		return koji.SessionInfo{}, err
	}
	t, err := newCertTransport(c, cert)
	if err != nil {
		return koji.SessionInfo{}, err
	}
	defer t.CloseIdleConnections()
	return c.LoginCall(ctx, "/ssllogin", t, "sslLogin", nil, newSSLLoginArgs(s.ProxyUser, r))
}

// certificate returns the certificate to present, read anew at each login
// so that a renewal picks up a replaced certificate.
func (s *SSL) certificate() (tls.Certificate, error) {
	if s.Certificate != nil {
		return *s.Certificate, nil
	}
	if s.CertFile == "" {
		return tls.Certificate{}, errors.New("no client certificate provided")
	}
	keyFile := s.KeyFile
	if keyFile == "" {
		keyFile = s.CertFile
	}
	cert, err := tls.LoadX509KeyPair(s.CertFile, keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("client certificate %s: %w", s.CertFile, err)
	}
	return cert, nil
}

// sslLoginArgs are sslLogin's keyword arguments as Koji's client sends
// them: proxyuser always, None when unset; renew and the session's
// exclusivity only when renewing an expired session.
type sslLoginArgs struct {
	ProxyUser *string `xmlrpc:"proxyuser"`
	Renew     bool    `xmlrpc:"renew,omitempty"`
	Exclusive *bool   `xmlrpc:"exclusive,omitempty"`
}

func newSSLLoginArgs(proxyUser string, r koji.LoginRequest) sslLoginArgs {
	var args sslLoginArgs
	if proxyUser != "" {
		args.ProxyUser = &proxyUser
	}
	if r.Renew {
		args.Renew = true
		args.Exclusive = &r.Exclusive
	}
	return args
}

// loginTransport returns a transport for one login: a clone of the
// client's, speaking HTTP/1.1 only, as Python's requests does; TLS
// renegotiation, which a hub may use to ask for the certificate, does not
// exist in HTTP/2.
func loginTransport(c *koji.Client) (*http.Transport, error) {
	var t *http.Transport
	if ht, ok := c.HTTPClient().Transport.(*http.Transport); ok {
		t = ht.Clone()
	} else {
		t = http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = nil
	}
	if t.TLSClientConfig == nil {
		cfg, err := koji.TLSConfig(c.Profile())
		if err != nil {
			return nil, err
		}
		t.TLSClientConfig = cfg
	}
	t.TLSClientConfig.NextProtos = nil
	t.Protocols = new(http.Protocols)
	t.Protocols.SetHTTP1(true)
	return t, nil
}

// certTransport presents a client certificate whenever the hub asks for
// one, in the handshake or by TLS 1.2 renegotiation.
type certTransport struct {
	modern *http.Transport // the TLS versions the client allows
	legacy *http.Transport // at most TLS 1.2, for hubs that renegotiate
	log    func(msg string, args ...any)
	asked  atomic.Bool // the hub asked for the certificate in a handshake
}

func newCertTransport(c *koji.Client, cert tls.Certificate) (*certTransport, error) {
	t, err := loginTransport(c)
	if err != nil {
		return nil, err
	}
	ct := &certTransport{modern: t, log: c.Logger().Info}
	// Like OpenSSL, present the certificate whatever CAs the hub names;
	// tls.Config.Certificates would send none when the issuer is not
	// among them. The call also tells that the hub asked.
	t.TLSClientConfig.Certificates = nil
	t.TLSClientConfig.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		ct.asked.Store(true)
		return &cert, nil
	}
	t.TLSClientConfig.Renegotiation = tls.RenegotiateOnceAsClient
	ct.legacy = t.Clone()
	ct.legacy.TLSClientConfig.MaxVersion = tls.VersionTLS12
	return ct, nil
}

// RoundTrip sends req. A hub that asks for the certificate only at
// /ssllogin needs post-handshake authentication under TLS 1.3, which Go
// does not implement, and httpd answers 403, without having asked or,
// when the virtual host asked in the handshake but /ssllogin asks again,
// saying it cannot perform post-handshake authentication; the request
// then goes again over TLS 1.2, where the hub renegotiates. When that
// fails too, as with a hub that accepts only TLS 1.3, the 403 is the
// answer, and the retry's error is only logged. A 403 of a hub that asked
// for the certificate for any other reason is final.
func (t *certTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.modern.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusForbidden || resp.TLS == nil ||
		resp.TLS.Version != tls.VersionTLS13 || req.GetBody == nil {
		return resp, err
	}
	// Keep the 403 for when there is no retry or it fails; the connection
	// may be reused.
	text, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(text))
	switch {
	case !t.asked.Load():
		t.log("koji: hub refused the certificate login over TLS 1.3 without asking for the certificate; retrying over TLS 1.2")
	case bytes.Contains(text, []byte("Post-Handshake Authentication")):
		t.log("koji: hub refused the certificate login over TLS 1.3 for want of post-handshake authentication; retrying over TLS 1.2")
	default:
		return resp, nil
	}
	body, err := req.GetBody()
	if err != nil {
		return resp, nil
	}
	retry := req.Clone(req.Context())
	retry.Body = body
	legacy, err := t.legacy.RoundTrip(retry)
	if err != nil && req.Context().Err() == nil {
		t.log("koji: the certificate login over TLS 1.2 failed; the hub's 403 over TLS 1.3 stands", "err", err)
		return resp, nil
	}
	return legacy, err
}

// CloseIdleConnections closes the login's connections.
func (t *certTransport) CloseIdleConnections() {
	t.modern.CloseIdleConnections()
	t.legacy.CloseIdleConnections()
}

// discard reads a little of a response that is not used, so that its
// connection may be reused, and closes it.
func discard(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}
