package koji

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/gokoji/gokoji/xmlrpc"
)

// A TaskState is the state of a task (TASK_STATES).
type TaskState int

// Task states. A task is created FREE, ASSIGNED to a host by the
// scheduler, OPEN while the host runs it, and ends CLOSED, FAILED or
// CANCELED.
const (
	TaskFree     TaskState = iota // FREE
	TaskOpen                      // OPEN
	TaskClosed                    // CLOSED
	TaskCanceled                  // CANCELED
	TaskAssigned                  // ASSIGNED
	TaskFailed                    // FAILED
)

var taskStateNames = []string{"FREE", "OPEN", "CLOSED", "CANCELED", "ASSIGNED", "FAILED"}

// String returns the upstream name, such as "CLOSED".
func (s TaskState) String() string { return enumText("TaskState", int(s), taskStateNames) }

// ParseTaskState returns the task state of that name, in any case.
func ParseTaskState(name string) (TaskState, error) {
	n, err := enumParse("TaskState", name, taskStateNames)
	return TaskState(n), err
}

// Done reports whether the state is final: CLOSED, CANCELED or FAILED.
func (s TaskState) Done() bool { return s == TaskClosed || s == TaskCanceled || s == TaskFailed }

// A Task is a task as getTaskInfo, getTaskChildren and listTasks return
// it. Members a call does not send stay at their zero value.
type Task struct {
	ID     int       `xmlrpc:"id"`
	Method string    `xmlrpc:"method"`
	State  TaskState `xmlrpc:"state"`
	// Arch is the arch the task was created for ("noarch" unless its
	// creator chose one); RequestArch reads the arch its parameters name.
	Arch      string `xmlrpc:"arch"`
	ChannelID int    `xmlrpc:"channel_id"`
	HostID    *int   `xmlrpc:"host_id"` // the host it is assigned to or ran on
	Owner     int    `xmlrpc:"owner"`   // the owner's user ID
	// OwnerName and OwnerType are sent by listTasks only.
	OwnerName string   `xmlrpc:"owner_name"`
	OwnerType UserType `xmlrpc:"owner_type"`
	Parent    *int     `xmlrpc:"parent"` // nil for a top-level task
	// SubtaskLabel is the hub's label member: the name a parent task gave
	// a subtask to find it again, nil for most tasks. Label describes the
	// task.
	SubtaskLabel *string `xmlrpc:"label"`
	Priority     int     `xmlrpc:"priority"` // lower runs first
	Weight       float64 `xmlrpc:"weight"`
	Waiting      *bool   `xmlrpc:"waiting"` // waiting for subtasks
	Awaited      *bool   `xmlrpc:"awaited"` // awaited by its parent

	// Times, as the hub's timestamp strings and as float seconds since
	// the epoch (the *TS fields), which Created, Started and Completed
	// prefer. host.getTasks sends create_ts only.
	CreateTime     time.Time `xmlrpc:"create_time"`
	CreateTS       float64   `xmlrpc:"create_ts"`
	StartTime      time.Time `xmlrpc:"start_time"`
	StartTS        *float64  `xmlrpc:"start_ts"`
	CompletionTime time.Time `xmlrpc:"completion_time"`
	CompletionTS   *float64  `xmlrpc:"completion_ts"`

	// Request holds the task's parameters as the hub sent them: a list
	// when asked for with Request (or listTasks with Decode), else the
	// stored methodCall document as a string; nil when not sent. Params
	// decodes either form.
	Request xmlrpc.RawValue `xmlrpc:"request"`
	// Result holds the task's result as listTasks sends it, in either
	// form; DecodeResult decodes it. getTaskInfo never sends it: see
	// Client.GetTaskResult.
	Result xmlrpc.RawValue `xmlrpc:"result"`
}

// Created is when the task was created, in UTC.
func (t *Task) Created() time.Time {
	if t.CreateTS != 0 {
		return tsTime(t.CreateTS)
	}
	return t.CreateTime.UTC()
}

// Started is when a host opened the task, in UTC; ok is false before.
func (t *Task) Started() (start time.Time, ok bool) { return buildTime(t.StartTS, t.StartTime) }

// Completed is when the task ended, in UTC; ok is false until it does.
func (t *Task) Completed() (end time.Time, ok bool) {
	return buildTime(t.CompletionTS, t.CompletionTime)
}

// Duration is how long the task ran, or for a task still running, how
// long it has been running at now. ok is false when it has not started.
func (t *Task) Duration(now time.Time) (d time.Duration, ok bool) {
	start, ok := t.Started()
	if !ok {
		return 0, false
	}
	end, done := t.Completed()
	if !done {
		end = now
	}
	return end.Sub(start), true
}

// URL is the task's page on kojiweb at weburl (the profile's WebURL).
func (t *Task) URL(weburl string) string { return webPage(weburl, "taskinfo", "taskID", t.ID) }

// A TaskFailedError is the fault a failed task stored as its result. It
// unwraps to the *Fault, so errors.Is matches the fault's class.
type TaskFailedError struct {
	TaskID int
	Fault  *Fault
}

func (e *TaskFailedError) Error() string {
	return fmt.Sprintf("koji: task %d failed: %v", e.TaskID, e.Fault)
}

func (e *TaskFailedError) Unwrap() error { return e.Fault }

// storedFault returns the fault a struct {faultCode, faultString} carries,
// the form in which the hub hands back a failed task's result as a value;
// nil for any other value.
func storedFault(raw xmlrpc.RawValue) *Fault {
	var members map[string]xmlrpc.RawValue
	if raw.Decode(&members) != nil || len(members) != 2 {
		return nil
	}
	var f struct {
		Code   *int    `xmlrpc:"faultCode"`
		String *string `xmlrpc:"faultString"`
	}
	if raw.Decode(&f) != nil || f.Code == nil || f.String == nil {
		return nil
	}
	return &Fault{Code: *f.Code, String: *f.String}
}

// ErrNoTaskResult reports a task listed without a result: it has not
// finished, or listTasks was not asked for one.
var ErrNoTaskResult = errors.New("koji: the task has no result")

// DecodeResult decodes the result listTasks sent for the task into v. A
// failed task's stored fault comes back as a *TaskFailedError.
func (t *Task) DecodeResult(v any) error {
	if t.Result == nil || t.Result.IsNil() {
		return ErrNoTaskResult
	}
	var s string
	if t.Result.Decode(&s) == nil {
		if doc, err := storedDocument(s); err == nil {
			// The stored methodResponse document (listTasks without Decode).
			err := xmlrpc.DecodeResponse(doc, v)
			var xf *xmlrpc.Fault
			if errors.As(err, &xf) {
				return &TaskFailedError{TaskID: t.ID, Fault: faultFrom(xf)}
			}
			return err
		}
	}
	if f := storedFault(t.Result); f != nil {
		return &TaskFailedError{TaskID: t.ID, Fault: f}
	}
	// Decoded by the hub: the response's parameters, a one-element list.
	var params []xmlrpc.RawValue
	if err := t.Result.Decode(&params); err != nil || len(params) != 1 {
		return t.paramsError("result is neither a stored response nor a decoded one")
	}
	return params[0].Decode(v)
}

// TaskInfoOptions are the options of GetTaskInfo, GetTasksInfo and
// GetTaskChildren.
type TaskInfoOptions struct {
	// Request asks for the task's parameters (Task.Request).
	Request bool `xmlrpc:"request,omitempty"`
	// Strict makes a missing task a GenericError fault instead of nil.
	Strict bool `xmlrpc:"strict,omitempty"`
}

// GetTaskInfo returns the task (getTaskInfo), or nil when there is none
// and opts.Strict is not set.
func (c *Client) GetTaskInfo(ctx context.Context, id int, opts *TaskInfoOptions) (*Task, error) {
	var t *Task
	if err := c.CallKw(ctx, "getTaskInfo", &t, []any{id}, opts); err != nil {
		return nil, err
	}
	return t, nil
}

// GetTasksInfo returns several tasks in one call (getTaskInfo with a list
// of IDs), in the order asked for, with nil for a missing task unless
// opts.Strict is set.
func (c *Client) GetTasksInfo(ctx context.Context, ids []int, opts *TaskInfoOptions) ([]*Task, error) {
	if ids == nil {
		ids = []int{}
	}
	var tasks []*Task
	if err := c.CallKw(ctx, "getTaskInfo", &tasks, []any{ids}, opts); err != nil {
		return nil, err
	}
	return tasks, nil
}

// GetTaskChildren returns the task's direct subtasks (getTaskChildren).
func (c *Client) GetTaskChildren(ctx context.Context, id int, opts *TaskInfoOptions) ([]*Task, error) {
	var tasks []*Task
	if err := c.CallKw(ctx, "getTaskChildren", &tasks, []any{id}, opts); err != nil {
		return nil, err
	}
	return tasks, nil
}

// GetTaskDescendents returns the task's whole tree of subtasks
// (getTaskDescendents): for the task and each of its descendents, its
// direct subtasks by the parent's ID. With request, tasks carry their
// parameters.
func (c *Client) GetTaskDescendents(ctx context.Context, id int, request bool) (map[int][]*Task, error) {
	var kwargs any
	if request {
		kwargs = TaskInfoOptions{Request: true}
	}
	var byText map[string][]*Task
	if err := c.CallKw(ctx, "getTaskDescendents", &byText, []any{id}, kwargs); err != nil {
		return nil, err
	}
	tree := make(map[int][]*Task, len(byText))
	for key, children := range byText {
		parent, err := strconv.Atoi(key)
		if err != nil {
			return nil, fmt.Errorf("koji: getTaskDescendents: task ID %q is not a number", key)
		}
		tree[parent] = children
	}
	return tree, nil
}

// GetTaskResult decodes a finished task's result into result, a pointer
// (getTaskResult). For a failed task the hub raises the fault the task
// stored, returned as a *Fault; with raiseFault false it hands the fault
// back as a value instead, returned as a *TaskFailedError (which unwraps
// to the *Fault), which tells the task's failure apart from a failure of
// the call. A canceled or unfinished task is a GenericError fault.
func (c *Client) GetTaskResult(ctx context.Context, id int, raiseFault bool, result any) error {
	var kwargs any
	if !raiseFault {
		kwargs = map[string]any{"raise_fault": false}
	}
	var raw xmlrpc.RawValue
	if err := c.CallKw(ctx, "getTaskResult", &raw, []any{id}, kwargs); err != nil {
		return err
	}
	if !raiseFault {
		if f := storedFault(raw); f != nil {
			return &TaskFailedError{TaskID: id, Fault: f}
		}
	}
	if result == nil {
		return nil
	}
	return raw.Decode(result)
}

// ListTasksOptions select tasks for ListTasks (listTasks' opts). Unset
// fields select everything.
type ListTasksOptions struct {
	State    []TaskState // in any of these states
	NotState []TaskState
	Arch     []string // created for any of these arches
	NotArch  []string
	Method   string
	Owner    []int // owned by any of these user IDs
	HostID   []int // on any of these hosts
	// ChannelID selects tasks of any of these channels.
	ChannelID []int
	Parent    []int // subtasks of any of these tasks
	TopLevel  bool  // only tasks without a parent; overrides Parent

	// Time windows; a zero time leaves a bound unset.
	CreatedBefore, CreatedAfter     time.Time
	StartedBefore, StartedAfter     time.Time
	CompletedBefore, CompletedAfter time.Time

	// Decode asks the hub to send requests and results decoded, as the
	// CLI does; Task.Params and Task.DecodeResult read either form.
	Decode bool
}

// args is the opts dict, with keys sorted as the encoder writes maps.
func (o *ListTasksOptions) args() map[string]any {
	m := map[string]any{}
	if o == nil {
		return m
	}
	if o.State != nil {
		m["state"] = o.State
	}
	if o.NotState != nil {
		m["not_state"] = o.NotState
	}
	if o.Arch != nil {
		m["arch"] = o.Arch
	}
	if o.NotArch != nil {
		m["not_arch"] = o.NotArch
	}
	if o.Method != "" {
		m["method"] = o.Method
	}
	ids := func(key string, v []int) {
		switch len(v) {
		case 0:
		case 1:
			m[key] = v[0] // the CLI sends a single ID as is
		default:
			m[key] = v
		}
	}
	ids("owner", o.Owner)
	ids("host_id", o.HostID)
	ids("channel_id", o.ChannelID)
	ids("parent", o.Parent)
	if o.TopLevel {
		m["parent"] = nil // the hub reads None as "IS NULL"
	}
	for key, t := range map[string]time.Time{
		"createdBefore": o.CreatedBefore, "createdAfter": o.CreatedAfter,
		"startedBefore": o.StartedBefore, "startedAfter": o.StartedAfter,
		"completeBefore": o.CompletedBefore, "completeAfter": o.CompletedAfter,
	} {
		if ts := timeTS(t); ts != nil {
			m[key] = *ts
		}
	}
	if o.Decode {
		m["decode"] = true
	}
	return m
}

// listTasksArgs are listTasks' keyword arguments.
type listTasksArgs struct {
	Opts      map[string]any `xmlrpc:"opts,omitempty"`
	QueryOpts *QueryOpts     `xmlrpc:"queryOpts,omitempty"`
}

// ListTasks returns the tasks opts selects (listTasks), shaped by q.
func (c *Client) ListTasks(ctx context.Context, opts *ListTasksOptions, q *QueryOpts) ([]*Task, error) {
	var tasks []*Task
	err := c.CallKw(ctx, "listTasks", &tasks, nil, listTasksArgs{Opts: opts.args(), QueryOpts: q})
	return tasks, err
}

// ListTasksIter is ListTasks fetching a page of tasks at a time, for
// listings too big for one reply. Without an order in q, tasks come by ID.
func (c *Client) ListTasksIter(ctx context.Context, opts *ListTasksOptions, q *QueryOpts) iter.Seq2[*Task, error] {
	return pages(q, "id", func(page *QueryOpts) ([]*Task, error) { return c.ListTasks(ctx, opts, page) })
}

// MakeTaskOptions are the options of MakeTask.
type MakeTaskOptions struct {
	Channel  string `xmlrpc:"channel,omitempty"`  // by name; the hub's policy decides otherwise
	Arch     string `xmlrpc:"arch,omitempty"`     // "noarch" when unset
	Priority int    `xmlrpc:"priority,omitempty"` // 0 leaves the default, PriorityDefault
	Parent   int    `xmlrpc:"parent,omitempty"`   // makes a subtask of that OPEN task
	Label    string `xmlrpc:"label,omitempty"`    // the subtask's label
	// Assign assigns the task to a host at once, by ID or name.
	Assign NameOrID `xmlrpc:"assign,omitempty"`
}

// MakeTask creates a task that runs method with args on a builder and
// returns its ID (makeTask; admin only). The task starts FREE, or
// ASSIGNED with opts.Assign.
func (c *Client) MakeTask(ctx context.Context, method string, args []any, opts *MakeTaskOptions) (int, error) {
	if opts != nil {
		if err := checkOptionalRef("makeTask", "assign", opts.Assign); err != nil {
			return 0, err
		}
	}
	if args == nil {
		args = []any{}
	}
	var id int
	err := c.CallKw(ctx, "makeTask", &id, []any{method, args}, opts)
	return id, err
}

// CancelTask cancels the task (cancelTask) and, with recurse, its
// subtasks. The owner, the host running it and admins may cancel it.
func (c *Client) CancelTask(ctx context.Context, id int, recurse bool) error {
	var kwargs any
	if !recurse {
		kwargs = map[string]any{"recurse": false}
	}
	return c.CallKw(ctx, "cancelTask", nil, []any{id}, kwargs)
}

// ListTaskOutputOptions are the options of ListTaskOutput.
type ListTaskOutputOptions struct {
	// Stat fills in each file's TaskOutputFile.Stat.
	Stat bool `xmlrpc:"stat,omitempty"`
	// AllVolumes lists the files on every volume, not only the default one.
	AllVolumes bool `xmlrpc:"all_volumes,omitempty"`
	// Strict makes a missing task a GenericError fault instead of an
	// empty list.
	Strict bool `xmlrpc:"strict,omitempty"`
}

// A TaskOutputFile is a file in a task's output directory.
type TaskOutputFile struct {
	Name   string // the path relative to the task's directory
	Volume string // the storage volume, "DEFAULT" for the default one
	// Stat is the file's size and times, with ListTaskOutputOptions.Stat.
	Stat *TaskOutputStat
}

// TaskOutputStat is what the hub reports of an output file.
type TaskOutputStat struct {
	Size     int64
	Accessed time.Time
	Modified time.Time
	Changed  time.Time // of the inode
}

// ListTaskOutput lists the files in the task's output directory
// (listTaskOutput), in the order the hub sent them: the CLI shows them in
// that order. Download them with TaskOutput.
func (c *Client) ListTaskOutput(ctx context.Context, id int, opts *ListTaskOutputOptions) ([]TaskOutputFile, error) {
	var o ListTaskOutputOptions
	if opts != nil {
		o = *opts
	}
	var raw xmlrpc.RawValue
	if err := c.CallKw(ctx, "listTaskOutput", &raw, []any{id}, o); err != nil {
		return nil, err
	}
	if !o.Stat && !o.AllVolumes {
		var names []string
		if err := raw.Decode(&names); err != nil {
			return nil, err
		}
		files := make([]TaskOutputFile, len(names))
		for i, name := range names {
			files[i] = TaskOutputFile{Name: name, Volume: defaultVolume}
		}
		return files, nil
	}
	names, values, err := orderedMembers(raw)
	if err != nil {
		return nil, fmt.Errorf("koji: listTaskOutput: %w", err)
	}
	var files []TaskOutputFile
	for _, name := range names {
		v := values[name]
		switch {
		case o.Stat && o.AllVolumes: // {name: {volume: stat}}
			vols, stats, err := orderedMembers(v)
			if err != nil {
				return nil, fmt.Errorf("koji: listTaskOutput: %s: %w", name, err)
			}
			for _, vol := range vols {
				st, err := decodeOutputStat(stats[vol])
				if err != nil {
					return nil, fmt.Errorf("koji: listTaskOutput: %s: %w", name, err)
				}
				files = append(files, TaskOutputFile{Name: name, Volume: vol, Stat: st})
			}
		case o.AllVolumes: // {name: [volume, ...]}
			var vols []string
			if err := v.Decode(&vols); err != nil {
				return nil, fmt.Errorf("koji: listTaskOutput: %s: %w", name, err)
			}
			for _, vol := range vols {
				files = append(files, TaskOutputFile{Name: name, Volume: vol})
			}
		default: // {name: stat}
			st, err := decodeOutputStat(v)
			if err != nil {
				return nil, fmt.Errorf("koji: listTaskOutput: %s: %w", name, err)
			}
			files = append(files, TaskOutputFile{Name: name, Volume: defaultVolume, Stat: st})
		}
	}
	return files, nil
}

// decodeOutputStat decodes the hub's stat struct, whose st_size is a
// string so that it may pass 32 bits.
func decodeOutputStat(raw xmlrpc.RawValue) (*TaskOutputStat, error) {
	var st struct {
		Size  any     `xmlrpc:"st_size"`
		Atime float64 `xmlrpc:"st_atime"`
		Mtime float64 `xmlrpc:"st_mtime"`
		Ctime float64 `xmlrpc:"st_ctime"`
	}
	if err := raw.Decode(&st); err != nil {
		return nil, err
	}
	out := &TaskOutputStat{Accessed: tsTime(st.Atime), Modified: tsTime(st.Mtime), Changed: tsTime(st.Ctime)}
	switch size := st.Size.(type) {
	case int64:
		out.Size = size
	case string:
		n, err := strconv.ParseInt(size, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("st_size %q is not a number", size)
		}
		out.Size = n
	default:
		return nil, fmt.Errorf("st_size is %s, not a number", pyTypeName(size))
	}
	return out, nil
}

// orderedMembers returns a struct's member names in the order the hub
// sent them (a Go map forgets it) and their values.
func orderedMembers(raw xmlrpc.RawValue) ([]string, map[string]xmlrpc.RawValue, error) {
	var values map[string]xmlrpc.RawValue
	if err := raw.Decode(&values); err != nil {
		return nil, nil, err
	}
	names := make([]string, 0, len(values))
	dec := xml.NewDecoder(bytes.NewReader(raw))
	var path []string // element names from the outer <value> down
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			path = append(path, tok.Name.Local)
			text.Reset()
		case xml.CharData:
			text.Write(tok)
		case xml.EndElement:
			// value/struct/member/name: a member name of the outer struct.
			if len(path) == 4 && path[3] == "name" {
				names = append(names, text.String())
			}
			path = path[:len(path)-1]
		}
	}
	if len(names) != len(values) {
		return nil, nil, fmt.Errorf("struct has %d members but %d distinct names", len(names), len(values))
	}
	return names, values, nil
}
