package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Lock takes the named lock (a row of locks, as upstream's db_lock): it
// lasts until the transaction ends. With wait false it gives up at once,
// returning false, when another transaction holds the lock; with wait it
// queues for it. A lock row that does not exist yet is created.
//
// On PostgreSQL the row is locked with SELECT … FOR UPDATE [NOWAIT], so
// several hub processes sharing the database exclude each other. SQLite
// has one writer at a time: a read-write transaction already excludes
// every other writer, in this process and in others, so the lock is taken
// by writing the row.
func (tx *Tx) Lock(ctx context.Context, name string, wait bool) (bool, error) {
	if tx.pool.dialect != Postgres {
		res, err := tx.exec(ctx, "UPDATE locks SET name = name WHERE name = ?", name)
		if err != nil {
			return false, fmt.Errorf("store: lock %s: %w", name, err)
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err == nil, err
		}
		_, err = tx.exec(ctx, "INSERT INTO locks (name) VALUES (?)", name)
		return err == nil, err
	}
	for range 2 {
		ok, found, err := tx.pgLock(ctx, name, wait)
		if err != nil || found {
			return ok, err
		}
		if _, err := tx.exec(ctx, "INSERT INTO locks (name) VALUES (?) ON CONFLICT DO NOTHING", name); err != nil {
			return false, fmt.Errorf("store: lock %s: %w", name, err)
		}
	}
	return false, fmt.Errorf("store: lock %s: the lock row vanished", name)
}

// lockSavepoint guards a NOWAIT lock attempt, whose failure would
// otherwise abort the PostgreSQL transaction.
const lockSavepoint = "store_lock"

// pgLock locks the row of name on PostgreSQL; found is false when there
// is no such row.
func (tx *Tx) pgLock(ctx context.Context, name string, wait bool) (ok, found bool, err error) {
	q := "SELECT name FROM locks WHERE name = ? FOR UPDATE"
	if wait {
		var got string
		err := tx.queryRow(ctx, q, name).Scan(&got)
		if errors.Is(err, sql.ErrNoRows) {
			return false, false, nil
		}
		return err == nil, true, err
	}
	if err := tx.Savepoint(ctx, lockSavepoint); err != nil {
		return false, false, err
	}
	var got string
	err = tx.queryRow(ctx, q+" NOWAIT", name).Scan(&got)
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "55P03": // lock_not_available
		return false, true, tx.RollbackToSavepoint(ctx, lockSavepoint)
	case errors.Is(err, sql.ErrNoRows):
		return false, false, tx.ReleaseSavepoint(ctx, lockSavepoint)
	case err != nil:
		return false, false, err
	}
	return true, true, tx.ReleaseSavepoint(ctx, lockSavepoint)
}

// SchedulerSysData returns the JSON text stored in scheduler_sys_data
// under name; ok is false when there is none.
func (tx *Tx) SchedulerSysData(ctx context.Context, name string) (data string, ok bool, err error) {
	var v sql.NullString
	err = tx.queryRow(ctx, "SELECT data FROM scheduler_sys_data WHERE name = ?", name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return v.String, err == nil && v.Valid, err
}

// SetSchedulerSysData stores the JSON text data under name, replacing
// what was there.
func (tx *Tx) SetSchedulerSysData(ctx context.Context, name, data string) error {
	_, err := tx.exec(ctx, "INSERT INTO scheduler_sys_data (name, data) VALUES (?, ?) "+
		"ON CONFLICT (name) DO UPDATE SET data = excluded.data", name, data)
	return err
}

// HostData is a row of scheduler_host_data: what a builder reported about
// itself, as JSON text.
type HostData struct {
	HostID int64
	Data   *string
}

// SetSchedulerHostData stores a host's data (JSON text), replacing what
// was there.
func (tx *Tx) SetSchedulerHostData(ctx context.Context, hostID int64, data string) error {
	_, err := tx.exec(ctx, "INSERT INTO scheduler_host_data (host_id, data) VALUES (?, ?) "+
		"ON CONFLICT (host_id) DO UPDATE SET data = excluded.data", hostID, data)
	return err
}

// SchedulerHostData returns the data of one host, or with hostID nil of
// every host, in host id order.
func (tx *Tx) SchedulerHostData(ctx context.Context, hostID *int64) ([]HostData, error) {
	q, args := "SELECT host_id, data FROM scheduler_host_data", []any(nil)
	if hostID != nil {
		q, args = q+" WHERE host_id = ?", []any{*hostID}
	}
	rows, err := tx.query(ctx, q+" ORDER BY host_id", args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r scanner) (*HostData, error) {
		var d HostData
		return &d, r.Scan(&d.HostID, &d.Data)
	})
}

// TaskRun is a row of scheduler_task_runs: one assignment of a task to a
// host by the scheduler.
type TaskRun struct {
	ID         int64
	TaskID     int64
	HostID     int64
	Active     bool
	CreateTime time.Time
}

// AddTaskRun ends the task's active runs and records a new active one on
// the host, created now, as the scheduler's assign does.
func (tx *Tx) AddTaskRun(ctx context.Context, taskID, hostID int64) (int64, error) {
	if err := tx.EndTaskRuns(ctx, taskID); err != nil {
		return 0, err
	}
	return tx.insertID(ctx, "INSERT INTO scheduler_task_runs (task_id, host_id, active, create_time) VALUES (?, ?, TRUE, ?) RETURNING id",
		taskID, hostID, now())
}

// EndTaskRuns marks the task's active runs inactive.
func (tx *Tx) EndTaskRuns(ctx context.Context, taskID int64) error {
	_, err := tx.exec(ctx, "UPDATE scheduler_task_runs SET active = FALSE WHERE task_id = ? AND active = TRUE", taskID)
	return err
}

// ActiveTaskRuns returns the active runs, in id order.
func (tx *Tx) ActiveTaskRuns(ctx context.Context) ([]TaskRun, error) {
	rows, err := tx.query(ctx, "SELECT id, task_id, host_id, active, create_time FROM scheduler_task_runs WHERE active = TRUE ORDER BY id")
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r scanner) (*TaskRun, error) {
		var run TaskRun
		return &run, r.Scan(&run.ID, &run.TaskID, &run.HostID, &run.Active, &run.CreateTime)
	})
}

// EndStaleTaskRuns marks inactive the active runs whose task is neither
// OPEN nor ASSIGNED any more, returning how many it ended.
func (tx *Tx) EndStaleTaskRuns(ctx context.Context) (int64, error) {
	res, err := tx.exec(ctx, "UPDATE scheduler_task_runs SET active = FALSE WHERE active = TRUE AND "+
		"NOT EXISTS (SELECT 1 FROM task WHERE task.id = scheduler_task_runs.task_id AND task.state IN (?, ?))",
		TaskOpen, TaskAssigned)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// TaskRefusal is a row of scheduler_task_refusals, with the state of its
// task.
type TaskRefusal struct {
	ID        int64
	TaskID    int64
	HostID    int64
	ByHost    bool
	Soft      bool
	Msg       *string
	Time      time.Time
	TaskState int
}

// SetTaskRefusal records that a host refuses (or was refused) a task. An
// existing refusal of the pair is updated, keeping its time, as upstream's
// upsert does.
func (tx *Tx) SetTaskRefusal(ctx context.Context, taskID, hostID int64, soft, byHost bool, msg string) error {
	_, err := tx.exec(ctx, "INSERT INTO scheduler_task_refusals (task_id, host_id, by_host, soft, msg, time) VALUES (?, ?, ?, ?, ?, ?) "+
		"ON CONFLICT (task_id, host_id) DO UPDATE SET by_host = excluded.by_host, soft = excluded.soft, msg = excluded.msg",
		taskID, hostID, byHost, soft, msg, now())
	return err
}

// TaskRefusals returns every refusal with its task's state, in id order.
func (tx *Tx) TaskRefusals(ctx context.Context) ([]TaskRefusal, error) {
	rows, err := tx.query(ctx, "SELECT r.id, r.task_id, r.host_id, r.by_host, r.soft, r.msg, r.time, COALESCE(t.state, 0) "+
		"FROM scheduler_task_refusals r JOIN task t ON t.id = r.task_id ORDER BY r.id")
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r scanner) (*TaskRefusal, error) {
		var f TaskRefusal
		return &f, r.Scan(&f.ID, &f.TaskID, &f.HostID, &f.ByHost, &f.Soft, &f.Msg, &f.Time, &f.TaskState)
	})
}

// DeleteTaskRefusals deletes the refusals with the given ids.
func (tx *Tx) DeleteTaskRefusals(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.exec(ctx, "DELETE FROM scheduler_task_refusals WHERE id IN ("+placeholders(len(ids))+")", int64Args(ids)...)
	return err
}

// AddSchedulerLog records a scheduler message about a task and/or host
// (either may be nil), timed now.
func (tx *Tx) AddSchedulerLog(ctx context.Context, taskID, hostID *int64, msg string) error {
	_, err := tx.exec(ctx, "INSERT INTO scheduler_log_messages (task_id, host_id, msg_time, msg) VALUES (?, ?, ?, ?)",
		taskID, hostID, now(), msg)
	return err
}

// SchedTask is a task as the scheduler sees it.
type SchedTask struct {
	ID         int64
	State      int
	Waiting    bool
	Weight     float64
	ChannelID  int64
	HostID     *int64
	Arch       string
	Method     string
	Priority   int
	CreateTime time.Time
}

const schedTaskColumns = "id, state, COALESCE(waiting, FALSE), weight, channel_id, host_id, arch, COALESCE(method, ''), " +
	"COALESCE(priority, 0), create_time"

func scanSchedTask(r scanner) (*SchedTask, error) {
	var t SchedTask
	return &t, r.Scan(&t.ID, &t.State, &t.Waiting, &t.Weight, &t.ChannelID, &t.HostID, &t.Arch, &t.Method, &t.Priority, &t.CreateTime)
}

// SchedulerActiveTasks returns the ASSIGNED and OPEN tasks that have a
// host, in id order.
func (tx *Tx) SchedulerActiveTasks(ctx context.Context) ([]SchedTask, error) {
	rows, err := tx.query(ctx, "SELECT "+schedTaskColumns+" FROM task WHERE state IN (?, ?) AND host_id IS NOT NULL ORDER BY id",
		TaskAssigned, TaskOpen)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanSchedTask)
}

// SchedulerFreeTasks returns up to limit FREE tasks in the order the
// scheduler serves them: priority (lower first), then age.
func (tx *Tx) SchedulerFreeTasks(ctx context.Context, limit int) ([]SchedTask, error) {
	rows, err := tx.query(ctx, "SELECT "+schedTaskColumns+" FROM task WHERE state = ? ORDER BY priority, create_time, id LIMIT ?",
		TaskFree, limit)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanSchedTask)
}

// SchedHost is an enabled host as the scheduler sees it: with its
// configuration, its data (JSON text) and the enabled channels it listens
// on.
type SchedHost struct {
	ID         int64
	Name       string
	UpdateTime *time.Time
	TaskLoad   float64
	Ready      bool
	Arches     string
	Capacity   float64
	Enabled    bool
	Data       *string
	Channels   []int64
}

// SchedulerHosts returns the enabled hosts, in id order.
func (tx *Tx) SchedulerHosts(ctx context.Context) ([]SchedHost, error) {
	rows, err := tx.query(ctx, "SELECT h.id, h.name, h.update_time, h.task_load, h.ready, COALESCE(hc.arches, ''), hc.capacity, "+
		"hc.enabled, d.data FROM host h JOIN host_config hc ON hc.host_id = h.id AND hc.active = TRUE "+
		"LEFT JOIN scheduler_host_data d ON d.host_id = h.id WHERE hc.enabled = TRUE ORDER BY h.id")
	if err != nil {
		return nil, err
	}
	hosts, err := collect(rows, func(r scanner) (*SchedHost, error) {
		var h SchedHost
		return &h, r.Scan(&h.ID, &h.Name, &h.UpdateTime, &h.TaskLoad, &h.Ready, &h.Arches, &h.Capacity, &h.Enabled, &h.Data)
	})
	if err != nil || len(hosts) == 0 {
		return hosts, err
	}
	rows, err = tx.query(ctx, "SELECT hch.host_id, hch.channel_id FROM host_channels hch JOIN channels c ON c.id = hch.channel_id "+
		"WHERE hch.active = TRUE AND c.enabled = TRUE ORDER BY hch.host_id, hch.channel_id")
	if err != nil {
		return nil, err
	}
	links, err := collect(rows, func(r scanner) (*[2]int64, error) {
		var l [2]int64
		return &l, r.Scan(&l[0], &l[1])
	})
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]*SchedHost, len(hosts))
	for i := range hosts {
		byID[hosts[i].ID] = &hosts[i]
	}
	for _, l := range links {
		if h := byID[l[0]]; h != nil {
			h.Channels = append(h.Channels, l[1])
		}
	}
	return hosts, nil
}

// MarkHostsNotReady clears the ready flag of the given hosts.
func (tx *Tx) MarkHostsNotReady(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.exec(ctx, "UPDATE host SET ready = FALSE WHERE id IN ("+placeholders(len(ids))+")", int64Args(ids)...)
	return err
}

// FreeTaskFits reports whether some FREE task could go to the host: one
// in a channel the host listens on (an enabled one), of one of arches or
// noarch, lighter than maxWeight, that the host has not refused. It is
// the cheap question a waiting builder asks before running the
// scheduler.
func (tx *Tx) FreeTaskFits(ctx context.Context, hostID int64, arches []string, maxWeight float64) (bool, error) {
	args := []any{TaskFree, maxWeight, "noarch"}
	for _, a := range arches {
		args = append(args, a)
	}
	args = append(args, hostID, hostID)
	q := "SELECT t.id FROM task t WHERE t.state = ? AND t.weight < ? AND t.arch IN (" + placeholders(len(arches)+1) + ") " +
		"AND t.channel_id IN (SELECT hch.channel_id FROM host_channels hch JOIN channels c ON c.id = hch.channel_id " +
		"WHERE hch.host_id = ? AND hch.active = TRUE AND c.enabled = TRUE) " +
		"AND NOT EXISTS (SELECT 1 FROM scheduler_task_refusals r WHERE r.task_id = t.id AND r.host_id = ?) LIMIT 1"
	var id int64
	err := tx.queryRow(ctx, q, args...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

func int64Args(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}
