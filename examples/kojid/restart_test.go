//go:build unix

package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/koji"
)

// koji restart-hosts: kojid runs its restart task, runs itself again in
// the same process (as kojid's os.execv), logs in anew, and its
// restartVerify task then passes, closing the restartHosts task.
func TestKojidRestartsItself(t *testing.T) { eachBackend(t, testRestart) }

func testRestart(t *testing.T, dsn string) {
	ctx := context.Background()
	h := startHostHub(t, dsn)
	k := startKojid(t, h, h.url)
	pid := k.cmd.Process.Pid
	var id int
	require.NoError(t, h.admin.Call(ctx, "restartHosts", &id))
	deadline := time.Now().Add(90 * time.Second)
	for {
		info, err := h.admin.GetTaskInfo(ctx, id, nil)
		require.NoError(t, err)
		if info.State == koji.TaskClosed {
			break
		}
		require.NotEqual(t, koji.TaskFailed, info.State, k.logs())
		select {
		case <-k.exited:
			t.Fatalf("kojid exited %d instead of running itself again; logs:\n%s", k.code, k.logs())
		default:
		}
		require.True(t, time.Now().Before(deadline), "restartHosts task %d is %v; logs:\n%s", id, info.State, k.logs())
		time.Sleep(100 * time.Millisecond)
	}
	assert.Equal(t, pid, k.cmd.Process.Pid)
	select {
	case <-k.exited:
		t.Fatalf("kojid exited %d; logs:\n%s", k.code, k.logs())
	default:
	}
	assert.Contains(t, k.logs(), "kojid: builder: restart requested")
	assert.Equal(t, 2, strings.Count(k.logs(), "builder: started"), "started, and started again")
	host, err := h.admin.GetHost(ctx, "builder1", nil)
	require.NoError(t, err)
	assert.True(t, host.Ready, "the new run checked in")
}
