//go:build !unix

package main

import "errors"

// reexec cannot replace the process here: the caller exits for its
// supervisor to start it again.
func reexec() error { return errors.New("restarting in place is not supported on this system") }
