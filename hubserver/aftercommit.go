package hubserver

import (
	"context"
	"sync"
)

// A callState is what the hub keeps about one HTTP request while it runs:
// the current transaction (a parked call moves on to a new one), the
// hooks to run around its commit, and the caller its log lines name.
type callState struct {
	mu     sync.Mutex
	tx     Tx
	hooks  []commitHook
	scope  int      // hooks[scope:] belong to the running call or multicall entry
	caller *Session // the authenticated caller, or the session a login made
}

// A commitHook is work tied to the commit of a call: before runs just
// before it (an error aborts the call), after once it succeeded. A hook
// registered by a multicall entry that is rolled back is dropped.
type commitHook struct {
	key    any // non-nil: at most one pending hook per key
	before func(context.Context) error
	after  func()
	ran    bool // before has run
}

type callKey struct{}

func callFrom(ctx context.Context) *callState {
	c, _ := ctx.Value(callKey{}).(*callState)
	return c
}

// AfterCommit registers fn to run after the transaction carrying ctx's call
// commits; it never runs if that work is rolled back (a faulting call, a
// multicall entry rolled back to its savepoint). Without a Store it runs
// when the call returns successfully. This is what keeps side effects
// outside the database, such as messages to a broker, from announcing
// writes that never happened.
//
// Functions run in registration order, on the request's goroutine, after
// the commit and before the reply is written; they should be quick and
// must not use the transaction. Outside a hub call (a ctx that did not
// come from the hub) fn runs at once, as there is nothing to wait for.
func AfterCommit(ctx context.Context, fn func()) {
	c := callFrom(ctx)
	if c == nil {
		fn()
		return
	}
	c.add(commitHook{after: fn})
}

// onCommit registers before and after (either may be nil) around the
// commit of ctx's call, unless a hook with the same key is pending there
// already; so per-call work, such as upstream's preCommit and postCommit
// callbacks, is registered once per call or multicall entry. Outside a
// hub call before runs at once and after when it succeeded.
func onCommit(ctx context.Context, key any, before func(context.Context) error, after func()) error {
	c := callFrom(ctx)
	if c == nil {
		if before != nil {
			if err := before(ctx); err != nil {
				return err
			}
		}
		if after != nil {
			after()
		}
		return nil
	}
	c.mu.Lock()
	for _, h := range c.hooks[c.scope:] {
		if h.key == key {
			c.mu.Unlock()
			return nil
		}
	}
	c.mu.Unlock()
	c.add(commitHook{key: key, before: before, after: after})
	return nil
}

// setCaller records who the request's later log lines name: the caller
// the session check established, or the session a login created. It
// changes nothing of how the request is authorised.
func (c *callState) setCaller(s *Session) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.caller = s
}

// getCaller returns what setCaller recorded; nil for a nil c.
func (c *callState) getCaller() *Session {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.caller
}

func (c *callState) add(h commitHook) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hooks = append(c.hooks, h)
}

// mark returns how many hooks are registered, for a multicall entry to
// tell the ones it adds.
func (c *callState) mark() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.hooks)
}

// enter starts the scope of a multicall entry, whose hooks are those
// registered from now on, and returns the enclosing scope for leave.
func (c *callState) enter() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	prev := c.scope
	c.scope = len(c.hooks)
	return prev
}

// leave ends a multicall entry's scope.
func (c *callState) leave(prev int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.scope = prev
}

// drop forgets the hooks registered since mark n: their work was rolled
// back.
func (c *callState) drop(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.hooks[n:])
	c.hooks = c.hooks[:n]
}

// beforeCommit runs the before functions of the hooks registered since
// mark n that have not run yet, in order, stopping at the first error.
// A multicall runs those of each entry at its end, as upstream commits
// (and runs preCommit) after each entry; the hub runs the rest just before
// the commit.
func (c *callState) beforeCommit(ctx context.Context, n int) error {
	for i := n; ; i++ {
		c.mu.Lock()
		if i >= len(c.hooks) {
			c.mu.Unlock()
			return nil
		}
		h := &c.hooks[i]
		fn := h.before
		if h.ran {
			fn = nil
		}
		h.ran = true
		c.mu.Unlock()
		if fn != nil {
			// A before function may register further hooks; the loop
			// reaches them too.
			if err := fn(ctx); err != nil {
				return err
			}
		}
	}
}

// committed runs, and forgets, the after functions of the registered
// hooks.
func (c *callState) committed() {
	c.mu.Lock()
	hooks := c.hooks
	c.hooks = nil
	c.mu.Unlock()
	for _, h := range hooks {
		if h.after != nil {
			h.after()
		}
	}
}
