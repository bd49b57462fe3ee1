package koji

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gokoji/gokoji/xmlrpc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A watchHub is a hub whose tasks change state from one poll to the next:
// a task's k-th getTaskInfo answers its k-th step (the last one repeats),
// and a child shows in its parent's getTaskChildren from the parent's
// k-th such call on.
type watchHub struct {
	client *Client
	stub   *stubHub

	mu         sync.Mutex
	tasks      map[int]*scriptedTask
	hosts      map[int]string
	oldHub     bool // no all_volumes for listTaskOutput (before Koji 1.16)
	infoCalls  map[int]int
	childCalls map[int]int
}

type scriptedTask struct {
	method   string
	request  []any
	steps    []taskStep
	children []scriptedChild
	fault    *xmlrpc.Fault  // getTaskResult's fault, for a FAILED task
	output   map[string]any // listTaskOutput(all_volumes=True)
}

type taskStep struct {
	state TaskState
	host  int // 0: none
}

type scriptedChild struct{ id, from int }

func newWatchHub(t *testing.T, tasks map[int]*scriptedTask) *watchHub {
	h := &watchHub{tasks: tasks, hosts: map[int]string{1: "builder-01", 2: "builder-02"},
		infoCalls: map[int]int{}, childCalls: map[int]int{}}
	h.client, h.stub = newStubHub(t, h.reply)
	return h
}

func (h *watchHub) reply(call stubCall) (any, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	id := 0
	if len(call.Args) > 0 {
		n, _ := call.Args[0].(int64)
		id = int(n)
	}
	task := h.tasks[id]
	switch call.Method {
	case "getTaskInfo":
		if task == nil {
			return nil, nil
		}
		k := h.infoCalls[id]
		h.infoCalls[id]++
		return h.info(id, task.steps[min(k, len(task.steps)-1)]), nil
	case "getTaskChildren":
		k := h.childCalls[id]
		h.childCalls[id]++
		children := []any{}
		for _, child := range task.children {
			if child.from <= k {
				children = append(children, map[string]any{"id": child.id, "method": h.tasks[child.id].method, "parent": id})
			}
		}
		return children, nil
	case "getHost":
		return map[string]any{"id": id, "name": h.hosts[id]}, nil
	case "getTaskResult":
		if task.fault != nil {
			return nil, task.fault
		}
		return "done", nil
	case "listTaskOutput":
		if _, all := call.Kwargs["all_volumes"]; !all {
			names := []any{}
			for name := range task.output {
				names = append(names, name)
			}
			return names, nil
		}
		if h.oldHub {
			return nil, &xmlrpc.Fault{Code: int(ErrParameter), String: "list_task_output() got an unexpected keyword argument 'all_volumes'"}
		}
		return task.output, nil
	}
	return nil, &xmlrpc.Fault{Code: 1000, String: "Invalid method: " + call.Method}
}

func (h *watchHub) info(id int, step taskStep) map[string]any {
	task := h.tasks[id]
	info := map[string]any{"id": id, "method": task.method, "arch": "noarch", "state": int(step.state),
		"request": task.request, "owner": 1, "channel_id": 1, "priority": 20, "host_id": nil}
	if step.host != 0 {
		info["host_id"] = step.host
	}
	return info
}

// calls lists the calls the watcher made, as "method(id)".
func (h *watchHub) calls() []string {
	var out []string
	for _, call := range h.stub.received() {
		out = append(out, fmt.Sprintf("%s(%v)", call.Method, call.Args[0]))
	}
	return out
}

func steps(states ...any) []taskStep {
	var out []taskStep
	for _, s := range states {
		switch s := s.(type) {
		case TaskState:
			out = append(out, taskStep{state: s})
		case taskStep:
			out = append(out, s)
		}
	}
	return out
}

func openOn(host int) taskStep { return taskStep{state: TaskOpen, host: host} }

const fakeGit = "git://git.engineering.redhat.com/users/mikem/fake.git"

// upstreamFailTasks are the tasks of upstream's watchtasks2.json
// (tests/test_cli/data/calls in koji-project/koji): a build whose
// buildSRPMFromSCM subtask appears once it opens, and which fails.
func upstreamFailTasks() map[int]*scriptedTask {
	return map[int]*scriptedTask{
		1208: {method: "build", request: []any{fakeGit + "#master", "f24", map[string]any{"skip_tag": true}},
			steps:    steps(TaskFree, TaskFree, TaskFree, openOn(1), openOn(1), openOn(1), TaskFailed),
			children: []scriptedChild{{id: 1209, from: 3}},
			fault: &xmlrpc.Fault{Code: 1000, String: "Build already exists (id=425, state=COMPLETE): {'name': 'fake', " +
				"'task_id': 1208, 'extra': None, 'pkg_id': 298, 'epoch': 7, 'completion_time': None, 'state': 0, " +
				"'version': '1.1', 'source': None, 'volume_id': 0, 'owner': 1, 'release': '22', 'start_time': 'NOW'}"}},
		1209: {method: "buildSRPMFromSCM", request: []any{fakeGit + "#master", 2, map[string]any{"scratch": nil, "repo_id": 132}},
			steps: steps(TaskFree, openOn(1), openOn(1), TaskClosed)},
	}
}

func watchTranscript(t *testing.T, ctx context.Context, h *watchHub, ids []int, opts WatchOptions) (string, bool, error) {
	t.Helper()
	var out bytes.Buffer
	if opts.Output == nil {
		opts.Output = &out
	}
	opts.PollInterval = time.Millisecond
	ok, err := WatchTasks(ctx, h.client, ids, opts)
	return out.String(), ok, err
}

// The expected transcripts of the next three tests are upstream's, from
// tests/test_cli/test_watch_tasks.py in koji-project/koji.
func TestWatchTasksUpstreamFailing(t *testing.T) {
	h := newWatchHub(t, upstreamFailTasks())
	out, ok, err := watchTranscript(t, context.Background(), h, []int{1208}, WatchOptions{})
	require.NoError(t, err)
	assert.False(t, ok, "the CLI exits 1")
	assert.Equal(t, `Watching tasks (this may be safely interrupted)...
1208 build (f24, /users/mikem/fake.git:master): free
1208 build (f24, /users/mikem/fake.git:master): free -> open (builder-01)
  1209 buildSRPMFromSCM (/users/mikem/fake.git:master): free
  1209 buildSRPMFromSCM (/users/mikem/fake.git:master): free -> open (builder-01)
1208 build (f24, /users/mikem/fake.git:master): open (builder-01) -> FAILED: GenericError: Build already exists (id=425, state=COMPLETE): {'name': 'fake', 'task_id': 1208, 'extra': None, 'pkg_id': 298, 'epoch': 7, 'completion_time': None, 'state': 0, 'version': '1.1', 'source': None, 'volume_id': 0, 'owner': 1, 'release': '22', 'start_time': 'NOW'}
  0 free  1 open  0 done  1 failed
  1209 buildSRPMFromSCM (/users/mikem/fake.git:master): open (builder-01) -> closed
  0 free  0 open  1 done  1 failed

1208 build (f24, /users/mikem/fake.git:master) failed
`, out)

	// The calls upstream makes, in its order; the host's name is looked
	// up once rather than for every line that shows it.
	poll := []string{"getTaskInfo(1208)", "getTaskChildren(1208)"}
	want := append(append(append([]string{}, poll...), poll...), poll...)
	want = append(want, "getTaskInfo(1208)", "getHost(1)", "getTaskChildren(1208)", "getTaskInfo(1209)") // 1209 appears
	for range 2 {
		want = append(want, "getTaskInfo(1208)", "getTaskChildren(1208)", "getTaskInfo(1209)", "getTaskChildren(1209)")
	}
	// Both end in the same pass, which is the last.
	want = append(want, "getTaskInfo(1208)", "getTaskResult(1208)", "getTaskChildren(1208)", "getTaskInfo(1209)", "getTaskChildren(1209)")
	assert.Equal(t, want, h.calls())
}

func TestWatchTasksUpstreamClosed(t *testing.T) {
	url := fakeGit + "#adaf62586b4b4a23b24394da5586abd7cd9f679e"
	h := newWatchHub(t, map[int]*scriptedTask{
		1188: {method: "build", request: []any{url, "f24", map[string]any{}}, steps: steps(TaskClosed),
			children: []scriptedChild{{id: 1189}, {id: 1190}}},
		1189: {method: "buildSRPMFromSCM", request: []any{url, 2, map[string]any{"repo_id": 131}}, steps: steps(TaskClosed)},
		1190: {method: "buildArch", request: []any{"tasks/1189/1189/fake-1.1-21.src.rpm", 2, "noarch", false, map[string]any{}},
			steps: steps(TaskClosed)},
	})
	out, ok, err := watchTranscript(t, context.Background(), h, []int{1188}, WatchOptions{})
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, `Watching tasks (this may be safely interrupted)...
1188 build (f24, /users/mikem/fake.git:adaf62586b4b4a23b24394da5586abd7cd9f679e): closed
  1189 buildSRPMFromSCM (/users/mikem/fake.git:adaf62586b4b4a23b24394da5586abd7cd9f679e): closed
  1190 buildArch (fake-1.1-21.src.rpm, noarch): closed

1188 build (f24, /users/mikem/fake.git:adaf62586b4b4a23b24394da5586abd7cd9f679e) completed successfully
`, out)
}

// cancelOnLine cancels a watch when a line containing trigger is written,
// as Ctrl-C does at that moment.
type cancelOnLine struct {
	out     bytes.Buffer
	trigger string
	cancel  context.CancelFunc
}

func (w *cancelOnLine) Write(p []byte) (int, error) {
	if strings.Contains(string(p), w.trigger) {
		defer w.cancel()
	}
	return w.out.Write(p)
}

func TestWatchTasksInterruptedUpstream(t *testing.T) {
	h := newWatchHub(t, upstreamFailTasks())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &cancelOnLine{trigger: "1209 buildSRPMFromSCM (/users/mikem/fake.git:master): free -> open", cancel: cancel}
	_, ok, err := watchTranscript(t, ctx, h, []int{1208}, WatchOptions{Output: out})
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, ok)
	assert.Equal(t, `Watching tasks (this may be safely interrupted)...
1208 build (f24, /users/mikem/fake.git:master): free
1208 build (f24, /users/mikem/fake.git:master): free -> open (builder-01)
  1209 buildSRPMFromSCM (/users/mikem/fake.git:master): free
  1209 buildSRPMFromSCM (/users/mikem/fake.git:master): free -> open (builder-01)
Tasks still running. You can continue to watch with the 'koji watch-task' command.
Running Tasks:
1208 build (f24, /users/mikem/fake.git:master): open (builder-01)
  1209 buildSRPMFromSCM (/users/mikem/fake.git:master): open (builder-01)
`, out.out.String())
}

func TestWatchTasksInterruptedBeforeAnyReply(t *testing.T) {
	h := newWatchHub(t, upstreamFailTasks())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out, ok, err := watchTranscript(t, ctx, h, []int{1208}, WatchOptions{})
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, ok)
	assert.Equal(t, `Watching tasks (this may be safely interrupted)...
Tasks still running. You can continue to watch with the 'koji watch-task' command.
Running Tasks:
1208: unknown
`, out)
	assert.Empty(t, h.calls())
}

const (
	bashGit    = "git+https://src.example.org/rpms/bash.git#abc123"
	bashSRPM   = "tasks/501/501/bash-5.2-1.fc43.src.rpm"
	mockFailed = "error building package (arch aarch64), mock exited with status 1; see build.log for more information"
)

// buildTasks is a build whose buildSRPMFromSCM subtask runs first, then
// two buildArch subtasks, one assigned before it opens and canceled when
// the other fails on builder-02.
func buildTasks() map[int]*scriptedTask {
	fault := &xmlrpc.Fault{Code: int(ErrBuild), String: mockFailed}
	return map[int]*scriptedTask{
		500: {method: "build", request: []any{bashGit, "f43-candidate", map[string]any{}},
			steps:    steps(TaskFree, openOn(1), openOn(1), openOn(1), openOn(1), TaskFailed),
			children: []scriptedChild{{id: 501, from: 1}, {id: 502, from: 3}, {id: 503, from: 3}},
			fault:    fault, output: map[string]any{}},
		501: {method: "buildSRPMFromSCM", request: []any{bashGit, 10, map[string]any{"repo_id": 7}},
			steps: steps(openOn(1), TaskClosed)},
		502: {method: "buildArch", request: []any{bashSRPM, 10, "x86_64", true, map[string]any{}},
			steps: steps(taskStep{state: TaskAssigned, host: 1}, openOn(1), TaskCanceled)},
		503: {method: "buildArch", request: []any{bashSRPM, 10, "aarch64", false, map[string]any{}},
			steps: steps(openOn(2), TaskFailed), fault: fault,
			output: map[string]any{"build.log": []any{"DEFAULT"}, "root.log": []any{"DEFAULT"},
				"hw_info.log": []any{"DEFAULT"}, "bash-5.2-1.fc43.src.rpm": []any{"DEFAULT"}}},
	}
}

// The transcript follows upstream's algorithm: a state count after each
// task that finishes, and, in a line showing a change, the log list
// indented as for a top-level task.
func TestWatchTasksBuildWithFailingArch(t *testing.T) {
	h := newWatchHub(t, buildTasks())
	out, ok, err := watchTranscript(t, context.Background(), h, []int{500},
		WatchOptions{TopURL: "https://kojipkgs.example.org"})
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Equal(t, `Watching tasks (this may be safely interrupted)...
500 build (f43-candidate, /rpms/bash.git:abc123): free
500 build (f43-candidate, /rpms/bash.git:abc123): free -> open (builder-01)
  501 buildSRPMFromSCM (/rpms/bash.git:abc123): open (builder-01)
  501 buildSRPMFromSCM (/rpms/bash.git:abc123): open (builder-01) -> closed
  0 free  1 open  1 done  0 failed
  502 buildArch (bash-5.2-1.fc43.src.rpm, x86_64): assigned
  503 buildArch (bash-5.2-1.fc43.src.rpm, aarch64): open (builder-02)
  502 buildArch (bash-5.2-1.fc43.src.rpm, x86_64): assigned -> open (builder-01)
  503 buildArch (bash-5.2-1.fc43.src.rpm, aarch64): open (builder-02) -> FAILED: BuildError: `+mockFailed+`
  Relevant logs:
  https://kojipkgs.example.org/work/tasks/503/503/build.log
  https://kojipkgs.example.org/work/tasks/503/503/hw_info.log
  https://kojipkgs.example.org/work/tasks/503/503/root.log
  0 free  2 open  1 done  1 failed
500 build (f43-candidate, /rpms/bash.git:abc123): open (builder-01) -> FAILED: BuildError: `+mockFailed+`
  0 free  1 open  1 done  2 failed
  502 buildArch (bash-5.2-1.fc43.src.rpm, x86_64): open (builder-01) -> canceled
  0 free  0 open  2 done  2 failed

500 build (f43-candidate, /rpms/bash.git:abc123) failed
`, out)
}

func TestWatchTasksFailedWhenFirstSeen(t *testing.T) {
	tasks := func() map[int]*scriptedTask {
		return map[int]*scriptedTask{
			700: {method: "build", request: []any{"git://h/rpms/x.git#r", "f43"}, steps: steps(TaskFailed),
				children: []scriptedChild{{id: 701}}, fault: &xmlrpc.Fault{Code: 1, String: "it's broken\n"}},
			701: {method: "buildArch", request: []any{"x-1-1.src.rpm", 1, "s390x", false}, steps: steps(TaskFailed),
				fault:  &xmlrpc.Fault{Code: int(ErrBuild), String: "  mock failed \n"},
				output: map[string]any{"build.log": []any{"DEFAULT", "vol2"}, "readme.txt": []any{"DEFAULT"}}},
		}
	}
	// A line showing a task first seen indents the log list one level
	// deeper than the task. A fault code Koji does not define shows as
	// Python shows an xmlrpc Fault.
	h := newWatchHub(t, tasks())
	out, ok, err := watchTranscript(t, context.Background(), h, []int{700}, WatchOptions{TopURL: "https://kojipkgs.example.org"})
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Equal(t, `Watching tasks (this may be safely interrupted)...
700 build (f43, /rpms/x.git:r): FAILED: Fault: <Fault 1: "it's broken\n">
  701 buildArch (x-1-1.src.rpm, s390x): FAILED: BuildError: mock failed
    Relevant logs:
    https://kojipkgs.example.org/work/tasks/701/701/build.log
    https://kojipkgs.example.org/vol/vol2/work/tasks/701/701/build.log

700 build (f43, /rpms/x.git:r) failed
`, out)

	// A hub without all_volumes lists the default volume only.
	h = newWatchHub(t, tasks())
	h.oldHub = true
	out, _, err = watchTranscript(t, context.Background(), h, []int{700}, WatchOptions{TopURL: "https://kojipkgs.example.org"})
	require.NoError(t, err)
	assert.Contains(t, out, "    Relevant logs:\n    https://kojipkgs.example.org/work/tasks/701/701/build.log\n\n")

	// Without a top URL there is no log list; the profile's is the default.
	h = newWatchHub(t, tasks())
	out, _, err = watchTranscript(t, context.Background(), h, []int{700}, WatchOptions{})
	require.NoError(t, err)
	assert.NotContains(t, out, "Relevant logs")
	h = newWatchHub(t, tasks())
	h.client.Profile().TopURL = "https://files.example.org"
	out, _, err = watchTranscript(t, context.Background(), h, []int{700}, WatchOptions{})
	require.NoError(t, err)
	assert.Contains(t, out, "    https://files.example.org/work/tasks/701/701/build.log\n")
}

func TestWatchTasksQuietAndEdgeCases(t *testing.T) {
	h := newWatchHub(t, upstreamFailTasks())
	out, ok, err := watchTranscript(t, context.Background(), h, []int{1208}, WatchOptions{Quiet: true})
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Empty(t, out)

	out, ok, err = watchTranscript(t, context.Background(), h, nil, WatchOptions{})
	require.NoError(t, err)
	assert.True(t, ok, "nothing to watch: the CLI exits 0")
	assert.Empty(t, out)

	out, ok, err = watchTranscript(t, context.Background(), h, []int{404}, WatchOptions{})
	assert.False(t, ok)
	assert.Equal(t, &TaskNotFoundError{ID: 404}, err)
	assert.Equal(t, "koji: no such task id: 404", err.Error())
	assert.Equal(t, "Watching tasks (this may be safely interrupted)...\nNo such task id: 404\n", out)
}

func TestWatchTasksWriteError(t *testing.T) {
	h := newWatchHub(t, upstreamFailTasks())
	_, err := WatchTasks(context.Background(), h.client, []int{1208},
		WatchOptions{PollInterval: time.Millisecond, Output: failingWriter{}})
	assert.EqualError(t, err, "disk full")
	assert.Empty(t, h.calls(), "the first line failed: nothing was polled")
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, fmt.Errorf("disk full") }

func TestWatchEvents(t *testing.T) {
	h := newWatchHub(t, buildTasks())
	type seen struct {
		id           int
		old, state   string
		level        int
		host, before string
		failed       bool
		finished     bool
	}
	var events []seen
	for ev, err := range h.client.Watch(context.Background(), []int{500, 500}, WatchOptions{PollInterval: time.Millisecond}) {
		require.NoError(t, err)
		s := seen{id: ev.Task.ID, state: ev.Task.State.String(), level: ev.Level, host: ev.Host,
			before: ev.PreviousHost, failed: ev.Failure != nil, finished: ev.Finished()}
		if ev.Previous != nil {
			s.old = ev.Previous.State.String()
		}
		if ev.Failure != nil {
			assert.ErrorIs(t, ev.Failure, ErrBuild)
			assert.Equal(t, mockFailed, ev.Failure.String)
		}
		events = append(events, s)
	}
	assert.Equal(t, []seen{
		{id: 500, state: "FREE"},
		{id: 500, old: "FREE", state: "OPEN", host: "builder-01"},
		{id: 501, state: "OPEN", level: 1, host: "builder-01"},
		{id: 501, old: "OPEN", state: "CLOSED", level: 1, before: "builder-01", finished: true},
		{id: 502, state: "ASSIGNED", level: 1},
		{id: 503, state: "OPEN", level: 1, host: "builder-02"},
		{id: 502, old: "ASSIGNED", state: "OPEN", level: 1, host: "builder-01"},
		{id: 503, old: "OPEN", state: "FAILED", level: 1, before: "builder-02", failed: true, finished: true},
		{id: 500, old: "OPEN", state: "FAILED", before: "builder-01", failed: true, finished: true},
		{id: 502, old: "OPEN", state: "CANCELED", level: 1, before: "builder-01", finished: true},
	}, events, "task 500 asked for twice is watched once")
}

func TestWatchEventsStopAndFail(t *testing.T) {
	h := newWatchHub(t, buildTasks())
	var n int
	for _, err := range h.client.Watch(context.Background(), []int{500}, WatchOptions{PollInterval: time.Millisecond}) {
		require.NoError(t, err)
		if n++; n == 3 {
			break
		}
	}
	calls := len(h.calls())
	time.Sleep(5 * time.Millisecond)
	assert.Equal(t, calls, len(h.calls()), "a stopped watch polls no more")

	var errs []error
	for ev, err := range h.client.Watch(context.Background(), []int{404}, WatchOptions{}) {
		assert.Nil(t, ev.Task)
		errs = append(errs, err)
	}
	assert.Equal(t, []error{&TaskNotFoundError{ID: 404}}, errs)

	h = newWatchHub(t, map[int]*scriptedTask{1: {method: "sleep", request: []any{1}, steps: steps(TaskFree)}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	errs = nil
	for ev, err := range h.client.Watch(ctx, []int{1}, WatchOptions{PollInterval: time.Hour}) {
		if err == nil {
			assert.Equal(t, TaskFree, ev.Task.State, "seen once, then the long wait")
			continue
		}
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], context.DeadlineExceeded)
}

func TestWatchPollInterval(t *testing.T) {
	c, err := NewClient("https://koji.example.org/kojihub")
	require.NoError(t, err)
	assert.Equal(t, 6*time.Second, WatchOptions{}.pollInterval(c), "the CLI's poll_interval")
	assert.Equal(t, time.Second, WatchOptions{PollInterval: time.Second}.pollInterval(c))
	c.Profile().PollInterval = 30 * time.Second
	assert.Equal(t, 30*time.Second, WatchOptions{}.pollInterval(c))
	c.Profile().PollInterval = 0
	assert.Equal(t, 6*time.Second, WatchOptions{}.pollInterval(c))
}
