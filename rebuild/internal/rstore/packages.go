package rstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
)

const collectionColumns = "id, name, display_name, koji_instance, target, build_tag, dest_tag, " +
	"priority_coefficient, build_group, build_group_packages, channel, poll_untracked, latest_repo_id, latest_repo_resolved"

func scanCollection(r interface{ Scan(...any) error }) (*Collection, error) {
	c := &Collection{}
	var group string
	var repo sql.NullInt64
	var resolved sql.NullBool
	if err := r.Scan(&c.ID, &c.Name, &c.DisplayName, &c.KojiInstance, &c.Target, &c.BuildTag, &c.DestTag,
		&c.PriorityCoefficient, &c.BuildGroup, &group, &c.Channel, &c.PollUntracked, &repo, &resolved); err != nil {
		return nil, err
	}
	if group != "" {
		c.BuildGroupPackages = strings.Fields(group)
	}
	c.LatestRepoID, c.LatestRepoResolved = int64Ptr(repo), boolPtr(resolved)
	return c, nil
}

// AddCollection stores a new collection and sets c.ID. Empty fields get
// their defaults: DisplayName the name, KojiInstance "primary",
// PriorityCoefficient 1, BuildGroup "build", Channel "default".
func (tx *Tx) AddCollection(ctx context.Context, c *Collection) error {
	if c.Name == "" || c.Target == "" || c.BuildTag == "" || c.DestTag == "" {
		return errors.New("rstore: a collection needs a name, a target, a build tag and a destination tag")
	}
	if c.DisplayName == "" {
		c.DisplayName = c.Name
	}
	if c.KojiInstance == "" {
		c.KojiInstance = "primary"
	}
	if c.PriorityCoefficient == 0 {
		c.PriorityCoefficient = 1
	}
	if c.BuildGroup == "" {
		c.BuildGroup = "build"
	}
	if c.Channel == "" {
		c.Channel = "default"
	}
	id, err := tx.insert(ctx, "INSERT INTO collection (name, display_name, koji_instance, target, build_tag, dest_tag, "+
		"priority_coefficient, build_group, build_group_packages, channel, poll_untracked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		c.Name, c.DisplayName, c.KojiInstance, c.Target, c.BuildTag, c.DestTag, c.PriorityCoefficient,
		c.BuildGroup, strings.Join(c.BuildGroupPackages, " "), c.Channel, c.PollUntracked)
	if err != nil {
		return err
	}
	c.ID = id
	return nil
}

// Collections returns every collection, by id.
func (tx *Tx) Collections(ctx context.Context) ([]*Collection, error) {
	rows, err := tx.query(ctx, "SELECT "+collectionColumns+" FROM collection ORDER BY id")
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r *sql.Rows) (*Collection, error) { return scanCollection(r) })
}

// Collection returns the collection with that id, or ErrNotFound.
func (tx *Tx) Collection(ctx context.Context, id int64) (*Collection, error) {
	return tx.oneCollection(ctx, "id = ?", id)
}

// CollectionByName returns the collection of that name, or ErrNotFound.
func (tx *Tx) CollectionByName(ctx context.Context, name string) (*Collection, error) {
	return tx.oneCollection(ctx, "name = ?", name)
}

func (tx *Tx) oneCollection(ctx context.Context, where string, arg any) (*Collection, error) {
	c, err := scanCollection(tx.queryRow(ctx, "SELECT "+collectionColumns+" FROM collection WHERE "+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: collection %v", ErrNotFound, arg)
	}
	if err != nil {
		return nil, fmt.Errorf("rstore: %w", err)
	}
	return c, nil
}

// SetCollectionRepo records that the collection's buildroot was resolved
// in repo, and whether it resolved, replacing its buildroot problems.
func (tx *Tx) SetCollectionRepo(ctx context.Context, id, repo int64, resolved bool, problems []string) error {
	if _, err := tx.exec(ctx, "UPDATE collection SET latest_repo_id = ?, latest_repo_resolved = ? WHERE id = ?",
		repo, resolved, id); err != nil {
		return err
	}
	if _, err := tx.exec(ctx, "DELETE FROM buildroot_problem WHERE collection_id = ?", id); err != nil {
		return err
	}
	for _, p := range problems {
		if _, err := tx.exec(ctx, "INSERT INTO buildroot_problem (collection_id, problem) VALUES (?, ?)", id, p); err != nil {
			return err
		}
	}
	return nil
}

// BuildrootProblems returns the problems of the collection's last
// buildroot resolution.
func (tx *Tx) BuildrootProblems(ctx context.Context, id int64) ([]string, error) {
	rows, err := tx.query(ctx, "SELECT problem FROM buildroot_problem WHERE collection_id = ? ORDER BY id", id)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r *sql.Rows) (s string, err error) { return s, r.Scan(&s) })
}

const packageColumns = "id, collection_id, name, tracked, blocked, skip_resolution, resolved, arch_override, " +
	"static_priority, manual_priority, build_priority, dependency_priority, skip_reason, " +
	"last_build_id, last_complete_build_id, last_complete_build_state"

func scanPackage(r interface{ Scan(...any) error }) (*Package, error) {
	p := &Package{}
	var resolved sql.NullBool
	var last, lastComplete, lastState sql.NullInt64
	if err := r.Scan(&p.ID, &p.CollectionID, &p.Name, &p.Tracked, &p.Blocked, &p.SkipResolution, &resolved,
		&p.ArchOverride, &p.StaticPriority, &p.ManualPriority, &p.BuildPriority, &p.DependencyPriority,
		&p.SkipReason, &last, &lastComplete, &lastState); err != nil {
		return nil, err
	}
	p.Resolved = boolPtr(resolved)
	p.LastBuildID, p.LastCompleteBuildID = int64Ptr(last), int64Ptr(lastComplete)
	if lastState.Valid {
		s := BuildState(lastState.Int64)
		p.LastCompleteBuildState = &s
	}
	return p, nil
}

// A PackageEntry is a package of a destination tag's package list.
type PackageEntry struct {
	Name    string
	Blocked bool
}

// SyncPackages brings the collection's packages in line with its
// destination tag's package list, as Koschei's refresh_packages: new
// names become untracked packages, and blocked follows the list. It
// returns the names added.
func (tx *Tx) SyncPackages(ctx context.Context, collection int64, entries []PackageEntry) ([]string, error) {
	have, err := tx.Packages(ctx, collection)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]*Package, len(have))
	for _, p := range have {
		byName[p.Name] = p
	}
	var added []string
	for _, e := range entries {
		p, ok := byName[e.Name]
		switch {
		case !ok:
			if _, err := tx.insert(ctx, "INSERT INTO package (collection_id, name, blocked) VALUES (?, ?, ?)",
				collection, e.Name, e.Blocked); err != nil {
				return nil, err
			}
			added = append(added, e.Name)
		case p.Blocked != e.Blocked:
			if _, err := tx.exec(ctx, "UPDATE package SET blocked = ? WHERE id = ?", e.Blocked, p.ID); err != nil {
				return nil, err
			}
		}
	}
	return added, nil
}

// Track marks the named packages of the collection tracked (or not),
// adding those the collection does not have yet.
func (tx *Tx) Track(ctx context.Context, collection int64, names []string, tracked bool) error {
	for _, name := range names {
		p, err := tx.PackageByName(ctx, collection, name)
		if errors.Is(err, ErrNotFound) {
			_, err = tx.insert(ctx, "INSERT INTO package (collection_id, name, tracked) VALUES (?, ?, ?)", collection, name, tracked)
			if err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, "UPDATE package SET tracked = ? WHERE id = ?", tracked, p.ID); err != nil {
			return err
		}
	}
	return nil
}

// Packages returns the collection's packages, by name.
func (tx *Tx) Packages(ctx context.Context, collection int64) ([]*Package, error) {
	rows, err := tx.query(ctx, "SELECT "+packageColumns+" FROM package WHERE collection_id = ? ORDER BY name", collection)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r *sql.Rows) (*Package, error) { return scanPackage(r) })
}

// Package returns the package with that id, or ErrNotFound; lock takes
// its row lock for the rest of the transaction.
func (tx *Tx) Package(ctx context.Context, id int64, lock bool) (*Package, error) {
	q := "SELECT " + packageColumns + " FROM package WHERE id = ?"
	if lock {
		q += tx.forUpdate()
	}
	return onePackage(tx.queryRow(ctx, q, id), id)
}

// PackageByName returns the collection's package of that name, or
// ErrNotFound.
func (tx *Tx) PackageByName(ctx context.Context, collection int64, name string) (*Package, error) {
	return onePackage(tx.queryRow(ctx, "SELECT "+packageColumns+" FROM package WHERE collection_id = ? AND name = ?",
		collection, name), name)
}

func onePackage(row *sql.Row, key any) (*Package, error) {
	p, err := scanPackage(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: package %v", ErrNotFound, key)
	}
	if err != nil {
		return nil, fmt.Errorf("rstore: %w", err)
	}
	return p, nil
}

// PackageField names a package setting that SetPackage changes.
type PackageField string

// Settable package fields.
const (
	FieldManualPriority PackageField = "manual_priority"
	FieldStaticPriority PackageField = "static_priority"
	FieldBuildPriority  PackageField = "build_priority"
	FieldArchOverride   PackageField = "arch_override"
	FieldSkipReason     PackageField = "skip_reason"
	FieldTracked        PackageField = "tracked"
)

var packageFields = []PackageField{FieldManualPriority, FieldStaticPriority, FieldBuildPriority,
	FieldArchOverride, FieldSkipReason, FieldTracked}

// SetPackage sets one field of a package.
func (tx *Tx) SetPackage(ctx context.Context, id int64, field PackageField, value any) error {
	if !slices.Contains(packageFields, field) {
		return fmt.Errorf("rstore: no package field %q", field)
	}
	return tx.updateOne(ctx, "UPDATE package SET "+string(field)+" = ? WHERE id = ?", value, id)
}

// AddManualPriority adds delta to a package's manual priority.
func (tx *Tx) AddManualPriority(ctx context.Context, id, delta int64) error {
	return tx.updateOne(ctx, "UPDATE package SET manual_priority = manual_priority + ? WHERE id = ?", delta, id)
}

// SetSkipResolution turns dependency resolution off (or on) for a
// package. Off, its resolution result and unapplied changes are dropped
// and its dependency priority is 0, as Koschei's edit_package does.
func (tx *Tx) SetSkipResolution(ctx context.Context, id int64, skip bool) error {
	if !skip {
		return tx.updateOne(ctx, "UPDATE package SET skip_resolution = ? WHERE id = ?", false, id)
	}
	if err := tx.updateOne(ctx, "UPDATE package SET skip_resolution = ?, resolved = NULL, dependency_priority = 0 WHERE id = ?",
		true, id); err != nil {
		return err
	}
	_, err := tx.exec(ctx, "DELETE FROM unapplied_change WHERE package_id = ?", id)
	return err
}

// ClearPriorities resets what a build consumes, as Koschei's
// clear_priority_data: manual, dependency and build priority go to 0 and
// the unapplied changes are deleted.
func (tx *Tx) ClearPriorities(ctx context.Context, id int64) error {
	if err := tx.updateOne(ctx, "UPDATE package SET manual_priority = 0, dependency_priority = 0, build_priority = 0 WHERE id = ?",
		id); err != nil {
		return err
	}
	_, err := tx.exec(ctx, "DELETE FROM unapplied_change WHERE package_id = ?", id)
	return err
}

// updateOne runs an UPDATE that must change exactly one row.
func (tx *Tx) updateOne(ctx context.Context, q string, args ...any) error {
	r, err := tx.exec(ctx, q, args...)
	if err != nil {
		return err
	}
	if n, err := r.RowsAffected(); err != nil {
		return fmt.Errorf("rstore: %w", err)
	} else if n != 1 {
		return fmt.Errorf("%w: %v", ErrNotFound, args[len(args)-1])
	}
	return nil
}
