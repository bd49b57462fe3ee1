package hubserver_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/koji"
)

func TestKojiEvents(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")

		var last map[string]any
		require.NoError(t, admin.Call(ctx, "getLastEvent", &last))
		sameMembers(t, recorded(t, "getLastEvent"), last, "id", "ts")
		first := last["id"].(int64)

		// A versioned write makes a new event.
		var host int64
		require.NoError(t, admin.Call(ctx, "addHost", &host, "ev-builder", []any{"x86_64"}))
		e, err := admin.LastEvent(ctx, time.Time{})
		require.NoError(t, err)
		assert.Equal(t, int(first)+1, e.ID)
		assert.WithinDuration(t, time.Now(), e.Time(), time.Minute)

		var ev map[string]any
		require.NoError(t, admin.Call(ctx, "getEvent", &ev, e.ID))
		sameMembers(t, recorded(t, "getLastEvent"), ev, "id", "ts")
		assert.Equal(t, int64(e.ID), ev["id"])
		assert.Equal(t, e.TS, ev["ts"])

		// before: the newest event strictly earlier.
		var prev map[string]any
		require.NoError(t, admin.Call(ctx, "getLastEvent", &prev, e.TS))
		assert.Equal(t, first, prev["id"])
		require.NoError(t, admin.Call(ctx, "getLastEvent", &prev, int64(e.TS)+10))
		assert.Equal(t, int64(e.ID), prev["id"])
		assert.Equal(t, "query returned no rows", faultString(t, admin, koji.ErrGeneric, "getLastEvent", []any{1.5}, nil))
		var none any = "x"
		require.NoError(t, admin.CallKw(ctx, "getLastEvent", &none, []any{1.5}, map[string]any{"strict": false}))
		assert.Nil(t, none)
		assert.Equal(t, "Invalid type for before: <class 'str'>", faultString(t, admin, koji.ErrGeneric, "getLastEvent", []any{"now"}, nil))

		assert.Equal(t, "query returned no rows", faultString(t, admin, koji.ErrGeneric, "getEvent", []any{99999}, nil))
		none = "x"
		require.NoError(t, admin.CallKw(ctx, "getEvent", &none, []any{99999}, map[string]any{"strict": false}))
		assert.Nil(t, none)
		assert.Equal(t, "<class 'TypeError'>: %i format: a real number is required, not str",
			faultString(t, admin, 1, "getEvent", []any{"x"}, nil))

		// Anonymous reads work.
		anon := kh.client(t)
		require.NoError(t, anon.Call(ctx, "getEvent", &ev, first))
		assert.Equal(t, first, ev["id"])
	})
}
