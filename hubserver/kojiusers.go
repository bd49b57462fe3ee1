package hubserver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
)

// userMethods are upstream's user, permission and session-information
// methods.
func (k *Koji) userMethods() []Method {
	return []Method{
		{Name: "getLoggedInUser", PyName: "RootExports.getLoggedInUser", Bound: true, Func: getLoggedInUser},
		{
			Name: "getSessionInfo", PyName: "RootExports.getSessionInfo", Bound: true,
			Args: []Arg{{Name: "details", Default: false}, {Name: "user_id", Default: None}},
			Func: getSessionInfo,
		},
		{Name: "getPerms", PyName: "RootExports.getPerms", Bound: true, Func: getPerms},
		{
			Name: "hasPerm", PyName: "RootExports.hasPerm", Bound: true,
			Args: []Arg{{Name: "perm"}, {Name: "strict", Default: false}},
			Func: rootHasPerm,
		},
		{Name: "getAllPerms", PyName: "RootExports.getAllPerms", Bound: true, Func: getAllPerms},
		{
			Name: "grantPermission", PyName: "RootExports.grantPermission", Bound: true,
			Args: []Arg{{Name: "userinfo"}, {Name: "permission"}, {Name: "create", Default: false}, {Name: "description", Default: None}},
			Func: grantPermission,
		},
		{
			Name: "revokePermission", PyName: "RootExports.revokePermission", Bound: true,
			Args: []Arg{{Name: "userinfo"}, {Name: "permission"}},
			Func: revokePermission,
		},
		{
			Name: "getUser", PyName: "get_user",
			Args: []Arg{{Name: "userInfo", Default: None}, {Name: "strict", Default: false},
				{Name: "krb_princs", Default: true}, {Name: "groups", Default: false}},
			Func: getUser,
		},
		{
			Name: "listUsers", PyName: "list_users",
			Args: []Arg{{Name: "userType", Default: store.UserTypeNormal}, {Name: "prefix", Default: None},
				{Name: "queryOpts", Default: None}, {Name: "perm", Default: None}, {Name: "inherited_perm", Default: false}},
			Func: listUsers,
		},
		{
			Name: "createUser", PyName: "RootExports.createUser", Bound: true,
			Args: []Arg{{Name: "username"}, {Name: "status", Default: None}, {Name: "krb_principal", Default: None}},
			Func: k.createUser,
		},
		{
			Name: "enableUser", PyName: "RootExports.enableUser", Bound: true,
			Args: []Arg{{Name: "username"}},
			Func: func(ctx context.Context, username any) error {
				return setUserStatus(ctx, username, store.UserStatusNormal)
			},
		},
		{
			Name: "disableUser", PyName: "RootExports.disableUser", Bound: true,
			Args: []Arg{{Name: "username"}},
			Func: func(ctx context.Context, username any) error {
				return setUserStatus(ctx, username, store.UserStatusBlocked)
			},
		},
		{
			Name: "addUserKrbPrincipal", PyName: "RootExports.addUserKrbPrincipal", Bound: true,
			Args: []Arg{{Name: "user"}, {Name: "krb_principal"}},
			Doc:  "Add a Kerberos principal for user",
			Func: k.addUserKrbPrincipal,
		},
		{
			Name: "removeUserKrbPrincipal", PyName: "RootExports.removeUserKrbPrincipal", Bound: true,
			Args: []Arg{{Name: "user"}, {Name: "krb_principal"}},
			Doc:  "remove a Kerberos principal for user",
			Func: removeUserKrbPrincipal,
		},
		{
			Name: "editUser", PyName: "edit_user",
			Args: []Arg{{Name: "userInfo"}, {Name: "name", Default: None}, {Name: "krb_principal_mappings", Default: None}},
			Func: k.editUser,
		},
		{
			Name: "getUserPerms", PyName: "RootExports.getUserPerms", Bound: true,
			Args: []Arg{{Name: "userID", Default: None}, {Name: "with_groups", Default: true}},
			Func: getUserPerms,
		},
		{
			Name: "getUserPermsInheritance", PyName: "RootExports.getUserPermsInheritance", Bound: true,
			Args: []Arg{{Name: "userID"}},
			Func: getUserPermsInheritance,
		},
		{
			Name: "editPermission", PyName: "RootExports.editPermission", Bound: true,
			Args: []Arg{{Name: "permission"}, {Name: "description"}},
			Func: editPermission,
		},
		{
			Name: "getUserGroups", PyName: "RootExports.getUserGroups", Bound: true,
			Args: []Arg{{Name: "user"}},
			Func: getUserGroups,
		},
		{Name: "newGroup", PyName: "new_group", Args: []Arg{{Name: "name"}}, Func: newGroup},
		{
			Name: "addGroupMember", PyName: "add_group_member",
			Args: []Arg{{Name: "group"}, {Name: "user"}, {Name: "strict", Default: true}},
			Func: addGroupMember,
		},
		{Name: "dropGroupMember", PyName: "drop_group_member", Args: []Arg{{Name: "group"}, {Name: "user"}}, Func: dropGroupMember},
		{Name: "getGroupMembers", PyName: "get_group_members", Args: []Arg{{Name: "group"}}, Func: getGroupMembers},
	}
}

// callerID is the logged-in user's id, 0 when anonymous.
func callerID(ctx context.Context) int64 {
	if s := SessionFrom(ctx); s != nil {
		return int64(s.UserID)
	}
	return 0
}

// hasPerm reports whether the user holds perm, directly or through a
// group (upstream's Session.hasPerm: admin implies nothing here).
func hasPerm(ctx context.Context, tx *store.Tx, userID int64, perm string) (bool, error) {
	perms, err := tx.EffectivePerms(ctx, userID)
	return slices.Contains(perms, perm), err
}

// assertPerm faults unless the caller holds perm or admin, worded as
// upstream's Session.assertPerm.
func assertPerm(ctx context.Context, perm string) error {
	s := SessionFrom(ctx)
	if s == nil || s.UserID == 0 {
		return fault(koji.ErrActionNotAllowed, "%s permission required (user not logged in)", perm)
	}
	markPermsRead(ctx)
	perms, err := storeTx(ctx).EffectivePerms(ctx, int64(s.UserID))
	if err != nil {
		return err
	}
	if !slices.Contains(perms, perm) && !slices.Contains(perms, "admin") {
		return fault(koji.ErrActionNotAllowed, "%s permission required (logged in as %s)", perm, s.UserName)
	}
	return nil
}

// userData is a user as get_user answers it.
func userData(ctx context.Context, tx *store.Tx, u *store.User, krbPrincs bool) (map[string]any, error) {
	out := map[string]any{"id": u.ID, "name": u.Name, "status": u.Status, "usertype": u.UserType}
	if krbPrincs {
		p, err := tx.KrbPrincipals(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		out["krb_principals"] = append([]string{}, p...)
	}
	return out, nil
}

// lookupUser finds a user by id, name or Kerberos principal, or by the
// id, name or krb_principal member of a struct, as get_user does; nil when
// there is none.
func lookupUser(ctx context.Context, tx *store.Tx, info any) (*store.User, error) {
	var u *store.User
	var err error
	switch v := info.(type) {
	case int64:
		u, err = tx.GetUser(ctx, v)
	case int:
		u, err = tx.GetUser(ctx, int64(v))
	case string:
		if u, err = tx.GetUserByName(ctx, v); errors.Is(err, store.ErrNotFound) {
			u, err = tx.GetUserByKrbPrincipal(ctx, v)
		}
	case map[string]any:
		for _, key := range []string{"id", "name", "krb_principal"} {
			if x, ok := v[key]; ok {
				if key == "krb_principal" {
					s, _ := x.(string)
					u, err = tx.GetUserByKrbPrincipal(ctx, s)
				} else {
					u, err = lookupUser(ctx, tx, x)
				}
				break
			}
		}
		if u == nil && err == nil {
			return nil, fault(koji.ErrGeneric, "Invalid userInfo: %s", pyRepr(info))
		}
	default:
		return nil, fault(koji.ErrGeneric, "Invalid type for userInfo: %s", pyType(info))
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return u, err
}

// pyType names a decoded XML-RPC value's Python class.
func pyType(v any) string {
	switch v.(type) {
	case float64:
		return "<class 'float'>"
	case bool:
		return "<class 'bool'>"
	case []any:
		return "<class 'list'>"
	case nil:
		return "<class 'NoneType'>"
	}
	return fmt.Sprintf("<class '%T'>", v)
}

// strictUser is lookupUser faulting "No such user" when there is none.
func strictUser(ctx context.Context, tx *store.Tx, info any) (*store.User, error) {
	u, err := lookupUser(ctx, tx, info)
	if err == nil && u == nil {
		return nil, fault(koji.ErrGeneric, "No such user: %s", pyRepr(info))
	}
	return u, err
}

func getUser(ctx context.Context, userInfo any, strict, krbPrincs, groups bool) (map[string]any, error) {
	if userInfo == nil {
		if userInfo = callerID(ctx); userInfo == int64(0) {
			return nil, nil
		}
	}
	tx := storeTx(ctx)
	var u *store.User
	var err error
	if strict {
		u, err = strictUser(ctx, tx, userInfo)
	} else {
		u, err = lookupUser(ctx, tx, userInfo)
	}
	if u == nil || err != nil {
		return nil, err
	}
	out, err := userData(ctx, tx, u, krbPrincs)
	if err != nil || !groups {
		return out, err
	}
	gs, err := tx.UserGroups(ctx, u.ID, nil)
	if err != nil {
		return nil, err
	}
	names := []string{}
	for _, g := range gs {
		names = append(names, g.Name)
	}
	out["groups"] = names
	return out, nil
}

func getLoggedInUser(ctx context.Context) (map[string]any, error) {
	s := SessionFrom(ctx)
	if s == nil || s.UserID == 0 {
		return nil, nil
	}
	tx := storeTx(ctx)
	row, err := tx.GetSession(ctx, int64(s.ID))
	if err != nil {
		return nil, err
	}
	u, err := tx.GetUser(ctx, row.UserID)
	if err != nil {
		return nil, err
	}
	out, err := userData(ctx, tx, u, true)
	if err != nil {
		return nil, err
	}
	// krb_principal is the first principal, kept for old clients'
	// moshimoshi, as upstream keeps it.
	out["authtype"], out["krb_principal"] = row.AuthType, nil
	if p := out["krb_principals"].([]string); len(p) > 0 {
		out["krb_principal"] = p[0]
	}
	return out, nil
}

// pyTime formats t as Python's str() of an aware datetime.
func pyTime(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()/1000 == 0 {
		return t.Format("2006-01-02 15:04:05-07:00")
	}
	return t.Format("2006-01-02 15:04:05.000000-07:00")
}

func pyTS(t time.Time) float64 { return float64(t.UnixMicro()) / 1e6 }

func sessionData(s *store.Session, details bool) map[string]any {
	out := map[string]any{
		"authtype": s.AuthType, "callnum": s.Callnum, "exclusive": nil, "expired": s.Expired,
		"master": s.Master, "renew_time": nil, "renew_ts": nil,
		"start_time": pyTime(s.StartTime), "start_ts": pyTS(s.StartTime),
		"update_time": pyTime(s.UpdateTime), "update_ts": pyTS(s.UpdateTime), "user_id": s.UserID,
	}
	if s.Exclusive {
		out["exclusive"] = true
	}
	if s.RenewTime != nil {
		out["renew_time"], out["renew_ts"] = pyTime(*s.RenewTime), pyTS(*s.RenewTime)
	}
	if details {
		out["id"], out["hostip"] = s.ID, s.HostIP
	}
	return out
}

func getSessionInfo(ctx context.Context, details bool, userID *int64) (any, error) {
	s := SessionFrom(ctx)
	if s == nil || s.UserID == 0 {
		return nil, nil
	}
	tx := storeTx(ctx)
	if userID != nil && *userID != 0 {
		if *userID != int64(s.UserID) {
			markPermsRead(ctx)
			if admin, err := hasPerm(ctx, tx, int64(s.UserID), "admin"); err != nil {
				return nil, err
			} else if !admin {
				return nil, fault(koji.ErrActionNotAllowed, "only admins or owners can see all active sessions")
			}
		}
		ss, err := tx.UserSessions(ctx, *userID)
		if err != nil {
			return nil, err
		}
		out := []map[string]any{}
		for i := range ss {
			out = append(out, sessionData(&ss[i], details))
		}
		return out, nil
	}
	row, err := tx.GetSession(ctx, int64(s.ID))
	if err != nil {
		return nil, err
	}
	return sessionData(row, details), nil
}

func getPerms(ctx context.Context) ([]string, error) {
	id := callerID(ctx)
	if id == 0 {
		return []string{}, nil
	}
	markPermsRead(ctx)
	perms, err := storeTx(ctx).EffectivePerms(ctx, id)
	return append([]string{}, perms...), err
}

func rootHasPerm(ctx context.Context, perm string, strict bool) (bool, error) {
	tx := storeTx(ctx)
	if strict {
		if _, err := tx.GetPermission(ctx, perm); errors.Is(err, store.ErrNotFound) {
			return false, fault(koji.ErrGeneric, "No such permission %s defined", perm)
		} else if err != nil {
			return false, err
		}
	}
	id := callerID(ctx)
	if id == 0 {
		return false, nil
	}
	markPermsRead(ctx)
	return hasPerm(ctx, tx, id, perm)
}

func getAllPerms(ctx context.Context) ([]map[string]any, error) {
	perms, err := storeTx(ctx).ListPermissions(ctx)
	if err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for _, p := range perms {
		out = append(out, map[string]any{"id": p.ID, "name": p.Name, "description": p.Description})
	}
	return out, nil
}

// lookupPerm finds a permission by name, faulting as upstream's
// lookup_name when there is none; with create it adds it.
func lookupPerm(ctx context.Context, tx *store.Tx, name string, create bool, description *string) (*store.Permission, error) {
	p, err := tx.GetPermission(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		if !create {
			return nil, fault(koji.ErrGeneric, "No such entry in table permissions: %s", name)
		}
		if name == "" {
			return nil, fault(koji.ErrGeneric, "Name should not be empty")
		}
		id, err := tx.CreatePermission(ctx, name, description)
		return &store.Permission{ID: id, Name: name, Description: description}, err
	}
	return p, err
}

func directPerm(ctx context.Context, tx *store.Tx, userID int64, name string) (bool, error) {
	perms, err := tx.UserPerms(ctx, userID, nil)
	return slices.ContainsFunc(perms, func(p store.Permission) bool { return p.Name == name }), err
}

func grantPermission(ctx context.Context, userinfo any, permission string, create bool, description any) error {
	if err := assertPerm(ctx, "admin"); err != nil {
		return err
	}
	if create {
		if _, err := verifyNameInternal(permission); err != nil {
			return err
		}
	}
	if description != nil && !create {
		return fault(koji.ErrGeneric, "Description should be specified only with create.")
	}
	desc, err := checkString(description, true)
	if err != nil {
		return err
	}
	tx := storeTx(ctx)
	u, err := strictUser(ctx, tx, userinfo)
	if err != nil {
		return err
	}
	p, err := lookupPerm(ctx, tx, permission, create, desc)
	if err != nil {
		return err
	}
	if create && desc != nil {
		if err := tx.SetPermissionDescription(ctx, p.ID, desc); err != nil {
			return err
		}
	}
	// Upstream checks the permissions the user holds through groups too.
	if has, err := hasPerm(ctx, tx, u.ID, p.Name); err != nil {
		return err
	} else if has {
		return fault(koji.ErrGeneric, "user %s already has permission: %s", pyFormat(userinfo), p.Name)
	}
	return tx.GrantPermission(ctx, u.ID, p.ID, callerID(ctx))
}

func revokePermission(ctx context.Context, userinfo any, permission string) error {
	if err := assertPerm(ctx, "admin"); err != nil {
		return err
	}
	tx := storeTx(ctx)
	u, err := strictUser(ctx, tx, userinfo)
	if err != nil {
		return err
	}
	p, err := lookupPerm(ctx, tx, permission, false, nil)
	if err != nil {
		return err
	}
	if has, err := hasPerm(ctx, tx, u.ID, p.Name); err != nil {
		return err
	} else if !has {
		return fault(koji.ErrGeneric, "user %s does not have permission: %s", pyFormat(userinfo), p.Name)
	}
	// A permission held only through a group leaves nothing to revoke,
	// as upstream's UPDATE then matches no row.
	if direct, err := directPerm(ctx, tx, u.ID, p.Name); err != nil || !direct {
		return err
	}
	return tx.RevokePermission(ctx, u.ID, p.ID, callerID(ctx))
}

func setUserStatus(ctx context.Context, username any, status int) error {
	if err := assertPerm(ctx, "admin"); err != nil {
		return err
	}
	tx := storeTx(ctx)
	u, err := strictUser(ctx, tx, username)
	if err != nil || u.Status == status {
		return err
	}
	return tx.SetUserStatus(ctx, u.ID, status)
}
