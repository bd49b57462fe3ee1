package store

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMigrationBelowApplied: a migration numbered below one already
// applied (0004 and 0005 written side by side) still runs.
func TestMigrationBelowApplied(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db, err := Open(ctx, dsn)
		require.NoError(t, err)
		inTx(t, db, func(tx *Tx) {
			// As if 0003 had not existed when the database was migrated.
			_, err := tx.exec(ctx, "DROP TABLE proton_queue")
			require.NoError(t, err)
			_, err = tx.exec(ctx, "DELETE FROM schema_version WHERE version = 3")
			require.NoError(t, err)
		})
		require.NoError(t, db.Close())
		db = openTest(t, dsn)
		inTx(t, db, func(tx *Tx) {
			var n int
			require.NoError(t, tx.queryRow(ctx, "SELECT COUNT(*) FROM proton_queue").Scan(&n))
			require.NoError(t, tx.queryRow(ctx, "SELECT COUNT(*) FROM schema_version WHERE version = 3").Scan(&n))
			assert.Equal(t, 1, n)
		})
	})
}

func TestTagVersions(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openTest(t, dsn)
		var admin int64
		inTx(t, db, func(tx *Tx) {
			var err error
			admin, err = tx.CreateUser(ctx, User{Name: "kojiadmin", Status: UserStatusNormal, UserType: UserTypeNormal})
			require.NoError(t, err)
		})
		arches := "x86_64"
		var id, first int64
		inTx(t, db, func(tx *Tx) {
			var err error
			id, err = tx.CreateTag(ctx, "t1", TagConfig{Arches: &arches}, admin)
			require.NoError(t, err)
			first, err = tx.NewEvent(ctx)
			require.NoError(t, err)
			v := `"x"`
			require.NoError(t, tx.SetTagExtra(ctx, id, "k", &v, admin))
			_, err = tx.CreateTag(ctx, "t2", TagConfig{}, admin)
			require.NoError(t, err)
			require.NoError(t, tx.AddTagLink(ctx, TagLink{TagID: 2, ParentID: id, Priority: 1}, admin))
			// A second current link to the same parent is a conflict.
			require.NoError(t, tx.Savepoint(ctx, "dup"))
			err = tx.AddTagLink(ctx, TagLink{TagID: 2, ParentID: id, Priority: 2}, admin)
			require.ErrorIs(t, err, ErrConflict)
			require.NoError(t, tx.RollbackToSavepoint(ctx, "dup"))
		})
		inTx(t, db, func(tx *Tx) {
			require.NoError(t, tx.SetTagConfig(ctx, id, TagConfig{Locked: true}, admin))
			_, err := tx.GetTag(ctx, 99, nil)
			require.ErrorIs(t, err, ErrNotFound)
		})
		inTx(t, db, func(tx *Tx) {
			now, err := tx.GetTag(ctx, id, nil)
			require.NoError(t, err)
			assert.True(t, now.Locked)
			assert.Nil(t, now.Arches)
			then, err := tx.GetTagByName(ctx, "t1", &first)
			require.NoError(t, err)
			assert.Equal(t, "x86_64", *then.Arches)
			assert.Equal(t, &now.CreateEvent, then.RevokeEvent)
			links, err := tx.TagChildren(ctx, id, nil)
			require.NoError(t, err)
			require.Len(t, links, 1)
			assert.Equal(t, "t2", links[0].Name)

			require.NoError(t, tx.DeleteTag(ctx, id, admin))
			_, err = tx.GetTag(ctx, id, nil)
			require.ErrorIs(t, err, ErrNotFound)
			links, err = tx.TagParents(ctx, 2, nil)
			require.NoError(t, err)
			assert.Empty(t, links)
			extras, err := tx.TagExtras(ctx, id, &first, false)
			require.NoError(t, err)
			assert.Equal(t, []TagExtra{{Key: "k", Value: ptr(`"x"`)}}, extras)
			last, err := tx.TagLastChangeEvent(ctx, []int64{id}, nil)
			require.NoError(t, err)
			ev, err := tx.NewEvent(ctx)
			require.NoError(t, err)
			assert.Equal(t, ev, last)
		})
	})
}
