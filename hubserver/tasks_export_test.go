package hubserver

import (
	"context"
	"log/slog"
)

// Exports of the task model for the external tests, which drive tasks
// through states no root method reaches.

// TaskTx runs fn in a transaction of k's database as a call by the user
// userID (0: anonymous), committing when fn succeeds and rolling back
// otherwise.
func (k *Koji) TaskTx(ctx context.Context, userID int64, fn func(ctx context.Context) error) error {
	tx, err := k.HubConfig().Store.Begin(ctx)
	if err != nil {
		return err
	}
	ctx = context.WithValue(ctx, txKey{}, tx)
	ctx = context.WithValue(ctx, loggerKey{}, slog.New(slog.DiscardHandler))
	if userID != 0 {
		ctx = WithSession(ctx, &Session{UserID: int(userID)})
	}
	if err := fn(ctx); err != nil {
		tx.Rollback(ctx)
		return err
	}
	return tx.Commit(ctx)
}

// TaskOpts are makeTask's options for the tests.
type TaskOpts = taskOpts

// MakeTaskForTest is makeTask.
func (k *Koji) MakeTaskForTest(ctx context.Context, method string, args []any, o TaskOpts) (int64, error) {
	return k.makeTask(ctx, method, args, o)
}

// LockTaskForTest is lockTask.
func (k *Koji) LockTaskForTest(ctx context.Context, id int64, hostID *int64, state int, force bool) (bool, error) {
	return k.lockTask(ctx, id, hostID, state, force)
}

// AssignTaskForTest is assignTask.
func (k *Koji) AssignTaskForTest(ctx context.Context, id, hostID int64, force bool) (bool, error) {
	return k.assignTask(ctx, id, hostID, force)
}

// OpenTaskForTest is openTask.
func (k *Koji) OpenTaskForTest(ctx context.Context, id, hostID int64) (map[string]any, error) {
	return k.openTask(ctx, id, hostID)
}

// FreeTaskForTest is freeTask.
func (k *Koji) FreeTaskForTest(ctx context.Context, id int64) error { return k.freeTask(ctx, id) }

// CloseTaskForTest is closeTask.
func (k *Koji) CloseTaskForTest(ctx context.Context, id int64, result string, state int) error {
	return k.closeTask(ctx, id, result, state)
}

// CancelTaskForTest is cancelTask.
func (k *Koji) CancelTaskForTest(ctx context.Context, id int64, recurse bool) (bool, error) {
	return k.cancelTask(ctx, id, recurse)
}

// SetTaskWeightForTest is setTaskWeight.
func (k *Koji) SetTaskWeightForTest(ctx context.Context, id int64, weight float64) error {
	return k.setTaskWeight(ctx, id, weight)
}
