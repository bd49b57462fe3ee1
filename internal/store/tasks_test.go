package store

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const taskRequest = "<?xml version='1.0'?>\n<methodCall>\n<methodName>build</methodName>\n<params>\n</params>\n</methodCall>\n"

// seedTasks creates an owner, a host and n free x86_64 tasks in the default
// channel; it returns the host id and the task ids.
func seedTasks(t testing.TB, db *DB, n int) (int64, []int64) {
	t.Helper()
	ctx := context.Background()
	var host int64
	var ids []int64
	inTx(t, db, func(tx *Tx) {
		owner, err := tx.CreateUser(ctx, User{Name: "owner"})
		require.NoError(t, err)
		hu, err := tx.CreateUser(ctx, User{Name: "builder", UserType: UserTypeHost})
		require.NoError(t, err)
		host, err = tx.CreateHost(ctx, hu, "builder", HostConfig{Arches: "x86_64", Enabled: true}, owner)
		require.NoError(t, err)
		for i := 0; i < n; i++ {
			id, err := tx.CreateTask(ctx, Task{State: TaskFree, ChannelID: 1, Owner: owner, Method: "build",
				Request: taskRequest, Arch: "x86_64", Priority: 20, Weight: 1})
			require.NoError(t, err)
			ids = append(ids, id)
		}
	})
	return host, ids
}

func TestTasks(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openTest(t, dsn)
		_, ids := seedTasks(t, db, 2)
		inTx(t, db, func(tx *Tx) {
			parent := ids[0]
			label := "srpm"
			child, err := tx.CreateTask(ctx, Task{State: TaskFree, ChannelID: 2, Owner: 1, Method: "createrepo",
				Request: taskRequest, Arch: "noarch", Priority: 10, Weight: 0.5, Parent: &parent, Label: &label})
			require.NoError(t, err)
			require.ErrorIs(t, failing(t, tx, func() error {
				_, err := tx.CreateTask(ctx, Task{ChannelID: 1, Owner: 1, Arch: "noarch", Parent: &parent, Label: &label})
				return err
			}), ErrConflict)

			got, err := tx.GetTask(ctx, child)
			require.NoError(t, err)
			assert.Equal(t, "createrepo", got.Method)
			assert.Equal(t, taskRequest, got.Request)
			assert.Equal(t, 0.5, got.Weight)
			assert.Equal(t, &parent, got.Parent)
			assert.Nil(t, got.HostID)
			assert.Nil(t, got.Result)
			assert.WithinDuration(t, now(), got.CreateTime, 60e9)

			top, err := tx.ListTasks(ctx, TaskFilter{TopLevel: true, States: []int{TaskFree}})
			require.NoError(t, err)
			assert.Len(t, top, 2)
			kids, err := tx.ListTasks(ctx, TaskFilter{Parent: &parent})
			require.NoError(t, err)
			require.Len(t, kids, 1)
			assert.Equal(t, child, kids[0].ID)
			page, err := tx.ListTasks(ctx, TaskFilter{Offset: 1})
			require.NoError(t, err)
			assert.Len(t, page, 2)
			page, err = tx.ListTasks(ctx, TaskFilter{Limit: 1, Method: "build"})
			require.NoError(t, err)
			require.Len(t, page, 1)
			assert.Equal(t, ids[0], page[0].ID)

			_, err = tx.GetTask(ctx, 9999)
			assert.ErrorIs(t, err, ErrNotFound)
		})
	})
}

// TestConcurrentWriters checks that writers never fail with SQLITE_BUSY
// (or serialization errors) when many transactions write at once.
func TestConcurrentWriters(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		db := openTest(t, dsn)
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make(chan error, 8*25)
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 25; i++ {
					tx, err := db.Begin(ctx)
					if err != nil {
						errs <- err
						return
					}
					if _, err := tx.CreateUser(ctx, User{Name: fmt.Sprintf("u%d-%d", w, i)}); err != nil {
						tx.Rollback(ctx)
						errs <- err
						return
					}
					if _, err := tx.NewEvent(ctx); err != nil {
						tx.Rollback(ctx)
						errs <- err
						return
					}
					if err := tx.Commit(ctx); err != nil {
						errs <- err
					}
				}
			}()
		}
		// Readers run alongside the writers.
		for r := 0; r < 4; r++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 50; i++ {
					tx, err := db.BeginRead(ctx)
					if err != nil {
						errs <- err
						return
					}
					_, err = tx.ListPermissions(ctx)
					tx.Rollback(ctx)
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		inTx(t, db, func(tx *Tx) {
			users, err := tx.ListUsers(ctx, UserTypeNormal)
			require.NoError(t, err)
			assert.Len(t, users, 8*25)
		})
	})
}

// BenchmarkGetTask measures read transactions (BeginRead, GetTask, end)
// from 8 goroutines; it reports reads/s.
func BenchmarkGetTask(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			dsn := b.TempDir() + "/hub.db"
			if backend == "postgres" {
				dsn = testenv.PostgresDSN(b)
			}
			db := openTest(b, dsn)
			_, ids := seedTasks(b, db, 100)
			ctx := context.Background()
			b.SetParallelism((8 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					tx, err := db.BeginRead(ctx)
					if err != nil {
						b.Error(err)
						return
					}
					_, err = tx.GetTask(ctx, ids[i%len(ids)])
					tx.Rollback(ctx)
					if err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reads/s")
		})
	}
}

// TestTaskStateWrites checks the writes behind the hub's task state
// machine: creation with a host and the default weight, row locks, state
// and host changes, ends, priority and weight.
func TestTaskStateWrites(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openTest(t, dsn)
		host, ids := seedTasks(t, db, 1)
		inTx(t, db, func(tx *Tx) {
			id, err := tx.CreateTask(ctx, Task{State: TaskAssigned, ChannelID: 1, HostID: &host, Owner: 1,
				Method: "sleep", Request: taskRequest, Arch: "noarch", Priority: 20})
			require.NoError(t, err)
			got, err := tx.LockTask(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, &host, got.HostID)
			assert.Equal(t, TaskAssigned, got.State)
			assert.Equal(t, 1.0, got.Weight, "a zero Weight leaves the column's default")
			_, err = tx.LockTask(ctx, 9999)
			assert.ErrorIs(t, err, ErrNotFound)

			opened, err := tx.SetTaskState(ctx, id, TaskOpen, &host, true)
			require.NoError(t, err)
			assert.Equal(t, TaskOpen, opened.State)
			require.NotNil(t, opened.StartTime)
			freed, err := tx.SetTaskState(ctx, id, TaskFree, nil, false)
			require.NoError(t, err)
			assert.Nil(t, freed.HostID)
			assert.Equal(t, opened.StartTime, freed.StartTime, "freeing keeps start_time")
			_, err = tx.SetTaskState(ctx, 9999, TaskFree, nil, false)
			assert.ErrorIs(t, err, ErrNotFound)

			require.NoError(t, tx.SetTaskPriority(ctx, id, 7))
			require.NoError(t, tx.SetTaskWeight(ctx, id, 2.5))
			assert.ErrorIs(t, tx.SetTaskPriority(ctx, 9999, 7), ErrNotFound)
			assert.Error(t, failing(t, tx, func() error { return tx.SetTaskWeight(ctx, id, -1) }), "weight must not be negative")

			canceled, err := tx.EndTask(ctx, id, TaskCanceled, nil)
			require.NoError(t, err)
			assert.Equal(t, []any{TaskCanceled, 7, 2.5, (*string)(nil)}, []any{canceled.State, canceled.Priority, canceled.Weight, canceled.Result})
			require.NotNil(t, canceled.CompletionTime)
			result := "<?xml version='1.0'?>\n<methodResponse>\n</methodResponse>\n"
			closed, err := tx.EndTask(ctx, ids[0], TaskClosed, &result)
			require.NoError(t, err)
			assert.Equal(t, &result, closed.Result)

			parent := ids[0]
			kids := []int64{}
			for range 2 {
				kid, err := tx.CreateTask(ctx, Task{State: TaskFree, ChannelID: 1, Parent: &parent, Owner: 1, Arch: "noarch"})
				require.NoError(t, err)
				kids = append(kids, kid)
			}
			got2, err := tx.TaskChildIDs(ctx, parent)
			require.NoError(t, err)
			assert.Equal(t, kids, got2)
			none, err := tx.TaskChildIDs(ctx, id)
			require.NoError(t, err)
			assert.Empty(t, none)
		})
	})
}

// TestLockTaskWaits checks that LockTask holds the task's row until the
// transaction ends: a second transaction locking it waits for the first.
func TestLockTaskWaits(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openTest(t, dsn)
		_, ids := seedTasks(t, db, 1)
		first, err := db.Begin(ctx)
		require.NoError(t, err)
		_, err = first.LockTask(ctx, ids[0])
		require.NoError(t, err)
		locked := make(chan error, 1)
		go func() {
			tx, err := db.Begin(ctx)
			if err == nil {
				_, err = tx.LockTask(ctx, ids[0])
				tx.Rollback(ctx)
			}
			locked <- err
		}()
		select {
		case err := <-locked:
			t.Fatalf("the second lock did not wait: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
		_, err = first.SetTaskState(ctx, ids[0], TaskAssigned, nil, false)
		require.NoError(t, err)
		require.NoError(t, first.Commit(ctx))
		require.NoError(t, <-locked)
	})
}

// TestQueryTasks checks listTasks' query: conditions, ordering with NULLs
// placed as PostgreSQL places them, paging and counting.
func TestQueryTasks(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openTest(t, dsn)
		host, ids := seedTasks(t, db, 3)
		inTx(t, db, func(tx *Tx) {
			_, err := tx.SetTaskState(ctx, ids[1], TaskOpen, &host, true)
			require.NoError(t, err)
			require.NoError(t, tx.SetTaskPriority(ctx, ids[2], 5))
			query := func(q TaskQuery) []int64 {
				rows, err := tx.QueryTasks(ctx, q)
				require.NoError(t, err)
				out := []int64{}
				for _, r := range rows {
					out = append(out, r.ID)
					assert.Equal(t, "owner", *r.OwnerName)
					assert.Equal(t, UserTypeNormal, *r.OwnerType)
				}
				n, err := tx.CountTasks(ctx, q)
				require.NoError(t, err)
				assert.EqualValues(t, len(out), n)
				return out
			}
			assert.Equal(t, ids, query(TaskQuery{}))
			assert.Equal(t, []int64{ids[1]}, query(TaskQuery{Conds: []TaskCond{{Column: "host_id", Op: "IS NOT NULL"}}}))
			assert.Equal(t, []int64{ids[0], ids[2]}, query(TaskQuery{Conds: []TaskCond{{Column: "host_id", Op: "IS NULL"}}}))
			assert.Equal(t, []int64{ids[0], ids[2]}, query(TaskQuery{Conds: []TaskCond{{Column: "state", Op: "IN", Values: []any{TaskFree, TaskClosed}}}}))
			assert.Equal(t, []int64{ids[1]}, query(TaskQuery{Conds: []TaskCond{{Column: "state", Op: "NOT IN", Values: []any{TaskFree}}}}))
			assert.Empty(t, query(TaskQuery{Conds: []TaskCond{{Column: "state", Op: "IN"}}}))
			assert.Equal(t, ids, query(TaskQuery{Conds: []TaskCond{{Column: "state", Op: "NOT IN"}}}))
			assert.Equal(t, []int64{ids[2]}, query(TaskQuery{Conds: []TaskCond{{Column: "priority", Op: "<", Values: []any{10}}}}))
			assert.Equal(t, ids, query(TaskQuery{Conds: []TaskCond{{Column: "owner_name", Op: "=", Values: []any{"owner"}}}}))
			assert.Equal(t, ids, query(TaskQuery{Conds: []TaskCond{{Column: "create_time", Op: "<", Values: []any{now().Add(time.Minute)}}}}))
			assert.Empty(t, query(TaskQuery{Conds: []TaskCond{{Column: "create_time", Op: ">", Values: []any{now().Add(time.Minute)}}}}))
			assert.Equal(t, []int64{ids[2], ids[0], ids[1]}, query(TaskQuery{Order: []OrderBy{{Column: "priority"}, {Column: "id"}}}))
			assert.Equal(t, []int64{ids[0], ids[2], ids[1]}, query(TaskQuery{Order: []OrderBy{{Column: "start_time", Desc: true}, {Column: "id"}}}))
			assert.Equal(t, []int64{ids[1], ids[0], ids[2]}, query(TaskQuery{Order: []OrderBy{{Column: "start_time"}, {Column: "id"}}}))
			assert.Equal(t, []int64{ids[1], ids[2]}, query(TaskQuery{Offset: 1}))
			assert.Equal(t, []int64{ids[1]}, query(TaskQuery{Offset: 1, Limit: 1}))

			_, err = tx.QueryTasks(ctx, TaskQuery{Conds: []TaskCond{{Column: "nope", Op: "="}}})
			assert.Error(t, err)
			_, err = tx.QueryTasks(ctx, TaskQuery{Conds: []TaskCond{{Column: "id", Op: "LIKE", Values: []any{1}}}})
			assert.Error(t, err)
			_, err = tx.QueryTasks(ctx, TaskQuery{Conds: []TaskCond{{Column: "id", Op: "="}}})
			assert.Error(t, err)
			_, err = tx.QueryTasks(ctx, TaskQuery{Order: []OrderBy{{Column: "id; DROP TABLE task"}}})
			assert.Error(t, err)
		})
	})
}

// TestChannelAdminWrites checks the channel writes behind editChannel,
// enable/disableChannel and removeChannel.
func TestChannelAdminWrites(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openTest(t, dsn)
		host, _ := seedTasks(t, db, 1)
		inTx(t, db, func(tx *Tx) {
			id, err := tx.CreateChannel(ctx, "extra", nil)
			require.NoError(t, err)
			name, desc, comment := "extra2", "d", "c"
			pd, pc := &desc, &comment
			require.NoError(t, tx.EditChannel(ctx, id, ChannelEdit{Name: &name, Description: &pd, Comment: &pc}))
			require.NoError(t, tx.EditChannel(ctx, id, ChannelEdit{}))
			c, err := tx.GetChannel(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, Channel{ID: id, Name: "extra2", Description: &desc, Comment: &comment, Enabled: true}, *c)
			var cleared *string
			require.NoError(t, tx.EditChannel(ctx, id, ChannelEdit{Comment: &cleared}))
			require.NoError(t, tx.SetChannelEnabled(ctx, id, false, &comment))
			c, err = tx.GetChannel(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, []any{false, &comment}, []any{c.Enabled, c.Comment})
			assert.ErrorIs(t, tx.SetChannelEnabled(ctx, 9999, true, nil), ErrNotFound)
			assert.ErrorIs(t, tx.EditChannel(ctx, 9999, ChannelEdit{Name: &name}), ErrNotFound)
			require.ErrorIs(t, failing(t, tx, func() error {
				taken := "default"
				return tx.EditChannel(ctx, id, ChannelEdit{Name: &taken})
			}), ErrConflict)

			used, err := tx.ChannelHasTasks(ctx, 1)
			require.NoError(t, err)
			assert.True(t, used)
			used, err = tx.ChannelHasTasks(ctx, id)
			require.NoError(t, err)
			assert.False(t, used)
			require.NoError(t, tx.AddHostChannel(ctx, host, id, 1))
			require.NoError(t, tx.RemoveHostChannel(ctx, host, id, 1))
			hosts, err := tx.ChannelHasHosts(ctx, id)
			require.NoError(t, err)
			assert.True(t, hosts, "a revoked membership still references the channel")
			require.NoError(t, tx.DeleteChannel(ctx, id))
			_, err = tx.GetChannel(ctx, id)
			assert.ErrorIs(t, err, ErrNotFound)
			assert.ErrorIs(t, tx.DeleteChannel(ctx, id), ErrNotFound)
		})
	})
}
