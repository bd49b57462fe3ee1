//go:build unix && !linux

package hubserver

import (
	"io/fs"
	"os"
	"syscall"
)

// lockFile takes a lock on f without waiting, exclusive or shared;
// closing f releases it (release does nothing). BSD flock locks belong to
// the open file, so two calls in one hub process exclude each other; they
// do not see the lockf locks of another program (Linux hubs use locks
// that do).
func lockFile(f *os.File, exclusive bool) (release func(), err error) {
	how := syscall.LOCK_SH | syscall.LOCK_NB
	if exclusive {
		how = syscall.LOCK_EX | syscall.LOCK_NB
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var lerr error
	if err := rc.Control(func(fd uintptr) { lerr = syscall.Flock(int(fd), how) }); err != nil {
		return nil, err
	}
	if lerr != nil {
		return nil, lerr
	}
	return func() {}, nil
}

// statTimes returns a file's access, modification and change times as
// Python's st_atime, st_mtime and st_ctime; where the system's stat
// structure is not at hand, the modification time stands for all three.
func statTimes(fi fs.FileInfo) (atime, mtime, ctime float64) {
	mtime = pyTimestamp(fi.ModTime().Unix(), int64(fi.ModTime().Nanosecond()))
	return mtime, mtime, mtime
}
