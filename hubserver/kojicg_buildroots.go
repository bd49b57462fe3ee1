package hubserver

// The buildroots of a content generator's metadata: prepared (their
// components matched to the RPMs and archives the hub knows) and
// recorded as external buildroots.

import (
	"context"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
)

// brKey is a metadata buildroot id as a map key, refused as Python
// refuses unhashable ones.
func brKey(v any) (any, error) {
	switch v.(type) {
	case []any, map[string]any:
		return nil, pyException("TypeError", "unhashable type: '%s'", pyTypeName(v))
	}
	return v, nil
}

// prepBuildroots is CG_Importer.prep_brs: every buildroot is used by an
// output and listed once; its components are matched to what the hub
// knows.
func (c *cgImporter) prepBuildroots(ctx context.Context) error {
	outputs, err := listMember(c.metadata, "output")
	if err != nil {
		return err
	}
	used := map[any]bool{}
	for _, o := range outputs {
		om, ok := o.(map[string]any)
		if !ok {
			return pyException("TypeError", "'%s' object is not subscriptable", pyTypeName(o))
		}
		id, err := member(om, "buildroot_id")
		if err != nil {
			return err
		}
		key, err := brKey(id)
		if err != nil {
			return err
		}
		used[key] = true
	}
	brs, _ := listMember(c.metadata, "buildroots")
	for _, b := range brs {
		bm := b.(map[string]any)
		id, err := member(bm, "id")
		if err != nil {
			return err
		}
		key, err := brKey(id)
		if err != nil {
			return err
		}
		if !used[key] {
			return fault(koji.ErrGeneric, "Buildroot id not used in output: %s", pyRepr(id))
		}
		if c.brs[key] != nil {
			return fault(koji.ErrGeneric, "Duplicate buildroot id in metadata: %s", pyRepr(id))
		}
		if c.brs[key], err = c.prepBuildroot(ctx, bm); err != nil {
			return err
		}
	}
	return nil
}

// optString reads an optional string member as a column value.
func optString(v any) *string {
	if v == nil {
		return nil
	}
	s := pyFormat(v)
	if str, ok := v.(string); ok {
		s = str
	}
	return &s
}

func (c *cgImporter) prepBuildroot(ctx context.Context, bm map[string]any) (*cgBuildroot, error) {
	cg, _ := dictMember(bm, "content_generator")
	var sections [2]map[string]any
	for i, key := range []string{"container", "host"} {
		d, err := dictMember(bm, key)
		if err != nil {
			return nil, err
		}
		sections[i] = d
	}
	get := func(m map[string]any, key string) (*string, error) {
		v, err := member(m, key)
		return optString(v), err
	}
	br := &cgBuildroot{row: store.Buildroot{BRType: store.BRTypeExternal, CGID: &c.cgID}}
	var err error
	for _, f := range []struct {
		m   map[string]any
		key string
		dst **string
	}{{cg, "version", &br.row.CGVersion}, {sections[0], "type", &br.row.ContainerType},
		{sections[0], "arch", &br.row.ContainerArch}, {sections[1], "os", &br.row.HostOS},
		{sections[1], "arch", &br.row.HostArch}} {
		if *f.dst, err = get(f.m, f.key); err != nil {
			return nil, err
		}
	}
	if x := bm["extra"]; x != nil {
		s, err := encodeJSON(x)
		if err != nil {
			return nil, err
		}
		br.row.Extra = &s
	}
	comps, err := listMember(bm, "components")
	if err != nil {
		return nil, err
	}
	if br.rpms, br.archives, err = c.matchComponents(ctx, comps); err != nil {
		return nil, err
	}
	if br.tools, err = listMember(bm, "tools"); err != nil {
		return nil, err
	}
	return br, nil
}

// matchComponents is CG_Importer.match_components: rpm components are
// looked up (unknown ones logged and ignored), file components matched
// to archives by name, size and checksum, kojifile ones by archive id.
func (c *cgImporter) matchComponents(ctx context.Context, comps []any) (rpms, archives []int64, err error) {
	for _, x := range comps {
		comp, ok := x.(map[string]any)
		if !ok {
			return nil, nil, pyException("TypeError", "'%s' object is not subscriptable", pyTypeName(x))
		}
		typ, err := member(comp, "type")
		if err != nil {
			return nil, nil, err
		}
		switch typ {
		case "rpm":
			if _, ok := comp["location"]; ok {
				return nil, nil, fault(koji.ErrGeneric, "External rpms not allowed")
			}
			if _, ok := comp["id"]; ok {
				return nil, nil, fault(koji.ErrGeneric, "Unexpected 'id' field in component")
			}
			r, err := getRPM(ctx, comp, false, false)
			if err != nil {
				return nil, nil, err
			}
			if r == nil || r.(map[string]any) == nil {
				c.unmatched = append(c.unmatched, "IGNORING unmatched rpm component: "+pyRepr(comp))
				continue
			}
			info := r.(map[string]any)
			if info["payloadhash"] != comp["sigmd5"] {
				c.unmatched = append(c.unmatched, "IGNORING rpm component (md5 mismatch): "+pyRepr(comp))
			}
			rpms = append(rpms, info["id"].(int64))
		case "file", "kojifile":
			id, err := c.matchArchive(ctx, comp, typ == "kojifile")
			if err != nil {
				return nil, nil, err
			}
			if id != 0 {
				archives = append(archives, id)
			}
		default:
			return nil, nil, fault(koji.ErrGeneric, "No such component type: %s", pyFormat(typ))
		}
	}
	return rpms, archives, nil
}

// checksumTypes are koji.CHECKSUM_TYPES.
var checksumTypes = []string{"md5", "sha1", "sha256"}

// matchArchive is match_file (unmatched files are ignored, as upstream
// ignores them) and match_kojifile (the archive must exist).
func (c *cgImporter) matchArchive(ctx context.Context, comp map[string]any, kojifile bool) (int64, error) {
	tx := storeTx(ctx)
	if kojifile {
		id, err := member(comp, "archive_id")
		if err != nil {
			return 0, err
		}
		n, err := convertInt(id)
		if err != nil {
			return 0, err
		}
		rows, err := tx.QueryArchives(ctx, store.ArchiveQuery{ID: &n})
		if err != nil {
			return 0, err
		}
		if len(rows) == 0 {
			return 0, fault(koji.ErrGeneric, "No such archive: %s", pyFormat(id))
		}
		for _, key := range []string{"nvr", "filename"} {
			if _, ok := comp[key]; !ok {
				return 0, fault(koji.ErrGeneric, "%s field missing for component, archive_id=%d", key, n)
			}
		}
		if comp["filename"] != rows[0].Filename {
			return 0, fault(koji.ErrGeneric, "Component field filename does not match for archive_id=%d: %s != %s",
				n, rows[0].Filename, pyFormat(comp["filename"]))
		}
		return n, nil
	}
	name, err := member(comp, "filename")
	if err != nil {
		return 0, err
	}
	size, err := member(comp, "filesize")
	if err != nil {
		return 0, err
	}
	fn, _ := name.(string)
	sz, err := convertInt(size)
	if err != nil {
		return 0, err
	}
	rows, err := tx.QueryArchives(ctx, store.ArchiveQuery{Filename: &fn, Size: &sz})
	if err != nil {
		return 0, err
	}
	for _, a := range rows {
		if a.ChecksumType >= 0 && int(a.ChecksumType) < len(checksumTypes) && checksumTypes[a.ChecksumType] == comp["checksum_type"] &&
			a.Checksum == comp["checksum"] {
			return a.ID, nil
		}
	}
	LoggerFrom(ctx).Warn("IGNORING unmatched archive", "component", pyRepr(comp))
	return 0, nil
}

// importBuildroots is CG_Importer.import_brs: each buildroot recorded
// (BuildRoot.cg_new) with its components and tools.
func (c *cgImporter) importBuildroots(ctx context.Context) error {
	tx := storeTx(ctx)
	for _, br := range c.brs {
		var err error
		if br.id, err = tx.CreateExternalBuildroot(ctx, br.row); err != nil {
			return err
		}
		if err := tx.AddBuildrootListing(ctx, br.id, br.rpms, false); err != nil {
			return err
		}
		if err := tx.AddBuildrootArchives(ctx, br.id, br.archives, false); err != nil {
			return err
		}
		for _, t := range br.tools {
			tool, ok := t.(map[string]any)
			if !ok {
				return pyException("TypeError", "'%s' object is not subscriptable", pyTypeName(t))
			}
			name, err := member(tool, "name")
			if err != nil {
				return err
			}
			version, err := member(tool, "version")
			if err != nil {
				return err
			}
			if err := tx.AddBuildrootTool(ctx, br.id, pyFormat(name), pyFormat(version)); err != nil {
				return err
			}
		}
	}
	return nil
}
