package hubserver_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/koji"
)

// The conversation of kojid's BuildTask and its buildArch subtask for a
// build from an SRPM: the build task records the build, the subtask
// uploads the packages into its directory, the build task completes the
// build with them and the notification names the target, whose
// destination tag's package owner is told too.
func TestKojiHostBuildTaskFlow(t *testing.T) {
	b := buildRPMs(t, "hello", "1.0", "1")
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		fh := startFilesHub(t, dsn, nil)
		admin := fh.admin
		anchorTags(t, admin)
		require.NoError(t, admin.Call(ctx, "createBuildTarget", nil, "anchor-target", "anchor-build", "anchor-dest"))
		require.NoError(t, admin.Call(ctx, "createUser", nil, "carol"))
		require.NoError(t, admin.PackageListAdd(ctx, "anchor-dest", "hello", &koji.PackageListAddOptions{Owner: "carol"}))

		parent, err := admin.Build(ctx, "cli-build/hello-1.0-1.src.rpm", "anchor-target", nil)
		require.NoError(t, err)
		taskOpen(t, fh.kojiHub, fh.hostID, int64(parent))
		sub := call(t, fh.host, "host.subtask", []any{"buildArch", []any{"cli-build/hello-1.0-1.src.rpm", 1, "x86_64", false,
			map[string]any{}}, parent}, nil).(int64)
		taskOpen(t, fh.kojiHub, fh.hostID, sub)
		dir := "tasks/" + pyFmt(sub) + "/" + pyFmt(sub)
		files := upload(t, fh.host, dir, b.all()...)

		// The subtask does not own the build: initBuild names the build
		// task.
		id := call(t, fh.host, "host.initBuild", []any{headerData(t, b.srpm, int64(parent))}, nil).(int64)
		done := call(t, fh.host, "host.completeBuild", []any{parent, id, files[0], []any{files[1], files[2]}}, nil).(map[string]any)
		assert.Equal(t, int64(parent), done["task_id"])
		assert.Equal(t, int64(1), done["state"])
		var builds []map[string]any
		require.NoError(t, admin.CallKw(ctx, "listBuilds", &builds, nil, map[string]any{"taskID": parent}))
		require.Len(t, builds, 1)
		assert.Equal(t, "hello-1.0-1", builds[0]["nvr"])

		var notes []map[string]any
		require.NoError(t, admin.CallKw(ctx, "listTasks", &notes, nil, map[string]any{
			"opts": map[string]any{"method": "buildNotification", "decode": true}}))
		require.Len(t, notes, 1)
		req := notes[0]["request"].([]any)
		assert.Equal(t, []any{"kojiadmin@None", "carol@None"}, req[0])
		assert.Equal(t, id, req[1].(map[string]any)["id"])
		assert.Equal(t, "anchor-target", req[2].(map[string]any)["name"])
		assert.Equal(t, "http://localhost/koji", req[3])
		assert.Nil(t, notes[0]["parent"], "made by the hub, not a subtask")

		// Building the NVR again: new_build's fault shows the data in the
		// order upstream's dict has it, every time.
		for range 3 {
			assert.Equal(t, "Build already exists (id="+pyFmt(id)+", state=COMPLETE): {'name': 'hello', 'version': '1.0', "+
				"'release': '1', 'epoch': None, 'task_id': "+pyFmt(parent)+", 'owner': 1, 'state': 0, 'completion_time': None, "+
				"'pkg_id': 1, 'extra': None, 'start_time': 'NOW', 'source': None, 'volume_id': 0}",
				faultString(t, fh.host, koji.ErrGeneric, "host.initBuild", []any{headerData(t, b.srpm, int64(parent))}, nil))
		}
	})
}

// Canceling a build task cancels its BUILDING build (cancel_build with
// cancel_task=False), and cancelBuild cancels the build's task tree; both
// send the build's notification, as upstream's cancel_build does.
func TestKojiCancelBuildTask(t *testing.T) {
	b := buildRPMs(t, "hello", "1.0", "1")
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		fh := startFilesHub(t, dsn, nil)
		admin := fh.admin
		anchorTags(t, admin)
		require.NoError(t, admin.Call(ctx, "createBuildTarget", nil, "anchor-target", "anchor-build", "anchor-dest"))
		start := func() (parent, sub, build int64) {
			p, err := admin.Build(ctx, "cli-build/hello-1.0-1.src.rpm", "anchor-target", nil)
			require.NoError(t, err)
			taskOpen(t, fh.kojiHub, fh.hostID, int64(p))
			sub = call(t, fh.host, "host.subtask", []any{"buildArch", []any{"cli-build/hello-1.0-1.src.rpm", 1, "x86_64", false,
				map[string]any{}}, p}, nil).(int64)
			build = call(t, fh.host, "host.initBuild", []any{headerData(t, b.srpm, int64(p))}, nil).(int64)
			return int64(p), sub, build
		}
		state := func(method string, args ...any) int64 {
			return call(t, admin, method, args, nil).(map[string]any)["state"].(int64)
		}
		notes := func() []map[string]any {
			var notes []map[string]any
			require.NoError(t, admin.CallKw(ctx, "listTasks", &notes, nil, map[string]any{
				"opts": map[string]any{"method": "buildNotification", "decode": true}}))
			return notes
		}

		parent, sub, build := start()
		assert.Nil(t, call(t, admin, "cancelTask", []any{parent}, nil))
		assert.Equal(t, int64(koji.BuildCanceled), state("getBuild", build))
		assert.Equal(t, int64(koji.TaskCanceled), state("getTaskInfo", sub), "recurse")
		n := notes()
		require.Len(t, n, 1)
		assert.Equal(t, []any{"kojiadmin@None"}, n[0]["request"].([]any)[0])
		assert.Equal(t, int64(koji.BuildCanceled), n[0]["request"].([]any)[1].(map[string]any)["state"])

		parent, sub, again := start()
		assert.Equal(t, build, again, "the canceled build is recycled")
		assert.Equal(t, true, call(t, admin, "cancelBuild", []any{build}, nil))
		assert.Equal(t, int64(koji.BuildCanceled), state("getBuild", build))
		assert.Equal(t, int64(koji.TaskCanceled), state("getTaskInfo", parent))
		assert.Equal(t, int64(koji.TaskCanceled), state("getTaskInfo", sub))
		assert.Len(t, notes(), 2, "one notification per cancel")
		assert.Equal(t, false, call(t, admin, "cancelBuild", []any{build}, nil), "no longer BUILDING")
		assert.Nil(t, call(t, admin, "cancelTask", []any{parent}, nil))
		assert.Len(t, notes(), 2)
	})
}
