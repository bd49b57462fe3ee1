//go:build linux

package hubserver

import (
	"io"
	"io/fs"
	"os"
	"syscall"
)

// fOFDSetLK is Linux's F_OFD_SETLK. Its locks belong to the open file
// description, so two calls in one hub process exclude each other (a
// lockf lock belongs to the whole process and would not), and they
// conflict with the lockf locks upstream's hub takes.
const fOFDSetLK = 37

// lockFile takes a lock on the whole of f without waiting, exclusive or
// shared, as upstream's fcntl.lockf(fd, LOCK_EX|LOCK_NB) and LOCK_SH;
// closing f releases it (release does nothing). A lock held elsewhere is
// EAGAIN or EACCES.
func lockFile(f *os.File, exclusive bool) (release func(), err error) {
	lk := syscall.Flock_t{Type: syscall.F_RDLCK, Whence: io.SeekStart}
	if exclusive {
		lk.Type = syscall.F_WRLCK
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var lerr error
	if err := rc.Control(func(fd uintptr) { lerr = syscall.FcntlFlock(fd, fOFDSetLK, &lk) }); err != nil {
		return nil, err
	}
	if lerr != nil {
		return nil, lerr
	}
	return func() {}, nil
}

// statTimes returns a file's access, modification and change times as
// Python's st_atime, st_mtime and st_ctime: seconds since the epoch.
func statTimes(fi fs.FileInfo) (atime, mtime, ctime float64) {
	mtime = pyTimestamp(fi.ModTime().Unix(), int64(fi.ModTime().Nanosecond()))
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return mtime, mtime, mtime
	}
	as, an := st.Atim.Unix()
	cs, cn := st.Ctim.Unix()
	return pyTimestamp(as, an), mtime, pyTimestamp(cs, cn)
}
