package rebuild

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/messages"
	"github.com/gokoji/gokoji/rebuild/internal/rstore"
)

// HandleEvent is the watcher (Koschei's fedmsg Watcher), a
// messages.Handler: a task state change of a build's task updates the
// build; a tag event into a collection's destination tag looks for a new
// real build. Other events are ignored.
func (s *Service) HandleEvent(ctx context.Context, ev messages.Event) error {
	switch e := ev.(type) {
	case *messages.TaskStateChange:
		if e.Task == nil {
			return nil
		}
		var builds []*Build
		err := s.db.View(ctx, func(tx *rstore.Tx) (err error) {
			builds, err = tx.BuildsByTask(ctx, int64(e.Task.ID))
			return err
		})
		if err != nil || len(builds) == 0 {
			return err
		}
		// The message's task may lack times and children: ask the hub.
		task, err := s.cfg.Hub.Task(ctx, e.Task.ID)
		if err != nil {
			return err
		}
		if task == nil {
			return nil
		}
		for _, b := range builds {
			if err := s.UpdateBuild(ctx, b, task); err != nil {
				return err
			}
		}
	case *messages.Tag:
		if e.Tag == nil || e.Build == nil {
			return nil
		}
		return s.refreshTagged(ctx, e.Tag.Name, e.Build.Name)
	}
	return nil
}

// PollBuilds asks the hub about every running build's task
// (getTaskInfo), the fallback for missed messages.
func (s *Service) PollBuilds(ctx context.Context) error {
	var running []*Build
	if err := s.db.View(ctx, func(tx *rstore.Tx) (err error) {
		running, err = tx.RunningBuilds(ctx)
		return err
	}); err != nil {
		return err
	}
	var errs []error
	for _, b := range running {
		task, err := s.cfg.Hub.Task(ctx, int(b.TaskID))
		if err == nil && task == nil {
			err = s.deleteBuild(ctx, b, "its task is gone")
		} else if err == nil {
			err = s.UpdateBuild(ctx, b, task)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// isKojiFault reports a task failure that is the hub's or builder's, not
// the build's: a LockError, or a fault outside Koji's GenericError
// family (an unexpected exception), as Koschei's is_koji_fault.
func isKojiFault(err error) bool {
	var f *koji.Fault
	return errors.Is(err, koji.ErrLock) || (errors.As(err, &f) && !errors.Is(f, koji.ErrGeneric))
}

// UpdateBuild applies a build's task state (Koschei's update_build_state,
// §4.3). A task still running is cancelled when it ran longer than
// TaskTimeout or a cancel was requested; otherwise its subtasks and repo
// are recorded. A cancelled task, a Koji fault and a finished build
// without a repo delete the build. A finished build clears the package's
// priorities and unapplied changes, sets its state, gives the failed-build
// priority when it failed after a build that did not, and announces a
// changed package state.
func (s *Service) UpdateBuild(ctx context.Context, b *Build, task *koji.Task) error {
	state := task.State
	if !state.Done() {
		if s.cfg.Now().Sub(b.Started) > s.cfg.TaskTimeout || b.CancelRequested {
			if err := s.cfg.Hub.CancelTask(ctx, task.ID); err != nil {
				return err
			}
			state = koji.TaskCanceled
		} else {
			_, err := s.syncTasks(ctx, b, task)
			return err
		}
	}
	if state == koji.TaskCanceled {
		return s.deleteBuild(ctx, b, "cancelled")
	}
	if state == koji.TaskFailed {
		if err := s.cfg.Hub.TaskResult(ctx, task.ID); isKojiFault(err) {
			return s.deleteBuild(ctx, b, "Koji fault: "+err.Error())
		}
	}
	repo, err := s.syncTasks(ctx, b, task)
	if err != nil {
		return err
	}
	if repo == 0 {
		return s.deleteBuild(ctx, b, "no repo_id")
	}
	finished := s.cfg.Now()
	if t, ok := task.Completed(); ok {
		finished = t
	}
	newState := BuildComplete
	if state == koji.TaskFailed {
		newState = BuildFailed
	}
	var c *Collection
	var before, after *Package
	err = s.db.Update(ctx, func(tx *rstore.Tx) error {
		cur, err := tx.Build(ctx, b.ID, true)
		if isNotFound(err) {
			return nil
		}
		if err != nil || cur.State != BuildRunning {
			return err // someone else finished it
		}
		if before, err = tx.Package(ctx, cur.PackageID, true); err != nil {
			return err
		}
		if c, err = tx.Collection(ctx, before.CollectionID); err != nil {
			return err
		}
		if err := tx.ClearPriorities(ctx, before.ID); err != nil {
			return err
		}
		if err := tx.FinishBuild(ctx, cur, newState, finished, repo); err != nil {
			return err
		}
		if newState == BuildFailed {
			prev, err := tx.PreviousBuild(ctx, cur)
			if err != nil {
				return err
			}
			if prev == nil || prev.State != BuildFailed {
				if err := tx.SetPackage(ctx, before.ID, rstore.FieldBuildPriority, int64(s.cfg.Priorities.FailedBuild)); err != nil {
					return err
				}
			}
		}
		after, err = tx.Package(ctx, before.ID, false)
		return err
	})
	if err != nil || after == nil {
		return err
	}
	s.log.Info("rebuild: build finished", slog.String("package", after.Name), slog.Int64("task", b.TaskID),
		slog.String("state", newState.String()))
	s.notifyPackage(ctx, c, after, StateOf(before), StateOf(after))
	return nil
}

func (s *Service) deleteBuild(ctx context.Context, b *Build, why string) error {
	s.log.Info("rebuild: build deleted", slog.Int64("task", b.TaskID), slog.String("reason", why))
	return s.db.Update(ctx, func(tx *rstore.Tx) error {
		cur, err := tx.Build(ctx, b.ID, true)
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		return tx.DeleteBuild(ctx, cur)
	})
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// syncTasks records a build's times, buildArch subtasks and repo from the
// hub (Koschei's sync_tasks) and returns the repo id, 0 if not known yet.
func (s *Service) syncTasks(ctx context.Context, b *Build, task *koji.Task) (int64, error) {
	repo, kts, err := s.subtasks(ctx, task.ID)
	if err != nil {
		return 0, err
	}
	err = s.db.Update(ctx, func(tx *rstore.Tx) error {
		if _, err := tx.Build(ctx, b.ID, true); err != nil {
			return err
		}
		var finished *time.Time
		if t, ok := task.Completed(); ok {
			finished = &t
		}
		if err := tx.SetBuildTimes(ctx, b.ID, task.Created(), finished); err != nil {
			return err
		}
		if repo != 0 {
			if err := tx.SetBuildRepo(ctx, b.ID, repo); err != nil {
				return err
			}
		}
		return tx.SetKojiTasks(ctx, b.ID, kts)
	})
	if isNotFound(err) {
		return 0, nil
	}
	return repo, err
}

// subtasks returns a build task's buildArch subtasks and the repo its
// subtasks' requests name (0 if none does yet).
func (s *Service) subtasks(ctx context.Context, task int) (int64, []KojiTask, error) {
	children, err := s.cfg.Hub.TaskChildren(ctx, task)
	if err != nil {
		return 0, nil, err
	}
	var repo int64
	var kts []KojiTask
	for _, ch := range children {
		if id := taskRepoID(ch); id != 0 {
			repo = id
		}
		if ch.Method != "buildArch" {
			continue
		}
		kt := KojiTask{TaskID: int64(ch.ID), Arch: ch.Arch, State: int(ch.State)}
		if arch, err := ch.RequestArch(); err == nil && arch != "" {
			kt.Arch = arch
		}
		if t, ok := ch.Started(); ok {
			kt.Started = &t
		}
		if t, ok := ch.Completed(); ok {
			kt.Finished = &t
		}
		kts = append(kts, kt)
	}
	return repo, kts, nil
}

// taskRepoID reads the repo id from a subtask's request, where kojid's
// build task puts it: buildArch's opts (request[4]) and rebuildSRPM's
// (request[2]).
func taskRepoID(t *koji.Task) int64 {
	params, err := t.Params()
	if err != nil {
		return 0
	}
	i := map[string]int{"buildArch": 4, "rebuildSRPM": 2}[t.Method]
	if i == 0 || len(params) <= i {
		return 0
	}
	opts, ok := params[i].(map[string]any)
	if !ok {
		return 0
	}
	switch v := opts["repo_id"].(type) {
	case int64:
		return v
	case int:
		return int64(v)
	}
	return 0
}
