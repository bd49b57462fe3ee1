package builder

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/gokoji/gokoji/koji"
)

// DependantTask is kojid's dependantTask handler (DependantTask), the
// task the hub's moveAllBuilds chains: it waits for the tasks of its
// wait list (which are not its children) to finish, failing if one
// failed or was canceled, then makes the subtasks of its task list
// ([method, args, opts]) and waits for them all.
type DependantTask struct {
	// PollInterval is how often the wait list is checked; default 1s,
	// as kojid sleeps.
	PollInterval time.Duration
}

// dependantWeight is kojid's DependantTask._taskWeight.
const dependantWeight = 0.2

// Methods is ["dependantTask"].
func (DependantTask) Methods() []string { return []string{"dependantTask"} }

// Weight is kojid's 0.2: the task mostly waits.
func (DependantTask) Weight(*Task) float64 { return dependantWeight }

// Handle runs handler(wait_list, task_list).
func (d DependantTask) Handle(ctx context.Context, t *Task) (any, error) {
	a, err := t.args([]string{"wait_list", "task_list"}, 2)
	if err != nil {
		return nil, err
	}
	waitList, ok := a["wait_list"].([]any)
	if !ok {
		return nil, Fail(koji.ErrParameter, "dependantTask: wait_list is not a list")
	}
	taskList, ok := a["task_list"].([]any)
	if !ok {
		return nil, Fail(koji.ErrParameter, "dependantTask: task_list is not a list")
	}
	var wait []int64
	for _, w := range waitList {
		id, ok := w.(int64)
		if !ok {
			t.Logger.Debug("builder: invalid task id; removed from the wait list", "task", w)
			continue
		}
		var info *koji.Task
		if err := t.Client.Call(ctx, "getTaskInfo", &info, id); err != nil {
			return nil, fmt.Errorf("builder: getTaskInfo: %w", err)
		}
		if info == nil {
			t.Logger.Debug("builder: no such task; removed from the wait list", "task", id)
			continue
		}
		wait = append(wait, id)
	}
	poll := d.PollInterval
	if poll <= 0 {
		poll = time.Second
	}
	for len(wait) > 0 {
		for _, id := range slices.Clone(wait) {
			var done bool
			if err := t.Client.Call(ctx, "taskFinished", &done, id); err != nil {
				return nil, fmt.Errorf("builder: taskFinished: %w", err)
			}
			if !done {
				continue
			}
			var info *koji.Task
			if err := t.Client.Call(ctx, "getTaskInfo", &info, id); err != nil {
				return nil, fmt.Errorf("builder: getTaskInfo: %w", err)
			}
			if info != nil && (info.State == koji.TaskCanceled || info.State == koji.TaskFailed) {
				return nil, Fail(koji.ErrGeneric, "Dependency %d failed to complete.", info.ID)
			}
			wait = slices.DeleteFunc(wait, func(x int64) bool { return x == id })
		}
		if len(wait) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(poll):
		}
	}
	var subtasks []int
	for _, x := range taskList {
		spec, ok := x.([]any)
		if !ok || len(spec) < 2 {
			return nil, Fail(koji.ErrParameter, "dependantTask: a task is not [method, args, opts]")
		}
		method, ok := spec[0].(string)
		args, ok2 := spec[1].([]any)
		if !ok || !ok2 {
			return nil, Fail(koji.ErrParameter, "dependantTask: a task is not [method, args, opts]")
		}
		var opts *SubtaskOptions
		if len(spec) > 2 {
			if o, ok := spec[2].(map[string]any); ok && len(o) > 0 {
				if opts, err = subtaskOptions(o); err != nil {
					return nil, err
				}
			}
		}
		id, err := t.Subtask(ctx, method, args, opts)
		if err != nil {
			return nil, err
		}
		if id != 0 {
			subtasks = append(subtasks, id)
		}
	}
	if len(subtasks) > 0 {
		if _, err := t.Wait(ctx, WaitOptions{Subtasks: subtasks, All: true}); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// subtaskOptions are a task list entry's options (priority, arch,
// channel, label) as host.subtask takes them.
func subtaskOptions(o map[string]any) (*SubtaskOptions, error) {
	var opts SubtaskOptions
	for k, v := range o {
		switch k {
		case "priority":
			p, ok := v.(int64)
			if !ok {
				return nil, Fail(koji.ErrParameter, "dependantTask: priority %v is not an integer", v)
			}
			n := int(p)
			opts.Priority = &n
		case "arch", "channel", "label":
			s, ok := v.(string)
			if !ok {
				return nil, Fail(koji.ErrParameter, "dependantTask: %s %v is not a string", k, v)
			}
			switch k {
			case "arch":
				opts.Arch = s
			case "channel":
				opts.Channel = s
			default:
				opts.Label = s
			}
		default:
			return nil, Fail(koji.ErrParameter, "dependantTask: unexpected task option %s", k)
		}
	}
	return &opts, nil
}
