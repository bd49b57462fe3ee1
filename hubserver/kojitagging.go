package hubserver

import (
	"context"
	"slices"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// taggingMethods are upstream's synchronous tagging methods (§E4).
func (k *Koji) taggingMethods() []Method {
	return []Method{
		{
			Name: "tagBuildBypass", PyName: "RootExports.tagBuildBypass", Bound: true,
			Args: []Arg{{Name: "tag"}, {Name: "build"}, {Name: "force", Default: false}, {Name: "notify", Default: false}},
			Doc:  "Tag a build without running post checks",
			Func: k.tagBuildBypass,
		},
		{
			Name: "untagBuildBypass", PyName: "RootExports.untagBuildBypass", Bound: true,
			Args: []Arg{{Name: "tag"}, {Name: "build"}, {Name: "strict", Default: true}, {Name: "force", Default: false},
				{Name: "notify", Default: false}},
			Doc:  "Untag a build without any checks",
			Func: k.untagBuildBypass,
		},
		{
			Name: "untagBuild", PyName: "RootExports.untagBuild", Bound: true,
			Args: []Arg{{Name: "tag"}, {Name: "build"}, {Name: "strict", Default: true}, {Name: "force", Default: false}},
			Doc:  "Untag a build",
			Func: k.untagBuild,
		},
		{
			Name: "massTag", PyName: "RootExports.massTag", Bound: true,
			Args: []Arg{{Name: "tag"}, {Name: "builds"}},
			Doc:  "Substitute for tagBuildBypass - this call ignores every check, so special 'tag' permission is needed.",
			Func: k.massTag,
		},
	}
}

// tagBuildData are get_tag, get_build and get_user(session user) as
// _tag_build and _untag_build read them.
type tagBuildData struct {
	tag, build, user map[string]any
	row              *store.BuildRow
}

func readTagBuild(ctx context.Context, tagInfo, binfo any) (*tagBuildData, error) {
	tx := storeTx(ctx)
	var d tagBuildData
	var err error
	if d.tag, err = getTag(ctx, tagInfo, true, nil, false); err != nil {
		return nil, err
	}
	if d.row, err = lookupBuild(ctx, tx, binfo, true); err != nil {
		return nil, err
	}
	if d.build, err = buildInfo(d.row); err != nil {
		return nil, err
	}
	if d.user, err = callerData(ctx, tx); err != nil {
		return nil, err
	}
	return &d, nil
}

// assertTagAccess is upstream's assert_tag_access for the session user: a
// locked tag, or one whose permission the user lacks, is refused unless
// an admin forces it.
func assertTagAccess(ctx context.Context, tag map[string]any, force bool) error {
	tx := storeTx(ctx)
	perms, err := tx.EffectivePerms(ctx, callerID(ctx))
	if err != nil {
		return err
	}
	markPermsRead(ctx)
	reason := ""
	if tag["locked"] == true {
		reason = "tag is locked"
	} else if pid, ok := tag["perm_id"].(*int64); ok && pid != nil {
		if name, _ := tag["perm"].(*string); name != nil && !slices.Contains(perms, *name) {
			reason = "tag requires " + *name + " permission"
		}
	}
	if reason == "" || force && slices.Contains(perms, "admin") {
		return nil
	}
	return fault(koji.ErrActionNotAllowed, "%s", reason)
}

// bypassTagBuild is the common start of tagBuildBypass and
// untagBuildBypass (the tag permission): the tag and build, the tag
// policy for the operation ("tag" or "untag", as upstream's policy data
// gives them) and the tag access check.
func (k *Koji) bypassTagBuild(ctx context.Context, tag, build, force any, operation string) (*tagBuildData, error) {
	if err := assertPerm(ctx, "tag"); err != nil {
		return nil, err
	}
	d, err := readTagBuild(ctx, tag, build)
	if err != nil {
		return nil, err
	}
	if err := k.assertTagPolicy(ctx, d, operation, force); err != nil {
		return nil, err
	}
	return d, assertTagAccess(ctx, d.tag, xmlrpc.Truthy(force))
}

// assertTagPolicy is the tag policy check of tagBuildBypass (operation
// "tag") and of untagBuild and untagBuildBypass ("untag"):
// assert_policy('tag', {tag, build, fromtag, operation}, force=force),
// the tag being fromtag for an untag.
func (k *Koji) assertTagPolicy(ctx context.Context, d *tagBuildData, operation string, force any) error {
	data := map[string]any{"tag": d.tag["id"], "build": d.row.ID, "fromtag": nil, "operation": operation}
	if operation == "untag" {
		data["tag"], data["fromtag"] = nil, d.tag["id"]
	}
	return k.assertPolicy(ctx, "tag", data, xmlrpc.Truthy(force))
}

// directTagBuild is upstream's _direct_tag_build: the build must be
// COMPLETE, and already in the tag only with force (a retag); d.user
// tags it.
func (k *Koji) directTagBuild(ctx context.Context, d *tagBuildData, force any) error {
	kw := func() map[string]any {
		return map[string]any{"tag": d.tag, "build": d.build, "user": d.user, "force": force}
	}
	if err := k.runCallbacks(ctx, "preTag", kw()); err != nil {
		return err
	}
	nvr := d.row.NVR()
	if d.row.State != store.BuildComplete {
		return fault(koji.ErrTag, "build %s not complete: state %s", nvr, koji.BuildState(d.row.State).String())
	}
	tx, tagID, user := storeTx(ctx), d.tag["id"].(int64), d.user["id"].(int64)
	tagged, err := tx.BuildTagged(ctx, tagID, d.row.ID)
	if err != nil {
		return err
	}
	if tagged {
		if !xmlrpc.Truthy(force) {
			return fault(koji.ErrTag, "build %s already tagged (%s)", nvr, d.tag["name"])
		}
		if _, err := tx.UntagBuild(ctx, tagID, d.row.ID, user); err != nil {
			return err
		}
	}
	if err := tx.TagBuild(ctx, tagID, d.row.ID, user); err != nil {
		return err
	}
	return k.runCallbacks(ctx, "postTag", kw())
}

// tagBuildBypass is RootExports.tagBuildBypass (the tag permission): the
// tag policy (missing by default, so allowed), the tag access check and
// _direct_tag_build; with notify, a tag notification of the tag and
// build as given.
func (k *Koji) tagBuildBypass(ctx context.Context, tag, build, force, notify any) error {
	d, err := k.bypassTagBuild(ctx, tag, build, force, "tag")
	if err != nil {
		return err
	}
	if err := k.directTagBuild(ctx, d, force); err != nil || !xmlrpc.Truthy(notify) {
		return err
	}
	_, err = k.tagNotification(ctx, true, tag, nil, build, callerID(ctx), false, "")
	return err
}

// untagBuildBypass is RootExports.untagBuildBypass (the tag permission):
// the tag policy (operation untag), then _untag_build with its access
// check; strict faults when the build was
// not in the tag; with notify, a tag notification of the tag and build
// as given.
func (k *Koji) untagBuildBypass(ctx context.Context, tag, build, strict, force, notify any) error {
	d, err := k.bypassTagBuild(ctx, tag, build, force, "untag")
	if err != nil {
		return err
	}
	if err := k.directUntagBuild(ctx, d, strict, force); err != nil || !xmlrpc.Truthy(notify) {
		return err
	}
	_, err = k.tagNotification(ctx, true, nil, tag, build, callerID(ctx), false, "")
	return err
}

// untagBuild is RootExports.untagBuild: for any logged-in user, with the
// tag policy (missing by default, so allowed) and _untag_build's access
// check, then a tag notification of the tag and build as given.
// (Upstream also makes one for a failure, in the transaction its fault
// rolls back.)
func (k *Koji) untagBuild(ctx context.Context, tag, build, strict, force any) error {
	if err := assertLogin(ctx); err != nil {
		return err
	}
	d, err := readTagBuild(ctx, tag, build)
	if err != nil {
		return err
	}
	if err := k.assertTagPolicy(ctx, d, "untag", force); err != nil {
		return err
	}
	if err := assertTagAccess(ctx, d.tag, xmlrpc.Truthy(force)); err != nil {
		return err
	}
	if err := k.directUntagBuild(ctx, d, strict, force); err != nil {
		return err
	}
	_, err = k.tagNotification(ctx, true, nil, tag, build, callerID(ctx), false, "")
	return err
}

// directUntagBuild is upstream's _direct_untag_build, as d.user.
func (k *Koji) directUntagBuild(ctx context.Context, d *tagBuildData, strict, force any) error {
	kw := func() map[string]any {
		return map[string]any{"tag": d.tag, "build": d.build, "user": d.user, "force": force, "strict": strict}
	}
	if err := k.runCallbacks(ctx, "preUntag", kw()); err != nil {
		return err
	}
	n, err := storeTx(ctx).UntagBuild(ctx, d.tag["id"].(int64), d.row.ID, d.user["id"].(int64))
	if err != nil {
		return err
	}
	if n == 0 && xmlrpc.Truthy(strict) {
		return fault(koji.ErrTag, "build %s not in tag %s", d.row.NVR(), d.tag["name"])
	}
	return k.runCallbacks(ctx, "postUntag", kw())
}

// massTag is RootExports.massTag (the tag permission): every build tagged
// (retagged when already there) without access checks, each at its own
// event so the order is kept.
func (k *Koji) massTag(ctx context.Context, tag, builds any) error {
	if err := assertPerm(ctx, "tag"); err != nil {
		return err
	}
	t, err := getTag(ctx, tag, true, nil, false)
	if err != nil {
		return err
	}
	tx := storeTx(ctx)
	user, err := callerData(ctx, tx)
	if err != nil {
		return err
	}
	list, ok := builds.([]any)
	if !ok {
		if s, isStr := builds.(string); isStr {
			list = make([]any, 0, len(s))
			for _, r := range s {
				list = append(list, string(r))
			}
		} else {
			return pyException("TypeError", "object of type '%s' has no len()", pyTypeName(builds))
		}
	}
	for _, b := range list {
		row, err := lookupBuild(ctx, tx, b, true)
		if err != nil {
			return err
		}
		info, err := buildInfo(row)
		if err != nil {
			return err
		}
		if err := k.directTagBuild(ctx, &tagBuildData{tag: t, build: info, user: user, row: row}, true); err != nil {
			return err
		}
		tx.NextEvent()
	}
	return nil
}
