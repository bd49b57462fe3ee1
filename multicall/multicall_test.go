package multicall

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gokoji/gokoji/internal/kojitest"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The batch a Python client sent, sent again: the same bytes, and the
// recorded results come back value by value, fault by fault.
func TestRecordedMulticall(t *testing.T) {
	hub := kojitest.NewReplayHub(t, "multicall_koji")
	c, err := koji.NewClient(hub.URL())
	require.NoError(t, err)
	b := New(c, nil)
	tag := Add[*koji.Tag](b, "getTag", "anchor-build")
	build := AddKw[*koji.Build](b, "getBuild", []any{"no-such-build-1-1"}, map[string]any{"strict": true})
	api := Add[int](b, "getAPIVersion")

	_, err = tag.Value()
	assert.ErrorIs(t, err, ErrNotRun, "a result read before the batch ran is an error")
	require.NoError(t, b.Run(context.Background()))

	got := hub.Received()
	require.Len(t, got, 1)
	assert.Equal(t, string(kojitest.Fixture(t, "multicall_koji").Request), string(got[0].Body))

	tagInfo, err := tag.Value()
	require.NoError(t, err)
	assert.Equal(t, "anchor-build", tagInfo.Name)
	_, err = build.Value()
	assert.ErrorIs(t, err, koji.ErrGeneric)
	var f *koji.Fault
	require.ErrorAs(t, err, &f)
	assert.Equal(t, "No such build: 'no-such-build-1-1'", f.String)
	assert.Len(t, f.Traceback, 7)
	n, err := api.Value()
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, 0, b.Len(), "Run takes the queue")
}

// buildHub answers getBuild and multiCall (dispatching each entry) and
// records the requests it got and how many ran at once.
type buildHub struct {
	server   *httptest.Server
	delay    time.Duration
	requests atomic.Int32
	calls    atomic.Int32
	inFlight atomic.Int32
	maxSeen  atomic.Int32

	mu    sync.Mutex
	sizes []int
}

func newBuildHub(t testing.TB) *buildHub {
	h := &buildHub{}
	h.server = httptest.NewServer(h)
	t.Cleanup(h.server.Close)
	return h
}

func (h *buildHub) url() string { return h.server.URL + "/kojihub" }

func (h *buildHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := h.inFlight.Add(1)
	defer h.inFlight.Add(-1)
	for {
		m := h.maxSeen.Load()
		if n <= m || h.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	h.requests.Add(1)
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.sizes = append(h.sizes, len(body))
	h.mu.Unlock()
	if len(body) > DefaultMaxRequestBytes {
		http.Error(w, "Request too long", http.StatusBadRequest)
		return
	}
	time.Sleep(h.delay)
	call, err := xmlrpc.DecodeCall(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	if call.Method != "multiCall" {
		v, ferr := h.dispatch(call)
		if ferr != nil {
			_ = xmlrpc.NewEncoder(w).EncodeFault(ferr)
			return
		}
		_ = xmlrpc.NewEncoder(w).EncodeResponse(v)
		return
	}
	entries, err := xmlrpc.DecodeMulticall(call.Params[0])
	if err != nil {
		_ = xmlrpc.NewEncoder(w).EncodeFault(&xmlrpc.Fault{Code: 1000, String: err.Error()})
		return
	}
	results := make([]xmlrpc.MulticallResult, len(entries))
	for i, e := range entries {
		v, ferr := h.dispatch(&e.Call)
		if ferr != nil {
			results[i].Fault = ferr
			continue
		}
		raw, err := xmlrpc.MarshalValue(v)
		if err != nil {
			panic(err)
		}
		results[i].Value = raw
	}
	_ = xmlrpc.NewEncoder(w).EncodeResponse(results)
}

// dispatch answers getBuild(id) with a build shaped like the hub's, and
// a fault for a negative id.
func (h *buildHub) dispatch(call *xmlrpc.Call) (any, *xmlrpc.Fault) {
	h.calls.Add(1)
	var id int
	if call.Method != "getBuild" || len(call.Params) != 1 || call.Params[0].Decode(&id) != nil {
		return nil, &xmlrpc.Fault{Code: 1019, String: "bad call " + call.Method}
	}
	if id < 0 {
		return nil, &xmlrpc.Fault{Code: 1000, String: fmt.Sprintf("No such build: %d", id)}
	}
	return map[string]any{
		"id": id, "build_id": id, "name": "pkg", "version": "1.0", "release": fmt.Sprintf("%d.fc43", id),
		"nvr": fmt.Sprintf("pkg-1.0-%d.fc43", id), "state": 1, "owner_name": "builder", "epoch": nil,
		"volume_name": "DEFAULT", "extra": map[string]any{"source": strings.Repeat("x", 64)},
	}, nil
}

func TestSplitsByCountAndSize(t *testing.T) {
	h := newBuildHub(t)
	c, err := koji.NewClient(h.url())
	require.NoError(t, err)

	b := New(c, &Options{BatchSize: 100})
	var results []*Result[koji.Build]
	for i := range 1000 {
		results = append(results, Add[koji.Build](b, "getBuild", i))
	}
	require.NoError(t, b.Run(context.Background()))
	assert.EqualValues(t, 10, h.requests.Load())
	for i, r := range results {
		v, err := r.Value()
		require.NoError(t, err)
		assert.Equal(t, i, v.ID)
	}

	// With a small size limit every request stays under it.
	h.requests.Store(0)
	h.sizes = nil
	b = New(c, &Options{MaxRequestBytes: 16 << 10})
	for i := range 2000 {
		Add[koji.Build](b, "getBuild", i)
	}
	require.NoError(t, b.Run(context.Background()))
	assert.Greater(t, h.requests.Load(), int32(1))
	for _, n := range h.sizes {
		assert.LessOrEqual(t, n, 16<<10)
	}

	// A call that cannot fit any request fails alone.
	b = New(c, &Options{MaxRequestBytes: 1 << 10})
	big := Add[koji.Build](b, "getBuild", strings.Repeat("x", 2<<10))
	small := Add[koji.Build](b, "getBuild", 7)
	require.NoError(t, b.Run(context.Background()))
	_, err = big.Value()
	assert.ErrorIs(t, err, ErrCallTooLarge)
	v, err := small.Value()
	require.NoError(t, err)
	assert.Equal(t, 7, v.ID)
}

// Without splitting, 40,000 calls (about 7.6 MB) would make a request over the
// hub's 4 MiB: the default limit keeps every request under it.
func TestDefaultLimitKeepsRequestsUnderTheHubs(t *testing.T) {
	h := newBuildHub(t)
	c, err := koji.NewClient(h.url())
	require.NoError(t, err)
	b := New(c, nil)
	last := Add[koji.Build](b, "getBuild", 0)
	for i := 1; i < 40_000; i++ {
		last = Add[koji.Build](b, "getBuild", i)
	}
	require.NoError(t, b.Run(context.Background()))
	v, err := last.Value()
	require.NoError(t, err)
	assert.Equal(t, 39_999, v.ID)
	assert.Greater(t, h.requests.Load(), int32(1))
	for _, n := range h.sizes {
		assert.LessOrEqual(t, n, DefaultMaxRequestBytes)
	}
}

func TestReadsRunConcurrentlyWritesInOrder(t *testing.T) {
	h := newBuildHub(t)
	h.delay = 20 * time.Millisecond
	c, err := koji.NewClient(h.url())
	require.NoError(t, err)

	b := New(c, &Options{BatchSize: 10, Concurrency: 3})
	for i := range 100 {
		Add[koji.Build](b, "getBuild", i)
	}
	require.NoError(t, b.Run(context.Background()))
	assert.EqualValues(t, 3, h.maxSeen.Load(), "ten read requests, three at a time")

	h.maxSeen.Store(0)
	b = New(c, &Options{BatchSize: 10, Concurrency: 3})
	for i := range 30 {
		Add[koji.Build](b, "getBuild", i)
	}
	AddKw[int](b, "tagBuild", []any{"f43", 1}, nil) // a write: the whole batch runs in order
	require.NoError(t, b.Run(context.Background()))
	assert.EqualValues(t, 1, h.maxSeen.Load())
}

func TestStrictReturnsFirstFaultAfterAllRan(t *testing.T) {
	h := newBuildHub(t)
	c, err := koji.NewClient(h.url())
	require.NoError(t, err)
	b := New(c, &Options{Strict: true, BatchSize: 2})
	first := Add[koji.Build](b, "getBuild", 1)
	Add[koji.Build](b, "getBuild", -2)
	Add[koji.Build](b, "getBuild", -3)
	last := Add[koji.Build](b, "getBuild", 4)
	err = b.Run(context.Background())
	var f *koji.Fault
	require.ErrorAs(t, err, &f)
	assert.Equal(t, "No such build: -2", f.String)
	_, err = last.Value()
	assert.NoError(t, err, "later requests still ran")
	_, err = first.Value()
	assert.NoError(t, err)

	b = New(c, &Options{BatchSize: 2})
	Add[koji.Build](b, "getBuild", -2)
	assert.NoError(t, b.Run(context.Background()), "not strict: faults stay on their results")
}

func TestRequestFailureReachesItsCalls(t *testing.T) {
	h := newBuildHub(t)
	c, err := koji.NewClient(h.url(), koji.WithRetryPolicy(koji.NoRetries))
	require.NoError(t, err)
	h.server.Close()
	b := New(c, nil)
	r := Add[koji.Build](b, "getBuild", 1)
	err = b.Run(context.Background())
	var te *koji.TransportError
	require.ErrorAs(t, err, &te)
	_, err = r.Value()
	assert.ErrorAs(t, err, &te)

	// An argument that cannot be encoded fails its call alone.
	h2 := newBuildHub(t)
	c2, err := koji.NewClient(h2.url())
	require.NoError(t, err)
	b = New(c2, nil)
	bad := Add[koji.Build](b, "getBuild", make(chan int))
	good := Add[koji.Build](b, "getBuild", 2)
	require.NoError(t, b.Run(context.Background()))
	var me *xmlrpc.MarshalError
	_, err = bad.Value()
	assert.ErrorAs(t, err, &me)
	_, err = good.Value()
	assert.NoError(t, err)
}

func TestRunHonoursContext(t *testing.T) {
	h := newBuildHub(t)
	h.delay = time.Second
	c, err := koji.NewClient(h.url())
	require.NoError(t, err)
	b := New(c, &Options{BatchSize: 1})
	var results []*Result[koji.Build]
	for i := range 10 {
		results = append(results, Add[koji.Build](b, "getBuild", i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = b.Run(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 900*time.Millisecond)
	for _, r := range results {
		_, err := r.Value()
		assert.True(t, errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled), "%v", err)
	}
}

// A logged-in client with a pool of sessions runs batches of reads on
// several sessions at once.
func TestWithSessionPool(t *testing.T) {
	hub := newSessionHub(t)
	c, err := koji.NewClient(hub.url(), koji.WithSessions(3))
	require.NoError(t, err)
	require.NoError(t, c.Login(context.Background(), hub))
	b := New(c, &Options{BatchSize: 5, Concurrency: 3})
	var results []*Result[koji.Build]
	for i := range 60 {
		results = append(results, Add[koji.Build](b, "getBuild", i))
	}
	require.NoError(t, b.Run(context.Background()))
	for i, r := range results {
		v, err := r.Value()
		require.NoError(t, err)
		assert.Equal(t, i, v.ID)
	}
	assert.Greater(t, len(hub.sessionsUsed()), 1)
}

// sessionHub is a buildHub that also logs in and records which sessions
// carried requests; it is its own Authenticator.
type sessionHub struct {
	*buildHub
	mu   sync.Mutex
	used map[string]bool
	next int
}

func newSessionHub(t testing.TB) *sessionHub {
	h := &sessionHub{buildHub: &buildHub{delay: 10 * time.Millisecond}, used: map[string]bool{}}
	h.server = httptest.NewServer(h)
	t.Cleanup(h.server.Close)
	return h
}

func (h *sessionHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	if call, err := xmlrpc.DecodeCall(body); err == nil && (call.Method == "login" || call.Method == "subsession" || call.Method == "logout") {
		h.mu.Lock()
		h.next++
		info := map[string]any{"session-id": h.next, "session-key": fmt.Sprintf("k%d", h.next), "header-auth": true}
		h.mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		_ = xmlrpc.NewEncoder(w).EncodeResponse(info)
		return
	}
	h.mu.Lock()
	h.used[r.Header.Get("Koji-Session-Id")] = true
	h.mu.Unlock()
	h.buildHub.ServeHTTP(w, r)
}

func (h *sessionHub) sessionsUsed() map[string]bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.used
}

func (h *sessionHub) Login(ctx context.Context, c *koji.Client, _ koji.LoginRequest) (koji.SessionInfo, error) {
	return c.LoginCall(ctx, "", nil, "login", []any{"u", "p"}, nil)
}
