package builder_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/builder"
	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/koji"
)

// tagNotification mails the recipients as kojid's TagNotificationTask,
// through the SMTP host with from_addr, logging in when told to; without
// recipients, or for a success with ignore_success, it sends nothing.
func TestTagNotificationMail(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		th := startHub(t, dsn, false)
		srv := testenv.StartSMTP(t, true)
		mail := builder.Mail{Host: srv.Addr, FromAddr: "Koji Build System <koji@example.com>", User: "kojid", Password: "secret"}
		start(t, th.daemon(t, "builder1", nil, builder.TagNotification{Mail: mail}))
		dest, err := th.admin.CreateTag(ctx, "dest", nil)
		require.NoError(t, err)
		_, err = th.admin.CreateTag(ctx, "old", nil)
		require.NoError(t, err)
		var build int64
		require.NoError(t, th.admin.Call(ctx, "createEmptyBuild", &build, "foo", "1.0", "1", nil))
		to := []any{"kojiadmin@example.com", "carol@example.com"}

		id := th.makeTask(t, "tagNotification", to, true, dest, nil, build, 1, false, "")
		require.Equal(t, koji.TaskClosed, th.waitState(t, id, koji.TaskClosed, koji.TaskFailed).State)
		var result any
		require.NoError(t, th.admin.GetTaskResult(ctx, id, true, &result))
		assert.Equal(t, fmt.Sprintf("sent notification of tag operation %d to: kojiadmin@example.com, carol@example.com", id), result)
		m := srv.Next(t)
		assert.Equal(t, "PLAIN \x00kojid\x00secret", m.Auth)
		assert.Equal(t, "MAIL FROM:<koji@example.com>", strings.Fields(m.From)[0]+" "+strings.Fields(m.From)[1])
		assert.Equal(t, []string{"RCPT TO:<kojiadmin@example.com>", "RCPT TO:<carol@example.com>"}, m.Rcpts)
		assert.Equal(t, "From: Koji Build System <koji@example.com>\r\n"+
			"Subject: foo-1.0-1 successfully tagged into dest by kojiadmin\r\n"+
			"To: kojiadmin@example.com, carol@example.com\r\n"+
			"X-Koji-Package: foo\r\n"+
			"X-Koji-NVR: foo-1.0-1\r\n"+
			"X-Koji-Draft: False\r\n"+
			"X-Koji-User: kojiadmin\r\n"+
			"X-Koji-Status: complete\r\n"+
			"X-Koji-Tag: dest\r\n"+
			"\r\n"+
			"Package: foo\r\n"+
			"NVR: foo-1.0-1\r\n"+
			"User: kojiadmin\r\n"+
			"Status: complete\r\n"+
			"Tag Operation: tagged\r\n"+
			"Into Tag: dest\r\n"+
			"\r\n"+
			"foo-1.0-1 successfully tagged into dest by kojiadmin\r\n"+
			"\r\n", m.Data)

		// A failed move.
		id = th.makeTask(t, "tagNotification", to[:1], false, "dest", "old", "foo-1.0-1", "kojiadmin", false, "<class 'koji.TagError'>: no")
		require.Equal(t, koji.TaskClosed, th.waitState(t, id, koji.TaskClosed, koji.TaskFailed).State)
		m = srv.Next(t)
		assert.Contains(t, m.Data, "Subject: foo-1.0-1 unsuccessfully moved from old into dest by kojiadmin\r\n")
		assert.Contains(t, m.Data, "X-Koji-Status: failed\r\nX-Koji-Tag: old\r\nX-Koji-Tag: dest\r\n\r\n")
		assert.Contains(t, m.Data, "Tag Operation: moved\r\nFrom Tag: old\r\nInto Tag: dest\r\n\r\n")
		assert.True(t, strings.HasSuffix(m.Data, "by kojiadmin\r\nOperation failed with the error:\r\n    <class 'koji.TagError'>: no\r\n\r\n"), m.Data)

		// Nothing to send.
		for _, args := range [][]any{
			{[]any{}, true, dest, nil, build, 1},
			{to, true, dest, nil, build, 1, true},
		} {
			id = th.makeTask(t, "tagNotification", args...)
			require.Equal(t, koji.TaskClosed, th.waitState(t, id, koji.TaskClosed, koji.TaskFailed).State)
			result = "unset"
			require.NoError(t, th.admin.GetTaskResult(ctx, id, true, &result))
			assert.Nil(t, result)
		}
		srv.None(t)
	})
}

// Without a reachable SMTP host the task fails, as kojid's smtplib
// error fails it.
func TestNotificationWithoutSMTPFails(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		th := startHub(t, dsn, false)
		srv := testenv.StartSMTP(t, false)
		mail := builder.Mail{Host: srv.Addr, User: "kojid", Password: "secret"}
		start(t, th.daemon(t, "builder1", nil, builder.TagNotification{Mail: mail}))
		dest, err := th.admin.CreateTag(ctx, "dest", nil)
		require.NoError(t, err)
		var build int64
		require.NoError(t, th.admin.Call(ctx, "createEmptyBuild", &build, "foo", "1.0", "1", nil))
		id := th.makeTask(t, "tagNotification", []any{"a@example.com"}, true, dest, nil, build, 1)
		require.Equal(t, koji.TaskFailed, th.waitState(t, id, koji.TaskClosed, koji.TaskFailed).State)
		assert.Contains(t, taskFailure(t, th.admin, id).String, "SMTP AUTH extension not supported by server.")
	})
}

// A build's end mails its owner and the package's owner in the
// destination tag (the hub's default notifications, at EmailDomain): the
// tasks with their hosts, logs as web links and RPMs under topurl, the
// failure, and the links to the task and build pages.
func TestBuildNotificationMail(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		th := startHubConfig(t, dsn, func(c *hubserver.KojiConfig) {
			c.Notifications.EmailDomain = "example.com"
			c.Notifications.WebURL = "https://koji.example.com/koji"
		})
		srv := testenv.StartSMTP(t, false)
		mail := builder.Mail{Host: srv.Addr}
		th.addHost(t, "builder1")
		setupTags(t, th.admin, "builder1", "hello", "broken")
		start(t, th.daemon(t, "builder1", nil, buildHandlers()...))

		id := submitBuild(t, th.admin, makeSRPM(t, "broken", "exit 3"), nil)
		require.Equal(t, koji.TaskFailed, waitLong(t, th.admin, id, koji.TaskClosed, koji.TaskFailed).State)
		// The notifications run on another host, started once the build
		// task has ended (the hub makes them as the build ends, before
		// its task does).
		var topURL string
		start(t, th.daemon(t, "notifier", func(c *builder.Config) { topURL = c.TopURL },
			builder.TagNotification{Mail: mail}, builder.BuildNotification{Mail: mail}))
		m := srv.Next(t)
		assert.Equal(t, []string{"RCPT TO:<kojiadmin@example.com>"}, m.Rcpts)
		b, err := th.admin.GetBuild(ctx, "broken-1.0-1", nil)
		require.NoError(t, err)
		arch := children(t, th.admin, id)["buildArch"]
		require.NotNil(t, arch)
		fault := taskFailure(t, th.admin, id).String
		started := time.Unix(int64(b.CreationTS), int64((b.CreationTS-float64(int64(b.CreationTS)))*1e9)).Local()
		finished := time.Unix(int64(*b.CompletionTS), int64((*b.CompletionTS-float64(int64(*b.CompletionTS)))*1e9)).Local()
		const long = "Mon, 02 Jan 2006 15:04:05 MST"
		head := "From: Koji Build System <buildsys@example.com>\r\n" +
			"Subject: Package: broken-1.0-1 Tag: dest-tag Status: failed Built by: kojiadmin\r\n" +
			"To: kojiadmin@example.com\r\n" +
			"X-Koji-Tag: dest-tag\r\n" +
			"X-Koji-Package: broken\r\n" +
			"X-Koji-Builder: kojiadmin\r\n" +
			"X-Koji-Status: failed\r\n" +
			"X-Koji-Draft: False\r\n" +
			"\r\n" +
			"Package: broken-1.0-1\r\n" +
			"Tag: dest-tag\r\n" +
			"Status: failed\r\n" +
			"Built by: kojiadmin\r\n" +
			fmt.Sprintf("ID: %d\r\n", b.ID) +
			"Started: " + started.Format(long) + "\r\n" +
			"Finished: " + finished.Format(long) + "\r\n" +
			"\r\n" +
			fmt.Sprintf("\r\nbroken-1.0-1 (%d) failed on builder1 (noarch), builder1 (noarch):\r\n  %s\r\n", b.ID, fault) +
			"Failed tasks:\r\n-------------\r\n\r\n" +
			fmt.Sprintf("Task %d on builder1\r\nTask Type: build (target, broken-1.0-1.src.rpm)\r\n\r\n", id) +
			fmt.Sprintf("Task %d on builder1\r\nTask Type: buildArch (broken-1.0-1.src.rpm, noarch)\r\nlogs:\r\n", arch.ID)
		require.True(t, strings.HasPrefix(m.Data, head), "%q\nis not\n%q...", m.Data, head)
		for _, log := range []string{"build.log"} {
			assert.Contains(t, m.Data, fmt.Sprintf(" https://koji.example.com/koji/getfile?taskID=%d&name=%s&volume=DEFAULT\r\n", arch.ID, log))
		}
		assert.True(t, strings.HasSuffix(m.Data, fmt.Sprintf("\r\n\r\n\r\nTask Info: https://koji.example.com/koji/taskinfo?taskID=%d\r\n"+
			"Build Info: https://koji.example.com/koji/buildinfo?buildID=%d\r\n", id, b.ID)), "%q", m.Data)

		// A build that works: its notification; its tagBuild subtask asks
		// for none on success (ignore_success), as kojid's build task does.
		id = submitBuild(t, th.admin, makeSRPM(t, "hello", "true"), nil)
		require.Equal(t, koji.TaskClosed, waitLong(t, th.admin, id, koji.TaskClosed, koji.TaskFailed).State)
		buildMail := srv.Next(t).Data
		var notes []*koji.Task
		require.NoError(t, th.admin.CallKw(ctx, "listTasks", &notes, nil, map[string]any{"opts": map[string]any{"method": "tagNotification"}}))
		assert.Empty(t, notes)
		assert.Contains(t, buildMail, "Subject: Package: hello-1.0-1 Tag: dest-tag Status: complete Built by: kojiadmin\r\n")
		assert.Contains(t, buildMail, "SRPMS:\r\n  hello-1.0-1.src.rpm\r\n\r\nClosed tasks:\r\n-------------\r\n\r\n")
		assert.Regexp(t, "rpms:\r\n "+regexp.QuoteMeta(topURL+"/packages/hello/1.0/1/")+"[a-z0-9_]+/hello-1.0-1.noarch.rpm\r\n", buildMail)
	})
}
