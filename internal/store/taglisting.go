package store

import (
	"context"
	"strings"
)

// A PackageEntry is a row of a tag's package list (tag_packages joined with
// package, tag and, when read with owners, tag_package_owners and users).
type PackageEntry struct {
	PackageID   int64
	PackageName string
	TagID       int64
	TagName     string
	ExtraArches *string
	Blocked     bool
	OwnerID     *int64 // nil when read without owners
	OwnerName   *string
}

// A PackageFilter selects package list entries as upstream's
// readPackageList's query does: by tag, owner and package (by id or by
// name), now or at AsOf.
type PackageFilter struct {
	TagID      *int64
	UserID     *int64
	PkgID      *int64
	PkgName    *string
	AsOf       *int64
	WithOwners bool
	// NoBlocked leaves blocked entries out.
	NoBlocked bool
}

// PackageEntries returns the entries the filter selects, in the order
// they were written.
func (tx *Tx) PackageEntries(ctx context.Context, f PackageFilter) ([]PackageEntry, error) {
	cond, args := eventCondition("tp", f.AsOf)
	cols := "p.id, p.name, t.id, t.name, tp.extra_arches, tp.blocked"
	from := " FROM tag_packages tp JOIN tag t ON t.id = tp.tag_id JOIN package p ON p.id = tp.package_id"
	where := []string{cond}
	if f.WithOwners {
		cols += ", u.id, u.name"
		from += " JOIN tag_package_owners tpo ON tpo.tag_id = tp.tag_id AND tpo.package_id = tp.package_id" +
			" JOIN users u ON u.id = tpo.owner"
		c, a := eventCondition("tpo", f.AsOf)
		where = append(where, c)
		args = append(args, a...)
	}
	add := func(clause string, v any) {
		where = append(where, clause)
		args = append(args, v)
	}
	if f.TagID != nil {
		add("t.id = ?", *f.TagID)
	}
	if f.UserID != nil {
		add("u.id = ?", *f.UserID)
	}
	if f.PkgID != nil {
		add("p.id = ?", *f.PkgID)
	}
	if f.PkgName != nil {
		add("p.name = ?", *f.PkgName)
	}
	if f.NoBlocked {
		where = append(where, "NOT tp.blocked")
	}
	rows, err := tx.query(ctx, "SELECT "+cols+from+" WHERE "+strings.Join(where, " AND ")+
		" ORDER BY tp.create_event, tp.tag_id, tp.package_id", args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(row scanner) (*PackageEntry, error) {
		var e PackageEntry
		dst := []any{&e.PackageID, &e.PackageName, &e.TagID, &e.TagName, &e.ExtraArches, &e.Blocked}
		if f.WithOwners {
			dst = append(dst, &e.OwnerID, &e.OwnerName)
		}
		return &e, row.Scan(dst...)
	})
}

// SetPackageEntry replaces a tag's entry for a package (upstream's
// _pkglist_add): its tag_packages row and its owner, at this
// transaction's event.
func (tx *Tx) SetPackageEntry(ctx context.Context, tagID, pkgID, owner int64, blocked bool, extraArches *string, userID int64) error {
	if err := tx.RemovePackageEntry(ctx, tagID, pkgID, userID); err != nil {
		return err
	}
	event, err := tx.NewEvent(ctx)
	if err != nil {
		return err
	}
	if _, err := tx.exec(ctx, "INSERT INTO tag_packages (package_id, tag_id, blocked, extra_arches, create_event, creator_id, active) "+
		"VALUES (?, ?, ?, ?, ?, ?, TRUE)", pkgID, tagID, blocked, extraArches, event, userID); err != nil {
		return err
	}
	return tx.SetPackageOwner(ctx, tagID, pkgID, owner, userID)
}

// SetPackageOwner replaces the owner of a tag's entry for a package
// (upstream's _pkglist_owner_add).
func (tx *Tx) SetPackageOwner(ctx context.Context, tagID, pkgID, owner, userID int64) error {
	if _, err := tx.revoke(ctx, "tag_package_owners", userID, "package_id = ? AND tag_id = ?", pkgID, tagID); err != nil {
		return err
	}
	event, err := tx.NewEvent(ctx)
	if err != nil {
		return err
	}
	_, err = tx.exec(ctx, "INSERT INTO tag_package_owners (package_id, tag_id, owner, create_event, creator_id, active) "+
		"VALUES (?, ?, ?, ?, ?, TRUE)", pkgID, tagID, owner, event, userID)
	return err
}

// RemovePackageEntry revokes a tag's tag_packages row for a package
// (upstream's _pkglist_remove, which leaves the owner row).
func (tx *Tx) RemovePackageEntry(ctx context.Context, tagID, pkgID, userID int64) error {
	_, err := tx.revoke(ctx, "tag_packages", userID, "package_id = ? AND tag_id = ?", pkgID, tagID)
	return err
}

// BuildTagged reports whether the build is currently in the tag.
func (tx *Tx) BuildTagged(ctx context.Context, tagID, buildID int64) (bool, error) {
	var n int64
	err := tx.queryRow(ctx, "SELECT COUNT(*) FROM tag_listing WHERE tag_id = ? AND build_id = ? AND active = TRUE",
		tagID, buildID).Scan(&n)
	return n > 0, err
}

// TagBuild inserts a tag_listing row at this transaction's event.
func (tx *Tx) TagBuild(ctx context.Context, tagID, buildID, userID int64) error {
	event, err := tx.NewEvent(ctx)
	if err != nil {
		return err
	}
	_, err = tx.exec(ctx, "INSERT INTO tag_listing (build_id, tag_id, create_event, creator_id, active) VALUES (?, ?, ?, ?, TRUE)",
		buildID, tagID, event, userID)
	return err
}

// UntagBuild revokes the build's current tag_listing row in the tag and
// returns how many it revoked.
func (tx *Tx) UntagBuild(ctx context.Context, tagID, buildID, userID int64) (int64, error) {
	return tx.revoke(ctx, "tag_listing", userID, "tag_id = ? AND build_id = ?", tagID, buildID)
}

// BuildTagIDs returns the ids of the tags the build is currently in.
func (tx *Tx) BuildTagIDs(ctx context.Context, buildID int64) ([]int64, error) {
	rows, err := tx.query(ctx, "SELECT tag_id FROM tag_listing WHERE build_id = ? AND active = TRUE ORDER BY tag_id", buildID)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(row scanner) (*int64, error) {
		var id int64
		return &id, row.Scan(&id)
	})
}

// A TaggedBuild is a build as tagged in a tag: the tag and the event of
// its tag_listing row. Its BuildRow has no Source, CGID or CGName, and an
// Extra only when the query asks for it.
type TaggedBuild struct {
	BuildRow
	TagID       int64
	TagName     string
	TagEvent    int64
	MavenGroup  *string
	MavenArtID  *string
	MavenVer    *string
	WinPlatform *string
}

// A TaggedQuery selects the COMPLETE builds in one tag, as upstream's
// readTaggedBuilds queries each tag of its walk.
type TaggedQuery struct {
	TagID   int64
	AsOf    *int64
	Package *string // a package name
	Owner   *string // a user name
	Draft   *bool
	// Type is "", "maven", "win", "image", or any other btype, given by
	// BTypeID.
	Type    string
	BTypeID int64
	Extra   bool // read build.extra too
}

// EachTaggedBuild calls fn with each build of the query, most recently
// tagged first (then by build id, descending), and stops at fn's first
// error. The row fn sees is reused for the next one: a tag of a
// distribution holds tens of thousands of builds, and the caller keeps
// what it needs of each.
func (tx *Tx) EachTaggedBuild(ctx context.Context, q TaggedQuery, fn func(*TaggedBuild) error) error {
	cond, args := eventCondition("tl", q.AsOf)
	d := tx.pool.dialect
	cols := "SELECT b.id, b.pkg_id, b.version, b.release, b.epoch, b.draft, b.create_event, " +
		timeText(d, "b.start_time") + ", " + timeText(d, "b.completion_time") + ", " + timeText(d, "b.promotion_time") +
		", b.state, b.task_id, b.owner, b.promoter, b.volume_id, p.name, u.name, v.name, pr.name, " +
		timeText(d, "e.time") + ", t.id, t.name, tl.create_event"
	from := " FROM tag_listing tl JOIN tag t ON t.id = tl.tag_id JOIN build b ON b.id = tl.build_id" +
		" JOIN package p ON p.id = b.pkg_id JOIN events e ON e.id = b.create_event" +
		" JOIN volume v ON v.id = b.volume_id JOIN users u ON u.id = b.owner LEFT JOIN users pr ON pr.id = b.promoter"
	if q.Extra {
		cols += ", b.extra"
	}
	switch q.Type {
	case "":
	case "maven":
		cols += ", mb.group_id, mb.artifact_id, mb.version"
		from += " JOIN maven_builds mb ON mb.build_id = b.id"
	case "win":
		cols += ", wb.platform"
		from += " JOIN win_builds wb ON wb.build_id = b.id"
	case "image":
		from += " JOIN image_builds ib ON ib.build_id = b.id"
	default:
		from += " JOIN build_types bt ON bt.build_id = b.id AND bt.btype_id = ?"
		args = append([]any{q.BTypeID}, args...)
	}
	where := []string{cond, "tl.tag_id = ?", "b.state = 1"}
	args = append(args, q.TagID)
	if q.Package != nil {
		where = append(where, "p.name = ?")
		args = append(args, *q.Package)
	}
	if q.Owner != nil {
		where = append(where, "u.name = ?")
		args = append(args, *q.Owner)
	}
	if q.Draft != nil {
		where = append(where, "b.draft = ?")
		args = append(args, *q.Draft)
	}
	rows, err := tx.query(ctx, cols+from+" WHERE "+strings.Join(where, " AND ")+" ORDER BY tl.create_event DESC, b.id DESC", args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var r TaggedBuild
	b := &r.Build
	dst := make([]any, 0, 30)
	for rows.Next() {
		dst = append(dst[:0], &b.ID, &b.PkgID, &b.Version, &b.Release, &b.Epoch, &b.Draft, &b.CreateEvent,
			textTime{&b.StartTime}, textTime{&b.CompletionTime}, textTime{&b.PromotionTime}, &b.State, &b.TaskID,
			&b.Owner, &b.Promoter, &b.VolumeID, &r.PackageName, &r.OwnerName, &r.VolumeName, &r.PromoterName,
			textTime{&r.CreationTime}, &r.TagID, &r.TagName, &r.TagEvent)
		if q.Extra {
			dst = append(dst, &b.Extra)
		}
		switch q.Type {
		case "maven":
			dst = append(dst, &r.MavenGroup, &r.MavenArtID, &r.MavenVer)
		case "win":
			dst = append(dst, &r.WinPlatform)
		}
		if err := rows.Scan(dst...); err != nil {
			return err
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ListPackageNames returns every package, in id order.
func (tx *Tx) ListPackageNames(ctx context.Context) ([]NamedRow, error) {
	rows, err := tx.query(ctx, "SELECT id, name FROM package ORDER BY id")
	if err != nil {
		return nil, err
	}
	return collect(rows, func(row scanner) (*NamedRow, error) {
		var r NamedRow
		return &r, row.Scan(&r.ID, &r.Name)
	})
}
