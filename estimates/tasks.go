package estimates

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gokoji/gokoji/koji"
	"golang.org/x/sync/errgroup"
)

// TaskCompletion returns when the task finished, or when it is expected
// to, by txkoji's rules:
//
//   - a finished task: its completion time;
//   - a build or image task: the estimate of its open buildArch or
//     createImage subtask that started last, which do the work;
//     ErrNoDescendents when there is none;
//   - a free task: its creation time, plus the PollInterval a builder
//     takes to pick it up, plus TaskDuration; a *ChannelFullError when the
//     open tasks of its channel weigh as much as its enabled hosts'
//     capacity, since it then waits for them;
//   - any other task: its start time plus TaskDuration.
//
// An assigned task, which has not started (txkoji fails on it), is
// expected to start within PollInterval from now. TaskDuration's errors
// pass through: ErrNoPackage for a task that builds no package, ErrNoHistory
// for one without a build history.
//
// Tasks need their request (koji.TaskInfoOptions.Request); a task
// without it is fetched again with it when its package is needed.
func (e *Estimator) TaskCompletion(ctx context.Context, t *koji.Task) (time.Time, error) {
	if t == nil {
		return time.Time{}, ErrNilInput
	}
	if _, err := e.client(); err != nil {
		return time.Time{}, err
	}
	if end, ok := t.Completed(); ok {
		return end, nil
	}
	switch t.Method {
	case "build":
		return e.subtaskCompletion(ctx, t, "buildArch")
	case "image":
		return e.subtaskCompletion(ctx, t, "createImage")
	}
	switch {
	case t.State == koji.TaskFree:
		return e.freeCompletion(ctx, t)
	case t.State.Done():
		return time.Time{}, fmt.Errorf("%w: task %d is %s without a completion time", ErrMissingTime, t.ID, t.State)
	}
	d, err := e.TaskDuration(ctx, t)
	if err != nil {
		return time.Time{}, err
	}
	start, ok := t.Started()
	if !ok { // assigned: its host opens it when it next checks in
		start = e.now().Add(e.pollInterval())
	}
	return start.Add(d), nil
}

// TaskDuration returns how long the task took, or is expected to take
// from its start: its actual duration when it finished; PollInterval plus
// 15 s for a tagBuild task; else AverageBuildDuration of the package it
// builds (koji.Task.Package). It returns ErrNoPackage for a task that
// builds none and ErrNoHistory when the package has no estimate.
//
// txkoji looks for the package before checking for tagBuild, which
// builds none, so its tagBuild rule never applies; here it does.
func (e *Estimator) TaskDuration(ctx context.Context, t *koji.Task) (time.Duration, error) {
	if t == nil {
		return 0, ErrNilInput
	}
	if _, err := e.client(); err != nil {
		return 0, err
	}
	if _, ok := t.Completed(); ok {
		if d, ok := t.Duration(e.now()); ok {
			return d, nil
		}
		return 0, fmt.Errorf("%w: task %d ended without starting", ErrMissingTime, t.ID)
	}
	if t.Method == "tagBuild" {
		return e.pollInterval() + tagBuildWork, nil
	}
	pkg, err := e.taskPackage(ctx, t)
	if err != nil {
		return 0, err
	}
	if pkg == "" {
		return 0, fmt.Errorf("%w: task %d is %s", ErrNoPackage, t.ID, t.Method)
	}
	d, ok, err := e.AverageBuildDuration(ctx, pkg)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, fmt.Errorf("%w: package %s of task %d", ErrNoHistory, pkg, t.ID)
	}
	return d, nil
}

// taskPackage returns the package the task builds, fetching the task's
// request when it came without it (host.getTasks, getTaskInfo without
// request).
func (e *Estimator) taskPackage(ctx context.Context, t *koji.Task) (string, error) {
	pkg, err := t.Package()
	if !errors.Is(err, koji.ErrNoTaskRequest) {
		return pkg, err
	}
	full, err := e.Client.GetTaskInfo(ctx, t.ID, &koji.TaskInfoOptions{Request: true, Strict: true})
	if err != nil {
		return "", err
	}
	return full.Package()
}

// subtaskCompletion is txkoji's estimate_descendents: the estimate of the
// open subtask of that method that started last.
func (e *Estimator) subtaskCompletion(ctx context.Context, t *koji.Task, method string) (time.Time, error) {
	children, err := e.Client.GetTaskChildren(ctx, t.ID, &koji.TaskInfoOptions{Request: true})
	if err != nil {
		return time.Time{}, err
	}
	var newest *koji.Task
	var newestStart time.Time
	for _, child := range children {
		if child == nil || child.Method != method || child.State != koji.TaskOpen {
			continue
		}
		if start, _ := child.Started(); newest == nil || start.After(newestStart) {
			newest, newestStart = child, start
		}
	}
	if newest == nil {
		return time.Time{}, fmt.Errorf("%w: task %d has no open %s subtask", ErrNoDescendents, t.ID, method)
	}
	return e.TaskCompletion(ctx, newest)
}

// freeCompletion is txkoji's _estimate_free. It asks for the channel's
// capacity, its open tasks and the task's duration at once.
func (e *Estimator) freeCompletion(ctx context.Context, t *koji.Task) (time.Time, error) {
	var capacity, openWeight float64
	var d time.Duration
	var durationErr error
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		capacity, err = e.Client.ChannelCapacity(gctx, t.ChannelID)
		return err
	})
	g.Go(func() error {
		open := &koji.ListTasksOptions{State: []koji.TaskState{koji.TaskOpen}}
		for task, err := range e.Client.ChannelTasks(gctx, t.ChannelID, open) {
			if err != nil {
				return err
			}
			openWeight += task.Weight
		}
		return nil
	})
	g.Go(func() error {
		d, durationErr = e.TaskDuration(gctx, t)
		if errors.Is(durationErr, ErrNoPackage) || errors.Is(durationErr, ErrNoHistory) {
			return nil // reported after the channel's capacity, as txkoji does
		}
		return durationErr
	})
	if err := g.Wait(); err != nil {
		return time.Time{}, err
	}
	if openWeight >= capacity {
		return time.Time{}, &ChannelFullError{TaskID: t.ID, ChannelID: t.ChannelID, Capacity: capacity, OpenWeight: openWeight}
	}
	if durationErr != nil {
		return time.Time{}, durationErr
	}
	return t.Created().Add(e.pollInterval() + d), nil
}

// BuildCompletion returns when the build completed, or for a build still
// building, when it is expected to: its start time plus
// AverageBuildDuration of its package. It returns ErrNoHistory when the
// package has no estimate. txkoji asks the hub's average even for
// containers; here the Estimator's FromLastBuilds rule applies, as it
// does for tasks.
func (e *Estimator) BuildCompletion(ctx context.Context, b *koji.Build) (time.Time, error) {
	if b == nil {
		return time.Time{}, ErrNilInput
	}
	if _, err := e.client(); err != nil {
		return time.Time{}, err
	}
	if b.State != koji.BuildBuilding {
		if end, ok := b.Completed(); ok {
			return end, nil
		}
		return time.Time{}, fmt.Errorf("%w: build %d is %s without a completion time", ErrMissingTime, b.ID, b.State)
	}
	start, ok := b.Started()
	if !ok {
		return time.Time{}, fmt.Errorf("%w: build %d is building without a start time", ErrMissingTime, b.ID)
	}
	name := b.Name
	if name == "" {
		name = b.PackageName
	}
	d, ok, err := e.AverageBuildDuration(ctx, name)
	if err != nil {
		return time.Time{}, err
	}
	if !ok {
		return time.Time{}, fmt.Errorf("%w: package %s of build %d", ErrNoHistory, name, b.ID)
	}
	return start.Add(d), nil
}
