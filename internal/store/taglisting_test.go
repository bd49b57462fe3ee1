package store

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTagListing: package list entries and tagged builds are versioned,
// read as at an event, revoked with their tag and seen by
// TagLastChangeEvent.
func TestTagListing(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openTest(t, dsn)
		inTx(t, db, func(tx *Tx) {
			admin, err := tx.CreateUser(ctx, User{Name: "kojiadmin", Status: UserStatusNormal, UserType: UserTypeNormal})
			require.NoError(t, err)
			tag, err := tx.CreateTag(ctx, "t1", TagConfig{}, admin)
			require.NoError(t, err)
			pkg, err := tx.CreatePackage(ctx, "foo")
			require.NoError(t, err)
			at, extra := now(), `{"source": {"original_url": "git://x"}}`
			build, err := tx.CreateBuild(ctx, Build{PkgID: pkg, Version: "1", Release: "1", State: BuildComplete,
				StartTime: &at, CompletionTime: &at, Owner: admin, Extra: &extra})
			require.NoError(t, err)

			tx.NextEvent()
			arches := "x86_64"
			require.NoError(t, tx.SetPackageEntry(ctx, tag, pkg, admin, false, &arches, admin))
			added, err := tx.NewEvent(ctx)
			require.NoError(t, err)
			tx.NextEvent()
			require.NoError(t, tx.SetPackageEntry(ctx, tag, pkg, admin, true, nil, admin))
			require.NoError(t, tx.TagBuild(ctx, tag, build, admin))
			tagged, err := tx.NewEvent(ctx)
			require.NoError(t, err)

			entries, err := tx.PackageEntries(ctx, PackageFilter{TagID: &tag, WithOwners: true})
			require.NoError(t, err)
			require.Len(t, entries, 1)
			assert.True(t, entries[0].Blocked)
			assert.Equal(t, "kojiadmin", *entries[0].OwnerName)
			entries, err = tx.PackageEntries(ctx, PackageFilter{TagID: &tag, AsOf: &added})
			require.NoError(t, err)
			require.Len(t, entries, 1)
			assert.False(t, entries[0].Blocked)
			assert.Equal(t, &arches, entries[0].ExtraArches)
			assert.Nil(t, entries[0].OwnerID)
			entries, err = tx.PackageEntries(ctx, PackageFilter{TagID: &tag, NoBlocked: true})
			require.NoError(t, err)
			assert.Empty(t, entries)

			ok, err := tx.BuildTagged(ctx, tag, build)
			require.NoError(t, err)
			assert.True(t, ok)
			rows := taggedBuilds(t, tx, TaggedQuery{TagID: tag})
			require.Len(t, rows, 1)
			assert.Equal(t, tagged, rows[0].TagEvent)
			assert.Equal(t, "foo-1-1", rows[0].NVR())
			// The timestamps, read as text on SQLite, are the instants
			// GetBuild reads through the driver.
			got, err := tx.GetBuild(ctx, build)
			require.NoError(t, err)
			assert.True(t, got.StartTime.Equal(*rows[0].StartTime), "%v, %v", got.StartTime, rows[0].StartTime)
			assert.True(t, got.CompletionTime.Equal(*rows[0].CompletionTime))
			assert.True(t, got.CreationTime.Equal(rows[0].CreationTime), "%v, %v", got.CreationTime, rows[0].CreationTime)
			assert.Nil(t, rows[0].PromotionTime)
			assert.Nil(t, rows[0].Extra)
			rows = taggedBuilds(t, tx, TaggedQuery{TagID: tag, Extra: true})
			require.Len(t, rows, 1)
			assert.Equal(t, &extra, rows[0].Extra)
			e, err := tx.TagLastChangeEvent(ctx, []int64{tag}, nil)
			require.NoError(t, err)
			assert.Equal(t, tagged, e)

			tx.NextEvent()
			require.NoError(t, tx.DeleteTag(ctx, tag, admin))
			deleted, err := tx.NewEvent(ctx)
			require.NoError(t, err)
			assert.Empty(t, taggedBuilds(t, tx, TaggedQuery{TagID: tag}))
			assert.Len(t, taggedBuilds(t, tx, TaggedQuery{TagID: tag, AsOf: &tagged}), 1)
			entries, err = tx.PackageEntries(ctx, PackageFilter{PkgID: &pkg})
			require.NoError(t, err)
			assert.Empty(t, entries)
			e, err = tx.TagLastChangeEvent(ctx, []int64{tag}, nil)
			require.NoError(t, err)
			assert.Equal(t, deleted, e)
			ids, err := tx.BuildTagIDs(ctx, build)
			require.NoError(t, err)
			assert.Empty(t, ids)
		})
	})
}

// taggedBuilds collects what EachTaggedBuild yields.
func taggedBuilds(t *testing.T, tx *Tx, q TaggedQuery) []TaggedBuild {
	t.Helper()
	var out []TaggedBuild
	require.NoError(t, tx.EachTaggedBuild(context.Background(), q, func(r *TaggedBuild) error {
		out = append(out, *r)
		return nil
	}))
	return out
}
