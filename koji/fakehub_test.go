package koji

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/gokoji/gokoji/xmlrpc"
)

// fakeHub is a hub that keeps sessions and checks callnums as Koji's does
// (HA/Session.__init__): an old callnum is a SequenceError, a repeated one
// a RetryError, and a call on an expired session AuthExpired. Handlers
// answer methods; hooks inject failures.
type fakeHub struct {
	t          *testing.T
	server     *httptest.Server
	headerAuth bool

	mu       sync.Mutex
	sessions map[int64]*fakeSession
	nextID   int64
	calls    map[string]int // method -> times run
	log      []fakeCall

	handlers map[string]func(call *xmlrpc.Call, s *fakeSession) (any, error)
	// before runs first on every request; returning true means it answered.
	before func(w http.ResponseWriter, r *http.Request, call *xmlrpc.Call) bool
}

type fakeSession struct {
	id       int64
	key      string
	callnum  int64 // last accepted; -1 before the first
	expired  bool
	master   int64
	loggedIn bool
}

type fakeCall struct {
	method  string
	session int64
	callnum int64
}

func newFakeHub(t *testing.T) *fakeHub {
	h := &fakeHub{t: t, headerAuth: true, sessions: map[int64]*fakeSession{}, nextID: 100, calls: map[string]int{}}
	h.handlers = map[string]func(*xmlrpc.Call, *fakeSession) (any, error){
		"hello": func(*xmlrpc.Call, *fakeSession) (any, error) { return "Hello World", nil },
		"login": func(call *xmlrpc.Call, old *fakeSession) (any, error) {
			return h.login(call, old)
		},
		"subsession": func(_ *xmlrpc.Call, s *fakeSession) (any, error) {
			if s == nil {
				return nil, &xmlrpc.Fault{Code: 1002, String: "not logged in"}
			}
			child := h.newSession()
			child.master = s.id
			return h.info(child), nil
		},
		"logout": func(_ *xmlrpc.Call, s *fakeSession) (any, error) {
			if s != nil {
				s.expired = true
			}
			return nil, nil
		},
		"exclusiveSession": func(*xmlrpc.Call, *fakeSession) (any, error) { return nil, nil },
		"getLoggedInUser": func(_ *xmlrpc.Call, s *fakeSession) (any, error) {
			if s == nil {
				return nil, nil
			}
			return map[string]any{"id": 1, "name": "tester", "session": s.id}, nil
		},
		"echo": func(call *xmlrpc.Call, _ *fakeSession) (any, error) {
			out := make([]any, len(call.Params))
			for i, p := range call.Params {
				if err := p.Decode(&out[i]); err != nil {
					return nil, err
				}
			}
			return out, nil
		},
	}
	h.server = httptest.NewServer(h)
	t.Cleanup(h.server.Close)
	return h
}

func (h *fakeHub) url() string { return h.server.URL + "/kojihub" }

func (h *fakeHub) newSession() *fakeSession {
	h.nextID++
	s := &fakeSession{id: h.nextID, key: fmt.Sprintf("1-key%019d", h.nextID), callnum: -1, loggedIn: true}
	h.sessions[s.id] = s
	return s
}

func (h *fakeHub) info(s *fakeSession) map[string]any {
	info := map[string]any{"session-id": s.id, "session-key": s.key}
	if h.headerAuth {
		info["header-auth"] = true
	}
	return info
}

// login creates a session, or renews the expired one the request carries
// when renew=True, keeping its id and issuing a new key.
func (h *fakeHub) login(call *xmlrpc.Call, old *fakeSession) (any, error) {
	var renew bool
	if raw, ok := call.Kwargs["renew"]; ok {
		_ = raw.Decode(&renew)
	}
	if renew && old != nil {
		old.expired = false
		old.key = fmt.Sprintf("1-renewed%016d", old.id)
		old.callnum = -1
		return h.info(old), nil
	}
	return h.info(h.newSession()), nil
}

func (h *fakeHub) count(method string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls[method]
}

func (h *fakeHub) expire(id int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sessions[id].expired = true
}

func (h *fakeHub) calledLog() []fakeCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]fakeCall(nil), h.log...)
}

func (h *fakeHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	call, err := xmlrpc.DecodeCall(body)
	if err != nil {
		http.Error(w, "Invalid request: "+err.Error(), http.StatusBadRequest)
		return
	}
	if h.before != nil && h.before(w, r, call) {
		return
	}
	result, err := h.dispatch(r, call)
	w.Header().Set("Koji-Version", "1.35.3")
	w.Header().Set("Content-Type", "text/xml")
	if f, ok := err.(*xmlrpc.Fault); ok {
		_ = xmlrpc.NewEncoder(w).EncodeFault(f)
		return
	}
	if err != nil {
		_ = xmlrpc.NewEncoder(w).EncodeFault(&xmlrpc.Fault{Code: 1, String: err.Error()})
		return
	}
	_ = xmlrpc.NewEncoder(w).EncodeResponse(result)
}

func (h *fakeHub) dispatch(r *http.Request, call *xmlrpc.Call) (any, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var s *fakeSession
	if idText := r.Header.Get("Koji-Session-Id"); idText != "" || r.URL.Query().Get("session-id") != "" {
		key, cn := r.Header.Get("Koji-Session-Key"), r.Header.Get("Koji-Session-Callnum")
		if idText == "" {
			q := r.URL.Query()
			idText, key, cn = q.Get("session-id"), q.Get("session-key"), q.Get("callnum")
		}
		id, _ := strconv.ParseInt(idText, 10, 64)
		s = h.sessions[id]
		if s == nil || s.key != key {
			return nil, &xmlrpc.Fault{Code: 1002, String: "Invalid session or bad credentials"}
		}
		if s.expired && call.Method != "login" {
			return nil, &xmlrpc.Fault{Code: 1007, String: fmt.Sprintf("session %q has expired", idText)}
		}
		callnum, err := strconv.ParseInt(cn, 10, 64)
		if err != nil {
			return nil, &xmlrpc.Fault{Code: 1002, String: "Invalid callnum"}
		}
		switch {
		case s.callnum > callnum:
			return nil, &xmlrpc.Fault{Code: 1008, String: fmt.Sprintf("%d > %d (session %d)", s.callnum, callnum, s.id)}
		case s.callnum == callnum && call.Method != "login":
			return nil, &xmlrpc.Fault{Code: 1009, String: fmt.Sprintf("unable to retry call %d (method %s) for session %d", callnum, call.Method, s.id)}
		}
		// The hub persists the callnum only with a commit: reads leave it.
		if call.Method != "login" && !fakeReads[call.Method] {
			s.callnum = callnum
		}
		h.log = append(h.log, fakeCall{method: call.Method, session: s.id, callnum: callnum})
	} else {
		h.log = append(h.log, fakeCall{method: call.Method, callnum: -1})
	}
	handler, ok := h.handlers[call.Method]
	if !ok {
		return nil, &xmlrpc.Fault{Code: 1000, String: "Invalid method: " + call.Method}
	}
	h.calls[call.Method]++
	return handler(call, s)
}

// fakeReads are the fake hub's methods that commit nothing.
var fakeReads = map[string]bool{"hello": true, "echo": true, "getLoggedInUser": true}

// fakeLogin is an Authenticator that logs in with the hub's login method,
// recording the requests it was asked for.
type fakeLogin struct {
	mu       sync.Mutex
	requests []LoginRequest
}

func (a *fakeLogin) Login(ctx context.Context, c *Client, r LoginRequest) (SessionInfo, error) {
	a.mu.Lock()
	a.requests = append(a.requests, r)
	a.mu.Unlock()
	kwargs := map[string]any{}
	if r.Renew {
		kwargs["renew"] = true
	}
	return c.LoginCall(ctx, "", nil, "login", []any{"tester", "secret"}, kwargs)
}
