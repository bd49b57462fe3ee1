package builder_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/builder"
	"github.com/gokoji/gokoji/koji"
)

// TestMoveAllBuildsWithDependantTasks: the hub's moveAllBuilds chains
// dependantTask tasks; the daemon's DependantTask waits for the one before
// and runs its tagBuild subtask, so every build moves and the
// destination's tagging order is the source's. A dependantTask whose
// dependency failed fails, running nothing.
func TestMoveAllBuildsWithDependantTasks(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		th := startHub(t, dsn, false)
		start(t, th.daemon(t, "builder1", nil, builder.TagBuild{}, builder.DependantTask{PollInterval: 50 * time.Millisecond},
			builder.Sleep{}))
		for _, tag := range []string{"src", "dst"} {
			_, err := th.admin.CreateTag(ctx, tag, nil)
			require.NoError(t, err)
			require.NoError(t, th.admin.PackageListAdd(ctx, tag, "foo", &koji.PackageListAddOptions{Owner: "kojiadmin"}))
		}
		for _, rel := range []string{"1", "2", "3"} {
			var id int64
			require.NoError(t, th.admin.Call(ctx, "createEmptyBuild", &id, "foo", "1.0", rel, nil))
			require.NoError(t, th.admin.Call(ctx, "tagBuildBypass", nil, "src", id))
		}
		var tasks []int
		require.NoError(t, th.admin.Call(ctx, "moveAllBuilds", &tasks, "src", "dst", "foo"))
		require.Len(t, tasks, 3)
		for _, id := range tasks {
			assert.Equal(t, koji.TaskClosed, th.waitState(t, id, koji.TaskClosed, koji.TaskFailed).State, "task %d", id)
		}
		moved, err := th.admin.ListTagged(ctx, "dst", nil)
		require.NoError(t, err)
		var nvrs []string
		for _, b := range moved {
			nvrs = append(nvrs, b.NVR)
		}
		assert.Equal(t, []string{"foo-1.0-3", "foo-1.0-2", "foo-1.0-1"}, nvrs, "latest tagging first, as in src")
		left, err := th.admin.ListTagged(ctx, "src", nil)
		require.NoError(t, err)
		assert.Empty(t, left)

		failed := th.makeTask(t, "sleep", "not a number")
		require.Equal(t, koji.TaskFailed, th.waitState(t, failed, koji.TaskClosed, koji.TaskFailed).State)
		dep := th.makeTask(t, "dependantTask", []any{failed, 999999}, []any{[]any{"sleep", []any{0}}})
		require.Equal(t, koji.TaskFailed, th.waitState(t, dep, koji.TaskClosed, koji.TaskFailed).State)
		err = th.admin.GetTaskResult(ctx, dep, true, nil)
		var f *koji.Fault
		require.ErrorAs(t, err, &f)
		assert.Contains(t, f.String, fmt.Sprintf("Dependency %d failed to complete.", failed))
		kids, err := th.admin.GetTaskChildren(ctx, dep, nil)
		require.NoError(t, err)
		assert.Empty(t, kids, "no subtask after a failed dependency")
	})
}
