package hubserver

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/koji"
)

// TestAnonymousCallsRunWithoutATransaction checks kojiStore's routing of
// anonymous calls: a read runs without a transaction,
// and an anonymous call that writes runs again, once, on the writer, with
// the second run's reply and its write kept.
func TestAnonymousCallsRunWithoutATransaction(t *testing.T) {
	for name, dsn := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "hub.db") },
		"postgres": func(t *testing.T) string { return testenv.PostgresDSN(t) },
	} {
		t.Run(name, func(t *testing.T) { testAnonymousCallsRunWithoutATransaction(t, dsn(t)) })
	}
}

func testAnonymousCallsRunWithoutATransaction(t *testing.T, dsn string) {
	cfg := KojiConfig{DSN: dsn}
	cfg.Logger = slog.New(slog.DiscardHandler)
	k, err := OpenKoji(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { k.Close() })
	h, err := New(k.HubConfig())
	require.NoError(t, err)
	require.NoError(t, h.Register(k.Methods()...))
	var readRuns, writeRuns atomic.Int32
	var readOnly []bool
	require.NoError(t, h.Register(
		Method{Name: "testRead", Func: func(ctx context.Context) (bool, error) {
			readRuns.Add(1)
			return TxFrom(ctx).(kojiTx).ReadOnly(), nil
		}},
		Method{Name: "testLastEvent", Func: func(ctx context.Context) (int64, error) {
			e, err := TxFrom(ctx).(kojiTx).LastEvent(ctx, nil)
			if errors.Is(err, store.ErrNotFound) {
				return 0, nil
			} else if err != nil {
				return 0, err
			}
			return e.ID, nil
		}},
		Method{Name: "testWrite", Func: func(ctx context.Context) (int64, error) {
			writeRuns.Add(1)
			tx := TxFrom(ctx).(kojiTx)
			readOnly = append(readOnly, tx.ReadOnly())
			return tx.Tx.NewEvent(ctx)
		}},
	))
	srv := httptest.NewServer(h.Handler())
	t.Cleanup(srv.Close)
	c, err := koji.NewClient(srv.URL + "/kojihub")
	require.NoError(t, err)
	ctx := context.Background()

	var onReader bool
	require.NoError(t, c.Call(ctx, "testRead", &onReader))
	assert.True(t, onReader, "an anonymous read runs on a reader connection")
	assert.Equal(t, int32(1), readRuns.Load())

	var before int64
	require.NoError(t, c.Call(ctx, "testLastEvent", &before))
	var event int64
	require.NoError(t, c.Call(ctx, "testWrite", &event))
	assert.Equal(t, []bool{true, false}, readOnly, "refused on the reader, then run on the writer")
	assert.Equal(t, before+1, event, "the first run wrote nothing")
	var after int64
	require.NoError(t, c.Call(ctx, "testLastEvent", &after))
	assert.Equal(t, event, after, "the second run's write was committed")

	// In a multicall, the entries of the first run are undone with it.
	readOnly = nil
	var results []any
	require.NoError(t, c.Call(ctx, "multiCall", &results, []any{
		map[string]any{"methodName": "testRead", "params": []any{}},
		map[string]any{"methodName": "testWrite", "params": []any{}},
	}))
	assert.Equal(t, []any{[]any{false}, []any{event + 1}}, results, "the multicall ran again on the writer, as a whole")
	assert.Equal(t, []bool{true, false}, readOnly)

}
