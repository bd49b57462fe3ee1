package hubserver_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/koji"
)

// The notification options as upstream's: DisableNotifications makes no
// notification task, NotifyOnSuccess = False none for a success (nobody
// subscribes here), EmailDomain the recipients' domain.
func TestKojiNotificationOptions(t *testing.T) {
	ctx := context.Background()
	for name, tc := range map[string]struct {
		cfg  hubserver.NotificationConfig
		want []any
	}{
		"disabled":     {cfg: hubserver.NotificationConfig{Disable: true, EmailDomain: "example.com"}, want: []any{}},
		"skip success": {cfg: hubserver.NotificationConfig{SkipSuccess: true}, want: []any{}},
		"domain": {cfg: hubserver.NotificationConfig{EmailDomain: "example.com"}, want: []any{
			[]any{[]any{"kojiadmin@example.com", "carol@example.com"}, true, "dest", nil, "foo-1-1", int64(1), false, ""},
			[]any{[]any{"kojiadmin@example.com", "carol@example.com"}, true, nil, "dest", "foo-1-1", int64(1), false, ""},
		}},
	} {
		t.Run(name, func(t *testing.T) {
			eachBackend(t, func(t *testing.T, dsn string) {
				kh := startKoji(t, dsn, func(c *hubserver.KojiConfig) { c.Notifications = tc.cfg })
				admin := kh.sslClient(t, "")
				require.NoError(t, admin.Call(ctx, "createUser", nil, "carol"))
				_, err := admin.CreateTag(ctx, "dest", nil)
				require.NoError(t, err)
				require.NoError(t, admin.PackageListAdd(ctx, "dest", "foo", &koji.PackageListAddOptions{Owner: "carol"}))
				require.NoError(t, admin.Call(ctx, "createEmptyBuild", nil, "foo", "1", "1", nil))
				require.NoError(t, admin.CallKw(ctx, "tagBuildBypass", nil, []any{"dest", "foo-1-1"}, map[string]any{"notify": true}))
				require.NoError(t, admin.Call(ctx, "untagBuild", nil, "dest", "foo-1-1"))
				assert.Equal(t, tc.want, tagNotifications(t, admin))
			})
		})
	}
}
