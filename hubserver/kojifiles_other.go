//go:build !unix

package hubserver

import (
	"io/fs"
	"os"
	"slices"
	"sync"
	"syscall"
)

// heldLocks are the file locks the calls of this process hold, where the
// system offers no lock owned by an open file through package syscall.
var heldLocks struct {
	sync.Mutex
	held []*heldLock
}

type heldLock struct {
	fi        fs.FileInfo
	exclusive bool
	n         int
}

// lockFile takes a lock on f without waiting, exclusive or shared, until
// release is called. The lock only excludes the other calls of this hub
// process.
func lockFile(f *os.File, exclusive bool) (release func(), err error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	heldLocks.Lock()
	defer heldLocks.Unlock()
	i := slices.IndexFunc(heldLocks.held, func(h *heldLock) bool { return os.SameFile(h.fi, fi) })
	var h *heldLock
	if i >= 0 {
		h = heldLocks.held[i]
		if exclusive || h.exclusive {
			return nil, syscall.EAGAIN
		}
		h.n++
	} else {
		h = &heldLock{fi: fi, exclusive: exclusive, n: 1}
		heldLocks.held = append(heldLocks.held, h)
	}
	return func() {
		heldLocks.Lock()
		defer heldLocks.Unlock()
		if h.n--; h.n == 0 {
			heldLocks.held = slices.DeleteFunc(heldLocks.held, func(x *heldLock) bool { return x == h })
		}
	}, nil
}

// statTimes returns a file's access, modification and change times as
// Python's st_atime, st_mtime and st_ctime; the modification time stands
// for all three here.
func statTimes(fi fs.FileInfo) (atime, mtime, ctime float64) {
	mtime = pyTimestamp(fi.ModTime().Unix(), int64(fi.ModTime().Nanosecond()))
	return mtime, mtime, mtime
}
