package hubserver

import (
	"context"
	"errors"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// targetMethods are upstream's build target methods (§E7).
func (k *Koji) targetMethods() []Method {
	return []Method{
		{
			Name: "createBuildTarget", PyName: "create_build_target",
			Args: []Arg{{Name: "name"}, {Name: "build_tag"}, {Name: "dest_tag"}},
			Doc:  "Create a new build target",
			Func: createBuildTarget,
		},
		{
			Name: "editBuildTarget", PyName: "edit_build_target",
			Args: []Arg{{Name: "buildTargetInfo"}, {Name: "name"}, {Name: "build_tag"}, {Name: "dest_tag"}},
			Doc:  "Set the build_tag and dest_tag of an existing build_target to new values",
			Func: editBuildTarget,
		},
		{
			Name: "deleteBuildTarget", PyName: "delete_build_target",
			Args: []Arg{{Name: "buildTargetInfo"}},
			Doc:  "Delete the build target with the given name.  If no build target\n    exists, raise a GenericError.",
			Func: deleteBuildTarget,
		},
		{
			Name: "getBuildTargets", PyName: "get_build_targets",
			Args: []Arg{{Name: "info", Default: None}, {Name: "event", Default: None}, {Name: "buildTagID", Default: None},
				{Name: "destTagID", Default: None}, {Name: "queryOpts", Default: None}},
			Doc:  "Return data on all the build targets\n\n    provide event to query at a different time",
			Func: getBuildTargets,
		},
		{
			Name: "getBuildTarget", PyName: "get_build_target",
			Args: []Arg{{Name: "info"}, {Name: "event", Default: None}, {Name: "strict", Default: false}},
			Doc:  "Return the build target with the given name or ID.\n    If there is no matching build target, return None.",
			Func: getBuildTarget,
		},
	}
}

// targetFields are get_build_targets' columns, for queryOpts' order.
var targetFields = []queryField{
	{Alias: "build_tag", Column: "build_tag"},
	{Alias: "build_tag_name", Column: "tag1.name"},
	{Alias: "dest_tag", Column: "dest_tag"},
	{Alias: "dest_tag_name", Column: "tag2.name"},
	{Alias: "id", Column: "build_target.id"},
	{Alias: "name", Column: "build_target.name"},
}

func targetData(t *store.Target) map[string]any {
	return map[string]any{
		"id": t.ID, "name": t.Name, "build_tag": t.BuildTag, "build_tag_name": t.BuildTagName,
		"dest_tag": t.DestTag, "dest_tag_name": t.DestTagName,
	}
}

// targetsOf is get_build_targets' query: info is name_or_id_clause's id,
// name or struct (a false info does not filter).
func targetsOf(ctx context.Context, info, event any, f store.TargetFilter) ([]store.Target, error) {
	var err error
	if f.AsOf, err = tagEvent(event); err != nil {
		return nil, err
	}
	if xmlrpc.Truthy(info) {
		if f.ID, f.Name, err = tagKey(info); err != nil {
			return nil, err
		}
	}
	return storeTx(ctx).ListTargets(ctx, f)
}

// targetTagID is get_build_targets' buildTagID or destTagID: a name or
// struct goes through get_tag_id (nil when there is no such tag, which no
// target matches), an id is taken as it is.
func targetTagID(ctx context.Context, v any) (id *int64, none bool, err error) {
	switch x := v.(type) {
	case nil:
		return nil, false, nil
	case string, map[string]any:
		r, err := tagRef(ctx, storeTx(ctx), x, false)
		if err != nil || r == nil {
			return nil, r == nil, err
		}
		return &r.ID, false, nil
	}
	n, err := sqlInt(v)
	if err != nil {
		return nil, false, err
	}
	return &n, false, nil
}

// getBuildTargets is upstream's get_build_targets.
func getBuildTargets(ctx context.Context, info, event, buildTagID, destTagID any, queryOpts map[string]any) (any, error) {
	q, err := parseQueryOpts(queryOpts)
	if err != nil {
		return nil, err
	}
	var f store.TargetFilter
	var none1, none2 bool
	if f.BuildTag, none1, err = targetTagID(ctx, buildTagID); err != nil {
		return nil, err
	}
	if f.DestTag, none2, err = targetTagID(ctx, destTagID); err != nil {
		return nil, err
	}
	rows := []map[string]any{}
	if !none1 && !none2 {
		targets, err := targetsOf(ctx, info, event, f)
		if err != nil {
			return nil, err
		}
		for i := range targets {
			rows = append(rows, targetData(&targets[i]))
		}
	}
	return queryRows(rows, q, targetFields)
}

// getBuildTarget is upstream's get_build_target: the one target, or None
// (a fault with strict).
func getBuildTarget(ctx context.Context, info, event, strict any) (any, error) {
	targets, err := targetsOf(ctx, info, event, store.TargetFilter{})
	if err != nil {
		return nil, err
	}
	if len(targets) == 1 {
		return targetData(&targets[0]), nil
	}
	if xmlrpc.Truthy(strict) {
		return nil, fault(koji.ErrGeneric, "No such build target: %s", pyFormat(info))
	}
	return nil, nil
}

// lookupTarget is upstream's lookup_build_target (lookup_name): the
// build_target table's row by id or name, deleted targets included; nil
// when there is none.
func lookupTarget(ctx context.Context, tx *store.Tx, info any) (*store.TagRef, error) {
	var r *store.TagRef
	var err error
	switch v := info.(type) {
	case int64:
		r, err = tx.TargetRefByID(ctx, v)
	case string:
		r, err = tx.TargetRefByName(ctx, v)
	default:
		return nil, fault(koji.ErrGeneric, "Invalid name or id value: %s", pyRepr(info))
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return r, err
}

// targetTags resolves create and edit's build and destination tags as
// upstream does, with get_tag (not strict).
func targetTags(ctx context.Context, tx *store.Tx, buildTag, destTag any) (int64, int64, error) {
	b, err := lookupTag(ctx, tx, buildTag, nil)
	if err != nil {
		return 0, 0, err
	}
	if b == nil {
		return 0, 0, fault(koji.ErrGeneric, "build tag '%s' does not exist", pyFormat(buildTag))
	}
	d, err := lookupTag(ctx, tx, destTag, nil)
	if err != nil {
		return 0, 0, err
	}
	if d == nil {
		return 0, 0, fault(koji.ErrGeneric, "destination tag '%s' does not exist", pyFormat(destTag))
	}
	return b.ID, d.ID, nil
}

// createBuildTarget is upstream's create_build_target (the target
// permission); the id of a deleted target of the name is reused.
func createBuildTarget(ctx context.Context, name, buildTag, destTag any) error {
	if err := assertPerm(ctx, "target"); err != nil {
		return err
	}
	n, err := verifyNameInternal(name)
	if err != nil {
		return err
	}
	if existing, err := targetsOf(ctx, n, nil, store.TargetFilter{}); err != nil {
		return err
	} else if len(existing) > 0 {
		return fault(koji.ErrGeneric, "A build target with the name '%s' already exists", n)
	}
	tx := storeTx(ctx)
	b, d, err := targetTags(ctx, tx, buildTag, destTag)
	if err != nil {
		return err
	}
	_, err = tx.CreateTarget(ctx, n, b, d, callerID(ctx))
	return err
}

// existingTarget is lookupTarget for the edits, which fault on a target
// that does not exist.
func existingTarget(ctx context.Context, tx *store.Tx, info any) (*store.TagRef, error) {
	target, err := lookupTarget(ctx, tx, info)
	if err == nil && target == nil {
		err = fault(koji.ErrGeneric, "No build target with the name or id %s", pyFormat(info))
	}
	return target, err
}

// editBuildTarget is upstream's edit_build_target (the target
// permission): a rename, if the new name is free, and a new
// configuration.
func editBuildTarget(ctx context.Context, buildTargetInfo, name, buildTag, destTag any) error {
	if err := assertPerm(ctx, "target"); err != nil {
		return err
	}
	n, err := verifyNameInternal(name)
	if err != nil {
		return err
	}
	tx := storeTx(ctx)
	target, err := existingTarget(ctx, tx, buildTargetInfo)
	if err != nil {
		return err
	}
	b, d, err := targetTags(ctx, tx, buildTag, destTag)
	if err != nil {
		return err
	}
	if target.Name != n {
		other, err := tx.TargetRefByName(ctx, n)
		switch {
		case err == nil:
			return fault(koji.ErrGeneric, "name \"%s\" is already taken by build target %d", n, other.ID)
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if err := tx.RenameTarget(ctx, target.ID, n); err != nil {
			return err
		}
	}
	return tx.SetTargetConfig(ctx, target.ID, b, d, callerID(ctx))
}

// deleteBuildTarget is upstream's delete_build_target (the target
// permission): the configuration is revoked, the name stays.
func deleteBuildTarget(ctx context.Context, buildTargetInfo any) error {
	if err := assertPerm(ctx, "target"); err != nil {
		return err
	}
	tx := storeTx(ctx)
	target, err := existingTarget(ctx, tx, buildTargetInfo)
	if err != nil {
		return err
	}
	return tx.DeleteTarget(ctx, target.ID, callerID(ctx))
}
