package koji_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gokoji/gokoji/internal/kojitest"
	"github.com/gokoji/gokoji/koji"
	kolo "github.com/kolo/xmlrpc"
)

// benchBuild is the part of getBuild's reply the benchmark decodes.
type benchBuild struct {
	ID      int    `xmlrpc:"id"`
	NVR     string `xmlrpc:"nvr"`
	Owner   string `xmlrpc:"owner_name"`
	Release string `xmlrpc:"release"`
}

// benchHub answers every call with the recorded getBuild reply after a
// fixed latency, standing in for the time a hub spends on a query.
func benchHub(b *testing.B, latency time.Duration) string {
	reply := kojitest.Fixture(b, "getBuild").Response
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(latency)
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write(reply)
	}))
	b.Cleanup(srv.Close)
	return srv.URL + "/kojihub"
}

// BenchmarkConcurrentAnonymousCalls runs getBuild from 32 goroutines at once
// through one client: ours sends them in parallel; kolo/xmlrpc's client is a
// net/rpc codec, which sends one call at a time.
func BenchmarkConcurrentAnonymousCalls(b *testing.B) {
	for _, latency := range []time.Duration{0, 2 * time.Millisecond} {
		url := benchHub(b, latency)
		b.Run("latency="+latency.String()+"/gokoji", func(b *testing.B) {
			c, err := koji.NewClient(url)
			if err != nil {
				b.Fatal(err)
			}
			b.SetParallelism(16) // 16 × GOMAXPROCS goroutines
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					var build benchBuild
					if err := c.Call(context.Background(), "getBuild", &build, "bar-2.0-3.el9"); err != nil || build.NVR == "" {
						b.Errorf("getBuild: %v %+v", err, build)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
		})
		b.Run("latency="+latency.String()+"/kolo", func(b *testing.B) {
			c, err := kolo.NewClient(url, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			b.SetParallelism(16)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					var build benchBuild
					if err := c.Call("getBuild", "bar-2.0-3.el9", &build); err != nil || build.NVR == "" {
						b.Errorf("getBuild: %v %+v", err, build)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
		})
	}
}
