// Package repotest makes rpm-md repos for tests: RPMs written with
// internal/rpm, then createrepo_c run on them, as Koji's createrepo task
// does.
package repotest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gokoji/gokoji/internal/rpm"
	"github.com/gokoji/gokoji/internal/testenv"
)

// Pkg describes a noarch binary package: "name-version-release" and
// dependencies as rpm writes them ("foo >= 1.2", "/usr/bin/sh").
type Pkg struct {
	NVR                                      string
	Arch                                     string // noarch when empty
	Requires, Provides, Conflicts, Obsoletes []string
	// Files are paths to package (an empty body each).
	Files []string
}

// Make writes pkgs into a new directory, runs createrepo_c with args on
// it and returns the directory.
func Make(t testing.TB, pkgs []Pkg, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, p := range pkgs {
		i := strings.LastIndexByte(p.NVR, '-')
		j := strings.LastIndexByte(p.NVR[:i], '-')
		s := rpm.Spec{Name: p.NVR[:j], Version: p.NVR[j+1 : i], Release: p.NVR[i+1:], Arch: p.Arch,
			Summary: "a test package", License: "MIT",
			Requires: deps(t, p.Requires), Provides: deps(t, p.Provides), Conflicts: deps(t, p.Conflicts), Obsoletes: deps(t, p.Obsoletes)}
		if s.Arch == "" {
			s.Arch = "noarch"
		}
		for _, f := range p.Files {
			s.Files = append(s.Files, rpm.File{Path: f})
		}
		f, err := os.Create(filepath.Join(dir, p.NVR+"."+s.Arch+".rpm"))
		if err != nil {
			t.Fatal(err)
		}
		if err := rpm.Write(f, s); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(testenv.Command(t, "createrepo_c"), append(append([]string{"--quiet"}, args...), dir)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("createrepo_c: %v: %s", err, out)
	}
	return dir
}

var ops = map[string]rpm.DepFlags{"<": rpm.DepLess, "<=": rpm.DepLess | rpm.DepEqual, "=": rpm.DepEqual,
	">=": rpm.DepGreater | rpm.DepEqual, ">": rpm.DepGreater}

func deps(t testing.TB, ss []string) []rpm.Dependency {
	var out []rpm.Dependency
	for _, s := range ss {
		f := strings.Fields(s)
		switch len(f) {
		case 1:
			out = append(out, rpm.Dependency{Name: f[0]})
		case 3:
			out = append(out, rpm.Dependency{Name: f[0], Flags: ops[f[1]], Version: f[2]})
		default:
			t.Fatalf("repotest: bad dependency %q", s)
		}
	}
	return out
}
