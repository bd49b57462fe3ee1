package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/builder"
	"github.com/gokoji/gokoji/internal/rpm"
	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/koji"
)

func helloSources(t *testing.T) *sources {
	t.Helper()
	dir, err := fs.Sub(helloFiles, "hello")
	require.NoError(t, err)
	s, err := loadSources(dir)
	require.NoError(t, err)
	return s
}

func TestParseHelloSpec(t *testing.T) {
	s := helloSources(t)
	assert.Equal(t, "hello-1.0-1", s.nvr())
	assert.Equal(t, "hello-1.0.tar.gz", s.tarName)
	assert.True(t, s.info.noarch())
	assert.Equal(t, "MIT", s.info.tag("license"))
	assert.True(t, strings.HasPrefix(s.info.description, "hello prints a greeting."), s.info.description)
	assert.Equal(t, []installLine{
		{mode: 0o755, src: "hello.sh", dest: "/usr/bin/hello"},
		{mode: 0o644, src: "README", dest: "/usr/share/doc/hello/README"},
	}, s.info.installs)
	tree, err := untar(s.tarball, "hello-1.0")
	require.NoError(t, err)
	assert.Len(t, tree, 2)
	again := helloSources(t)
	assert.Equal(t, s.tarball, again.tarball, "the tarball is the same on every run")
}

func TestParseSpecRefuses(t *testing.T) {
	const preamble = "Name: x\nVersion: 1\nRelease: 1\nSummary: s\nLicense: MIT\n"
	for _, tc := range []struct{ spec, want string }{
		{"Version: 1\nRelease: 1\nSummary: s\nLicense: MIT\n", "spec: no Name"},
		{strings.Replace(preamble, "Release: 1", "Release: 1%{?dist}", 1), "Release has a macro"},
		{preamble + "just words\n", `want "Tag: value"`},
		{preamble + "%install\nmake install DESTDIR=%{buildroot}\n", `understands only "install -D -m MODE SOURCE`},
		{preamble + "%install\ninstall -D -m 0755 x /usr/bin/x\n", "understands only"},
		{preamble + "%install\ninstall -D -m 0999 x %{buildroot}/usr/bin/x\n", `install mode "0999"`},
		{preamble + "%install\ninstall -D -m 0755 ../x %{buildroot}/usr/bin/x\n", "want a relative source"},
		{preamble + "%install\ninstall -D -m 0755 x %{buildroot}/usr/../bin/x\n", "clean absolute destination"},
	} {
		_, err := parseSpec(tc.spec)
		if assert.Error(t, err, "%q", tc.spec) {
			assert.Contains(t, err.Error(), tc.want)
		}
	}
}

func TestLoadSourcesRefuses(t *testing.T) {
	spec := func(source string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte("Name: x\nVersion: 1\nRelease: 1\nSummary: s\nLicense: MIT\nSource0: " + source + "\n")}
	}
	for _, tc := range []struct {
		fsys fstest.MapFS
		want string
	}{
		{fstest.MapFS{"README": {}}, "no .spec file"},
		{fstest.MapFS{"a.spec": spec("x-1.tar.gz"), "b.spec": spec("x-1.tar.gz")}, "two specs"},
		{fstest.MapFS{"x.spec": spec("x.tgz")}, `Source0 is "x.tgz", want "x-1.tar.gz"`},
		{fstest.MapFS{"x.spec": spec("x-1.tar.gz"), "sub/file": {}}, "unexpected directory sub"},
	} {
		_, err := loadSources(tc.fsys)
		if assert.Error(t, err) {
			assert.Contains(t, err.Error(), tc.want)
		}
	}
}

// writeTestSRPM writes an SRPM of hello with its spec replaced by spec
// (unless empty) and its tarball's files by files (unless nil).
func writeTestSRPM(t *testing.T, spec string, files fstest.MapFS) string {
	t.Helper()
	s := helloSources(t)
	if spec != "" {
		s.spec = []byte(spec)
	}
	if files != nil {
		var err error
		s.tarball, err = tarball(files, "hello-1.0", mapNames(files))
		require.NoError(t, err)
	}
	srpm, err := writeSRPM(t.TempDir(), s)
	require.NoError(t, err)
	return srpm
}

func mapNames(m fstest.MapFS) []string {
	var names []string
	for n := range m {
		names = append(names, n)
	}
	return names
}

func TestBuildPureGo(t *testing.T) {
	dir := t.TempDir()
	var log bytes.Buffer
	out, err := buildPureGo(writeTestSRPM(t, "", nil), "x86_64", dir, &log)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "hello-1.0-1.noarch.rpm"), out, "BuildArch: noarch wins over the task's arch")
	p, err := rpm.ReadFile(out)
	require.NoError(t, err)
	summary, _ := p.Header.String(rpm.TagSummary)
	assert.Equal(t, "Says hello, built by gokoji's quickstart", summary)
	assert.Equal(t, []string{"/usr/bin/hello", "/usr/share/doc/hello/README"}, p.Files)
	assert.Equal(t, "read hello-1.0-1.src.rpm: hello-1.0-1\n"+
		"unpacked hello-1.0.tar.gz: 2 files\n"+
		"install -D -m 0755 hello.sh /usr/bin/hello\n"+
		"install -D -m 0644 README /usr/share/doc/hello/README\n",
		log.String()[:strings.Index(log.String(), "wrote ")])

	// The SRPM rpmbuild -bs makes works as well.
	t.Run("rpmbuild's SRPM", func(t *testing.T) {
		rpmbuild := testenv.Command(t, "rpmbuild")
		srpm, err := rpmbuildSRPM(context.Background(), rpmbuild, t.TempDir(), helloSources(t))
		require.NoError(t, err)
		out, err := buildPureGo(srpm, "noarch", t.TempDir(), &bytes.Buffer{})
		require.NoError(t, err)
		assert.Equal(t, readPayload(t, filepath.Join(dir, "hello-1.0-1.noarch.rpm")), readPayload(t, out))
	})
}

func TestBuildPureGoRefuses(t *testing.T) {
	s := helloSources(t)
	noInstall := strings.Replace(string(s.spec), "install -D -m 0644 README", "cp README", 1)
	srcPkg := writeTestSRPM(t, "", nil)
	bin, err := buildPureGo(srcPkg, "noarch", t.TempDir(), &bytes.Buffer{})
	require.NoError(t, err)
	for _, tc := range []struct {
		name, srpm, want string
	}{
		{"unsupported %install", writeTestSRPM(t, noInstall, nil), `not "cp README`},
		{"source missing", writeTestSRPM(t, "", fstest.MapFS{"hello.sh": {Data: []byte("#!/bin/sh\n")}}), "installs README, which hello-1.0.tar.gz does not have"},
		{"binary package", bin, "is not a source package"},
		{"not an rpm", writeFile(t, "junk.src.rpm", "junk"), "rpm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			_, err := buildPureGo(tc.srpm, "noarch", out, &bytes.Buffer{})
			if assert.Error(t, err) {
				assert.Contains(t, err.Error(), tc.want)
			}
			left, _ := os.ReadDir(out)
			assert.Empty(t, left, "nothing written")
		})
	}
}

func writeFile(t *testing.T, name, body string) string {
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(body), 0o644))
	return path
}

// The handler checks its parameters before anything else, as
// builder.BuildArch does.
func TestPureGoBuildArchParameters(t *testing.T) {
	h := pureGoBuildArch{}
	assert.Equal(t, []string{"buildArch"}, h.Methods())
	for _, params := range [][]any{
		{"work/x.src.rpm", int64(1), "noarch"},
		{"", int64(1), "noarch", true},
		{"work/x.src.rpm", int64(1), 5, true},
		{"work/x.src.rpm", int64(1), "noarch", "yes"},
	} {
		_, err := h.Handle(context.Background(), &builder.Task{Method: "buildArch", Params: params})
		var f *koji.Fault
		if assert.True(t, errors.As(err, &f), "%v: %v", params, err) {
			assert.Equal(t, koji.ErrParameter, f.Class(), "%v", params)
		}
	}
}
