package cache_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gokoji/gokoji/cache"
	"github.com/gokoji/gokoji/koji"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newCache returns a cache on hub; opts.Dir defaults to a new temporary
// directory.
func newCache(t *testing.T, hub *fakeHub, opts *cache.Options) *cache.Cache {
	t.Helper()
	client, err := koji.NewClient(hub.URL + "/kojihub")
	require.NoError(t, err)
	var o cache.Options
	if opts != nil {
		o = *opts
	}
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	c, err := cache.New(client, &o)
	require.NoError(t, err)
	return c
}

func readEntry(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(data)
}

func TestNameReadsThroughMemoryDiskAndHub(t *testing.T) {
	ctx := context.Background()
	hub := newFakeHub(t)
	hub.add("getUser", 5, "alice")
	dir := t.TempDir()
	c := newCache(t, hub, &cache.Options{Dir: dir})

	name, found, err := c.UserName(ctx, 5)
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, "alice", name)
	assert.Equal(t, 1, hub.callCount("getUser", 5))
	// txkoji's layout and format: the bare name, no newline.
	assert.Equal(t, "alice", readEntry(t, filepath.Join(dir, "default", "user", "5")))

	// From memory: even with the file gone, no hub call.
	require.NoError(t, os.Remove(filepath.Join(dir, "default", "user", "5")))
	name, found, err = c.UserName(ctx, 5)
	require.NoError(t, err)
	assert.Equal(t, "alice", name)
	assert.True(t, found)
	assert.Equal(t, 1, hub.callCount("getUser", 5))

	// From disk: a new cache with an empty memory.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "default", "user", "5"), []byte("alice"), 0o600))
	c2 := newCache(t, hub, &cache.Options{Dir: dir})
	name, found, err = c2.UserName(ctx, 5)
	require.NoError(t, err)
	assert.Equal(t, "alice", name)
	assert.True(t, found)
	assert.Equal(t, 1, hub.callCount("getUser", 5))
}

func TestEachKindAsksItsMethodAndHasItsDirectory(t *testing.T) {
	ctx := context.Background()
	hub := newFakeHub(t)
	hub.add("getUser", 1, "kojiadmin")
	hub.add("getTag", 2, "f43-build")
	hub.add("getPackage", 3, "bash")
	hub.add("getHost", 4, "builder1")
	hub.add("getChannel", 5, "createrepo")
	dir := t.TempDir()
	c := newCache(t, hub, &cache.Options{Dir: dir, Profile: "stg"})

	for _, tc := range []struct {
		lookup func(context.Context, int) (string, bool, error)
		kind   cache.Kind
		method string
		id     int
		want   string
	}{
		{c.UserName, cache.User, "getUser", 1, "kojiadmin"},
		{c.TagName, cache.Tag, "getTag", 2, "f43-build"},
		{c.PackageName, cache.Package, "getPackage", 3, "bash"},
		{c.HostName, cache.Host, "getHost", 4, "builder1"},
		{c.ChannelName, cache.Channel, "getChannel", 5, "createrepo"},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			name, found, err := tc.lookup(ctx, tc.id)
			require.NoError(t, err)
			assert.True(t, found)
			assert.Equal(t, tc.want, name)
			assert.Equal(t, 1, hub.callCount(tc.method, tc.id))
			assert.Equal(t, tc.want, readEntry(t, filepath.Join(dir, "stg", string(tc.kind), strconv.Itoa(tc.id))))
		})
	}
}

func TestProfileDirectoryComesFromTheClient(t *testing.T) {
	hub := newFakeHub(t)
	hub.add("getTag", 7, "rawhide")
	p := koji.DefaultProfile()
	p.Name = "fedora"
	p.Server = hub.URL + "/kojihub"
	client, err := koji.NewClientFromProfile(p)
	require.NoError(t, err)
	dir := t.TempDir()
	c, err := cache.New(client, &cache.Options{Dir: dir})
	require.NoError(t, err)

	_, _, err = c.TagName(context.Background(), 7)
	require.NoError(t, err)
	assert.Equal(t, "rawhide", readEntry(t, filepath.Join(dir, "fedora", "tag", "7")))
}

func TestMissingObjectIsNotCached(t *testing.T) {
	ctx := context.Background()
	hub := newFakeHub(t)
	dir := t.TempDir()
	c := newCache(t, hub, &cache.Options{Dir: dir})

	for range 2 {
		name, found, err := c.UserName(ctx, 9)
		require.NoError(t, err)
		assert.False(t, found)
		assert.Empty(t, name)
	}
	assert.Equal(t, 2, hub.callCount("getUser", 9), "a missing object is asked for again")
	assert.NoFileExists(t, filepath.Join(dir, "default", "user", "9"))

	hub.add("getUser", 9, "newcomer")
	name, found, err := c.UserName(ctx, 9)
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, "newcomer", name)
}

func TestHubFaultIsReturnedAndNotCached(t *testing.T) {
	ctx := context.Background()
	hub := newFakeHub(t)
	hub.add("getHost", 3, "builder3")
	hub.fail("getHost", 3)
	c := newCache(t, hub, nil)

	_, found, err := c.HostName(ctx, 3)
	assert.False(t, found)
	require.Error(t, err)
	assert.ErrorIs(t, err, koji.ErrGeneric)
	var fault *koji.Fault
	assert.ErrorAs(t, err, &fault)

	_, _, err = c.HostName(ctx, 3)
	require.Error(t, err)
	assert.Equal(t, 2, hub.callCount("getHost", 3))
}

func TestInvalidNameFromHubIsAnError(t *testing.T) {
	hub := newFakeHub(t)
	hub.add("getTag", 1, "")
	hub.add("getTag", 2, "two\nlines")
	dir := t.TempDir()
	c := newCache(t, hub, &cache.Options{Dir: dir})
	for _, id := range []int{1, 2} {
		_, found, err := c.TagName(context.Background(), id)
		assert.False(t, found)
		assert.ErrorIs(t, err, cache.ErrName)
	}
	assert.NoDirExists(t, filepath.Join(dir, "default", "tag"))
}

func TestCorruptEntryIsAMissAndRewritten(t *testing.T) {
	ctx := context.Background()
	hub := newFakeHub(t)
	dir := t.TempDir()
	userDir := filepath.Join(dir, "default", "user")
	require.NoError(t, os.MkdirAll(userDir, 0o700))
	corrupt := map[int]string{
		1: "",                            // truncated by an in-place writer that crashed
		2: "\xff\xfe",                    // not UTF-8
		3: "carol\n",                     // not written by a cache
		4: strings.Repeat("d", 4097),     // too long to be a name
		5: "eve\x00\x00\x00\x00\x00\x00", // zero-filled after a crash
	}
	for id, content := range corrupt {
		hub.add("getUser", id, "user"+strconv.Itoa(id))
		require.NoError(t, os.WriteFile(filepath.Join(userDir, strconv.Itoa(id)), []byte(content), 0o600))
	}
	c := newCache(t, hub, &cache.Options{Dir: dir})
	for id := range corrupt {
		name, found, err := c.UserName(ctx, id)
		require.NoError(t, err)
		assert.True(t, found)
		assert.Equal(t, "user"+strconv.Itoa(id), name)
		assert.Equal(t, 1, hub.callCount("getUser", id))
		assert.Equal(t, "user"+strconv.Itoa(id), readEntry(t, filepath.Join(userDir, strconv.Itoa(id))))
	}
}

func TestPutStoresAndValidates(t *testing.T) {
	ctx := context.Background()
	hub := newFakeHub(t)
	dir := t.TempDir()
	c := newCache(t, hub, &cache.Options{Dir: dir})

	require.NoError(t, c.Put(cache.Tag, 40, "f43-candidate"))
	name, found, err := c.TagName(ctx, 40)
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, "f43-candidate", name)
	assert.Equal(t, "f43-candidate", readEntry(t, filepath.Join(dir, "default", "tag", "40")))
	require.NoError(t, c.Put(cache.Tag, 40, "f43-updates-candidate"))
	name, _, _ = c.TagName(ctx, 40)
	assert.Equal(t, "f43-updates-candidate", name)
	assert.Zero(t, hub.totalCalls())

	for _, bad := range []string{"", "a\x00b", "a\nb", "\xff", strings.Repeat("x", 4097)} {
		assert.ErrorIs(t, c.Put(cache.Tag, 41, bad), cache.ErrName, "%q", bad)
	}
	assert.NoFileExists(t, filepath.Join(dir, "default", "tag", "41"))
	assert.NoError(t, c.Put(cache.Tag, 41, strings.Repeat("x", 4096)))
}

func TestUnknownKindIsRefused(t *testing.T) {
	hub := newFakeHub(t)
	c := newCache(t, hub, nil)
	ctx := context.Background()
	build := cache.Kind("build")
	_, _, err := c.Name(ctx, build, 1)
	assert.ErrorIs(t, err, cache.ErrKind)
	assert.ErrorIs(t, c.Put(build, 1, "x"), cache.ErrKind)
	assert.ErrorIs(t, c.Warm(ctx, build, []int{1}), cache.ErrKind)
	assert.ErrorIs(t, c.Invalidate(build, 1), cache.ErrKind)
	assert.ErrorIs(t, c.InvalidateAll(cache.User, build), cache.ErrKind)
	assert.Empty(t, hub.requestMethods())
}

func TestNewRefusesBadInput(t *testing.T) {
	_, err := cache.New(nil, nil)
	assert.Error(t, err)

	client, err := koji.NewClient("http://127.0.0.1:1/kojihub")
	require.NoError(t, err)
	for _, profile := range []string{"..", ".", "a/b", `a\b`, "a\x00"} {
		_, err := cache.New(client, &cache.Options{Dir: t.TempDir(), Profile: profile})
		assert.ErrorIs(t, err, cache.ErrProfile, "%q", profile)
	}
}

func TestDefaultDirFollowsXDGThenHome(t *testing.T) {
	hub := newFakeHub(t)
	hub.add("getUser", 1, "kojiadmin")
	home := t.TempDir()
	xdg := t.TempDir()
	t.Setenv("HOME", home)

	t.Setenv("XDG_CACHE_HOME", xdg)
	dir, err := cache.DefaultDir()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(xdg, "gokoji"), dir)
	client, err := koji.NewClient(hub.URL + "/kojihub")
	require.NoError(t, err)
	c, err := cache.New(client, nil)
	require.NoError(t, err)
	_, _, err = c.UserName(context.Background(), 1)
	require.NoError(t, err)
	assert.FileExists(t, filepath.Join(xdg, "gokoji", "default", "user", "1"))

	t.Setenv("XDG_CACHE_HOME", "")
	dir, err = cache.DefaultDir()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(home, ".cache", "gokoji"), dir)
	c, err = cache.New(client, nil)
	require.NoError(t, err)
	_, _, err = c.UserName(context.Background(), 1)
	require.NoError(t, err)
	assert.FileExists(t, filepath.Join(home, ".cache", "gokoji", "default", "user", "1"))

	// The XDG specification: a relative path is invalid and ignored.
	t.Setenv("XDG_CACHE_HOME", "relative/cache")
	dir, err = cache.DefaultDir()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(home, ".cache", "gokoji"), dir)
}

func TestDefaultDirWithoutHomeIsAnError(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "")
	if _, err := os.UserHomeDir(); err == nil {
		t.Skip("this platform finds a home directory without $HOME")
	}
	_, err := cache.DefaultDir()
	assert.Error(t, err)
	client, err := koji.NewClient("http://127.0.0.1:1/kojihub")
	require.NoError(t, err)
	_, err = cache.New(client, nil)
	assert.Error(t, err)
}

func TestInvalidate(t *testing.T) {
	ctx := context.Background()
	hub := newFakeHub(t)
	hub.add("getUser", 5, "alice")
	hub.add("getTag", 6, "f43")
	dir := t.TempDir()
	c := newCache(t, hub, &cache.Options{Dir: dir})
	_, _, err := c.UserName(ctx, 5)
	require.NoError(t, err)
	_, _, err = c.TagName(ctx, 6)
	require.NoError(t, err)

	hub.add("getUser", 5, "alice-renamed")
	require.NoError(t, c.Invalidate(cache.User, 5))
	assert.NoFileExists(t, filepath.Join(dir, "default", "user", "5"))
	name, _, err := c.UserName(ctx, 5)
	require.NoError(t, err)
	assert.Equal(t, "alice-renamed", name)
	assert.Equal(t, 2, hub.callCount("getUser", 5))
	assert.Equal(t, "alice-renamed", readEntry(t, filepath.Join(dir, "default", "user", "5")))

	// Forgetting what is not there is no error.
	require.NoError(t, c.Invalidate(cache.Host, 99))

	// One kind: the others stay.
	require.NoError(t, c.InvalidateAll(cache.Tag))
	assert.NoDirExists(t, filepath.Join(dir, "default", "tag"))
	_, _, err = c.UserName(ctx, 5)
	require.NoError(t, err)
	assert.Equal(t, 2, hub.callCount("getUser", 5))
	_, _, err = c.TagName(ctx, 6)
	require.NoError(t, err)
	assert.Equal(t, 2, hub.callCount("getTag", 6))

	// Every kind.
	require.NoError(t, c.InvalidateAll())
	assert.NoDirExists(t, filepath.Join(dir, "default", "user"))
	assert.NoDirExists(t, filepath.Join(dir, "default", "tag"))
	_, _, err = c.UserName(ctx, 5)
	require.NoError(t, err)
	assert.Equal(t, 3, hub.callCount("getUser", 5))
}

func TestInvalidateDuringLookupKeepsTheOldNameOut(t *testing.T) {
	ctx := context.Background()
	hub := newFakeHub(t)
	hub.add("getUser", 5, "old-name")
	hub.holdCalls()
	dir := t.TempDir()
	c := newCache(t, hub, &cache.Options{Dir: dir})

	type answer struct {
		name string
		err  error
	}
	done := make(chan answer)
	go func() {
		name, _, err := c.UserName(ctx, 5)
		done <- answer{name, err}
	}()
	waitFor(t, func() bool { return cache.Waiters(c, cache.User, 5) == 1 })
	require.NoError(t, c.Invalidate(cache.User, 5))
	hub.add("getUser", 5, "new-name")
	hub.release()
	a := <-done
	require.NoError(t, a.err)
	// The lookup got the hub's answer of its time, but did not store it.
	assert.NoFileExists(t, filepath.Join(dir, "default", "user", "5"))
	name, _, err := c.UserName(ctx, 5)
	require.NoError(t, err)
	assert.Equal(t, "new-name", name)
	assert.Equal(t, 2, hub.callCount("getUser", 5))
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestNoMemoryReadsTheDiskEachTime(t *testing.T) {
	ctx := context.Background()
	hub := newFakeHub(t)
	hub.add("getUser", 5, "alice")
	dir := t.TempDir()
	c := newCache(t, hub, &cache.Options{Dir: dir, NoMemory: true})
	_, _, err := c.UserName(ctx, 5)
	require.NoError(t, err)

	// Another process renames the entry: this cache sees it.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "default", "user", "5"), []byte("alicia"), 0o600))
	name, _, err := c.UserName(ctx, 5)
	require.NoError(t, err)
	assert.Equal(t, "alicia", name)
	assert.Equal(t, 1, hub.callCount("getUser", 5))
}

func TestUnwritableDirectoryReturnsNameWithError(t *testing.T) {
	if os.Getuid() == 0 {
		t.Skip("root writes through directory permissions")
	}
	hub := newFakeHub(t)
	hub.add("getUser", 5, "alice")
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o500))
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	c := newCache(t, hub, &cache.Options{Dir: dir})
	name, found, err := c.UserName(context.Background(), 5)
	assert.Error(t, err)
	var pathErr *os.PathError
	assert.True(t, errors.As(err, &pathErr))
	assert.True(t, found)
	assert.Equal(t, "alice", name)
}

func TestPutDuringLookupWins(t *testing.T) {
	ctx := context.Background()
	hub := newFakeHub(t)
	hub.add("getTag", 5, "old-name")
	hub.holdCalls()
	dir := t.TempDir()
	c := newCache(t, hub, &cache.Options{Dir: dir})

	done := make(chan error)
	go func() {
		_, _, err := c.TagName(ctx, 5)
		done <- err
	}()
	waitFor(t, func() bool { return cache.Waiters(c, cache.Tag, 5) == 1 })
	require.NoError(t, c.Put(cache.Tag, 5, "new-name"))
	hub.release()
	require.NoError(t, <-done)

	name, _, err := c.TagName(ctx, 5)
	require.NoError(t, err)
	assert.Equal(t, "new-name", name)
	assert.Equal(t, "new-name", readEntry(t, filepath.Join(dir, "default", "tag", "5")))
}

func TestChangesToOtherEntriesDoNotDropALookup(t *testing.T) {
	ctx := context.Background()
	hub := newFakeHub(t)
	hub.add("getUser", 1, "kojiadmin")
	hub.add("getUser", 2, "builder1")
	hub.holdCalls()
	dir := t.TempDir()
	c := newCache(t, hub, &cache.Options{Dir: dir})

	done := make(chan error)
	go func() { done <- c.Warm(ctx, cache.User, []int{1, 2}) }()
	waitFor(t, func() bool { return len(hub.requestMethods()) == 1 })
	require.NoError(t, c.Put(cache.User, 3, "packager"))
	require.NoError(t, c.Invalidate(cache.User, 4))
	require.NoError(t, c.InvalidateAll(cache.Tag))
	hub.release()
	require.NoError(t, <-done)

	assert.Equal(t, "kojiadmin", readEntry(t, filepath.Join(dir, "default", "user", "1")))
	assert.Equal(t, "builder1", readEntry(t, filepath.Join(dir, "default", "user", "2")))
}

func TestUnreadableEntryIsAnError(t *testing.T) {
	hub := newFakeHub(t)
	hub.add("getUser", 5, "alice")
	dir := t.TempDir()
	// Not a file: something other than a cache put it there.
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "default", "user", "5"), 0o700))
	c := newCache(t, hub, &cache.Options{Dir: dir})
	_, found, err := c.UserName(context.Background(), 5)
	assert.Error(t, err)
	assert.False(t, found)
	assert.Error(t, c.Warm(context.Background(), cache.User, []int{5}))
	assert.Zero(t, hub.totalCalls())
}
