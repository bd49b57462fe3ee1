package hubserver

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gokoji/gokoji/internal/store"
)

// SchedulerConfig configures the hub-side task scheduler (upstream's
// kojihub/scheduler.py, with the hub.conf options of the same names). Zero
// fields take upstream's defaults.
type SchedulerConfig struct {
	// MaxJobs is how many tasks a host runs at once unless it reports its
	// own maxjobs in host.updateHost's data; default 15.
	MaxJobs int
	// CapacityOvercommit lets a task heavier than a host's free capacity
	// go to it by this much; default 5.
	CapacityOvercommit float64
	// ReadyTimeout drops the ready flag of a host that has not called
	// host.updateHost for this long; default 180s.
	ReadyTimeout time.Duration
	// AssignTimeout frees a task its host has not opened for this long
	// after the assignment; default 300s.
	AssignTimeout time.Duration
	// SoftRefusalTimeout is how long a soft refusal keeps a task from a
	// host; default 900s.
	SoftRefusalTimeout time.Duration
	// HostTimeout frees the open tasks of a host that has not called
	// host.updateHost for this long; default 900s.
	HostTimeout time.Duration
	// RunInterval is the least time between two runs of the scheduler
	// triggered by builders asking for work; default 60s. The Koji also
	// runs it about this often on its own, so tasks of builders that stop
	// checking in are freed even when no builder asks for work.
	RunInterval time.Duration

	// MaxWait caps the timeout of the long-poll methods host.waitTasks and
	// host.taskWaitAny; default 90s, and never more than half of
	// ReadyTimeout, since a builder waiting in host.waitTasks does not
	// check in meanwhile.
	MaxWait time.Duration
	// WaitRecheck is how often a waiting long-poll call looks at the
	// database again, which bounds how late it learns of work committed by
	// another hub process sharing the database; default 2s. Work committed
	// through this Koji wakes it at once.
	WaitRecheck time.Duration
}

// Upstream's defaults of the scheduler options.
const (
	DefaultMaxJobs            = 15
	DefaultCapacityOvercommit = 5
	DefaultReadyTimeout       = 180 * time.Second
	DefaultAssignTimeout      = 300 * time.Second
	DefaultSoftRefusalTimeout = 900 * time.Second
	DefaultHostTimeout        = 900 * time.Second
	DefaultRunInterval        = 60 * time.Second
	DefaultMaxWait            = 90 * time.Second
	DefaultWaitRecheck        = 2 * time.Second
)

// withDefaults returns c with its zero fields set to the defaults.
func (c SchedulerConfig) withDefaults() SchedulerConfig {
	set := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	if c.MaxJobs <= 0 {
		c.MaxJobs = DefaultMaxJobs
	}
	if c.CapacityOvercommit == 0 {
		c.CapacityOvercommit = DefaultCapacityOvercommit
	}
	set(&c.ReadyTimeout, DefaultReadyTimeout)
	set(&c.AssignTimeout, DefaultAssignTimeout)
	set(&c.SoftRefusalTimeout, DefaultSoftRefusalTimeout)
	set(&c.HostTimeout, DefaultHostTimeout)
	set(&c.RunInterval, DefaultRunInterval)
	set(&c.MaxWait, DefaultMaxWait)
	set(&c.WaitRecheck, DefaultWaitRecheck)
	c.MaxWait = min(c.MaxWait, c.ReadyTimeout/2)
	return c
}

// A scheduler is a Koji's task scheduler: its settings, the goroutine
// that runs it periodically, and the wake-ups of long-poll calls.
type scheduler struct {
	k     *Koji
	cfg   SchedulerConfig
	log   *slog.Logger
	waits waiters

	// parked keeps the state of each long-poll request across the
	// re-runs of its parked call.
	parked sync.Map // *http.Request -> *parkState

	mu      sync.Mutex
	lastRun float64 // last_run_ts as this process last saw it

	cancel context.CancelFunc
	done   chan struct{}
}

// schedLockName is the locks row the scheduler holds while it runs.
const schedLockName = "scheduler"

// freeTaskLimit is how many FREE tasks one run considers, as upstream.
const freeTaskLimit = 1000

// A schedHost is a host during one run, with upstream's _load, _ntasks,
// _demand, _maxjobs and _rank.
type schedHost struct {
	store.SchedHost
	updateTS *float64
	load     float64
	ntasks   int
	demand   float64
	maxjobs  int
	rank     float64
}

// schedTask is a task during one run: its bin and candidate hosts.
type schedTask struct {
	store.SchedTask
	bin   string
	hosts []*schedHost
}

// schedRun is the state of one run, as upstream's TaskScheduler object.
type schedRun struct {
	s      *scheduler
	now    float64
	active []*schedTask
	free   []*schedTask
	hosts  map[int64]*schedHost
	order  []*schedHost // hosts in id order
	bins   map[string][]*schedHost
}

// run is upstream's TaskScheduler.run in the transaction of ctx: it takes
// the scheduler lock (waiting for it when wait, else giving up when
// another run holds it), unless checkInterval is false skips runs closer
// than RunInterval to the last one, then assigns free tasks and checks the
// active ones. It reports whether it ran. Upstream's force is wait with
// checkInterval false.
//
// This lock is how several hub processes share one database's task queue:
// tasks are assigned only by a run, and one run at a time holds the lock
// (SELECT … FOR UPDATE NOWAIT on PostgreSQL), so no two hubs hand out the
// same task or overcommit a host, and a hub that finds the lock taken goes
// on at once instead of waiting. Per-row SKIP LOCKED dequeueing would let
// hubs assign concurrently but each against a stale view of the hosts'
// load. Opening a task locks its row, so a free task that an older
// builder opens directly (the host.getLoadData path) is still taken once.
func (s *scheduler) run(ctx context.Context, wait, checkInterval bool) (bool, error) {
	tx := storeTx(ctx)
	if ok, err := tx.Lock(ctx, schedLockName, wait); err != nil || !ok {
		return false, err
	}
	if checkInterval {
		if ok, err := s.checkTS(ctx); err != nil || !ok {
			return false, err
		}
	}
	s.logger(ctx).Info("Running task scheduler")
	r := &schedRun{s: s, now: pyTS(time.Now())}
	if err := r.getTasks(ctx); err != nil {
		return false, err
	}
	if err := r.getHosts(ctx); err != nil {
		return false, err
	}
	if err := r.checkHosts(ctx); err != nil {
		return false, err
	}
	if err := r.doSchedule(ctx); err != nil {
		return false, err
	}
	if err := r.checkActiveTasks(ctx); err != nil {
		return false, err
	}
	return true, nil
}

// logger is the call's logger in a call, else the scheduler's.
func (s *scheduler) logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return s.log
}

// checkTS is upstream's check_ts: whether RunInterval has passed since
// last_run_ts, which it then sets to now. A last run in the future (the
// clock went back) skips this run but resets the time.
func (s *scheduler) checkTS(ctx context.Context) (bool, error) {
	tx := storeTx(ctx)
	raw, ok, err := tx.SchedulerSysData(ctx, "last_run_ts")
	if err != nil {
		return false, err
	}
	var last float64
	if ok {
		// A value that is not a number counts as no run, as upstream's
		// "or 0" treats a false one.
		_ = json.Unmarshal([]byte(raw), &last)
	}
	now := pyTS(time.Now())
	delta := now - last
	ret := true
	switch {
	case delta < 0:
		s.logger(ctx).Error(fmt.Sprintf("Last run in the future by %d seconds", int64(-delta)))
		ret = false
	case delta < s.cfg.RunInterval.Seconds():
		s.logger(ctx).Debug("Skipping run due to run_interval setting")
		s.setLastRun(last)
		return false, nil
	}
	if err := tx.SetSchedulerSysData(ctx, "last_run_ts", strconv.FormatFloat(now, 'f', -1, 64)); err != nil {
		return false, err
	}
	s.setLastRun(now)
	return ret, nil
}

func (s *scheduler) setLastRun(ts float64) {
	s.mu.Lock()
	s.lastRun = ts
	s.mu.Unlock()
}

// logBoth is upstream's log_both: the message goes to the log and to
// scheduler_log_messages.
func (s *scheduler) logBoth(ctx context.Context, level slog.Level, msg string, taskID, hostID *int64) error {
	var prefix strings.Builder
	if taskID != nil && *taskID != 0 {
		fmt.Fprintf(&prefix, "[task_id=%d] ", *taskID)
	}
	if hostID != nil && *hostID != 0 {
		fmt.Fprintf(&prefix, "[host_id=%d] ", *hostID)
	}
	s.logger(ctx).Log(ctx, level, prefix.String()+msg)
	return storeTx(ctx).AddSchedulerLog(ctx, taskID, hostID, msg)
}

// setRefusal is upstream's set_refusal: the host refuses (or is refused)
// the task, logged.
func (s *scheduler) setRefusal(ctx context.Context, hostID, taskID int64, soft, byHost bool, msg string) error {
	if err := storeTx(ctx).SetTaskRefusal(ctx, taskID, hostID, soft, byHost, msg); err != nil {
		return err
	}
	return s.logBoth(ctx, slog.LevelInfo, "Host refused task: "+msg, &taskID, &hostID)
}

// assign is upstream's TaskScheduler.assign: the task goes to the host
// (FREE to ASSIGNED, or any state with force) and, unless override, gets
// an active run, which lets the scheduler time the assignment out.
func (s *scheduler) assign(ctx context.Context, taskID, hostID int64, force, override bool) (bool, error) {
	ok, err := s.k.assignTask(ctx, taskID, hostID, force)
	if err != nil {
		return false, err
	}
	if !ok {
		return false, s.logBoth(ctx, slog.LevelInfo, "Assignment failed", &taskID, &hostID)
	}
	msg := "Assigning task"
	if override {
		msg = "Assigning task (override)"
	}
	if err := s.logBoth(ctx, slog.LevelInfo, msg, &taskID, &hostID); err != nil {
		return false, err
	}
	tx := storeTx(ctx)
	if override {
		err = tx.EndTaskRuns(ctx, taskID)
	} else {
		_, err = tx.AddTaskRun(ctx, taskID, hostID)
	}
	if err != nil {
		return false, err
	}
	return true, nil
}

// getTasks loads the active (ASSIGNED or OPEN with a host) and the free
// tasks, each in its bin "<channel_id>:<arch>".
func (r *schedRun) getTasks(ctx context.Context) error {
	tx := storeTx(ctx)
	active, err := tx.SchedulerActiveTasks(ctx)
	if err != nil {
		return err
	}
	free, err := tx.SchedulerFreeTasks(ctx, freeTaskLimit)
	if err != nil {
		return err
	}
	wrap := func(ts []store.SchedTask) []*schedTask {
		out := make([]*schedTask, len(ts))
		for i, t := range ts {
			out[i] = &schedTask{SchedTask: t, bin: fmt.Sprintf("%d:%s", t.ChannelID, t.Arch)}
		}
		return out
	}
	r.active, r.free = wrap(active), wrap(free)
	return nil
}

// getHosts loads the enabled hosts and puts each in the bins of its
// channels and arches (noarch included).
func (r *schedRun) getHosts(ctx context.Context) error {
	hosts, err := storeTx(ctx).SchedulerHosts(ctx)
	if err != nil {
		return err
	}
	r.hosts = make(map[int64]*schedHost, len(hosts))
	r.bins = map[string][]*schedHost{}
	for _, h := range hosts {
		sh := &schedHost{SchedHost: h}
		if h.UpdateTime != nil {
			ts := pyTS(*h.UpdateTime)
			sh.updateTS = &ts
		}
		r.hosts[h.ID] = sh
		r.order = append(r.order, sh)
		for _, ch := range h.Channels {
			for _, arch := range append(strings.Fields(h.Arches), "noarch") {
				bin := fmt.Sprintf("%d:%s", ch, arch)
				r.bins[bin] = append(r.bins[bin], sh)
			}
		}
	}
	return nil
}

// checkHosts drops the ready flag of ready hosts that have not checked in
// within ReadyTimeout.
func (r *schedRun) checkHosts(ctx context.Context) error {
	var ids []int64
	for _, h := range r.order {
		if !h.Ready {
			continue
		}
		if h.updateTS == nil || r.now-*h.updateTS > r.s.cfg.ReadyTimeout.Seconds() {
			ids = append(ids, h.ID)
			if err := r.s.logBoth(ctx, slog.LevelInfo, "Marking host not ready", nil, &h.ID); err != nil {
				return err
			}
		}
	}
	if err := storeTx(ctx).MarkHostsNotReady(ctx, ids); err != nil {
		return err
	}
	for _, id := range ids {
		r.hosts[id].Ready = false
	}
	return nil
}

// hostMaxJobs is the maxjobs a host reported in its data, or the default:
// upstream's "hostdata.get('maxjobs') or self.maxjobs".
func hostMaxJobs(data *string, def int) int {
	if data == nil {
		return def
	}
	var d map[string]any
	if json.Unmarshal([]byte(*data), &d) != nil {
		return def
	}
	if n, ok := d["maxjobs"].(float64); ok && n != 0 && !math.IsNaN(n) {
		return int(math.Ceil(n))
	}
	return def
}

// fits is the scheduler's test that a host can take a task: capacity
// left beyond the task's weight less the overcommit, and a job slot.
func (r *schedRun) fits(h *schedHost, weight float64) bool {
	return h.Capacity-h.load > max(0, weight-r.s.cfg.CapacityOvercommit) && h.ntasks < h.maxjobs
}

func (h *schedHost) setRank() { h.rank = h.load + float64(h.ntasks) + h.demand }

// doSchedule assigns free tasks to hosts (upstream's do_schedule): it
// counts each host's load and tasks, finds the candidates of each free
// task, spreads the tasks' weight over their candidates as demand, ranks
// the hosts by load + tasks + normalized demand, and gives each free task,
// in priority order, to its best-ranked candidate that still fits.
func (r *schedRun) doSchedule(ctx context.Context) error {
	log := r.s.logger(ctx)
	log.Debug("scheduler inputs", "hosts", len(r.hosts), "free_tasks", len(r.free), "active_tasks", len(r.active))
	for _, t := range r.active {
		h := r.hosts[*t.HostID]
		if h == nil {
			continue // not an enabled host; check_active_tasks deals with it
		}
		if !t.Waiting {
			h.load += t.Weight
		}
		h.ntasks++
	}
	for _, h := range r.order {
		h.maxjobs = hostMaxJobs(h.Data, r.s.cfg.MaxJobs)
		if diff := h.TaskLoad - h.load; math.Abs(diff) > 0.01 {
			log.Debug("Host load differs", "host", h.Name, "diff", diff)
		}
	}

	refusals, err := r.getRefusals(ctx)
	if err != nil {
		return err
	}
	for _, t := range r.free {
		refused := refusals[t.ID]
		for _, h := range r.bins[t.bin] {
			if h.Ready && r.fits(h, t.Weight) && !refused[h.ID] {
				t.hosts = append(t.hosts, h)
			}
		}
		for _, h := range t.hosts {
			h.demand += t.Weight / float64(len(t.hosts))
		}
	}
	var total float64
	for _, h := range r.order {
		total += h.demand
	}
	for _, h := range r.order {
		if total > 0 {
			h.demand /= total
		}
		h.setRank()
	}

	for _, t := range r.free {
		// A stable sort keeps hosts of equal rank in id order.
		slices.SortStableFunc(t.hosts, func(a, b *schedHost) int { return cmp.Compare(a.rank, b.rank) })
		for _, h := range t.hosts {
			if !r.fits(h, t.Weight) {
				continue
			}
			if _, err := r.s.assign(ctx, t.ID, h.ID, false, false); err != nil {
				return err
			}
			h.load += t.Weight
			h.ntasks++
			h.setRank()
			break
		}
	}
	return nil
}

// getRefusals loads the refusals by task and host, deleting the soft
// ones older than SoftRefusalTimeout and those of tasks no longer FREE,
// OPEN or ASSIGNED.
func (r *schedRun) getRefusals(ctx context.Context) (map[int64]map[int64]bool, error) {
	tx := storeTx(ctx)
	rows, err := tx.TaskRefusals(ctx)
	if err != nil {
		return nil, err
	}
	cutoff := r.now - r.s.cfg.SoftRefusalTimeout.Seconds()
	out := map[int64]map[int64]bool{}
	var drop []int64
	for _, f := range rows {
		live := f.TaskState == store.TaskFree || f.TaskState == store.TaskOpen || f.TaskState == store.TaskAssigned
		if f.Soft && pyTS(f.Time) < cutoff || !live {
			drop = append(drop, f.ID)
			continue
		}
		if out[f.TaskID] == nil {
			out[f.TaskID] = map[int64]bool{}
		}
		out[f.TaskID][f.HostID] = true
	}
	return out, tx.DeleteTaskRefusals(ctx, drop)
}

// checkActiveTasks frees what the hosts did not take or do not finish
// (upstream's check_active_tasks): tasks assigned to a disabled host,
// assignments not opened within AssignTimeout (a soft refusal when the
// host checked in meanwhile), open tasks of hosts silent for HostTimeout.
// Tasks without an active run were assigned by hand and are left alone.
// Last, runs of tasks no longer OPEN or ASSIGNED end.
func (r *schedRun) checkActiveTasks(ctx context.Context) error {
	tx := storeTx(ctx)
	runs, err := tx.ActiveTaskRuns(ctx)
	if err != nil {
		return err
	}
	byTask := map[int64][]store.TaskRun{}
	for _, run := range runs {
		byTask[run.TaskID] = append(byTask[run.TaskID], run)
	}
	log := r.s.logger(ctx)
	log.Debug("checking active tasks", "runs", len(byTask), "active_tasks", len(r.active))
	for _, t := range r.active {
		id := t.ID
		if t.HostID == nil {
			if err := r.s.logBoth(ctx, slog.LevelError, "Active task with no host", &id, nil); err != nil {
				return err
			}
			if err := r.s.k.freeTask(ctx, id); err != nil {
				return err
			}
			continue
		}
		hostID := *t.HostID
		h := r.hosts[hostID]
		if h == nil {
			// Most likely a disabled host.
			host, err := tx.GetHost(ctx, hostID, nil)
			if err != nil {
				if err := r.s.logBoth(ctx, slog.LevelError, "Active task with nonexistent host", &id, nil); err != nil {
					return err
				}
				if err := r.s.k.freeTask(ctx, id); err != nil {
					return err
				}
				continue
			}
			h = &schedHost{SchedHost: store.SchedHost{ID: host.ID, Name: host.Name, Enabled: host.Enabled}}
			if host.UpdateTime != nil {
				ts := pyTS(*host.UpdateTime)
				h.updateTS = &ts
			}
		}
		taskRuns := byTask[id]
		if len(taskRuns) == 0 {
			log.Debug("Override task assignment", "task", id, "host", h.Name)
			continue
		}
		if len(taskRuns) > 1 {
			log.Error(fmt.Sprintf("Multiple active run entries for assigned task %d", id))
		}
		first := pyTS(taskRuns[0].CreateTime)
		for _, run := range taskRuns[1:] {
			first = min(first, pyTS(run.CreateTime))
		}
		switch t.State {
		case store.TaskAssigned:
			if !h.Enabled {
				if err := r.s.logBoth(ctx, slog.LevelInfo, "Task assigned to disabled host", &id, &hostID); err != nil {
					return err
				}
				if err := r.s.k.freeTask(ctx, id); err != nil {
					return err
				}
				continue
			}
			if r.now-first <= r.s.cfg.AssignTimeout.Seconds() {
				continue
			}
			if h.updateTS != nil && *h.updateTS > first {
				// The host checked in since: an implicit refusal, likely an
				// older builder.
				if err := r.s.setRefusal(ctx, hostID, id, true, false, "assignment timeout"); err != nil {
					return err
				}
			}
			if err := r.s.logBoth(ctx, slog.LevelInfo, "Task assignment timeout", &id, &hostID); err != nil {
				return err
			}
			if err := r.s.k.freeTask(ctx, id); err != nil {
				return err
			}
		case store.TaskOpen:
			age := r.now - first
			if h.updateTS != nil {
				age = r.now - *h.updateTS
			}
			if age > r.s.cfg.HostTimeout.Seconds() {
				if err := r.s.logBoth(ctx, slog.LevelInfo, "Freeing task from unresponsive host", &id, &hostID); err != nil {
					return err
				}
				if err := r.s.k.freeTask(ctx, id); err != nil {
					return err
				}
			}
		}
	}
	_, err = tx.EndStaleTaskRuns(ctx)
	return err
}
