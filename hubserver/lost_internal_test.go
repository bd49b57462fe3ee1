package hubserver

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
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
// as a deadlock; the hub runs that call again, and both answer. The rerun
// can deadlock once more with the winner (when it locks its first row
// before the winner, woken by the loser's abort, takes it), so a fourth
// run is allowed as long as every rerun followed a lost transaction.
func TestDeadlockedCallRunsAgain(t *testing.T) {
	cfg := KojiConfig{DSN: testenv.PostgresDSN(t), Admin: "kojiadmin"}
	var logs lockedBuffer
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
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
	var lost, deadlocks int
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, "transaction lost to a concurrent one") {
			lost++
			if strings.Contains(line, "SQLSTATE 40P01") {
				deadlocks++
			}
		}
	}
	assert.GreaterOrEqual(t, runs.Load(), int32(3), "the call that lost the deadlock ran once more")
	assert.Equal(t, int(runs.Load())-2, lost, "every rerun followed a lost transaction:\n%s", logs.String())
	assert.Equal(t, lost, deadlocks, "lost to deadlocks only:\n%s", logs.String())
}

// A lockedBuffer is a bytes.Buffer safe for the hub's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
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
