package store

import (
	"context"
	"database/sql"
	"fmt"
)

// User types and statuses, as koji.USERTYPES and koji.USER_STATUS.
const (
	UserTypeNormal = 0
	UserTypeHost   = 1
	UserTypeGroup  = 2

	UserStatusNormal  = 0
	UserStatusBlocked = 1
)

// User is a row of users: a person, a builder host or a group.
type User struct {
	ID       int64
	Name     string
	Password *string // plaintext, for password logins; nil when unset
	Status   int     // UserStatusNormal or UserStatusBlocked
	UserType int     // UserTypeNormal, UserTypeHost or UserTypeGroup
}

// Permission is a row of permissions.
type Permission struct {
	ID          int64
	Name        string
	Description *string
}

// eventCondition returns the condition that picks the rows of the versioned
// table alias as they were at event asOf (upstream's eventCondition:
// create_event <= E AND (revoke_event IS NULL OR E < revoke_event)), or the
// current rows (active = TRUE) when asOf is nil.
func eventCondition(alias string, asOf *int64) (string, []any) {
	p := alias + "."
	if asOf == nil {
		return p + "active = TRUE", nil
	}
	return "(" + p + "create_event <= ? AND (" + p + "revoke_event IS NULL OR ? < " + p + "revoke_event))",
		[]any{*asOf, *asOf}
}

// revoke ends the current versions of a versioned table's rows matching
// where (which uses ? placeholders for args): revoke_event is this
// transaction's event, revoker_id the revoker and active NULL. It returns
// how many rows it revoked.
func (tx *Tx) revoke(ctx context.Context, table string, revoker int64, where string, args ...any) (int64, error) {
	event, err := tx.NewEvent(ctx)
	if err != nil {
		return 0, err
	}
	q := "UPDATE " + table + " SET revoke_event = ?, revoker_id = ?, active = NULL WHERE active = TRUE AND " + where
	res, err := tx.exec(ctx, q, append([]any{event, revoker}, args...)...)
	if err != nil {
		return 0, fmt.Errorf("store: revoke %s: %w", table, err)
	}
	return res.RowsAffected()
}

const userColumns = "id, name, password, status, usertype"

func scanUser(row scanner) (*User, error) {
	var u User
	if err := row.Scan(&u.ID, &u.Name, &u.Password, &u.Status, &u.UserType); err != nil {
		return nil, err
	}
	return &u, nil
}

// CreateUser inserts a user (u.ID is ignored) and returns its id. A taken
// name is a [*ConflictError].
func (tx *Tx) CreateUser(ctx context.Context, u User) (int64, error) {
	return tx.insertID(ctx, "INSERT INTO users (name, password, status, usertype) VALUES (?, ?, ?, ?) RETURNING id",
		u.Name, u.Password, u.Status, u.UserType)
}

// GetUser returns the user with the given id.
func (tx *Tx) GetUser(ctx context.Context, id int64) (*User, error) {
	u, err := scanUser(tx.queryRow(ctx, "SELECT "+userColumns+" FROM users WHERE id = ?", id))
	if err != nil {
		return nil, notFound(err, "user", id)
	}
	return u, nil
}

// GetUserByName returns the user with the given name.
func (tx *Tx) GetUserByName(ctx context.Context, name string) (*User, error) {
	u, err := scanUser(tx.queryRow(ctx, "SELECT "+userColumns+" FROM users WHERE name = ?", name))
	if err != nil {
		return nil, notFound(err, "user", name)
	}
	return u, nil
}

// GetUserByKrbPrincipal returns the user owning a Kerberos principal.
func (tx *Tx) GetUserByKrbPrincipal(ctx context.Context, principal string) (*User, error) {
	u, err := scanUser(tx.queryRow(ctx, "SELECT users.id, users.name, users.password, users.status, users.usertype "+
		"FROM users JOIN user_krb_principals ON user_krb_principals.user_id = users.id "+
		"WHERE user_krb_principals.krb_principal = ?", principal))
	if err != nil {
		return nil, notFound(err, "user with principal", principal)
	}
	return u, nil
}

// ListUsers returns the users of one type in id order.
func (tx *Tx) ListUsers(ctx context.Context, userType int) ([]User, error) {
	rows, err := tx.query(ctx, "SELECT "+userColumns+" FROM users WHERE usertype = ? ORDER BY id", userType)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanUser)
}

// SetUserStatus sets a user's status (UserStatusNormal or
// UserStatusBlocked).
func (tx *Tx) SetUserStatus(ctx context.Context, id int64, status int) error {
	return tx.execOne(ctx, "user", id, "UPDATE users SET status = ? WHERE id = ?", status, id)
}

// SetUserPassword sets (or with nil clears) a user's password.
func (tx *Tx) SetUserPassword(ctx context.Context, id int64, password *string) error {
	return tx.execOne(ctx, "user", id, "UPDATE users SET password = ? WHERE id = ?", password, id)
}

// AddKrbPrincipal attaches a Kerberos principal to a user; a principal
// already attached to any user is a [*ConflictError].
func (tx *Tx) AddKrbPrincipal(ctx context.Context, userID int64, principal string) error {
	_, err := tx.exec(ctx, "INSERT INTO user_krb_principals (user_id, krb_principal) VALUES (?, ?)", userID, principal)
	return err
}

// RemoveKrbPrincipal detaches a Kerberos principal from a user.
func (tx *Tx) RemoveKrbPrincipal(ctx context.Context, userID int64, principal string) error {
	return tx.execOne(ctx, "principal", principal,
		"DELETE FROM user_krb_principals WHERE user_id = ? AND krb_principal = ?", userID, principal)
}

// KrbPrincipals returns a user's Kerberos principals, sorted.
func (tx *Tx) KrbPrincipals(ctx context.Context, userID int64) ([]string, error) {
	rows, err := tx.query(ctx, "SELECT krb_principal FROM user_krb_principals WHERE user_id = ? ORDER BY krb_principal", userID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanString)
}

func scanPermission(row scanner) (*Permission, error) {
	var p Permission
	if err := row.Scan(&p.ID, &p.Name, &p.Description); err != nil {
		return nil, err
	}
	return &p, nil
}

// ListPermissions returns every permission in id order.
func (tx *Tx) ListPermissions(ctx context.Context) ([]Permission, error) {
	rows, err := tx.query(ctx, "SELECT id, name, description FROM permissions ORDER BY id")
	if err != nil {
		return nil, err
	}
	return collect(rows, scanPermission)
}

// GetPermission returns the permission with the given name.
func (tx *Tx) GetPermission(ctx context.Context, name string) (*Permission, error) {
	p, err := scanPermission(tx.queryRow(ctx, "SELECT id, name, description FROM permissions WHERE name = ?", name))
	if err != nil {
		return nil, notFound(err, "permission", name)
	}
	return p, nil
}

// CreatePermission adds a permission and returns its id.
func (tx *Tx) CreatePermission(ctx context.Context, name string, description *string) (int64, error) {
	return tx.insertID(ctx, "INSERT INTO permissions (name, description) VALUES (?, ?) RETURNING id", name, description)
}

// GrantPermission gives a user a permission as of this transaction's event.
// Granting a permission the user already has is a [*ConflictError].
func (tx *Tx) GrantPermission(ctx context.Context, userID, permID, creatorID int64) error {
	event, err := tx.NewEvent(ctx)
	if err != nil {
		return err
	}
	_, err = tx.exec(ctx, "INSERT INTO user_perms (user_id, perm_id, create_event, creator_id, active) VALUES (?, ?, ?, ?, TRUE)",
		userID, permID, event, creatorID)
	return err
}

// RevokePermission takes a permission from a user as of this transaction's
// event. It returns a [*NotFoundError] if the user does not have it.
func (tx *Tx) RevokePermission(ctx context.Context, userID, permID, revokerID int64) error {
	n, err := tx.revoke(ctx, "user_perms", revokerID, "user_id = ? AND perm_id = ?", userID, permID)
	if err != nil {
		return err
	}
	if n == 0 {
		return &NotFoundError{Kind: "permission grant", Key: fmt.Sprintf("user %d perm %d", userID, permID)}
	}
	return nil
}

// UserPerms returns the permissions granted directly to a user, in id
// order: the current ones, or with asOf those held at that event.
func (tx *Tx) UserPerms(ctx context.Context, userID int64, asOf *int64) ([]Permission, error) {
	cond, args := eventCondition("up", asOf)
	rows, err := tx.query(ctx, "SELECT p.id, p.name, p.description FROM user_perms up "+
		"JOIN permissions p ON p.id = up.perm_id WHERE up.user_id = ? AND "+cond+" ORDER BY p.id",
		append([]any{userID}, args...)...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanPermission)
}

// EffectivePerms returns the names of the permissions a user holds now,
// directly or through an active group membership, in permission id order:
// what upstream's session.perms holds.
func (tx *Tx) EffectivePerms(ctx context.Context, userID int64) ([]string, error) {
	rows, err := tx.query(ctx, "SELECT p.name FROM permissions p WHERE p.id IN ("+
		"SELECT up.perm_id FROM user_perms up WHERE up.active = TRUE AND (up.user_id = ? OR up.user_id IN ("+
		"SELECT ug.group_id FROM user_groups ug WHERE ug.active = TRUE AND ug.user_id = ?))) ORDER BY p.id",
		userID, userID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanString)
}

// AddGroupMember adds a user to a group (a user of type UserTypeGroup) as
// of this transaction's event; an existing membership is a
// [*ConflictError].
func (tx *Tx) AddGroupMember(ctx context.Context, groupID, userID, creatorID int64) error {
	event, err := tx.NewEvent(ctx)
	if err != nil {
		return err
	}
	_, err = tx.exec(ctx, "INSERT INTO user_groups (user_id, group_id, create_event, creator_id, active) VALUES (?, ?, ?, ?, TRUE)",
		userID, groupID, event, creatorID)
	return err
}

// RemoveGroupMember ends a user's membership of a group; a [*NotFoundError]
// if there is none.
func (tx *Tx) RemoveGroupMember(ctx context.Context, groupID, userID, revokerID int64) error {
	n, err := tx.revoke(ctx, "user_groups", revokerID, "user_id = ? AND group_id = ?", userID, groupID)
	if err != nil {
		return err
	}
	if n == 0 {
		return &NotFoundError{Kind: "group membership", Key: fmt.Sprintf("user %d group %d", userID, groupID)}
	}
	return nil
}

// UserGroups returns the groups a user belongs to, in id order: now, or
// with asOf at that event.
func (tx *Tx) UserGroups(ctx context.Context, userID int64, asOf *int64) ([]User, error) {
	cond, args := eventCondition("ug", asOf)
	rows, err := tx.query(ctx, "SELECT u.id, u.name, u.password, u.status, u.usertype FROM user_groups ug "+
		"JOIN users u ON u.id = ug.group_id WHERE ug.user_id = ? AND "+cond+" ORDER BY u.id",
		append([]any{userID}, args...)...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanUser)
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(...any) error }

// collect scans every row with scan and closes rows.
func collect[T any](rows *sql.Rows, scan func(scanner) (*T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, rows.Err()
}

func scanString(row scanner) (*string, error) {
	var s string
	return &s, row.Scan(&s)
}
