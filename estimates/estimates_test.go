package estimates_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gokoji/gokoji/estimates"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/multicall"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newEstimator starts a hub serving k and returns an Estimator using it,
// set to the mean so that the figures match txkoji's.
func newEstimator(t *testing.T, k *fakeKoji) (*estimates.Estimator, *fakeHub) {
	t.Helper()
	hub := startHub(k.handlers())
	t.Cleanup(hub.Close)
	c, err := koji.NewClient(hub.URL())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return &estimates.Estimator{Client: c, Statistic: estimates.Mean}, hub
}

// history returns complete builds of a package taking the durations
// given, newest first: each ended an hour before the one before it.
func history(pkgID int, name string, firstID int, durations ...time.Duration) []fakeBuild {
	var out []fakeBuild
	for i, d := range durations {
		end := at(time.Duration(48-i) * time.Hour)
		out = append(out, fakeBuild{
			ID: firstID + i, PackageID: pkgID, Name: name, Version: fmt.Sprintf("1.%d", len(durations)-i),
			State: koji.BuildComplete, Start: end.Add(-d), End: end,
		})
	}
	return out
}

func single(method string, args []any, kwargs map[string]any) request {
	return request{Method: method, Calls: []call{{Method: method, Args: args, Kwargs: kwargs}}}
}

// lastBuilds is the listBuilds call of a last builds estimate.
func lastBuilds(pkgID, limit int) call {
	return call{Method: "listBuilds", Kwargs: map[string]any{
		"packageID": int64(pkgID),
		"state":     int64(koji.BuildComplete),
		"queryOpts": map[string]any{"limit": int64(limit), "order": "-completion_time"},
	}}
}

func averageCall(pkg string) call {
	return call{Method: "getAverageBuildDuration", Args: []any{pkg}}
}

func getPackageCall(pkg string) call { return call{Method: "getPackage", Args: []any{pkg}} }

func minutes(m int) time.Duration { return time.Duration(m) * time.Minute }

// rsyslog is a container whose five newest complete builds took 10, 12,
// 11, 14 and 9 minutes (mean 11m12s, median 11m), with older, failed and
// running builds that must not count, next to another package's builds.
func rsyslog() *fakeKoji {
	k := &fakeKoji{packages: map[string]int{"rsyslog-container": 7, "httpd-container": 8}}
	k.builds = history(7, "rsyslog-container", 10, minutes(10), minutes(12), minutes(11), minutes(14), minutes(9), minutes(60), minutes(60))
	k.builds = append(k.builds,
		fakeBuild{ID: 30, PackageID: 7, Name: "rsyslog-container", Version: "2.0", State: koji.BuildFailed, Start: at(49 * time.Hour), End: at(49*time.Hour + time.Minute)},
		fakeBuild{ID: 31, PackageID: 7, Name: "rsyslog-container", Version: "2.1", State: koji.BuildBuilding, Start: at(50 * time.Hour)},
	)
	k.builds = append(k.builds, history(8, "httpd-container", 40, minutes(30), minutes(32))...)
	return k
}

func TestAverageBuildDurationFromHub(t *testing.T) {
	// The average txkoji's fixture records for ceph-ansible.
	e, hub := newEstimator(t, &fakeKoji{averages: map[string]float64{"ceph-ansible": 143.401978}})
	d, ok, err := e.AverageBuildDuration(context.Background(), "ceph-ansible")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, 143*time.Second+401978*time.Microsecond, d)
	assert.Equal(t, []request{single("getAverageBuildDuration", []any{"ceph-ansible"}, nil)}, hub.Requests())
}

func TestAverageBuildDurationUnknownToHub(t *testing.T) {
	e, hub := newEstimator(t, &fakeKoji{averages: map[string]float64{"bash": 600}})
	d, ok, err := e.AverageBuildDuration(context.Background(), "no-such-package")
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Zero(t, d)
	assert.Len(t, hub.Requests(), 1)
}

func TestAverageBuildDurationFault(t *testing.T) {
	e, _ := newEstimator(t, &fakeKoji{faulty: map[string]bool{"bash": true}})
	_, _, err := e.AverageBuildDuration(context.Background(), "bash")
	assert.ErrorIs(t, err, koji.ErrGeneric)
}

func TestAverageBuildDurationContainerFromLastBuilds(t *testing.T) {
	e, hub := newEstimator(t, rsyslog())
	d, ok, err := e.AverageBuildDuration(context.Background(), "rsyslog-container")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, 11*time.Minute+12*time.Second, d, "the mean of the five newest complete builds")
	assert.Equal(t, []request{
		single("getPackage", []any{"rsyslog-container"}, nil),
		{Method: "listBuilds", Calls: []call{lastBuilds(7, 5)}},
	}, hub.Requests())
}

func TestAverageBuildDurationStatisticMedian(t *testing.T) {
	e, _ := newEstimator(t, rsyslog())
	e.Statistic = estimates.Median
	d, ok, err := e.AverageBuildDuration(context.Background(), "rsyslog-container")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, 11*time.Minute, d)
}

func TestAverageBuildDurationContainerUnknownPackage(t *testing.T) {
	e, hub := newEstimator(t, rsyslog())
	_, ok, err := e.AverageBuildDuration(context.Background(), "ghost-container")
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Equal(t, []request{single("getPackage", []any{"ghost-container"}, nil)}, hub.Requests(),
		"no listBuilds for a package the hub does not know")
}

func TestAverageBuildDurationContainerWithoutCompleteBuilds(t *testing.T) {
	k := rsyslog()
	k.packages["new-container"] = 9
	k.builds = append(k.builds,
		fakeBuild{ID: 90, PackageID: 9, Name: "new-container", Version: "1", State: koji.BuildFailed, Start: at(0), End: at(time.Minute)},
		fakeBuild{ID: 91, PackageID: 9, Name: "new-container", Version: "2", State: koji.BuildBuilding, Start: at(time.Hour)},
	)
	e, _ := newEstimator(t, k)
	_, ok, err := e.AverageBuildDuration(context.Background(), "new-container")
	require.NoError(t, err)
	assert.False(t, ok, "failed and running builds do not count")
}

func TestFromLastBuildsChoosesPackages(t *testing.T) {
	k := &fakeKoji{packages: map[string]int{"bash": 3}, averages: map[string]float64{"bash": 3600}}
	k.builds = history(3, "bash", 1, minutes(4), minutes(6))
	e, hub := newEstimator(t, k)
	e.FromLastBuilds = func(string) bool { return true }
	d, ok, err := e.AverageBuildDuration(context.Background(), "bash")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, 5*time.Minute, d, "from the last builds, not the hub's hour")
	assert.Equal(t, "getPackage", hub.Requests()[0].Method)
}

func TestLastBuildsDurationLimit(t *testing.T) {
	for _, tc := range []struct {
		name       string
		lastBuilds int // the Estimator's setting
		n          int // the argument
		wantLimit  int
		wantMean   time.Duration
	}{
		{"default", 0, 0, 5, 11*time.Minute + 12*time.Second},
		{"argument", 0, 3, 3, 11 * time.Minute},
		{"setting", 2, 0, 2, 11 * time.Minute},
		{"argument over setting", 2, 4, 4, 11*time.Minute + 45*time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, hub := newEstimator(t, rsyslog())
			e.LastBuilds = tc.lastBuilds
			ds, ok, err := e.LastBuildsDuration(context.Background(), "rsyslog-container", tc.n)
			require.NoError(t, err)
			assert.True(t, ok)
			assert.Equal(t, tc.wantLimit, ds.Count)
			assert.Equal(t, tc.wantMean, ds.Mean)
			reqs := hub.Requests()
			require.Len(t, reqs, 2)
			assert.Equal(t, []call{lastBuilds(7, tc.wantLimit)}, reqs[1].Calls)
		})
	}
}

// One build that took hours moves the mean by hours, and the median by
// no more than the spread of the usual builds.
func TestMedianResistsOneOutlier(t *testing.T) {
	usual := []time.Duration{minutes(20), minutes(22), minutes(21), minutes(23), minutes(22)}
	withOutlier := append([]time.Duration(nil), usual...)
	withOutlier[2] = 7 * time.Hour // a build stuck on a sick builder

	measure := func(durations []time.Duration) estimates.Durations {
		k := &fakeKoji{packages: map[string]int{"rsyslog-container": 7}}
		k.builds = history(7, "rsyslog-container", 1, durations...)
		e, _ := newEstimator(t, k)
		ds, ok, err := e.LastBuildsDuration(context.Background(), "rsyslog-container", 0)
		require.NoError(t, err)
		require.True(t, ok)
		return ds
	}
	before, after := measure(usual), measure(withOutlier)

	assert.Equal(t, 21*time.Minute+36*time.Second, before.Mean)
	assert.Equal(t, minutes(22), before.Median)
	assert.Greater(t, after.Mean-before.Mean, time.Hour, "the mean moves by hours")
	assert.LessOrEqual(t, (after.Median - before.Median).Abs(), time.Minute, "the median barely moves")
	assert.Equal(t, minutes(22), after.Median)
}

// By default estimates use the median of the last builds.
func TestDefaultStatisticIsMedian(t *testing.T) {
	k := &fakeKoji{packages: map[string]int{"rsyslog-container": 7}}
	k.builds = history(7, "rsyslog-container", 1, minutes(20), minutes(22), 7*time.Hour, minutes(23), minutes(22))
	e, _ := newEstimator(t, k)
	e.Statistic = estimates.Estimator{}.Statistic
	d, ok, err := e.AverageBuildDuration(context.Background(), "rsyslog-container")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, minutes(22), d, "one 7-hour build does not move the estimate")
}

func TestMeasure(t *testing.T) {
	now := at(100 * time.Hour)
	b := func(start time.Time, d time.Duration) *koji.Build {
		ts := float64(start.UnixMicro()) / 1e6
		build := &koji.Build{StartTS: &ts}
		if d >= 0 {
			end := float64(start.Add(d).UnixMicro()) / 1e6
			build.CompletionTS = &end
		}
		return build
	}
	t.Run("empty", func(t *testing.T) {
		assert.Equal(t, estimates.Durations{}, estimates.Measure(nil, now))
	})
	t.Run("even count: the median is between the middle two", func(t *testing.T) {
		ds := estimates.Measure([]*koji.Build{b(at(0), minutes(40)), b(at(0), minutes(10)), b(at(0), minutes(20)), b(at(0), minutes(30))}, now)
		assert.Equal(t, estimates.Durations{Count: 4, Mean: minutes(25), Median: minutes(25)}, ds)
	})
	t.Run("halves round to even microseconds, as timedelta division", func(t *testing.T) {
		ds := estimates.Measure([]*koji.Build{b(at(0), 2*time.Microsecond), b(at(0), 3*time.Microsecond)}, now)
		assert.Equal(t, 2*time.Microsecond, ds.Mean)
		assert.Equal(t, 2*time.Microsecond, ds.Median)
		ds = estimates.Measure([]*koji.Build{b(at(0), 3*time.Microsecond), b(at(0), 4*time.Microsecond)}, now)
		assert.Equal(t, 4*time.Microsecond, ds.Mean)
	})
	t.Run("builds without a start are left out; running ones last until now", func(t *testing.T) {
		ds := estimates.Measure([]*koji.Build{{}, nil, b(at(99*time.Hour), -1), b(at(0), minutes(20))}, now)
		assert.Equal(t, estimates.Durations{Count: 2, Mean: minutes(40), Median: minutes(40)}, ds)
	})
}

func TestDurationsOf(t *testing.T) {
	ds := estimates.Durations{Count: 3, Mean: time.Hour, Median: time.Minute}
	assert.Equal(t, time.Hour, ds.Of(estimates.Mean))
	assert.Equal(t, time.Minute, ds.Of(estimates.Median))
	assert.Equal(t, time.Minute, ds.Of(estimates.Statistic(7)))
	assert.Equal(t, "median", estimates.Median.String())
	assert.Equal(t, "Statistic(7)", estimates.Statistic(7).String())
}

func TestAverageBuildDurationsMixed(t *testing.T) {
	k := rsyslog()
	k.averages = map[string]float64{"bash": 600, "zsh": 90.5}
	e, hub := newEstimator(t, k)
	pkgs := []string{"bash", "rsyslog-container", "zsh", "bash", "nosuch", "ghost-container", "httpd-container", "rsyslog-container"}
	got, err := e.AverageBuildDurations(context.Background(), pkgs)
	require.NoError(t, err)

	rsyslogEst := estimates.Estimate{Package: "rsyslog-container", Duration: 11*time.Minute + 12*time.Second, OK: true,
		LastBuilds: estimates.Durations{Count: 5, Mean: 11*time.Minute + 12*time.Second, Median: 11 * time.Minute}}
	assert.Equal(t, []estimates.Estimate{
		{Package: "bash", Duration: 10 * time.Minute, OK: true},
		rsyslogEst,
		{Package: "zsh", Duration: 90*time.Second + 500*time.Millisecond, OK: true},
		{Package: "bash", Duration: 10 * time.Minute, OK: true},
		{Package: "nosuch"},
		{Package: "ghost-container"},
		{Package: "httpd-container", Duration: 31 * time.Minute, OK: true,
			LastBuilds: estimates.Durations{Count: 2, Mean: 31 * time.Minute, Median: 31 * time.Minute}},
		rsyslogEst,
	}, got)

	// One multicall per kind, each name once: the hub's averages, and the
	// package lookups then the listings. The kinds run concurrently.
	reqs := hub.Requests()
	assert.ElementsMatch(t, []request{
		{Method: "multiCall", Calls: []call{averageCall("bash"), averageCall("zsh"), averageCall("nosuch")}},
		{Method: "multiCall", Calls: []call{getPackageCall("rsyslog-container"), getPackageCall("ghost-container"), getPackageCall("httpd-container")}},
		{Method: "multiCall", Calls: []call{lastBuilds(7, 5), lastBuilds(8, 5)}},
	}, reqs)
	var lookups, listings int
	for i, r := range reqs {
		switch r.Calls[0].Method {
		case "getPackage":
			lookups = i
		case "listBuilds":
			listings = i
		}
	}
	assert.Less(t, lookups, listings, "packages are looked up before their builds are listed")
}

func TestAverageBuildDurationsStatistic(t *testing.T) {
	e, _ := newEstimator(t, rsyslog())
	e.Statistic = estimates.Median
	e.LastBuilds = 3
	got, err := e.AverageBuildDurations(context.Background(), []string{"rsyslog-container"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, 11*time.Minute, got[0].Duration)
	assert.Equal(t, estimates.Durations{Count: 3, Mean: 11 * time.Minute, Median: 11 * time.Minute}, got[0].LastBuilds)
}

func TestAverageBuildDurationsPackageFaults(t *testing.T) {
	k := rsyslog()
	k.averages = map[string]float64{"bash": 600}
	k.faulty = map[string]bool{"broken": true, "broken-container": true}
	e, _ := newEstimator(t, k)
	got, err := e.AverageBuildDurations(context.Background(), []string{"broken", "bash", "broken-container", "rsyslog-container", ""})
	require.NoError(t, err, "a package's fault is its own")
	require.Len(t, got, 5)

	for _, i := range []int{0, 2} {
		var f *koji.Fault
		require.ErrorAs(t, got[i].Err, &f, got[i].Package)
		assert.ErrorIs(t, got[i].Err, koji.ErrGeneric)
		assert.False(t, got[i].OK)
	}
	assert.Equal(t, estimates.Estimate{Package: "bash", Duration: 10 * time.Minute, OK: true}, got[1])
	assert.True(t, got[3].OK)
	assert.NoError(t, got[3].Err)
	var refErr *koji.RefError
	assert.ErrorAs(t, got[4].Err, &refErr, "an empty name is refused before anything is sent")
}

func TestAverageBuildDurationsNothingToAsk(t *testing.T) {
	e, hub := newEstimator(t, rsyslog())
	got, err := e.AverageBuildDurations(context.Background(), nil)
	require.NoError(t, err)
	assert.Empty(t, got)
	got, err = e.AverageBuildDurations(context.Background(), []string{""})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Error(t, got[0].Err)
	assert.Empty(t, hub.Requests())
}

func TestAverageBuildDurationsBatchSize(t *testing.T) {
	k := &fakeKoji{averages: map[string]float64{"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}, faulty: map[string]bool{"f": true}}
	e, hub := newEstimator(t, k)
	e.Batch = &multicall.Options{BatchSize: 2, Strict: true}
	got, err := e.AverageBuildDurations(context.Background(), []string{"a", "b", "c", "d", "e", "f"})
	require.NoError(t, err, "Strict is ignored: f's fault is its own")
	for i, est := range got[:5] {
		assert.Equal(t, time.Duration(i+1)*time.Second, est.Duration, est.Package)
	}
	assert.ErrorIs(t, got[5].Err, koji.ErrGeneric)
	assert.ElementsMatch(t, []request{
		{Method: "multiCall", Calls: []call{averageCall("a"), averageCall("b")}},
		{Method: "multiCall", Calls: []call{averageCall("c"), averageCall("d")}},
		{Method: "multiCall", Calls: []call{averageCall("e"), averageCall("f")}},
	}, hub.Requests())
}

func TestAverageBuildDurationsRequestFails(t *testing.T) {
	k := rsyslog()
	k.averages = map[string]float64{"bash": 600}
	e, hub := newEstimator(t, k)
	hub.setUnavailable()
	got, err := e.AverageBuildDurations(context.Background(), []string{"bash", "rsyslog-container"})
	var httpErr *koji.HTTPError
	require.ErrorAs(t, err, &httpErr)
	assert.Equal(t, 503, httpErr.StatusCode)
	assert.Nil(t, got)
}

func TestCanceledContext(t *testing.T) {
	k := rsyslog()
	k.averages = map[string]float64{"bash": 600}
	e, _ := newEstimator(t, k)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := e.AverageBuildDurations(ctx, []string{"bash", "rsyslog-container"})
	assert.ErrorIs(t, err, context.Canceled)
	_, _, err = e.AverageBuildDuration(ctx, "bash")
	assert.ErrorIs(t, err, context.Canceled)
	_, _, err = e.LastBuildsDuration(ctx, "rsyslog-container", 0)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestNoClient(t *testing.T) {
	var e estimates.Estimator
	ctx := context.Background()
	_, _, err := e.AverageBuildDuration(ctx, "bash")
	assert.ErrorIs(t, err, estimates.ErrNoClient)
	_, _, err = e.LastBuildsDuration(ctx, "bash", 0)
	assert.ErrorIs(t, err, estimates.ErrNoClient)
	_, err = e.AverageBuildDurations(ctx, []string{"bash"})
	assert.ErrorIs(t, err, estimates.ErrNoClient)
	_, err = e.TaskCompletion(ctx, &koji.Task{})
	assert.ErrorIs(t, err, estimates.ErrNoClient)
	_, err = e.TaskDuration(ctx, &koji.Task{})
	assert.ErrorIs(t, err, estimates.ErrNoClient)
	_, err = e.BuildCompletion(ctx, &koji.Build{})
	assert.ErrorIs(t, err, estimates.ErrNoClient)
}

func TestChannelFullErrorMatches(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", &estimates.ChannelFullError{TaskID: 1, ChannelID: 2, Capacity: 4, OpenWeight: 4.5})
	assert.ErrorIs(t, err, estimates.ErrChannelFull)
	assert.False(t, errors.Is(err, estimates.ErrNoPackage))
	assert.EqualError(t, err, "wrapped: estimates: task 1 waits in channel 2, whose open tasks weigh 4.5 of a capacity of 4")
}
