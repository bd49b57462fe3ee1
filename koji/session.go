package koji

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/gokoji/gokoji/xmlrpc"
)

// SessionInfo is what a login returns: the hub's createSession struct.
type SessionInfo struct {
	ID  int64  `xmlrpc:"session-id"`
	Key string `xmlrpc:"session-key"`
	// HeaderAuth is set by hubs from 1.31 on, which read the session from
	// request headers; older hubs read it from the URL.
	HeaderAuth bool `xmlrpc:"header-auth"`
}

// String describes the session without its key.
func (s SessionInfo) String() string { return fmt.Sprintf("session %d", s.ID) }

// LoginRequest says what kind of login an Authenticator is asked for.
type LoginRequest struct {
	// Renew asks the hub to renew the expired session whose headers the
	// login request carries (keeping its id) instead of creating one.
	Renew bool
	// Exclusive asks for the session to be exclusive again, as it was.
	Exclusive bool
}

// An Authenticator obtains a session from the hub. Package auth provides
// SSL client certificate, Kerberos (GSSAPI) and password logins; they send
// their login call with Client.LoginCall.
type Authenticator interface {
	Login(ctx context.Context, c *Client, r LoginRequest) (SessionInfo, error)
}

// authState is the client's logged-in state: the authenticator (for
// renewal), the login session and the pool of sessions carrying calls.
type authState struct {
	authenticator Authenticator
	master        *session
	idle          chan *session // sessions not carrying a call

	mu       sync.Mutex
	sessions []*session // master first, then subsessions
	opening  int        // subsessions being opened
}

// session is one hub session. It carries one call at a time: Koji checks
// that callnums arrive in order, so a session's calls must not overlap.
type session struct {
	state      *authState
	id         int64
	key        string
	headerAuth bool
	callnum    int64
	exclusive  bool
	master     bool
}

func newSession(st *authState, info SessionInfo, master bool) *session {
	return &session{state: st, id: info.ID, key: info.Key, headerAuth: info.HeaderAuth, master: master}
}

// nextCallnum returns the callnum for the next call. The session is held
// by exactly one caller, so no lock is needed.
func (s *session) nextCallnum() int64 {
	n := s.callnum
	s.callnum++
	return n
}

func (s *session) release() { s.state.idle <- s }

// acquire returns an idle session to carry a call, opening a subsession
// when all are busy and the pool may grow. It returns nil when anonymous.
func (c *Client) acquire(ctx context.Context) (*session, error) {
	st := c.auth.Load()
	if st == nil {
		return nil, nil
	}
	select {
	case s := <-st.idle:
		return s, nil
	default:
	}
	st.mu.Lock()
	grow := len(st.sessions)+st.opening < c.maxSessions
	if grow {
		st.opening++
	}
	st.mu.Unlock()
	if grow {
		s, err := c.openSubsession(ctx, st)
		st.mu.Lock()
		st.opening--
		if err == nil {
			st.sessions = append(st.sessions, s)
		}
		st.mu.Unlock()
		if err == nil {
			return s, nil
		}
		c.logger.Warn("koji: cannot open a subsession; waiting for a free session", "error", err.Error())
	}
	select {
	case s := <-st.idle:
		return s, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// openSubsession asks the hub for a subsession of the login session.
func (c *Client) openSubsession(ctx context.Context, st *authState) (*session, error) {
	var info SessionInfo
	if err := c.do(ctx, &request{method: "subsession", body: mustCall("subsession"), result: &info}); err != nil {
		return nil, err
	}
	return newSession(st, info, false), nil
}

func mustCall(method string, args ...any) []byte {
	body, err := xmlrpc.MarshalCall(method, args...)
	if err != nil {
		panic(err) // only for fixed calls this package writes
	}
	return body
}

// Login logs the client in with a, replacing any current login.
func (c *Client) Login(ctx context.Context, a Authenticator) error {
	if c.closed.Load() {
		return ErrClosed
	}
	info, err := a.Login(ctx, c, LoginRequest{})
	if err != nil {
		return err
	}
	st := &authState{authenticator: a, idle: make(chan *session, c.maxSessions)}
	st.master = newSession(st, info, true)
	st.sessions = []*session{st.master}
	st.idle <- st.master
	if old := c.auth.Swap(st); old != nil {
		c.logoutState(ctx, old)
	}
	c.logger.Info("koji: logged in", "session", info.String())
	return nil
}

// LoggedIn reports whether the client holds a session.
func (c *Client) LoggedIn() bool { return c.auth.Load() != nil }

// Session returns the login session, and false when anonymous.
func (c *Client) Session() (SessionInfo, bool) {
	st := c.auth.Load()
	if st == nil {
		return SessionInfo{}, false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	m := st.master
	return SessionInfo{ID: m.id, Key: m.key, HeaderAuth: m.headerAuth}, true
}

// renew logs in again with renew=True after AuthExpired, on the session s
// that saw it. A subsession's renewal renews it through the login session's
// authenticator, as upstream does.
func (c *Client) renew(ctx context.Context, s *session) error {
	st := s.state
	info, err := st.authenticator.Login(context.WithValue(ctx, renewalKey{}, s), c, LoginRequest{Renew: true, Exclusive: s.exclusive})
	if err != nil {
		return fmt.Errorf("koji: renewing expired %s: %w", SessionInfo{ID: s.id}, err)
	}
	st.mu.Lock() // Session reads the login session's id and key under it
	s.id, s.key, s.headerAuth, s.callnum = info.ID, info.Key, info.HeaderAuth, 0
	st.mu.Unlock()
	c.logger.Info("koji: renewed session", "session", info.String())
	return nil
}

// renewalKey marks the context of a renewal login with the expired
// session, whose headers the login call carries as upstream's does (B.6).
type renewalKey struct{}

// LoginCall sends a login method (sslLogin, login) for an Authenticator
// and returns the session it creates. path is appended to the hub URL
// ("/ssllogin" for certificate and Kerberos logins, which also switches to
// https as upstream does); transport, when not nil, carries the request
// (for a client certificate or SPNEGO). Logins are not retried here: the
// authenticator decides. When renewing, the expired session's headers go
// along so the hub renews it.
func (c *Client) LoginCall(ctx context.Context, path string, transport http.RoundTripper, method string, args []any, kwargs any) (SessionInfo, error) {
	body, err := xmlrpc.MarshalCall(method, xmlrpc.AppendKwargs(args, kwargs)...)
	if err != nil {
		return SessionInfo{}, err
	}
	var info SessionInfo
	req := &request{method: method, path: path, body: body, result: &info, anonymous: true,
		https: path == "/ssllogin", transport: transport, noRetry: true, timeout: c.authTO}
	if s, ok := ctx.Value(renewalKey{}).(*session); ok {
		err = c.send(ctx, req, s, s.nextCallnum())
	} else {
		err = c.send(ctx, req, nil, -1)
	}
	if err != nil {
		return SessionInfo{}, err
	}
	if info.Key == "" {
		return SessionInfo{}, &Fault{Code: int(ErrAuth), String: "login returned no session"}
	}
	return info, nil
}

// Exclusive makes the login session exclusive, as kojid does right after
// login: the user's other sessions are locked out. With force, another
// exclusive session is closed instead of failing with AuthLockError.
func (c *Client) Exclusive(ctx context.Context, force bool) error {
	st := c.auth.Load()
	if st == nil {
		return &Fault{Code: int(ErrAuth), String: "not logged in"}
	}
	var kwargs any
	if force {
		kwargs = map[string]any{"force": true}
	}
	return c.onMaster(ctx, st, "exclusiveSession", kwargs, func(m *session) { m.exclusive = true })
}

// onMaster runs a session-management call on the login session itself,
// and then, if it succeeded, done while still holding the session.
func (c *Client) onMaster(ctx context.Context, st *authState, method string, kwargs any, done func(m *session)) error {
	body, err := xmlrpc.MarshalCall(method, xmlrpc.AppendKwargs(nil, kwargs)...)
	if err != nil {
		return err
	}
	return c.withMaster(ctx, st, func(m *session) error {
		if err := c.attempts(ctx, &request{method: method, body: body}, m); err != nil {
			return err
		}
		done(m)
		return nil
	})
}

// withMaster runs fn holding the login session, taking sessions from the
// pool until it comes up; the others wait with it, then all go back.
func (c *Client) withMaster(ctx context.Context, st *authState, fn func(m *session) error) error {
	var held []*session
	defer func() {
		for _, s := range held {
			s.release()
		}
	}()
	for {
		var s *session
		select {
		case s = <-st.idle:
		case <-ctx.Done():
			return ctx.Err()
		}
		held = append(held, s)
		if s.master {
			return fn(s)
		}
	}
}

// Logout ends the login session and its subsessions; the client goes on
// anonymously.
func (c *Client) Logout(ctx context.Context) error { return c.logout(ctx) }

func (c *Client) logout(ctx context.Context) error {
	st := c.auth.Swap(nil)
	if st == nil {
		return nil
	}
	return c.logoutState(ctx, st)
}

// logoutState sends logout on the login session, which the hub also
// applies to its subsessions, with session_id=None as upstream does; a hub
// before 1.31 rejects the keyword, and gets logout() instead. An expired
// session needs no logout.
func (c *Client) logoutState(ctx context.Context, st *authState) error {
	return c.withMaster(ctx, st, func(m *session) error {
		err := c.send(ctx, &request{method: "logout", body: mustCall("logout", xmlrpc.AppendKwargs(nil, map[string]any{"session_id": nil})...)}, m, m.nextCallnum())
		if errors.Is(err, ErrParameter) {
			err = c.send(ctx, &request{method: "logout", body: mustCall("logout")}, m, m.nextCallnum())
		}
		if errors.Is(err, ErrAuthExpired) {
			return nil
		}
		return err
	})
}

// Subsession opens a subsession of c's login and returns a client whose
// authenticated calls all go on it, one at a time, as kojid gives each
// task process its own: the task's callnums do not mix with the daemon's,
// and a long call on the daemon's sessions cannot hold the task's up. It
// shares c's HTTP client, retry policy and logger. Logout on it ends the
// subsession only; an expired subsession is renewed through c's
// authenticator, as upstream does.
func (c *Client) Subsession(ctx context.Context) (*Client, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	st := c.auth.Load()
	if st == nil {
		return nil, &Fault{Code: int(ErrAuth), String: "not logged in"}
	}
	var info SessionInfo
	if err := c.do(ctx, &request{method: "subsession", body: mustCall("subsession"), result: &info}); err != nil {
		return nil, err
	}
	sub := &Client{server: c.server, profile: c.profile, http: c.http, retry: c.retry, budget: c.budget,
		timeout: c.timeout, authTO: c.authTO, logger: c.logger, agent: c.agent, maxSessions: 1}
	sub.hubVersion.Store(c.hubVersion.Load())
	nst := &authState{authenticator: st.authenticator, idle: make(chan *session, 1)}
	nst.master = newSession(nst, info, true)
	nst.sessions = []*session{nst.master}
	nst.idle <- nst.master
	sub.auth.Store(nst)
	return sub, nil
}
