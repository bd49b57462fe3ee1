package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/koji"
)

// The binary takes the tagNotification tasks the hub makes and mails
// them through kojid.conf's smtphost as from_addr, with smtp_user and
// smtp_pass.
func TestKojidSendsNotifications(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		h := startHostHub(t, dsn)
		srv := testenv.StartSMTP(t, true)
		conf := h.write("kojid.conf", fmt.Appendf(nil, "[kojid]\nserver = %s\nserverca = %s\nsleeptime = 1\nminspace = -1\n"+
			"workdir = %s\nsmtphost = %s\nfrom_addr = Koji <koji@example.com>\nsmtp_user = kojid\nsmtp_pass = secret\n",
			h.url, h.caFile, filepath.Join(h.dir, "work"), srv.Addr))
		runCtx, stop := context.WithCancel(ctx)
		logs := logFile(t)
		done := make(chan error, 1)
		go func() { done <- run(runCtx, []string{"-c", conf, "-cert", h.certFile, "-key", h.keyFile}, logs) }()
		defer func() {
			stop()
			select {
			case err := <-done:
				require.NoError(t, err, logs.String())
			case <-time.After(30 * time.Second):
				t.Fatal("kojid did not stop")
			}
		}()

		dest, err := h.admin.CreateTag(ctx, "dest", nil)
		require.NoError(t, err)
		var build int64
		require.NoError(t, h.admin.Call(ctx, "createEmptyBuild", &build, "foo", "1.0", "1", nil))
		id, err := h.admin.MakeTask(ctx, "tagNotification", []any{[]any{"kojiadmin@example.com"}, true, dest, nil, build, 1}, nil)
		require.NoError(t, err)
		m := srv.Next(t)
		assert.Equal(t, "PLAIN \x00kojid\x00secret", m.Auth)
		assert.True(t, strings.HasPrefix(m.From, "MAIL FROM:<koji@example.com>"), m.From)
		assert.Equal(t, []string{"RCPT TO:<kojiadmin@example.com>"}, m.Rcpts)
		assert.Contains(t, m.Data, "From: Koji <koji@example.com>\r\nSubject: foo-1.0-1 successfully tagged into dest by kojiadmin\r\n")
		deadline := time.Now().Add(30 * time.Second)
		for {
			info, err := h.admin.GetTaskInfo(ctx, id, nil)
			require.NoError(t, err)
			if info.State.Done() {
				require.Equal(t, koji.TaskClosed, info.State, logs.String())
				break
			}
			require.True(t, time.Now().Before(deadline), "task still %v; logs:\n%s", info.State, logs.String())
			time.Sleep(50 * time.Millisecond)
		}
	})
}
