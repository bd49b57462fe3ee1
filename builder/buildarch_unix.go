//go:build unix

package builder

import (
	"os/exec"
	"syscall"
)

// killGroup makes cmd run in a process group of its own, killed as a
// whole when its context ends: rpmbuild's scriptlets run in shells whose
// children would otherwise outlive it.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
