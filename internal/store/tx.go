package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrNotFound is matched (errors.Is) by every [*NotFoundError].
var ErrNotFound = errors.New("store: not found")

// ErrConflict is matched (errors.Is) by every [*ConflictError].
var ErrConflict = errors.New("store: conflict")

// NotFoundError reports that a looked-up row does not exist.
type NotFoundError struct {
	Kind string // "user", "task", …
	Key  any    // the id or name looked up
}

func (e *NotFoundError) Error() string { return fmt.Sprintf("store: no %s %v", e.Kind, e.Key) }

// Is reports whether target is [ErrNotFound].
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// ConflictError reports a write refused by a unique constraint, such as a
// second user with the same name or a permission granted twice.
type ConflictError struct {
	Err error // the driver's error
}

func (e *ConflictError) Error() string { return "store: conflict: " + e.Err.Error() }

// Unwrap returns the driver's error.
func (e *ConflictError) Unwrap() error { return e.Err }

// Is reports whether target is [ErrConflict].
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// Tx is a transaction and the repository methods that work in it. A Tx is
// not safe for concurrent use.
//
// On PostgreSQL a failed statement aborts the whole transaction; to go on
// after an error (a multicall entry that faulted, an expected conflict),
// set a savepoint before and roll back to it, as upstream's hub does. Code
// written that way behaves the same on SQLite.
type Tx struct {
	pool *pool
	tx   *sql.Tx   // nil in a Tx of [DB.BeginStatements]
	conn *sql.Conn // the connection of a Tx of [DB.BeginStatements]

	event      int64 // event of this transaction (or multicall entry); 0: none yet
	savepoints []savepoint
	writes     int64 // INSERT, UPDATE and DELETE statements run; see Writes
	readOnly   bool  // begun by BeginRead
	lost       bool  // lost a deadlock or serialization conflict; see Lost
}

// Lost reports whether a statement or the commit of the transaction lost
// to a concurrent transaction (PostgreSQL's deadlock_detected, 40P01, or
// serialization_failure, 40001). The database has then undone the
// transaction, so its work may run again, from the start, in a new one.
func (tx *Tx) Lost() bool { return tx.lost }

// note records an error that means the transaction lost, and returns err.
func (tx *Tx) note(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001") {
		tx.lost = true
	}
	return err
}

// ReadOnly reports whether the transaction was begun by [DB.BeginRead]. A
// write in it fails; [Tx.Writes] then counts the attempt, which tells a
// caller that the work must run again in a transaction of [DB.Begin].
func (tx *Tx) ReadOnly() bool { return tx.readOnly }

// errWriteRefused answers a write in a Tx of [DB.BeginStatements].
var errWriteRefused = errors.New("store: a write in a read-only Tx")

// db is what runs the Tx's statements.
func (tx *Tx) db() interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
} {
	if tx.conn != nil {
		return tx.conn
	}
	return tx.tx
}

// savepoint remembers the cached event at SAVEPOINT time, so that rolling
// back to it also forgets an event row created (and now undone) after it.
type savepoint struct {
	name  string
	event int64
}

// Commit commits the transaction. If ctx is already done it rolls back
// instead and returns ctx's error.
func (tx *Tx) Commit(ctx context.Context) error {
	if tx.conn != nil {
		return errors.Join(ctx.Err(), tx.release())
	}
	if err := ctx.Err(); err != nil {
		_ = tx.tx.Rollback()
		return err
	}
	if err := tx.note(tx.tx.Commit()); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// Rollback aborts the transaction. Rolling back a transaction that already
// ended returns [sql.ErrTxDone].
func (tx *Tx) Rollback(ctx context.Context) error {
	if tx.conn != nil {
		return tx.release()
	}
	return tx.tx.Rollback()
}

// release returns the connection of a Tx of [DB.BeginStatements] to its
// pool; a second release is [sql.ErrTxDone], as for a transaction.
func (tx *Tx) release() error {
	if errors.Is(tx.conn.Close(), sql.ErrConnDone) {
		return sql.ErrTxDone
	}
	return nil
}

// Savepoint sets a savepoint; name must be an SQL identifier (letters,
// digits, underscores).
func (tx *Tx) Savepoint(ctx context.Context, name string) error {
	if err := checkIdent(name); err != nil {
		return err
	}
	if _, err := tx.savepointSQL(ctx, "SAVEPOINT "+name); err != nil {
		return fmt.Errorf("store: savepoint %s: %w", name, err)
	}
	tx.savepoints = append(tx.savepoints, savepoint{name: name, event: tx.event})
	return nil
}

// RollbackToSavepoint undoes the work done since the named savepoint, which
// stays set.
func (tx *Tx) RollbackToSavepoint(ctx context.Context, name string) error {
	i, err := tx.findSavepoint(name)
	if err != nil {
		return err
	}
	if _, err := tx.savepointSQL(ctx, "ROLLBACK TO SAVEPOINT "+name); err != nil {
		return fmt.Errorf("store: rollback to savepoint %s: %w", name, err)
	}
	tx.event = tx.savepoints[i].event
	tx.savepoints = tx.savepoints[:i+1]
	return nil
}

// ReleaseSavepoint forgets the named savepoint (and later ones), keeping
// their work.
func (tx *Tx) ReleaseSavepoint(ctx context.Context, name string) error {
	i, err := tx.findSavepoint(name)
	if err != nil {
		return err
	}
	if _, err := tx.savepointSQL(ctx, "RELEASE SAVEPOINT "+name); err != nil {
		return fmt.Errorf("store: release savepoint %s: %w", name, err)
	}
	tx.savepoints = tx.savepoints[:i]
	return nil
}

// savepointSQL runs a savepoint statement; a Tx of [DB.BeginStatements],
// which writes nothing, has nothing to roll back and skips it.
func (tx *Tx) savepointSQL(ctx context.Context, stmt string) (sql.Result, error) {
	if tx.conn != nil {
		return nil, nil
	}
	res, err := tx.tx.ExecContext(ctx, stmt)
	return res, tx.note(err)
}

func (tx *Tx) findSavepoint(name string) (int, error) {
	for i := len(tx.savepoints) - 1; i >= 0; i-- {
		if tx.savepoints[i].name == name {
			return i, nil
		}
	}
	return 0, fmt.Errorf("store: no savepoint %q", name)
}

func checkIdent(name string) error {
	if name == "" {
		return errors.New("store: empty savepoint name")
	}
	for i, c := range name {
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return fmt.Errorf("store: savepoint name %q is not an identifier", name)
	}
	return nil
}

// NewEvent returns this transaction's event: the first call inserts a row
// into events and later calls return the same id, as upstream's get_event
// does per call. Every versioned write made through the Tx uses it.
func (tx *Tx) NewEvent(ctx context.Context) (int64, error) {
	if tx.event != 0 {
		return tx.event, nil
	}
	var id int64
	err := tx.queryRow(ctx, "INSERT INTO events (time) VALUES (?) RETURNING id", now()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: new event: %w", err)
	}
	tx.event = id
	return id, nil
}

// NextEvent forgets the cached event, so the next versioned write (or
// [Tx.NewEvent]) creates a new one: the hub calls it between multicall
// entries, each of which gets its own event upstream.
func (tx *Tx) NextEvent() { tx.event = 0 }

// Event is a row of the events table.
type Event struct {
	ID   int64
	Time time.Time
}

// LastEvent returns the newest event, or with before set the newest event
// whose time is earlier than before. It returns a [*NotFoundError] when
// there is none.
func (tx *Tx) LastEvent(ctx context.Context, before *time.Time) (*Event, error) {
	var row row
	if before == nil {
		row = tx.queryRow(ctx, "SELECT id, time FROM events ORDER BY id DESC LIMIT 1")
	} else {
		row = tx.queryRow(ctx, "SELECT id, time FROM events WHERE time < ? ORDER BY id DESC LIMIT 1", before.UTC())
	}
	var e Event
	if err := row.Scan(&e.ID, &e.Time); err != nil {
		return nil, notFound(err, "event", "last")
	}
	return &e, nil
}

// GetEvent returns the event with the given id.
func (tx *Tx) GetEvent(ctx context.Context, id int64) (*Event, error) {
	e := Event{ID: id}
	if err := tx.queryRow(ctx, "SELECT time FROM events WHERE id = ?", id).Scan(&e.Time); err != nil {
		return nil, notFound(err, "event", id)
	}
	return &e, nil
}

// now is the time the store writes for NOW(): UTC, so SQLite's text
// timestamps sort correctly.
func now() time.Time { return time.Now().UTC() }

func (tx *Tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := tx.refuse(ctx, query); err != nil {
		return nil, err
	}
	res, err := tx.db().ExecContext(ctx, tx.pool.sql(query), args...)
	return res, tx.note(classify(err))
}

func (tx *Tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := tx.refuse(ctx, query); err != nil {
		return nil, err
	}
	rows, err := tx.db().QueryContext(ctx, tx.pool.sql(query), args...)
	return rows, tx.note(classify(err))
}

func (tx *Tx) queryRow(ctx context.Context, query string, args ...any) row {
	if err := tx.refuse(ctx, query); err != nil {
		return row{err: err}
	}
	return row{Row: tx.db().QueryRowContext(ctx, tx.pool.sql(query), args...), tx: tx}
}

// refuse counts the statement (Writes) and returns why it must not run: a
// write in a Tx of [DB.BeginStatements], or ctx done, which a driver may
// otherwise report on a connection of its own as a bad connection.
func (tx *Tx) refuse(ctx context.Context, query string) error {
	if !tx.count(query) {
		return errWriteRefused
	}
	return ctx.Err()
}

// row is the result of queryRow: a *sql.Row, or the error of a write
// refused before it ran.
type row struct {
	*sql.Row
	err error
	tx  *Tx
}

func (r row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	return r.tx.note(r.Row.Scan(dest...))
}

// insertID runs an INSERT … RETURNING id.
func (tx *Tx) insertID(ctx context.Context, query string, args ...any) (int64, error) {
	var id int64
	if err := tx.queryRow(ctx, query, args...).Scan(&id); err != nil {
		return 0, classify(err)
	}
	return id, nil
}

// execOne runs an UPDATE that must change exactly one row; no row is a
// [*NotFoundError] for kind and key.
func (tx *Tx) execOne(ctx context.Context, kind string, key any, query string, args ...any) error {
	res, err := tx.exec(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return &NotFoundError{Kind: kind, Key: key}
	}
	return nil
}

// classify wraps unique-constraint violations in a [*ConflictError].
func classify(err error) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return &ConflictError{Err: err}
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		switch sqErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return &ConflictError{Err: err}
		}
	}
	return err
}

// notFound turns sql.ErrNoRows into a [*NotFoundError].
func notFound(err error, kind string, key any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return &NotFoundError{Kind: kind, Key: key}
	}
	return classify(err)
}
