package hubserver_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/koji"
)

// addVolume makes a storage volume's directory and adds it, as an
// administrator's koji add-volume does.
func addVolume(t *testing.T, fh *filesHub, name string) {
	require.NoError(t, os.MkdirAll(filepath.Join(fh.top, "vol", name), 0o777))
	call(t, fh.admin, "addVolume", []any{name}, nil)
}

// TestKojiTaskOutput lists and reads task output with every option, on
// two volumes.
func TestKojiTaskOutput(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		fh := startFilesHub(t, dsn, nil)
		addVolume(t, fh, "vol2")
		up := func(dir, name, data, volume string) {
			require.NoError(t, fh.host.Upload(ctx, strings.NewReader(data), dir, name,
				&koji.UploadOptions{Volume: volume, Method: koji.UploadFast}))
		}
		up("tasks/1/1", "a.log", "0123456789", "")
		up("tasks/1/1/sub", "b.log", "bee", "")
		up("tasks/1/1", "a.log", "vol2 a", "vol2")
		up("tasks/1/1", "c.log", "sea", "vol2")
		_, err := os.Stat(filepath.Join(fh.top, "vol", "vol2", "work", "tasks", "1", "1", "c.log"))
		require.NoError(t, err, "volumes live under vol/<name>/work")

		list := func(kw map[string]any) any {
			var v any
			require.NoError(t, fh.admin.CallKw(ctx, "listTaskOutput", &v, []any{1}, kw))
			return v
		}
		assert.Equal(t, []any{"a.log", "sub/b.log"}, list(nil))
		assert.Equal(t, map[string]any{"a.log": []any{"DEFAULT", "vol2"}, "sub/b.log": []any{"DEFAULT"}, "c.log": []any{"vol2"}},
			list(map[string]any{"all_volumes": true}))
		stats := list(map[string]any{"stat": true}).(map[string]any)
		require.Len(t, stats, 2)
		fi, err := os.Stat(filepath.Join(fh.top, "work", "tasks", "1", "1", "a.log"))
		require.NoError(t, err)
		a := stats["a.log"].(map[string]any)
		assert.Equal(t, "10", a["st_size"])
		assert.InDelta(t, float64(fi.ModTime().UnixNano())/1e9, a["st_mtime"], 1e-6)
		assert.IsType(t, float64(0), a["st_atime"])
		assert.IsType(t, float64(0), a["st_ctime"])
		both := list(map[string]any{"stat": true, "all_volumes": true}).(map[string]any)
		assert.Equal(t, "6", both["a.log"].(map[string]any)["vol2"].(map[string]any)["st_size"])
		assert.Equal(t, "10", both["a.log"].(map[string]any)["DEFAULT"].(map[string]any)["st_size"])
		assert.Equal(t, []string{"vol2"}, fileKeys(both["c.log"].(map[string]any)))

		files, err := fh.admin.ListTaskOutput(ctx, 1, &koji.ListTaskOutputOptions{AllVolumes: true, Stat: true})
		require.NoError(t, err)
		assert.Len(t, files, 4)

		// Missing tasks and bad ids.
		var none []string
		require.NoError(t, fh.admin.Call(ctx, "listTaskOutput", &none, 999))
		assert.Equal(t, []string{}, none)
		assert.Equal(t, "Task doesn't exist",
			faultString(t, fh.admin, koji.ErrGeneric, "listTaskOutput", []any{999}, map[string]any{"strict": true}))
		assert.Equal(t, "Task doesn't exist",
			faultString(t, fh.admin, koji.ErrGeneric, "listTaskOutput", []any{"one"}, map[string]any{"strict": true}))
		assert.Equal(t, "<class 'TypeError'>: not all arguments converted during string formatting",
			faultString(t, fh.admin, 1, "listTaskOutput", []any{"one"}, nil))
		require.NoError(t, fh.admin.Call(ctx, "listTaskOutput", &none, -5), "tasks/9995/-5, as Python's modulo")
		assert.Equal(t, []string{}, none)

		get := func(name string, kw map[string]any) string {
			var s string
			require.NoError(t, fh.admin.CallKw(ctx, "downloadTaskOutput", &s, []any{1, name}, kw))
			return s
		}
		assert.Equal(t, b64("0123456789"), get("a.log", nil))
		assert.Equal(t, b64("3456"), get("a.log", map[string]any{"offset": 3, "size": 4}))
		assert.Equal(t, b64("789"), get("a.log", map[string]any{"offset": -3}))
		assert.Equal(t, b64("23456789"), get("a.log", map[string]any{"offset": "2"}))
		assert.Equal(t, "", get("a.log", map[string]any{"size": 0}))
		assert.Equal(t, "", get("a.log", map[string]any{"offset": 20}))
		assert.Equal(t, b64("bee"), get("sub/b.log", nil))
		assert.Equal(t, b64("vol2 a"), get("a.log", map[string]any{"volume": "vol2"}))
		assert.Equal(t, b64("0123456789"), get("a.log", map[string]any{"volume": 0}), "a false volume is the default")
		assert.Equal(t, "<class 'OSError'>: [Errno 22] Invalid argument",
			faultString(t, fh.admin, 1, "downloadTaskOutput", []any{1, "a.log"}, map[string]any{"offset": -20}))
		assert.Equal(t, "Invalid type for value 'abc': <class 'str'>, expected type <class 'int'>",
			faultString(t, fh.admin, koji.ErrParameter, "downloadTaskOutput", []any{1, "a.log"}, map[string]any{"size": "abc"}))
		assert.Equal(t, "Invalid type, expected type <class 'int'>",
			faultString(t, fh.admin, koji.ErrParameter, "downloadTaskOutput", []any{1, "a.log"}, map[string]any{"size": nil}))
		assert.Equal(t, "No such volume: nope",
			faultString(t, fh.admin, koji.ErrGeneric, "downloadTaskOutput", []any{1, "a.log"}, map[string]any{"volume": "nope"}))
		assert.Equal(t, `no file "c.log" output by task 1`,
			faultString(t, fh.admin, koji.ErrGeneric, "downloadTaskOutput", []any{1, "c.log"}, nil))

		// The Go client's reader, chunk by chunk, on the other volume.
		rc, err := fh.admin.TaskOutput(ctx, 1, "c.log", &koji.TaskOutputOptions{Volume: "vol2", ChunkSize: 2})
		require.NoError(t, err)
		data, err := io.ReadAll(rc)
		rc.Close()
		require.NoError(t, err)
		assert.Equal(t, "sea", string(data))

		// checkUpload on a volume, and of a tail.
		var st map[string]any
		require.NoError(t, fh.admin.CallKw(ctx, "checkUpload", &st, []any{"tasks/1/1", "a.log"},
			map[string]any{"volume": "vol2", "verify": "md5", "tail": 2}))
		assert.Equal(t, int64(6), st["size"])
		assert.Equal(t, int64(2), st["sumlength"])
		assert.Equal(t, md5Hex(" a"), st["hexdigest"])
		assert.Equal(t, "Invalid tail value: -1",
			faultString(t, fh.admin, koji.ErrGeneric, "checkUpload", []any{"tasks/1/1", "a.log"}, map[string]any{"verify": "md5", "tail": -1}))
		assert.Equal(t, "Unsupported verify type: sha1",
			faultString(t, fh.admin, koji.ErrGeneric, "checkUpload", []any{"tasks/1/1", "a.log"}, map[string]any{"verify": "sha1"}))
		assert.Equal(t, "No such entry in table volume: 7",
			faultString(t, fh.admin, koji.ErrGeneric, "checkUpload", []any{"tasks/1/1", "a.log"}, map[string]any{"volume": 7}))
		require.NoError(t, fh.admin.CallKw(ctx, "checkUpload", &st, []any{"tasks/1/1", "a.log"}, map[string]any{"volume": 1}))
		assert.Equal(t, int64(6), st["size"], "a volume by id")
	})
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func fileKeys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
