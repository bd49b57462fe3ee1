package hubserver

import (
	"context"
	"crypto/subtle"
	"crypto/x509/pkix"
	"errors"
	"slices"
	"strings"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
)

// LoginResult is what the login methods answer: the new session's id and
// key, and header-auth, which tells 1.31+ clients to send them as headers.
type LoginResult struct {
	SessionID  int64  `xmlrpc:"session-id"`
	SessionKey string `xmlrpc:"session-key"`
	HeaderAuth bool   `xmlrpc:"header-auth"`
}

// dnComponents map DNUsernameComponent names to a subject's values.
var dnComponents = map[string]func(pkix.Name) []string{
	"CN":           func(n pkix.Name) []string { return nonEmpty(n.CommonName) },
	"SERIALNUMBER": func(n pkix.Name) []string { return nonEmpty(n.SerialNumber) },
	"O":            func(n pkix.Name) []string { return n.Organization },
	"OU":           func(n pkix.Name) []string { return n.OrganizationalUnit },
	"C":            func(n pkix.Name) []string { return n.Country },
	"L":            func(n pkix.Name) []string { return n.Locality },
	"ST":           func(n pkix.Name) []string { return n.Province },
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// sessionMethods are the login, logout and session methods of upstream's
// auth.Session, exported under RootExports' names.
func (k *Koji) sessionMethods() []Method {
	return []Method{
		{
			Name: "sslLogin", PyName: "Session.sslLogin", Bound: true,
			Args: []Arg{{Name: "proxyuser", Default: None}, {Name: "proxyauthtype", Default: None},
				{Name: "renew", Default: false}, {Name: "exclusive", Default: None}},
			Func: k.sslLogin,
		},
		{
			Name: "login", PyName: "Session.login", Bound: true,
			Args: []Arg{{Name: "user"}, {Name: "password"}, {Name: "opts", Default: None},
				{Name: "renew", Default: false}, {Name: "exclusive", Default: false}},
			Func: k.passwordLogin,
		},
		{
			Name: "logout", PyName: "Session.logout", Bound: true,
			Args: []Arg{{Name: "session_id", Default: None}},
			Func: k.logout,
		},
		{
			Name: "logoutChild", PyName: "Session.logoutChild", Bound: true,
			Args: []Arg{{Name: "session_id"}},
			Func: k.logoutChild,
		},
		{
			Name: "subsession", PyName: "Session.subsession", Bound: true,
			Func: k.subsession,
		},
		{
			Name: "exclusiveSession", PyName: "Session.makeExclusive", Bound: true,
			Args: []Arg{{Name: "force", Default: false}},
			Func: k.exclusiveSession,
		},
		{
			Name: "sharedSession", PyName: "Session.makeShared", Bound: true,
			Func: k.sharedSession,
		},
		k.showSessionMethod(),
	}
}

// loggedIn returns the caller's session row, or AuthError "Not logged in".
func loggedIn(ctx context.Context) (*store.Session, error) {
	s := SessionFrom(ctx)
	if s == nil || s.UserID == 0 {
		return nil, fault(koji.ErrAuth, "Not logged in")
	}
	return storeTx(ctx).GetSession(ctx, int64(s.ID))
}

func (k *Koji) sslLogin(ctx context.Context, proxyuser *string, proxyauthtype *int, renew bool, exclusive *bool) (*LoginResult, error) {
	if s := SessionFrom(ctx); s != nil && s.UserID != 0 {
		return nil, fault(koji.ErrAuth, "Already logged in")
	}
	r := RequestFrom(ctx)
	var username, clientDN string
	var authtype int
	if principal, ok := gssapiPrincipal(ctx); ok {
		// A GSSAPI login: the middleware verified the principal, as
		// mod_auth_gssapi sets REMOTE_USER.
		username, clientDN, authtype = principal, principal, store.AuthTypeGSSAPI
	} else {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			return nil, fault(koji.ErrAuth, "could not verify client: NONE")
		}
		subject := r.TLS.PeerCertificates[0].Subject
		values := dnComponents[k.cfg.DNUsernameComponent](subject)
		if len(values) == 0 {
			return nil, fault(koji.ErrAuth, "unable to get user information (%s) from client certificate", k.cfg.DNUsernameComponent)
		}
		username, clientDN, authtype = values[0], subject.String(), store.AuthTypeSSL
	}
	if proxyuser != nil && *proxyuser != "" {
		proxies := k.cfg.ProxyDNs
		if authtype == store.AuthTypeGSSAPI {
			proxies = k.cfg.ProxyPrincipals
		}
		if !slices.Contains(proxies, clientDN) {
			return nil, fault(koji.ErrAuth, "%s is not authorized to login other users", clientDN)
		}
		username = *proxyuser
		if proxyauthtype != nil {
			if !k.cfg.AllowProxyAuthType && *proxyauthtype != authtype {
				return nil, fault(koji.ErrAuth, "Proxy must use same auth mechanism as hub (behaviour can be overriden via AllowProxyAuthType hub option)")
			}
			if *proxyauthtype != store.AuthTypeGSSAPI && *proxyauthtype != store.AuthTypeSSL {
				return nil, fault(koji.ErrAuth, "Proxied authtype %d is not valid for sslLogin", *proxyauthtype)
			}
			authtype = *proxyauthtype
		}
	}
	u, err := k.loginUser(ctx, username, authtype == store.AuthTypeGSSAPI && strings.Contains(username, "@"))
	if err != nil {
		return nil, err
	}
	return k.createSession(ctx, u, authtype, k.clientIP(r), renew, exclusive != nil && *exclusive)
}

// loginUser finds the user logging in by name or, for a Kerberos
// principal, by the principals users own, as upstream's getUserId and
// getUserIdFromKerberos. An unknown user is created unless
// DisableUserCreation; from a principal, as upstream's
// createUserFromKerberos: the name is the principal's part before "@", and
// an existing user of that name gets the principal.
func (k *Koji) loginUser(ctx context.Context, username string, byPrincipal bool) (*store.User, error) {
	tx := storeTx(ctx)
	var u *store.User
	var err error
	if byPrincipal {
		if err := k.checkKrbPrincipal(username); err != nil {
			return nil, err
		}
		u, err = tx.GetUserByKrbPrincipal(ctx, username)
	} else {
		u, err = tx.GetUserByName(ctx, username)
	}
	if !errors.Is(err, store.ErrNotFound) {
		return u, err
	}
	if k.cfg.DisableUserCreation {
		return nil, fault(koji.ErrAuth, "Unknown user: %s", username)
	}
	name := username
	if byPrincipal {
		name = username[:strings.IndexByte(username, '@')]
		if u, err = tx.GetUserByName(ctx, name); err == nil {
			return u, tx.AddKrbPrincipal(ctx, u.ID, username)
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	u = &store.User{Name: name, Status: store.UserStatusNormal, UserType: store.UserTypeNormal}
	if u.ID, err = tx.CreateUser(ctx, *u); err != nil {
		return nil, err
	}
	if byPrincipal {
		err = tx.AddKrbPrincipal(ctx, u.ID, username)
	}
	LoggerFrom(ctx).Info("user created by login", "new_user", name)
	return u, err
}

func (k *Koji) passwordLogin(ctx context.Context, user, password string, opts map[string]any, renew, exclusive bool) (*LoginResult, error) {
	if !k.cfg.AllowPasswordLogin {
		return nil, fault(koji.ErrAuth, "password logins are disabled on this hub")
	}
	ip := k.clientIP(RequestFrom(ctx))
	if h, ok := opts["hostip"].(string); ok && !k.cfg.IgnoreClientIP {
		ip = h
	}
	if s := SessionFrom(ctx); s != nil && s.UserID != 0 {
		return nil, fault(koji.ErrAuth, "Already logged in")
	}
	u, err := storeTx(ctx).GetUserByName(ctx, user)
	if errors.Is(err, store.ErrNotFound) || err == nil && (u.Password == nil || password == "" ||
		subtle.ConstantTimeCompare([]byte(*u.Password), []byte(password)) != 1) {
		return nil, fault(koji.ErrAuth, "invalid username or password")
	}
	if err != nil {
		return nil, err
	}
	return k.createSession(ctx, u, store.AuthTypeNormal, ip, renew, exclusive)
}

// createSession logs u in, as upstream's Session.createSession: with
// renew, the expired session the request carries keeps its id under a new
// key; otherwise a new session starts. Only a session of the same user is
// renewed. With exclusive the session is then made exclusive.
func (k *Koji) createSession(ctx context.Context, u *store.User, authtype int, ip string, renew, exclusive bool) (*LoginResult, error) {
	if u.Status != store.UserStatusNormal {
		return nil, fault(koji.ErrAuth, "logins by %s are not allowed", u.Name)
	}
	tx := storeTx(ctx)
	key := newSessionKey(u.ID)
	var id int64
	renewed := false
	if renew {
		old, _, _, err := k.carriedSession(ctx, RequestFrom(ctx))
		if err != nil {
			return nil, err
		}
		if old != nil && old.UserID == u.ID {
			if old.Master != nil {
				if m, err := tx.GetSession(ctx, *old.Master); err != nil || m.Closed {
					return nil, err // upstream answers None when the master is closed
				}
			}
			if err := tx.RenewSession(ctx, old.ID, key); err != nil {
				return nil, err
			}
			id, renewed = old.ID, true
		}
	}
	if id == 0 {
		var err error
		id, err = tx.CreateSession(ctx, store.Session{UserID: u.ID, Key: key, AuthType: authtype, HostIP: ip})
		if err != nil {
			return nil, err
		}
	}
	s, err := tx.GetSession(ctx, id)
	if err != nil {
		return nil, err
	}
	if exclusive {
		if ex, err := sessionExclusive(ctx, tx, s); err != nil {
			return nil, err
		} else if !ex {
			if err := makeExclusive(ctx, tx, s, false); err != nil {
				return nil, err
			}
		}
	}
	// The rest of the request's lines name the new session, as upstream's
	// do once its login has set context.session up.
	callFrom(ctx).setCaller(&Session{ID: int(id), UserID: int(u.ID), UserName: u.Name})
	relabelled(ctx).Info("logged in", "renewed", renewed)
	return &LoginResult{SessionID: id, SessionKey: key, HeaderAuth: true}, nil
}

// makeExclusive makes s the exclusive session of its user, as upstream's
// Session.makeExclusive; force closes the user's other exclusive session.
func makeExclusive(ctx context.Context, tx *store.Tx, s *store.Session, force bool) error {
	if s.Master != nil {
		return fault(koji.ErrGeneric, "subsessions cannot become exclusive")
	}
	if s.Exclusive {
		return fault(koji.ErrGeneric, "session is already exclusive")
	}
	other, err := tx.ExclusiveSession(ctx, s.UserID)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return err
	case !force:
		return fault(koji.ErrAuthLock, "Cannot get exclusive session")
	default:
		if err := tx.CloseSession(ctx, other.ID); err != nil {
			return err
		}
	}
	return tx.SetSessionExclusive(ctx, s.ID, true)
}

func (k *Koji) logout(ctx context.Context, sessionID *int64) error {
	s, err := loggedIn(ctx)
	if err != nil {
		return err
	}
	tx := storeTx(ctx)
	id := s.ID
	if sessionID != nil {
		id = *sessionID
		other, err := tx.GetSession(ctx, id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		markPermsRead(ctx)
		admin, err := hasPerm(ctx, tx, s.UserID, "admin")
		if err != nil {
			return err
		}
		if !admin && (other == nil || other.UserID != s.UserID) {
			return fault(koji.ErrActionNotAllowed, "only admins or owner may logout other session")
		}
		if other == nil {
			return nil
		}
	}
	return tx.CloseSession(ctx, id)
}

func (k *Koji) logoutChild(ctx context.Context, sessionID int64) error {
	s, err := loggedIn(ctx)
	if err != nil {
		return err
	}
	tx := storeTx(ctx)
	child, err := tx.GetSession(ctx, sessionID)
	if errors.Is(err, store.ErrNotFound) || err == nil && (child.Master == nil || *child.Master != s.ID) {
		return nil // upstream's UPDATE … WHERE id = … AND master = … matches nothing
	}
	if err != nil {
		return err
	}
	return tx.CloseSession(ctx, sessionID)
}

func (k *Koji) subsession(ctx context.Context) (*LoginResult, error) {
	s, err := loggedIn(ctx)
	if err != nil {
		return nil, err
	}
	master := s.ID
	if s.Master != nil {
		master = *s.Master
	}
	key := newSessionKey(s.UserID)
	id, err := storeTx(ctx).CreateSession(ctx, store.Session{
		UserID: s.UserID, Master: &master, Key: key, AuthType: s.AuthType, HostIP: s.HostIP,
	})
	if err != nil {
		return nil, err
	}
	return &LoginResult{SessionID: id, SessionKey: key, HeaderAuth: true}, nil
}

func (k *Koji) exclusiveSession(ctx context.Context, force bool) error {
	s, err := loggedIn(ctx)
	if err != nil {
		return err
	}
	return makeExclusive(ctx, storeTx(ctx), s, force)
}

func (k *Koji) sharedSession(ctx context.Context) error {
	s, err := loggedIn(ctx)
	if err != nil {
		return err
	}
	if s.Master != nil {
		return fault(koji.ErrGeneric, "subsessions cannot become shared")
	}
	return storeTx(ctx).SetSessionExclusive(ctx, s.ID, false)
}
