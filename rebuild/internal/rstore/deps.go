package rstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// depID interns a dependency and returns its id.
func (tx *Tx) depID(ctx context.Context, d Dependency) (int64, error) {
	const sel = "SELECT id FROM dependency WHERE name = ? AND epoch = ? AND version = ? AND release = ? AND arch = ?"
	args := []any{d.Name, d.Epoch, d.Version, d.Release, d.Arch}
	var id int64
	err := tx.queryRow(ctx, sel, args...).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("rstore: %w", err)
	}
	// Another resolver may insert the same NEVRA meanwhile; the conflict
	// clause keeps this transaction alive, and the select finds its row.
	if _, err := tx.exec(ctx, "INSERT INTO dependency (name, epoch, version, release, arch) VALUES (?, ?, ?, ?, ?) "+
		"ON CONFLICT DO NOTHING", args...); err != nil {
		return 0, err
	}
	if err := tx.queryRow(ctx, sel, args...).Scan(&id); err != nil {
		return 0, fmt.Errorf("rstore: %w", err)
	}
	return id, nil
}

func optDepID(ctx context.Context, tx *Tx, d *Dependency) (any, error) {
	if d == nil {
		return nil, nil
	}
	return tx.depID(ctx, *d)
}

func distanceArg(d int) any {
	if d <= 0 {
		return nil
	}
	return d
}

// SetBuildDeps records the result of resolving a build in its own repo:
// whether it resolved, its dependency set and the changes since the
// package's previous resolved build (applied changes).
func (tx *Tx) SetBuildDeps(ctx context.Context, build int64, resolved bool, deps []ResolvedDep, changes []Change) error {
	if err := tx.updateOne(ctx, "UPDATE build SET deps_resolved = ? WHERE id = ?", resolved, build); err != nil {
		return err
	}
	for _, q := range []string{"DELETE FROM build_dependency WHERE build_id = ?", "DELETE FROM applied_change WHERE build_id = ?"} {
		if _, err := tx.exec(ctx, q, build); err != nil {
			return err
		}
	}
	for _, d := range deps {
		id, err := tx.depID(ctx, d.Dependency)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, "INSERT INTO build_dependency (build_id, dependency_id, distance) VALUES (?, ?, ?)",
			build, id, distanceArg(d.Distance)); err != nil {
			return err
		}
	}
	return tx.insertChanges(ctx, "applied_change", "build_id", build, changes)
}

func (tx *Tx) insertChanges(ctx context.Context, table, owner string, id int64, changes []Change) error {
	for _, c := range changes {
		prev, err := optDepID(ctx, tx, c.Prev)
		if err != nil {
			return err
		}
		curr, err := optDepID(ctx, tx, c.Curr)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, "INSERT INTO "+table+" ("+owner+", prev_dep_id, curr_dep_id, distance) VALUES (?, ?, ?, ?)",
			id, prev, curr, distanceArg(c.Distance)); err != nil {
			return err
		}
	}
	return nil
}

// BuildDeps returns the dependency set recorded for a build, by name.
func (tx *Tx) BuildDeps(ctx context.Context, build int64) ([]ResolvedDep, error) {
	rows, err := tx.query(ctx, "SELECT d.name, d.epoch, d.version, d.release, d.arch, bd.distance FROM build_dependency bd "+
		"JOIN dependency d ON d.id = bd.dependency_id WHERE bd.build_id = ? ORDER BY d.name, d.arch", build)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r *sql.Rows) (ResolvedDep, error) {
		var d ResolvedDep
		var dist sql.NullInt64
		err := r.Scan(&d.Name, &d.Epoch, &d.Version, &d.Release, &d.Arch, &dist)
		d.Distance = int(dist.Int64)
		return d, err
	})
}

func (tx *Tx) changes(ctx context.Context, table, owner string, id int64) ([]Change, error) {
	rows, err := tx.query(ctx, "SELECT p.name, p.epoch, p.version, p.release, p.arch, c.name, c.epoch, c.version, c.release, c.arch, "+
		"ch.distance FROM "+table+" ch LEFT JOIN dependency p ON p.id = ch.prev_dep_id LEFT JOIN dependency c ON c.id = ch.curr_dep_id "+
		"WHERE ch."+owner+" = ? ORDER BY ch.id", id)
	if err != nil {
		return nil, err
	}
	out, err := collect(rows, func(r *sql.Rows) (Change, error) {
		var pn, pv, pr, pa, cn, cv, cr, ca sql.NullString
		var pe, ce, dist sql.NullInt64
		if err := r.Scan(&pn, &pe, &pv, &pr, &pa, &cn, &ce, &cv, &cr, &ca, &dist); err != nil {
			return Change{}, err
		}
		ch := Change{Distance: int(dist.Int64)}
		if pn.Valid {
			ch.Name = pn.String
			ch.Prev = &Dependency{Name: pn.String, Epoch: int(pe.Int64), Version: pv.String, Release: pr.String, Arch: pa.String}
		}
		if cn.Valid {
			ch.Name = cn.String
			ch.Curr = &Dependency{Name: cn.String, Epoch: int(ce.Int64), Version: cv.String, Release: cr.String, Arch: ca.String}
		}
		return ch, nil
	})
	return out, err
}

// AppliedChanges returns the dependency changes behind a build.
func (tx *Tx) AppliedChanges(ctx context.Context, build int64) ([]Change, error) {
	return tx.changes(ctx, "applied_change", "build_id", build)
}

// UnappliedChanges returns a package's dependency changes since its last
// build.
func (tx *Tx) UnappliedChanges(ctx context.Context, pkg int64) ([]Change, error) {
	return tx.changes(ctx, "unapplied_change", "package_id", pkg)
}

// ComparisonBuild returns the build a package's new resolution is compared
// with, as Koschei's get_build_for_comparison: the last build if its
// dependencies resolved; if they did not, the newest earlier build whose
// did; nil if the last build is not resolved yet (or there is none).
func (tx *Tx) ComparisonBuild(ctx context.Context, p *Package) (*Build, error) {
	if p.LastBuildID == nil {
		return nil, nil
	}
	last, err := tx.Build(ctx, *p.LastBuildID, false)
	if err != nil {
		return nil, err
	}
	if last.DepsResolved == nil {
		return nil, nil
	}
	if *last.DepsResolved {
		return last, nil
	}
	return tx.previousResolved(ctx, last)
}

// PreviousResolvedBuild returns the package's newest build before b whose
// dependencies resolved, the baseline of b's applied changes.
func (tx *Tx) PreviousResolvedBuild(ctx context.Context, b *Build) (*Build, error) {
	return tx.previousResolved(ctx, b)
}

func (tx *Tx) previousResolved(ctx context.Context, b *Build) (*Build, error) {
	bs, err := tx.builds(ctx, "package_id = ? AND deps_resolved = ? AND id <> ? AND (started < ? OR (started = ? AND id < ?)) "+
		"ORDER BY started DESC, id DESC LIMIT 1", b.PackageID, true, b.ID, utc(b.Started), utc(b.Started), b.ID)
	if err != nil || len(bs) == 0 {
		return nil, err
	}
	return bs[0], nil
}

// UnresolvedBuilds returns builds whose dependencies are not resolved yet
// but whose repo is known, by repo so that one repo serves a group.
func (tx *Tx) UnresolvedBuilds(ctx context.Context, limit int) ([]*Build, error) {
	return tx.builds(ctx, "deps_resolved IS NULL AND repo_id IS NOT NULL ORDER BY repo_id, id LIMIT ?", limit)
}

// SetResolution records a package's resolution in the collection's latest
// repo: resolved or not with the problems, the unapplied changes since its
// last build and the dependency priority they give. A resolution_change
// row is written only when resolved flips, or stays false with other
// problems (Koschei's RepoResolver). It reports whether it wrote one.
func (tx *Tx) SetResolution(ctx context.Context, pkg int64, repo int64, resolved bool, problems []string,
	changes []Change, dependencyPriority int64, now time.Time) (bool, error) {
	p, err := tx.Package(ctx, pkg, true)
	if err != nil {
		return false, err
	}
	record := p.Resolved == nil || *p.Resolved != resolved
	if !record && !resolved {
		prev, err := tx.Resolutions(ctx, pkg, 1)
		if err != nil {
			return false, err
		}
		record = len(prev) == 0 || !sameSet(prev[0].Problems, problems)
	}
	if err := tx.updateOne(ctx, "UPDATE package SET resolved = ?, dependency_priority = ? WHERE id = ?",
		resolved, dependencyPriority, pkg); err != nil {
		return false, err
	}
	if _, err := tx.exec(ctx, "DELETE FROM unapplied_change WHERE package_id = ?", pkg); err != nil {
		return false, err
	}
	if err := tx.insertChanges(ctx, "unapplied_change", "package_id", pkg, changes); err != nil {
		return false, err
	}
	if !record {
		return false, nil
	}
	id, err := tx.insert(ctx, "INSERT INTO resolution_change (package_id, resolved, repo_id, ts) VALUES (?, ?, ?, ?)",
		pkg, resolved, repo, utc(now))
	if err != nil {
		return false, err
	}
	for _, pr := range problems {
		if _, err := tx.exec(ctx, "INSERT INTO resolution_problem (resolution_id, problem) VALUES (?, ?)", id, pr); err != nil {
			return false, err
		}
	}
	return true, nil
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// Resolutions returns a package's recorded resolution changes, newest
// first; limit 0 for all.
func (tx *Tx) Resolutions(ctx context.Context, pkg int64, limit int) ([]Resolution, error) {
	q := "SELECT id, resolved, repo_id, ts FROM resolution_change WHERE package_id = ? ORDER BY ts DESC, id DESC"
	args := []any{pkg}
	if limit > 0 {
		q += " LIMIT ?"
		args = append(args, limit)
	}
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	rs, err := collect(rows, func(r *sql.Rows) (Resolution, error) {
		var res Resolution
		var repo sql.NullInt64
		err := r.Scan(&res.ID, &res.Resolved, &repo, &res.Time)
		res.RepoID, res.Time = int64Ptr(repo), res.Time.UTC()
		return res, err
	})
	if err != nil {
		return nil, err
	}
	for i := range rs {
		rows, err := tx.query(ctx, "SELECT problem FROM resolution_problem WHERE resolution_id = ? ORDER BY id", rs[i].ID)
		if err != nil {
			return nil, err
		}
		if rs[i].Problems, err = collect(rows, func(r *sql.Rows) (s string, err error) { return s, r.Scan(&s) }); err != nil {
			return nil, err
		}
	}
	return rs, nil
}

// A Candidate is what the priority of a package is computed from: the
// package, its collection's coefficient and buildroot state, and when its
// last build started.
type Candidate struct {
	Package            *Package
	Collection         string
	Coefficient        float64
	CollectionResolved *bool
	LastBuildStarted   *time.Time
}

// Candidates returns every tracked, unblocked package with its priority
// inputs, in one query (the scheduler filters and orders them).
func (tx *Tx) Candidates(ctx context.Context) ([]Candidate, error) {
	cols := ""
	for i, c := range splitColumns(packageColumns) {
		if i > 0 {
			cols += ", "
		}
		cols += "p." + c
	}
	rows, err := tx.query(ctx, "SELECT "+cols+", c.name, c.priority_coefficient, c.latest_repo_resolved, b.started "+
		"FROM package p JOIN collection c ON c.id = p.collection_id LEFT JOIN build b ON b.id = p.last_build_id "+
		"WHERE p.tracked AND NOT p.blocked ORDER BY p.id")
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r *sql.Rows) (Candidate, error) {
		var c Candidate
		var resolved sql.NullBool
		var started sql.NullTime
		p, err := scanPackage(scanAppend(r, &c.Collection, &c.Coefficient, &resolved, &started))
		if err != nil {
			return c, err
		}
		c.Package, c.CollectionResolved, c.LastBuildStarted = p, boolPtr(resolved), timePtr(started)
		return c, nil
	})
}

// scanAppender is a scanner that appends extra destinations to a row's
// Scan, so one row scanner serves a join's wider rows.
type scanAppender struct {
	r     *sql.Rows
	extra []any
}

func scanAppend(r *sql.Rows, extra ...any) scanAppender { return scanAppender{r, extra} }

func (s scanAppender) Scan(dest ...any) error { return s.r.Scan(append(dest, s.extra...)...) }

func splitColumns(cols string) []string {
	out := strings.Split(cols, ",")
	for i := range out {
		out[i] = strings.TrimSpace(out[i])
	}
	return out
}
