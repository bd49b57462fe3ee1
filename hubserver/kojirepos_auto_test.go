package hubserver_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/auth"
	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/koji"
)

// activeRequests are the active rows of the repo queue, oldest first.
func activeRequests(t *testing.T, c *koji.Client) []any {
	t.Helper()
	return call(t, c, "repo.queryQueue", []any{[]any{[]any{"active", "IS", true}}},
		map[string]any{"fields": []any{"tag_name", "min_event", "at_event", "priority", "owner_name", "opts"},
			"opts": map[string]any{"order": "id"}}).([]any)
}

// TestRepoAutoRequests: repo.autoRequests (kojira's call) requests a repo,
// at priority 25, for each tag whose own extra has a true repo.auto, for
// the tag's last change when its repo.lag is 0 and for its first event
// when the lag (RepoAutoLag, or a repo.lag that is not an integer) reaches
// back before the hub existed; inherited and false settings make none. A
// second call makes no duplicates, a tag whose repo is current gets none,
// and a change to it brings a new one. It needs the repo permission.
// A negative RepoLag means no lag for on-demand requests.
func TestRepoAutoRequests(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		rh := startRepoHub(t, dsn, func(c *hubserver.KojiConfig) {
			c.Repos.DisableRepoWorker = true
			// A window this small puts every event so far before the
			// lagged time, so that lag 0 asks for the last change even
			// right after it.
			c.Repos.RepoLagWindow = time.Nanosecond
			c.Repos.RepoLag = -1
		})
		admin := rh.admin
		extra := func(tag string, kv map[string]any) {
			call(t, admin, "editTag2", []any{tag}, map[string]any{"extra": kv})
		}
		extra("f40-build", map[string]any{"repo.auto": true, "repo.lag": 0})
		for _, tag := range []string{"slow", "strlag", "off", "child", "plain"} {
			call(t, admin, "createTag", []any{tag}, map[string]any{"arches": "x86_64"})
		}
		extra("slow", map[string]any{"repo.auto": true})
		extra("strlag", map[string]any{"repo.auto": "yes", "repo.lag": "0"})
		extra("off", map[string]any{"repo.auto": false, "repo.lag": 0})
		call(t, admin, "setInheritanceData", []any{"child", []any{inheritLink(rh.tagID, 0, nil)}}, nil)
		inherited := call(t, admin, "getBuildConfig", []any{"child"}, nil).(map[string]any)["extra"].(map[string]any)
		require.Equal(t, true, inherited["repo.auto"], "child inherits repo.auto but does not set it")

		last := func(tag string) int64 {
			return call(t, admin, "tagLastChangeEvent", []any{tag}, nil).(int64)
		}
		first := func(tag string) int64 {
			return call(t, admin, "tagFirstChangeEvent", []any{tag}, nil).(int64)
		}
		row := func(tag string, minEvent int64) map[string]any {
			return map[string]any{"tag_name": tag, "min_event": minEvent, "at_event": nil, "priority": int64(25),
				"owner_name": "kojiadmin", "opts": map[string]any{}}
		}
		assert.Nil(t, call(t, admin, "repo.autoRequests", nil, nil))
		want := []any{row("f40-build", last("f40-build")), row("slow", first("slow")), row("strlag", first("strlag"))}
		assert.Equal(t, want, activeRequests(t, admin))
		assert.Nil(t, call(t, admin, "repo.autoRequests", nil, nil))
		assert.Equal(t, want, activeRequests(t, admin), "no duplicates")

		// The queue makes f40-build's repo; then it needs none until the
		// tag changes.
		assert.Nil(t, call(t, admin, "repo.checkQueue", nil, nil))
		task := call(t, admin, "repo.queryQueue", []any{[]any{[]any{"tag_name", "=", "f40-build"}}},
			map[string]any{"fields": []any{"task_id"}}).([]any)[0].(map[string]any)["task_id"].(int64)
		rh.runRepoTask(t, task)
		assert.Nil(t, call(t, admin, "repo.autoRequests", nil, nil))
		assert.Equal(t, want[1:], activeRequests(t, admin), "f40-build's repo is current")
		call(t, admin, "packageListAdd", []any{"f40-build", "foo", "kojiadmin"}, nil)
		assert.Nil(t, call(t, admin, "repo.autoRequests", nil, nil))
		assert.Equal(t, append(want[1:], row("f40-build", last("f40-build"))), activeRequests(t, admin))

		call(t, admin, "createUser", []any{"bob"}, nil)
		require.NoError(t, rh.koji.SetPassword(t.Context(), "bob", "secret"))
		bob := rh.client(t)
		require.NoError(t, bob.Login(t.Context(), &auth.Password{User: "bob", Password: "secret"}))
		assert.Equal(t, "repo permission required (logged in as bob)",
			faultString(t, bob, koji.ErrActionNotAllowed, "repo.autoRequests", nil, nil))
		call(t, admin, "grantPermission", []any{"bob", "repo"}, nil)
		assert.Nil(t, call(t, bob, "repo.autoRequests", nil, nil))

		// A negative RepoLag is none: a request for plain asks for its last
		// change, where RepoAutoLag reached back to slow's first event.
		call(t, admin, "packageListAdd", []any{"plain", "foo", "kojiadmin"}, nil)
		require.NotEqual(t, first("plain"), last("plain"))
		req := call(t, admin, "repo.request", []any{"plain"}, nil).(map[string]any)["request"].(map[string]any)
		assert.Equal(t, last("plain"), req["min_event"])
	})
}

// TestRepoAutoWaitRepoPython: the hub's worker makes the automatic
// requests itself (as the Admin, there being no kojira user), so the koji
// CLI's `wait-repo --build NVR TAG` without --request, run by Python's
// xmlrpc.client, ends once the build is tagged: the worker asks for a new
// repo of the tag with repo.auto and this test, as the builder, makes it.
func TestRepoAutoWaitRepoPython(t *testing.T) {
	py := testenv.Command(t, "python3")
	eachBackend(t, func(t *testing.T, dsn string) {
		rh := startRepoHub(t, dsn, func(c *hubserver.KojiConfig) {
			c.Repos.WorkerInterval = 100 * time.Millisecond
			c.Repos.RepoLagWindow = time.Millisecond
		})
		admin := rh.admin
		call(t, admin, "packageListAdd", []any{"f40-build", "foo", "kojiadmin"}, nil)
		newBuilds(t, rh.kojiHub, [4]any{"foo", "1.0", "1", store.BuildComplete})
		call(t, admin, "editTag2", []any{"f40-build"}, map[string]any{"extra": map[string]any{"repo.auto": true, "repo.lag": 0}})

		// runTasks runs the newRepo tasks of the automatic requests (the
		// worker's, or bob's through repo.autoRequests) and returns the
		// repos made.
		done := map[int64]bool{}
		runTasks := func(owners ...string) (repos []int64) {
			rows := call(t, admin, "repo.queryQueue", []any{[]any{[]any{"active", "IS", true}}},
				map[string]any{"fields": []any{"task_id", "task_state", "owner_name", "priority"}}).([]any)
			for _, r := range rows {
				r := r.(map[string]any)
				assert.Contains(t, owners, r["owner_name"])
				assert.Equal(t, int64(25), r["priority"])
				if task, ok := r["task_id"].(int64); ok && r["task_state"] == int64(koji.TaskFree) && !done[task] {
					done[task] = true
					repos = append(repos, rh.runRepoTask(t, task))
				}
			}
			return repos
		}
		var firstRepo int64
		eventually(t, "the worker's first automatic repo", func() bool {
			if repos := runTasks("kojiadmin"); len(repos) > 0 {
				firstRepo = repos[0]
			}
			return firstRepo != 0
		})

		call(t, admin, "createUser", []any{"bob"}, nil)
		require.NoError(t, rh.koji.SetPassword(t.Context(), "bob", "secret"))
		call(t, admin, "grantPermission", []any{"bob", "repo"}, nil)
		ca := filepath.Join(t.TempDir(), "ca.pem")
		require.NoError(t, os.WriteFile(ca, rh.pki.CAPEM, 0o600))
		cmd := exec.Command(py, "testdata/pyautorepo.py", rh.hub.URL(), ca, "bob", "secret", "f40-build", "foo-1.0-1")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		require.NoError(t, cmd.Start())
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()

		time.Sleep(300 * time.Millisecond) // the CLI waits for the build first
		call(t, admin, "tagBuildBypass", []any{"f40-build", "foo-1.0-1"}, nil)
		var repos []int64
		deadline := time.After(60 * time.Second)
	wait:
		for {
			select {
			case err := <-exited:
				require.NoError(t, err, stderr.String())
				break wait
			case <-deadline:
				t.Fatal("wait-repo did not finish")
			case <-time.After(20 * time.Millisecond):
				repos = append(repos, runTasks("kojiadmin", "bob")...)
			}
		}
		var out map[string]any
		require.NoError(t, json.Unmarshal(stdout.Bytes(), &out), stdout.String())
		assert.Nil(t, out["timeout"])
		assert.Nil(t, out["auto_requests"])
		assert.Equal(t, []any{float64(koji.ErrActionNotAllowed), "repo permission required (user not logged in)"}, out["anon_auto_requests"])
		assert.Equal(t, true, out["repo.auto"])
		require.NotEmpty(t, repos, "a new repo after the build was tagged")
		repo := out["repo"].(map[string]any)
		assert.Equal(t, float64(repos[len(repos)-1]), repo["id"])
		assert.NotEqual(t, float64(firstRepo), repo["id"])
		assert.GreaterOrEqual(t, repo["create_event"], out["min_event"])
	})
}
