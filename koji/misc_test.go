package koji

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/gokoji/gokoji/internal/kojitest"
	"github.com/gokoji/gokoji/xmlrpc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recordedSession logs a client in as the session the recorded fixtures
// were made on (kojiadmin's session 11 via sslLogin), without a hub call:
// the replay hub matches sessions by id.
type recordedSession struct{ id int64 }

func (a recordedSession) Login(context.Context, *Client, LoginRequest) (SessionInfo, error) {
	return SessionInfo{ID: a.id, Key: "1-mpmDJf57WxvTtbm7aif", HeaderAuth: true}, nil
}

// replayClient returns a client of a replay hub serving the named
// fixtures, logged in on session (0: anonymous).
func replayClient(t *testing.T, session int64, names ...string) (*Client, *kojitest.ReplayHub) {
	t.Helper()
	hub := kojitest.NewReplayHub(t, names...)
	c, err := NewClient(hub.URL())
	require.NoError(t, err)
	if session != 0 {
		require.NoError(t, c.Login(context.Background(), recordedSession{id: session}))
	}
	return c, hub
}

// assertSentAsRecorded checks that the hub's i-th request is, byte for
// byte, the request Python's client sent when the fixture was recorded.
func assertSentAsRecorded(t *testing.T, hub *kojitest.ReplayHub, i int, fixture string) {
	t.Helper()
	got := hub.Received()
	require.Greater(t, len(got), i)
	assert.Equal(t, string(kojitest.Fixture(t, fixture).Request), string(got[i].Body))
}

// A stubCall is a request a stubHub received, decoded: ints as int64,
// floats as float64, structs as map[string]any.
type stubCall struct {
	Method string
	Args   []any
	Kwargs map[string]any // nil without keyword arguments
}

// stubHub answers each call with what reply returns for it: a value, or
// an *xmlrpc.Fault error. Tests of calls without a recorded exchange use
// it to check the exact request and answer in the shape the hub does.
type stubHub struct {
	mu    sync.Mutex
	calls []stubCall
}

func newStubHub(t *testing.T, reply func(call stubCall) (any, error)) (*Client, *stubHub) {
	t.Helper()
	h := &stubHub{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		require.NoError(t, err)
		raw, err := xmlrpc.DecodeCall(body)
		require.NoError(t, err)
		call := stubCall{Method: raw.Method}
		for _, p := range raw.Params {
			var v any
			require.NoError(t, p.Decode(&v))
			call.Args = append(call.Args, v)
		}
		if raw.Kwargs != nil {
			call.Kwargs = map[string]any{}
			for k, p := range raw.Kwargs {
				var v any
				require.NoError(t, p.Decode(&v))
				call.Kwargs[k] = v
			}
		}
		assert.NoError(t, checkUpstreamSignature(call), "the request must bind to upstream's signature")
		h.mu.Lock()
		h.calls = append(h.calls, call)
		h.mu.Unlock()
		result, ferr := reply(call)
		var doc []byte
		var f *xmlrpc.Fault
		if errors.As(ferr, &f) {
			doc, err = xmlrpc.MarshalFault(f)
		} else {
			require.NoError(t, ferr)
			doc, err = xmlrpc.MarshalResponse(result)
		}
		require.NoError(t, err)
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write(doc)
	}))
	t.Cleanup(srv.Close)
	c, err := NewClient(srv.URL + "/kojihub")
	require.NoError(t, err)
	return c, h
}

// only returns the single call the hub received.
func (h *stubHub) only(t *testing.T) stubCall {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	require.Len(t, h.calls, 1)
	return h.calls[0]
}

func (h *stubHub) received() []stubCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]stubCall(nil), h.calls...)
}

func TestHelloAndVersions(t *testing.T) {
	c, hub := replayClient(t, 0, "hello", "getAPIVersion", "getKojiVersion")
	ctx := context.Background()

	hello, err := c.Hello(ctx)
	require.NoError(t, err)
	assert.Equal(t, "Hello World", hello)
	assertSentAsRecorded(t, hub, 0, "hello")

	api, err := c.APIVersion(ctx)
	require.NoError(t, err)
	assert.Equal(t, APIVersion, api)
	assertSentAsRecorded(t, hub, 1, "getAPIVersion")

	version, err := c.KojiVersion(ctx)
	require.NoError(t, err)
	assert.Equal(t, "1.35.3", version)
	assertSentAsRecorded(t, hub, 2, "getKojiVersion")
}

func TestHelloOnASession(t *testing.T) {
	c, hub := replayClient(t, 11, "hello", "hello_auth")
	hello, err := c.Hello(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "Hello World", hello)
	assertSentAsRecorded(t, hub, 0, "hello_auth")
	assert.Equal(t, "11", hub.Received()[0].Header.Get("Koji-Session-Id"))
}

func TestLastEvent(t *testing.T) {
	c, hub := replayClient(t, 11, "getLastEvent")
	e, err := c.LastEvent(context.Background(), time.Time{})
	require.NoError(t, err)
	assert.Equal(t, 9, e.ID)
	assert.Equal(t, 1795311645.972111, e.TS)
	assert.Equal(t, time.Date(2026, 11, 22, 1, 40, 45, 972111000, time.UTC), e.Time())
	assertSentAsRecorded(t, hub, 0, "getLastEvent")
}

func TestLastEventBefore(t *testing.T) {
	c, hub := newStubHub(t, func(stubCall) (any, error) {
		return map[string]any{"id": 7, "ts": 1795311600.5}, nil
	})
	before := time.Date(2026, 11, 22, 1, 40, 0, 750000000, time.UTC)
	e, err := c.LastEvent(context.Background(), before)
	require.NoError(t, err)
	assert.Equal(t, &Event{ID: 7, TS: 1795311600.5}, e)
	call := hub.only(t)
	assert.Equal(t, "getLastEvent", call.Method)
	assert.Equal(t, []any{1795311600.75}, call.Args, "before goes as float seconds, as the hub wants")
	assert.Nil(t, call.Kwargs)
}

func TestGetAverageBuildDuration(t *testing.T) {
	c, hub := newStubHub(t, func(call stubCall) (any, error) {
		if call.Args[0] == "no-such-package" {
			return nil, nil
		}
		return 143.401978, nil // the hub's answer in txkoji's fixture
	})
	ctx := context.Background()

	d, ok, err := c.GetAverageBuildDuration(ctx, "ceph-ansible", nil)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, 143*time.Second+401978*time.Microsecond, d)
	assert.Equal(t, stubCall{Method: "getAverageBuildDuration", Args: []any{"ceph-ansible"}}, hub.received()[0])

	_, _, err = c.GetAverageBuildDuration(ctx, 12, &AverageBuildDurationOptions{Age: 3})
	require.NoError(t, err)
	assert.Equal(t, stubCall{Method: "getAverageBuildDuration", Args: []any{int64(12)},
		Kwargs: map[string]any{"age": int64(3)}}, hub.received()[1])

	d, ok, err = c.GetAverageBuildDuration(ctx, "no-such-package", nil)
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Zero(t, d)
}

func TestNameOrIDIsCheckedBeforeSending(t *testing.T) {
	c, hub := newStubHub(t, func(stubCall) (any, error) { return nil, nil })
	ctx := context.Background()
	for _, bad := range []NameOrID{nil, "", 1.5, []string{"foo"}, struct{}{}, uint64(1 << 63)} {
		_, err := c.GetBuild(ctx, bad, nil)
		var re *RefError
		require.ErrorAs(t, err, &re, "%#v", bad)
		assert.Equal(t, "getBuild", re.Method)
		assert.Equal(t, "buildInfo", re.Argument)
	}
	_, err := c.ListTagged(ctx, "f43", &ListTaggedOptions{Owner: 2.0})
	var re *RefError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "owner", re.Argument)
	assert.EqualError(t, err, "koji: listTagged: owner is float64 2: want an int ID or a non-empty string name")
	_, err = c.GetTag(ctx, nil, nil)
	assert.EqualError(t, err, "koji: getTag: tagInfo is missing: want an int ID or a string name")
	assert.Empty(t, hub.received(), "nothing is sent")

	type myID int32
	for _, good := range []NameOrID{"foo", 3, int64(1 << 40), uint8(2), myID(4)} {
		assert.NoError(t, checkRef("m", "a", good), "%#v", good)
	}
}

func TestPagesWalksOffsetsAndLimits(t *testing.T) {
	data := make([]int, 2500)
	for i := range data {
		data[i] = i
	}
	var asked []QueryOpts
	fetch := func(q *QueryOpts) ([]int, error) {
		asked = append(asked, *q)
		lo := min(q.Offset, len(data))
		hi := min(lo+q.Limit, len(data))
		return data[lo:hi], nil
	}
	collect := func(seq func(func(int, error) bool)) (got []int) {
		for v, err := range seq {
			require.NoError(t, err)
			got = append(got, v)
		}
		return got
	}

	assert.Equal(t, data, collect(pages(nil, "id", fetch)))
	assert.Equal(t, []QueryOpts{{Limit: 1000, Order: "id"}, {Limit: 1000, Offset: 1000, Order: "id"},
		{Limit: 1000, Offset: 2000, Order: "id"}}, asked, "a short page ends the walk")

	asked = nil
	got := collect(pages(&QueryOpts{Offset: 10, Limit: 1500, Order: "-x"}, "id", fetch))
	assert.Equal(t, data[10:1510], got)
	assert.Equal(t, []QueryOpts{{Limit: 1000, Offset: 10, Order: "-x"}, {Limit: 500, Offset: 1010, Order: "-x"}}, asked)

	asked = nil
	for v := range pages(nil, "id", fetch) {
		if v == 1 {
			break
		}
	}
	assert.Len(t, asked, 1, "stopping early asks for no more pages")

	boom := errors.New("boom")
	n := 0
	for _, err := range pages(nil, "id", func(*QueryOpts) ([]int, error) { return nil, boom }) {
		assert.ErrorIs(t, err, boom)
		n++
	}
	assert.Equal(t, 1, n, "an error is yielded once and ends the walk")
}

func TestTimestampConversions(t *testing.T) {
	assert.Equal(t, time.Date(2026, 11, 22, 1, 40, 46, 890757000, time.UTC), tsTime(1795311646.890757))
	assert.Equal(t, time.Unix(0, 0).UTC(), tsTime(0))
	assert.Nil(t, timeTS(time.Time{}))
	at := time.Date(2026, 11, 22, 2, 40, 46, 500000000, time.FixedZone("CET", 3600))
	assert.Equal(t, 1795311646.5, *timeTS(at))
}

func TestMethodsReturnHubFaults(t *testing.T) {
	c, hub := newStubHub(t, func(stubCall) (any, error) { return nil, &xmlrpc.Fault{Code: 1002, String: "denied"} })
	ctx := context.Background()
	none := func(err error) (any, error) { return nil, err }
	calls := map[string]func() (any, error){
		"Hello":        func() (any, error) { return c.Hello(ctx) },
		"APIVersion":   func() (any, error) { return c.APIVersion(ctx) },
		"KojiVersion":  func() (any, error) { return c.KojiVersion(ctx) },
		"LastEvent":    func() (any, error) { return c.LastEvent(ctx, time.Time{}) },
		"LoggedInUser": func() (any, error) { return c.LoggedInUser(ctx) },
		"GetUser":      func() (any, error) { return c.GetUser(ctx, "x", nil) },
		"ListUsers":    func() (any, error) { return c.ListUsers(ctx, nil) },
		"Perms":        func() (any, error) { return c.Perms(ctx) },
		"AllPerms":     func() (any, error) { return c.AllPerms(ctx) },
		"GetAverageBuildDuration": func() (any, error) {
			d, ok, err := c.GetAverageBuildDuration(ctx, "x", nil)
			assert.False(t, ok)
			return d, err
		},
		"GetBuild":         func() (any, error) { return c.GetBuild(ctx, 1, nil) },
		"ListBuilds":       func() (any, error) { return c.ListBuilds(ctx, nil) },
		"ListTagged":       func() (any, error) { return c.ListTagged(ctx, "t", nil) },
		"GetLatestBuilds":  func() (any, error) { return c.GetLatestBuilds(ctx, "t", nil) },
		"Build":            func() (any, error) { return c.Build(ctx, "src", "target", nil) },
		"CancelBuild":      func() (any, error) { return c.CancelBuild(ctx, 1) },
		"CreateEmptyBuild": func() (any, error) { return c.CreateEmptyBuild(ctx, "n", "v", "r", nil, nil) },
		"GetTag":           func() (any, error) { return c.GetTag(ctx, "t", nil) },
		"ListTags":         func() (any, error) { return c.ListTags(ctx, nil) },
		"CreateTag":        func() (any, error) { return c.CreateTag(ctx, "t", nil) },
		"TagBuild":         func() (any, error) { return c.TagBuild(ctx, "t", 1, nil) },
		"UntagBuild":       func() (any, error) { return none(c.UntagBuild(ctx, "t", 1, nil)) },
		"TagBuildBypass":   func() (any, error) { return none(c.TagBuildBypass(ctx, "t", 1, nil)) },
		"GetBuildTarget":   func() (any, error) { return c.GetBuildTarget(ctx, "t", nil) },
		"GetBuildTargets":  func() (any, error) { return c.GetBuildTargets(ctx, nil) },
		"GetPackage":       func() (any, error) { return c.GetPackage(ctx, "p", nil) },
		"ListPackages":     func() (any, error) { return c.ListPackages(ctx, nil) },
		"PackageListAdd":   func() (any, error) { return none(c.PackageListAdd(ctx, "t", "p", nil)) },
		"ListRPMs":         func() (any, error) { return c.ListRPMs(ctx, nil) },
		"ResolveWebURL":    func() (any, error) { return c.ResolveWebURL(ctx, "http://localhost/koji/buildinfo?buildID=1") },
	}
	for name, call := range calls {
		v, err := call()
		assert.ErrorIs(t, err, ErrAuth, name)
		assert.True(t, v == nil || reflect.ValueOf(v).IsZero(), "%s returned %#v with its error", name, v)
	}
	assert.Len(t, hub.received(), len(calls), "one request each")
}
