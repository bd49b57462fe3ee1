package cache_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/gokoji/gokoji/cache"
	"github.com/gokoji/gokoji/koji"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWarmAsksForAllMissesInOneMulticall(t *testing.T) {
	ctx := context.Background()
	hub := newFakeHub(t)
	for id := 1; id <= 20; id++ {
		hub.add("getPackage", id, fmt.Sprintf("pkg%d", id))
	}
	dir := t.TempDir()
	c := newCache(t, hub, &cache.Options{Dir: dir})

	// 1 in memory by Put, 2 in memory through the hub, 3 on disk only.
	require.NoError(t, c.Put(cache.Package, 1, "pkg1"))
	_, _, err := c.PackageName(ctx, 2)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "default", "package", "3"), []byte("pkg3"), 0o600))
	before := len(hub.requestMethods())

	ids := []int{99} // the hub has no package 99
	for id := 1; id <= 20; id++ {
		ids = append(ids, id, id) // duplicates are asked for once
	}
	require.NoError(t, c.Warm(ctx, cache.Package, ids))

	requests := hub.requestMethods()[before:]
	assert.Equal(t, []string{"multiCall"}, requests)
	for id := 1; id <= 3; id++ {
		assert.Equal(t, map[int]int{1: 0, 2: 1, 3: 0}[id], hub.callCount("getPackage", id), "package %d", id)
	}
	for id := 4; id <= 20; id++ {
		assert.Equal(t, 1, hub.callCount("getPackage", id), "package %d", id)
		assert.Equal(t, fmt.Sprintf("pkg%d", id), readEntry(t, filepath.Join(dir, "default", "package", strconv.Itoa(id))))
	}
	assert.Equal(t, 1, hub.callCount("getPackage", 99))
	assert.NoFileExists(t, filepath.Join(dir, "default", "package", "99"))

	// Every name is now at hand; warming again asks for nothing.
	before = len(hub.requestMethods())
	for id := 1; id <= 20; id++ {
		name, found, err := c.PackageName(ctx, id)
		require.NoError(t, err)
		assert.True(t, found)
		assert.Equal(t, fmt.Sprintf("pkg%d", id), name)
	}
	require.NoError(t, c.Warm(ctx, cache.Package, ids[1:]))
	assert.Len(t, hub.requestMethods(), before)
}

func TestWarmWithNothingMissingSendsNothing(t *testing.T) {
	hub := newFakeHub(t)
	c := newCache(t, hub, nil)
	require.NoError(t, c.Warm(context.Background(), cache.User, nil))
	require.NoError(t, c.Put(cache.User, 1, "kojiadmin"))
	require.NoError(t, c.Warm(context.Background(), cache.User, []int{1, 1}))
	assert.Empty(t, hub.requestMethods())
}

func TestWarmReportsFailedCallsAndStoresTheRest(t *testing.T) {
	ctx := context.Background()
	hub := newFakeHub(t)
	hub.add("getChannel", 1, "default")
	hub.add("getChannel", 2, "createrepo")
	hub.add("getChannel", 4, "")
	hub.fail("getChannel", 3)
	dir := t.TempDir()
	c := newCache(t, hub, &cache.Options{Dir: dir})

	err := c.Warm(ctx, cache.Channel, []int{1, 2, 3, 4})
	require.Error(t, err)
	assert.ErrorIs(t, err, koji.ErrGeneric)
	assert.ErrorIs(t, err, cache.ErrName)
	assert.Contains(t, err.Error(), "channel 3")
	assert.Contains(t, err.Error(), "channel 4")
	assert.Equal(t, "default", readEntry(t, filepath.Join(dir, "default", "channel", "1")))
	assert.Equal(t, "createrepo", readEntry(t, filepath.Join(dir, "default", "channel", "2")))
	assert.NoFileExists(t, filepath.Join(dir, "default", "channel", "3"))
	assert.NoFileExists(t, filepath.Join(dir, "default", "channel", "4"))
}

func TestWarmHubFailure(t *testing.T) {
	hub := newFakeHub(t)
	hub.add("getUser", 1, "kojiadmin")
	c := newCache(t, hub, nil)
	hub.Close()
	err := c.Warm(context.Background(), cache.User, []int{1})
	require.Error(t, err)
	var transport *koji.TransportError
	assert.ErrorAs(t, err, &transport)
}
