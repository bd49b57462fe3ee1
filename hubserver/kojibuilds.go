package hubserver

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// buildMethods are upstream's build methods: reading, creating and
// canceling builds, and their average duration.
func (k *Koji) buildMethods() []Method {
	return append([]Method{
		{
			Name: "getBuild", PyName: "get_build",
			Args: []Arg{{Name: "buildInfo"}, {Name: "strict", Default: false}},
			Func: getBuild,
		},
		{
			Name: "createEmptyBuild", PyName: "RootExports.createEmptyBuild", Bound: true,
			Args: []Arg{{Name: "name"}, {Name: "version"}, {Name: "release"}, {Name: "epoch"},
				{Name: "owner", Default: None}, {Name: "draft", Default: false}},
			Func: k.createEmptyBuild,
		},
		{
			Name: "cancelBuild", PyName: "RootExports.cancelBuild", Bound: true,
			Args: []Arg{{Name: "buildID"}, {Name: "strict", Default: false}},
			Func: k.rootCancelBuild,
		},
		{
			Name: "getAverageBuildDuration", PyName: "RootExports.getAverageBuildDuration", Bound: true,
			Args: []Arg{{Name: "package"}, {Name: "age", Default: None}},
			Func: getAverageBuildDuration,
		},
		{
			Name: "listBuilds", PyName: "RootExports.listBuilds", Bound: true,
			Args: []Arg{{Name: "packageID", Default: None}, {Name: "userID", Default: None}, {Name: "taskID", Default: None},
				{Name: "prefix", Default: None}, {Name: "state", Default: None}, {Name: "volumeID", Default: None},
				{Name: "source", Default: None}, {Name: "createdBefore", Default: None}, {Name: "createdAfter", Default: None},
				{Name: "completeBefore", Default: None}, {Name: "completeAfter", Default: None}, {Name: "type", Default: None},
				{Name: "typeInfo", Default: None}, {Name: "queryOpts", Default: None}, {Name: "pattern", Default: None},
				{Name: "cgID", Default: None}, {Name: "draft", Default: None}, {Name: "promotedBefore", Default: None},
				{Name: "promotedAfter", Default: None}, {Name: "promoter", Default: None}},
			Func: listBuilds,
		},
	}, k.buildMoreMethods()...)
}

// parseNVR is koji.parse_NVR: "name-version-release", the name possibly
// prefixed with "epoch:".
func parseNVR(nvr string) (name, version, release string, err error) {
	p2 := strings.LastIndexByte(nvr, '-')
	if p2 <= 0 || p2 == len(nvr)-1 {
		return "", "", "", fault(koji.ErrGeneric, "invalid format: %s", nvr)
	}
	p1 := strings.LastIndexByte(nvr[:p2], '-')
	if p1 < 0 || p1 == p2-1 {
		return "", "", "", fault(koji.ErrGeneric, "invalid format: %s", nvr)
	}
	name = nvr[:p1]
	if i := strings.IndexByte(name, ':'); i >= 0 {
		name = name[i+1:]
	}
	return name, nvr[p1+1 : p2], nvr[p2+1:], nil
}

// findBuildID is upstream's find_build_id: a build id (returned as given),
// an NVR string, or a struct with name, version and release; 0 when there
// is no such build, or with strict a GenericError.
func findBuildID(ctx context.Context, tx *store.Tx, info any, strict bool) (int64, error) {
	var name, version, release any
	switch v := info.(type) {
	case int64:
		return v, nil
	case bool:
		return int64(boolInt(v)), nil
	case string:
		n, ver, rel, err := parseNVR(v)
		if err != nil {
			return 0, err
		}
		name, version, release = n, ver, rel
	case map[string]any:
		var ok [3]bool
		name, ok[0] = v["name"]
		version, ok[1] = v["version"]
		release, ok[2] = v["release"]
		if !ok[0] || !ok[1] || !ok[2] {
			return 0, fault(koji.ErrGeneric, "did not provide name, version, and release")
		}
	default:
		return 0, fault(koji.ErrGeneric, "Invalid type for argument: %s", pyClass(info))
	}
	n, ok1 := name.(string)
	ver, ok2 := version.(string)
	rel, ok3 := release.(string)
	if ok1 && ok2 && ok3 {
		id, err := tx.FindBuildID(ctx, n, ver, rel)
		if err == nil || !errors.Is(err, store.ErrNotFound) {
			return id, err
		}
	}
	if strict {
		return 0, fault(koji.ErrGeneric, "No such build: %s", pyRepr(info))
	}
	return 0, nil
}

// lookupBuild is upstream's get_build: nil when there is no such build,
// or with strict a GenericError.
func lookupBuild(ctx context.Context, tx *store.Tx, info any, strict bool) (*store.BuildRow, error) {
	id, err := findBuildID(ctx, tx, info, strict)
	if err != nil || id == 0 {
		return nil, err
	}
	b, err := tx.GetBuild(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		if strict {
			return nil, fault(koji.ErrGeneric, "No such build: %s", pyFormat(info))
		}
		return nil, nil
	}
	return b, err
}

// timeFields sets name_time and name_ts (nil for a nil t), as upstream's
// date_part('epoch', ...) columns pair with the timestamps.
func timeFields(m map[string]any, prefix string, t *time.Time) {
	if t == nil {
		m[prefix+"_time"], m[prefix+"_ts"] = nil, nil
		return
	}
	m[prefix+"_time"], m[prefix+"_ts"] = pyTime(*t), pyTS(*t)
}

// buildFields are the members listBuilds answers (and getBuild, which
// adds id, cg_id and cg_name); extra is JSON-decoded.
func buildFields(b *store.BuildRow) (map[string]any, error) {
	m := map[string]any{
		"build_id": b.ID, "version": b.Version, "release": b.Release, "epoch": ptrValue(b.Epoch),
		"draft": b.Draft, "state": b.State, "source": ptrValue(b.Source), "extra": nil,
		"creation_event_id": b.CreateEvent, "task_id": ptrValue(b.TaskID),
		"package_id": b.PkgID, "package_name": b.PackageName, "name": b.PackageName,
		"volume_id": b.VolumeID, "volume_name": b.VolumeName, "nvr": b.NVR(),
		"owner_id": b.Owner, "owner_name": b.OwnerName,
		"promoter_id": ptrValue(b.Promoter), "promoter_name": ptrValue(b.PromoterName),
	}
	created := b.CreationTime
	timeFields(m, "creation", &created)
	timeFields(m, "start", b.StartTime)
	timeFields(m, "completion", b.CompletionTime)
	timeFields(m, "promotion", b.PromotionTime)
	if b.Extra != nil && *b.Extra != "" {
		v, err := decodeJSON(*b.Extra)
		if err != nil {
			return nil, fault(koji.ErrGeneric, "Invalid build extra data: %v", err)
		}
		m["extra"] = v
	}
	return m, nil
}

// buildInfo is a build as get_build answers it.
func buildInfo(b *store.BuildRow) (map[string]any, error) {
	m, err := buildFields(b)
	if err != nil {
		return nil, err
	}
	m["id"], m["cg_id"], m["cg_name"] = b.ID, ptrValue(b.CGID), ptrValue(b.CGName)
	return m, nil
}

func getBuild(ctx context.Context, buildInfoArg any, strict bool) (map[string]any, error) {
	b, err := lookupBuild(ctx, storeTx(ctx), buildInfoArg, strict)
	if b == nil || err != nil {
		return nil, err
	}
	return buildInfo(b)
}

// getBuildInfo reads a build by id as get_build(id, strict=True) answers
// it.
func getBuildInfo(ctx context.Context, tx *store.Tx, id int64) (map[string]any, error) {
	b, err := lookupBuild(ctx, tx, id, true)
	if err != nil {
		return nil, err
	}
	return buildInfo(b)
}

// buildStateCallbacks runs pre or postBuildStateChange for a state change.
func (k *Koji) buildStateCallbacks(ctx context.Context, name string, old any, new int, info map[string]any) error {
	return k.runCallbacks(ctx, name, map[string]any{"attribute": "state", "old": old, "new": new, "info": info})
}

// A newBuild is the data of upstream's new_build: the columns of the build
// row, and Python's dict of it for callbacks and messages.
type newBuild struct {
	store.Build
	Name string
	data pyDict
}

// dictSet sets key k of d as Python's d[k] = v does: in place when the
// key is there, else at the end.
func dictSet(d *pyDict, k string, v any) {
	for i := range *d {
		if (*d)[i].key == k {
			(*d)[i].value = v
			return
		}
	}
	*d = append(*d, pyItem{k, v})
}

func dictHas(d pyDict, k string) bool {
	for _, it := range d {
		if it.key == k {
			return true
		}
	}
	return false
}

func dictMap(d pyDict) map[string]any {
	m := make(map[string]any, len(d))
	for _, it := range d {
		m[it.key] = it.value
	}
	return m
}

// createBuild is upstream's new_build for a build given by package name:
// the package is created if need be; an existing build of the NVR is
// recycled (see recycleBuild) unless the new one is a draft, whose release
// gets the ",draft_<id>" suffix. It returns the build's id.
func (k *Koji) createBuild(ctx context.Context, nb *newBuild) (int64, error) {
	tx := storeTx(ctx)
	pkg, err := lookupName(ctx, tx, "package", nb.Name, false, true)
	if err != nil {
		return 0, err
	}
	nb.PkgID = pkg.ID
	dictSet(&nb.data, "pkg_id", pkg.ID)
	if !nb.Draft {
		old, err := lookupBuild(ctx, tx, map[string]any{"name": nb.Name, "version": nb.Version, "release": nb.Release}, false)
		if err != nil {
			return 0, err
		}
		if old != nil {
			return old.ID, k.recycleBuild(ctx, old, nb)
		}
	}
	if err := k.buildStateCallbacks(ctx, "preBuildStateChange", nil, nb.State, dictMap(nb.data)); err != nil {
		return 0, err
	}
	if nb.Draft {
		if nb.ID, err = tx.NextBuildID(ctx); err != nil {
			return 0, err
		}
		target := nb.Release
		nb.Release += ",draft_" + strconv.FormatInt(nb.ID, 10)
		if id, err := tx.FindBuildID(ctx, nb.Name, nb.Version, nb.Release); err == nil && id != 0 {
			return 0, fault(koji.ErrGeneric, "The build already exists: {'name': %s, 'version': %s, 'release': %s}",
				pyStr(nb.Name), pyStr(nb.Version), pyStr(nb.Release))
		}
		extra := map[string]any{}
		if nb.Extra != nil {
			if v, err := decodeJSON(*nb.Extra); err == nil {
				if m, ok := v.(map[string]any); ok {
					extra = m
				}
			}
		}
		if xmlrpc.Truthy(extra["draft"]) {
			return 0, fault(koji.ErrGeneric, `"draft" found in input extra which is reserved already`)
		}
		extra["draft"] = map[string]any{"target_release": target, "promoted": false}
		s, err := encodeJSON(extra)
		if err != nil {
			return 0, err
		}
		nb.Extra = &s
	}
	id, err := tx.CreateBuild(ctx, nb.Build)
	if err != nil {
		return 0, err
	}
	info, err := getBuildInfo(ctx, tx, id)
	if err != nil {
		return 0, err
	}
	return id, k.buildStateCallbacks(ctx, "postBuildStateChange", nil, nb.State, info)
}

// recycleBuild is upstream's recycle_build: a BUILDING build of the same
// task is a restart and is left as it is; a FAILED or CANCELED build
// without tag history, RPMs or archives is reused; anything else is a
// GenericError.
func (k *Koji) recycleBuild(ctx context.Context, old *store.BuildRow, nb *newBuild) error {
	tx := storeTx(ctx)
	switch old.State {
	case store.BuildBuilding:
		if nb.State == old.State && nb.TaskID != nil && old.TaskID != nil && *nb.TaskID == *old.TaskID {
			return nil
		}
		if old.TaskID == nil {
			return pyException("TypeError", "%%d format: a real number is required, not NoneType")
		}
		return fault(koji.ErrGeneric, "Build already in progress (task %d)", *old.TaskID)
	case store.BuildFailed, store.BuildCanceled:
	default:
		st, _ := buildStateName(int64(old.State))
		return fault(koji.ErrGeneric, "Build already exists (id=%d, state=%s): %s", old.ID, st, nb.data.repr())
	}
	use, err := tx.BuildUses(ctx, old.ID)
	switch {
	case err != nil:
		return err
	case use.Tagged:
		return fault(koji.ErrGeneric, "Build already exists. Unable to recycle, has tag history")
	case use.RPMs:
		return fault(koji.ErrGeneric, "Build already exists. Unable to recycle, has rpm data")
	case use.Archives:
		return fault(koji.ErrGeneric, "Build already exists. Unable to recycle, has archive data")
	}
	if err := k.buildStateCallbacks(ctx, "preBuildStateChange", old.State, nb.State, dictMap(nb.data)); err != nil {
		return err
	}
	if err := tx.RecycleBuild(ctx, old.ID, nb.Build); err != nil {
		return err
	}
	info, err := getBuildInfo(ctx, tx, old.ID)
	if err != nil {
		return err
	}
	return k.buildStateCallbacks(ctx, "postBuildStateChange", old.State, nb.State, info)
}

// createEmptyBuild is RootExports.createEmptyBuild: an admin records a
// COMPLETE build without content, owned by owner or the caller.
func (k *Koji) createEmptyBuild(ctx context.Context, name, version, release, epoch, owner, draft any) (int64, error) {
	if err := assertPerm(ctx, "admin"); err != nil {
		return 0, err
	}
	tx := storeTx(ctx)
	var d pyDict
	for _, kv := range [][2]any{{"name", name}, {"version", version}, {"release", release}, {"epoch", epoch}} {
		dictSet(&d, kv[0].(string), kv[1])
	}
	if owner != nil {
		dictSet(&d, "owner", owner)
	}
	dictSet(&d, "draft", draft)
	dictSet(&d, "pkg_id", nil) // set by createBuild, in upstream's key order
	nb := &newBuild{}
	var ok bool
	if nb.Name, ok = name.(string); !ok || nb.Name == "" {
		if xmlrpc.Truthy(name) {
			return 0, convertError(name, "str")
		}
		return 0, fault(koji.ErrGeneric, "No name or package id provided for build")
	}
	for _, f := range []struct {
		v   any
		dst *string
	}{{version, &nb.Version}, {release, &nb.Release}} {
		if *f.dst, ok = f.v.(string); !ok {
			return 0, convertError(f.v, "str")
		}
	}
	switch e := epoch.(type) {
	case nil:
	case int64:
		nb.Epoch = &e
	case bool:
		n := int64(boolInt(e))
		nb.Epoch = &n
	default:
		return 0, convertError(epoch, "int")
	}
	nb.Owner = callerID(ctx)
	if xmlrpc.Truthy(owner) {
		u, err := strictUser(ctx, tx, owner)
		if err != nil {
			return 0, err
		}
		nb.Owner = u.ID
		dictSet(&d, "owner", u.ID)
	}
	nb.Draft = xmlrpc.Truthy(draft)
	at := time.Now().UTC()
	nb.State, nb.StartTime, nb.CompletionTime = store.BuildComplete, &at, &at
	dictSet(&d, "extra", nil)
	dictSet(&d, "draft", nb.Draft)
	for _, kv := range []struct {
		k string
		v any
	}{{"state", nb.State}, {"start_time", "NOW"}, {"completion_time", "NOW"}, {"source", nil},
		{"owner", nb.Owner}, {"task_id", nil}, {"volume_id", int64(0)}} {
		if !dictHas(d, kv.k) {
			dictSet(&d, kv.k, kv.v)
		}
	}
	nb.data = d
	return k.createBuild(ctx, nb)
}

// rootCancelBuild is RootExports.cancelBuild: the build's owner or an
// admin cancels a BUILDING build.
func (k *Koji) rootCancelBuild(ctx context.Context, buildID any, strict bool) (bool, error) {
	if err := mustLogin(ctx); err != nil {
		return false, err
	}
	b, err := lookupBuild(ctx, storeTx(ctx), buildID, strict)
	if b == nil || err != nil {
		return false, err
	}
	if b.Owner != callerID(ctx) {
		admin, err := callerIsAdmin(ctx)
		if err != nil {
			return false, err
		}
		if !admin {
			return false, fault(koji.ErrActionNotAllowed, "Cannot cancel build, not owner")
		}
	}
	return k.cancelBuild(ctx, b.ID, true)
}

// cancelBuild is upstream's cancel_build: a BUILDING build becomes
// CANCELED; a build of a task gets its build notification and, with
// cancelTask, the task is canceled with its whole tree
// (Task.cancelFull(strict=False)). It reports whether the build was
// canceled.
func (k *Koji) cancelBuild(ctx context.Context, id int64, cancelTask bool) (bool, error) {
	tx := storeTx(ctx)
	info, err := getBuildInfo(ctx, tx, id)
	if err != nil {
		return false, err
	}
	if info["state"] != store.BuildBuilding {
		return false, nil
	}
	if err := k.buildStateCallbacks(ctx, "preBuildStateChange", store.BuildBuilding, store.BuildCanceled, info); err != nil {
		return false, err
	}
	ok, err := tx.CancelBuild(ctx, id)
	if !ok || err != nil {
		return false, err
	}
	if task, _ := info["task_id"].(int64); task != 0 {
		if err := k.buildNotification(ctx, task, id); err != nil {
			return false, err
		}
		if cancelTask {
			if err := k.cancelTaskFull(ctx, task, false); err != nil {
				return false, err
			}
		}
	}
	if info, err = getBuildInfo(ctx, tx, id); err != nil {
		return false, err
	}
	return true, k.buildStateCallbacks(ctx, "postBuildStateChange", store.BuildBuilding, store.BuildCanceled, info)
}

// getAverageBuildDuration is RootExports.getAverageBuildDuration (see
// store.Tx.AverageBuildDuration); age is in months, as int(age) reads it.
func getAverageBuildDuration(ctx context.Context, pkg, age any) (*float64, error) {
	tx := storeTx(ctx)
	id, err := lookupPackageID(ctx, tx, pkg)
	if id == 0 || err != nil {
		return nil, err
	}
	var since *time.Time
	if age != nil {
		months, err := pyInt(age)
		if err != nil {
			return nil, err
		}
		t := time.Now().UTC().AddDate(0, -int(months), 0)
		since = &t
	}
	return tx.AverageBuildDuration(ctx, id, since)
}

// pyInt is Python's int() of a decoded value: integers, floats truncated,
// and decimal strings.
func pyInt(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case bool:
		return int64(boolInt(x)), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, pyException("ValueError", "cannot convert float %s to integer", pyRepr(x))
		}
		return int64(x), nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			return 0, pyException("ValueError", "invalid literal for int() with base 10: %s", pyRepr(x))
		}
		return n, nil
	}
	return 0, pyException("TypeError", "int() argument must be a string, a bytes-like object or a real number, not '%s'", pyTypeName(v))
}

// buildTypes is upstream's get_build_type for protonmsg's btypes: the
// build's btypes with their typeinfo from extra, then the legacy maven,
// win and image rows.
func buildTypes(ctx context.Context, info map[string]any) (map[string]any, error) {
	out := map[string]any{}
	id, ok := info["id"].(int64)
	if !ok {
		return out, nil
	}
	tx := storeTx(ctx)
	names, err := tx.BuildTypeNames(ctx, id)
	if err != nil {
		return nil, err
	}
	extra, _ := info["extra"].(map[string]any)
	typeinfo, _ := extra["typeinfo"].(map[string]any)
	for _, n := range names {
		out[n] = typeinfo[n]
	}
	legacy, err := tx.LegacyTypeInfo(ctx, id)
	if err != nil {
		return nil, err
	}
	for n, v := range legacy {
		out[n] = v
	}
	return out, nil
}
