package hubserver_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/internal/rpm"
	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/koji"
)

// rpmBuild is a package rpmbuild made: its SRPM and binary RPMs (an
// x86_64 one and a noarch -doc subpackage), as absolute paths.
type rpmBuild struct {
	srpm string
	rpms []string
}

// all is the SRPM and the RPMs.
func (b rpmBuild) all() []string { return append([]string{b.srpm}, b.rpms...) }

// buildRPMs runs rpmbuild -ba on a small spec of name-version-release.
func buildRPMs(t *testing.T, name, version, release string) rpmBuild {
	t.Helper()
	rpmbuild := testenv.Command(t, "rpmbuild")
	top := t.TempDir()
	spec := filepath.Join(top, name+".spec")
	require.NoError(t, os.WriteFile(spec, []byte(strings.NewReplacer("@N@", name, "@V@", version, "@R@", release).Replace(`Name: @N@
Version: @V@
Release: @R@
Summary: a test package
License: MIT
%description
A test package.
%package doc
Summary: its documentation
BuildArch: noarch
%description doc
Its documentation.
%install
mkdir -p %{buildroot}/usr/share/@N@
echo @N@ > %{buildroot}/usr/share/@N@/data
echo doc > %{buildroot}/usr/share/@N@/doc
%files
/usr/share/@N@/data
%files doc
/usr/share/@N@/doc
`)), 0o644))
	cmd := exec.Command(rpmbuild, "-ba", "--define", "_topdir "+top, "--define", "_build_id_links none",
		"--define", "debug_package %{nil}", "--target", "x86_64", spec)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	nvr := name + "-" + version + "-" + release
	b := rpmBuild{srpm: filepath.Join(top, "SRPMS", nvr+".src.rpm"), rpms: []string{
		filepath.Join(top, "RPMS", "x86_64", nvr+".x86_64.rpm"),
		filepath.Join(top, "RPMS", "noarch", name+"-doc-"+version+"-"+release+".noarch.rpm"),
	}}
	for _, f := range b.all() {
		require.FileExists(t, f)
	}
	return b
}

// upload sends files into the work directory under dir, as kojid's
// uploadFile does, and returns their names relative to it.
func upload(t *testing.T, c *koji.Client, dir string, files ...string) []string {
	t.Helper()
	var out []string
	for _, f := range files {
		require.NoError(t, c.UploadFile(context.Background(), f, dir, filepath.Base(f), &koji.UploadOptions{Overwrite: true}))
		out = append(out, dir+"/"+filepath.Base(f))
	}
	return out
}

// openHostTask makes a task of method owned by kojiadmin and opens it on
// the host.
func openHostTask(t *testing.T, fh *filesHub, method string, args ...any) int64 {
	t.Helper()
	var id int64
	taskTx(t, fh.kojiHub, 1, func(ctx context.Context) error {
		var err error
		id, err = fh.koji.MakeTaskForTest(ctx, method, args, hubserver.TaskOpts{})
		return err
	})
	taskOpen(t, fh.kojiHub, fh.hostID, id)
	return id
}

// callbackLog records the build state changes and imports callbacks
// saw.
type callbackLog struct {
	mu     sync.Mutex
	events []string
}

func (l *callbackLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, s)
}

func (l *callbackLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.events
	l.events = nil
	return out
}

func watchBuilds(t *testing.T, kh *kojiHub) *callbackLog {
	l := &callbackLog{}
	require.NoError(t, kh.koji.RegisterCallback("postBuildStateChange", func(_ context.Context, _ string, kw map[string]any) error {
		info := kw["info"].(map[string]any)
		l.add(pyFmt(kw["attribute"]) + " " + pyFmt(kw["old"]) + "->" + pyFmt(kw["new"]) + " " + info["nvr"].(string) +
			" state " + pyFmt(info["state"]))
		return nil
	}, hubserver.CallbackOptions{}))
	require.NoError(t, kh.koji.RegisterCallback("postImport", func(_ context.Context, _ string, kw map[string]any) error {
		s := "import " + kw["type"].(string)
		if r, ok := kw["rpm"].(map[string]any); ok {
			s += " " + r["name"].(string) + "." + r["arch"].(string)
		}
		l.add(s)
		return nil
	}, hubserver.CallbackOptions{}))
	return l
}

func pyFmt(v any) string {
	if v == nil {
		return "None"
	}
	return strings.TrimSpace(strings.ReplaceAll(pyRepr(v), "'", ""))
}

// headerData are the fields of kojid's initBuild data: the SRPM's name,
// version, release and epoch, and the task.
func headerData(t *testing.T, srpm string, task int64) map[string]any {
	p, err := rpm.ReadFile(srpm)
	require.NoError(t, err)
	var epoch any
	if p.Epoch != nil {
		epoch = int64(*p.Epoch)
	}
	return map[string]any{"name": p.Name, "version": p.Version, "release": p.Release, "epoch": epoch, "task_id": task}
}

func TestKojiHostCompleteBuild(t *testing.T) {
	b := buildRPMs(t, "hello", "1.0", "1")
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		fh := startFilesHub(t, dsn, nil)
		cb := watchBuilds(t, fh.kojiHub)
		task := openHostTask(t, fh, "buildArch", "tasks/1/1/hello-1.0-1.src.rpm", int64(1), "x86_64", false, map[string]any{})
		dir := "tasks/" + pyFmt(task) + "/" + pyFmt(task)
		files := upload(t, fh.host, dir, b.all()...)
		log := filepath.Join(t.TempDir(), "build.log")
		require.NoError(t, os.WriteFile(log, []byte("built\n"), 0o644))
		logs := upload(t, fh.host, dir, log)

		// The buildroot, as kojid's BuildRoot makes and fills it.
		br := call(t, fh.host, "host.newBuildRoot", []any{1, "x86_64"}, map[string]any{"task_id": task}).(int64)
		call(t, fh.host, "host.setBuildRootList", []any{br, []any{}, task}, nil)
		call(t, fh.host, "host.setBuildRootState", []any{br, "BUILDING"}, map[string]any{"task_id": task})
		root := call(t, fh.admin, "getBuildroot", []any{br}, nil).(map[string]any)
		assert.Equal(t, int64(2), root["state"])
		assert.Equal(t, "x86_64", root["arch"])
		assert.Equal(t, task, root["task_id"])
		assert.Equal(t, "builder1", root["host_name"])
		assert.Equal(t, int64(1), root["repo_id"])
		listed := call(t, fh.admin, "listBuildroots", nil, map[string]any{"taskID": task}).([]any)
		require.Len(t, listed, 1)
		assert.Equal(t, root, listed[0])

		id := call(t, fh.host, "host.initBuild", []any{headerData(t, b.srpm, task)}, nil).(int64)
		building := call(t, fh.admin, "getBuild", []any{id}, nil).(map[string]any)
		assert.Equal(t, int64(0), building["state"])
		assert.Equal(t, task, building["task_id"])
		assert.Equal(t, "kojiadmin", building["owner_name"], "the task's owner")
		assert.Nil(t, building["completion_time"])
		assert.Equal(t, []string{"state None->0 hello-1.0-1 state 0"}, cb.take())

		brmap := map[string]any{}
		for _, f := range files {
			brmap[f] = br
		}
		done := call(t, fh.host, "host.completeBuild", []any{task, id, files[0], []any{files[1], files[2]}},
			map[string]any{"brmap": brmap, "logs": map[string]any{"x86_64": []any{logs[0]}}}).(map[string]any)
		got := call(t, fh.admin, "getBuild", []any{"hello-1.0-1"}, nil).(map[string]any)
		assert.Equal(t, done, got)
		sameMembers(t, recorded(t, "getBuild"), got, keysOf(got)...)
		assert.Equal(t, int64(1), got["state"])
		assert.NotNil(t, got["completion_ts"])
		assert.Equal(t, []string{"state 0->1 hello-1.0-1 state 1", "import rpm hello.src", "import rpm hello.x86_64",
			"import rpm hello-doc.noarch", "import build"}, cb.take())

		// The RPMs as import_rpm recorded them: sizes of the files, the
		// payload hash of their signature headers, the buildroot.
		rpms := call(t, fh.admin, "listRPMs", nil, map[string]any{"buildID": id}).([]any)
		require.Len(t, rpms, 3)
		assert.Equal(t, rpms, call(t, fh.admin, "listBuildRPMs", []any{"hello-1.0-1"}, nil))
		pi := koji.PathInfo{TopDir: fh.top}
		bdir := pi.Build(&koji.Build{Name: "hello", Version: "1.0", Release: "1"})
		for i, f := range b.all() {
			r := rpms[i].(map[string]any)
			p, err := rpm.ReadFile(f)
			require.NoError(t, err)
			fi, err := os.Stat(f)
			require.NoError(t, err)
			assert.Equal(t, p.Name, r["name"])
			assert.Equal(t, p.PayloadHash(), r["payloadhash"])
			assert.Equal(t, fi.Size(), r["size"], "rpminfo.size is the file's size")
			assert.Equal(t, p.BuildTime, r["buildtime"])
			assert.Equal(t, br, r["buildroot_id"])
			assert.Equal(t, id, r["build_id"])
			assert.Equal(t, false, r["draft"])
			want, err := os.ReadFile(f)
			require.NoError(t, err)
			arch := r["arch"].(string)
			dest := bdir + "/" + pi.RPM(&koji.RPM{Name: p.Name, Version: p.Version, Release: p.Release, Arch: arch})
			got, err := os.ReadFile(dest)
			require.NoError(t, err)
			assert.Equal(t, want, got, dest)
			link, err := os.Readlink(filepath.Join(fh.top, "work", files[i]))
			require.NoError(t, err, "the upload is a symbolic link to the file")
			assert.Equal(t, dest, filepath.Clean(filepath.Join(fh.top, "work", dir, link)))
		}
		byNVRA := call(t, fh.admin, "getRPM", []any{"hello-1.0-1.x86_64"}, nil).(map[string]any)
		assert.Equal(t, rpms[1].(map[string]any)["id"], byNVRA["id"])
		assert.FileExists(t, pi.BuildLogs(&koji.Build{Name: "hello", Version: "1.0", Release: "1"})+"/x86_64/build.log")
		assert.Empty(t, call(t, fh.admin, "listArchives", nil, map[string]any{"buildID": id}))
		assert.NotNil(t, call(t, fh.admin, "getAverageBuildDuration", []any{"hello"}, nil))
		withRPM := call(t, fh.admin, "listBuildroots", nil, map[string]any{"rpmID": byNVRA["id"]}).([]any)
		assert.Empty(t, withRPM, "the listing is of RPMs installed in the buildroot, none here")
		assert.Equal(t, rpms, call(t, fh.admin, "listRPMs", nil, map[string]any{"hostID": fh.hostID}),
			"the RPMs built in the host's buildroots")
		assert.Empty(t, call(t, fh.admin, "listRPMs", nil, map[string]any{"hostID": fh.hostID + 1}))

		// A buildNotification task for the owner, as upstream's default
		// configuration makes.
		var notes []map[string]any
		require.NoError(t, fh.admin.CallKw(ctx, "listTasks", &notes, nil, map[string]any{
			"opts": map[string]any{"method": "buildNotification", "decode": true}}))
		require.Len(t, notes, 1)
		req := notes[0]["request"].([]any)
		assert.Equal(t, []any{"kojiadmin@None"}, req[0])
		assert.Equal(t, "hello-1.0-1", req[1].(map[string]any)["nvr"])

		// The tagBuild task the user side made, run by the host: tagged as
		// the task's owner.
		_, err := fh.admin.CreateTag(ctx, "dest", nil)
		require.NoError(t, err)
		require.NoError(t, fh.admin.PackageListAdd(ctx, "dest", "hello", &koji.PackageListAddOptions{Owner: "kojiadmin"}))
		var tagTask int64
		require.NoError(t, fh.admin.Call(ctx, "tagBuild", &tagTask, "dest", "hello-1.0-1"))
		taskOpen(t, fh.kojiHub, fh.hostID, tagTask)
		call(t, fh.host, "host.tagBuild", []any{tagTask, "dest", id}, nil)
		tagged := call(t, fh.admin, "listTagged", []any{"dest"}, nil).([]any)
		require.Len(t, tagged, 1)
		sameMembers(t, recorded(t, "listTagged").([]any)[0], tagged[0], keysOf(tagged[0].(map[string]any))...)
		assert.Equal(t, "hello-1.0-1", tagged[0].(map[string]any)["nvr"])
		var hist map[string]any
		require.NoError(t, fh.admin.CallKw(ctx, "queryHistory", &hist, nil, map[string]any{"tables": []any{"tag_listing"}}))
		rows := hist["tag_listing"].([]any)
		require.Len(t, rows, 1)
		assert.Equal(t, int64(1), rows[0].(map[string]any)["creator_id"])
		assert.Contains(t, faultString(t, fh.host, koji.ErrTag, "host.tagBuild", []any{tagTask, "dest", id}, nil), "already tagged")
		// Its notification: a tagNotification task.
		n := call(t, fh.host, "host.tagNotification", []any{true, 1, nil, id, 1}, nil)
		assert.Nil(t, n)
		require.NoError(t, fh.admin.CallKw(ctx, "listTasks", &notes, nil, map[string]any{
			"opts": map[string]any{"method": "tagNotification", "decode": true}}))
		require.Len(t, notes, 1)
		assert.Equal(t, []any{[]any{"kojiadmin@None"}, true, int64(1), nil, id, int64(1), false, ""}, notes[0]["request"])
	})
}
