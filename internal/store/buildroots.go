package store

import (
	"context"
	"strings"
	"time"
)

// Buildroot types and states, as koji.BR_TYPES and koji.BR_STATES.
const (
	BRTypeStandard = 0
	BRTypeExternal = 1

	BRStateInit     = 0
	BRStateWaiting  = 1
	BRStateBuilding = 2
	BRStateExpired  = 3
)

// Buildroot is a row of buildroot with, for a standard buildroot, its
// standard_buildroot row.
type Buildroot struct {
	ID            int64
	BRType        int
	CGID          *int64
	CGVersion     *string
	ContainerType *string
	ContainerArch *string
	HostOS        *string
	HostArch      *string
	Extra         *string // JSON text

	Standard *StandardBuildroot // nil for an external (content generator) buildroot
}

// StandardBuildroot is a row of standard_buildroot: a buildroot a host
// made for a task.
type StandardBuildroot struct {
	HostID, RepoID, TaskID int64
	CreateEvent            int64
	RetireEvent            *int64
	State                  *int
}

// CreateStandardBuildroot inserts a buildroot of type STANDARD, state
// INIT, created at this transaction's event, and returns its id.
func (tx *Tx) CreateStandardBuildroot(ctx context.Context, hostID, repoID, taskID int64, arch *string, ctype string) (int64, error) {
	event, err := tx.NewEvent(ctx)
	if err != nil {
		return 0, err
	}
	var ct *string
	if arch != nil {
		ct = &ctype
	}
	id, err := tx.insertID(ctx, "INSERT INTO buildroot (br_type, container_type, container_arch) VALUES (?, ?, ?) RETURNING id",
		BRTypeStandard, ct, arch)
	if err != nil {
		return 0, err
	}
	_, err = tx.exec(ctx, "INSERT INTO standard_buildroot (buildroot_id, host_id, repo_id, task_id, create_event, state) "+
		"VALUES (?, ?, ?, ?, ?, ?)", id, hostID, repoID, taskID, event, BRStateInit)
	return id, err
}

// CreateExternalBuildroot inserts a content generator's buildroot (b.ID
// and b.Standard are ignored) and returns its id.
func (tx *Tx) CreateExternalBuildroot(ctx context.Context, b Buildroot) (int64, error) {
	return tx.insertID(ctx, "INSERT INTO buildroot (br_type, cg_id, cg_version, container_type, container_arch, "+
		"host_os, host_arch, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
		b.BRType, b.CGID, b.CGVersion, b.ContainerType, b.ContainerArch, b.HostOS, b.HostArch, b.Extra)
}

// GetBuildroot returns the buildroot with the given id.
func (tx *Tx) GetBuildroot(ctx context.Context, id int64) (*Buildroot, error) {
	b := Buildroot{ID: id}
	var host, repo, task, create *int64
	var retire *int64
	var state *int
	err := tx.queryRow(ctx, "SELECT b.br_type, b.cg_id, b.cg_version, b.container_type, b.container_arch, b.host_os, "+
		"b.host_arch, b.extra, s.host_id, s.repo_id, s.task_id, s.create_event, s.retire_event, s.state "+
		"FROM buildroot b LEFT JOIN standard_buildroot s ON s.buildroot_id = b.id WHERE b.id = ?", id).Scan(
		&b.BRType, &b.CGID, &b.CGVersion, &b.ContainerType, &b.ContainerArch, &b.HostOS, &b.HostArch, &b.Extra,
		&host, &repo, &task, &create, &retire, &state)
	if err != nil {
		return nil, notFound(err, "buildroot", id)
	}
	if host != nil {
		b.Standard = &StandardBuildroot{HostID: *host, RepoID: *repo, TaskID: *task, CreateEvent: *create,
			RetireEvent: retire, State: state}
	}
	return &b, nil
}

// LockBuildrootState returns a standard buildroot's state and retire
// event, locking its row on PostgreSQL until the transaction ends.
func (tx *Tx) LockBuildrootState(ctx context.Context, id int64) (state *int, retire *int64, err error) {
	q := "SELECT state, retire_event FROM standard_buildroot WHERE buildroot_id = ?"
	if tx.pool.dialect == Postgres {
		q += " FOR UPDATE"
	}
	if err := tx.queryRow(ctx, q, id).Scan(&state, &retire); err != nil {
		return nil, nil, notFound(err, "buildroot", id)
	}
	return state, retire, nil
}

// SetBuildrootState sets a standard buildroot's state; EXPIRED also
// records this transaction's event as its retire event.
func (tx *Tx) SetBuildrootState(ctx context.Context, id int64, state int) error {
	if state != BRStateExpired {
		return tx.execOne(ctx, "buildroot", id, "UPDATE standard_buildroot SET state = ? WHERE buildroot_id = ?", state, id)
	}
	event, err := tx.NewEvent(ctx)
	if err != nil {
		return err
	}
	return tx.execOne(ctx, "buildroot", id, "UPDATE standard_buildroot SET state = ?, retire_event = ? WHERE buildroot_id = ?",
		state, event, id)
}

// BuildrootRPM is an RPM of a buildroot's listing, as BuildRoot.getList
// reads it.
type BuildrootRPM struct {
	RPMID            int64
	IsUpdate         bool
	Name             string
	Version          string
	Release          string
	Epoch            *int64
	Arch             string
	BuildID          *int64
	ExternalRepoID   int64
	ExternalRepoName string
}

// BuildrootListing returns the RPMs installed in the buildroot, by RPM id.
func (tx *Tx) BuildrootListing(ctx context.Context, id int64) ([]BuildrootRPM, error) {
	rows, err := tx.query(ctx, "SELECT l.rpm_id, l.is_update, r.name, r.version, r.release, r.epoch, r.arch, r.build_id, "+
		"r.external_repo_id, x.name FROM buildroot_listing l JOIN rpminfo r ON r.id = l.rpm_id "+
		"JOIN external_repo x ON x.id = r.external_repo_id WHERE l.buildroot_id = ? ORDER BY l.rpm_id", id)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(row scanner) (*BuildrootRPM, error) {
		var r BuildrootRPM
		return &r, row.Scan(&r.RPMID, &r.IsUpdate, &r.Name, &r.Version, &r.Release, &r.Epoch, &r.Arch, &r.BuildID,
			&r.ExternalRepoID, &r.ExternalRepoName)
	})
}

// AddBuildrootListing records RPMs as installed in the buildroot, as
// updates (installed after its setup) or not.
func (tx *Tx) AddBuildrootListing(ctx context.Context, id int64, rpmIDs []int64, update bool) error {
	for _, r := range rpmIDs {
		if _, err := tx.exec(ctx, "INSERT INTO buildroot_listing (buildroot_id, rpm_id, is_update) VALUES (?, ?, ?)",
			id, r, update); err != nil {
			return err
		}
	}
	return nil
}

// BuildrootArchiveIDs returns the ids of the archives recorded in the
// buildroot.
func (tx *Tx) BuildrootArchiveIDs(ctx context.Context, id int64) ([]int64, error) {
	rows, err := tx.query(ctx, "SELECT archive_id FROM buildroot_archives WHERE buildroot_id = ? ORDER BY archive_id", id)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(row scanner) (*int64, error) {
		var n int64
		return &n, row.Scan(&n)
	})
}

// AddBuildrootArchives records archives as used in the buildroot, as
// project dependencies or not.
func (tx *Tx) AddBuildrootArchives(ctx context.Context, id int64, archiveIDs []int64, project bool) error {
	for _, a := range archiveIDs {
		if _, err := tx.exec(ctx, "INSERT INTO buildroot_archives (buildroot_id, archive_id, project_dep) VALUES (?, ?, ?)",
			id, a, project); err != nil {
			return err
		}
	}
	return nil
}

// AddBuildrootTool records a tool (and its version) of the buildroot.
func (tx *Tx) AddBuildrootTool(ctx context.Context, id int64, tool, version string) error {
	_, err := tx.exec(ctx, "INSERT INTO buildroot_tools_info (buildroot_id, tool, version) VALUES (?, ?, ?)", id, tool, version)
	return err
}

// BuildrootInfo is a buildroot as upstream's query_buildroots answers it:
// the buildroot, its standard_buildroot row, host, content generator,
// repo and the repo's tag, and the events. The repo's columns are nil
// while the database has no repo table.
type BuildrootInfo struct {
	Buildroot
	CGName                           *string
	State, TaskID, HostID, RepoID    *int64
	HostName                         *string
	RepoState, TagID                 *int64
	TagName                          *string
	CreateEventID, RetireEventID     *int64
	CreateEventTime, RetireEventTime *time.Time
	RepoCreateEventID                *int64
	RepoCreateEventTime              *time.Time
	IsUpdate                         *bool // with RPMID: whether the RPM was an update
}

// BuildrootQuery selects buildroots for [Tx.QueryBuildroots]; nil fields
// do not filter.
type BuildrootQuery struct {
	IDs                             []int64 // nil: any
	HostID, TagID, RPMID, ArchiveID *int64
	TaskID, RepoID                  *int64
	States                          []int64 // nil: any
	Order                           []OrderBy
	Offset, Limit                   int64
}

// BuildrootQueryColumns maps the names a [BuildrootQuery] may order on to
// their SQL.
var BuildrootQueryColumns = map[string]string{
	"id": "b.id", "br_type": "b.br_type", "cg_id": "b.cg_id", "cg_name": "cg.name", "cg_version": "b.cg_version",
	"container_arch": "b.container_arch", "arch": "b.container_arch", "container_type": "b.container_type",
	"host_os": "b.host_os", "host_arch": "b.host_arch", "extra": "b.extra", "state": "s.state",
	"task_id": "s.task_id", "host_id": "h.id", "host_name": "h.name", "repo_id": "s.repo_id",
	"create_event_id": "ce.id", "create_event_time": "ce.time", "create_ts": "ce.time",
	"retire_event_id": "re.id", "retire_event_time": "re.time", "retire_ts": "re.time",
	"is_update": "l.is_update", // with RPMID
}

// QueryBuildroots returns the buildroots q selects.
func (tx *Tx) QueryBuildroots(ctx context.Context, q BuildrootQuery) ([]BuildrootInfo, error) {
	hasRepo, err := tx.tableExists(ctx, "repo")
	if err != nil {
		return nil, err
	}
	cols := "b.id, b.br_type, b.cg_id, cg.name, b.cg_version, b.container_arch, b.container_type, b.host_os, " +
		"b.host_arch, b.extra, s.state, s.task_id, h.id, h.name, s.repo_id, ce.id, ce.time, re.id, re.time"
	from := " FROM buildroot b LEFT JOIN standard_buildroot s ON s.buildroot_id = b.id " +
		"LEFT JOIN content_generator cg ON cg.id = b.cg_id LEFT JOIN host h ON h.id = s.host_id " +
		"LEFT JOIN events ce ON ce.id = s.create_event LEFT JOIN events re ON re.id = s.retire_event"
	if hasRepo {
		cols += ", repo.state, t.id, t.name, rc.id, rc.time"
		from += " LEFT JOIN repo ON repo.id = s.repo_id LEFT JOIN tag t ON t.id = repo.tag_id " +
			"LEFT JOIN events rc ON rc.id = repo.create_event"
	} else {
		cols += ", NULL, NULL, NULL, NULL, NULL"
	}
	var conds []string
	var args []any
	add := func(cond string, vals ...any) { conds, args = append(conds, cond), append(args, vals...) }
	inList := func(col string, vals []int64) {
		if len(vals) == 0 {
			add("1 = 0")
			return
		}
		in := make([]any, len(vals))
		for i, v := range vals {
			in[i] = v
		}
		add(col+" IN ("+placeholders(len(in))+")", in...)
	}
	if q.IDs != nil {
		inList("b.id", q.IDs)
	}
	if q.States != nil {
		inList("s.state", q.States)
	}
	for _, f := range []struct {
		col string
		v   *int64
	}{{"h.id", q.HostID}, {"s.task_id", q.TaskID}, {"s.repo_id", q.RepoID}} {
		if f.v != nil {
			add(f.col+" = ?", *f.v)
		}
	}
	if q.TagID != nil {
		if !hasRepo {
			add("1 = 0")
		} else {
			add("t.id = ?", *q.TagID)
		}
	}
	if q.RPMID != nil {
		cols += ", l.is_update"
		from += " JOIN buildroot_listing l ON l.buildroot_id = b.id"
		add("l.rpm_id = ?", *q.RPMID)
	}
	if q.ArchiveID != nil {
		from += " JOIN buildroot_archives ba ON ba.buildroot_id = b.id"
		add("ba.archive_id = ?", *q.ArchiveID)
	}
	stmt := "SELECT " + cols + from
	if len(conds) > 0 {
		stmt += " WHERE " + strings.Join(conds, " AND ")
	}
	order, err := orderBy(q.Order, BuildrootQueryColumns, "b.id")
	if err != nil {
		return nil, err
	}
	rows, err := tx.query(ctx, stmt+order+limitOffset(q.Limit, q.Offset), args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(row scanner) (*BuildrootInfo, error) {
		var b BuildrootInfo
		var state *int64
		dest := []any{&b.ID, &b.BRType, &b.CGID, &b.CGName, &b.CGVersion, &b.ContainerArch, &b.ContainerType,
			&b.HostOS, &b.HostArch, &b.Extra, &state, &b.TaskID, &b.HostID, &b.HostName, &b.RepoID,
			&b.CreateEventID, &b.CreateEventTime, &b.RetireEventID, &b.RetireEventTime,
			&b.RepoState, &b.TagID, &b.TagName, &b.RepoCreateEventID, &b.RepoCreateEventTime}
		if q.RPMID != nil {
			dest = append(dest, &b.IsUpdate)
		}
		if err := row.Scan(dest...); err != nil {
			return nil, err
		}
		b.State = state
		return &b, nil
	})
}
