package hubserver

import (
	"context"
	"os"
	"path/filepath"

	"github.com/gokoji/gokoji/internal/store"
)

// SetLegacyTypeForTest gives the build a row of the legacy type table of
// typ ("maven": group, artifact and version in info; "win": platform in
// info[0]; "image") and its build_types entry.
func (k *Koji) SetLegacyTypeForTest(ctx context.Context, buildID int64, typ string, info ...string) error {
	tx := storeTx(ctx)
	var err error
	switch typ {
	case "maven":
		err = tx.AddMavenBuild(ctx, buildID, store.MavenBuildRow{GroupID: info[0], ArtifactID: info[1], Version: info[2]})
	case "win":
		err = tx.AddWinBuild(ctx, buildID, info[0])
	default:
		err = tx.AddImageBuild(ctx, buildID)
	}
	if err != nil {
		return err
	}
	bt, err := tx.LookupName(ctx, "btype", typ)
	if err != nil {
		return err
	}
	return tx.AddBuildType(ctx, buildID, bt.ID)
}

// AddRPMFileForTest records the RPM file of the build (its header's NVRA,
// payload hash, size and build time) and copies it into the build's
// directory under top, as an import leaves it.
func (k *Koji) AddRPMFileForTest(ctx context.Context, buildID int64, path, top string) (int64, error) {
	tx := storeTx(ctx)
	b, err := tx.GetBuild(ctx, buildID)
	if err != nil {
		return 0, err
	}
	p, err := readRPM(path)
	if err != nil {
		return 0, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	dst := buildFilePath(top, b, rpmRelPath(p.Name, p.Version, p.Release, p.Arch))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return 0, err
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		return 0, err
	}
	return tx.CreateRPM(ctx, store.RPM{BuildID: &buildID, Name: p.Name, Version: p.Version, Release: p.Release,
		Epoch: epoch64(p), Arch: p.Arch, Draft: &b.Draft, PayloadHash: p.PayloadHash(), Size: int64(len(data)),
		BuildTime: p.BuildTime})
}

// RPMChecksumsForTest returns the rpm_checksum rows of the RPM.
func (k *Koji) RPMChecksumsForTest(ctx context.Context, rpmID int64) ([]store.RPMChecksum, error) {
	return storeTx(ctx).RPMChecksums(ctx, rpmID)
}
