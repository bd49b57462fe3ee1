package hubserver

import (
	"context"
	"strings"

	"github.com/gokoji/gokoji/internal/rpm"
	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
)

// importRPMMethods is upstream's importRPM, what koji import calls for
// each package it uploaded.
func (k *Koji) importRPMMethods() []Method {
	return []Method{{
		Name: "importRPM", PyName: "RootExports.importRPM", Bound: true,
		Args: []Arg{{Name: "path"}, {Name: "basename"}},
		Doc:  "Import an RPM into the database.\n\n        The file must be uploaded first.\n        ",
		Func: k.importRPMUpload,
	}}
}

// importRPMUpload is upstream's RootExports.importRPM (admin): import_rpm
// of work/<path>/<basename> with no build given (an SRPM's build is
// found by its NVR or created, a binary RPM's found from its sourcerpm),
// the file moved into the build's directory, its signature header
// stored (add_rpm_sig), the build's tags marked updated; the answer is
// import_rpm's rpminfo with the build.
func (k *Koji) importRPMUpload(ctx context.Context, path, basename any) (map[string]any, error) {
	if err := assertPerm(ctx, "admin"); err != nil {
		return nil, err
	}
	p, ok1 := path.(string)
	b, ok2 := basename.(string)
	if !ok1 || !ok2 {
		return nil, pyException("TypeError", "not all arguments converted during string formatting")
	}
	files, top, err := k.openImportFiles()
	if err != nil {
		return nil, err
	}
	defer files.close()
	rel := strings.TrimPrefix(p+"/"+b, "/")
	fn, err := files.path(rel)
	if err != nil {
		return nil, err
	}
	hdr, err := readRPM(fn)
	if err != nil {
		return nil, err
	}
	if expected := hdr.NVRA() + ".rpm"; baseName(rel) != expected {
		return nil, fault(koji.ErrGeneric, "bad filename: %s (expected %s)", baseName(rel), expected)
	}
	row, err := k.importRPMBuild(ctx, hdr)
	if err != nil {
		return nil, err
	}
	binfo, err := buildInfo(row)
	if err != nil {
		return nil, err
	}
	sighdr, err := rpm.RipSigHeader(fn)
	if err != nil {
		return nil, rpmHeaderError(err, "Invalid rpm")
	}
	r, err := k.importRPM(ctx, files, rel, row, binfo, nil, nil)
	if err != nil {
		return nil, err
	}
	pi := koji.PathInfo{TopDir: top}
	builddir := pi.Build(&koji.Build{Name: row.PackageName, Version: row.Version, Release: row.Release, VolumeName: row.VolumeName})
	if err := files.planArchiveFile(rel, builddir+"/"+r.Arch); err != nil {
		return nil, err
	}
	if err := files.run(); err != nil {
		return nil, err
	}
	undo := func(err error) (map[string]any, error) {
		for i := len(files.moves) - 1; i >= 0; i-- {
			files.moves[i].undo()
		}
		return nil, err
	}
	if err := k.addRPMSig(ctx, r.ID, sighdr); err != nil {
		return undo(err)
	}
	tx := storeTx(ctx)
	tags, err := tx.BuildTagIDs(ctx, row.ID)
	if err != nil {
		return undo(err)
	}
	user := int64(0)
	if s := SessionFrom(ctx); s != nil {
		user = int64(s.UserID)
	}
	for _, tag := range tags {
		if err := tx.AddTagUpdate(ctx, tag, user, store.TagUpdateImport); err != nil {
			return undo(err)
		}
	}
	var sourcepackage, sourcerpm any
	if hdr.SourcePackage {
		sourcepackage = int64(1)
	} else {
		sourcerpm = hdr.SourceRPM
	}
	return map[string]any{"name": r.Name, "version": r.Version, "release": r.Release, "epoch": ptrValue(r.Epoch),
		"sourcepackage": sourcepackage, "arch": r.Arch, "buildtime": r.BuildTime, "sourcerpm": sourcerpm, "id": r.ID,
		"build_id": row.ID, "size": r.Size, "payloadhash": r.PayloadHash, "buildroot_id": nil, "external_repo_id": int64(0),
		"build": binfo, "brootid": nil}, nil
}

// importRPMBuild is import_rpm's build lookup without a build given: an
// SRPM's build by its NVR, created (COMPLETE, owned by the caller) when
// there is none; a binary RPM's by the NVR of its sourcerpm, which must
// exist and be neither FAILED, CANCELED nor DELETED.
func (k *Koji) importRPMBuild(ctx context.Context, hdr *rpm.Package) (*store.BuildRow, error) {
	tx := storeTx(ctx)
	if hdr.SourcePackage {
		info := map[string]any{"name": hdr.Name, "version": hdr.Version, "release": hdr.Release}
		row, err := lookupBuild(ctx, tx, info, false)
		if err != nil || row != nil {
			return row, err
		}
		info["epoch"] = ptrValue(epoch64(hdr))
		id, err := k.newBuildFromData(ctx, info)
		if err != nil {
			return nil, err
		}
		return lookupBuild(ctx, tx, id, true)
	}
	nvra, err := parseNVRA(hdr.SourceRPM)
	if err != nil {
		return nil, err
	}
	row, err := lookupBuild(ctx, tx, dictMap(nvra), false)
	if err != nil {
		return nil, err
	}
	if row == nil {
		return nil, fault(koji.ErrGeneric, "No such build")
	}
	switch row.State {
	case store.BuildFailed, store.BuildCanceled, store.BuildDeleted:
		return nil, fault(koji.ErrGeneric, "Build is %s: %s", koji.BuildState(row.State).String(), row.NVR())
	}
	return row, nil
}
