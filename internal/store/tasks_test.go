package store

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"

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
		host, ids := seedTasks(t, db, 2)
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

			// Not in the host's channels or arches: nothing to take.
			_, err = tx.DequeueTask(ctx, host, []int64{3}, []string{"x86_64"})
			require.ErrorIs(t, err, ErrNoTask)
			_, err = tx.DequeueTask(ctx, host, []int64{1}, []string{"ppc64le"})
			require.ErrorIs(t, err, ErrNoTask)

			// The noarch child has the best priority.
			first, err := tx.DequeueTask(ctx, host, []int64{1, 2}, []string{"ppc64le"})
			require.NoError(t, err)
			assert.Equal(t, child, first.ID)
			assert.Equal(t, TaskOpen, first.State)
			assert.Equal(t, &host, first.HostID)
			require.NotNil(t, first.StartTime)

			next, err := tx.DequeueTask(ctx, host, []int64{1, 2}, []string{"x86_64"})
			require.NoError(t, err)
			assert.Equal(t, ids[0], next.ID)

			result := "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><nil/></value></param>\n</params>\n</methodResponse>\n"
			require.NoError(t, tx.FinishTask(ctx, next.ID, host, TaskClosed, result))
			assert.ErrorIs(t, tx.FinishTask(ctx, next.ID, host, TaskClosed, result), ErrNotFound)
			done, err := tx.GetTask(ctx, next.ID)
			require.NoError(t, err)
			assert.Equal(t, TaskClosed, done.State)
			require.NotNil(t, done.Result)
			assert.Equal(t, result, *done.Result)
			require.NotNil(t, done.CompletionTime)
			_, err = tx.GetTask(ctx, 9999)
			assert.ErrorIs(t, err, ErrNotFound)
		})
	})
}

// TestDequeueConcurrent takes every task from 8 goroutines at once (on
// PostgreSQL split over two handles, as two hub processes would) and checks
// that each task is handed out exactly once.
func TestDequeueConcurrent(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		const tasks, workers = 200, 8
		dbs := []*DB{openTest(t, dsn)}
		if dbs[0].Dialect() == Postgres {
			dbs = append(dbs, openTest(t, dsn))
		}
		host, ids := seedTasks(t, dbs[0], tasks)
		ctx := context.Background()

		var (
			mu    sync.Mutex
			taken = map[int64]int{}
			wg    sync.WaitGroup
			errs  = make(chan error, workers)
		)
		for w := 0; w < workers; w++ {
			db := dbs[w%len(dbs)]
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					tx, err := db.Begin(ctx)
					if err != nil {
						errs <- err
						return
					}
					task, err := tx.DequeueTask(ctx, host, []int64{1}, []string{"x86_64"})
					if errors.Is(err, ErrNoTask) {
						tx.Rollback(ctx)
						return
					}
					if err != nil {
						tx.Rollback(ctx)
						errs <- err
						return
					}
					if err := tx.Commit(ctx); err != nil {
						errs <- err
						return
					}
					mu.Lock()
					taken[task.ID]++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		require.Len(t, taken, tasks)
		for _, id := range ids {
			assert.Equal(t, 1, taken[id], "task %d", id)
		}
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
				dsn = postgresDSN(b)
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
