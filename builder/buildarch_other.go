//go:build !unix

package builder

import "os/exec"

// killGroup leaves cmd as it is: without process groups, canceling kills
// rpmbuild itself only.
func killGroup(*exec.Cmd) {}
