package estimates_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"

	"github.com/gokoji/gokoji/xmlrpc"
)

// A handler answers one hub method: args are the call's positional
// arguments and kwargs its keyword arguments, decoded as for an any
// (int64, float64, string, []any, map[string]any …). An *xmlrpc.Fault
// error is answered as a fault.
type handler func(args []any, kwargs map[string]any) (any, error)

// A call is one method call the hub received, alone or in a multicall.
type call struct {
	Method string
	Args   []any
	Kwargs map[string]any
}

// A request is one HTTP request the hub received: a single call, or a
// multiCall and the calls it carried.
type request struct {
	Method string
	Calls  []call
}

// fakeHub is a stand-in for a Koji hub: it decodes each request as the
// hub does (keyword arguments, multiCall entries), answers with its
// handlers and records what it received.
type fakeHub struct {
	server   *httptest.Server
	handlers map[string]handler

	mu       sync.Mutex
	requests []request
	// unavailable makes the hub answer every request with HTTP 503.
	unavailable bool
}

// startHub starts a hub answering with handlers; Close stops it.
func startHub(handlers map[string]handler) *fakeHub {
	h := &fakeHub{handlers: handlers}
	h.server = httptest.NewServer(h)
	return h
}

// URL is the hub's XML-RPC endpoint.
func (h *fakeHub) URL() string { return h.server.URL + "/kojihub" }

// Close stops the hub.
func (h *fakeHub) Close() { h.server.Close() }

// Requests returns the requests received so far, in the order they came.
func (h *fakeHub) Requests() []request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]request(nil), h.requests...)
}

// setUnavailable makes the hub fail every request at the HTTP level.
func (h *fakeHub) setUnavailable() {
	h.mu.Lock()
	h.unavailable = true
	h.mu.Unlock()
}

func (h *fakeHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	unavailable := h.unavailable
	h.mu.Unlock()
	if unavailable {
		http.Error(w, "hub unavailable", http.StatusServiceUnavailable)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c, err := xmlrpc.DecodeCall(body)
	if err != nil {
		http.Error(w, "Invalid request", http.StatusBadRequest)
		return
	}
	var reply []byte
	if c.Method == "multiCall" || c.Method == "system.multicall" {
		reply, err = h.multicall(c)
	} else {
		var rec call
		var result any
		rec, result, err = h.dispatch(c)
		h.record(request{Method: c.Method, Calls: []call{rec}})
		reply, err = respond(result, err)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write(reply)
}

func (h *fakeHub) record(req request) {
	h.mu.Lock()
	h.requests = append(h.requests, req)
	h.mu.Unlock()
}

// dispatch decodes a call and runs its handler; err is the handler's.
func (h *fakeHub) dispatch(c *xmlrpc.Call) (call, any, error) {
	rec := call{Method: c.Method}
	if len(c.Params) > 0 {
		rec.Args = make([]any, len(c.Params))
	}
	for i, p := range c.Params {
		if err := p.Decode(&rec.Args[i]); err != nil {
			return rec, nil, &xmlrpc.Fault{Code: 1019, String: err.Error()} // ParameterError
		}
	}
	if c.Kwargs != nil {
		rec.Kwargs = map[string]any{}
		for name, p := range c.Kwargs {
			var v any
			if err := p.Decode(&v); err != nil {
				return rec, nil, &xmlrpc.Fault{Code: 1019, String: err.Error()}
			}
			rec.Kwargs[name] = v
		}
	}
	fn, ok := h.handlers[c.Method]
	if !ok {
		return rec, nil, &xmlrpc.Fault{Code: 1000, String: "Invalid method: " + c.Method}
	}
	result, err := fn(rec.Args, rec.Kwargs)
	return rec, result, err
}

// multicall runs each entry, as the hub does: a fault answers that entry
// alone.
func (h *fakeHub) multicall(c *xmlrpc.Call) ([]byte, error) {
	if len(c.Params) != 1 {
		return xmlrpc.MarshalFault(&xmlrpc.Fault{Code: 1019, String: "multiCall takes one argument"})
	}
	entries, err := xmlrpc.DecodeMulticall(c.Params[0])
	if err != nil {
		return xmlrpc.MarshalFault(&xmlrpc.Fault{Code: 1019, String: err.Error()})
	}
	req := request{Method: c.Method}
	results := make([]xmlrpc.MulticallResult, len(entries))
	for i, entry := range entries {
		if entry.Err != nil {
			results[i].Fault = &xmlrpc.Fault{Code: 1019, String: entry.Err.Error()}
			continue
		}
		rec, result, err := h.dispatch(&entry.Call)
		req.Calls = append(req.Calls, rec)
		if err != nil {
			f, ok := err.(*xmlrpc.Fault)
			if !ok {
				return nil, err
			}
			results[i].Fault = f
			continue
		}
		if results[i].Value, err = xmlrpc.MarshalValue(result); err != nil {
			return nil, err
		}
	}
	h.record(req)
	return xmlrpc.MarshalResponse(results)
}

// respond writes a handler's result or fault as a response document.
func respond(result any, err error) ([]byte, error) {
	if err != nil {
		f, ok := err.(*xmlrpc.Fault)
		if !ok {
			return nil, fmt.Errorf("handler: %w", err)
		}
		return xmlrpc.MarshalFault(f)
	}
	return xmlrpc.MarshalResponse(result)
}
