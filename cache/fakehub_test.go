package cache_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/gokoji/gokoji/xmlrpc"
)

// fakeHub answers getUser, getTag, getPackage, getHost and getChannel by
// id, alone or in multiCall, and counts what it is asked.
type fakeHub struct {
	*httptest.Server

	mu       sync.Mutex
	objects  map[string]xmlrpc.RawValue // "getUser 5" → the object; absent → nil
	faults   map[string]bool            // "getUser 5" → answer with a GenericError fault
	calls    map[string]int             // "getUser 5" → times asked, in or out of multiCall
	requests []string                   // the method of each HTTP request
	aborted  int                        // held calls whose client went away

	// hold, when set, keeps every call waiting until it is closed.
	hold chan struct{}
}

func newHub() *fakeHub {
	h := &fakeHub{objects: map[string]xmlrpc.RawValue{}, faults: map[string]bool{}, calls: map[string]int{}}
	h.Server = httptest.NewServer(h)
	return h
}

func newFakeHub(t *testing.T) *fakeHub {
	h := newHub()
	t.Cleanup(h.Close)
	return h
}

func callKey(method string, id int) string { return fmt.Sprintf("%s %d", method, id) }

// add makes the hub know an object with that id and name.
func (h *fakeHub) add(method string, id int, name string) {
	raw, err := xmlrpc.MarshalValue(map[string]any{"id": id, "name": name})
	if err != nil {
		panic(err)
	}
	h.addRaw(method, id, raw)
}

func (h *fakeHub) addRaw(method string, id int, raw xmlrpc.RawValue) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.objects[callKey(method, id)] = raw
}

func (h *fakeHub) fail(method string, id int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.faults[callKey(method, id)] = true
}

func (h *fakeHub) holdCalls() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hold = make(chan struct{})
}

func (h *fakeHub) release() { close(h.hold) }

// callCount returns how often method was asked about id.
func (h *fakeHub) callCount(method string, id int) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls[callKey(method, id)]
}

// totalCalls returns how many calls the hub answered or held.
func (h *fakeHub) totalCalls() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, c := range h.calls {
		n += c
	}
	return n
}

func (h *fakeHub) requestMethods() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.requests...)
}

func (h *fakeHub) abortedCalls() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.aborted
}

func (h *fakeHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	call, err := xmlrpc.DecodeCall(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.requests = append(h.requests, call.Method)
	hold := h.hold
	h.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			h.mu.Lock()
			h.aborted++
			h.mu.Unlock()
			return
		}
	}

	var reply []byte
	if call.Method == "multiCall" || call.Method == "system.multicall" {
		var entries []xmlrpc.MulticallEntry
		if len(call.Params) == 1 {
			entries, err = xmlrpc.DecodeMulticall(call.Params[0])
		}
		if err != nil || len(call.Params) != 1 {
			reply, _ = xmlrpc.MarshalFault(&xmlrpc.Fault{Code: 1000, String: fmt.Sprintf("bad multiCall: %v", err)})
		} else {
			results := make([]xmlrpc.MulticallResult, len(entries))
			for i, e := range entries {
				if e.Err != nil {
					results[i].Fault = &xmlrpc.Fault{Code: 1000, String: e.Err.Error()}
					continue
				}
				results[i].Value, results[i].Fault = h.answer(&e.Call)
			}
			reply, err = xmlrpc.MarshalResponse(results)
		}
	} else if value, fault := h.answer(call); fault != nil {
		reply, err = xmlrpc.MarshalFault(fault)
	} else if value == nil {
		reply, err = xmlrpc.MarshalResponse(nil)
	} else {
		reply, err = xmlrpc.MarshalResponse(value)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write(reply)
}

// answer returns the object a get call asks for by id (nil when there is
// none), or a fault.
func (h *fakeHub) answer(call *xmlrpc.Call) (xmlrpc.RawValue, *xmlrpc.Fault) {
	switch call.Method {
	case "getUser", "getTag", "getPackage", "getHost", "getChannel":
	default:
		return nil, &xmlrpc.Fault{Code: 1000, String: "Invalid method: " + call.Method}
	}
	var id int
	if len(call.Params) != 1 || call.Kwargs != nil || call.Params[0].Decode(&id) != nil {
		return nil, &xmlrpc.Fault{Code: 1000, String: call.Method + " takes one id here"}
	}
	k := callKey(call.Method, id)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls[k]++
	if h.faults[k] {
		return nil, &xmlrpc.Fault{Code: 1000, String: "failing " + k}
	}
	return h.objects[k], nil
}
