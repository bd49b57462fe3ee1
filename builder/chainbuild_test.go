package builder_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/builder"
	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/koji"
)

// chainTags makes the tags and target of setupTags, with build-tag
// inheriting dest-tag as a chain build needs (koji chain-build refuses a
// target whose build tag does not inherit its destination).
func chainTags(t *testing.T, th *testHub, pkgs ...string) {
	ctx := context.Background()
	setupTags(t, th.admin, "builder1", pkgs...)
	var dest struct {
		ID int64 `xmlrpc:"id"`
	}
	require.NoError(t, th.admin.Call(ctx, "getTag", &dest, "dest-tag"))
	require.NoError(t, th.admin.Call(ctx, "setInheritanceData", nil, "build-tag", []any{map[string]any{
		"parent_id": dest.ID, "priority": 0, "maxdepth": nil, "intransitive": false, "noconfig": false, "pkg_filter": ""}}))
}

// upload puts the SRPM in the work directory as the koji CLI does and
// returns its path there.
func upload(t *testing.T, c *koji.Client, srpm string) string {
	t.Helper()
	dir := fmt.Sprintf("cli-build/%d.%s", time.Now().UnixNano(), "chain")
	require.NoError(t, c.UploadFile(context.Background(), srpm, dir, filepath.Base(srpm), nil))
	return dir + "/" + filepath.Base(srpm)
}

// chainBuild calls the hub's chainBuild as koji chain-build does.
func chainBuild(t *testing.T, c *koji.Client, levels ...[]string) int {
	t.Helper()
	srcs := []any{}
	for _, l := range levels {
		level := []any{}
		for _, s := range l {
			level = append(level, s)
		}
		srcs = append(srcs, level)
	}
	var id int
	require.NoError(t, c.Call(context.Background(), "chainBuild", &id, srcs, "target"))
	return id
}

// subtasks are a task's children in the order they were made.
func subtasks(t *testing.T, c *koji.Client, id int) []*koji.Task {
	t.Helper()
	var kids []*koji.Task
	require.NoError(t, c.Call(context.Background(), "getTaskChildren", &kids, id))
	slices.SortFunc(kids, func(a, b *koji.Task) int { return a.ID - b.ID })
	return kids
}

// labels are the tasks' "method label" pairs.
func labels(ts []*koji.Task) []string {
	var out []string
	for _, k := range ts {
		l := ""
		if k.SubtaskLabel != nil {
			l = *k.SubtaskLabel
		}
		out = append(out, k.Method+" "+l)
	}
	return out
}

// TestChainBuild: a chain of two levels of real SRPMs. The first level's
// build runs, is imported and tagged into dest-tag; a waitrepo subtask then
// waits, through a repo request the hub's repo worker turns into a
// newRepo task, for a READY repo of build-tag (which inherits dest-tag)
// that holds it; only then does the second level's build start. A third
// level of an N-V-R already built waits for the repo of the second one's
// build and the first's, and builds nothing.
func TestChainBuild(t *testing.T) {
	testenv.Command(t, "createrepo_c")
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		th := startHub(t, dsn, false)
		th.addHost(t, "builder1")
		chainTags(t, th, "hello", "world")
		handlers := append(buildHandlers(), builder.ChainBuild{}, builder.Waitrepo{Pause: 100 * time.Millisecond})
		start(t, th.daemon(t, "builder1", nil, handlers...))
		hello := upload(t, th.admin, makeSRPM(t, "hello", "true"))
		world := upload(t, th.admin, makeSRPM(t, "world", "true"))

		id := chainBuild(t, th.admin, []string{hello}, []string{world}, []string{"hello-1.0-1"})
		info := waitLong(t, th.admin, id, koji.TaskClosed, koji.TaskFailed, koji.TaskCanceled)
		if info.State != koji.TaskClosed {
			t.Fatalf("chain build %v: %v", info.State, taskFailure(t, th.admin, id))
		}
		kids := subtasks(t, th.admin, id)
		require.Equal(t, []string{"build build 0,0", "waitrepo wait 1", "build build 1,0", "waitrepo wait 2"}, labels(kids))
		for _, k := range kids {
			assert.Equal(t, koji.TaskClosed, k.State, "%s %d", k.Method, k.ID)
		}
		var wait1, wait2 []any
		require.NoError(t, th.admin.Call(ctx, "getTaskRequest", &wait1, kids[1].ID))
		assert.Equal(t, []any{"build-tag", nil, []any{"hello-1.0-1"}}, wait1)
		require.NoError(t, th.admin.Call(ctx, "getTaskRequest", &wait2, kids[3].ID))
		assert.Equal(t, []any{"build-tag", nil, []any{"world-1.0-1"}}, wait2[:3], "the NVR level waits for the build before it")
		var build1 []any
		require.NoError(t, th.admin.Call(ctx, "getTaskRequest", &build1, kids[2].ID))
		assert.Equal(t, []any{world, "target", map[string]any{}}, build1)

		// The second build started once the repo had the first.
		require.NotNil(t, kids[1].CompletionTS)
		assert.GreaterOrEqual(t, kids[2].CreateTS, *kids[1].CompletionTS, "level 1 starts after the wait")
		var repo map[string]any
		require.NoError(t, th.admin.GetTaskResult(ctx, kids[1].ID, true, &repo))
		var bt struct {
			ID int64 `xmlrpc:"id"`
		}
		require.NoError(t, th.admin.Call(ctx, "getTag", &bt, "build-tag"))
		assert.Equal(t, bt.ID, repo["tag_id"])
		assert.EqualValues(t, 1, repo["state"], "READY")
		assert.Equal(t, []string{"hello-1.0-1"}, repoBuilds(t, th.admin, repo), "the repo has the first level's build, not yet the second's")
		var repo2 map[string]any
		require.NoError(t, th.admin.GetTaskResult(ctx, kids[3].ID, true, &repo2))
		assert.Greater(t, repo2["id"], repo["id"], "a newer repo")
		assert.ElementsMatch(t, []string{"hello-1.0-1", "world-1.0-1"}, repoBuilds(t, th.admin, repo2))
		for _, r := range []map[string]any{repo, repo2} {
			var ri map[string]any
			require.NoError(t, th.admin.Call(ctx, "repoInfo", &ri, r["id"]))
			require.NotNil(t, ri)
			assert.Equal(t, bt.ID, ri["tag_id"])
		}

		for _, nvr := range []string{"hello-1.0-1", "world-1.0-1"} {
			b, err := th.admin.GetBuild(ctx, nvr, nil)
			require.NoError(t, err)
			require.NotNil(t, b, nvr)
			assert.Equal(t, koji.BuildComplete, b.State, nvr)
		}
		dest, err := th.admin.ListTagged(ctx, "dest-tag", nil)
		require.NoError(t, err)
		assert.Len(t, dest, 2)
	})
}

// repoBuilds are the N-V-Rs of the builds in the repo's tag (with
// inheritance) at the repo's event.
func repoBuilds(t *testing.T, c *koji.Client, repo map[string]any) []string {
	t.Helper()
	var tagged []map[string]any
	require.NoError(t, c.CallKw(context.Background(), "listTagged", &tagged, []any{repo["tag_id"]},
		map[string]any{"event": repo["create_event"], "inherit": true}))
	var nvrs []string
	for _, b := range tagged {
		nvrs = append(nvrs, b["nvr"].(string))
	}
	return nvrs
}

// TestChainBuildMissingNVR: an N-V-R that is never built makes the next
// level's waitrepo wait for it until its timeout and fail with upstream's
// message; the chain fails with that fault and builds nothing. A scratch
// chain and an unknown target fail at once with upstream's messages.
func TestChainBuildMissingNVR(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		th := startHub(t, dsn, false)
		th.addHost(t, "builder1")
		chainTags(t, th, "world")
		handlers := append(buildHandlers(), builder.ChainBuild{}, builder.Waitrepo{Pause: 50 * time.Millisecond, Timeout: time.Second})
		start(t, th.daemon(t, "builder1", nil, handlers...))

		id := chainBuild(t, th.admin, []string{"nosuch-1.0-1"}, []string{"cli-build/1.x/world-1.0-1.src.rpm"})
		assert.Equal(t, koji.TaskFailed, th.waitState(t, id, koji.TaskClosed, koji.TaskFailed, koji.TaskCanceled).State)
		f := taskFailure(t, th.admin, id)
		assert.Equal(t, int(koji.ErrGeneric), f.Code)
		assert.Equal(t, "Unsuccessfully waited 0:01 for nosuch-1.0-1 to appear in the build-tag repo", f.String)
		kids := subtasks(t, th.admin, id)
		require.Equal(t, []string{"waitrepo wait 1"}, labels(kids), "no build after the failed wait")
		assert.Equal(t, koji.TaskFailed, kids[0].State)
		assert.Equal(t, f.String, taskFailure(t, th.admin, kids[0].ID).String)

		var scratch int
		require.NoError(t, th.admin.Call(ctx, "chainBuild", &scratch, []any{[]any{"a-1-1"}, []any{"b-1-1"}}, "target",
			map[string]any{"scratch": true}))
		assert.Equal(t, koji.TaskFailed, th.waitState(t, scratch, koji.TaskClosed, koji.TaskFailed).State)
		f = taskFailure(t, th.admin, scratch)
		assert.Equal(t, int(koji.ErrBuild), f.Code)
		assert.Equal(t, "--scratch is not allowed with chain-builds", f.String)

		var unknown int
		require.NoError(t, th.admin.Call(ctx, "chainBuild", &unknown, []any{[]any{"a-1-1"}, []any{"b-1-1"}}, "no-such-target"))
		assert.Equal(t, koji.TaskFailed, th.waitState(t, unknown, koji.TaskClosed, koji.TaskFailed).State)
		assert.Equal(t, "unknown build target: no-such-target", taskFailure(t, th.admin, unknown).String)

		// waitrepo on its own: an NVR koji cannot parse fails as parse_NVR.
		bad := th.makeTask(t, "waitrepo", "build-tag", nil, []any{"nodashes"})
		assert.Equal(t, koji.TaskFailed, th.waitState(t, bad, koji.TaskClosed, koji.TaskFailed).State)
		assert.Equal(t, "invalid format: nodashes", taskFailure(t, th.admin, bad).String)
		conflict := th.makeTask(t, "waitrepo", "build-tag", "now", nil, 5)
		assert.Equal(t, koji.TaskFailed, th.waitState(t, conflict, koji.TaskClosed, koji.TaskFailed).State)
		assert.Equal(t, "newer_than and min_event args confict", taskFailure(t, th.admin, conflict).String)
	})
}

// fakeBuild is a build handler that fails for sources starting with
// "bad" and otherwise runs until released or canceled, reporting starts
// and how each run ended.
type fakeBuild struct {
	started chan string
	ended   chan error
	release chan struct{}
}

func (*fakeBuild) Methods() []string            { return []string{"build"} }
func (*fakeBuild) Weight(*builder.Task) float64 { return 0.2 }
func (f *fakeBuild) Handle(ctx context.Context, t *builder.Task) (any, error) {
	src, _ := t.Params[0].(string)
	f.started <- src
	if strings.HasPrefix(filepath.Base(src), "bad") {
		return nil, builder.Fail(koji.ErrBuild, "%s does not build", src)
	}
	select {
	case <-ctx.Done():
		f.ended <- context.Cause(ctx)
		return nil, ctx.Err()
	case <-f.release:
		f.ended <- nil
		return nil, nil
	}
}

// TestChainBuildCancel: canceling a chain build cancels the builds of its
// running level, whose handlers see their contexts end, and the chain's
// waitrepo subtask while it waits; a build failing in a level makes the
// chain cancel that level's other builds and fail with the build's fault.
func TestChainBuildCancel(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		th := startHub(t, dsn, false)
		th.addHost(t, "builder1")
		chainTags(t, th)
		fb := &fakeBuild{started: make(chan string, 10), ended: make(chan error, 10), release: make(chan struct{})}
		start(t, th.daemon(t, "builder1", func(c *builder.Config) { c.MaxJobs = 10 },
			fb, builder.ChainBuild{}, builder.Waitrepo{Pause: 50 * time.Millisecond}))

		id := chainBuild(t, th.admin, []string{"w/a-1-1.src.rpm", "w/b-1-1.src.rpm"}, []string{"w/c-1-1.src.rpm"})
		got := []string{within(t, fb.started, 30*time.Second, "first build"), within(t, fb.started, 30*time.Second, "second build")}
		assert.ElementsMatch(t, []string{"w/a-1-1.src.rpm", "w/b-1-1.src.rpm"}, got)
		require.NoError(t, th.admin.CancelTask(ctx, id, true))
		for range 2 {
			assert.Error(t, within(t, fb.ended, 30*time.Second, "a build's end"), "the build's context was canceled")
		}
		assert.Equal(t, koji.TaskCanceled, th.waitState(t, id, koji.TaskCanceled, koji.TaskFailed, koji.TaskClosed).State)
		kids := subtasks(t, th.admin, id)
		require.Equal(t, []string{"build build 0,0", "build build 0,1"}, labels(kids))
		for _, k := range kids {
			assert.Equal(t, koji.TaskCanceled, th.waitState(t, k.ID, koji.TaskCanceled, koji.TaskFailed, koji.TaskClosed).State)
		}

		waiting := chainBuild(t, th.admin, []string{"nosuch-1-1"}, []string{"w/c-1-1.src.rpm"})
		var wait *koji.Task
		deadline := time.Now().Add(30 * time.Second)
		for wait == nil || wait.State != koji.TaskOpen {
			require.True(t, time.Now().Before(deadline), "no waitrepo subtask running")
			time.Sleep(20 * time.Millisecond)
			if kids := subtasks(t, th.admin, waiting); len(kids) > 0 {
				wait = kids[0]
			}
		}
		require.Equal(t, "waitrepo", wait.Method)
		require.NoError(t, th.admin.CancelTask(ctx, waiting, true))
		assert.Equal(t, koji.TaskCanceled, th.waitState(t, waiting, koji.TaskCanceled, koji.TaskFailed, koji.TaskClosed).State)
		assert.Equal(t, koji.TaskCanceled, th.waitState(t, wait.ID, koji.TaskCanceled, koji.TaskFailed, koji.TaskClosed).State)
		assert.Len(t, subtasks(t, th.admin, waiting), 1, "no build after the canceled wait")

		failing := chainBuild(t, th.admin, []string{"w/slow-1-1.src.rpm", "w/bad-1-1.src.rpm"}, []string{"w/c-1-1.src.rpm"})
		for range 2 {
			within(t, fb.started, 30*time.Second, "a build")
		}
		err := within(t, fb.ended, 30*time.Second, "the slow build's end")
		assert.Error(t, err, "the chain canceled the slow build")
		assert.Equal(t, koji.TaskFailed, th.waitState(t, failing, koji.TaskCanceled, koji.TaskFailed, koji.TaskClosed).State)
		f := taskFailure(t, th.admin, failing)
		assert.Equal(t, int(koji.ErrBuild), f.Code)
		assert.Equal(t, "w/bad-1-1.src.rpm does not build", f.String)
		kids = subtasks(t, th.admin, failing)
		require.Equal(t, []string{"build build 0,0", "build build 0,1"}, labels(kids))
		assert.Equal(t, koji.TaskCanceled, th.waitState(t, kids[0].ID, koji.TaskCanceled, koji.TaskFailed, koji.TaskClosed).State)
		assert.Equal(t, koji.TaskFailed, th.waitState(t, kids[1].ID, koji.TaskCanceled, koji.TaskFailed, koji.TaskClosed).State)
	})
}
