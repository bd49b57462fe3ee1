package store

import "context"

// SetUserName renames a user; a name already taken is a [*ConflictError].
func (tx *Tx) SetUserName(ctx context.Context, id int64, name string) error {
	return tx.execOne(ctx, "user", id, "UPDATE users SET name = ? WHERE id = ?", name, id)
}

// SetPermissionDescription sets (or with nil clears) a permission's
// description.
func (tx *Tx) SetPermissionDescription(ctx context.Context, id int64, description *string) error {
	return tx.execOne(ctx, "permission", id, "UPDATE permissions SET description = ? WHERE id = ?", description, id)
}

// GroupMembers returns the current members of a group, in id order.
func (tx *Tx) GroupMembers(ctx context.Context, groupID int64) ([]User, error) {
	rows, err := tx.query(ctx, "SELECT u.id, u.name, u.password, u.status, u.usertype FROM user_groups ug "+
		"JOIN users u ON u.id = ug.user_id WHERE ug.group_id = ? AND ug.active = TRUE ORDER BY u.id", groupID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanUser)
}

// GroupPerm is a permission a user holds through a group.
type GroupPerm struct {
	Perm  string // the permission's name
	Group string // the group's name
}

// GroupPerms returns the permissions a user holds through its current
// group memberships, ordered by permission id, then group id.
func (tx *Tx) GroupPerms(ctx context.Context, userID int64) ([]GroupPerm, error) {
	rows, err := tx.query(ctx, "SELECT p.name, g.name FROM user_groups ug "+
		"JOIN users g ON g.id = ug.group_id "+
		"JOIN user_perms up ON up.user_id = ug.group_id AND up.active = TRUE "+
		"JOIN permissions p ON p.id = up.perm_id "+
		"WHERE ug.user_id = ? AND ug.active = TRUE ORDER BY p.id, g.id", userID)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(row scanner) (*GroupPerm, error) {
		var gp GroupPerm
		return &gp, row.Scan(&gp.Perm, &gp.Group)
	})
}
