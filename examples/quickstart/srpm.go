package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/gokoji/gokoji/internal/rpm"
)

// helloFiles is the package the quickstart builds: its spec and the
// files of its source tarball.
//
//go:embed hello
var helloFiles embed.FS

// sourceTime is the time stamped on the source tarball's entries, fixed
// so that the tarball (and the SRPM's file digests) are the same on
// every run.
var sourceTime = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// sources are a package's spec and its Source0 tarball.
type sources struct {
	specName string
	spec     []byte
	info     *specFile
	tarName  string
	tarball  []byte
}

// nvr is the package's name-version-release.
func (s *sources) nvr() string {
	return s.info.tag("Name") + "-" + s.info.tag("Version") + "-" + s.info.tag("Release")
}

// loadSources reads a package directory: one .spec, whose Source0 is
// name-version.tar.gz, made of the other files under name-version/, as
// a release tarball holds them and %setup expects.
func loadSources(fsys fs.FS) (*sources, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	s := &sources{}
	var files []string
	for _, e := range entries {
		switch {
		case e.IsDir():
			return nil, fmt.Errorf("package directory: unexpected directory %s", e.Name())
		case strings.HasSuffix(e.Name(), ".spec"):
			if s.specName != "" {
				return nil, fmt.Errorf("package directory: two specs, %s and %s", s.specName, e.Name())
			}
			s.specName = e.Name()
		default:
			files = append(files, e.Name())
		}
	}
	if s.specName == "" {
		return nil, fmt.Errorf("package directory: no .spec file")
	}
	if s.spec, err = fs.ReadFile(fsys, s.specName); err != nil {
		return nil, err
	}
	if s.info, err = parseSpec(string(s.spec)); err != nil {
		return nil, fmt.Errorf("%s: %w", s.specName, err)
	}
	top := s.info.tag("Name") + "-" + s.info.tag("Version")
	s.tarName = top + ".tar.gz"
	if got := s.info.tag("Source0"); got != s.tarName {
		return nil, fmt.Errorf("%s: Source0 is %q, want %q", s.specName, got, s.tarName)
	}
	s.tarball, err = tarball(fsys, top, files)
	return s, err
}

// tarball packs files of fsys under top/ in a gzip-compressed tar.
func tarball(fsys fs.FS, top string, files []string) ([]byte, error) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	gz.ModTime = sourceTime
	tw := tar.NewWriter(gz)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: top + "/", Mode: 0o755, ModTime: sourceTime}); err != nil {
		return nil, err
	}
	for _, name := range files {
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: top + "/" + name, Mode: 0o644, Size: int64(len(body)), ModTime: sourceTime}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// rpmbuildSRPM makes the SRPM in dir with rpmbuild -bs, as a packager
// does, and returns its path.
func rpmbuildSRPM(ctx context.Context, rpmbuild, dir string, s *sources) (string, error) {
	src := filepath.Join(dir, "SOURCES")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", err
	}
	spec := filepath.Join(src, s.specName)
	if err := os.WriteFile(spec, s.spec, 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(src, s.tarName), s.tarball, 0o644); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, rpmbuild, "-bs", "--define", "_topdir "+dir, "--define", "_sourcedir "+src, spec)
	if out, err := cmd.CombinedOutput(); err != nil {
		if ctx.Err() != nil {
			return "", context.Cause(ctx)
		}
		return "", fmt.Errorf("rpmbuild -bs: %w\n%s", err, out)
	}
	srpm := filepath.Join(dir, "SRPMS", s.nvr()+".src.rpm")
	if _, err := os.Stat(srpm); err != nil {
		return "", fmt.Errorf("rpmbuild -bs made no %s: %w", filepath.Base(srpm), err)
	}
	return srpm, nil
}

// writeSRPM makes the SRPM in dir with package rpm's writer: the spec and
// the tarball, and the header fields the spec's preamble gives.
func writeSRPM(dir string, s *sources) (string, error) {
	var buf bytes.Buffer
	err := rpm.Write(&buf, rpm.Spec{
		Name: s.info.tag("Name"), Version: s.info.tag("Version"), Release: s.info.tag("Release"),
		Summary: s.info.tag("Summary"), Description: s.info.description,
		License: s.info.tag("License"), URL: s.info.tag("URL"),
		Source: true,
		Files: []rpm.File{
			{Path: s.specName, Body: s.spec, ModTime: sourceTime},
			{Path: s.tarName, Body: s.tarball, ModTime: sourceTime},
		},
	})
	if err != nil {
		return "", err
	}
	srpm := filepath.Join(dir, s.nvr()+".src.rpm")
	return srpm, os.WriteFile(srpm, buf.Bytes(), 0o644)
}
