package koji

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// RetryPolicy says which failed calls are tried again, and when.
//
// A call is retried after a transport failure (a refused, reset or timed
// out connection, a truncated reply) or an HTTP status that says the hub
// did not run it (400 for a truncated request, 408, 429) or may not have
// (5xx). Faults are answers and are not retried, except ServerOffline
// with OfflineRetry and AuthExpired, which renews the session once and
// replays the call. Certificate errors are never retried.
//
// Writes are never duplicated. A call whose request may have reached the
// hub is replayed only when a replay is harmless: a call on a session
// carries the same callnum on every attempt, and the hub refuses a
// committed one a second time with RetryError (the client also sends the
// callnum as Koji-Callnum, which upstream's client does not, so that hubs
// 1.31 to 1.35.3, which read only that name, check it too; see send); an
// anonymous call is replayed only when its method reads (get*, list*,
// query* and the like), since an anonymous call to a plugin's method may
// write. A request that never left the
// client (a refused connection) is always safe to send again.
type RetryPolicy struct {
	// MaxRetries is how many times a call is tried again after its first
	// attempt (upstream max_retries, 30).
	MaxRetries int
	// Interval is the wait before the second retry; the first is immediate,
	// as upstream's. Later waits double up to MaxInterval, each shortened
	// by a random jitter of up to half, so that clients failing together
	// do not come back together. (upstream retry_interval, 20 s)
	Interval time.Duration
	// MaxInterval caps the wait; zero means three times Interval.
	MaxInterval time.Duration
	// AnonRetry retries calls made without a session (upstream anon_retry,
	// false: anonymous calls fail on the first transport error).
	AnonRetry bool
	// OfflineRetry waits out a hub that answers ServerOffline, for as long
	// as the context allows, every OfflineInterval (upstream offline_retry,
	// false, and offline_retry_interval, 20 s in a profile whatever
	// retry_interval is: see Profile.OfflineRetryInterval). Zero
	// OfflineInterval means Interval, as for a ClientSession given no
	// offline_retry_interval.
	OfflineRetry    bool
	OfflineInterval time.Duration
	// Budget bounds retries across the whole client, so that a sick hub is
	// not hammered by every goroutine at once: each retry spends a token,
	// each success earns a tenth of one back, and retries stop while fewer
	// than half of Budget tokens remain. Zero means 10; negative, no budget.
	Budget int
}

// RetryPolicyFromProfile returns the policy a profile's options describe.
func RetryPolicyFromProfile(p *Profile) RetryPolicy {
	return RetryPolicy{
		MaxRetries:      p.MaxRetries,
		Interval:        p.RetryInterval,
		AnonRetry:       p.AnonRetry,
		OfflineRetry:    p.OfflineRetry,
		OfflineInterval: p.OfflineRetryInterval,
	}
}

// NoRetries is a policy that tries every call once.
var NoRetries = RetryPolicy{Budget: -1}

type retryWait struct {
	d       time.Duration
	offline bool
}

// retryDecision applies the policy to a failed attempt number try (0 for
// the first).
func (c *Client) retryDecision(ctx context.Context, req *request, s *session, err error, try int) (retryWait, bool) {
	p := c.retry
	if req.noRetry || req.streamed || ctx.Err() != nil {
		return retryWait{}, false
	}
	var f *Fault
	if errors.As(err, &f) {
		if p.OfflineRetry && f.Is(ErrServerOffline) {
			d := p.OfflineInterval
			if d == 0 {
				d = p.Interval
			}
			return retryWait{d: d, offline: true}, true
		}
		return retryWait{}, false
	}
	mayHaveRun, retryable := classify(err)
	switch {
	case !retryable, try >= p.MaxRetries:
		return retryWait{}, false
	case s == nil && !p.AnonRetry:
		return retryWait{}, false
	case mayHaveRun && s == nil && !ReadsOnly(req.method):
		return retryWait{}, false
	case !c.budget.spend():
		c.logger.Warn("koji: retry budget spent; not retrying", "method", req.method)
		return retryWait{}, false
	}
	return retryWait{d: p.backoff(try)}, true
}

// backoff is the wait before retry number try+1.
func (p RetryPolicy) backoff(try int) time.Duration {
	if try == 0 || p.Interval <= 0 {
		return 0
	}
	limit := p.MaxInterval
	if limit <= 0 {
		limit = 3 * p.Interval
	}
	d := p.Interval
	for i := 1; i < try && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	return d - time.Duration(rand.Int64N(int64(d/2)+1))
}

// classify tells whether a failed exchange may have run on the hub, and
// whether it is worth retrying at all.
func classify(err error) (mayHaveRun, retryable bool) {
	var he *HTTPError
	if errors.As(err, &he) {
		switch {
		case he.StatusCode == http.StatusBadRequest, he.StatusCode == http.StatusRequestTimeout,
			he.StatusCode == http.StatusTooManyRequests:
			return false, true // the hub refused the request before running it
		case he.StatusCode >= 500:
			return true, true
		}
		return false, false
	}
	var te *TransportError
	if !errors.As(err, &te) {
		return false, false // an encoding or decoding error of the caller's values
	}
	if isCertError(err) {
		return false, false
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return false, true
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return false, true
	}
	return true, true
}

// isCertError reports a TLS certificate problem, which retrying cannot fix
// (upstream's is_requests_cert_error).
func isCertError(err error) bool {
	var verify *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	var alert tls.AlertError
	return errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &host) ||
		errors.As(err, &invalid) || errors.As(err, &alert)
}

// ReadsOnly reports whether a call of method only reads, by its name: the
// get*, list*, query*, has*, check* … methods of Koji's API. Calls it says
// yes to are safe to replay and to run concurrently.
func ReadsOnly(method string) bool {
	name := method
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	for _, prefix := range []string{"get", "list", "query", "has", "check", "count", "find", "search", "show", "echo", "hello", "_listapi"} {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	switch method {
	case "multiCall", "system.multicall", "system.listMethods", "system.methodSignature", "system.methodHelp",
		"downloadTaskOutput", "repoInfo", "buildReferences", "taskReport":
		return true
	}
	return false
}

// retryBudget is a token bucket shared by a client's calls (gRPC's retry
// throttling).
type retryBudget struct {
	mu     sync.Mutex
	tokens float64
	max    float64
}

func newRetryBudget(p RetryPolicy) *retryBudget {
	if p.Budget < 0 {
		return nil
	}
	max := float64(p.Budget)
	if max == 0 {
		max = 10
	}
	return &retryBudget{tokens: max, max: max}
}

func (b *retryBudget) spend() bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tokens <= b.max/2 {
		return false
	}
	b.tokens--
	return true
}

func (b *retryBudget) success() {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.tokens = min(b.max, b.tokens+0.1)
	b.mu.Unlock()
}
