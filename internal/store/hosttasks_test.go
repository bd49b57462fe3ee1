package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHostTaskQueries(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openTest(t, dsn)
		inTx(t, db, func(tx *Tx) {
			f := newSchedFixture(t, tx)
			a2 := f.task(t, tx, Task{State: TaskAssigned, HostID: &f.h1, Priority: 20})
			a1 := f.task(t, tx, Task{State: TaskAssigned, HostID: &f.h1, Priority: 10})
			f.task(t, tx, Task{State: TaskAssigned, HostID: &f.h2})
			got, err := tx.AssignedTasks(ctx, f.h1)
			require.NoError(t, err)
			require.Len(t, got, 2)
			assert.Equal(t, []int64{a1, a2}, []int64{got[0].ID, got[1].ID})

			parent := f.task(t, tx, Task{State: TaskOpen, HostID: &f.h1, Weight: 0.2})
			other := f.task(t, tx, Task{State: TaskOpen, HostID: &f.h1})
			var kids []int64
			for i, label := range []string{"a", "b", "c"} {
				l := label
				kids = append(kids, f.task(t, tx, Task{State: []int{TaskOpen, TaskFree, TaskOpen}[i], HostID: &f.h2, Parent: &parent, Label: &l}))
			}
			id, ok, err := tx.ChildByLabel(ctx, parent, "b")
			require.NoError(t, err)
			assert.True(t, ok)
			assert.Equal(t, kids[1], id)
			_, ok, err = tx.ChildByLabel(ctx, parent, "z")
			require.NoError(t, err)
			assert.False(t, ok)

			// Await two of the three children: the third is un-awaited.
			require.NoError(t, tx.AwaitChildren(ctx, parent, nil))
			require.NoError(t, tx.SetTaskWaiting(ctx, parent, true))
			require.NoError(t, tx.AwaitChildren(ctx, parent, []int64{kids[0], kids[1]}))
			fin, unfin, err := tx.AwaitedChildren(ctx, parent)
			require.NoError(t, err)
			assert.Equal(t, []int64{}, fin)
			assert.Equal(t, []int64{kids[0], kids[1]}, unfin)
			open, err := tx.HostOpenTasks(ctx, f.h1)
			require.NoError(t, err)
			require.Len(t, open, 2)
			assert.Equal(t, HostOpenTask{ID: parent, Waiting: ptr(true), Weight: 0.2}, open[0])
			assert.Equal(t, HostOpenTask{ID: other, Weight: 1}, open[1])

			// A finished awaited child raises the alert.
			_, err = tx.exec(ctx, "UPDATE task SET state = ? WHERE id = ?", TaskFailed, kids[0])
			require.NoError(t, err)
			open, err = tx.HostOpenTasks(ctx, f.h1)
			require.NoError(t, err)
			assert.True(t, open[0].Alert)
			fin, unfin, err = tx.AwaitedChildren(ctx, parent)
			require.NoError(t, err)
			assert.Equal(t, []int64{kids[0]}, fin)
			assert.Equal(t, []int64{kids[1]}, unfin)
			require.NoError(t, tx.SetTasksAwaited(ctx, fin, false))
			fin, _, err = tx.AwaitedChildren(ctx, parent)
			require.NoError(t, err)
			assert.Empty(t, fin)
			open, err = tx.HostOpenTasks(ctx, f.h1)
			require.NoError(t, err)
			assert.False(t, open[0].Alert)

			finished, err := tx.FinishedChildren(ctx, parent)
			require.NoError(t, err)
			assert.Equal(t, []int64{kids[0]}, finished)

			require.NoError(t, tx.TaskUnwait(ctx, parent))
			p, err := tx.GetTask(ctx, parent)
			require.NoError(t, err)
			assert.False(t, *p.Waiting)
			_, unfin, err = tx.AwaitedChildren(ctx, parent)
			require.NoError(t, err)
			assert.Empty(t, unfin)
		})
	})
}

func TestSchedulerViews(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openTest(t, dsn)
		inTx(t, db, func(tx *Tx) {
			f := newSchedFixture(t, tx)
			t1 := f.task(t, tx, Task{State: TaskAssigned, HostID: &f.h1})
			t2 := f.task(t, tx, Task{State: TaskFree, Arch: "x86_64"})
			start := time.Now()
			_, err := tx.AddTaskRun(ctx, t1, f.h1)
			require.NoError(t, err)
			_, err = tx.AddTaskRun(ctx, t2, f.h2)
			require.NoError(t, err)
			_, err = tx.EndStaleTaskRuns(ctx)
			require.NoError(t, err)

			res, err := tx.QueryTaskRuns(ctx, nil, nil, ViewOpts{Order: "id"})
			require.NoError(t, err)
			rows := res.([]map[string]any)
			require.Len(t, rows, 2)
			assert.Equal(t, []string{"active", "create_ts", "host_id", "id", "task_id"}, keys(rows[0]))
			assert.Equal(t, []any{t1, f.h1, true}, []any{rows[0]["task_id"], rows[0]["host_id"], rows[0]["active"]})
			assert.Equal(t, false, rows[1]["active"])
			assert.InDelta(t, float64(start.UnixMicro())/1e6, rows[0]["create_ts"], 60)

			// Clauses: implicit = and IN, explicit operators; fields that
			// need a join; '*' adds the joined fields once joined.
			res, err = tx.QueryTaskRuns(ctx, []ViewClause{{"active", "=", true}}, []string{"task_id", "method", "host_name"}, ViewOpts{})
			require.NoError(t, err)
			assert.Equal(t, []map[string]any{{"task_id": t1, "method": "sleep", "host_name": "b1"}}, res)
			res, err = tx.QueryTaskRuns(ctx, []ViewClause{{"state", "IN", []any{int64(TaskFree), int64(TaskOpen)}}}, []string{"*"}, ViewOpts{})
			require.NoError(t, err)
			rows = res.([]map[string]any)
			require.Len(t, rows, 1)
			assert.Equal(t, t2, rows[0]["task_id"])
			assert.Equal(t, "x86_64", rows[0]["arch"])
			assert.NotContains(t, rows[0], "host_name")
			res, err = tx.QueryTaskRuns(ctx, nil, []string{"**"}, ViewOpts{Order: "-id", Limit: 1})
			require.NoError(t, err)
			rows = res.([]map[string]any)
			require.Len(t, rows, 1)
			assert.Equal(t, "b2", rows[0]["host_name"])
			assert.Nil(t, rows[0]["start_ts"])
			assert.Len(t, rows[0], 14)
			res, err = tx.QueryTaskRuns(ctx, []ViewClause{{"create_ts", ">", float64(start.Add(-time.Minute).Unix())}}, nil, ViewOpts{CountOnly: true})
			require.NoError(t, err)
			assert.EqualValues(t, 2, res)
			res, err = tx.QueryTaskRuns(ctx, []ViewClause{{"create_ts", "<", float64(start.Add(-time.Minute).Unix())}}, nil, ViewOpts{CountOnly: true, Limit: 5})
			require.NoError(t, err)
			assert.EqualValues(t, 0, res)
			res, err = tx.QueryTaskRuns(ctx, []ViewClause{{"host_id", "!=", f.h1}}, []string{"task_id", "id"}, ViewOpts{AsList: true})
			require.NoError(t, err)
			lists := res.([][]any)
			require.Len(t, lists, 1)
			assert.Equal(t, t2, lists[0][1]) // fields in name order: id, task_id

			require.NoError(t, tx.SetTaskRefusal(ctx, t2, f.h1, true, true, "busy"))
			res, err = tx.QueryTaskRefusals(ctx, []ViewClause{{"soft", "IS", true}}, nil, ViewOpts{})
			require.NoError(t, err)
			rows = res.([]map[string]any)
			require.Len(t, rows, 1)
			assert.Equal(t, []string{"by_host", "host_id", "id", "msg", "soft", "task_id", "ts"}, keys(rows[0]))
			assert.Equal(t, "busy", rows[0]["msg"])

			require.NoError(t, tx.AddSchedulerLog(ctx, nil, &f.h1, "Marking host not ready"))
			require.NoError(t, tx.AddSchedulerLog(ctx, &t1, &f.h1, "Assigning task"))
			res, err = tx.QueryLogMessages(ctx, []ViewClause{{"task_id", "IS", nil}}, []string{"msg", "host_ready", "method"}, ViewOpts{})
			require.NoError(t, err)
			assert.Equal(t, []map[string]any{{"msg": "Marking host not ready", "host_ready": false, "method": nil}}, res)
			res, err = tx.QueryLogMessages(ctx, nil, nil, ViewOpts{Order: "-id"})
			require.NoError(t, err)
			assert.Equal(t, "Assigning task", res.([]map[string]any)[0]["msg"])

			for _, c := range []struct {
				clauses []ViewClause
				fields  []string
				opts    ViewOpts
				msg     string
			}{
				{nil, []string{"nope"}, ViewOpts{}, "Invalid field for query nope"},
				{[]ViewClause{{"nope", "=", 1}}, nil, ViewOpts{}, "Invalid field for query nope"},
				{nil, nil, ViewOpts{Order: "-nope"}, "Invalid field for query nope"},
				{nil, nil, ViewOpts{Group: "nope"}, "Invalid field for query nope"},
				{[]ViewClause{{"id", "LIKE", 1}}, nil, ViewOpts{}, "Invalid operator: LIKE"},
			} {
				_, err := tx.QueryLogMessages(ctx, c.clauses, c.fields, c.opts)
				var ve *ViewError
				require.True(t, errors.As(err, &ve), "%v", err)
				assert.Equal(t, c.msg, ve.Msg)
			}
		})
	})
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
