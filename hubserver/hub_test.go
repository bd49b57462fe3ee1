package hubserver_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/hubserver/hubtest"
	"github.com/gokoji/gokoji/internal/kojitest"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// TestRecordedExchanges replays requests recorded against upstream Koji
// 1.35.3 and compares the replies byte for byte.
func TestRecordedExchanges(t *testing.T) {
	h := hubtest.Start(t, hubserver.Config{}, testMethods)
	for _, name := range []string{"hello", "getAPIVersion", "getKojiVersion", "nonexistent_method", "wrong_arg_count", "http_empty_post"} {
		t.Run(name, func(t *testing.T) {
			x := kojitest.Fixture(t, name)
			r := post(t, nil, h.URL(), x.RequestHeaders["Content-Type"], x.Request)
			assert.Equal(t, x.Status, r.status)
			assert.Equal(t, string(x.Response), string(r.body))
			for _, k := range []string{"Koji-Version", "Content-Type", "Content-Length"} {
				assert.Equal(t, x.ResponseHeaders[k], r.header.Get(k), k)
			}
		})
	}
}

func TestHTTPErrors(t *testing.T) {
	h := hubtest.Start(t, hubserver.Config{MaxRequestLength: 1024, ReadTimeout: 300 * time.Millisecond})

	t.Run("GET", func(t *testing.T) {
		x := kojitest.Fixture(t, "http_GET")
		resp, err := http.Get(h.URL())
		require.NoError(t, err)
		defer resp.Body.Close()
		body := make([]byte, 200)
		n, _ := resp.Body.Read(body)
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
		assert.Equal(t, "POST", resp.Header.Get("Allow"))
		assert.Equal(t, "text/plain", resp.Header.Get("Content-Type"))
		assert.Equal(t, "1.35.3", resp.Header.Get("Koji-Version"))
		assert.Equal(t, string(x.Response), string(body[:n]))
	})
	t.Run("malformed", func(t *testing.T) {
		x := kojitest.Fixture(t, "http_malformed_xml")
		r := post(t, nil, h.URL(), "text/xml", x.Request)
		assert.Equal(t, 400, r.status)
		assert.Equal(t, "text/plain", r.header.Get("Content-Type"))
		assert.Equal(t, "1.35.3", r.header.Get("Koji-Version"))
		assert.True(t, strings.HasPrefix(string(r.body), "Invalid request: "), string(r.body))
	})
	t.Run("too long", func(t *testing.T) {
		doc, err := xmlrpc.MarshalCall("echo", strings.Repeat("x", 2000))
		require.NoError(t, err)
		r := post(t, nil, h.URL(), "text/xml", doc)
		assert.Equal(t, 400, r.status)
		assert.Equal(t, "Invalid request: Request too long\n", string(r.body))
		assert.Equal(t, "1.35.3", r.header.Get("Koji-Version"))
	})
	t.Run("just under the limit", func(t *testing.T) {
		doc, err := xmlrpc.MarshalCall("echo", strings.Repeat("x", 800))
		require.NoError(t, err)
		r := post(t, nil, h.URL(), "text/xml", doc)
		assert.Equal(t, 200, r.status)
	})
	t.Run("read timeout", func(t *testing.T) {
		conn, err := net.Dial("tcp", h.Addr().String())
		require.NoError(t, err)
		defer conn.Close()
		fmt.Fprintf(conn, "POST /kojihub HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: 500\r\n\r\n<?xml version='1.0'?>")
		require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		require.NoError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, http.StatusRequestTimeout, resp.StatusCode)
		assert.Equal(t, "1.35.3", resp.Header.Get("Koji-Version"))
	})
	t.Run("upload without a files layer", func(t *testing.T) {
		r := post(t, nil, h.URL()+"?filename=a&filepath=b&offset=0", "application/octet-stream", []byte("data"))
		assert.Equal(t, 200, r.status)
		var v any
		err := xmlrpc.DecodeResponse(r.body, &v)
		assert.Equal(t, &xmlrpc.Fault{Code: 1000, String: "raw uploads are not supported by this hub"}, err)
	})
}

func TestUploadHook(t *testing.T) {
	store := &fakeStore{}
	h := hubtest.Start(t, hubserver.Config{Store: store, Upload: func(ctx context.Context, r *http.Request) (any, error) {
		require.NotNil(t, hubserver.TxFrom(ctx))
		var buf strings.Builder
		if _, err := fmt.Fprint(&buf, r.URL.Query().Get("filename")); err != nil {
			return nil, err
		}
		return map[string]any{"size": r.ContentLength, "name": buf.String()}, nil
	}})
	r := post(t, nil, h.URL()+"?filename=a.log", "application/octet-stream", []byte("data"))
	var v map[string]any
	require.NoError(t, xmlrpc.DecodeResponse(r.body, &v))
	assert.Equal(t, map[string]any{"size": int64(4), "name": "a.log"}, v)
	assert.Equal(t, []string{"begin", "commit"}, store.log())
}

func TestFaults(t *testing.T) {
	h := hubtest.Start(t, hubserver.Config{}, testMethods)
	c, err := koji.NewClient(h.URL())
	require.NoError(t, err)
	ctx := context.Background()

	err = c.Call(ctx, "fault", nil)
	assert.Equal(t, &koji.Fault{Code: 1, String: "<class 'Exception'>: test exception"}, err)
	err = c.Call(ctx, "error", nil)
	assert.Equal(t, &koji.Fault{Code: 1000, String: "test error"}, err)
	err = c.Call(ctx, "getBuild", nil, "x", true)
	assert.Equal(t, &koji.Fault{Code: 1000, String: "No such build: 'x'"}, err)
	err = c.Call(ctx, "getBuild", nil, "x", "notabool")
	var f *koji.Fault
	require.ErrorAs(t, err, &f)
	assert.Equal(t, 1019, f.Code)
	assert.Contains(t, f.String, "get_build(): invalid value for argument 'strict'")
	var id int
	require.NoError(t, c.Call(ctx, "host.getID", &id))
	assert.Equal(t, 7, id)
}

func TestPanicIsAFault(t *testing.T) {
	h := hubtest.Start(t, hubserver.Config{}, func(h *hubserver.Hub) {
		require.NoError(t, h.Register(hubserver.Method{Name: "boom", Func: func(ctx context.Context) int { panic("kaboom") }}))
	})
	c, err := koji.NewClient(h.URL())
	require.NoError(t, err)
	err = c.Call(context.Background(), "boom", nil)
	assert.Equal(t, &koji.Fault{Code: 1, String: "<class 'Exception'>: panic: kaboom"}, err)
}

func TestKojiClient(t *testing.T) {
	h := hubtest.Start(t, hubserver.Config{KojiVersion: "1.35.9"})
	c, err := koji.NewClient(h.URL())
	require.NoError(t, err)
	ctx := context.Background()
	s, err := c.Hello(ctx)
	require.NoError(t, err)
	assert.Equal(t, "Hello World", s)
	v, err := c.APIVersion(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, v)
	kv, err := c.KojiVersion(ctx)
	require.NoError(t, err)
	assert.Equal(t, "1.35.9", kv)
	hv, err := c.HubVersion(ctx)
	require.NoError(t, err)
	assert.Equal(t, "1.35.9", hv)
	var echoed []any
	require.NoError(t, c.Call(ctx, "echo", &echoed, 1, int64(1)<<40, "ü", nil, true, []any{1.5}))
	assert.Equal(t, []any{int64(1), int64(1) << 40, "ü", nil, true, []any{1.5}}, echoed)
}

func TestTransactions(t *testing.T) {
	store := &fakeStore{}
	h := hubtest.Start(t, hubserver.Config{Store: store}, testMethods)
	c, err := koji.NewClient(h.URL())
	require.NoError(t, err)
	ctx := context.Background()

	require.NoError(t, c.Call(ctx, "getTag", nil, "anchor-build"))
	assert.Equal(t, []string{"begin", "write getTag", "commit"}, store.log())

	require.Error(t, c.Call(ctx, "getBuild", nil, "x", true))
	assert.Equal(t, []string{"begin", "rollback"}, store.log())

	require.Error(t, c.Call(ctx, "noSuchMethod", nil))
	assert.Equal(t, []string{"begin", "rollback"}, store.log())

	x := kojitest.Fixture(t, "multicall_koji")
	r := post(t, nil, h.URL(), "text/xml", x.Request)
	require.Equal(t, 200, r.status)
	assert.Equal(t, []string{
		"begin",
		"savepoint multiCall_loop", "write getTag", "release multiCall_loop", "new event",
		"savepoint multiCall_loop", "rollback to multiCall_loop", "release multiCall_loop", "new event",
		"savepoint multiCall_loop", "release multiCall_loop", "new event",
		"commit",
	}, store.log())

	store.beginErr = fmt.Errorf("connection refused")
	err = c.Call(ctx, "hello", nil)
	assert.Equal(t, &koji.Fault{Code: 1014, String: "database outage"}, err)
}

func TestMulticallMatchesRecording(t *testing.T) {
	h := hubtest.Start(t, hubserver.Config{}, testMethods)
	for _, name := range []string{"multicall_koji", "system_multicall"} {
		t.Run(name, func(t *testing.T) {
			x := kojitest.Fixture(t, name)
			r := post(t, nil, h.URL(), "text/xml", x.Request)
			require.Equal(t, 200, r.status)
			var got, want []xmlrpc.MulticallResult
			require.NoError(t, xmlrpc.DecodeResponse(r.body, &got))
			require.NoError(t, xmlrpc.DecodeResponse(x.Response, &want))
			require.Len(t, got, len(want))
			for i := range want {
				if want[i].Fault != nil {
					require.NotNil(t, got[i].Fault, "entry %d", i)
					assert.Equal(t, want[i].Fault.Code, got[i].Fault.Code)
					assert.Equal(t, want[i].Fault.String, got[i].Fault.String)
					tw, tg := want[i].Fault.Traceback, got[i].Fault.Traceback
					require.NotEmpty(t, tg)
					assert.Equal(t, tw[0], tg[0])
					assert.Equal(t, tw[len(tw)-1], tg[len(tg)-1])
					continue
				}
				var g, w any
				require.NoError(t, got[i].Value.Decode(&g))
				require.NoError(t, want[i].Value.Decode(&w))
				assert.Equal(t, w, g, "entry %d", i)
			}
		})
	}
}

func TestMulticallEdges(t *testing.T) {
	h := hubtest.Start(t, hubserver.Config{}, testMethods)
	c, err := koji.NewClient(h.URL())
	require.NoError(t, err)
	ctx := context.Background()
	calls := []any{
		xmlrpc.MulticallCall{Method: "multiCall", Params: []any{[]any{xmlrpc.MulticallCall{Method: "hello"}}}},
		xmlrpc.MulticallCall{Method: "nope"},
		xmlrpc.MulticallCall{Method: "getTag"},
		xmlrpc.MulticallCall{Method: "fault"},
		"not a struct",
	}
	var res []xmlrpc.MulticallResult
	require.NoError(t, c.Call(ctx, "multiCall", &res, calls))
	require.Len(t, res, 5)
	var nested []xmlrpc.MulticallResult
	require.NoError(t, res[0].Value.Decode(&nested))
	var hello string
	require.Len(t, nested, 1)
	require.NoError(t, nested[0].Value.Decode(&hello))
	assert.Equal(t, "Hello World", hello)
	assert.Equal(t, []any{1000, "Invalid method: nope", "koji.GenericError: Invalid method: nope\n"},
		[]any{res[1].Fault.Code, res[1].Fault.String, res[1].Fault.Traceback[1]})
	assert.Equal(t, []any{1019, "get_tag() missing 1 required positional argument: 'tagInfo'"},
		[]any{res[2].Fault.Code, res[2].Fault.String})
	assert.Equal(t, []any{1, "test exception", "Exception: test exception\n"},
		[]any{res[3].Fault.Code, res[3].Fault.String, res[3].Fault.Traceback[1]})
	require.NotNil(t, res[4].Fault)

	err = c.Call(ctx, "multiCall", nil)
	assert.Equal(t, &koji.Fault{Code: 1019, String: "ModXMLRPCRequestHandler.multiCall() missing 1 required positional argument: 'calls'"}, err)
}

func TestIntrospection(t *testing.T) {
	h := hubtest.Start(t, hubserver.Config{}, testMethods)
	c, err := koji.NewClient(h.URL())
	require.NoError(t, err)
	ctx := context.Background()

	var names []string
	require.NoError(t, c.Call(ctx, "system.listMethods", &names))
	// The recorded listing starts with the introspection methods, in
	// this order, and holds no multicall names.
	x := kojitest.Fixture(t, "listMethods")
	var upstream []string
	require.NoError(t, xmlrpc.DecodeResponse(x.Response, &upstream))
	assert.Equal(t, upstream[:4], names[:4])
	for _, n := range names {
		assert.Contains(t, upstream, n)
	}
	assert.NotContains(t, names, "multiCall")

	var api []map[string]any
	require.NoError(t, c.Call(ctx, "_listapi", &api))
	var getTag map[string]any
	for _, e := range api {
		if e["name"] == "getTag" {
			getTag = e
		}
	}
	assert.Equal(t, map[string]any{
		"name":    "getTag",
		"doc":     "Get tag information",
		"argdesc": "(tagInfo, strict=False, event=None, blocked=False)",
		"args":    []any{"tagInfo", []any{"strict", false}, []any{"event", nil}, []any{"blocked", false}},
		"argspec": []any{[]any{"tagInfo", "strict", "event", "blocked"}, nil, nil, []any{false, nil, false}, []any{}, nil, map[string]any{}},
	}, getTag)

	var help string
	require.NoError(t, c.Call(ctx, "system.methodHelp", &help, "getTag"))
	assert.Equal(t, "getTag(tagInfo, strict=False, event=None, blocked=False)\ndescription: Get tag information", help)
	require.NoError(t, c.Call(ctx, "system.methodHelp", &help, "hello"))
	assert.Equal(t, "hello(*args)", help)
	require.NoError(t, c.Call(ctx, "system.methodHelp", &help, "nope"))
	assert.Equal(t, "", help)
	require.NoError(t, c.Call(ctx, "system.methodSignature", &help, "getTag"))
	assert.Equal(t, "signatures not supported", help)
}

func TestRegisterErrors(t *testing.T) {
	h, err := hubserver.New(hubserver.Config{Logger: quiet})
	require.NoError(t, err)
	for _, m := range []hubserver.Method{
		{Name: "hello", Func: func(ctx context.Context) {}},
		{Name: "multiCall", Func: func(ctx context.Context) {}},
		{Name: "x", Func: func() {}},
		{Name: "x", Func: 3},
		{Name: "x", Args: []hubserver.Arg{{Name: "a"}}, Func: func(ctx context.Context) {}},
		{Name: "x", Args: []hubserver.Arg{{Name: "a", Default: 1}, {Name: "b"}}, Func: func(ctx context.Context, a, b int) {}},
		{Name: "x", Args: []hubserver.Arg{{Name: "a", Default: "s"}}, Func: func(ctx context.Context, a int) {}},
		{Name: "x", Args: []hubserver.Arg{{Name: "a", Default: hubserver.None}}, Func: func(ctx context.Context, a int) {}},
		{Name: "x", VarKw: "kw", Func: func(ctx context.Context, kw []int) {}},
		{Name: "x", Func: func(ctx context.Context) (int, int) { return 0, 0 }},
	} {
		assert.Error(t, h.Register(m), "%+v", m)
	}
	_, err = hubserver.New(hubserver.Config{KojiVersion: "1.35-dev"})
	assert.Error(t, err)
}

func TestShutdownWaitsForCallInFlight(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	h, err := hubserver.New(hubserver.Config{Logger: quiet})
	require.NoError(t, err)
	require.NoError(t, h.Register(hubserver.Method{Name: "slow", Func: func(ctx context.Context) string {
		close(started)
		<-release
		return "done"
	}}))
	require.NoError(t, h.Start(context.Background()))
	<-h.Ready()
	c, err := koji.NewClient(h.URL())
	require.NoError(t, err)
	result := make(chan string, 1)
	go func() {
		var s string
		if err := c.Call(context.Background(), "slow", &s); err != nil {
			s = err.Error()
		}
		result <- s
	}()
	<-started
	stopped := make(chan error, 1)
	go func() { stopped <- h.Shutdown(context.Background()) }()
	select {
	case <-stopped:
		t.Fatal("Shutdown returned with a call in flight")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	assert.Equal(t, "done", <-result)
	require.NoError(t, <-stopped)
	_, err = http.Post(h.URL(), "text/xml", strings.NewReader("x"))
	assert.Error(t, err)
	assert.Error(t, h.Start(context.Background()))
}

func TestShutdownDeadline(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	started := make(chan struct{})
	h, err := hubserver.New(hubserver.Config{Logger: quiet})
	require.NoError(t, err)
	require.NoError(t, h.Register(hubserver.Method{Name: "stuck", Func: func(ctx context.Context) {
		close(started)
		<-release
	}}))
	require.NoError(t, h.Start(context.Background()))
	go http.Post(h.URL(), "text/xml", strings.NewReader("<?xml version='1.0'?><methodCall><methodName>stuck</methodName></methodCall>"))
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, h.Shutdown(ctx), context.DeadlineExceeded)
}

func TestHandlerMounted(t *testing.T) {
	h, err := hubserver.New(hubserver.Config{Path: "/kojihub", Logger: quiet})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/kojihub", h.Handler())
	mux.Handle("/kojihub/", h.Handler())
	mux.HandleFunc("/other", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "other") })
	srv := &http.Server{Handler: mux}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	base := "http://" + ln.Addr().String()
	hello := kojitest.Fixture(t, "hello")
	for _, path := range []string{"/kojihub", "/kojihub/ssllogin"} {
		r := post(t, nil, base+path, "text/xml", hello.Request)
		assert.Equal(t, string(hello.Response), string(r.body), path)
	}
	r := post(t, nil, base+"/kojihub/elsewhere", "text/xml", hello.Request)
	assert.Equal(t, 404, r.status)
	r = post(t, nil, base+"/other", "text/xml", nil)
	assert.Equal(t, "other", string(r.body))
}

func TestTLS(t *testing.T) {
	var mu sync.Mutex
	var peers []int
	h, pki := hubtest.StartTLS(t, hubserver.Config{Authenticate: func(ctx context.Context, r *http.Request) (*hubserver.Session, error) {
		mu.Lock()
		peers = append(peers, len(r.TLS.PeerCertificates))
		mu.Unlock()
		if len(r.TLS.PeerCertificates) == 0 {
			return nil, nil
		}
		return &hubserver.Session{ID: 1, UserID: 1, UserName: r.TLS.PeerCertificates[0].Subject.CommonName}, nil
	}}, "kojiadmin", func(h *hubserver.Hub) {
		require.NoError(t, h.Register(hubserver.Method{Name: "whoami", Func: func(ctx context.Context) *string {
			if s := hubserver.SessionFrom(ctx); s != nil {
				return &s.UserName
			}
			return nil
		}}))
	})
	require.True(t, strings.HasPrefix(h.URL(), "https://"))
	ctx := context.Background()
	for _, withCert := range []bool{false, true} {
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: pki.ClientTLS(withCert)}}
		c, err := koji.NewClient(h.URL()+"/ssllogin", koji.WithHTTPClient(hc))
		require.NoError(t, err)
		var who *string
		require.NoError(t, c.Call(ctx, "whoami", &who))
		if withCert {
			require.NotNil(t, who)
			assert.Equal(t, "kojiadmin", *who)
		} else {
			assert.Nil(t, who)
		}
	}
	assert.Equal(t, []int{0, 1}, peers)

	// A certificate from another CA fails the handshake.
	_, other := hubtest.StartTLS(t, hubserver.Config{}, "mallory")
	tc := pki.ClientTLS(false)
	tc.Certificates = []tls.Certificate{other.Client}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}}
	_, err := hc.Post(h.URL(), "text/xml", strings.NewReader("x"))
	assert.Error(t, err)
}

func TestConcurrentCalls(t *testing.T) {
	store := &fakeStore{}
	h := hubtest.Start(t, hubserver.Config{Store: store}, testMethods)
	c, err := koji.NewClient(h.URL())
	require.NoError(t, err)
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var echoed []any
			if err := c.Call(context.Background(), "echo", &echoed, i); err != nil {
				t.Error(err)
				return
			}
			assert.Equal(t, []any{int64(i)}, echoed)
			if i%4 == 0 {
				assert.NoError(t, h.Register(hubserver.Method{Name: fmt.Sprint("m", i), Func: func(ctx context.Context) {}}))
			}
		}()
	}
	wg.Wait()
	var names []string
	require.NoError(t, c.Call(context.Background(), "system.listMethods", &names))
	assert.Contains(t, names, "m28")
}
