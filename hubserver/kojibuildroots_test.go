package hubserver_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/koji"
)

// TestKojiHostBuildroots goes through a buildroot's life as kojid's
// BuildRoot drives it: created INIT for a task, its RPM list set, then
// BUILDING with updates to the list, then EXPIRED; with upstream's
// refusals along the way.
func TestKojiHostBuildroots(t *testing.T) {
	b := buildRPMs(t, "hello", "1.0", "1")
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		fh := startFilesHub(t, dsn, nil)
		// The RPMs of a build, to list as a buildroot's content.
		task := openHostTask(t, fh, "buildArch", "x", int64(1), "x86_64", false, map[string]any{})
		dir := "tasks/" + pyFmt(task) + "/" + pyFmt(task)
		files := upload(t, fh.host, dir, b.all()...)
		id := call(t, fh.host, "host.initBuild", []any{headerData(t, b.srpm, task)}, nil).(int64)
		call(t, fh.host, "host.completeBuild", []any{task, id, files[0], []any{files[1], files[2]}}, nil)
		rpms := call(t, fh.admin, "listRPMs", nil, map[string]any{"buildID": id}).([]any)
		nvra := func(i int) map[string]any {
			r := rpms[i].(map[string]any)
			return map[string]any{"name": r["name"], "version": r["version"], "release": r["release"], "epoch": nil,
				"arch": r["arch"], "payloadhash": r["payloadhash"], "size": r["size"], "buildtime": r["buildtime"]}
		}

		assert.Equal(t, "<class 'psycopg2.errors.NotNullViolation'>: null value in column \"task_id\" of relation \"standard_buildroot\" violates not-null constraint",
			faultString(t, fh.host, 1, "host.newBuildRoot", []any{1, "x86_64"}, nil))
		br := call(t, fh.host, "host.newBuildRoot", []any{1, "x86_64", task}, nil).(int64)
		assert.Equal(t, "buildroot "+pyFmt(br)+" in wrong state 0", faultString(t, fh.host, koji.ErrGeneric,
			"host.updateBuildRootList", []any{br, []any{nvra(1)}, task}, nil))
		call(t, fh.host, "host.setBuildRootList", []any{br, []any{nvra(1)}, task}, nil)
		assert.Equal(t, "Cannot change buildroot state to INIT", faultString(t, fh.host, koji.ErrGeneric,
			"host.setBuildRootState", []any{br, "INIT", task}, nil))
		assert.Equal(t, "<class 'KeyError'>: 'SOUP'", faultString(t, fh.host, 1, "host.setBuildRootState", []any{br, "SOUP"}, nil))
		call(t, fh.host, "host.setBuildRootState", []any{br, 2}, nil)
		assert.Equal(t, "buildroot "+pyFmt(br)+" in wrong state 2", faultString(t, fh.host, koji.ErrGeneric,
			"host.setBuildRootList", []any{br, []any{nvra(0)}}, nil))
		// An update lists what is new, once.
		call(t, fh.host, "host.updateBuildRootList", []any{br, []any{nvra(1), nvra(2), "hello-1.0-1.src"}, task}, nil)
		listing := call(t, fh.admin, "getBuildrootListing", []any{br}, nil).([]any)
		require.Len(t, listing, 3)
		for i, want := range []struct {
			arch   string
			update bool
		}{{"src", true}, {"x86_64", false}, {"noarch", true}} {
			row := listing[i].(map[string]any)
			assert.Equal(t, want.arch, row["arch"])
			assert.Equal(t, want.update, row["is_update"])
			assert.Equal(t, "INTERNAL", row["external_repo_name"])
		}
		assert.Contains(t, faultString(t, fh.host, koji.ErrGeneric, "host.updateBuildRootList",
			[]any{br, []any{map[string]any{"name": "absent", "version": "1", "release": "1", "arch": "x86_64"}}}, nil),
			"No such rpm: ")
		x86 := rpms[1].(map[string]any)["id"]
		withRPM := call(t, fh.admin, "listBuildroots", nil, map[string]any{"rpmID": x86}).([]any)
		require.Len(t, withRPM, 1)
		assert.Equal(t, false, withRPM[0].(map[string]any)["is_update"])
		assert.Equal(t, br, withRPM[0].(map[string]any)["id"])

		// Another host, or another task, has no hold on it.
		require.NoError(t, fh.admin.Call(ctx, "addHost", nil, "builder2", []any{"x86_64"}))
		b2 := hostClient(t, fh.kojiHub, "builder2")
		require.NoError(t, b2.Call(ctx, "exclusiveSession", nil))
		assert.Equal(t, "Host 2 not owner of buildroot "+pyFmt(br), faultString(t, b2, koji.ErrActionNotAllowed,
			"host.setBuildRootState", []any{br, "EXPIRED"}, nil))
		other := openHostTask(t, fh, "buildArch", "y", int64(1), "x86_64", false, map[string]any{})
		assert.Equal(t, "Task "+pyFmt(other)+" does not have lock on buildroot "+pyFmt(br), faultString(t, fh.host,
			koji.ErrActionNotAllowed, "host.setBuildRootState", []any{br, "EXPIRED", other}, nil))
		assert.Equal(t, "no buildroot with ID: 99", faultString(t, fh.host, koji.ErrGeneric, "host.setBuildRootState",
			[]any{99, "EXPIRED"}, nil))

		// Expired: retired at an event; expiring again is quietly ignored,
		// anything else refused.
		call(t, fh.host, "host.setBuildRootState", []any{br, "EXPIRED", task}, nil)
		root := call(t, fh.admin, "getBuildroot", []any{br}, nil).(map[string]any)
		assert.Equal(t, int64(3), root["state"])
		assert.NotNil(t, root["retire_event_id"])
		assert.NotNil(t, root["retire_ts"])
		call(t, fh.host, "host.setBuildRootState", []any{br, "EXPIRED"}, nil)
		assert.Equal(t, "buildroot "+pyFmt(br)+" is EXPIRED", faultString(t, fh.host, koji.ErrGeneric,
			"host.setBuildRootState", []any{br, "BUILDING"}, nil))
		assert.Nil(t, call(t, fh.admin, "getBuildroot", []any{99}, nil))
		assert.Equal(t, "No such buildroot: 99", faultString(t, fh.admin, koji.ErrGeneric, "getBuildroot", []any{99, true}, nil))
		assert.Len(t, call(t, fh.admin, "listBuildroots", nil, map[string]any{"hostID": fh.hostID, "state": []any{3}}), 1)
		assert.Empty(t, call(t, fh.admin, "listBuildroots", nil, map[string]any{"state": 2}))
		last := call(t, fh.admin, "listBuildroots", nil, map[string]any{"queryOpts": map[string]any{"order": "-id", "limit": 1}}).([]any)
		require.Len(t, last, 1)
		assert.Equal(t, br, last[0].(map[string]any)["id"])
		assert.Equal(t, int64(1), call(t, fh.admin, "listBuildroots", nil, map[string]any{"queryOpts": map[string]any{"countOnly": true}}))
	})
}
