package store

import (
	"context"
	"strings"
)

// A BuildNotification is a row of build_notifications: a user's
// subscription to the mails about builds of a package (nil: any) into a
// tag (nil: any), only the successful ones with SuccessOnly.
type BuildNotification struct {
	ID          int64
	UserID      int64
	PackageID   *int64
	TagID       *int64
	SuccessOnly bool
	Email       string
}

// A NotificationBlock is a row of build_notifications_block: a user's
// opt-out of the mails about a package (nil: any) in a tag (nil: any).
type NotificationBlock struct {
	ID        int64
	UserID    int64
	PackageID *int64
	TagID     *int64
}

const notificationColumns = "id, user_id, package_id, tag_id, success_only, email"

func scanNotification(r scanner) (*BuildNotification, error) {
	var n BuildNotification
	return &n, r.Scan(&n.ID, &n.UserID, &n.PackageID, &n.TagID, &n.SuccessOnly, &n.Email)
}

func scanNotificationBlock(r scanner) (*NotificationBlock, error) {
	var b NotificationBlock
	return &b, r.Scan(&b.ID, &b.UserID, &b.PackageID, &b.TagID)
}

// BuildNotifications returns the user's notifications, by id.
func (tx *Tx) BuildNotifications(ctx context.Context, userID int64) ([]BuildNotification, error) {
	rows, err := tx.query(ctx, "SELECT "+notificationColumns+" FROM build_notifications WHERE user_id = ? ORDER BY id", userID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanNotification)
}

// GetBuildNotification returns the notification with the given id.
func (tx *Tx) GetBuildNotification(ctx context.Context, id int64) (*BuildNotification, error) {
	n, err := scanNotification(tx.queryRow(ctx, "SELECT "+notificationColumns+" FROM build_notifications WHERE id = ?", id))
	if err != nil {
		return nil, notFound(err, "build notification", id)
	}
	return n, nil
}

// CreateBuildNotification inserts n (its ID is ignored) and returns its id.
func (tx *Tx) CreateBuildNotification(ctx context.Context, n BuildNotification) (int64, error) {
	return tx.insertID(ctx, "INSERT INTO build_notifications (user_id, package_id, tag_id, success_only, email) "+
		"VALUES (?, ?, ?, ?, ?) RETURNING id", n.UserID, n.PackageID, n.TagID, n.SuccessOnly, n.Email)
}

// UpdateBuildNotification sets the package, tag and success_only of the
// notification with the given id.
func (tx *Tx) UpdateBuildNotification(ctx context.Context, id int64, packageID, tagID *int64, successOnly bool) error {
	return tx.execOne(ctx, "build notification", id,
		"UPDATE build_notifications SET package_id = ?, tag_id = ?, success_only = ? WHERE id = ?",
		packageID, tagID, successOnly, id)
}

// DeleteBuildNotification removes the notification with the given id.
func (tx *Tx) DeleteBuildNotification(ctx context.Context, id int64) error {
	_, err := tx.exec(ctx, "DELETE FROM build_notifications WHERE id = ?", id)
	return err
}

// NotificationBlocks returns the user's notification blocks, by id.
func (tx *Tx) NotificationBlocks(ctx context.Context, userID int64) ([]NotificationBlock, error) {
	rows, err := tx.query(ctx, "SELECT id, user_id, package_id, tag_id FROM build_notifications_block WHERE user_id = ? ORDER BY id", userID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanNotificationBlock)
}

// GetNotificationBlock returns the notification block with the given id.
func (tx *Tx) GetNotificationBlock(ctx context.Context, id int64) (*NotificationBlock, error) {
	b, err := scanNotificationBlock(tx.queryRow(ctx,
		"SELECT id, user_id, package_id, tag_id FROM build_notifications_block WHERE id = ?", id))
	if err != nil {
		return nil, notFound(err, "notification block", id)
	}
	return b, nil
}

// CreateNotificationBlock inserts b (its ID is ignored) and returns its id.
func (tx *Tx) CreateNotificationBlock(ctx context.Context, b NotificationBlock) (int64, error) {
	return tx.insertID(ctx, "INSERT INTO build_notifications_block (user_id, package_id, tag_id) VALUES (?, ?, ?) RETURNING id",
		b.UserID, b.PackageID, b.TagID)
}

// DeleteNotificationBlock removes the notification block with the given id.
func (tx *Tx) DeleteNotificationBlock(ctx context.Context, id int64) error {
	_, err := tx.exec(ctx, "DELETE FROM build_notifications_block WHERE id = ?", id)
	return err
}

// A NotificationRecipient is a user to mail and the address.
type NotificationRecipient struct {
	UserID int64
	Email  string
}

// scopeClauses are get_notification_recipients' package and tag clauses:
// rows for the package (0: none) or any, and for the tag (0: none) or any.
func scopeClauses(packageID, tagID int64) (clauses []string, args []any) {
	if packageID != 0 {
		clauses, args = append(clauses, "(package_id = ? OR package_id IS NULL)"), append(args, packageID)
	} else {
		clauses = append(clauses, "package_id IS NULL")
	}
	if tagID != 0 {
		clauses, args = append(clauses, "(tag_id = ? OR tag_id IS NULL)"), append(args, tagID)
	} else {
		clauses = append(clauses, "tag_id IS NULL")
	}
	return clauses, args
}

// NotificationSubscribers returns, by notification id, the subscriptions
// of active normal users and groups to a build of the package (0: none)
// into the tag (0: none), as upstream's get_notification_recipients reads
// build_notifications: with success false, only those not success_only.
func (tx *Tx) NotificationSubscribers(ctx context.Context, packageID, tagID int64, success bool) ([]NotificationRecipient, error) {
	clauses, args := scopeClauses(packageID, tagID)
	clauses = append([]string{"u.status = ?", "u.usertype IN (?, ?)"}, clauses...)
	args = append([]any{UserStatusNormal, UserTypeNormal, UserTypeGroup}, args...)
	if !success {
		clauses = append(clauses, "n.success_only = FALSE")
	}
	rows, err := tx.query(ctx, "SELECT n.user_id, n.email FROM build_notifications n JOIN users u ON u.id = n.user_id WHERE "+
		strings.Join(clauses, " AND ")+" ORDER BY n.id", args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r scanner) (*NotificationRecipient, error) {
		var n NotificationRecipient
		return &n, r.Scan(&n.UserID, &n.Email)
	})
}

// NotificationOptOuts returns which of the users block the mails about
// the package (0: none) in the tag (0: none).
func (tx *Tx) NotificationOptOuts(ctx context.Context, userIDs []int64, packageID, tagID int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	if len(userIDs) == 0 {
		return out, nil
	}
	clauses, args := scopeClauses(packageID, tagID)
	ids := make([]any, len(userIDs))
	for i, id := range userIDs {
		ids[i] = id
	}
	clauses = append([]string{"user_id IN (" + placeholders(len(ids)) + ")"}, clauses...)
	rows, err := tx.query(ctx, "SELECT user_id FROM build_notifications_block WHERE "+strings.Join(clauses, " AND "),
		append(ids, args...)...)
	if err != nil {
		return nil, err
	}
	users, err := collect(rows, func(r scanner) (*int64, error) {
		var id int64
		return &id, r.Scan(&id)
	})
	for _, id := range users {
		out[id] = true
	}
	return out, err
}
