package koji

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gokoji/gokoji/internal/kojitest"
	"github.com/gokoji/gokoji/xmlrpc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCallAgainstRecordedHub(t *testing.T) {
	hub := kojitest.NewReplayHub(t, "hello", "getAPIVersion", "getBuild_nonexistent_strict", "wrong_arg_count", "nonexistent_method", "fault_Exception")
	c, err := NewClient(hub.URL())
	require.NoError(t, err)
	ctx := context.Background()

	var hello string
	require.NoError(t, c.Call(ctx, "hello", &hello))
	assert.Equal(t, "Hello World", hello)
	version, err := c.HubVersion(ctx)
	require.NoError(t, err)
	assert.Equal(t, "1.35.3", version, "taken from the Koji-Version header, without a call")
	assert.Len(t, hub.Received(), 1)

	var api int
	require.NoError(t, c.Call(ctx, "getAPIVersion", &api))
	assert.Equal(t, 1, api)

	err = c.CallKw(ctx, "getBuild", nil, []any{"no-such-build-1-1"}, map[string]any{"strict": true})
	var f *Fault
	require.ErrorAs(t, err, &f)
	assert.Equal(t, "No such build: 'no-such-build-1-1'", f.String)
	assert.ErrorIs(t, err, ErrGeneric)
	assert.NotErrorIs(t, err, ErrAuth)

	err = c.Call(ctx, "getTag", nil)
	assert.ErrorIs(t, err, ErrParameter)
	assert.ErrorIs(t, err, ErrGeneric)
	assert.Contains(t, err.Error(), "ParameterError: get_tag() missing 1 required positional argument")

	err = c.Call(ctx, "noSuchMethodAtAll", nil)
	assert.ErrorIs(t, err, ErrGeneric)

	err = c.Call(ctx, "fault", nil)
	require.ErrorAs(t, err, &f)
	assert.Equal(t, 1, f.Code)
	assert.NotErrorIs(t, err, ErrGeneric, "code 1 is not a Koji class")
}

func TestFaultHierarchy(t *testing.T) {
	for code, ancestors := range map[FaultClass][]FaultClass{
		ErrAuthExpired: {ErrAuthExpired, ErrAuth, ErrGeneric},
		ErrGSSAPIAuth:  {ErrAuth, ErrGeneric},
		ErrPostBuild:   {ErrBuild, ErrGeneric},
		ErrCallback:    {ErrPlugin, ErrGeneric},
		ErrParameter:   {ErrGeneric},
	} {
		err := fmt.Errorf("wrapped: %w", &Fault{Code: int(code), String: "x"})
		for _, a := range ancestors {
			assert.ErrorIs(t, err, a, "%s is a %s", code.Name(), a.Name())
		}
		assert.NotErrorIs(t, err, ErrLock)
	}
	assert.Equal(t, "koji: AuthExpired: gone", (&Fault{Code: 1007, String: "gone"}).Error())
	assert.Equal(t, "koji: fault 7: odd", (&Fault{Code: 7, String: "odd"}).Error())
}

func newLoggedIn(t *testing.T, h *fakeHub, opts ...Option) (*Client, *fakeLogin) {
	t.Helper()
	c, err := NewClient(h.url(), opts...)
	require.NoError(t, err)
	a := &fakeLogin{}
	require.NoError(t, c.Login(context.Background(), a))
	t.Cleanup(func() { _ = c.Close() })
	return c, a
}

// 200 goroutines mix anonymous and authenticated calls; every session's
// callnums reach the hub in increasing order, so none is refused.
func TestConcurrentCallsKeepCallnumOrder(t *testing.T) {
	for _, headerAuth := range []bool{true, false} {
		t.Run(fmt.Sprintf("header-auth=%v", headerAuth), func(t *testing.T) {
			h := newFakeHub(t)
			h.headerAuth = headerAuth
			authed, _ := newLoggedIn(t, h, WithSessions(4))
			anon, err := NewClient(h.url())
			require.NoError(t, err)

			var wg sync.WaitGroup
			errs := make(chan error, 200*5)
			for g := range 200 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 5 {
						var user map[string]any
						if (g+i)%2 == 0 {
							errs <- authed.Call(context.Background(), "getLoggedInUser", &user)
							if user == nil {
								errs <- errors.New("authenticated call ran anonymously")
							}
						} else {
							errs <- anon.Call(context.Background(), "getLoggedInUser", &user)
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			last := map[int64]int64{}
			sessions := map[int64]bool{}
			for _, call := range h.calledLog() {
				if call.session == 0 {
					continue
				}
				sessions[call.session] = true
				if prev, seen := last[call.session]; seen {
					assert.Greater(t, call.callnum, prev, "session %d", call.session)
				}
				last[call.session] = call.callnum
			}
			assert.Len(t, sessions, 4, "the login session and three subsessions")
			assert.Equal(t, 3, h.count("subsession"))
		})
	}
}

func TestURLSessionsKeepKeyOutOfErrors(t *testing.T) {
	h := newFakeHub(t)
	h.headerAuth = false
	c, _ := newLoggedIn(t, h, WithRetryPolicy(NoRetries))
	info, ok := c.Session()
	require.True(t, ok)
	h.before = func(w http.ResponseWriter, r *http.Request, call *xmlrpc.Call) bool {
		if call.Method == "echo" {
			assert.Equal(t, info.Key, r.URL.Query().Get("session-key"), "pre-1.31 hubs read the session from the URL")
			dropConnection(w)
			return true
		}
		return false
	}
	err := c.Call(context.Background(), "echo", nil, 1)
	var te *TransportError
	require.ErrorAs(t, err, &te)
	assert.NotContains(t, err.Error(), info.Key)
	assert.Contains(t, te.URL, "session-key=REDACTED")
	assert.NotContains(t, fmt.Sprintf("%+v %#v", err, te), info.Key)
}

// Unwrapping a transport error must not reach net/http's *url.Error with
// the key still in its URL, and must still reach the cause.
func TestURLSessionsKeepKeyOutOfUnwrappedErrors(t *testing.T) {
	h := newFakeHub(t)
	h.headerAuth = false
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	h.before = func(w http.ResponseWriter, r *http.Request, call *xmlrpc.Call) bool {
		if call.Method == "echo" {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
			return true
		}
		return false
	}
	c, _ := newLoggedIn(t, h, WithRetryPolicy(NoRetries), WithTimeout(50*time.Millisecond))
	info, ok := c.Session()
	require.True(t, ok)
	assertRedacted := func(err error) {
		t.Helper()
		var ue *url.Error
		require.ErrorAs(t, err, &ue)
		assert.NotContains(t, ue.URL, info.Key)
		assert.Contains(t, ue.URL, "session-key=REDACTED")
	}

	err := c.Call(context.Background(), "echo", nil, 1)
	assertRedacted(err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout())

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(10*time.Millisecond, cancel)
	err = c.Call(ctx, "echo", nil, 1)
	assertRedacted(err)
	assert.ErrorIs(t, err, context.Canceled)
}

func dropConnection(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

func TestCancellationReturnsPromptly(t *testing.T) {
	h := newFakeHub(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	h.before = func(w http.ResponseWriter, r *http.Request, call *xmlrpc.Call) bool {
		if call.Method == "hello" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return true
		}
		return false
	}
	c, err := NewClient(h.url(), WithRetryPolicy(RetryPolicy{MaxRetries: 5, AnonRetry: true}))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = c.Call(ctx, "hello", nil)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 2*time.Second)

	// A logged-in call waiting for a busy session is canceled too.
	authed, _ := newLoggedIn(t, h)
	busy, stop := context.WithCancel(context.Background())
	defer stop()
	go func() { _ = authed.Call(busy, "hello", nil) }() // holds the only session
	time.Sleep(50 * time.Millisecond)
	ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, authed.Call(ctx, "getLoggedInUser", nil), context.DeadlineExceeded)
}

func TestExpiredSessionIsRenewedOnce(t *testing.T) {
	h := newFakeHub(t)
	c, a := newLoggedIn(t, h)
	info, _ := c.Session()
	h.expire(info.ID)

	var user map[string]any
	require.NoError(t, c.Call(context.Background(), "getLoggedInUser", &user))
	assert.EqualValues(t, info.ID, user["session"], "renewal keeps the session id")
	renewed, _ := c.Session()
	assert.NotEqual(t, info.Key, renewed.Key)
	require.Len(t, a.requests, 2)
	assert.Equal(t, LoginRequest{Renew: true}, a.requests[1])

	// A session that expires again at once is renewed only once per call.
	h.before = func(w http.ResponseWriter, r *http.Request, call *xmlrpc.Call) bool {
		if call.Method == "echo" {
			_ = xmlrpc.NewEncoder(w).EncodeFault(&xmlrpc.Fault{Code: 1007, String: "expired"})
			return true
		}
		return false
	}
	assert.ErrorIs(t, c.Call(context.Background(), "echo", nil), ErrAuthExpired)
	assert.Len(t, a.requests, 3)
}

func TestCloseLogsOut(t *testing.T) {
	h := newFakeHub(t)
	c, err := NewClient(h.url())
	require.NoError(t, err)
	require.NoError(t, c.Login(context.Background(), &fakeLogin{}))
	require.NoError(t, c.Close())
	assert.Equal(t, 1, h.count("logout"))
	assert.ErrorIs(t, c.Call(context.Background(), "hello", nil), ErrClosed)
	assert.NoError(t, c.Close())
}

// retryHub fails the first n attempts of each method in a chosen way.
func retryHub(t *testing.T, failures int, fail func(w http.ResponseWriter, h *fakeHub, call *xmlrpc.Call)) (*fakeHub, *atomic.Int32) {
	h := newFakeHub(t)
	var attempts atomic.Int32
	h.before = func(w http.ResponseWriter, r *http.Request, call *xmlrpc.Call) bool {
		if call.Method == "login" || call.Method == "logout" {
			return false
		}
		if attempts.Add(1) <= int32(failures) {
			fail(w, h, call)
			return true
		}
		return false
	}
	return h, &attempts
}

var fastRetries = RetryPolicy{MaxRetries: 3, Interval: time.Millisecond, AnonRetry: true}

func TestRetryRules(t *testing.T) {
	ctx := context.Background()
	drop := func(w http.ResponseWriter, _ *fakeHub, _ *xmlrpc.Call) { dropConnection(w) }
	status := func(code int) func(http.ResponseWriter, *fakeHub, *xmlrpc.Call) {
		return func(w http.ResponseWriter, _ *fakeHub, _ *xmlrpc.Call) { http.Error(w, "nope", code) }
	}

	t.Run("anonymous read is retried after a reset", func(t *testing.T) {
		h, attempts := retryHub(t, 2, drop)
		c, _ := NewClient(h.url(), WithRetryPolicy(fastRetries))
		require.NoError(t, c.Call(ctx, "hello", nil))
		assert.EqualValues(t, 3, attempts.Load())
	})
	t.Run("anonymous call is not retried without anon_retry, as upstream", func(t *testing.T) {
		h, attempts := retryHub(t, 1, drop)
		p := fastRetries
		p.AnonRetry = false
		c, _ := NewClient(h.url(), WithRetryPolicy(p))
		assert.Error(t, c.Call(ctx, "hello", nil))
		assert.EqualValues(t, 1, attempts.Load())
	})
	t.Run("anonymous write whose outcome is unknown is not replayed", func(t *testing.T) {
		h, attempts := retryHub(t, 1, drop)
		h.handlers["createSomething"] = func(*xmlrpc.Call, *fakeSession) (any, error) { return 1, nil }
		c, _ := NewClient(h.url(), WithRetryPolicy(fastRetries))
		var te *TransportError
		assert.ErrorAs(t, c.Call(ctx, "createSomething", nil), &te)
		assert.EqualValues(t, 1, attempts.Load())
	})
	t.Run("authenticated write that committed is refused on replay, not run twice", func(t *testing.T) {
		h := newFakeHub(t)
		h.handlers["tagBuild"] = func(*xmlrpc.Call, *fakeSession) (any, error) { return 42, nil }
		var replies atomic.Int32
		h.before = func(w http.ResponseWriter, r *http.Request, call *xmlrpc.Call) bool {
			if call.Method == "tagBuild" && replies.Add(1) == 1 {
				// Run the call (commit), then lose the reply.
				_, _ = h.dispatch(r, call)
				dropConnection(w)
				return true
			}
			return false
		}
		c, _ := newLoggedIn(t, h, WithRetryPolicy(fastRetries))
		err := c.Call(ctx, "tagBuild", nil, "f43", "foo-1-1")
		assert.ErrorIs(t, err, ErrRetry, "the replay carried the same callnum")
		assert.Equal(t, 1, h.count("tagBuild"), "the write ran once")
	})
	t.Run("a request that never left is resent whatever it is", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		ln.Close() // nothing listens: the connection is refused
		c, _ := NewClient("http://"+addr+"/kojihub", WithRetryPolicy(fastRetries))
		start := time.Now()
		err = c.Call(ctx, "createSomething", nil)
		var op *net.OpError
		require.ErrorAs(t, err, &op)
		assert.Equal(t, "dial", op.Op)
		assert.Less(t, time.Since(start), time.Second)
	})
	t.Run("HTTP 400 and 503 are retried, 405 is not", func(t *testing.T) {
		for code, want := range map[int]int32{400: 2, 503: 2, 405: 1} {
			h, attempts := retryHub(t, 1, status(code))
			c, _ := NewClient(h.url(), WithRetryPolicy(fastRetries))
			err := c.Call(ctx, "hello", nil)
			assert.Equal(t, want, attempts.Load(), "status %d", code)
			if want == 1 {
				var he *HTTPError
				require.ErrorAs(t, err, &he)
				assert.Equal(t, code, he.StatusCode)
			}
		}
	})
	t.Run("faults are answers and are not retried", func(t *testing.T) {
		h, attempts := retryHub(t, 1, func(w http.ResponseWriter, _ *fakeHub, _ *xmlrpc.Call) {
			_ = xmlrpc.NewEncoder(w).EncodeFault(&xmlrpc.Fault{Code: 1000, String: "no"})
		})
		c, _ := NewClient(h.url(), WithRetryPolicy(fastRetries))
		assert.ErrorIs(t, c.Call(ctx, "hello", nil), ErrGeneric)
		assert.EqualValues(t, 1, attempts.Load())
	})
	t.Run("ServerOffline is waited out with offline_retry", func(t *testing.T) {
		offline := func(w http.ResponseWriter, _ *fakeHub, _ *xmlrpc.Call) {
			_ = xmlrpc.NewEncoder(w).EncodeFault(&xmlrpc.Fault{Code: 1014, String: "server is offline"})
		}
		h, attempts := retryHub(t, 10, offline) // more than MaxRetries: offline waits do not count
		p := fastRetries
		p.OfflineRetry, p.OfflineInterval = true, time.Millisecond
		c, _ := NewClient(h.url(), WithRetryPolicy(p))
		require.NoError(t, c.Call(ctx, "hello", nil))
		assert.EqualValues(t, 11, attempts.Load())

		h, _ = retryHub(t, 1, offline)
		c, _ = NewClient(h.url(), WithRetryPolicy(fastRetries))
		assert.ErrorIs(t, c.Call(ctx, "hello", nil), ErrServerOffline)
	})
	t.Run("the budget stops retries against a sick hub", func(t *testing.T) {
		h, attempts := retryHub(t, 1000, status(503))
		p := fastRetries
		p.Budget = 4
		c, _ := NewClient(h.url(), WithRetryPolicy(p))
		for range 5 {
			assert.Error(t, c.Call(ctx, "hello", nil))
		}
		// 5 first attempts, and retries only while more than half the budget remained.
		assert.EqualValues(t, 5+2, attempts.Load())
	})
}

func TestOfflineIntervalFallsBackToInterval(t *testing.T) {
	offline := &Fault{Code: int(ErrServerOffline), String: "server is offline"}
	c, err := NewClient("http://hub.invalid/kojihub", WithRetryPolicy(RetryPolicy{OfflineRetry: true, Interval: 7 * time.Second}))
	require.NoError(t, err)
	wait, retry := c.retryDecision(context.Background(), &request{method: "hello"}, nil, offline, 0)
	assert.True(t, retry)
	assert.Equal(t, retryWait{d: 7 * time.Second, offline: true}, wait, "as ClientSession without offline_retry_interval")

	p := DefaultProfile()
	p.RetryInterval = time.Minute
	assert.Equal(t, 20*time.Second, RetryPolicyFromProfile(p).OfflineInterval, "read_config's own default")
}

func TestBackoffGrowsWithJitter(t *testing.T) {
	p := RetryPolicy{Interval: 100 * time.Millisecond}
	assert.Zero(t, p.backoff(0), "the first retry is immediate, as upstream's")
	for try, max := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 300 * time.Millisecond, 9: 300 * time.Millisecond} {
		for range 20 {
			d := p.backoff(try)
			assert.GreaterOrEqual(t, d, max/2)
			assert.LessOrEqual(t, d, max)
		}
	}
}

func TestCallEncodesKwargsAsUpstream(t *testing.T) {
	hub := kojitest.NewReplayHub(t, "getUser_kwargs")
	c, err := NewClient(hub.URL())
	require.NoError(t, err)
	var user struct {
		Name string `xmlrpc:"name"`
	}
	require.NoError(t, c.CallKw(context.Background(), "getUser", &user, []any{"kojiadmin"},
		struct {
			Strict    bool `xmlrpc:"strict"`
			KrbPrincs bool `xmlrpc:"krb_princs"`
		}{true, true}))
	assert.Equal(t, "kojiadmin", user.Name)
	got := hub.Received()[0]
	assert.Equal(t, string(kojitest.Fixture(t, "getUser_kwargs").Request), string(got.Body))
	assert.Equal(t, "koji/1", got.Header.Get("User-Agent"))
	assert.True(t, strings.HasPrefix(got.Header.Get("Content-Type"), "text/xml"))
}

func TestStreamKw(t *testing.T) {
	hub := kojitest.NewReplayHub(t, "listTagged", "getBuild_nonexistent_strict")
	c, err := NewClient(hub.URL())
	require.NoError(t, err)
	var nvrs []string
	err = c.StreamKw(context.Background(), "listTagged", []any{"anchor-dest"}, nil, func(arr *xmlrpc.ArrayReader) error {
		for arr.Next() {
			var b struct {
				NVR string `xmlrpc:"nvr"`
			}
			if err := arr.Decode(&b); err != nil {
				return err
			}
			nvrs = append(nvrs, b.NVR)
		}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"bar-2.0-3.el9", "foo-1.0-1"}, nvrs)

	err = c.StreamKw(context.Background(), "getBuild", []any{"no-such-build-1-1"}, map[string]any{"strict": true},
		func(*xmlrpc.ArrayReader) error { t.Error("a fault reaches no stream"); return nil })
	assert.ErrorIs(t, err, ErrGeneric)
}

func TestStreamIsNotRetriedOnceStarted(t *testing.T) {
	h := newFakeHub(t)
	h.handlers["listThings"] = func(*xmlrpc.Call, *fakeSession) (any, error) { return []int{1, 2, 3}, nil }
	var attempts atomic.Int32
	h.before = func(w http.ResponseWriter, r *http.Request, call *xmlrpc.Call) bool {
		if attempts.Add(1) == 1 {
			// Half a reply, then the connection drops.
			w.Header().Set("Content-Length", "1000")
			_, _ = w.Write([]byte("<?xml version='1.0'?>\n<methodResponse><params><param><value><array><data><value><int>1</int></value>"))
			return true
		}
		return false
	}
	c, err := NewClient(h.url(), WithRetryPolicy(fastRetries))
	require.NoError(t, err)
	var got []int
	err = c.StreamKw(context.Background(), "listThings", nil, nil, func(arr *xmlrpc.ArrayReader) error {
		for arr.Next() {
			var n int
			if err := arr.Decode(&n); err != nil {
				return err
			}
			got = append(got, n)
		}
		return nil
	})
	var te *TransportError
	assert.ErrorAs(t, err, &te)
	assert.Equal(t, []int{1}, got)
	assert.EqualValues(t, 1, attempts.Load(), "elements were handed out: no replay")
}

// Sessions that expire together are each renewed by the call holding them,
// never while another call uses them.
func TestConcurrentRenewal(t *testing.T) {
	h := newFakeHub(t)
	c, a := newLoggedIn(t, h, WithSessions(3))
	var wg sync.WaitGroup
	for range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, c.Call(context.Background(), "getLoggedInUser", nil))
		}()
	}
	wg.Wait()
	h.mu.Lock()
	for _, s := range h.sessions {
		s.expired = true
	}
	h.mu.Unlock()
	for range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var user map[string]any
			assert.NoError(t, c.Call(context.Background(), "getLoggedInUser", &user))
			_, _ = c.Session()
		}()
	}
	wg.Wait()
	a.mu.Lock()
	defer a.mu.Unlock()
	assert.Len(t, a.requests, 1+3, "one login and a renewal per session")
	require.NoError(t, c.Exclusive(context.Background(), true))
}
