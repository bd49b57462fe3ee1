package hubserver

import (
	"context"
	"slices"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// buildrootMethods are upstream's buildroot methods: the builder's
// (host.newBuildRoot and the state and RPM list of its buildroots) and
// the readers getBuildroot, listBuildroots and getBuildrootListing.
func (k *Koji) buildrootMethods() []Method {
	brArgs := []Arg{{Name: "brootid"}, {Name: "rpmlist"}, {Name: "task_id", Default: None}}
	return []Method{
		{
			Name: "host.newBuildRoot", PyName: "HostExports.newBuildRoot", Bound: true,
			Args: []Arg{{Name: "repo"}, {Name: "arch"}, {Name: "task_id", Default: None}},
			Func: newBuildRoot,
		},
		{
			Name: "host.setBuildRootState", PyName: "HostExports.setBuildRootState", Bound: true,
			Args: []Arg{{Name: "brootid"}, {Name: "state"}, {Name: "task_id", Default: None}},
			Func: setBuildRootState,
		},
		{
			Name: "host.setBuildRootList", PyName: "HostExports.setBuildRootList", Bound: true,
			Args: brArgs,
			Func: func(ctx context.Context, brootid, rpmlist, taskID any) error {
				return setBuildRootList(ctx, brootid, rpmlist, taskID, false)
			},
		},
		{
			Name: "host.updateBuildRootList", PyName: "HostExports.updateBuildRootList", Bound: true,
			Args: brArgs,
			Func: func(ctx context.Context, brootid, rpmlist, taskID any) error {
				return setBuildRootList(ctx, brootid, rpmlist, taskID, true)
			},
		},
		{
			Name: "getBuildroot", PyName: "get_buildroot",
			Args: []Arg{{Name: "buildrootID"}, {Name: "strict", Default: false}},
			Doc:  "Return information about a buildroot.  buildrootID must be an int ID.",
			Func: getBuildroot,
		},
		{
			Name: "listBuildroots", PyName: "query_buildroots",
			Args: []Arg{{Name: "hostID", Default: None}, {Name: "tagID", Default: None}, {Name: "state", Default: None},
				{Name: "rpmID", Default: None}, {Name: "archiveID", Default: None}, {Name: "taskID", Default: None},
				{Name: "buildrootID", Default: None}, {Name: "repoID", Default: None}, {Name: "queryOpts", Default: None}},
			Func: listBuildroots,
		},
		{
			Name: "getBuildrootListing", PyName: "RootExports.getBuildrootListing", Bound: true,
			Args: []Arg{{Name: "id"}},
			Func: getBuildrootListing,
		},
	}
}

// loadBuildroot is upstream's BuildRoot(id).
func loadBuildroot(ctx context.Context, id int64) (*store.Buildroot, error) {
	b, err := storeTx(ctx).GetBuildroot(ctx, id)
	if isNotFound(err) {
		return nil, errNoBuildroot(id)
	}
	return b, err
}

// hostBuildroot is the common start of the host's buildroot methods: the
// caller is a host, holding the task when one is given; the buildroot is
// a standard one of the host's, and of the task.
func hostBuildroot(ctx context.Context, brootid, taskIDArg any) (*store.Buildroot, error) {
	h, err := callerHost(ctx)
	if err != nil {
		return nil, err
	}
	var task *int64
	if taskIDArg != nil {
		id, err := taskID(taskIDArg)
		if err != nil {
			return nil, err
		}
		if err := assertHost(ctx, id, h.ID); err != nil {
			return nil, err
		}
		task = &id
	}
	id, err := convertInt(brootid)
	if err != nil {
		return nil, err
	}
	b, err := loadBuildroot(ctx, id)
	if err != nil {
		return nil, err
	}
	if b.Standard == nil {
		return nil, fault(koji.ErrGeneric, "Not a standard buildroot: %d", id)
	}
	if b.Standard.HostID != h.ID {
		return nil, fault(koji.ErrActionNotAllowed, "Host %d not owner of buildroot %d", h.ID, id)
	}
	if task != nil && *task != b.Standard.TaskID {
		return nil, fault(koji.ErrActionNotAllowed, "Task %d does not have lock on buildroot %d", *task, id)
	}
	return b, nil
}

// newBuildRoot is HostExports.newBuildRoot: a standard buildroot of the
// caller's, in state INIT, for the repo and arch (a chroot). Upstream's
// standard_buildroot.task_id is NOT NULL, so a buildroot without a task
// faults as its database refuses it.
func newBuildRoot(ctx context.Context, repo, arch, taskIDArg any) (int64, error) {
	h, err := callerHost(ctx)
	if err != nil {
		return 0, err
	}
	var task *int64
	if taskIDArg != nil {
		id, err := taskID(taskIDArg)
		if err != nil {
			return 0, err
		}
		if err := assertHost(ctx, id, h.ID); err != nil {
			return 0, err
		}
		task = &id
	}
	var a *string
	if arch != nil {
		if a, err = tagArches(arch); err != nil {
			return 0, err
		}
	}
	repoID, err := convertInt(repo)
	if err != nil {
		return 0, err
	}
	if task == nil {
		return 0, pyException("psycopg2.errors.NotNullViolation",
			"null value in column \"task_id\" of relation \"standard_buildroot\" violates not-null constraint")
	}
	return storeTx(ctx).CreateStandardBuildroot(ctx, h.ID, repoID, *task, a, "chroot")
}

// brState reads a buildroot state as koji.BR_STATES[state] does: a name
// or a number.
func brState(v any) (int, error) {
	names := []string{"INIT", "WAITING", "BUILDING", "EXPIRED"}
	if s, ok := v.(string); ok {
		for i, n := range names {
			if n == s {
				return i, nil
			}
		}
		return 0, pyException("KeyError", "%s", pyRepr(s))
	}
	n, err := convertInt(v)
	if err != nil {
		return 0, err
	}
	if n < -int64(len(names)) || n >= int64(len(names)) {
		return 0, pyException("IndexError", "tuple index out of range")
	}
	if n < 0 {
		n += int64(len(names))
	}
	return int(n), nil
}

// setBuildRootState is HostExports.setBuildRootState (BuildRoot.setState):
// never back to INIT; an EXPIRED buildroot stays so (expiring it again
// is quietly ignored); EXPIRED records the retire event.
func setBuildRootState(ctx context.Context, brootid, state, taskIDArg any) error {
	b, err := hostBuildroot(ctx, brootid, taskIDArg)
	if err != nil {
		return err
	}
	st, err := brState(state)
	if err != nil {
		return err
	}
	if st == store.BRStateInit {
		return fault(koji.ErrGeneric, "Cannot change buildroot state to INIT")
	}
	tx := storeTx(ctx)
	cur, _, err := tx.LockBuildrootState(ctx, b.ID)
	if isNotFound(err) {
		return fault(koji.ErrGeneric, "Unable to get state for buildroot %d", b.ID)
	}
	if err != nil {
		return err
	}
	if cur != nil && *cur == store.BRStateExpired {
		if st == store.BRStateExpired {
			return nil
		}
		return fault(koji.ErrGeneric, "buildroot %d is EXPIRED", b.ID)
	}
	return tx.SetBuildrootState(ctx, b.ID, st)
}

// setBuildRootList is BuildRoot.setList (the buildroot INIT) or, with
// update, updateList (BUILDING, RPMs already listed skipped): each RPM
// must be known (get_rpm strict); RPMs of external repositories are not
// recorded by this hub, which has no external repos, so their
// location faults as get_rpm's does.
func setBuildRootList(ctx context.Context, brootid, rpmlist, taskIDArg any, update bool) error {
	b, err := hostBuildroot(ctx, brootid, taskIDArg)
	if err != nil {
		return err
	}
	want := store.BRStateInit
	if update {
		want = store.BRStateBuilding
	}
	if s := b.Standard.State; s == nil || *s != want {
		return fault(koji.ErrGeneric, "buildroot %d in wrong state %s", b.ID, pyFormat(ptrValue(b.Standard.State)))
	}
	list, ok := rpmlist.([]any)
	if !ok {
		return pyException("TypeError", "'%s' object is not iterable", pyTypeName(rpmlist))
	}
	return addBuildrootRPMs(ctx, b.ID, list, update)
}

// addBuildrootRPMs is BuildRoot._setList.
func addBuildrootRPMs(ctx context.Context, id int64, list []any, update bool) error {
	tx := storeTx(ctx)
	current := map[int64]bool{}
	if update {
		rows, err := tx.BuildrootListing(ctx, id)
		if err != nil {
			return err
		}
		for _, r := range rows {
			current[r.RPMID] = true
		}
	}
	var ids []int64
	for _, item := range list {
		info, err := getRPM(ctx, item, true, false)
		if err != nil {
			return err
		}
		rid := info.(map[string]any)["id"].(int64)
		if current[rid] {
			continue
		}
		current[rid] = true
		ids = append(ids, rid)
	}
	slices.Sort(ids)
	return tx.AddBuildrootListing(ctx, id, ids, update)
}

// buildrootInfo is a buildroot as query_buildroots answers it.
func buildrootInfo(b *store.BuildrootInfo, withUpdate bool) (map[string]any, error) {
	extra, err := decodeExtra(b.Extra, "extra")
	if err != nil {
		return nil, err
	}
	m := map[string]any{
		"id": b.ID, "br_type": int64(b.BRType), "cg_id": ptrValue(b.CGID), "cg_name": ptrValue(b.CGName),
		"cg_version": ptrValue(b.CGVersion), "container_arch": ptrValue(b.ContainerArch), "arch": ptrValue(b.ContainerArch),
		"container_type": ptrValue(b.ContainerType), "host_os": ptrValue(b.HostOS), "host_arch": ptrValue(b.HostArch),
		"extra": extra, "state": ptrValue(b.State), "task_id": ptrValue(b.TaskID), "host_id": ptrValue(b.HostID),
		"host_name": ptrValue(b.HostName), "repo_id": ptrValue(b.RepoID), "repo_state": ptrValue(b.RepoState),
		"tag_id": ptrValue(b.TagID), "tag_name": ptrValue(b.TagName), "create_event_id": ptrValue(b.CreateEventID),
		"retire_event_id": ptrValue(b.RetireEventID), "repo_create_event_id": ptrValue(b.RepoCreateEventID),
		"create_event_time": nil, "create_ts": nil, "retire_event_time": nil, "retire_ts": nil,
		"repo_create_event_time": nil,
	}
	if t := b.CreateEventTime; t != nil {
		m["create_event_time"], m["create_ts"] = pyTime(*t), pyTS(*t)
	}
	if t := b.RetireEventTime; t != nil {
		m["retire_event_time"], m["retire_ts"] = pyTime(*t), pyTS(*t)
	}
	if t := b.RepoCreateEventTime; t != nil {
		m["repo_create_event_time"] = pyTime(*t)
	}
	if withUpdate {
		m["is_update"] = ptrValue(b.IsUpdate)
	}
	return m, nil
}

// buildrootFields are the columns listBuildroots selects.
var buildrootFields = []queryField{
	{"id", "buildroot.id", "id"}, {"br_type", "buildroot.br_type", "br_type"}, {"cg_id", "buildroot.cg_id", "cg_id"},
	{"cg_name", "content_generator.name", "cg_name"}, {"cg_version", "buildroot.cg_version", "cg_version"},
	{"container_arch", "buildroot.container_arch", "container_arch"}, {"arch", "buildroot.container_arch", "arch"},
	{"container_type", "buildroot.container_type", "container_type"}, {"host_os", "buildroot.host_os", "host_os"},
	{"host_arch", "buildroot.host_arch", "host_arch"}, {"extra", "buildroot.extra", "extra"},
	{"state", "standard_buildroot.state", "state"}, {"task_id", "standard_buildroot.task_id", "task_id"},
	{"host_id", "host.id", "host_id"}, {"host_name", "host.name", "host_name"}, {"repo_id", "repo.id", "repo_id"},
	{"repo_state", "repo.state", ""}, {"tag_id", "tag.id", ""}, {"tag_name", "tag.name", ""},
	{"create_event_id", "create_events.id", "create_event_id"},
	{"create_event_time", "create_events.time", "create_event_time"},
	{"create_ts", "date_part('epoch', create_events.time)", "create_ts"},
	{"retire_event_id", "retire_events.id", "retire_event_id"},
	{"retire_event_time", "retire_events.time", "retire_event_time"},
	{"retire_ts", "date_part('epoch', retire_events.time)", "retire_ts"},
	{"repo_create_event_id", "repo_create.id", ""},
	{"repo_create_event_time", "repo_create.time", ""},
}

// intOrList reads a filter that is an id or a list of ids.
func intOrList(v any) ([]int64, error) {
	if l, ok := v.([]any); ok {
		out := []int64{}
		for _, x := range l {
			n, err := convertInt(x)
			if err != nil {
				return nil, err
			}
			out = append(out, n)
		}
		return out, nil
	}
	n, err := convertInt(v)
	if err != nil {
		return nil, err
	}
	return []int64{n}, nil
}

// listBuildroots is upstream's query_buildroots.
func listBuildroots(ctx context.Context, hostID, tagID, state, rpmID, archiveID, taskIDArg, buildrootID, repoID, queryOpts any) (any, error) {
	var q store.BuildrootQuery
	var err error
	if buildrootID != nil {
		if q.IDs, err = intOrList(buildrootID); err != nil {
			return nil, err
		}
	}
	if state != nil {
		if q.States, err = intOrList(state); err != nil {
			return nil, err
		}
	}
	for _, f := range []struct {
		v     any
		dst   **int64
		truth bool // upstream filters only on a true value
	}{{hostID, &q.HostID, true}, {tagID, &q.TagID, true}, {rpmID, &q.RPMID, false}, {archiveID, &q.ArchiveID, false},
		{taskIDArg, &q.TaskID, false}, {repoID, &q.RepoID, true}} {
		if f.v == nil || f.truth && !xmlrpc.Truthy(f.v) {
			continue
		}
		n, err := convertInt(f.v)
		if err != nil {
			return nil, err
		}
		*f.dst = &n
	}
	qo, err := readQueryOpts(queryOpts)
	if err != nil {
		return nil, err
	}
	fields := buildrootFields
	if q.RPMID != nil {
		fields = append(fields[:len(fields):len(fields)], queryField{"is_update", "buildroot_listing.is_update", "is_update"})
	}
	if q.Order, err = qo.storeOrder(fields); err != nil {
		return nil, err
	}
	rows, err := storeTx(ctx).QueryBuildroots(ctx, q)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(rows))
	for i := range rows {
		if out[i], err = buildrootInfo(&rows[i], q.RPMID != nil); err != nil {
			return nil, err
		}
	}
	return pageRows(out, qo, fields)
}

// getBuildroot is upstream's get_buildroot.
func getBuildroot(ctx context.Context, buildrootID any, strict bool) (map[string]any, error) {
	id, err := convertInt(buildrootID)
	if err != nil {
		return nil, err
	}
	rows, err := storeTx(ctx).QueryBuildroots(ctx, store.BuildrootQuery{IDs: []int64{id}})
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		if strict {
			return nil, fault(koji.ErrGeneric, "No such buildroot: %d", id)
		}
		return nil, nil
	}
	return buildrootInfo(&rows[0], false)
}

// getBuildrootListing is RootExports.getBuildrootListing: the RPMs of
// the buildroot (BuildRoot.getList).
func getBuildrootListing(ctx context.Context, idArg any) ([]map[string]any, error) {
	id, err := convertInt(idArg)
	if err != nil {
		return nil, err
	}
	if _, err := loadBuildroot(ctx, id); err != nil {
		return nil, err
	}
	rows, err := storeTx(ctx).BuildrootListing(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(rows))
	for i, r := range rows {
		out[i] = map[string]any{"rpm_id": r.RPMID, "is_update": r.IsUpdate, "name": r.Name, "version": r.Version,
			"release": r.Release, "epoch": ptrValue(r.Epoch), "arch": r.Arch, "build_id": ptrValue(r.BuildID),
			"external_repo_id": r.ExternalRepoID, "external_repo_name": r.ExternalRepoName}
	}
	return out, nil
}
