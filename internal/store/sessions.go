package store

import (
	"context"
	"time"
)

// Authentication types, as koji.AUTHTYPES.
const (
	AuthTypeNormal   = 0
	AuthTypeKerberos = 1
	AuthTypeSSL      = 2
	AuthTypeGSSAPI   = 3
)

// Session is a row of sessions. A subsession has Master set to its
// top-level session; at most one session per user is Exclusive.
type Session struct {
	ID         int64
	UserID     int64
	Expired    bool
	Master     *int64
	Key        string
	AuthType   int
	HostIP     string
	Callnum    *int64 // nil until the first call after login
	StartTime  time.Time
	UpdateTime time.Time
	Exclusive  bool
	Closed     bool
	RenewTime  *time.Time
}

const sessionColumns = `id, user_id, expired, master, COALESCE(key, ''), COALESCE(authtype, 0), COALESCE(hostip, ''),
	callnum, start_time, update_time, COALESCE("exclusive", FALSE), closed, renew_time`

func scanSession(row scanner) (*Session, error) {
	var s Session
	err := row.Scan(&s.ID, &s.UserID, &s.Expired, &s.Master, &s.Key, &s.AuthType, &s.HostIP,
		&s.Callnum, &s.StartTime, &s.UpdateTime, &s.Exclusive, &s.Closed, &s.RenewTime)
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// exclusiveValue is what the "exclusive" column holds: TRUE or NULL, never
// FALSE, so that UNIQUE (user_id, "exclusive") only constrains exclusive
// sessions.
func exclusiveValue(b bool) any {
	if b {
		return true
	}
	return nil
}

// CreateSession inserts a session from s's UserID, Master, Key, AuthType,
// HostIP and Exclusive, started now, and returns its id. A second exclusive
// session for the user is a [*ConflictError].
func (tx *Tx) CreateSession(ctx context.Context, s Session) (int64, error) {
	t := now()
	return tx.insertID(ctx, `INSERT INTO sessions (user_id, master, key, authtype, hostip, start_time, update_time, "exclusive")
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		s.UserID, s.Master, s.Key, s.AuthType, s.HostIP, t, t, exclusiveValue(s.Exclusive))
}

// GetSession returns the session with the given id.
func (tx *Tx) GetSession(ctx context.Context, id int64) (*Session, error) {
	s, err := scanSession(tx.queryRow(ctx, "SELECT "+sessionColumns+" FROM sessions WHERE id = ?", id))
	if err != nil {
		return nil, notFound(err, "session", id)
	}
	return s, nil
}

// LockSession returns the session with the given id and locks its row until
// the transaction ends (SELECT … FOR UPDATE on PostgreSQL; SQLite's writer
// transaction already excludes other writers), as upstream's validation
// does before it updates the session.
func (tx *Tx) LockSession(ctx context.Context, id int64) (*Session, error) {
	q := "SELECT " + sessionColumns + " FROM sessions WHERE id = ?"
	if tx.pool.dialect == Postgres {
		q += " FOR UPDATE"
	}
	s, err := scanSession(tx.queryRow(ctx, q, id))
	if err != nil {
		return nil, notFound(err, "session", id)
	}
	return s, nil
}

// UserSessions returns a user's sessions that have not expired, in id
// order.
func (tx *Tx) UserSessions(ctx context.Context, userID int64) ([]Session, error) {
	rows, err := tx.query(ctx, "SELECT "+sessionColumns+" FROM sessions WHERE user_id = ? AND expired = FALSE ORDER BY id", userID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanSession)
}

// ExclusiveSession returns the user's open exclusive session.
func (tx *Tx) ExclusiveSession(ctx context.Context, userID int64) (*Session, error) {
	s, err := scanSession(tx.queryRow(ctx, "SELECT "+sessionColumns+
		` FROM sessions WHERE user_id = ? AND "exclusive" = TRUE AND closed = FALSE`, userID))
	if err != nil {
		return nil, notFound(err, "exclusive session of user", userID)
	}
	return s, nil
}

// TouchSession sets a session's update_time to now.
func (tx *Tx) TouchSession(ctx context.Context, id int64) error {
	return tx.execOne(ctx, "session", id, "UPDATE sessions SET update_time = ? WHERE id = ?", now(), id)
}

// UpdateCallnum records the call number of a session's latest call.
func (tx *Tx) UpdateCallnum(ctx context.Context, id, callnum int64) error {
	return tx.execOne(ctx, "session", id, "UPDATE sessions SET callnum = ? WHERE id = ?", callnum, id)
}

// ExpireSession marks a session and its subsessions expired; they can be
// renewed.
func (tx *Tx) ExpireSession(ctx context.Context, id int64) error {
	return tx.execOne(ctx, "session", id, "UPDATE sessions SET expired = TRUE WHERE id = ? OR master = ?", id, id)
}

// CloseSession ends a session and its subsessions for good: expired,
// closed and no longer exclusive.
func (tx *Tx) CloseSession(ctx context.Context, id int64) error {
	return tx.execOne(ctx, "session", id,
		`UPDATE sessions SET expired = TRUE, closed = TRUE, "exclusive" = NULL WHERE id = ? OR master = ?`, id, id)
}

// SetSessionExclusive makes a session exclusive or shared again. Making a
// session exclusive while the user has another exclusive session is a
// [*ConflictError]; the hub decides whether to close that one first.
func (tx *Tx) SetSessionExclusive(ctx context.Context, id int64, exclusive bool) error {
	return tx.execOne(ctx, "session", id, `UPDATE sessions SET "exclusive" = ? WHERE id = ?`, exclusiveValue(exclusive), id)
}

// RenewSession revives an expired session under a new key, as a login with
// renew does: renew_time and update_time become now.
func (tx *Tx) RenewSession(ctx context.Context, id int64, key string) error {
	t := now()
	return tx.execOne(ctx, "session", id,
		"UPDATE sessions SET key = ?, renew_time = ?, update_time = ?, expired = FALSE WHERE id = ? AND closed = FALSE",
		key, t, t, id)
}

// HostLastUpdate returns the newest update_time of the sessions of a
// host's user, as upstream's getLastHostUpdate reads it: when the host
// last called the hub. A host without sessions, or no such host, is a
// [*NotFoundError].
func (tx *Tx) HostLastUpdate(ctx context.Context, hostID int64) (time.Time, error) {
	var t time.Time
	err := tx.queryRow(ctx, "SELECT s.update_time FROM sessions s JOIN host h ON s.user_id = h.user_id "+
		"WHERE h.id = ? ORDER BY s.update_time DESC LIMIT 1", hostID).Scan(&t)
	if err != nil {
		return time.Time{}, notFound(err, "session of host", hostID)
	}
	return t, nil
}
