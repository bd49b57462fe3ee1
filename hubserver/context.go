package hubserver

import (
	"context"
	"log/slog"
	"net/http"
)

// A Store opens the database transaction that carries one HTTP request.
// The hub begins one per request and ends it as upstream Koji does: a
// single call that faulted is rolled back, anything else is committed; a
// multicall commits the entries that succeeded, each failing entry having
// been rolled back to a savepoint taken before it.
//
// With Config.Store nil the hub runs without transactions: handlers see a
// nil TxFrom and nothing is committed or rolled back.
type Store interface {
	Begin(ctx context.Context) (Tx, error)
}

// A Tx is one database transaction. Savepoint names follow SQL rules: a
// savepoint taken with a name already in use shadows the older one until
// it is released, as PostgreSQL and SQLite do; the hub takes, and always
// releases, "multiCall_loop" around each multicall entry (nested
// multicalls nest their savepoints).
type Tx interface {
	Savepoint(ctx context.Context, name string) error
	RollbackToSavepoint(ctx context.Context, name string) error
	ReleaseSavepoint(ctx context.Context, name string) error
	Commit(ctx context.Context) error
	Rollback(ctx context.Context) error
}

// An EventTx is a Tx that stamps versioned writes with an event, as
// upstream's get_event does: the first versioned write of a call inserts
// a row into the events table and later writes of the same call reuse it.
// Implementing it is optional. The hub calls NewEvent after each multicall
// entry, so that each entry's writes get an event of their own (upstream
// drops context.event_id between entries).
type EventTx interface {
	Tx
	NewEvent(ctx context.Context) error
}

// A ReadOnlyTx is a Tx in which a Store runs a call it expects only to
// read, cheaper than a transaction: the Koji hub runs anonymous calls so,
// beside SQLite's single writer and without PostgreSQL's BEGIN and COMMIT.
// When the call tried to write, the write was refused and NeedsWriter
// reports it; the hub then ends the Tx and runs the call again, in a
// transaction begun with a context for which WriterRequired reports true.
// Nothing was written, so the call runs as if for the first time; the
// reply is the second run's.
type ReadOnlyTx interface {
	Tx
	NeedsWriter() bool
}

// A LosingTx is a Tx that can lose to a concurrent transaction: a
// deadlock or a serialization failure, after which the database has undone
// it. When a call failed, or its commit did, in a transaction that Lost,
// the hub runs the call again in a new transaction, up to
// maxLostRetries times, and answers with that run; a raw upload, whose
// body is gone, is not run again.
type LosingTx interface {
	Tx
	Lost() bool
}

// maxLostRetries bounds the runs of a call again after its transaction
// lost to a concurrent one.
const maxLostRetries = 3

type writerRequiredKey struct{}

// WriterRequired reports whether the Store must begin a read-write
// transaction for the request ctx belongs to, because a run of its call
// in a ReadOnlyTx tried to write.
func WriterRequired(ctx context.Context) bool {
	required, _ := ctx.Value(writerRequiredKey{}).(bool)
	return required
}

type txKey struct{}

// TxFrom returns the transaction of the request ctx belongs to, or nil when
// the hub runs without a Store.
func TxFrom(ctx context.Context) Tx {
	tx, _ := ctx.Value(txKey{}).(Tx)
	return tx
}

// A Session is the caller of a request as the authentication layer
// established it from the request (Koji-Session-Id and Koji-Session-Key
// headers, or the ssllogin client certificate). Its fields label every log
// line of the request.
type Session struct {
	ID       int    // the session id; 0 when anonymous
	UserID   int    // the user's id; 0 when anonymous
	UserName string // the user's name; "" when anonymous
	Callnum  *int   // the Koji-Session-Callnum the client sent, if any
}

// An Authenticator validates the session a request carries, as upstream's
// check_session does. The hub calls it once per HTTP request, after the
// method name was resolved (an invalid method faults before any session
// check, as upstream) and inside the request's transaction, so TxFrom(ctx)
// works. A nil Session with a nil error means an anonymous caller; an
// error is answered as a fault (a *koji.Fault keeps its code).
type Authenticator func(ctx context.Context, r *http.Request) (*Session, error)

type sessionKey struct{}

// SessionFrom returns the session of the request ctx belongs to, or nil for
// an anonymous caller.
func SessionFrom(ctx context.Context) *Session {
	s, _ := ctx.Value(sessionKey{}).(*Session)
	return s
}

// WithSession returns a copy of ctx carrying s. The hub does this with what
// Config.Authenticate returns; a login method that creates a session
// mid-request uses it so later log lines of the request name the user.
func WithSession(ctx context.Context, s *Session) context.Context {
	return context.WithValue(ctx, sessionKey{}, s)
}

type requestKey struct{}

// RequestFrom returns the HTTP request a call belongs to, nil outside a
// call. Login methods read the client certificate and the session headers
// from it.
func RequestFrom(ctx context.Context) *http.Request {
	r, _ := ctx.Value(requestKey{}).(*http.Request)
	return r
}

type methodKey struct{}

// MethodFrom returns the name of the method an HTTP request calls, as the
// request names it ("multiCall" for a whole multicall, "rawUpload" for a raw
// upload), "" outside a request. Config.Authenticate uses it for the checks
// that depend on the method, as upstream's session validation does.
func MethodFrom(ctx context.Context) string {
	m, _ := ctx.Value(methodKey{}).(string)
	return m
}

type loggerKey struct{}

// LoggerFrom returns the logger of the call ctx belongs to: the hub's
// Config.Logger with the method, user and session attributes set. Outside
// a call it returns slog.Default().
func LoggerFrom(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// labelled is base with the attributes every log line about a request
// carries, as upstream's HubFormatter labels each line: the method, the
// user's name and the session id ("" and 0 while they are not known).
func labelled(base *slog.Logger, method, user string, session int) *slog.Logger {
	return base.With("method", method, "user", user, "session", session)
}

// callLogger returns the hub's logger labelled with the call's method and
// caller: the session the request was authenticated with or, for an
// anonymous call, the one a login earlier in the request created.
func callLogger(base *slog.Logger, ctx context.Context, method string) *slog.Logger {
	user, session := "", 0
	s := SessionFrom(ctx)
	if s == nil {
		s = callFrom(ctx).getCaller()
	}
	if s != nil {
		user, session = s.UserName, s.ID
	}
	return labelled(base, method, user, session)
}

// callLogKey marks a call's ctx with what callLogger needs to label its
// lines anew once the caller changes (relabelled).
type callLogKey struct{}

type callLog struct {
	base   *slog.Logger
	method string
}

// relabelled is LoggerFrom(ctx) labelled with the caller as the request
// knows it now: after a login, the new session's user and id.
func relabelled(ctx context.Context) *slog.Logger {
	if cl, ok := ctx.Value(callLogKey{}).(callLog); ok {
		return callLogger(cl.base, ctx, cl.method)
	}
	return LoggerFrom(ctx)
}
