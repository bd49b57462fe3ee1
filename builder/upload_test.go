package builder_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/builder"
	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/koji"
)

// uploader is a handler that uploads an output and writes a log.
var uploader = builder.HandlerFunc([]string{"uploadSome"}, 1, func(ctx context.Context, t *builder.Task) (any, error) {
	if err := t.Upload(ctx, strings.NewReader(strings.Repeat("output\n", 1000)), "out.txt"); err != nil {
		return nil, err
	}
	log, err := t.Log(ctx, "work.log")
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(log, "step 1\nstep 2\n"); err != nil {
		return nil, err
	}
	return "uploaded", log.Close()
})

// With use_fast_upload off, the daemon asks the hub whether it knows fast
// uploads, as upstream's uploadWrapper, and sends its files with the
// legacy uploadFile call to a hub without checkUpload (older than Koji
// 1.7.1); with it on (the default) it sends raw chunks, which such a hub
// cannot check, and the task fails.
func TestUploadWithoutFastUpload(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		th := startHub(t, dsn, false)
		th.methods = slices.DeleteFunc(slices.Clone(th.methods), func(m hubserver.Method) bool { return m.Name == "checkUpload" })
		ctx := context.Background()

		slow := th.daemon(t, "legacy", func(c *builder.Config) { c.UseFastUpload = new(bool) }, uploader)
		start(t, slow)
		id := th.makeTask(t, "uploadSome")
		info := th.waitState(t, id, koji.TaskClosed, koji.TaskFailed)
		require.Equal(t, koji.TaskClosed, info.State, "%v", taskResult(t, th, id))
		for name, want := range map[string]string{"out.txt": strings.Repeat("output\n", 1000), "work.log": "step 1\nstep 2\n"} {
			rc, err := th.admin.TaskOutput(ctx, id, name, nil)
			require.NoError(t, err, name)
			var got bytes.Buffer
			_, err = io.Copy(&got, rc)
			rc.Close()
			require.NoError(t, err)
			assert.Equal(t, want, got.String(), name)
		}
		require.NoError(t, slow.Stop(ctx))

		fast := th.daemon(t, "fast", nil, uploader)
		start(t, fast)
		id = th.makeTask(t, "uploadSome")
		info = th.waitState(t, id, koji.TaskClosed, koji.TaskFailed)
		assert.Equal(t, koji.TaskFailed, info.State, "a fast upload needs checkUpload")
		assert.Contains(t, taskResult(t, th, id), "checkUpload")
	})
}

// taskResult is the task's result, or its fault, as text.
func taskResult(t *testing.T, th *testHub, id int) string {
	t.Helper()
	var result any
	if err := th.admin.GetTaskResult(context.Background(), id, true, &result); err != nil {
		return err.Error()
	}
	return fmt.Sprint(result)
}
