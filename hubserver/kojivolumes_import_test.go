package hubserver_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
)

// host.completeBuild gives the build the volume the volume policy names
// for the import (import_build's check_volume_policy, with the package,
// the import flag and the task's data): its RPMs land there, and its
// path on DEFAULT is a relative symlink (ensure_volume_symlink).
func TestKojiHostCompleteBuildVolumePolicy(t *testing.T) {
	b := buildRPMs(t, "hello", "1.0", "1")
	eachBackend(t, func(t *testing.T, dsn string) {
		fh := startFilesHub(t, dsn, func(c *hubserver.KojiConfig) {
			c.Policies = map[string]string{"volume": "package hello && bool import :: archive\nall :: DEFAULT\n"}
		})
		require.NoError(t, os.MkdirAll(filepath.Join(fh.top, "vol", "archive"), 0o755))
		call(t, fh.admin, "addVolume", []any{"archive"}, nil)
		task := openHostTask(t, fh, "buildArch", "tasks/1/1/hello-1.0-1.src.rpm", int64(1), "x86_64", false, map[string]any{})
		files := upload(t, fh.host, "tasks/"+pyFmt(task)+"/"+pyFmt(task), b.all()...)
		id := call(t, fh.host, "host.initBuild", []any{headerData(t, b.srpm, task)}, nil).(int64)
		done := call(t, fh.host, "host.completeBuild", []any{task, id, files[0], []any{files[1], files[2]}}, nil).(map[string]any)
		assert.Equal(t, "archive", done["volume_name"])
		assert.Equal(t, done, call(t, fh.admin, "getBuild", []any{id}, nil))
		dir := filepath.Join(fh.top, "vol", "archive", "packages", "hello", "1.0", "1")
		assert.FileExists(t, filepath.Join(dir, "x86_64", "hello-1.0-1.x86_64.rpm"))
		assert.FileExists(t, filepath.Join(dir, "noarch", "hello-doc-1.0-1.noarch.rpm"))
		link, err := os.Readlink(filepath.Join(fh.top, "packages", "hello", "1.0", "1"))
		require.NoError(t, err)
		assert.Equal(t, "../../../vol/archive/packages/hello/1.0/1", link)
	})
}
