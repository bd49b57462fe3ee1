package store

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIsDML(t *testing.T) {
	for q, want := range map[string]bool{
		"INSERT INTO users (name) VALUES (?)":                        true,
		"  update sessions SET callnum = ?":                          true,
		"DELETE FROM user_krb_principals WHERE user_id = ?":          true,
		"(DELETE FROM x)":                                            true,
		"WITH t AS (SELECT id FROM task) UPDATE task SET state = 1":  true,
		"SELECT id FROM sessions WHERE id = ? FOR UPDATE":            false,
		"WITH t AS (SELECT id FROM task FOR UPDATE) SELECT * FROM t": false,
		"SELECT name FROM users":                                     false,
		"SAVEPOINT multiCall_loop":                                   false,
		"":                                                           false,
	} {
		assert.Equal(t, want, isDML(q), q)
	}
}

func TestWritesCountsStatements(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		db := openTest(t, dsn)
		ctx := context.Background()
		inTx(t, db, func(tx *Tx) {
			before := tx.Writes()
			_, err := tx.GetUserByName(ctx, "nobody")
			require.ErrorIs(t, err, ErrNotFound)
			_, err = tx.ListPermissions(ctx)
			require.NoError(t, err)
			assert.Equal(t, before, tx.Writes(), "reads do not count")
			id, err := tx.CreateUser(ctx, User{Name: "u", Status: UserStatusNormal, UserType: UserTypeNormal})
			require.NoError(t, err)
			assert.Equal(t, before+1, tx.Writes(), "INSERT … RETURNING counts")
			require.ErrorIs(t, tx.SetUserStatus(ctx, id+100, UserStatusBlocked), ErrNotFound)
			assert.Equal(t, before+2, tx.Writes(), "an UPDATE that changes nothing counts, as upstream's _dml")
		})
	})
}
