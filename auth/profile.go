package auth

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"os"

	"github.com/gokoji/gokoji/koji"
)

// FromProfile chooses the login a profile asks for, as the koji
// command-line client does (activate_session):
//
//   - authtype noauth: no login; FromProfile returns nil and no error.
//   - authtype ssl, or no authtype and a cert file that exists: SSL with
//     that certificate.
//   - authtype password: an error, since a profile cannot hold a user
//     name or password; use Password.
//   - authtype kerberos, or no authtype: GSSAPI with the profile's
//     principal, and its keytab when a principal is set.
//
// proxyUser, when not empty, logs in as that user instead (the CLI's
// --runas); the hub must allow the certificate or principal to do so.
func FromProfile(p *koji.Profile, proxyUser string) (koji.Authenticator, error) {
	switch {
	case p.AuthType == "noauth":
		return nil, nil
	case p.AuthType == "ssl" && p.Cert == "":
		return nil, &koji.ConfigError{Profile: p.Name, Option: "cert", Err: errors.New("authtype ssl needs a client certificate")}
	case p.AuthType == "ssl", p.AuthType == "" && isFile(p.Cert):
		return &SSL{CertFile: p.Cert, ProxyUser: proxyUser}, nil
	case p.AuthType == "password":
		return nil, &koji.ConfigError{Profile: p.Name, Option: "authtype",
			Err: errors.New("authtype password needs a user name and password, which a profile cannot hold; log in with auth.Password")}
	case p.AuthType == "kerberos", p.AuthType == "":
		g := &GSSAPI{Principal: p.Principal, ProxyUser: proxyUser}
		if p.Principal != "" {
			g.Keytab = p.Keytab
		}
		return g, nil
	}
	return nil, &koji.ConfigError{Profile: p.Name, Option: "authtype",
		Err: fmt.Errorf("unknown authtype %q: no authentication method available", p.AuthType)}
}

func isFile(path string) bool {
	if path == "" {
		return false
	}
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// Open loads the named profile from the standard configuration files (see
// koji.LoadProfile) and returns a client for it, logged in as the profile
// says (see FromProfile); with authtype noauth it is anonymous. With a
// client certificate, the client presents it on every request, as Koji's
// does. opts apply after the profile's settings. Close the client when
// done: it logs out.
func Open(ctx context.Context, profile string, opts ...koji.Option) (*koji.Client, error) {
	p, err := koji.LoadProfile(profile)
	if err != nil {
		return nil, err
	}
	return OpenProfile(ctx, p, opts...)
}

// OpenProfile is Open with a profile already loaded or built by hand.
func OpenProfile(ctx context.Context, p *koji.Profile, opts ...koji.Option) (*koji.Client, error) {
	a, err := FromProfile(p, "")
	if err != nil {
		return nil, err
	}
	if s, ok := a.(*SSL); ok {
		hc, err := certificateClient(p, s)
		if err != nil {
			return nil, &LoginError{Class: koji.ErrAuth, Method: "ssl", Err: err}
		}
		opts = append([]koji.Option{koji.WithHTTPClient(hc)}, opts...)
	}
	c, err := koji.NewClientFromProfile(p, opts...)
	if err != nil {
		return nil, err
	}
	if a == nil {
		return c, nil
	}
	if err := c.Login(ctx, a); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// certificateClient returns the HTTP client NewClientFromProfile would
// build, presenting the certificate whenever the hub asks for one.
func certificateClient(p *koji.Profile, s *SSL) (*http.Client, error) {
	cert, err := s.certificate()
	if err != nil {
		return nil, err
	}
	cfg, err := koji.TLSConfig(p)
	if err != nil {
		return nil, err
	}
	cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = cfg
	return &http.Client{Transport: t}, nil
}

// Login logs c in as its profile says (see FromProfile); with authtype
// noauth it does nothing.
func Login(ctx context.Context, c *koji.Client) error {
	a, err := FromProfile(c.Profile(), "")
	if err != nil || a == nil {
		return err
	}
	return c.Login(ctx, a)
}
