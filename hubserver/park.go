package hubserver

import (
	"context"
	"errors"
	"time"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// A parkError is Park's error: the call asks to be run again later.
type parkError struct {
	wake  <-chan struct{}
	until time.Time
}

func (*parkError) Error() string { return "the call was parked" }

// Park, returned as a Func's error, makes the hub end the call's
// transaction (committing it), wait until wake is closed, until passes, or
// the client goes away, and then call the method again with the same
// arguments and session in a new transaction. The re-run whose until has
// passed sees ParkExpired(ctx) == true and must answer then. Inside a
// multicall the hub treats a Park as expired at once (re-runs immediately
// with ParkExpired true), so no multicall holds a transaction while
// waiting.
//
// This lets a method wait for something another request will do (a task
// to become free, subtasks to finish) without holding a database
// transaction, and without the client polling. The re-run is not
// authenticated again and its callnum is not checked again: the first run
// already did both and committed them. A nil wake waits for until alone; a
// zero until waits for wake alone. Shutdown wakes parked calls, which are
// re-run with ParkExpired true so that they answer before the hub stops.
// When the client goes away the call ends with the context's error.
func Park(wake <-chan struct{}, until time.Time) error {
	return &parkError{wake: wake, until: until}
}

type parkExpiredKey struct{}

// ParkExpired reports whether ctx is that of a call re-run after Park
// because its wait ended without a wake-up: until passed, the hub is
// shutting down, or the call is a multicall entry. The method must answer
// then rather than park again.
func ParkExpired(ctx context.Context) bool {
	v, _ := ctx.Value(parkExpiredKey{}).(bool)
	return v
}

// errParkedTwice answers a method that parks again although its wait has
// expired, which would otherwise loop.
var errParkedTwice = errors.New("the method parked again after its wait expired")

// runParked runs a top-level call, serving its Parks: each Park commits
// the transaction, waits, and re-runs the call in a new one.
func (h *Hub) runParked(ctx context.Context, b *binding, params []xmlrpc.RawValue, kwargs map[string]xmlrpc.RawValue) (any, error) {
	for {
		res, err := h.invoke(ctx, b, params, kwargs)
		var p *parkError
		if !errors.As(err, &p) {
			return res, err
		}
		if ParkExpired(ctx) {
			return nil, errParkedTwice
		}
		c := callFrom(ctx)
		if c == nil {
			// Not called through respond: nothing to commit, re-run at once.
			ctx = context.WithValue(ctx, parkExpiredKey{}, true)
			continue
		}
		if err := c.beforeCommit(ctx, 0); err != nil {
			return nil, err
		}
		ok := h.endTx(ctx, c.tx, true, b.Name)
		c.tx = nil
		if !ok {
			return nil, errors.New("the transaction did not commit")
		}
		c.committed()
		expired, err := h.park(ctx, p)
		if err != nil {
			callLogger(h.cfg.Logger, ctx, b.Name).Info("parked call abandoned", "error", err)
			return nil, err
		}
		if h.cfg.Store != nil {
			tx, err := h.cfg.Store.Begin(ctx)
			if err != nil {
				callLogger(h.cfg.Logger, ctx, b.Name).Error("cannot begin transaction", "error", err)
				return nil, &koji.Fault{Code: int(koji.ErrServerOffline), String: "database outage"}
			}
			c.tx = tx
			ctx = context.WithValue(ctx, txKey{}, tx)
		}
		if expired {
			ctx = context.WithValue(ctx, parkExpiredKey{}, true)
		}
	}
}

// park waits for a parked call's wake-up, reporting whether the wait
// expired (until passed or the hub is stopping) rather than woke.
func (h *Hub) park(ctx context.Context, p *parkError) (expired bool, err error) {
	var timeout <-chan time.Time
	if !p.until.IsZero() {
		t := time.NewTimer(time.Until(p.until))
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-p.wake:
		// A wake-up that comes with the deadline counts as expired, so a
		// method sees the deadline it asked for.
		return !p.until.IsZero() && !time.Now().Before(p.until), nil
	case <-timeout:
		return true, nil
	case <-h.stopping:
		return true, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}
