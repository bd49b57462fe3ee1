package store

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
)

// BuildQuery selects builds for [Tx.QueryBuilds] and [Tx.CountBuilds], as
// upstream's listBuilds filters them; nil and zero fields do not filter.
type BuildQuery struct {
	PackageID *int64
	OwnerID   *int64
	VolumeID  *int64
	TaskID    *int64
	HasTask   bool // task_id IS NOT NULL (listBuilds' taskID -1)
	State     *int64
	// Source and Pattern are case-insensitive LIKE patterns (with
	// backslash escapes) on the source and on the NVR; Prefix is one the
	// package name must start with.
	Source  *string
	Prefix  *string
	Pattern *string

	CreatedBefore, CreatedAfter   *time.Time
	CompleteBefore, CompleteAfter *time.Time
	PromotedBefore, PromotedAfter *time.Time
	PromoterID                    *int64
	CGID                          *int64
	Draft                         *bool
	// Type is "maven", "win" or "image" (builds with a row in that legacy
	// type table), or BTypeID is set (builds of that btype).
	Type    string
	BTypeID *int64
	// Maven filters maven builds on its non-empty fields, Platform win
	// builds on their platform.
	Maven    *MavenBuildRow
	Platform *string

	Order  []OrderBy // by build id when empty
	Offset int64
	Limit  int64
}

// BuildQueryColumns maps the names a [BuildQuery] may order on to their
// SQL.
var BuildQueryColumns = map[string]string{
	"id": "b.id", "version": "b.version", "release": "b.release", "epoch": "b.epoch", "draft": "b.draft",
	"state": "b.state", "completion_time": "b.completion_time", "start_time": "b.start_time",
	"promotion_time": "b.promotion_time", "source": "b.source", "extra": "b.extra", "task_id": "b.task_id",
	"create_event": "e.id", "creation_time": "e.time", "package_id": "p.id", "package_name": "p.name",
	"volume_id": "v.id", "volume_name": "v.name", "nvr": "p.name || '-' || b.version || '-' || b.release",
	"owner_id": "u.id", "owner_name": "u.name", "promoter_id": "pr.id", "promoter_name": "pr.name",
	"cg_id":          "b.cg_id",
	"maven_group_id": "mb.group_id", "maven_artifact_id": "mb.artifact_id", "maven_version": "mb.version",
	"platform": "wb.platform",
}

// MavenBuildRow is a build's maven_builds row.
type MavenBuildRow struct {
	GroupID, ArtifactID, Version string
}

// TypedBuildRow is a build with its maven or win type row when the query
// asked for that type.
type TypedBuildRow struct {
	BuildRow
	Maven    *MavenBuildRow
	Platform *string
}

// like is the case-insensitive LIKE of the dialect, with backslash escapes.
func (tx *Tx) like() string {
	if tx.pool.dialect == Postgres {
		return " ILIKE ? ESCAPE '\\'"
	}
	return " LIKE ? ESCAPE '\\'"
}

func (q *BuildQuery) from(tx *Tx) (string, []any, error) {
	from := buildFrom
	var conds []string
	var args []any
	add := func(cond string, vals ...any) { conds, args = append(conds, cond), append(args, vals...) }
	ids := []struct {
		col string
		v   *int64
	}{{"p.id", q.PackageID}, {"u.id", q.OwnerID}, {"v.id", q.VolumeID}, {"b.task_id", q.TaskID},
		{"b.state", q.State}, {"b.promoter", q.PromoterID}, {"b.cg_id", q.CGID}}
	for _, f := range ids {
		if f.v != nil {
			add(f.col+" = ?", *f.v)
		}
	}
	if q.HasTask {
		add("b.task_id IS NOT NULL")
	}
	if q.Source != nil {
		add("b.source"+tx.like(), *q.Source)
	}
	if q.Prefix != nil {
		add("p.name"+tx.like(), *q.Prefix+"%")
	}
	if q.Pattern != nil {
		add("(p.name || '-' || b.version || '-' || b.release)"+tx.like(), *q.Pattern)
	}
	times := []struct {
		cond string
		v    *time.Time
	}{{"e.time < ?", q.CreatedBefore}, {"e.time > ?", q.CreatedAfter},
		{"b.completion_time < ?", q.CompleteBefore}, {"b.completion_time > ?", q.CompleteAfter},
		{"b.promotion_time < ?", q.PromotedBefore}, {"b.promotion_time > ?", q.PromotedAfter}}
	for _, f := range times {
		if f.v != nil {
			add(f.cond, f.v.UTC())
		}
	}
	if q.Draft != nil {
		if *q.Draft {
			add("b.draft = TRUE")
		} else {
			add("b.draft = FALSE")
		}
	}
	switch q.Type {
	case "":
	case "maven":
		from += " JOIN maven_builds mb ON mb.build_id = b.id"
		if m := q.Maven; m != nil {
			for _, f := range []struct{ col, v string }{{"mb.group_id", m.GroupID}, {"mb.artifact_id", m.ArtifactID}, {"mb.version", m.Version}} {
				if f.v != "" {
					add(f.col+" = ?", f.v)
				}
			}
		}
	case "win":
		from += " JOIN win_builds wb ON wb.build_id = b.id"
		if q.Platform != nil {
			add("wb.platform = ?", *q.Platform)
		}
	case "image":
		from += " JOIN image_builds ib ON ib.build_id = b.id"
	default:
		return "", nil, fmt.Errorf("store: no build type %q", q.Type)
	}
	if q.BTypeID != nil {
		from += " JOIN build_types bt ON bt.build_id = b.id AND bt.btype_id = ?"
		args = append([]any{*q.BTypeID}, args...)
	}
	if len(conds) > 0 {
		from += " WHERE " + strings.Join(conds, " AND ")
	}
	return from, args, nil
}

// QueryBuilds returns the builds q selects.
func (tx *Tx) QueryBuilds(ctx context.Context, q BuildQuery) ([]TypedBuildRow, error) {
	from, args, err := q.from(tx)
	if err != nil {
		return nil, err
	}
	order, err := orderBy(q.Order, BuildQueryColumns, "b.id")
	if err != nil {
		return nil, err
	}
	cols := buildRowColumns
	switch q.Type {
	case "maven":
		cols += ", mb.group_id, mb.artifact_id, mb.version"
	case "win":
		cols += ", wb.platform"
	}
	stmt := "SELECT " + cols + from + order + limitOffset(q.Limit, q.Offset)
	rows, err := tx.query(ctx, stmt, args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r scanner) (*TypedBuildRow, error) {
		var t TypedBuildRow
		b := &t.Build
		dest := []any{&b.ID, &b.PkgID, &b.Version, &b.Release, &b.Epoch, &b.Draft, &b.Source, &b.CreateEvent,
			&b.StartTime, &b.CompletionTime, &b.PromotionTime, &b.State, &b.TaskID, &b.Owner, &b.Promoter,
			&b.CGID, &b.Extra, &b.VolumeID, &t.PackageName, &t.OwnerName, &t.VolumeName, &t.PromoterName,
			&t.CGName, &t.CreationTime}
		switch q.Type {
		case "maven":
			t.Maven = &MavenBuildRow{}
			dest = append(dest, &t.Maven.GroupID, &t.Maven.ArtifactID, &t.Maven.Version)
		case "win":
			dest = append(dest, &t.Platform)
		}
		return &t, r.Scan(dest...)
	})
}

// CountBuilds returns how many builds q selects, ignoring its order.
func (tx *Tx) CountBuilds(ctx context.Context, q BuildQuery) (int64, error) {
	from, args, err := q.from(tx)
	if err != nil {
		return 0, err
	}
	var n int64
	stmt := "SELECT COUNT(*) FROM (SELECT b.id" + from + limitOffset(q.Limit, q.Offset) + ") c"
	err = tx.queryRow(ctx, stmt, args...).Scan(&n)
	return n, err
}

// limitOffset renders LIMIT and OFFSET; SQLite has no OFFSET without a
// LIMIT.
func limitOffset(limit, offset int64) string {
	switch {
	case limit > 0 && offset > 0:
		return fmt.Sprintf(" LIMIT %d OFFSET %d", limit, offset)
	case limit > 0:
		return fmt.Sprintf(" LIMIT %d", limit)
	case offset > 0:
		return fmt.Sprintf(" LIMIT %d OFFSET %d", int64(math.MaxInt64), offset)
	}
	return ""
}
