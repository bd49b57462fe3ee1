package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBuildsAndPackages(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openTest(t, dsn)
		inTx(t, db, func(tx *Tx) {
			owner, err := tx.CreateUser(ctx, User{Name: "owner"})
			require.NoError(t, err)
			pkg, err := tx.CreatePackage(ctx, "foo")
			require.NoError(t, err)
			require.NoError(t, tx.Savepoint(ctx, "dup"))
			_, err = tx.CreatePackage(ctx, "foo")
			assert.ErrorIs(t, err, ErrConflict)
			require.NoError(t, tx.RollbackToSavepoint(ctx, "dup"))
			p, err := tx.GetPackageByName(ctx, "foo")
			require.NoError(t, err)
			assert.Equal(t, pkg, p.ID)
			_, err = tx.GetPackage(ctx, 999)
			assert.ErrorIs(t, err, ErrNotFound)
			n, err := tx.LookupName(ctx, "volume", int64(0))
			require.NoError(t, err)
			assert.Equal(t, "DEFAULT", n.Name)

			at := now()
			epoch := int64(3)
			id, err := tx.CreateBuild(ctx, Build{PkgID: pkg, Version: "1.0", Release: "1", Epoch: &epoch,
				State: BuildComplete, StartTime: &at, CompletionTime: &at, Owner: owner})
			require.NoError(t, err)
			b, err := tx.GetBuild(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, "foo-1.0-1", b.NVR())
			assert.Equal(t, "owner", b.OwnerName)
			assert.Equal(t, "DEFAULT", b.VolumeName)
			assert.Equal(t, &epoch, b.Epoch)
			found, err := tx.FindBuildID(ctx, "foo", "1.0", "1")
			require.NoError(t, err)
			assert.Equal(t, id, found)
			tx.NextEvent()
			require.NoError(t, tx.Savepoint(ctx, "dup"))
			_, err = tx.CreateBuild(ctx, Build{PkgID: pkg, Version: "1.0", Release: "1", State: BuildComplete,
				StartTime: &at, CompletionTime: &at, Owner: owner})
			assert.ErrorIs(t, err, ErrConflict)
			require.NoError(t, tx.RollbackToSavepoint(ctx, "dup"))
		})

		var building int64
		inTx(t, db, func(tx *Tx) {
			next, err := tx.NextBuildID(ctx)
			require.NoError(t, err)
			at := now()
			building, err = tx.CreateBuild(ctx, Build{ID: next, PkgID: 1, Version: "2.0", Release: "1",
				State: BuildBuilding, StartTime: &at, Owner: 1})
			require.NoError(t, err)
			assert.Equal(t, next, building)
			ok, err := tx.CancelBuild(ctx, building)
			require.NoError(t, err)
			assert.True(t, ok)
			ok, err = tx.CancelBuild(ctx, building)
			require.NoError(t, err)
			assert.False(t, ok)
			use, err := tx.BuildUses(ctx, building)
			require.NoError(t, err)
			assert.Equal(t, BuildUse{}, use)
			before, err := tx.GetBuild(ctx, building)
			require.NoError(t, err)
			assert.Equal(t, BuildCanceled, before.State)
			tx.NextEvent()
			require.NoError(t, tx.RecycleBuild(ctx, building, Build{State: BuildComplete, StartTime: &at,
				CompletionTime: &at, Owner: 1}))
			after, err := tx.GetBuild(ctx, building)
			require.NoError(t, err)
			assert.Equal(t, BuildComplete, after.State)
			assert.Greater(t, after.CreateEvent, before.CreateEvent)

			// a build with an RPM cannot be recycled
			draft := false
			_, err = tx.CreateRPM(ctx, RPM{BuildID: &building, Name: "foo", Version: "2.0", Release: "1", Arch: "x86_64",
				Draft: &draft, PayloadHash: "abc", Size: 10, BuildTime: 5})
			require.NoError(t, err)
			use, err = tx.BuildUses(ctx, building)
			require.NoError(t, err)
			assert.True(t, use.RPMs)
			rpms, err := tx.QueryRPMs(ctx, RPMQuery{BuildID: &building, Arches: []string{"x86_64"}})
			require.NoError(t, err)
			require.Len(t, rpms, 1)
			assert.Equal(t, "INTERNAL", *rpms[0].ExternalRepoName)
			rpms, err = tx.QueryRPMs(ctx, RPMQuery{Arches: []string{}})
			require.NoError(t, err)
			assert.Empty(t, rpms)
			tarType, err := tx.LookupName(ctx, "archivetypes", "tar")
			require.NoError(t, err)
			rpmType, err := tx.LookupName(ctx, "btype", "rpm")
			require.NoError(t, err)
			_, err = tx.CreateArchive(ctx, Archive{TypeID: tarType.ID, BTypeID: &rpmType.ID, BuildID: building,
				Filename: "foo.tar.gz", Size: 3, Checksum: "x", ChecksumType: 0})
			require.NoError(t, err)
			archives, err := tx.QueryArchives(ctx, ArchiveQuery{BuildID: &building})
			require.NoError(t, err)
			require.Len(t, archives, 1)
			assert.Equal(t, "tar", archives[0].TypeName)
			assert.Equal(t, "rpm", *archives[0].BType)
		})

		inTx(t, db, func(tx *Tx) {
			rows, err := tx.QueryBuilds(ctx, BuildQuery{Order: []OrderBy{{Column: "nvr", Desc: true}}})
			require.NoError(t, err)
			require.Len(t, rows, 2)
			assert.Equal(t, "foo-2.0-1", rows[0].NVR())
			pat := "FOO-1.%"
			rows, err = tx.QueryBuilds(ctx, BuildQuery{Pattern: &pat})
			require.NoError(t, err)
			require.Len(t, rows, 1)
			n, err := tx.CountBuilds(ctx, BuildQuery{Limit: 1})
			require.NoError(t, err)
			assert.Equal(t, int64(1), n)
			rows, err = tx.QueryBuilds(ctx, BuildQuery{Offset: 1})
			require.NoError(t, err)
			require.Len(t, rows, 1)
			avg, err := tx.AverageBuildDuration(ctx, 1, nil)
			require.NoError(t, err)
			assert.Nil(t, avg, "no build has a task")
			_, err = tx.QueryBuilds(ctx, BuildQuery{Order: []OrderBy{{Column: "bogus"}}})
			assert.Error(t, err)
			since := time.Now().Add(time.Hour)
			avg, err = tx.AverageBuildDuration(ctx, 1, &since)
			require.NoError(t, err)
			assert.Nil(t, avg)
		})
		_, err := func() (*BuildRow, error) {
			tx, err := db.Begin(ctx)
			require.NoError(t, err)
			defer tx.Rollback(ctx)
			return tx.GetBuild(ctx, 12345)
		}()
		assert.True(t, errors.Is(err, ErrNotFound))
	})
}
