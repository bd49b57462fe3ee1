package builder

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// SubtaskOptions are the options of Task.Subtask: host.subtask's task
// options. Unset fields take the parent's or the hub's defaults.
type SubtaskOptions struct {
	// Label names the subtask among its siblings: when the parent already
	// has a subtask with this label (it ran before a restart), Subtask
	// returns that one instead of making another.
	Label    string `xmlrpc:"label,omitempty"`
	Arch     string `xmlrpc:"arch,omitempty"`
	Channel  string `xmlrpc:"channel,omitempty"`
	Priority *int   `xmlrpc:"priority,omitempty"`
	// Assign, a host id, assigns the subtask to that host, bypassing
	// the scheduler and the channel (make_task's assign).
	Assign int `xmlrpc:"assign,omitempty"`
	// Kwargs are the subtask's keyword arguments, folded into its
	// parameters by the hub.
	Kwargs map[string]any `xmlrpc:"kwargs,omitempty"`
}

// Subtask creates a subtask of t (host.subtask) running method with args
// and returns its id.
func (t *Task) Subtask(ctx context.Context, method string, args []any, opts *SubtaskOptions) (int, error) {
	if method == "" {
		return 0, errors.New("builder: Subtask needs a method")
	}
	if args == nil {
		args = []any{}
	}
	var id int
	var kwargs any
	if opts != nil {
		kwargs = opts
	}
	if err := t.Client.CallKw(ctx, "host.subtask", &id, []any{method, args, t.ID}, kwargs); err != nil {
		return 0, fmt.Errorf("builder: host.subtask %s: %w", method, err)
	}
	return id, nil
}

// WaitOptions are the options of Task.Wait, those of kojid's
// BaseTaskHandler.wait (§D7).
type WaitOptions struct {
	// Subtasks are the subtasks to wait for; nil means all of t's.
	Subtasks []int
	// All waits until every one has finished; else Wait returns once any
	// has.
	All bool
	// FailAny, with All, stops waiting at the first subtask that fails
	// (and is not in CanFail): the others are canceled and its fault is
	// returned.
	FailAny bool
	// CanFail are subtasks whose failure is not an error: their result
	// is the fault instead.
	CanFail []int
	// Timeout, when positive, cancels the subtasks and fails with a
	// GenericError once this long has passed.
	Timeout time.Duration
}

// A SubtaskResult is the outcome of a finished subtask.
type SubtaskResult struct {
	// Value is the subtask's result, as sent; Decode decodes it.
	Value xmlrpc.RawValue
	// Fault is set for a subtask in CanFail that failed or was canceled.
	Fault *koji.Fault
}

// Decode decodes the subtask's result into v.
func (r SubtaskResult) Decode(v any) error {
	if r.Fault != nil {
		return r.Fault
	}
	return r.Value.Decode(v)
}

// pollInterval is how often Wait polls host.taskWait on a hub without
// host.taskWaitAny, unless the daemon's check sees a subtask finish first.
const pollInterval = time.Second

// longPoll caps each host.taskWaitAny call, so that a timeout is seen.
const longPoll = 60 * time.Second

// Wait waits for subtasks, as kojid's BaseTaskHandler.wait (§D7): it
// marks them awaited (host.taskSetWait), waits with host.taskWaitAny when
// the hub has it and polls host.taskWait otherwise, and returns the
// results of those finished (host.taskWaitResults), by subtask id. While
// it waits the task's weight does not count in the host's load. A
// subtask failing outside CanFail makes it return that fault.
func (t *Task) Wait(ctx context.Context, opts WaitOptions) (map[int]SubtaskResult, error) {
	var subtasks any // nil: all children
	if opts.Subtasks != nil {
		subtasks = opts.Subtasks
	}
	err := retryUncommitted(ctx, func() error { return t.Client.Call(ctx, "host.taskSetWait", nil, t.ID, subtasks) })
	if err != nil {
		return nil, fmt.Errorf("builder: host.taskSetWait: %w", err)
	}
	t.waiting.Store(true)
	defer t.waiting.Store(false)
	var deadline time.Time
	if opts.Timeout > 0 {
		deadline = time.Now().Add(opts.Timeout)
	}
	var finished []int
	for {
		fin, unfin, err := t.waitOnce(ctx, deadline)
		if err != nil {
			return nil, err
		}
		for _, id := range fin {
			if slices.Contains(finished, id) {
				continue
			}
			finished = append(finished, id)
			if opts.All && opts.FailAny && !slices.Contains(opts.CanFail, id) {
				if err := t.Client.GetTaskResult(ctx, id, true, nil); err != nil {
					t.Logger.Info("builder: subtask failed; canceling the others", "subtask", id)
					return nil, errors.Join(err, t.cancelChildren(ctx))
				}
			}
		}
		if len(unfin) == 0 || !opts.All && len(finished) > 0 {
			break
		}
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			err := &koji.Fault{Code: int(koji.ErrGeneric), String: fmt.Sprintf("Subtasks timed out after %g seconds", opts.Timeout.Seconds())}
			return nil, errors.Join(err, t.cancelChildren(ctx))
		}
	}
	var which any = finished
	if opts.All {
		which = subtasks
	}
	return t.results(ctx, which, opts.CanFail)
}

// waitOnce asks once which awaited subtasks have finished: long-polling
// host.taskWaitAny, or after a short sleep host.taskWait.
func (t *Task) waitOnce(ctx context.Context, deadline time.Time) (fin, unfin []int, err error) {
	limit := func(d time.Duration) time.Duration {
		if !deadline.IsZero() {
			d = min(d, time.Until(deadline))
		}
		return max(d, 0)
	}
	var pair []xmlrpc.RawValue
	if t.d.taskWaitAny {
		err = t.Client.Call(ctx, "host.taskWaitAny", &pair, t.ID, limit(longPoll).Seconds())
	} else {
		err = t.Client.Call(ctx, "host.taskWait", &pair, t.ID)
	}
	if err == nil && len(pair) != 2 {
		err = fmt.Errorf("answer of %d members, want [finished, unfinished]", len(pair))
	}
	if err == nil {
		err = errors.Join(pair[0].Decode(&fin), pair[1].Decode(&unfin))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("builder: waiting for subtasks: %w", err)
	}
	if !t.d.taskWaitAny && len(unfin) > 0 && len(fin) == 0 {
		timer := time.NewTimer(limit(pollInterval))
		defer timer.Stop()
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-timer.C:
		case <-t.alert:
		}
	}
	return fin, unfin, nil
}

// retryUncommitted runs call again, up to twice, when the hub answers
// that its transaction did not commit: nothing was done, and the gokoji
// hub on PostgreSQL answers so when host.taskSetWait meets a deadlock
// with a subtask's own calls.
func retryUncommitted(ctx context.Context, call func() error) error {
	for try := 0; ; try++ {
		err := call()
		var f *koji.Fault
		if try == 2 || !errors.As(err, &f) || !strings.Contains(f.String, "the transaction did not commit") {
			return err
		}
		timer := time.NewTimer(time.Duration(try+1) * 50 * time.Millisecond)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
	}
}

// cancelChildren cancels t's subtasks (cancelTaskChildren).
func (t *Task) cancelChildren(ctx context.Context) error {
	cctx, cancel := t.afterContext(ctx)
	defer cancel()
	return t.Client.Call(cctx, "cancelTaskChildren", nil, t.ID)
}

// results collects the results of the finished subtasks (which: a list,
// or nil for all) with host.taskWaitResults.
func (t *Task) results(ctx context.Context, which any, canfail []int) (map[int]SubtaskResult, error) {
	var cf any
	if canfail != nil {
		cf = canfail
	}
	var pairs [][]xmlrpc.RawValue
	if err := t.Client.Call(ctx, "host.taskWaitResults", &pairs, t.ID, which, cf); err != nil {
		return nil, fmt.Errorf("builder: host.taskWaitResults: %w", err)
	}
	out := make(map[int]SubtaskResult, len(pairs))
	for _, p := range pairs {
		var id int
		if len(p) != 2 || p[0].Decode(&id) != nil {
			return nil, errors.New("builder: host.taskWaitResults: an answer not of [id, result] pairs")
		}
		r := SubtaskResult{Value: p[1]}
		if slices.Contains(canfail, id) {
			var f struct {
				Code   *int    `xmlrpc:"faultCode"`
				String *string `xmlrpc:"faultString"`
			}
			if p[1].Decode(&f) == nil && f.Code != nil && f.String != nil {
				r.Fault = &koji.Fault{Code: *f.Code, String: *f.String}
			}
		}
		out[id] = r
	}
	return out, nil
}
