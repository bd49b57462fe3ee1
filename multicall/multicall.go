// Package multicall batches Koji calls into multiCall requests: queue any
// call, get a typed handle for its result, run the batch, read each result
// or its error.
//
// Each request is its own hub transaction: the hub runs the calls of one
// request in order, rolls back a failing call to a savepoint and commits
// the others, and commits each request separately. A batch split into
// several requests is therefore not atomic, and calls in different
// requests see each other's effects only in the order the requests ran.
//
// Beyond upstream's MultiCallSession (strict and batch), a Batch splits
// its calls so that no request passes the hub's 4 MiB limit, and sends the
// requests of a batch that only reads concurrently.
package multicall

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
	"golang.org/x/sync/errgroup"
)

// DefaultMaxRequestBytes is Koji's default MaxRequestLength: the hub
// answers a larger request with HTTP 400.
const DefaultMaxRequestBytes = 4 << 20

// requestOverhead bounds the bytes a multiCall request adds around its
// entries (prolog, methodCall, params, array).
const requestOverhead = 256

var (
	// ErrNotRun reports a result read before its batch ran.
	ErrNotRun = errors.New("multicall: result read before the batch ran")
	// ErrCallTooLarge reports a single call larger than a request may be.
	ErrCallTooLarge = errors.New("multicall: call larger than the hub accepts in one request")
)

// Options configure a Batch.
type Options struct {
	// Strict makes Run return the first fault among the results, after
	// every request has run, as upstream's strict does.
	Strict bool
	// BatchSize caps the calls in one request (upstream's batch); zero
	// means no cap beyond MaxRequestBytes. Smaller requests hold the
	// hub's database locks for less time.
	BatchSize int
	// MaxRequestBytes caps the size of one request; zero means
	// DefaultMaxRequestBytes.
	MaxRequestBytes int
	// Concurrency is how many requests may run at once when every call in
	// the batch only reads (koji.ReadsOnly); zero means 4. Batches with
	// writes always run their requests one after another, in order.
	Concurrency int
}

// A Batch queues calls for one client. It is safe to queue from several
// goroutines; Run takes the queue, so a Batch can be reused.
type Batch struct {
	client *koji.Client
	opts   Options

	mu    sync.Mutex
	calls []*entry
}

// New returns an empty batch for c.
func New(c *koji.Client, opts *Options) *Batch {
	b := &Batch{client: c}
	if opts != nil {
		b.opts = *opts
	}
	if b.opts.MaxRequestBytes <= 0 {
		b.opts.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if b.opts.Concurrency <= 0 {
		b.opts.Concurrency = 4
	}
	return b
}

// entry is one queued call.
type entry struct {
	method string
	raw    xmlrpc.RawValue // the encoded {methodName, params} struct
	decode func(xmlrpc.RawValue) error

	done bool  // the call ran (or could not be sent)
	err  error // the call's error: a *koji.Fault, a decode error, a request error
}

// A Result is the handle of one queued call.
type Result[T any] struct {
	e     *entry
	value T
}

// Value returns the call's result, or its error: a *koji.Fault when the
// hub refused it, the request's error when its request failed, and
// ErrNotRun before the batch ran.
func (r *Result[T]) Value() (T, error) {
	if !r.e.done {
		var zero T
		return zero, ErrNotRun
	}
	return r.value, r.e.err
}

// Add queues method with positional arguments; its result will decode
// into a T.
func Add[T any](b *Batch, method string, args ...any) *Result[T] {
	return AddKw[T](b, method, args, nil)
}

// AddKw queues method with positional and keyword arguments (a map or a
// struct with xmlrpc tags, as koji.Client.CallKw takes them).
func AddKw[T any](b *Batch, method string, args []any, kwargs any) *Result[T] {
	r := &Result[T]{}
	e := &entry{method: method, decode: func(v xmlrpc.RawValue) error { return v.Decode(&r.value) }}
	r.e = e
	raw, err := xmlrpc.MarshalValue(xmlrpc.MulticallCall{Method: method, Params: xmlrpc.AppendKwargs(args, kwargs)})
	if err != nil {
		e.done, e.err = true, err // an argument that cannot be encoded fails this call alone
	}
	e.raw = raw
	b.mu.Lock()
	b.calls = append(b.calls, e)
	b.mu.Unlock()
	return r
}

// Len returns the number of calls queued.
func (b *Batch) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.calls)
}

// Run sends the queued calls and fills in their results. It returns the
// error of a request that failed (its calls and those not yet sent get it
// too), or ctx's error; with Strict, when all requests went through, the
// first fault in queue order.
func (b *Batch) Run(ctx context.Context) error {
	b.mu.Lock()
	calls := b.calls
	b.calls = nil
	b.mu.Unlock()

	requests := b.split(calls)
	var err error
	if b.readsOnly(calls) && len(requests) > 1 {
		err = b.runConcurrently(ctx, requests)
	} else {
		for _, req := range requests {
			if err = b.send(ctx, req); err != nil {
				break
			}
		}
	}
	for _, e := range calls {
		if !e.done {
			e.done = true
			e.err = fmt.Errorf("multicall: not sent: %w", err)
		}
	}
	if err != nil || !b.opts.Strict {
		return err
	}
	for _, e := range calls {
		var f *koji.Fault
		if errors.As(e.err, &f) {
			return f
		}
	}
	return nil
}

func (b *Batch) readsOnly(calls []*entry) bool {
	for _, e := range calls {
		if !koji.ReadsOnly(e.method) {
			return false
		}
	}
	return true
}

func (b *Batch) runConcurrently(ctx context.Context, requests [][]*entry) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(b.opts.Concurrency)
	for _, req := range requests {
		g.Go(func() error { return b.send(gctx, req) })
	}
	return g.Wait()
}

// split groups calls into requests within BatchSize and MaxRequestBytes.
// A call too large for any request fails alone.
func (b *Batch) split(calls []*entry) [][]*entry {
	var requests [][]*entry
	var cur []*entry
	size := requestOverhead
	for _, e := range calls {
		if e.done { // failed to encode
			continue
		}
		n := len(e.raw) + 1
		if requestOverhead+n > b.opts.MaxRequestBytes {
			e.done, e.err = true, fmt.Errorf("%w: %s is %d bytes, the limit %d", ErrCallTooLarge, e.method, n, b.opts.MaxRequestBytes)
			continue
		}
		if len(cur) > 0 && (size+n > b.opts.MaxRequestBytes || (b.opts.BatchSize > 0 && len(cur) == b.opts.BatchSize)) {
			requests = append(requests, cur)
			cur, size = nil, requestOverhead
		}
		cur = append(cur, e)
		size += n
	}
	if len(cur) > 0 {
		requests = append(requests, cur)
	}
	return requests
}

// send runs one request and files its results.
func (b *Batch) send(ctx context.Context, req []*entry) error {
	raws := make([]xmlrpc.RawValue, len(req))
	for i, e := range req {
		raws[i] = e.raw
	}
	var results []xmlrpc.MulticallResult
	if err := b.client.Call(ctx, "multiCall", &results, raws); err != nil {
		for _, e := range req {
			e.done, e.err = true, err
		}
		return err
	}
	if len(results) != len(req) {
		err := fmt.Errorf("multicall: the hub answered %d results for %d calls", len(results), len(req))
		for _, e := range req {
			e.done, e.err = true, err
		}
		return err
	}
	for i, e := range req {
		e.done = true
		if f := results[i].Fault; f != nil {
			e.err = &koji.Fault{Code: f.Code, String: f.String, Traceback: f.Traceback}
		} else {
			e.err = e.decode(results[i].Value)
		}
	}
	return nil
}
