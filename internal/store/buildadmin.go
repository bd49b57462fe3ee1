package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
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

// A BuildTagRef is a tag holding a build (build_references' tags).
type BuildTagRef struct {
	TagID int64
	Name  string
}

// BuildTagRefs returns the tags the build is in now, by tag id.
func (tx *Tx) BuildTagRefs(ctx context.Context, buildID int64) ([]BuildTagRef, error) {
	rows, err := tx.query(ctx, "SELECT tl.tag_id, t.name FROM tag_listing tl JOIN tag t ON t.id = tl.tag_id "+
		"WHERE tl.build_id = ? AND tl.active = TRUE ORDER BY tl.tag_id", buildID)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r scanner) (*BuildTagRef, error) {
		var ref BuildTagRef
		return &ref, r.Scan(&ref.TagID, &ref.Name)
	})
}

// A BuildRPMRef is an RPM of a COMPLETE build made in a buildroot that
// held one of another build's RPMs (build_references' rpms).
type BuildRPMRef struct {
	ID                           int64
	Name, Version, Release, Arch string
	BuildID                      int64
}

// A BuildArchiveRef is an archive of a COMPLETE build made in a buildroot
// that used one of another build's archives (build_references' archives).
type BuildArchiveRef struct {
	ID, TypeID         int64
	TypeName, Filename string
	BuildID            int64
}

// BuildLastUsed is build_references' last_used: the time of the newest
// standard buildroot that listed one of the build's RPMs or used one of
// its archives; nil when none did.
func (tx *Tx) BuildLastUsed(ctx context.Context, buildID int64) (*time.Time, error) {
	var e sql.NullInt64
	err := tx.queryRow(ctx, "SELECT MAX(create_event) FROM standard_buildroot WHERE buildroot_id IN ("+
		"SELECT bl.buildroot_id FROM buildroot_listing bl JOIN rpminfo r ON r.id = bl.rpm_id WHERE r.build_id = ? "+
		"UNION SELECT ba.buildroot_id FROM buildroot_archives ba JOIN archiveinfo a ON a.id = ba.archive_id "+
		"WHERE a.build_id = ?)", buildID, buildID).Scan(&e)
	if err != nil || !e.Valid || e.Int64 == 0 {
		return nil, err
	}
	ev, err := tx.GetEvent(ctx, e.Int64)
	if err != nil {
		return nil, err
	}
	return &ev.Time, nil
}

// int64s returns the single integer column of a query's rows.
func (tx *Tx) int64s(ctx context.Context, q string, args ...any) ([]int64, error) {
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(row scanner) (*int64, error) {
		var n int64
		return &n, row.Scan(&n)
	})
}

// DeleteBuild is upstream's _delete_build in the database: the signatures
// and checksums of the build's RPMs are deleted, its tag listings revoked
// (by userID) and its state set to DELETED.
func (tx *Tx) DeleteBuild(ctx context.Context, buildID, userID int64) error {
	for _, table := range []string{"rpmsigs", "rpm_checksum"} {
		if _, err := tx.exec(ctx, "DELETE FROM "+table+" WHERE rpm_id IN (SELECT id FROM rpminfo WHERE build_id = ?)", buildID); err != nil {
			return err
		}
	}
	if _, err := tx.revoke(ctx, "tag_listing", userID, "build_id = ?", buildID); err != nil {
		return err
	}
	_, err := tx.exec(ctx, "UPDATE build SET state = ? WHERE id = ?", BuildDeleted, buildID)
	return err
}

// ResetBuild is upstream's reset_build in the database: the build's RPMs
// and archives with everything referring to them, its type rows and its
// tag listings (history included) are deleted, and it becomes CANCELED,
// without a task, on the DEFAULT volume.
func (tx *Tx) ResetBuild(ctx context.Context, buildID int64) error {
	rpms := "(SELECT id FROM rpminfo WHERE build_id = ?)"
	archives := "(SELECT id FROM archiveinfo WHERE build_id = ?)"
	stmts := []string{
		"DELETE FROM rpmsigs WHERE rpm_id IN " + rpms,
		"DELETE FROM buildroot_listing WHERE rpm_id IN " + rpms,
		"DELETE FROM archive_rpm_components WHERE rpm_id IN " + rpms,
		"DELETE FROM rpm_checksum WHERE rpm_id IN " + rpms,
		"DELETE FROM rpminfo WHERE build_id = ?",
		"DELETE FROM maven_archives WHERE archive_id IN " + archives,
		"DELETE FROM win_archives WHERE archive_id IN " + archives,
		"DELETE FROM image_archives WHERE archive_id IN " + archives,
		"DELETE FROM buildroot_archives WHERE archive_id IN " + archives,
		"DELETE FROM archive_rpm_components WHERE archive_id IN " + archives,
		"DELETE FROM archive_components WHERE archive_id IN " + archives,
		"DELETE FROM archive_components WHERE component_id IN " + archives,
		"DELETE FROM archiveinfo WHERE build_id = ?",
		"DELETE FROM maven_builds WHERE build_id = ?",
		"DELETE FROM win_builds WHERE build_id = ?",
		"DELETE FROM image_builds WHERE build_id = ?",
		"DELETE FROM build_types WHERE build_id = ?",
		"DELETE FROM tag_listing WHERE build_id = ?",
	}
	for _, s := range stmts {
		if _, err := tx.exec(ctx, s, buildID); err != nil {
			return err
		}
	}
	_, err := tx.exec(ctx, "UPDATE build SET state = ?, task_id = NULL, volume_id = 0 WHERE id = ?", BuildCanceled, buildID)
	return err
}

// SetBuildOwner sets the build's owner.
func (tx *Tx) SetBuildOwner(ctx context.Context, buildID, owner int64) error {
	_, err := tx.exec(ctx, "UPDATE build SET owner = ? WHERE id = ?", owner, buildID)
	return err
}

// SetBuildCompletion sets the build's completion time.
func (tx *Tx) SetBuildCompletion(ctx context.Context, buildID int64, at time.Time) error {
	_, err := tx.exec(ctx, "UPDATE build SET completion_time = ? WHERE id = ?", at.UTC(), buildID)
	return err
}
