//go:build linux

package hubserver_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/internal/testenv"
)

// TestKojiUploadLocks holds a lock on an upload as another program would
// (a POSIX lockf lock, as upstream's hub takes): uploads and checks of the
// file answer LockError until it is released.
func TestKojiUploadLocks(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		fh := startFilesHub(t, dsn, nil)
		require.NoError(t, fh.koji.SetPassword(ctx, "kojiadmin", "pw"))
		as := loginSession(t, fh.kojiHub, "kojiadmin", "pw")
		_, f := as.upload(t, chunkQuery("busy.log", "locks", 0), []byte("first"))
		require.Nil(t, f)
		fn := filepath.Join(fh.top, "work", "locks", "busy.log")
		// Another process: a lockf lock belongs to its process, and a
		// close of the file in this one would release it.
		cmd := exec.Command(testenv.Command(t, "python3"), "-c",
			"import fcntl, sys\nf = open(sys.argv[1], 'r+')\nfcntl.lockf(f, fcntl.LOCK_EX)\nprint('locked', flush=True)\nsys.stdin.read()\n", fn)
		stdin, err := cmd.StdinPipe()
		require.NoError(t, err)
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		line, err := bufio.NewReader(stdout).ReadString('\n')
		require.NoError(t, err)
		require.Equal(t, "locked\n", line)

		const busy = "[Errno 11] Resource temporarily unavailable"
		v, f := as.upload(t, chunkQuery("busy.log", "locks", -1), []byte("more"))
		assert.Equal(t, busy, faultOf(t, 1001, v, f))
		v, f = as.call(t, "checkUpload", []any{"locks", "busy.log"}, nil)
		assert.Equal(t, busy, faultOf(t, 1001, v, f))
		v, f = as.call(t, "uploadFile", []any{"locks", "busy.log", 4, nil, 5, b64("more")}, nil)
		assert.Equal(t, busy, faultOf(t, 1001, v, f))
		data, err := os.ReadFile(fn)
		require.NoError(t, err)
		assert.Equal(t, "first", string(data))

		stdin.Close() // the process ends, releasing its lock
		require.NoError(t, cmd.Wait())
		v = as.ok(t, "checkUpload", []any{"locks", "busy.log"}, nil)
		assert.EqualValues(t, 5, v.(map[string]any)["size"])
		_, f = as.upload(t, chunkQuery("busy.log", "locks", -1), []byte("more"))
		require.Nil(t, f)
	})
}
