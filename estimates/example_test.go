package estimates_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gokoji/gokoji/estimates"
	"github.com/gokoji/gokoji/koji"
)

// completeBuild is a build as listBuilds sends it, in part.
func completeBuild(id int, nvr string, start time.Time, took time.Duration) map[string]any {
	end := start.Add(took)
	return map[string]any{
		"build_id": id, "nvr": nvr, "state": int(koji.BuildComplete),
		"start_time": hubTime(start), "start_ts": hubTS(start),
		"completion_time": hubTime(end), "completion_ts": hubTS(end),
	}
}

func ExampleEstimator_AverageBuildDuration() {
	hub := startHub(map[string]handler{
		"getAverageBuildDuration": func(args []any, _ map[string]any) (any, error) {
			if args[0] == "ceph-ansible" {
				return 143.401978, nil // seconds
			}
			return nil, nil // a package the hub has no complete build of
		},
	})
	defer hub.Close()
	client, err := koji.NewClient(hub.URL())
	if err != nil {
		fmt.Println(err)
		return
	}
	e := &estimates.Estimator{Client: client}

	for _, pkg := range []string{"ceph-ansible", "brand-new"} {
		d, ok, err := e.AverageBuildDuration(context.Background(), pkg)
		switch {
		case err != nil:
			fmt.Println(err)
		case !ok:
			fmt.Println(pkg, "has no estimate")
		default:
			fmt.Println(pkg, "builds in", d)
		}
	}
	// Output:
	// ceph-ansible builds in 2m23.401978s
	// brand-new has no estimate
}

func ExampleEstimator_LastBuildsDuration() {
	// A container whose last five builds took about 20 minutes, but one
	// of which hung for seven hours.
	start := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	hub := startHub(map[string]handler{
		"getPackage": func(args []any, _ map[string]any) (any, error) {
			return map[string]any{"id": 7, "name": args[0]}, nil
		},
		"listBuilds": func(_ []any, _ map[string]any) (any, error) {
			return []any{
				completeBuild(15, "rsyslog-container-8.2-5", start.Add(96*time.Hour), 21*time.Minute),
				completeBuild(14, "rsyslog-container-8.2-4", start.Add(72*time.Hour), 7*time.Hour),
				completeBuild(13, "rsyslog-container-8.2-3", start.Add(48*time.Hour), 20*time.Minute),
				completeBuild(12, "rsyslog-container-8.2-2", start.Add(24*time.Hour), 22*time.Minute),
				completeBuild(11, "rsyslog-container-8.2-1", start, 19*time.Minute),
			}, nil
		},
	})
	defer hub.Close()
	client, err := koji.NewClient(hub.URL())
	if err != nil {
		fmt.Println(err)
		return
	}
	e := &estimates.Estimator{Client: client}

	ds, ok, err := e.LastBuildsDuration(context.Background(), "rsyslog-container", 5)
	if err != nil || !ok {
		fmt.Println("no estimate:", err)
		return
	}
	fmt.Printf("%d builds: mean %v, median %v\n", ds.Count, ds.Mean, ds.Median)
	// Output:
	// 5 builds: mean 1h40m24s, median 21m0s
}

func ExampleEstimator_AverageBuildDurations() {
	hub := startHub(map[string]handler{
		"getAverageBuildDuration": func(args []any, _ map[string]any) (any, error) {
			return map[any]any{"bash": 1800.0, "zsh": 600.0}[args[0]], nil
		},
		"getPackage": func(args []any, _ map[string]any) (any, error) {
			return map[string]any{"id": 7, "name": args[0]}, nil
		},
		"listBuilds": func(_ []any, _ map[string]any) (any, error) {
			start := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
			return []any{
				completeBuild(12, "rsyslog-container-8.2-2", start.Add(time.Hour), 24*time.Minute),
				completeBuild(11, "rsyslog-container-8.2-1", start, 18*time.Minute),
			}, nil
		},
	})
	defer hub.Close()
	client, err := koji.NewClient(hub.URL())
	if err != nil {
		fmt.Println(err)
		return
	}
	e := &estimates.Estimator{Client: client}

	// RPMs and containers mixed: the hub's averages in one multicall, the
	// containers' last builds in two more.
	ests, err := e.AverageBuildDurations(context.Background(), []string{"bash", "rsyslog-container", "zsh", "fish"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, est := range ests {
		switch {
		case est.Err != nil:
			fmt.Println(est.Package, est.Err)
		case !est.OK:
			fmt.Println(est.Package, "has no estimate")
		case est.LastBuilds.Count > 0:
			fmt.Println(est.Package, est.Duration, "from its last", est.LastBuilds.Count, "builds")
		default:
			fmt.Println(est.Package, est.Duration)
		}
	}
	// Output:
	// bash 30m0s
	// rsyslog-container 21m0s from its last 2 builds
	// zsh 10m0s
	// fish has no estimate
}

func ExampleEstimator_TaskCompletion() {
	hub := startHub(map[string]handler{
		"getTaskInfo": func(args []any, _ map[string]any) (any, error) {
			return map[string]any{
				"id": args[0], "method": "buildArch", "state": int(koji.TaskOpen), "channel_id": 1,
				"create_ts": 1795309200.0, "start_ts": 1795309500.0, // 01:00 and 01:05 UTC
				"request": []any{"tasks/101/101/bash-5.2.37-1.fc43.src.rpm", 12, "x86_64", true, map[string]any{}},
			}, nil
		},
		"getAverageBuildDuration": func(args []any, _ map[string]any) (any, error) {
			return 1800.0, nil
		},
	})
	defer hub.Close()
	client, err := koji.NewClient(hub.URL())
	if err != nil {
		fmt.Println(err)
		return
	}
	e := &estimates.Estimator{Client: client}
	ctx := context.Background()

	task, err := client.GetTaskInfo(ctx, 102, &koji.TaskInfoOptions{Request: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	end, err := e.TaskCompletion(ctx, task)
	switch {
	case errors.Is(err, estimates.ErrChannelFull), errors.Is(err, estimates.ErrNoDescendents):
		fmt.Println("waiting; ask again later")
	case err != nil:
		fmt.Println("no estimate:", err)
	default:
		fmt.Println("task", task.ID, "should finish at", end.Format(time.TimeOnly))
	}
	// Output:
	// task 102 should finish at 01:35:00
}

func ExampleMeasure() {
	ts := func(hhmm string) *float64 {
		t, _ := time.Parse("15:04", hhmm)
		s := float64(t.Unix())
		return &s
	}
	builds := []*koji.Build{
		{NVR: "bash-5.2.37-1.fc43", StartTS: ts("10:00"), CompletionTS: ts("10:30")},
		{NVR: "bash-5.2.37-2.fc43", StartTS: ts("11:00"), CompletionTS: ts("11:40")},
		{NVR: "bash-5.2.37-3.fc43", StartTS: ts("12:00")}, // still building
	}
	now, _ := time.Parse("15:04", "13:20")
	ds := estimates.Measure(builds, now)
	fmt.Println(ds.Count, ds.Mean, ds.Median, ds.Of(estimates.Median))
	// Output:
	// 3 50m0s 40m0s 40m0s
}
