package hubserver

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// hostBuildMethods are the builder's side of builds (upstream's
// HostExports): recording a build, importing its RPMs and logs, failing
// it, keeping a scratch build's files, tagging for a tagBuild task, and
// the buildroots a build runs in.
func (k *Koji) hostBuildMethods() []Method {
	task := Arg{Name: "task_id"}
	methods := []Method{
		{
			Name: "host.initBuild", PyName: "HostExports.initBuild", Bound: true,
			Args: []Arg{{Name: "data"}},
			Doc: "Create a stub (rpm) build entry.\n\n        This is done at the very beginning of the build to inform the\n" +
				"        system the build is underway.\n\n        This function is only called for rpm builds, other build types\n" +
				"        have their own init function\n        ",
			Func: k.initBuild,
		},
		{
			Name: "host.completeBuild", PyName: "HostExports.completeBuild", Bound: true,
			Args: []Arg{task, {Name: "build_id"}, {Name: "srpm"}, {Name: "rpms"}, {Name: "brmap", Default: None},
				{Name: "logs", Default: None}},
			Doc:  "Import final build contents into the database",
			Func: k.completeBuild,
		},
		{
			Name: "host.failBuild", PyName: "HostExports.failBuild", Bound: true,
			Args: []Arg{task, {Name: "build_id"}},
			Doc: "Mark the build as failed.  If the current state is not\n        'BUILDING', or the current completion_time is not null, a\n" +
				"        GenericError will be raised.",
			Func: k.failBuild,
		},
		{
			Name: "host.moveBuildToScratch", PyName: "HostExports.moveBuildToScratch", Bound: true,
			Args: []Arg{task, {Name: "srpm"}, {Name: "rpms"}, {Name: "logs", Default: None}},
			Doc:  "Move a completed scratch build into place (not imported)",
			Func: k.moveBuildToScratch,
		},
	}
	return slices.Concat(methods, k.hostTagMethods(), k.buildrootMethods())
}

// hostTask is upstream's Host().verify() and Task(task_id).assertHost:
// the caller is a host in an exclusive session holding the task OPEN. It
// returns the task.
func hostTask(ctx context.Context, taskIDArg any) (*store.Task, error) {
	h, err := callerHost(ctx)
	if err != nil {
		return nil, err
	}
	id, err := taskID(taskIDArg)
	if err != nil {
		return nil, err
	}
	if err := assertHost(ctx, id, h.ID); err != nil {
		return nil, err
	}
	return getTask(ctx, id)
}

// buildDataOrder is the order of a build dict's keys as upstream's
// callers insert them (kojid's header fields and task, then initBuild's,
// cg_init_build's and prep_build's additions); its repr in new_build's
// faults shows them in that order, other keys follow by name.
var buildDataOrder = []string{"name", "version", "release", "epoch", "task_id", "owner", "state", "completion_time",
	"extra", "source", "build_id", "start_time", "cg_id"}

// newBuildFromData is upstream's new_build(data) for a dict a caller
// sent: the package by pkg_id or name, version, release and epoch
// required, extra JSON-encoded, and new_build's defaults for the rest.
func (k *Koji) newBuildFromData(ctx context.Context, data map[string]any) (int64, error) {
	tx := storeTx(ctx)
	nb := &newBuild{}
	for _, key := range buildDataOrder {
		if v, ok := data[key]; ok {
			nb.data = append(nb.data, pyItem{key, v})
		}
	}
	for _, key := range sortedKeys(data) {
		if !slices.Contains(buildDataOrder, key) {
			nb.data = append(nb.data, pyItem{key, data[key]})
		}
	}
	if _, ok := data["pkg_id"]; !ok {
		dictSet(&nb.data, "pkg_id", nil) // new_build sets it first; createBuild fills it in
	}
	if pkgID, ok := data["pkg_id"]; ok {
		p, err := lookupName(ctx, tx, "package", pkgID, true, false)
		if err != nil {
			return 0, err
		}
		nb.Name = p.Name
		dictSet(&nb.data, "name", p.Name)
	} else {
		name, _ := data["name"].(string)
		if !xmlrpc.Truthy(data["name"]) {
			return 0, fault(koji.ErrGeneric, "No name or package id provided for build")
		}
		if name == "" {
			return 0, convertError(data["name"], "str")
		}
		nb.Name = name
	}
	if xmlrpc.Truthy(data["owner"]) {
		u, err := strictUser(ctx, tx, data["owner"])
		if err != nil {
			return 0, err
		}
		nb.Owner = u.ID
		dictSet(&nb.data, "owner", u.ID)
	}
	for _, f := range []string{"version", "release", "epoch"} {
		if _, ok := data[f]; !ok {
			return 0, fault(koji.ErrGeneric, "No %s value for build", f)
		}
	}
	var ok bool
	if nb.Version, ok = data["version"].(string); !ok {
		return 0, convertError(data["version"], "str")
	}
	if nb.Release, ok = data["release"].(string); !ok {
		return 0, convertError(data["release"], "str")
	}
	if e := data["epoch"]; e != nil {
		n, err := convertInt(e)
		if err != nil {
			return 0, err
		}
		nb.Epoch = &n
	}
	if x, ok := data["extra"]; ok {
		s, err := encodeJSON(x)
		if err != nil {
			return 0, fault(koji.ErrGeneric, "No such build extra data: %s", pyRepr(x))
		}
		nb.Extra = &s
	}
	dictSet(&nb.data, "extra", ptrValue(nb.Extra))
	nb.State = store.BuildComplete
	if st, ok := data["state"]; ok {
		n, err := convertInt(st)
		if err != nil {
			return 0, err
		}
		nb.State = int(n)
	}
	// A content generator gives its own times.
	at := time.Now().UTC()
	start, done := at, at
	if t, ok := data["start_time"].(time.Time); ok {
		start = t
	}
	if t, ok := data["completion_time"].(time.Time); ok {
		done = t
	}
	nb.StartTime = &start
	if _, ok := data["completion_time"]; !ok || data["completion_time"] != nil {
		nb.CompletionTime = &done
	}
	if cg, ok := data["cg_id"].(int64); ok {
		nb.CGID = &cg
	}
	if t := data["task_id"]; t != nil {
		id, err := taskID(t)
		if err != nil {
			return 0, err
		}
		nb.TaskID = &id
	}
	if nb.Owner == 0 {
		nb.Owner = callerID(ctx)
	}
	for _, kv := range []struct {
		k string
		v any
	}{{"state", nb.State}, {"start_time", "NOW"}, {"completion_time", "NOW"}, {"source", nil},
		{"owner", nb.Owner}, {"task_id", nil}, {"volume_id", int64(0)}} {
		if !dictHas(nb.data, kv.k) {
			dictSet(&nb.data, kv.k, kv.v)
		}
	}
	if s, ok := data["source"].(string); ok {
		nb.Source = &s
	}
	return k.createBuild(ctx, nb)
}

// newTypedBuild is upstream's new_typed_build: the build is of the btype
// (once).
func newTypedBuild(ctx context.Context, buildID int64, btype string) error {
	tx := storeTx(ctx)
	bt, err := lookupName(ctx, tx, "btype", btype, true, false)
	if err != nil {
		return err
	}
	names, err := tx.BuildTypeNames(ctx, buildID)
	if err != nil {
		return err
	}
	for _, n := range names {
		if n == bt.Name {
			return nil
		}
	}
	return tx.AddBuildType(ctx, buildID, bt.ID)
}

// initBuild is HostExports.initBuild: a BUILDING rpm build of the task,
// owned by the task's owner.
func (k *Koji) initBuild(ctx context.Context, dataArg any) (int64, error) {
	if _, err := callerHost(ctx); err != nil {
		return 0, err
	}
	data, ok := dataArg.(map[string]any)
	if !ok {
		return 0, pyException("TypeError", "'%s' object is not subscriptable", pyTypeName(dataArg))
	}
	tid, ok := data["task_id"]
	if !ok {
		return 0, pyException("KeyError", "'task_id'")
	}
	task, err := hostTask(ctx, tid)
	if err != nil {
		return 0, err
	}
	d := make(map[string]any, len(data)+3)
	for key, v := range data {
		d[key] = v
	}
	d["owner"], d["state"], d["completion_time"] = task.Owner, int64(store.BuildBuilding), nil
	id, err := k.newBuildFromData(ctx, d)
	if err != nil {
		return 0, err
	}
	return id, newTypedBuild(ctx, id, "rpm")
}

// failBuild is HostExports.failBuild: a BUILDING build becomes FAILED.
func (k *Koji) failBuild(ctx context.Context, taskIDArg, buildIDArg any) error {
	task, err := hostTask(ctx, taskIDArg)
	if err != nil {
		return err
	}
	tx := storeTx(ctx)
	row, err := lookupBuild(ctx, tx, buildIDArg, true)
	if err != nil {
		return err
	}
	info, err := buildInfo(row)
	if err != nil {
		return err
	}
	if err := k.buildStateCallbacks(ctx, "preBuildStateChange", row.State, store.BuildFailed, info); err != nil {
		return err
	}
	if row.State != store.BuildBuilding {
		return fault(koji.ErrGeneric, "cannot update build %d, state: %s", row.ID, koji.BuildState(row.State).String())
	}
	if err := tx.FinishBuild(ctx, row.ID, store.BuildFailed, nil); err != nil {
		return err
	}
	if info, err = getBuildInfo(ctx, tx, row.ID); err != nil {
		return err
	}
	if err := k.buildStateCallbacks(ctx, "postBuildStateChange", row.State, store.BuildFailed, info); err != nil {
		return err
	}
	return k.buildNotification(ctx, task.ID, row.ID)
}

// completeBuild is HostExports.completeBuild: import_build of the
// uploaded SRPM, RPMs and logs into the build, which becomes COMPLETE.
func (k *Koji) completeBuild(ctx context.Context, taskIDArg, buildID, srpm, rpms, brmap, logs any) (map[string]any, error) {
	task, err := hostTask(ctx, taskIDArg)
	if err != nil {
		return nil, err
	}
	binfo, err := k.importBuild(ctx, importArgs{srpm: srpm, rpms: rpms, brmap: brmap, taskID: &task.ID, buildID: buildID, logs: logs})
	if err != nil {
		return nil, err
	}
	return binfo, k.buildNotification(ctx, task.ID, binfo["id"].(int64))
}

// moveBuildToScratch is HostExports.moveBuildToScratch: the uploads go
// to scratch/<task owner>/task_<id>, logs under its logs/<key>.
func (k *Koji) moveBuildToScratch(ctx context.Context, taskIDArg, srpm, rpms, logs any) error {
	task, err := hostTask(ctx, taskIDArg)
	if err != nil {
		return err
	}
	in, err := readImportArgs(importArgs{srpm: srpm, rpms: rpms, logs: logs})
	if err != nil {
		return err
	}
	files, top, err := k.openImportFiles()
	if err != nil {
		return err
	}
	defer files.close()
	all := append([]string{in.srpm}, in.rpms...)
	for _, rel := range all {
		if err := files.exists(rel); err != nil {
			return err
		}
	}
	all = append([]string{in.srpm}, checkNoarchRPMs(in.rpms)...)
	owner, err := strictUser(ctx, storeTx(ctx), task.Owner)
	if err != nil {
		return err
	}
	dir := koji.PathInfo{TopDir: top}.Scratch() + "/" + owner.Name + "/task_" + formatInt(task.ID)
	for _, rel := range all {
		if err := files.plan(rel, dir+"/"+baseName(rel)); err != nil {
			return err
		}
	}
	for _, l := range in.logs {
		logdir := dir + "/logs"
		sub, err := subdir(l.key, logdir)
		if err != nil {
			return err
		}
		if sub != "" {
			logdir += "/" + sub
		}
		for _, rel := range l.files {
			if err := files.plan(rel, logdir+"/"+baseName(rel)); err != nil {
				return err
			}
		}
	}
	return files.run()
}

// errNoBuildroot is BuildRoot(id)'s fault for a missing buildroot.
func errNoBuildroot(id int64) error {
	return fault(koji.ErrGeneric, "no buildroot with ID: %d", id)
}

// isNotFound reports a store.ErrNotFound.
func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
