package hubserver

import (
	"context"
	"strings"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// taggedMethods are listTagged and getLatestBuilds (§E5).
func (k *Koji) taggedMethods() []Method {
	return []Method{
		{
			Name: "listTagged", PyName: "RootExports.listTagged", Bound: true,
			Args: []Arg{{Name: "tag"}, {Name: "event", Default: None}, {Name: "inherit", Default: false}, {Name: "prefix", Default: None},
				{Name: "latest", Default: false}, {Name: "package", Default: None}, {Name: "owner", Default: None},
				{Name: "type", Default: None}, {Name: "strict", Default: true}, {Name: "extra", Default: false}, {Name: "draft", Default: None}},
			Doc:  "List builds tagged with tag.",
			Func: listTagged,
		},
		{
			Name: "getLatestBuilds", PyName: "RootExports.getLatestBuilds", Bound: true,
			Args: []Arg{{Name: "tag"}, {Name: "event", Default: None}, {Name: "package", Default: None}, {Name: "type", Default: None},
				{Name: "draft", Default: None}},
			Doc:  "List latest builds for tag (inheritance enabled, wrapper of readTaggedBuilds)",
			Func: getLatestBuilds,
		},
	}
}

// taggedArgs are readTaggedBuilds' parameters.
type taggedArgs struct {
	tagID   int64
	asOf    *int64
	inherit bool
	latest  any
	pkg     any
	owner   any
	typ     any
	extra   bool
	draft   any
}

// latestLimit reads latest as readTaggedBuilds does: a number is how many
// builds per package to keep (True is 1), anything else its truth; 0
// keeps all.
func latestLimit(v any) float64 {
	switch n := v.(type) {
	case bool:
		return float64(boolInt(n))
	case int64:
		return float64(n)
	case float64:
		return n
	}
	return float64(boolInt(xmlrpc.Truthy(v)))
}

// readTaggedBuilds is upstream's readTaggedBuilds: the COMPLETE builds of
// the tag and, with inherit, of its ancestors in full-inheritance order,
// each tag's most recently tagged first; builds whose package the tag's
// inherited package list lacks or blocks are dropped; with latest the
// first (N) of each package across the walk are kept.
func readTaggedBuilds(ctx context.Context, tx *store.Tx, a taggedArgs) ([]map[string]any, error) {
	limit := latestLimit(a.latest)
	tags := []int64{a.tagID}
	if a.inherit {
		links, err := fullInheritance(ctx, tx, a.tagID, a.asOf, false)
		if err != nil {
			return nil, err
		}
		for _, l := range links {
			tags = append(tags, l["parent_id"].(int64))
		}
	}
	pf := pkgFilter{PackageFilter: store.PackageFilter{TagID: &a.tagID, AsOf: a.asOf}, inherit: true}
	q := store.TaggedQuery{AsOf: a.asOf}
	switch p := a.pkg.(type) {
	case nil:
	case int64:
		pf.PkgID = &p
	default:
		s := pyFormat(p)
		pf.PkgName = &s
		if xmlrpc.Truthy(p) {
			q.Package = &s
		}
	}
	packages, err := readPackageList(ctx, tx, pf)
	if err != nil {
		return nil, err
	}
	if xmlrpc.Truthy(a.owner) {
		s := pyFormat(a.owner)
		q.Owner = &s
	}
	if a.draft != nil {
		d := xmlrpc.Truthy(a.draft)
		q.Draft = &d
	}
	switch t := a.typ.(type) {
	case nil:
	case string:
		q.Type = t
		if t != "maven" && t != "win" && t != "image" {
			bt, err := lookupName(ctx, tx, "btype", t, false, false)
			if err != nil {
				return nil, err
			}
			if bt == nil {
				return nil, fault(koji.ErrGeneric, "unsupported build type: %s", t)
			}
			q.BTypeID = bt.ID
		}
	default:
		return nil, fault(koji.ErrGeneric, "Invalid name or id value: %s", pyRepr(a.typ))
	}
	out := []map[string]any{}
	seen := map[int64]float64{}
	for _, tagID := range tags {
		q.TagID = tagID
		rows, err := tx.TaggedBuilds(ctx, q)
		if err != nil {
			return nil, err
		}
		for i := range rows {
			r := &rows[i]
			if p := packages.get(r.PkgID); p == nil || p["blocked"] == true {
				continue
			}
			if limit != 0 {
				if seen[r.PkgID] >= limit {
					continue
				}
				seen[r.PkgID]++
			}
			m, err := taggedRow(r, a.extra)
			if err != nil {
				return nil, err
			}
			out = append(out, m)
		}
	}
	return out, nil
}

// taggedRow is a build as readTaggedBuilds selects it.
func taggedRow(r *store.TaggedBuild, extra bool) (map[string]any, error) {
	b := &r.BuildRow
	m := map[string]any{
		"tag_id": r.TagID, "tag_name": r.TagName, "id": b.ID, "build_id": b.ID, "version": b.Version, "release": b.Release,
		"epoch": ptrValue(b.Epoch), "state": b.State, "task_id": ptrValue(b.TaskID), "draft": b.Draft,
		"owner_id": b.Owner, "owner_name": b.OwnerName, "promoter_id": ptrValue(b.Promoter), "promoter_name": ptrValue(b.PromoterName),
		"creation_event_id": b.CreateEvent, "creation_time": pyTime(b.CreationTime),
		"volume_id": b.VolumeID, "volume_name": b.VolumeName, "package_id": b.PkgID, "package_name": b.PackageName,
		"name": b.PackageName, "nvr": b.NVR(), "create_event": r.TagEvent,
	}
	times := map[string]any{}
	timeFields(times, "completion", b.CompletionTime)
	timeFields(times, "start", b.StartTime)
	timeFields(times, "promotion", b.PromotionTime)
	m["completion_time"], m["start_time"], m["promotion_time"] = times["completion_time"], times["start_time"], times["promotion_time"]
	if r.MavenGroup != nil || r.MavenArtID != nil {
		m["maven_group_id"], m["maven_artifact_id"], m["maven_version"] = ptrValue(r.MavenGroup), ptrValue(r.MavenArtID), ptrValue(r.MavenVer)
	}
	if r.WinPlatform != nil {
		m["platform"] = *r.WinPlatform
	}
	if extra {
		full, err := buildFields(b)
		if err != nil {
			return nil, err
		}
		m["extra"] = full["extra"]
	}
	return m, nil
}

func listTagged(ctx context.Context, tag, event, inherit, prefix, latest, pkg, owner, typ, strict, extra, draft any) (any, error) {
	t, err := getTag(ctx, tag, xmlrpc.Truthy(strict), event, false)
	if err != nil || t == nil {
		if err != nil {
			return nil, err
		}
		return []any{}, nil
	}
	asOf, err := tagEvent(event)
	if err != nil {
		return nil, err
	}
	tx := storeTx(ctx)
	out, err := readTaggedBuilds(ctx, tx, taggedArgs{tagID: t["id"].(int64), asOf: asOf, inherit: xmlrpc.Truthy(inherit),
		latest: latest, pkg: pkg, owner: owner, typ: typ, extra: xmlrpc.Truthy(extra), draft: draft})
	if err != nil {
		return nil, err
	}
	if xmlrpc.Truthy(prefix) {
		p, ok := prefix.(string)
		if !ok {
			return nil, pyException("AttributeError", "'%s' object has no attribute 'lower'", pyTypeName(prefix))
		}
		p = strings.ToLower(p)
		kept := out[:0]
		for _, b := range out {
			if strings.HasPrefix(strings.ToLower(b["package_name"].(string)), p) {
				kept = append(kept, b)
			}
		}
		out = kept
	}
	return out, nil
}

func getLatestBuilds(ctx context.Context, tag, event, pkg, typ, draft any) (any, error) {
	tx := storeTx(ctx)
	id, err := tagIDArg(ctx, tx, tag)
	if err != nil {
		return nil, err
	}
	asOf, err := tagEvent(event)
	if err != nil {
		return nil, err
	}
	return readTaggedBuilds(ctx, tx, taggedArgs{tagID: id, asOf: asOf, inherit: true, latest: true, pkg: pkg, typ: typ, draft: draft})
}

// tagIDArg is a tag parameter as getFullInheritance and getLatestBuilds
// read it: an int as given, else get_tag_id(tag, strict=True).
func tagIDArg(ctx context.Context, tx *store.Tx, tag any) (int64, error) {
	if id, ok := tag.(int64); ok {
		return id, nil
	}
	r, err := tagRef(ctx, tx, tag, true)
	if err != nil {
		return 0, err
	}
	return r.ID, nil
}

// listTagsFilter is list_tags' build and package filters: keep says
// whether a tag passes and which members it adds (owner_id, owner_name,
// blocked and extra_arches for a package); nil keep when neither is set.
func listTagsFilter(ctx context.Context, build, pkg any) (keep func(tagID int64) (map[string]any, bool), fields []queryField, err error) {
	if build != nil && pkg != nil {
		return nil, nil, fault(koji.ErrGeneric, "only one of build and package may be specified")
	}
	tx := storeTx(ctx)
	switch {
	case build != nil:
		b, err := lookupBuild(ctx, tx, build, false)
		if err != nil {
			return nil, nil, err
		}
		if b == nil {
			return nil, nil, fault(koji.ErrGeneric, "No such build: %s", pyFormat(build))
		}
		ids, err := tx.BuildTagIDs(ctx, b.ID)
		if err != nil {
			return nil, nil, err
		}
		in := map[int64]bool{}
		for _, id := range ids {
			in[id] = true
		}
		return func(id int64) (map[string]any, bool) { return nil, in[id] }, nil, nil
	case pkg != nil:
		p, err := lookupName(ctx, tx, "package", pkg, false, false)
		if err != nil {
			return nil, nil, err
		}
		if p == nil {
			return nil, nil, fault(koji.ErrGeneric, "No such package: %s", pyFormat(pkg))
		}
		rows, err := tx.PackageEntries(ctx, store.PackageFilter{PkgID: &p.ID, WithOwners: true})
		if err != nil {
			return nil, nil, err
		}
		by := map[int64]map[string]any{}
		for i := range rows {
			e := &rows[i]
			by[e.TagID] = map[string]any{"owner_id": ptrValue(e.OwnerID), "owner_name": ptrValue(e.OwnerName),
				"blocked": e.Blocked, "extra_arches": ptrValue(e.ExtraArches)}
		}
		fields := []queryField{{Alias: "owner_id", Column: "users.id"}, {Alias: "owner_name", Column: "users.name"},
			{Alias: "blocked", Column: "tag_packages.blocked"}, {Alias: "extra_arches", Column: "tag_packages.extra_arches"}}
		return func(id int64) (map[string]any, bool) { m, ok := by[id]; return m, ok }, fields, nil
	}
	return nil, nil, nil
}
