package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"

	"github.com/jackc/pgx/v5/pgconn"
)

// The reads behind upstream's get_maven_archive, get_win_archive,
// get_image_archive, get_archive_type(s), listPackagesSimple,
// build_references' component_of and tag_changed_since_event.

// MavenArchive is an archive's maven_archives row.
type MavenArchive struct {
	ArchiveID                    int64
	GroupID, ArtifactID, Version string
}

// GetMavenArchive returns the archive's maven_archives row; ErrNotFound
// when it has none.
func (tx *Tx) GetMavenArchive(ctx context.Context, archiveID int64) (*MavenArchive, error) {
	m := MavenArchive{ArchiveID: archiveID}
	err := tx.queryRow(ctx, "SELECT group_id, artifact_id, version FROM maven_archives WHERE archive_id = ?", archiveID).
		Scan(&m.GroupID, &m.ArtifactID, &m.Version)
	if err != nil {
		return nil, notFound(err, "maven archive", archiveID)
	}
	return &m, nil
}

// GetWinArchive returns the archive's win_archives row; ErrNotFound when
// it has none.
func (tx *Tx) GetWinArchive(ctx context.Context, archiveID int64) (*WinArchive, error) {
	var w WinArchive
	err := tx.queryRow(ctx, "SELECT relpath, platforms, flags FROM win_archives WHERE archive_id = ?", archiveID).
		Scan(&w.RelPath, &w.Platforms, &w.Flags)
	if err != nil {
		return nil, notFound(err, "win archive", archiveID)
	}
	return &w, nil
}

// ImageArchive is an archive's image_archives row and whether the archive
// holds RPMs (archive_rpm_components rows), upstream's rootid.
type ImageArchive struct {
	ArchiveID int64
	Arch      string
	RootID    bool
}

// GetImageArchive returns the archive's image_archives row with RootID;
// ErrNotFound when it has none.
func (tx *Tx) GetImageArchive(ctx context.Context, archiveID int64) (*ImageArchive, error) {
	i := ImageArchive{ArchiveID: archiveID}
	if err := tx.queryRow(ctx, "SELECT arch FROM image_archives WHERE archive_id = ?", archiveID).Scan(&i.Arch); err != nil {
		return nil, notFound(err, "image archive", archiveID)
	}
	var one int
	err := tx.queryRow(ctx, "SELECT 1 FROM archive_rpm_components WHERE archive_id = ? LIMIT 1", archiveID).Scan(&one)
	switch {
	case err == nil:
		i.RootID = true
	case !errors.Is(err, sql.ErrNoRows):
		return nil, err
	}
	return &i, nil
}

const archiveTypeColumns = "SELECT id, name, description, extensions, compression_type FROM archivetypes"

func scanArchiveType(r scanner) (*ArchiveType, error) {
	var a ArchiveType
	return &a, r.Scan(&a.ID, &a.Name, &a.Description, &a.Extensions, &a.CompressionType)
}

// GetArchiveTypeByID returns the archive type with the given id.
func (tx *Tx) GetArchiveTypeByID(ctx context.Context, id int64) (*ArchiveType, error) {
	a, err := scanArchiveType(tx.queryRow(ctx, archiveTypeColumns+" WHERE id = ?", id))
	if err != nil {
		return nil, notFound(err, "archive type", id)
	}
	return a, nil
}

// GetArchiveTypeByName returns the archive type with the given name.
func (tx *Tx) GetArchiveTypeByName(ctx context.Context, name string) (*ArchiveType, error) {
	a, err := scanArchiveType(tx.queryRow(ctx, archiveTypeColumns+" WHERE name = ?", name))
	if err != nil {
		return nil, notFound(err, "archive type", name)
	}
	return a, nil
}

// ArchiveTypesMatching returns, in id order, the archive types whose
// extensions match the regular expression pattern case-insensitively, as
// PostgreSQL's "extensions ~* pattern" does. SQLite has no such operator:
// there the types are matched here with Go's regexp. A pattern the
// matcher refuses is a *PatternError.
func (tx *Tx) ArchiveTypesMatching(ctx context.Context, pattern string) ([]ArchiveType, error) {
	if tx.pool.dialect == Postgres {
		rows, err := tx.query(ctx, archiveTypeColumns+" WHERE extensions ~* ? ORDER BY id", pattern)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "2201B" { // invalid_regular_expression
			return nil, &PatternError{Pattern: pattern, Message: pgErr.Message, Err: err}
		} else if err != nil {
			return nil, err
		}
		return collect(rows, scanArchiveType)
	}
	re, err := regexp.Compile("(?i)" + pattern)
	if err != nil {
		return nil, &PatternError{Pattern: pattern, Message: "invalid regular expression: " + err.Error(), Err: err}
	}
	all, err := tx.ListArchiveTypes(ctx)
	if err != nil {
		return nil, err
	}
	var out []ArchiveType
	for _, a := range all {
		if re.MatchString(a.Extensions) {
			out = append(out, a)
		}
	}
	return out, nil
}

// A PatternError is a regular expression the database (or, on SQLite,
// Go's regexp) refuses; Message is PostgreSQL's message (or one in its
// form).
type PatternError struct {
	Pattern string
	Message string
	Err     error
}

func (e *PatternError) Error() string { return fmt.Sprintf("%s (pattern %q)", e.Message, e.Pattern) }

func (e *PatternError) Unwrap() error { return e.Err }

// ListPackagesLike returns the packages, in id order, whose names match
// prefix followed by anything, as upstream's "package.name ILIKE
// %(prefix)s || '%%'": the prefix's own % and _ are wildcards and a
// backslash escapes, as in LIKE; every package when prefix is nil.
func (tx *Tx) ListPackagesLike(ctx context.Context, prefix *string) ([]Package, error) {
	q := "SELECT id, name FROM package"
	var args []any
	if prefix != nil {
		if tx.pool.dialect == Postgres {
			q += " WHERE name ILIKE ? || '%'"
		} else {
			q += " WHERE name LIKE ? || '%' ESCAPE '\\'"
		}
		args = append(args, *prefix)
	}
	rows, err := tx.query(ctx, q+" ORDER BY id", args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r scanner) (*Package, error) {
		var p Package
		return &p, r.Scan(&p.ID, &p.Name)
	})
}

// ArchivesHoldingRPM is one step of build_references' component_of: the
// archives of COMPLETE builds that hold the RPM (archive_rpm_components),
// at most limit of them when limit > 0.
func (tx *Tx) ArchivesHoldingRPM(ctx context.Context, rpmID, limit int64) ([]int64, error) {
	return tx.int64s(ctx, "SELECT arc.archive_id FROM archive_rpm_components arc "+
		"JOIN archiveinfo a ON a.id = arc.archive_id JOIN build b ON a.build_id = b.id "+
		"WHERE arc.rpm_id = ? AND b.state = ? ORDER BY arc.archive_id"+limitOffset(limit, 0), rpmID, BuildComplete)
}

// ArchivesHoldingArchive is the other step of component_of: the archives
// of COMPLETE builds that hold the archive (archive_components), at most
// limit of them when limit > 0.
func (tx *Tx) ArchivesHoldingArchive(ctx context.Context, archiveID, limit int64) ([]int64, error) {
	return tx.int64s(ctx, "SELECT ac.archive_id FROM archive_components ac "+
		"JOIN archiveinfo a ON a.id = ac.archive_id JOIN build b ON a.build_id = b.id "+
		"WHERE ac.component_id = ? AND b.state = ? ORDER BY ac.archive_id"+limitOffset(limit, 0), archiveID, BuildComplete)
}

// RPMIDsOfBuild returns the ids of the build's RPMs, ArchiveIDsOfBuild
// those of its archives, in id order.
func (tx *Tx) RPMIDsOfBuild(ctx context.Context, buildID int64) ([]int64, error) {
	return tx.int64s(ctx, "SELECT id FROM rpminfo WHERE build_id = ? ORDER BY id", buildID)
}

// ArchiveIDsOfBuild returns the ids of the build's archives in id order.
func (tx *Tx) ArchiveIDsOfBuild(ctx context.Context, buildID int64) ([]int64, error) {
	return tx.int64s(ctx, "SELECT id FROM archiveinfo WHERE build_id = ? ORDER BY id", buildID)
}

// RPMsBuiltWith is build_references' query for one of a build's RPMs:
// the RPMs of COMPLETE builds made in a buildroot that listed it, at most
// limit of them when limit is not nil (a negative limit is refused as
// PostgreSQL refuses it).
func (tx *Tx) RPMsBuiltWith(ctx context.Context, rpmID int64, limit *int64) ([]BuildRPMRef, error) {
	q := "SELECT r.id, r.name, r.version, r.release, r.arch, r.build_id FROM rpminfo r " +
		"JOIN build b ON r.build_id = b.id WHERE r.buildroot_id IN " +
		"(SELECT DISTINCT buildroot_id FROM buildroot_listing WHERE rpm_id = ?) AND b.state = ? ORDER BY r.id"
	if limit != nil {
		if *limit < 0 {
			return nil, errors.New("LIMIT must not be negative")
		}
		q += fmt.Sprintf(" LIMIT %d", *limit)
	}
	rows, err := tx.query(ctx, q, rpmID, BuildComplete)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r scanner) (*BuildRPMRef, error) {
		var ref BuildRPMRef
		return &ref, r.Scan(&ref.ID, &ref.Name, &ref.Version, &ref.Release, &ref.Arch, &ref.BuildID)
	})
}

// ArchivesBuiltWith is build_references' query for one of a build's
// archives: the archives of COMPLETE builds made in a buildroot that used
// it, at most limit of them when limit > 0.
func (tx *Tx) ArchivesBuiltWith(ctx context.Context, archiveID, limit int64) ([]BuildArchiveRef, error) {
	rows, err := tx.query(ctx, "SELECT a.id, a.type_id, t.name, a.build_id, a.filename FROM buildroot_archives ba "+
		"JOIN archiveinfo a ON a.buildroot_id = ba.buildroot_id JOIN build b ON a.build_id = b.id "+
		"JOIN archivetypes t ON t.id = a.type_id WHERE ba.archive_id = ? AND b.state = ? ORDER BY a.id"+
		limitOffset(limit, 0), archiveID, BuildComplete)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r scanner) (*BuildArchiveRef, error) {
		var ref BuildArchiveRef
		return &ref, r.Scan(&ref.ID, &ref.TypeID, &ref.TypeName, &ref.BuildID, &ref.Filename)
	})
}

// tagChangeTables are the versioned tables tag_changed_since_event reads.
var tagChangeTables = []string{"tag_listing", "tag_inheritance", "tag_config", "tag_extra", "tag_packages",
	"tag_external_repos", "group_package_listing", "group_req_listing", "group_config"}

// TagChangedSinceEvent is upstream's tag_changed_since_event: whether a
// tag_updates row after event, or a row of a versioned tag table created
// or revoked after it, concerns one of the tags.
func (tx *Tx) TagChangedSinceEvent(ctx context.Context, event int64, tagIDs []int64) (bool, error) {
	if len(tagIDs) == 0 {
		return false, nil
	}
	in := placeholders(len(tagIDs))
	args := []any{event}
	for _, id := range tagIDs {
		args = append(args, id)
	}
	var one int
	err := tx.queryRow(ctx, "SELECT 1 FROM tag_updates WHERE update_event > ? AND tag_id IN ("+in+") LIMIT 1", args...).Scan(&one)
	if err == nil {
		return true, nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return false, err
	}
	args = append([]any{event}, args...)
	for _, table := range tagChangeTables {
		err := tx.queryRow(ctx, "SELECT 1 FROM "+table+" WHERE (create_event > ? OR revoke_event > ?) AND tag_id IN ("+
			in+") LIMIT 1", args...).Scan(&one)
		if err == nil {
			return true, nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return false, err
		}
	}
	return false, nil
}
