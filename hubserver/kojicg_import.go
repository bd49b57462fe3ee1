package hubserver

import (
	"context"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// A cgImporter is upstream's CG_Importer: the import of a content
// generator's metadata and files (uploaded to work/<directory>) as a
// COMPLETE build. This hub imports outputs of type rpm and log; other
// outputs fault.
type cgImporter struct {
	k         *Koji
	files     *importFiles
	top       string
	directory string
	metadata  map[string]any
	raw       string // the metadata as written to the build's metadata.json
	cgID      int64
	build     map[string]any // prep_build's buildinfo
	typeinfo  map[string]any
	brs       map[any]*cgBuildroot
	outputs   []cgOutput
	unmatched []string // the lines of upstream's cg_import.log
	mavenDirs []string // the Maven directories archives go to
	written   []string // the files written besides metadata.json and the log
}

// A cgBuildroot is a buildroot of the metadata, prepared.
type cgBuildroot struct {
	row      store.Buildroot
	rpms     []int64 // matched rpm components
	archives []int64 // matched file and kojifile components
	tools    []any
	id       int64 // once imported
}

// A cgOutput is an output file of the metadata, checked.
type cgOutput struct {
	info    map[string]any
	rel     string // relative to the work directory
	typ     string
	br      any        // the metadata's buildroot id
	archive *cgArchive // for an archive output
}

// cgImport is upstream's cg_import.
func (k *Koji) cgImport(ctx context.Context, metadata, directory, token any) (map[string]any, error) {
	files, top, err := k.openImportFiles()
	if err != nil {
		return nil, err
	}
	defer files.close()
	c := &cgImporter{k: k, files: files, top: top, brs: map[any]*cgBuildroot{}}
	return c.doImport(ctx, metadata, directory, token)
}

// joinPath is koji.util.joinpath: base joined with parts that must not
// lead out of it ("" for a path relative to the work directory).
func joinPath(base string, parts ...string) (string, error) {
	p := base
	for _, part := range parts {
		clean := path.Clean(part)
		if clean == ".." || strings.HasPrefix(clean, "../") || strings.HasPrefix(clean, "/") {
			return "", pyException("ValueError", "Invalid path segment: %s", part)
		}
		if clean != "." {
			p = path.Join(p, clean)
		}
	}
	return p, nil
}

func (c *cgImporter) doImport(ctx context.Context, metadata, directory, token any) (map[string]any, error) {
	dir, ok := directory.(string)
	if !ok {
		return nil, convertError(directory, "str")
	}
	c.directory = dir
	if err := c.getMetadata(metadata); err != nil {
		return nil, err
	}
	ver, err := member(c.metadata, "metadata_version")
	if err != nil {
		return nil, err
	}
	if ver != int64(0) {
		return nil, fault(koji.ErrGeneric, "No such metadata version: %s", pyRepr(ver))
	}
	if err := c.assertCGAccess(ctx); err != nil {
		return nil, err
	}
	steps := []func(context.Context) error{
		func(ctx context.Context) error { return c.prepBuild(ctx, token) },
		c.prepBuildroots, c.prepOutputs, c.assertPolicy,
	}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	b := c.buildPath()
	if _, err := os.Lstat(b); err == nil {
		return nil, fault(koji.ErrGeneric, "Destination directory already exists: %s", b)
	}
	if err := c.k.runCallbacks(ctx, "preImport", map[string]any{"type": "cg", "metadata": c.metadata, "directory": dir}); err != nil {
		return nil, err
	}
	row, err := c.getBuild(ctx, token)
	if err != nil {
		return nil, err
	}
	binfo, err := buildInfo(row)
	if err != nil {
		return nil, err
	}
	if err := c.importBuildroots(ctx); err != nil {
		return nil, err
	}
	if err := c.importOutputs(ctx, row, binfo); err != nil {
		return nil, err
	}
	if err := c.files.run(); err != nil {
		return nil, err
	}
	if err := c.writeMavenSums(); err != nil {
		c.undo()
		return nil, err
	}
	if err := c.writeFiles(); err != nil {
		c.undo()
		return nil, err
	}
	if err := c.k.runCallbacks(ctx, "postImport", map[string]any{"type": "cg", "metadata": c.metadata,
		"directory": dir, "build": binfo}); err != nil {
		c.undo()
		return nil, err
	}
	return binfo, nil
}

// assertPolicy is CG_Importer.assert_policy: the cg_import policy (by
// default all :: allow) for the package, source, whether an output is
// metadata only, and the content generator.
func (c *cgImporter) assertPolicy(ctx context.Context) error {
	metadataOnly := false
	for _, o := range c.outputs {
		metadataOnly = metadataOnly || xmlrpc.Truthy(o.info["metadata_only"])
	}
	return c.k.assertPolicy(ctx, "cg_import", map[string]any{"package": c.build["name"], "source": c.build["source"],
		"metadata_only": metadataOnly, "cg_list": []any{c.cgID}}, false)
}

// undo puts the moved files back and removes those written.
func (c *cgImporter) undo() {
	for i := len(c.files.moves) - 1; i >= 0; i-- {
		c.files.moves[i].undo()
	}
	for _, f := range c.written {
		os.Remove(f)
	}
	os.Remove(c.buildPath() + "/metadata.json")
	os.Remove(c.buildPath() + "/data/logs/cg_import.log")
}

// buildPath is koji.pathinfo.build of the build being imported.
func (c *cgImporter) buildPath() string {
	s := func(k string) string { v, _ := c.build[k].(string); return v }
	return koji.PathInfo{TopDir: c.top}.Build(&koji.Build{Name: s("name"), Version: s("version"), Release: s("release")})
}

// getMetadata is CG_Importer.get_metadata: a struct, JSON text, or the
// name of an uploaded .json file in the directory (metadata.json when
// nil).
func (c *cgImporter) getMetadata(metadata any) error {
	if m, ok := metadata.(map[string]any); ok {
		s, err := encodeJSON(m)
		if err != nil {
			return fault(koji.ErrGeneric, "Invalid metadata, cannot encode: %s", pyRepr(m))
		}
		c.metadata, c.raw = m, s
		return nil
	}
	if metadata == nil {
		metadata = "metadata.json"
	}
	s, ok := metadata.(string)
	if !ok {
		return convertError(metadata, "str")
	}
	if strings.HasSuffix(s, ".json") {
		rel, err := joinPath("", c.directory, s)
		if err != nil {
			return err
		}
		if err := c.files.exists(rel); err != nil {
			return fault(koji.ErrGeneric, "No such file: %s", s)
		}
		fn, _ := c.files.path(rel)
		data, err := os.ReadFile(fn)
		if err != nil {
			return pyOSError(err, fn)
		}
		s = string(data)
	}
	v, err := decodeJSON(s)
	if err != nil {
		return fault(koji.ErrGeneric, "Invalid json data: %s", pyRepr(s))
	}
	m, ok := v.(map[string]any)
	if !ok {
		return pyException("TypeError", "'%s' object is not subscriptable", pyTypeName(v))
	}
	c.metadata, c.raw = m, s
	return nil
}

// assertCGAccess is CG_Importer.assert_cg_access: every buildroot names
// the same content generator, which the caller may import for.
func (c *cgImporter) assertCGAccess(ctx context.Context) error {
	brs, err := listMember(c.metadata, "buildroots")
	if err != nil {
		return err
	}
	var cg any
	for _, b := range brs {
		br, ok := b.(map[string]any)
		if !ok {
			return pyException("TypeError", "'%s' object is not subscriptable", pyTypeName(b))
		}
		info, err := dictMember(br, "content_generator")
		if err != nil {
			return err
		}
		name, err := member(info, "name")
		if err != nil {
			return err
		}
		row, err := lookupName(ctx, storeTx(ctx), "content_generator", name, true, false)
		if err != nil {
			return err
		}
		if cg == nil {
			cg = row.ID
		} else if cg != row.ID {
			return fault(koji.ErrGeneric, "Koji now support only one content-generator per import")
		}
	}
	row, err := assertCG(ctx, cg)
	if err != nil {
		return err
	}
	c.cgID = row.ID
	return nil
}

// prepBuild is CG_Importer.prep_build: a reserved build (build_id, with
// its token) must match the metadata; without, no build of the NVR may
// exist.
func (c *cgImporter) prepBuild(ctx context.Context, token any) error {
	tx := storeTx(ctx)
	mb, err := dictMember(c.metadata, "build")
	if err != nil {
		return err
	}
	if xmlrpc.Truthy(mb["build_id"]) {
		b, err := lookupBuild(ctx, tx, mb["build_id"], true)
		if err != nil {
			return err
		}
		if err := checkReservation(ctx, b, token, c.cgID); err != nil {
			return err
		}
		switch {
		case b.TaskID != nil:
			return fault(koji.ErrGeneric, "Build is owned by task %d", *b.TaskID)
		case b.State != store.BuildBuilding:
			return fault(koji.ErrGeneric, "Build ID %d is not in BUILDING state", b.ID)
		case mb["name"] != b.PackageName || mb["version"] != b.Version || mb["release"] != b.Release:
			return fault(koji.ErrGeneric, "Build (%d) NVR is different", b.ID)
		}
		if e, ok := mb["epoch"]; ok && e != ptrValue(b.Epoch) {
			return fault(koji.ErrGeneric, "Build (%d) epoch is different", b.ID)
		}
	} else if token != nil {
		return fault(koji.ErrGeneric, "Reservation token given, but no build_id in metadata")
	} else if old, err := lookupBuild(ctx, tx, mb, false); err != nil {
		return err
	} else if old != nil {
		info, err := buildInfo(old)
		if err != nil {
			return err
		}
		return fault(koji.ErrGeneric, "Build already exists: %s", pyRepr(info))
	}
	bi := map[string]any{}
	for _, key := range []string{"name", "version", "release", "extra", "source"} {
		if bi[key], err = member(mb, key); err != nil {
			return err
		}
	}
	if id, ok := mb["build_id"]; ok {
		bi["build_id"] = id
	}
	bi["epoch"] = mb["epoch"]
	for key, field := range map[string]string{"start_time": "start_time", "completion_time": "end_time"} {
		v, err := member(mb, field)
		if err != nil {
			return err
		}
		f, err := pyFloat(v)
		if err != nil {
			return err
		}
		bi[key] = time.Unix(0, int64(f*1e9)).UTC()
	}
	extra, _ := bi["extra"].(map[string]any)
	if t := mb["task_id"]; xmlrpc.Truthy(t) {
		n, err := convertInt(t)
		if err != nil {
			return err
		}
		bi["task_id"] = n
	} else if t := extra["container_koji_task_id"]; xmlrpc.Truthy(t) {
		n, err := convertInt(t)
		if err != nil {
			return err
		}
		bi["task_id"] = n
	}
	if owner := mb["owner"]; xmlrpc.Truthy(owner) {
		name, ok := owner.(string)
		if !ok {
			return fault(koji.ErrGeneric, "Invalid owner format (expected username): %s", pyFormat(owner))
		}
		u, err := strictUser(ctx, tx, name)
		if err != nil {
			return err
		}
		bi["owner"] = u.ID
	}
	bi["cg_id"] = c.cgID
	c.build = bi
	v, _ := bi["version"].(string)
	r, _ := bi["release"].(string)
	if err := checkNVR(v, r); err != nil {
		return err
	}
	if extra == nil {
		extra = map[string]any{}
		bi["extra"] = extra
	}
	typeinfo, _ := extra["typeinfo"].(map[string]any)
	if typeinfo == nil {
		typeinfo = map[string]any{}
		extra["typeinfo"] = typeinfo
	}
	for _, bt := range []string{"maven", "win", "image"} {
		if v, ok := extra[bt]; ok {
			if _, dup := typeinfo[bt]; dup {
				return fault(koji.ErrGeneric, "Duplicate typeinfo for %s", pyRepr(bt))
			}
			typeinfo[bt] = v
		}
	}
	for bt := range typeinfo {
		if _, err := lookupName(ctx, tx, "btype", bt, true, false); err != nil {
			return err
		}
	}
	c.typeinfo = typeinfo
	return nil
}

// prepOutputs is CG_Importer.prep_outputs: each output's file, uploaded
// to the directory, has the size and checksum the metadata gives and a
// buildroot of the metadata; RPM file names are N-V-R.A.rpm.
func (c *cgImporter) prepOutputs(ctx context.Context) error {
	outputs, _ := listMember(c.metadata, "output")
	for _, o := range outputs {
		info := o.(map[string]any)
		fn, err := member(info, "filename")
		if err != nil {
			return err
		}
		name, ok := fn.(string)
		if !ok {
			return convertError(fn, "str")
		}
		relpath, _ := info["relpath"].(string)
		rel, err := joinPath("", c.directory, relpath, name)
		if err != nil {
			return err
		}
		full := c.files.uploadName(rel)
		if err := c.files.exists(rel); err != nil {
			return pyException("FileNotFoundError", "[Errno 2] No such file or directory: %s", pyStr(full))
		}
		abs, _ := c.files.path(rel)
		if err := checkOutputFile(abs, name, info); err != nil {
			return err
		}
		key, _ := brKey(info["buildroot_id"])
		if c.brs[key] == nil {
			return fault(koji.ErrGeneric, "Missing buildroot metadata for id %s", pyRepr(info["buildroot_id"]))
		}
		typ, err := member(info, "type")
		if err != nil {
			return err
		}
		var archive *cgArchive
		switch typ {
		case "rpm":
			if xmlrpc.Truthy(info["metadata_only"]) {
				return fault(koji.ErrGeneric, "Metadata-only imports are not supported for rpms")
			}
			if err := checkNVRA(name); err != nil {
				return err
			}
		case "log":
		default:
			if archive, err = c.prepArchive(ctx, info, name); err != nil {
				return err
			}
		}
		ts, _ := typ.(string)
		c.outputs = append(c.outputs, cgOutput{info: info, rel: rel, typ: ts, br: key, archive: archive})
	}
	return nil
}

// checkOutputFile checks an output's size and checksum.
func checkOutputFile(fn, name string, info map[string]any) error {
	fi, err := os.Stat(fn)
	if err != nil {
		return pyOSError(err, fn)
	}
	if size, _ := convertInt(info["filesize"]); size != fi.Size() {
		return fault(koji.ErrGeneric, "File size %d for %s (expected %s) doesn't match. Corrupted upload?",
			fi.Size(), name, pyFormat(info["filesize"]))
	}
	h, err := verifyHash(info["checksum_type"])
	if err != nil {
		return err
	}
	f, err := os.Open(fn)
	if err != nil {
		return pyOSError(err, fn)
	}
	defer f.Close()
	if _, err := io.Copy(h, f); err != nil {
		return pyOSError(err, fn)
	}
	if sum := hexDigest(h); info["checksum"] != sum {
		return fault(koji.ErrGeneric, "File checksum mismatch for %s: %s != %s", name, pyFormat(info["checksum"]), sum)
	}
	return nil
}

// checkNVRA is koji.check_NVRA(filename, strict=True).
func checkNVRA(name string) error {
	d, err := parseNVRA(name)
	if err != nil {
		return err
	}
	m := dictMap(d)
	if err := checkNVR(m["version"].(string), m["release"].(string)); err != nil {
		return err
	}
	if strings.Contains(m["arch"].(string), ".") {
		return fault(koji.ErrGeneric, `The "." character not allowed in arch field`)
	}
	return nil
}

// getBuild is CG_Importer.get_build: the reserved build completed
// (update_build), or a new COMPLETE build; then its types.
func (c *cgImporter) getBuild(ctx context.Context, token any) (*store.BuildRow, error) {
	tx := storeTx(ctx)
	var id int64
	if xmlrpc.Truthy(token) {
		b, err := lookupBuild(ctx, tx, c.build["build_id"], true)
		if err != nil {
			return nil, err
		}
		old, err := buildInfo(b)
		if err != nil {
			return nil, err
		}
		var extra *string
		if xmlrpc.Truthy(c.build["extra"]) {
			s, err := encodeJSON(c.build["extra"])
			if err != nil {
				return nil, err
			}
			extra = &s
		}
		owner := callerID(ctx)
		if o, ok := c.build["owner"].(int64); ok {
			owner = o
		}
		if err := c.k.buildStateCallbacks(ctx, "preBuildStateChange", b.State, store.BuildComplete, old); err != nil {
			return nil, err
		}
		if err := tx.CompleteReservedBuild(ctx, b.ID, extra, owner, optString(c.build["source"])); err != nil {
			return nil, err
		}
		info, err := getBuildInfo(ctx, tx, b.ID)
		if err != nil {
			return nil, err
		}
		if err := tx.ClearReservation(ctx, b.ID); err != nil {
			return nil, err
		}
		if err := c.k.buildStateCallbacks(ctx, "postBuildStateChange", b.State, store.BuildComplete, info); err != nil {
			return nil, err
		}
		id = b.ID
	} else {
		var err error
		if id, err = c.k.newBuildFromData(ctx, c.build); err != nil {
			return nil, err
		}
	}
	hasRPM := false
	for _, o := range c.outputs {
		hasRPM = hasRPM || o.typ == "rpm"
	}
	for _, bt := range sortedKeys(c.typeinfo) {
		if slices.Contains(legacyBTypes, bt) {
			if err := legacyBuildRows(ctx, id, bt, c.typeinfo[bt]); err != nil {
				return nil, err
			}
			continue
		}
		if err := newTypedBuild(ctx, id, bt); err != nil {
			return nil, err
		}
	}
	if _, ok := c.typeinfo["rpm"]; !ok && hasRPM {
		if err := newTypedBuild(ctx, id, "rpm"); err != nil {
			return nil, err
		}
	}
	return tx.GetBuild(ctx, id)
}

// importOutputs is CG_Importer.import_outputs: RPMs recorded (import_rpm
// with the output's extra) and, with the logs, moved into the build's
// directory.
func (c *cgImporter) importOutputs(ctx context.Context, row *store.BuildRow, binfo map[string]any) error {
	pi := koji.PathInfo{TopDir: c.top}
	kb := &koji.Build{Name: row.PackageName, Version: row.Version, Release: row.Release, VolumeName: row.VolumeName}
	for _, o := range c.outputs {
		switch o.typ {
		case "rpm":
			br := c.brs[o.br].id
			r, err := c.k.importRPM(ctx, c.files, o.rel, row, binfo, &br, o.info)
			if err != nil {
				return err
			}
			if err := c.files.planArchiveFile(o.rel, pi.Build(kb)+"/"+r.Arch); err != nil {
				return err
			}
		case "log":
			if xmlrpc.Truthy(o.info["metadata_only"]) {
				continue
			}
			if err := c.files.planBuildLog(o.rel, pi.BuildLogs(kb)); err != nil {
				return err
			}
		default:
			if err := c.importArchive(ctx, o, row, binfo, c.brs[o.br].id); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeFiles is import_metadata and move_rpm_log_file: the raw metadata
// in the build's metadata.json, the unmatched components in
// data/logs/cg_import.log.
func (c *cgImporter) writeFiles() error {
	dir := c.buildPath()
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return pyOSError(err, dir)
	}
	if err := os.WriteFile(filepath.Join(dir, "metadata.json"), []byte(c.raw), 0o666); err != nil {
		return pyOSError(err, dir)
	}
	if len(c.unmatched) == 0 {
		return nil
	}
	logs := filepath.Join(dir, "data", "logs")
	if err := os.MkdirAll(logs, 0o777); err != nil {
		return pyOSError(err, logs)
	}
	text := strings.Join(c.unmatched, "\n") + "\nCG import was SUCCESSFUL.\n"
	if err := os.WriteFile(filepath.Join(logs, "cg_import.log"), []byte(text), 0o666); err != nil {
		return pyOSError(err, logs)
	}
	return nil
}
