// Package kojitest provides hubs for tests. A ReplayHub answers with the
// exchanges recorded from a real Koji 1.35.3 hub (testdata/wire, embedded):
// a request gets the recorded reply of the recorded request it matches.
package kojitest

import (
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/gokoji/gokoji/xmlrpc"
)

//go:embed testdata/wire
var wire embed.FS

// An Exchange is one recorded request and reply.
type Exchange struct {
	Name            string // the fixture name, such as "getBuild_epoch"
	Method          string // the XML-RPC method; "" for raw uploads and HTTP-level exchanges
	HTTPMethod      string
	URL             string // as recorded, on the recording hub
	Request         []byte
	Response        []byte
	Status          int
	RequestHeaders  map[string]string
	ResponseHeaders map[string]string

	params []any // the decoded positional parameters, then the keyword arguments as a map
	order  int   // position in the recording (INDEX.md), from 1
}

type meta struct {
	HTTPMethod      string            `json:"http_method"`
	Status          int               `json:"status"`
	URL             string            `json:"url"`
	RequestHeaders  map[string]string `json:"request_headers"`
	ResponseHeaders map[string]string `json:"response_headers"`
}

var (
	loadOnce  sync.Once
	exchanges map[string]*Exchange
	loadErr   error
)

func load() (map[string]*Exchange, error) {
	loadOnce.Do(func() {
		exchanges = map[string]*Exchange{}
		metas, err := fs.Glob(wire, "testdata/wire/*.meta.json")
		if err != nil || len(metas) == 0 {
			loadErr = fmt.Errorf("kojitest: no recorded exchanges: %v", err)
			return
		}
		order, err := recordingOrder()
		if err != nil {
			loadErr = err
			return
		}
		for _, m := range metas {
			name := strings.TrimSuffix(path.Base(m), ".meta.json")
			ex, err := loadExchange(name, m)
			if err != nil {
				loadErr = err
				return
			}
			ex.order = order[name]
			exchanges[name] = ex
		}
	})
	return exchanges, loadErr
}

// recordingOrder reads the order of the exchanges from INDEX.md, whose
// table lists them as they were recorded.
func recordingOrder() (map[string]int, error) {
	index, err := wire.ReadFile("testdata/wire/INDEX.md")
	if err != nil {
		return nil, err
	}
	order := map[string]int{}
	for _, line := range strings.Split(string(index), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 {
			continue
		}
		name := strings.TrimSpace(cells[1])
		if _, seen := order[name]; !seen && name != "name" && !strings.HasPrefix(name, "-") {
			order[name] = len(order) + 1
		}
	}
	return order, nil
}

func loadExchange(name, metaPath string) (*Exchange, error) {
	raw, err := wire.ReadFile(metaPath)
	if err != nil {
		return nil, err
	}
	var m meta
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("kojitest: %s: %w", metaPath, err)
	}
	ex := &Exchange{Name: name, HTTPMethod: m.HTTPMethod, URL: m.URL, Status: m.Status,
		RequestHeaders: m.RequestHeaders, ResponseHeaders: m.ResponseHeaders}
	base := "testdata/wire/" + name
	if ex.Request, err = wire.ReadFile(base + ".request.xml"); err != nil {
		if ex.Request, err = wire.ReadFile(base + ".request.bin"); err != nil && m.HTTPMethod == http.MethodPost {
			return nil, err
		}
	}
	if ex.Response, err = wire.ReadFile(base + ".response.xml"); err != nil {
		return nil, err
	}
	if m.RequestHeaders["Content-Type"] == "text/xml" && len(ex.Request) > 0 {
		if call, err := xmlrpc.DecodeCall(ex.Request); err == nil {
			ex.Method = call.Method
			ex.params = decodeParams(call)
		}
	}
	return ex, nil
}

// decodeParams turns a call's parameters into comparable generic values.
func decodeParams(call *xmlrpc.Call) []any {
	params := make([]any, 0, len(call.Params)+1)
	for _, p := range call.Params {
		var v any
		if err := p.Decode(&v); err != nil {
			v = string(p)
		}
		params = append(params, v)
	}
	if call.Kwargs != nil {
		kw := map[string]any{}
		for k, p := range call.Kwargs {
			var v any
			if err := p.Decode(&v); err != nil {
				v = string(p)
			}
			kw[k] = v
		}
		params = append(params, kw)
	}
	return params
}

// Fixture returns the recorded exchange of that name; it fails the test
// when there is none.
func Fixture(t testing.TB, name string) *Exchange {
	t.Helper()
	all, err := load()
	if err != nil {
		t.Fatal(err)
	}
	ex, ok := all[name]
	if !ok {
		t.Fatalf("kojitest: no recorded exchange %q", name)
	}
	return ex
}

// A Received is a request a ReplayHub got.
type Received struct {
	Method string // XML-RPC method, or "" for a raw upload
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
}

// A ReplayHub serves recorded exchanges on a loopback port.
type ReplayHub struct {
	Server    *httptest.Server
	t         testing.TB
	exchanges []*Exchange

	mu       sync.Mutex
	received []Received
	served   map[string]int // times each group of identical recorded requests was answered
}

// NewReplayHub starts a hub answering with the named exchanges, or all of
// them when no name is given. It stops when the test ends. A request that
// matches no exchange fails the test and gets HTTP 500.
func NewReplayHub(t testing.TB, names ...string) *ReplayHub {
	t.Helper()
	all, err := load()
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		for name := range all {
			names = append(names, name)
		}
	}
	h := &ReplayHub{t: t, served: map[string]int{}}
	for _, name := range names {
		h.exchanges = append(h.exchanges, Fixture(t, name))
	}
	sort.Slice(h.exchanges, func(i, j int) bool { return h.exchanges[i].order < h.exchanges[j].order })
	h.Server = httptest.NewServer(h)
	t.Cleanup(h.Server.Close)
	return h
}

// URL is the hub's XML-RPC endpoint.
func (h *ReplayHub) URL() string { return h.Server.URL + "/kojihub" }

// Received returns the requests served so far.
func (h *ReplayHub) Received() []Received {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Received(nil), h.received...)
}

func (h *ReplayHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rec := Received{Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body}
	var params []any
	if r.Method == http.MethodPost && r.Header.Get("Content-Type") == "text/xml" {
		if call, err := xmlrpc.DecodeCall(body); err == nil {
			rec.Method = call.Method
			params = decodeParams(call)
		}
	}
	h.mu.Lock()
	h.received = append(h.received, rec)
	h.mu.Unlock()

	ex := h.match(r, rec, params)
	if ex == nil {
		h.t.Errorf("kojitest: no recorded exchange matches %s %s %s(%v) session %q",
			r.Method, r.URL.Path, rec.Method, params, r.Header.Get("Koji-Session-Id"))
		http.Error(w, "no recorded exchange matches this request", http.StatusInternalServerError)
		return
	}
	for _, k := range []string{"Content-Type", "Koji-Version", "Allow"} {
		if v, ok := ex.ResponseHeaders[k]; ok {
			w.Header().Set(k, v)
		}
	}
	w.WriteHeader(ex.Status)
	_, _ = w.Write(ex.Response)
}

// match finds the exchange whose request was the same call (method and
// decoded arguments) on the same session, or for raw uploads the same file
// and offset. The same request recorded several times (getTaskInfo as a
// task moved on) is answered with each recording in turn, in the order
// recorded, and then with the last.
func (h *ReplayHub) match(r *http.Request, rec Received, params []any) *Exchange {
	var candidates []*Exchange
	for _, ex := range h.exchanges {
		switch {
		case ex.HTTPMethod != r.Method:
		case r.Method != http.MethodPost:
			candidates = append(candidates, ex)
		case rec.Method == "" && ex.Method == "" && ex.RequestHeaders["Content-Type"] == r.Header.Get("Content-Type"):
			if sameUpload(ex, rec) {
				candidates = append(candidates, ex)
			}
		case rec.Method != "" && ex.Method == rec.Method && reflect.DeepEqual(ex.params, params):
			candidates = append(candidates, ex)
		}
	}
	if rec.Method == "" && r.Method == http.MethodPost && r.Header.Get("Content-Type") == "text/xml" {
		// Not a call: the hub answers 400, as recorded.
		for _, ex := range h.exchanges {
			if ex.Status == http.StatusBadRequest && (len(rec.Body) == 0) == (len(ex.Request) == 0) {
				return ex
			}
		}
	}
	session := r.Header.Get("Koji-Session-Id")
	var same []*Exchange
	for _, ex := range candidates {
		if ex.RequestHeaders["Koji-Session-Id"] == session {
			same = append(same, ex)
		}
	}
	if len(same) == 0 {
		same = candidates
	}
	if len(same) == 0 {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	group := same[0].Name
	n := h.served[group]
	h.served[group] = n + 1
	return same[min(n, len(same)-1)]
}

func sameUpload(ex *Exchange, rec Received) bool {
	u, err := url.Parse(ex.URL)
	if err != nil {
		return false
	}
	q := u.Query()
	return q.Get("filename") == rec.Query.Get("filename") && q.Get("offset") == rec.Query.Get("offset")
}
