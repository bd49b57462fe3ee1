package hubserver

import (
	"context"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
)

// Groups are users of type UserTypeGroup whose members hold the group's
// permissions; these are upstream's group methods.

func newGroup(ctx context.Context, name string) (int64, error) {
	if err := assertPerm(ctx, "admin"); err != nil {
		return 0, err
	}
	if _, err := verifyNameInternal(name); err != nil {
		return 0, err
	}
	tx := storeTx(ctx)
	if u, err := lookupUser(ctx, tx, name); err != nil {
		return 0, err
	} else if u != nil {
		return 0, fault(koji.ErrGeneric, "user/group already exists: %s", name)
	}
	return tx.CreateUser(ctx, store.User{Name: name, Status: store.UserStatusNormal, UserType: store.UserTypeGroup})
}

// lookupGroup is get_user(group) required to be a group; notGroup is the
// fault's wording otherwise.
func lookupGroup(ctx context.Context, tx *store.Tx, group any, notGroup string) (*store.User, error) {
	g, err := lookupUser(ctx, tx, group)
	if err != nil {
		return nil, err
	}
	if g == nil || g.UserType != store.UserTypeGroup {
		return nil, fault(koji.ErrGeneric, "%s: %s", notGroup, pyFormat(group))
	}
	return g, nil
}

func addGroupMember(ctx context.Context, group, user any, strict bool) error {
	if err := assertPerm(ctx, "admin"); err != nil {
		return err
	}
	tx := storeTx(ctx)
	g, err := lookupUser(ctx, tx, group)
	if err != nil {
		return err
	}
	u, err := lookupUser(ctx, tx, user)
	if err != nil {
		return err
	}
	if g == nil || g.UserType != store.UserTypeGroup {
		return fault(koji.ErrGeneric, "Not a group: %s", pyFormat(group))
	}
	if u == nil {
		return fault(koji.ErrGeneric, "Not a user: %s", pyFormat(user))
	}
	if u.UserType == store.UserTypeGroup {
		return fault(koji.ErrGeneric, "Groups cannot be members of other groups")
	}
	if member, err := isMember(ctx, tx, g.ID, u.ID); err != nil {
		return err
	} else if member {
		if !strict {
			return nil
		}
		return fault(koji.ErrGeneric, "User already in group")
	}
	return tx.AddGroupMember(ctx, g.ID, u.ID, callerID(ctx))
}

func isMember(ctx context.Context, tx *store.Tx, groupID, userID int64) (bool, error) {
	members, err := tx.GroupMembers(ctx, groupID)
	if err != nil {
		return false, err
	}
	for _, m := range members {
		if m.ID == userID {
			return true, nil
		}
	}
	return false, nil
}

func dropGroupMember(ctx context.Context, group, user any) error {
	if err := assertPerm(ctx, "admin"); err != nil {
		return err
	}
	tx := storeTx(ctx)
	u, err := strictUser(ctx, tx, user)
	if err != nil {
		return err
	}
	g, err := lookupGroup(ctx, tx, group, "Not a group")
	if err != nil {
		return err
	}
	if member, err := isMember(ctx, tx, g.ID, u.ID); err != nil {
		return err
	} else if !member {
		return fault(koji.ErrGeneric, "No such user in group: %s", pyFormat(group))
	}
	return tx.RemoveGroupMember(ctx, g.ID, u.ID, callerID(ctx))
}

// getGroupMembers lists a group's members as upstream does: id, name,
// usertype and krb_principals (no status), admin only.
func getGroupMembers(ctx context.Context, group any) ([]map[string]any, error) {
	if err := assertPerm(ctx, "admin"); err != nil {
		return nil, err
	}
	tx := storeTx(ctx)
	g, err := lookupGroup(ctx, tx, group, "No such group")
	if err != nil {
		return nil, err
	}
	members, err := tx.GroupMembers(ctx, g.ID)
	if err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for i := range members {
		d, err := userData(ctx, tx, &members[i], true)
		if err != nil {
			return nil, err
		}
		delete(d, "status")
		out = append(out, d)
	}
	return out, nil
}

// getUserGroups lists the groups a user belongs to: [{id, name}].
func getUserGroups(ctx context.Context, user any) ([]map[string]any, error) {
	tx := storeTx(ctx)
	u, err := strictUser(ctx, tx, user)
	if err != nil {
		return nil, err
	}
	groups, err := tx.UserGroups(ctx, u.ID, nil)
	if err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for _, g := range groups {
		if g.UserType == store.UserTypeGroup {
			out = append(out, map[string]any{"id": g.ID, "name": g.Name})
		}
	}
	return out, nil
}
