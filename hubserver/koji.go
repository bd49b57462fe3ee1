package hubserver

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gokoji/gokoji/internal/policy"
	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
)

// Defaults of KojiConfig's fields.
const (
	DefaultSessionRenewalTimeout = 1440 * time.Minute
	DefaultDNUsernameComponent   = "CN"
)

// KojiConfig configures a Koji hub on a database: the protocol layer's
// Config plus the settings of upstream's hub.conf that govern sessions
// and logins. Config.Store and Config.Authenticate are set by OpenKoji;
// values given there are replaced.
type KojiConfig struct {
	Config

	// DSN names the database, as store.Open takes it: a "postgres://" URL,
	// or an SQLite file path, "sqlite:///abs/path.db" or ":memory:".
	DSN string

	// DisableUserCreation refuses sslLogin for users the hub does not know
	// (upstream's LoginCreatesUser = False) with AuthError "Unknown user".
	// By default such a user is created, as upstream does.
	DisableUserCreation bool
	// DNUsernameComponent is the subject attribute of a client certificate
	// that names the user; DefaultDNUsernameComponent ("CN") when empty.
	// Supported: CN, O, OU, C, L, ST, SERIALNUMBER.
	DNUsernameComponent string
	// ProxyDNs are the certificate subjects (in RFC 2253 form, as
	// "CN=kojiweb,O=Example,C=US") allowed to log in as another user with
	// sslLogin's proxyuser.
	ProxyDNs []string
	// IgnoreClientIP stops binding sessions to the client's IP address
	// (upstream's CheckClientIP = False).
	IgnoreClientIP bool
	// SessionRenewalTimeout is how long a session lives after its login or
	// last renewal; DefaultSessionRenewalTimeout when zero, forever when
	// negative (upstream's 0).
	SessionRenewalTimeout time.Duration
	// AllowPasswordLogin enables the login method, which compares the
	// password with the one stored for the user. Stored passwords are
	// plaintext, as upstream stores them; enable it on https hubs only.
	AllowPasswordLogin bool
	// AllowProxyAuthType lets a proxy log a user in with another
	// authentication type than its own (sslLogin's proxyauthtype), as
	// upstream's AllowProxyAuthType.
	AllowProxyAuthType bool

	// AuthKeytab is the keytab holding the hub's service key, which turns
	// GSSAPI logins on: sslLogin posted to the ssllogin URL with SPNEGO
	// ("Authorization: Negotiate"), the role mod_auth_gssapi plays in front
	// of upstream's hub. The hub answers the mutual authentication token
	// and logs the client in as the user owning the principal.
	AuthKeytab string
	// AuthPrincipal is the service principal the hub accepts tickets for,
	// such as "HTTP/koji.example.com@EXAMPLE.COM"; when empty, any
	// principal whose key is in AuthKeytab.
	AuthPrincipal string
	// ProxyPrincipals are the Kerberos principals allowed to log in as
	// another user with sslLogin's proxyuser.
	ProxyPrincipals []string
	// HostPrincipalFormat makes the principal addHost gives a new host
	// when none is given: a format whose %s is the host name, such as
	// "compile/%s@EXAMPLE.COM".
	HostPrincipalFormat string
	// AllowedKrbRealms are the realms whose principals may log in and be
	// attached to users; nil or "*" allows every realm.
	AllowedKrbRealms []string

	// DisableURLSessions ignores the session-id, session-key and callnum
	// query parameters of pre-1.31 clients: only the Koji-Session-*
	// headers carry a session.
	DisableURLSessions bool
	// LockOut refuses every call but login, sslLogin and logout from users
	// without the admin permission with ServerOffline "Server disabled for
	// maintenance".
	LockOut bool
	// ServerOffline answers every request with a ServerOffline fault whose
	// message is OfflineMessage, or "server is offline" when that is empty.
	ServerOffline  bool
	OfflineMessage string

	// TopDir is the hub's top directory (upstream's KojiDir, /mnt/koji on
	// a Koji installation), laid out as upstream's koji.PathInfo: work/
	// holds uploads and task output (a task's under
	// work/tasks/<id % 10000>/<id>), and vol/<name>/ holds the same for
	// every volume but DEFAULT. Empty means the hub keeps no files: the
	// upload methods and downloadTaskOutput fault (GenericError "the hub
	// has no top directory (KojiDir) for files") and listTaskOutput lists
	// nothing.
	TopDir string

	// Admin, when set, names a user created on the first start with the
	// admin permission (the role of upstream's bootstrap SQL).
	Admin string
	// AdminPassword, when set, is stored as Admin's password when the
	// user is created.
	AdminPassword string

	// Scheduler configures the hub-side task scheduler (upstream's
	// MaxJobs, CapacityOvercommit, ReadyTimeout, AssignTimeout,
	// SoftRefusalTimeout, HostTimeout and RunInterval options) and the
	// long-poll methods of builders.
	Scheduler SchedulerConfig

	// Protonmsg configures the messages announcing the hub's changes
	// (upstream's protonmsg plugin); none are sent without a broker.
	Protonmsg ProtonmsgConfig

	// Repos configures repos and the request queue's worker (upstream's
	// repo options, and the part of kojira the hub takes on).
	Repos RepoConfig

	// Notifications configures the tagNotification and buildNotification
	// tasks (upstream's DisableNotifications, NotifyOnSuccess, EmailDomain
	// and KojiWebURL options).
	Notifications NotificationConfig

	// Policies are the hub's policies, as hub.conf's [policy] section
	// holds them: the rule text (see package internal/policy) by policy
	// name, such as "build_from_srpm", "tag" or "package_list". Each
	// replaces the DefaultPolicies entry of its name; the other defaults
	// stay. A policy that does not parse fails OpenKoji with a
	// *PolicyError.
	Policies map[string]string
	// DenyMissingPolicy makes a policy that is neither configured nor a
	// default deny (upstream's MissingPolicyOk = False); by default it
	// allows, as upstream's does.
	DenyMissingPolicy bool
}

// A Koji is the state of a Koji hub: its database and session settings.
// Its Methods serve logins, sessions, users and permissions, hosts and
// channels; HubConfig wires its database and session validation into a hub.
type Koji struct {
	cfg KojiConfig
	db  *store.DB
	krb *gssapiAcceptor // nil unless AuthKeytab is set

	sched *scheduler  // the task scheduler and its goroutine
	repos *repoWorker // the repo request queue's goroutine

	ev events // callbacks and the protonmsg sender

	policies map[string]*policy.RuleSet // Policies over DefaultPolicies, parsed
}

// OpenKoji opens (creating or migrating) the hub's database and creates
// the Admin user if it does not exist yet.
func OpenKoji(ctx context.Context, cfg KojiConfig) (*Koji, error) {
	if cfg.DNUsernameComponent == "" {
		cfg.DNUsernameComponent = DefaultDNUsernameComponent
	}
	if _, ok := dnComponents[cfg.DNUsernameComponent]; !ok {
		return nil, fmt.Errorf("hubserver: unsupported DNUsernameComponent %q", cfg.DNUsernameComponent)
	}
	if cfg.SessionRenewalTimeout == 0 {
		cfg.SessionRenewalTimeout = DefaultSessionRenewalTimeout
	}
	if cfg.DSN == "" {
		return nil, errors.New("hubserver: KojiConfig.DSN is empty")
	}
	if err := validateHostPrincipalFormat(cfg.HostPrincipalFormat); err != nil {
		return nil, err
	}
	krb, err := newGSSAPIAcceptor(cfg)
	if err != nil {
		return nil, err
	}
	k := &Koji{cfg: cfg, krb: krb}
	if err := k.loadPolicies(); err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, cfg.DSN)
	if err != nil {
		return nil, err
	}
	k.db = db
	k.ev.buildTypes = buildTypes
	if cfg.Admin != "" {
		if err := k.bootstrapAdmin(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	if k.sched, err = newScheduler(k, cfg.Scheduler); err != nil {
		db.Close()
		return nil, err
	}
	if k.repos, err = newRepoWorker(k); err != nil {
		db.Close()
		return nil, err
	}
	k.sched.start()
	k.repos.start()
	return k, nil
}

// bootstrapAdmin creates the Admin user with the admin permission unless
// a user of that name exists.
func (k *Koji) bootstrapAdmin(ctx context.Context) error {
	tx, err := k.db.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.GetUserByName(ctx, k.cfg.Admin); err == nil {
		return tx.Commit(ctx)
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	u := store.User{Name: k.cfg.Admin, Status: store.UserStatusNormal, UserType: store.UserTypeNormal}
	if k.cfg.AdminPassword != "" {
		u.Password = &k.cfg.AdminPassword
	}
	id, err := tx.CreateUser(ctx, u)
	if err != nil {
		return err
	}
	perm, err := tx.GetPermission(ctx, "admin")
	if err != nil {
		return err
	}
	if err := tx.GrantPermission(ctx, id, perm.ID, id); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// Close stops the scheduler's goroutine, sends (or queues) the protonmsg
// messages still pending and closes the database. Shut the hubs using k
// down first.
func (k *Koji) Close() error {
	k.sched.stop()
	k.repos.stop()
	k.closeEvents()
	return k.db.Close()
}

// HubConfig returns the KojiConfig's Config with the database as Store,
// the session validation as Authenticate, and a Middleware (around the
// one configured, if any) that answers ServerOffline and serves the
// GSSAPI handshake of sslLogin.
func (k *Koji) HubConfig() Config {
	cfg := k.cfg.Config
	cfg.Store = kojiStore{k}
	cfg.Authenticate = k.authenticate
	cfg.Upload = k.rawUpload // the files of kojifiles.go; see spoolUploads
	outer := cfg.Middleware
	cfg.Middleware = func(next http.Handler) http.Handler {
		h := k.middleware(k.spoolUploads(next))
		if outer != nil {
			h = outer(h)
		}
		return h
	}
	return cfg
}

// NewHub returns a hub configured by HubConfig with Methods registered.
func (k *Koji) NewHub() (*Hub, error) {
	h, err := New(k.HubConfig())
	if err != nil {
		return nil, err
	}
	if err := h.Register(k.Methods()...); err != nil {
		return nil, err
	}
	return h, nil
}

// Methods returns the hub methods k serves: logins and sessions, users and
// permissions, hosts, channels and tasks, files, builds, tags, targets and
// history.
func (k *Koji) Methods() []Method {
	return slices.Concat(
		k.sessionMethods(),
		k.userMethods(),
		k.hostMethods(),
		k.taskMethods(),
		k.channelMethods(),
		k.fileMethods(),
		k.hostTaskMethods(),
		k.hostBuildMethods(),
		k.cgMethods(),
		k.schedulerMethods(),
		k.packageMethods(),
		k.buildMethods(),
		k.rpmMethods(),
		k.eventMethods(),
		k.repoMethods(),
		k.tagMethods(),
		k.buildConfigMethods(),
		k.targetMethods(),
		k.buildTaskMethods(),
		k.moveBuildMethods(),
		k.snapshotMethods(),
		k.historyMethods(),
		k.groupMethods(),
		k.archiveMethods(),
		k.miscMethods(),
		k.policyMethods(),
		k.notificationMethods(),
		k.volumeMethods(),
	)
}

// kojiStore makes the hub's *store.DB a Store.
type kojiStore struct{ k *Koji }

// Begin begins the request's transaction. An anonymous call other than a
// login or an upload, nearly always a read, runs without one
// (store.DB.BeginStatements): on SQLite beside the single writer, on
// PostgreSQL without the round trips of BEGIN and COMMIT. One that tries
// to write runs again in a transaction (ReadOnlyTx).
func (s kojiStore) Begin(ctx context.Context) (Tx, error) {
	begin := s.k.db.Begin
	if r, _ := ctx.Value(requestKey{}).(*http.Request); r != nil && !WriterRequired(ctx) {
		switch MethodFrom(ctx) {
		case "login", "sslLogin", "rawUpload":
		default:
			if _, loggedIn, why, err := s.k.requestCredentials(r); !loggedIn && why != "" && err == nil {
				begin = s.k.db.BeginStatements
			}
		}
	}
	tx, err := begin(ctx)
	if err != nil {
		return nil, err
	}
	return kojiTx{tx, &callSession{}}, nil
}

// NeedsWriter reports whether the call tried to write in a read-only
// transaction.
func (t kojiTx) NeedsWriter() bool { return t.ReadOnly() && t.Writes() > 0 }

// kojiTx makes a *store.Tx an EventTx, and keeps the session the request
// carries for the length of the transaction.
type kojiTx struct {
	*store.Tx
	cs *callSession
}

// A callSession is what authenticate learnt about the caller's session,
// for showSession and for recording the callnum.
type callSession struct {
	row       *store.Session // as loaded, before this call touched it
	user      *store.User
	exclusive bool
	hostIP    string
	message   string // why the caller is anonymous, as upstream's Session.message
	permsRead bool   // the caller's permissions were looked up (upstream's _perms)

	// callnum is the call's number, recorded at commit only if the call
	// wrote: writes is the transaction's Writes once validated.
	callnum *int64
	writes  int64
}

// Commit records the call's callnum when the call wrote something, then
// commits. Upstream stores the callnum after its own commit of
// update_time and keeps it only if the call commits again, which it does
// when it ran an INSERT, UPDATE or DELETE, or a multicall's SAVEPOINT: so
// a client may repeat a pure read with the same callnum, but not a write
// that went through.
func (t kojiTx) Commit(ctx context.Context) error {
	cs := t.cs
	if cs.callnum != nil && (t.Writes() > cs.writes || isMulticall(MethodFrom(ctx))) {
		if err := t.UpdateCallnum(ctx, cs.row.ID, *cs.callnum); err != nil {
			return err
		}
		cs.callnum = nil
	}
	return t.Tx.Commit(ctx)
}

// callSessionFrom returns what authenticate recorded in the request's
// transaction.
func callSessionFrom(ctx context.Context) *callSession {
	if t, ok := TxFrom(ctx).(kojiTx); ok {
		return t.cs
	}
	return nil
}

// NewEvent makes the next versioned write start a new event.
func (t kojiTx) NewEvent(ctx context.Context) error {
	t.Tx.NextEvent()
	return nil
}

// storeTx returns the request's store transaction.
func storeTx(ctx context.Context) *store.Tx {
	return TxFrom(ctx).(kojiTx).Tx
}

func fault(class koji.FaultClass, format string, args ...any) error {
	return &koji.Fault{Code: int(class), String: fmt.Sprintf(format, args...)}
}

// retryWhitelist are the methods a client may repeat with the same callnum
// (upstream's RetryWhitelist).
var retryWhitelist = []string{
	"host.taskWait", "host.taskUnwait", "host.taskSetWait", "host.updateHost",
	"host.setBuildRootState", "repoExpire", "repoDelete", "repoProblem",
}

// credentials are the session id, key and callnum a request carries.
type credentials struct {
	id      int64
	key     string
	callnum *int64
}

// requestCredentials reads the session a request carries, as upstream's
// Session.__init__: the Koji-Session-Id and Koji-Session-Key headers with
// the callnum in Koji-Session-Callnum or, as released hubs read it,
// Koji-Callnum; else, unless DisableURLSessions, the query parameters
// session-id, session-key and callnum. ok is false for an anonymous
// request, with why set to upstream's message for it.
func (k *Koji) requestCredentials(r *http.Request) (c credentials, ok bool, why string, err error) {
	var id, key, callnum string
	switch {
	case r.Header.Get("Koji-Session-Id") != "":
		id, key = r.Header.Get("Koji-Session-Id"), r.Header.Get("Koji-Session-Key")
		if callnum = r.Header.Get("Koji-Session-Callnum"); callnum == "" {
			callnum = r.Header.Get("Koji-Callnum")
		}
	case k.cfg.DisableURLSessions:
		return c, false, "no Koji-Session-* headers", nil
	case r.URL.RawQuery == "":
		return c, false, "no session header or session args", nil
	default:
		q := r.URL.Query()
		for _, name := range []string{"session-id", "session-key"} {
			if !q.Has(name) {
				return c, false, "", fault(koji.ErrAuth, "'%s' not specified in session args", name)
			}
		}
		id, key, callnum = q.Get("session-id"), q.Get("session-key"), q.Get("callnum")
	}
	if c.id, err = strconv.ParseInt(id, 10, 64); err != nil || key == "" {
		return c, false, "", fault(koji.ErrAuth, "Invalid session or bad credentials")
	}
	c.key = key
	if callnum != "" {
		n, err := strconv.ParseInt(callnum, 10, 64)
		if err != nil {
			return c, false, "", fault(koji.ErrAuth, "Invalid callnum: %s", pyRepr(callnum))
		}
		c.callnum = &n
	}
	return c, true, "", nil
}

// clientIP is the address a session is bound to: the client's IP, or "-"
// when the hub ignores it, as upstream's get_remote_ip.
func (k *Koji) clientIP(r *http.Request) string {
	if k.cfg.IgnoreClientIP {
		return "-"
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// carriedSession returns the open session whose credentials the request
// carries and that is bound to the client's address, nil for an anonymous
// request (with upstream's message saying why); other credentials fault
// with AuthError, as upstream.
func (k *Koji) carriedSession(ctx context.Context, r *http.Request) (*store.Session, *credentials, string, error) {
	c, ok, why, err := k.requestCredentials(r)
	if !ok {
		return nil, nil, why, err
	}
	s, err := storeTx(ctx).LockSession(ctx, c.id)
	if errors.Is(err, store.ErrNotFound) || err == nil && (s.Key != c.key || s.Closed || s.HostIP != k.clientIP(r)) {
		// The line names the session the request claims; no user is known.
		labelled(k.logger(), MethodFrom(ctx), "", int(c.id)).Info("session rejected", "found", err == nil)
		return nil, nil, "", fault(koji.ErrAuth, "Invalid session or bad credentials")
	}
	if err != nil {
		return nil, nil, "", err
	}
	return s, &c, "", nil
}

// expired reports whether s has expired: marked so, or older than the
// renewal timeout.
func (k *Koji) expired(s *store.Session) bool {
	if s.Expired {
		return true
	}
	if k.cfg.SessionRenewalTimeout < 0 {
		return false
	}
	since := s.StartTime
	if s.RenewTime != nil {
		since = *s.RenewTime
	}
	return time.Since(since) > k.cfg.SessionRenewalTimeout
}

func isLoginMethod(m string) bool { return m == "login" || m == "sslLogin" }

// authenticate validates the session a request carries, as upstream's
// Session.__init__ and validate do, in the request's transaction, then
// enforces LockOut as upstream's enforce_lockout.
//
// A hub request is one transaction, which makes two things differ from
// upstream. A session found past its renewal timeout is refused as
// expired without being marked so (the refusal rolls the transaction
// back), which the next check and the renewing login treat the same way.
// And update_time is written in the request's transaction, so a call that
// faults leaves it as it was. The callnum is recorded as upstream records
// it, by the call's commit and only if the call wrote (see kojiTx.Commit).
func (k *Koji) authenticate(ctx context.Context, r *http.Request) (*Session, error) {
	cs := callSessionFrom(ctx)
	s, c, why, err := k.carriedSession(ctx, r)
	if err != nil {
		return nil, err
	}
	method := MethodFrom(ctx)
	if s == nil {
		cs.message = why
		return nil, k.enforceLockOut(ctx, method, 0)
	}
	if k.expired(s) {
		if isLoginMethod(method) {
			return nil, nil // the login may renew it
		}
		return nil, fault(koji.ErrAuthExpired, "session %q has expired", strconv.FormatInt(s.ID, 10))
	}
	if c.callnum != nil && s.Callnum != nil {
		switch {
		case *s.Callnum > *c.callnum:
			return nil, fault(koji.ErrSequence, "%d > %d (session %d)", *s.Callnum, *c.callnum, s.ID)
		case *s.Callnum == *c.callnum && !slices.Contains(retryWhitelist, method):
			return nil, fault(koji.ErrRetry, "unable to retry call %d (method %s) for session %d", *c.callnum, method, s.ID)
		}
	}
	tx := storeTx(ctx)
	u, err := tx.GetUser(ctx, s.UserID)
	if err != nil {
		return nil, err
	}
	if u.Status != store.UserStatusNormal {
		return nil, fault(koji.ErrAuth, "logins by %s are not allowed", u.Name)
	}
	exclusive, err := sessionExclusive(ctx, tx, s)
	if err != nil {
		return nil, err
	}
	if locked, err := lockedOut(ctx, tx, s); err != nil {
		return nil, err
	} else if locked && method != "exclusiveSession" && method != "login" && method != "logout" {
		return nil, fault(koji.ErrAuthLock, "User locked by another session")
	}
	if err := tx.TouchSession(ctx, s.ID); err != nil {
		return nil, err
	}
	*cs = callSession{row: s, user: u, exclusive: exclusive, hostIP: k.clientIP(r), callnum: c.callnum, writes: tx.Writes()}
	out := &Session{ID: int(s.ID), UserID: int(s.UserID), UserName: u.Name}
	if c.callnum != nil {
		n := int(*c.callnum)
		out.Callnum = &n
	}
	return out, k.enforceLockOut(ctx, method, u.ID)
}

// enforceLockOut refuses, when LockOut is set, every method but the
// logins and logout to callers without the admin permission (anonymous
// ones included), as upstream's enforce_lockout.
func (k *Koji) enforceLockOut(ctx context.Context, method string, userID int64) error {
	if !k.cfg.LockOut || isLoginMethod(method) || method == "logout" {
		return nil
	}
	if userID != 0 {
		markPermsRead(ctx)
		admin, err := hasPerm(ctx, storeTx(ctx), userID, "admin")
		if err != nil || admin {
			return err
		}
	}
	return fault(koji.ErrServerOffline, "Server disabled for maintenance")
}

// lockedOut reports whether another session of s's user holds the user's
// exclusive lock: one that is neither s nor s's master.
func lockedOut(ctx context.Context, tx *store.Tx, s *store.Session) (bool, error) {
	if s.Exclusive {
		return false, nil
	}
	ex, err := tx.ExclusiveSession(ctx, s.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return ex.ID != s.ID && (s.Master == nil || *s.Master != ex.ID), nil
}

// sessionExclusive reports whether s is exclusive: itself, or through its
// master.
func sessionExclusive(ctx context.Context, tx *store.Tx, s *store.Session) (bool, error) {
	if s.Exclusive || s.Master == nil {
		return s.Exclusive, nil
	}
	m, err := tx.GetSession(ctx, *s.Master)
	if err != nil {
		return false, err
	}
	return m.Exclusive, nil
}

const keyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// newSessionKey returns a session key as upstream makes them:
// "<user_id>-<19 random alphanumerics>".
func newSessionKey(userID int64) string {
	b := make([]byte, 19)
	for i := range b {
		b[i] = keyAlphabet[randIndex(len(keyAlphabet))]
	}
	return strconv.FormatInt(userID, 10) + "-" + string(b)
}

// randIndex returns a uniformly random index below n (n ≤ 256).
func randIndex(n int) int {
	limit := 256 - 256%n
	var b [1]byte
	for {
		rand.Read(b[:])
		if int(b[0]) < limit {
			return int(b[0]) % n
		}
	}
}

// SetPassword sets the password a user logs in with by the login method,
// stored as upstream stores it, in plaintext. Koji has no method for this;
// upstream's administrators set users.password in SQL.
func (k *Koji) SetPassword(ctx context.Context, user, password string) error {
	tx, err := k.db.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	u, err := tx.GetUserByName(ctx, user)
	if err != nil {
		return err
	}
	if err := tx.SetUserPassword(ctx, u.ID, &password); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
