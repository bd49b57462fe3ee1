package hubserver

import (
	"context"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// taggedRPMMethods are listTaggedRPMS and getLatestRPMS, upstream's
// wrappers of readTaggedRPMS.
func (k *Koji) taggedRPMMethods() []Method {
	return []Method{
		{
			Name: "listTaggedRPMS", PyName: "RootExports.listTaggedRPMS", Bound: true,
			Args: []Arg{{Name: "tag"}, {Name: "event", Default: None}, {Name: "inherit", Default: false},
				{Name: "latest", Default: false}, {Name: "package", Default: None}, {Name: "arch", Default: None},
				{Name: "rpmsigs", Default: false}, {Name: "owner", Default: None}, {Name: "type", Default: None},
				{Name: "strict", Default: true}, {Name: "extra", Default: true}, {Name: "draft", Default: None}},
			Doc:  "List rpms and builds within tag.",
			Func: listTaggedRPMS,
		},
		{
			Name: "getLatestRPMS", PyName: "RootExports.getLatestRPMS", Bound: true,
			Args: []Arg{{Name: "tag"}, {Name: "package", Default: None}, {Name: "arch", Default: None},
				{Name: "event", Default: None}, {Name: "rpmsigs", Default: false}, {Name: "type", Default: None},
				{Name: "draft", Default: None}},
			Doc:  "List latest RPMS for tag (inheritance enabled, wrapper of readTaggedBuilds)",
			Func: getLatestRPMS,
		},
	}
}

// A taggedRPM is an RPM as readTaggedRPMS selects it, its members in the
// order a map's are encoded (sorted by name); extra and sigkey are there
// only when the query selects them.
type taggedRPM struct {
	Arch         string   `xmlrpc:"arch"`
	BuildID      int64    `xmlrpc:"build_id"`
	BuildrootID  *int64   `xmlrpc:"buildroot_id"`
	BuildTime    int64    `xmlrpc:"buildtime"`
	Draft        bool     `xmlrpc:"draft"`
	Epoch        *int64   `xmlrpc:"epoch"`
	Extra        *any     `xmlrpc:"extra,omitempty"` // nil: not selected; else the decoded JSON, possibly nil
	ID           int64    `xmlrpc:"id"`
	MetadataOnly bool     `xmlrpc:"metadata_only"`
	Name         string   `xmlrpc:"name"`
	PayloadHash  string   `xmlrpc:"payloadhash"`
	Release      string   `xmlrpc:"release"`
	SigKey       **string `xmlrpc:"sigkey,omitempty"` // nil: not selected; else the key, nil for an unsigned RPM
	Size         int64    `xmlrpc:"size"`
	Version      string   `xmlrpc:"version"`
}

// taggedRPMArgs are readTaggedRPMS' parameters besides readTaggedBuilds'.
type taggedRPMArgs struct {
	arch    any
	rpmsigs bool
	extra   bool
}

// readTaggedRPMS is upstream's readTaggedRPMS: [rpms, builds], where
// builds is readTaggedBuilds' answer (without extra) and rpms are their
// RPMs, read in one query, those of each tag of the walk (each tag once)
// together, each build's under the last tag it was listed from.
func readTaggedRPMS(ctx context.Context, tx *store.Tx, a taggedArgs, r taggedRPMArgs) ([]any, error) {
	tags, err := inheritedTags(ctx, a.tagID, a.asOf, a.inherit)
	if err != nil {
		return nil, err
	}
	a.extra = false
	builds, err := readTaggedBuilds(ctx, tx, a)
	if err != nil {
		return nil, err
	}
	q := store.TaggedRPMQuery{SigKeys: r.rpmsigs, Extra: r.extra}
	if q.Arches, err = rpmArches(r.arch); err != nil {
		return nil, err
	}
	slot := map[int64]int{} // tag id → its place in the walk, each tag once
	for _, t := range tags {
		if _, ok := slot[t]; !ok {
			slot[t] = len(slot)
		}
	}
	buildSlot := make(map[int64]int, len(builds)) // the last listing of a build wins, as upstream's build_idx
	for i := range builds {
		buildSlot[builds[i].BuildID] = slot[builds[i].TagID]
	}
	q.BuildIDs = make([]int64, 0, len(buildSlot))
	for id := range buildSlot {
		q.BuildIDs = append(q.BuildIDs, id)
	}
	var rpms []taggedRPM
	var slots []int
	counts := make([]int, len(slot))
	err = tx.EachTaggedRPM(ctx, q, func(row *store.TaggedRPM) error {
		t := taggedRPM{Arch: row.Arch, BuildID: row.BuildID, BuildrootID: row.BuildrootID, BuildTime: row.BuildTime,
			Draft: row.Draft, Epoch: row.Epoch, ID: row.ID, MetadataOnly: row.MetadataOnly, Name: row.Name,
			PayloadHash: row.PayloadHash, Release: row.Release, Size: row.Size, Version: row.Version}
		if q.Extra {
			v, err := decodeExtra(row.Extra, "rpm extra")
			if err != nil {
				return err
			}
			t.Extra = &v
		}
		if q.SigKeys {
			k := row.SigKey
			t.SigKey = &k
		}
		s := buildSlot[row.BuildID]
		rpms, slots = append(rpms, t), append(slots, s)
		counts[s]++
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Order by tag (a stable counting sort), by id within a tag.
	start := make([]int, len(counts))
	for i := 1; i < len(counts); i++ {
		start[i] = start[i-1] + counts[i-1]
	}
	out := make([]taggedRPM, len(rpms))
	for i := range rpms {
		out[start[slots[i]]] = rpms[i]
		start[slots[i]]++
	}
	return []any{out, builds}, nil
}

// rpmArches is readTaggedRPMS' arch option: a false value is any arch, a
// string one arch, a list any of its arches.
func rpmArches(v any) ([]string, error) {
	if !xmlrpc.Truthy(v) {
		return nil, nil
	}
	switch x := v.(type) {
	case string:
		return []string{x}, nil
	case []any:
		out := make([]string, len(x))
		for i, a := range x {
			out[i] = pyFormat(a)
		}
		return out, nil
	}
	return nil, fault(koji.ErrGeneric, "Invalid type for arch option: <class '%s'>", pyTypeName(v))
}

func listTaggedRPMS(ctx context.Context, tag, event, inherit, latest, pkg, arch, rpmsigs, owner, typ, strict, extra, draft any) (any, error) {
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
	return readTaggedRPMS(ctx, storeTx(ctx), taggedArgs{tagID: t["id"].(int64), asOf: asOf, inherit: xmlrpc.Truthy(inherit),
		latest: latest, pkg: pkg, owner: owner, typ: typ, draft: draft},
		taggedRPMArgs{arch: arch, rpmsigs: xmlrpc.Truthy(rpmsigs), extra: xmlrpc.Truthy(extra)})
}

func getLatestRPMS(ctx context.Context, tag, pkg, arch, event, rpmsigs, typ, draft any) (any, error) {
	tx := storeTx(ctx)
	id, err := tagIDArg(ctx, tx, tag)
	if err != nil {
		return nil, err
	}
	asOf, err := tagEvent(event)
	if err != nil {
		return nil, err
	}
	return readTaggedRPMS(ctx, tx, taggedArgs{tagID: id, asOf: asOf, inherit: true, latest: true, pkg: pkg, typ: typ, draft: draft},
		taggedRPMArgs{arch: arch, rpmsigs: xmlrpc.Truthy(rpmsigs), extra: true})
}
