package hubserver

import (
	"context"
	"fmt"

	"github.com/gokoji/gokoji/internal/store"
)

// AddTypedArchiveForTest records an archive of the build of btype (its
// archive type found from the file name as getArchiveType finds it), with
// its legacy type row: for "maven" info holds group_id, artifact_id and
// version, for "win" relpath, platforms and flags ("" for none), for
// "image" arch.
func (k *Koji) AddTypedArchiveForTest(ctx context.Context, buildID int64, filename, btype string, size int64, info map[string]string) (int64, error) {
	tx := storeTx(ctx)
	typ, err := archiveTypeOfFile(ctx, tx, filename, true)
	if err != nil {
		return 0, err
	}
	bt, err := tx.LookupName(ctx, "btype", btype)
	if err != nil {
		return 0, err
	}
	id, err := tx.CreateArchive(ctx, store.Archive{TypeID: typ.ID, BTypeID: &bt.ID, BuildID: buildID, Filename: filename,
		Size: size, Checksum: "0123456789abcdef0123456789abcdef", ChecksumType: 0})
	if err != nil {
		return 0, err
	}
	switch btype {
	case "maven":
		err = tx.AddMavenArchive(ctx, id, store.MavenBuildRow{GroupID: info["group_id"],
			ArtifactID: info["artifact_id"], Version: info["version"]})
	case "win":
		var flags *string
		if f := info["flags"]; f != "" {
			flags = &f
		}
		err = tx.AddWinArchive(ctx, id, store.WinArchive{RelPath: info["relpath"], Platforms: info["platforms"], Flags: flags})
	case "image":
		err = tx.AddImageArchive(ctx, id, info["arch"])
	}
	return id, err
}

// AddStandardBuildrootUseForTest records a standard buildroot of the host
// and task (created at a new event) that listed usedRPM, and returns its
// id.
func (k *Koji) AddStandardBuildrootUseForTest(ctx context.Context, hostID, taskID, usedRPM int64) (int64, error) {
	tx := storeTx(ctx)
	tx.NextEvent()
	br, err := tx.CreateStandardBuildroot(ctx, hostID, 0, taskID, nil, "")
	if err != nil {
		return 0, fmt.Errorf("standard buildroot: %w", err)
	}
	return br, tx.AddBuildrootListing(ctx, br, []int64{usedRPM}, false)
}

// AddArchiveBuildrootUseForTest records an archive of build (a tar file
// named filename, btype rpm) made in a content generator's buildroot that
// used usedArchive, and returns the new archive's id.
func (k *Koji) AddArchiveBuildrootUseForTest(ctx context.Context, build int64, filename string, usedArchive int64) (int64, error) {
	tx := storeTx(ctx)
	br, err := tx.CreateExternalBuildroot(ctx, store.Buildroot{BRType: store.BRTypeExternal})
	if err != nil {
		return 0, err
	}
	if err := tx.AddBuildrootArchives(ctx, br, []int64{usedArchive}, false); err != nil {
		return 0, err
	}
	typ, err := tx.LookupName(ctx, "archivetypes", "tar")
	if err != nil {
		return 0, err
	}
	bt, err := tx.LookupName(ctx, "btype", "rpm")
	if err != nil {
		return 0, err
	}
	return tx.CreateArchive(ctx, store.Archive{TypeID: typ.ID, BTypeID: &bt.ID, BuildID: build, BuildrootID: &br,
		Filename: filename, Size: 10, Checksum: "abc", ChecksumType: 0})
}

// AddArchiveComponentsForTest records the RPMs and archives an archive
// holds, as CGImport records an output's components.
func (k *Koji) AddArchiveComponentsForTest(ctx context.Context, archiveID int64, rpmIDs, archiveIDs []int64) error {
	return storeTx(ctx).AddArchiveComponents(ctx, archiveID, rpmIDs, archiveIDs)
}
