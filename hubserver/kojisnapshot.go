package hubserver

import (
	"context"
	"slices"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// snapshotMethods are upstream's RootExports.snapshotTag and
// snapshotTagModify, which koji clone-tag calls for a new and an
// existing destination tag.
func (k *Koji) snapshotMethods() []Method {
	common := []Arg{{Name: "src"}, {Name: "dst"}, {Name: "config", Default: true}, {Name: "pkgs", Default: true},
		{Name: "builds", Default: true}, {Name: "groups", Default: true}, {Name: "latest_only", Default: true},
		{Name: "inherit_builds", Default: true}, {Name: "event", Default: None}, {Name: "force", Default: false}}
	return []Method{
		{
			Name: "snapshotTag", PyName: "RootExports.snapshotTag", Bound: true, Args: common,
			Doc: "Copy the tag and its current (or event) contents to new one. It doesn't copy inheritance.",
			Func: func(ctx context.Context, src, dst, config, pkgs, builds, groups, latestOnly, inheritBuilds, event, force any) error {
				return k.snapshotTag(ctx, snapshotArgs{src, dst, config, pkgs, builds, groups, latestOnly, inheritBuilds, event, force, false})
			},
		},
		{
			Name: "snapshotTagModify", PyName: "RootExports.snapshotTagModify", Bound: true,
			Args: append(slices.Clone(common), Arg{Name: "remove", Default: false}),
			Doc:  "Copy the tag and its current (or event) contents to existing one.",
			Func: func(ctx context.Context, src, dst, config, pkgs, builds, groups, latestOnly, inheritBuilds, event, force, remove any) error {
				return k.snapshotTagModify(ctx, snapshotArgs{src, dst, config, pkgs, builds, groups, latestOnly, inheritBuilds, event, force, remove})
			},
		},
	}
}

// snapshotArgs are the two methods' arguments.
type snapshotArgs struct {
	src, dst, config, pkgs, builds, groups, latestOnly, inheritBuilds, event, force, remove any
}

// truth is the argument's Python truth.
func truth(v any) bool { return xmlrpc.Truthy(v) }

// snapshotStart is the two methods' common beginning: the tag permission,
// and builds only with pkgs.
func snapshotStart(ctx context.Context, a snapshotArgs) error {
	if err := assertPerm(ctx, "tag"); err != nil {
		return err
	}
	if truth(a.builds) && !truth(a.pkgs) {
		return fault(koji.ErrParameter, "builds can't be used without pkgs in snapshotTag")
	}
	return nil
}

// snapshotPackages is listPackages(tagID=, event=, inherited=True).
func snapshotPackages(ctx context.Context, tagID int64, event any) ([]map[string]any, error) {
	v, err := listPackages(ctx, tagID, nil, nil, nil, true, nil, event, nil, true, true)
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	switch rows := v.(type) {
	case []map[string]any:
		out = rows
	case []any:
		for _, r := range rows {
			out = append(out, r.(map[string]any))
		}
	}
	return out, nil
}

// snapshotBuilds are readTaggedBuilds' builds of the tag, oldest first.
func snapshotBuilds(ctx context.Context, tagID int64, event any, inherit bool, latest any) ([]taggedBuild, error) {
	asOf, err := tagEvent(event)
	if err != nil {
		return nil, err
	}
	builds, err := readTaggedBuilds(ctx, storeTx(ctx), taggedArgs{tagID: tagID, asOf: asOf, inherit: inherit, latest: latest})
	if err != nil {
		return nil, err
	}
	slices.Reverse(builds)
	return builds, nil
}

// snapshotTag is RootExports.snapshotTag: a new tag dst with src's
// configuration (or none), its inherited package list, its tagged builds
// (latest only, inherited, as at event, as asked) and its groups, each
// change at an event of its own, as upstream orders them.
func (k *Koji) snapshotTag(ctx context.Context, a snapshotArgs) error {
	if err := snapshotStart(ctx, a); err != nil {
		return err
	}
	tx := storeTx(ctx)
	if t, err := getTag(ctx, a.dst, false, nil, false); err != nil {
		return err
	} else if t != nil {
		return fault(koji.ErrGeneric, "Target tag already exists")
	}
	src, err := getTag(ctx, a.src, true, a.event, false)
	if err != nil {
		return err
	}
	if src["locked"] == true && !truth(a.force) {
		return fault(koji.ErrGeneric, "Source tag is locked, use force to copy")
	}
	var dstID int64
	if truth(a.config) {
		dstID, err = createTag(ctx, a.dst, nil, deref(src["arches"]), deref(src["perm_id"]), src["locked"],
			src["maven_support"], src["maven_include_all"], src["extra"])
	} else {
		dstID, err = createTag(ctx, a.dst, nil, nil, nil, false, false, false, nil)
	}
	if err != nil {
		return err
	}
	tx.NextEvent()
	srcID := src["id"].(int64)
	if truth(a.pkgs) {
		pkgs, err := snapshotPackages(ctx, srcID, a.event)
		if err != nil {
			return err
		}
		for _, p := range pkgs {
			if err := k.pkglistAdd(ctx, dstID, p["package_name"], p["owner_name"], p["blocked"], p["extra_arches"], true, false); err != nil {
				return err
			}
			tx.NextEvent()
		}
	}
	if truth(a.builds) {
		builds, err := snapshotBuilds(ctx, srcID, a.event, truth(a.inheritBuilds), a.latestOnly)
		if err != nil {
			return err
		}
		ids := make([]any, len(builds))
		for i, b := range builds {
			ids[i] = b.ID
		}
		if err := k.massTag(ctx, dstID, ids); err != nil {
			return err
		}
	}
	if truth(a.groups) {
		groups, err := getTagGroupsCall(ctx, srcID, a.event, true, true, true, false)
		if err != nil {
			return err
		}
		for _, g := range groups {
			if err := grplistAdd(ctx, dstID, g["name"], g["blocked"], true, nil); err != nil {
				return err
			}
			tx.NextEvent()
			for _, p := range listOfMaps(g["packagelist"]) {
				if err := grpPkgAdd(ctx, dstID, g["name"], p["package"], p["blocked"], true, nil); err != nil {
					return err
				}
				tx.NextEvent()
			}
			for _, r := range listOfMaps(g["grouplist"]) {
				if err := grpReqAdd(ctx, dstID, g["name"], r["name"], r["blocked"], true, nil); err != nil {
					return err
				}
				tx.NextEvent()
			}
		}
		tx.NextEvent()
	}
	return nil
}

// listOfMaps is a decoded list of structs.
func listOfMaps(v any) []map[string]any {
	var out []map[string]any
	switch l := v.(type) {
	case []map[string]any:
		return l
	case []any:
		for _, x := range l {
			if m, ok := x.(map[string]any); ok {
				out = append(out, m)
			}
		}
	}
	return out
}

// nvrBuilds are a package's builds by NVR in insertion order (Python's
// OrderedDict of them).
type nvrBuilds struct {
	order []string
	by    map[string]taggedBuild
}

func (o *nvrBuilds) put(b taggedBuild) {
	if o.by == nil {
		o.by = map[string]taggedBuild{}
	}
	if _, ok := o.by[b.NVR]; !ok {
		o.order = append(o.order, b.NVR)
	}
	o.by[b.NVR] = b
}

func (o *nvrBuilds) del(nvr string) {
	delete(o.by, nvr)
	o.order = slices.DeleteFunc(o.order, func(s string) bool { return s == nvr })
}

// byPackage groups builds by package name, keeping the first appearance
// order of the packages and, within one, of the builds.
func byPackage(builds []taggedBuild) ([]string, map[string]*nvrBuilds) {
	var pkgs []string
	m := map[string]*nvrBuilds{}
	for _, b := range builds {
		if m[b.PackageName] == nil {
			m[b.PackageName] = &nvrBuilds{}
			pkgs = append(pkgs, b.PackageName)
		}
		m[b.PackageName].put(b)
	}
	return pkgs, m
}

// snapshotTagModify is RootExports.snapshotTagModify: the existing tag
// dst made like src (as at event): its configuration, package list
// (packages src lacks blocked), builds in src's order (with remove, those
// src lacks untagged) and groups, each change at an event of its own.
func (k *Koji) snapshotTagModify(ctx context.Context, a snapshotArgs) error {
	if err := snapshotStart(ctx, a); err != nil {
		return err
	}
	tx := storeTx(ctx)
	src, err := getTag(ctx, a.src, true, a.event, false)
	if err != nil {
		return err
	}
	dst, err := getTag(ctx, a.dst, true, nil, false)
	if err != nil {
		return err
	}
	force := truth(a.force)
	if (src["locked"] == true || dst["locked"] == true) && !force {
		return fault(koji.ErrGeneric, "Source or destination tag is locked, use force to copy")
	}
	srcID, dstID := src["id"].(int64), dst["id"].(int64)
	if truth(a.config) {
		srcExtra, _ := src["extra"].(map[string]any)
		dstExtra, _ := dst["extra"].(map[string]any)
		removeExtra := []any{}
		for _, key := range sortedKeys(dstExtra) {
			if _, ok := srcExtra[key]; !ok {
				removeExtra = append(removeExtra, key)
			}
		}
		if err := editTag(ctx, dstID, map[string]any{"arches": deref(src["arches"]), "perm": deref(src["perm_id"]), "locked": src["locked"],
			"maven_support": src["maven_support"], "maven_include_all": src["maven_include_all"], "extra": srcExtra,
			"remove_extra": removeExtra}); err != nil {
			return err
		}
		tx.NextEvent()
		if dst, err = getTag(ctx, dstID, true, nil, false); err != nil {
			return err
		}
	}
	if truth(a.pkgs) {
		if err := k.snapshotPackageList(ctx, srcID, dstID, a.event); err != nil {
			return err
		}
	}
	if truth(a.builds) {
		if err := k.snapshotBuildList(ctx, a, srcID, dst, force); err != nil {
			return err
		}
	}
	if truth(a.groups) {
		if err := snapshotGroups(ctx, a, srcID, dstID, force); err != nil {
			return err
		}
	}
	return nil
}

// snapshotPackageList adds src's packages dst lacks and blocks dst's that
// src lacks.
func (k *Koji) snapshotPackageList(ctx context.Context, srcID, dstID int64, event any) error {
	tx := storeTx(ctx)
	srcPkgs, err := snapshotPackages(ctx, srcID, event)
	if err != nil {
		return err
	}
	dstPkgs, err := snapshotPackages(ctx, dstID, nil)
	if err != nil {
		return err
	}
	index := func(pkgs []map[string]any) map[string]map[string]any {
		m := map[string]map[string]any{}
		for _, p := range pkgs {
			m[p["package_name"].(string)] = p
		}
		return m
	}
	srcBy, dstBy := index(srcPkgs), index(dstPkgs)
	for _, p := range dstPkgs {
		if _, ok := srcBy[p["package_name"].(string)]; !ok {
			if err := k.pkglistAdd(ctx, dstID, p["package_name"], p["owner_name"], true, p["extra_arches"], true, true); err != nil {
				return err
			}
			tx.NextEvent()
		}
	}
	for _, p := range srcPkgs {
		if _, ok := dstBy[p["package_name"].(string)]; !ok {
			if err := k.pkglistAdd(ctx, dstID, p["package_name"], p["owner_name"], p["blocked"], p["extra_arches"], true, false); err != nil {
				return err
			}
			tx.NextEvent()
		}
	}
	return nil
}

// snapshotBuildList makes dst's tagged builds src's, in src's order:
// missing builds tagged, builds out of order untagged and tagged again,
// and with remove the builds src lacks untagged; inherited builds of dst
// are left alone.
func (k *Koji) snapshotBuildList(ctx context.Context, a snapshotArgs, srcID int64, dst map[string]any, force bool) error {
	tx := storeTx(ctx)
	dstID, dstName := dst["id"].(int64), dst["name"]
	srcBuilds, err := snapshotBuilds(ctx, srcID, a.event, truth(a.inheritBuilds), a.latestOnly)
	if err != nil {
		return err
	}
	dstBuilds, err := snapshotBuilds(ctx, dstID, nil, false, false)
	if err != nil {
		return err
	}
	srcPkgs, srcBy := byPackage(srcBuilds)
	dstPkgs, dstBy := byPackage(dstBuilds)
	untag := func(b taggedBuild) error {
		d, err := readTagBuild(ctx, dstID, b.ID)
		if err != nil {
			return err
		}
		if err := assertTagAccess(ctx, d.tag, force); err != nil {
			return err
		}
		if err := k.directUntagBuild(ctx, d, true, force); err != nil {
			return err
		}
		tx.NextEvent()
		return nil
	}
	if truth(a.remove) {
		for _, pkg := range dstPkgs {
			if srcBy[pkg] != nil {
				continue
			}
			for _, nvr := range slices.Clone(dstBy[pkg].order) {
				if b := dstBy[pkg].by[nvr]; b.TagName == dstName {
					if err := untag(b); err != nil {
						return err
					}
				}
			}
		}
	}
	for _, pkg := range srcPkgs {
		srcBlds := srcBy[pkg]
		dstBlds := dstBy[pkg]
		if dstBlds == nil {
			dstBlds = &nvrBuilds{}
		}
		removed := map[string]bool{}
		for _, nvr := range dstBlds.order {
			if _, ok := srcBlds.by[nvr]; !ok {
				removed[nvr] = true
			}
		}
		order := &nvrBuilds{}
		if truth(a.remove) {
			for _, nvr := range srcBlds.order {
				order.put(srcBlds.by[nvr])
			}
			for _, nvr := range slices.Clone(dstBlds.order) {
				if removed[nvr] {
					if b := dstBlds.by[nvr]; b.TagName == dstName {
						if err := untag(b); err != nil {
							return err
						}
					}
					dstBlds.del(nvr)
				}
			}
		} else {
			// the extra builds of dst go last in the tag
			for _, nvr := range dstBlds.order {
				if removed[nvr] {
					order.put(dstBlds.by[nvr])
				}
			}
			for _, nvr := range srcBlds.order {
				order.put(srcBlds.by[nvr])
			}
		}
		for _, nvr := range order.order {
			found := false
			var outOfOrder []string
			for _, dnvr := range dstBlds.order {
				if dnvr == nvr {
					found = true
					break
				}
				outOfOrder = append(outOfOrder, dnvr)
				if b := dstBlds.by[dnvr]; b.TagName == dstName {
					if err := untag(b); err != nil {
						return err
					}
				}
			}
			for _, dnvr := range outOfOrder {
				dstBlds.del(dnvr)
			}
			if found {
				dstBlds.del(nvr)
				continue
			}
			d, err := readTagBuild(ctx, dstID, order.by[nvr].ID)
			if err != nil {
				return err
			}
			if err := k.directTagBuild(ctx, d, force); err != nil {
				return err
			}
			tx.NextEvent()
		}
	}
	return nil
}

// snapshotGroups gives dst src's groups, their packages and
// requirements; with remove, dst's that src lacks go (blocked when
// inherited).
func snapshotGroups(ctx context.Context, a snapshotArgs, srcID, dstID int64, force bool) error {
	tx := storeTx(ctx)
	srcGroups, err := getTagGroupsCall(ctx, srcID, a.event, true, true, true, true)
	if err != nil {
		return err
	}
	dstGroups, err := getTagGroupsCall(ctx, dstID, nil, true, true, true, true)
	if err != nil {
		return err
	}
	dstBy := map[string]map[string]any{}
	for _, g := range dstGroups {
		dstBy[g["name"].(string)] = g
	}
	srcBy := map[string]map[string]any{}
	for _, g := range srcGroups {
		srcBy[g["name"].(string)] = g
	}
	step := func(err error) error {
		if err == nil {
			tx.NextEvent()
		}
		return err
	}
	for _, g := range srcGroups {
		if d := dstBy[g["name"].(string)]; d == nil || g["blocked"] != d["blocked"] {
			if err := step(grplistAdd(ctx, dstID, g["name"], g["blocked"], force, nil)); err != nil {
				return err
			}
		}
	}
	remove := truth(a.remove)
	if remove {
		for _, g := range dstGroups {
			if srcBy[g["name"].(string)] != nil {
				continue
			}
			if g["tag_id"] == dstID {
				err = grplistRemove(ctx, dstID, g["group_id"], force)
			} else {
				err = grplistAdd(ctx, dstID, g["name"], true, force, nil)
			}
			if err := step(err); err != nil {
				return err
			}
		}
	}
	for _, g := range srcGroups {
		name := g["name"].(string)
		d := dstBy[name]
		if d == nil {
			continue
		}
		byKey := func(v any, key string) (map[string]map[string]any, []map[string]any) {
			list := listOfMaps(v)
			m := map[string]map[string]any{}
			for _, x := range list {
				m[x[key].(string)] = x
			}
			return m, list
		}
		srcPkgs, srcPkgList := byKey(g["packagelist"], "package")
		dstPkgs, dstPkgList := byKey(d["packagelist"], "package")
		for _, p := range srcPkgList {
			if dstPkgs[p["package"].(string)] == nil {
				if err := step(grpPkgAdd(ctx, dstID, name, p["package"], false, force, nil)); err != nil {
					return err
				}
			}
		}
		srcReqs, srcReqList := byKey(g["grouplist"], "name")
		dstReqs, dstReqList := byKey(d["grouplist"], "name")
		for _, r := range srcReqList {
			if dstReqs[r["name"].(string)] == nil {
				if err := step(grpReqAdd(ctx, dstID, name, r["name"], r["blocked"], force, nil)); err != nil {
					return err
				}
			}
		}
		if !remove {
			continue
		}
		for _, p := range dstPkgList {
			if p["blocked"] == true {
				continue
			}
			pkgName := p["package"].(string)
			switch {
			case srcPkgs[pkgName] != nil && srcPkgs[pkgName]["blocked"] == true:
				err = grpPkgAdd(ctx, dstID, name, pkgName, true, force, nil)
			case srcPkgs[pkgName] == nil && p["tag_id"] == dstID:
				err = grpPkgRemove(ctx, dstID, name, pkgName)
			default:
				continue
			}
			if err := step(err); err != nil {
				return err
			}
		}
		for _, r := range dstReqList {
			if r["blocked"] == true || srcReqs[r["name"].(string)] != nil {
				continue
			}
			if r["group_id"] == dstID {
				err = grpReqRemove(ctx, dstID, name, r["name"], force)
			} else {
				err = grpReqAdd(ctx, dstID, name, r["name"], true, force, nil)
			}
			if err := step(err); err != nil {
				return err
			}
		}
	}
	return nil
}

// deref is the value a pointer member of a tag points to (nil for none).
func deref(v any) any {
	switch p := v.(type) {
	case *string:
		return ptrValue(p)
	case *int64:
		return ptrValue(p)
	}
	return v
}
