package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cachedStatements returns the queries the SQLite writer connection holds
// prepared.
func cachedStatements(t *testing.T, db *DB) []string {
	t.Helper()
	conn, err := db.write.db.Conn(context.Background())
	require.NoError(t, err)
	defer conn.Close()
	var queries []string
	require.NoError(t, conn.Raw(func(dc any) error {
		for q := range dc.(*stmtCacheConn).stmts {
			queries = append(queries, q)
		}
		return nil
	}))
	return queries
}

func TestStatementsStayPrepared(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "hub.db"))
	ctx := context.Background()
	const q = "SELECT name FROM permissions WHERE id = ?"
	for _, id := range []int{1, 2, 1} {
		inTx(t, db, func(tx *Tx) {
			var name string
			require.NoError(t, tx.queryRow(ctx, q, id).Scan(&name))
			assert.Equal(t, map[int]string{1: "admin", 2: "appliance"}[id], name)
		})
	}
	assert.Contains(t, cachedStatements(t, db), q)

	// A statement whose rows are open runs again unprepared, so the
	// outer rows are not reset under the reader.
	inTx(t, db, func(tx *Tx) {
		const all = "SELECT id FROM permissions WHERE id <= ? ORDER BY id"
		rows, err := tx.query(ctx, all, 3)
		require.NoError(t, err)
		defer rows.Close()
		var outer, inner []int
		for rows.Next() {
			var id int
			require.NoError(t, rows.Scan(&id))
			outer = append(outer, id)
			n := 0
			inRows, err := tx.query(ctx, all, id)
			require.NoError(t, err)
			for inRows.Next() {
				n++
			}
			require.NoError(t, inRows.Close())
			inner = append(inner, n)
		}
		require.NoError(t, rows.Err())
		assert.Equal(t, []int{1, 2, 3}, outer)
		assert.Equal(t, []int{1, 2, 3}, inner)
	})

	// A failed statement is an error and nothing is cached for it; the
	// connection goes on working.
	inTx(t, db, func(tx *Tx) {
		_, err := tx.exec(ctx, "UPDATE no_such_table SET x = 1")
		assert.ErrorContains(t, err, "no_such_table")
		_, err = tx.exec(ctx, "INSERT INTO permissions (name) VALUES (?)", "admin")
		assert.ErrorIs(t, err, ErrConflict, "a failed run of a cached statement keeps its error")
		_, err = tx.exec(ctx, "INSERT INTO permissions (name) VALUES (?)", "cachetest")
		assert.NoError(t, err, "the same statement runs again after its failure")
	})
	assert.NotContains(t, cachedStatements(t, db), "UPDATE no_such_table SET x = 1")
}

func TestStatementCacheIsBounded(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "hub.db"))
	ctx := context.Background()
	inTx(t, db, func(tx *Tx) {
		for i := range maxCachedStatements + 50 {
			var n int
			require.NoError(t, tx.queryRow(ctx, fmt.Sprintf("SELECT %d", i)).Scan(&n))
			require.Equal(t, i, n, "past the bound, queries run unprepared")
		}
	})
	assert.LessOrEqual(t, len(cachedStatements(t, db)), maxCachedStatements)
}

func TestStatementCacheHonoursCancellation(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "hub.db"))
	// Never ends unless interrupted.
	const forever = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c WHERE x > ?"
	for range 2 { // prepared by the first run, cached for the second
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		start := time.Now()
		inTx(t, db, func(tx *Tx) {
			var n int
			err := tx.queryRow(ctx, forever, 0).Scan(&n)
			assert.Error(t, err)
		})
		cancel()
		assert.Less(t, time.Since(start), 5*time.Second, "the interrupted statement returned promptly")
	}
	assert.Contains(t, cachedStatements(t, db), forever)
	inTx(t, db, func(tx *Tx) {
		var n int
		require.NoError(t, tx.queryRow(context.Background(), "SELECT count(*) FROM permissions WHERE id > ?", 0).Scan(&n))
		assert.Equal(t, 15, n, "the connection works after the interrupt")
	})
}
