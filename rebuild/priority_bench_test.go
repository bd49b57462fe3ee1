package rebuild

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/rebuild/internal/rstore"
)

// The priority benchmark's size: the 25,000 packages with
// 500,000 dependency edges (20 recorded dependencies for each last
// build), a tenth of the packages with unapplied changes.
const (
	benchPackages    = 25_000
	benchDepsPerPkg  = 20
	benchDepPool     = 5_000 // distinct NEVRAs the edges point to
	benchChangedEach = 10
)

// fillPriorityStore fills a collection with benchPackages tracked,
// resolved packages, each with a complete real build started in the
// last two weeks and its dependency set, and returns the time the
// builds are relative to.
func fillPriorityStore(b *testing.B, st *Store) time.Time {
	ctx := context.Background()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	c := &Collection{Name: "f44", DisplayName: "Fedora 44", Target: "f44-candidate", BuildTag: "f44-build", DestTag: "f44"}
	if err := st.AddCollection(ctx, c); err != nil {
		b.Fatal(err)
	}
	names := make([]string, benchPackages)
	for i := range names {
		names[i] = fmt.Sprintf("pkg%05d", i)
	}
	if err := st.Track(ctx, "f44", names, true); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	dep := func(i, v int) Dependency {
		return Dependency{Name: fmt.Sprintf("dep%04d", i), Version: fmt.Sprint(v), Release: "1.fc44", Arch: "x86_64"}
	}
	err := st.db.Update(ctx, func(tx *rstore.Tx) error {
		if err := tx.SetCollectionRepo(ctx, c.ID, 1, true, nil); err != nil {
			return err
		}
		pkgs, err := tx.Packages(ctx, c.ID)
		if err != nil {
			return err
		}
		resolved, repo := true, int64(1)
		for n, p := range pkgs {
			started := now.Add(-time.Duration(rng.IntN(14*24*60)) * time.Minute)
			finished := started.Add(time.Hour)
			build := &Build{PackageID: p.ID, State: BuildComplete, TaskID: int64(1000 + n), Started: started,
				Finished: &finished, Version: "1", Release: "1.fc44", RepoID: &repo, Real: true, DepsResolved: &resolved}
			if err := tx.InsertBuild(ctx, build); err != nil {
				return err
			}
			deps := make([]ResolvedDep, 0, benchDepsPerPkg)
			for _, d := range rng.Perm(benchDepPool)[:benchDepsPerPkg] {
				deps = append(deps, ResolvedDep{Dependency: dep(d, 1), Distance: 1 + rng.IntN(4)})
			}
			if err := tx.SetBuildDeps(ctx, build.ID, true, deps, nil); err != nil {
				return err
			}
			var changes []Change
			if n%benchChangedEach == 0 {
				for _, d := range deps[:2] {
					prev, curr := d.Dependency, dep(0, 2)
					curr.Name = prev.Name
					changes = append(changes, Change{Name: prev.Name, Prev: &prev, Curr: &curr, Distance: d.Distance})
				}
			}
			prio := DefaultPriorityConfig().DependencyPriority(changes)
			if _, err := tx.SetResolution(ctx, p.ID, 1, true, nil, changes, prio, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return now
}

// BenchmarkPriorities is the scheduler's recomputation of every
// package's priority (Service.Priorities: one query, then the formula)
// on a store of 25,000 packages and 500,000 dependency edges.
func BenchmarkPriorities(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			dsn := filepath.Join(b.TempDir(), "rebuild.db")
			if backend == "postgres" {
				dsn = testenv.PostgresDSN(b)
			}
			ctx := context.Background()
			st, err := OpenStore(ctx, dsn)
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			start := time.Now()
			now := fillPriorityStore(b, st)
			b.Logf("%s: filled in %v", backend, time.Since(start).Round(time.Millisecond))
			svc, err := NewService(Config{Store: st, Hub: newFakeHub(&clock{t: now}), Now: func() time.Time { return now }})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				prios, err := svc.Priorities(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if len(prios) != benchPackages {
					b.Fatalf("%d schedulable packages, want %d", len(prios), benchPackages)
				}
			}
		})
	}
}
