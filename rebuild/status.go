package rebuild

import (
	"context"
	"time"

	"github.com/gokoji/gokoji/rebuild/internal/rstore"
)

// PriorityParts are the terms of a package's priority (§2.1), as a
// status page shows them: manual and static outside the coefficient,
// dependency, build and time inside it.
type PriorityParts struct {
	Manual, Static    int64
	Dependency, Build int64
	// Time is the time priority since the last build started; nil
	// without a last build.
	Time        *float64
	Coefficient float64
}

// A PackageRow is a package of a collection's status: its state and
// current priority (without PrioritySources, which only a running
// Service asks), the priority's parts, and its last build.
type PackageRow struct {
	PackageStatus
	Parts     PriorityParts
	LastBuild *Build // nil if none
}

// CollectionStatus is a collection as a status page shows it.
type CollectionStatus struct {
	Collection *Collection
	State      CollectionState
	// BuildrootProblems are why the build group did not install in the
	// latest repo, when it did not.
	BuildrootProblems []string
	// Packages are the collection's packages, by name.
	Packages []PackageRow
}

func packageRow(c *Collection, p *Package, last *Build, cfg PriorityConfig, now time.Time) PackageRow {
	in := PriorityInput{Package: p, Coefficient: c.PriorityCoefficient, CollectionResolved: c.LatestRepoResolved}
	parts := PriorityParts{Manual: p.ManualPriority, Static: p.StaticPriority, Dependency: p.DependencyPriority,
		Build: p.BuildPriority, Coefficient: c.PriorityCoefficient}
	if last != nil {
		in.LastBuildStarted = &last.Started
		t := cfg.TimePriority(now.Sub(last.Started))
		parts.Time = &t
	}
	prio, ok := cfg.Priority(in, now)
	return PackageRow{
		PackageStatus: PackageStatus{Package: p, State: StateOf(p), Priority: prio, Schedulable: ok, Reason: in.Unschedulable()},
		Parts:         parts,
		LastBuild:     last,
	}
}

// CollectionStatus returns the named collection's status with
// priorities computed at now by cfg; ErrNotFound if there is no such
// collection.
func (st *Store) CollectionStatus(ctx context.Context, name string, cfg PriorityConfig, now time.Time) (*CollectionStatus, error) {
	out := &CollectionStatus{}
	err := st.db.View(ctx, func(tx *rstore.Tx) error {
		c, err := tx.CollectionByName(ctx, name)
		if err != nil {
			return err
		}
		out.Collection, out.State = c, CollectionStateOf(c)
		if out.BuildrootProblems, err = tx.BuildrootProblems(ctx, c.ID); err != nil {
			return err
		}
		ps, err := tx.Packages(ctx, c.ID)
		if err != nil {
			return err
		}
		last, err := tx.LastBuilds(ctx, c.ID)
		if err != nil {
			return err
		}
		for _, p := range ps {
			var b *Build
			if p.LastBuildID != nil {
				b = last[*p.LastBuildID]
			}
			out.Packages = append(out.Packages, packageRow(c, p, b, cfg, now))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PackageRow returns one package's row of its collection's status;
// ErrNotFound if there is no such collection or package.
func (st *Store) PackageRow(ctx context.Context, collection, name string, cfg PriorityConfig, now time.Time) (*PackageRow, error) {
	var row PackageRow
	err := st.db.View(ctx, func(tx *rstore.Tx) error {
		c, err := tx.CollectionByName(ctx, collection)
		if err != nil {
			return err
		}
		p, err := tx.PackageByName(ctx, c.ID, name)
		if err != nil {
			return err
		}
		var last *Build
		if p.LastBuildID != nil {
			if last, err = tx.Build(ctx, *p.LastBuildID, false); err != nil {
				return err
			}
		}
		row = packageRow(c, p, last, cfg, now)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &row, nil
}
