package hubserver_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/hubserver/hubtest"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// record appends an entry to the store's log, so that what runs after a
// commit is ordered with the transaction calls.
func (s *fakeStore) record(entry string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, entry)
}

// noteMethod registers "note": it registers an AfterCommit recording
// "after <name>" and fails when fail is set.
func noteMethod(record func(string)) func(*hubserver.Hub) {
	return func(h *hubserver.Hub) {
		err := h.Register(hubserver.Method{
			Name: "note",
			Args: []hubserver.Arg{{Name: "name"}, {Name: "fail", Default: false}},
			Func: func(ctx context.Context, name string, fail bool) (string, error) {
				hubserver.AfterCommit(ctx, func() { record("after " + name) })
				if fail {
					return "", errors.New("failed " + name)
				}
				return name, nil
			},
		})
		if err != nil {
			panic(err)
		}
	}
}

func TestAfterCommit(t *testing.T) {
	store := &fakeStore{}
	h := hubtest.Start(t, hubserver.Config{Store: store}, noteMethod(store.record))
	c, err := koji.NewClient(h.URL())
	require.NoError(t, err)
	ctx := context.Background()

	t.Run("commit", func(t *testing.T) {
		require.NoError(t, c.Call(ctx, "note", nil, "a"))
		assert.Equal(t, []string{"begin", "commit", "after a"}, store.log())
	})
	t.Run("rollback", func(t *testing.T) {
		assert.Error(t, c.Call(ctx, "note", nil, "a", true))
		assert.Equal(t, []string{"begin", "rollback"}, store.log())
	})
	t.Run("multicall", func(t *testing.T) {
		var res []xmlrpc.MulticallResult
		require.NoError(t, c.Call(ctx, "multiCall", &res, []any{
			xmlrpc.MulticallCall{Method: "note", Params: []any{"a"}},
			xmlrpc.MulticallCall{Method: "note", Params: []any{"b", true}},
			xmlrpc.MulticallCall{Method: "multiCall", Params: []any{[]any{
				xmlrpc.MulticallCall{Method: "note", Params: []any{"c", true}},
				xmlrpc.MulticallCall{Method: "note", Params: []any{"d"}},
			}}},
			xmlrpc.MulticallCall{Method: "note", Params: []any{"e"}},
		}))
		require.Len(t, res, 4)
		require.NotNil(t, res[1].Fault)
		log := store.log()
		i := slicesIndex(log, "commit")
		require.GreaterOrEqual(t, i, 0, log)
		assert.NotContains(t, log[:i], "after a")
		assert.Equal(t, []string{"after a", "after d", "after e"}, log[i+1:])
	})
}

// peek returns the store's log so far without clearing it.
func (s *fakeStore) peek() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

func slicesIndex(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// failingCommitStore is a fakeStore whose commits fail.
type failingCommitStore struct{ fakeStore }

type failingCommitTx struct{ hubserver.Tx }

func (tx failingCommitTx) Commit(ctx context.Context) error {
	tx.Tx.Commit(ctx)
	return errors.New("disk full")
}

func (s *failingCommitStore) Begin(ctx context.Context) (hubserver.Tx, error) {
	tx, err := s.fakeStore.Begin(ctx)
	return failingCommitTx{tx}, err
}

func TestAfterCommitFailedCommit(t *testing.T) {
	store := &failingCommitStore{}
	h := hubtest.Start(t, hubserver.Config{Store: store}, noteMethod(store.record))
	c, err := koji.NewClient(h.URL())
	require.NoError(t, err)
	assert.Error(t, c.Call(context.Background(), "note", nil, "a"))
	assert.Equal(t, []string{"begin", "commit", "rollback"}, store.log())
}

func TestAfterCommitWithoutStore(t *testing.T) {
	var mu sync.Mutex
	var got []string
	h := hubtest.Start(t, hubserver.Config{}, noteMethod(func(s string) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, s)
	}))
	c, err := koji.NewClient(h.URL())
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, c.Call(ctx, "note", nil, "a"))
	assert.Error(t, c.Call(ctx, "note", nil, "b", true))
	var res []xmlrpc.MulticallResult
	require.NoError(t, c.Call(ctx, "multiCall", &res, []any{
		xmlrpc.MulticallCall{Method: "note", Params: []any{"c", true}},
		xmlrpc.MulticallCall{Method: "note", Params: []any{"d"}},
	}))
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"after a", "after d"}, got)

	ran := false
	hubserver.AfterCommit(context.Background(), func() { ran = true })
	assert.True(t, ran, "outside a call fn runs at once")
}

// parker registers "wait", which parks until the test's wake channel is
// closed or its deadline passes, and answers how its last run saw it.
type parker struct {
	store *fakeStore
	runs  atomic.Int32
	// parked receives once per run that parks.
	parked chan struct{}
	wake   chan struct{}
	// until is the deadline of the next Park.
	until atomic.Pointer[time.Time]
	// always makes every run park, even an expired one.
	always atomic.Bool
}

func newParker(store *fakeStore) *parker {
	p := &parker{store: store, parked: make(chan struct{}, 10), wake: make(chan struct{})}
	u := time.Now().Add(time.Hour)
	p.until.Store(&u)
	return p
}

func (p *parker) register(h *hubserver.Hub) {
	err := h.Register(hubserver.Method{
		Name: "wait",
		Args: []hubserver.Arg{{Name: "label"}},
		Func: func(ctx context.Context, label string) (string, error) {
			n := p.runs.Add(1)
			if tx, ok := hubserver.TxFrom(ctx).(*fakeTx); ok {
				tx.log("write run " + label)
			}
			expired := hubserver.ParkExpired(ctx)
			if n == 1 || p.always.Load() {
				hubserver.AfterCommit(ctx, func() { p.store.record("after park") })
				p.parked <- struct{}{}
				return "", hubserver.Park(p.wake, *p.until.Load())
			}
			if expired {
				return label + " expired", nil
			}
			return label + " woken", nil
		},
	})
	if err != nil {
		panic(err)
	}
}

func TestPark(t *testing.T) {
	ctx := context.Background()
	start := func(t *testing.T) (*hubserver.Hub, *parker, *fakeStore, *atomic.Int32) {
		store := &fakeStore{}
		p := newParker(store)
		var auths atomic.Int32
		h := hubtest.Start(t, hubserver.Config{Store: store, Authenticate: func(ctx context.Context, r *http.Request) (*hubserver.Session, error) {
			auths.Add(1)
			return &hubserver.Session{ID: 5, UserName: "builder"}, nil
		}}, p.register)
		return h, p, store, &auths
	}

	t.Run("woken", func(t *testing.T) {
		h, p, store, auths := start(t)
		c, err := koji.NewClient(h.URL())
		require.NoError(t, err)
		done := make(chan error, 1)
		var got string
		go func() { done <- c.Call(ctx, "wait", &got, "x") }()
		<-p.parked
		// The first run committed before waiting: nothing holds a
		// transaction while the call is parked.
		require.Eventually(t, func() bool { return slicesIndex(store.peek(), "after park") >= 0 }, 5*time.Second, time.Millisecond)
		close(p.wake)
		require.NoError(t, <-done)
		assert.Equal(t, "x woken", got)
		assert.Equal(t, []string{"begin", "write run x", "commit", "after park", "begin", "write run x", "commit"}, store.log())
		assert.Equal(t, int32(1), auths.Load(), "the re-run is not authenticated again")
	})
	t.Run("deadline", func(t *testing.T) {
		h, p, store, _ := start(t)
		u := time.Now().Add(200 * time.Millisecond)
		p.until.Store(&u)
		c, err := koji.NewClient(h.URL())
		require.NoError(t, err)
		var got string
		require.NoError(t, c.Call(ctx, "wait", &got, "x"))
		assert.Equal(t, "x expired", got)
		assert.False(t, time.Now().Before(u))
		assert.Equal(t, []string{"begin", "write run x", "commit", "after park", "begin", "write run x", "commit"}, store.log())
	})
	t.Run("shutdown", func(t *testing.T) {
		h, p, _, _ := start(t)
		c, err := koji.NewClient(h.URL())
		require.NoError(t, err)
		done := make(chan error, 1)
		var got string
		go func() { done <- c.Call(ctx, "wait", &got, "x") }()
		<-p.parked
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		require.NoError(t, h.Shutdown(sctx))
		require.NoError(t, <-done)
		assert.Equal(t, "x expired", got)
	})
	t.Run("client gone", func(t *testing.T) {
		store := &fakeStore{}
		p := newParker(store)
		logs := &recordingHandler{}
		h := hubtest.Start(t, hubserver.Config{Store: store, Logger: slog.New(logs)}, p.register)
		c, err := koji.NewClient(h.URL())
		require.NoError(t, err)
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- c.Call(cctx, "wait", nil, "x") }()
		<-p.parked
		cancel()
		assert.ErrorIs(t, <-done, context.Canceled)
		require.Eventually(t, func() bool { return logs.has("parked call abandoned") }, 5*time.Second, 5*time.Millisecond)
		assert.Equal(t, int32(1), p.runs.Load())
		assert.Equal(t, []string{"begin", "write run x", "commit", "after park"}, store.log())
	})
	t.Run("multicall", func(t *testing.T) {
		h, p, store, _ := start(t)
		c, err := koji.NewClient(h.URL())
		require.NoError(t, err)
		var res []xmlrpc.MulticallResult
		require.NoError(t, c.Call(ctx, "multiCall", &res, []any{xmlrpc.MulticallCall{Method: "wait", Params: []any{"x"}}}))
		require.Len(t, res, 1)
		require.Nil(t, res[0].Fault)
		var got string
		require.NoError(t, res[0].Value.Decode(&got))
		assert.Equal(t, "x expired", got)
		assert.Equal(t, int32(2), p.runs.Load())
		assert.Equal(t, []string{"begin", "savepoint multiCall_loop", "write run x", "write run x",
			"release multiCall_loop", "new event", "commit", "after park"}, store.log())
	})
	t.Run("parks again", func(t *testing.T) {
		h, p, store, _ := start(t)
		u := time.Now().Add(-time.Second)
		p.until.Store(&u)
		p.always.Store(true)
		c, err := koji.NewClient(h.URL())
		require.NoError(t, err)
		err = c.Call(ctx, "wait", nil, "x")
		assert.Equal(t, &koji.Fault{Code: 1, String: "<class 'Exception'>: the method parked again after its wait expired"}, err)
		assert.Equal(t, []string{"begin", "write run x", "commit", "after park", "begin", "write run x", "rollback"}, store.log())

		var res []xmlrpc.MulticallResult
		require.NoError(t, c.Call(ctx, "multiCall", &res, []any{xmlrpc.MulticallCall{Method: "wait", Params: []any{"y"}}}))
		require.Len(t, res, 1)
		require.NotNil(t, res[0].Fault)
		assert.Equal(t, "the method parked again after its wait expired", res[0].Fault.String)
		log := store.log()
		assert.NotContains(t, log, "after park", "a rolled-back entry's AfterCommit is dropped")
	})
}

// outageStore is a fakeStore that fails every Begin after the first.
type outageStore struct {
	fakeStore
	begun atomic.Bool
}

func (s *outageStore) Begin(ctx context.Context) (hubserver.Tx, error) {
	if s.begun.Swap(true) {
		return nil, errors.New("connection refused")
	}
	return s.fakeStore.Begin(ctx)
}

func TestParkDatabaseOutage(t *testing.T) {
	store := &outageStore{}
	p := newParker(&store.fakeStore)
	u := time.Now()
	p.until.Store(&u)
	h := hubtest.Start(t, hubserver.Config{Store: store}, p.register)
	c, err := koji.NewClient(h.URL())
	require.NoError(t, err)
	err = c.Call(context.Background(), "wait", nil, "x")
	assert.Equal(t, &koji.Fault{Code: 1014, String: "database outage"}, err)
	assert.Equal(t, []string{"begin", "write run x", "commit", "after park"}, store.log())
}

// recordingHandler is a slog.Handler keeping the messages it receives.
type recordingHandler struct {
	mu   sync.Mutex
	msgs []string
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.msgs = append(h.msgs, r.Message)
	return nil
}

func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler      { return h }

func (h *recordingHandler) has(msg string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, m := range h.msgs {
		if strings.Contains(m, msg) {
			return true
		}
	}
	return false
}
