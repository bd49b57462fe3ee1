package hubserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// A Hub is an embeddable Koji hub: the XML-RPC endpoint, its method
// registry and the per-request transaction. Build it with New, add methods
// with Register, then either Start it on its own listener or mount Handler
// in another server.
type Hub struct {
	cfg Config

	mu       sync.RWMutex
	registry map[string]*binding
	multi    map[string]*binding // multiCall and system.multicall
	order    []string

	handler http.Handler

	startOnce sync.Once
	ready     chan struct{}
	srv       *http.Server
	ln        net.Listener
	served    chan struct{} // closed when Serve returned
	serveErr  error

	stopOnce sync.Once
	stopping chan struct{} // closed by Shutdown, to release parked calls
}

// New returns a hub configured by cfg with the built-in methods
// registered: the introspection methods (_listapi, system.listMethods,
// system.methodSignature, system.methodHelp), echo, getAPIVersion,
// getKojiVersion and hello. multiCall and system.multicall are handled by
// the dispatcher itself and, as upstream, are not in the registry.
func New(cfg Config) (*Hub, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	h := &Hub{
		cfg:      cfg,
		registry: make(map[string]*binding),
		ready:    make(chan struct{}),
		served:   make(chan struct{}),
		stopping: make(chan struct{}),
	}
	if h.multi, err = h.multicallMethods(); err != nil {
		return nil, err
	}
	if err := h.Register(append(h.introspectionMethods(), h.builtinMethods()...)...); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(cfg.Path, h)
	mux.Handle(cfg.Path+"/ssllogin", h)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Koji-Version", h.cfg.KojiVersion)
		http.NotFound(w, r)
	})
	h.handler = mux
	if cfg.Middleware != nil {
		h.handler = cfg.Middleware(mux)
	}
	return h, nil
}

// Register adds methods to the hub. A name already registered, or a
// declaration that does not match its Func, is an error and registers
// none of ms. Methods may be registered while the hub serves.
//
// system.listMethods and _listapi list methods in registration order, the
// introspection methods first, as upstream lists its registry.
func (h *Hub) Register(ms ...Method) error {
	bs := make([]*binding, 0, len(ms))
	seen := make(map[string]bool, len(ms))
	for _, m := range ms {
		b, err := newBinding(m)
		if err != nil {
			return err
		}
		if isMulticall(m.Name) || seen[m.Name] {
			return fmt.Errorf("hubserver: method %s registered twice", m.Name)
		}
		seen[m.Name] = true
		bs = append(bs, b)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, b := range bs {
		if _, dup := h.registry[b.Name]; dup {
			return fmt.Errorf("hubserver: method %s registered twice", b.Name)
		}
	}
	for _, b := range bs {
		h.registry[b.Name] = b
		h.order = append(h.order, b.Name)
	}
	return nil
}

func (h *Hub) lookup(name string) *binding {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.registry[name]
}

// methods returns the registered methods in registration order.
func (h *Hub) methods() []*binding {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]*binding, len(h.order))
	for i, name := range h.order {
		out[i] = h.registry[name]
	}
	return out
}

// Handler returns the hub's HTTP handler for mounting in another server:
// it serves the hub at Config.Path and Config.Path+"/ssllogin" and answers
// 404 elsewhere. The Hub itself is an http.Handler that serves the hub on
// every path.
func (h *Hub) Handler() http.Handler { return h.handler }

// Start listens on Config.ListenAddr and serves the hub in the background.
// It returns once the listener is up, after which Addr and URL are valid
// and Ready is closed. ctx bounds the start only; Shutdown stops the hub.
// A hub starts at most once.
func (h *Hub) Start(ctx context.Context) error {
	err := errors.New("hubserver: hub already started")
	h.startOnce.Do(func() { err = h.start(ctx) })
	return err
}

func (h *Hub) start(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", h.cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("hubserver: listen: %w", err)
	}
	if h.cfg.TLSConfig != nil {
		ln = tls.NewListener(ln, h.cfg.TLSConfig)
	}
	h.ln = ln
	h.srv = &http.Server{
		Handler:           h.handler,
		ReadHeaderTimeout: h.cfg.ReadTimeout,
		IdleTimeout:       5 * time.Minute,
	}
	go func() {
		defer close(h.served)
		if err := h.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			h.serveErr = err
		}
	}()
	close(h.ready)
	h.cfg.Logger.Info("hub listening", "url", h.URL(), "koji_version", h.cfg.KojiVersion)
	return nil
}

// Ready returns a channel closed once Start has the listener up.
func (h *Hub) Ready() <-chan struct{} { return h.ready }

// Addr returns the address the hub listens on, nil before Start.
func (h *Hub) Addr() net.Addr {
	select {
	case <-h.ready:
		return h.ln.Addr()
	default:
		return nil
	}
}

// URL returns the hub's URL, such as "https://127.0.0.1:40123/kojihub",
// "" before Start.
func (h *Hub) URL() string {
	addr := h.Addr()
	if addr == nil {
		return ""
	}
	scheme := "http"
	if h.cfg.TLSConfig != nil {
		scheme = "https"
	}
	return scheme + "://" + addr.String() + h.cfg.Path
}

// Shutdown stops a started hub gracefully: it stops accepting connections
// and waits for calls in flight to finish. When ctx ends first it closes
// the remaining connections and returns ctx's error. Calls waiting after
// a Park are re-run at once with ParkExpired true, so that they answer
// instead of holding Shutdown up. Shutdown of a hub never started only
// does that, for a hub mounted through Handler in another server.
func (h *Hub) Shutdown(ctx context.Context) error {
	h.stopOnce.Do(func() { close(h.stopping) })
	select {
	case <-h.ready:
	default:
		return nil
	}
	err := h.srv.Shutdown(ctx)
	if err != nil {
		h.srv.Close()
		return err
	}
	<-h.served
	if h.serveErr != nil {
		return h.serveErr
	}
	h.cfg.Logger.Info("hub stopped", "url", h.URL())
	return nil
}
