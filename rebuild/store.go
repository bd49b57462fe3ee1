package rebuild

import (
	"context"
	"time"

	"github.com/gokoji/gokoji/rebuild/internal/rstore"
)

// ErrNotFound is returned for a collection, package or build that does
// not exist.
var ErrNotFound = rstore.ErrNotFound

// Store is the service's database: SQLite by default, PostgreSQL for
// several services sharing one. Its methods are the administration and
// read side (Koschei's koschei-admin and frontend); the service writes the
// rest.
type Store struct{ db *rstore.DB }

// OpenStore opens (creating or migrating) the database named by dsn: a
// postgres:// URL, or an SQLite file path (":memory:" for a private
// in-memory one).
func OpenStore(ctx context.Context, dsn string) (*Store, error) {
	db, err := rstore.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (st *Store) Close() error { return st.db.Close() }

// AddCollection adds a collection (Koschei's create-collection) and sets
// c.ID; see Collection for the defaults of empty fields.
func (st *Store) AddCollection(ctx context.Context, c *Collection) error {
	return st.db.Update(ctx, func(tx *rstore.Tx) error { return tx.AddCollection(ctx, c) })
}

// Collections returns every collection.
func (st *Store) Collections(ctx context.Context) (cs []*Collection, err error) {
	err = st.db.View(ctx, func(tx *rstore.Tx) error {
		cs, err = tx.Collections(ctx)
		return err
	})
	return cs, err
}

// Track starts (or stops) tracking packages of a collection (add-pkg),
// adding those not yet known from the hub's package list.
func (st *Store) Track(ctx context.Context, collection string, names []string, tracked bool) error {
	return st.db.Update(ctx, func(tx *rstore.Tx) error {
		c, err := tx.CollectionByName(ctx, collection)
		if err != nil {
			return err
		}
		return tx.Track(ctx, c.ID, names, tracked)
	})
}

// withPackage runs fn on a collection's package, in a transaction.
func (st *Store) withPackage(ctx context.Context, collection, name string, fn func(tx *rstore.Tx, p *Package) error) error {
	return st.db.Update(ctx, func(tx *rstore.Tx) error {
		c, err := tx.CollectionByName(ctx, collection)
		if err != nil {
			return err
		}
		p, err := tx.PackageByName(ctx, c.ID, name)
		if err != nil {
			return err
		}
		return fn(tx, p)
	})
}

// SetManualPriority sets a package's manual priority, the boost a user
// gives; it is reset when a build is submitted and when one finishes.
func (st *Store) SetManualPriority(ctx context.Context, collection, name string, priority int64) error {
	return st.withPackage(ctx, collection, name, func(tx *rstore.Tx, p *Package) error {
		return tx.SetPackage(ctx, p.ID, rstore.FieldManualPriority, priority)
	})
}

// SetStaticPriority sets a package's static priority, never reset.
func (st *Store) SetStaticPriority(ctx context.Context, collection, name string, priority int64) error {
	return st.withPackage(ctx, collection, name, func(tx *rstore.Tx, p *Package) error {
		return tx.SetPackage(ctx, p.ID, rstore.FieldStaticPriority, priority)
	})
}

// SetArchOverride sets the arches a package builds for ("a b"), or those
// it does not ("^a b"); "" for the SRPM's own.
func (st *Store) SetArchOverride(ctx context.Context, collection, name, override string) error {
	return st.withPackage(ctx, collection, name, func(tx *rstore.Tx, p *Package) error {
		if err := tx.SetPackage(ctx, p.ID, rstore.FieldArchOverride, override); err != nil {
			return err
		}
		// An override may give a package skipped for lack of arches some.
		return tx.SetPackage(ctx, p.ID, rstore.FieldSkipReason, SkipNone)
	})
}

// SetSkipResolution schedules a package without resolving its
// dependencies (or resolves them again).
func (st *Store) SetSkipResolution(ctx context.Context, collection, name string, skip bool) error {
	return st.withPackage(ctx, collection, name, func(tx *rstore.Tx, p *Package) error {
		return tx.SetSkipResolution(ctx, p.ID, skip)
	})
}

// CancelBuild asks for a running build to be cancelled; the watcher
// cancels its task at its next look.
func (st *Store) CancelBuild(ctx context.Context, build int64) error {
	return st.db.Update(ctx, func(tx *rstore.Tx) error { return tx.RequestCancel(ctx, build) })
}

// PackageStatus is a package as a status page shows it.
type PackageStatus struct {
	Package *Package
	State   PackageState
	// Priority is the current priority; Schedulable false (with the
	// reason) when it has none.
	Priority    float64
	Schedulable bool
	Reason      string
}

// Packages returns the status of a collection's packages, by name, with
// priorities computed at now by cfg (without PrioritySources).
func (st *Store) Packages(ctx context.Context, collection string, cfg PriorityConfig, now time.Time) ([]PackageStatus, error) {
	var out []PackageStatus
	err := st.db.View(ctx, func(tx *rstore.Tx) error {
		c, err := tx.CollectionByName(ctx, collection)
		if err != nil {
			return err
		}
		ps, err := tx.Packages(ctx, c.ID)
		if err != nil {
			return err
		}
		for _, p := range ps {
			in := PriorityInput{Package: p, Coefficient: c.PriorityCoefficient, CollectionResolved: c.LatestRepoResolved}
			if p.LastBuildID != nil {
				b, err := tx.Build(ctx, *p.LastBuildID, false)
				if err != nil {
					return err
				}
				in.LastBuildStarted = &b.Started
			}
			prio, ok := cfg.Priority(in, now)
			out = append(out, PackageStatus{Package: p, State: StateOf(p), Priority: prio, Schedulable: ok, Reason: in.Unschedulable()})
		}
		return nil
	})
	return out, err
}

// BuildRecord is a build with the dependency changes behind it.
type BuildRecord struct {
	Build   *Build
	Changes []Change
}

// History is a package's record: its builds (newest first) with their
// applied changes, the changes since its last build, and its resolution
// results.
type History struct {
	Package     *Package
	Builds      []BuildRecord
	Unapplied   []Change
	Resolutions []Resolution
}

// PackageHistory returns a package's history; limit bounds the builds
// (0: all).
func (st *Store) PackageHistory(ctx context.Context, collection, name string, limit int) (*History, error) {
	h := &History{}
	err := st.db.View(ctx, func(tx *rstore.Tx) error {
		c, err := tx.CollectionByName(ctx, collection)
		if err != nil {
			return err
		}
		if h.Package, err = tx.PackageByName(ctx, c.ID, name); err != nil {
			return err
		}
		builds, err := tx.PackageBuilds(ctx, h.Package.ID, limit)
		if err != nil {
			return err
		}
		for _, b := range builds {
			ch, err := tx.AppliedChanges(ctx, b.ID)
			if err != nil {
				return err
			}
			h.Builds = append(h.Builds, BuildRecord{Build: b, Changes: ch})
		}
		if h.Unapplied, err = tx.UnappliedChanges(ctx, h.Package.ID); err != nil {
			return err
		}
		h.Resolutions, err = tx.Resolutions(ctx, h.Package.ID, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}
