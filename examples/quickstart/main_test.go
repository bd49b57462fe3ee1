package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/gokoji/gokoji/builder"
	"github.com/gokoji/gokoji/internal/rpm"
	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/koji"
)

// runTimeout bounds one quickstart run in the tests.
const runTimeout = 2 * time.Minute

// builtRPM is the binary package a run left in the hub's packages/ dir.
func builtRPM(dir string) string {
	return filepath.Join(dir, "files", "packages", "hello", "1.0", "1", "noarch", "hello-1.0-1.noarch.rpm")
}

// checkOutput checks what a completed run printed.
func checkOutput(t *testing.T, out string) {
	t.Helper()
	assert.Contains(t, out, "Created task: 1\nWatching tasks (this may be safely interrupted)...\n")
	// Which states a watch sees depends on how fast the build runs: the
	// pure-Go one can finish between two polls, so any earlier state may
	// come right before it. What it sees last is closed.
	const before = `((free|assigned|open \(quickstart-builder\)) -> )?closed$`
	assert.Regexp(t, `(?m)^1 build \(quickstart, hello-1\.0-1\.src\.rpm\): `+before, out)
	assert.Regexp(t, `(?m)^  \d+ buildArch \(hello-1\.0-1\.src\.rpm, \w+\): `+before, out)
	assert.Regexp(t, `(?m)^  \d+ tagBuild \(noarch\): `+before, out)
	assert.Contains(t, out, "\n\n1 build (quickstart, hello-1.0-1.src.rpm) completed successfully\n\nBUILD: hello-1.0-1 [1]\n")
	assert.Regexp(t, `(?m)^State: +COMPLETE$`, out)
	assert.Regexp(t, `(?m)^Built by: +kojiadmin$`, out)
	assert.Regexp(t, `(?m)^Started: +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$`, out)
	assert.Regexp(t, `(?m)^Completed: +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$`, out)
	assert.Regexp(t, `(?m)^Tag: +quickstart$`, out)
	assert.Regexp(t, `(?m)^  hello-1\.0-1\.src\.rpm +\d+ bytes +payloadhash [0-9a-f]{32}$`, out)
	assert.Regexp(t, `(?m)^  hello-1\.0-1\.noarch\.rpm +\d+ bytes +payloadhash [0-9a-f]{32}$`, out)
	assert.Regexp(t, `(?m)^This build took [0-9.]+m?s; the next hello build should take about [0-9.]+m?s \(the hub's average of its complete builds\)\.$`, out)
}

// checkRPM checks the binary package the hub stored, and that the
// payloadhash printed is its own; it returns the package's files.
func checkRPM(t *testing.T, dir, out string) map[string]payloadEntry {
	t.Helper()
	path := builtRPM(dir)
	p, err := rpm.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "hello-1.0-1.noarch", p.NVRA())
	assert.Equal(t, "hello-1.0-1.src.rpm", p.SourceRPM)
	assert.False(t, p.SourcePackage)
	assert.Equal(t, []string{"/usr/bin/hello", "/usr/share/doc/hello/README"}, p.Files)
	assert.Regexp(t, `hello-1\.0-1\.noarch\.rpm +\d+ bytes +payloadhash `+p.PayloadHash()+"\n", out)
	files := readPayload(t, path)
	script, err := helloFiles.ReadFile("hello/hello.sh")
	require.NoError(t, err)
	assert.Equal(t, payloadEntry{mode: 0o755, body: string(script)}, files["/usr/bin/hello"])
	assert.Equal(t, os.FileMode(0o644), files["/usr/share/doc/hello/README"].mode)

	t.Run("rpm -qp", func(t *testing.T) {
		rpmTool := testenv.Command(t, "rpm")
		q, err := exec.Command(rpmTool, "-qp", "--qf", "%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH} %{SOURCERPM} %{LICENSE}\n", path).CombinedOutput()
		require.NoError(t, err, "%s", q)
		assert.Equal(t, p.NVRA()+" "+p.SourceRPM+" MIT\n", string(q))
		l, err := exec.Command(rpmTool, "-qpl", path).CombinedOutput()
		require.NoError(t, err, "%s", l)
		assert.Equal(t, strings.Join(p.Files, "\n")+"\n", string(l))
		k, err := exec.Command(rpmTool, "-K", path).CombinedOutput()
		require.NoError(t, err, "%s", k)
		assert.Contains(t, string(k), "digests OK")
	})
	return files
}

// payloadEntry is a payload file's mode and contents.
type payloadEntry struct {
	mode os.FileMode
	body string
}

func readPayload(t *testing.T, path string) map[string]payloadEntry {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	files := map[string]payloadEntry{}
	require.NoError(t, rpm.ReadPayload(f, func(pf rpm.PayloadFile, body io.Reader) error {
		b, err := io.ReadAll(body)
		files[pf.Path] = payloadEntry{mode: pf.Mode.Perm(), body: string(b)}
		return err
	}))
	return files
}

// TestRun runs the quickstart with rpmbuild and with the pure-Go writer:
// both build hello and print the same report, and the two packages hold
// the same files.
func TestRun(t *testing.T) {
	built := map[string]map[string]payloadEntry{}
	for _, tc := range []struct {
		name   string
		pureGo bool
	}{{"rpmbuild", false}, {"pure-go", true}} {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.pureGo {
				testenv.Command(t, "rpmbuild")
			}
			dir := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
			defer cancel()
			var out bytes.Buffer
			require.NoError(t, run(ctx, &out, options{Dir: dir, PureGo: tc.pureGo}), "%s", &out)
			t.Logf("output:\n%s", &out)
			checkOutput(t, out.String())
			built[tc.name] = checkRPM(t, dir, out.String())
			assert.Empty(t, unfinishedTasks(t, dir), "every task the run made ended (no notification task left free)")
			log, err := os.ReadFile(filepath.Join(dir, "files", "packages", "hello", "1.0", "1", "data", "logs", archDir(t, out.String()), "build.log"))
			require.NoError(t, err)
			if tc.pureGo {
				assert.Contains(t, out.String(), "-pure-go: building hello with gokoji's pure-Go RPM writer instead of rpmbuild\n")
				assert.Contains(t, out.String(), "Wrote hello-1.0-1.src.rpm with gokoji's RPM writer (internal/rpm)\n")
				assert.Contains(t, string(log), "rpmbuild is not used")
				assert.Contains(t, string(log), "install -D -m 0755 hello.sh /usr/bin/hello\n")
			} else {
				assert.NotContains(t, out.String(), "pure-Go")
				assert.Contains(t, out.String(), "Built hello-1.0-1.src.rpm with rpmbuild -bs\n")
				assert.Contains(t, string(log), "rpmbuild -ra")
			}
		})
	}
	if len(built) == 2 {
		assert.Equal(t, built["rpmbuild"], built["pure-go"], "the fallback installs what rpmbuild installs")
	}
}

// unfinishedTasks lists the methods of the tasks of the run's hub (its
// SQLite file) that are not closed, canceled or failed.
func unfinishedTasks(t *testing.T, dir string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, "hub.db"))
	require.NoError(t, err)
	defer db.Close()
	rows, err := db.Query("SELECT method FROM task WHERE state NOT IN (?, ?, ?)",
		int(koji.TaskClosed), int(koji.TaskCanceled), int(koji.TaskFailed))
	require.NoError(t, err)
	defer rows.Close()
	var methods []string
	for rows.Next() {
		var m string
		require.NoError(t, rows.Scan(&m))
		methods = append(methods, m)
	}
	require.NoError(t, rows.Err())
	return methods
}

// archDir is the arch of the buildArch task the output shows, the
// directory of its logs.
func archDir(t *testing.T, out string) string {
	t.Helper()
	m := regexp.MustCompile(`buildArch \(hello-1\.0-1\.src\.rpm, (\w+)\)`).FindStringSubmatch(out)
	require.NotNil(t, m, "no buildArch task in the output")
	return m[1]
}

// TestBinary builds the command and runs it as the README says.
func TestBinary(t *testing.T) {
	goTool := testenv.Command(t, "go")
	bin := filepath.Join(t.TempDir(), "quickstart")
	out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, args := range [][]string{nil, {"-pure-go"}} {
		t.Run(strings.Join(append([]string{"quickstart"}, args...), " "), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
			defer cancel()
			tmp := t.TempDir()
			cmd := exec.CommandContext(ctx, bin, args...)
			cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			require.NoError(t, cmd.Run(), "stdout:\n%s\nstderr:\n%s", &stdout, &stderr)
			assert.Empty(t, stderr.String())
			checkOutput(t, stdout.String())
			left, err := os.ReadDir(tmp)
			require.NoError(t, err)
			assert.Empty(t, left, "the temporary directory is removed")
		})
	}
	// A machine without rpmbuild (a PATH without it): the fallback, said
	// so on the output; -v logs the hub's and the builder's work.
	t.Run("no rpmbuild", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "-v")
		cmd.Env = append(os.Environ(), "PATH="+t.TempDir(), "TMPDIR="+t.TempDir())
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		require.NoError(t, cmd.Run(), "stdout:\n%s\nstderr:\n%s", &stdout, &stderr)
		assert.True(t, strings.HasPrefix(stdout.String(), "rpmbuild not found: building hello with gokoji's pure-Go RPM writer instead\n"), stdout.String())
		assert.Contains(t, stdout.String(), "Wrote hello-1.0-1.src.rpm with gokoji's RPM writer (internal/rpm)\n")
		checkOutput(t, stdout.String())
		assert.Contains(t, stderr.String(), "side=hub")
		assert.Contains(t, stderr.String(), "side=builder")
	})
	t.Run("bad flag", func(t *testing.T) {
		cmd := exec.Command(bin, "-nope")
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee)
		assert.Equal(t, 2, ee.ExitCode())
		assert.Contains(t, string(out), "flag provided but not defined: -nope")
	})
}

// cancelOn is an output that cancels a context when a line it waits for
// is written.
type cancelOn struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	re     *regexp.Regexp
	cancel context.CancelFunc
	at     time.Time
}

func (c *cancelOn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, err := c.buf.Write(p)
	if c.at.IsZero() && c.re.Match(c.buf.Bytes()) {
		c.at = time.Now()
		c.cancel()
	}
	return n, err
}

func (c *cancelOn) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

// heldBuildArch is a buildArch handler whose tasks stay open until their
// context ends.
type heldBuildArch struct{ builder.Handler }

func holdOpen(h builder.Handler) builder.Handler { return heldBuildArch{h} }

func (heldBuildArch) Handle(ctx context.Context, _ *builder.Task) (any, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestCancel cancels a run while its build runs: run returns the
// context's error at once, having stopped the builder (which frees the
// build task) and the hub, and leaves no goroutine behind.
func TestCancel(t *testing.T) {
	before := runtime.NumGoroutine()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &cancelOn{re: regexp.MustCompile(`(?m)^  \d+ buildArch .*open \(quickstart-builder\)$`), cancel: cancel}
	err := run(ctx, out, options{Dir: dir, PureGo: true, wrapBuildArch: holdOpen})
	require.Error(t, err, "%s", out)
	t.Logf("output:\n%s", out)
	assert.True(t, errors.Is(err, context.Canceled), "%v", err)
	require.False(t, out.at.IsZero(), "the build never opened:\n%s", out)
	assert.Less(t, time.Since(out.at), 15*time.Second, "run returns promptly")
	assert.Contains(t, out.String(), "Tasks still running. You can continue to watch with the 'koji watch-task' command.\nRunning Tasks:\n1 build (quickstart, hello-1.0-1.src.rpm): ")

	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines left running (%d before):\n%s", n-before, before, buf[:runtime.Stack(buf, true)])
	}

	// The builder gave the build task back (host.freeTasks) as it
	// stopped, unless it had finished by then.
	db, err := sql.Open("sqlite", filepath.Join(dir, "hub.db"))
	require.NoError(t, err)
	defer db.Close()
	var state int
	require.NoError(t, db.QueryRow("SELECT state FROM task WHERE id = 1").Scan(&state))
	assert.Contains(t, []int{0, 2}, state, "task 1 is FREE or CLOSED, not left OPEN or FAILED")
}
