package hubserver_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/multicall"
)

const (
	benchTaggedPackages = 2000 // packages of the tag tree of BenchmarkHubListTagged
	benchTaggedVersions = 10   // builds of each package
)

// benchTagTree makes the tag tree of the listTagged benchmarks: bench-top
// inherits from bench-mid, which inherits from bench-base, whose package
// list holds 2,000 packages. Each package has 10 builds: versions 1–4 are
// tagged into bench-base, 5–7 into bench-mid and 8–10 into bench-top, in
// that order, so that bench-top with inheritance holds 20,000 builds and
// the latest of each package is its version 10.
func benchTagTree(b *testing.B, admin *koji.Client) {
	ctx := context.Background()
	run := func(add func(batch *multicall.Batch)) {
		b.Helper()
		batch := multicall.New(admin, &multicall.Options{Strict: true, BatchSize: 1000})
		add(batch)
		if err := batch.Run(ctx); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := admin.CreateTag(ctx, "bench-base", nil); err != nil {
		b.Fatal(err)
	}
	if _, err := admin.CreateTag(ctx, "bench-mid", &koji.CreateTagOptions{Parent: "bench-base"}); err != nil {
		b.Fatal(err)
	}
	if _, err := admin.CreateTag(ctx, "bench-top", &koji.CreateTagOptions{Parent: "bench-mid"}); err != nil {
		b.Fatal(err)
	}
	run(func(batch *multicall.Batch) {
		for p := range benchTaggedPackages {
			multicall.Add[any](batch, "packageListAdd", "bench-base", fmt.Sprintf("pkg%04d", p), "kojiadmin")
			for v := 1; v <= benchTaggedVersions; v++ {
				multicall.Add[int](batch, "createEmptyBuild", fmt.Sprintf("pkg%04d", p), fmt.Sprint(v), "1", nil)
			}
		}
	})
	run(func(batch *multicall.Batch) {
		for v := 1; v <= benchTaggedVersions; v++ {
			tag := "bench-top"
			switch {
			case v <= 4:
				tag = "bench-base"
			case v <= 7:
				tag = "bench-mid"
			}
			for p := range benchTaggedPackages {
				multicall.Add[any](batch, "tagBuildBypass", tag, fmt.Sprintf("pkg%04d-%d-1", p, v))
			}
		}
	})
}

// BenchmarkHubTagged20000 reads the tree of benchTagTree from an
// anonymous client, the hub set up once for both sub-benchmarks:
//   - listTagged: listTagged("bench-top", inherit=True), all 20,000
//     builds;
//   - getLatestBuilds: getLatestBuilds("bench-top"), the newest tagged
//     build of each of the 2,000 packages, each its version 10, found in
//     bench-top ahead of the builds its parents hold.
//
// Timed are the hub's query, its encoding of the answer and the client's
// decoding into koji.TaggedBuild values; one op is one call.
func BenchmarkHubTagged20000(b *testing.B) {
	benchBackends(b, func(b *testing.B, dsn string) {
		kh := startKoji(b, dsn, nil)
		benchTagTree(b, kh.sslClient(b, ""))
		c := kh.client(b)
		ctx := context.Background()
		b.Run("listTagged", func(b *testing.B) {
			for b.Loop() {
				builds, err := c.ListTagged(ctx, "bench-top", &koji.ListTaggedOptions{Inherit: true})
				if err != nil {
					b.Fatal(err)
				}
				if len(builds) != benchTaggedPackages*benchTaggedVersions {
					b.Fatalf("listTagged: %d builds", len(builds))
				}
			}
		})
		b.Run("getLatestBuilds", func(b *testing.B) {
			for b.Loop() {
				builds, err := c.GetLatestBuilds(ctx, "bench-top", nil)
				if err != nil {
					b.Fatal(err)
				}
				if len(builds) != benchTaggedPackages {
					b.Fatalf("getLatestBuilds: %d builds", len(builds))
				}
				for _, build := range builds {
					if build.Version != fmt.Sprint(benchTaggedVersions) || build.TagName != "bench-top" {
						b.Fatalf("getLatestBuilds: %s in %s", build.NVR, build.TagName)
					}
				}
			}
		})
	})
}
