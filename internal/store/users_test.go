package store

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func permNames(ps []Permission) []string {
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	return names
}

func TestUsersAndVersionedPermissions(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openTest(t, dsn)
		var admin, alice, group int64
		var granted, revoked int64
		inTx(t, db, func(tx *Tx) {
			var err error
			pw := "secret"
			admin, err = tx.CreateUser(ctx, User{Name: "kojiadmin"})
			require.NoError(t, err)
			alice, err = tx.CreateUser(ctx, User{Name: "alice", Password: &pw})
			require.NoError(t, err)
			group, err = tx.CreateUser(ctx, User{Name: "packagers", UserType: UserTypeGroup})
			require.NoError(t, err)
			require.ErrorIs(t, failing(t, tx, func() error {
				_, err := tx.CreateUser(ctx, User{Name: "alice"})
				return err
			}), ErrConflict)
		})
		inTx(t, db, func(tx *Tx) {
			u, err := tx.GetUser(ctx, alice)
			require.NoError(t, err)
			require.NotNil(t, u.Password)
			assert.Equal(t, User{ID: alice, Name: "alice", Password: u.Password, Status: UserStatusNormal}, *u)
			assert.Equal(t, "secret", *u.Password)
			require.NoError(t, tx.AddKrbPrincipal(ctx, alice, "alice@EXAMPLE.COM"))
			byPrinc, err := tx.GetUserByKrbPrincipal(ctx, "alice@EXAMPLE.COM")
			require.NoError(t, err)
			assert.Equal(t, alice, byPrinc.ID)
			princs, err := tx.KrbPrincipals(ctx, alice)
			require.NoError(t, err)
			assert.Equal(t, []string{"alice@EXAMPLE.COM"}, princs)
			require.NoError(t, tx.SetUserStatus(ctx, alice, UserStatusBlocked))
			u, err = tx.GetUserByName(ctx, "alice")
			require.NoError(t, err)
			assert.Equal(t, UserStatusBlocked, u.Status)
			groups, err := tx.ListUsers(ctx, UserTypeGroup)
			require.NoError(t, err)
			require.Len(t, groups, 1)
			assert.Equal(t, "packagers", groups[0].Name)
			_, err = tx.GetUser(ctx, 999)
			assert.ErrorIs(t, err, ErrNotFound)
		})

		inTx(t, db, func(tx *Tx) {
			tag, err := tx.GetPermission(ctx, "tag")
			require.NoError(t, err)
			require.NoError(t, tx.GrantPermission(ctx, alice, tag.ID, admin))
			require.ErrorIs(t, failing(t, tx, func() error { return tx.GrantPermission(ctx, alice, tag.ID, admin) }), ErrConflict)
		})
		inTx(t, db, func(tx *Tx) {
			// A new transaction sees the grant; its event is after it.
			granted = lastEvent(t, tx)
			repo, err := tx.GetPermission(ctx, "repo")
			require.NoError(t, err)
			require.NoError(t, tx.GrantPermission(ctx, group, repo.ID, admin))
			require.NoError(t, tx.AddGroupMember(ctx, group, alice, admin))
		})
		inTx(t, db, func(tx *Tx) {
			tag, err := tx.GetPermission(ctx, "tag")
			require.NoError(t, err)
			require.NoError(t, tx.RevokePermission(ctx, alice, tag.ID, admin))
			assert.ErrorIs(t, tx.RevokePermission(ctx, alice, tag.ID, admin), ErrNotFound)
			revoked, err = tx.NewEvent(ctx)
			require.NoError(t, err)
		})

		inTx(t, db, func(tx *Tx) {
			for _, c := range []struct {
				asOf *int64
				want []string
			}{
				{nil, nil},
				{ptr(granted - 1), nil},
				{ptr(granted), []string{"tag"}},
				{ptr(revoked - 1), []string{"tag"}},
				{ptr(revoked), nil},
			} {
				got, err := tx.UserPerms(ctx, alice, c.asOf)
				require.NoError(t, err)
				assert.Equal(t, c.want, permNames(got), "as of %v", c.asOf)
			}
			eff, err := tx.EffectivePerms(ctx, alice)
			require.NoError(t, err)
			assert.Equal(t, []string{"repo"}, eff)
			gs, err := tx.UserGroups(ctx, alice, nil)
			require.NoError(t, err)
			require.Len(t, gs, 1)
			assert.Equal(t, group, gs[0].ID)
			gs, err = tx.UserGroups(ctx, alice, ptr(granted-1))
			require.NoError(t, err)
			assert.Empty(t, gs)

			// A revoked grant can be granted again (UNIQUE covers only
			// active rows).
			tag, err := tx.GetPermission(ctx, "tag")
			require.NoError(t, err)
			require.NoError(t, tx.GrantPermission(ctx, alice, tag.ID, admin))
			require.NoError(t, tx.RemoveGroupMember(ctx, group, alice, admin))
			eff, err = tx.EffectivePerms(ctx, alice)
			require.NoError(t, err)
			assert.Equal(t, []string{"tag"}, eff)
			assert.ErrorIs(t, tx.RemoveGroupMember(ctx, group, alice, admin), ErrNotFound)
		})
	})
}

func ptr[T any](v T) *T { return &v }

// lastEvent is the newest event, read in tx.
func lastEvent(t *testing.T, tx *Tx) int64 {
	t.Helper()
	e, err := tx.LastEvent(context.Background(), nil)
	require.NoError(t, err)
	return e.ID
}

func TestEvents(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openTest(t, dsn)
		var first, second int64
		inTx(t, db, func(tx *Tx) {
			_, err := tx.LastEvent(ctx, nil)
			require.ErrorIs(t, err, ErrNotFound)
			first, err = tx.NewEvent(ctx)
			require.NoError(t, err)
			same, err := tx.NewEvent(ctx)
			require.NoError(t, err)
			assert.Equal(t, first, same, "one event per transaction")
			tx.NextEvent()
			second, err = tx.NewEvent(ctx)
			require.NoError(t, err)
			assert.Greater(t, second, first)
		})
		inTx(t, db, func(tx *Tx) {
			e2, err := tx.GetEvent(ctx, second)
			require.NoError(t, err)
			e1, err := tx.LastEvent(ctx, &e2.Time)
			require.NoError(t, err)
			assert.Equal(t, first, e1.ID)
			assert.Equal(t, second, lastEvent(t, tx))
			assert.False(t, e2.Time.IsZero())
		})
	})
}

func TestSessions(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openTest(t, dsn)
		inTx(t, db, func(tx *Tx) {
			uid, err := tx.CreateUser(ctx, User{Name: "builder1", UserType: UserTypeHost})
			require.NoError(t, err)
			id, err := tx.CreateSession(ctx, Session{UserID: uid, Key: "1-abc", AuthType: AuthTypeSSL, HostIP: "10.0.0.1"})
			require.NoError(t, err)
			s, err := tx.LockSession(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, "1-abc", s.Key)
			assert.Equal(t, AuthTypeSSL, s.AuthType)
			assert.Nil(t, s.Callnum)
			assert.False(t, s.Exclusive || s.Expired || s.Closed)
			assert.WithinDuration(t, now(), s.StartTime, time.Minute)

			require.NoError(t, tx.UpdateCallnum(ctx, id, 7))
			require.NoError(t, tx.TouchSession(ctx, id))
			require.NoError(t, tx.SetSessionExclusive(ctx, id, true))
			sub, err := tx.CreateSession(ctx, Session{UserID: uid, Key: "1-sub", Master: &id})
			require.NoError(t, err)
			other, err := tx.CreateSession(ctx, Session{UserID: uid, Key: "1-other"})
			require.NoError(t, err)
			require.ErrorIs(t, failing(t, tx, func() error { return tx.SetSessionExclusive(ctx, other, true) }), ErrConflict)
			ex, err := tx.ExclusiveSession(ctx, uid)
			require.NoError(t, err)
			assert.Equal(t, id, ex.ID)
			require.NotNil(t, ex.Callnum)
			assert.Equal(t, int64(7), *ex.Callnum)

			require.NoError(t, tx.ExpireSession(ctx, id))
			s, err = tx.GetSession(ctx, sub)
			require.NoError(t, err)
			assert.True(t, s.Expired, "subsession expires with its master")
			require.NoError(t, tx.RenewSession(ctx, id, "1-new"))
			s, err = tx.GetSession(ctx, id)
			require.NoError(t, err)
			assert.False(t, s.Expired)
			assert.Equal(t, "1-new", s.Key)
			require.NotNil(t, s.RenewTime)

			require.NoError(t, tx.CloseSession(ctx, id))
			_, err = tx.ExclusiveSession(ctx, uid)
			require.ErrorIs(t, err, ErrNotFound)
			require.NoError(t, tx.SetSessionExclusive(ctx, other, true), "closing released the lock")
			open, err := tx.UserSessions(ctx, uid)
			require.NoError(t, err)
			require.Len(t, open, 1)
			assert.Equal(t, other, open[0].ID)
			assert.ErrorIs(t, tx.RenewSession(ctx, id, "x"), ErrNotFound, "a closed session cannot be renewed")
		})
	})
}

func TestHostsAndChannels(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openTest(t, dsn)
		var hostID, admin, before int64
		inTx(t, db, func(tx *Tx) {
			var err error
			admin, err = tx.CreateUser(ctx, User{Name: "kojiadmin"})
			require.NoError(t, err)
			uid, err := tx.CreateUser(ctx, User{Name: "builder1", UserType: UserTypeHost})
			require.NoError(t, err)
			hostID, err = tx.CreateHost(ctx, uid, "builder1", HostConfig{Arches: "x86_64 i686", Enabled: true}, admin)
			require.NoError(t, err)
			require.NoError(t, tx.AddHostChannel(ctx, hostID, 1, admin))
			require.ErrorIs(t, failing(t, tx, func() error { return tx.AddHostChannel(ctx, hostID, 1, admin) }), ErrConflict)
			before, err = tx.NewEvent(ctx)
			require.NoError(t, err)
		})
		inTx(t, db, func(tx *Tx) {
			desc := "fast"
			require.NoError(t, tx.SetHostConfig(ctx, hostID, HostConfig{Arches: "aarch64", Capacity: 8, Description: &desc, Enabled: false}, admin))
			require.NoError(t, tx.AddHostChannel(ctx, hostID, 2, admin))
			require.NoError(t, tx.RemoveHostChannel(ctx, hostID, 1, admin))
			require.NoError(t, tx.UpdateHost(ctx, hostID, true, 1.5))
		})
		inTx(t, db, func(tx *Tx) {
			h, err := tx.GetHost(ctx, hostID, nil)
			require.NoError(t, err)
			assert.Equal(t, "aarch64", h.Arches)
			assert.Equal(t, 8.0, h.Capacity)
			assert.False(t, h.Enabled)
			assert.True(t, h.Ready)
			assert.Equal(t, 1.5, h.TaskLoad)
			require.NotNil(t, h.UpdateTime)

			old, err := tx.GetHostByName(ctx, "builder1", &before)
			require.NoError(t, err)
			assert.Equal(t, "x86_64 i686", old.Arches)
			assert.Equal(t, 2.0, old.Capacity)
			assert.True(t, old.Enabled)

			byUser, err := tx.GetHostByUser(ctx, h.UserID)
			require.NoError(t, err)
			assert.Equal(t, hostID, byUser.ID)
			hosts, err := tx.ListHosts(ctx, &before)
			require.NoError(t, err)
			require.Len(t, hosts, 1)
			assert.Equal(t, "x86_64 i686", hosts[0].Arches)

			chans, err := tx.HostChannels(ctx, hostID, nil)
			require.NoError(t, err)
			require.Len(t, chans, 1)
			assert.Equal(t, "createrepo", chans[0].Name)
			chans, err = tx.HostChannels(ctx, hostID, &before)
			require.NoError(t, err)
			require.Len(t, chans, 1)
			assert.Equal(t, "default", chans[0].Name)

			c, err := tx.GetChannelByName(ctx, "livemedia")
			require.NoError(t, err)
			assert.Equal(t, int64(8), c.ID)
			_, err = tx.GetChannel(ctx, 99)
			assert.ErrorIs(t, err, ErrNotFound)
			_, err = tx.GetHost(ctx, 99, nil)
			assert.ErrorIs(t, err, ErrNotFound)
			assert.ErrorIs(t, tx.SetHostConfig(ctx, 99, HostConfig{}, admin), ErrNotFound)
		})
	})
}

func TestHostLastUpdate(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openTest(t, dsn)
		inTx(t, db, func(tx *Tx) {
			admin, err := tx.CreateUser(ctx, User{Name: "kojiadmin"})
			require.NoError(t, err)
			uid, err := tx.CreateUser(ctx, User{Name: "builder1", UserType: UserTypeHost})
			require.NoError(t, err)
			hostID, err := tx.CreateHost(ctx, uid, "builder1", HostConfig{Arches: "x86_64", Enabled: true}, admin)
			require.NoError(t, err)
			_, err = tx.HostLastUpdate(ctx, hostID)
			assert.ErrorIs(t, err, ErrNotFound, "no session yet")
			_, err = tx.HostLastUpdate(ctx, 99)
			assert.ErrorIs(t, err, ErrNotFound)

			first, err := tx.CreateSession(ctx, Session{UserID: uid, Key: "k1", HostIP: "-"})
			require.NoError(t, err)
			_, err = tx.CreateSession(ctx, Session{UserID: uid, Key: "k2", HostIP: "-"})
			require.NoError(t, err)
			_, err = tx.CreateSession(ctx, Session{UserID: admin, Key: "k3", HostIP: "-"})
			require.NoError(t, err)
			time.Sleep(5 * time.Millisecond)
			require.NoError(t, tx.TouchSession(ctx, first))
			s, err := tx.GetSession(ctx, first)
			require.NoError(t, err)
			last, err := tx.HostLastUpdate(ctx, hostID)
			require.NoError(t, err)
			assert.True(t, s.UpdateTime.Equal(last), "%v, want %v", last, s.UpdateTime)
		})
	})
}
