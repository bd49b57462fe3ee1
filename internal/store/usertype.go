package store

import "context"

// SetUserType sets a user's type (UserTypeNormal, UserTypeHost or
// UserTypeGroup), as upstream's addHost does with force to turn a normal
// user into a builder's account.
func (tx *Tx) SetUserType(ctx context.Context, id int64, userType int) error {
	return tx.execOne(ctx, "user", id, "UPDATE users SET usertype = ? WHERE id = ?", userType, id)
}
