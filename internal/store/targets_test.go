package store

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTargetVersions: target configurations are versioned, names are
// not, a second live configuration is refused, and deleting a tag's
// targets leaves others alone.
func TestTargetVersions(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openTest(t, dsn)
		var admin, a, b, id, before int64
		inTx(t, db, func(tx *Tx) {
			var err error
			admin, err = tx.CreateUser(ctx, User{Name: "kojiadmin", Status: UserStatusNormal, UserType: UserTypeNormal})
			require.NoError(t, err)
			a, err = tx.CreateTag(ctx, "a", TagConfig{}, admin)
			require.NoError(t, err)
			b, err = tx.CreateTag(ctx, "b", TagConfig{}, admin)
			require.NoError(t, err)
			id, err = tx.CreateTarget(ctx, "t", a, b, admin)
			require.NoError(t, err)
			_, err = tx.CreateTarget(ctx, "u", b, b, admin)
			require.NoError(t, err)
		})
		inTx(t, db, func(tx *Tx) {
			e, err := tx.LastEvent(ctx, nil)
			require.NoError(t, err)
			before = e.ID
			require.NoError(t, tx.SetTargetConfig(ctx, id, b, a, admin))
			require.NoError(t, tx.RenameTarget(ctx, id, "t2"))
		})
		inTx(t, db, func(tx *Tx) {
			now, err := tx.ListTargets(ctx, TargetFilter{ID: &id})
			require.NoError(t, err)
			assert.Equal(t, []Target{{ID: id, Name: "t2", BuildTag: b, BuildTagName: "b", DestTag: a, DestTagName: "a"}}, now)
			then, err := tx.ListTargets(ctx, TargetFilter{AsOf: &before, BuildTag: &a})
			require.NoError(t, err)
			require.Len(t, then, 1)
			assert.Equal(t, b, then[0].DestTag)
			ref, err := tx.TargetRefByName(ctx, "t2")
			require.NoError(t, err)
			assert.Equal(t, id, ref.ID)
			_, err = tx.TargetRefByID(ctx, 99)
			assert.True(t, errors.Is(err, ErrNotFound))
			// A second live configuration of one target is refused.
			require.NoError(t, tx.Savepoint(ctx, "dup"))
			assert.Error(t, tx.insertTargetConfig(ctx, id, a, a, admin))
			require.NoError(t, tx.RollbackToSavepoint(ctx, "dup"))
		})
		inTx(t, db, func(tx *Tx) {
			require.NoError(t, tx.RevokeTagTargets(ctx, a, admin))
			left, err := tx.ListTargets(ctx, TargetFilter{})
			require.NoError(t, err)
			require.Len(t, left, 1)
			assert.Equal(t, "u", left[0].Name)
			require.NoError(t, tx.DeleteTarget(ctx, left[0].ID, admin))
			left, err = tx.ListTargets(ctx, TargetFilter{})
			require.NoError(t, err)
			assert.Empty(t, left)
			again, err := tx.CreateTarget(ctx, "t2", a, a, admin)
			require.NoError(t, err)
			assert.Equal(t, id, again, "a deleted target's id is reused")
		})
	})
}
