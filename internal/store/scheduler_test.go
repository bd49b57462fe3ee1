package store

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// schedFixture is an owner, two hosts (x86_64 in channels default and
// createrepo; aarch64 in default) and a helper to create tasks.
type schedFixture struct {
	owner, h1, h2 int64
}

func newSchedFixture(t *testing.T, tx *Tx) schedFixture {
	ctx := context.Background()
	var f schedFixture
	var err error
	f.owner, err = tx.CreateUser(ctx, User{Name: "owner"})
	require.NoError(t, err)
	for i, spec := range []struct{ name, arches string }{{"b1", "x86_64 i686"}, {"b2", "aarch64"}} {
		u, err := tx.CreateUser(ctx, User{Name: spec.name, UserType: UserTypeHost})
		require.NoError(t, err)
		h, err := tx.CreateHost(ctx, u, spec.name, HostConfig{Arches: spec.arches, Enabled: true}, f.owner)
		require.NoError(t, err)
		require.NoError(t, tx.AddHostChannel(ctx, h, 1, f.owner))
		if i == 0 {
			f.h1 = h
			require.NoError(t, tx.AddHostChannel(ctx, h, 2, f.owner))
		} else {
			f.h2 = h
		}
	}
	return f
}

func (f schedFixture) task(t *testing.T, tx *Tx, task Task) int64 {
	if task.ChannelID == 0 {
		task.ChannelID = 1
	}
	if task.Arch == "" {
		task.Arch = "noarch"
	}
	if task.Priority == 0 {
		task.Priority = 20
	}
	task.Owner, task.Method, task.Request = f.owner, "sleep", taskRequest
	id, err := tx.CreateTask(context.Background(), task)
	require.NoError(t, err)
	return id
}

func TestSchedulerTables(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openTest(t, dsn)
		inTx(t, db, func(tx *Tx) {
			f := newSchedFixture(t, tx)

			_, ok, err := tx.SchedulerSysData(ctx, "last_run_ts")
			require.NoError(t, err)
			assert.False(t, ok)
			require.NoError(t, tx.SetSchedulerSysData(ctx, "last_run_ts", "1.5"))
			require.NoError(t, tx.SetSchedulerSysData(ctx, "last_run_ts", "2.5"))
			data, ok, err := tx.SchedulerSysData(ctx, "last_run_ts")
			require.NoError(t, err)
			assert.True(t, ok)
			assert.Equal(t, "2.5", data)

			require.NoError(t, tx.SetSchedulerHostData(ctx, f.h2, `{"maxjobs": 3}`))
			require.NoError(t, tx.SetSchedulerHostData(ctx, f.h1, `{"methods": ["sleep"]}`))
			require.NoError(t, tx.SetSchedulerHostData(ctx, f.h1, `{"maxjobs": 2}`))
			all, err := tx.SchedulerHostData(ctx, nil)
			require.NoError(t, err)
			require.Len(t, all, 2)
			assert.Equal(t, []int64{f.h1, f.h2}, []int64{all[0].HostID, all[1].HostID})
			assert.Equal(t, `{"maxjobs": 2}`, *all[0].Data)
			one, err := tx.SchedulerHostData(ctx, &f.h2)
			require.NoError(t, err)
			assert.Equal(t, []HostData{{HostID: f.h2, Data: ptr(`{"maxjobs": 3}`)}}, one)

			hosts, err := tx.SchedulerHosts(ctx)
			require.NoError(t, err)
			require.Len(t, hosts, 2)
			assert.Equal(t, []int64{1, 2}, hosts[0].Channels)
			assert.Equal(t, []int64{1}, hosts[1].Channels)
			assert.Equal(t, "x86_64 i686", hosts[0].Arches)
			assert.Equal(t, `{"maxjobs": 2}`, *hosts[0].Data)
			assert.Equal(t, 2.0, hosts[0].Capacity)
			// A disabled host is left out.
			tx.NextEvent()
			require.NoError(t, tx.SetHostConfig(ctx, f.h2, HostConfig{Arches: "aarch64"}, f.owner))
			hosts, err = tx.SchedulerHosts(ctx)
			require.NoError(t, err)
			require.Len(t, hosts, 1)
			enabled, err := tx.HostEnabled(ctx, f.h2)
			require.NoError(t, err)
			assert.False(t, enabled)
			_, err = tx.HostEnabled(ctx, 999)
			assert.ErrorIs(t, err, ErrNotFound)

			require.NoError(t, tx.UpdateHost(ctx, f.h1, true, 0.5))
			require.NoError(t, tx.MarkHostsNotReady(ctx, []int64{f.h1}))
			h, err := tx.GetHost(ctx, f.h1, nil)
			require.NoError(t, err)
			assert.False(t, h.Ready)
			assert.Equal(t, 0.5, h.TaskLoad)
		})
	})
}

func TestSchedulerTasksRunsRefusals(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openTest(t, dsn)
		inTx(t, db, func(tx *Tx) {
			f := newSchedFixture(t, tx)
			low := f.task(t, tx, Task{State: TaskFree, Priority: 30})
			high := f.task(t, tx, Task{State: TaskFree, Priority: 10, Arch: "x86_64"})
			mid := f.task(t, tx, Task{State: TaskFree, Priority: 20, Weight: 3})
			assigned := f.task(t, tx, Task{State: TaskAssigned, HostID: &f.h1})
			open := f.task(t, tx, Task{State: TaskOpen, HostID: &f.h1, Weight: 0.5})
			waiting := f.task(t, tx, Task{State: TaskOpen, HostID: &f.h1, Waiting: ptr(true), Weight: 2})
			f.task(t, tx, Task{State: TaskClosed, HostID: &f.h1})

			free, err := tx.SchedulerFreeTasks(ctx, 1000)
			require.NoError(t, err)
			require.Len(t, free, 3)
			assert.Equal(t, []int64{high, mid, low}, []int64{free[0].ID, free[1].ID, free[2].ID})
			assert.Equal(t, "x86_64", free[0].Arch)
			assert.Equal(t, 3.0, free[1].Weight)
			free, err = tx.SchedulerFreeTasks(ctx, 1)
			require.NoError(t, err)
			assert.Len(t, free, 1)
			active, err := tx.SchedulerActiveTasks(ctx)
			require.NoError(t, err)
			require.Len(t, active, 3)
			assert.Equal(t, []int64{assigned, open, waiting}, []int64{active[0].ID, active[1].ID, active[2].ID})
			assert.True(t, active[2].Waiting)
			assert.False(t, active[1].Waiting)
			n, load, err := tx.HostOpenLoad(ctx, f.h1)
			require.NoError(t, err)
			assert.Equal(t, 3, n)
			assert.Equal(t, 1.5, load) // the waiting task does not count

			// Runs: a new run ends the older ones of the task.
			r1, err := tx.AddTaskRun(ctx, assigned, f.h2)
			require.NoError(t, err)
			r2, err := tx.AddTaskRun(ctx, assigned, f.h1)
			require.NoError(t, err)
			_, err = tx.AddTaskRun(ctx, low, f.h1)
			require.NoError(t, err)
			runs, err := tx.ActiveTaskRuns(ctx)
			require.NoError(t, err)
			require.Len(t, runs, 2)
			assert.Equal(t, r2, runs[0].ID)
			assert.Equal(t, f.h1, runs[0].HostID)
			assert.WithinDuration(t, time.Now(), runs[0].CreateTime, time.Minute)
			// The run of the FREE task is stale.
			ended, err := tx.EndStaleTaskRuns(ctx)
			require.NoError(t, err)
			assert.EqualValues(t, 1, ended)
			runs, err = tx.ActiveTaskRuns(ctx)
			require.NoError(t, err)
			require.Len(t, runs, 1)
			assert.NotEqual(t, r1, runs[0].ID)

			// Refusals: an upsert keeps the row and its time.
			require.NoError(t, tx.SetTaskRefusal(ctx, low, f.h1, true, true, "busy"))
			before, err := tx.TaskRefusals(ctx)
			require.NoError(t, err)
			require.Len(t, before, 1)
			require.NoError(t, tx.SetTaskRefusal(ctx, low, f.h1, false, false, "no handler"))
			require.NoError(t, tx.SetTaskRefusal(ctx, high, f.h2, true, false, ""))
			refs, err := tx.TaskRefusals(ctx)
			require.NoError(t, err)
			require.Len(t, refs, 2)
			assert.Equal(t, before[0].ID, refs[0].ID)
			assert.Equal(t, before[0].Time, refs[0].Time)
			assert.Equal(t, []any{false, false, "no handler", TaskFree}, []any{refs[0].Soft, refs[0].ByHost, *refs[0].Msg, refs[0].TaskState})

			// FreeTaskFits: h1 listens on default and createrepo with x86_64,
			// i686; it refused low; high is x86_64; mid weighs 3.
			fits, err := tx.FreeTaskFits(ctx, f.h1, []string{"x86_64", "i686"}, 1.5)
			require.NoError(t, err)
			assert.True(t, fits) // high
			fits, err = tx.FreeTaskFits(ctx, f.h1, []string{"ppc64le"}, 10)
			require.NoError(t, err)
			assert.True(t, fits) // mid (noarch); low is refused
			fits, err = tx.FreeTaskFits(ctx, f.h1, []string{"ppc64le"}, 2)
			require.NoError(t, err)
			assert.False(t, fits)
			require.NoError(t, tx.DeleteTaskRefusals(ctx, []int64{refs[0].ID}))
			fits, err = tx.FreeTaskFits(ctx, f.h1, []string{"ppc64le"}, 2)
			require.NoError(t, err)
			assert.True(t, fits) // low

			require.NoError(t, tx.AddSchedulerLog(ctx, &low, nil, "Assigning task"))
			require.NoError(t, tx.AddSchedulerLog(ctx, nil, &f.h1, "Marking host not ready"))
		})
	})
}

func TestSchedulerLock(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openTest(t, dsn)
		tx1, err := db.Begin(ctx)
		require.NoError(t, err)
		ok, err := tx1.Lock(ctx, "scheduler", false)
		require.NoError(t, err)
		assert.True(t, ok)
		// A lock of another name is created on first use.
		ok, err = tx1.Lock(ctx, "gokoji-test", true)
		require.NoError(t, err)
		assert.True(t, ok)
		if db.Dialect() != Postgres {
			// SQLite's single writer: the second transaction only begins once
			// the first ended, and then gets the lock.
			require.NoError(t, tx1.Commit(ctx))
			inTx(t, db, func(tx *Tx) {
				ok, err := tx.Lock(ctx, "scheduler", false)
				require.NoError(t, err)
				assert.True(t, ok)
			})
			return
		}
		tx2, err := db.Begin(ctx)
		require.NoError(t, err)
		defer tx2.Rollback(ctx)
		ok, err = tx2.Lock(ctx, "scheduler", false)
		require.NoError(t, err)
		assert.False(t, ok)
		// The transaction goes on after the refused lock.
		_, _, err = tx2.SchedulerSysData(ctx, "x")
		require.NoError(t, err)
		got := make(chan bool)
		go func() {
			ok, err := tx2.Lock(ctx, "scheduler", true)
			assert.NoError(t, err)
			got <- ok
		}()
		select {
		case <-got:
			t.Fatal("a waiting lock was granted while held")
		case <-time.After(200 * time.Millisecond):
		}
		require.NoError(t, tx1.Commit(ctx))
		assert.True(t, <-got)
	})
}
