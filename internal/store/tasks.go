package store

import (
	"context"
	"math"
	"strings"
	"time"
)

// Task states, as koji.TASK_STATES.
const (
	TaskFree     = 0
	TaskOpen     = 1
	TaskClosed   = 2
	TaskCanceled = 3
	TaskAssigned = 4
	TaskFailed   = 5
)

// Task is a row of task. Request and Result hold whole XML-RPC documents
// (a methodCall and a methodResponse).
type Task struct {
	ID             int64
	State          int
	CreateTime     time.Time
	StartTime      *time.Time
	CompletionTime *time.Time
	ChannelID      int64
	HostID         *int64
	Parent         *int64
	Label          *string
	Waiting        *bool
	Awaited        *bool
	Owner          int64
	Method         string
	Request        string
	Result         *string
	ETA            *int64
	Arch           string
	Priority       int
	Weight         float64
}

const taskColumns = "id, state, create_time, start_time, completion_time, channel_id, host_id, parent, label, " +
	"waiting, awaited, owner, COALESCE(method, ''), COALESCE(request, ''), result, eta, arch, COALESCE(priority, 0), weight"

func scanTask(row scanner) (*Task, error) {
	var t Task
	err := row.Scan(&t.ID, &t.State, &t.CreateTime, &t.StartTime, &t.CompletionTime, &t.ChannelID, &t.HostID,
		&t.Parent, &t.Label, &t.Waiting, &t.Awaited, &t.Owner, &t.Method, &t.Request, &t.Result, &t.ETA,
		&t.Arch, &t.Priority, &t.Weight)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// CreateTask inserts a task from t created now and returns its id. ID,
// CreateTime and the run-time fields StartTime, CompletionTime and Result
// are ignored. HostID is stored with the state (an ASSIGNED task names its
// host); a zero Weight leaves the column's default, 1.0, as upstream's
// make_task does (the builder sets the weight when it opens the task). A
// label already used under the same parent is a [*ConflictError].
func (tx *Tx) CreateTask(ctx context.Context, t Task) (int64, error) {
	if t.Weight == 0 {
		return tx.insertID(ctx, "INSERT INTO task (state, create_time, channel_id, host_id, parent, label, waiting, awaited, "+
			"owner, method, request, eta, arch, priority) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
			t.State, now(), t.ChannelID, t.HostID, t.Parent, t.Label, t.Waiting, t.Awaited, t.Owner,
			t.Method, t.Request, t.ETA, t.Arch, t.Priority)
	}
	return tx.insertID(ctx, "INSERT INTO task (state, create_time, channel_id, host_id, parent, label, waiting, awaited, "+
		"owner, method, request, eta, arch, priority, weight) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
		t.State, now(), t.ChannelID, t.HostID, t.Parent, t.Label, t.Waiting, t.Awaited, t.Owner,
		t.Method, t.Request, t.ETA, t.Arch, t.Priority, t.Weight)
}

// GetTask returns the task with the given id.
func (tx *Tx) GetTask(ctx context.Context, id int64) (*Task, error) {
	t, err := scanTask(tx.queryRow(ctx, "SELECT "+taskColumns+" FROM task WHERE id = ?", id))
	if err != nil {
		return nil, notFound(err, "task", id)
	}
	return t, nil
}

// LockTask returns the task with the given id and locks its row until the
// transaction ends, as upstream's QueryProcessor rowlock option does:
// SELECT … FOR UPDATE on PostgreSQL, so concurrent state changes of one task
// queue instead of racing; SQLite has a single writer, which already
// serialises them.
func (tx *Tx) LockTask(ctx context.Context, id int64) (*Task, error) {
	q := "SELECT " + taskColumns + " FROM task WHERE id = ?"
	if tx.pool.dialect == Postgres {
		q += " FOR UPDATE"
	}
	t, err := scanTask(tx.queryRow(ctx, q, id))
	if err != nil {
		return nil, notFound(err, "task", id)
	}
	return t, nil
}

// SetTaskState sets a task's state and host (nil clears it), and with
// start its start_time to now, and returns the task as updated. It is the
// write of upstream's Task.lock and Task.free.
func (tx *Tx) SetTaskState(ctx context.Context, id int64, state int, hostID *int64, start bool) (*Task, error) {
	q := "UPDATE task SET state = ?, host_id = ? WHERE id = ? RETURNING " + taskColumns
	args := []any{state, hostID, id}
	if start {
		q = "UPDATE task SET state = ?, host_id = ?, start_time = ? WHERE id = ? RETURNING " + taskColumns
		args = []any{state, hostID, now(), id}
	}
	t, err := scanTask(tx.queryRow(ctx, q, args...))
	if err != nil {
		return nil, notFound(err, "task", id)
	}
	return t, nil
}

// EndTask finishes a task: it sets state (TaskClosed, TaskFailed or
// TaskCanceled) and completion_time now, and result unless it is nil, and
// returns the task as updated. It checks nothing about the task's current
// state or host; callers do, as upstream's Task._close and cancel leave
// access checks to theirs.
func (tx *Tx) EndTask(ctx context.Context, id int64, state int, result *string) (*Task, error) {
	q := "UPDATE task SET state = ?, completion_time = ? WHERE id = ? RETURNING " + taskColumns
	args := []any{state, now(), id}
	if result != nil {
		q = "UPDATE task SET state = ?, completion_time = ?, result = ? WHERE id = ? RETURNING " + taskColumns
		args = []any{state, now(), *result, id}
	}
	t, err := scanTask(tx.queryRow(ctx, q, args...))
	if err != nil {
		return nil, notFound(err, "task", id)
	}
	return t, nil
}

// SetTaskPriority sets a task's priority.
func (tx *Tx) SetTaskPriority(ctx context.Context, id int64, priority int) error {
	return tx.execOne(ctx, "task", id, "UPDATE task SET priority = ? WHERE id = ?", priority, id)
}

// SetTaskWeight sets a task's weight, which must not be negative.
func (tx *Tx) SetTaskWeight(ctx context.Context, id int64, weight float64) error {
	return tx.execOne(ctx, "task", id, "UPDATE task SET weight = ? WHERE id = ?", weight, id)
}

// TaskChildIDs returns the ids of the tasks whose parent is id, in id
// order.
func (tx *Tx) TaskChildIDs(ctx context.Context, id int64) ([]int64, error) {
	rows, err := tx.query(ctx, "SELECT id FROM task WHERE parent = ? ORDER BY id", id)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r scanner) (*int64, error) {
		var n int64
		return &n, r.Scan(&n)
	})
}

// TaskFilter selects tasks for [Tx.ListTasks]; zero fields do not filter.
type TaskFilter struct {
	States   []int
	Owner    *int64
	HostID   *int64
	Parent   *int64
	TopLevel bool // only tasks without a parent
	Method   string
	Channels []int64
	Limit    int // at most this many tasks
	Offset   int
}

// ListTasks returns the tasks that match f, in id order.
func (tx *Tx) ListTasks(ctx context.Context, f TaskFilter) ([]Task, error) {
	var (
		conds []string
		args  []any
	)
	if len(f.States) > 0 {
		conds = append(conds, "state IN ("+placeholders(len(f.States))+")")
		for _, s := range f.States {
			args = append(args, s)
		}
	}
	if f.Owner != nil {
		conds, args = append(conds, "owner = ?"), append(args, *f.Owner)
	}
	if f.HostID != nil {
		conds, args = append(conds, "host_id = ?"), append(args, *f.HostID)
	}
	if f.Parent != nil {
		conds, args = append(conds, "parent = ?"), append(args, *f.Parent)
	}
	if f.TopLevel {
		conds = append(conds, "parent IS NULL")
	}
	if f.Method != "" {
		conds, args = append(conds, "method = ?"), append(args, f.Method)
	}
	if len(f.Channels) > 0 {
		conds = append(conds, "channel_id IN ("+placeholders(len(f.Channels))+")")
		for _, c := range f.Channels {
			args = append(args, c)
		}
	}
	q := "SELECT " + taskColumns + " FROM task"
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	q += " ORDER BY id"
	if f.Limit > 0 || f.Offset > 0 {
		limit := int64(f.Limit)
		if limit <= 0 {
			limit = math.MaxInt64 // SQLite has no OFFSET without LIMIT
		}
		q, args = q+" LIMIT ? OFFSET ?", append(args, limit, f.Offset)
	}
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanTask)
}
