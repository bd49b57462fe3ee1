package estimates_test

import (
	"context"
	"testing"
	"time"

	"github.com/gokoji/gokoji/estimates"
	"github.com/gokoji/gokoji/internal/kojitest"
	"github.com/gokoji/gokoji/koji"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A real hub's task (a sleep task, recorded as it went from FREE to
// CLOSED) through the task rules: sleep builds no package, so only the
// finished task has an estimate, its completion time, and no rule asks
// the hub for more than the task.
func TestTaskRulesOnRecordedTask(t *testing.T) {
	hub := kojitest.NewReplayHub(t, "getTaskInfo_free", "getTaskInfo_assigned", "getTaskInfo_open", "getTaskInfo")
	c, err := koji.NewClient(hub.URL())
	require.NoError(t, err)
	e := &estimates.Estimator{Client: c}
	ctx := context.Background()
	next := func(want koji.TaskState) *koji.Task {
		t.Helper()
		task, err := c.GetTaskInfo(ctx, 1, &koji.TaskInfoOptions{Request: true})
		require.NoError(t, err)
		require.NotNil(t, task)
		require.Equal(t, want, task.State)
		return task
	}

	free := next(koji.TaskFree)
	_, err = e.TaskDuration(ctx, free)
	assert.ErrorIs(t, err, estimates.ErrNoPackage)

	for _, state := range []koji.TaskState{koji.TaskAssigned, koji.TaskOpen} {
		_, err = e.TaskCompletion(ctx, next(state))
		assert.ErrorIs(t, err, estimates.ErrNoPackage, "%s", state)
	}

	closed := next(koji.TaskClosed)
	end, err := e.TaskCompletion(ctx, closed)
	require.NoError(t, err)
	assert.Equal(t, "2026-11-22T01:40:48.048042Z", end.Format(time.RFC3339Nano))
	d, err := e.TaskDuration(ctx, closed)
	require.NoError(t, err)
	assert.Equal(t, 46720*time.Microsecond, d)

	assert.Len(t, hub.Received(), 4, "only the four getTaskInfo calls")
}

// Builds a real hub listed: made by createEmptyBuild, which records the
// same start and completion time.
func TestMeasureRecordedBuilds(t *testing.T) {
	hub := kojitest.NewReplayHub(t, "listBuilds_queryOpts")
	c, err := koji.NewClient(hub.URL())
	require.NoError(t, err)
	builds, err := c.ListBuilds(context.Background(), &koji.ListBuildsOptions{QueryOpts: &koji.QueryOpts{Limit: 2, Order: "-build_id"}})
	require.NoError(t, err)
	require.Len(t, builds, 2)
	assert.Equal(t, estimates.Durations{Count: 2}, estimates.Measure(builds, time.Now()))
}
