package builder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/gokoji/gokoji/koji"
)

// A Daemon is a Koji builder: kojid's TaskManager (§D1–D5). It logs in as
// a host with an exclusive session, checks in, takes the tasks the hub
// assigns it and runs each with its Handler on a subsession of its own.
type Daemon struct {
	cfg      Config
	c        *koji.Client
	log      *slog.Logger
	handlers map[string]Handler

	// Set by Start.
	hostID      int
	waitTasks   bool // the hub has host.waitTasks
	taskWaitAny bool // the hub has host.taskWaitAny
	buildroots  bool // the hub has listBuildroots and host.setBuildRootState
	// startTS is when the daemon's session began, in seconds since the
	// epoch by the hub's clock (kojid's start_ts): RestartVerify compares
	// it with when the restart task closed.
	startTS     float64
	mon         *koji.Client
	loopCancel  context.CancelFunc
	loopDone    chan struct{}
	monitorDone chan struct{}

	mu       sync.Mutex
	started  bool
	stopping bool
	restart  bool
	running  map[int]*Task // taken tasks; nil while being opened
	err      error         // why the main loop ended
	tasks    sync.WaitGroup
	wakeCh   chan struct{} // a task ended: the loop may take another
	stopOnce sync.Once
	stopErr  error

	// halt ends StopTimeout after Stop begins (or when Stop's context
	// does, or Stop returns): the tasks' last calls end with it.
	halt       context.Context
	haltCancel context.CancelFunc
}

// errStopping is the cause of the contexts of tasks stopped by Stop.
var errStopping = errors.New("builder: daemon stopping")

// New returns a daemon with cfg running the given handlers.
func New(cfg Config, handlers ...Handler) (*Daemon, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	d := &Daemon{cfg: cfg, c: cfg.Client, log: cfg.Logger, handlers: map[string]Handler{},
		running: map[int]*Task{}, wakeCh: make(chan struct{}, 1)}
	d.halt, d.haltCancel = context.WithCancel(context.Background())
	for _, h := range handlers {
		if err := d.Register(h); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// Register adds a handler for its methods; it must come before Start.
func (d *Daemon) Register(h Handler) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.started {
		return errors.New("builder: Register after Start")
	}
	if h == nil || len(h.Methods()) == 0 {
		return errors.New("builder: a handler needs at least one method")
	}
	for _, m := range h.Methods() {
		if _, dup := d.handlers[m]; dup {
			return fmt.Errorf("builder: two handlers for method %q", m)
		}
	}
	for _, m := range h.Methods() {
		d.handlers[m] = h
	}
	return nil
}

// Methods are the methods the daemon has handlers for, sorted.
func (d *Daemon) Methods() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	ms := make([]string, 0, len(d.handlers))
	for m := range d.handlers {
		ms = append(ms, m)
	}
	slices.Sort(ms)
	return ms
}

// HostID is the host's id, known once Start has logged in.
func (d *Daemon) HostID() int { return d.hostID }

// Run starts the daemon and runs it until ctx ends or it stops on its
// own, then stops it gracefully: it waits up to a minute for the
// handlers, whose contexts end, and their last calls and the daemon's
// end within Config.StopTimeout each, so that a stop with the hub gone
// takes seconds. It returns nil after ctx ended, ErrRestart when a
// handler asked for a restart, or the error that stopped it, joined
// with what the stop could not do.
func (d *Daemon) Run(ctx context.Context) error {
	if err := d.Start(ctx); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case <-d.loopDone:
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), runStopWait+d.cfg.StopTimeout)
	defer cancel()
	stopErr := d.Stop(stopCtx)
	d.mu.Lock()
	err := d.err
	d.mu.Unlock()
	return errors.Join(err, stopErr)
}

// Start logs in, makes the session exclusive, frees the tasks the hub
// thinks this host runs (left by an earlier run), and starts taking
// tasks. ctx bounds the start only; the daemon runs until Stop.
func (d *Daemon) Start(ctx context.Context) error {
	d.mu.Lock()
	if d.started {
		d.mu.Unlock()
		return errors.New("builder: daemon already started")
	}
	d.started = true
	d.mu.Unlock()
	if err := d.start(ctx); err != nil {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.cfg.StopTimeout)
		defer cancel()
		_ = d.c.Logout(lctx)
		return err
	}
	return nil
}

// runStopWait is how long Run waits for the handlers when it stops.
const runStopWait = time.Minute

func (d *Daemon) start(ctx context.Context) error {
	if err := d.c.Login(ctx, d.cfg.Auth); err != nil {
		return fmt.Errorf("builder: login: %w", err)
	}
	if err := d.c.Exclusive(ctx, d.cfg.ForceLock); err != nil {
		if errors.Is(err, koji.ErrAuthLock) {
			return fmt.Errorf("builder: another exclusive session holds this host (set ForceLock to take over): %w", err)
		}
		return fmt.Errorf("builder: exclusiveSession: %w", err)
	}
	host := d.c.HostAPI()
	var err error
	if d.hostID, err = host.ID(ctx); err != nil {
		return fmt.Errorf("builder: host.getID: %w", err)
	}
	var methods []string
	if err := d.c.Call(ctx, "system.listMethods", &methods); err != nil {
		return fmt.Errorf("builder: system.listMethods: %w", err)
	}
	d.waitTasks = slices.Contains(methods, "host.waitTasks")
	d.taskWaitAny = slices.Contains(methods, "host.taskWaitAny")
	d.buildroots = slices.Contains(methods, "listBuildroots") && slices.Contains(methods, "host.setBuildRootState")
	var session struct {
		StartTS *float64 `xmlrpc:"start_ts"`
	}
	if err := d.c.Call(ctx, "getSessionInfo", &session); err != nil {
		return fmt.Errorf("builder: getSessionInfo: %w", err)
	}
	if session.StartTS != nil {
		d.startTS = *session.StartTS
	} else {
		d.startTS = float64(time.Now().UnixMicro()) / 1e6
	}
	if err := os.MkdirAll(d.cfg.WorkDir, 0o755); err != nil {
		return fmt.Errorf("builder: workdir: %w", err)
	}
	// Nothing runs yet: every task the hub thinks is open here is stale.
	open, err := host.OpenTasks(ctx)
	if err != nil {
		return fmt.Errorf("builder: host.getHostTasks: %w", err)
	}
	if err := d.freeStale(ctx, d.c, open); err != nil {
		return err
	}
	if d.mon, err = d.c.Subsession(ctx); err != nil {
		return fmt.Errorf("builder: subsession for the task monitor: %w", err)
	}
	d.log.Info("builder: started", "host_id", d.hostID, "methods", d.Methods(),
		"waitTasks", d.waitTasks, "taskWaitAny", d.taskWaitAny)
	loopCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	d.loopCancel = cancel
	d.loopDone = make(chan struct{})
	d.monitorDone = make(chan struct{})
	go d.loop(loopCtx)
	go d.monitor(loopCtx)
	return nil
}

// freeStale frees the open tasks that this daemon does not run.
func (d *Daemon) freeStale(ctx context.Context, c *koji.Client, open []koji.HostTask) error {
	var stale []int
	d.mu.Lock()
	for _, t := range open {
		if _, ok := d.running[t.ID]; !ok {
			stale = append(stale, t.ID)
		}
	}
	d.mu.Unlock()
	if len(stale) == 0 {
		return nil
	}
	d.log.Warn("builder: freeing stale tasks", "tasks", stale)
	if err := freeTasks(ctx, c, stale); err != nil {
		return fmt.Errorf("builder: host.freeTasks: %w", err)
	}
	return nil
}

// Stop stops the daemon gracefully, as kojid's shutdown: it takes no more
// tasks, stops the running handlers (their contexts end) and waits for
// them, frees their tasks with host.freeTasks so that the hub gives them
// to another builder, checks in as not ready and logs out. Its hub calls
// are bounded by Config.StopTimeout (see there) and by ctx: the wait for
// the handlers ends StopTimeout before ctx's deadline, keeping that time
// for the calls after it, which a ctx canceled ends at once. It may be
// called more than once; later calls return the first's result.
func (d *Daemon) Stop(ctx context.Context) error {
	d.mu.Lock()
	started := d.started && d.loopDone != nil
	d.mu.Unlock()
	if !started {
		return errors.New("builder: daemon not started")
	}
	d.stopOnce.Do(func() { d.stopErr = d.stop(ctx) })
	return d.stopErr
}

func (d *Daemon) stop(ctx context.Context) error {
	defer d.haltCancel()
	haltTimer := time.AfterFunc(d.cfg.StopTimeout, d.haltCancel)
	defer haltTimer.Stop()
	defer context.AfterFunc(ctx, d.haltCancel)()
	d.mu.Lock()
	d.stopping = true
	for _, t := range d.running {
		if t != nil {
			t.cancel(errStopping)
		}
	}
	d.mu.Unlock()
	d.loopCancel()
	done := make(chan struct{})
	go func() { d.tasks.Wait(); <-d.loopDone; <-d.monitorDone; close(done) }()
	waitCtx := ctx
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		waitCtx, cancel = context.WithDeadline(ctx, deadline.Add(-d.cfg.StopTimeout))
		defer cancel()
	}
	var errs []error
	select {
	case <-done:
	case <-waitCtx.Done():
		errs = append(errs, fmt.Errorf("builder: handlers still running at shutdown: %w", waitCtx.Err()))
	}
	// The hub may be gone: these calls get StopTimeout in all, retries
	// included, instead of the minutes a client's retries last.
	ctx, cancel := context.WithTimeoutCause(ctx, d.cfg.StopTimeout, ErrStopTimeout)
	defer cancel()
	host := d.c.HostAPI()
	if open, err := host.OpenTasks(ctx); err != nil {
		errs = append(errs, fmt.Errorf("builder: host.getHostTasks: %w", err))
	} else if len(open) > 0 {
		ids := make([]int, len(open))
		for i, t := range open {
			ids[i] = t.ID
		}
		d.log.Info("builder: freeing running tasks", "tasks", ids)
		if err := freeTasks(ctx, d.c, ids); err != nil {
			errs = append(errs, fmt.Errorf("builder: host.freeTasks: %w", err))
		}
	}
	if err := host.UpdateHost(ctx, 0, false, nil); err != nil {
		errs = append(errs, fmt.Errorf("builder: host.updateHost: %w", err))
	}
	if err := d.c.Logout(ctx); err != nil {
		errs = append(errs, fmt.Errorf("builder: logout: %w", err))
	}
	if errors.Is(context.Cause(ctx), ErrStopTimeout) {
		errs = append(errs, fmt.Errorf("%w (%v)", ErrStopTimeout, d.cfg.StopTimeout))
	}
	d.log.Info("builder: stopped")
	return errors.Join(errs...)
}

// ErrStopTimeout is in Stop's error when the hub did not answer its calls
// within Config.StopTimeout (it is gone, or too slow): the tasks may not
// be freed, nor the session closed.
var ErrStopTimeout = errors.New("builder: the hub did not answer within StopTimeout")

// loop is kojid's main loop (§D2): check in, take a task, and when none
// was taken wait for one.
func (d *Daemon) loop(ctx context.Context) {
	defer close(d.loopDone)
	for ctx.Err() == nil {
		if d.restartDue() {
			d.fatal(ErrRestart)
			return
		}
		taken, waited, err := d.cycle(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, koji.ErrAuth):
			// Expired sessions are renewed by the client; this one was
			// closed or refused (another daemon forced the lock): exit as
			// kojid does.
			d.fatal(fmt.Errorf("builder: session lost: %w", err))
			return
		case err != nil:
			d.log.Error("builder: main loop", "error", err.Error())
		}
		switch {
		case taken:
		case waited:
			d.sleep(ctx, 500*time.Millisecond) // offered tasks it could not take
		default:
			d.sleep(ctx, d.cfg.SleepTime)
		}
	}
}

// sleep waits d, until ctx ends or a task ends.
func (d *Daemon) sleep(ctx context.Context, dur time.Duration) {
	t := time.NewTimer(dur)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	case <-d.wakeCh:
	}
}

func (d *Daemon) fatal(err error) {
	d.mu.Lock()
	if d.err == nil {
		d.err = err
	}
	d.mu.Unlock()
}

// RequestRestart makes the daemon restart once idle, as kojid's
// restart_pending (set by its restart task, or SIGUSR1): it takes no more
// tasks, and once the running ones end Run returns ErrRestart.
func (d *Daemon) RequestRestart() {
	d.mu.Lock()
	d.restart = true
	d.mu.Unlock()
	select {
	case d.wakeCh <- struct{}{}:
	default:
	}
}

// RestartPending reports whether the daemon is to restart once idle
// (RequestRestart, or a handler's ErrRestart).
func (d *Daemon) RestartPending() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.restart
}

func (d *Daemon) restartDue() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.restart && len(d.running) == 0
}

// cycle is kojid's getNextTask (§D4): the check-in with the load and
// readiness, then the assigned tasks, taking the first it can. waited
// reports that host.waitTasks waited (or answered tasks), so the loop
// need not sleep.
func (d *Daemon) cycle(ctx context.Context) (taken, waited bool, err error) {
	load, n := d.load()
	ready, why, err := d.ready(ctx, load, n)
	if err != nil {
		return false, false, err
	}
	data := map[string]any{"methods": d.Methods(), "maxjobs": d.cfg.MaxJobs}
	if err := d.c.HostAPI().UpdateHost(ctx, load, ready, data); err != nil {
		return false, false, fmt.Errorf("host.updateHost: %w", err)
	}
	if !ready {
		d.log.Debug("builder: not ready", "reason", why)
		return false, false, nil
	}
	var tasks []*koji.Task
	if d.waitTasks {
		tasks, err = waitTasks(ctx, d.c, d.cfg.SleepTime)
	} else {
		tasks, err = d.c.HostAPI().Tasks(ctx)
	}
	if err != nil {
		return false, false, fmt.Errorf("getting tasks: %w", err)
	}
	waited = d.waitTasks
	for _, t := range tasks {
		if t.State != koji.TaskAssigned || t.HostID == nil || *t.HostID != d.hostID || d.isRunning(t.ID) {
			continue
		}
		ok, err := d.take(ctx, t)
		if err != nil {
			if ctx.Err() != nil {
				return false, waited, err
			}
			d.log.Error("builder: taking task", "task_id", t.ID, "method", t.Method, "error", err.Error())
			continue
		}
		if ok {
			return true, waited, nil
		}
	}
	return false, waited, nil
}

func (d *Daemon) isRunning(id int) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.running[id]
	return ok
}

// load is the weight of the running tasks not waiting for subtasks, and
// how many run.
func (d *Daemon) load() (float64, int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var load float64
	for _, t := range d.running {
		if t != nil && !t.waiting.Load() {
			load += t.weight
		}
	}
	return load, len(d.running)
}
