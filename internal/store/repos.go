package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Repos (upstream's repo table) and the repo request queue (repo_queue),
// with upstream's query views RepoQuery and RepoQueueQuery.

// Repo states, koji.REPO_STATES.
const (
	RepoInit    = 0
	RepoReady   = 1
	RepoExpired = 2
	RepoDeleted = 3
	RepoProblem = 4
)

// JSONText is the stored JSON of a JSON column, as a view answers it.
type JSONText string

var (
	repoView = newView("repo",
		map[string]string{
			"tag":       "JOIN tag ON repo.tag_id = tag.id",
			"create_ev": "JOIN events AS create_ev ON repo.create_event = create_ev.id",
			"begin_ev":  "LEFT JOIN events AS begin_ev ON repo.begin_event = begin_ev.id",
			"end_ev":    "LEFT JOIN events AS end_ev ON repo.end_event = end_ev.id",
			"task":      "LEFT JOIN task ON repo.task_id = task.id",
		},
		[]string{"id", "tag_id", "create_event", "state", "dist", "task_id", "opts", "custom_opts"},
		"id", viewField{"repo.id", "", kindInt},
		"tag_id", viewField{"repo.tag_id", "", kindInt},
		"creation_time", viewField{"repo.creation_time", "", kindTime},
		"creation_ts", viewField{"repo.creation_time", "", kindEpoch},
		"state_time", viewField{"repo.state_time", "", kindTime},
		"state_ts", viewField{"repo.state_time", "", kindEpoch},
		"create_event", viewField{"repo.create_event", "", kindInt},
		"create_ts", viewField{"create_ev.time", "create_ev", kindEpoch},
		"begin_event", viewField{"repo.begin_event", "", kindInt},
		"begin_ts", viewField{"begin_ev.time", "begin_ev", kindEpoch},
		"end_event", viewField{"repo.end_event", "", kindInt},
		"end_ts", viewField{"end_ev.time", "end_ev", kindEpoch},
		"state", viewField{"repo.state", "", kindInt},
		"dist", viewField{"repo.dist", "", kindBool},
		"opts", viewField{"repo.opts", "", kindJSON},
		"custom_opts", viewField{"repo.custom_opts", "", kindJSON},
		"task_id", viewField{"repo.task_id", "", kindInt},
		"task_state", viewField{"task.state", "task", kindInt},
		"tag_name", viewField{"tag.name", "tag", kindString},
	)

	repoQueueView = newView("repo_queue",
		map[string]string{
			"tag":   "JOIN tag ON repo_queue.tag_id = tag.id",
			"task":  "LEFT JOIN task ON repo_queue.task_id = task.id",
			"users": "JOIN users ON repo_queue.owner = users.id",
		},
		[]string{"id", "tag_id", "at_event", "min_event", "create_ts", "task_id", "tries", "repo_id", "opts",
			"active", "update_ts"},
		"id", viewField{"repo_queue.id", "", kindInt},
		"create_time", viewField{"repo_queue.create_time", "", kindTime},
		"create_ts", viewField{"repo_queue.create_time", "", kindEpoch},
		"owner", viewField{"repo_queue.owner", "", kindInt},
		"owner_name", viewField{"users.name", "users", kindString},
		"priority", viewField{"repo_queue.priority", "", kindInt},
		"tag_id", viewField{"repo_queue.tag_id", "", kindInt},
		"tag_name", viewField{"tag.name", "tag", kindString},
		"at_event", viewField{"repo_queue.at_event", "", kindInt},
		"min_event", viewField{"repo_queue.min_event", "", kindInt},
		"opts", viewField{"repo_queue.opts", "", kindJSON},
		"update_time", viewField{"repo_queue.update_time", "", kindTime},
		"update_ts", viewField{"repo_queue.update_time", "", kindEpoch},
		"active", viewField{"repo_queue.active", "", kindBool},
		"task_id", viewField{"repo_queue.task_id", "", kindInt},
		"task_state", viewField{"task.state", "task", kindInt},
		"tries", viewField{"repo_queue.tries", "", kindInt},
		"repo_id", viewField{"repo_queue.repo_id", "", kindInt},
	)
)

// QueryRepos answers upstream's RepoQuery (repo.query, getRepo,
// repoInfo): rows of repo with, for some fields, its tag, events and task.
// Times are time.Time, JSON columns [JSONText].
func (tx *Tx) QueryRepos(ctx context.Context, clauses []ViewClause, fields []string, opts ViewOpts) (any, error) {
	return tx.queryView(ctx, repoView, clauses, fields, opts)
}

// QueryRepoQueue answers upstream's RepoQueueQuery (repo.queryQueue).
func (tx *Tx) QueryRepoQueue(ctx context.Context, clauses []ViewClause, fields []string, opts ViewOpts) (any, error) {
	return tx.queryView(ctx, repoQueueView, clauses, fields, opts)
}

// CanonicalJSON rewrites a JSON document compactly with sorted keys, the
// form JSON columns are stored in, so that equal documents compare equal
// as text.
func CanonicalJSON(doc string) (string, error) {
	var v any
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// jsonClauseSQL renders a clause on a JSON column: = and != compare the
// documents, @> and <@ are PostgreSQL's containment of the top-level
// members (what repo options are). The value is a JSON document.
func (tx *Tx) jsonClauseSQL(f viewField, c ViewClause) (string, []any, error) {
	switch c.Op {
	case "IS", "IS NOT":
		if c.Value == nil {
			return f.column + " " + c.Op + " NULL", nil, nil
		}
		return "", nil, &ViewError{fmt.Sprintf("Invalid value for %s: %v", c.Op, c.Value)}
	case "=", "!=", "@>", "<@":
	default:
		return "", nil, &ViewError{fmt.Sprintf("Operator %s is not supported for field %s", c.Op, c.Field)}
	}
	s, ok := c.Value.(string)
	if !ok {
		return "", nil, &ViewError{fmt.Sprintf("Invalid value for field %s: %v", c.Field, c.Value)}
	}
	doc, err := CanonicalJSON(s)
	if err != nil {
		return "", nil, &ViewError{fmt.Sprintf("Invalid JSON for field %s: %s", c.Field, s)}
	}
	if c.Op == "=" || c.Op == "!=" {
		return f.column + " " + c.Op + " ?", []any{doc}, nil
	}
	if tx.pool.dialect == Postgres {
		return "CAST(" + f.column + " AS jsonb) " + c.Op + " CAST(? AS jsonb)", []any{doc}, nil
	}
	// SQLite: every member of the contained document is a member of the
	// containing one, with the same type and value.
	inner, outer, args := "?", f.column, []any{doc}
	if c.Op == "<@" {
		inner, outer, args = f.column, "?", []any{doc, doc}
	}
	return "json_type(" + outer + ") = 'object' AND NOT EXISTS (SELECT 1 FROM json_each(" + inner + ") AS a " +
		"WHERE NOT EXISTS (SELECT 1 FROM json_each(" + outer + ") AS b WHERE b.key = a.key AND b.type = a.type " +
		"AND (b.atom = a.atom OR b.atom IS NULL AND json(b.value) = json(a.value))))", args, nil
}

// A Repo is a new row of repo, as upstream's repo_init inserts it.
type Repo struct {
	CreateEvent int64
	BeginEvent  *int64
	EndEvent    *int64
	TagID       int64
	State       int
	Dist        bool
	Opts        string // JSON
	CustomOpts  string // JSON
	TaskID      *int64
}

// CreateRepo inserts a repo and returns its id.
func (tx *Tx) CreateRepo(ctx context.Context, r Repo) (int64, error) {
	t := now()
	return tx.insertID(ctx, "INSERT INTO repo (creation_time, create_event, state_time, begin_event, end_event, tag_id, "+
		"state, dist, opts, custom_opts, task_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
		t, r.CreateEvent, t, r.BeginEvent, r.EndEvent, r.TagID, r.State, r.Dist, r.Opts, r.CustomOpts, r.TaskID)
}

// LockRepoState returns a repo's state and locks its row until the
// transaction ends (SELECT … FOR UPDATE on PostgreSQL).
func (tx *Tx) LockRepoState(ctx context.Context, id int64) (int, error) {
	q := "SELECT state FROM repo WHERE id = ?"
	if tx.pool.dialect == Postgres {
		q += " FOR UPDATE"
	}
	var state sql.NullInt64
	if err := tx.queryRow(ctx, q, id).Scan(&state); err != nil {
		return 0, notFound(err, "repo", id)
	}
	return int(state.Int64), nil
}

// SetRepoState sets a repo's state and state_time.
func (tx *Tx) SetRepoState(ctx context.Context, id int64, state int) error {
	return tx.execOne(ctx, "repo", id, "UPDATE repo SET state = ?, state_time = ? WHERE id = ?", state, now(), id)
}

// A RepoRequest is a new row of repo_queue, as upstream's request_repo
// inserts it.
type RepoRequest struct {
	Owner    int64
	Priority int
	TagID    int64
	AtEvent  *int64
	MinEvent *int64
	Opts     string // JSON
}

// CreateRepoRequest inserts a repo request and returns its id.
func (tx *Tx) CreateRepoRequest(ctx context.Context, r RepoRequest) (int64, error) {
	t := now()
	return tx.insertID(ctx, "INSERT INTO repo_queue (create_time, owner, priority, tag_id, at_event, min_event, opts, "+
		"update_time, active, tries) VALUES (?, ?, ?, ?, ?, ?, ?, ?, TRUE, 0) RETURNING id",
		t, r.Owner, r.Priority, r.TagID, r.AtEvent, r.MinEvent, r.Opts, t)
}

// RepoRequestUpdate is what [Tx.UpdateRepoRequests] changes; nil fields
// stay. ClearTask forgets the request's task.
type RepoRequestUpdate struct {
	Priority  *int
	Active    *bool
	TaskID    *int64
	ClearTask bool
	Tries     *int
	RepoID    *int64
}

// UpdateRepoRequests applies u to the requests with the given ids and
// sets their update_time.
func (tx *Tx) UpdateRepoRequests(ctx context.Context, ids []int64, u RepoRequestUpdate) error {
	if len(ids) == 0 {
		return nil
	}
	sets := []string{"update_time = ?"}
	args := []any{now()}
	add := func(col string, v any) { sets, args = append(sets, col+" = ?"), append(args, v) }
	if u.Priority != nil {
		add("priority", *u.Priority)
	}
	if u.Active != nil {
		add("active", *u.Active)
	}
	if u.ClearTask {
		add("task_id", nil)
	} else if u.TaskID != nil {
		add("task_id", *u.TaskID)
	}
	if u.Tries != nil {
		add("tries", *u.Tries)
	}
	if u.RepoID != nil {
		add("repo_id", *u.RepoID)
	}
	for _, id := range ids {
		args = append(args, id)
	}
	_, err := tx.exec(ctx, "UPDATE repo_queue SET "+strings.Join(sets, ", ")+" WHERE id IN ("+placeholders(len(ids))+")", args...)
	return err
}

// CleanRepoQueue deletes the inactive requests last updated before
// cutoff (upstream's clean_repo_queue) and returns how many.
func (tx *Tx) CleanRepoQueue(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := tx.exec(ctx, "DELETE FROM repo_queue WHERE active = FALSE AND update_time < ?", cutoff.UTC())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// TagCreateEvent returns the event of a tag's first configuration (the
// oldest tag_config row); 0 when it has none.
func (tx *Tx) TagCreateEvent(ctx context.Context, tagID int64) (int64, error) {
	var e sql.NullInt64
	err := tx.queryRow(ctx, "SELECT MIN(create_event) FROM tag_config WHERE tag_id = ?", tagID).Scan(&e)
	return e.Int64, err
}

// TagFirstChangeEvent returns the oldest event later than after that
// created or revoked a row of [TagTables] or recorded a tag_updates row
// for any of tags; 0 when there is none. It is the counterpart of
// [Tx.TagLastChangeEvent].
func (tx *Tx) TagFirstChangeEvent(ctx context.Context, tags []int64, after int64) (int64, error) {
	if len(tags) == 0 {
		return 0, nil
	}
	in := "tag_id IN (" + placeholders(len(tags)) + ")"
	var parts []string
	var all []any
	add := func(table, col string) {
		parts = append(parts, "SELECT MIN("+col+") AS e FROM "+table+" WHERE "+in+" AND "+col+" > ?")
		for _, t := range tags {
			all = append(all, t)
		}
		all = append(all, after)
	}
	add("tag_updates", "update_event")
	for _, table := range TagTables {
		add(table, "create_event")
		add(table, "revoke_event")
	}
	var e sql.NullInt64
	err := tx.queryRow(ctx, "SELECT MIN(e) FROM ("+strings.Join(parts, " UNION ALL ")+") AS changes", all...).Scan(&e)
	return e.Int64, err
}

// SetRepoEndEvent records the first event that changed a repo's tag after
// the repo's event (upstream's update_end_events).
func (tx *Tx) SetRepoEndEvent(ctx context.Context, id, event int64) error {
	return tx.execOne(ctx, "repo", id, "UPDATE repo SET end_event = ? WHERE id = ?", event, id)
}

// A RepoReference is a live standard buildroot using a repo.
type RepoReference struct {
	ID, HostID, TaskID, CreateEvent int64
	State                           *int64
}

// RepoReferences returns the standard buildroots of the repo that are
// not retired, in buildroot order (upstream's repo_references query).
func (tx *Tx) RepoReferences(ctx context.Context, repoID int64) ([]RepoReference, error) {
	rows, err := tx.query(ctx, "SELECT buildroot_id, host_id, task_id, create_event, state FROM standard_buildroot "+
		"WHERE repo_id = ? AND retire_event IS NULL ORDER BY buildroot_id", repoID)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(row scanner) (*RepoReference, error) {
		var r RepoReference
		return &r, row.Scan(&r.ID, &r.HostID, &r.TaskID, &r.CreateEvent, &r.State)
	})
}
