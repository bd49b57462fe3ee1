package hubserver_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
)

// rpmMembers and archiveMembers are the members of listRPMs' and
// listArchives' rows (upstream's list_rpms and list_archives fields).
var (
	rpmMembers = []string{"id", "name", "version", "release", "nvr", "arch", "epoch", "draft", "payloadhash", "size",
		"buildtime", "build_id", "buildroot_id", "external_repo_id", "external_repo_name", "metadata_only", "extra"}
	archiveMembers = []string{"id", "type_id", "btype_id", "btype", "build_id", "buildroot_id", "filename", "size",
		"checksum", "checksum_type", "metadata_only", "extra", "type_name", "type_description", "type_extensions",
		"compression_type"}
)

func memberNames(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestKojiListBuildsAndRPMs(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		seedFixtureBuilds(t, admin) // foo-1.0-1, bar-2.0-3.el9 (testuser), wirepkg-1.0-1
		task, err := admin.MakeTask(ctx, "build", []any{"src", "target"}, nil)
		require.NoError(t, err)
		var tasked int64
		taskTx(t, kh, 1, func(ctx context.Context) (err error) {
			if tasked, err = kh.koji.NewBuildForTest(ctx, "foo_x", "2.0", "1", store.BuildComplete, 1, int64(task)); err != nil {
				return err
			}
			if _, err = kh.koji.AddRPMForTest(ctx, tasked, "foo_x", "x86_64"); err != nil {
				return err
			}
			if _, err = kh.koji.AddRPMForTest(ctx, tasked, "foo_x", "src"); err != nil {
				return err
			}
			_, err = kh.koji.AddArchiveForTest(ctx, tasked, "foo_x.tar.gz")
			return err
		})
		anon := kh.client(t)
		nvrs := func(kw map[string]any) []string {
			t.Helper()
			var rows []map[string]any
			require.NoError(t, anon.CallKw(ctx, "listBuilds", &rows, nil, kw))
			out := []string{}
			for _, r := range rows {
				out = append(out, r["nvr"].(string))
			}
			return out
		}
		assert.Equal(t, []string{"foo-1.0-1", "bar-2.0-3.el9", "wirepkg-1.0-1", "foo_x-2.0-1"}, nvrs(nil))
		assert.Equal(t, []string{"bar-2.0-3.el9"}, nvrs(map[string]any{"userID": "testuser"}))
		assert.Equal(t, []string{}, nvrs(map[string]any{"userID": "nobody"}))
		assert.Equal(t, []string{"foo-1.0-1"}, nvrs(map[string]any{"packageID": "foo"}))
		assert.Equal(t, []string{}, nvrs(map[string]any{"packageID": 99}))
		assert.Equal(t, []string{"foo_x-2.0-1"}, nvrs(map[string]any{"taskID": -1}))
		assert.Equal(t, []string{"foo_x-2.0-1"}, nvrs(map[string]any{"taskID": task}))
		// prefix is not escaped upstream: "_" is any one character
		assert.Equal(t, []string{"foo_x-2.0-1"}, nvrs(map[string]any{"prefix": "FOO_"}))
		assert.Equal(t, []string{"foo-1.0-1", "foo_x-2.0-1"}, nvrs(map[string]any{"prefix": "f_o"}))
		assert.Equal(t, []string{"foo_x-2.0-1"}, nvrs(map[string]any{"pattern": "foo_*"}))
		assert.Equal(t, []string{"bar-2.0-3.el9"}, nvrs(map[string]any{"pattern": "*.el?"}))
		assert.Equal(t, []string{}, nvrs(map[string]any{"state": 0}))
		assert.Equal(t, []string{}, nvrs(map[string]any{"draft": true}))
		assert.Equal(t, []string{"wirepkg-1.0-1"}, nvrs(map[string]any{"createdAfter": 1.0, "queryOpts": map[string]any{"order": "-nvr", "limit": 1}}))
		assert.Equal(t, []string{}, nvrs(map[string]any{"completeBefore": "2000-01-01 00:00:00"}))
		assert.Equal(t, []string{}, nvrs(map[string]any{"type": "maven"}))
		assert.Equal(t, []string{}, nvrs(map[string]any{"type": "rpm"}))
		assert.Equal(t, []string{}, nvrs(map[string]any{"cgID": "nope"}))
		assert.Equal(t, "unsupported build type: bogus", faultString(t, anon, koji.ErrGeneric, "listBuilds", nil, map[string]any{"type": "bogus"}))
		assert.Equal(t, "<class 'Exception'>: Invalid order: bogus", faultString(t, anon, 1, "listBuilds", nil, map[string]any{"queryOpts": map[string]any{"order": "bogus"}}))
		var n int64
		require.NoError(t, anon.CallKw(ctx, "listBuilds", &n, nil, map[string]any{"prefix": "foo", "queryOpts": map[string]any{"countOnly": true}}))
		assert.Equal(t, int64(2), n)
		builds, err := anon.ListBuilds(ctx, &koji.ListBuildsOptions{UserID: "testuser"})
		require.NoError(t, err)
		require.Len(t, builds, 1)
		assert.Equal(t, 2, *builds[0].Epoch)

		// average duration: only builds with a task count
		d, ok, err := anon.GetAverageBuildDuration(ctx, "foo_x", nil)
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Less(t, d.Seconds(), 60.0)
		_, ok, err = anon.GetAverageBuildDuration(ctx, "foo", nil)
		require.NoError(t, err)
		assert.False(t, ok, "foo has no task")
		_, ok, err = anon.GetAverageBuildDuration(ctx, "nope", &koji.AverageBuildDurationOptions{Age: 3})
		require.NoError(t, err)
		assert.False(t, ok)
		var avg any
		require.NoError(t, anon.Call(ctx, "getAverageBuildDuration", &avg, tasked, 1))
		assert.IsType(t, float64(0), avg)

		// RPMs and archives
		rpms, err := anon.ListRPMs(ctx, &koji.ListRPMsOptions{BuildID: int(tasked)})
		require.NoError(t, err)
		require.Len(t, rpms, 2)
		assert.Equal(t, "foo_x-2.0-1.x86_64", rpms[0].NVRA())
		var rows []map[string]any
		require.NoError(t, anon.CallKw(ctx, "listRPMs", &rows, nil, map[string]any{"buildID": tasked, "arches": "src"}))
		require.Len(t, rows, 1)
		assert.ElementsMatch(t, rpmMembers, memberNames(rows[0]))
		assert.Equal(t, "INTERNAL", rows[0]["external_repo_name"])
		assert.Equal(t, `Invalid type for "arches" parameter: <class 'int'>`,
			faultString(t, anon, koji.ErrGeneric, "listRPMs", nil, map[string]any{"arches": 3}))
		require.NoError(t, anon.Call(ctx, "listBuildRPMs", &rows, "foo_x-2.0-1"))
		assert.Len(t, rows, 2)
		assert.Equal(t, "No such build: 'nope-1-1'", faultString(t, anon, koji.ErrGeneric, "listBuildRPMs", []any{"nope-1-1"}, nil))

		var rpm map[string]any
		require.NoError(t, anon.Call(ctx, "getRPM", &rpm, "foo_x-2.0-1.src.rpm"))
		assert.Equal(t, "src", rpm["arch"])
		assert.ElementsMatch(t, rpmMembers, append(memberNames(rpm), "nvr"))
		require.NoError(t, anon.Call(ctx, "getRPM", &rpm, rows[0]["id"]))
		assert.Equal(t, rows[0]["id"], rpm["id"])
		require.NoError(t, anon.Call(ctx, "getRPM", &rpm, 999))
		assert.Nil(t, rpm)
		assert.Equal(t, "No such rpm: {'id': 999}", faultString(t, anon, koji.ErrGeneric, "getRPM", []any{999}, map[string]any{"strict": true}))
		assert.Equal(t, "invalid format: foo", faultString(t, anon, koji.ErrGeneric, "getRPM", []any{"foo"}, nil))
		var multi []any
		require.NoError(t, anon.CallKw(ctx, "getRPM", &multi, []any{map[string]any{"name": "foo_x", "version": "2.0", "release": "1", "arch": "x86_64"}},
			map[string]any{"multi": true}))
		assert.Len(t, multi, 1)

		var archives []map[string]any
		require.NoError(t, anon.CallKw(ctx, "listArchives", &archives, nil, map[string]any{"buildID": tasked}))
		require.Len(t, archives, 1)
		assert.ElementsMatch(t, archiveMembers, memberNames(archives[0]))
		assert.Equal(t, "tar", archives[0]["type_name"])
		require.NoError(t, anon.CallKw(ctx, "listArchives", &archives, nil, map[string]any{"type": "maven"}))
		assert.Empty(t, archives)
		assert.Equal(t, "No archives found.", faultString(t, anon, koji.ErrGeneric, "listArchives", nil, map[string]any{"buildID": 1, "strict": true}))
		assert.Equal(t, "unsupported archive type: bogus", faultString(t, anon, koji.ErrGeneric, "listArchives", nil, map[string]any{"type": "bogus"}))
	})
}
