package rstore

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/internal/testenv"
)

// eachBackend runs fn on a fresh SQLite file and a fresh PostgreSQL schema.
func eachBackend(t *testing.T, fn func(t *testing.T, db *DB)) {
	open := func(t *testing.T, dsn string) *DB {
		db, err := Open(context.Background(), dsn)
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		return db
	}
	t.Run("sqlite", func(t *testing.T) { fn(t, open(t, filepath.Join(t.TempDir(), "rebuild.db"))) })
	t.Run("postgres", func(t *testing.T) { fn(t, open(t, testenv.PostgresDSN(t))) })
}

func update(t *testing.T, db *DB, fn func(tx *Tx) error) {
	t.Helper()
	require.NoError(t, db.Update(context.Background(), fn))
}

func addCollection(t *testing.T, db *DB, name string) *Collection {
	c := &Collection{Name: name, Target: name, BuildTag: name + "-build", DestTag: name}
	update(t, db, func(tx *Tx) error { return tx.AddCollection(context.Background(), c) })
	return c
}

func TestOpenTwiceAndDefaults(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		c := addCollection(t, db, "f44")
		require.Equal(t, "f44", c.DisplayName)
		update(t, db, func(tx *Tx) error {
			got, err := tx.CollectionByName(ctx, "f44")
			require.NoError(t, err)
			require.Equal(t, c, got)
			require.Equal(t, 1.0, got.PriorityCoefficient)
			require.Equal(t, "build", got.BuildGroup)
			require.Equal(t, "default", got.Channel)
			require.Nil(t, got.LatestRepoID)
			_, err = tx.CollectionByName(ctx, "nope")
			require.ErrorIs(t, err, ErrNotFound)
			require.Error(t, tx.AddCollection(ctx, &Collection{Name: "x"}))
			return nil
		})
		// Migrating again is a no-op.
		require.NoError(t, db.migrate(ctx))
	})
}

func TestPackagesSyncAndTrack(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		c := addCollection(t, db, "f44")
		update(t, db, func(tx *Tx) error {
			added, err := tx.SyncPackages(ctx, c.ID, []PackageEntry{{Name: "a"}, {Name: "b", Blocked: true}})
			require.NoError(t, err)
			require.Equal(t, []string{"a", "b"}, added)
			added, err = tx.SyncPackages(ctx, c.ID, []PackageEntry{{Name: "a", Blocked: true}, {Name: "b"}, {Name: "c"}})
			require.NoError(t, err)
			require.Equal(t, []string{"c"}, added)
			require.NoError(t, tx.Track(ctx, c.ID, []string{"a", "d"}, true))
			ps, err := tx.Packages(ctx, c.ID)
			require.NoError(t, err)
			require.Len(t, ps, 4)
			want := map[string][2]bool{"a": {true, true}, "b": {false, false}, "c": {false, false}, "d": {true, false}}
			for _, p := range ps {
				require.Equal(t, want[p.Name], [2]bool{p.Tracked, p.Blocked}, p.Name)
			}
			d, err := tx.PackageByName(ctx, c.ID, "d")
			require.NoError(t, err)
			require.NoError(t, tx.SetPackage(ctx, d.ID, FieldManualPriority, 40))
			require.NoError(t, tx.AddManualPriority(ctx, d.ID, 2))
			require.NoError(t, tx.SetPackage(ctx, d.ID, FieldStaticPriority, -7))
			require.Error(t, tx.SetPackage(ctx, d.ID, "name", "x"))
			require.ErrorIs(t, tx.SetPackage(ctx, 9999, FieldManualPriority, 1), ErrNotFound)
			d, err = tx.Package(ctx, d.ID, true)
			require.NoError(t, err)
			require.Equal(t, int64(42), d.ManualPriority)
			require.Equal(t, int64(-7), d.StaticPriority)
			return nil
		})
	})
}

func evr(name, v string) *Dependency {
	return &Dependency{Name: name, Version: v, Release: "1", Arch: "x86_64"}
}

func TestBuildsAndLastBuildPointers(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		c := addCollection(t, db, "f44")
		t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		update(t, db, func(tx *Tx) error {
			require.NoError(t, tx.Track(ctx, c.ID, []string{"a", "b"}, true))
			a, _ := tx.PackageByName(ctx, c.ID, "a")
			b, _ := tx.PackageByName(ctx, c.ID, "b")
			repo := int64(7)
			real := &Build{PackageID: a.ID, State: BuildComplete, TaskID: 10, Started: t0, Finished: ptr(t0.Add(time.Hour)),
				Version: "1", Release: "1", RepoID: &repo, Real: true}
			require.NoError(t, tx.InsertBuild(ctx, real))
			// Another package's failed build in between: the previous build
			// of a's next build must still be a's own (Koschei's bug, §2.3).
			other := &Build{PackageID: b.ID, State: BuildFailed, TaskID: 11, Started: t0.Add(2 * time.Hour),
				Finished: ptr(t0.Add(3 * time.Hour)), Version: "1", Release: "1", RepoID: &repo}
			require.NoError(t, tx.InsertBuild(ctx, other))
			scratch := &Build{PackageID: a.ID, State: BuildRunning, TaskID: 12, Started: t0.Add(4 * time.Hour), Version: "1", Release: "1"}
			require.NoError(t, tx.InsertBuild(ctx, scratch))

			a, _ = tx.Package(ctx, a.ID, false)
			require.Equal(t, scratch.ID, *a.LastBuildID)
			require.Equal(t, real.ID, *a.LastCompleteBuildID)
			require.Equal(t, BuildComplete, *a.LastCompleteBuildState)
			require.True(t, a.Running())
			n, err := tx.CountRunning(ctx)
			require.NoError(t, err)
			require.Equal(t, 1, n)

			prev, err := tx.PreviousBuild(ctx, scratch)
			require.NoError(t, err)
			require.Equal(t, real.ID, prev.ID)

			require.NoError(t, tx.FinishBuild(ctx, scratch, BuildFailed, t0.Add(5*time.Hour), 8))
			a, _ = tx.Package(ctx, a.ID, false)
			require.False(t, a.Running())
			require.Equal(t, BuildFailed, *a.LastCompleteBuildState)
			got, err := tx.Build(ctx, scratch.ID, true)
			require.NoError(t, err)
			require.Equal(t, scratch, got)

			bs, err := tx.BuildsByTask(ctx, 12)
			require.NoError(t, err)
			require.Len(t, bs, 1)

			require.NoError(t, tx.DeleteBuild(ctx, scratch))
			a, _ = tx.Package(ctx, a.ID, false)
			require.Equal(t, real.ID, *a.LastBuildID)
			require.Equal(t, BuildComplete, *a.LastCompleteBuildState)

			require.NoError(t, tx.SetUntagged(ctx, real, true))
			a, _ = tx.Package(ctx, a.ID, false)
			require.Nil(t, a.LastBuildID)
			require.Nil(t, a.LastCompleteBuildState)

			require.NoError(t, tx.SetKojiTasks(ctx, other.ID, []KojiTask{{TaskID: 13, Arch: "x86_64", State: 5, Started: ptr(t0)}}))
			kt, err := tx.KojiTasks(ctx, other.ID)
			require.NoError(t, err)
			require.Equal(t, []KojiTask{{TaskID: 13, Arch: "x86_64", State: 5, Started: ptr(t0)}}, kt)
			return nil
		})
		// The constraints hold: a finished build needs its repo.
		err := db.Update(ctx, func(tx *Tx) error {
			a, _ := tx.PackageByName(ctx, c.ID, "a")
			return tx.InsertBuild(ctx, &Build{PackageID: a.ID, State: BuildComplete, TaskID: 99, Started: t0, Version: "1", Release: "1"})
		})
		require.Error(t, err)
	})
}

func ptr[T any](v T) *T { return &v }

func TestDependenciesAndResolution(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		c := addCollection(t, db, "f44")
		t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		update(t, db, func(tx *Tx) error {
			require.NoError(t, tx.Track(ctx, c.ID, []string{"a"}, true))
			a, _ := tx.PackageByName(ctx, c.ID, "a")
			repo := int64(3)
			b1 := &Build{PackageID: a.ID, State: BuildComplete, TaskID: 1, Started: t0, Finished: ptr(t0), Version: "1", Release: "1", RepoID: &repo, Real: true}
			require.NoError(t, tx.InsertBuild(ctx, b1))
			a, _ = tx.Package(ctx, a.ID, false)
			cmp, err := tx.ComparisonBuild(ctx, a)
			require.NoError(t, err)
			require.Nil(t, cmp, "not resolved yet: nothing to compare with")

			deps := []ResolvedDep{{Dependency: *evr("gcc", "14"), Distance: 1}, {Dependency: *evr("glibc", "2.40"), Distance: 0}}
			require.NoError(t, tx.SetBuildDeps(ctx, b1.ID, true, deps, nil))
			got, err := tx.BuildDeps(ctx, b1.ID)
			require.NoError(t, err)
			require.Equal(t, deps, got)
			cmp, err = tx.ComparisonBuild(ctx, a)
			require.NoError(t, err)
			require.Equal(t, b1.ID, cmp.ID)

			changes := []Change{
				{Name: "gcc", Prev: evr("gcc", "14"), Curr: evr("gcc", "15"), Distance: 1},
				{Name: "zlib", Curr: evr("zlib", "1.3"), Distance: 2},
				{Name: "glibc", Prev: evr("glibc", "2.40")},
			}
			wrote, err := tx.SetResolution(ctx, a.ID, 4, true, nil, changes, 384, t0)
			require.NoError(t, err)
			require.True(t, wrote, "first resolution is recorded")
			un, err := tx.UnappliedChanges(ctx, a.ID)
			require.NoError(t, err)
			require.Equal(t, changes, un)
			a, _ = tx.Package(ctx, a.ID, false)
			require.Equal(t, int64(384), a.DependencyPriority)
			require.True(t, *a.Resolved)

			wrote, err = tx.SetResolution(ctx, a.ID, 5, true, nil, nil, 0, t0.Add(time.Hour))
			require.NoError(t, err)
			require.False(t, wrote, "still resolved: nothing new to record")
			wrote, err = tx.SetResolution(ctx, a.ID, 6, false, []string{"nothing provides foo"}, nil, 0, t0.Add(2*time.Hour))
			require.NoError(t, err)
			require.True(t, wrote)
			wrote, err = tx.SetResolution(ctx, a.ID, 7, false, []string{"nothing provides foo"}, nil, 0, t0.Add(3*time.Hour))
			require.NoError(t, err)
			require.False(t, wrote, "same problems")
			wrote, err = tx.SetResolution(ctx, a.ID, 8, false, []string{"nothing provides bar"}, nil, 0, t0.Add(4*time.Hour))
			require.NoError(t, err)
			require.True(t, wrote, "other problems")
			rs, err := tx.Resolutions(ctx, a.ID, 0)
			require.NoError(t, err)
			require.Len(t, rs, 3)
			require.Equal(t, []string{"nothing provides bar"}, rs[0].Problems)
			require.Equal(t, int64(8), *rs[0].RepoID)
			require.True(t, rs[2].Resolved)

			require.NoError(t, tx.ClearPriorities(ctx, a.ID))
			un, err = tx.UnappliedChanges(ctx, a.ID)
			require.NoError(t, err)
			require.Empty(t, un)

			require.NoError(t, tx.SetSkipResolution(ctx, a.ID, true))
			a, _ = tx.Package(ctx, a.ID, false)
			require.Nil(t, a.Resolved)

			require.NoError(t, tx.SetBuildDeps(ctx, b1.ID, false, nil, nil))
			cmp, err = tx.ComparisonBuild(ctx, a)
			require.NoError(t, err)
			require.Nil(t, cmp, "no earlier resolved build")
			return nil
		})
	})
}

func TestCandidates(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		c := addCollection(t, db, "f44")
		t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		update(t, db, func(tx *Tx) error {
			require.NoError(t, tx.Track(ctx, c.ID, []string{"a", "b"}, true))
			_, err := tx.SyncPackages(ctx, c.ID, []PackageEntry{{Name: "a"}, {Name: "b", Blocked: true}, {Name: "u"}})
			require.NoError(t, err)
			require.NoError(t, tx.SetCollectionRepo(ctx, c.ID, 3, false, []string{"no gcc"}))
			a, _ := tx.PackageByName(ctx, c.ID, "a")
			repo := int64(3)
			require.NoError(t, tx.InsertBuild(ctx, &Build{PackageID: a.ID, State: BuildComplete, TaskID: 1, Started: t0,
				Finished: ptr(t0), Version: "1", Release: "1", RepoID: &repo, Real: true}))
			return nil
		})
		require.NoError(t, db.View(ctx, func(tx *Tx) error {
			cs, err := tx.Candidates(ctx)
			require.NoError(t, err)
			require.Len(t, cs, 1)
			require.Equal(t, "a", cs[0].Package.Name)
			require.Equal(t, "f44", cs[0].Collection)
			require.False(t, *cs[0].CollectionResolved)
			require.Equal(t, t0, *cs[0].LastBuildStarted)
			probs, err := tx.BuildrootProblems(ctx, c.ID)
			require.NoError(t, err)
			require.Equal(t, []string{"no gcc"}, probs)
			return nil
		}))
	})
}

func TestUpdateRollsBack(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		boom := errors.New("boom")
		err := db.Update(ctx, func(tx *Tx) error {
			require.NoError(t, tx.AddCollection(ctx, &Collection{Name: "x", Target: "x", BuildTag: "x", DestTag: "x"}))
			return boom
		})
		require.ErrorIs(t, err, boom)
		require.NoError(t, db.View(ctx, func(tx *Tx) error {
			cs, err := tx.Collections(ctx)
			require.Empty(t, cs)
			return err
		}))
	})
}
