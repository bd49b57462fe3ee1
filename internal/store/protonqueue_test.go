package store

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProtonQueue(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		db := openTest(t, dsn)
		ctx := context.Background()
		var msgs []ProtonMessage
		for _, a := range []string{"task.free", "task.open", "task.closed"} {
			msgs = append(msgs, ProtonMessage{Address: a, Props: `{"type": "TaskStateChange"}`, Body: `{"new": "` + a + `"}`})
		}
		start := time.Now().Add(-time.Second)
		inTx(t, db, func(tx *Tx) { require.NoError(t, tx.QueueProtonMessages(ctx, msgs)) })

		var got []ProtonMessage
		inTx(t, db, func(tx *Tx) {
			ok, err := tx.Lock(ctx, "protonmsg-plugin", false)
			require.NoError(t, err)
			require.True(t, ok)
			got, err = tx.ProtonMessages(ctx, 2)
			require.NoError(t, err)
		})
		require.Len(t, got, 2)
		assert.Equal(t, "task.free", got[0].Address)
		assert.Equal(t, "task.open", got[1].Address)
		assert.Equal(t, msgs[0].Props, got[0].Props)
		assert.Equal(t, msgs[1].Body, got[1].Body)
		assert.Less(t, got[0].ID, got[1].ID)
		assert.WithinRange(t, got[0].Created, start, time.Now().Add(time.Second))

		inTx(t, db, func(tx *Tx) {
			require.NoError(t, tx.DeleteProtonMessages(ctx, []int64{got[0].ID, got[1].ID}))
			require.NoError(t, tx.DeleteProtonMessages(ctx, nil))
			// Nothing is older than a minute ago; everything older than
			// a minute from now.
			n, err := tx.ExpireProtonMessages(ctx, time.Now().Add(-time.Minute))
			require.NoError(t, err)
			assert.Zero(t, n)
			left, err := tx.ProtonMessages(ctx, 10)
			require.NoError(t, err)
			require.Len(t, left, 1)
			assert.Equal(t, "task.closed", left[0].Address)
			n, err = tx.ExpireProtonMessages(ctx, time.Now().Add(time.Minute))
			require.NoError(t, err)
			assert.Equal(t, int64(1), n)
			left, err = tx.ProtonMessages(ctx, 10)
			require.NoError(t, err)
			assert.Empty(t, left)
		})
	})
}
