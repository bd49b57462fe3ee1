package hubserver

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// The scheduler's own goroutine, and the wake-ups of long-poll calls.

// A waitKey names something long-poll calls wait for: work for a host
// (hostKey), the subtasks of a task (taskKey), or any new free work
// (workKey).
type waitKey struct {
	kind byte
	id   int64
}

var workKey = waitKey{kind: 'w'}

func hostKey(id int64) waitKey { return waitKey{kind: 'h', id: id} }
func taskKey(id int64) waitKey { return waitKey{kind: 't', id: id} }

// waiters hands out channels closed when something a caller waits for
// happens. Waiters of one key share a channel; notify closes it.
type waiters struct {
	mu sync.Mutex
	m  map[waitKey]*waitEntry
}

type waitEntry struct {
	ch   chan struct{}
	refs int
}

// wait returns a channel closed when one of keys is notified or after
// recheck, whichever comes first: the wake of a parked call, which then
// looks at the database again. cancel ends the wait early (closing the
// channel) and forgets it; a wait ends by itself after recheck at the
// latest.
//
// A call subscribes before it looks at the database, so that no
// notification falls between its look and its wait.
func (w *waiters) wait(recheck time.Duration, keys ...waitKey) (ch <-chan struct{}, cancel func()) {
	w.mu.Lock()
	if w.m == nil {
		w.m = map[waitKey]*waitEntry{}
	}
	entries := make([]*waitEntry, len(keys))
	for i, k := range keys {
		e := w.m[k]
		if e == nil {
			e = &waitEntry{ch: make(chan struct{})}
			w.m[k] = e
		}
		e.refs++
		entries[i] = e
	}
	w.mu.Unlock()

	out := make(chan struct{})
	stop := make(chan struct{})
	var once sync.Once
	fire := func() { once.Do(func() { close(out); close(stop) }) }
	timer := time.AfterFunc(recheck, fire)
	for _, e := range entries {
		go func() {
			select {
			case <-e.ch:
				fire()
			case <-stop:
			}
		}()
	}
	go func() {
		<-stop
		timer.Stop()
		w.release(keys, entries)
	}()
	return out, fire
}

// release drops a waiter's references, forgetting entries no one waits
// on any more.
func (w *waiters) release(keys []waitKey, entries []*waitEntry) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, k := range keys {
		e := entries[i]
		e.refs--
		if e.refs == 0 && w.m[k] == e {
			delete(w.m, k)
		}
	}
}

// notify wakes the waiters of keys.
func (w *waiters) notify(keys ...waitKey) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, k := range keys {
		if e := w.m[k]; e != nil {
			close(e.ch)
			delete(w.m, k)
		}
	}
}

// newScheduler returns the scheduler of k, configured by cfg, with its
// postTaskStateChange callback registered on k.
func newScheduler(k *Koji, cfg SchedulerConfig) (*scheduler, error) {
	log := k.cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &scheduler{k: k, cfg: cfg.withDefaults(), log: log.With("component", "scheduler")}
	if err := k.RegisterCallback("postTaskStateChange", s.taskChanged, CallbackOptions{IgnoreError: true}); err != nil {
		return nil, err
	}
	return s, nil
}

// taskChanged is the scheduler's postTaskStateChange callback: it wakes,
// once the change commits, the long-poll calls the change concerns. Every
// state change of a task goes through it, whoever made it: a new or freed
// task wakes the builders waiting for work, an assignment the builder it
// goes to, a finished subtask its waiting parent.
func (s *scheduler) taskChanged(ctx context.Context, _ string, kw map[string]any) error {
	if kw["attribute"] != "state" {
		return nil
	}
	info, _ := kw["info"].(map[string]any)
	var keys []waitKey
	switch kw["new"] {
	case "FREE":
		keys = append(keys, workKey)
		// make_task announces a task created ASSIGNED as FREE, with the
		// host in its assign option.
		if h, ok := idValue(info["assign"]); ok {
			keys = append(keys, hostKey(h))
		}
	case "ASSIGNED":
		if h, ok := idValue(info["host_id"]); ok {
			keys = append(keys, hostKey(h))
		}
	case "CLOSED", "FAILED", "CANCELED":
		if p, ok := idValue(info["parent"]); ok {
			keys = append(keys, taskKey(p))
		}
	}
	if len(keys) > 0 {
		AfterCommit(ctx, func() { s.waits.notify(keys...) })
	}
	return nil
}

// idValue reads an id from a callback's info.
func idValue(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case *int64:
		if x != nil {
			return *x, true
		}
	}
	return 0, false
}

// start runs the scheduler's goroutine until stop.
func (s *scheduler) start() {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan struct{})
	go s.loop(ctx)
}

// stop ends the goroutine and waits for it.
func (s *scheduler) stop() {
	if s == nil || s.cancel == nil {
		return
	}
	s.cancel()
	<-s.done
	s.cancel = nil
}

// loop runs the scheduler about every RunInterval, as builders asking for
// work would: with the lock and the interval check, so that with several
// hub processes (or builders asking meanwhile) it runs once per interval
// in all. This is what frees the tasks of builders that stopped checking
// in when no builder asks for work.
func (s *scheduler) loop(ctx context.Context) {
	defer close(s.done)
	t := time.NewTimer(s.cfg.RunInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := s.k.inTx(ctx, func(ctx context.Context) error {
			_, err := s.run(ctx, false, true)
			return err
		})
		if err != nil && !errors.Is(err, context.Canceled) {
			s.log.Error("scheduler run failed", "error", err)
		}
		t.Reset(s.nextRun())
	}
}

// nextRun is how long to wait until RunInterval has passed since the last
// run any process made, as far as this one knows.
func (s *scheduler) nextRun() time.Duration {
	s.mu.Lock()
	last := s.lastRun
	s.mu.Unlock()
	interval := s.cfg.RunInterval
	since := time.Duration((pyTS(time.Now()) - last) * float64(time.Second))
	// A little past the interval, so the run is not refused as too early.
	next := interval - since + interval/100
	return min(max(next, interval/20), interval)
}

// inTx runs fn in a transaction of its own, outside any hub call, as a
// call would run: AfterCommit functions registered by fn run once it
// commits and are dropped if it fails. LoggerFrom gives the scheduler's
// logger.
func (k *Koji) inTx(ctx context.Context, fn func(ctx context.Context) error) error {
	tx, err := k.db.Begin(ctx)
	if err != nil {
		return err
	}
	c := &callState{tx: kojiTx{Tx: tx, cs: &callSession{}}}
	tctx := context.WithValue(context.WithValue(ctx, txKey{}, c.tx), callKey{}, c)
	tctx = context.WithValue(tctx, loggerKey{}, k.sched.log)
	err = fn(tctx)
	if err == nil {
		err = c.beforeCommit(tctx, 0)
	}
	if err == nil {
		err = tx.Commit(ctx)
	}
	if err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	c.committed()
	return nil
}
