package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Build states, as koji.BUILD_STATES.
const (
	BuildBuilding = 0
	BuildComplete = 1
	BuildDeleted  = 2
	BuildFailed   = 3
	BuildCanceled = 4
)

// Package is a row of package.
type Package struct {
	ID   int64
	Name string
}

// Build is a row of build.
type Build struct {
	ID             int64
	PkgID          int64
	Version        string
	Release        string
	Epoch          *int64
	Draft          bool
	Source         *string
	CreateEvent    int64
	StartTime      *time.Time
	CompletionTime *time.Time
	PromotionTime  *time.Time
	State          int
	TaskID         *int64
	Owner          int64
	Promoter       *int64
	CGID           *int64
	Extra          *string // JSON text
	VolumeID       int64
}

// BuildRow is a build with the names getBuild and listBuilds join in:
// its package, owner, volume, promoter and content generator, and the
// time of its creation event.
type BuildRow struct {
	Build
	PackageName  string
	OwnerName    string
	VolumeName   string
	PromoterName *string
	CGName       *string
	CreationTime time.Time
}

// NVR is "name-version-release".
func (b *BuildRow) NVR() string { return b.PackageName + "-" + b.Version + "-" + b.Release }

const buildFrom = " FROM build b JOIN package p ON p.id = b.pkg_id JOIN events e ON e.id = b.create_event " +
	"JOIN volume v ON v.id = b.volume_id JOIN users u ON u.id = b.owner " +
	"LEFT JOIN users pr ON pr.id = b.promoter LEFT JOIN content_generator cg ON cg.id = b.cg_id"

const buildRowColumns = "b.id, b.pkg_id, b.version, b.release, b.epoch, b.draft, b.source, b.create_event, " +
	"b.start_time, b.completion_time, b.promotion_time, b.state, b.task_id, b.owner, b.promoter, b.cg_id, " +
	"b.extra, b.volume_id, p.name, u.name, v.name, pr.name, cg.name, e.time"

func scanBuildRow(row scanner) (*BuildRow, error) {
	var r BuildRow
	b := &r.Build
	err := row.Scan(&b.ID, &b.PkgID, &b.Version, &b.Release, &b.Epoch, &b.Draft, &b.Source, &b.CreateEvent,
		&b.StartTime, &b.CompletionTime, &b.PromotionTime, &b.State, &b.TaskID, &b.Owner, &b.Promoter,
		&b.CGID, &b.Extra, &b.VolumeID, &r.PackageName, &r.OwnerName, &r.VolumeName, &r.PromoterName,
		&r.CGName, &r.CreationTime)
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// GetPackage returns the package with the given id.
func (tx *Tx) GetPackage(ctx context.Context, id int64) (*Package, error) {
	p := Package{ID: id}
	if err := tx.queryRow(ctx, "SELECT name FROM package WHERE id = ?", id).Scan(&p.Name); err != nil {
		return nil, notFound(err, "package", id)
	}
	return &p, nil
}

// GetPackageByName returns the package with the given name.
func (tx *Tx) GetPackageByName(ctx context.Context, name string) (*Package, error) {
	p := Package{Name: name}
	if err := tx.queryRow(ctx, "SELECT id FROM package WHERE name = ?", name).Scan(&p.ID); err != nil {
		return nil, notFound(err, "package", name)
	}
	return &p, nil
}

// CreatePackage inserts a package and returns its id; a taken name is a
// [*ConflictError].
func (tx *Tx) CreatePackage(ctx context.Context, name string) (int64, error) {
	return tx.insertID(ctx, "INSERT INTO package (name) VALUES (?) RETURNING id", name)
}

// NamedRow is a row of a table of ids and names (content_generator, btype,
// volume, external_repo).
type NamedRow struct {
	ID   int64
	Name string
}

// namedTables are the tables LookupName reads.
var namedTables = map[string]bool{"content_generator": true, "btype": true, "volume": true, "external_repo": true,
	"package": true, "archivetypes": true}

// LookupName finds a row of an id-and-name table (content_generator,
// btype, volume, external_repo, package, archivetypes) by id (an int64) or
// name (a string), as upstream's lookup_name does.
func (tx *Tx) LookupName(ctx context.Context, table string, key any) (*NamedRow, error) {
	if !namedTables[table] {
		return nil, fmt.Errorf("store: LookupName of table %q", table)
	}
	var r NamedRow
	var err error
	switch k := key.(type) {
	case int64:
		r.ID = k
		err = tx.queryRow(ctx, "SELECT name FROM "+table+" WHERE id = ?", k).Scan(&r.Name)
	case string:
		r.Name = k
		err = tx.queryRow(ctx, "SELECT id FROM "+table+" WHERE name = ?", k).Scan(&r.ID)
	default:
		return nil, fmt.Errorf("store: LookupName key %T", key)
	}
	if err != nil {
		return nil, notFound(err, table, key)
	}
	return &r, nil
}

// NextBuildID reserves the id the next build will get, as upstream's
// nextval('build_id_seq'): a draft's release names its id.
func (tx *Tx) NextBuildID(ctx context.Context) (int64, error) { return tx.nextID(ctx, "build") }

// NextRPMID reserves the id the next RPM will get, as upstream's
// nextval('rpminfo_id_seq'): preImport callbacks see it.
func (tx *Tx) NextRPMID(ctx context.Context) (int64, error) { return tx.nextID(ctx, "rpminfo") }

// nextID is the next id of a table whose id is {{.ID}}.
func (tx *Tx) nextID(ctx context.Context, table string) (int64, error) {
	q := "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = '" + table + "'), 0) + 1"
	if tx.pool.dialect == Postgres {
		q = "SELECT nextval(pg_get_serial_sequence('" + table + "', 'id'))"
	}
	var id int64
	if err := tx.queryRow(ctx, q).Scan(&id); err != nil {
		return 0, fmt.Errorf("store: next %s id: %w", table, err)
	}
	return id, nil
}

// CreateBuild inserts a build created at this transaction's event and
// returns its id; b.ID, when set, is the id it gets (see NextBuildID). A
// taken NVR is a [*ConflictError].
func (tx *Tx) CreateBuild(ctx context.Context, b Build) (int64, error) {
	event, err := tx.NewEvent(ctx)
	if err != nil {
		return 0, err
	}
	cols := "pkg_id, version, release, epoch, draft, source, create_event, start_time, completion_time, " +
		"promotion_time, state, task_id, owner, promoter, cg_id, extra, volume_id"
	args := []any{b.PkgID, b.Version, b.Release, b.Epoch, b.Draft, b.Source, event, b.StartTime, b.CompletionTime,
		b.PromotionTime, b.State, b.TaskID, b.Owner, b.Promoter, b.CGID, b.Extra, b.VolumeID}
	if b.ID != 0 {
		cols, args = "id, "+cols, append([]any{b.ID}, args...)
	}
	return tx.insertID(ctx, "INSERT INTO build ("+cols+") VALUES ("+placeholders(len(args))+") RETURNING id", args...)
}

// GetBuild returns the build with the given id.
func (tx *Tx) GetBuild(ctx context.Context, id int64) (*BuildRow, error) {
	r, err := scanBuildRow(tx.queryRow(ctx, "SELECT "+buildRowColumns+buildFrom+" WHERE b.id = ?", id))
	if err != nil {
		return nil, notFound(err, "build", id)
	}
	return r, nil
}

// FindBuildID returns the id of the build name-version-release.
func (tx *Tx) FindBuildID(ctx context.Context, name, version, release string) (int64, error) {
	var id int64
	err := tx.queryRow(ctx, "SELECT b.id FROM build b JOIN package p ON p.id = b.pkg_id "+
		"WHERE p.name = ? AND b.version = ? AND b.release = ?", name, version, release).Scan(&id)
	if err != nil {
		return 0, notFound(err, "build", name+"-"+version+"-"+release)
	}
	return id, nil
}

// tableExists reports whether the database has the table.
func (tx *Tx) tableExists(ctx context.Context, table string) (bool, error) {
	q := "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
	if tx.pool.dialect == Postgres {
		q = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?"
	}
	var n int
	err := tx.queryRow(ctx, q, table).Scan(&n)
	return n > 0, err
}

// BuildUse says what keeps a failed or canceled build from being recycled.
type BuildUse struct {
	Tagged   bool // it has tag history (any tag_listing row, live or revoked)
	RPMs     bool
	Archives bool
}

// BuildUses reports the build's tag history, RPMs and archives.
func (tx *Tx) BuildUses(ctx context.Context, id int64) (BuildUse, error) {
	var u BuildUse
	exists := func(q string) (bool, error) {
		var one int
		err := tx.queryRow(ctx, q, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
		return err == nil, err
	}
	var err error
	// tag_listing comes with the tags' migration; without it there is no
	// tag history.
	if ok, err := tx.tableExists(ctx, "tag_listing"); err != nil {
		return u, err
	} else if ok {
		if u.Tagged, err = exists("SELECT 1 FROM tag_listing WHERE build_id = ? LIMIT 1"); err != nil {
			return u, err
		}
	}
	if u.RPMs, err = exists("SELECT 1 FROM rpminfo WHERE build_id = ? LIMIT 1"); err != nil {
		return u, err
	}
	u.Archives, err = exists("SELECT 1 FROM archiveinfo WHERE build_id = ? LIMIT 1")
	return u, err
}

// RecycleBuild reuses a failed or canceled build's row for a new build of
// the same NVR, as upstream's recycle_build does: its type rows go, and
// state, task, owner, times, epoch, source, extra, volume and (when
// b.CGID is set) content generator are b's, created at this
// transaction's event.
func (tx *Tx) RecycleBuild(ctx context.Context, id int64, b Build) error {
	event, err := tx.NewEvent(ctx)
	if err != nil {
		return err
	}
	for _, table := range []string{"maven_builds", "win_builds", "image_builds", "build_types"} {
		if _, err := tx.exec(ctx, "DELETE FROM "+table+" WHERE build_id = ?", id); err != nil {
			return err
		}
	}
	q := "UPDATE build SET state = ?, task_id = ?, owner = ?, start_time = ?, completion_time = ?, epoch = ?, " +
		"source = ?, extra = ?, volume_id = ?, create_event = ?"
	args := []any{b.State, b.TaskID, b.Owner, b.StartTime, b.CompletionTime, b.Epoch, b.Source, b.Extra, b.VolumeID, event}
	if b.CGID != nil {
		q, args = q+", cg_id = ?", append(args, *b.CGID)
	}
	return tx.execOne(ctx, "build", id, q+" WHERE id = ?", append(args, id)...)
}

// CancelBuild sets a BUILDING build CANCELED, completed now, and drops its
// content generator reservation. It reports false, changing nothing, when
// the build is not BUILDING.
func (tx *Tx) CancelBuild(ctx context.Context, id int64) (bool, error) {
	res, err := tx.exec(ctx, "UPDATE build SET state = ?, completion_time = ? WHERE id = ? AND state = ?",
		BuildCanceled, now(), id, BuildBuilding)
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	_, err = tx.exec(ctx, "DELETE FROM build_reservations WHERE build_id = ?", id)
	return err == nil, err
}

// BuildingBuildsOfTask returns the ids of the task's BUILDING builds,
// their rows locked (upstream's rowlock) on PostgreSQL.
func (tx *Tx) BuildingBuildsOfTask(ctx context.Context, taskID int64) ([]int64, error) {
	q := "SELECT id FROM build WHERE task_id = ? AND state = ? ORDER BY id"
	if tx.pool.dialect == Postgres {
		q += " FOR UPDATE"
	}
	rows, err := tx.query(ctx, q, taskID, BuildBuilding)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r scanner) (*int64, error) {
		var n int64
		return &n, r.Scan(&n)
	})
}

// AddBuildType records that the build is of the btype.
func (tx *Tx) AddBuildType(ctx context.Context, buildID, btypeID int64) error {
	_, err := tx.exec(ctx, "INSERT INTO build_types (build_id, btype_id) VALUES (?, ?)", buildID, btypeID)
	return err
}

// BuildTypeNames returns the names of the build's btypes, in btype id
// order.
func (tx *Tx) BuildTypeNames(ctx context.Context, buildID int64) ([]string, error) {
	rows, err := tx.query(ctx, "SELECT t.name FROM build_types bt JOIN btype t ON t.id = bt.btype_id "+
		"WHERE bt.build_id = ? ORDER BY t.id", buildID)
	if err != nil {
		return nil, err
	}
	names, err := collect(rows, scanString)
	return names, err
}

// LegacyTypeInfo returns the build's rows of maven_builds, win_builds and
// image_builds, keyed by type, each as upstream's get_maven_build,
// get_win_build and get_image_build answer it.
func (tx *Tx) LegacyTypeInfo(ctx context.Context, buildID int64) (map[string]map[string]any, error) {
	out := map[string]map[string]any{}
	var g, a, v string
	err := tx.queryRow(ctx, "SELECT group_id, artifact_id, version FROM maven_builds WHERE build_id = ?", buildID).Scan(&g, &a, &v)
	if err == nil {
		out["maven"] = map[string]any{"build_id": buildID, "group_id": g, "artifact_id": a, "version": v}
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	var platform string
	err = tx.queryRow(ctx, "SELECT platform FROM win_builds WHERE build_id = ?", buildID).Scan(&platform)
	if err == nil {
		out["win"] = map[string]any{"build_id": buildID, "platform": platform}
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	var one int64
	err = tx.queryRow(ctx, "SELECT build_id FROM image_builds WHERE build_id = ?", buildID).Scan(&one)
	if err == nil {
		out["image"] = map[string]any{"build_id": buildID}
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	return out, nil
}

// AverageBuildDuration is upstream's getAverageBuildDuration query: the
// mean of completion_time minus the creation event's time over the
// package's COMPLETE builds that have a task or whose extra mentions
// koji_task_id, completed after since when it is set; nil without such
// builds.
func (tx *Tx) AverageBuildDuration(ctx context.Context, pkgID int64, since *time.Time) (*float64, error) {
	q := "SELECT b.completion_time, e.time, b.task_id, b.extra FROM build b JOIN events e ON e.id = b.create_event " +
		"WHERE b.pkg_id = ? AND b.state = ?"
	args := []any{pkgID, BuildComplete}
	if since != nil {
		q, args = q+" AND b.completion_time > ?", append(args, since.UTC())
	}
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var sum time.Duration
	n := 0
	for rows.Next() {
		var done, created time.Time
		var task *int64
		var extra *string
		if err := rows.Scan(&done, &created, &task, &extra); err != nil {
			return nil, err
		}
		if task == nil && (extra == nil || !strings.Contains(*extra, "koji_task_id")) {
			continue
		}
		sum += done.Sub(created)
		n++
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, nil
	}
	avg := sum.Seconds() / float64(n)
	return &avg, nil
}

// FinishBuild moves a build to state (COMPLETE, FAILED or CANCELED),
// completed now, and with volumeID set its volume. It returns a
// [*NotFoundError] for a missing build.
func (tx *Tx) FinishBuild(ctx context.Context, id int64, state int, volumeID *int64) error {
	q, args := "UPDATE build SET state = ?, completion_time = ?", []any{state, now()}
	if volumeID != nil {
		q, args = q+", volume_id = ?", append(args, *volumeID)
	}
	return tx.execOne(ctx, "build", id, q+" WHERE id = ?", append(args, id)...)
}
