package hubserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/internal/testenv"
)

// pyStep is one step of testdata/pyupload.py.
type pyStep map[string]any

// pyOutcome is what pyupload.py reports for a step.
type pyOutcome struct {
	Result any     `json:"result"`
	Fault  *[2]any `json:"fault"`
	Error  *string `json:"error"`
	HTTP   *[2]any `json:"http"`
}

func (o pyOutcome) fault() string {
	if o.Fault == nil {
		return ""
	}
	return fmt.Sprintf("%v %v", o.Fault[0], o.Fault[1])
}

// runPyUpload logs in to the hub as user with Python's client and runs
// the steps.
func runPyUpload(t *testing.T, fh *filesHub, user, password string, exclusive bool, steps []pyStep) []pyOutcome {
	t.Helper()
	py := testenv.Command(t, "python3")
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, fh.pki.CAPEM, 0o600))
	spec, err := json.Marshal(map[string]any{"url": fh.hub.URL(), "cafile": ca, "user": user, "password": password,
		"exclusive": exclusive, "steps": steps})
	require.NoError(t, err)
	cmd := exec.Command(py, "testdata/pyupload.py")
	cmd.Stdin = bytes.NewReader(spec)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, stderr.String())
	var res []pyOutcome
	require.NoError(t, json.Unmarshal(out, &res), string(out))
	require.Len(t, res, len(steps))
	return res
}

// TestKojiPythonUploads uploads with Python's client, written as koji's
// ClientSession uploads: a host into its open task's directory, a user
// into a directory of its own, and the refusals of both.
func TestKojiPythonUploads(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		fh := startFilesHub(t, dsn, nil)
		// builder2 holds task 2; Python logs in as it.
		var id2 int64
		require.NoError(t, fh.admin.Call(ctx, "addHost", &id2, "builder2", []any{"x86_64"}))
		require.NoError(t, fh.koji.SetPassword(ctx, "builder2", "pw2"))
		var task2 int64
		require.NoError(t, fh.koji.TaskTx(ctx, 1, func(ctx context.Context) error {
			var err error
			if task2, err = fh.koji.MakeTaskForTest(ctx, "sleep", []any{int64(1)}, hubserver.TaskOpts{}); err != nil {
				return err
			}
			_, err = fh.koji.OpenTaskForTest(ctx, task2, id2)
			return err
		}))
		require.EqualValues(t, 2, task2)
		require.NoError(t, fh.admin.Call(ctx, "createUser", nil, "bob"))
		require.NoError(t, fh.koji.SetPassword(ctx, "bob", "secret"))
		require.NoError(t, fh.koji.SetPassword(ctx, "kojiadmin", "pw"))
		logs := strings.Repeat("python log line\n", 40)

		res := runPyUpload(t, fh, "builder2", "pw2", true, []pyStep{
			{"op": "fast", "path": "tasks/2/2", "name": "py.log", "data": logs, "blocksize": 100, "overwrite": true},
			{"op": "legacy", "path": "tasks/2/2", "name": "legacy.log", "data": "legacy\n", "blocksize": 3},
			{"op": "fast", "path": "tasks/1/1", "name": "stolen.log", "data": "x"},
			{"op": "legacy", "path": "tasks/1/1", "name": "stolen.log", "data": "x"},
			{"op": "call", "method": "listTaskOutput", "args": []any{2}},
			{"op": "call", "method": "downloadTaskOutput", "args": []any{2, "py.log"}, "kwargs": map[string]any{"offset": 16, "size": 16}},
		})
		for i, r := range res[:2] {
			require.Nil(t, r.Fault, "step %d: %v", i, r.Fault)
			require.Nil(t, r.Error, "step %d: %v", i, r.Error)
		}
		st := res[0].Result.(map[string]any)
		assert.EqualValues(t, len(logs), st["size"])
		assert.Equal(t, true, res[1].Result)
		assert.Equal(t, "1004 host 2 does not own task 1", res[2].fault())
		assert.Equal(t, "1004 host 2 does not own task 1", res[3].fault())
		assert.Equal(t, []any{"legacy.log", "py.log"}, res[4].Result)
		assert.Equal(t, b64("python log line\n"), res[5].Result)
		data, err := os.ReadFile(filepath.Join(fh.top, "work", "tasks", "2", "2", "py.log"))
		require.NoError(t, err)
		assert.Equal(t, logs, string(data))
		data, err = os.ReadFile(filepath.Join(fh.top, "work", "tasks", "2", "2", "legacy.log"))
		require.NoError(t, err)
		assert.Equal(t, "legacy\n", string(data))

		res = runPyUpload(t, fh, "bob", "secret", false, []pyStep{
			{"op": "fast", "path": "tasks/2/2", "name": "b.log", "data": "x"},
			{"op": "fast", "path": "bob/srpms", "name": "b.src.rpm", "data": "not really an rpm", "blocksize": 5},
			{"op": "legacy", "path": "bob/srpms", "name": "b.spec", "data": "Name: b\n"},
			{"op": "fast", "path": "bob/srpms", "name": "b.src.rpm", "data": "again"},
			{"op": "raw", "query": map[string]any{"filename": "c", "filepath": "bob/srpms", "fileverify": "adler32", "offset": "x"}, "data": "c"},
			{"op": "raw", "query": map[string]any{"filename": "c", "filepath": "../up", "fileverify": "adler32"}, "data": "c"},
			{"op": "call", "method": "checkUpload", "args": []any{"bob/srpms", "b.spec"}, "kwargs": map[string]any{"verify": "sha256"}},
		})
		bobID := "4" // kojiadmin, builder1, builder2, bob
		assert.Equal(t, "1002 User "+bobID+" is not a host", res[0].fault())
		require.Nil(t, res[1].Fault)
		require.Nil(t, res[1].Error)
		assert.Equal(t, true, res[2].Result)
		assert.Equal(t, "1000 upload path exists: "+filepath.Join(fh.top, "work", "bob", "srpms", "b.src.rpm"), res[3].fault())
		assert.Equal(t, "1 <class 'ValueError'>: invalid literal for int() with base 10: 'x'", res[4].fault())
		assert.Equal(t, "1000 Invalid upload directory: ../up", res[5].fault())
		assert.Equal(t, map[string]any{"size": float64(8), "sumlength": float64(8), "hexdigest": sha256Hex("Name: b\n")},
			withoutKey(res[6].Result.(map[string]any), "mtime"))
		owner, err := os.ReadFile(filepath.Join(fh.top, "work", "bob", "srpms", ".user"))
		require.NoError(t, err)
		assert.Equal(t, bobID, string(owner))

		res = runPyUpload(t, fh, "kojiadmin", "pw", false, []pyStep{
			{"op": "fast", "path": "bob/srpms", "name": "admin.log", "data": "x"},
			{"op": "legacy", "path": "bob/srpms", "name": "admin.log", "data": "x"},
		})
		assert.Equal(t, "1000 Invalid upload directory, not owner: bob/srpms", res[0].fault())
		assert.Equal(t, "1000 Invalid upload directory, not owner: bob/srpms", res[1].fault())
	})
}

func withoutKey(m map[string]any, key string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}
