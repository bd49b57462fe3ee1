package store

import (
	"context"
	"database/sql"
	"errors"
)

// CreateContentGenerator inserts a content generator and returns its id;
// a taken name is a [*ConflictError].
func (tx *Tx) CreateContentGenerator(ctx context.Context, name string) (int64, error) {
	return tx.insertID(ctx, "INSERT INTO content_generator (name) VALUES (?) RETURNING id", name)
}

// CGAccess reports whether the user may import for the content
// generator: it has a live cg_users row.
func (tx *Tx) CGAccess(ctx context.Context, cgID, userID int64) (bool, error) {
	var one int
	err := tx.queryRow(ctx, "SELECT 1 FROM cg_users WHERE active = TRUE AND cg_id = ? AND user_id = ?", cgID, userID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// GrantCGAccess records, at this transaction's event, that the user may
// import for the content generator.
func (tx *Tx) GrantCGAccess(ctx context.Context, cgID, userID, creator int64) error {
	event, err := tx.NewEvent(ctx)
	if err != nil {
		return err
	}
	_, err = tx.exec(ctx, "INSERT INTO cg_users (cg_id, user_id, create_event, creator_id, active) VALUES (?, ?, ?, ?, TRUE)",
		cgID, userID, event, creator)
	return err
}

// RevokeCGAccess revokes the user's access to the content generator and
// returns how many rows it revoked.
func (tx *Tx) RevokeCGAccess(ctx context.Context, cgID, userID, revoker int64) (int64, error) {
	return tx.revoke(ctx, "cg_users", revoker, "user_id = ? AND cg_id = ?", userID, cgID)
}

// CGUser is a live row of cg_users with its names.
type CGUser struct {
	CGID     int64
	CGName   string
	UserName string
}

// CGUsers returns the live cg_users rows, by content generator and user
// id.
func (tx *Tx) CGUsers(ctx context.Context) ([]CGUser, error) {
	rows, err := tx.query(ctx, "SELECT cg.id, cg.name, u.name FROM cg_users c "+
		"JOIN content_generator cg ON cg.id = c.cg_id JOIN users u ON u.id = c.user_id "+
		"WHERE c.active = TRUE ORDER BY cg.id, u.id")
	if err != nil {
		return nil, err
	}
	return collect(rows, func(row scanner) (*CGUser, error) {
		var c CGUser
		return &c, row.Scan(&c.CGID, &c.CGName, &c.UserName)
	})
}

// ReservationToken returns the token of the build's reservation, or nil
// when it has none.
func (tx *Tx) ReservationToken(ctx context.Context, buildID int64) (*string, bool, error) {
	var token *string
	err := tx.queryRow(ctx, "SELECT token FROM build_reservations WHERE build_id = ?", buildID).Scan(&token)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	return token, err == nil, err
}

// ReserveBuild records a content generator's reservation of a build with
// its token, created now.
func (tx *Tx) ReserveBuild(ctx context.Context, buildID int64, token string) error {
	_, err := tx.exec(ctx, "INSERT INTO build_reservations (build_id, token, created) VALUES (?, ?, ?)", buildID, token, now())
	return err
}

// ClearReservation drops the build's reservation, if any.
func (tx *Tx) ClearReservation(ctx context.Context, buildID int64) error {
	_, err := tx.exec(ctx, "DELETE FROM build_reservations WHERE build_id = ?", buildID)
	return err
}

// CompleteReservedBuild completes a content generator's reserved build
// now, with its final extra, owner and source.
func (tx *Tx) CompleteReservedBuild(ctx context.Context, id int64, extra *string, owner int64, source *string) error {
	return tx.execOne(ctx, "build", id, "UPDATE build SET state = ?, extra = ?, owner = ?, source = ?, completion_time = ? WHERE id = ?",
		BuildComplete, extra, owner, source, now(), id)
}
