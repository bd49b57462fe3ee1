package hubserver

import (
	"context"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// buildTaskMethods are upstream's calls that create build and tagging
// tasks: build, chainBuild and tagBuild (§C3, §E7).
func (k *Koji) buildTaskMethods() []Method {
	return []Method{
		{
			Name: "build", PyName: "RootExports.build", Bound: true,
			Args: []Arg{{Name: "src"}, {Name: "target"}, {Name: "opts", Default: None}, {Name: "priority", Default: None},
				{Name: "channel", Default: None}},
			Doc:  "Create a build task",
			Func: k.buildTask,
		},
		{
			Name: "chainBuild", PyName: "RootExports.chainBuild", Bound: true,
			Args: []Arg{{Name: "srcs"}, {Name: "target"}, {Name: "opts", Default: None}, {Name: "priority", Default: None},
				{Name: "channel", Default: None}},
			Doc:  "Create a chained build task for building sets of packages in order",
			Func: k.chainBuildTask,
		},
		{
			Name: "tagBuild", PyName: "RootExports.tagBuild", Bound: true,
			Args: []Arg{{Name: "tag"}, {Name: "build"}, {Name: "force", Default: false}, {Name: "fromtag", Default: None}},
			Doc:  "Request that a build be tagged",
			Func: k.tagBuildTask,
		},
	}
}

// tagBuildPriority is the fixed priority of upstream's tagBuild tasks.
const tagBuildPriority = 10

// userTaskOpts is the common part of build and chainBuild: a false opts is
// {}, a true priority is relative to the default (negative for admins
// only), a true channel is the requested channel (by name or id).
func userTaskOpts(ctx context.Context, opts, priority, channel any) (map[string]any, taskOpts, error) {
	var o taskOpts
	var kw map[string]any
	if xmlrpc.Truthy(opts) {
		m, ok := opts.(map[string]any)
		if !ok {
			return nil, o, convertError(opts, "dict")
		}
		kw = m
	} else {
		kw = map[string]any{}
	}
	if xmlrpc.Truthy(priority) {
		var p int64
		switch v := priority.(type) {
		case int64:
			p = v
		case bool:
			p = 1
		case float64:
			p = int64(v)
		default:
			return nil, o, pyException("TypeError", "'<' not supported between instances of '%s' and 'int'", pyTypeName(priority))
		}
		if p < 0 {
			admin, err := callerIsAdmin(ctx)
			if err != nil {
				return nil, o, err
			}
			if !admin {
				return nil, o, fault(koji.ErrActionNotAllowed, "only admins may create high-priority tasks")
			}
		}
		n := koji.PriorityDefault + int(p)
		o.Priority = &n
	}
	if xmlrpc.Truthy(channel) {
		if s, ok := channel.(string); ok {
			o.Channel = &s
		} else {
			c, err := lookupChannel(ctx, storeTx(ctx), channel)
			if err != nil {
				return nil, o, err
			}
			if c == nil {
				return nil, o, fault(koji.ErrGeneric, "No such channel: %s", pyFormat(channel))
			}
			o.Channel = &c.Name
		}
	}
	return kw, o, nil
}

// buildTask is RootExports.build: a build task whose request is
// [src, target, opts]. As upstream, the target is not looked up here;
// the builder's BuildTask does that.
func (k *Koji) buildTask(ctx context.Context, src, target, opts, priority, channel any) (int64, error) {
	if err := assertLogin(ctx); err != nil {
		return 0, err
	}
	if _, err := checkString(src, false); err != nil {
		return 0, err
	}
	kw, o, err := userTaskOpts(ctx, opts, priority, channel)
	if err != nil {
		return 0, err
	}
	return k.makeTask(ctx, "build", []any{src, target, kw}, o)
}

// chainBuildTask is RootExports.chainBuild: a chainbuild task whose
// request is [srcs, target, opts].
func (k *Koji) chainBuildTask(ctx context.Context, srcs, target, opts, priority, channel any) (int64, error) {
	if err := assertLogin(ctx); err != nil {
		return 0, err
	}
	if _, ok := srcs.([]any); !ok {
		return 0, convertError(srcs, "list")
	}
	kw, o, err := userTaskOpts(ctx, opts, priority, channel)
	if err != nil {
		return 0, err
	}
	return k.makeTask(ctx, "chainbuild", []any{srcs, target, kw}, o)
}

// tagBuildTask is RootExports.tagBuild: upstream's checks (the build
// COMPLETE, access to the tag and the source tag, the package listed and
// not blocked, which an admin's force adds) and then a tagBuild task,
// priority 10, whose request is [tag_id, build_id, force, fromtag_id].
// The tag policy (operation tag, or move with fromtag) comes last, as
// upstream checks it (and host.tagBuild again).
func (k *Koji) tagBuildTask(ctx context.Context, tag, build, force, fromtag any) (int64, error) {
	if err := assertLogin(ctx); err != nil {
		return 0, err
	}
	tx := storeTx(ctx)
	row, err := lookupBuild(ctx, tx, build, true)
	if err != nil {
		return 0, err
	}
	t, err := getTag(ctx, tag, true, nil, false)
	if err != nil {
		return 0, err
	}
	var from map[string]any
	var fromID any
	if xmlrpc.Truthy(fromtag) {
		if from, err = getTag(ctx, fromtag, true, nil, false); err != nil {
			return 0, err
		}
		fromID = from["id"]
	}
	if row.State != store.BuildComplete {
		return 0, fault(koji.ErrTag, "build %s not complete: state %s", row.NVR(), koji.BuildState(row.State).String())
	}
	forced := xmlrpc.Truthy(force)
	if err := assertTagAccess(ctx, t, forced); err != nil {
		return 0, err
	}
	if from != nil {
		if err := assertTagAccess(ctx, from, forced); err != nil {
			return 0, err
		}
	}
	tagID := t["id"].(int64)
	entry, err := pkgInList(ctx, tx, tagID, row.PkgID, false)
	if err != nil {
		return 0, err
	}
	pkgErr := ""
	if entry == nil {
		pkgErr = "Package " + row.PackageName + " not in list for " + pyFormat(t["name"])
	} else if entry["blocked"] == true {
		pkgErr = "Package " + row.PackageName + " blocked in " + pyFormat(t["name"])
	}
	if pkgErr != "" {
		admin, err := callerIsAdmin(ctx)
		if err != nil {
			return 0, err
		}
		if !forced || !admin {
			return 0, fault(koji.ErrTag, "%s", pkgErr)
		}
		if err := k.pkglistAdd(ctx, tagID, row.PkgID, nil, false, nil, true, false); err != nil {
			return 0, err
		}
	}
	data := map[string]any{"tag": tagID, "build": row.ID, "fromtag": fromID, "operation": "tag"}
	if fromtag != nil {
		data["operation"] = "move"
	}
	if err := k.assertPolicy(ctx, "tag", data, forced); err != nil {
		return 0, err
	}
	p := tagBuildPriority
	return k.makeTask(ctx, "tagBuild", []any{tagID, row.ID, force, fromID}, taskOpts{Priority: &p})
}
