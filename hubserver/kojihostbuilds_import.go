package hubserver

import (
	"context"
	"errors"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/gokoji/gokoji/internal/rpm"
	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
)

// importArgs are import_build's arguments as the call gave them.
type importArgs struct {
	srpm, rpms, brmap, logs any
	taskID                  *int64
	buildID                 any
}

// importInput are import_build's arguments checked: file names relative
// to the work directory, the buildroot of each (brmap), and the logs by
// subdirectory.
type importInput struct {
	srpm  string
	rpms  []string
	brmap map[string]int64
	logs  []logFiles
}

// logFiles are the logs of one key of the logs argument, in key order.
type logFiles struct {
	key   string
	files []string
}

func readImportArgs(a importArgs) (*importInput, error) {
	in := &importInput{brmap: map[string]int64{}}
	if a.brmap != nil {
		m, ok := a.brmap.(map[string]any)
		if !ok {
			return nil, convertError(a.brmap, "dict")
		}
		for rel, v := range m {
			id, err := convertInt(v)
			if err != nil {
				return nil, err
			}
			in.brmap[rel] = id
		}
	}
	s, ok := a.srpm.(string)
	if !ok {
		return nil, convertError(a.srpm, "str")
	}
	in.srpm = s
	list, ok := a.rpms.([]any)
	if !ok {
		return nil, convertError(a.rpms, "list")
	}
	var err error
	if in.rpms, err = stringList(list); err != nil {
		return nil, err
	}
	if a.logs != nil {
		m, ok := a.logs.(map[string]any)
		if !ok {
			return nil, pyException("AttributeError", "'%s' object has no attribute 'items'", pyTypeName(a.logs))
		}
		keys := make([]string, 0, len(m))
		for key := range m {
			keys = append(keys, key)
		}
		slices.Sort(keys)
		for _, key := range keys {
			l, ok := m[key].([]any)
			if !ok {
				return nil, convertError(m[key], "list")
			}
			files, err := stringList(l)
			if err != nil {
				return nil, err
			}
			in.logs = append(in.logs, logFiles{key, files})
		}
	}
	return in, nil
}

func stringList(l []any) ([]string, error) {
	out := make([]string, len(l))
	for i, v := range l {
		s, ok := v.(string)
		if !ok {
			return nil, convertError(v, "str")
		}
		out[i] = s
	}
	return out, nil
}

// checkNoarchRPMs is upstream's check_noarch_rpms without its rpmdiff:
// of noarch RPMs with the same file name (every arch's task builds them)
// only the first is kept.
func checkNoarchRPMs(rpms []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, rel := range rpms {
		if strings.HasSuffix(rel, ".noarch.rpm") {
			if seen[baseName(rel)] {
				continue
			}
			seen[baseName(rel)] = true
		}
		out = append(out, rel)
	}
	return out
}

func baseName(rel string) string { return path.Base(rel) }

func formatInt(n int64) string { return strconv.FormatInt(n, 10) }

// readRPM is koji.get_rpm_header of an upload.
func readRPM(fn string) (*rpm.Package, error) {
	p, err := rpm.ReadFile(fn)
	if err != nil {
		return nil, pyException("_rpm.error", "error reading package header")
	}
	if p.SourcePackage {
		p.Arch = "src"
	}
	return p, nil
}

func epoch64(p *rpm.Package) *int64 {
	if p.Epoch == nil {
		return nil
	}
	e := int64(*p.Epoch)
	return &e
}

// importBuild is upstream's import_build: the SRPM's header names the
// build, which is created (no build id) or must be the BUILDING build
// given, of the same NVR, epoch and task; it becomes COMPLETE, every
// (S)RPM is recorded (import_rpm) and moved into the build's directory
// with the logs (see importFiles).
func (k *Koji) importBuild(ctx context.Context, a importArgs) (map[string]any, error) {
	in, err := readImportArgs(a)
	if err != nil {
		return nil, err
	}
	kw := func(build any) map[string]any {
		brmap := map[string]any{}
		for rel, id := range in.brmap {
			brmap[rel] = id
		}
		rpms := make([]any, len(in.rpms))
		for i, r := range in.rpms {
			rpms[i] = r
		}
		return map[string]any{"type": "build", "srpm": in.srpm, "rpms": rpms, "brmap": brmap,
			"task_id": ptrValue(a.taskID), "build_id": a.buildID, "build": build, "logs": a.logs}
	}
	if err := k.runCallbacks(ctx, "preImport", kw(nil)); err != nil {
		return nil, err
	}
	files, top, err := k.openImportFiles()
	if err != nil {
		return nil, err
	}
	defer files.close()
	for _, rel := range append([]string{in.srpm}, in.rpms...) {
		if err := files.exists(rel); err != nil {
			return nil, err
		}
	}
	in.rpms = checkNoarchRPMs(in.rpms)
	for _, id := range in.brmap {
		if _, err := loadBuildroot(ctx, id); err != nil {
			return nil, err
		}
	}
	fn, _ := files.path(in.srpm)
	hdr, err := readRPM(fn)
	if err != nil {
		return nil, err
	}
	if !hdr.SourcePackage {
		return nil, fault(koji.ErrGeneric, "not a source package: %s", fn)
	}
	vol, err := k.importVolume(ctx, hdr, in, a.taskID)
	if err != nil {
		return nil, err
	}
	row, err := k.completeImportedBuild(ctx, hdr, a, vol)
	if err != nil {
		return nil, err
	}
	binfo, err := buildInfo(row)
	if err != nil {
		return nil, err
	}
	pi := koji.PathInfo{TopDir: top}
	builddir := pi.Build(&koji.Build{Name: row.PackageName, Version: row.Version, Release: row.Release, VolumeName: row.VolumeName})
	var sigs []rpmSigHeader
	for _, rel := range append([]string{in.srpm}, in.rpms...) {
		var br *int64
		if id, ok := in.brmap[rel]; ok {
			br = &id
		}
		r, err := k.importRPM(ctx, files, rel, row, binfo, br, nil)
		if err != nil {
			return nil, err
		}
		fn, _ := files.path(rel)
		sighdr, err := rpm.RipSigHeader(fn)
		if err != nil {
			return nil, rpmHeaderError(err, "Invalid rpm")
		}
		if err := files.planArchiveFile(rel, builddir+"/"+r.Arch); err != nil {
			return nil, err
		}
		sigs = append(sigs, rpmSigHeader{r.ID, sighdr})
	}
	logdir := builddir + "/data/logs"
	for _, l := range in.logs {
		sub, err := subdir(l.key, logdir)
		if err != nil {
			return nil, err
		}
		dir := logdir
		if sub != "" {
			dir += "/" + sub
		}
		for _, rel := range l.files {
			if err := files.planBuildLog(rel, dir); err != nil {
				return nil, err
			}
		}
	}
	if err := files.run(); err != nil {
		return nil, err
	}
	// upstream stores each (S)RPM's signature header (add_rpm_sig) once
	// the file is in the build's directory
	err = nil
	for _, sh := range sigs {
		if err = k.addRPMSig(ctx, sh.rpmID, sh.sighdr); err != nil {
			break
		}
	}
	if err == nil {
		err = ensureVolumeSymlink(top, row)
	}
	if err == nil {
		err = k.runCallbacks(ctx, "postImport", kw(binfo))
	}
	if err != nil {
		for i := len(files.moves) - 1; i >= 0; i-- {
			files.moves[i].undo()
		}
		return nil, err
	}
	return binfo, nil
}

// rpmSigHeader is an imported RPM's signature header, stored once the
// file has moved.
type rpmSigHeader struct {
	rpmID  int64
	sighdr []byte
}

// completeImportedBuild is the build part of import_build: a new COMPLETE
// build of the SRPM's NVR without a build id, else the checks and state
// change of the given BUILDING build; either on volume vol.
func (k *Koji) completeImportedBuild(ctx context.Context, hdr *rpm.Package, a importArgs, vol int64) (*store.BuildRow, error) {
	tx := storeTx(ctx)
	if a.buildID == nil {
		data := map[string]any{"name": hdr.Name, "version": hdr.Version, "release": hdr.Release,
			"epoch": ptrValue(epoch64(hdr)), "task_id": ptrValue(a.taskID), "volume_id": vol}
		id, err := k.newBuildFromData(ctx, data)
		if err != nil {
			return nil, err
		}
		if err := newTypedBuild(ctx, id, "rpm"); err != nil {
			return nil, err
		}
		return tx.GetBuild(ctx, id)
	}
	row, err := lookupBuild(ctx, tx, a.buildID, true)
	if err != nil {
		return nil, err
	}
	info, err := buildInfo(row)
	if err != nil {
		return nil, err
	}
	if err := k.buildStateCallbacks(ctx, "preBuildStateChange", row.State, store.BuildComplete, info); err != nil {
		return nil, err
	}
	for _, c := range []struct {
		key       string
		build, rp any
	}{{"name", row.PackageName, hdr.Name}, {"version", row.Version, hdr.Version}, {"release", row.Release, hdr.Release},
		{"epoch", ptrValue(row.Epoch), ptrValue(epoch64(hdr))}, {"task_id", ptrValue(row.TaskID), ptrValue(a.taskID)}} {
		if c.build != c.rp {
			return nil, fault(koji.ErrGeneric, "Unable to complete build: %s mismatch (build: %s, rpm: %s)",
				c.key, pyFormat(c.build), pyFormat(c.rp))
		}
	}
	if row.State != store.BuildBuilding {
		return nil, fault(koji.ErrGeneric, "Unable to complete build: state is %s", koji.BuildState(row.State).String())
	}
	if err := tx.FinishBuild(ctx, row.ID, store.BuildComplete, &vol); err != nil {
		return nil, err
	}
	done, err := tx.GetBuild(ctx, row.ID)
	if err != nil {
		return nil, err
	}
	if info, err = buildInfo(done); err != nil {
		return nil, err
	}
	return done, k.buildStateCallbacks(ctx, "postBuildStateChange", row.State, store.BuildComplete, info)
}

// importRPM is upstream's import_rpm(fn, buildinfo, brootid, fileinfo)
// for an upload: the file name must be the header's NVRA and the RPM must
// come from the build's SRPM; the rpminfo row is inserted between the
// pre and postImport callbacks. It returns the RPM as recorded.
func (k *Koji) importRPM(ctx context.Context, files *importFiles, rel string, row *store.BuildRow, binfo map[string]any,
	brootID *int64, fileinfo map[string]any) (*store.RPM, error) {
	fn, err := files.path(rel)
	if err != nil {
		return nil, err
	}
	name := files.uploadName(rel)
	hdr, err := readRPM(fn)
	if err != nil {
		return nil, err
	}
	base := baseName(rel)
	if expected := hdr.NVRA() + ".rpm"; base != expected {
		return nil, fault(koji.ErrGeneric, "bad filename: %s (expected %s)", base, expected)
	}
	srpmName := row.NVR() + ".src.rpm"
	if !hdr.SourcePackage && hdr.SourceRPM != srpmName {
		return nil, fault(koji.ErrGeneric, "srpm mismatch for %s: %s (expected %s)", name, hdr.SourceRPM, srpmName)
	} else if hdr.SourcePackage && base != srpmName {
		return nil, fault(koji.ErrGeneric, "srpm mismatch for %s: %s (expected %s)", name, base, srpmName)
	}
	if err := newTypedBuild(ctx, row.ID, "rpm"); err != nil {
		return nil, err
	}
	tx := storeTx(ctx)
	fi, err := os.Stat(fn)
	if err != nil {
		return nil, pyOSError(err, name)
	}
	id, err := tx.NextRPMID(ctx)
	if err != nil {
		return nil, err
	}
	r := store.RPM{ID: id, BuildID: &row.ID, BuildrootID: brootID, Name: hdr.Name, Version: hdr.Version,
		Release: hdr.Release, Epoch: epoch64(hdr), Arch: hdr.Arch, Draft: &row.Draft, PayloadHash: hdr.PayloadHash(),
		Size: fi.Size(), BuildTime: hdr.BuildTime}
	var sourcepackage, sourcerpm any
	if hdr.SourcePackage {
		sourcepackage = int64(1)
	} else {
		sourcerpm = hdr.SourceRPM
	}
	info := map[string]any{"name": r.Name, "version": r.Version, "release": r.Release, "epoch": ptrValue(r.Epoch),
		"sourcepackage": sourcepackage, "arch": r.Arch, "buildtime": r.BuildTime, "sourcerpm": sourcerpm, "id": id,
		"build_id": row.ID, "size": r.Size, "payloadhash": r.PayloadHash, "buildroot_id": ptrValue(brootID),
		"external_repo_id": int64(0)}
	if extra, ok := fileinfo["extra"]; ok && extra != nil {
		s, err := encodeJSON(extra)
		if err != nil {
			return nil, err
		}
		r.Extra, info["extra"] = &s, s
	}
	kw := func() map[string]any {
		return map[string]any{"type": "rpm", "rpm": info, "build": binfo, "filepath": name, "fileinfo": fileinfo}
	}
	if err := k.runCallbacks(ctx, "preImport", kw()); err != nil {
		return nil, err
	}
	if _, err := tx.CreateRPM(ctx, r); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, pyException("psycopg2.errors.UniqueViolation",
				"duplicate key value violates unique constraint \"rpminfo_unique_nvra_not_draft\"")
		}
		return nil, err
	}
	return &r, k.runCallbacks(ctx, "postImport", kw())
}
