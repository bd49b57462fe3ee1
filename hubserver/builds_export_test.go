package hubserver

import (
	"context"
	"time"

	"github.com/gokoji/gokoji/internal/store"
)

// Exports of the build model for the external tests, which need builds
// in states (BUILDING, FAILED) and with content no root method makes yet.

// NewBuildForTest creates a build of name-version-release in state, owned
// by owner, made by task (0: none), through new_build's rules (recycling
// included), and returns its id.
func (k *Koji) NewBuildForTest(ctx context.Context, name, version, release string, state int, owner, task int64) (int64, error) {
	nb := &newBuild{Name: name}
	nb.Version, nb.Release, nb.State, nb.Owner = version, release, state, owner
	at := time.Now().UTC()
	nb.StartTime = &at
	if state != store.BuildBuilding {
		nb.CompletionTime = &at
	}
	if task != 0 {
		nb.TaskID = &task
	}
	nb.data = pyDict{{"name", name}, {"version", version}, {"release", release}, {"epoch", nil}, {"state", state}}
	return k.createBuild(ctx, nb)
}

// AddRPMForTest records an RPM of the build.
func (k *Koji) AddRPMForTest(ctx context.Context, buildID int64, name, arch string) (int64, error) {
	tx := storeTx(ctx)
	b, err := tx.GetBuild(ctx, buildID)
	if err != nil {
		return 0, err
	}
	return tx.CreateRPM(ctx, store.RPM{BuildID: &buildID, Name: name, Version: b.Version, Release: b.Release,
		Epoch: b.Epoch, Arch: arch, Draft: &b.Draft, PayloadHash: "0123456789abcdef", Size: 1234, BuildTime: 1700000000})
}

// AddArchiveForTest records an archive of the build, of btype rpm.
func (k *Koji) AddArchiveForTest(ctx context.Context, buildID int64, filename string) (int64, error) {
	tx := storeTx(ctx)
	typ, err := tx.LookupName(ctx, "archivetypes", "tar")
	if err != nil {
		return 0, err
	}
	bt, err := tx.LookupName(ctx, "btype", "rpm")
	if err != nil {
		return 0, err
	}
	return tx.CreateArchive(ctx, store.Archive{TypeID: typ.ID, BTypeID: &bt.ID, BuildID: buildID, Filename: filename,
		Size: 10, Checksum: "abc", ChecksumType: 0})
}
