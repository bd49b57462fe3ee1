package cache_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/gokoji/gokoji/cache"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const readers = 100

// readConcurrently looks up ids[i%len(ids)] from readers goroutines and
// returns what each got, in reader order.
func readConcurrently(t *testing.T, c *cache.Cache, ids []int, started func()) []string {
	t.Helper()
	names := make([]string, readers)
	errs := make([]error, readers)
	var wg sync.WaitGroup
	for i := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var found bool
			names[i], found, errs[i] = c.UserName(context.Background(), ids[i%len(ids)])
			if errs[i] == nil && !found {
				errs[i] = fmt.Errorf("reader %d: not found", i)
			}
		}()
	}
	if started != nil {
		started()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	return names
}

func TestConcurrentReadersOfOneIDMakeOneHubCall(t *testing.T) {
	hub := newFakeHub(t)
	hub.add("getUser", 7, "alice")
	hub.holdCalls()
	c := newCache(t, hub, nil)

	names := readConcurrently(t, c, []int{7}, func() {
		// All readers wait on the one lookup before the hub answers it.
		waitFor(t, func() bool { return cache.Waiters(c, cache.User, 7) == readers })
		hub.release()
	})
	for _, name := range names {
		assert.Equal(t, "alice", name)
	}
	assert.Equal(t, 1, hub.callCount("getUser", 7))
	assert.Len(t, hub.requestMethods(), 1)
}

func TestConcurrentReadersOfManyIDsMakeOneHubCallEach(t *testing.T) {
	ids := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	hub := newFakeHub(t)
	for _, id := range ids {
		hub.add("getUser", id, fmt.Sprintf("user%d", id))
	}
	hub.holdCalls()
	dir := t.TempDir()
	c := newCache(t, hub, &cache.Options{Dir: dir})

	check := func(names []string) {
		t.Helper()
		for i, name := range names {
			assert.Equal(t, fmt.Sprintf("user%d", ids[i%len(ids)]), name)
		}
		for _, id := range ids {
			assert.Equal(t, 1, hub.callCount("getUser", id), "user %d", id)
		}
		assert.Len(t, hub.requestMethods(), len(ids))
	}
	check(readConcurrently(t, c, ids, func() {
		waitFor(t, func() bool {
			n := 0
			for _, id := range ids {
				n += cache.Waiters(c, cache.User, id)
			}
			return n == readers
		})
		hub.release()
	}))

	// Again from memory, then from disk in a new cache, then from disk
	// alone: still one hub call per id.
	check(readConcurrently(t, c, ids, nil))
	check(readConcurrently(t, newCache(t, hub, &cache.Options{Dir: dir}), ids, nil))
	check(readConcurrently(t, newCache(t, hub, &cache.Options{Dir: dir, NoMemory: true}), ids, nil))
}

func TestConcurrentReadersWhileWritingAndInvalidating(t *testing.T) {
	hub := newFakeHub(t)
	for id := range 10 {
		hub.add("getTag", id, fmt.Sprintf("tag%d", id))
	}
	c := newCache(t, hub, nil)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, readers)
	for i := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := i % 10
			var err error
			switch i % 4 {
			case 0:
				err = c.Invalidate(cache.Tag, id)
			case 1:
				err = c.Put(cache.Tag, id, fmt.Sprintf("tag%d", id))
			case 2:
				err = c.Warm(ctx, cache.Tag, []int{id, (id + 1) % 10})
			default:
				var name string
				name, _, err = c.TagName(ctx, id)
				if err == nil && name != fmt.Sprintf("tag%d", id) {
					err = fmt.Errorf("tag %d: got %q", id, name)
				}
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func TestCallerGivingUpLeavesTheLookupToOthers(t *testing.T) {
	hub := newFakeHub(t)
	hub.add("getUser", 7, "alice")
	hub.holdCalls()
	c := newCache(t, hub, nil)

	quitter, quit := context.WithCancel(context.Background())
	quitErr := make(chan error)
	go func() {
		_, _, err := c.UserName(quitter, 7)
		quitErr <- err
	}()
	waitFor(t, func() bool { return cache.Waiters(c, cache.User, 7) == 1 })
	type answer struct {
		name string
		err  error
	}
	stayer := make(chan answer)
	go func() {
		name, _, err := c.UserName(context.Background(), 7)
		stayer <- answer{name, err}
	}()
	waitFor(t, func() bool { return cache.Waiters(c, cache.User, 7) == 2 })

	quit()
	assert.ErrorIs(t, <-quitErr, context.Canceled)
	hub.release()
	a := <-stayer
	require.NoError(t, a.err)
	assert.Equal(t, "alice", a.name)
	assert.Equal(t, 1, hub.callCount("getUser", 7))
	assert.Zero(t, hub.abortedCalls())
}

func TestLastCallerGivingUpCancelsTheHubCall(t *testing.T) {
	hub := newFakeHub(t)
	hub.add("getUser", 7, "alice")
	hub.holdCalls()
	c := newCache(t, hub, nil)

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error)
	go func() {
		_, _, err := c.UserName(ctx, 7)
		errc <- err
	}()
	waitFor(t, func() bool { return len(hub.requestMethods()) == 1 })
	cancel()
	assert.ErrorIs(t, <-errc, context.Canceled)
	waitFor(t, func() bool { return hub.abortedCalls() == 1 })
	assert.Zero(t, cache.Waiters(c, cache.User, 7))

	// A later lookup starts afresh.
	hub.release()
	name, found, err := c.UserName(context.Background(), 7)
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, "alice", name)
}

func TestCancelledContextFailsAMiss(t *testing.T) {
	hub := newFakeHub(t)
	hub.add("getUser", 7, "alice")
	c := newCache(t, hub, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := c.UserName(ctx, 7)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, hub.requestMethods())
	assert.ErrorIs(t, c.Warm(ctx, cache.User, []int{7}), context.Canceled)
}
