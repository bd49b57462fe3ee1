package hubserver_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/koji"
)

func TestKojiChannelAdmin(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		bob := withBob(t, kh)
		admin := kh.sslClient(t, "")
		anon := kh.client(t)
		channel := func(name string) map[string]any {
			t.Helper()
			var c map[string]any
			require.NoError(t, admin.Call(ctx, "getChannel", &c, name))
			return c
		}

		// addChannel: admin only, a valid and free name.
		assert.Equal(t, "admin permission required (logged in as bob)", bob.fault(t, 1, koji.ErrActionNotAllowed, "addChannel", "bobs"))
		var id int64
		require.NoError(t, admin.CallKw(ctx, "addChannel", &id, []any{"special"}, map[string]any{"description": "for special builds"}))
		assert.EqualValues(t, 9, id, "after upstream's eight channels")
		assert.Equal(t, map[string]any{"id": int64(9), "name": "special", "description": "for special builds", "enabled": true, "comment": nil}, channel("special"))
		assert.Equal(t, "channel special already exists (id=9)", faultString(t, admin, koji.ErrGeneric, "addChannel", []any{"special"}, nil))
		assert.Equal(t, "Name bad name does not match RegexNameInternal value", faultString(t, admin, koji.ErrGeneric, "addChannel", []any{"bad name"}, nil))
		assert.Equal(t, "Name should be string", faultString(t, admin, koji.ErrGeneric, "addChannel", []any{12}, nil))
		long := strings.Repeat("x", 257)
		assert.Equal(t, "Name "+long+" is too long. Max length is 256 characters", faultString(t, admin, koji.ErrGeneric, "addChannel", []any{long}, nil))
		assert.Equal(t, "Invalid type for value '['d']': <class 'list'>, expected type <class 'str'>",
			faultString(t, admin, koji.ErrParameter, "addChannel", []any{"other", []any{"d"}}, nil))

		// editChannel: name, description and comment; false when nothing
		// changes.
		var changed bool
		require.NoError(t, admin.CallKw(ctx, "editChannel", &changed, []any{"special"}, map[string]any{"description": "for special builds"}))
		assert.False(t, changed)
		require.NoError(t, admin.CallKw(ctx, "editChannel", &changed, []any{int64(9)}, map[string]any{"name": "special2", "comment": "renamed", "other": 1}))
		assert.True(t, changed)
		assert.Equal(t, map[string]any{"id": int64(9), "name": "special2", "description": "for special builds", "enabled": true, "comment": "renamed"}, channel("special2"))
		assert.Equal(t, "channel default already exists (id=1)", faultString(t, admin, koji.ErrGeneric, "editChannel", []any{"special2"}, map[string]any{"name": "default"}))
		assert.Equal(t, "query returned no rows", faultString(t, admin, koji.ErrGeneric, "editChannel", []any{"nope"}, map[string]any{"name": "x"}))
		assert.Equal(t, "Invalid type for value '['c']': <class 'list'>, expected type <class 'str'>",
			faultString(t, admin, koji.ErrParameter, "editChannel", []any{"special2"}, map[string]any{"comment": []any{"c"}}))
		assert.Equal(t, "admin permission required (logged in as bob)", bob.fault(t, 2, koji.ErrActionNotAllowed, "editChannel", "special2"))
		require.NoError(t, admin.Call(ctx, "renameChannel", nil, "special2", "special"))
		assert.Equal(t, "special", channel("special")["name"])

		// enable/disable: the host permission, with a comment.
		assert.Equal(t, "host permission required (user not logged in)", faultString(t, anon, koji.ErrActionNotAllowed, "disableChannel", []any{"special"}, nil))
		require.NoError(t, admin.CallKw(ctx, "disableChannel", nil, []any{"special"}, map[string]any{"comment": "maintenance"}))
		c := channel("special")
		assert.Equal(t, []any{false, "maintenance"}, []any{c["enabled"], c["comment"]})
		assert.Equal(t, "Channel special is disabled.",
			faultString(t, admin, koji.ErrGeneric, "makeTask", []any{"sleep", []any{}}, map[string]any{"channel": "special"}))
		require.NoError(t, admin.Call(ctx, "enableChannel", nil, "special"))
		c = channel("special")
		assert.Equal(t, []any{true, nil}, []any{c["enabled"], c["comment"]})
		assert.Equal(t, "No such channel: nope", faultString(t, admin, koji.ErrGeneric, "enableChannel", []any{"nope"}, nil))
		assert.Equal(t, "Invalid type for value '1': <class 'int'>, expected type <class 'str'>",
			faultString(t, admin, koji.ErrParameter, "enableChannel", []any{"special"}, map[string]any{"comment": 1}))
		// A disabled default channel stops tasks that would land there.
		require.NoError(t, admin.Call(ctx, "disableChannel", nil, "default"))
		assert.Equal(t, "Channel default is disabled.", faultString(t, admin, koji.ErrGeneric, "makeTask", []any{"sleep", []any{}}, nil))
		require.NoError(t, admin.Call(ctx, "enableChannel", nil, "default"))

		// removeChannel: refused while hosts (unless forced) or tasks use
		// the channel.
		require.NoError(t, admin.Call(ctx, "addHost", nil, "builder1", []any{"x86_64"}))
		require.NoError(t, admin.Call(ctx, "addHostToChannel", nil, "builder1", "special"))
		assert.Equal(t, "channel special has host references", faultString(t, admin, koji.ErrGeneric, "removeChannel", []any{"special"}, nil))
		require.NoError(t, admin.CallKw(ctx, "removeChannel", nil, []any{"special"}, map[string]any{"force": true}))
		var none any
		require.NoError(t, admin.Call(ctx, "getChannel", &none, "special"))
		assert.Nil(t, none)
		var chans []map[string]any
		require.NoError(t, admin.CallKw(ctx, "listChannels", &chans, nil, map[string]any{"hostID": "builder1"}))
		require.Len(t, chans, 1)
		assert.Equal(t, "default", chans[0]["name"])
		_, err := admin.MakeTask(ctx, "sleep", []any{1}, nil)
		require.NoError(t, err)
		assert.Equal(t, "channel default has task references", faultString(t, admin, koji.ErrGeneric, "removeChannel", []any{"default"}, nil))
		assert.Equal(t, "No such channel: nope", faultString(t, admin, koji.ErrGeneric, "removeChannel", []any{"nope"}, nil))
		assert.Equal(t, "admin permission required (logged in as bob)", bob.fault(t, 3, koji.ErrActionNotAllowed, "removeChannel", "vm"))
		require.NoError(t, admin.Call(ctx, "removeChannel", nil, "vm"))
		var all []map[string]any
		require.NoError(t, admin.Call(ctx, "listChannels", &all))
		assert.Len(t, all, 7)
	})
}
