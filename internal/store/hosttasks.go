package store

import (
	"context"
	"database/sql"
	"errors"
)

// The queries of the builder protocol (upstream's Host class): a host's
// assigned and open tasks, and the waiting/awaited flags with which a
// parent task waits for its subtasks.

// finishedStates are the states of a task that ended.
var finishedStates = []any{TaskClosed, TaskCanceled, TaskFailed}

// AssignedTasks returns the tasks ASSIGNED to a host, in the order it
// should take them: priority (lower first), then age.
func (tx *Tx) AssignedTasks(ctx context.Context, hostID int64) ([]Task, error) {
	rows, err := tx.query(ctx, "SELECT "+taskColumns+" FROM task WHERE host_id = ? AND state = ? ORDER BY priority, create_time, id",
		hostID, TaskAssigned)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanTask)
}

// HostOpenTask is an OPEN task of a host as host.getHostTasks reports it.
// Alert is set when the task waits and one of the subtasks it awaits has
// finished.
type HostOpenTask struct {
	ID      int64
	Waiting *bool
	Weight  float64
	Alert   bool
}

// HostOpenTasks returns the host's OPEN tasks, in id order.
func (tx *Tx) HostOpenTasks(ctx context.Context, hostID int64) ([]HostOpenTask, error) {
	rows, err := tx.query(ctx, "SELECT t.id, t.waiting, t.weight, CASE WHEN t.waiting = TRUE AND EXISTS ("+
		"SELECT 1 FROM task c WHERE c.parent = t.id AND c.awaited = TRUE AND c.state IN (?, ?, ?)) THEN 1 ELSE 0 END "+
		"FROM task t WHERE t.host_id = ? AND t.state = ? ORDER BY t.id",
		append(finishedStates[:3:3], hostID, TaskOpen)...)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r scanner) (*HostOpenTask, error) {
		var t HostOpenTask
		var alert int
		err := r.Scan(&t.ID, &t.Waiting, &t.Weight, &alert)
		t.Alert = alert == 1
		return &t, err
	})
}

// HostOpenLoad returns how many tasks are OPEN or ASSIGNED on the host and
// the sum of the weights of those that do not wait: the load the
// scheduler counts for it.
func (tx *Tx) HostOpenLoad(ctx context.Context, hostID int64) (n int, load float64, err error) {
	err = tx.queryRow(ctx, "SELECT COUNT(*), COALESCE(SUM(CASE WHEN waiting = TRUE THEN 0 ELSE weight END), 0) "+
		"FROM task WHERE host_id = ? AND state IN (?, ?)", hostID, TaskOpen, TaskAssigned).Scan(&n, &load)
	return n, load, err
}

// SetTaskWaiting sets the waiting flag of a task.
func (tx *Tx) SetTaskWaiting(ctx context.Context, id int64, waiting bool) error {
	_, err := tx.exec(ctx, "UPDATE task SET waiting = ? WHERE id = ?", waiting, id)
	return err
}

// AwaitChildren marks the children of parent awaited: all of them when
// ids is nil, else those among ids, clearing the flag on the others.
func (tx *Tx) AwaitChildren(ctx context.Context, parent int64, ids []int64) error {
	if ids == nil {
		_, err := tx.exec(ctx, "UPDATE task SET awaited = TRUE WHERE parent = ?", parent)
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	in := placeholders(len(ids))
	args := append(int64Args(ids), parent)
	if _, err := tx.exec(ctx, "UPDATE task SET awaited = TRUE WHERE id IN ("+in+") AND parent = ?", args...); err != nil {
		return err
	}
	_, err := tx.exec(ctx, "UPDATE task SET awaited = FALSE WHERE id NOT IN ("+in+") AND parent = ? AND awaited = TRUE", args...)
	return err
}

// AwaitedChildren returns the children of parent marked awaited, split
// into the finished (CLOSED, CANCELED or FAILED) and the others, each in
// id order.
func (tx *Tx) AwaitedChildren(ctx context.Context, parent int64) (finished, unfinished []int64, err error) {
	rows, err := tx.query(ctx, "SELECT id, state FROM task WHERE parent = ? AND awaited = TRUE ORDER BY id", parent)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	finished, unfinished = []int64{}, []int64{}
	for rows.Next() {
		var id int64
		var state int
		if err := rows.Scan(&id, &state); err != nil {
			return nil, nil, err
		}
		if state == TaskClosed || state == TaskCanceled || state == TaskFailed {
			finished = append(finished, id)
		} else {
			unfinished = append(unfinished, id)
		}
	}
	return finished, unfinished, rows.Err()
}

// SetTasksAwaited sets the awaited flag of the given tasks.
func (tx *Tx) SetTasksAwaited(ctx context.Context, ids []int64, awaited bool) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.exec(ctx, "UPDATE task SET awaited = ? WHERE id IN ("+placeholders(len(ids))+")",
		append([]any{awaited}, int64Args(ids)...)...)
	return err
}

// TaskUnwait ends a parent's wait: the parent stops waiting and none of
// its children is awaited any more.
func (tx *Tx) TaskUnwait(ctx context.Context, parent int64) error {
	if err := tx.SetTaskWaiting(ctx, parent, false); err != nil {
		return err
	}
	_, err := tx.exec(ctx, "UPDATE task SET awaited = FALSE WHERE parent = ?", parent)
	return err
}

// FinishedChildren returns the ids of the children of parent that are
// CLOSED, FAILED or CANCELED, in id order.
func (tx *Tx) FinishedChildren(ctx context.Context, parent int64) ([]int64, error) {
	rows, err := tx.query(ctx, "SELECT id FROM task WHERE parent = ? AND state IN (?, ?, ?) ORDER BY id",
		append([]any{parent}, finishedStates...)...)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r scanner) (*int64, error) {
		var id int64
		return &id, r.Scan(&id)
	})
}

// ChildByLabel returns the id of parent's child with the given label; ok
// is false when there is none.
func (tx *Tx) ChildByLabel(ctx context.Context, parent int64, label string) (id int64, ok bool, err error) {
	err = tx.queryRow(ctx, "SELECT id FROM task WHERE parent = ? AND label = ?", parent, label).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return id, err == nil, err
}

// HostEnabled reports whether the host's current configuration is
// enabled; a host without one is a [*NotFoundError].
func (tx *Tx) HostEnabled(ctx context.Context, hostID int64) (bool, error) {
	var enabled bool
	err := tx.queryRow(ctx, "SELECT enabled FROM host_config WHERE host_id = ? AND active = TRUE", hostID).Scan(&enabled)
	if err != nil {
		return false, notFound(err, "host", hostID)
	}
	return enabled, nil
}
