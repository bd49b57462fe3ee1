package koji

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gokoji/gokoji/xmlrpc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// apiPtr returns a pointer to v, for the pointer options.
func apiPtr[T any](v T) *T { return &v }

func TestGetBuild(t *testing.T) {
	c, hub := replayClient(t, 11, "getBuild", "getBuild_by_id", "getBuild_epoch")
	ctx := context.Background()

	b, err := c.GetBuild(ctx, "foo-1.0-1", nil)
	require.NoError(t, err)
	assertSentAsRecorded(t, hub, 0, "getBuild")
	completed := time.Date(2026, 11, 22, 1, 40, 46, 890757000, time.UTC)
	created := time.Date(2026, 11, 22, 1, 40, 46, 892785000, time.UTC)
	assert.Equal(t, &Build{
		ID: 1, PackageID: 1, PackageName: "foo", Name: "foo", Version: "1.0", Release: "1", NVR: "foo-1.0-1",
		State: BuildComplete, OwnerID: 1, OwnerName: "kojiadmin", VolumeID: 0, VolumeName: "DEFAULT",
		CreationEventID: 10, CreationTime: created, CreationTS: 1795311646.892785,
		StartTime: completed, StartTS: apiPtr(1795311646.890757),
		CompletionTime: completed, CompletionTS: apiPtr(1795311646.890757),
	}, normalizeTimes(b))
	assert.Equal(t, "foo-1.0-1", b.Label())
	assert.Equal(t, "foo-1.0-1", b.LabelWithEpoch(), "no epoch")
	assert.Equal(t, created, b.Created())

	b, err = c.GetBuild(ctx, 3, nil)
	require.NoError(t, err)
	assertSentAsRecorded(t, hub, 1, "getBuild_by_id")
	assert.Equal(t, 3, b.ID)
	assert.Equal(t, "wirepkg-1.0-1", b.NVR)
	assert.Equal(t, 14, b.CreationEventID)

	b, err = c.GetBuild(ctx, "bar-2.0-3.el9", nil)
	require.NoError(t, err)
	assertSentAsRecorded(t, hub, 2, "getBuild_epoch")
	require.NotNil(t, b.Epoch)
	assert.Equal(t, 2, *b.Epoch)
	assert.Equal(t, "2:bar-2.0-3.el9", b.LabelWithEpoch())
	assert.Equal(t, "testuser", b.OwnerName)
	assert.Equal(t, "3.el9", b.Release)
}

// normalizeTimes puts a build's decoded times in UTC, so that a struct
// comparison does not depend on the zone the decoder chose.
func normalizeTimes(b *Build) *Build {
	n := *b
	n.CreationTime, n.StartTime, n.CompletionTime = b.CreationTime.UTC(), b.StartTime.UTC(), b.CompletionTime.UTC()
	return &n
}

func TestGetBuildMissing(t *testing.T) {
	c, hub := replayClient(t, 11, "getBuild_nonexistent", "getBuild_nonexistent_strict")
	ctx := context.Background()

	b, err := c.GetBuild(ctx, "no-such-build-1-1", nil)
	require.NoError(t, err)
	assert.Nil(t, b)
	assertSentAsRecorded(t, hub, 0, "getBuild_nonexistent")

	b, err = c.GetBuild(ctx, "no-such-build-1-1", &GetBuildOptions{Strict: true})
	assert.Nil(t, b)
	var f *Fault
	require.ErrorAs(t, err, &f)
	assert.ErrorIs(t, err, ErrGeneric)
	assert.Equal(t, "No such build: 'no-such-build-1-1'", f.String)
	assertSentAsRecorded(t, hub, 1, "getBuild_nonexistent_strict")
}

func TestListTagged(t *testing.T) {
	c, hub := replayClient(t, 11, "listTagged", "listTagged_kwargs")
	ctx := context.Background()

	builds, err := c.ListTagged(ctx, "anchor-dest", nil)
	require.NoError(t, err)
	assertSentAsRecorded(t, hub, 0, "listTagged")
	require.Len(t, builds, 2)
	bar := builds[0]
	assert.Equal(t, 3, bar.TagID)
	assert.Equal(t, "anchor-dest", bar.TagName)
	assert.Equal(t, 13, bar.CreateEvent)
	assert.Equal(t, 2, bar.ID)
	assert.Equal(t, "bar-2.0-3.el9", bar.NVR)
	assert.Equal(t, 2, *bar.Epoch)
	assert.Nil(t, bar.CompletionTS, "listTagged sends no *_ts members")
	done, ok := bar.Completed()
	require.True(t, ok, "the completion time comes from the timestamp string")
	assert.Equal(t, time.Date(2026, 11, 22, 1, 40, 46, 922628000, time.UTC), done)
	assert.Equal(t, time.Date(2026, 11, 22, 1, 40, 46, 925741000, time.UTC), bar.Created())
	assert.Equal(t, "foo-1.0-1", builds[1].NVR)
	assert.Nil(t, builds[1].Epoch)

	latest, err := c.ListTagged(ctx, "anchor-dest", &ListTaggedOptions{Latest: 1, Inherit: true})
	require.NoError(t, err)
	assertSentAsRecorded(t, hub, 1, "listTagged_kwargs")
	assert.Len(t, latest, 2)
}

func TestListTaggedOptionsOnTheWire(t *testing.T) {
	c, hub := newStubHub(t, func(stubCall) (any, error) { return []any{}, nil })
	ctx := context.Background()
	_, err := c.ListTagged(ctx, 3, &ListTaggedOptions{Latest: 2, Event: 40, Prefix: "ba", Package: "bash",
		Owner: "kojiadmin", Type: "rpm", Strict: apiPtr(false), Extra: true, Draft: apiPtr(false)})
	require.NoError(t, err)
	assert.Equal(t, stubCall{Method: "listTagged", Args: []any{int64(3)}, Kwargs: map[string]any{
		"latest": int64(2), "event": int64(40), "prefix": "ba", "package": "bash", "owner": "kojiadmin",
		"type": "rpm", "strict": false, "extra": true, "draft": false,
	}}, hub.only(t), "latest N goes as a count; strict and draft false are sent")
}

func TestListTaggedIter(t *testing.T) {
	c, _ := replayClient(t, 11, "listTagged")
	var nvrs []string
	for b, err := range c.ListTaggedIter(context.Background(), "anchor-dest", nil) {
		require.NoError(t, err)
		nvrs = append(nvrs, b.NVR)
	}
	assert.Equal(t, []string{"bar-2.0-3.el9", "foo-1.0-1"}, nvrs)

	c, _ = newStubHub(t, func(stubCall) (any, error) {
		return nil, &xmlrpc.Fault{Code: 1003, String: "tag anchor-dest is locked"}
	})
	n := 0
	for b, err := range c.ListTaggedIter(context.Background(), "anchor-dest", nil) {
		assert.Nil(t, b)
		assert.ErrorIs(t, err, ErrTag)
		n++
	}
	assert.Equal(t, 1, n)
}

func TestListBuildsQueryOpts(t *testing.T) {
	c, hub := replayClient(t, 11, "listBuilds_queryOpts")
	builds, err := c.ListBuilds(context.Background(), &ListBuildsOptions{QueryOpts: &QueryOpts{Limit: 2, Order: "-build_id"}})
	require.NoError(t, err)
	assertSentAsRecorded(t, hub, 0, "listBuilds_queryOpts")
	require.Len(t, builds, 2)
	assert.Equal(t, 3, builds[0].ID, "listBuilds sends build_id only")
	assert.Equal(t, "wirepkg", builds[0].PackageName)
	assert.Equal(t, 1795311646.955665, builds[0].CreationTS)
	assert.Equal(t, 2, builds[1].ID)
	assert.Equal(t, "testuser", builds[1].OwnerName)
}

func TestListBuildsFiltersOnTheWire(t *testing.T) {
	c, hub := newStubHub(t, func(stubCall) (any, error) { return []any{}, nil })
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ts := float64(at.Unix())
	_, err := c.ListBuilds(context.Background(), &ListBuildsOptions{
		PackageID: "bash", UserID: 2, TaskID: -1, Prefix: "ba", State: apiPtr(BuildBuilding), VolumeID: apiPtr(0),
		Source: "git+https://*", CreatedBefore: at, CreatedAfter: at, CompleteBefore: at, CompleteAfter: at,
		Type: "maven", TypeInfo: map[string]any{"group_id": "org.x"}, QueryOpts: &QueryOpts{Offset: 5},
		Pattern: "bash-5*", CGID: "osbs", Draft: apiPtr(true), PromotedBefore: at, PromotedAfter: at, Promoter: "alice",
	})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{
		"packageID": "bash", "userID": int64(2), "taskID": int64(-1), "prefix": "ba", "state": int64(0),
		"volumeID": int64(0), "source": "git+https://*", "type": "maven", "typeInfo": map[string]any{"group_id": "org.x"},
		"queryOpts": map[string]any{"offset": int64(5)}, "pattern": "bash-5*", "cgID": "osbs", "draft": true,
		"promoter": "alice", "createdBefore": ts, "createdAfter": ts, "completeBefore": ts, "completeAfter": ts,
		"promotedBefore": ts, "promotedAfter": ts,
	}, hub.only(t).Kwargs, "state BUILDING and volume 0 are sent; times go as seconds")
	assert.Empty(t, hub.only(t).Args)
}

// buildsHub is a hub holding n builds, answering listBuilds with the
// window its queryOpts ask for.
func buildsHub(t *testing.T, n int) (*Client, *stubHub) {
	return newStubHub(t, func(call stubCall) (any, error) {
		q, _ := call.Kwargs["queryOpts"].(map[string]any)
		offset, _ := q["offset"].(int64)
		limit, _ := q["limit"].(int64)
		var page []map[string]any
		for id := int(offset) + 1; id <= n && (limit == 0 || len(page) < int(limit)); id++ {
			page = append(page, map[string]any{"build_id": id, "name": "pkg", "nvr": fmt.Sprintf("pkg-1-%d", id),
				"state": 1, "epoch": nil, "task_id": nil})
		}
		return page, nil
	})
}

func TestListBuildsIterPages(t *testing.T) {
	c, hub := buildsHub(t, 2345)
	ids := 0
	for b, err := range c.ListBuildsIter(context.Background(), &ListBuildsOptions{Prefix: "pkg"}) {
		require.NoError(t, err)
		ids++
		require.Equal(t, ids, b.ID)
	}
	assert.Equal(t, 2345, ids)
	calls := hub.received()
	require.Len(t, calls, 3)
	for i, call := range calls {
		q := map[string]any{"limit": int64(1000), "order": "build_id"}
		if i > 0 {
			q["offset"] = int64(1000 * i) // offset 0 is left out
		}
		assert.Equal(t, map[string]any{"prefix": "pkg", "queryOpts": q}, call.Kwargs)
	}

	c, hub = buildsHub(t, 2345)
	n := 0
	for range c.ListBuildsIter(context.Background(), &ListBuildsOptions{QueryOpts: &QueryOpts{Offset: 100, Limit: 1200, Order: "-completion_time"}}) {
		n++
	}
	assert.Equal(t, 1200, n)
	calls = hub.received()
	require.Len(t, calls, 2)
	assert.Equal(t, map[string]any{"limit": int64(200), "offset": int64(1100), "order": "-completion_time"}, calls[1].Kwargs["queryOpts"])
}

func TestListBuildsIterStopsOnCancel(t *testing.T) {
	c, hub := buildsHub(t, 5000)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var last error
	n := 0
	for _, err := range c.ListBuildsIter(ctx, nil) {
		if err != nil {
			last = err
			break
		}
		if n++; n == 1000 {
			cancel()
		}
	}
	assert.ErrorIs(t, last, context.Canceled)
	assert.Len(t, hub.received(), 1, "the second page is never asked for")
}

func TestGetLatestBuilds(t *testing.T) {
	c, hub := newStubHub(t, func(stubCall) (any, error) {
		return []map[string]any{{"build_id": 2, "id": 2, "nvr": "bar-2.0-3.el9", "tag_id": 1, "tag_name": "anchor-base",
			"create_event": 13, "state": 1, "epoch": 2}}, nil
	})
	builds, err := c.GetLatestBuilds(context.Background(), "anchor-dest", &GetLatestBuildsOptions{Package: "bar", Event: 20})
	require.NoError(t, err)
	assert.Equal(t, stubCall{Method: "getLatestBuilds", Args: []any{"anchor-dest"},
		Kwargs: map[string]any{"package": "bar", "event": int64(20)}}, hub.only(t))
	require.Len(t, builds, 1)
	assert.Equal(t, "anchor-base", builds[0].TagName, "an inherited build names the tag it came from")
}

func TestBuild(t *testing.T) {
	c, hub := newStubHub(t, func(stubCall) (any, error) { return 1208, nil })
	ctx := context.Background()

	id, err := c.Build(ctx, "git+https://src.example.org/rpms/bash.git#abc", "f43-candidate", nil)
	require.NoError(t, err)
	assert.Equal(t, 1208, id)
	assert.Equal(t, stubCall{Method: "build", Args: []any{"git+https://src.example.org/rpms/bash.git#abc",
		"f43-candidate", map[string]any{}}}, hub.received()[0], "opts always goes, as the CLI sends it")

	_, err = c.Build(ctx, "cli-build/1.2/bash-5.2-1.src.rpm", "f43-candidate", &BuildOptions{
		Scratch: true, SkipTag: true, ArchOverride: "x86_64 aarch64", RepoID: 77, FailFast: true, WaitRepo: true,
		WaitBuilds: []string{"glibc-2.40-1.fc43"}, RebuildSRPM: apiPtr(false), Draft: true,
		CustomUserMetadata: map[string]any{"why": "test"}, Priority: PriorityBackground, Channel: "heavy",
	})
	require.NoError(t, err)
	assert.Equal(t, stubCall{Method: "build", Args: []any{"cli-build/1.2/bash-5.2-1.src.rpm", "f43-candidate",
		map[string]any{"scratch": true, "skip_tag": true, "arch_override": "x86_64 aarch64", "repo_id": int64(77),
			"fail_fast": true, "wait_repo": true, "wait_builds": []any{"glibc-2.40-1.fc43"}, "rebuild_srpm": false,
			"draft": true, "custom_user_metadata": map[string]any{"why": "test"}}},
		Kwargs: map[string]any{"priority": int64(5), "channel": "heavy"}}, hub.received()[1])

	_, err = c.Build(ctx, "", "f43-candidate", nil)
	var re *RefError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "src", re.Argument)
	assert.Len(t, hub.received(), 2)
}

func TestCancelBuild(t *testing.T) {
	c, hub := newStubHub(t, func(call stubCall) (any, error) { return call.Args[0] == int64(5), nil })
	ok, err := c.CancelBuild(context.Background(), 5)
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = c.CancelBuild(context.Background(), "bash-5.2-1.fc43")
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Equal(t, []stubCall{{Method: "cancelBuild", Args: []any{int64(5)}},
		{Method: "cancelBuild", Args: []any{"bash-5.2-1.fc43"}}}, hub.received())
}

func TestCreateEmptyBuild(t *testing.T) {
	c, hub := replayClient(t, 11, "createEmptyBuild")
	id, err := c.CreateEmptyBuild(context.Background(), "wirepkg", "1.0", "1", nil, nil)
	require.NoError(t, err)
	assert.Equal(t, 3, id)
	assertSentAsRecorded(t, hub, 0, "createEmptyBuild")

	c, stub := newStubHub(t, func(stubCall) (any, error) { return 4, nil })
	_, err = c.CreateEmptyBuild(context.Background(), "bar", "2.0", "3", apiPtr(2), &CreateEmptyBuildOptions{Owner: "testuser", Draft: true})
	require.NoError(t, err)
	assert.Equal(t, stubCall{Method: "createEmptyBuild", Args: []any{"bar", "2.0", "3", int64(2)},
		Kwargs: map[string]any{"owner": "testuser", "draft": true}}, stub.only(t))
}

func TestBuildTimes(t *testing.T) {
	start := time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC)
	end := start.Add(90 * time.Minute)
	ts := func(t time.Time) *float64 { return apiPtr(float64(t.UnixMicro()) / 1e6) }
	zone := time.FixedZone("EST", -5*3600)

	done := &Build{StartTS: ts(start), CompletionTS: ts(end), StartTime: start.Add(time.Hour)}
	got, ok := done.Started()
	assert.True(t, ok)
	assert.Equal(t, start, got, "the *_ts member wins over the string")
	d, ok := done.Duration(time.Time{})
	assert.True(t, ok)
	assert.Equal(t, 90*time.Minute, d)

	fromStrings := &Build{StartTime: start.In(zone), CompletionTime: end.In(zone)}
	got, ok = fromStrings.Completed()
	assert.True(t, ok)
	assert.Equal(t, end, got)
	assert.Equal(t, time.UTC, got.Location())

	running := &Build{State: BuildBuilding, StartTS: ts(start)}
	_, ok = running.Completed()
	assert.False(t, ok)
	d, ok = running.Duration(start.Add(time.Minute))
	assert.True(t, ok)
	assert.Equal(t, time.Minute, d, "a running build's duration runs to now")

	_, ok = (&Build{}).Duration(end)
	assert.False(t, ok, "no start time, no duration")
	assert.Equal(t, start, (&Build{CreationTime: start.In(zone)}).Created())
}

func TestBuildGitHash(t *testing.T) {
	for source, want := range map[string]string{
		"git+https://src.fedoraproject.org/rpms/bash.git#5f2e1c0a": "5f2e1c0a",
		"git://pkgs/rpms/a.git?#x#deadbeef":                        "deadbeef",
		"cli-build/1.2/bash-5.2-1.src.rpm":                         "",
		"":                                                         "",
		"git://pkgs/rpms/a.git#":                                   "",
	} {
		assert.Equal(t, want, (&Build{Source: source}).GitHash(), source)
	}
}

func TestBuildKojiTaskID(t *testing.T) {
	cases := []struct {
		build *Build
		id    int
		ok    bool
	}{
		{&Build{TaskID: apiPtr(11), Extra: map[string]any{"container_koji_task_id": int64(99)}}, 11, true},
		{&Build{Extra: map[string]any{"container_koji_task_id": int64(99)}}, 99, true},
		{&Build{Extra: map[string]any{"container_koji_task_id": 98.0}}, 98, true},
		{&Build{Extra: map[string]any{"container_koji_task_id": "97"}}, 97, true},
		{&Build{Extra: map[string]any{"container_koji_task_id": 1.5}}, 0, false},
		{&Build{Extra: map[string]any{"container_koji_task_id": "x"}}, 0, false},
		{&Build{Extra: map[string]any{"other": int64(1)}}, 0, false},
		{&Build{}, 0, false},
	}
	for i, tc := range cases {
		id, ok := tc.build.KojiTaskID()
		assert.Equal(t, tc.id, id, "case %d", i)
		assert.Equal(t, tc.ok, ok, "case %d", i)
	}
}

func TestBuildLabelsAndURL(t *testing.T) {
	b := &Build{ID: 42, Name: "bash", Version: "5.2", Release: "1.fc43", Epoch: apiPtr(0)}
	assert.Equal(t, "bash-5.2-1.fc43", b.Label())
	assert.Equal(t, "0:bash-5.2-1.fc43", b.LabelWithEpoch(), "epoch 0 is shown, as upstream shows it")
	b.PackageName = "bash-pkg"
	assert.Equal(t, "bash-pkg-5.2-1.fc43", b.Label(), "package_name wins, as in buildLabel")
	assert.Equal(t, "https://koji.example.org/koji/buildinfo?buildID=42", b.URL("https://koji.example.org/koji/"))
	assert.Equal(t, "https://koji.example.org/koji/buildinfo?buildID=42", b.URL("https://koji.example.org/koji"))
}
