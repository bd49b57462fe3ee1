package hubserver

import (
	"context"
	"errors"
	"slices"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// groupMethods are upstream's tag group (comps) calls: the group,
// group package and group requirement lists of a tag, and getTagGroups.
func (k *Koji) groupMethods() []Method {
	tg := []Arg{{Name: "taginfo"}, {Name: "grpinfo"}}
	with := func(extra ...Arg) []Arg { return append(slices.Clone(tg), extra...) }
	addArgs := []Arg{{Name: "block", Default: false}, {Name: "force", Default: false}}
	return []Method{
		{Name: "groupListAdd", PyName: "grplist_add", Args: with(addArgs...), VarKw: "opts",
			Doc: "Add to (or update) group list for tag", Func: grplistAdd},
		{Name: "groupListRemove", PyName: "grplist_remove", Args: with(Arg{Name: "force", Default: false}),
			Doc: "Remove group from the list for tag", Func: grplistRemove},
		{Name: "groupListBlock", PyName: "grplist_block", Args: tg, Doc: "Block the group in tag",
			Func: func(ctx context.Context, taginfo, grpinfo any) error {
				return grplistAdd(ctx, taginfo, grpinfo, true, false, nil)
			}},
		{Name: "groupListUnblock", PyName: "grplist_unblock", Args: tg, Doc: "Unblock the group in tag", Func: grplistUnblock},
		{Name: "groupPackageListAdd", PyName: "grp_pkg_add", Args: with(append([]Arg{{Name: "pkg_name"}}, addArgs...)...),
			VarKw: "opts", Doc: "Add package to group for tag", Func: grpPkgAdd},
		{Name: "groupPackageListRemove", PyName: "grp_pkg_remove", Args: with(Arg{Name: "pkg_name"}),
			Doc: "Remove package from the list for group-tag", Func: grpPkgRemove},
		{Name: "groupPackageListBlock", PyName: "grp_pkg_block", Args: with(Arg{Name: "pkg_name"}),
			Doc: "Block the package in group-tag", Func: func(ctx context.Context, taginfo, grpinfo, pkgName any) error {
				return grpPkgAdd(ctx, taginfo, grpinfo, pkgName, true, false, nil)
			}},
		{Name: "groupPackageListUnblock", PyName: "grp_pkg_unblock", Args: with(Arg{Name: "pkg_name"}),
			Doc: "Unblock the package in group-tag", Func: grpPkgUnblock},
		{Name: "groupReqListAdd", PyName: "grp_req_add", Args: with(append([]Arg{{Name: "reqinfo"}}, addArgs...)...),
			VarKw: "opts", Doc: "Add group requirement to group for tag", Func: grpReqAdd},
		{Name: "groupReqListRemove", PyName: "grp_req_remove", Args: with(Arg{Name: "reqinfo"}, Arg{Name: "force", Default: None}),
			Doc: "Remove group requirement from the list for group-tag", Func: grpReqRemove},
		{Name: "groupReqListBlock", PyName: "grp_req_block", Args: with(Arg{Name: "reqinfo"}),
			Doc: "Block the group requirement in group-tag", Func: func(ctx context.Context, taginfo, grpinfo, reqinfo any) error {
				return grpReqAdd(ctx, taginfo, grpinfo, reqinfo, true, false, nil)
			}},
		{Name: "groupReqListUnblock", PyName: "grp_req_unblock", Args: with(Arg{Name: "reqinfo"}),
			Doc: "Unblock the group requirement in group-tag", Func: grpReqUnblock},
		{Name: "getTagGroups", PyName: "readTagGroups",
			Args: []Arg{{Name: "tag"}, {Name: "event", Default: None}, {Name: "inherit", Default: true},
				{Name: "incl_pkgs", Default: true}, {Name: "incl_reqs", Default: true}, {Name: "incl_blocked", Default: false}},
			Doc:  "Return group data for the tag with blocked entries removed",
			Func: getTagGroupsCall},
	}
}

// lookupCompsGroup is upstream's lookup_group (lookup_name on groups): by id
// or name; a missing group is nil, or with create (names only) a new
// one, or with strict a GenericError.
func lookupCompsGroup(ctx context.Context, info any, strict, create bool) (*store.NamedRow, error) {
	tx := storeTx(ctx)
	var key any
	switch v := info.(type) {
	case int64, string:
		key = v
	case bool: // Python's bool is an int
		key = int64(boolInt(v))
	default:
		return nil, fault(koji.ErrGeneric, "Invalid name or id value: %s", pyRepr(info))
	}
	g, err := tx.LookupGroup(ctx, key)
	if !errors.Is(err, store.ErrNotFound) {
		return g, err
	}
	switch {
	case create:
		name, ok := key.(string)
		if !ok {
			return nil, fault(koji.ErrGeneric, "Name must be a string")
		}
		id, err := tx.CreateGroup(ctx, name)
		if err != nil {
			return nil, err
		}
		return &store.NamedRow{ID: id, Name: name}, nil
	case strict:
		return nil, fault(koji.ErrGeneric, "No such entry in table groups: %s", pyFormat(info))
	}
	return nil, nil
}

// groupOpt reads one of the **opts of an add call into dst: a string
// (text) or bool member, or None where the column allows it. Upstream
// hands them to the database, which refuses other types; here they fault.
func groupOpt[T string | bool](opts map[string]any, name string, dst **T, nullable bool) error {
	v, ok := opts[name]
	if !ok {
		return nil
	}
	if v == nil && nullable {
		*dst = nil
		return nil
	}
	t, ok := v.(T)
	if !ok {
		return fault(koji.ErrGeneric, "invalid value for %s: %s", name, pyRepr(v))
	}
	*dst = &t
	return nil
}

func grplistAdd(ctx context.Context, taginfo, grpinfo, block, force any, opts map[string]any) error {
	if err := assertPerm(ctx, "tag"); err != nil {
		return err
	}
	tag, err := getTag(ctx, taginfo, true, nil, false)
	if err != nil {
		return err
	}
	tagID, tagName := tag["id"].(int64), tag["name"].(string)
	group, err := lookupCompsGroup(ctx, grpinfo, false, true)
	if err != nil {
		return err
	}
	tx := storeTx(ctx)
	groups, err := readGroups(ctx, tx, tagID, nil, true, false, false)
	if err != nil {
		return err
	}
	cfg := store.GroupConfig{GroupID: group.ID, TagID: tagID, Blocked: xmlrpc.Truthy(block), DisplayName: group.Name,
		Exported: ptr(true), UserVisible: ptr(true), BiarchOnly: ptr(false)}
	previous := groups.byID[group.ID]
	if previous != nil {
		if previous.Blocked && !xmlrpc.Truthy(force) {
			return fault(koji.ErrGeneric, "group %s is blocked in tag %s", group.Name, tagName)
		}
		// Fields not given keep the previous (possibly inherited) values.
		old := previous.GroupConfig
		cfg.Exported, cfg.DisplayName, cfg.IsDefault, cfg.UserVisible = old.Exported, old.DisplayName, old.IsDefault, old.UserVisible
		cfg.Description, cfg.LangOnly, cfg.BiarchOnly = old.Description, old.LangOnly, old.BiarchOnly
	}
	display := &cfg.DisplayName
	for _, err := range []error{
		groupOpt(opts, "exported", &cfg.Exported, true), groupOpt(opts, "display_name", &display, false),
		groupOpt(opts, "is_default", &cfg.IsDefault, true), groupOpt(opts, "uservisible", &cfg.UserVisible, true),
		groupOpt(opts, "description", &cfg.Description, true), groupOpt(opts, "langonly", &cfg.LangOnly, true),
		groupOpt(opts, "biarchonly", &cfg.BiarchOnly, true),
	} {
		if err != nil {
			return err
		}
	}
	cfg.DisplayName = *display
	if previous != nil {
		old := previous.GroupConfig
		old.GroupID, old.TagID, old.Name = cfg.GroupID, cfg.TagID, ""
		if groupConfigEqual(old, cfg) {
			return nil // no point in adding it again with the same data
		}
	}
	return tx.SetGroupConfig(ctx, cfg, callerID(ctx))
}

func ptr[T any](v T) *T { return &v }

func eqPtr[T comparable](a, b *T) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

func groupConfigEqual(a, b store.GroupConfig) bool {
	return a.Blocked == b.Blocked && a.DisplayName == b.DisplayName && eqPtr(a.Exported, b.Exported) &&
		eqPtr(a.IsDefault, b.IsDefault) && eqPtr(a.UserVisible, b.UserVisible) && eqPtr(a.Description, b.Description) &&
		eqPtr(a.LangOnly, b.LangOnly) && eqPtr(a.BiarchOnly, b.BiarchOnly)
}

func grplistRemove(ctx context.Context, taginfo, grpinfo, force any) error {
	if err := assertPerm(ctx, "tag"); err != nil {
		return err
	}
	tag, err := getTag(ctx, taginfo, true, nil, false)
	if err != nil {
		return err
	}
	tagID := tag["id"].(int64)
	group, err := lookupCompsGroup(ctx, grpinfo, true, false)
	if err != nil {
		return err
	}
	tx := storeTx(ctx)
	if !xmlrpc.Truthy(force) {
		found, _, err := tx.GroupEntryBlocked(ctx, "group_config", tagID, group.ID, nil)
		if err != nil {
			return err
		}
		if !found {
			return fault(koji.ErrGeneric, "No group: %s found for tag: %s", group.Name, tag["name"])
		}
	}
	_, err = tx.RevokeGroupConfig(ctx, tagID, group.ID, callerID(ctx))
	return err
}

func grplistUnblock(ctx context.Context, taginfo, grpinfo any) error {
	if err := assertPerm(ctx, "tag"); err != nil {
		return err
	}
	tx := storeTx(ctx)
	tag, err := tagRef(ctx, tx, taginfo, true)
	if err != nil {
		return err
	}
	group, err := lookupCompsGroup(ctx, grpinfo, true, false)
	if err != nil {
		return err
	}
	if _, blocked, err := tx.GroupEntryBlocked(ctx, "group_config", tag.ID, group.ID, nil); err != nil {
		return err
	} else if !blocked {
		return fault(koji.ErrGeneric, "group %s is NOT blocked in tag %s", group.Name, tag.Name)
	}
	_, err = tx.RevokeGroupConfig(ctx, tag.ID, group.ID, callerID(ctx))
	return err
}

// groupInTag is the tag's group with inheritance, which the package and
// requirement calls need there and not blocked.
func groupInTag(ctx context.Context, tag *store.TagRef, group *store.NamedRow, pkgs, reqs bool) (*tagGroup, error) {
	groups, err := readGroups(ctx, storeTx(ctx), tag.ID, nil, true, pkgs, reqs)
	if err != nil {
		return nil, err
	}
	g := groups.byID[group.ID]
	switch {
	case g == nil:
		return nil, fault(koji.ErrGeneric, "group %s not present in tag %s", group.Name, tag.Name)
	case g.Blocked:
		return nil, fault(koji.ErrGeneric, "group %s is blocked in tag %s", group.Name, tag.Name)
	}
	return g, nil
}

// groupPackageName is a group package call's pkg_name, an rpm name.
func groupPackageName(pkgName any) (string, error) {
	name, ok := pkgName.(string)
	if !ok {
		return "", fault(koji.ErrGeneric, "invalid package name: %s", pyRepr(pkgName))
	}
	return name, nil
}

func grpPkgAdd(ctx context.Context, taginfo, grpinfo, pkgName, block, force any, opts map[string]any) error {
	if err := assertPerm(ctx, "tag"); err != nil {
		return err
	}
	name, err := groupPackageName(pkgName)
	if err != nil {
		return err
	}
	tag, group, err := tagAndGroup(ctx, taginfo, grpinfo)
	if err != nil {
		return err
	}
	g, err := groupInTag(ctx, tag, group, true, false)
	if err != nil {
		return err
	}
	blocked := xmlrpc.Truthy(block)
	entry := store.GroupPackage{GroupID: g.GroupID, TagID: tag.ID, Package: name, Blocked: blocked, Type: "mandatory"}
	previous := g.pkg(name)
	if previous != nil {
		if previous.Blocked && !xmlrpc.Truthy(force) {
			return fault(koji.ErrGeneric, "package %s blocked in group %s, tag %s", name, g.Name, tag.Name)
		}
		entry.Type, entry.BasearchOnly, entry.Requires = previous.Type, previous.BasearchOnly, previous.Requires
	}
	typ := &entry.Type
	for _, err := range []error{groupOpt(opts, "type", &typ, false), groupOpt(opts, "basearchonly", &entry.BasearchOnly, true),
		groupOpt(opts, "requires", &entry.Requires, true)} {
		if err != nil {
			return err
		}
	}
	entry.Type = *typ
	if previous != nil && !blocked && !xmlrpc.Truthy(force) && entry.Type == previous.Type &&
		eqPtr(entry.BasearchOnly, previous.BasearchOnly) && eqPtr(entry.Requires, previous.Requires) {
		return nil
	}
	return storeTx(ctx).SetGroupPackage(ctx, entry, callerID(ctx))
}

// tagAndGroup are lookup_tag and lookup_group, strict.
func tagAndGroup(ctx context.Context, taginfo, grpinfo any) (*store.TagRef, *store.NamedRow, error) {
	tag, err := tagRef(ctx, storeTx(ctx), taginfo, true)
	if err != nil {
		return nil, nil, err
	}
	group, err := lookupCompsGroup(ctx, grpinfo, true, false)
	if err != nil {
		return nil, nil, err
	}
	return tag, group, nil
}

// tagAndGroupIDs are get_tag_id and get_group_id, strict.
func tagAndGroupIDs(ctx context.Context, taginfo, grpinfo any) (tagID, groupID int64, err error) {
	tag, group, err := tagAndGroup(ctx, taginfo, grpinfo)
	if err != nil {
		return 0, 0, err
	}
	return tag.ID, group.ID, nil
}

func grpPkgRemove(ctx context.Context, taginfo, grpinfo, pkgName any) error {
	if err := assertPerm(ctx, "tag"); err != nil {
		return err
	}
	tagID, groupID, err := tagAndGroupIDs(ctx, taginfo, grpinfo)
	if err != nil {
		return err
	}
	name, err := groupPackageName(pkgName)
	if err != nil {
		return err
	}
	_, err = storeTx(ctx).RevokeGroupPackage(ctx, tagID, groupID, name, callerID(ctx))
	return err
}

func grpPkgUnblock(ctx context.Context, taginfo, grpinfo, pkgName any) error {
	if err := assertPerm(ctx, "tag"); err != nil {
		return err
	}
	tagID, groupID, err := tagAndGroupIDs(ctx, taginfo, grpinfo)
	if err != nil {
		return err
	}
	name, err := groupPackageName(pkgName)
	if err != nil {
		return err
	}
	tx := storeTx(ctx)
	if _, blocked, err := tx.GroupEntryBlocked(ctx, "group_package_listing", tagID, groupID, name); err != nil {
		return err
	} else if !blocked {
		return fault(koji.ErrGeneric, "package %s is NOT blocked in group %d, tag %d", pyFormat(pkgName), groupID, tagID)
	}
	_, err = tx.RevokeGroupPackage(ctx, tagID, groupID, name, callerID(ctx))
	return err
}

func grpReqAdd(ctx context.Context, taginfo, grpinfo, reqinfo, block, force any, opts map[string]any) error {
	if err := assertPerm(ctx, "tag"); err != nil {
		return err
	}
	tag, group, err := tagAndGroup(ctx, taginfo, grpinfo)
	if err != nil {
		return err
	}
	req, err := lookupCompsGroup(ctx, reqinfo, true, false)
	if err != nil {
		return err
	}
	g, err := groupInTag(ctx, tag, group, false, true)
	if err != nil {
		return err
	}
	blocked := xmlrpc.Truthy(block)
	entry := store.GroupReq{GroupID: g.GroupID, TagID: tag.ID, ReqID: req.ID, Blocked: blocked, Type: ptr("mandatory")}
	previous := g.req(req.ID)
	if previous != nil {
		if previous.Blocked && !xmlrpc.Truthy(force) {
			return fault(koji.ErrGeneric, "requirement on group %s blocked in group %s, tag %s", req.Name, g.Name, tag.Name)
		}
		entry.Type, entry.IsMetapkg = previous.Type, previous.IsMetapkg
	}
	metapkg := &entry.IsMetapkg
	for _, err := range []error{groupOpt(opts, "type", &entry.Type, true), groupOpt(opts, "is_metapkg", &metapkg, false)} {
		if err != nil {
			return err
		}
	}
	entry.IsMetapkg = *metapkg
	if previous != nil && !blocked && eqPtr(entry.Type, previous.Type) && entry.IsMetapkg == previous.IsMetapkg {
		return nil
	}
	return storeTx(ctx).SetGroupReq(ctx, entry, callerID(ctx))
}

// tagGroupReqIDs are get_tag_id and get_group_id (twice), strict.
func tagGroupReqIDs(ctx context.Context, taginfo, grpinfo, reqinfo any) (tagID, groupID, reqID int64, err error) {
	if tagID, groupID, err = tagAndGroupIDs(ctx, taginfo, grpinfo); err != nil {
		return 0, 0, 0, err
	}
	req, err := lookupCompsGroup(ctx, reqinfo, true, false)
	if err != nil {
		return 0, 0, 0, err
	}
	return tagID, groupID, req.ID, nil
}

func grpReqRemove(ctx context.Context, taginfo, grpinfo, reqinfo, _ any) error {
	if err := assertPerm(ctx, "tag"); err != nil {
		return err
	}
	tagID, groupID, reqID, err := tagGroupReqIDs(ctx, taginfo, grpinfo, reqinfo)
	if err != nil {
		return err
	}
	_, err = storeTx(ctx).RevokeGroupReq(ctx, tagID, groupID, reqID, callerID(ctx))
	return err
}

func grpReqUnblock(ctx context.Context, taginfo, grpinfo, reqinfo any) error {
	if err := assertPerm(ctx, "tag"); err != nil {
		return err
	}
	tagID, groupID, reqID, err := tagGroupReqIDs(ctx, taginfo, grpinfo, reqinfo)
	if err != nil {
		return err
	}
	tx := storeTx(ctx)
	if _, blocked, err := tx.GroupEntryBlocked(ctx, "group_req_listing", tagID, groupID, reqID); err != nil {
		return err
	} else if !blocked {
		return fault(koji.ErrGeneric, "group req %d is NOT blocked in group %d, tag %d", reqID, groupID, tagID)
	}
	_, err = tx.RevokeGroupReq(ctx, tagID, groupID, reqID, callerID(ctx))
	return err
}
