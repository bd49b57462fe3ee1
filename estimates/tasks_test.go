package estimates_test

import (
	"context"
	"testing"
	"time"

	"github.com/gokoji/gokoji/estimates"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const bashSRPM = "tasks/101/101/bash-5.2.37-1.fc43.src.rpm"

const bashSource = "git+https://src.fedoraproject.org/rpms/bash.git#4f1e2d8"

func buildArchParams(srpm, arch string) []any {
	return []any{srpm, 12, arch, true, map[string]any{"repo_id": 77}}
}

// workload is a hub busy with a bash build and a cloud image: bash builds
// take 30 minutes on average, the image 40. Channel 1 has two enabled
// hosts of capacity 2 (a disabled one does not count); its open tasks
// weigh 3.25.
func workload() *fakeKoji {
	k := rsyslog()
	k.averages = map[string]float64{"bash": 1800, "fedora-cloud-base": 2400}
	k.hosts = []fakeHost{
		{ID: 1, Name: "builder1", Capacity: 2, Enabled: true, Channels: []int{1}},
		{ID: 2, Name: "builder2", Capacity: 2, Enabled: true, Channels: []int{1, 2}},
		{ID: 3, Name: "builder3", Capacity: 10, Enabled: false, Channels: []int{1}},
		{ID: 4, Name: "imagebuilder", Capacity: 8, Enabled: true, Channels: []int{2, 3}},
	}
	k.tasks = []fakeTask{
		// The bash build: its SRPM is made, two of its buildArch tasks run.
		{ID: 100, Method: "build", State: koji.TaskOpen, Channel: 1, Host: 1, Weight: 0.25, Priority: 20,
			Created: at(time.Hour), Started: at(time.Hour), Params: []any{bashSource, "f43-candidate", map[string]any{}}},
		{ID: 101, Method: "buildSRPMFromSCM", State: koji.TaskClosed, Parent: 100, Channel: 1, Host: 1, Weight: 1, Priority: 19,
			Created: at(time.Hour), Started: at(time.Hour), Ended: at(time.Hour + 3*time.Minute),
			Params: []any{bashSource, 12, map[string]any{"repo_id": 77}}},
		{ID: 102, Method: "buildArch", State: koji.TaskOpen, Parent: 100, Channel: 1, Host: 1, Weight: 1.5, Priority: 19,
			Created: at(time.Hour + 4*time.Minute), Started: at(time.Hour + 5*time.Minute), Params: buildArchParams(bashSRPM, "x86_64")},
		{ID: 103, Method: "buildArch", State: koji.TaskOpen, Parent: 100, Channel: 1, Host: 2, Weight: 1.5, Priority: 19,
			Created: at(time.Hour + 4*time.Minute), Started: at(time.Hour + 7*time.Minute), Params: buildArchParams(bashSRPM, "aarch64")},
		{ID: 104, Method: "buildArch", State: koji.TaskClosed, Parent: 100, Channel: 1, Host: 2, Weight: 1.5, Priority: 19,
			Created: at(time.Hour + 4*time.Minute), Started: at(time.Hour + 8*time.Minute), Ended: at(time.Hour + 20*time.Minute),
			Params: buildArchParams(bashSRPM, "ppc64le")},
		{ID: 105, Method: "buildArch", State: koji.TaskFree, Parent: 100, Channel: 1, Weight: 1.5, Priority: 19,
			Created: at(time.Hour + 4*time.Minute), Params: buildArchParams(bashSRPM, "s390x")},
		// The image, in its own channel.
		{ID: 200, Method: "image", State: koji.TaskOpen, Channel: 3, Host: 4, Weight: 0.25, Priority: 20,
			Created: at(2 * time.Hour), Started: at(2 * time.Hour),
			Params: []any{"fedora-cloud-base", "43", []any{"x86_64"}, "f43-image", "https://kojipkgs.example.org/compose/43/$arch/os/", map[string]any{"format": []any{"qcow2"}}}},
		{ID: 201, Method: "createImage", State: koji.TaskOpen, Parent: 200, Channel: 3, Host: 4, Weight: 2, Priority: 19,
			Created: at(2 * time.Hour), Started: at(2*time.Hour + time.Minute),
			Params: []any{"fedora-cloud-base", "43", "1", "x86_64", map[string]any{"name": "f43-image"}, map[string]any{"id": 20, "name": "f43-build"},
				map[string]any{"id": 77}, "https://kojipkgs.example.org/compose/43/$arch/os/", map[string]any{"format": []any{"qcow2"}}}},
		// Heavy work in channel 2 does not weigh on channel 1.
		{ID: 150, Method: "buildArch", State: koji.TaskOpen, Channel: 2, Host: 2, Weight: 10, Priority: 20,
			Created: at(0), Started: at(0), Params: buildArchParams("tasks/9/9/kernel-6.17.1-300.fc43.src.rpm", "x86_64")},
	}
	return k
}

// with returns k with more tasks.
func (k *fakeKoji) with(tasks ...fakeTask) *fakeKoji {
	k.tasks = append(k.tasks, tasks...)
	return k
}

// taskOf returns the task as getTaskInfo with request sends it.
func taskOf(t *testing.T, k *fakeKoji, id int) *koji.Task {
	t.Helper()
	ft, ok := k.task(id)
	require.True(t, ok, "task %d", id)
	return ft.decoded(t, true)
}

func childrenCall(id int) call {
	return call{Method: "getTaskChildren", Args: []any{int64(id)}, Kwargs: map[string]any{"request": true}}
}

// channelCalls are what estimating a free task in channel 1 asks for.
func channelCalls() []call {
	return []call{
		{Method: "listHosts", Kwargs: map[string]any{"channelID": int64(1), "enabled": true}},
		{Method: "listTasks", Kwargs: map[string]any{
			"opts":      map[string]any{"channel_id": int64(1), "state": []any{int64(koji.TaskOpen)}},
			"queryOpts": map[string]any{"limit": int64(1000), "order": "priority,create_time,id"},
		}},
	}
}

func callsOf(reqs []request) []call {
	var calls []call
	for _, r := range reqs {
		calls = append(calls, r.Calls...)
	}
	return calls
}

func TestTaskCompletionFinished(t *testing.T) {
	k := workload().with(
		fakeTask{ID: 600, Method: "buildArch", State: koji.TaskFailed, Channel: 1, Weight: 1.5,
			Created: at(0), Started: at(time.Minute), Ended: at(9 * time.Minute), Params: buildArchParams(bashSRPM, "i686")},
		fakeTask{ID: 601, Method: "buildArch", State: koji.TaskCanceled, Channel: 1, Weight: 1.5,
			Created: at(0), Ended: at(2 * time.Minute), Params: buildArchParams(bashSRPM, "i686")},
	)
	e, hub := newEstimator(t, k)
	for id, want := range map[int]time.Time{101: at(time.Hour + 3*time.Minute), 104: at(time.Hour + 20*time.Minute), 600: at(9 * time.Minute), 601: at(2 * time.Minute)} {
		got, err := e.TaskCompletion(context.Background(), taskOf(t, k, id))
		require.NoError(t, err, "task %d", id)
		assert.Equal(t, want, got, "task %d", id)
	}
	assert.Empty(t, hub.Requests(), "a finished task's completion needs no call")
}

func TestTaskCompletionRunning(t *testing.T) {
	k := workload()
	e, hub := newEstimator(t, k)
	got, err := e.TaskCompletion(context.Background(), taskOf(t, k, 102))
	require.NoError(t, err)
	assert.Equal(t, at(time.Hour+5*time.Minute+30*time.Minute), got, "started plus the hub's average for bash")
	assert.Equal(t, []call{averageCall("bash")}, callsOf(hub.Requests()))
}

func TestTaskCompletionBuildFollowsNewestOpenBuildArch(t *testing.T) {
	k := workload()
	e, hub := newEstimator(t, k)
	got, err := e.TaskCompletion(context.Background(), taskOf(t, k, 100))
	require.NoError(t, err)
	// 103 started last among the open buildArch tasks; 104 started later
	// but is closed, 105 has not started.
	assert.Equal(t, at(time.Hour+7*time.Minute+30*time.Minute), got)
	assert.Equal(t, []call{childrenCall(100), averageCall("bash")}, callsOf(hub.Requests()))
}

func TestTaskCompletionImageFollowsCreateImage(t *testing.T) {
	k := workload()
	e, hub := newEstimator(t, k)
	got, err := e.TaskCompletion(context.Background(), taskOf(t, k, 200))
	require.NoError(t, err)
	assert.Equal(t, at(2*time.Hour+time.Minute+40*time.Minute), got)
	assert.Equal(t, []call{childrenCall(200), averageCall("fedora-cloud-base")}, callsOf(hub.Requests()))
}

func TestTaskCompletionBuildWithoutOpenSubtask(t *testing.T) {
	k := workload().with(
		// Still making its SRPM.
		fakeTask{ID: 500, Method: "build", State: koji.TaskOpen, Channel: 1, Host: 1, Weight: 0.25,
			Created: at(8 * time.Hour), Started: at(8 * time.Hour), Params: []any{bashSource, "f43-candidate", map[string]any{}}},
		fakeTask{ID: 501, Method: "buildSRPMFromSCM", State: koji.TaskOpen, Parent: 500, Channel: 1, Host: 1, Weight: 1,
			Created: at(8 * time.Hour), Started: at(8 * time.Hour), Params: []any{bashSource, 12, map[string]any{}}},
		// Not picked up yet.
		fakeTask{ID: 502, Method: "build", State: koji.TaskFree, Channel: 1, Weight: 0.25,
			Created: at(8 * time.Hour), Params: []any{bashSource, "f43-candidate", map[string]any{}}},
	)
	e, hub := newEstimator(t, k)
	for _, id := range []int{500, 502} {
		_, err := e.TaskCompletion(context.Background(), taskOf(t, k, id))
		assert.ErrorIs(t, err, estimates.ErrNoDescendents, "task %d", id)
	}
	assert.Equal(t, []call{childrenCall(500), childrenCall(502)}, callsOf(hub.Requests()))
}

func TestTaskCompletionFree(t *testing.T) {
	free := fakeTask{ID: 300, Method: "buildArch", State: koji.TaskFree, Channel: 1, Weight: 1.5, Priority: 20,
		Created: at(3 * time.Hour), Params: buildArchParams(bashSRPM, "x86_64")}
	for _, tc := range []struct {
		name      string
		openExtra float64 // the weight of another open task in channel 1
		full      bool
	}{
		{"room left", 0.5, false},
		{"exactly full", 0.75, true},
		{"overloaded", 3, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := workload().with(free, fakeTask{ID: 310, Method: "createrepo", State: koji.TaskOpen, Channel: 1, Host: 2,
				Weight: tc.openExtra, Priority: 15, Created: at(0), Started: at(0), Params: []any{12, "x86_64", nil, nil}})
			e, hub := newEstimator(t, k)
			got, err := e.TaskCompletion(context.Background(), taskOf(t, k, 300))
			if tc.full {
				var full *estimates.ChannelFullError
				require.ErrorAs(t, err, &full)
				assert.ErrorIs(t, err, estimates.ErrChannelFull)
				assert.Equal(t, estimates.ChannelFullError{TaskID: 300, ChannelID: 1, Capacity: 4, OpenWeight: 3.25 + tc.openExtra}, *full)
			} else {
				require.NoError(t, err)
				assert.Equal(t, at(3*time.Hour+45*time.Second+30*time.Minute), got, "created, picked up within 45 s, plus bash's average")
			}
			assert.ElementsMatch(t, append(channelCalls(), averageCall("bash")), callsOf(hub.Requests()))
		})
	}
}

func TestTaskCompletionFreeChannelFullBeforeNoPackage(t *testing.T) {
	newRepo := fakeTask{ID: 320, Method: "newRepo", State: koji.TaskFree, Channel: 1, Weight: 0.1, Priority: 15,
		Created: at(4 * time.Hour), Params: []any{"f43-build"}}
	e, hub := newEstimator(t, workload().with(newRepo))
	_, err := e.TaskCompletion(context.Background(), newRepo.decoded(t, true))
	assert.ErrorIs(t, err, estimates.ErrNoPackage)
	assert.ElementsMatch(t, channelCalls(), callsOf(hub.Requests()))

	load := fakeTask{ID: 321, Method: "buildArch", State: koji.TaskOpen, Channel: 1, Host: 2, Weight: 1.5,
		Created: at(0), Started: at(0), Params: buildArchParams(bashSRPM, "i686")}
	e, _ = newEstimator(t, workload().with(newRepo, load))
	_, err = e.TaskCompletion(context.Background(), newRepo.decoded(t, true))
	assert.ErrorIs(t, err, estimates.ErrChannelFull, "a full channel is reported first, as txkoji does")
}

func TestTaskCompletionAssigned(t *testing.T) {
	assigned := fakeTask{ID: 330, Method: "buildArch", State: koji.TaskAssigned, Channel: 1, Host: 1, Weight: 1.5,
		Created: at(4 * time.Hour), Params: buildArchParams(bashSRPM, "x86_64")}
	e, hub := newEstimator(t, workload().with(assigned))
	e.Now = func() time.Time { return at(5 * time.Hour) }
	got, err := e.TaskCompletion(context.Background(), assigned.decoded(t, true))
	require.NoError(t, err)
	assert.Equal(t, at(5*time.Hour+45*time.Second+30*time.Minute), got, "opened within 45 s from now")
	assert.Equal(t, []call{averageCall("bash")}, callsOf(hub.Requests()), "an assigned task's channel has room")
}

func TestTaskCompletionTagBuild(t *testing.T) {
	tagBuild := fakeTask{ID: 340, Method: "tagBuild", State: koji.TaskOpen, Channel: 1, Host: 1, Weight: 0.1,
		Created: at(6 * time.Hour), Started: at(6 * time.Hour), Params: []any{14, 4242, false, nil, true}}
	e, hub := newEstimator(t, workload().with(tagBuild))
	got, err := e.TaskCompletion(context.Background(), tagBuild.decoded(t, true))
	require.NoError(t, err)
	assert.Equal(t, at(6*time.Hour+time.Minute), got, "45 s to be picked up, 15 s of work")

	e.PollInterval = 15 * time.Second // kojid's default sleeptime
	got, err = e.TaskCompletion(context.Background(), tagBuild.decoded(t, true))
	require.NoError(t, err)
	assert.Equal(t, at(6*time.Hour+30*time.Second), got)
	assert.Empty(t, hub.Requests())
}

func TestTaskCompletionNoPackage(t *testing.T) {
	newRepo := fakeTask{ID: 350, Method: "newRepo", State: koji.TaskOpen, Channel: 2, Host: 2, Weight: 0.1,
		Created: at(6 * time.Hour), Started: at(6 * time.Hour), Params: []any{"f43-build"}}
	e, hub := newEstimator(t, workload().with(newRepo))
	_, err := e.TaskCompletion(context.Background(), newRepo.decoded(t, true))
	assert.ErrorIs(t, err, estimates.ErrNoPackage)
	assert.Empty(t, hub.Requests())
}

func TestTaskCompletionNoHistory(t *testing.T) {
	mystery := fakeTask{ID: 360, Method: "buildArch", State: koji.TaskOpen, Channel: 1, Host: 1, Weight: 1.5,
		Created: at(6 * time.Hour), Started: at(6 * time.Hour), Params: buildArchParams("tasks/9/9/mystery-1.0-1.fc43.src.rpm", "x86_64")}
	e, hub := newEstimator(t, workload().with(mystery))
	_, err := e.TaskCompletion(context.Background(), mystery.decoded(t, true))
	assert.ErrorIs(t, err, estimates.ErrNoHistory)
	assert.ErrorContains(t, err, "mystery")
	assert.Equal(t, []call{averageCall("mystery")}, callsOf(hub.Requests()))
}

func TestTaskCompletionContainer(t *testing.T) {
	container := fakeTask{ID: 370, Method: "buildContainer", State: koji.TaskOpen, Channel: 2, Host: 2, Weight: 1,
		Created: at(7 * time.Hour), Started: at(7 * time.Hour),
		Params: []any{"git://pkgs.example.com/containers/rsyslog#c0ffee", "f43-container-candidate", map[string]any{"scratch": false}}}
	e, hub := newEstimator(t, workload().with(container))
	got, err := e.TaskCompletion(context.Background(), container.decoded(t, true))
	require.NoError(t, err)
	assert.Equal(t, at(7*time.Hour+11*time.Minute+12*time.Second), got, "the mean of rsyslog-container's last builds")
	assert.Equal(t, []call{getPackageCall("rsyslog-container"), lastBuilds(7, 5)}, callsOf(hub.Requests()))
}

func TestTaskCompletionFetchesMissingRequest(t *testing.T) {
	k := workload()
	e, hub := newEstimator(t, k)
	ft, _ := k.task(102)
	got, err := e.TaskCompletion(context.Background(), ft.decoded(t, false))
	require.NoError(t, err)
	assert.Equal(t, at(time.Hour+35*time.Minute), got)
	assert.Equal(t, []call{
		{Method: "getTaskInfo", Args: []any{int64(102)}, Kwargs: map[string]any{"request": true, "strict": true}},
		averageCall("bash"),
	}, callsOf(hub.Requests()))

	gone := &koji.Task{ID: 999, Method: "buildArch", State: koji.TaskOpen, StartTime: at(0)}
	_, err = e.TaskCompletion(context.Background(), gone)
	assert.ErrorIs(t, err, koji.ErrGeneric, "a task the hub no longer has")
}

func TestTaskCompletionBadParams(t *testing.T) {
	broken := fakeTask{ID: 380, Method: "buildArch", State: koji.TaskOpen, Channel: 1, Weight: 1.5,
		Created: at(0), Started: at(0), Params: []any{"not-an-nvr", 12, "x86_64"}}
	e, _ := newEstimator(t, workload().with(broken))
	_, err := e.TaskCompletion(context.Background(), broken.decoded(t, true))
	var paramsErr *koji.TaskParamsError
	assert.ErrorAs(t, err, &paramsErr)
}

func TestTaskCompletionHubFails(t *testing.T) {
	k := workload()
	e, hub := newEstimator(t, k)
	hub.setUnavailable()
	var httpErr *koji.HTTPError
	for _, id := range []int{100, 102, 105} { // via subtasks, running, free
		_, err := e.TaskCompletion(context.Background(), taskOf(t, k, id))
		assert.ErrorAs(t, err, &httpErr, "task %d", id)
	}
}

func TestTaskCompletionMissingTimes(t *testing.T) {
	e, hub := newEstimator(t, workload())
	_, err := e.TaskCompletion(context.Background(), &koji.Task{ID: 1, Method: "buildArch", State: koji.TaskClosed})
	assert.ErrorIs(t, err, estimates.ErrMissingTime)
	_, err = e.TaskCompletion(context.Background(), nil)
	assert.ErrorIs(t, err, estimates.ErrNilInput)
	_, err = e.TaskDuration(context.Background(), nil)
	assert.ErrorIs(t, err, estimates.ErrNilInput)
	assert.Empty(t, hub.Requests())
}

func TestTaskDuration(t *testing.T) {
	k := workload().with(fakeTask{ID: 601, Method: "buildArch", State: koji.TaskCanceled, Channel: 1, Weight: 1.5,
		Created: at(0), Ended: at(2 * time.Minute), Params: buildArchParams(bashSRPM, "i686")})
	e, hub := newEstimator(t, k)
	d, err := e.TaskDuration(context.Background(), taskOf(t, k, 104))
	require.NoError(t, err)
	assert.Equal(t, 12*time.Minute, d, "a finished task's actual duration")

	d, err = e.TaskDuration(context.Background(), taskOf(t, k, 105))
	require.NoError(t, err)
	assert.Equal(t, 30*time.Minute, d, "a free task's package average")

	_, err = e.TaskDuration(context.Background(), taskOf(t, k, 601))
	assert.ErrorIs(t, err, estimates.ErrMissingTime, "canceled before it started")
	assert.Equal(t, []call{averageCall("bash")}, callsOf(hub.Requests()))
}

// decodedBuild returns the build as a client reads getBuild's reply.
func decodedBuild(t *testing.T, b fakeBuild) *koji.Build {
	t.Helper()
	raw, err := xmlrpc.MarshalValue(b.reply())
	require.NoError(t, err)
	var build koji.Build
	require.NoError(t, raw.Decode(&build))
	return &build
}

func TestBuildCompletion(t *testing.T) {
	k := workload()
	e, hub := newEstimator(t, k)
	ctx := context.Background()

	done := decodedBuild(t, k.builds[0])
	got, err := e.BuildCompletion(ctx, done)
	require.NoError(t, err)
	assert.Equal(t, k.builds[0].End, got)
	assert.Empty(t, hub.Requests())

	bash := fakeBuild{ID: 70, PackageID: 3, Name: "bash", Version: "5.2.37", State: koji.BuildBuilding, Start: at(9 * time.Hour)}
	got, err = e.BuildCompletion(ctx, decodedBuild(t, bash))
	require.NoError(t, err)
	assert.Equal(t, at(9*time.Hour+30*time.Minute), got)

	container := fakeBuild{ID: 71, PackageID: 7, Name: "rsyslog-container", Version: "3", State: koji.BuildBuilding, Start: at(9 * time.Hour)}
	got, err = e.BuildCompletion(ctx, decodedBuild(t, container))
	require.NoError(t, err)
	assert.Equal(t, at(9*time.Hour+11*time.Minute+12*time.Second), got)

	mystery := fakeBuild{ID: 72, PackageID: 99, Name: "mystery", Version: "1", State: koji.BuildBuilding, Start: at(9 * time.Hour)}
	_, err = e.BuildCompletion(ctx, decodedBuild(t, mystery))
	assert.ErrorIs(t, err, estimates.ErrNoHistory)

	assert.Equal(t, []call{averageCall("bash"), getPackageCall("rsyslog-container"), lastBuilds(7, 5), averageCall("mystery")},
		callsOf(hub.Requests()))

	_, err = e.BuildCompletion(ctx, &koji.Build{ID: 73, State: koji.BuildFailed})
	assert.ErrorIs(t, err, estimates.ErrMissingTime)
	_, err = e.BuildCompletion(ctx, &koji.Build{ID: 74, State: koji.BuildBuilding})
	assert.ErrorIs(t, err, estimates.ErrMissingTime)
	_, err = e.BuildCompletion(ctx, nil)
	assert.ErrorIs(t, err, estimates.ErrNilInput)
}
