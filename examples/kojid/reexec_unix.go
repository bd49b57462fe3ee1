//go:build unix

package main

import (
	"os"
	"syscall"
)

// reexec replaces the process with a new run of the same program, with
// the same arguments and environment, as kojid restarts itself
// (os.execv); it returns only when that fails.
func reexec() error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	return syscall.Exec(exe, os.Args, os.Environ())
}
