package hubserver_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/auth"
	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/koji"
)

// TestKojiMoveBuilds: moveBuild is tagBuild from the first tag;
// moveAllBuilds checks what tagBuild checks, then chains one
// dependantTask per build of the package in the first tag, oldest
// tagging first, each waiting for the one before and holding a tagBuild
// of priority 15, as upstream's tasks are; with upstream's faults.
func TestKojiMoveBuilds(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		kh := startKoji(t, dsn, func(c *hubserver.KojiConfig) { c.AdminPassword = "secret" })
		admin := kh.sslClient(t, "")
		ids := map[string]int64{}
		for _, tag := range []string{"src", "dst", "other"} {
			ids[tag] = call(t, admin, "createTag", []any{tag}, nil).(int64)
		}
		for _, tag := range []string{"src", "dst"} {
			call(t, admin, "packageListAdd", []any{tag, "foo", "kojiadmin"}, nil)
		}
		var builds []int64
		for _, rel := range []string{"1", "2", "3"} {
			id := call(t, admin, "createEmptyBuild", []any{"foo", "1.0", rel, nil}, nil).(int64)
			builds = append(builds, id)
			call(t, admin, "tagBuildBypass", []any{"src", id}, nil)
		}
		request := func(task int64) (string, []any) {
			info := call(t, admin, "getTaskInfo", []any{task}, map[string]any{"request": true}).(map[string]any)
			return info["method"].(string), info["request"].([]any)
		}

		one := call(t, admin, "moveBuild", []any{"src", "dst", "foo-1.0-3"}, nil).(int64)
		method, req := request(one)
		assert.Equal(t, "tagBuild", method)
		assert.Equal(t, []any{ids["dst"], builds[2], false, ids["src"]}, req)

		tasks := call(t, admin, "moveAllBuilds", []any{"src", "dst", "foo"}, nil).([]any)
		require.Len(t, tasks, 3)
		for i, task := range tasks {
			method, req := request(task.(int64))
			assert.Equal(t, "dependantTask", method)
			wait := []any{}
			if i > 0 {
				wait = []any{tasks[i-1]}
			}
			assert.Equal(t, []any{wait, []any{[]any{"tagBuild", []any{ids["dst"], builds[i], false, ids["src"]},
				map[string]any{"priority": int64(15)}}}}, req, "task %d", i)
		}
		assert.Equal(t, []any{}, call(t, admin, "moveAllBuilds", []any{"dst", "src", "foo"}, nil), "nothing tagged in dst")

		assert.Equal(t, "Package foo not in list for tag other",
			faultString(t, admin, koji.ErrTag, "moveAllBuilds", []any{"src", "other", "foo"}, nil))
		forced := call(t, admin, "moveAllBuilds", []any{"src", "other", "foo"}, map[string]any{"force": true}).([]any)
		assert.Len(t, forced, 3, "an admin's force adds the package to the list")
		assert.NotNil(t, call(t, admin, "getPackageConfig", []any{"other", "foo"}, nil))
		assert.Equal(t, "No such entry in table package: nope",
			faultString(t, admin, koji.ErrGeneric, "moveAllBuilds", []any{"src", "dst", "nope"}, nil))
		assert.Equal(t, "No such entry in table tag: nosuch",
			faultString(t, admin, koji.ErrGeneric, "moveAllBuilds", []any{"nosuch", "dst", "foo"}, nil))
		assert.Equal(t, "you must be logged in for this operation",
			faultString(t, kh.client(t), koji.ErrActionNotAllowed, "moveAllBuilds", []any{"src", "dst", "foo"}, nil))
		out := runPySession(t, kh, []pyCall{
			pycall("moveBuild", []any{"src", "dst", "foo-1.0-1"}, nil),
			pycall("moveAllBuilds", []any{"src", "dst", "foo"}, map[string]any{"force": false}),
		})
		require.Nil(t, out[0].Fault)
		require.Nil(t, out[1].Fault)
		assert.Equal(t, "int", out[0].Types)
		assert.Equal(t, map[string]any{"list": []any{"int"}}, out[1].Types)

		call(t, admin, "editTag2", []any{"dst"}, map[string]any{"locked": true})
		call(t, admin, "createUser", []any{"carol"}, nil)
		require.NoError(t, kh.koji.SetPassword(t.Context(), "carol", "secret"))
		carol := kh.client(t)
		require.NoError(t, carol.Login(t.Context(), &auth.Password{User: "carol", Password: "secret"}))
		assert.Contains(t, faultString(t, carol, koji.ErrActionNotAllowed, "moveAllBuilds", []any{"src", "dst", "foo"}, nil),
			"tag is locked")
	})
	assertUpstreamSignatures(t, "moveBuild", "moveAllBuilds")
}
