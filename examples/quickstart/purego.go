package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/gokoji/gokoji/builder"
	"github.com/gokoji/gokoji/internal/rpm"
	"github.com/gokoji/gokoji/koji"
)

// pureGoBuildArch is the quickstart's buildArch handler for hosts without
// rpmbuild, registered instead of builder.BuildArch only then (or with
// -pure-go). It is no rpmbuild: it runs none of the spec's scripts. It
// reads the SRPM the build task passes, takes the spec and the source
// tarball from its payload, places the tarball's files where the spec's
// %install lines put them (the only %install lines it accepts, see
// parseInstall), and writes the binary package with package rpm's
// writer. It uploads the package and a build.log saying so, and returns
// builder.BuildArch's result, {rpms, srpms, logs, brootid}: with
// keep_srpm the SRPM it was given is the one returned, and brootid is 0
// since it records no buildroot.
type pureGoBuildArch struct{}

// pureGoWeight is builder.BuildArch's (kojid's) weight.
const pureGoWeight = 1.5

func (pureGoBuildArch) Methods() []string            { return []string{"buildArch"} }
func (pureGoBuildArch) Weight(*builder.Task) float64 { return pureGoWeight }

// Handle runs handler(pkg, root, arch, keep_srpm, opts=None), as
// builder.Build calls it.
func (pureGoBuildArch) Handle(ctx context.Context, t *builder.Task) (any, error) {
	if len(t.Params) < 4 {
		return nil, builder.Fail(koji.ErrParameter, "buildArch: want pkg, root, arch and keep_srpm, got %d parameters", len(t.Params))
	}
	pkg, ok1 := t.Params[0].(string)
	arch, ok2 := t.Params[2].(string)
	keep, ok3 := t.Params[3].(bool)
	if !ok1 || !ok2 || !ok3 || pkg == "" || arch == "" {
		return nil, builder.Fail(koji.ErrParameter, "buildArch: pkg and arch must be non-empty strings and keep_srpm a boolean")
	}
	log, err := t.Log(ctx, "build.log")
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "rpmbuild is not used: gokoji's quickstart makes the binary package with its pure-Go RPM writer\n")
	srpm := filepath.Join(t.WorkDir, "src", path.Base(pkg))
	if err := t.Download(ctx, "work/"+pkg, srpm); err != nil {
		var de *koji.DownloadError
		if errors.As(err, &de) {
			return nil, builder.Fail(koji.ErrBuild, "SRPM file missing: %s (%v)", pkg, err)
		}
		return nil, err
	}
	out, err := buildPureGo(srpm, arch, t.WorkDir, log)
	if err != nil {
		fmt.Fprintf(log, "failed: %v\n", err)
		if cerr := log.Close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
		return nil, builder.Fail(koji.ErrBuild, "error building package (arch %s) without rpmbuild: %v; see build.log", arch, err)
	}
	if err := log.Close(); err != nil {
		return nil, err
	}
	up := t.UploadDir()
	if err := t.UploadFile(ctx, out, ""); err != nil {
		return nil, err
	}
	res := map[string]any{"rpms": []any{up + "/" + filepath.Base(out)}, "srpms": []any{},
		"logs": []any{up + "/build.log"}, "brootid": int64(0)}
	if keep {
		if err := t.UploadFile(ctx, srpm, ""); err != nil {
			return nil, err
		}
		res["srpms"] = []any{up + "/" + filepath.Base(srpm)}
	}
	return res, nil
}

// buildPureGo makes the binary package of the SRPM at srpm in dir,
// writing what it does to log, and returns the package's path.
func buildPureGo(srpm, arch, dir string, log io.Writer) (string, error) {
	src, err := rpm.ReadFile(srpm)
	if err != nil {
		return "", err
	}
	if !src.SourcePackage {
		return "", fmt.Errorf("%s is not a source package", filepath.Base(srpm))
	}
	fmt.Fprintf(log, "read %s: %s\n", filepath.Base(srpm), src.NVR())
	payload := map[string][]byte{}
	f, err := os.Open(srpm)
	if err != nil {
		return "", err
	}
	defer f.Close()
	err = rpm.ReadPayload(f, func(pf rpm.PayloadFile, body io.Reader) error {
		b, err := io.ReadAll(body)
		payload[pf.Path] = b
		return err
	})
	if err != nil {
		return "", err
	}
	var specName string
	for name := range payload {
		if strings.HasSuffix(name, ".spec") {
			specName = name
		}
	}
	if specName == "" {
		return "", errors.New("the SRPM has no spec")
	}
	spec, err := parseSpec(string(payload[specName]))
	if err != nil {
		return "", fmt.Errorf("%s: %w", specName, err)
	}
	tarName := spec.tag("Source0")
	tgz, ok := payload[tarName]
	if !ok {
		return "", fmt.Errorf("the SRPM has no Source0, %q", tarName)
	}
	// %setup's directory: the tarball's name-version/.
	tree, err := untar(tgz, src.Name+"-"+src.Version)
	if err != nil {
		return "", fmt.Errorf("%s: %w", tarName, err)
	}
	fmt.Fprintf(log, "unpacked %s: %d files\n", tarName, len(tree))
	var files []rpm.File
	for _, in := range spec.installs {
		body, ok := tree[in.src]
		if !ok {
			return "", fmt.Errorf("%%install installs %s, which %s does not have", in.src, tarName)
		}
		files = append(files, rpm.File{Path: in.dest, Mode: in.mode, Body: body})
		fmt.Fprintf(log, "install -D -m %04o %s %s\n", in.mode, in.src, in.dest)
	}
	if spec.noarch() {
		arch = "noarch"
	}
	summary, _ := src.Header.String(rpm.TagSummary)
	description, _ := src.Header.String(rpm.TagDescription)
	license, _ := src.Header.String(rpm.TagLicense)
	url, _ := src.Header.String(rpm.TagURL)
	var buf bytes.Buffer
	err = rpm.Write(&buf, rpm.Spec{
		Name: src.Name, Version: src.Version, Release: src.Release, Epoch: src.Epoch, Arch: arch,
		Summary: summary, Description: description, License: license, URL: url,
		SourceRPM: src.NVR() + ".src.rpm", Files: files,
	})
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, src.NVR()+"."+arch+".rpm")
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return "", err
	}
	fmt.Fprintf(log, "wrote %s (%d bytes) with package rpm's writer\n", filepath.Base(out), buf.Len())
	return out, nil
}

// untar reads the regular files under top/ of a gzip-compressed tar, by
// their path below top.
func untar(tgz []byte, top string) (map[string][]byte, error) {
	gz, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(gz)
	tree := map[string][]byte{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return tree, nil
		}
		if err != nil {
			return nil, err
		}
		rel, ok := strings.CutPrefix(path.Clean(hdr.Name), top+"/")
		if hdr.Typeflag != tar.TypeReg || !ok {
			continue
		}
		if tree[rel], err = io.ReadAll(tr); err != nil {
			return nil, err
		}
	}
}
