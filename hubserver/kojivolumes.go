package hubserver

import (
	"context"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/gokoji/gokoji/internal/rpm"
	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
)

// volumeMethods are upstream's storage volume calls (listVolumes is with
// the package lookups): a volume <name> other than DEFAULT keeps its
// files under <TopDir>/vol/<name>, as koji.pathinfo.volumedir.
func (k *Koji) volumeMethods() []Method {
	return []Method{
		{
			Name: "addVolume", PyName: "add_volume",
			Args: []Arg{{Name: "name"}, {Name: "strict", Default: true}},
			Doc:  "Add a new storage volume in the database",
			Func: k.addVolume,
		},
		{
			Name: "removeVolume", PyName: "remove_volume",
			Args: []Arg{{Name: "volume"}},
			Doc:  "Remove unused storage volume from the database",
			Func: removeVolume,
		},
		{
			Name: "getVolume", PyName: "RootExports.getVolume", Bound: true,
			Args: []Arg{{Name: "volume"}, {Name: "strict", Default: false}},
			Doc: "Lookup the given volume\n\n" +
				"        Returns a dictionary containing the name and id of the matching\n" +
				"        volume, or None if no match.\n" +
				"        If strict is true, raises an error if no match.\n        ",
			Func: getVolume,
		},
		{
			Name: "changeBuildVolume", PyName: "change_build_volume",
			Args: []Arg{{Name: "build"}, {Name: "volume"}, {Name: "strict", Default: true}},
			Doc:  "Move a build to a different storage volume",
			Func: k.changeBuildVolume,
		},
		{
			Name: "applyVolumePolicy", PyName: "RootExports.applyVolumePolicy", Bound: true,
			Args: []Arg{{Name: "build"}, {Name: "strict", Default: false}},
			Doc: "Apply the volume policy to a given build\n\n" +
				"        The volume policy is normally applied at import time, but it can\n" +
				"        also be applied with this call.\n\n" +
				"        Parameters:\n" +
				"            build: the build to apply the policy to\n" +
				"            strict: if True, raises on exception on policy issues\n        ",
			Func: k.applyVolumePolicy,
		},
	}
}

// volumeDir is koji.pathinfo.volumedir under the hub's top directory.
func (k *Koji) volumeDir(name string) (string, error) {
	top, err := k.topDir()
	if err != nil {
		return "", err
	}
	return koji.PathInfo{TopDir: top}.VolumeDir(name), nil
}

func pathIsDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// addVolume is upstream's add_volume: an admin adds a volume whose
// directory exists; with strict a known name is an error, else its row
// is the answer.
func (k *Koji) addVolume(ctx context.Context, name any, strict bool) (map[string]any, error) {
	if err := assertPerm(ctx, "admin"); err != nil {
		return nil, err
	}
	s, err := verifyNameInternal(name)
	if err != nil {
		return nil, err
	}
	dir, err := k.volumeDir(s)
	if err != nil {
		return nil, err
	}
	if !pathIsDir(dir) {
		return nil, fault(koji.ErrGeneric, "please create the volume directory first")
	}
	tx := storeTx(ctx)
	v, err := lookupName(ctx, tx, "volume", s, false, false)
	if err != nil {
		return nil, err
	}
	if v != nil {
		if strict {
			return nil, fault(koji.ErrGeneric, "volume %s already exists", s)
		}
		return namedRow(v), nil
	}
	id, err := tx.CreateVolume(ctx, s)
	if err != nil {
		return nil, err
	}
	return map[string]any{"id": id, "name": s}, nil
}

// removeVolume is upstream's remove_volume: an admin removes a volume no
// build is stored on.
func removeVolume(ctx context.Context, volume any) error {
	if err := assertPerm(ctx, "admin"); err != nil {
		return err
	}
	tx := storeTx(ctx)
	v, err := lookupName(ctx, tx, "volume", volume, true, false)
	if err != nil {
		return err
	}
	used, err := tx.VolumeHasBuilds(ctx, v.ID)
	if err != nil {
		return err
	}
	if used {
		return fault(koji.ErrGeneric, "volume %s has build references", v.Name)
	}
	return tx.DeleteVolume(ctx, v.ID)
}

// getVolume is RootExports.getVolume: {id, name} of a volume by id or
// name, None (with strict GenericError "No such volume") when unknown.
func getVolume(ctx context.Context, volume any, strict bool) (map[string]any, error) {
	v, err := lookupName(ctx, storeTx(ctx), "volume", volume, false, false)
	if err != nil {
		return nil, err
	}
	if v == nil && strict {
		return nil, fault(koji.ErrGeneric, "No such volume: %s", pyFormat(volume))
	}
	return namedRow(v), nil
}

// changeBuildVolume is upstream's change_build_volume: an admin moves a
// build to a volume (see setBuildVolume).
func (k *Koji) changeBuildVolume(ctx context.Context, build, volume any, strict bool) error {
	if err := assertPerm(ctx, "admin"); err != nil {
		return err
	}
	tx := storeTx(ctx)
	v, err := lookupName(ctx, tx, "volume", volume, true, false)
	if err != nil {
		return err
	}
	b, err := lookupBuild(ctx, tx, build, true)
	if err != nil {
		return err
	}
	return k.setBuildVolume(ctx, b, v, strict)
}

// buildDir is koji.pathinfo.build of the build as if on the volume.
func buildDir(top string, b *store.BuildRow, volume string) string {
	return koji.PathInfo{TopDir: top}.Build(&koji.Build{Name: b.PackageName, Version: b.Version, Release: b.Release, VolumeName: volume})
}

// setBuildVolume is upstream's _set_build_volume: a COMPLETE or DELETED
// build moves to the volume (with strict, one already there is an error).
// Its directory is copied there (unless it has none), the build row and
// its tags' updates (VOLUME_CHANGE) written, the old directory removed,
// and for a volume other than DEFAULT the build's path on DEFAULT made a
// relative symlink to the new one. No other volume may hold the build's
// directory, except DEFAULT such a symlink.
func (k *Koji) setBuildVolume(ctx context.Context, b *store.BuildRow, v *store.NamedRow, strict bool) error {
	if b.VolumeID == v.ID {
		if strict {
			return fault(koji.ErrGeneric, "Build %s already on volume %s", b.NVR(), b.VolumeName)
		}
		return nil
	}
	state := koji.BuildState(b.State).String()
	if state != "COMPLETE" && state != "DELETED" {
		return fault(koji.ErrGeneric, "Build %s is %s", b.NVR(), state)
	}
	top, err := k.topDir()
	if err != nil {
		return err
	}
	if !pathIsDir(koji.PathInfo{TopDir: top}.VolumeDir(v.Name)) {
		return fault(koji.ErrGeneric, "Directory entry missing for volume %s", v.Name)
	}
	tx := storeTx(ctx)
	vols, err := tx.ListVolumes(ctx)
	if err != nil {
		return err
	}
	for _, cv := range vols {
		dir := buildDir(top, b, cv.Name)
		switch {
		case cv.ID == b.VolumeID: // the volume we are moving from
		case cv.Name == "DEFAULT" && isSymlink(dir): // the convenience symlink
		case cv.ID == v.ID:
			if lexists(dir) {
				return fault(koji.ErrGeneric, "Destination directory exists: %s", dir)
			}
		case lexists(dir):
			return fault(koji.ErrGeneric, "Unexpected cross-volume content: %s", dir)
		}
	}

	olddir, newdir := buildDir(top, b, b.VolumeName), buildDir(top, b, v.Name)
	_, statErr := os.Stat(olddir)
	moved := statErr == nil
	if moved {
		if v.Name == "DEFAULT" && isSymlink(newdir) {
			if err := os.Remove(newdir); err != nil {
				return osError(err)
			}
		}
		if err := os.MkdirAll(filepath.Dir(newdir), 0o755); err != nil {
			return osError(err)
		}
		if err := copyTree(olddir, newdir); err != nil {
			return err
		}
	}

	old := b.VolumeID
	moving := *b
	moving.VolumeID, moving.VolumeName = v.ID, v.Name
	info, err := buildInfo(&moving)
	if err != nil {
		return err
	}
	kw := func() map[string]any {
		return map[string]any{"attribute": "volume_id", "old": old, "new": v.ID, "info": info}
	}
	if err := k.runCallbacks(ctx, "preBuildStateChange", kw()); err != nil {
		return err
	}
	if err := tx.SetBuildVolume(ctx, b.ID, v.ID); err != nil {
		return err
	}
	tags, err := tx.BuildTagIDs(ctx, b.ID)
	if err != nil {
		return err
	}
	for _, tag := range tags {
		if err := tx.AddTagUpdate(ctx, tag, callerID(ctx), store.TagUpdateVolumeChange); err != nil {
			return err
		}
	}
	if moved {
		if err := os.RemoveAll(olddir); err != nil {
			return osError(err)
		}
	}

	if v.Name != "DEFAULT" {
		basedir := buildDir(top, b, "DEFAULT")
		if isSymlink(basedir) {
			if err := os.Remove(basedir); err != nil {
				return osError(err)
			}
		}
		if !moved {
			// Upstream's newdir is only set when the build had a
			// directory to copy.
			return pyException("UnboundLocalError", "cannot access local variable 'newdir' where it is not associated with a value")
		}
		rel, err := filepath.Rel(filepath.Dir(basedir), newdir)
		if err != nil {
			return err
		}
		if err := os.Symlink(rel, basedir); err != nil {
			return osError(err)
		}
	}
	return k.runCallbacks(ctx, "postBuildStateChange", kw())
}

// osError is Python's OSError of a failed file operation, with the path
// it names.
func osError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pyOSError(err, pe.Path)
	}
	return pyOSError(err, "")
}

func isSymlink(path string) bool {
	st, err := os.Lstat(path)
	return err == nil && st.Mode()&fs.ModeSymlink != 0
}

func lexists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// copyTree is Python's shutil.copytree(src, dst, symlinks=True): the
// tree copied with its modes and times, symlinks copied as symlinks; dst
// must not exist.
func copyTree(src, dst string) error {
	st, err := os.Lstat(src)
	if err != nil {
		return osError(err)
	}
	if err := os.Mkdir(dst, 0o777); err != nil {
		return osError(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return osError(err)
	}
	for _, e := range entries {
		s, d := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		switch {
		case e.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(s)
			if err != nil {
				return osError(err)
			}
			if err := os.Symlink(target, d); err != nil {
				return osError(err)
			}
		case e.IsDir():
			if err := copyTree(s, d); err != nil {
				return err
			}
		default: // shutil.copy2: the contents, mode and times
			fi, err := e.Info()
			if err != nil {
				return osError(err)
			}
			if err := copyFile(s, d); err != nil {
				return osError(err)
			}
			if err := copyStat(d, fi); err != nil {
				return err
			}
		}
	}
	return copyStat(dst, st)
}

func copyStat(path string, st fs.FileInfo) error {
	if err := os.Chmod(path, st.Mode().Perm()|st.Mode()&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
		return osError(err)
	}
	atime, _, _ := statTimes(st)
	if err := os.Chtimes(path, time.UnixMicro(int64(atime*1e6)), st.ModTime()); err != nil {
		return osError(err)
	}
	return nil
}

// applyVolumePolicy is RootExports.applyVolumePolicy: an admin moves a
// build to the volume the volume policy names for it (see
// applyBuildVolumePolicy).
func (k *Koji) applyVolumePolicy(ctx context.Context, build any, strict bool) error {
	if err := assertPerm(ctx, "admin"); err != nil {
		return err
	}
	b, err := lookupBuild(ctx, storeTx(ctx), build, true)
	if err != nil {
		return err
	}
	return k.applyBuildVolumePolicy(ctx, b, strict)
}

// applyBuildVolumePolicy is upstream's apply_volume_policy: the volume
// policy for the build (and its task's data) names the volume it moves
// to. Without strict a policy that fails or names no known volume leaves
// the build where it is.
func (k *Koji) applyBuildVolumePolicy(ctx context.Context, b *store.BuildRow, strict bool) error {
	info, err := buildInfo(b)
	if err != nil {
		return err
	}
	data := map[string]any{"build": info}
	if b.TaskID != nil {
		td, err := policyDataFromTask(ctx, *b.TaskID)
		if err != nil {
			return err
		}
		maps.Copy(data, td)
	}
	v, err := k.checkVolumePolicy(ctx, data, strict, "")
	if v == nil || err != nil || v.ID == b.VolumeID {
		return err
	}
	return k.setBuildVolume(ctx, b, v, true)
}

// checkVolumePolicy is upstream's check_volume_policy: the volume the
// volume policy's action names for data, else the volume def ("": None);
// with strict an error when the policy fails or names no known volume,
// or nothing matches without a default, else nil.
func (k *Koji) checkVolumePolicy(ctx context.Context, data map[string]any, strict bool, def string) (*store.NamedRow, error) {
	log := LoggerFrom(ctx)
	tx := storeTx(ctx)
	result, err := k.evalPolicy(ctx, "volume", data)
	if err != nil {
		log.ErrorContext(ctx, "Volume policy error", "error", err)
		if strict {
			return nil, err
		}
		result = nil
	}
	if s, ok := result.(string); ok {
		v, err := lookupName(ctx, tx, "volume", s, false, false)
		if v != nil || err != nil {
			return v, err
		}
		if strict {
			return nil, fault(koji.ErrGeneric, "Policy returned no such volume: %s", s)
		}
		log.ErrorContext(ctx, "Volume policy returned no such volume", "volume", s)
	}
	if def != "" {
		v, err := lookupName(ctx, tx, "volume", def, false, false)
		if v != nil || err != nil {
			return v, err
		}
		if strict {
			return nil, fault(koji.ErrGeneric, "Invalid default volume: %s", def)
		}
		log.ErrorContext(ctx, "Invalid default volume", "volume", def)
	}
	if strict {
		return nil, fault(koji.ErrGeneric, "No volume policy match")
	}
	log.WarnContext(ctx, "No volume policy match")
	return nil, nil
}

// importVolume is the volume import_build gives a build: the volume
// policy's for the package, version, release, buildroots and the task's
// data (an rpm import), DEFAULT when it names none.
func (k *Koji) importVolume(ctx context.Context, hdr *rpm.Package, in *importInput, taskID *int64) (int64, error) {
	var brs []int64
	for _, id := range in.brmap {
		brs = append(brs, id)
	}
	slices.Sort(brs)
	buildroots := make([]any, len(brs))
	for i, id := range brs {
		buildroots[i] = id
	}
	data := map[string]any{"package": hdr.Name, "version": hdr.Version, "release": hdr.Release,
		"buildroots": buildroots, "import": true, "import_type": "rpm"}
	if taskID != nil {
		td, err := policyDataFromTask(ctx, *taskID)
		if err != nil {
			return 0, err
		}
		maps.Copy(data, td)
	}
	v, err := k.checkVolumePolicy(ctx, data, false, "DEFAULT")
	if err != nil {
		return 0, err
	}
	if v == nil {
		return 0, pyException("TypeError", "'NoneType' object is not subscriptable")
	}
	return v.ID, nil
}

// ensureVolumeSymlink is upstream's ensure_volume_symlink: a build on a
// volume other than DEFAULT has a relative symlink to its directory at
// its path on DEFAULT.
func ensureVolumeSymlink(top string, b *store.BuildRow) error {
	if b.VolumeName == "DEFAULT" {
		return nil
	}
	basedir := buildDir(top, b, "DEFAULT")
	rel, err := filepath.Rel(filepath.Dir(basedir), buildDir(top, b, b.VolumeName))
	if err != nil {
		return err
	}
	switch {
	case isSymlink(basedir):
		if target, err := os.Readlink(basedir); err == nil && target == rel {
			return nil
		}
		if err := os.Remove(basedir); err != nil {
			return osError(err)
		}
	case lexists(basedir):
		return fault(koji.ErrGeneric, "Unexpected build content: %s", basedir)
	default:
		if err := os.MkdirAll(filepath.Dir(basedir), 0o755); err != nil {
			return osError(err)
		}
	}
	if err := os.Symlink(rel, basedir); err != nil {
		return osError(err)
	}
	return nil
}
