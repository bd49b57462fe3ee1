package builder_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/auth"
	"github.com/gokoji/gokoji/builder"
	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/internal/krbtest"
	"github.com/gokoji/gokoji/koji"
)

// A daemon logs in with a Kerberos keytab (kojid's krb_principal and
// keytab) and with a password (user and password), takes the exclusive
// session, and runs a task; a second daemon of the same host is refused
// the lock unless it forces it.
func TestDaemonLogins(t *testing.T) {
	kdc := krbtest.Start(t)
	kdc.AddService(t, "HTTP/127.0.0.1")
	serviceKeytab := kdc.ExportKeytab(t, "HTTP/127.0.0.1", "http.keytab")
	kdc.AddPrincipal(t, "krbbuilder")
	hostKeytab := kdc.ExportKeytab(t, "krbbuilder", "krbbuilder.keytab")
	principal := "krbbuilder@" + krbtest.Realm

	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		th := startHubConfig(t, dsn, func(c *hubserver.KojiConfig) {
			c.AuthKeytab, c.AuthPrincipal = serviceKeytab, "HTTP/127.0.0.1@"+krbtest.Realm
			c.AllowPasswordLogin = true
		})
		require.NoError(t, th.admin.Call(ctx, "addHost", nil, "krbbuilder", []string{"x86_64"}, principal))
		th.addHost(t, "pwbuilder")
		require.NoError(t, th.koji.SetPassword(ctx, "pwbuilder", "s3cret"))

		for name, login := range map[string]koji.Authenticator{
			"krbbuilder": &auth.GSSAPI{Principal: principal, Keytab: hostKeytab, Krb5Conf: kdc.Krb5Conf},
			"pwbuilder":  &auth.Password{User: "pwbuilder", Password: "s3cret"},
		} {
			t.Run(name, func(t *testing.T) {
				d := th.daemon(t, name, func(c *builder.Config) { c.Auth = login }, builder.Sleep{})
				start(t, d)
				host, err := th.admin.GetHost(ctx, name, nil)
				require.NoError(t, err)
				assert.Equal(t, host.ID, d.HostID())
				id := th.makeTask(t, "sleep", 0)
				info := th.waitState(t, id, koji.TaskClosed, koji.TaskFailed)
				assert.Equal(t, koji.TaskClosed, info.State)
				require.NotNil(t, info.HostID)
				assert.Equal(t, host.ID, *info.HostID)

				second := th.daemon(t, name, func(c *builder.Config) { c.Auth = login }, builder.Sleep{})
				err = second.Start(ctx)
				assert.ErrorIs(t, err, koji.ErrAuthLock, "the exclusive session is held")
				_ = second.Stop(ctx)
			})
		}

		wrong := th.daemon(t, "pwbuilder", func(c *builder.Config) {
			c.Auth = &auth.Password{User: "pwbuilder", Password: "wrong"}
		}, builder.Sleep{})
		err := wrong.Start(ctx)
		assert.ErrorIs(t, err, koji.ErrAuth, "a wrong password is refused")
	})
}
