package hubserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// cgMethods are upstream's content generator methods: who may import for
// a content generator, reserving a build, importing one, and refunding a
// reservation.
func (k *Koji) cgMethods() []Method {
	return []Method{
		{
			Name: "CGInitBuild", PyName: "cg_init_build",
			Args: []Arg{{Name: "cg"}, {Name: "data"}},
			Doc: "Create (reserve) a build_id for given data.\n\n    If build or reservation already exists, init_build will raise GenericError\n\n" +
				"    :param str cg: content generator name\n    :param dict data: build data same as for new_build, for given usecase\n" +
				"                      only name,version,release,epoch keys make sense. Some\n" +
				"                      other values will be ignored anyway (owner, state, ...)\n    :return: dict with build_id and token\n    ",
			Func: k.cgInitBuild,
		},
		{
			Name: "CGImport", PyName: "cg_import",
			Args: []Arg{{Name: "metadata"}, {Name: "directory"}, {Name: "token", Default: None}},
			Doc:  "Import build from a content generator",
			Func: k.cgImport,
		},
		{
			Name: "CGRefundBuild", PyName: "cg_refund_build",
			Args: []Arg{{Name: "cg"}, {Name: "build_id"}, {Name: "token"}, {Name: "state", Default: int64(store.BuildFailed)}},
			Doc:  "If build is reserved and not finished yet, there is an option\n    to release reservation and mark build either FAILED or CANCELED.",
			Func: k.cgRefundBuild,
		},
		{
			Name: "grantCGAccess", PyName: "grant_cg_access",
			Args: []Arg{{Name: "user"}, {Name: "cg"}, {Name: "create", Default: false}},
			Doc:  "Grant user access to act as the given content generator",
			Func: grantCGAccess,
		},
		{
			Name: "revokeCGAccess", PyName: "revoke_cg_access",
			Args: []Arg{{Name: "user"}, {Name: "cg"}},
			Doc:  "Revoke a user's access to act as the given content generator",
			Func: revokeCGAccess,
		},
		{
			Name: "listCGs", PyName: "list_cgs",
			Doc:  "List all available content generators in the system",
			Func: listCGs,
		},
	}
}

// listCGs is upstream's list_cgs: by content generator name, its id and
// the names of the users who may import for it (content generators
// nobody may use are left out).
func listCGs(ctx context.Context) (map[string]any, error) {
	rows, err := storeTx(ctx).CGUsers(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for _, r := range rows {
		cg, ok := out[r.CGName].(map[string]any)
		if !ok {
			cg = map[string]any{"id": r.CGID, "users": []any{}}
			out[r.CGName] = cg
		}
		cg["users"] = append(cg["users"].([]any), r.UserName)
	}
	return out, nil
}

// grantCGAccess is upstream's grant_cg_access (admin): with create, a
// content generator of that name is made if need be.
func grantCGAccess(ctx context.Context, user, cg, create any) error {
	u, row, err := cgAccessArgs(ctx, user, cg, !xmlrpc.Truthy(create))
	if err != nil {
		return err
	}
	tx := storeTx(ctx)
	if row == nil {
		name, ok := cg.(string)
		if !ok {
			return fault(koji.ErrGeneric, "Name must be a string")
		}
		id, err := tx.CreateContentGenerator(ctx, name)
		if err != nil {
			return err
		}
		row = &store.NamedRow{ID: id, Name: name}
	}
	if ok, err := tx.CGAccess(ctx, row.ID, u.ID); err != nil {
		return err
	} else if ok {
		return fault(koji.ErrGeneric, "User already has access to content generator %s", row.Name)
	}
	return tx.GrantCGAccess(ctx, row.ID, u.ID, callerID(ctx))
}

// revokeCGAccess is upstream's revoke_cg_access (admin); revoking access
// the user does not have does nothing.
func revokeCGAccess(ctx context.Context, user, cg any) error {
	u, row, err := cgAccessArgs(ctx, user, cg, true)
	if err != nil {
		return err
	}
	_, err = storeTx(ctx).RevokeCGAccess(ctx, row.ID, u.ID, callerID(ctx))
	return err
}

// cgAccessArgs are the admin check and the lookups of grant_cg_access
// and revoke_cg_access: the user, and the content generator (nil when
// missing and not strict).
func cgAccessArgs(ctx context.Context, user, cg any, strict bool) (*store.User, *store.NamedRow, error) {
	if err := assertPerm(ctx, "admin"); err != nil {
		return nil, nil, err
	}
	tx := storeTx(ctx)
	u, err := strictUser(ctx, tx, user)
	if err != nil {
		return nil, nil, err
	}
	row, err := lookupName(ctx, tx, "content_generator", cg, strict, false)
	return u, row, err
}

// assertCG is upstream's assert_cg for the caller: the content generator
// exists and the caller may import for it.
func assertCG(ctx context.Context, cg any) (*store.NamedRow, error) {
	tx := storeTx(ctx)
	row, err := lookupName(ctx, tx, "content_generator", cg, true, false)
	if err != nil {
		return nil, err
	}
	if callerID(ctx) == 0 {
		return nil, fault(koji.ErrAuth, "Not logged-in")
	}
	ok, err := tx.CGAccess(ctx, row.ID, callerID(ctx))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fault(koji.ErrAuth, "Content generator access required (%s)", row.Name)
	}
	return row, nil
}

// checkNVR is koji.check_NVR(data, strict=True): no "-" in version or
// release.
func checkNVR(version, release string) error {
	if strings.Contains(version, "-") {
		return fault(koji.ErrGeneric, `The "-" character not allowed in version field`)
	}
	if strings.Contains(release, "-") {
		return fault(koji.ErrGeneric, `The "-" character not allowed in release field`)
	}
	return nil
}

// cgInitBuild is upstream's cg_init_build: a BUILDING build of the
// content generator, owned by the caller, reserved with a random token.
func (k *Koji) cgInitBuild(ctx context.Context, cg, dataArg any) (map[string]any, error) {
	row, err := assertCG(ctx, cg)
	if err != nil {
		return nil, err
	}
	data, ok := dataArg.(map[string]any)
	if !ok {
		return nil, pyException("TypeError", "'%s' object does not support item assignment", pyTypeName(dataArg))
	}
	d := make(map[string]any, len(data)+5)
	for key, v := range data {
		d[key] = v
	}
	d["owner"], d["state"], d["completion_time"], d["cg_id"] = callerID(ctx), int64(store.BuildBuilding), nil, row.ID
	if _, ok := d["epoch"]; !ok {
		d["epoch"] = nil
	}
	for _, key := range []string{"version", "release"} {
		if _, ok := d[key]; !ok {
			return nil, pyException("KeyError", "'%s'", key)
		}
	}
	v, _ := d["version"].(string)
	r, _ := d["release"].(string)
	if err := checkNVR(v, r); err != nil {
		return nil, err
	}
	id, err := k.newBuildFromData(ctx, d)
	if err != nil {
		return nil, err
	}
	tx := storeTx(ctx)
	if _, reserved, err := tx.ReservationToken(ctx, id); err != nil {
		return nil, err
	} else if reserved {
		return nil, fault(koji.ErrGeneric, "Build is already reserved")
	}
	var b [32]byte
	rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	if err := tx.ReserveBuild(ctx, id, token); err != nil {
		return nil, err
	}
	return map[string]any{"build_id": id, "token": token}, nil
}

// checkReservation is the check cg_refund_build and CGImport make of a
// reserved build: BUILDING (for a refund, checked first), the token
// matching, reserved by the content generator.
func checkReservation(ctx context.Context, b *store.BuildRow, token any, cgID int64) error {
	tok, ok, err := storeTx(ctx).ReservationToken(ctx, b.ID)
	if err != nil {
		return err
	}
	if s, isStr := token.(string); !ok || tok == nil || !isStr || *tok != s {
		return fault(koji.ErrGeneric, "Token doesn't match build ID %d", b.ID)
	}
	if b.CGID == nil || *b.CGID != cgID {
		return fault(koji.ErrGeneric, "Build ID %d is not reserved by this CG", b.ID)
	}
	return nil
}

// cgRefundBuild is upstream's cg_refund_build: a reserved BUILDING build
// of the content generator becomes FAILED or CANCELED and its
// reservation goes.
func (k *Koji) cgRefundBuild(ctx context.Context, cg, buildID, token, state any) error {
	st, err := convertInt(state)
	if err != nil || st != store.BuildFailed && st != store.BuildCanceled {
		return fault(koji.ErrGeneric, "Only FAILED/CANCELED build states are allowed")
	}
	row, err := assertCG(ctx, cg)
	if err != nil {
		return err
	}
	tx := storeTx(ctx)
	b, err := lookupBuild(ctx, tx, buildID, true)
	if err != nil {
		return err
	}
	if b.State != store.BuildBuilding {
		return fault(koji.ErrGeneric, "Build ID %s is not in BUILDING state", pyFormat(buildID))
	}
	if err := checkReservation(ctx, b, token, row.ID); err != nil {
		return err
	}
	info, err := buildInfo(b)
	if err != nil {
		return err
	}
	if err := k.buildStateCallbacks(ctx, "preBuildStateChange", store.BuildBuilding, int(st), info); err != nil {
		return err
	}
	if err := tx.FinishBuild(ctx, b.ID, int(st), nil); err != nil {
		return err
	}
	if info, err = getBuildInfo(ctx, tx, b.ID); err != nil {
		return err
	}
	if err := k.buildStateCallbacks(ctx, "postBuildStateChange", store.BuildBuilding, int(st), info); err != nil {
		return err
	}
	return tx.ClearReservation(ctx, b.ID)
}

// errKey is Python's KeyError of a missing member.
func errKey(key string) error { return pyException("KeyError", "'%s'", key) }

// member reads m[key] as Python's m[key], faulting KeyError when missing.
func member(m map[string]any, key string) (any, error) {
	v, ok := m[key]
	if !ok {
		return nil, errKey(key)
	}
	return v, nil
}

// dictMember reads m[key] as a struct.
func dictMember(m map[string]any, key string) (map[string]any, error) {
	v, err := member(m, key)
	if err != nil {
		return nil, err
	}
	d, ok := v.(map[string]any)
	if !ok {
		return nil, pyException("TypeError", "'%s' object is not subscriptable", pyTypeName(v))
	}
	return d, nil
}

// listMember reads m[key] as a list.
func listMember(m map[string]any, key string) ([]any, error) {
	v, err := member(m, key)
	if err != nil {
		return nil, err
	}
	l, ok := v.([]any)
	if !ok {
		return nil, pyException("TypeError", "'%s' object is not iterable", pyTypeName(v))
	}
	return l, nil
}
