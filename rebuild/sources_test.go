package rebuild

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// extraSource is a PrioritySource answering from a map by package name,
// failing for the names in fail, and keeping what it was asked.
type extraSource struct {
	mu    sync.Mutex
	prio  map[string]float64
	fail  map[string]bool
	asked map[string]PackageInfo
}

func (s *extraSource) Priority(_ context.Context, pkg PackageInfo) (float64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked[pkg.Package.Name] = pkg
	if s.fail[pkg.Package.Name] {
		return 0, errors.New("no answer")
	}
	return s.prio[pkg.Package.Name], nil
}

func (s *extraSource) take() map[string]PackageInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.asked
	s.asked = map[string]PackageInfo{}
	return a
}

// PrioritySources add to the dynamic part, scaled by the collection's
// coefficient with it, are asked only about schedulable packages with
// their last build, and a failing one skips its package for the cycle;
// what they add can make the scheduler submit a package.
func TestPrioritySources(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		src := &extraSource{prio: map[string]float64{"baz": 300}, fail: map[string]bool{"foo": true}, asked: map[string]PackageInfo{}}
		e := newTestEnvColl(t, dsn, func(c *Config) {
			c.PrioritySources = []PrioritySource{src, PrioritySourceFunc(func(_ context.Context, pkg PackageInfo) (float64, error) {
				return 10, nil // a second source, for every package
			})}
		}, func(c *Collection) { c.PriorityCoefficient = 0.5 })
		start(t, e)
		e.clock.Add(24 * time.Hour) // time priority 106.5

		prios, err := e.svc.Priorities(ctx)
		require.NoError(t, err)
		require.Len(t, prios, 2, "foo's source failed: skipped")
		require.Equal(t, "baz", prios[0].Package.Name)
		require.InDelta(t, 0.5*(106.5+300+10), prios[0].Priority, 0.1)
		require.Equal(t, "bar", prios[1].Package.Name)
		require.InDelta(t, 0.5*(106.5+10), prios[1].Priority, 0.1)
		asked := src.take()
		require.Len(t, asked, 3)
		baz := asked["baz"]
		require.Equal(t, "f44", baz.Collection.Name)
		require.NotNil(t, baz.LastBuild)
		require.True(t, baz.LastBuild.Real)
		require.Equal(t, "1", baz.LastBuild.Version)
		require.Equal(t, *baz.Package.LastBuildID, baz.LastBuild.ID)

		// 208 is under the threshold (256); with 500 from the source baz
		// is at 308 and goes.
		e.schedule(t, false)
		src.mu.Lock()
		src.prio["baz"] = 500
		src.mu.Unlock()
		b := e.schedule(t, true)
		require.Equal(t, []string{"baz-1-1 f44-candidate x86_64"}, e.hub.submitted)
		require.Equal(t, e.pkg(t, "baz").ID, b.PackageID)

		// baz is running now: unschedulable, not asked about.
		src.take()
		prios, err = e.svc.Priorities(ctx)
		require.NoError(t, err)
		require.Len(t, prios, 1)
		require.NotContains(t, src.take(), "baz")

		// The status pages show priorities without the sources.
		st, err := e.store.Packages(ctx, "f44", DefaultPriorityConfig(), e.clock.Now())
		require.NoError(t, err)
		for _, s := range st {
			if s.Package.Name == "bar" {
				require.True(t, s.Schedulable)
				require.InDelta(t, 0.5*106.5, s.Priority, 0.1)
			}
		}
	})
}
