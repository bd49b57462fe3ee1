package hubserver_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
)

// buildTimes are the members of a build that differ from a recording by
// when it was made.
var buildTimes = []string{"creation_event_id", "creation_time", "creation_ts", "start_time", "start_ts",
	"completion_time", "completion_ts"}

// seedFixtureBuilds creates the builds the recorded exchanges had: foo-1.0-1
// and bar-2.0-3.el9 (epoch 2, owned by testuser), then wirepkg-1.0-1.
func seedFixtureBuilds(t *testing.T, admin *koji.Client) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, admin.Call(ctx, "createUser", nil, "testuser"))
	id, err := admin.CreateEmptyBuild(ctx, "foo", "1.0", "1", nil, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, id)
	id, err = admin.CreateEmptyBuild(ctx, "bar", "2.0", "3.el9", koji.Ptr(2), &koji.CreateEmptyBuildOptions{Owner: "testuser"})
	require.NoError(t, err)
	assert.Equal(t, 2, id)
	var id3 int64
	require.NoError(t, admin.Call(ctx, "createEmptyBuild", &id3, recordedParams(t, "createEmptyBuild")...))
	assert.Equal(t, recorded(t, "createEmptyBuild"), id3)
}

func TestKojiBuildFixtures(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		seedFixtureBuilds(t, admin)
		anon := kh.client(t)

		for _, name := range []string{"getBuild", "getBuild_by_id", "getBuild_epoch"} {
			var b any
			require.NoError(t, anon.Call(ctx, "getBuild", &b, recordedParams(t, name)...))
			sameMembers(t, recorded(t, name), b, buildTimes...)
		}
		var b any
		require.NoError(t, anon.Call(ctx, "getBuild", &b, recordedParams(t, "getBuild_nonexistent")...))
		assert.Equal(t, recorded(t, "getBuild_nonexistent"), b)
		f := recordedFault(t, "getBuild_nonexistent_strict")
		assert.Equal(t, f.String, faultString(t, anon, koji.FaultClass(f.Code), "getBuild", []any{"no-such-build-1-1"},
			map[string]any{"strict": true}))
		assert.Equal(t, "No such build: 99", faultString(t, anon, koji.ErrGeneric, "getBuild", []any{99}, map[string]any{"strict": true}))
		assert.Equal(t, "invalid format: foo", faultString(t, anon, koji.ErrGeneric, "getBuild", []any{"foo"}, nil))
		assert.Equal(t, "did not provide name, version, and release",
			faultString(t, anon, koji.ErrGeneric, "getBuild", []any{map[string]any{"name": "foo"}}, nil))
		assert.Equal(t, "Invalid type for argument: <class 'float'>", faultString(t, anon, koji.ErrGeneric, "getBuild", []any{1.5}, nil))
		require.NoError(t, anon.Call(ctx, "getBuild", &b, map[string]any{"name": "bar", "version": "2.0", "release": "3.el9"}))
		assert.Equal(t, "bar-2.0-3.el9", b.(map[string]any)["nvr"])

		var pkg any
		require.NoError(t, anon.Call(ctx, "getPackage", &pkg, recordedParams(t, "getPackage")...))
		assert.Equal(t, recorded(t, "getPackage"), pkg)

		var list []any
		require.NoError(t, anon.CallKw(ctx, "listBuilds", &list, nil, recordedParams(t, "listBuilds_queryOpts")[0].(map[string]any)))
		want := recorded(t, "listBuilds_queryOpts").([]any)
		require.Len(t, list, len(want))
		for i := range want {
			sameMembers(t, want[i], list[i], buildTimes...)
		}

		// The typed client reads the same.
		got, err := anon.GetBuild(ctx, "bar-2.0-3.el9", nil)
		require.NoError(t, err)
		assert.Equal(t, 2, got.ID)
		assert.Equal(t, 2, *got.Epoch)
		assert.Equal(t, "testuser", got.OwnerName)
		assert.Equal(t, koji.BuildComplete, got.State)
		assert.False(t, got.Created().IsZero())
		missing, err := anon.GetBuild(ctx, 42, nil)
		require.NoError(t, err)
		assert.Nil(t, missing)
		builds, err := anon.ListBuilds(ctx, &koji.ListBuildsOptions{QueryOpts: &koji.QueryOpts{Order: "-build_id", Limit: 2}})
		require.NoError(t, err)
		require.Len(t, builds, 2)
		assert.Equal(t, "wirepkg-1.0-1", builds[0].NVR)
		p, err := anon.GetPackage(ctx, 2, nil)
		require.NoError(t, err)
		assert.Equal(t, &koji.Package{ID: 2, Name: "bar"}, p)
	})
}

func TestKojiPackages(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		anon := kh.client(t)
		p, err := anon.GetPackage(ctx, "nope", nil)
		require.NoError(t, err)
		assert.Nil(t, p)
		assert.Equal(t, "No such entry in table package: nope",
			faultString(t, anon, koji.ErrGeneric, "getPackage", []any{"nope"}, map[string]any{"strict": true}))
		assert.Equal(t, "Invalid name or id value: 1.5", faultString(t, anon, koji.ErrGeneric, "getPackage", []any{1.5}, nil))
		p, err = admin.GetPackage(ctx, "made", &koji.GetPackageOptions{Create: true})
		require.NoError(t, err)
		assert.Equal(t, &koji.Package{ID: 1, Name: "made"}, p)
		assert.Equal(t, "Name must be a string", faultString(t, admin, koji.ErrGeneric, "getPackage", []any{7}, map[string]any{"create": true}))
		var id any
		require.NoError(t, anon.Call(ctx, "getPackageID", &id, "made"))
		assert.Equal(t, int64(1), id)
		require.NoError(t, anon.Call(ctx, "getPackageID", &id, "nope"))
		assert.Nil(t, id)
		assert.Equal(t, "No such package name: nope",
			faultString(t, anon, koji.ErrGeneric, "getPackageID", []any{"nope"}, map[string]any{"strict": true}))
	})
}

// stateChanges records the build state callbacks.
type stateChanges struct {
	mu    sync.Mutex
	calls []string
	infos []map[string]any
}

func (s *stateChanges) record(ctx context.Context, name string, kw map[string]any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	info, _ := kw["info"].(map[string]any)
	str := func(v any) string {
		if v == nil {
			return "None"
		}
		return fmt.Sprint(v)
	}
	s.calls = append(s.calls, name+" "+str(kw["old"])+"->"+str(kw["new"]))
	s.infos = append(s.infos, info)
	return nil
}

func (s *stateChanges) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calls
	s.calls = nil
	return c
}

func TestKojiBuildRules(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		var changes stateChanges
		for _, n := range []string{"preBuildStateChange", "postBuildStateChange"} {
			require.NoError(t, kh.koji.RegisterCallback(n, changes.record, hubserver.CallbackOptions{}))
		}
		admin := kh.sslClient(t, "")
		bob := withBob(t, kh) // user 2

		assert.Equal(t, "admin permission required (logged in as bob)",
			bob.fault(t, 1, koji.ErrActionNotAllowed, "createEmptyBuild", "foo", "1", "1", nil))
		id, err := admin.CreateEmptyBuild(ctx, "foo", "1", "1", nil, nil)
		require.NoError(t, err)
		assert.Equal(t, []string{"preBuildStateChange None->1", "postBuildStateChange None->1"}, changes.take())
		assert.Equal(t, "Build already exists (id=1, state=COMPLETE): {'name': 'foo', 'version': '1', 'release': '1', "+
			"'epoch': None, 'draft': False, 'pkg_id': 1, 'extra': None, 'state': 1, 'start_time': 'NOW', "+
			"'completion_time': 'NOW', 'source': None, 'owner': 1, 'task_id': None, 'volume_id': 0}",
			faultString(t, admin, koji.ErrGeneric, "createEmptyBuild", []any{"foo", "1", "1", nil}, nil))
		assert.Equal(t, "No such user: 'nobody'", faultString(t, admin, koji.ErrGeneric, "createEmptyBuild",
			[]any{"foo", "2", "1", nil}, map[string]any{"owner": "nobody"}))
		assert.Equal(t, "No name or package id provided for build",
			faultString(t, admin, koji.ErrGeneric, "createEmptyBuild", []any{"", "2", "1", nil}, nil))

		// A draft build's release carries its id.
		draftID, err := admin.CreateEmptyBuild(ctx, "foo", "1", "1", nil, &koji.CreateEmptyBuildOptions{Draft: true})
		require.NoError(t, err)
		draft, err := admin.GetBuild(ctx, draftID, nil)
		require.NoError(t, err)
		assert.Equal(t, "1,draft_2", draft.Release)
		assert.True(t, draft.Draft)
		assert.Equal(t, map[string]any{"draft": map[string]any{"target_release": "1", "promoted": false}}, draft.Extra)
		changes.take()

		// A BUILDING build of bob's, made by a task; bob cancels it, which
		// cancels the task.
		task, err := admin.MakeTask(ctx, "build", []any{"src", "target"}, nil)
		require.NoError(t, err)
		var building int64
		taskTx(t, kh, 2, func(ctx context.Context) (err error) {
			building, err = kh.koji.NewBuildForTest(ctx, "bar", "1", "1", store.BuildBuilding, 2, int64(task))
			return err
		})
		taskTx(t, kh, 2, func(ctx context.Context) error {
			_, err := kh.koji.NewBuildForTest(ctx, "bar", "1", "1", store.BuildComplete, 2, 0)
			assert.Equal(t, "Build already in progress (task 1)", err.(*koji.Fault).String)
			return nil
		})
		changes.take()
		canceled, err := admin.CancelBuild(ctx, 99)
		require.NoError(t, err)
		assert.False(t, canceled)
		assert.Equal(t, "No such build: 99", faultString(t, admin, koji.ErrGeneric, "cancelBuild", []any{99}, map[string]any{"strict": true}))
		assert.Equal(t, "Not logged in", faultString(t, kh.client(t), koji.ErrAuth, "cancelBuild", []any{building}, nil))
		canceled, err = admin.CancelBuild(ctx, id)
		require.NoError(t, err)
		assert.False(t, canceled, "not building")
		assert.Equal(t, "Cannot cancel build, not owner", bob.fault(t, 2, koji.ErrActionNotAllowed, "cancelBuild", draftID))
		assert.Equal(t, true, bob.ok(t, 3, "cancelBuild", "bar-1-1"))
		assert.Equal(t, []string{"preBuildStateChange 0->4", "postBuildStateChange 0->4"}, changes.take())
		b, err := admin.GetBuild(ctx, building, nil)
		require.NoError(t, err)
		assert.Equal(t, koji.BuildCanceled, b.State)
		_, done := b.Completed()
		assert.True(t, done)
		ti, err := admin.GetTaskInfo(ctx, task, nil)
		require.NoError(t, err)
		assert.Equal(t, koji.TaskCanceled, ti.State)
		canceled, err = admin.CancelBuild(ctx, building)
		require.NoError(t, err)
		assert.False(t, canceled, "already canceled")

		// A canceled build is recycled by a new build of its NVR: same id,
		// new creation event.
		id2, err := admin.CreateEmptyBuild(ctx, "bar", "1", "1", koji.Ptr(5), nil)
		require.NoError(t, err)
		assert.Equal(t, int(building), id2)
		assert.Equal(t, []string{"preBuildStateChange 4->1", "postBuildStateChange 4->1"}, changes.take())
		rb, err := admin.GetBuild(ctx, building, nil)
		require.NoError(t, err)
		assert.Equal(t, koji.BuildComplete, rb.State)
		assert.Equal(t, 5, *rb.Epoch)
		assert.Equal(t, "kojiadmin", rb.OwnerName)
		assert.Nil(t, rb.TaskID)
		assert.Greater(t, rb.CreationEventID, b.CreationEventID)

		// A failed build with an RPM is not recycled.
		var failed int64
		taskTx(t, kh, 1, func(ctx context.Context) (err error) {
			if failed, err = kh.koji.NewBuildForTest(ctx, "baz", "1", "1", store.BuildFailed, 1, 0); err != nil {
				return err
			}
			_, err = kh.koji.AddRPMForTest(ctx, failed, "baz", "x86_64")
			return err
		})
		assert.Equal(t, "Build already exists. Unable to recycle, has rpm data",
			faultString(t, admin, koji.ErrGeneric, "createEmptyBuild", []any{"baz", "1", "1", nil}, nil))
	})
}
