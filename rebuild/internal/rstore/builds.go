package rstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

const buildColumns = "id, package_id, state, task_id, started, finished, epoch, version, release, repo_id, " +
	"real, untagged, cancel_requested, deps_resolved"

func scanBuild(r interface{ Scan(...any) error }) (*Build, error) {
	b := &Build{}
	var finished sql.NullTime
	var epoch, repo sql.NullInt64
	var deps sql.NullBool
	if err := r.Scan(&b.ID, &b.PackageID, &b.State, &b.TaskID, &b.Started, &finished, &epoch, &b.Version,
		&b.Release, &repo, &b.Real, &b.Untagged, &b.CancelRequested, &deps); err != nil {
		return nil, err
	}
	b.Started = b.Started.UTC()
	b.Finished, b.Epoch, b.RepoID, b.DepsResolved = timePtr(finished), intPtr(epoch), int64Ptr(repo), boolPtr(deps)
	return b, nil
}

func nullInt(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func nullInt64(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// InsertBuild stores a build, sets b.ID and moves the package's
// last-build pointers.
func (tx *Tx) InsertBuild(ctx context.Context, b *Build) error {
	id, err := tx.insert(ctx, "INSERT INTO build (package_id, state, task_id, started, finished, epoch, version, release, "+
		"repo_id, real, untagged, deps_resolved) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		b.PackageID, b.State, b.TaskID, utc(b.Started), nullTime(b.Finished), nullInt(b.Epoch), b.Version, b.Release,
		nullInt64(b.RepoID), b.Real, b.Untagged, nullBool(b.DepsResolved))
	if err != nil {
		return err
	}
	b.ID = id
	return tx.refreshLastBuilds(ctx, b.PackageID)
}

func nullBool(p *bool) any {
	if p == nil {
		return nil
	}
	return *p
}

// Build returns the build with that id, or ErrNotFound; lock takes its
// row lock (lock builds before their package, as Koschei does, so that
// two writers cannot deadlock).
func (tx *Tx) Build(ctx context.Context, id int64, lock bool) (*Build, error) {
	q := "SELECT " + buildColumns + " FROM build WHERE id = ?"
	if lock {
		q += tx.forUpdate()
	}
	b, err := scanBuild(tx.queryRow(ctx, q, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: build %d", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("rstore: %w", err)
	}
	return b, nil
}

func (tx *Tx) builds(ctx context.Context, where string, args ...any) ([]*Build, error) {
	rows, err := tx.query(ctx, "SELECT "+buildColumns+" FROM build WHERE "+where, args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r *sql.Rows) (*Build, error) { return scanBuild(r) })
}

// BuildsByTask returns the builds of that Koji task (one per collection
// that registered it).
func (tx *Tx) BuildsByTask(ctx context.Context, task int64) ([]*Build, error) {
	return tx.builds(ctx, "task_id = ? ORDER BY id", task)
}

// RunningBuilds returns the builds still running, oldest first.
func (tx *Tx) RunningBuilds(ctx context.Context) ([]*Build, error) {
	return tx.builds(ctx, "state = ? ORDER BY started, id", BuildRunning)
}

// CountRunning counts the running builds of every collection.
func (tx *Tx) CountRunning(ctx context.Context) (int, error) {
	var n int
	err := tx.queryRow(ctx, "SELECT COUNT(*) FROM build WHERE state = ?", BuildRunning).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("rstore: %w", err)
	}
	return n, nil
}

// PackageBuilds returns a package's builds, newest first; limit 0 for all.
func (tx *Tx) PackageBuilds(ctx context.Context, pkg int64, limit int) ([]*Build, error) {
	q := "package_id = ? ORDER BY started DESC, id DESC"
	if limit > 0 {
		return tx.builds(ctx, q+" LIMIT ?", pkg, limit)
	}
	return tx.builds(ctx, q, pkg)
}

// PreviousBuild returns the package's build started before b, nil if
// none. Koschei's set_failed_build_priority looks this up without the
// package filter, comparing with any package's build (§2.3); this is the
// fix.
func (tx *Tx) PreviousBuild(ctx context.Context, b *Build) (*Build, error) {
	bs, err := tx.builds(ctx, "package_id = ? AND id <> ? AND (started < ? OR (started = ? AND id < ?)) "+
		"ORDER BY started DESC, id DESC LIMIT 1", b.PackageID, b.ID, utc(b.Started), utc(b.Started), b.ID)
	if err != nil || len(bs) == 0 {
		return nil, err
	}
	return bs[0], nil
}

// FinishBuild sets a running build's final state, finish time and repo,
// and moves the package's pointers.
func (tx *Tx) FinishBuild(ctx context.Context, b *Build, state BuildState, finished time.Time, repo int64) error {
	if err := tx.updateOne(ctx, "UPDATE build SET state = ?, finished = ?, repo_id = ? WHERE id = ?",
		state, utc(finished), repo, b.ID); err != nil {
		return err
	}
	b.State, b.RepoID = state, &repo
	f := utc(finished)
	b.Finished = &f
	return tx.refreshLastBuilds(ctx, b.PackageID)
}

// SetBuildRepo records the repo a build runs in, once known.
func (tx *Tx) SetBuildRepo(ctx context.Context, id, repo int64) error {
	return tx.updateOne(ctx, "UPDATE build SET repo_id = ? WHERE id = ?", repo, id)
}

// SetBuildTimes records a build's start (the task's creation) and, if
// known, finish.
func (tx *Tx) SetBuildTimes(ctx context.Context, id int64, started time.Time, finished *time.Time) error {
	return tx.updateOne(ctx, "UPDATE build SET started = ?, finished = ? WHERE id = ?", utc(started), nullTime(finished), id)
}

// RequestCancel marks a running build to be cancelled by the watcher.
func (tx *Tx) RequestCancel(ctx context.Context, id int64) error {
	return tx.updateOne(ctx, "UPDATE build SET cancel_requested = ? WHERE id = ? AND state = ?", true, id, BuildRunning)
}

// SetUntagged marks a real build untagged from (or back in) the
// destination tag; untagged builds do not count as the last build.
func (tx *Tx) SetUntagged(ctx context.Context, b *Build, untagged bool) error {
	if err := tx.updateOne(ctx, "UPDATE build SET untagged = ? WHERE id = ?", untagged, b.ID); err != nil {
		return err
	}
	b.Untagged = untagged
	return tx.refreshLastBuilds(ctx, b.PackageID)
}

// DeleteBuild deletes a build (cancelled, or unusable) and its changes,
// and moves the package's pointers back.
func (tx *Tx) DeleteBuild(ctx context.Context, b *Build) error {
	if err := tx.updateOne(ctx, "DELETE FROM build WHERE id = ?", b.ID); err != nil {
		return err
	}
	return tx.refreshLastBuilds(ctx, b.PackageID)
}

// SetKojiTasks replaces the buildArch subtasks recorded for a build.
func (tx *Tx) SetKojiTasks(ctx context.Context, build int64, tasks []KojiTask) error {
	if _, err := tx.exec(ctx, "DELETE FROM koji_task WHERE build_id = ?", build); err != nil {
		return err
	}
	for _, t := range tasks {
		if _, err := tx.exec(ctx, "INSERT INTO koji_task (build_id, task_id, arch, state, started, finished) VALUES (?, ?, ?, ?, ?, ?)",
			build, t.TaskID, t.Arch, t.State, nullTime(t.Started), nullTime(t.Finished)); err != nil {
			return err
		}
	}
	return nil
}

// KojiTasks returns the buildArch subtasks recorded for a build.
func (tx *Tx) KojiTasks(ctx context.Context, build int64) ([]KojiTask, error) {
	rows, err := tx.query(ctx, "SELECT task_id, arch, state, started, finished FROM koji_task WHERE build_id = ? ORDER BY task_id", build)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r *sql.Rows) (KojiTask, error) {
		var t KojiTask
		var s, f sql.NullTime
		err := r.Scan(&t.TaskID, &t.Arch, &t.State, &s, &f)
		t.Started, t.Finished = timePtr(s), timePtr(f)
		return t, err
	})
}

// refreshLastBuilds does what Koschei's update_last_build trigger does:
// the last build is the newest (by start) build not untagged, the last
// complete build that one if finished or else the newest finished one.
func (tx *Tx) refreshLastBuilds(ctx context.Context, pkg int64) error {
	var last, lastComplete, state sql.NullInt64
	err := tx.queryRow(ctx, "SELECT id FROM build WHERE package_id = ? AND NOT untagged ORDER BY started DESC, id DESC LIMIT 1",
		pkg).Scan(&last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("rstore: %w", err)
	}
	err = tx.queryRow(ctx, "SELECT id, state FROM build WHERE package_id = ? AND NOT untagged AND state <> ? "+
		"ORDER BY started DESC, id DESC LIMIT 1", pkg, BuildRunning).Scan(&lastComplete, &state)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("rstore: %w", err)
	}
	_, err = tx.exec(ctx, "UPDATE package SET last_build_id = ?, last_complete_build_id = ?, last_complete_build_state = ? WHERE id = ?",
		nullable(last), nullable(lastComplete), nullable(state), pkg)
	return err
}

func nullable(n sql.NullInt64) any {
	if !n.Valid {
		return nil
	}
	return n.Int64
}
