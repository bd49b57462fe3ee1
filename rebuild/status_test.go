package rebuild

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The status read side: every package with its state, priority and its
// parts (the time part from the last build), and one package alone.
func TestCollectionStatus(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		e := newTestEnv(t, dsn, nil)
		start(t, e)
		require.NoError(t, e.store.Track(ctx, "f44", []string{"qux"}, true)) // never built
		require.NoError(t, e.store.SetStaticPriority(ctx, "f44", "foo", 7))
		e.clock.Add(24 * time.Hour)
		e.repo(repoV("2"))
		require.NoError(t, e.svc.Resolve(ctx))

		cfg := DefaultPriorityConfig()
		now := e.clock.Now()
		s, err := e.store.CollectionStatus(ctx, "f44", cfg, now)
		require.NoError(t, err)
		assert.Equal(t, "Fedora 44", s.Collection.DisplayName)
		assert.Equal(t, CollectionOK, s.State)
		assert.Empty(t, s.BuildrootProblems)
		var names []string
		rows := map[string]PackageRow{}
		for _, r := range s.Packages {
			names = append(names, r.Package.Name)
			rows[r.Package.Name] = r
		}
		assert.Equal(t, []string{"bar", "baz", "foo", "qux"}, names)

		bar := rows["bar"]
		assert.Equal(t, StateOK, bar.State)
		require.True(t, bar.Schedulable, bar.Reason)
		require.NotNil(t, bar.LastBuild)
		require.NotNil(t, bar.Parts.Time)
		assert.InDelta(t, cfg.TimePriority(now.Sub(bar.LastBuild.Started)), *bar.Parts.Time, 1e-9)
		assert.Equal(t, int64(256), bar.Parts.Dependency, "foo 1 -> 2 at distance 1")
		assert.Equal(t, int64(128), rows["baz"].Parts.Dependency, "foo at distance 2")
		assert.InDelta(t, float64(bar.Parts.Dependency)+*bar.Parts.Time, bar.Priority, 1e-9)
		assert.Equal(t, int64(7), rows["foo"].Parts.Static)
		assert.InDelta(t, 7+*rows["foo"].Parts.Time, rows["foo"].Priority, 1e-9)
		assert.Equal(t, 1.0, bar.Parts.Coefficient)

		qux := rows["qux"]
		assert.False(t, qux.Schedulable)
		assert.Equal(t, StateUnknown, qux.State)
		assert.Nil(t, qux.LastBuild)
		assert.Nil(t, qux.Parts.Time)

		one, err := e.store.PackageRow(ctx, "f44", "bar", cfg, now)
		require.NoError(t, err)
		assert.Equal(t, bar.Priority, one.Priority)
		assert.Equal(t, bar.LastBuild.ID, one.LastBuild.ID)

		_, err = e.store.PackageRow(ctx, "f44", "nosuch", cfg, now)
		assert.True(t, errors.Is(err, ErrNotFound), "%v", err)
		_, err = e.store.CollectionStatus(ctx, "nosuch", cfg, now)
		assert.True(t, errors.Is(err, ErrNotFound), "%v", err)
	})
}
