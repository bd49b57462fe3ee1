package cache_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/gokoji/gokoji/cache"
	"github.com/gokoji/gokoji/internal/kojitest"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The recorded hub was asked getTag by id: the cache's own call.
func TestReplayedGetTagByID(t *testing.T) {
	hub := kojitest.NewReplayHub(t, "getTag_by_id")
	client, err := koji.NewClient(hub.URL())
	require.NoError(t, err)
	dir := t.TempDir()
	c, err := cache.New(client, &cache.Options{Dir: dir})
	require.NoError(t, err)

	name, found, err := c.TagName(context.Background(), 2)
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, "anchor-build", name)
	assert.Equal(t, "anchor-build", readEntry(t, filepath.Join(dir, "default", "tag", "2")))
	require.Len(t, hub.Received(), 1)
	assert.Equal(t, "getTag", hub.Received()[0].Method)

	c2, err := cache.New(client, &cache.Options{Dir: dir})
	require.NoError(t, err)
	name, _, err = c2.TagName(context.Background(), 2)
	require.NoError(t, err)
	assert.Equal(t, "anchor-build", name)
	assert.Len(t, hub.Received(), 1)
}

// The other objects were recorded by name; the hub answers the same
// object by id, so the fake hub serves each recorded reply for the id the
// reply carries, alone and in a multicall.
func TestRecordedRepliesOfEveryKind(t *testing.T) {
	recorded := []struct {
		fixture, missing string
		kind             cache.Kind
		want             string
	}{
		{"getUser", "getUser_nonexistent", cache.User, "kojiadmin"},
		{"getTag_by_id", "getTag_nonexistent", cache.Tag, "anchor-build"},
		{"getPackage", "", cache.Package, "foo"},
		{"getHost", "", cache.Host, "builder1"},
		{"getChannel", "getChannel_nonexistent", cache.Channel, "default"},
	}
	const missingID = 999
	for _, viaWarm := range []bool{false, true} {
		hub := newFakeHub(t)
		ids := map[cache.Kind]int{}
		methods := map[cache.Kind]string{}
		for _, r := range recorded {
			ex := kojitest.Fixture(t, r.fixture)
			var raw xmlrpc.RawValue
			require.NoError(t, xmlrpc.DecodeResponse(ex.Response, &raw), r.fixture)
			var obj struct {
				ID int `xmlrpc:"id"`
			}
			require.NoError(t, raw.Decode(&obj))
			hub.addRaw(ex.Method, obj.ID, raw)
			ids[r.kind] = obj.ID
			methods[r.kind] = ex.Method
			if r.missing != "" {
				ex := kojitest.Fixture(t, r.missing)
				require.NoError(t, xmlrpc.DecodeResponse(ex.Response, &raw), r.missing)
				require.True(t, raw.IsNil())
				hub.addRaw(ex.Method, missingID, raw)
			}
		}
		c := newCache(t, hub, nil)
		ctx := context.Background()
		if viaWarm {
			for _, r := range recorded {
				require.NoError(t, c.Warm(ctx, r.kind, []int{ids[r.kind], missingID}))
			}
			assert.Len(t, hub.requestMethods(), len(recorded))
		}
		for _, r := range recorded {
			name, found, err := c.Name(ctx, r.kind, ids[r.kind])
			require.NoError(t, err, r.fixture)
			assert.True(t, found, r.fixture)
			assert.Equal(t, r.want, name, r.fixture)
			assert.Equal(t, 1, hub.callCount(methods[r.kind], ids[r.kind]), r.fixture)

			_, found, err = c.Name(ctx, r.kind, missingID)
			require.NoError(t, err)
			assert.False(t, found, r.missing)
		}
	}
}
