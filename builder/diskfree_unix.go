//go:build linux || darwin || freebsd || netbsd || openbsd

package builder

import "syscall"

// freeMiB is the space available to unprivileged users in dir's file
// system, in MiB; ok is false when it cannot be read.
func freeMiB(dir string) (mib int64, ok bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return int64(uint64(st.Bavail) * uint64(st.Bsize) >> 20), true //nolint:unconvert // field types differ by OS
}
