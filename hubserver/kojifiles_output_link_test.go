package hubserver_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/koji"
)

// TestKojiTaskOutputLinks: task outputs that are symbolic links (a
// builder's files linked into scratch/, an import's into packages/) are
// listed as upstream's os.walk lists them and stat as os.stat follows
// them; a link to a directory is not, a broken one is listed but fails
// stat. downloadTaskOutput reads through a link only to a file in the top
// directory.
func TestKojiTaskOutputLinks(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		fh := startFilesHub(t, dsn, nil)
		task := filepath.Join(fh.top, "work", "tasks", "7", "7")
		scratch := filepath.Join(fh.top, "scratch", "kojiadmin", "task_7")
		for _, d := range []string{task, scratch, filepath.Join(fh.top, "packages", "foo")} {
			require.NoError(t, os.MkdirAll(d, 0o777))
		}
		write := func(p, data string) {
			require.NoError(t, os.WriteFile(p, []byte(data), 0o666))
		}
		write(filepath.Join(task, "build.log"), "log")
		write(filepath.Join(scratch, "foo-1-1.noarch.rpm"), "an rpm")
		write(filepath.Join(fh.top, "packages", "foo", "foo-1-1.src.rpm"), "a source rpm")
		outside := filepath.Join(t.TempDir(), "secret")
		write(outside, "not the hub's")
		link := func(target, name string) { require.NoError(t, os.Symlink(target, filepath.Join(task, name))) }
		link(filepath.Join(scratch, "foo-1-1.noarch.rpm"), "foo-1-1.noarch.rpm") // absolute
		link("../../../../packages/foo/foo-1-1.src.rpm", "foo-1-1.src.rpm")      // relative, out of work/
		link(scratch, "linkdir")
		link(outside, "outside")

		var names []string
		require.NoError(t, fh.admin.Call(ctx, "listTaskOutput", &names, 7))
		assert.Equal(t, []string{"build.log", "foo-1-1.noarch.rpm", "foo-1-1.src.rpm", "outside"}, names)
		var stats map[string]map[string]any
		require.NoError(t, fh.admin.CallKw(ctx, "listTaskOutput", &stats, []any{7}, map[string]any{"stat": true}))
		assert.Equal(t, "6", stats["foo-1-1.noarch.rpm"]["st_size"])
		assert.Equal(t, "12", stats["foo-1-1.src.rpm"]["st_size"])
		assert.Equal(t, "13", stats["outside"]["st_size"])
		files, err := fh.admin.ListTaskOutput(ctx, 7, &koji.ListTaskOutputOptions{Stat: true})
		require.NoError(t, err)
		assert.Len(t, files, 4)

		get := func(name string) string {
			var s string
			require.NoError(t, fh.admin.Call(ctx, "downloadTaskOutput", &s, 7, name))
			return s
		}
		assert.Equal(t, b64("an rpm"), get("foo-1-1.noarch.rpm"))
		assert.Equal(t, b64("a source rpm"), get("foo-1-1.src.rpm"))
		assert.Equal(t, `no file "outside" output by task 7`,
			faultString(t, fh.admin, koji.ErrGeneric, "downloadTaskOutput", []any{7, "outside"}, nil),
			"nothing outside the top directory is read")
		assert.Equal(t, `no file "linkdir" output by task 7`,
			faultString(t, fh.admin, koji.ErrGeneric, "downloadTaskOutput", []any{7, "linkdir"}, nil))

		// A broken link is listed; its stat is os.stat's error.
		link(filepath.Join(scratch, "gone.rpm"), "gone.rpm")
		require.NoError(t, fh.admin.Call(ctx, "listTaskOutput", &names, 7))
		assert.Contains(t, names, "gone.rpm")
		assert.Equal(t, "<class 'FileNotFoundError'>: [Errno 2] No such file or directory: '"+filepath.Join(task, "gone.rpm")+"'",
			faultString(t, fh.admin, 1, "listTaskOutput", []any{7}, map[string]any{"stat": true}))
	})
}
