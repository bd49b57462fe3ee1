package builder

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/gokoji/gokoji/koji"
)

// ready is kojid's readyForTask (§D4): enabled, load within capacity,
// fewer than maxjobs tasks, enough free space, load average not too high,
// no restart pending. why says what is missing.
func (d *Daemon) ready(ctx context.Context, load float64, n int) (ok bool, why string, err error) {
	host, err := d.c.HostAPI().Host(ctx)
	if err != nil {
		return false, "", fmt.Errorf("host.getHost: %w", err)
	}
	d.mu.Lock()
	restart := d.restart
	d.mu.Unlock()
	switch {
	case restart:
		return false, "restart pending", nil
	case host == nil || !host.Enabled:
		return false, "host disabled", nil
	case load > host.Capacity:
		return false, fmt.Sprintf("task load %g over capacity %g", load, host.Capacity), nil
	case n >= d.cfg.MaxJobs:
		return false, fmt.Sprintf("%d tasks running (maxjobs %d)", n, d.cfg.MaxJobs), nil
	}
	if d.cfg.MinSpace > 0 {
		if free, ok := freeMiB(d.cfg.WorkDir); ok && free < d.cfg.MinSpace {
			return false, fmt.Sprintf("%d MiB free in %s (minspace %d)", free, d.cfg.WorkDir, d.cfg.MinSpace), nil
		}
	}
	maxLoad := d.cfg.MaxLoad
	if maxLoad == 0 {
		maxLoad = 4 * float64(runtime.NumCPU())
	}
	if maxLoad > 0 {
		if avg, ok := loadAverage(); ok && avg > maxLoad {
			return false, fmt.Sprintf("load average %g over %g", avg, maxLoad), nil
		}
	}
	return true, "", nil
}

// loadAvgFile is where loadAverage reads; tests point it elsewhere.
var loadAvgFile = "/proc/loadavg"

// loadAverage is the 1-minute load average, where /proc tells it.
func loadAverage() (float64, bool) {
	data, err := os.ReadFile(loadAvgFile)
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return 0, false
	}
	v, err := strconv.ParseFloat(f[0], 64)
	return v, err == nil
}

// take is kojid's takeTask (§D4): refuse a task without a handler, else
// open it, set its weight, and run it on a subsession of its own, in a
// goroutine, or for a Foreground handler before taking another task.
func (d *Daemon) take(ctx context.Context, info *koji.Task) (bool, error) {
	d.mu.Lock()
	h := d.handlers[info.Method]
	if d.stopping || d.restart {
		// A restart requested since the check-in (by a task running
		// meanwhile): take nothing more.
		d.mu.Unlock()
		return false, nil
	}
	if h != nil {
		d.running[info.ID] = nil // reserved: not stale while it opens
	}
	d.mu.Unlock()
	if h == nil {
		d.log.Warn("builder: refusing task with no handler", "task_id", info.ID, "method", info.Method)
		return false, refuseTask(ctx, d.c, info.ID, false, "no handler for method")
	}
	t, err := d.open(ctx, info.ID, h)
	d.mu.Lock()
	if t == nil || d.stopping {
		delete(d.running, info.ID)
		d.mu.Unlock()
		if t != nil { // stopping: Stop frees it
			lctx, cancel := t.afterContext(ctx)
			_ = t.Client.Logout(lctx)
			cancel()
		}
		return false, err
	}
	taskCtx, cancel := context.WithCancelCause(context.Background())
	t.cancel = cancel
	d.running[t.ID] = t
	d.tasks.Add(1)
	d.mu.Unlock()
	if f, ok := h.(Foreground); ok && f.Foreground() {
		d.run(taskCtx, t)
	} else {
		go d.run(taskCtx, t)
	}
	return true, nil
}

// open opens the task, sets its weight and gives it a subsession; nil
// when it did not open or is no longer this host's.
func (d *Daemon) open(ctx context.Context, id int, h Handler) (*Task, error) {
	host := d.c.HostAPI()
	info, err := host.OpenTask(ctx, id)
	if err != nil || info == nil {
		return nil, err
	}
	t, err := newTask(d, info, h)
	if err != nil {
		return nil, errors.Join(err, host.FailTask(ctx, id, &koji.Fault{Code: int(koji.ErrParameter), String: err.Error()}))
	}
	t.Logger = d.log.With("task_id", t.ID, "method", t.Method)
	t.WorkDir = filepath.Join(d.cfg.WorkDir, t.UploadDir())
	if t.weight, err = weigh(h, t); err != nil {
		return nil, errors.Join(err, host.FailTask(ctx, id, &koji.Fault{Code: int(koji.ErrGeneric), String: err.Error()}))
	}
	if err := host.SetTaskWeight(ctx, id, t.weight); err != nil {
		if errors.Is(err, koji.ErrActionNotAllowed) {
			return nil, nil // reassigned or no longer open meanwhile
		}
		return nil, errors.Join(err, freeTasks(ctx, d.c, []int{id}))
	}
	if t.Client, err = d.c.Subsession(ctx); err != nil {
		return nil, errors.Join(err, freeTasks(ctx, d.c, []int{id}))
	}
	t.Logger.Info("builder: task opened", "weight", t.weight)
	return t, nil
}

// weigh asks the handler for the task's weight, which must be a number
// of at least zero.
func weigh(h Handler, t *Task) (w float64, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("task %d: the handler's Weight panicked: %v", t.ID, v)
		}
	}()
	w = h.Weight(t)
	if !(w >= 0) || w > 1e9 {
		return 0, fmt.Errorf("task %d: the handler's weight %v is not a weight", t.ID, w)
	}
	return w, nil
}

// reportTimeout bounds the calls that report how a task ended, from
// when the task is done.
var reportTimeout = time.Minute

// afterContext is the context of the calls a task makes once ctx ended
// or it is done (expiring its buildroot, sending its logs, reporting its
// end, logging out its subsession): ctx's values without its end, ending
// after reportTimeout, or when the daemon's stop allows no more (see
// Config.StopTimeout), so that a hub gone cannot hold the stop up.
func (t *Task) afterContext(ctx context.Context) (context.Context, context.CancelFunc) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), reportTimeout)
	unhook := context.AfterFunc(t.d.halt, cancel)
	return actx, func() { unhook(); cancel() }
}

// run runs an opened task and reports how it ended (kojid's runTask,
// §D5).
func (d *Daemon) run(ctx context.Context, t *Task) {
	defer d.tasks.Done()
	defer func() {
		lctx, cancel := t.afterContext(context.Background())
		defer cancel()
		if err := t.Client.Logout(lctx); err != nil {
			t.Logger.Warn("builder: logging out the task's subsession", "error", err.Error())
		}
		d.mu.Lock()
		delete(d.running, t.ID)
		d.mu.Unlock()
		select {
		case d.wakeCh <- struct{}{}:
		default:
		}
	}()
	result, err := d.runHandler(ctx, t)
	if ctx.Err() != nil {
		// The hub canceled or reassigned the task, or the daemon stops
		// (and frees it): there is nothing to report.
		t.Logger.Info("builder: task stopped", "cause", context.Cause(ctx).Error())
		return
	}
	// The report's bound starts now: a task may run for hours.
	rctx, cancel := t.afterContext(context.Background())
	defer cancel()
	if err := d.report(rctx, t, result, err); err != nil {
		t.Logger.Error("builder: reporting the task's end", "error", err.Error())
	}
}

// runHandler makes the task's directory, runs the handler, sends its logs
// and removes the directory.
func (d *Daemon) runHandler(ctx context.Context, t *Task) (any, error) {
	if err := os.RemoveAll(t.WorkDir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(t.WorkDir, 0o755); err != nil {
		return nil, err
	}
	defer os.RemoveAll(t.WorkDir)
	t.Logger.Info("builder: running task")
	result, err := handle(ctx, t.handler, t)
	lctx, cancel := t.afterContext(ctx)
	defer cancel()
	if lerr := t.closeLogs(lctx); lerr != nil && err == nil {
		err = lerr
	}
	return result, err
}

// report ends the task as the handler's result or error says. It calls
// on the task's own subsession, as a kojid task process does: the
// daemon's session may be held by host.waitTasks for up to SleepTime.
func (d *Daemon) report(ctx context.Context, t *Task, result any, err error) error {
	host := t.Host()
	var refuse *RefuseError
	var p *panicError
	switch {
	case err == nil:
		t.Logger.Info("builder: task done")
		cerr := host.CloseTask(ctx, t.ID, result)
		var f *koji.Fault
		if cerr != nil && !errors.As(cerr, &f) && ctx.Err() == nil {
			// The result could not be encoded: fail the task with why.
			return errors.Join(cerr, host.FailTask(ctx, t.ID, &koji.Fault{Code: int(koji.ErrGeneric),
				String: fmt.Sprintf("cannot encode the task's result: %v", cerr)}))
		}
		return cerr
	case errors.As(err, &refuse):
		t.Logger.Info("builder: task refused", "soft", refuse.Soft, "msg", refuse.Msg)
		return refuseTask(ctx, t.Client, t.ID, refuse.Soft, refuse.Msg)
	case errors.Is(err, ErrRestart):
		t.Logger.Info("builder: restart requested; freeing the task")
		d.RequestRestart()
		return freeTasks(ctx, t.Client, []int{t.ID})
	case errors.As(err, &p):
		t.Logger.Error("builder: handler panicked", "panic", fmt.Sprint(p.value))
		return host.FailTask(ctx, t.ID, panicFault(p))
	default:
		t.Logger.Info("builder: task failed", "error", err.Error())
		return host.FailTask(ctx, t.ID, taskFault(t, err))
	}
}

// monitor compares, every CheckInterval, the running tasks with what the
// hub says (kojid's updateTasks, §D3): it stops the handlers of tasks
// canceled or given to another host, frees tasks open on the hub that
// run nowhere here, and wakes the waits whose subtasks finished. It also
// expires the host's buildroots whose tasks no longer run (kojid's
// updateBuildroots).
func (d *Daemon) monitor(ctx context.Context) {
	defer close(d.monitorDone)
	tick := time.NewTicker(d.cfg.CheckInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := d.check(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("builder: checking tasks", "error", err.Error())
		}
	}
}

func (d *Daemon) check(ctx context.Context) error {
	// The buildroots are listed before the open tasks: a buildroot's task
	// opened before it was made, so a task open now is in the list.
	brs, brErr := d.activeBuildroots(ctx)
	open, err := d.mon.HostAPI().OpenTasks(ctx)
	if err != nil {
		return fmt.Errorf("host.getHostTasks: %w", err)
	}
	onHub := make(map[int]bool, len(open))
	d.mu.Lock()
	for _, o := range open {
		onHub[o.ID] = true
		if t := d.running[o.ID]; t != nil && o.Alert {
			t.wake()
		}
	}
	var gone []*Task
	for id, t := range d.running {
		if t != nil && !onHub[id] {
			gone = append(gone, t)
		}
	}
	d.mu.Unlock()
	if err := d.freeStale(ctx, d.mon, open); err != nil {
		return err
	}
	// A buildroot that cannot be expired now is tried again next time;
	// the tasks are looked at all the same.
	brErr = errors.Join(brErr, d.expireBuildroots(ctx, brs, open))
	for _, t := range gone {
		info, err := d.mon.GetTaskInfo(ctx, t.ID, nil)
		if err != nil {
			return fmt.Errorf("getTaskInfo: %w", err)
		}
		var why string
		switch {
		case info == nil:
			why = "task deleted"
		case info.State == koji.TaskCanceled:
			why = "task canceled"
		case info.HostID == nil || *info.HostID != d.hostID:
			why = "task given to another host"
		case info.State == koji.TaskFailed:
			why = "task failed"
		default:
			continue // lingering: closing, or its open state not yet seen
		}
		t.Logger.Info("builder: stopping task", "reason", why)
		t.cancel(errors.New(why))
	}
	return brErr
}
