package hubserver_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/auth"
	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/koji"
)

// repoHub is a hub with a top directory, a tag f40-build (x86_64) and a
// logged-in host.
type repoHub struct {
	*kojiHub
	top   string
	admin *koji.Client
	host  *koji.Client
	tagID int64
}

func startRepoHub(t *testing.T, dsn string, edit func(*hubserver.KojiConfig)) *repoHub {
	top := t.TempDir()
	kh := startKoji(t, dsn, func(c *hubserver.KojiConfig) {
		c.TopDir = top
		if edit != nil {
			edit(c)
		}
	})
	admin := kh.sslClient(t, "")
	tagID := call(t, admin, "createTag", []any{"f40-build"}, map[string]any{"arches": "x86_64"}).(int64)
	return &repoHub{kojiHub: kh, top: top, admin: admin, host: builder(t, kh, admin, "builder1"), tagID: tagID}
}

// repoFields are the members of a RepoQuery row with every field
// (repos.py's RepoQuery.fieldmap), as getRepo, repoInfo and repo.get
// answer them.
var repoFields = []string{"begin_event", "begin_ts", "create_event", "create_ts", "creation_time", "creation_ts",
	"custom_opts", "dist", "end_event", "end_ts", "id", "opts", "state", "state_time", "state_ts", "tag_id",
	"tag_name", "task_id", "task_state"}

// initRepo opens a newRepo task on the host and makes its INIT repo.
func (rh *repoHub) initRepo(t *testing.T, task int64) int64 {
	t.Helper()
	call(t, rh.host, "host.openTask", []any{task}, nil)
	res := call(t, rh.host, "host.repoInit", []any{rh.tagID}, map[string]any{"task_id": task}).([]any)
	require.Len(t, res, 2)
	return res[0].(int64)
}

// finishRepo uploads repodata for x86_64 and calls host.repoDone.
func (rh *repoHub) finishRepo(t *testing.T, task, repoID int64) {
	t.Helper()
	dir := fmt.Sprintf("tasks/%d/%d/x86_64", task%10000, task)
	for _, name := range []string{"repomd.xml", "primary.xml.gz"} {
		require.NoError(t, rh.host.Upload(context.Background(), strings.NewReader("data of "+name), dir, name, nil))
	}
	data := map[string]any{"x86_64": []any{dir, []any{"repomd.xml", "primary.xml.gz"}}}
	assert.Nil(t, call(t, rh.host, "host.repoDone", []any{repoID, data}, nil))
}

// TestRepoBuilderFlow drives what a builder's newRepo task does: regen-repo
// makes the task, the host opens it, initializes the repo, uploads the
// repodata and finishes the repo, which getRepo and repoInfo then answer
// READY with RepoQuery's members; the files are in place and latest
// points at the repo.
func TestRepoBuilderFlow(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		rh := startRepoHub(t, dsn, nil)
		task := call(t, rh.admin, "newRepo", []any{"f40-build"}, map[string]any{"debuginfo": true}).(int64)
		info := call(t, rh.admin, "getTaskInfo", []any{task}, map[string]any{"request": true}).(map[string]any)
		assert.Equal(t, "newRepo", info["method"])
		assert.Equal(t, int64(15), info["priority"])
		assert.Equal(t, []any{"f40-build", map[string]any{"debuginfo": true, "__starstar": true}}, info["request"])
		ch := call(t, rh.admin, "getChannel", []any{info["channel_id"]}, nil).(map[string]any)
		assert.Equal(t, "createrepo", ch["name"])

		// The scheduler assigns it to a builder of the createrepo channel.
		call(t, rh.admin, "addHostToChannel", []any{"builder1", "createrepo"}, nil)
		call(t, rh.host, "host.updateHost", []any{0.0, true}, map[string]any{"data": map[string]any{"methods": []any{"newRepo"}, "maxjobs": 5}})
		call(t, rh.admin, "scheduler.doRun", nil, map[string]any{"force": true})
		assigned := call(t, rh.host, "host.getTasks", nil, nil).([]any)
		require.Len(t, assigned, 1)
		assert.Equal(t, task, assigned[0].(map[string]any)["id"])
		assert.Equal(t, int64(koji.TaskAssigned), assigned[0].(map[string]any)["state"])

		repoID := rh.initRepo(t, task)
		dir := filepath.Join(rh.top, "repos", "f40-build", fmt.Sprint(repoID))
		for _, f := range []string{"groups/comps.xml", "x86_64/pkglist", "x86_64/rpmlist.jsonl", "x86_64/blocklist"} {
			_, err := os.Stat(filepath.Join(dir, f))
			assert.NoError(t, err, f)
		}
		link, err := os.Readlink(filepath.Join(dir, "x86_64", "toplink"))
		require.NoError(t, err)
		assert.Equal(t, "../../../..", link)
		var repoJSON map[string]any
		data, err := os.ReadFile(filepath.Join(dir, "repo.json"))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(data, &repoJSON))
		assert.Equal(t, []string{"custom_opts", "event_id", "id", "opts", "tag", "tag_id", "task_id", "with_debuginfo",
			"with_separate_src", "with_src"}, keys(t, repoJSON))
		assert.Equal(t, "f40-build", repoJSON["tag"])
		assert.True(t, strings.HasPrefix(string(data), "{\n  \"id\": "), "repo.json keeps repo_init's order")

		r := call(t, rh.admin, "repoInfo", []any{repoID}, nil).(map[string]any)
		assert.Equal(t, repoFields, keys(t, r))
		assert.Equal(t, int64(0), r["state"])
		assert.Nil(t, call(t, rh.admin, "getRepo", []any{"f40-build"}, nil), "no READY repo yet")

		rh.finishRepo(t, task, repoID)
		r = call(t, rh.admin, "repoInfo", []any{repoID}, nil).(map[string]any)
		assert.Equal(t, int64(1), r["state"])
		assert.Equal(t, "f40-build", r["tag_name"])
		assert.Equal(t, task, r["task_id"])
		assert.Equal(t, int64(koji.TaskOpen), r["task_state"])
		assert.Equal(t, false, r["dist"])
		assert.Equal(t, map[string]any{"src": false, "debuginfo": false, "separate_src": false, "maven": false}, r["opts"])
		assert.Equal(t, map[string]any{}, r["custom_opts"])
		assert.IsType(t, "", r["creation_time"])
		assert.IsType(t, "", r["state_time"])
		for _, f := range []string{"creation_ts", "state_ts", "create_ts", "begin_ts"} {
			assert.IsType(t, float64(0), r[f], f)
		}
		assert.Nil(t, r["end_event"], "the tag did not change since")
		got := call(t, rh.admin, "getRepo", []any{"f40-build"}, nil).(map[string]any)
		assert.Equal(t, repoID, got["id"])
		assert.Equal(t, repoFields, keys(t, got))
		assert.Equal(t, repoID, call(t, rh.admin, "repo.get", []any{rh.tagID}, nil).(map[string]any)["id"])

		for _, name := range []string{"repomd.xml", "primary.xml.gz"} {
			b, err := os.ReadFile(filepath.Join(dir, "x86_64", "repodata", name))
			require.NoError(t, err)
			assert.Equal(t, "data of "+name, string(b))
			_, err = os.Stat(filepath.Join(rh.top, "work", fmt.Sprintf("tasks/%d/%d/x86_64", task%10000, task), name))
			assert.True(t, os.IsNotExist(err), "moved, not copied")
		}
		link, err = os.Readlink(filepath.Join(rh.top, "repos", "f40-build", "latest"))
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprint(repoID), link)

		// A second repo with a custom option does not take latest.
		task2 := call(t, rh.admin, "newRepo", []any{"f40-build"}, map[string]any{"src": true}).(int64)
		call(t, rh.host, "host.openTask", []any{task2}, nil)
		res := call(t, rh.host, "host.repoInit", []any{rh.tagID}, map[string]any{"task_id": task2, "opts": map[string]any{"src": true}}).([]any)
		repo2 := res[0].(int64)
		rh.finishRepo(t, task2, repo2)
		link, err = os.Readlink(filepath.Join(rh.top, "repos", "f40-build", "latest"))
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprint(repoID), link)
		assert.Equal(t, repoID, call(t, rh.admin, "repo.get", []any{rh.tagID}, nil).(map[string]any)["id"],
			"the default options do not get a repo with custom ones")
		assert.Equal(t, repo2, call(t, rh.admin, "repo.get", []any{rh.tagID}, map[string]any{"opts": map[string]any{"src": true}}).(map[string]any)["id"])
		assert.Equal(t, repo2, call(t, rh.admin, "getRepo", []any{rh.tagID}, nil).(map[string]any)["id"], "getRepo takes the newest")

		// The tag changes: the next repo's begin event is that change,
		// and updateEndEvents closes the older ones.
		call(t, rh.admin, "editTag2", []any{"f40-build"}, map[string]any{"arches": "x86_64 aarch64"})
		assert.Nil(t, call(t, rh.admin, "repo.updateEndEvents", nil, nil))
		last := call(t, rh.admin, "tagLastChangeEvent", []any{"f40-build"}, nil)
		r = call(t, rh.admin, "repoInfo", []any{repoID}, nil).(map[string]any)
		assert.Equal(t, last, r["end_event"])
		assert.Equal(t, last, call(t, rh.admin, "tagFirstChangeEvent", []any{"f40-build"}, map[string]any{"after": r["create_event"]}))
		assert.Nil(t, call(t, rh.admin, "tagFirstChangeEvent", []any{"f40-build"}, map[string]any{"after": last}))

		// repo.query answers RepoQuery views.
		rows := call(t, rh.admin, "repo.query", []any{[]any{[]any{"tag_id", rh.tagID}}}, map[string]any{"fields": []any{"id", "state"},
			"opts": map[string]any{"order": "-id"}}).([]any)
		assert.Equal(t, []any{map[string]any{"id": repo2, "state": int64(1)}, map[string]any{"id": repoID, "state": int64(1)}}, rows)
	})
}

// TestRepoStates: the state rules of repo_set_state through repoExpire,
// repoProblem, repoDelete and repo.setState, with upstream's faults.
func TestRepoStates(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		rh := startRepoHub(t, dsn, nil)
		task := call(t, rh.admin, "newRepo", []any{"f40-build"}, nil).(int64)
		id := rh.initRepo(t, task)
		rh.finishRepo(t, task, id)
		// A live buildroot keeps the repo from deletion.
		br := call(t, rh.host, "host.newBuildRoot", []any{id, "x86_64"}, map[string]any{"task_id": task}).(int64)
		assert.Equal(t, int64(1), call(t, rh.admin, "repoDelete", []any{id}, nil))
		refs := call(t, rh.admin, "repo.references", []any{id}, nil).([]any)
		require.Len(t, refs, 1)
		assert.Equal(t, br, refs[0].(map[string]any)["id"])
		assert.Equal(t, []string{"create_event", "host_id", "id", "state", "task_id"}, keys(t, refs[0]))
		call(t, rh.host, "host.setBuildRootState", []any{br, 3}, map[string]any{"task_id": task})
		assert.Empty(t, call(t, rh.admin, "repo.references", []any{id}, nil), "an expired buildroot is retired")
		assert.Equal(t, int64(1), call(t, rh.admin, "repoInfo", []any{id}, nil).(map[string]any)["state"], "still READY")
		assert.Equal(t, fmt.Sprintf("Repo %d not in INIT state (got 1)", id), faultString(t, rh.host, koji.ErrGeneric,
			"host.repoDone", []any{id, map[string]any{}}, nil))
		assert.Equal(t, fmt.Sprintf("Invalid repo state transition for repo %d: READY -> INIT", id),
			faultString(t, rh.admin, koji.ErrGeneric, "repo.setState", []any{id, 0}, nil))
		assert.Equal(t, "Unknown repo state: 9", faultString(t, rh.admin, koji.ErrParameter, "repo.setState", []any{id, 9}, nil))
		assert.Nil(t, call(t, rh.admin, "repoExpire", []any{id}, nil))
		assert.Nil(t, call(t, rh.admin, "repoExpire", []any{id}, nil), "the same state is a no-op")
		assert.Nil(t, call(t, rh.admin, "repoProblem", []any{id}, nil))
		assert.Equal(t, int64(0), call(t, rh.admin, "repoDelete", []any{id}, nil))
		assert.Equal(t, fmt.Sprintf("Repo %d is deleted", id), faultString(t, rh.admin, koji.ErrGeneric, "repoProblem", []any{id}, nil))
		assert.Equal(t, int64(3), call(t, rh.admin, "repoInfo", []any{id}, nil).(map[string]any)["state"])
		assert.Equal(t, "query returned no rows", faultString(t, rh.admin, koji.ErrGeneric, "repoExpire", []any{999}, nil))
		assert.Nil(t, call(t, rh.admin, "repoInfo", []any{999}, nil))
		assert.Equal(t, "query returned no rows", faultString(t, rh.admin, koji.ErrGeneric, "repoInfo", []any{999, true}, nil))
	})
}

// TestRepoErrors: bad calls fault as upstream's do and change nothing.
func TestRepoErrors(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		rh := startRepoHub(t, dsn, nil)
		bob := rh.client(t)
		call(t, rh.admin, "createUser", []any{"bob"}, nil)
		require.NoError(t, rh.koji.SetPassword(ctx, "bob", "secret"))
		require.NoError(t, bob.Login(ctx, &auth.Password{User: "bob", Password: "secret"}))
		anon := rh.client(t)

		assert.Equal(t, "No such tagInfo: 'nope'", faultString(t, rh.admin, koji.ErrGeneric, "newRepo", []any{"nope"}, nil))
		assert.Equal(t, "regen-repo permission required (logged in as bob)",
			faultString(t, bob, koji.ErrActionNotAllowed, "newRepo", []any{"f40-build"}, nil))
		assert.Equal(t, "regen-repo permission required (user not logged in)",
			faultString(t, anon, koji.ErrActionNotAllowed, "newRepo", []any{"f40-build"}, nil))
		call(t, rh.admin, "grantPermission", []any{"bob", "regen-repo"}, map[string]any{"create": true})
		assert.IsType(t, int64(0), call(t, bob, "newRepo", []any{"f40-build"}, nil), "regen-repo suffices")
		for _, m := range []string{"repoExpire", "repoProblem", "repoDelete", "repo.checkQueue", "repo.setState"} {
			args := []any{1}
			if m == "repo.checkQueue" {
				args = nil
			} else if m == "repo.setState" {
				args = []any{1, 2}
			}
			assert.Equal(t, "repo permission required (logged in as bob)", faultString(t, bob, koji.ErrActionNotAllowed, m, args, nil), m)
		}
		assert.Equal(t, "you must be logged in for this operation",
			faultString(t, anon, koji.ErrActionNotAllowed, "repo.request", []any{"f40-build"}, nil))
		assert.Equal(t, "Invalid repo option: foo", faultString(t, bob, koji.ErrParameter, "repo.request", []any{"f40-build"},
			map[string]any{"opts": map[string]any{"foo": true}}))
		assert.Equal(t, "Repo opts must be a dictionary", faultString(t, bob, koji.ErrParameter, "repo.get", []any{"f40-build"},
			map[string]any{"opts": "src"}))
		assert.Equal(t, "The min_event and at_event options conflict", faultString(t, bob, koji.ErrParameter, "repo.request",
			[]any{"f40-build"}, map[string]any{"min_event": 1, "at_event": 1}))
		assert.Equal(t, "Invalid event: 9999", faultString(t, bob, koji.ErrParameter, "repo.request", []any{"f40-build"},
			map[string]any{"min_event": 9999}))
		assert.Equal(t, "only admins may create high-priority requests", faultString(t, bob, koji.ErrActionNotAllowed,
			"repo.request", []any{"f40-build"}, map[string]any{"priority": -1}))
		assert.Equal(t, "Maven support not enabled", faultString(t, bob, koji.ErrGeneric, "repo.request", []any{"f40-build"},
			map[string]any{"opts": map[string]any{"maven": true}}))
		assert.Equal(t, "No such request", faultString(t, bob, koji.ErrGeneric, "repo.checkRequest", []any{999}, nil))
		assert.Equal(t, "No such entry in table tag: nope", faultString(t, bob, koji.ErrGeneric, "getRepo", []any{"nope"}, nil))
		assert.Empty(t, call(t, rh.admin, "repo.queryQueue", nil, nil), "no request was made")
		assert.Contains(t, faultString(t, rh.admin, koji.ErrAuth, "host.repoInit", []any{"f40-build"}, nil), "is not a host")

		// repoDone refuses paths leaving the work directory, and missing
		// files, before moving anything.
		task := call(t, rh.admin, "newRepo", []any{"f40-build"}, nil).(int64)
		id := rh.initRepo(t, task)
		dir := fmt.Sprintf("tasks/%d/%d/x86_64", task%10000, task)
		require.NoError(t, rh.host.Upload(ctx, strings.NewReader("x"), dir, "repomd.xml", nil))
		for _, c := range []struct {
			data any
			want string
		}{
			{map[string]any{"x86_64": []any{"../../etc", []any{"passwd"}}}, "Invalid upload path: ../../etc"},
			{map[string]any{"x86_64": []any{"/etc", []any{"passwd"}}}, "Invalid upload path: /etc"},
			{map[string]any{"x86_64": []any{dir, []any{"../../../../etc/passwd"}}}, "Invalid file name: ../../../../etc/passwd"},
			{map[string]any{"x86_64": []any{dir, []any{"repomd.xml", "missing.xml"}}},
				"uploaded file missing: " + filepath.Join(rh.top, "work", dir, "missing.xml")},
			{map[string]any{"aarch64": []any{dir, []any{"repomd.xml"}}},
				"Repo arch directory missing: " + filepath.Join(rh.top, "repos", "f40-build", fmt.Sprint(id), "aarch64")},
			{map[string]any{"x86_64": "nope"}, "Invalid repo data for arch x86_64: 'nope'"},
		} {
			assert.Equal(t, c.want, faultString(t, rh.host, koji.ErrGeneric, "host.repoDone", []any{id, c.data}, nil))
		}
		assert.Equal(t, "Invalid type for value 'x': <class 'str'>, expected type <class 'dict'>",
			faultString(t, rh.host, koji.ErrParameter, "host.repoDone", []any{id, "x"}, nil))
		assert.Equal(t, int64(0), call(t, rh.admin, "repoInfo", []any{id}, nil).(map[string]any)["state"], "still INIT")
		_, err := os.Stat(filepath.Join(rh.top, "work", dir, "repomd.xml"))
		assert.NoError(t, err, "the upload stays where it was")
		_, err = os.Stat(filepath.Join(rh.top, "repos", "f40-build", fmt.Sprint(id), "x86_64", "repodata"))
		assert.True(t, os.IsNotExist(err))

		// A failing repoInit leaves no repo row or directory behind.
		assert.Equal(t, "query returned no rows", faultString(t, rh.host, koji.ErrGeneric, "host.repoInit", []any{"f40-build"},
			map[string]any{"event": 99999}))
		assert.Equal(t, "No such tagInfo: 'nope'", faultString(t, rh.host, koji.ErrGeneric, "host.repoInit", []any{"nope"}, nil))
		rows := call(t, rh.admin, "repo.query", []any{[]any{}}, map[string]any{"fields": "id"}).([]any)
		assert.Equal(t, []any{map[string]any{"id": id}}, rows)
		entries, err := os.ReadDir(filepath.Join(rh.top, "repos", "f40-build"))
		require.NoError(t, err)
		assert.Len(t, entries, 1)
	})
	t.Run("disabled", func(t *testing.T) {
		kh := startKoji(t, filepath.Join(t.TempDir(), "hub.db"), func(c *hubserver.KojiConfig) {
			c.TopDir = t.TempDir()
			c.Repos.DisableNewRepo = true
		})
		admin := kh.sslClient(t, "")
		call(t, admin, "createTag", []any{"f40-build"}, nil)
		assert.Equal(t, "newRepo api call is disabled", faultString(t, admin, koji.ErrActionNotAllowed, "newRepo", []any{"f40-build"}, nil))
	})
}

// TestRepoMethodSignatures compares the repo methods' signatures with
// Koji 1.35.3's method list.
func TestRepoMethodSignatures(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "koji", "testdata", "koji-1.35.3-methods.txt"))
	require.NoError(t, err)
	defer f.Close()
	upstream := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if name, args, ok := strings.Cut(sc.Text(), "("); ok {
			upstream[name] = "(" + args
		}
	}
	require.NoError(t, sc.Err())
	kh := startKoji(t, filepath.Join(t.TempDir(), "hub.db"), nil)
	byName := listAPI(t, kh)
	for _, name := range []string{"host.repoInit", "host.repoDone", "newRepo", "getRepo", "repoInfo", "repoExpire",
		"repoDelete", "repoProblem", "tagFirstChangeEvent", "repo.references", "repo.request", "repo.get", "repo.checkRequest",
		"repo.setRequestPriority", "repo.setState", "repo.query", "repo.queryQueue", "repo.checkQueue", "repo.autoRequests", "repo.updateEndEvents",
		"repo.getExternalRepoData", "repo.setExternalRepoData"} {
		require.Contains(t, upstream, name)
		require.Contains(t, byName, name)
		assert.Equal(t, upstream[name], byName[name]["argdesc"], name)
	}
}

// TestRepoInitLists: repoInit writes the tag's latest builds' RPMs into
// each arch's pkglist and rpmlist.jsonl as upstream sorts them (noarch
// everywhere, sources and debuginfo only when asked for, other arches
// dropped), and the blocked packages into the blocklist.
func TestRepoInitLists(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		rh := startRepoHub(t, dsn, nil)
		for _, p := range []string{"hello", "gone"} {
			call(t, rh.admin, "packageListAdd", []any{"f40-build", p}, map[string]any{"owner": "kojiadmin"})
		}
		call(t, rh.admin, "packageListBlock", []any{"f40-build", "gone"}, nil)
		for _, nvr := range [][3]string{{"hello", "1.0", "1"}, {"hello", "1.1", "1"}} {
			taskTx(t, rh.kojiHub, 1, func(ctx context.Context) error {
				id, err := rh.koji.NewBuildForTest(ctx, nvr[0], nvr[1], nvr[2], 1, 1, 0)
				if err != nil {
					return err
				}
				for _, r := range [][2]string{{"hello", "x86_64"}, {"hello", "src"}, {"hello-debuginfo", "x86_64"},
					{"hello-doc", "noarch"}, {"hello", "aarch64"}} {
					if _, err := rh.koji.AddRPMForTest(ctx, id, r[0], r[1]); err != nil {
						return err
					}
				}
				return nil
			})
			call(t, rh.admin, "tagBuildBypass", []any{"f40-build", nvr[0] + "-" + nvr[1] + "-" + nvr[2]}, nil)
		}
		read := func(id int64, rel string) string {
			b, err := os.ReadFile(filepath.Join(rh.top, "repos", "f40-build", fmt.Sprint(id), rel))
			require.NoError(t, err)
			return string(b)
		}
		task := call(t, rh.admin, "newRepo", []any{"f40-build"}, nil).(int64)
		id := rh.initRepo(t, task)
		assert.Equal(t, "toplink/packages/hello/1.1/1/x86_64/hello-1.1-1.x86_64.rpm\n"+
			"toplink/packages/hello/1.1/1/noarch/hello-doc-1.1-1.noarch.rpm\n", read(id, "x86_64/pkglist"), "the latest build only")
		assert.Equal(t, "gone\n", read(id, "x86_64/blocklist"))
		lines := strings.Split(strings.TrimSpace(read(id, "x86_64/rpmlist.jsonl")), "\n")
		require.Len(t, lines, 2)
		var r map[string]any
		require.NoError(t, json.Unmarshal([]byte(lines[0]), &r))
		assert.Equal(t, "hello", r["name"])
		assert.Equal(t, "f40-build", r["tag_name"])

		call(t, rh.host, "host.repoInit", []any{"f40-build"}, map[string]any{"opts": map[string]any{"src": true, "debuginfo": true, "separate_src": true}})
		id2 := id + 1
		assert.Equal(t, "toplink/packages/hello/1.1/1/x86_64/hello-1.1-1.x86_64.rpm\n"+
			"toplink/packages/hello/1.1/1/src/hello-1.1-1.src.rpm\n"+
			"toplink/packages/hello/1.1/1/x86_64/hello-debuginfo-1.1-1.x86_64.rpm\n"+
			"toplink/packages/hello/1.1/1/noarch/hello-doc-1.1-1.noarch.rpm\n", read(id2, "x86_64/pkglist"))
		assert.Equal(t, "toplink/packages/hello/1.1/1/src/hello-1.1-1.src.rpm\n", read(id2, "src/pkglist"))
		r2 := call(t, rh.admin, "repoInfo", []any{id2}, nil).(map[string]any)
		assert.Equal(t, map[string]any{"src": true, "debuginfo": true, "separate_src": true}, r2["custom_opts"])
		assert.Nil(t, r2["task_id"])
	})
}
