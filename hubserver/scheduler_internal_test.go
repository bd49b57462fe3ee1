package hubserver

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/internal/store"
)

func openTestKoji(t *testing.T, sc SchedulerConfig) *Koji {
	cfg := KojiConfig{DSN: filepath.Join(t.TempDir(), "hub.db"), Scheduler: sc}
	cfg.Logger = slog.New(slog.DiscardHandler)
	k, err := OpenKoji(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { k.Close() })
	return k
}

func TestSchedulerConfigDefaults(t *testing.T) {
	c := SchedulerConfig{}.withDefaults()
	assert.Equal(t, SchedulerConfig{
		MaxJobs: 15, CapacityOvercommit: 5, ReadyTimeout: 180 * time.Second, AssignTimeout: 300 * time.Second,
		SoftRefusalTimeout: 900 * time.Second, HostTimeout: 900 * time.Second, RunInterval: 60 * time.Second,
		MaxWait: 90 * time.Second, WaitRecheck: 2 * time.Second,
	}, c)
	c = SchedulerConfig{MaxJobs: 3, ReadyTimeout: time.Hour, MaxWait: time.Minute}.withDefaults()
	assert.Equal(t, []any{3, time.Hour, time.Minute}, []any{c.MaxJobs, c.ReadyTimeout, c.MaxWait})
}

func TestHostMaxJobs(t *testing.T) {
	s := func(v string) *string { return &v }
	for _, c := range []struct {
		data *string
		want int
	}{
		{nil, 15}, {s(`{}`), 15}, {s(`{"maxjobs": 4}`), 4}, {s(`{"maxjobs": 0}`), 15},
		{s(`{"maxjobs": null}`), 15}, {s(`{"maxjobs": "4"}`), 15}, {s(`{"maxjobs": 2.5}`), 3}, {s(`not json`), 15},
	} {
		assert.Equal(t, c.want, hostMaxJobs(c.data, 15), "%v", c.data)
	}
}

func TestWaiters(t *testing.T) {
	var w waiters
	a, _ := w.wait(time.Minute, hostKey(1), workKey)
	b, _ := w.wait(time.Minute, hostKey(1))
	c, _ := w.wait(time.Minute, taskKey(1))
	w.notify(hostKey(2))
	for _, ch := range []<-chan struct{}{a, b, c} {
		select {
		case <-ch:
			t.Fatal("woken by another key")
		case <-time.After(20 * time.Millisecond):
		}
	}
	w.notify(workKey)
	<-a
	select {
	case <-b:
		t.Fatal("b does not wait for work")
	case <-time.After(20 * time.Millisecond):
	}
	w.notify(hostKey(1), taskKey(1))
	<-b
	<-c
	// The re-check timer wakes a waiter nobody notifies.
	start := time.Now()
	d, _ := w.wait(50*time.Millisecond, taskKey(9))
	<-d
	assert.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)
	// A canceled wait ends at once.
	e, cancel := w.wait(time.Minute, taskKey(9))
	cancel()
	<-e
	// Waiters that ended leave nothing behind.
	require.Eventually(t, func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return len(w.m) == 0
	}, time.Second, 5*time.Millisecond)
}

func TestSchedulerLoopStopsOnClose(t *testing.T) {
	cfg := KojiConfig{DSN: filepath.Join(t.TempDir(), "hub.db"), Scheduler: SchedulerConfig{RunInterval: 10 * time.Millisecond}}
	cfg.Logger = slog.New(slog.DiscardHandler)
	k, err := OpenKoji(context.Background(), cfg)
	require.NoError(t, err)
	done := k.sched.done
	// Let it run a few times: it records its runs.
	require.Eventually(t, func() bool {
		k.sched.mu.Lock()
		defer k.sched.mu.Unlock()
		return k.sched.lastRun > 0
	}, 5*time.Second, 5*time.Millisecond)
	require.NoError(t, k.Close())
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the scheduler's goroutine did not stop")
	}
}

// The capacity test with overcommit: a task heavier than a host's
// capacity goes to an idle host when its weight less CapacityOvercommit
// fits.
func TestSchedulerOvercommit(t *testing.T) {
	ctx := context.Background()
	k := openTestKoji(t, SchedulerConfig{})
	var host int64
	var light, heavy, tooHeavy int64
	require.NoError(t, k.inTx(ctx, func(ctx context.Context) error {
		tx := storeTx(ctx)
		owner, err := tx.CreateUser(ctx, store.User{Name: "owner"})
		require.NoError(t, err)
		hu, err := tx.CreateUser(ctx, store.User{Name: "b1", UserType: store.UserTypeHost})
		require.NoError(t, err)
		host, err = tx.CreateHost(ctx, hu, "b1", store.HostConfig{Arches: "x86_64", Enabled: true}, owner)
		require.NoError(t, err)
		require.NoError(t, tx.AddHostChannel(ctx, host, 1, owner))
		require.NoError(t, tx.UpdateHost(ctx, host, true, 0))
		mk := func(weight float64, prio int) int64 {
			id, err := tx.CreateTask(ctx, store.Task{State: store.TaskFree, ChannelID: 1, Owner: owner, Method: "sleep",
				Request: "<?xml version='1.0'?>\n<methodCall>\n<methodName>sleep</methodName>\n<params>\n</params>\n</methodCall>\n",
				Arch:    "noarch", Priority: prio, Weight: weight})
			require.NoError(t, err)
			return id
		}
		tooHeavy, heavy, light = mk(7.5, 10), mk(6.5, 11), mk(1, 12)
		return nil
	}))
	require.NoError(t, k.inTx(ctx, func(ctx context.Context) error {
		ran, err := k.sched.run(ctx, true, false)
		assert.True(t, ran)
		return err
	}))
	require.NoError(t, k.inTx(ctx, func(ctx context.Context) error {
		tx := storeTx(ctx)
		for id, want := range map[int64]int{tooHeavy: store.TaskFree, heavy: store.TaskAssigned, light: store.TaskFree} {
			task, err := tx.GetTask(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, want, task.State, "task %d", id)
		}
		return nil
	}))
}
