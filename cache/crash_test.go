package cache_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
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

// crashDirEnv makes TestHelperProcess a writer that runs until killed.
const crashDirEnv = "GOKOJI_CACHE_CRASH_DIR"

var crashKinds = []cache.Kind{cache.User, cache.Tag, cache.Package, cache.Host, cache.Channel}

// crashName is the name the writer gives entry id in round gen: long
// enough to span several writes were it not written atomically, and
// checkable whole.
func crashName(kind cache.Kind, id, gen int) string {
	return fmt.Sprintf("%s-%d-%d-%s", kind, id, gen, strings.Repeat("x", 100+gen%3900))
}

// checkCrashName reports whether name is exactly what crashName wrote for
// some round.
func checkCrashName(kind cache.Kind, id int, name string) error {
	parts := strings.SplitN(name, "-", 4)
	if len(parts) != 4 || parts[0] != string(kind) || parts[1] != strconv.Itoa(id) {
		return fmt.Errorf("%s %d: torn entry %.40q", kind, id, name)
	}
	gen, err := strconv.Atoi(parts[2])
	if err != nil || name != crashName(kind, id, gen) {
		return fmt.Errorf("%s %d: torn entry %.40q (%d bytes)", kind, id, name, len(name))
	}
	return nil
}

// TestHelperProcess is the writer the crash test kills: it stores names
// in a loop, through a Cache, until SIGKILL.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("the crash test's writer; runs only as its subprocess")
	}
	client, err := koji.NewClient("http://127.0.0.1:1/kojihub") // never called
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	c, err := cache.New(client, &cache.Options{Dir: dir, Profile: "crash"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for gen := 0; ; gen++ {
		for _, kind := range crashKinds {
			id := gen % 7
			if err := c.Put(kind, id, crashName(kind, id, gen)); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			if gen == 0 && kind == cache.User {
				fmt.Println("writing")
			}
		}
	}
}

func TestWritesSurviveSIGKILL(t *testing.T) {
	dir := t.TempDir()
	rounds := 30
	if testing.Short() {
		rounds = 5
	}
	for round := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		line, err := bufio.NewReader(stdout).ReadString('\n')
		require.NoError(t, err, "the writer did not start")
		require.Equal(t, "writing\n", line)
		time.Sleep(time.Duration(rand.IntN(20_000)) * time.Microsecond)
		require.NoError(t, cmd.Process.Kill()) // SIGKILL: no deferred cleanup runs
		err = cmd.Wait()
		require.Error(t, err, "round %d: the writer should have been killed", round)
		checkCrashEntries(t, dir)
	}

	// A new cache reads every entry from disk, ignoring the temporary
	// files; its hub is never called.
	hub := newFakeHub(t)
	c := newCache(t, hub, &cache.Options{Dir: dir, Profile: "crash"})
	entries := 0
	for _, kind := range crashKinds {
		for id := range 7 {
			if _, err := os.Stat(filepath.Join(dir, "crash", string(kind), strconv.Itoa(id))); err != nil {
				continue // not written before the first kill
			}
			entries++
			name, found, err := c.Name(context.Background(), kind, id)
			require.NoError(t, err)
			assert.True(t, found)
			assert.NoError(t, checkCrashName(kind, id, name))
		}
	}
	assert.Positive(t, entries)
	assert.Zero(t, hub.totalCalls(), "every entry came from disk")

	// Temporary files left by the kills are swept by the next write into
	// their directory once they are old enough to be no live writer's.
	old := time.Now().Add(-cache.StaleTempAge - time.Minute)
	left := 0
	for _, kind := range crashKinds {
		kindDir := filepath.Join(dir, "crash", string(kind))
		require.NoError(t, os.MkdirAll(kindDir, 0o700))
		left += len(tempFiles(t, kindDir))
		// One more, in case no kill landed mid-write in this directory.
		require.NoError(t, os.WriteFile(filepath.Join(kindDir, ".1.tmp-left"), []byte("us"), 0o600))
		for _, tmp := range tempFiles(t, kindDir) {
			require.NoError(t, os.Chtimes(tmp, old, old))
		}
	}
	t.Logf("%d kills left %d entries and %d temporary files", rounds, entries, left)
	for _, kind := range crashKinds {
		require.NoError(t, c.Put(kind, 100, "sweeper"))
		assert.Empty(t, tempFiles(t, filepath.Join(dir, "crash", string(kind))), "kind %s", kind)
	}
}

// checkCrashEntries checks that every entry under dir holds a whole name
// and that nothing but entries and temporary files is there.
func checkCrashEntries(t *testing.T, dir string) {
	t.Helper()
	for _, kind := range crashKinds {
		files, err := os.ReadDir(filepath.Join(dir, "crash", string(kind)))
		if os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		for _, f := range files {
			if strings.HasPrefix(f.Name(), ".") && strings.Contains(f.Name(), ".tmp-") {
				continue
			}
			id, err := strconv.Atoi(f.Name())
			require.NoError(t, err, "stray file %s/%s", kind, f.Name())
			data, err := os.ReadFile(filepath.Join(dir, "crash", string(kind), f.Name()))
			require.NoError(t, err)
			require.NoError(t, checkCrashName(kind, id, string(data)))
		}
	}
}

func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, ".*.tmp-*"))
	require.NoError(t, err)
	return matches
}

func TestSweepKeepsFreshTemporaryFiles(t *testing.T) {
	hub := newFakeHub(t)
	dir := t.TempDir()
	userDir := filepath.Join(dir, "default", "user")
	require.NoError(t, os.MkdirAll(userDir, 0o700))
	stale := filepath.Join(userDir, ".5.tmp-1234")
	fresh := filepath.Join(userDir, ".6.tmp-5678") // another process's write in progress
	require.NoError(t, os.WriteFile(stale, []byte("al"), 0o600))
	require.NoError(t, os.WriteFile(fresh, []byte("bo"), 0o600))
	old := time.Now().Add(-cache.StaleTempAge - time.Minute)
	require.NoError(t, os.Chtimes(stale, old, old))

	hub.add("getUser", 5, "alice")
	c := newCache(t, hub, &cache.Options{Dir: dir})
	name, _, err := c.UserName(context.Background(), 5)
	require.NoError(t, err)
	assert.Equal(t, "alice", name)
	assert.NoFileExists(t, stale)
	assert.FileExists(t, fresh)
}
