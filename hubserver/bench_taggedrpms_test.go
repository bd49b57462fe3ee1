package hubserver_test

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkHubTaggedRPMS20000 reads the RPMs of the tree of benchTagTree,
// each of its 20,000 builds with a src and an x86_64 RPM, from an
// anonymous client: listTaggedRPMS("bench-top", inherit=True) answers
// 40,000 RPMs and the 20,000 builds, getLatestRPMS("bench-top") the
// 4,000 RPMs of the 2,000 latest builds. One op is one call: the hub's
// queries (one for the RPMs), its encoding and the client's decoding.
func BenchmarkHubTaggedRPMS20000(b *testing.B) {
	benchBackends(b, func(b *testing.B, dsn string) {
		kh := startKoji(b, dsn, nil)
		benchTagTree(b, kh.sslClient(b, ""))
		err := kh.koji.TaskTx(context.Background(), 1, func(ctx context.Context) error {
			for id := int64(1); id <= benchTaggedPackages*benchTaggedVersions; id++ {
				for _, arch := range []string{"src", "x86_64"} {
					if _, err := kh.koji.AddRPMForTest(ctx, id, fmt.Sprintf("rpm%d", id), arch); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		c := kh.client(b)
		ctx := context.Background()
		for _, bc := range []struct {
			method string
			kw     map[string]any
			rpms   int
		}{
			{"listTaggedRPMS", map[string]any{"inherit": true}, 2 * benchTaggedPackages * benchTaggedVersions},
			{"getLatestRPMS", nil, 2 * benchTaggedPackages},
		} {
			b.Run(bc.method, func(b *testing.B) {
				for b.Loop() {
					var pair [2][]map[string]any
					if err := c.CallKw(ctx, bc.method, &pair, []any{"bench-top"}, bc.kw); err != nil {
						b.Fatal(err)
					}
					if len(pair[0]) != bc.rpms {
						b.Fatalf("%s: %d rpms", bc.method, len(pair[0]))
					}
				}
			})
		}
	})
}
