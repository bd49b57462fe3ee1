package hubserver

import (
	"context"

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
