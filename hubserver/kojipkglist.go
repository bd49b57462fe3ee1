package hubserver

import (
	"context"
	"regexp"
	"slices"
	"strings"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// pkgListMethods are upstream's package list methods (§E4).
func (k *Koji) pkgListMethods() []Method {
	tp := []Arg{{Name: "taginfo"}, {Name: "pkginfo"}}
	withForce := append(slices.Clone(tp), Arg{Name: "force", Default: false})
	return []Method{
		{
			Name: "packageListAdd", PyName: "pkglist_add",
			Args: append(slices.Clone(tp), Arg{Name: "owner", Default: None}, Arg{Name: "block", Default: None},
				Arg{Name: "extra_arches", Default: None}, Arg{Name: "force", Default: false}, Arg{Name: "update", Default: false}),
			Doc: "Add to (or update) package list for tag",
			Func: func(ctx context.Context, taginfo, pkginfo, owner, block, extraArches, force, update any) error {
				return k.pkglistAdd(ctx, taginfo, pkginfo, owner, block, extraArches, force, update)
			},
		},
		{
			Name: "packageListRemove", PyName: "pkglist_remove", Args: withForce,
			Doc:  "Remove a package from a tag's package list",
			Func: k.pkglistRemove,
		},
		{
			Name: "packageListBlock", PyName: "pkglist_block", Args: withForce,
			Doc:  "Block the package in tag",
			Func: k.pkglistBlock,
		},
		{
			Name: "packageListUnblock", PyName: "pkglist_unblock", Args: withForce,
			Doc:  "Unblock the package in tag",
			Func: k.pkglistUnblock,
		},
		{
			Name: "packageListSetOwner", PyName: "pkglist_setowner",
			Args: append(slices.Clone(tp), Arg{Name: "owner"}, Arg{Name: "force", Default: false}),
			Doc:  "Set the owner for package in tag",
			Func: func(ctx context.Context, taginfo, pkginfo, owner, force any) error {
				return k.pkglistAdd(ctx, taginfo, pkginfo, owner, nil, nil, force, true)
			},
		},
		{
			Name: "packageListSetArches", PyName: "pkglist_setarches",
			Args: append(slices.Clone(tp), Arg{Name: "arches"}, Arg{Name: "force", Default: false}),
			Doc:  "Set extra_arches for package in tag",
			Func: func(ctx context.Context, taginfo, pkginfo, arches, force any) error {
				return k.pkglistAdd(ctx, taginfo, pkginfo, nil, nil, arches, force, true)
			},
		},
		{
			Name: "listPackages", PyName: "RootExports.listPackages", Bound: true,
			Args: []Arg{{Name: "tagID", Default: None}, {Name: "userID", Default: None}, {Name: "pkgID", Default: None},
				{Name: "prefix", Default: None}, {Name: "inherited", Default: false}, {Name: "with_dups", Default: false},
				{Name: "event", Default: None}, {Name: "queryOpts", Default: None}, {Name: "with_owners", Default: true},
				{Name: "with_blocked", Default: true}},
			Doc:  "List if tagID and/or userID is specified, limit the list to packages belonging to the given user or with the given tag.",
			Func: listPackages,
		},
		{
			Name: "checkTagPackage", PyName: "RootExports.checkTagPackage", Bound: true,
			Args: []Arg{{Name: "tag"}, {Name: "pkg"}},
			Doc:  "Check that pkg is in the list for tag. Returns true/false",
			Func: checkTagPackage,
		},
		{
			Name: "getPackageConfig", PyName: "RootExports.getPackageConfig", Bound: true,
			Args: []Arg{{Name: "tag"}, {Name: "pkg"}, {Name: "event", Default: None}},
			Doc:  "Get config for package in tag",
			Func: getPackageConfig,
		},
	}
}

// inheritedPackageEntry is the entry for pkg in tag's inherited package
// list (blocked or not) as of asOf, nil when the tag, the package or the
// entry does not exist.
func inheritedPackageEntry(ctx context.Context, tag, pkg any, asOf *int64) (map[string]any, error) {
	tx := storeTx(ctx)
	t, err := tagRef(ctx, tx, tag, false)
	if err != nil || t == nil {
		return nil, err
	}
	pkgID, err := lookupPackageID(ctx, tx, pkg)
	if err != nil || pkgID == 0 {
		return nil, err
	}
	list, err := readPackageList(ctx, tx, pkgFilter{PackageFilter: store.PackageFilter{TagID: &t.ID, PkgID: &pkgID, AsOf: asOf,
		WithOwners: true}, inherit: true})
	if err != nil {
		return nil, err
	}
	return list.get(pkgID), nil
}

// checkTagPackage is upstream's checkTagPackage: whether the package is
// listed, and not blocked, in the tag or the tags it inherits from.
func checkTagPackage(ctx context.Context, tag, pkg any) (bool, error) {
	e, err := inheritedPackageEntry(ctx, tag, pkg, nil)
	return e != nil && e["blocked"] != true, err
}

// getPackageConfig is upstream's getPackageConfig: the package's entry in
// the tag's inherited package list, blocked or not, or None.
func getPackageConfig(ctx context.Context, tag, pkg, event any) (map[string]any, error) {
	asOf, err := tagEvent(event)
	if err != nil {
		return nil, err
	}
	return inheritedPackageEntry(ctx, tag, pkg, asOf)
}

// pkgFilter are readPackageList's parameters.
type pkgFilter struct {
	store.PackageFilter
	inherit, withDups bool
}

// pkgList is readPackageList's answer: Python's dict of package id to
// entry (or, with with_dups, to entries), in insertion order.
type pkgList struct {
	order   []int64
	entries map[int64][]map[string]any
}

func (l *pkgList) add(e map[string]any, dups bool) {
	id := e["package_id"].(int64)
	if _, ok := l.entries[id]; !ok {
		l.order = append(l.order, id)
	} else if !dups {
		l.entries[id] = l.entries[id][:0]
	}
	l.entries[id] = append(l.entries[id], e)
}

// get is the entry for a package, nil when there is none.
func (l *pkgList) get(id int64) map[string]any {
	if es := l.entries[id]; len(es) > 0 {
		return es[0]
	}
	return nil
}

func pkgEntry(e *store.PackageEntry, owners bool) map[string]any {
	m := map[string]any{"package_id": e.PackageID, "package_name": e.PackageName, "tag_id": e.TagID,
		"tag_name": e.TagName, "extra_arches": ptrValue(e.ExtraArches), "blocked": e.Blocked}
	if owners {
		m["owner_id"], m["owner_name"] = ptrValue(e.OwnerID), ptrValue(e.OwnerName)
	}
	return m
}

// readPackageList is upstream's readPackageList: the tag's own entries,
// then with inherit its ancestors' in full-inheritance order, for packages
// not seen yet (with with_dups, all of them) whose names match every
// pkg_filter on the way.
func readPackageList(ctx context.Context, tx *store.Tx, f pkgFilter) (*pkgList, error) {
	if f.TagID == nil && f.UserID == nil && f.PkgID == nil && f.PkgName == nil {
		return nil, fault(koji.ErrGeneric, "tag,user, and/or pkg must be specified")
	}
	if f.UserID != nil && !f.WithOwners {
		return nil, fault(koji.ErrGeneric, "userID and with_owners=False can't be used together")
	}
	out := &pkgList{entries: map[int64][]map[string]any{}}
	rows, err := tx.PackageEntries(ctx, f.PackageFilter)
	if err != nil {
		return nil, err
	}
	for i := range rows {
		out.add(pkgEntry(&rows[i], f.WithOwners), f.withDups)
	}
	if f.TagID == nil || !f.inherit {
		return out, nil
	}
	links, err := fullInheritance(ctx, tx, *f.TagID, f.AsOf, false)
	if err != nil {
		return nil, err
	}
	cache := map[string]*regexp.Regexp{}
	for _, link := range links {
		var progs []*regexp.Regexp
		for _, p := range link["filter"].([]any) {
			pat, _ := p.(string)
			prog, ok := cache[pat]
			if !ok {
				if prog, err = pyRegexp(pat); err != nil {
					return nil, err
				}
				cache[pat] = prog
			}
			progs = append(progs, prog)
		}
		parent := link["parent_id"].(int64)
		q := f.PackageFilter
		q.TagID = &parent
		rows, err := tx.PackageEntries(ctx, q)
		if err != nil {
			return nil, err
		}
		for i := range rows {
			e := &rows[i]
			if _, seen := out.entries[e.PackageID]; seen && !f.withDups {
				continue
			}
			if !slices.ContainsFunc(progs, func(p *regexp.Regexp) bool { return !p.MatchString(e.PackageName) }) {
				out.add(pkgEntry(e, f.WithOwners), f.withDups)
			}
		}
	}
	return out, nil
}

// pyRegexp compiles a pkg_filter for Python's re.match: anchored at the
// start only.
func pyRegexp(pat string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(`^(?:` + pat + `)`)
	if err != nil {
		return nil, pyException("re.error", "%s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	return re, nil
}

// assertLogin is upstream's Session.assertLogin.
func assertLogin(ctx context.Context) error {
	if callerID(ctx) == 0 {
		return fault(koji.ErrActionNotAllowed, "you must be logged in for this operation")
	}
	return nil
}

// assertPackageListPolicy is the check of a package list change by
// _direct_pkglist_add, _direct_pkglist_remove and pkglist_unblock: a
// logged-in caller, then assert_policy('package_list', {tag, action,
// package, force}, force=force) on the configured policy (upstream's
// default: admin or tag, else denied).
func (k *Koji) assertPackageListPolicy(ctx context.Context, tagID int64, action string, pkg, force any) error {
	if err := assertLogin(ctx); err != nil {
		return err
	}
	markPermsRead(ctx) // as the check of the default policy read them before
	data := map[string]any{"tag": tagID, "action": action, "package": pkg, "force": force}
	return k.assertPolicy(ctx, "package_list", data, xmlrpc.Truthy(force))
}

// callerData is get_user(context.session.user_id) for callbacks.
func callerData(ctx context.Context, tx *store.Tx) (map[string]any, error) {
	u, err := strictUser(ctx, tx, callerID(ctx))
	if err != nil {
		return nil, err
	}
	return userData(ctx, tx, u, true)
}

// pkgInList is readPackageList(tag, pkgID, inherit=True) for one package.
func pkgInList(ctx context.Context, tx *store.Tx, tagID, pkgID int64, owners bool) (map[string]any, error) {
	l, err := readPackageList(ctx, tx, pkgFilter{PackageFilter: store.PackageFilter{TagID: &tagID, PkgID: &pkgID, WithOwners: owners}, inherit: true})
	if err != nil {
		return nil, err
	}
	return l.get(pkgID), nil
}

func (k *Koji) pkglistAdd(ctx context.Context, taginfo, pkginfo, owner, block, extraArches, force, update any) error {
	tx := storeTx(ctx)
	tag, err := getTag(ctx, taginfo, true, nil, false)
	if err != nil {
		return err
	}
	tagID := tag["id"].(int64)
	pkg, err := lookupName(ctx, tx, "package", pkginfo, false, false)
	if err != nil {
		return err
	}
	if _, isName := pkginfo.(string); pkg == nil && !isName {
		return fault(koji.ErrGeneric, "No such package: %s", pyFormat(pkginfo))
	}
	var ownerID any
	if owner != nil {
		u, err := strictUser(ctx, tx, owner)
		if err != nil {
			return err
		}
		ownerID = u.ID
	}
	action := "add"
	if xmlrpc.Truthy(update) {
		action = "update"
	} else if xmlrpc.Truthy(block) {
		action = "block"
	}
	if err := k.assertPackageListPolicy(ctx, tagID, action, pkginfo, force); err != nil {
		return err
	}
	if pkg == nil {
		if pkg, err = lookupName(ctx, tx, "package", pkginfo, false, true); err != nil {
			return err
		}
	}
	var arches any
	if extraArches != nil {
		a, err := tagArches(extraArches)
		if err != nil {
			return err
		}
		arches = *a
	}
	user, err := callerData(ctx, tx)
	if err != nil {
		return err
	}
	previous, err := pkgInList(ctx, tx, tagID, pkg.ID, true)
	if err != nil {
		return err
	}
	changed, changedOwner := false, false
	var blocked bool
	if previous == nil {
		blocked = xmlrpc.Truthy(block)
		if xmlrpc.Truthy(update) && !xmlrpc.Truthy(force) {
			return fault(koji.ErrGeneric, "cannot update: tag %s has no data for package %s", tag["name"], pkg.Name)
		}
	} else {
		if ownerID == nil {
			ownerID = previous["owner_id"]
		}
		changedOwner = previous["owner_id"] != ownerID
		if block == nil {
			blocked = previous["blocked"].(bool)
		} else {
			blocked = xmlrpc.Truthy(block)
		}
		if extraArches == nil {
			arches = previous["extra_arches"]
		}
		changed = previous["blocked"] != blocked || previous["extra_arches"] != arches
		if !changed && !changedOwner && !xmlrpc.Truthy(force) {
			return nil
		}
		if previous["blocked"] == true && !blocked && !xmlrpc.Truthy(force) {
			return fault(koji.ErrGeneric, "package %s is blocked in tag %s", pkg.Name, tag["name"])
		}
	}
	if ownerID == nil {
		if !xmlrpc.Truthy(force) {
			return fault(koji.ErrGeneric, "owner not specified")
		}
		ownerID = callerID(ctx)
	}
	kw := func() map[string]any {
		return map[string]any{"action": action, "tag": tag, "package": namedRow(pkg), "owner": ownerID, "block": blocked,
			"extra_arches": arches, "force": force, "update": update, "user": user}
	}
	if err := k.runCallbacks(ctx, "prePackageListChange", kw()); err != nil {
		return err
	}
	var archPtr *string
	if s, ok := arches.(string); ok {
		archPtr = &s
	}
	switch {
	case previous == nil || changed:
		err = tx.SetPackageEntry(ctx, tagID, pkg.ID, ownerID.(int64), blocked, archPtr, callerID(ctx))
	case changedOwner:
		err = tx.SetPackageOwner(ctx, tagID, pkg.ID, ownerID.(int64), callerID(ctx))
	}
	if err != nil {
		return err
	}
	return k.runCallbacks(ctx, "postPackageListChange", kw())
}

// tagAndPackage are get_tag(taginfo, strict=True) and
// lookup_package(pkginfo, strict=True).
func tagAndPackage(ctx context.Context, taginfo, pkginfo any) (map[string]any, *store.NamedRow, error) {
	tag, err := getTag(ctx, taginfo, true, nil, false)
	if err != nil {
		return nil, nil, err
	}
	pkg, err := lookupName(ctx, storeTx(ctx), "package", pkginfo, true, false)
	return tag, pkg, err
}

// pkgListChange runs a remove or unblock change between its
// PackageListChange callbacks.
func (k *Koji) pkgListChange(ctx context.Context, action string, tag map[string]any, pkg *store.NamedRow, change func() error) error {
	user, err := callerData(ctx, storeTx(ctx))
	if err != nil {
		return err
	}
	kw := func() map[string]any {
		return map[string]any{"action": action, "tag": tag, "package": namedRow(pkg), "user": user}
	}
	if err := k.runCallbacks(ctx, "prePackageListChange", kw()); err != nil {
		return err
	}
	if err := change(); err != nil {
		return err
	}
	return k.runCallbacks(ctx, "postPackageListChange", kw())
}

func (k *Koji) pkglistRemove(ctx context.Context, taginfo, pkginfo, force any) error {
	tag, pkg, err := tagAndPackage(ctx, taginfo, pkginfo)
	if err != nil {
		return err
	}
	if err := k.assertPackageListPolicy(ctx, tag["id"].(int64), "remove", pkg.ID, force); err != nil {
		return err
	}
	return k.pkgListChange(ctx, "remove", tag, pkg, func() error {
		return storeTx(ctx).RemovePackageEntry(ctx, tag["id"].(int64), pkg.ID, callerID(ctx))
	})
}

func (k *Koji) pkglistBlock(ctx context.Context, taginfo, pkginfo, force any) error {
	tag, pkg, err := tagAndPackage(ctx, taginfo, pkginfo)
	if err != nil {
		return err
	}
	e, err := pkgInList(ctx, storeTx(ctx), tag["id"].(int64), pkg.ID, false)
	if err != nil {
		return err
	}
	if e == nil {
		return fault(koji.ErrGeneric, "Package %s is not in tag listing for %s", pkg.Name, tag["name"])
	}
	return k.pkglistAdd(ctx, taginfo, pkginfo, nil, true, nil, force, false)
}

func (k *Koji) pkglistUnblock(ctx context.Context, taginfo, pkginfo, force any) error {
	tag, pkg, err := tagAndPackage(ctx, taginfo, pkginfo)
	if err != nil {
		return err
	}
	if err := k.assertPackageListPolicy(ctx, tag["id"].(int64), "unblock", pkg.ID, force); err != nil {
		return err
	}
	tx, tagID := storeTx(ctx), tag["id"].(int64)
	previous, err := pkgInList(ctx, tx, tagID, pkg.ID, true)
	if err != nil {
		return err
	}
	if previous == nil {
		return fault(koji.ErrGeneric, "no data (blocked or otherwise) for package %s in tag %s", pkg.Name, tag["name"])
	}
	if previous["blocked"] != true {
		return fault(koji.ErrGeneric, "package %s NOT blocked in tag %s", pkg.Name, tag["name"])
	}
	owner, _ := previous["owner_id"].(int64)
	arches, _ := previous["extra_arches"].(string)
	var archPtr *string
	if previous["extra_arches"] != nil {
		archPtr = &arches
	}
	user := callerID(ctx)
	return k.pkgListChange(ctx, "unblock", tag, pkg, func() error {
		if previous["tag_id"] != tagID {
			return tx.SetPackageEntry(ctx, tagID, pkg.ID, owner, false, archPtr, user)
		}
		if err := tx.RemovePackageEntry(ctx, tagID, pkg.ID, user); err != nil {
			return err
		}
		// The next entry back may be missing or blocked too.
		next, err := pkgInList(ctx, tx, tagID, pkg.ID, true)
		if err != nil {
			return err
		}
		if next == nil || next["blocked"] == true {
			return tx.SetPackageEntry(ctx, tagID, pkg.ID, owner, false, archPtr, user)
		}
		return nil
	})
}

// listPackagesFields are listPackages' members, for queryOpts.
var listPackagesFields = []queryField{
	{Alias: "blocked"}, {Alias: "extra_arches"}, {Alias: "owner_id"}, {Alias: "owner_name"},
	{Alias: "package_id"}, {Alias: "package_name"}, {Alias: "tag_id"}, {Alias: "tag_name"},
}

// listPackages is RootExports.listPackages: every package without a
// filter, else readPackageList's entries (all of them with with_dups);
// prefix filters names case-insensitively; queryOpts apply in memory.
func listPackages(ctx context.Context, tagID, userID, pkgID, prefix, inherited, withDups, event, queryOpts, withOwners, withBlocked any) (any, error) {
	qo, err := readQueryOpts(queryOpts)
	if err != nil {
		return nil, err
	}
	tx := storeTx(ctx)
	var results []map[string]any
	if tagID == nil && userID == nil && pkgID == nil {
		pkgs, err := tx.ListPackageNames(ctx)
		if err != nil {
			return nil, err
		}
		for _, p := range pkgs {
			results = append(results, map[string]any{"package_id": p.ID, "package_name": p.Name})
		}
	} else {
		f := pkgFilter{PackageFilter: store.PackageFilter{WithOwners: xmlrpc.Truthy(withOwners), NoBlocked: !xmlrpc.Truthy(withBlocked)},
			inherit: xmlrpc.Truthy(inherited), withDups: xmlrpc.Truthy(withDups)}
		if tagID != nil {
			r, err := tagRef(ctx, tx, tagID, true)
			if err != nil {
				return nil, err
			}
			f.TagID = &r.ID
		}
		if userID != nil {
			u, err := strictUser(ctx, tx, userID)
			if err != nil {
				return nil, err
			}
			f.UserID = &u.ID
		}
		if pkgID != nil {
			p, err := lookupName(ctx, tx, "package", pkgID, true, false)
			if err != nil {
				return nil, err
			}
			f.PkgID = &p.ID
		}
		if f.AsOf, err = tagEvent(event); err != nil {
			return nil, err
		}
		l, err := readPackageList(ctx, tx, f)
		if err != nil {
			return nil, err
		}
		for _, id := range l.order {
			results = append(results, l.entries[id]...)
		}
	}
	if prefix != nil && xmlrpc.Truthy(prefix) {
		p, ok := prefix.(string)
		if !ok {
			return nil, pyException("AttributeError", "'%s' object has no attribute 'lower'", pyTypeName(prefix))
		}
		p = strings.ToLower(p)
		results = slices.DeleteFunc(results, func(r map[string]any) bool {
			return !strings.HasPrefix(strings.ToLower(r["package_name"].(string)), p)
		})
	}
	if results == nil {
		results = []map[string]any{}
	}
	return queryRows(results, qo, listPackagesFields)
}
