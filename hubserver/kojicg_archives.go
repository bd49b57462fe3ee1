package hubserver

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gokoji/gokoji/internal/maven"
	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// The archive outputs of a content generator import (CG_Importer's
// prep_archive, import_archive and import_components, and upstream's
// import_archive_internal): images, Maven and Windows files and the files
// of any other build type, recorded in archiveinfo with their legacy type
// rows and contents, and moved into the build's directory for the type.

// A cgArchive is an archive output's type and matched components.
type cgArchive struct {
	btype    string
	typeInfo any
	comps    bool // the output lists components
	rpms     []int64
	archives []int64
}

// legacyBTypes are the build types with tables of their own.
var legacyBTypes = []string{"maven", "win", "image"}

// prepArchive is CG_Importer.prep_archive: the output's one type, from a
// legacy key of its extra or from extra.typeinfo, must be a type of the
// build; its components are matched (not for maven and win archives).
func (c *cgImporter) prepArchive(ctx context.Context, info map[string]any, name string) (*cgArchive, error) {
	extra, _ := info["extra"].(map[string]any)
	a := &cgArchive{}
	found := false
	for _, key := range sortedKeys(extra) {
		if !slices.Contains(legacyBTypes, key) {
			continue
		}
		if found {
			return nil, fault(koji.ErrGeneric, "Output file has multiple types: %s", name)
		}
		a.btype, a.typeInfo, found = key, extra[key], true
	}
	typeinfo, _ := extra["typeinfo"].(map[string]any)
	for _, key := range sortedKeys(typeinfo) {
		if found && a.btype == key {
			return nil, fault(koji.ErrGeneric, "Duplicate typeinfo for: %s", pyRepr(key))
		}
		if found {
			return nil, fault(koji.ErrGeneric, "Output file has multiple types: %s", name)
		}
		a.btype, a.typeInfo, found = key, typeinfo[key], true
	}
	if !found {
		return nil, fault(koji.ErrGeneric, "No typeinfo for: %s", name)
	}
	if _, ok := c.typeinfo[a.btype]; !ok {
		return nil, fault(koji.ErrGeneric, "Output type %s not listed in build types", a.btype)
	}
	if _, ok := info["components"]; ok {
		if a.btype == "maven" || a.btype == "win" {
			return nil, fault(koji.ErrGeneric, "Component list not allowed for archives of type %s", a.btype)
		}
		comps, err := listMember(info, "components")
		if err != nil {
			return nil, err
		}
		a.comps = true
		if a.rpms, a.archives, err = c.matchComponents(ctx, comps); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// legacyBuildRows are CG_Importer.get_build's rows for the legacy types
// of the build: new_maven_build, new_win_build and new_image_build.
func legacyBuildRows(ctx context.Context, id int64, btype string, tinfo any) error {
	tx := storeTx(ctx)
	rows, err := tx.LegacyTypeInfo(ctx, id)
	if err != nil {
		return err
	}
	switch btype {
	case "maven":
		m, ok := tinfo.(map[string]any)
		if !ok {
			return fault(koji.ErrGeneric, "Invalid type for maven_info: %s", pyClass(tinfo))
		}
		if cur, ok := rows["maven"]; ok {
			for _, f := range []string{"group_id", "artifact_id", "version"} {
				if cur[f] != m[f] {
					return fault(koji.ErrBuild, "%s mismatch (current: %s, new: %s)", f, pyFormat(cur[f]), pyFormat(m[f]))
				}
			}
			return nil
		}
		if len(m) == 0 {
			return fault(koji.ErrGeneric, "Maven info is empty")
		}
		row, err := mavenInfo(m, func(key string) error {
			return fault(koji.ErrGeneric, "Maven info doesn't have mandatory %s key", pyRepr(key))
		})
		if err != nil {
			return err
		}
		if err := tx.AddMavenBuild(ctx, id, row); err != nil {
			return err
		}
	case "win":
		w, ok := tinfo.(map[string]any)
		if !ok {
			return fault(koji.ErrGeneric, "Invalid type for win_info: %s", pyClass(tinfo))
		}
		if len(w) == 0 {
			return fault(koji.ErrGeneric, "Windows info is empty")
		}
		platform, ok := w["platform"]
		if !ok {
			return fault(koji.ErrGeneric, "Windows info doesn't have mandatory platform key")
		}
		p, ok := platform.(string)
		if !ok {
			return convertError(platform, "str")
		}
		if cur, ok := rows["win"]; ok {
			if cur["platform"] != p {
				return tx.SetWinBuildPlatform(ctx, id, p)
			}
			return nil
		}
		if err := tx.AddWinBuild(ctx, id, p); err != nil {
			return err
		}
	case "image":
		if _, ok := rows["image"]; ok {
			return nil
		}
		if err := tx.AddImageBuild(ctx, id); err != nil {
			return err
		}
	}
	return newTypedBuild(ctx, id, btype)
}

// importArchive is CG_Importer.import_archive: import_archive_internal
// of the output, then its components.
func (c *cgImporter) importArchive(ctx context.Context, o cgOutput, row *store.BuildRow, binfo map[string]any, brID int64) error {
	tx := storeTx(ctx)
	info, a := o.info, o.archive
	metadataOnly := xmlrpc.Truthy(info["metadata_only"])
	var rec store.Archive
	rec.BuildID, rec.BuildrootID, rec.MetadataOnly = row.ID, &brID, metadataOnly
	ctype, _ := info["checksum_type"].(string)
	rec.Checksum, _ = info["checksum"].(string)
	rec.ChecksumType = int64(slices.Index(checksumTypes, ctype))
	if metadataOnly {
		rec.Filename, _ = info["filename"].(string)
		rec.Size, _ = convertInt(info["filesize"])
		if ctype != "md5" && ctype != "sha256" {
			return fault(koji.ErrGeneric, "Unsupported checksum type: %s", pyFormat(info["checksum_type"]))
		}
	} else {
		rec.Filename = path.Base(o.rel)
		abs, err := c.files.path(o.rel)
		if err != nil {
			return err
		}
		fi, err := os.Stat(abs)
		if err != nil {
			return pyOSError(err, abs)
		}
		rec.Size = fi.Size() // checked against the metadata by prep_outputs
	}
	atype, err := archiveTypeOfFile(ctx, tx, rec.Filename, true)
	if err != nil {
		return err
	}
	rec.TypeID = atype.ID
	bt, err := lookupName(ctx, tx, "btype", a.btype, false, false)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if bt == nil {
		return fault(koji.ErrBuild, "unsupported build type: %s", a.btype)
	}
	types, err := buildTypes(ctx, binfo)
	if err != nil {
		return err
	}
	if _, ok := types[bt.Name]; !ok {
		return fault(koji.ErrImport, "Build does not have type %s", bt.Name)
	}
	rec.BTypeID = &bt.ID
	if x, ok := info["extra"]; ok && x != nil {
		s, err := encodeJSON(x)
		if err != nil {
			return err
		}
		rec.Extra = &s
	}
	var filepathArg any
	if !metadataOnly {
		filepathArg = c.files.uploadName(o.rel)
	}
	kw := func(archive any) map[string]any {
		return map[string]any{"type": "archive", "archive": archive, "build": binfo, "build_type": a.btype,
			"filepath": filepathArg, "fileinfo": info}
	}
	if err := c.k.runCallbacks(ctx, "preImport", kw(archiveRecordInfo(&rec))); err != nil {
		return err
	}
	if rec.ID, err = tx.CreateArchive(ctx, rec); err != nil {
		return err
	}
	pi := koji.PathInfo{TopDir: c.top}
	kb := &koji.Build{Name: row.PackageName, Version: row.Version, Release: row.Release, VolumeName: row.VolumeName}
	destdir := pi.TypeDir(kb, a.btype)
	tinfo, _ := a.typeInfo.(map[string]any)
	switch a.btype {
	case "maven":
		if _, err := legacyBuildType(ctx, row.ID, true, "maven", "maven"); err != nil {
			return err
		}
		m, err := mavenInfo(tinfo, func(key string) error { return pyException("KeyError", "%s", pyRepr(key)) })
		if err != nil {
			return err
		}
		if atype.Name == "pom" && !metadataOnly {
			if err := c.checkPOM(o.rel, rec.Filename, m); err != nil {
				return err
			}
		}
		if err := tx.AddMavenArchive(ctx, rec.ID, m); err != nil {
			return err
		}
		destdir = pi.MavenBuild(kb) + "/" + pi.MavenRepo(&koji.MavenInfo{GroupID: m.GroupID, ArtifactID: m.ArtifactID, Version: m.Version})
		if !metadataOnly {
			c.mavenDirs = append(c.mavenDirs, destdir)
		}
	case "win":
		if _, err := legacyBuildType(ctx, row.ID, true, "win", "Windows"); err != nil {
			return err
		}
		w, err := winArchiveInfo(tinfo)
		if err != nil {
			return err
		}
		if err := tx.AddWinArchive(ctx, rec.ID, w); err != nil {
			return err
		}
		if w.RelPath != "" {
			destdir += "/" + w.RelPath
		}
	case "image":
		arch, ok := tinfo["arch"]
		if !ok {
			return pyException("KeyError", "'arch'")
		}
		s, ok := arch.(string)
		if !ok {
			return convertError(arch, "str")
		}
		if err := tx.AddImageArchive(ctx, rec.ID, s); err != nil {
			return err
		}
	}
	if !metadataOnly {
		if err := c.files.planArchiveFile(o.rel, destdir); err != nil {
			return err
		}
	}
	if a.comps {
		if err := tx.AddArchiveComponents(ctx, rec.ID, dedupe(a.rpms), dedupe(a.archives)); err != nil {
			return err
		}
	}
	got, err := listArchives(ctx, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, rec.ID, false)
	if err != nil {
		return err
	}
	return c.k.runCallbacks(ctx, "postImport", kw(got.([]map[string]any)[0]))
}

// dedupe drops repeated values, keeping the first of each: a component
// listed twice is recorded once.
func dedupe[T comparable](s []T) []T {
	var out []T
	for _, x := range s {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// archiveRecordInfo is the archiveinfo dict the preImport callback gets.
func archiveRecordInfo(a *store.Archive) map[string]any {
	return map[string]any{"buildroot_id": ptrValue(a.BuildrootID), "build_id": a.BuildID, "filename": a.Filename,
		"size": a.Size, "checksum": a.Checksum, "checksum_type": a.ChecksumType, "metadata_only": a.MetadataOnly,
		"type_id": a.TypeID, "btype_id": ptrValue(a.BTypeID), "extra": ptrValue(a.Extra)}
}

// mavenInfo is the group_id, artifact_id and version of a maven
// typeinfo; missing is the error for a key it lacks.
func mavenInfo(m map[string]any, missing func(key string) error) (store.MavenBuildRow, error) {
	var row store.MavenBuildRow
	for _, f := range []struct {
		key string
		dst *string
	}{{"group_id", &row.GroupID}, {"artifact_id", &row.ArtifactID}, {"version", &row.Version}} {
		v, ok := m[f.key]
		if !ok {
			return row, missing(f.key)
		}
		s, ok := v.(string)
		if !ok {
			return row, convertError(v, "str")
		}
		*f.dst = s
	}
	return row, nil
}

// winArchiveInfo is the win_archives row of a win typeinfo: relpath
// without surrounding slashes, platforms (required) and flags joined by
// spaces.
func winArchiveInfo(w map[string]any) (store.WinArchive, error) {
	var row store.WinArchive
	rel, ok := w["relpath"]
	if !ok {
		return row, pyException("KeyError", "'relpath'")
	}
	s, ok := rel.(string)
	if !ok {
		return row, convertError(rel, "str")
	}
	row.RelPath = strings.Trim(s, "/")
	join := func(key string) (string, error) {
		v, ok := w[key]
		if !ok {
			return "", pyException("KeyError", "%s", pyRepr(key))
		}
		if !xmlrpc.Truthy(v) {
			return "", nil
		}
		list, ok := v.([]any)
		if !ok {
			return "", convertError(v, "list")
		}
		parts := make([]string, len(list))
		for i, x := range list {
			if parts[i], ok = x.(string); !ok {
				return "", pyException("TypeError", "sequence item %d: expected str instance, %s found", i, pyTypeName(x))
			}
		}
		return strings.Join(parts, " "), nil
	}
	platforms, err := join("platforms")
	if err != nil {
		return row, err
	}
	if platforms == "" {
		return row, fault(koji.ErrBuild, "no value for platforms")
	}
	row.Platforms = platforms
	flags, err := join("flags")
	if err != nil {
		return row, err
	}
	if flags != "" {
		row.Flags = &flags
	}
	return row, nil
}

// checkPOM is import_archive_internal's check of a .pom: its coordinates
// must be the typeinfo's, and its name <artifact_id>-<version>.pom.
func (c *cgImporter) checkPOM(rel, filename string, m store.MavenBuildRow) error {
	abs, err := c.files.path(rel)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return pyOSError(err, abs)
	}
	pom, err := maven.ParsePOM(data)
	if err != nil {
		return fault(koji.ErrGeneric, "%s", strings.Replace(err.Error(), "from POM", "from POM: "+abs, 1))
	}
	label := func(g, a, v string) string { return g + "-" + a + "-" + v }
	if label(pom.GroupID, pom.ArtifactID, pom.Version) != label(m.GroupID, m.ArtifactID, m.Version) {
		return fault(koji.ErrBuild, "Maven info from .pom file (%s) does not match user-supplied typeInfo (%s)",
			label(pom.GroupID, pom.ArtifactID, pom.Version), label(m.GroupID, m.ArtifactID, m.Version))
	}
	if filename != m.ArtifactID+"-"+m.Version+".pom" {
		return fault(koji.ErrBuild, "Maven info (%s) is not consistent with pom filename (%s)",
			label(m.GroupID, m.ArtifactID, m.Version), filename)
	}
	return nil
}

// writeMavenSums is _generate_maven_metadata for each Maven directory the
// import filled: a .md5 and a .sha1 beside every file that has none.
func (c *cgImporter) writeMavenSums() error {
	for _, dir := range dedupe(c.mavenDirs) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return pyOSError(err, dir)
		}
		names := map[string]bool{}
		for _, e := range entries {
			names[e.Name()] = true
		}
		for _, e := range entries {
			ext := filepath.Ext(e.Name())
			if ext == ".md5" || ext == ".sha1" || !e.Type().IsRegular() {
				continue
			}
			for _, s := range []struct {
				ext string
				h   func() hash.Hash
			}{{".md5", md5.New}, {".sha1", sha1.New}} {
				sumfile := e.Name() + s.ext
				if names[sumfile] {
					continue
				}
				sum, err := fileSum(filepath.Join(dir, e.Name()), s.h())
				if err != nil {
					return err
				}
				out := filepath.Join(dir, sumfile)
				if err := os.WriteFile(out, []byte(sum), 0o644); err != nil {
					return pyOSError(err, out)
				}
				c.written = append(c.written, out)
			}
		}
	}
	return nil
}

func fileSum(name string, h hash.Hash) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", pyOSError(err, name)
	}
	defer f.Close()
	if _, err := io.Copy(h, f); err != nil {
		return "", pyOSError(err, name)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
