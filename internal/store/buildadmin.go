package store

import (
	"context"
	"database/sql"
	"errors"
)

// An UntaggedBuild is a COMPLETE build that no tag holds.
type UntaggedBuild struct {
	ID                     int64
	Name, Version, Release string
}

// UntaggedBuilds returns the COMPLETE builds without an active
// tag_listing row, of the package named name when set, draft or not
// when draft is set, by id (upstream's untagged_builds).
func (tx *Tx) UntaggedBuilds(ctx context.Context, name *string, draft *bool) ([]UntaggedBuild, error) {
	q := "SELECT b.id, p.name, b.version, b.release FROM build b JOIN package p ON p.id = b.pkg_id " +
		"WHERE NOT EXISTS (SELECT 1 FROM tag_listing tl WHERE tl.build_id = b.id AND tl.active IS TRUE) AND b.state = ?"
	args := []any{BuildComplete}
	if name != nil {
		q += " AND p.name = ?"
		args = append(args, *name)
	}
	if draft != nil {
		if *draft {
			q += " AND b.draft IS TRUE"
		} else {
			q += " AND b.draft IS NOT TRUE"
		}
	}
	rows, err := tx.query(ctx, q+" ORDER BY b.id", args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r scanner) (*UntaggedBuild, error) {
		var b UntaggedBuild
		return &b, r.Scan(&b.ID, &b.Name, &b.Version, &b.Release)
	})
}

// LatestRelease is the release of the newest (by id) BUILDING, COMPLETE
// or DELETED build of the package's version, as upstream's
// get_next_release reads it; found is false when there is none.
func (tx *Tx) LatestRelease(ctx context.Context, name, version string) (release string, found bool, err error) {
	err = tx.queryRow(ctx, "SELECT b.release FROM build b JOIN package p ON b.pkg_id = p.id "+
		"WHERE p.name = ? AND b.version = ? AND b.state IN (?, ?, ?) ORDER BY b.id DESC LIMIT 1",
		name, version, BuildComplete, BuildDeleted, BuildBuilding).Scan(&release)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return release, err == nil, err
}

// ActiveHostArches returns the arches column of each active host_config
// row (NULL ones left out), in the database's order.
func (tx *Tx) ActiveHostArches(ctx context.Context) ([]string, error) {
	rows, err := tx.query(ctx, "SELECT arches FROM host_config WHERE active IS TRUE AND arches IS NOT NULL ORDER BY host_id")
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r scanner) (*string, error) {
		var s string
		return &s, r.Scan(&s)
	})
}
