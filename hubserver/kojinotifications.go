package hubserver

import (
	"context"
	"errors"
	"slices"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

const (
	buildNotificationsDoc = "Get build notifications for the user with the given ID, name or\n" +
		"        Kerberos principal. If no user is specified, get the notifications for\n" +
		"        the currently logged-in user. If there is no currently logged-in user,\n" +
		"        raise a GenericError."
	buildNotificationDoc = "Get the build notification with the given ID.\n" +
		"        If there is no notification with the given ID, when strict is True,\n" +
		"        raise GenericError, else return None.\n        "
)

// notificationMethods are upstream's RootExports calls on the mail
// notifications users subscribe to (build_notifications) and the ones
// they opt out of (build_notifications_block).
func (k *Koji) notificationMethods() []Method {
	return []Method{
		{
			Name: "getBuildNotifications", PyName: "RootExports.getBuildNotifications", Bound: true,
			Args: []Arg{{Name: "userID", Default: None}}, Doc: buildNotificationsDoc,
			Func: getBuildNotifications,
		},
		{
			Name: "getBuildNotification", PyName: "RootExports.getBuildNotification", Bound: true,
			Args: []Arg{{Name: "id"}, {Name: "strict", Default: false}}, Doc: buildNotificationDoc,
			Func: getBuildNotification,
		},
		{
			Name: "getBuildNotificationBlocks", PyName: "RootExports.getBuildNotificationBlocks", Bound: true,
			Args: []Arg{{Name: "userID", Default: None}}, Doc: buildNotificationsDoc,
			Func: getBuildNotificationBlocks,
		},
		{
			Name: "getBuildNotificationBlock", PyName: "RootExports.getBuildNotificationBlock", Bound: true,
			Args: []Arg{{Name: "id"}, {Name: "strict", Default: false}}, Doc: buildNotificationDoc,
			Func: getBuildNotificationBlock,
		},
		{
			Name: "updateNotification", PyName: "RootExports.updateNotification", Bound: true,
			Args: []Arg{{Name: "id"}, {Name: "package_id"}, {Name: "tag_id"}, {Name: "success_only"}},
			Doc: "Update an existing build notification with new data.  If the notification\n" +
				"        with the given ID doesn't exist, or the currently logged-in user is not the\n" +
				"        owner or the notification or an admin, raise a GenericError.",
			Func: updateNotification,
		},
		{
			Name: "createNotification", PyName: "RootExports.createNotification", Bound: true,
			Args: []Arg{{Name: "user_id"}, {Name: "package_id"}, {Name: "tag_id"}, {Name: "success_only"}},
			Doc: "Create a new notification.  If the user_id does not match the currently logged-in user\n" +
				"        and the currently logged-in user is not an admin, raise a GenericError.",
			Func: k.createNotification,
		},
		{
			Name: "deleteNotification", PyName: "RootExports.deleteNotification", Bound: true,
			Args: []Arg{{Name: "id"}},
			Doc: "Delete the notification with the given ID.  If the currently logged-in\n" +
				"        user is not the owner of the notification or an admin, raise a GenericError.",
			Func: deleteNotification,
		},
		{
			Name: "createNotificationBlock", PyName: "RootExports.createNotificationBlock", Bound: true,
			Args: []Arg{{Name: "user_id"}, {Name: "package_id", Default: None}, {Name: "tag_id", Default: None}},
			Doc: "Create notification block. If the user_id does not match the\n" +
				"        currently logged-in user and the currently logged-in user is not an\n" +
				"        admin, raise a GenericError.",
			Func: createNotificationBlock,
		},
		{
			Name: "deleteNotificationBlock", PyName: "RootExports.deleteNotificationBlock", Bound: true,
			Args: []Arg{{Name: "id"}},
			Doc: "Delete the notification block with the given ID.  If the currently logged-in\n" +
				"        user is not the owner of the notification or an admin, raise a GenericError.",
			Func: deleteNotificationBlock,
		},
	}
}

func notificationData(n *store.BuildNotification) map[string]any {
	return map[string]any{"id": n.ID, "user_id": n.UserID, "package_id": ptrValue(n.PackageID),
		"tag_id": ptrValue(n.TagID), "success_only": n.SuccessOnly, "email": n.Email}
}

func notificationBlockData(b *store.NotificationBlock) map[string]any {
	return map[string]any{"id": b.ID, "user_id": b.UserID, "package_id": ptrValue(b.PackageID), "tag_id": ptrValue(b.TagID)}
}

// userRows answers the rows list reads for a user (by default the
// caller; "No user provided" when anonymous), each as data makes it.
func userRows[T any](ctx context.Context, userID any, list func(*store.Tx, context.Context, int64) ([]T, error),
	data func(*T) map[string]any) ([]map[string]any, error) {
	tx := storeTx(ctx)
	u, err := userForPerms(ctx, tx, userID)
	if err != nil {
		return nil, err
	}
	rows, err := list(tx, ctx, u.ID)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(rows))
	for i := range rows {
		out[i] = data(&rows[i])
	}
	return out, nil
}

// rowByID reads a row by id ("id = %(id)i") with get; nil, or with
// strict upstream's GenericError "No <what> with ID <id> found", when
// there is none.
func rowByID[T any](ctx context.Context, id any, strict bool, get func(*store.Tx, context.Context, int64) (*T, error),
	what string) (*T, error) {
	n, err := sqlInt(id)
	if err != nil {
		return nil, err
	}
	row, err := get(storeTx(ctx), ctx, n)
	if errors.Is(err, store.ErrNotFound) {
		if strict {
			return nil, fault(koji.ErrGeneric, "No %s with ID %d found", what, n)
		}
		return nil, nil
	}
	return row, err
}

// getBuildNotifications is RootExports.getBuildNotifications: the
// notifications of a user, as get_build_notifications.
func getBuildNotifications(ctx context.Context, userID any) ([]map[string]any, error) {
	return userRows(ctx, userID, (*store.Tx).BuildNotifications, notificationData)
}

func buildNotification(ctx context.Context, id any, strict bool) (*store.BuildNotification, error) {
	return rowByID(ctx, id, strict, (*store.Tx).GetBuildNotification, "notification")
}

func getBuildNotification(ctx context.Context, id any, strict bool) (map[string]any, error) {
	n, err := buildNotification(ctx, id, strict)
	if n == nil || err != nil {
		return nil, err
	}
	return notificationData(n), nil
}

// getBuildNotificationBlocks is RootExports.getBuildNotificationBlocks:
// the opt-outs of a user, as get_build_notification_blocks.
func getBuildNotificationBlocks(ctx context.Context, userID any) ([]map[string]any, error) {
	return userRows(ctx, userID, (*store.Tx).NotificationBlocks, notificationBlockData)
}

func notificationBlock(ctx context.Context, id any, strict bool) (*store.NotificationBlock, error) {
	return rowByID(ctx, id, strict, (*store.Tx).GetNotificationBlock, "notification block")
}

func getBuildNotificationBlock(ctx context.Context, id any, strict bool) (map[string]any, error) {
	b, err := notificationBlock(ctx, id, strict)
	if b == nil || err != nil {
		return nil, err
	}
	return notificationBlockData(b), nil
}

// loggedInUser is the caller, as RootExports.getLoggedInUser answers it;
// GenericError "Not logged-in" for an anonymous call.
func loggedInUser(ctx context.Context, tx *store.Tx) (*store.User, error) {
	id := callerID(ctx)
	if id == 0 {
		return nil, fault(koji.ErrGeneric, "Not logged-in")
	}
	return tx.GetUser(ctx, id)
}

// mayEditNotifications reports whether the caller may change the
// notifications of the user: its own, or any as an admin.
func mayEditNotifications(ctx context.Context, caller *store.User, owner int64) (bool, error) {
	if caller.ID == owner {
		return true, nil
	}
	return rootHasPerm(ctx, "admin", false)
}

// mayChangeNotifications is mayEditNotifications' refusal, in upstream's
// words "user <caller id> cannot <action> for user <owner id>".
func mayChangeNotifications(ctx context.Context, caller *store.User, owner int64, action string) error {
	ok, err := mayEditNotifications(ctx, caller, owner)
	if err == nil && !ok {
		err = fault(koji.ErrGeneric, "user %d cannot %s for user %d", caller.ID, action, owner)
	}
	return err
}

// notificationUser is the user createNotification and
// createNotificationBlock subscribe: RootExports.getUser(user_id), "No
// such user ID" when there is none, and the caller unless that user or
// an admin, in upstream's words with what.
func notificationUser(ctx context.Context, tx *store.Tx, userID any, what string) (*store.User, error) {
	caller, err := loggedInUser(ctx, tx)
	if err != nil {
		return nil, err
	}
	info := userID
	if info == nil {
		info = caller.ID
	}
	u, err := lookupUser(ctx, tx, info)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, fault(koji.ErrGeneric, "No such user ID: %s", pyFormat(userID))
	}
	if ok, err := mayEditNotifications(ctx, caller, u.ID); err != nil || !ok {
		if err == nil {
			err = fault(koji.ErrGeneric, "user %s cannot create %s for user %s", caller.Name, what, u.Name)
		}
		return nil, err
	}
	return u, nil
}

// notificationScope is the sanitized package and tag of a notification:
// get_package_id and get_tag_id, strict, of those not None.
func notificationScope(ctx context.Context, tx *store.Tx, pkg, tag any) (pkgID, tagID *int64, err error) {
	if pkg != nil {
		r, err := lookupName(ctx, tx, "package", pkg, true, false)
		if err != nil {
			return nil, nil, err
		}
		pkgID = &r.ID
	}
	if tag != nil {
		r, err := tagRef(ctx, tx, tag, true)
		if err != nil {
			return nil, nil, err
		}
		tagID = &r.ID
	}
	return pkgID, tagID, nil
}

// updateNotification is RootExports.updateNotification: the owner or an
// admin changes a notification's package, tag and success_only, unless
// the owner has a notification with those already (this one included).
func updateNotification(ctx context.Context, id, packageID, tagID, successOnly any) error {
	tx := storeTx(ctx)
	caller, err := loggedInUser(ctx, tx)
	if err != nil {
		return err
	}
	orig, err := buildNotification(ctx, id, true)
	if err != nil {
		return err
	}
	if err := mayChangeNotifications(ctx, caller, orig.UserID, "update notifications"); err != nil {
		return err
	}
	pkg, tag, err := notificationScope(ctx, tx, packageID, tagID)
	if err != nil {
		return err
	}
	only := xmlrpc.Truthy(successOnly)
	existing, err := tx.BuildNotifications(ctx, orig.UserID)
	if err != nil {
		return err
	}
	for _, n := range existing {
		if eqPtr(n.PackageID, pkg) && eqPtr(n.TagID, tag) && n.SuccessOnly == only {
			return fault(koji.ErrGeneric, "notification already exists")
		}
	}
	return tx.UpdateBuildNotification(ctx, orig.ID, pkg, tag, only)
}

// createNotification is RootExports.createNotification: a subscription of
// the user (the caller, or anyone for an admin) to mails about builds of
// the package (None: any) into the tag (None: any), at <name>@EmailDomain.
func (k *Koji) createNotification(ctx context.Context, userID, packageID, tagID, successOnly any) error {
	tx := storeTx(ctx)
	u, err := notificationUser(ctx, tx, userID, "notifications")
	if err != nil {
		return err
	}
	pkg, tag, err := notificationScope(ctx, tx, packageID, tagID)
	if err != nil {
		return err
	}
	only := xmlrpc.Truthy(successOnly)
	existing, err := tx.BuildNotifications(ctx, u.ID)
	if err != nil {
		return err
	}
	for _, n := range existing {
		if eqPtr(n.PackageID, pkg) && eqPtr(n.TagID, tag) && n.SuccessOnly == only {
			return fault(koji.ErrGeneric, "notification already exists")
		}
	}
	_, err = tx.CreateBuildNotification(ctx, store.BuildNotification{UserID: u.ID, PackageID: pkg, TagID: tag,
		SuccessOnly: only, Email: u.Name + "@" + k.emailDomain()})
	return err
}

// deleteNotification is RootExports.deleteNotification: the owner or an
// admin removes a notification.
func deleteNotification(ctx context.Context, id any) error {
	n, err := buildNotification(ctx, id, true)
	if err != nil {
		return err
	}
	return removeOwned(ctx, n.UserID, n.ID, "delete notifications", (*store.Tx).DeleteBuildNotification)
}

// removeOwned removes row id of owner's with del, when the caller (not
// anonymous) may: as owner or admin.
func removeOwned(ctx context.Context, owner, id int64, action string, del func(*store.Tx, context.Context, int64) error) error {
	tx := storeTx(ctx)
	caller, err := loggedInUser(ctx, tx)
	if err != nil {
		return err
	}
	if err := mayChangeNotifications(ctx, caller, owner, action); err != nil {
		return err
	}
	return del(tx, ctx, id)
}

// createNotificationBlock is RootExports.createNotificationBlock: an
// opt-out of the user (the caller, or anyone for an admin) from the mails
// about the package (None: any) in the tag (None: any).
func createNotificationBlock(ctx context.Context, userID, packageID, tagID any) error {
	tx := storeTx(ctx)
	u, err := notificationUser(ctx, tx, userID, "notification blocks")
	if err != nil {
		return err
	}
	pkg, tag, err := notificationScope(ctx, tx, packageID, tagID)
	if err != nil {
		return err
	}
	existing, err := tx.NotificationBlocks(ctx, u.ID)
	if err != nil {
		return err
	}
	for _, b := range existing {
		if eqPtr(b.PackageID, pkg) && eqPtr(b.TagID, tag) {
			return fault(koji.ErrGeneric, "notification already exists")
		}
	}
	_, err = tx.CreateNotificationBlock(ctx, store.NotificationBlock{UserID: u.ID, PackageID: pkg, TagID: tag})
	return err
}

// deleteNotificationBlock is RootExports.deleteNotificationBlock: the
// owner or an admin removes an opt-out.
func deleteNotificationBlock(ctx context.Context, id any) error {
	b, err := notificationBlock(ctx, id, true)
	if err != nil {
		return err
	}
	return removeOwned(ctx, b.UserID, b.ID, "delete notification blocks", (*store.Tx).DeleteNotificationBlock)
}

// emailDomain is EmailDomain, Python's None when unset.
func (k *Koji) emailDomain() string {
	if d := k.cfg.Notifications.EmailDomain; d != "" {
		return d
	}
	return "None"
}

// notificationRecipients is upstream's get_notification_recipients: the
// addresses to mail about the build into (or out of) the tag (0: none)
// in that state. They are the subscriptions of active normal users and
// groups to the package or any and to the tag or any (with the state not
// COMPLETE, only those not success_only); and unless the build completed
// and SkipSuccess is set, the build's owner and, with a tag, the
// package's owner there when that is an active normal user (at
// EmailDomain); less the users who opted out of the package or any in
// the tag or any. Each address comes once, in that order.
func (k *Koji) notificationRecipients(ctx context.Context, row *store.BuildRow, tagID int64, state int) ([]string, error) {
	tx := storeTx(ctx)
	recipients, err := tx.NotificationSubscribers(ctx, row.PkgID, tagID, state == store.BuildComplete)
	if err != nil {
		return nil, err
	}
	domain := k.emailDomain()
	if !k.cfg.Notifications.SkipSuccess || state != store.BuildComplete {
		recipients = append(recipients, store.NotificationRecipient{UserID: row.Owner, Email: row.OwnerName + "@" + domain})
		if tagID != 0 {
			owner, err := packageOwnerInTag(ctx, tx, tagID, row.PkgID)
			if err != nil {
				return nil, err
			}
			if owner != nil && owner.Status == store.UserStatusNormal && owner.UserType == store.UserTypeNormal {
				recipients = append(recipients, store.NotificationRecipient{UserID: owner.ID, Email: owner.Name + "@" + domain})
			}
		}
	}
	if len(recipients) == 0 {
		return nil, nil
	}
	var ids []int64
	for _, r := range recipients {
		if !slices.Contains(ids, r.UserID) {
			ids = append(ids, r.UserID)
		}
	}
	optouts, err := tx.NotificationOptOuts(ctx, ids, row.PkgID, tagID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range recipients {
		if !optouts[r.UserID] && !slices.Contains(out, r.Email) {
			out = append(out, r.Email)
		}
	}
	return out, nil
}

// packageOwnerInTag is the owner of the package in the tag's package
// list, following inheritance; nil when it is not listed or blocked.
func packageOwnerInTag(ctx context.Context, tx *store.Tx, tagID, pkgID int64) (*store.User, error) {
	entry, err := pkgInList(ctx, tx, tagID, pkgID, true)
	if err != nil || entry == nil || entry["blocked"] == true {
		return nil, err
	}
	ownerID, _ := entry["owner_id"].(int64)
	if ownerID == 0 {
		return nil, nil
	}
	return strictUser(ctx, tx, ownerID)
}
