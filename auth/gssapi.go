package auth

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/gokoji/gokoji/koji"
	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/keytab"
)

// GSSAPI logs in with Kerberos, as Koji's gssapi_login: it sends sslLogin
// to <hub>/ssllogin over https with SPNEGO ("Authorization: Negotiate"),
// requiring mutual authentication (see the package documentation), and
// the hub takes the user from the principal.
//
// Credentials come from Keytab when it is set, logging in as Principal,
// or else from the credential cache, as kinit left it. A connection
// failure is tried again up to the profile's max_retries times in all,
// retry_interval apart, as upstream does; other failures are not.
type GSSAPI struct {
	// Principal is the client principal, "name@REALM" or "name" in the
	// default realm. With Keytab it is required; without, it must match
	// the credential cache's principal when set.
	Principal string
	// Keytab is the path of a keytab holding Principal's keys.
	Keytab string
	// CCache is the path of a credential cache file; the default is
	// $KRB5CCNAME, or else /tmp/krb5cc_<uid>. Only FILE caches can be read:
	// with a KEYRING, KCM or DIR default cache, use a keytab or set
	// KRB5CCNAME to a FILE: cache for kinit.
	CCache string
	// Krb5Conf is the Kerberos configuration file; the default is the
	// first file of $KRB5_CONFIG, or else /etc/krb5.conf.
	Krb5Conf string
	// ServicePrincipal is the hub's service principal without its realm;
	// the default is HTTP/<host of the hub URL>. Set it when the hub is
	// reached through another name than its principal's.
	ServicePrincipal string
	// ProxyUser logs in as that user instead (sslLogin's proxyuser). The
	// hub allows it only for principals it lists in ProxyPrincipals.
	ProxyUser string
}

// Login obtains a session with sslLogin. A failure is a *LoginError of
// class koji.ErrGSSAPIAuth.
func (g *GSSAPI) Login(ctx context.Context, c *koji.Client, r koji.LoginRequest) (koji.SessionInfo, error) {
	info, err := g.login(ctx, c, r)
	if err != nil {
		return koji.SessionInfo{}, &LoginError{Class: koji.ErrGSSAPIAuth, Method: "gssapi", Err: err}
	}
	return info, nil
}

func (g *GSSAPI) login(ctx context.Context, c *koji.Client, r koji.LoginRequest) (koji.SessionInfo, error) {
	spn, err := g.servicePrincipal(c.Server())
	if err != nil {
		return koji.SessionInfo{}, err
	}
	st, err := g.serviceTicket(ctx, spn)
	if err != nil {
		return koji.SessionInfo{}, err
	}
	base, err := loginTransport(c)
	if err != nil {
		return koji.SessionInfo{}, err
	}
	defer base.CloseIdleConnections()
	t := &spnegoTransport{base: base, ticket: st}
	args := newSSLLoginArgs(g.ProxyUser, r)
	attempts := max(1, c.Profile().MaxRetries)
	for attempt := 1; ; attempt++ {
		info, err := c.LoginCall(ctx, "/ssllogin", t, "sslLogin", nil, args)
		if err == nil || attempt >= attempts || !isConnectionError(err) {
			return info, err
		}
		c.Logger().Warn("koji: retrying GSSAPI login", "attempt", attempt+1, "error", err.Error())
		if err := sleep(ctx, c.Profile().RetryInterval); err != nil {
			return koji.SessionInfo{}, err
		}
	}
}

// servicePrincipal returns the principal to ask a ticket for.
func (g *GSSAPI) servicePrincipal(hub string) (string, error) {
	if g.ServicePrincipal != "" {
		if strings.Contains(g.ServicePrincipal, "@") {
			return "", fmt.Errorf("service principal %q: give it without a realm; the realm comes from the Kerberos configuration", g.ServicePrincipal)
		}
		return g.ServicePrincipal, nil
	}
	u, err := url.Parse(hub)
	if err != nil || u.Hostname() == "" {
		return "", fmt.Errorf("no host in hub URL %q", hub)
	}
	return "HTTP/" + strings.ToLower(u.Hostname()), nil
}

// serviceTicket obtains a ticket for spn from the KDC (or the credential
// cache). gokrb5 takes no context; when ctx ends first, the exchange is
// left to finish in the background, within gokrb5's own time limits.
func (g *GSSAPI) serviceTicket(ctx context.Context, spn string) (*serviceTicket, error) {
	kc, err := g.kerberosClient()
	if err != nil {
		return nil, err
	}
	type result struct {
		st  *serviceTicket
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer kc.Destroy()
		tkt, key, err := kc.GetServiceTicket(spn)
		if err != nil {
			done <- result{err: fmt.Errorf("getting a ticket for %s: %w", spn, err)}
			return
		}
		done <- result{st: &serviceTicket{ticket: tkt, key: key, realm: kc.Credentials.Domain(), cname: kc.Credentials.CName()}}
	}()
	select {
	case r := <-done:
		return r.st, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// kerberosClient builds the Kerberos client from the keytab or the
// credential cache.
func (g *GSSAPI) kerberosClient() (*client.Client, error) {
	cfg, err := g.config()
	if err != nil {
		return nil, err
	}
	if g.Keytab != "" {
		if g.Principal == "" {
			return nil, errors.New("a keytab needs a principal to log in as")
		}
		path, err := fileName("keytab", g.Keytab)
		if err != nil {
			return nil, err
		}
		kt, err := keytab.Load(path)
		if err != nil {
			return nil, fmt.Errorf("keytab %s: %w", path, err)
		}
		name, realm := splitPrincipal(g.Principal, cfg.LibDefaults.DefaultRealm)
		return client.NewWithKeytab(name, realm, kt, cfg), nil
	}
	path, err := g.ccachePath()
	if err != nil {
		return nil, err
	}
	cc, err := credentials.LoadCCache(path)
	if err != nil {
		return nil, fmt.Errorf("credential cache %s: %w", path, err)
	}
	if g.Principal != "" {
		name, realm := splitPrincipal(g.Principal, cfg.LibDefaults.DefaultRealm)
		got := cc.GetClientPrincipalName().PrincipalNameString()
		if got != name || cc.GetClientRealm() != realm {
			return nil, fmt.Errorf("credential cache %s holds credentials for %s@%s, not %s@%s", path, got, cc.GetClientRealm(), name, realm)
		}
	}
	kc, err := client.NewFromCCache(cc, cfg)
	if err != nil {
		return nil, fmt.Errorf("credential cache %s: %w", path, err)
	}
	return kc, nil
}

// config loads the Kerberos configuration. Directives gokrb5 does not
// support are ignored, as its loader allows.
func (g *GSSAPI) config() (*config.Config, error) {
	path := g.Krb5Conf
	if path == "" {
		path, _, _ = strings.Cut(os.Getenv("KRB5_CONFIG"), ":")
	}
	if path == "" {
		path = "/etc/krb5.conf"
	}
	cfg, err := config.Load(path)
	var unsupported config.UnsupportedDirective
	if err != nil && !errors.As(err, &unsupported) {
		return nil, fmt.Errorf("kerberos configuration %s: %w", path, err)
	}
	return cfg, nil
}

func (g *GSSAPI) ccachePath() (string, error) {
	name := g.CCache
	if name == "" {
		name = os.Getenv("KRB5CCNAME")
	}
	if name == "" {
		return fmt.Sprintf("/tmp/krb5cc_%d", os.Getuid()), nil
	}
	return fileName("credential cache", name)
}

// fileName returns the path of a Kerberos "TYPE:residual" name, which must
// be a file.
func fileName(what, name string) (string, error) {
	kind, rest, found := strings.Cut(name, ":")
	switch {
	case !found, strings.HasPrefix(name, "/"):
		return name, nil
	case kind == "FILE" || kind == "WRFILE":
		return rest, nil
	}
	return "", fmt.Errorf("%s %s: only files can be read (FILE:)", what, name)
}

// splitPrincipal splits "name@REALM", defaulting the realm.
func splitPrincipal(p, defaultRealm string) (name, realm string) {
	if i := strings.LastIndexByte(p, '@'); i >= 0 {
		return p[:i], p[i+1:]
	}
	return p, defaultRealm
}

// isConnectionError reports a login request that failed to reach the hub
// or lost its connection, which upstream's gssapi_login tries again.
// Certificate and TLS failures, timeouts and cancellations are not.
func isConnectionError(err error) bool {
	var te *koji.TransportError
	var mutual *mutualAuthError
	if !errors.As(err, &te) || errors.As(err, &mutual) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var verify *tls.CertificateVerificationError
	var alert tls.AlertError
	var record tls.RecordHeaderError
	if errors.As(err, &verify) || errors.As(err, &alert) || errors.As(err, &record) {
		return false
	}
	var op *net.OpError
	return errors.As(err, &op) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
