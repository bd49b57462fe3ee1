package builder_test

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/builder"
	"github.com/gokoji/gokoji/internal/rpm"
	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/koji"
)

// makeSRPM builds, with rpmbuild -bs, the SRPM of a small noarch
// package name-1.0-1 whose %build runs build.
func makeSRPM(t *testing.T, name, build string) string {
	t.Helper()
	rpmbuild := testenv.Command(t, "rpmbuild")
	top := t.TempDir()
	spec := filepath.Join(top, name+".spec")
	require.NoError(t, os.WriteFile(spec, []byte(strings.NewReplacer("@N@", name, "@B@", build).Replace(`Name: @N@
Version: 1.0
Release: 1
Summary: a test package
License: MIT
BuildArch: noarch
%description
A test package.
%build
@B@
%install
mkdir -p %{buildroot}/usr/share/@N@
echo @N@ > %{buildroot}/usr/share/@N@/data
%files
/usr/share/@N@/data
`)), 0o644))
	out, err := exec.Command(rpmbuild, "-bs", "--define", "_topdir "+top, spec).CombinedOutput()
	require.NoError(t, err, "%s", out)
	srpm := filepath.Join(top, "SRPMS", name+"-1.0-1.src.rpm")
	require.FileExists(t, srpm)
	return srpm
}

// buildSetup makes the tags and target (setupTags) and the host
// builder1 in the default and createrepo channels, and returns its
// daemon with the build handlers, started.
func buildSetup(t *testing.T, th *testHub, pkgs ...string) *builder.Daemon {
	th.addHost(t, "builder1")
	setupTags(t, th.admin, "builder1", pkgs...)
	d := th.daemon(t, "builder1", nil, buildHandlers()...)
	start(t, d)
	return d
}

// buildHandlers are the handlers of a building daemon.
func buildHandlers() []builder.Handler {
	return []builder.Handler{builder.Build{}, &builder.BuildArch{}, builder.TagBuild{}, builder.NewRepo{}, builder.Createrepo{}}
}

// setupTags makes, as the admin, the tags build-tag and dest-tag for
// x86_64, dest-tag with the packages listed, the target "target" from
// one to the other, and adds host to the createrepo channel.
func setupTags(t *testing.T, admin *koji.Client, host string, pkgs ...string) {
	ctx := context.Background()
	require.NoError(t, admin.CallKw(ctx, "createTag", nil, []any{"build-tag"}, map[string]any{"arches": "x86_64"}))
	require.NoError(t, admin.CallKw(ctx, "createTag", nil, []any{"dest-tag"}, map[string]any{"arches": "x86_64"}))
	require.NoError(t, admin.Call(ctx, "createBuildTarget", nil, "target", "build-tag", "dest-tag"))
	for _, p := range pkgs {
		require.NoError(t, admin.CallKw(ctx, "packageListAdd", nil, []any{"dest-tag", p}, map[string]any{"owner": "kojiadmin"}))
	}
	require.NoError(t, admin.Call(ctx, "addHostToChannel", nil, host, "createrepo"))
}

// submitBuild uploads the SRPM as the koji build CLI does, to a
// cli-build/ directory of the work directory, and calls build.
func submitBuild(t *testing.T, c *koji.Client, srpm string, opts map[string]any) int {
	t.Helper()
	ctx := context.Background()
	dir := fmt.Sprintf("cli-build/%d.%s", time.Now().UnixNano(), "abcdefgh")
	require.NoError(t, c.UploadFile(ctx, srpm, dir, filepath.Base(srpm), nil))
	var id int
	require.NoError(t, c.Call(ctx, "build", &id, dir+"/"+filepath.Base(srpm), "target", opts))
	return id
}

// children are the subtasks of a task, by method.
func children(t *testing.T, c *koji.Client, id int) map[string]*koji.Task {
	t.Helper()
	var kids []*koji.Task
	require.NoError(t, c.Call(context.Background(), "getTaskChildren", &kids, id))
	out := map[string]*koji.Task{}
	for _, k := range kids {
		out[k.Method] = k
	}
	return out
}

// waitLong is waitState with room for rpmbuild and createrepo_c runs.
func waitLong(t *testing.T, c *koji.Client, id int, states ...koji.TaskState) *koji.Task {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		info, err := c.GetTaskInfo(context.Background(), id, nil)
		require.NoError(t, err)
		for _, s := range states {
			if info.State == s {
				return info
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %d is %v, not %v", id, info.State, states)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// taskFailure is the fault a failed task's result raises.
func taskFailure(t *testing.T, c *koji.Client, id int) *koji.Fault {
	t.Helper()
	err := c.GetTaskResult(context.Background(), id, true, nil)
	f, ok := err.(*koji.Fault)
	require.True(t, ok, "task %d: %v", id, err)
	return f
}

// A scratch build of a noarch SRPM: the build task runs one buildArch
// on the host's arch, which rebuilds the SRPM with rpmbuild, and the
// packages end up under scratch/<owner>/task_<id>.
func TestScratchBuild(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		th := startHub(t, dsn, false)
		buildSetup(t, th)
		srpm := makeSRPM(t, "hello", "true")
		id := submitBuild(t, th.admin, srpm, map[string]any{"scratch": true})
		info := waitLong(t, th.admin, id, koji.TaskClosed, koji.TaskFailed)
		if info.State == koji.TaskFailed {
			t.Fatalf("build failed: %v", taskFailure(t, th.admin, id))
		}
		arch := children(t, th.admin, id)["buildArch"]
		require.NotNil(t, arch)
		assert.Equal(t, "noarch", arch.Arch)
		var res map[string]any
		require.NoError(t, th.admin.GetTaskResult(context.Background(), arch.ID, true, &res))
		up := koji.PathInfo{}.TaskRelPath(arch.ID)
		assert.Equal(t, []any{up + "/hello-1.0-1.noarch.rpm"}, res["rpms"])
		assert.Equal(t, []any{up + "/hello-1.0-1.src.rpm"}, res["srpms"])
		assert.Equal(t, []any{up + "/build.log"}, res["logs"])
		assert.Contains(t, res, "brootid")

		dir := filepath.Join(th.topDir, "scratch", "kojiadmin", fmt.Sprintf("task_%d", id))
		p, err := rpm.ReadFile(filepath.Join(dir, "hello-1.0-1.noarch.rpm"))
		require.NoError(t, err)
		assert.Equal(t, "hello-1.0-1.noarch", p.NVRA())
		assert.FileExists(t, filepath.Join(dir, "hello-1.0-1.src.rpm"))
		builds, err := th.admin.ListTagged(context.Background(), "dest-tag", nil)
		require.NoError(t, err)
		assert.Empty(t, builds, "a scratch build is not tagged")
	})
}

// A build whose %build fails: buildArch fails with rpmbuild's status,
// the build task with it, the build is FAILED, and build.log, uploaded,
// holds rpmbuild's error.
func TestBuildFailsInBuild(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		th := startHub(t, dsn, false)
		buildSetup(t, th, "broken")
		srpm := makeSRPM(t, "broken", "echo this build is broken >&2; exit 3")
		id := submitBuild(t, th.admin, srpm, nil)
		assert.Equal(t, koji.TaskFailed, waitLong(t, th.admin, id, koji.TaskClosed, koji.TaskFailed).State)
		arch := children(t, th.admin, id)["buildArch"]
		require.NotNil(t, arch)
		assert.Equal(t, koji.TaskFailed, th.waitState(t, arch.ID, koji.TaskFailed, koji.TaskClosed).State)
		f := taskFailure(t, th.admin, arch.ID)
		assert.Equal(t, int(koji.ErrBuild), f.Code)
		assert.Contains(t, f.String, "rpmbuild exited with status 1; see build.log")
		assert.Equal(t, f.String, taskFailure(t, th.admin, id).String, "the parent fails with the subtask's fault")

		log, err := os.ReadFile(filepath.Join(th.topDir, "work", koji.PathInfo{}.TaskRelPath(arch.ID), "build.log"))
		require.NoError(t, err)
		assert.Contains(t, string(log), "this build is broken")
		assert.Contains(t, string(log), "Bad exit status")

		b, err := th.admin.GetBuild(context.Background(), "broken-1.0-1", nil)
		require.NoError(t, err)
		require.NotNil(t, b)
		assert.Equal(t, koji.BuildFailed, b.State)
	})
}

// Canceling a build while rpmbuild runs kills rpmbuild (and its %build
// script) within seconds; the tasks end CANCELED.
func TestCancelRunningBuild(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		th := startHub(t, dsn, false)
		buildSetup(t, th)
		nap := fmt.Sprintf("300.%09d", time.Now().Nanosecond()) // names this test's sleep
		srpm := makeSRPM(t, "slow", "sleep "+nap)
		id := submitBuild(t, th.admin, srpm, map[string]any{"scratch": true})
		deadline := time.Now().Add(60 * time.Second)
		for !sleeping(t, nap) {
			require.True(t, time.Now().Before(deadline), "rpmbuild's %%build did not start")
			time.Sleep(50 * time.Millisecond)
		}
		arch := children(t, th.admin, id)["buildArch"]
		require.NotNil(t, arch)
		require.NoError(t, th.admin.CancelTask(context.Background(), id, true))
		canceled := time.Now()
		for sleeping(t, nap) {
			require.Less(t, time.Since(canceled), 10*time.Second, "rpmbuild's sleep still runs")
			time.Sleep(50 * time.Millisecond)
		}
		assert.Equal(t, koji.TaskCanceled, th.waitState(t, id, koji.TaskCanceled).State)
		assert.Equal(t, koji.TaskCanceled, th.waitState(t, arch.ID, koji.TaskCanceled).State)
	})
}

// sleeping reports whether a process runs "sleep nap".
func sleeping(t *testing.T, nap string) bool {
	procs, err := filepath.Glob("/proc/[0-9]*/cmdline")
	require.NoError(t, err)
	for _, p := range procs {
		if data, err := os.ReadFile(p); err == nil && strings.HasSuffix(string(data), "sleep\x00"+nap+"\x00") {
			return true
		}
	}
	return false
}

// A build, not scratch: COMPLETE, its RPMs listed with the NVRA and
// payload hash of the packages built, the files under packages/, the
// build tagged into the target's destination tag by a tagBuild subtask;
// then a newRepo of the destination tag makes a READY repo with
// repodata listing the package.
func TestBuildAndRepo(t *testing.T) {
	testenv.Command(t, "createrepo_c")
	eachBackend(t, func(t *testing.T, dsn string) {
		th := startHub(t, dsn, false)
		buildSetup(t, th, "hello")
		buildAndRepo(t, th.admin, th.topDir)
	})
}

// buildAndRepo builds hello-1.0-1 into target and then a repo of
// dest-tag, as the admin c of the hub whose files are under top, and
// checks them (TestBuildAndRepo).
func buildAndRepo(t *testing.T, c *koji.Client, top string) {
	ctx := context.Background()
	srpm := makeSRPM(t, "hello", "true")
	id := submitBuild(t, c, srpm, nil)
	info := waitLong(t, c, id, koji.TaskClosed, koji.TaskFailed)
	if info.State == koji.TaskFailed {
		t.Fatalf("build failed: %v", taskFailure(t, c, id))
	}
	kids := children(t, c, id)
	require.Contains(t, kids, "tagBuild")
	assert.Equal(t, koji.TaskClosed, kids["tagBuild"].State)

	b, err := c.GetBuild(ctx, "hello-1.0-1", nil)
	require.NoError(t, err)
	require.NotNil(t, b)
	assert.Equal(t, koji.BuildComplete, b.State)
	require.NotNil(t, b.TaskID)
	assert.Equal(t, id, *b.TaskID)
	var rpms []map[string]any
	require.NoError(t, c.Call(ctx, "listBuildRPMs", &rpms, b.ID))
	require.Len(t, rpms, 2)
	pi := koji.PathInfo{TopDir: top}
	for _, r := range rpms {
		nvra := fmt.Sprintf("%s-%s-%s.%s", r["name"], r["version"], r["release"], r["arch"])
		assert.Contains(t, []string{"hello-1.0-1.noarch", "hello-1.0-1.src"}, nvra)
		file := filepath.Join(pi.Build(b), r["arch"].(string), nvra+".rpm")
		p, err := rpm.ReadFile(file)
		require.NoError(t, err, "the package is under packages/")
		assert.Equal(t, nvra, p.NVRA())
		assert.Equal(t, p.PayloadHash(), r["payloadhash"])
	}
	assert.FileExists(t, filepath.Join(pi.BuildLogs(b), "noarch", "build.log"))
	tagged, err := c.ListTagged(ctx, "dest-tag", nil)
	require.NoError(t, err)
	require.Len(t, tagged, 1)
	assert.Equal(t, "hello-1.0-1", tagged[0].NVR)

	var repoTask int
	require.NoError(t, c.Call(ctx, "newRepo", &repoTask, "dest-tag"))
	rinfo := waitLong(t, c, repoTask, koji.TaskClosed, koji.TaskFailed)
	if rinfo.State == koji.TaskFailed {
		t.Fatalf("newRepo failed: %v", taskFailure(t, c, repoTask))
	}
	var res []int
	require.NoError(t, c.GetTaskResult(ctx, repoTask, true, &res))
	require.Len(t, res, 2)
	var repo map[string]any
	require.NoError(t, c.Call(ctx, "getRepo", &repo, "dest-tag"))
	require.NotNil(t, repo)
	assert.EqualValues(t, res[0], repo["id"])
	assert.EqualValues(t, 1, repo["state"], "READY")
	dir := pi.Repo(res[0], "dest-tag")
	assert.FileExists(t, filepath.Join(dir, "x86_64", "repodata", "repomd.xml"))
	repomd, err := os.ReadFile(filepath.Join(dir, "x86_64", "repodata", "repomd.xml"))
	require.NoError(t, err)
	assert.Contains(t, string(repomd), `<data type="primary">`)
	primary, err := filepath.Glob(filepath.Join(dir, "x86_64", "repodata", "*primary.sqlite*"))
	require.NoError(t, err)
	assert.NotEmpty(t, primary, "createrepo_c -d makes the sqlite databases")
	primary, err = filepath.Glob(filepath.Join(dir, "x86_64", "repodata", "*primary.xml.gz"))
	require.NoError(t, err)
	require.Len(t, primary, 1)
	xml := gunzip(t, primary[0])
	assert.Contains(t, xml, `packages="1"`)
	assert.Contains(t, xml, `<location href="toplink/packages/hello/1.0/1/noarch/hello-1.0-1.noarch.rpm"/>`)
}

// gunzip reads a gzip file.
func gunzip(t *testing.T, name string) string {
	f, err := os.Open(name)
	require.NoError(t, err)
	defer f.Close()
	z, err := gzip.NewReader(f)
	require.NoError(t, err)
	data, err := io.ReadAll(z)
	require.NoError(t, err)
	return string(data)
}
