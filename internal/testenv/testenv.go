// Package testenv lets tests that need an outside program or service skip
// when it is missing on a developer's machine, and fail under CI, where
// .ci/run provisions everything and a skip would hide a broken setup.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the tests run under CI (CI=true), where every
// dependency must be present.
func InCI() bool { return os.Getenv("CI") == "true" }

// Unavailable skips the test, or fails it under CI, because a dependency
// is missing.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf("required under CI=true: "+format, args...)
	} else {
		t.Skipf("skipped: "+format, args...)
	}
}

// Command returns the path of the named program, or stops the test as
// Unavailable when it is not installed.
func Command(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		Unavailable(t, "%s is not installed (%v)", name, err)
	}
	return path
}
