package hubserver_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
)

// writeBuildDir makes a build directory under dir: a log with a fixed
// modification time, a file in a subdirectory and a symlink.
func writeBuildDir(t *testing.T, dir string) {
	t.Helper()
	log := filepath.Join(dir, "data", "logs", "build.log")
	require.NoError(t, os.MkdirAll(filepath.Dir(log), 0o755))
	require.NoError(t, os.WriteFile(log, []byte("built\n"), 0o640))
	require.NoError(t, os.Chtimes(log, time.Unix(1700000000, 0), time.Unix(1700000000, 0)))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "noarch"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "noarch", "foo.rpm"), []byte("rpm"), 0o644))
	require.NoError(t, os.Symlink("data/logs/build.log", filepath.Join(dir, "latest.log")))
}

// assertBuildDir checks a copy that writeBuildDir made: contents, modes,
// times and the symlink as a symlink.
func assertBuildDir(t *testing.T, dir string) {
	t.Helper()
	log := filepath.Join(dir, "data", "logs", "build.log")
	data, err := os.ReadFile(log)
	require.NoError(t, err)
	assert.Equal(t, "built\n", string(data))
	st, err := os.Stat(log)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), st.Mode().Perm())
	assert.True(t, st.ModTime().Equal(time.Unix(1700000000, 0)), "copied with its times: %v", st.ModTime())
	target, err := os.Readlink(filepath.Join(dir, "latest.log"))
	require.NoError(t, err)
	assert.Equal(t, "data/logs/build.log", target)
	_, err = os.Stat(filepath.Join(dir, "noarch", "foo.rpm"))
	assert.NoError(t, err)
}

// TestKojiVolumesPython drives the koji CLI's add-volume, remove-volume,
// list-volumes and set-build-volume calls, getVolume and
// applyVolumePolicy (upstream's default volume policy, all :: DEFAULT)
// with Python's xmlrpc.client: the build directory moves between
// volumes (koji.pathinfo.volumedir) with its contents, modes, times and
// symlinks, the DEFAULT path of a build elsewhere is a relative
// symlink, the tags record a VOLUME_CHANGE, and every error of
// upstream's add_volume, remove_volume, getVolume and _set_build_volume
// comes with its class and message.
func TestKojiVolumesPython(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		fh := startFilesHub(t, dsn, func(c *hubserver.KojiConfig) { c.AdminPassword = "secret" })
		admin, top := fh.admin, fh.top
		for _, v := range []string{"archive", "third", "fourth", "gone"} {
			require.NoError(t, os.MkdirAll(filepath.Join(top, "vol", v), 0o755))
		}
		call(t, admin, "createEmptyBuild", []any{"foo", "1.0", "1", nil}, nil)
		call(t, admin, "createEmptyBuild", []any{"bar", "1", "1", nil}, nil)
		taskTx(t, fh.kojiHub, 1, func(ctx context.Context) error {
			_, err := fh.koji.NewBuildForTest(ctx, "cgb", "1", "1", store.BuildBuilding, 1, 0)
			return err
		})
		base := filepath.Join(top, "packages", "foo", "1.0", "1")
		writeBuildDir(t, base)
		f44 := call(t, admin, "createTag", []any{"f44"}, nil)
		call(t, admin, "tagBuildBypass", []any{"f44", "foo-1.0-1"}, nil)
		event := call(t, admin, "getLastEvent", nil, nil).(map[string]any)["id"]

		none := map[string]any(nil)
		out := runPySession(t, fh.kojiHub, []pyCall{
			/* 0 */ pycall("addVolume", []any{"archive"}, none),
			/* 1 */ pycall("addVolume", []any{"archive"}, none),
			/* 2 */ pycall("addVolume", []any{"archive", false}, none),
			/* 3 */ pycall("addVolume", []any{"nodir"}, none),
			/* 4 */ pycall("addVolume", []any{"bad name"}, none),
			/* 5 */ pycall("addVolume", []any{"third"}, none),
			/* 6 */ pycall("listVolumes", []any{}, none),
			/* 7 */ pycall("getVolume", []any{"archive"}, none),
			/* 8 */ pycall("getVolume", []any{2}, none),
			/* 9 */ pycall("getVolume", []any{"nope"}, none),
			/* 10 */ pycall("getVolume", []any{"nope"}, map[string]any{"strict": true}),
			/* 11 */ pycall("changeBuildVolume", []any{"foo-1.0-1", "archive"}, none),
			/* 12 */ pycall("getBuild", []any{"foo-1.0-1"}, none),
			/* 13 */ pycall("changeBuildVolume", []any{"foo-1.0-1", "archive"}, none),
			/* 14 */ pycall("changeBuildVolume", []any{"foo-1.0-1", 1, false}, none),
			/* 15 */ pycall("removeVolume", []any{"archive"}, none),
			/* 16 */ pycall("tagChangedSinceEvent", []any{event, []any{f44}}, none),
			/* 17 */ pycall("changeBuildVolume", []any{"cgb-1-1", "archive"}, none),
			/* 18 */ pycall("changeBuildVolume", []any{"foo-1.0-1", "nope"}, none),
			/* 19 */ pycall("changeBuildVolume", []any{"nobuild-1-1", "archive"}, none),
			/* 20 */ pycall("changeBuildVolume", []any{"bar-1-1", "archive"}, none),
			/* 21 */ pycall("getBuild", []any{"bar-1-1"}, none),
			/* 22 */ pycall("changeBuildVolume", []any{"bar-1-1", "DEFAULT"}, none),
			/* 23 */ pycall("addVolume", []any{"DEFAULT"}, none),
			/* 24 */ pycall("getVolume", []any{[]any{1}}, none),
		})
		archive := map[string]any{"id": float64(1), "name": "archive"}
		assert.Equal(t, archive, pyOK(t, out[0]))
		sameShape(t, dictOf([]string{"id", "name"}, map[string]string{"id": "int", "name": "str"}), out[0].Types, "addVolume")
		pyFault(t, out[1], koji.ErrGeneric, "volume archive already exists")
		assert.Equal(t, archive, pyOK(t, out[2]))
		pyFault(t, out[3], koji.ErrGeneric, "please create the volume directory first")
		pyFault(t, out[4], koji.ErrGeneric, "Name bad name does not match RegexNameInternal value")
		third := map[string]any{"id": float64(2), "name": "third"}
		assert.Equal(t, third, pyOK(t, out[5]))
		assert.Equal(t, []any{map[string]any{"id": float64(0), "name": "DEFAULT"}, archive, third}, pyOK(t, out[6]))
		assert.Equal(t, archive, pyOK(t, out[7]))
		assert.Equal(t, third, pyOK(t, out[8]))
		assert.Nil(t, pyOK(t, out[9]))
		pyFault(t, out[10], koji.ErrGeneric, "No such volume: nope")
		assert.Nil(t, pyOK(t, out[11]))
		b := pyOK(t, out[12]).(map[string]any)
		assert.Equal(t, []any{float64(1), "archive"}, []any{b["volume_id"], b["volume_name"]})
		pyFault(t, out[13], koji.ErrGeneric, "Build foo-1.0-1 already on volume archive")
		assert.Nil(t, pyOK(t, out[14]))
		pyFault(t, out[15], koji.ErrGeneric, "volume archive has build references")
		assert.Equal(t, true, pyOK(t, out[16]), "a VOLUME_CHANGE of the build's tags")
		pyFault(t, out[17], koji.ErrGeneric, "Build cgb-1-1 is BUILDING")
		pyFault(t, out[18], koji.ErrGeneric, "No such entry in table volume: nope")
		pyFault(t, out[19], koji.ErrGeneric, "No such build: 'nobuild-1-1'")
		// A build without a directory moves nowhere but DEFAULT: upstream's
		// newdir is unset, and the move is rolled back.
		pyFault(t, out[20], 1, "<class 'UnboundLocalError'>: cannot access local variable 'newdir' where it is not associated with a value")
		assert.Equal(t, "DEFAULT", pyOK(t, out[21]).(map[string]any)["volume_name"])
		pyFault(t, out[22], koji.ErrGeneric, "Build bar-1-1 already on volume DEFAULT")
		pyFault(t, out[23], koji.ErrGeneric, "volume DEFAULT already exists")
		pyFault(t, out[24], koji.ErrGeneric, "Invalid name or id value: [1]")

		moved := filepath.Join(top, "vol", "archive", "packages", "foo", "1.0", "1")
		assertBuildDir(t, moved)
		link, err := os.Readlink(base)
		require.NoError(t, err, "the DEFAULT path is a symlink")
		assert.Equal(t, "../../../vol/archive/packages/foo/1.0/1", link)
		assertBuildDir(t, base)

		// Elsewhere, back by the default policy, the volume removed.
		out = runPySession(t, fh.kojiHub, []pyCall{
			/* 0 */ pycall("changeBuildVolume", []any{"foo-1.0-1", "third"}, none),
			/* 1 */ pycall("getBuild", []any{"foo-1.0-1"}, none),
		})
		assert.Nil(t, pyOK(t, out[0]))
		assert.Equal(t, "third", pyOK(t, out[1]).(map[string]any)["volume_name"])
		_, err = os.Lstat(moved)
		assert.True(t, os.IsNotExist(err), "the old copy is removed")
		assertBuildDir(t, filepath.Join(top, "vol", "third", "packages", "foo", "1.0", "1"))
		link, err = os.Readlink(base)
		require.NoError(t, err)
		assert.Equal(t, "../../../vol/third/packages/foo/1.0/1", link)

		out = runPySession(t, fh.kojiHub, []pyCall{
			/* 0 */ pycall("applyVolumePolicy", []any{"foo-1.0-1"}, none),
			/* 1 */ pycall("getBuild", []any{"foo-1.0-1"}, none),
			/* 2 */ pycall("applyVolumePolicy", []any{"foo-1.0-1", true}, none),
			/* 3 */ pycall("removeVolume", []any{"archive"}, none),
			/* 4 */ pycall("removeVolume", []any{"archive"}, none),
			/* 5 */ pycall("listVolumes", []any{}, none),
			/* 6 */ pycall("applyVolumePolicy", []any{"nobuild-1-1"}, none),
		})
		assert.Nil(t, pyOK(t, out[0]))
		assert.Equal(t, "DEFAULT", pyOK(t, out[1]).(map[string]any)["volume_name"])
		assert.Nil(t, pyOK(t, out[2]))
		assert.Nil(t, pyOK(t, out[3]))
		pyFault(t, out[4], koji.ErrGeneric, "No such entry in table volume: archive")
		assert.Equal(t, []any{map[string]any{"id": float64(0), "name": "DEFAULT"}, third}, pyOK(t, out[5]))
		pyFault(t, out[6], koji.ErrGeneric, "No such build: 'nobuild-1-1'")
		st, err := os.Lstat(base)
		require.NoError(t, err)
		assert.True(t, st.IsDir(), "back on DEFAULT, a directory again")
		assertBuildDir(t, base)
		_, err = os.Lstat(filepath.Join(top, "vol", "third", "packages", "foo", "1.0", "1"))
		assert.True(t, os.IsNotExist(err))

		// The sanity checks: the destination taken, the build's directory
		// on a third volume, a volume without its directory.
		dest := filepath.Join(top, "vol", "third", "packages", "foo", "1.0", "1")
		require.NoError(t, os.MkdirAll(dest, 0o755))
		assert.Equal(t, "Destination directory exists: "+dest,
			faultString(t, admin, koji.ErrGeneric, "changeBuildVolume", []any{"foo-1.0-1", "third"}, nil))
		require.NoError(t, os.Remove(dest))
		call(t, admin, "addVolume", []any{"fourth"}, nil)
		stray := filepath.Join(top, "vol", "fourth", "packages", "foo", "1.0", "1")
		require.NoError(t, os.MkdirAll(stray, 0o755))
		assert.Equal(t, "Unexpected cross-volume content: "+stray,
			faultString(t, admin, koji.ErrGeneric, "changeBuildVolume", []any{"foo-1.0-1", "third"}, nil))
		call(t, admin, "addVolume", []any{"gone"}, nil)
		require.NoError(t, os.Remove(filepath.Join(top, "vol", "gone")))
		assert.Equal(t, "Directory entry missing for volume gone",
			faultString(t, admin, koji.ErrGeneric, "changeBuildVolume", []any{"foo-1.0-1", "gone"}, nil))
		assertBuildDir(t, base)

		// Only admins change volumes; anyone reads them.
		bob := withBob(t, fh.kojiHub)
		for i, c := range [][]any{{"addVolume", "x"}, {"removeVolume", "third"}, {"changeBuildVolume", "foo-1.0-1", "third"},
			{"applyVolumePolicy", "foo-1.0-1"}} {
			assert.Equal(t, "admin permission required (logged in as bob)",
				bob.fault(t, i, koji.ErrActionNotAllowed, c[0].(string), c[1:]...))
		}
		assert.Equal(t, map[string]any{"id": int64(2), "name": "third"}, call(t, fh.kojiHub.client(t), "getVolume", []any{"third"}, nil))

		assertUpstreamSignatures(t, "addVolume", "removeVolume", "getVolume", "listVolumes", "changeBuildVolume",
			"applyVolumePolicy")
	})
}

// TestKojiVolumePolicy applies a configured volume policy: its action
// names the volume; without strict, a volume it names that does not
// exist, or no match, leaves the build where it is, and with strict
// they are upstream's errors. A build's task adds its policy data
// (source and target), and a task whose target is gone fails.
func TestKojiVolumePolicy(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		fh := startFilesHub(t, dsn, func(c *hubserver.KojiConfig) {
			c.AdminPassword = "secret"
			c.Policies = map[string]string{"volume": "package foo :: archive\npackage bar :: nosuch\n" +
				"source git+https://src/qux* && target t44 :: archive\n"}
		})
		admin, top := fh.admin, fh.top
		require.NoError(t, os.MkdirAll(filepath.Join(top, "vol", "archive"), 0o755))
		call(t, admin, "addVolume", []any{"archive"}, nil)
		for _, n := range []string{"foo", "bar", "baz"} {
			call(t, admin, "createEmptyBuild", []any{n, "1", "1", nil}, nil)
			writeBuildDir(t, filepath.Join(top, "packages", n, "1", "1"))
		}
		call(t, admin, "createTag", []any{"b44"}, nil)
		call(t, admin, "createTag", []any{"d44"}, nil)
		call(t, admin, "createBuildTarget", []any{"t44", "b44", "d44"}, nil)
		call(t, admin, "createBuildTarget", []any{"gone", "b44", "d44"}, nil)
		taskTx(t, fh.kojiHub, 1, func(ctx context.Context) error {
			for n, target := range map[string]string{"qux": "t44", "quux": "gone"} {
				task, err := fh.koji.MakeTaskForTest(ctx, "build", []any{"git+https://src/" + n + "#1", target, map[string]any{}}, hubserver.TaskOpts{})
				if err != nil {
					return err
				}
				if _, err := fh.koji.NewBuildForTest(ctx, n, "1", "1", store.BuildComplete, 1, task); err != nil {
					return err
				}
			}
			return nil
		})
		writeBuildDir(t, filepath.Join(top, "packages", "qux", "1", "1"))
		call(t, admin, "deleteBuildTarget", []any{"gone"}, nil)

		none := map[string]any(nil)
		out := runPySession(t, fh.kojiHub, []pyCall{
			/* 0 */ pycall("applyVolumePolicy", []any{"foo-1-1"}, none),
			/* 1 */ pycall("getBuild", []any{"foo-1-1"}, none),
			/* 2 */ pycall("applyVolumePolicy", []any{"bar-1-1"}, none),
			/* 3 */ pycall("applyVolumePolicy", []any{"bar-1-1", true}, none),
			/* 4 */ pycall("applyVolumePolicy", []any{"baz-1-1"}, none),
			/* 5 */ pycall("applyVolumePolicy", []any{"baz-1-1"}, map[string]any{"strict": true}),
			/* 6 */ pycall("getBuild", []any{"baz-1-1"}, none),
			/* 7 */ pycall("applyVolumePolicy", []any{"qux-1-1", true}, none),
			/* 8 */ pycall("getBuild", []any{"qux-1-1"}, none),
			/* 9 */ pycall("applyVolumePolicy", []any{"quux-1-1"}, none),
			/* 10 */ pycall("applyVolumePolicy", []any{"foo-1-1", true}, none),
		})
		assert.Nil(t, pyOK(t, out[0]))
		assert.Equal(t, "archive", pyOK(t, out[1]).(map[string]any)["volume_name"])
		assert.Nil(t, pyOK(t, out[2]))
		pyFault(t, out[3], koji.ErrGeneric, "Policy returned no such volume: nosuch")
		assert.Nil(t, pyOK(t, out[4]))
		pyFault(t, out[5], koji.ErrGeneric, "No volume policy match")
		assert.Equal(t, "DEFAULT", pyOK(t, out[6]).(map[string]any)["volume_name"])
		assert.Nil(t, pyOK(t, out[7]))
		assert.Equal(t, "archive", pyOK(t, out[8]).(map[string]any)["volume_name"], "the task's source and target")
		pyFault(t, out[9], koji.ErrGeneric, "No such build target: gone")
		assert.Nil(t, pyOK(t, out[10]), "already on the policy's volume")
		assertBuildDir(t, filepath.Join(top, "vol", "archive", "packages", "foo", "1", "1"))
		assertBuildDir(t, filepath.Join(top, "packages", "bar", "1", "1"))
	})
}
