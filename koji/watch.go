package koji

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"
	"strings"
	"time"
)

// WatchOptions configure Client.Watch and WatchTasks.
type WatchOptions struct {
	// PollInterval is the time between polls of the hub; 0 means the
	// profile's PollInterval (6 s unless configured).
	PollInterval time.Duration
	// Quiet makes WatchTasks write nothing.
	Quiet bool
	// TopURL is where WatchTasks points for a failed task's logs (the
	// "Relevant logs" block); "" means the profile's TopURL, and when
	// that is empty too no logs are listed.
	TopURL string
	// Output is where WatchTasks writes; nil means os.Stdout.
	Output io.Writer
}

// defaultPollInterval is the koji CLI's poll_interval.
const defaultPollInterval = 6 * time.Second

func (o WatchOptions) pollInterval(c *Client) time.Duration {
	switch {
	case o.PollInterval > 0:
		return o.PollInterval
	case c.Profile().PollInterval > 0:
		return c.Profile().PollInterval
	}
	return defaultPollInterval
}

// A TaskEvent is what Client.Watch reports of a task: its first sighting
// or a change of its state.
type TaskEvent struct {
	Task *Task // as the hub reported it on this poll, with its request
	// Previous is the task as reported on the poll before, nil when the
	// task is seen for the first time.
	Previous *Task
	// Level is 0 for the tasks asked for, 1 for their subtasks, and so on.
	Level int
	// Host and PreviousHost name the host running Task and Previous when
	// they are OPEN on one.
	Host, PreviousHost string
	// Failure is the fault a FAILED task stored as its result; nil when
	// the task is not FAILED or stored none.
	Failure *Fault
}

// Finished reports whether the task has just reached a final state.
func (e TaskEvent) Finished() bool { return e.Previous != nil && e.Task.State.Done() }

// A TaskNotFoundError reports a watched task the hub does not have.
type TaskNotFoundError struct{ ID int }

func (e *TaskNotFoundError) Error() string { return fmt.Sprintf("koji: no such task id: %d", e.ID) }

// Watch polls the tasks and, as they appear, their subtasks, until all
// are done, as the koji CLI's watch-task does, and reports each task when
// first seen and on each change of state. The sequence ends after the
// last task is done, or with an error: a *TaskNotFoundError, a failed
// call, or the context's error when it ends first.
func (c *Client) Watch(ctx context.Context, taskIDs []int, opts WatchOptions) iter.Seq2[TaskEvent, error] {
	return func(yield func(TaskEvent, error) bool) {
		w := c.newWatcher(taskIDs, opts.pollInterval(c))
		err := w.run(ctx, func(ev TaskEvent) bool { return yield(ev, nil) })
		if err != nil && !errors.Is(err, errStopWatching) {
			yield(TaskEvent{}, err)
		}
	}
}

// errStopWatching unwinds a watch whose consumer stopped.
var errStopWatching = errors.New("koji: watch stopped")

// A watcher is the polling loop of watch_tasks: one implementation for
// Watch's events and WatchTasks' transcript.
type watcher struct {
	c         *Client
	poll      time.Duration
	tasks     []*watchedTask // in the order first seen
	byID      map[int]*watchedTask
	hostNames map[int]string
}

type watchedTask struct {
	id    int
	level int
	info  *Task  // nil until first fetched
	host  string // the name of the host info is OPEN on
}

func (c *Client) newWatcher(ids []int, poll time.Duration) *watcher {
	w := &watcher{c: c, poll: poll, byID: map[int]*watchedTask{}, hostNames: map[int]string{}}
	for _, id := range ids {
		if _, dup := w.byID[id]; !dup {
			w.add(id, 0)
		}
	}
	return w
}

func (w *watcher) add(id, level int) *watchedTask {
	t := &watchedTask{id: id, level: level}
	w.tasks = append(w.tasks, t)
	w.byID[id] = t
	return t
}

func (t *watchedTask) done() bool { return t.info != nil && t.info.State.Done() }

// run polls until every task is done, passing events to emit; it stops
// with errStopWatching when emit returns false.
func (w *watcher) run(ctx context.Context, emit func(TaskEvent) bool) error {
	if len(w.tasks) == 0 {
		return nil
	}
	for {
		allDone := true
		// Subtasks found in this pass are polled from the next one on.
		for _, t := range slices.Clone(w.tasks) {
			if err := w.update(ctx, t, emit); err != nil {
				return err
			}
			if !t.done() {
				allDone = false
			}
			children, err := w.c.GetTaskChildren(ctx, t.id, nil)
			if err != nil {
				return err
			}
			for _, child := range children {
				if _, known := w.byID[child.ID]; known {
					continue
				}
				if err := w.update(ctx, w.add(child.ID, t.level+1), emit); err != nil {
					return err
				}
				allDone = false
			}
		}
		if allDone {
			return nil
		}
		if err := sleep(ctx, w.poll); err != nil {
			return err
		}
	}
}

// update fetches a task that is not done and emits an event when it is
// new or its state changed.
func (w *watcher) update(ctx context.Context, t *watchedTask, emit func(TaskEvent) bool) error {
	if t.done() {
		return nil
	}
	info, err := w.c.GetTaskInfo(ctx, t.id, &TaskInfoOptions{Request: true})
	if err != nil {
		return err
	}
	if info == nil {
		return &TaskNotFoundError{ID: t.id}
	}
	prev, prevHost := t.info, t.host
	host, err := w.hostName(ctx, info)
	if err != nil {
		return err
	}
	t.info, t.host = info, host
	if prev != nil && prev.State == info.State {
		return nil
	}
	ev := TaskEvent{Task: info, Previous: prev, Level: t.level, Host: host, PreviousHost: prevHost}
	if info.State == TaskFailed {
		err := w.c.GetTaskResult(ctx, t.id, true, nil)
		if !errors.As(err, &ev.Failure) && err != nil {
			return err
		}
	}
	if !emit(ev) {
		return errStopWatching
	}
	return nil
}

// hostName names the host an OPEN task runs on, as the CLI shows it. The
// CLI names no host for other states, ASSIGNED included. A name is looked
// up once per watch, where the CLI asks again for every line showing it.
func (w *watcher) hostName(ctx context.Context, t *Task) (string, error) {
	if t.State != TaskOpen || t.HostID == nil || *t.HostID == 0 {
		return "", nil
	}
	if name, ok := w.hostNames[*t.HostID]; ok {
		return name, nil
	}
	h, err := w.c.GetHost(ctx, *t.HostID, nil)
	if err != nil {
		return "", err
	}
	if h == nil {
		return "", fmt.Errorf("koji: task %d runs on host %d, which the hub does not have", t.ID, *t.HostID)
	}
	w.hostNames[*t.HostID] = h.Name
	return h.Name, nil
}

// WatchTasks watches the tasks as Client.Watch does and writes what
// `koji watch-task` prints, line for line: each task when first seen and
// on each change of state, a count of the tasks' states whenever one
// finishes, and a verdict for each task asked for. ok reports whether all
// of those ended CLOSED (the CLI exits 0). When ctx ends first, it writes
// the still running tasks, as the CLI does on Ctrl-C, and returns
// ctx.Err(); a task the hub does not have ends it with a
// *TaskNotFoundError.
func WatchTasks(ctx context.Context, c *Client, taskIDs []int, opts WatchOptions) (ok bool, err error) {
	r := &watchRenderer{c: c, w: c.newWatcher(taskIDs, opts.pollInterval(c)), quiet: opts.Quiet,
		topURL: opts.TopURL, out: opts.Output}
	if r.topURL == "" {
		r.topURL = c.Profile().TopURL
	}
	if r.out == nil {
		r.out = os.Stdout
	}
	if len(r.w.tasks) == 0 {
		return true, nil
	}
	r.print("Watching tasks (this may be safely interrupted)...")
	if r.err != nil {
		return false, r.err
	}
	err = r.w.run(ctx, func(ev TaskEvent) bool { return r.event(ctx, ev) })
	var notFound *TaskNotFoundError
	switch {
	case errors.Is(err, errStopWatching):
		return false, r.err
	case ctx.Err() != nil && err != nil:
		r.interrupted(ctx)
		return false, ctx.Err()
	case errors.As(err, &notFound):
		r.print(fmt.Sprintf("No such task id: %d", notFound.ID))
		return false, err
	case err != nil:
		return false, err
	}
	r.print("")
	ok = true
	for _, t := range r.w.tasks {
		if t.level != 0 {
			continue
		}
		var verdict string
		switch t.info.State {
		case TaskClosed:
			verdict = "completed successfully"
		case TaskFailed:
			verdict = "failed"
		case TaskCanceled:
			verdict = "was canceled"
		default:
			verdict = "has not completed"
		}
		r.print(watchDisplay(t) + " " + verdict)
		ok = ok && t.info.State == TaskClosed
	}
	return ok, r.err
}

// watchRenderer writes the CLI's transcript of a watch.
type watchRenderer struct {
	c      *Client
	w      *watcher
	quiet  bool
	topURL string
	out    io.Writer
	err    error // the first write or call error; rendering stops there
}

func (r *watchRenderer) print(line string) {
	if r.quiet || r.err != nil {
		return
	}
	_, r.err = io.WriteString(r.out, line+"\n")
}

// event writes a task's first sighting or change (TaskWatcher.update),
// and the state count when it finished.
func (r *watchRenderer) event(ctx context.Context, ev TaskEvent) bool {
	if r.quiet {
		return true
	}
	t := r.w.byID[ev.Task.ID]
	if ev.Previous == nil {
		state := r.state(ctx, ev.Task, ev.Host, ev.Failure, ev.Level)
		r.print(watchDisplay(t) + ": " + state)
	} else {
		// Upstream displays both states at level 0 here, which indents a
		// subtask's log list as if it were a top-level task.
		old := r.state(ctx, ev.Previous, ev.PreviousHost, nil, 0)
		state := r.state(ctx, ev.Task, ev.Host, ev.Failure, 0)
		r.print(watchDisplay(t) + ": " + old + " -> " + state)
	}
	if ev.Finished() {
		r.print(r.counts())
	}
	return r.err == nil
}

// watchDisplay is TaskWatcher.str: the indented ID and label.
func watchDisplay(t *watchedTask) string {
	indent := strings.Repeat("  ", t.level)
	if t.info == nil {
		return fmt.Sprintf("%s%d", indent, t.id)
	}
	return fmt.Sprintf("%s%d %s", indent, t.id, t.info.Label())
}

// state is TaskWatcher.display_state.
func (r *watchRenderer) state(ctx context.Context, t *Task, host string, failure *Fault, level int) string {
	switch {
	case t == nil:
		return "unknown"
	case t.State == TaskOpen && host != "":
		return "open (" + host + ")"
	case t.State == TaskFailed:
		return "FAILED: " + failureText(failure) + r.relevantLogs(ctx, t.ID, level+1)
	}
	return strings.ToLower(t.State.String())
}

// failureText is how the CLI shows the exception getTaskResult raised:
// the class name and message, or for a fault code Koji does not define,
// Python's rendering of an xmlrpc Fault.
func failureText(f *Fault) string {
	if f == nil {
		return ""
	}
	if _, known := faultClassNames[f.Class()]; known {
		return f.Class().Name() + ": " + strings.TrimSpace(f.String)
	}
	return fmt.Sprintf("Fault: <Fault %d: %s>", f.Code, pyStringRepr(f.String))
}

// relevantLogs is the "Relevant logs" block of a failed task: its *log
// files under the top URL, indented to level.
func (r *watchRenderer) relevantLogs(ctx context.Context, id, level int) string {
	if r.topURL == "" || r.err != nil {
		return ""
	}
	files, err := r.c.ListTaskOutput(ctx, id, &ListTaskOutputOptions{AllVolumes: true})
	if errors.Is(err, ErrParameter) && strings.Contains(err.Error(), "got an unexpected keyword argument") {
		// A hub without all_volumes: its plain list is the default volume.
		files, err = r.c.ListTaskOutput(ctx, id, nil)
	}
	if err != nil {
		r.err = err
		return ""
	}
	indent := strings.Repeat("  ", level)
	paths := PathInfo{TopDir: r.topURL}
	var logs []string
	for _, f := range files {
		if strings.HasSuffix(f.Name, "log") {
			logs = append(logs, indent+pyJoin(paths.Task(id, f.Volume), f.Name))
		}
	}
	if len(logs) == 0 {
		return ""
	}
	return "\n" + indent + "Relevant logs:\n" + strings.Join(logs, "\n")
}

// pyJoin is os.path.join of two parts.
func pyJoin(dir, name string) string {
	switch {
	case strings.HasPrefix(name, "/"):
		return name
	case dir == "" || strings.HasSuffix(dir, "/"):
		return dir + name
	}
	return dir + "/" + name
}

// counts is display_tasklist_status: done counts CLOSED and CANCELED,
// open counts OPEN and ASSIGNED.
func (r *watchRenderer) counts() string {
	var free, open, done, failed int
	for _, t := range r.w.tasks {
		if t.info == nil {
			continue
		}
		switch t.info.State {
		case TaskFailed:
			failed++
		case TaskClosed, TaskCanceled:
			done++
		case TaskOpen, TaskAssigned:
			open++
		case TaskFree:
			free++
		}
	}
	return fmt.Sprintf("  %d free  %d open  %d done  %d failed", free, open, done, failed)
}

// interrupted writes what the CLI writes on Ctrl-C: the tasks not done,
// as they were last seen.
func (r *watchRenderer) interrupted(ctx context.Context) {
	if r.quiet {
		return
	}
	var lines []string
	for _, t := range r.w.tasks {
		if !t.done() {
			lines = append(lines, watchDisplay(t)+": "+r.state(ctx, t.info, t.host, nil, t.level))
		}
	}
	r.print("Tasks still running. You can continue to watch with the 'koji watch-task' command.")
	r.print("Running Tasks:\n" + strings.Join(lines, "\n"))
}
