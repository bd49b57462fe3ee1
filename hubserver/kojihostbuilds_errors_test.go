package hubserver_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/koji"
)

// assertUnmoved checks that every upload is still a regular file in the
// work directory and that the build has no directory.
func assertUnmoved(t *testing.T, fh *filesHub, uploads []string, nvr [3]string) {
	t.Helper()
	for _, u := range uploads {
		fi, err := os.Lstat(filepath.Join(fh.top, "work", u))
		require.NoError(t, err, u)
		assert.True(t, fi.Mode().IsRegular(), "%s was moved", u)
	}
	_, err := os.Stat(koji.PathInfo{TopDir: fh.top}.Build(&koji.Build{Name: nvr[0], Version: nvr[1], Release: nvr[2]}))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestKojiHostBuildErrors(t *testing.T) {
	hello := buildRPMs(t, "hello", "1.0", "1")
	other := buildRPMs(t, "other", "2.0", "1")
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		fh := startFilesHub(t, dsn, nil)
		var veto atomic.Bool
		require.NoError(t, fh.koji.RegisterCallback("postImport", func(_ context.Context, _ string, kw map[string]any) error {
			if veto.Load() && kw["type"] == "build" {
				return errors.New("vetoed")
			}
			return nil
		}, hubserver.CallbackOptions{}))
		task := openHostTask(t, fh, "buildArch", "x", int64(1), "x86_64", false, map[string]any{})
		dir := "tasks/" + pyFmt(task) + "/" + pyFmt(task)
		files := upload(t, fh.host, dir, hello.all()...)
		others := upload(t, fh.host, dir, other.all()...)
		data := headerData(t, hello.srpm, task)

		// Another host does not own the task.
		require.NoError(t, fh.admin.Call(ctx, "addHost", nil, "builder2", []any{"x86_64"}))
		b2 := hostClient(t, fh.kojiHub, "builder2")
		require.NoError(t, b2.Call(ctx, "exclusiveSession", nil))
		msg := "host 2 does not own task " + pyFmt(task)
		assert.Equal(t, msg, faultString(t, b2, koji.ErrActionNotAllowed, "host.initBuild", []any{data}, nil))
		// A user is no host.
		assert.Equal(t, "User 1 is not a host", faultString(t, fh.admin, koji.ErrAuth, "host.initBuild", []any{data}, nil))
		assert.Equal(t, "<class 'KeyError'>: 'task_id'", faultString(t, fh.host, 1, "host.initBuild",
			[]any{map[string]any{"name": "hello"}}, nil))

		id := call(t, fh.host, "host.initBuild", []any{data}, nil).(int64)
		assert.Equal(t, msg, faultString(t, b2, koji.ErrActionNotAllowed, "host.completeBuild",
			[]any{task, id, files[0], []any{files[1]}}, nil))
		assert.Equal(t, msg, faultString(t, b2, koji.ErrActionNotAllowed, "host.failBuild", []any{task, id}, nil))

		// A second initBuild of the task is its restart; of another task,
		// the build is in progress.
		assert.Equal(t, id, call(t, fh.host, "host.initBuild", []any{data}, nil))
		task2 := openHostTask(t, fh, "buildArch", "y", int64(1), "x86_64", false, map[string]any{})
		d2 := headerData(t, hello.srpm, task2)
		assert.Equal(t, "Build already in progress (task "+pyFmt(task)+")",
			faultString(t, fh.host, koji.ErrGeneric, "host.initBuild", []any{d2}, nil))

		// Failing imports leave the build BUILDING, without RPMs, and
		// every upload where it was.
		work := filepath.Join(fh.top, "work")
		for _, tc := range []struct {
			name  string
			srpm  string
			rpms  []any
			logs  map[string]any
			brmap map[string]any
			want  string
			code  koji.FaultClass
		}{
			{"missing file", files[0], []any{dir + "/nope.rpm"}, nil, nil,
				"No such file: " + work + "/" + dir + "/nope.rpm", koji.ErrGeneric},
			{"traversal", files[0], []any{"../../../etc/passwd"}, nil, nil,
				"path leaves the hub's directory: " + work + "/../../../etc/passwd", koji.ErrGeneric},
			{"absolute", "/etc/passwd", []any{}, nil, nil,
				"path leaves the hub's directory: " + work + "//etc/passwd", koji.ErrGeneric},
			{"log traversal", files[0], []any{files[1]}, map[string]any{"../../x": []any{files[2]}}, nil,
				"path leaves the hub's directory: " + koji.PathInfo{TopDir: fh.top}.BuildLogs(&koji.Build{Name: "hello", Version: "1.0", Release: "1"}) + "/../../x",
				koji.ErrGeneric},
			{"not a source package", files[1], []any{}, nil, nil,
				"not a source package: " + work + "/" + files[1], koji.ErrGeneric},
			{"NVR mismatch", others[0], []any{}, nil, nil,
				"Unable to complete build: name mismatch (build: hello, rpm: other)", koji.ErrGeneric},
			{"srpm mismatch", files[0], []any{files[1], others[1]}, nil, nil,
				"srpm mismatch for " + work + "/" + others[1] + ": other-2.0-1.src.rpm (expected hello-1.0-1.src.rpm)", koji.ErrGeneric},
			{"bad filename", files[0], []any{dir + "/renamed.rpm"}, nil, nil,
				"bad filename: renamed.rpm (expected hello-1.0-1.x86_64.rpm)", koji.ErrGeneric},
			{"no buildroot", files[0], []any{}, nil, map[string]any{files[0]: 99}, "no buildroot with ID: 99", koji.ErrGeneric},
			{"brmap type", files[0], []any{}, nil, nil, "", 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if tc.name == "bad filename" {
					require.NoError(t, os.Link(filepath.Join(work, files[1]), filepath.Join(work, dir, "renamed.rpm")))
				}
				kw := map[string]any{}
				if tc.logs != nil {
					kw["logs"] = tc.logs
				}
				if tc.brmap != nil {
					kw["brmap"] = tc.brmap
				}
				if tc.name == "brmap type" {
					kw["brmap"] = []any{1}
					tc.want, tc.code = "Invalid type for value '[1]': <class 'list'>, expected type <class 'dict'>", koji.ErrParameter
				}
				assert.Equal(t, tc.want, faultString(t, fh.host, tc.code, "host.completeBuild", []any{task, id, tc.srpm, tc.rpms}, kw))
				b := call(t, fh.admin, "getBuild", []any{id}, nil).(map[string]any)
				assert.Equal(t, int64(0), b["state"])
				assert.Nil(t, b["completion_time"])
				assert.Empty(t, call(t, fh.admin, "listRPMs", nil, map[string]any{"buildID": id}))
				assertUnmoved(t, fh, append(files, others...), [3]string{"hello", "1.0", "1"})
			})
		}
		// A file already at its destination is refused before any move.
		pi := koji.PathInfo{TopDir: fh.top}
		bdir := pi.Build(&koji.Build{Name: "hello", Version: "1.0", Release: "1"})
		doc := bdir + "/noarch/hello-doc-1.0-1.noarch.rpm"
		require.NoError(t, os.MkdirAll(filepath.Dir(doc), 0o755))
		require.NoError(t, os.WriteFile(doc, []byte("in the way"), 0o644))
		assert.Equal(t, "Error importing archive file, "+doc+" already exists", faultString(t, fh.host, koji.ErrGeneric,
			"host.completeBuild", []any{task, id, files[0], []any{files[1], files[2]}}, nil))
		require.NoError(t, os.RemoveAll(bdir))
		// A postImport callback failing after the moves: they are undone
		// with the database work.
		veto.Store(true)
		faultString(t, fh.host, koji.ErrCallback, "host.completeBuild", []any{task, id, files[0], []any{files[1], files[2]}}, nil)
		veto.Store(false)
		assert.Equal(t, int64(0), call(t, fh.admin, "getBuild", []any{id}, nil).(map[string]any)["state"])
		assert.Empty(t, call(t, fh.admin, "listRPMs", nil, map[string]any{"buildID": id}))
		for _, u := range files {
			fi, err := os.Lstat(filepath.Join(work, u))
			require.NoError(t, err)
			assert.True(t, fi.Mode().IsRegular(), u)
		}
		for _, a := range []string{"src/hello-1.0-1.src.rpm", "x86_64/hello-1.0-1.x86_64.rpm", "noarch/hello-doc-1.0-1.noarch.rpm"} {
			assert.NoFileExists(t, bdir+"/"+a)
		}
		require.NoError(t, os.RemoveAll(bdir))

		// failBuild: BUILDING to FAILED, then no more.
		call(t, fh.host, "host.failBuild", []any{task, id}, nil)
		b := call(t, fh.admin, "getBuild", []any{id}, nil).(map[string]any)
		assert.Equal(t, int64(3), b["state"])
		assert.NotNil(t, b["completion_time"])
		assert.Equal(t, "cannot update build "+pyFmt(id)+", state: FAILED",
			faultString(t, fh.host, koji.ErrGeneric, "host.failBuild", []any{task, id}, nil))
		assert.Equal(t, "Unable to complete build: state is FAILED", faultString(t, fh.host, koji.ErrGeneric,
			"host.completeBuild", []any{task, id, files[0], []any{}}, nil))
		assert.Equal(t, "No such build: 999", faultString(t, fh.host, koji.ErrGeneric, "host.failBuild", []any{task, 999}, nil))
		// The failed build is recycled by the next initBuild.
		assert.Equal(t, id, call(t, fh.host, "host.initBuild", []any{d2}, nil))
		assertUnmoved(t, fh, append(files, others...), [3]string{"hello", "1.0", "1"})
	})
}

func TestKojiHostMoveBuildToScratch(t *testing.T) {
	b := buildRPMs(t, "hello", "1.0", "1")
	eachBackend(t, func(t *testing.T, dsn string) {
		fh := startFilesHub(t, dsn, nil)
		task := openHostTask(t, fh, "buildArch", "x", int64(1), "x86_64", false, map[string]any{})
		dir := "tasks/" + pyFmt(task) + "/" + pyFmt(task)
		files := upload(t, fh.host, dir, b.all()...)
		// Every arch's task makes the noarch RPM: the first is kept.
		dup := upload(t, fh.host, dir+"/again", b.rpms[1])
		log := filepath.Join(t.TempDir(), "build.log")
		require.NoError(t, os.WriteFile(log, []byte("built\n"), 0o644))
		logs := upload(t, fh.host, dir, log)
		assert.Equal(t, "path leaves the hub's directory: "+fh.top+"/scratch/kojiadmin/task_"+pyFmt(task)+"/logs/../x",
			faultString(t, fh.host, koji.ErrGeneric, "host.moveBuildToScratch", []any{task, files[0], []any{files[1]}},
				map[string]any{"logs": map[string]any{"../x": []any{logs[0]}}}))
		call(t, fh.host, "host.moveBuildToScratch", []any{task, files[0], []any{files[1], files[2], dup[0]}},
			map[string]any{"logs": map[string]any{"x86_64": []any{logs[0]}}})
		scratch := koji.PathInfo{TopDir: fh.top}.Scratch() + "/kojiadmin/task_" + pyFmt(task)
		for _, f := range b.all() {
			want, err := os.ReadFile(f)
			require.NoError(t, err)
			got, err := os.ReadFile(scratch + "/" + filepath.Base(f))
			require.NoError(t, err)
			assert.Equal(t, want, got)
		}
		assert.FileExists(t, scratch+"/logs/x86_64/build.log")
		fi, err := os.Lstat(filepath.Join(fh.top, "work", dup[0]))
		require.NoError(t, err)
		assert.True(t, fi.Mode().IsRegular(), "the duplicate stays")
		assert.Empty(t, call(t, fh.admin, "listBuilds", nil, nil), "nothing is imported")
		assert.Equal(t, "Destination exists: "+scratch+"/"+filepath.Base(dup[0]), faultString(t, fh.host, koji.ErrGeneric,
			"host.moveBuildToScratch", []any{task, dup[0], []any{}}, nil))
		// A dangling symbolic link is in the way too.
		other := filepath.Join(t.TempDir(), "other.log")
		require.NoError(t, os.WriteFile(other, []byte("other\n"), 0o644))
		srpm := upload(t, fh.host, dir+"/again", other)
		again := upload(t, fh.host, dir+"/again", log)
		dest := scratch + "/logs/x86_64/build.log"
		require.NoError(t, os.Remove(dest))
		require.NoError(t, os.Symlink("/nonexistent", dest))
		assert.Equal(t, "Destination is a symlink: "+dest, faultString(t, fh.host, koji.ErrGeneric,
			"host.moveBuildToScratch", []any{task, srpm[0], []any{}}, map[string]any{"logs": map[string]any{"x86_64": []any{again[0]}}}))
	})
}

// TestHostBuildMethodSignatures compares the signatures of the build
// flow's methods with Koji 1.35.3's method list.
func TestHostBuildMethodSignatures(t *testing.T) {
	assertUpstreamSignatures(t, "host.initBuild", "host.completeBuild", "host.failBuild", "host.moveBuildToScratch",
		"host.tagBuild", "host.tagNotification", "host.newBuildRoot", "host.setBuildRootState", "host.setBuildRootList",
		"host.updateBuildRootList", "getBuildroot", "listBuildroots", "getBuildrootListing")
}

// assertUpstreamSignatures checks that the hub's methods of these names
// have the signatures (_listapi's argdesc) of Koji 1.35.3's method list.
func assertUpstreamSignatures(t *testing.T, names ...string) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "koji", "testdata", "koji-1.35.3-methods.txt"))
	require.NoError(t, err)
	defer f.Close()
	upstream := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if name, args, ok := strings.Cut(sc.Text(), "("); ok {
			upstream[name] = "(" + args
		}
	}
	require.NoError(t, sc.Err())
	byName := listAPI(t, startKoji(t, filepath.Join(t.TempDir(), "hub.db"), nil))
	for _, name := range names {
		require.Contains(t, upstream, name)
		require.Contains(t, byName, name)
		assert.Equal(t, upstream[name], byName[name]["argdesc"], name)
	}
}
