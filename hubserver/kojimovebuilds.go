package hubserver

import (
	"context"
	"slices"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// moveBuildMethods are upstream's RootExports.moveBuild and moveAllBuilds
// (koji move-build, with and without --all).
func (k *Koji) moveBuildMethods() []Method {
	return []Method{
		{
			Name: "moveBuild", PyName: "RootExports.moveBuild", Bound: true,
			Args: []Arg{{Name: "tag1"}, {Name: "tag2"}, {Name: "build"}, {Name: "force", Default: false}},
			Doc:  "Move a build from tag1 to tag2",
			Func: func(ctx context.Context, tag1, tag2, build, force any) (int64, error) {
				return k.tagBuildTask(ctx, tag2, build, force, tag1)
			},
		},
		{
			Name: "moveAllBuilds", PyName: "RootExports.moveAllBuilds", Bound: true,
			Args: []Arg{{Name: "tag1"}, {Name: "tag2"}, {Name: "package"}, {Name: "force", Default: false}},
			Doc:  "Move all builds of a package from tag1 to tag2 in the correct order",
			Func: k.moveAllBuilds,
		},
	}
}

// moveAllBuilds is RootExports.moveAllBuilds: after tagBuild's checks
// (the package listed in tag2 unless an admin forces it, access to both
// tags; the tag policy is upstream's default, which allows), a chain of
// dependantTask tasks, oldest tagging first, each waiting for the one
// before and running a tagBuild subtask (priority 15) that moves one
// build. It returns the tasks' ids.
func (k *Koji) moveAllBuilds(ctx context.Context, tag1, tag2, pkg, force any) ([]int64, error) {
	if err := assertLogin(ctx); err != nil {
		return nil, err
	}
	tx := storeTx(ctx)
	p, err := lookupName(ctx, tx, "package", pkg, true, false)
	if err != nil {
		return nil, err
	}
	var ids [2]int64
	for i, tag := range []any{tag1, tag2} {
		t, err := tagRef(ctx, tx, tag, true)
		if err != nil {
			return nil, err
		}
		ids[i] = t.ID
	}
	entry, err := pkgInList(ctx, tx, ids[1], p.ID, false)
	if err != nil {
		return nil, err
	}
	pkgErr := ""
	if entry == nil {
		pkgErr = "Package " + pyFormat(pkg) + " not in list for tag " + pyFormat(tag2)
	} else if entry["blocked"] == true {
		pkgErr = "Package " + pyFormat(pkg) + " blocked in tag " + pyFormat(tag2)
	}
	forced := xmlrpc.Truthy(force)
	if pkgErr != "" {
		admin, err := callerIsAdmin(ctx)
		if err != nil {
			return nil, err
		}
		if !forced || !admin {
			return nil, fault(koji.ErrTag, "%s", pkgErr)
		}
		if err := k.pkglistAdd(ctx, ids[1], p.ID, nil, false, nil, true, false); err != nil {
			return nil, err
		}
	}
	for _, id := range ids {
		t, err := getTag(ctx, id, true, nil, false)
		if err != nil {
			return nil, err
		}
		if err := assertTagAccess(ctx, t, forced); err != nil {
			return nil, err
		}
	}
	builds, err := readTaggedBuilds(ctx, tx, taggedArgs{tagID: ids[0], pkg: p.Name})
	if err != nil {
		return nil, err
	}
	slices.Reverse(builds) // oldest tagging first
	tasks := []int64{}
	waitOn := []any{}
	for _, b := range builds {
		sub := []any{"tagBuild", []any{ids[1], b.ID, force, ids[0]}, map[string]any{"priority": int64(15)}}
		id, err := k.makeTask(ctx, "dependantTask", []any{waitOn, []any{sub}}, taskOpts{})
		if err != nil {
			return nil, err
		}
		waitOn = []any{id}
		tasks = append(tasks, id)
	}
	return tasks, nil
}
