package multicall

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gokoji/gokoji/koji"
)

const benchCalls = 10_000

// BenchmarkGetBuild10000 fetches 10,000 builds from a local hub that adds
// 1 ms to every request: one call per request (in a row, and from 32
// goroutines), one multicall, and batches of 500, sent in a row as
// Python's MultiCallSession(batch=500) does and concurrently as a Batch of
// reads does. calls/s counts getBuild calls.
func BenchmarkGetBuild10000(b *testing.B) {
	h := newBuildHub(b)
	h.delay = time.Millisecond
	c, err := koji.NewClient(h.url())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	report := func(b *testing.B) {
		b.ReportMetric(float64(b.N*benchCalls)/b.Elapsed().Seconds(), "calls/s")
		b.ReportMetric(float64(h.requests.Swap(0))/float64(b.N), "requests/op")
	}
	b.Run("single-calls", func(b *testing.B) {
		h.requests.Store(0)
		for range b.N {
			for i := range benchCalls {
				var build koji.Build
				if err := c.Call(ctx, "getBuild", &build, i); err != nil {
					b.Fatal(err)
				}
			}
		}
		report(b)
	})
	b.Run("single-calls-32-goroutines", func(b *testing.B) {
		h.requests.Store(0)
		for range b.N {
			var wg sync.WaitGroup
			next := make(chan int)
			for range 32 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range next {
						var build koji.Build
						if err := c.Call(ctx, "getBuild", &build, i); err != nil {
							b.Error(err)
						}
					}
				}()
			}
			for i := range benchCalls {
				next <- i
			}
			close(next)
			wg.Wait()
		}
		report(b)
	})
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"multicall-one-request", Options{}},
		{"multicall-batch500-in-a-row", Options{BatchSize: 500, Concurrency: 1}},
		{"multicall-batch500-concurrent", Options{BatchSize: 500, Concurrency: 4}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			h.requests.Store(0)
			for range b.N {
				batch := New(c, &tc.opts)
				results := make([]*Result[koji.Build], benchCalls)
				for i := range benchCalls {
					results[i] = Add[koji.Build](batch, "getBuild", i)
				}
				if err := batch.Run(ctx); err != nil {
					b.Fatal(err)
				}
				if v, err := results[benchCalls-1].Value(); err != nil || v.ID != benchCalls-1 {
					b.Fatal(v, err)
				}
			}
			report(b)
		})
	}
}
