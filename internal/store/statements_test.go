package store

import (
	"context"
	"database/sql"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBeginStatementsReadsAndRefusesWrites(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		db := openTest(t, dsn)
		ctx := context.Background()
		tx, err := db.BeginStatements(ctx)
		require.NoError(t, err)
		assert.True(t, tx.ReadOnly())

		var name string
		require.NoError(t, tx.queryRow(ctx, "SELECT name FROM permissions WHERE id = ?", 1).Scan(&name))
		assert.Equal(t, "admin", name)
		require.NoError(t, tx.Savepoint(ctx, "sp"), "savepoints do nothing, and work")
		require.NoError(t, tx.RollbackToSavepoint(ctx, "sp"))
		require.NoError(t, tx.ReleaseSavepoint(ctx, "sp"))
		assert.Error(t, tx.ReleaseSavepoint(ctx, "sp"), "the names are still checked")
		assert.Zero(t, tx.Writes())

		_, err = tx.NewEvent(ctx)
		assert.ErrorIs(t, err, errWriteRefused)
		_, err = tx.exec(ctx, "UPDATE permissions SET description = 'x' WHERE id = 1")
		assert.ErrorIs(t, err, errWriteRefused)
		_, err = tx.query(ctx, "DELETE FROM permissions RETURNING id")
		assert.ErrorIs(t, err, errWriteRefused)
		assert.Equal(t, int64(3), tx.Writes(), "each refused write is counted")
		require.NoError(t, tx.Commit(ctx))
		assert.ErrorIs(t, tx.Rollback(ctx), sql.ErrTxDone, "the connection went back to the pool")

		inTx(t, db, func(tx *Tx) {
			var n int
			require.NoError(t, tx.queryRow(ctx, "SELECT COUNT(*) FROM events").Scan(&n))
			assert.Zero(t, n, "nothing was written")
			require.NoError(t, tx.queryRow(ctx, "SELECT description FROM permissions WHERE id = 1").Scan(&name))
			assert.NotEqual(t, "x", name)
		})
	})
}

func TestBeginStatementsHonoursCancellation(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		db := openTest(t, dsn)
		ctx, cancel := context.WithCancel(context.Background())
		tx, err := db.BeginStatements(ctx)
		require.NoError(t, err)
		cancel()
		var n int
		assert.ErrorIs(t, tx.queryRow(ctx, "SELECT COUNT(*) FROM permissions").Scan(&n), context.Canceled)
		assert.ErrorIs(t, tx.Commit(ctx), context.Canceled, "a commit under a done context reports it")
		_, err = db.BeginStatements(ctx)
		assert.ErrorIs(t, err, context.Canceled)
	})
}
