package testenv

import (
	"testing"
)

type recorder struct {
	testing.TB
	skipped, failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Skipf(string, ...any)  { r.skipped = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }

func TestUnavailableSkipsLocallyAndFailsInCI(t *testing.T) {
	t.Setenv("CI", "")
	r := &recorder{TB: t}
	Unavailable(r, "x")
	if !r.skipped || r.failed {
		t.Fatalf("locally: skipped=%v failed=%v, want a skip", r.skipped, r.failed)
	}
	t.Setenv("CI", "true")
	r = &recorder{TB: t}
	Unavailable(r, "x")
	if r.skipped || !r.failed {
		t.Fatalf("under CI: skipped=%v failed=%v, want a failure", r.skipped, r.failed)
	}
}

func TestCommandFindsInstalledProgram(t *testing.T) {
	if Command(t, "sh") == "" {
		t.Fatal("no path for sh")
	}
}
