package hubserver

import (
	"context"
	"strings"
	"time"

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

// A taggedBuild is a build as readTaggedBuilds selects it. Its members
// are in the order a map's are encoded, sorted by name, so that the
// answer has the bytes it had when rows were maps; extra, the maven
// members and platform are there only when the query selects them.
type taggedBuild struct {
	BuildID         int64   `xmlrpc:"build_id"`
	CompletionTime  *string `xmlrpc:"completion_time"`
	CreateEvent     int64   `xmlrpc:"create_event"`
	CreationEventID int64   `xmlrpc:"creation_event_id"`
	CreationTime    string  `xmlrpc:"creation_time"`
	Draft           bool    `xmlrpc:"draft"`
	Epoch           *int64  `xmlrpc:"epoch"`
	Extra           *any    `xmlrpc:"extra,omitempty"` // nil: not selected; else the decoded JSON, possibly nil
	ID              int64   `xmlrpc:"id"`
	MavenArtifactID *string `xmlrpc:"maven_artifact_id,omitempty"`
	MavenGroupID    *string `xmlrpc:"maven_group_id,omitempty"`
	MavenVersion    *string `xmlrpc:"maven_version,omitempty"`
	Name            string  `xmlrpc:"name"`
	NVR             string  `xmlrpc:"nvr"`
	OwnerID         int64   `xmlrpc:"owner_id"`
	OwnerName       string  `xmlrpc:"owner_name"`
	PackageID       int64   `xmlrpc:"package_id"`
	PackageName     string  `xmlrpc:"package_name"`
	Platform        *string `xmlrpc:"platform,omitempty"`
	PromoterID      *int64  `xmlrpc:"promoter_id"`
	PromoterName    *string `xmlrpc:"promoter_name"`
	PromotionTime   *string `xmlrpc:"promotion_time"`
	Release         string  `xmlrpc:"release"`
	StartTime       *string `xmlrpc:"start_time"`
	State           int     `xmlrpc:"state"`
	TagID           int64   `xmlrpc:"tag_id"`
	TagName         string  `xmlrpc:"tag_name"`
	TaskID          *int64  `xmlrpc:"task_id"`
	Version         string  `xmlrpc:"version"`
	VolumeID        int64   `xmlrpc:"volume_id"`
	VolumeName      string  `xmlrpc:"volume_name"`
}

// readTaggedBuilds is upstream's readTaggedBuilds: the COMPLETE builds of
// the tag and, with inherit, of its ancestors in full-inheritance order,
// each tag's most recently tagged first; builds whose package the tag's
// inherited package list lacks or blocks are dropped; with latest the
// first (N) of each package across the walk are kept.
func readTaggedBuilds(ctx context.Context, tx *store.Tx, a taggedArgs) ([]taggedBuild, error) {
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
	q := store.TaggedQuery{AsOf: a.asOf, Extra: a.extra}
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
	out := []taggedBuild{}
	seen := map[int64]float64{}
	for _, tagID := range tags {
		q.TagID = tagID
		err := tx.EachTaggedBuild(ctx, q, func(r *store.TaggedBuild) error {
			if p := packages.get(r.PkgID); p == nil || p["blocked"] == true {
				return nil
			}
			if limit != 0 {
				if seen[r.PkgID] >= limit {
					return nil
				}
				seen[r.PkgID]++
			}
			out = append(out, taggedBuild{})
			return out[len(out)-1].set(r, a.extra)
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// set fills t from a row; with extra, its Extra is the decoded JSON.
func (t *taggedBuild) set(r *store.TaggedBuild, extra bool) error {
	b := &r.BuildRow
	*t = taggedBuild{
		BuildID: b.ID, CompletionTime: pyTimeOrNil(b.CompletionTime), CreateEvent: r.TagEvent,
		CreationEventID: b.CreateEvent, CreationTime: pyTime(b.CreationTime), Draft: b.Draft, Epoch: b.Epoch,
		ID: b.ID, MavenArtifactID: r.MavenArtID, MavenGroupID: r.MavenGroup, MavenVersion: r.MavenVer,
		Name: b.PackageName, NVR: b.NVR(), OwnerID: b.Owner, OwnerName: b.OwnerName,
		PackageID: b.PkgID, PackageName: b.PackageName, Platform: r.WinPlatform,
		PromoterID: b.Promoter, PromoterName: b.PromoterName, PromotionTime: pyTimeOrNil(b.PromotionTime),
		Release: b.Release, StartTime: pyTimeOrNil(b.StartTime), State: b.State,
		TagID: r.TagID, TagName: r.TagName, TaskID: b.TaskID, Version: b.Version,
		VolumeID: b.VolumeID, VolumeName: b.VolumeName,
	}
	if extra {
		full, err := buildFields(b)
		if err != nil {
			return err
		}
		v := full["extra"]
		t.Extra = &v
	}
	return nil
}

// pyTimeOrNil is pyTime of *t, nil for no time.
func pyTimeOrNil(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := pyTime(*t)
	return &s
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
			if strings.HasPrefix(strings.ToLower(b.PackageName), p) {
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
