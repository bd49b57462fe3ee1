package hubserver

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// Upstream's defaults for MaxNameLengthInternal and RegexUserName.
// Python's re.match with "$" also accepts a final newline.
const maxNameLength = 256

var userNamePattern = regexp.MustCompile(`\A[A-Za-z0-9/_.@-]+\n?\z`)

// verifyNameUser checks a user name and a Kerberos principal (either may
// be empty, and is then not checked), as upstream's verify_name_user.
func verifyNameUser(name, krb string) error {
	if name != "" && utf8.RuneCountInString(name) > maxNameLength {
		return fault(koji.ErrGeneric, "Name %s is too long. Max length is %d characters", name, maxNameLength)
	}
	if krb != "" && utf8.RuneCountInString(krb) > maxNameLength {
		return fault(koji.ErrGeneric, "Kerberos principal %s is too long. Max length is %d characters", krb, maxNameLength)
	}
	if name != "" && !userNamePattern.MatchString(name) {
		return fault(koji.ErrGeneric, "Name %s does not match RegexUserName value", name)
	}
	if krb != "" && !userNamePattern.MatchString(krb) {
		return fault(koji.ErrGeneric, "Kerberos principal %s does not match RegexUserName value", krb)
	}
	return nil
}

// markPermsRead notes that the caller's permissions were looked up, which
// showSession shows as upstream shows its Session's _perms.
func markPermsRead(ctx context.Context) {
	if cs := callSessionFrom(ctx); cs != nil {
		cs.permsRead = true
	}
}

func (k *Koji) createUser(ctx context.Context, username string, status *int, krbPrincipal *string) (int64, error) {
	if err := assertPerm(ctx, "admin"); err != nil {
		return 0, err
	}
	var krb string
	if krbPrincipal != nil {
		krb = *krbPrincipal
	}
	if err := verifyNameUser(username, krb); err != nil {
		return 0, err
	}
	tx := storeTx(ctx)
	if u, err := lookupUser(ctx, tx, username); err != nil {
		return 0, err
	} else if u != nil {
		return 0, fault(koji.ErrGeneric, "user already exists: %s", username)
	}
	if krb != "" {
		if err := principalFree(ctx, tx, krb); err != nil {
			return 0, err
		}
	}
	// Upstream's Session.createUser.
	if username == "" {
		return 0, fault(koji.ErrGeneric, "a user must have a non-empty name")
	}
	st := store.UserStatusNormal
	if status != nil {
		if *status != store.UserStatusNormal && *status != store.UserStatusBlocked {
			return 0, fault(koji.ErrGeneric, "invalid status: %d", *status)
		}
		st = *status
	}
	if krb != "" {
		if err := k.checkKrbPrincipal(krb); err != nil {
			return 0, err
		}
	}
	id, err := tx.CreateUser(ctx, store.User{Name: username, Status: st, UserType: store.UserTypeNormal})
	if err != nil {
		return 0, err
	}
	if krb != "" {
		err = tx.AddKrbPrincipal(ctx, id, krb)
	}
	return id, err
}

// principalFree faults unless no user owns the Kerberos principal, as
// createUser and addUserKrbPrincipal check it.
func principalFree(ctx context.Context, tx *store.Tx, krb string) error {
	if _, err := tx.GetUserByKrbPrincipal(ctx, krb); err == nil {
		return fault(koji.ErrGeneric, "user with this Kerberos principal already exists: %s", krb)
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

// adminOnUser is the start of the admin methods on one user: the admin
// permission, then the user (get_user strict).
func adminOnUser(ctx context.Context, user any) (*store.Tx, *store.User, error) {
	if err := assertPerm(ctx, "admin"); err != nil {
		return nil, nil, err
	}
	tx := storeTx(ctx)
	u, err := strictUser(ctx, tx, user)
	return tx, u, err
}

// addUserKrbPrincipal attaches a Kerberos principal to a user and answers
// the user's id, as upstream's RootExports.addUserKrbPrincipal: admin
// only; the principal must be well formed, owned by no user, and of an
// allowed realm (AuthError otherwise, as Session.setKrbPrincipal).
func (k *Koji) addUserKrbPrincipal(ctx context.Context, user any, krb string) (int64, error) {
	tx, u, err := adminOnUser(ctx, user)
	if err != nil {
		return 0, err
	}
	if err := verifyNameUser("", krb); err != nil {
		return 0, err
	}
	if err := principalFree(ctx, tx, krb); err != nil {
		return 0, err
	}
	if err := k.checkKrbPrincipal(krb); err != nil {
		return 0, err
	}
	return u.ID, tx.AddKrbPrincipal(ctx, u.ID, krb)
}

// removeUserKrbPrincipal detaches one of a user's Kerberos principals and
// answers the user's id, as upstream's RootExports.removeUserKrbPrincipal
// and Session.removeKrbPrincipal: admin only; a principal the user does
// not have is an AuthError.
func removeUserKrbPrincipal(ctx context.Context, user, krbPrincipal any) (int64, error) {
	tx, u, err := adminOnUser(ctx, user)
	if err != nil {
		return 0, err
	}
	if !xmlrpc.Truthy(krbPrincipal) {
		return 0, fault(koji.ErrGeneric, "krb_principal must be specified")
	}
	krb, _ := krbPrincipal.(string)
	owner, err := tx.GetUserByKrbPrincipal(ctx, krb)
	if errors.Is(err, store.ErrNotFound) || err == nil && (krb == "" || owner.ID != u.ID) {
		return 0, fault(koji.ErrAuth, "cannot remove Kerberos Principal: %s with user %s", pyFormat(krbPrincipal), u.Name)
	} else if err != nil {
		return 0, err
	}
	return u.ID, tx.RemoveKrbPrincipal(ctx, u.ID, krb)
}

// editUser renames a user and adds, removes or replaces its Kerberos
// principals, as upstream's edit_user: each mapping is {"old": principal
// or None, "new": principal or None}.
func (k *Koji) editUser(ctx context.Context, userInfo any, name *string, mappings []map[string]any) error {
	if err := assertPerm(ctx, "admin"); err != nil {
		return err
	}
	tx := storeTx(ctx)
	u, err := strictUser(ctx, tx, userInfo)
	if err != nil {
		return err
	}
	if name != nil && *name != "" && *name != u.Name {
		if err := verifyNameUser(*name, ""); err != nil {
			return err
		}
		if other, err := tx.GetUserByName(ctx, *name); err == nil {
			return fault(koji.ErrGeneric, "Name %s already taken by user %d", *name, other.ID)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := tx.SetUserName(ctx, u.ID, *name); err != nil {
			return err
		}
	}
	if len(mappings) == 0 {
		return nil
	}
	var added, removed []string
	for _, m := range mappings {
		old, err := mappingPrincipal(m, "old")
		if err != nil {
			return err
		}
		repl, err := mappingPrincipal(m, "new")
		if err != nil {
			return err
		}
		if old != "" && !slices.Contains(removed, old) {
			removed = append(removed, old)
		}
		if repl != "" {
			if err := verifyNameUser("", repl); err != nil {
				return err
			}
			if !slices.Contains(added, repl) {
				added = append(added, repl)
			}
		}
	}
	current, err := tx.KrbPrincipals(ctx, u.ID)
	if err != nil {
		return err
	}
	in := func(set []string) func(string) bool { return func(p string) bool { return slices.Contains(set, p) } }
	if dups := filter(added, in(removed)); len(dups) > 0 {
		return fault(koji.ErrGeneric, "There are some conflicts between added and removed Kerberos principals: %s", strings.Join(dups, ", "))
	}
	if dups := filter(added, in(current)); len(dups) > 0 {
		return fault(koji.ErrGeneric, "Cannot add existing Kerberos principals: %s", strings.Join(dups, ", "))
	}
	if missing := filter(removed, func(p string) bool { return !slices.Contains(current, p) }); len(missing) > 0 {
		return fault(koji.ErrGeneric, "Cannot remove non-existent Kerberos principals: %s", strings.Join(missing, ", "))
	}
	for _, p := range removed {
		if err := tx.RemoveKrbPrincipal(ctx, u.ID, p); err != nil {
			return err
		}
	}
	for _, p := range added {
		if err := k.checkKrbPrincipal(p); err != nil {
			return err
		}
		// Upstream lets the database refuse a principal another user
		// owns; say so instead of answering with the database's error.
		if owner, err := tx.GetUserByKrbPrincipal(ctx, p); err == nil {
			return fault(koji.ErrGeneric, "user with this Kerberos principal already exists: %s (%s)", p, owner.Name)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := tx.AddKrbPrincipal(ctx, u.ID, p); err != nil {
			return err
		}
	}
	return nil
}

// mappingPrincipal reads the old or new member of a principal mapping:
// a string, None or absent.
func mappingPrincipal(m map[string]any, key string) (string, error) {
	switch v := m[key].(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	default:
		if key == "new" {
			return "", fault(koji.ErrGeneric, "Kerberos principal should be string")
		}
		return "", pyException("TypeError", "unhashable type: '%s'", pyTypeName(v))
	}
}

// filter returns the elements of s for which keep is true, sorted, as
// the hub answers Python's sets in a stable order.
func filter(s []string, keep func(string) bool) []string {
	var out []string
	for _, v := range s {
		if keep(v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// userForPerms is get_user(userID, strict=True) of the perms methods:
// the caller when userID is None.
func userForPerms(ctx context.Context, tx *store.Tx, userID any) (*store.User, error) {
	if userID == nil {
		if userID = callerID(ctx); userID == int64(0) {
			return nil, fault(koji.ErrGeneric, "No user provided")
		}
	}
	return strictUser(ctx, tx, userID)
}

func getUserPerms(ctx context.Context, userID any, withGroups bool) ([]string, error) {
	tx := storeTx(ctx)
	u, err := userForPerms(ctx, tx, userID)
	if err != nil {
		return nil, err
	}
	if withGroups {
		perms, err := tx.EffectivePerms(ctx, u.ID)
		return append([]string{}, perms...), err
	}
	direct, err := tx.UserPerms(ctx, u.ID, nil)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, p := range direct {
		out = append(out, p.Name)
	}
	return out, nil
}

// getUserPermsInheritance answers, for each permission the user holds,
// where it comes from: None for a direct grant, else the group's name.
func getUserPermsInheritance(ctx context.Context, userID any) (map[string][]any, error) {
	tx := storeTx(ctx)
	u, err := strictUser(ctx, tx, userID)
	if err != nil {
		return nil, err
	}
	direct, err := tx.UserPerms(ctx, u.ID, nil)
	if err != nil {
		return nil, err
	}
	out := map[string][]any{}
	for _, p := range direct {
		out[p.Name] = []any{nil}
	}
	viaGroups, err := tx.GroupPerms(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	for _, gp := range viaGroups {
		out[gp.Perm] = append(out[gp.Perm], gp.Group)
	}
	return out, nil
}

func editPermission(ctx context.Context, permission string, description any) error {
	if err := assertPerm(ctx, "admin"); err != nil {
		return err
	}
	desc, err := checkString(description, false)
	if err != nil {
		return err
	}
	tx := storeTx(ctx)
	p, err := lookupPerm(ctx, tx, permission, false, nil)
	if err != nil {
		return err
	}
	return tx.SetPermissionDescription(ctx, p.ID, desc)
}

// hostPrincipal is the principal addHost gives a host: the one asked
// for, or else one made from HostPrincipalFormat, as upstream's addHost.
func (k *Koji) hostPrincipal(hostname string, krbPrincipal *string) (*string, error) {
	if krbPrincipal == nil && k.cfg.HostPrincipalFormat != "" {
		p := strings.Replace(k.cfg.HostPrincipalFormat, "%s", hostname, 1)
		krbPrincipal = &p
	}
	if krbPrincipal != nil && *krbPrincipal != "" {
		if err := k.checkKrbPrincipal(*krbPrincipal); err != nil {
			return nil, err
		}
	}
	return krbPrincipal, nil
}

// validateHostPrincipalFormat checks that a HostPrincipalFormat has
// exactly one %s, as Python's % operator would require.
func validateHostPrincipalFormat(f string) error {
	if f == "" {
		return nil
	}
	if strings.Count(f, "%s") != 1 || strings.Count(strings.ReplaceAll(f, "%s", ""), "%") != 0 {
		return fmt.Errorf("hubserver: HostPrincipalFormat %q must contain one %%s and no other %%", f)
	}
	return nil
}
