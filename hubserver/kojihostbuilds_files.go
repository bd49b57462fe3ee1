package hubserver

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/gokoji/gokoji/koji"
)

// An importFiles is the work directory a build import reads uploads from
// and the moves it makes: upstream's import_build, import_rpm_file,
// import_build_log and moveBuildToScratch move each file as they go,
// within the transaction. Here every check upstream makes is made at the
// same point, but the moves are only planned; run makes them once the
// database work succeeded, and undoes them if one fails. So a call that
// faults leaves every upload where it was. (Should the commit itself
// fail after run, the files stay moved with the symbolic links upstream
// leaves in the work directory pointing at them: nothing is lost.)
type importFiles struct {
	work  *workArea
	moves []fileMove
	dests map[string]bool // planned destinations, which must not be reused
}

// A fileMove is upstream's move_and_symlink(src, dst): the file goes to
// dst and a relative symbolic link to it takes its place.
type fileMove struct {
	src, dst string // absolute paths
}

func (k *Koji) openImportFiles() (*importFiles, string, error) {
	top, err := k.topDir()
	if err != nil {
		return nil, "", err
	}
	w, err := openWork(top, "DEFAULT", true)
	if err != nil {
		return nil, "", err
	}
	return &importFiles{work: w, dests: map[string]bool{}}, top, nil
}

func (f *importFiles) close() { f.work.close() }

// uploadName is upstream's "%s/%s" % (koji.pathinfo.work(), relpath),
// the name faults give.
func (f *importFiles) uploadName(rel string) string { return f.work.dir + "/" + rel }

// errLeaves refuses a name that leads out of the directory it names a
// file in: upstream would follow it.
func errLeaves(name string) error {
	return fault(koji.ErrGeneric, "path leaves the hub's directory: %s", name)
}

// relPath checks that rel stays within the work directory and returns it
// cleaned.
func (f *importFiles) relPath(rel string) (string, error) {
	clean := path.Clean(rel)
	if rel == "" || path.IsAbs(rel) || clean == ".." || strings.HasPrefix(clean, "../") || strings.ContainsRune(rel, 0) {
		return "", errLeaves(f.uploadName(rel))
	}
	return clean, nil
}

// exists is os.path.exists of an upload: "No such file" when it is
// missing. Directories on the way must stay in the work directory; the
// upload itself may be one of the symbolic links an import leaves (to
// the build's directory), followed as upstream follows it.
func (f *importFiles) exists(rel string) error {
	clean, err := f.relPath(rel)
	if err != nil {
		return err
	}
	fi, err := f.work.root.Lstat(clean)
	if err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		_, err = os.Stat(filepath.Join(f.work.dir, filepath.FromSlash(clean)))
	}
	if err != nil {
		if missing(err) {
			return fault(koji.ErrGeneric, "No such file: %s", f.uploadName(rel))
		}
		return pyOSError(err, f.uploadName(rel))
	}
	return nil
}

// path returns the absolute path of an upload that exists.
func (f *importFiles) path(rel string) (string, error) {
	if err := f.exists(rel); err != nil {
		return "", err
	}
	clean, _ := f.relPath(rel)
	return filepath.Join(f.work.dir, filepath.FromSlash(clean)), nil
}

// regular reports whether the upload is a regular file, not a symbolic
// link (upstream's os.path.islink(fn) or not os.path.isfile(fn)).
func (f *importFiles) regular(rel string) bool {
	clean, err := f.relPath(rel)
	if err != nil {
		return false
	}
	fi, err := f.work.root.Lstat(clean)
	return err == nil && fi.Mode().IsRegular()
}

// taken reports whether dst exists or another planned move goes there.
func (f *importFiles) taken(dst string) bool {
	if f.dests[dst] {
		return true
	}
	_, err := os.Lstat(dst)
	return err == nil
}

// plan records the move of the upload rel to dst, faulting as upstream's
// safer_move when dst is taken.
func (f *importFiles) plan(rel, dst string) error {
	src, err := f.path(rel)
	if err != nil {
		return err
	}
	if f.dests[dst] {
		return fault(koji.ErrGeneric, "Destination exists: %s", dst)
	}
	if err := destFree(dst); err != nil {
		return err
	}
	f.dests[dst] = true
	f.moves = append(f.moves, fileMove{src, dst})
	return nil
}

// planArchiveFile is upstream's _import_archive_file(fn, destdir).
func (f *importFiles) planArchiveFile(rel, destdir string) error {
	if err := f.exists(rel); err != nil {
		return err
	}
	final := destdir + "/" + path.Base(rel)
	if f.taken(final) {
		return fault(koji.ErrGeneric, "Error importing archive file, %s already exists", final)
	}
	if !f.regular(rel) {
		return fault(koji.ErrGeneric, "Error importing archive file, %s is not a regular file", f.uploadName(rel))
	}
	return f.plan(rel, final)
}

// planBuildLog is upstream's import_build_log(fn, buildinfo, subdir).
func (f *importFiles) planBuildLog(rel, logdir string) error {
	if err := f.exists(rel); err != nil {
		return err
	}
	final := logdir + "/" + path.Base(rel)
	if f.taken(final) {
		return fault(koji.ErrGeneric, "Error importing build log. %s already exists.", final)
	}
	if !f.regular(rel) {
		return fault(koji.ErrGeneric, "Error importing build log. %s is not a regular file.", f.uploadName(rel))
	}
	return f.plan(rel, final)
}

// subdir checks a log subdirectory (a key of the logs argument) and
// returns it cleaned; "" for none.
func subdir(key, under string) (string, error) {
	if key == "" {
		return "", nil
	}
	clean := path.Clean(key)
	if path.IsAbs(key) || clean == ".." || strings.HasPrefix(clean, "../") || strings.ContainsRune(key, 0) {
		return "", errLeaves(under + "/" + key)
	}
	return clean, nil
}

// run makes the planned moves in order. When one fails, those made are
// undone, newest first, and the failure is returned.
func (f *importFiles) run() error {
	for i, m := range f.moves {
		if err := m.run(); err != nil {
			for j := i - 1; j >= 0; j-- {
				f.moves[j].undo()
			}
			return err
		}
	}
	return nil
}

func (m fileMove) run() error {
	if err := os.MkdirAll(filepath.Dir(m.dst), 0o777); err != nil {
		return pyOSError(err, filepath.Dir(m.dst))
	}
	if err := saferMove(m.src, m.dst); err != nil {
		return err
	}
	rel, err := filepath.Rel(filepath.Dir(m.src), m.dst)
	if err == nil {
		err = os.Symlink(rel, m.src)
	}
	if err != nil {
		os.Rename(m.dst, m.src)
		return pyOSError(err, m.src)
	}
	return nil
}

// undo puts the file back where it was.
func (m fileMove) undo() {
	if fi, err := os.Lstat(m.src); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		os.Remove(m.src)
	}
	if err := os.Rename(m.dst, m.src); err != nil && errors.Is(err, syscall.EXDEV) {
		if copyFile(m.dst, m.src) == nil {
			os.Remove(m.dst)
		}
	}
}

// saferMove is upstream's koji.util.safer_move: a rename, or across
// file systems a copy and removal; an existing destination is refused.
func saferMove(src, dst string) error {
	if err := destFree(dst); err != nil {
		return err
	}
	err := os.Rename(src, dst)
	if errors.Is(err, syscall.EXDEV) {
		if err = copyFile(src, dst); err == nil {
			err = os.Remove(src)
		}
	}
	if err != nil {
		return pyOSError(err, src)
	}
	return nil
}

// destFree is safer_move's check of its destination: nothing there, not
// even a dangling symbolic link.
func destFree(dst string) error {
	if _, err := os.Stat(dst); err == nil {
		return fault(koji.ErrGeneric, "Destination exists: %s", dst)
	}
	if _, err := os.Lstat(dst); err == nil {
		return fault(koji.ErrGeneric, "Destination is a symlink: %s", dst)
	}
	return nil
}

// copyFile copies a regular file with its mode.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fi.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	return out.Close()
}
