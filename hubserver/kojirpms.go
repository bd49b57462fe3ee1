package hubserver

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// rpmMethods are upstream's methods reading the RPMs and archives of
// builds.
func (k *Koji) rpmMethods() []Method {
	return slices.Concat([]Method{
		{
			Name: "getRPM", PyName: "get_rpm",
			Args: []Arg{{Name: "rpminfo"}, {Name: "strict", Default: false}, {Name: "multi", Default: false}},
			Func: getRPM,
		},
		{
			Name: "listRPMs", PyName: "list_rpms",
			Args: []Arg{{Name: "buildID", Default: None}, {Name: "buildrootID", Default: None}, {Name: "imageID", Default: None},
				{Name: "componentBuildrootID", Default: None}, {Name: "hostID", Default: None}, {Name: "arches", Default: None},
				{Name: "queryOpts", Default: None}, {Name: "draft", Default: None}},
			Func: listRPMs,
		},
		{
			Name: "listBuildRPMs", PyName: "RootExports.listBuildRPMs", Bound: true,
			Args: []Arg{{Name: "build"}},
			Func: listBuildRPMs,
		},
		{
			Name: "listArchives", PyName: "list_archives",
			Args: []Arg{{Name: "buildID", Default: None}, {Name: "buildrootID", Default: None},
				{Name: "componentBuildrootID", Default: None}, {Name: "hostID", Default: None}, {Name: "type", Default: None},
				{Name: "filename", Default: None}, {Name: "size", Default: None}, {Name: "checksum", Default: None},
				{Name: "checksum_type", Default: None}, {Name: "typeInfo", Default: None}, {Name: "queryOpts", Default: None},
				{Name: "imageID", Default: None}, {Name: "archiveID", Default: None}, {Name: "strict", Default: false}},
			Func: listArchives,
		},
	}, k.buildTypeMethods(), k.rpmHeaderMethods(), k.rpmFileMethods(), k.rpmSigMethods(), k.importRPMMethods())
}

// decodeExtra JSON-decodes an extra column (upstream's parse_json).
func decodeExtra(s *string, desc string) (any, error) {
	if s == nil || *s == "" {
		return nil, nil
	}
	v, err := decodeJSON(*s)
	if err != nil {
		return nil, fault(koji.ErrGeneric, "Invalid %s data: %v", desc, err)
	}
	return v, nil
}

// rpmInfo is an RPM as get_rpm answers it; listRPMs adds nvr.
func rpmInfo(r *store.RPM) (map[string]any, error) {
	extra, err := decodeExtra(r.Extra, "rpm extra")
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"id": r.ID, "build_id": ptrValue(r.BuildID), "buildroot_id": ptrValue(r.BuildrootID), "name": r.Name,
		"version": r.Version, "release": r.Release, "epoch": ptrValue(r.Epoch), "arch": r.Arch,
		"draft": ptrValue(r.Draft), "external_repo_id": r.ExternalRepoID,
		"external_repo_name": ptrValue(r.ExternalRepoName), "payloadhash": r.PayloadHash, "size": r.Size,
		"buildtime": r.BuildTime, "metadata_only": r.MetadataOnly, "extra": extra,
	}, nil
}

// parseNVRA is koji.parse_NVRA, as a dict in its key order.
func parseNVRA(nvra string) (pyDict, error) {
	nvra = strings.TrimSuffix(nvra, ".rpm")
	p3 := strings.LastIndexByte(nvra, '.')
	if p3 < 0 || p3 == len(nvra)-1 {
		return nil, fault(koji.ErrGeneric, "invalid format: %s", nvra)
	}
	arch := nvra[p3+1:]
	nvr := nvra[:p3]
	name, version, release, err := parseNVR(nvr)
	if err != nil {
		return nil, err
	}
	epoch := ""
	if i := strings.IndexByte(nvr[:len(nvr)-len(version)-len(release)-2], ':'); i >= 0 {
		epoch = nvr[:i]
	}
	return pyDict{{"release", release}, {"version", version}, {"name", name}, {"epoch", epoch},
		{"arch", arch}, {"src", arch == "src"}}, nil
}

// getRPM is upstream's get_rpm: an RPM by id, "N-V-R.A" (with
// "@location", an external repository), or a struct with name, version,
// release and arch (and location); an internal one is preferred.
func getRPM(ctx context.Context, rpminfo any, strict, multi bool) (any, error) {
	tx := storeTx(ctx)
	var data pyDict
	switch v := rpminfo.(type) {
	case int64:
		data = pyDict{{"id", v}}
	case string:
		s, loc, hasLoc := strings.Cut(v, "@")
		var err error
		if data, err = parseNVRA(s); err != nil {
			return nil, err
		}
		if hasLoc {
			dictSet(&data, "location", loc)
		}
	case map[string]any:
		for k, x := range v {
			data = append(data, pyItem{k, x})
		}
	default:
		return nil, fault(koji.ErrGeneric, "Invalid type for rpminfo: %s", pyClass(rpminfo))
	}
	m := dictMap(data)
	var q store.RPMQuery
	if id, ok := m["id"]; ok {
		n, err := convertInt(id)
		if err != nil {
			return nil, err
		}
		q.ID = &n
	} else {
		var nvra [4]string
		for i, key := range []string{"name", "version", "release", "arch"} {
			x, ok := m[key]
			if !ok {
				return nil, pyException("KeyError", "'%s'", key)
			}
			if nvra[i], ok = x.(string); !ok {
				return nil, convertError(x, "str")
			}
		}
		q.NVRA = &nvra
	}
	retry := false
	if loc, ok := m["location"]; ok {
		repo, err := lookupName(ctx, tx, "external_repo", loc, true, false)
		if err != nil {
			return nil, err
		}
		q.ExternalRepoID = &repo.ID
	} else if !multi {
		retry = true
		internal := int64(0)
		q.ExternalRepoID = &internal
	}
	rows, err := tx.QueryRPMs(ctx, q)
	if err != nil {
		return nil, err
	}
	if multi {
		out := make([]map[string]any, len(rows))
		for i := range rows {
			if out[i], err = rpmInfo(&rows[i]); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	if len(rows) == 0 && retry {
		q.ExternalRepoID = nil
		if rows, err = tx.QueryRPMs(ctx, q); err != nil {
			return nil, err
		}
	}
	if len(rows) == 0 {
		if strict {
			return nil, fault(koji.ErrGeneric, "No such rpm: %s", data.repr())
		}
		return nil, nil
	}
	return rpmInfo(&rows[0])
}

// listRPMFields are the columns listRPMs selects.
var listRPMFields = []queryField{
	{"id", "rpminfo.id", "id"}, {"name", "rpminfo.name", "name"}, {"version", "rpminfo.version", "version"},
	{"release", "rpminfo.release", "release"},
	{"nvr", "rpminfo.name || '-' || rpminfo.version || '-' || rpminfo.release", "nvr"},
	{"arch", "rpminfo.arch", "arch"}, {"epoch", "rpminfo.epoch", "epoch"}, {"draft", "rpminfo.draft", "draft"},
	{"payloadhash", "rpminfo.payloadhash", "payloadhash"}, {"size", "rpminfo.size", "size"},
	{"buildtime", "rpminfo.buildtime", "buildtime"}, {"build_id", "rpminfo.build_id", "build_id"},
	{"buildroot_id", "rpminfo.buildroot_id", "buildroot_id"},
	{"external_repo_id", "rpminfo.external_repo_id", "external_repo_id"},
	{"external_repo_name", "external_repo.name", "external_repo_name"},
	{"metadata_only", "rpminfo.metadata_only", "metadata_only"}, {"extra", "rpminfo.extra", "extra"},
}

// componentRPMFields are the columns listRPMs adds with
// componentBuildrootID.
var componentRPMFields = []queryField{
	{"component_buildroot_id", "buildroot_listing.buildroot_id", "component_buildroot_id"},
	{"is_update", "buildroot_listing.is_update", "is_update"},
}

// listRPMs is upstream's list_rpms: imageID selects the RPMs an archive
// holds, componentBuildrootID those installed in a buildroot (with
// component_buildroot_id and is_update), hostID those built on a host.
func listRPMs(ctx context.Context, buildID, buildrootID, imageID, componentBuildrootID, hostID, arches, queryOpts, draft any) (any, error) {
	var q store.RPMQuery
	for _, f := range []struct {
		v   any
		dst **int64
	}{{buildID, &q.BuildID}, {buildrootID, &q.BuildrootID}, {imageID, &q.ImageID},
		{componentBuildrootID, &q.ComponentBuildrootID}, {hostID, &q.HostID}} {
		if f.v == nil {
			continue
		}
		n, err := convertInt(f.v)
		if err != nil {
			return nil, err
		}
		*f.dst = &n
	}
	switch a := arches.(type) {
	case nil:
	case string:
		q.Arches = []string{a}
	case []any:
		q.Arches = []string{}
		for _, x := range a {
			s, ok := x.(string)
			if !ok {
				return nil, convertError(x, "str")
			}
			q.Arches = append(q.Arches, s)
		}
	default:
		return nil, fault(koji.ErrGeneric, `Invalid type for "arches" parameter: %s`, pyClass(arches))
	}
	if draft != nil {
		d := xmlrpc.Truthy(draft)
		q.Draft = &d
	}
	qo, err := readQueryOpts(queryOpts)
	if err != nil {
		return nil, err
	}
	fields := listRPMFields
	if q.ComponentBuildrootID != nil {
		fields = slices.Concat(fields, componentRPMFields)
	}
	if q.Order, err = qo.storeOrder(fields); err != nil {
		return nil, err
	}
	rows, err := storeTx(ctx).QueryRPMs(ctx, q)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(rows))
	for i := range rows {
		if out[i], err = rpmInfo(&rows[i]); err != nil {
			return nil, err
		}
		out[i]["nvr"] = rows[i].Name + "-" + rows[i].Version + "-" + rows[i].Release
		if q.ComponentBuildrootID != nil {
			out[i]["component_buildroot_id"], out[i]["is_update"] = ptrValue(rows[i].ComponentBuildrootID), ptrValue(rows[i].IsUpdate)
		}
	}
	return pageRows(out, qo, fields)
}

// readQueryOpts reads a queryOpts argument, faulting as Python does on a
// value that is not a struct.
func readQueryOpts(v any) (*queryOpts, error) {
	m, ok := v.(map[string]any)
	if v != nil && !ok {
		return nil, pyException("AttributeError", "'%s' object has no attribute 'get'", pyTypeName(v))
	}
	return parseQueryOpts(m)
}

// pageRows applies offset, limit, countOnly and asList to rows the store
// returned in order.
func pageRows(rows []map[string]any, qo *queryOpts, fields []queryField) (any, error) {
	page := *qo
	page.Order = nil
	return queryRows(rows, &page, fields)
}

func listBuildRPMs(ctx context.Context, build any) (any, error) {
	id, ok := build.(int64)
	if !ok {
		var err error
		if id, err = findBuildID(ctx, storeTx(ctx), build, true); err != nil {
			return nil, err
		}
	}
	return listRPMs(ctx, id, nil, nil, nil, nil, nil, nil, nil)
}

// listArchiveFields are the columns listArchives selects.
var listArchiveFields = []queryField{
	{"id", "archiveinfo.id", "id"}, {"type_id", "archiveinfo.type_id", "type_id"},
	{"btype_id", "archiveinfo.btype_id", "btype_id"}, {"btype", "btype.name", "btype"},
	{"build_id", "archiveinfo.build_id", "build_id"}, {"buildroot_id", "archiveinfo.buildroot_id", "buildroot_id"},
	{"filename", "archiveinfo.filename", "filename"}, {"size", "archiveinfo.size", "size"},
	{"checksum", "archiveinfo.checksum", "checksum"}, {"checksum_type", "archiveinfo.checksum_type", "checksum_type"},
	{"metadata_only", "archiveinfo.metadata_only", "metadata_only"}, {"extra", "archiveinfo.extra", "extra"},
	{"type_name", "archivetypes.name", "type_name"}, {"type_description", "archivetypes.description", "type_description"},
	{"type_extensions", "archivetypes.extensions", "type_extensions"},
	{"compression_type", "archivetypes.compression_type", "compression_type"},
}

var typeArchiveFields = map[string][]queryField{
	"maven": {{"group_id", "maven_archives.group_id", "group_id"}, {"artifact_id", "maven_archives.artifact_id", "artifact_id"},
		{"version", "maven_archives.version", "version"}},
	"win": {{"relpath", "win_archives.relpath", "relpath"}, {"platforms", "win_archives.platforms", "platforms"},
		{"flags", "win_archives.flags", "flags"}},
	"image": {{"arch", "image_archives.arch", "arch"}},
}

// componentArchiveFields and hostArchiveFields are the columns
// listArchives adds with componentBuildrootID and hostID.
var (
	componentArchiveFields = []queryField{
		{"component_buildroot_id", "buildroot_archives.buildroot_id", "component_buildroot_id"},
		{"project", "buildroot_archives.project_dep", "project"},
	}
	hostArchiveFields = []queryField{{"host_id", "standard_buildroot.host_id", "host_id"}}
)

// listArchives is upstream's list_archives with its build, buildroot,
// component (componentBuildrootID: used in a buildroot; imageID: held in
// an archive), host, file, archive and type filters (win typeInfo is not
// supported).
func listArchives(ctx context.Context, buildID, buildrootID, componentBuildrootID, hostID, typ, filename, size,
	checksum, checksumType, typeInfo, queryOpts, imageID, archiveID any, strict bool) (any, error) {
	tx := storeTx(ctx)
	var q store.ArchiveQuery
	for _, f := range []struct {
		v   any
		dst **int64
	}{{buildID, &q.BuildID}, {buildrootID, &q.BuildrootID}, {size, &q.Size}, {checksumType, &q.ChecksumType}, {archiveID, &q.ID},
		{componentBuildrootID, &q.ComponentBuildrootID}, {hostID, &q.HostID}, {imageID, &q.ImageID}} {
		if f.v == nil {
			continue
		}
		n, err := convertInt(f.v)
		if err != nil {
			return nil, err
		}
		*f.dst = &n
	}
	for _, f := range []struct {
		v   any
		dst **string
	}{{filename, &q.Filename}, {checksum, &q.Checksum}} {
		if f.v == nil {
			continue
		}
		s, ok := f.v.(string)
		if !ok {
			return nil, convertError(f.v, "str")
		}
		*f.dst = &s
	}
	fields := listArchiveFields
	if q.ComponentBuildrootID != nil {
		fields = slices.Concat(fields, componentArchiveFields)
	}
	if q.HostID != nil {
		fields = slices.Concat(fields, hostArchiveFields)
	}
	info, _ := typeInfo.(map[string]any)
	if typ != nil {
		name, _ := typ.(string)
		switch name {
		case "maven":
			if xmlrpc.Truthy(typeInfo) {
				q.Maven = &store.MavenBuildRow{}
				for key, dst := range map[string]*string{"group_id": &q.Maven.GroupID, "artifact_id": &q.Maven.ArtifactID, "version": &q.Maven.Version} {
					if v, ok := info[key].(string); ok {
						*dst = v
					}
				}
			}
		case "image":
			if a, ok := info["arch"].(string); ok && a != "" {
				q.ImageArch = &a
			}
		case "win":
		default:
			bt, err := lookupName(ctx, tx, "btype", typ, false, false)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
			if bt == nil {
				return nil, fault(koji.ErrGeneric, "unsupported archive type: %s", pyFormat(typ))
			}
			if xmlrpc.Truthy(typeInfo) {
				return nil, fault(koji.ErrGeneric, "typeInfo queries not supported for type %s", bt.Name)
			}
			q.BTypeID = &bt.ID
		}
		if typeArchiveFields[name] != nil {
			q.Type = name
			fields = slices.Concat(fields, typeArchiveFields[name])
		}
	}
	qo, err := readQueryOpts(queryOpts)
	if err != nil {
		return nil, err
	}
	if q.Order, err = qo.storeOrder(fields); err != nil {
		return nil, err
	}
	rows, err := tx.QueryArchives(ctx, q)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, 0, len(rows))
	for i := range rows {
		a := &rows[i]
		extra, err := decodeExtra(a.Extra, "rpm extra")
		if err != nil {
			return nil, err
		}
		m := map[string]any{
			"id": a.ID, "type_id": a.TypeID, "btype_id": ptrValue(a.BTypeID), "btype": ptrValue(a.BType),
			"build_id": a.BuildID, "buildroot_id": ptrValue(a.BuildrootID), "filename": a.Filename, "size": a.Size,
			"checksum": a.Checksum, "checksum_type": a.ChecksumType, "metadata_only": a.MetadataOnly, "extra": extra,
			"type_name": a.TypeName, "type_description": a.TypeDescription, "type_extensions": a.TypeExtensions,
			"compression_type": ptrValue(a.CompressionType),
		}
		if a.Maven != nil {
			m["group_id"], m["artifact_id"], m["version"] = a.Maven.GroupID, a.Maven.ArtifactID, a.Maven.Version
		}
		if a.Win != nil {
			m["relpath"], m["platforms"], m["flags"] = a.Win.RelPath, a.Win.Platforms, ptrValue(a.Win.Flags)
		}
		if q.Type == "image" {
			m["arch"] = ptrValue(a.Arch)
		}
		if q.ComponentBuildrootID != nil {
			m["component_buildroot_id"], m["project"] = ptrValue(a.ComponentBuildrootID), ptrValue(a.Project)
		}
		if q.HostID != nil {
			m["host_id"] = ptrValue(a.HostID)
		}
		out = append(out, m)
	}
	if strict && len(out) == 0 {
		return nil, fault(koji.ErrGeneric, "No archives found.")
	}
	return pageRows(out, qo, fields)
}
