package koji

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gokoji/gokoji/xmlrpc"
)

// A Client talks to one Koji hub. It is safe for concurrent use by many
// goroutines. Anonymous calls run fully in parallel. Once logged in, each
// authenticated call runs on a session that carries one call at a time,
// as Koji's callnum sequence requires; WithSessions lets the client open
// subsessions so that authenticated calls run in parallel too.
type Client struct {
	server  *url.URL
	profile *Profile
	http    *http.Client
	retry   RetryPolicy
	budget  *retryBudget
	timeout time.Duration
	authTO  time.Duration
	logger  *slog.Logger
	agent   string

	maxSessions int
	auth        atomic.Pointer[authState] // nil when anonymous

	hubVersion atomic.Pointer[string]
	closed     atomic.Bool
}

// An Option configures a Client.
type Option func(*Client) error

// WithHTTPClient makes the client send its requests through hc, for
// example one with a custom transport. The client's own TLS settings from
// the profile are then not applied.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error { c.http = hc; return nil }
}

// WithRetryPolicy replaces the retry policy taken from the profile.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *Client) error { c.retry = p; return nil }
}

// WithLogger sends the client's logs (retries, logins) to l.
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) error { c.logger = l; return nil }
}

// WithSessions lets up to n sessions carry authenticated calls at once: the
// login session and n-1 subsessions opened as calls need them. The default
// is 1, which runs authenticated calls one at a time, like Koji's client.
func WithSessions(n int) Option {
	return func(c *Client) error {
		if n < 1 {
			return fmt.Errorf("koji: WithSessions(%d): need at least one session", n)
		}
		c.maxSessions = n
		return nil
	}
}

// WithTimeout bounds each HTTP request (upstream's timeout option, 12 h by
// default). Contexts bound whole calls, retries included.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) error { c.timeout = d; return nil }
}

// NewClient returns an anonymous client for the hub at server (such as
// "https://koji.fedoraproject.org/kojihub") with upstream's defaults.
func NewClient(server string, opts ...Option) (*Client, error) {
	p := DefaultProfile()
	p.Server = server
	return NewClientFromProfile(p, opts...)
}

// Open loads the named profile from the standard configuration files, as
// the koji CLI does, and returns an anonymous client for it. Package auth
// logs it in as the profile says.
func Open(profile string, opts ...Option) (*Client, error) {
	p, err := LoadProfile(profile)
	if err != nil {
		return nil, err
	}
	return NewClientFromProfile(p, opts...)
}

// NewClientFromProfile returns an anonymous client configured by p: hub
// URL, TLS verification (serverca, no_ssl_verify), retries and timeouts.
func NewClientFromProfile(p *Profile, opts ...Option) (*Client, error) {
	server, err := url.Parse(p.Server)
	if err != nil || server.Host == "" || (server.Scheme != "http" && server.Scheme != "https") {
		return nil, &ConfigError{Profile: p.Name, Option: "server", Err: fmt.Errorf("%q is not an http(s) URL", p.Server)}
	}
	c := &Client{
		server:      server,
		profile:     p,
		retry:       RetryPolicyFromProfile(p),
		timeout:     p.Timeout,
		authTO:      p.AuthTimeout,
		logger:      slog.New(discardHandler{}),
		agent:       "koji/1",
		maxSessions: 1,
	}
	for _, opt := range opts {
		if err := opt(c); err != nil {
			return nil, err
		}
	}
	if c.http == nil {
		tlsConfig, err := TLSConfig(p)
		if err != nil {
			return nil, err
		}
		transport := http.DefaultTransport.(*http.Transport).Clone()
		transport.TLSClientConfig = tlsConfig
		c.http = &http.Client{Transport: transport}
	}
	c.budget = newRetryBudget(c.retry)
	return c, nil
}

// TLSConfig returns the TLS settings the profile asks for: the CA bundle
// in serverca, or no verification with no_ssl_verify, or the system roots.
func TLSConfig(p *Profile) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	switch {
	case p.ServerCA != "":
		pem, err := os.ReadFile(p.ServerCA)
		if err != nil {
			return nil, &ConfigError{Profile: p.Name, Option: "serverca", Err: err}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, &ConfigError{Profile: p.Name, Option: "serverca", Err: fmt.Errorf("%s holds no PEM certificate", p.ServerCA)}
		}
		cfg.RootCAs = pool
	case p.NoSSLVerify:
		cfg.InsecureSkipVerify = true
	}
	return cfg, nil
}

// Profile returns the profile the client was made from.
func (c *Client) Profile() *Profile { return c.profile }

// Server returns the hub URL.
func (c *Client) Server() string { return c.server.String() }

// HTTPClient returns the HTTP client the client sends requests through.
func (c *Client) HTTPClient() *http.Client { return c.http }

// Logger returns the client's logger.
func (c *Client) Logger() *slog.Logger { return c.logger }

// HubVersion returns the hub's Koji version as its last reply announced it
// (the Koji-Version header, sent by 1.35 and later), or by asking
// getKojiVersion; a hub without that method (before 1.23) is "1.22.0".
func (c *Client) HubVersion(ctx context.Context) (string, error) {
	if v := c.hubVersion.Load(); v != nil {
		return *v, nil
	}
	var v string
	err := c.Call(ctx, "getKojiVersion", &v)
	var f *Fault
	if errors.As(err, &f) && f.Code == int(ErrGeneric) && strings.Contains(f.String, "Invalid method") {
		v, err = "1.22.0", nil
	}
	if err != nil {
		return "", err
	}
	c.hubVersion.Store(&v)
	return v, nil
}

// Call invokes method with positional arguments and decodes the result
// into result (a pointer, or nil to discard it). A fault comes back as a
// *Fault, which errors.Is matches against its FaultClass.
func (c *Client) Call(ctx context.Context, method string, result any, args ...any) error {
	return c.CallKw(ctx, method, result, args, nil)
}

// CallKw is Call with keyword arguments: kwargs is a map with string keys
// or a struct with xmlrpc tags (omitempty leaves unset options out), sent
// Koji's way as a trailing struct marked __starstar.
func (c *Client) CallKw(ctx context.Context, method string, result any, args []any, kwargs any) error {
	if c.closed.Load() {
		return ErrClosed
	}
	body, err := xmlrpc.MarshalCall(method, xmlrpc.AppendKwargs(args, kwargs)...)
	if err != nil {
		return err
	}
	return c.do(ctx, &request{method: method, body: body, result: result})
}

// StreamKw calls a method whose result is an array and hands the reply to
// fn as it arrives, one element at a time in bounded memory: listTagged or
// listBuilds on a large tag answers with tens of megabytes. fn reads
// elements with arr.Next and arr.Decode. A failure is retried under the
// client's rules only until fn has been called; after that it is returned,
// since fn may already have acted on elements.
func (c *Client) StreamKw(ctx context.Context, method string, args []any, kwargs any, fn func(arr *xmlrpc.ArrayReader) error) error {
	if c.closed.Load() {
		return ErrClosed
	}
	body, err := xmlrpc.MarshalCall(method, xmlrpc.AppendKwargs(args, kwargs)...)
	if err != nil {
		return err
	}
	return c.do(ctx, &request{method: method, body: body, stream: fn})
}

// request is one prepared hub request.
type request struct {
	method      string     // for errors, logs and the retry rules
	path        string     // appended to the hub URL: "/ssllogin" for logins
	query       url.Values // extra query parameters (raw uploads)
	body        []byte
	contentType string // "" for text/xml
	result      any

	anonymous bool              // never send a session, even when logged in (logins)
	https     bool              // force the https scheme (sslLogin, as upstream)
	transport http.RoundTripper // for a login that needs its own TLS or SPNEGO
	noRetry   bool
	timeout   time.Duration // overrides the client's request timeout

	stream   func(*xmlrpc.ArrayReader) error // set: hand the reply array to it instead of decoding into result
	streamed bool                            // stream was called: no more retries
}

// do runs a request with the session rules, renewal and retries.
func (c *Client) do(ctx context.Context, req *request) error {
	var s *session
	if !req.anonymous {
		var err error
		if s, err = c.acquire(ctx); err != nil {
			return err
		}
	}
	if s == nil { // anonymous, or a client not logged in
		return c.attempts(ctx, req, nil)
	}
	defer s.release()
	err := c.attempts(ctx, req, s)
	if errors.Is(err, ErrAuthExpired) {
		// Upstream renews once and replays with a new callnum (B.6). The
		// session is renewed while still held, so no other call uses it
		// half-renewed, and the replay goes on that same session: another
		// from the pool may be expired too, and would fail the replay.
		if err := c.renew(ctx, s); err != nil {
			return err
		}
		err = c.attempts(ctx, req, s)
	}
	return err
}

// attempts sends req on session s (nil: anonymous) until it succeeds, the
// retry rules stop it, or ctx ends. Every attempt carries the same callnum.
func (c *Client) attempts(ctx context.Context, req *request, s *session) error {
	callnum := int64(-1)
	if s != nil {
		callnum = s.nextCallnum()
	}
	for try := 0; ; try++ {
		err := c.send(ctx, req, s, callnum)
		if err == nil {
			c.budget.success()
			return nil
		}
		wait, retry := c.retryDecision(ctx, req, s, err, try)
		if !retry {
			return err
		}
		if wait.offline {
			try = -1 // ServerOffline retries do not count (upstream resets tries)
		}
		c.logger.LogAttrs(ctx, slog.LevelWarn, "koji: retrying call",
			slog.String("method", req.method), slog.Int("attempt", try+1), slog.Duration("after", wait.d), slog.String("error", err.Error()))
		if err := sleep(ctx, wait.d); err != nil {
			return err
		}
	}
}

// send makes one HTTP exchange.
func (c *Client) send(ctx context.Context, req *request, s *session, callnum int64) error {
	u := *c.server
	u.Path = strings.TrimSuffix(u.Path, "/") + req.path
	if req.https {
		u.Scheme = "https"
	}
	q := u.Query()
	for k, vs := range req.query {
		q[k] = vs
	}
	if s != nil && !s.headerAuth {
		// Hubs before 1.31 read the session from the URL (B.3).
		q.Set("session-id", fmt.Sprint(s.id))
		q.Set("session-key", s.key)
		q.Set("callnum", fmt.Sprint(callnum))
	}
	u.RawQuery = encodeQuery(q, req.query)

	timeout := c.timeout
	if req.timeout > 0 {
		timeout = req.timeout
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	httpReq, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(req.body))
	if err != nil {
		return c.transportError(req, s, u.String(), err)
	}
	contentType := req.contentType
	if contentType == "" {
		contentType = "text/xml"
	}
	httpReq.Header.Set("Content-Type", contentType)
	httpReq.Header.Set("User-Agent", c.agent)
	if s != nil {
		httpReq.Header.Set("Koji-Session-Id", fmt.Sprint(s.id))
		httpReq.Header.Set("Koji-Session-Key", s.key)
		httpReq.Header.Set("Koji-Session-Callnum", fmt.Sprint(callnum))
		// An addition: upstream's client sends only Koji-Session-Callnum,
		// but hubs 1.31 to 1.35.3 read the callnum only from this name
		// (B.3), so without it they would run a replayed write twice
		// instead of refusing it. It is harmless: both carry the same
		// number, later hubs prefer Koji-Session-Callnum, earlier ones
		// ignore the header, and the RetryError it makes possible comes
		// only on a replay of a call that committed.
		httpReq.Header.Set("Koji-Callnum", fmt.Sprint(callnum))
	}
	hc := c.http
	if req.transport != nil {
		hc = &http.Client{Transport: req.transport, CheckRedirect: c.http.CheckRedirect, Jar: c.http.Jar}
	}
	resp, err := hc.Do(httpReq)
	if err != nil {
		return c.transportError(req, s, u.String(), err)
	}
	defer resp.Body.Close()
	if v := resp.Header.Get("Koji-Version"); v != "" {
		if old := c.hubVersion.Load(); old == nil || *old != v {
			c.hubVersion.Store(&v)
		}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		text, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return &HTTPError{StatusCode: resp.StatusCode, Status: resp.Status, Body: strings.TrimSpace(string(text))}
	}
	if req.stream != nil {
		return c.streamReply(req, s, u.String(), resp.Body)
	}
	result := req.result
	if result == nil {
		result = new(xmlrpc.RawValue)
	}
	err = xmlrpc.NewDecoder(resp.Body).DecodeResponse(result)
	var xf *xmlrpc.Fault
	var te *xmlrpc.TypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &xf):
		return faultFrom(xf)
	case errors.As(err, &te):
		return err // the reply was whole; the caller's type does not fit it
	}
	// A broken or truncated body: the transport failed mid-reply.
	return c.transportError(req, s, u.String(), err)
}

// streamReply hands a reply's array to req.stream.
func (c *Client) streamReply(req *request, s *session, u string, body io.Reader) error {
	arr, err := xmlrpc.NewDecoder(body).ResponseArray()
	var xf *xmlrpc.Fault
	var te *xmlrpc.TypeError
	switch {
	case errors.As(err, &xf):
		return faultFrom(xf)
	case errors.As(err, &te):
		return err
	case err != nil:
		return c.transportError(req, s, u, err)
	}
	req.streamed = true
	if err := req.stream(arr); err != nil {
		return err
	}
	if err := arr.Err(); err != nil {
		if errors.As(err, &te) {
			return err
		}
		return c.transportError(req, s, u, err)
	}
	return nil
}

// encodeQuery writes the query with the upload parameters first in their
// given order and the session parameters after, as upstream does.
func encodeQuery(q url.Values, first url.Values) string {
	var b strings.Builder
	add := func(k string) {
		for _, v := range q[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(k) + "=" + url.QueryEscape(v))
		}
		delete(q, k)
	}
	for _, k := range []string{"filename", "filepath", "fileverify", "offset", "overwrite", "volume"} {
		if _, ok := first[k]; ok {
			add(k)
		}
	}
	for _, k := range []string{"session-id", "session-key", "callnum"} {
		add(k)
	}
	if len(q) > 0 {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(q.Encode())
	}
	return b.String()
}

// transportError wraps a failed exchange without the session key.
func (c *Client) transportError(req *request, s *session, u string, err error) error {
	if s != nil {
		if ue, ok := err.(*url.Error); ok {
			// net/http's error holds the request URL, and so the key on
			// hubs that read the session from the URL: unwrapping must
			// not hand it out.
			redacted := *ue
			redacted.URL = redactText(ue.URL, s.key)
			err = &redacted
		}
		err = redactedError{err: err, msg: redactText(err.Error(), s.key)}
		u = redactText(u, s.key)
	}
	return &TransportError{Method: req.method, URL: u, Err: err}
}

// redactedError carries an error's text with the session key hidden while
// keeping the error chain for errors.Is and errors.As.
type redactedError struct {
	err error
	msg string
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Unwrap() error { return e.err }

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close logs out, if logged in, and releases the client. It waits for
// calls in flight on the login session for up to the login timeout. Calls
// after Close fail with ErrClosed.
func (c *Client) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), max(c.authTO, time.Second))
	defer cancel()
	err := c.logout(ctx)
	if t, ok := c.http.Transport.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
	return err
}

type discardHandler struct{}

func (discardHandler) Enabled(context.Context, slog.Level) bool  { return false }
func (discardHandler) Handle(context.Context, slog.Record) error { return nil }
func (h discardHandler) WithAttrs([]slog.Attr) slog.Handler      { return h }
func (h discardHandler) WithGroup(string) slog.Handler           { return h }
