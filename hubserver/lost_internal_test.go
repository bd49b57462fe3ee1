package hubserver

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/koji"
)

// TestDeadlockedCallRunsAgain makes two calls lock two task rows in
// opposite orders on PostgreSQL, so that the database aborts one of them
// as a deadlock; the hub runs that call again, and both answer.
func TestDeadlockedCallRunsAgain(t *testing.T) {
	cfg := KojiConfig{DSN: testenv.PostgresDSN(t), Admin: "kojiadmin"}
	cfg.Logger = slog.New(slog.DiscardHandler)
	k, err := OpenKoji(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { k.Close() })
	ctx := context.Background()
	tx, err := k.db.Begin(ctx)
	require.NoError(t, err)
	for range 2 {
		_, err := tx.CreateTask(ctx, store.Task{ChannelID: 1, Owner: 1, Method: "sleep", Request: "<params/>", Arch: "noarch"})
		require.NoError(t, err)
	}
	require.NoError(t, tx.Commit(ctx))

	hc := k.HubConfig()
	hc.Store = writerStore{k}
	h, err := New(hc)
	require.NoError(t, err)
	var runs atomic.Int32
	var holding sync.WaitGroup // both calls hold their first row
	holding.Add(2)
	require.NoError(t, h.Register(Method{Name: "testLockBoth", Args: []Arg{{Name: "first"}, {Name: "second"}},
		Func: func(ctx context.Context, first, second int64) (bool, error) {
			run := runs.Add(1)
			tx := TxFrom(ctx).(kojiTx)
			if _, err := tx.LockTask(ctx, first); err != nil {
				return false, err
			}
			if run <= 2 {
				holding.Done()
				holding.Wait()
			}
			_, err := tx.LockTask(ctx, second)
			return err == nil, err
		}}))
	srv := httptest.NewServer(h.Handler())
	t.Cleanup(srv.Close)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, order := range [][2]int64{{1, 2}, {2, 1}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := koji.NewClient(srv.URL + "/kojihub")
			if err != nil {
				errs[i] = err
				return
			}
			var ok bool
			errs[i] = c.Call(ctx, "testLockBoth", &ok, order[0], order[1])
			if errs[i] == nil && !ok {
				errs[i] = assert.AnError
			}
		}()
	}
	wg.Wait()
	assert.NoError(t, errs[0])
	assert.NoError(t, errs[1])
	assert.Equal(t, int32(3), runs.Load(), "the call that lost the deadlock ran once more")
}

// writerStore begins every call's transaction on the writer, as for a
// logged-in caller, so that row locks are held to the end of the call.
type writerStore struct{ k *Koji }

func (s writerStore) Begin(ctx context.Context) (Tx, error) {
	tx, err := s.k.db.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return kojiTx{tx, &callSession{}}, nil
}
