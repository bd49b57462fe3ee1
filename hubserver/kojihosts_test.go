package hubserver_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/hubserver/hubtest"
	"github.com/gokoji/gokoji/koji"
)

// faultString calls method and returns the fault's string, requiring the
// fault class code.
func faultString(t *testing.T, c *koji.Client, code koji.FaultClass, method string, args []any, kw map[string]any) string {
	t.Helper()
	err := c.CallKw(context.Background(), method, nil, args, kw)
	var f *koji.Fault
	require.ErrorAs(t, err, &f, "%s should fault", method)
	assert.Equal(t, int(code), f.Code, f.String)
	return f.String
}

// hostHub is a second hub on kh's database whose client certificate's CN
// is name: a host's view of the hub.
func hostHub(t *testing.T, kh *kojiHub, name string) *kojiHub {
	h, pki := hubtest.StartTLS(t, kh.koji.HubConfig(), name, func(h *hubserver.Hub) {
		require.NoError(t, h.Register(kh.koji.Methods()...))
	})
	return &kojiHub{koji: kh.koji, hub: h, pki: pki}
}

// hostClient logs in over SSL as a host, on hostHub.
func hostClient(t *testing.T, kh *kojiHub, name string) *koji.Client {
	return hostHub(t, kh, name).sslClient(t, "")
}

func TestKojiHostsAndChannels(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		bob := withBob(t, kh)
		admin := kh.sslClient(t, "")

		assert.Equal(t, "host permission required (logged in as bob)",
			bob.fault(t, 0, koji.ErrActionNotAllowed, "addHost", "builder1", []any{"x86_64"}))
		assert.Equal(t, "host permission required (user not logged in)",
			faultString(t, kh.client(t), koji.ErrActionNotAllowed, "enableHost", []any{"builder1"}, nil))
		var id int
		require.NoError(t, admin.Call(ctx, "addHost", &id, "builder1", []any{"x86_64"}))
		assert.Equal(t, 1, id)
		assert.Equal(t, "host already exists: builder1",
			faultString(t, admin, koji.ErrGeneric, "addHost", []any{"builder1", []any{"x86_64"}}, nil))
		assert.Equal(t, "Invalid architecture: x86/64",
			faultString(t, admin, koji.ErrGeneric, "addHost", []any{"builder2", []any{"x86/64"}}, nil))
		assert.Equal(t, "user bob already exists and it is not a host",
			faultString(t, admin, koji.ErrGeneric, "addHost", []any{"bob", []any{"x86_64"}}, nil))

		var user map[string]any
		require.NoError(t, admin.Call(ctx, "getUser", &user, "builder1"))
		assert.EqualValues(t, 1, user["usertype"])
		var host, hosts any
		require.NoError(t, admin.Call(ctx, "getHost", &host, "builder1"))
		sameMembers(t, recorded(t, "getHost"), host, "user_id")
		assert.Equal(t, user["id"], host.(map[string]any)["user_id"])
		require.NoError(t, admin.Call(ctx, "listHosts", &hosts))
		require.Len(t, hosts, 1)
		sameMembers(t, recorded(t, "listHosts").([]any)[0], hosts.([]any)[0], "user_id")
		var ch, none, chs any
		require.NoError(t, admin.Call(ctx, "getChannel", &ch, "default"))
		assert.Equal(t, recorded(t, "getChannel"), ch)
		require.NoError(t, admin.Call(ctx, "getChannel", &none, "no-such-channel"))
		assert.Equal(t, recorded(t, "getChannel_nonexistent"), none)
		require.NoError(t, admin.Call(ctx, "listChannels", &chs))
		assert.Equal(t, recorded(t, "listChannels"), chs)
		assert.Equal(t, "query returned no rows",
			faultString(t, admin, koji.ErrGeneric, "getChannel", []any{"no-such-channel"}, map[string]any{"strict": true}))
		assert.Equal(t, "Invalid name or id value: 1.5",
			faultString(t, admin, koji.ErrParameter, "getChannel", []any{1.5}, nil))
		assert.Equal(t, "Invalid hostInfo: nope",
			faultString(t, admin, koji.ErrGeneric, "getHost", []any{"nope"}, map[string]any{"strict": true}))

		// The typed client decodes the replies.
		h, err := kh.client(t).GetHost(ctx, 1, nil)
		require.NoError(t, err)
		assert.Equal(t, koji.Host{ID: 1, UserID: int(user["id"].(int64)), Name: "builder1", Arches: "x86_64", Capacity: 2, Enabled: true}, *h)
		h, err = kh.client(t).GetHost(ctx, "nope", nil)
		require.NoError(t, err)
		assert.Nil(t, h)

		// editHost versions the configuration; unchanged values change nothing.
		var changed bool
		require.NoError(t, admin.CallKw(ctx, "editHost", &changed, []any{"builder1"},
			map[string]any{"capacity": 4, "description": "big box", "arches": "x86_64 i686"}))
		assert.True(t, changed)
		require.NoError(t, admin.CallKw(ctx, "editHost", &changed, []any{1}, map[string]any{"capacity": 4.0, "comment": nil}))
		assert.False(t, changed)
		assert.Equal(t, "Invalid hostInfo: nope",
			faultString(t, admin, koji.ErrGeneric, "editHost", []any{"nope"}, map[string]any{"capacity": 3}))
		require.NoError(t, admin.Call(ctx, "disableHost", nil, "builder1"))
		assert.Equal(t, "host does not exist: nope", faultString(t, admin, koji.ErrGeneric, "enableHost", []any{"nope"}, nil))
		h, err = admin.GetHost(ctx, "builder1", &koji.GetHostOptions{Strict: true})
		require.NoError(t, err)
		assert.Equal(t, []any{"x86_64 i686", 4.0, "big box", false}, []any{h.Arches, h.Capacity, h.Description, h.Enabled})
		yes := true
		list, err := admin.ListHosts(ctx, &koji.ListHostsOptions{Enabled: &yes})
		require.NoError(t, err)
		assert.Empty(t, list)
		require.NoError(t, admin.Call(ctx, "enableHost", nil, "builder1"))
		list, err = admin.ListHosts(ctx, &koji.ListHostsOptions{Enabled: &yes, Arches: []string{"i686"}})
		require.NoError(t, err)
		require.Len(t, list, 1)
		list, err = admin.ListHosts(ctx, &koji.ListHostsOptions{Arches: []string{"ppc64le"}})
		require.NoError(t, err)
		assert.Empty(t, list)

		// Channel membership.
		require.NoError(t, admin.Call(ctx, "addHostToChannel", nil, "builder1", "createrepo"))
		assert.Equal(t, "host builder1 is already subscribed to the createrepo channel",
			faultString(t, admin, koji.ErrGeneric, "addHostToChannel", []any{"builder1", "createrepo"}, nil))
		assert.Equal(t, "channel does not exist: brand-new",
			faultString(t, admin, koji.ErrGeneric, "addHostToChannel", []any{"builder1", "brand-new"}, nil))
		require.NoError(t, admin.CallKw(ctx, "addHostToChannel", nil, []any{"builder1", "brand-new"}, map[string]any{"create": true}))
		mine, err := admin.ListChannels(ctx, &koji.ListChannelsOptions{HostID: 1})
		require.NoError(t, err)
		var names []string
		for _, c := range mine {
			names = append(names, c.Name)
		}
		assert.Equal(t, []string{"default", "createrepo", "brand-new"}, names)
		repo, err := admin.GetChannel(ctx, "createrepo", nil)
		require.NoError(t, err)
		list, err = admin.ListHosts(ctx, &koji.ListHostsOptions{ChannelID: repo.ID})
		require.NoError(t, err)
		assert.Len(t, list, 1)
		require.NoError(t, admin.Call(ctx, "removeHostFromChannel", nil, "builder1", "createrepo"))
		assert.Equal(t, "host builder1 is not subscribed to the createrepo channel",
			faultString(t, admin, koji.ErrGeneric, "removeHostFromChannel", []any{"builder1", "createrepo"}, nil))
		list, err = admin.ListHosts(ctx, &koji.ListHostsOptions{ChannelID: repo.ID})
		require.NoError(t, err)
		assert.Empty(t, list)
		assert.Equal(t, "No such entry in table channels: 999",
			faultString(t, admin, koji.ErrGeneric, "listHosts", nil, map[string]any{"channelID": 999}))
		assert.Equal(t, "list_channels with event and not host is not allowed.",
			faultString(t, admin, koji.ErrGeneric, "listChannels", nil, map[string]any{"event": 1}))

		// force turns a normal user into a host's account.
		require.NoError(t, admin.CallKw(ctx, "addHost", &id, []any{"bob", []any{"aarch64"}}, map[string]any{"force": true}))
		assert.Equal(t, 2, id)
	})
}

func TestKojiHostSide(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		require.NoError(t, admin.Call(ctx, "addHost", nil, "builder1", []any{"x86_64"}))

		assert.Equal(t, "User 1 is not a host", faultString(t, admin, koji.ErrAuth, "host.getID", nil, nil))
		assert.Equal(t, "Not logged-in", faultString(t, kh.client(t), koji.ErrAuth, "host.getID", nil, nil))
		c := hostClient(t, kh, "builder1")
		assert.Equal(t, "This method requires an exclusive session", faultString(t, c, koji.ErrAuth, "host.getID", nil, nil))
		require.NoError(t, c.Call(ctx, "exclusiveSession", nil))
		var id, host any
		require.NoError(t, c.Call(ctx, "host.getID", &id))
		assert.Equal(t, recorded(t, "host.getID"), id)
		require.NoError(t, c.Call(ctx, "host.getHost", &host))
		sameMembers(t, recorded(t, "host.getHost"), host, "user_id")
	})
}

func TestKojiHostsPythonClient(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		kh := startKoji(t, dsn, nil)
		require.NoError(t, kh.sslClient(t, "").Call(context.Background(), "addHost", nil, "builder1", []any{"x86_64"}))
		ca := filepath.Join(t.TempDir(), "ca.pem")
		require.NoError(t, os.WriteFile(ca, kh.pki.CAPEM, 0o600))
		var out []map[string]any
		runPython(t, []any{
			[]any{"getHost", []any{"builder1"}, nil},
			[]any{"getChannel", []any{"default"}, nil},
			[]any{"getHost", []any{"nope"}, map[string]any{"strict": true}},
		}, &out, "call", kh.hub.URL(), ca)
		require.Len(t, out, 3)
		host := out[0]["result"].(map[string]any)
		assert.Equal(t, []any{"builder1", "x86_64", 2.0, nil, true}, []any{host["name"], host["arches"], host["capacity"], host["update_ts"], host["enabled"]})
		assert.Equal(t, map[string]any{"id": 1.0, "name": "default", "description": nil, "enabled": true, "comment": nil}, out[1]["result"])
		assert.Equal(t, []any{float64(koji.ErrGeneric), "Invalid hostInfo: nope"}, out[2]["fault"])
	})
}
