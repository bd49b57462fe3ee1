package hubserver_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/koji"
)

// TestKojiNotificationRecipients checks the recipients of the build and
// tag notifications against upstream's get_notification_recipients:
// the subscriptions of active users and groups to the build's package or
// any and the tag or any (success_only ones only for a success), then
// the build's owner and the package's owner in the tag (not on a
// success with NotifyOnSuccess = False), less the users who opted out of
// the package or any in the tag or any; a tagNotification task carries
// them.
func TestKojiNotificationRecipients(t *testing.T) {
	for name, tc := range map[string]struct {
		skipSuccess bool
		want        map[string][]string
	}{
		"default": {want: map[string][]string{
			"dest complete": {"dave@None", "erin@None", "grp@None", "kojiadmin@None", "carol@None"},
			"dest failed":   {"dave@None", "grp@None", "kojiadmin@None", "carol@None"},
			"no tag":        {"dave@None", "grp@None", "kojiadmin@None"},
			"other":         {"dave@None", "ivan@None", "grp@None"},
		}},
		"NotifyOnSuccess off": {skipSuccess: true, want: map[string][]string{
			"dest complete": {"dave@None", "erin@None", "grp@None"},
			"dest failed":   {"dave@None", "grp@None", "kojiadmin@None", "carol@None"},
			"no tag":        {"dave@None", "grp@None"},
			"other":         {"dave@None", "ivan@None", "grp@None"},
		}},
	} {
		t.Run(name, func(t *testing.T) {
			eachBackend(t, func(t *testing.T, dsn string) {
				ctx := context.Background()
				fh := startFilesHub(t, dsn, func(c *hubserver.KojiConfig) { c.Notifications.SkipSuccess = tc.skipSuccess })
				admin := fh.admin
				for _, u := range []string{"carol", "dave", "erin", "frank", "gina", "henry", "ivan"} {
					require.NoError(t, admin.Call(ctx, "createUser", nil, u))
				}
				require.NoError(t, admin.Call(ctx, "newGroup", nil, "grp"))
				dest, err := admin.CreateTag(ctx, "dest", nil)
				require.NoError(t, err)
				other, err := admin.CreateTag(ctx, "other", nil)
				require.NoError(t, err)
				require.NoError(t, admin.PackageListAdd(ctx, "dest", "foo", &koji.PackageListAddOptions{Owner: "carol"}))
				build := call(t, admin, "createEmptyBuild", []any{"foo", "1", "1", nil}, nil).(int64)
				call(t, admin, "createEmptyBuild", []any{"bar", "1", "1", nil}, nil)
				for _, n := range [][]any{
					{"dave", "foo", nil, false}, {"erin", nil, "dest", true}, {"frank", nil, nil, false},
					{"gina", "foo", "dest", false}, {"henry", "bar", nil, false}, {"ivan", nil, "other", false},
					{"grp", nil, nil, false},
				} {
					call(t, admin, "createNotification", n, nil)
				}
				call(t, admin, "createNotificationBlock", []any{"frank", "foo"}, nil)
				call(t, admin, "createNotificationBlock", []any{"kojiadmin", nil, "other"}, nil)
				call(t, admin, "createNotificationBlock", []any{"carol", "bar", "dest"}, nil)
				require.NoError(t, admin.Call(ctx, "disableUser", nil, "gina"))

				for what, args := range map[string]struct {
					tag   int64
					state int
				}{
					"dest complete": {int64(dest), int(koji.BuildComplete)},
					"dest failed":   {int64(dest), int(koji.BuildFailed)},
					"no tag":        {0, int(koji.BuildComplete)},
					"other":         {int64(other), int(koji.BuildComplete)},
				} {
					var got []string
					taskTx(t, fh.kojiHub, 1, func(ctx context.Context) (err error) {
						got, err = fh.koji.NotificationRecipientsForTest(ctx, build, args.tag, args.state)
						return err
					})
					assert.Equal(t, tc.want[what], got, what)
				}

				// A failed tagging's notification, through host.tagNotification.
				assert.Nil(t, call(t, fh.host, "host.tagNotification", []any{false, "dest", nil, build, nil, false, "boom"}, nil))
				want := []any{}
				for _, e := range tc.want["dest failed"] {
					want = append(want, e)
				}
				assert.Equal(t, []any{[]any{want, false, "dest", nil, build, nil, false, "boom"}}, tagNotifications(t, admin))
			})
		})
	}
}
