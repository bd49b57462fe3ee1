package store

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSetUserType(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openTest(t, dsn)
		inTx(t, db, func(tx *Tx) {
			id, err := tx.CreateUser(ctx, User{Name: "builder9", UserType: UserTypeNormal})
			require.NoError(t, err)
			require.NoError(t, tx.SetUserType(ctx, id, UserTypeHost))
			u, err := tx.GetUser(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, UserTypeHost, u.UserType)
			assert.ErrorIs(t, tx.SetUserType(ctx, id+1000, UserTypeHost), ErrNotFound)
		})
	})
}
