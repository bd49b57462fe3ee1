package hubserver

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// Repos (§E9): upstream's repo_init, repo_set_state, repo_info and the
// RootExports and HostExports repo calls; the request queue's calls are
// in kojirepos_queue.go, the files in kojirepos_files.go.

// repoStateNames are koji.REPO_STATES.
var repoStateNames = []string{"INIT", "READY", "EXPIRED", "DELETED", "PROBLEM"}

// repoMethods are the repo methods of RootExports, HostExports and
// RepoExports (repo.*).
func (k *Koji) repoMethods() []Method {
	repoID := []Arg{{Name: "repo_id"}}
	return append([]Method{
		{
			Name: "host.repoInit", PyName: "HostExports.repoInit", Bound: true,
			Args: []Arg{{Name: "tag"}, {Name: "task_id", Default: None}, {Name: "event", Default: None}, {Name: "opts", Default: None}},
			Doc:  "Initialize a new repo for tag",
			Func: k.hostRepoInit,
		},
		{
			Name: "host.repoDone", PyName: "HostExports.repoDone", Bound: true,
			Args: []Arg{{Name: "repo_id"}, {Name: "data"}, {Name: "expire", Default: false}, {Name: "repo_json_updates", Default: None}},
			Doc:  repoDoneDoc,
			Func: k.hostRepoDone,
		},
		{
			Name: "newRepo", PyName: "RootExports.newRepo", Bound: true,
			Args: []Arg{{Name: "tag"}, {Name: "event", Default: None}, {Name: "src", Default: false},
				{Name: "debuginfo", Default: false}, {Name: "separate_src", Default: false}},
			Doc:  "Create a newRepo task. returns task id",
			Func: k.newRepo,
		},
		{
			Name: "getRepo", PyName: "old_get_repo",
			Args: []Arg{{Name: "tag"}, {Name: "state", Default: None}, {Name: "event", Default: None},
				{Name: "dist", Default: false}, {Name: "min_event", Default: None}},
			Doc: "Get individual repository data based on tag and additional filters.\n    " +
				"If more repos fits, most recent is returned.",
			Func: oldGetRepo,
		},
		{
			Name: "repoInfo", PyName: "repo_info",
			Args: []Arg{{Name: "repo_id"}, {Name: "strict", Default: false}},
			Doc:  "Get repo information",
			Func: func(ctx context.Context, id, strict any) (any, error) {
				return repoInfo(ctx, id, xmlrpc.Truthy(strict))
			},
		},
		{
			Name: "repoExpire", PyName: "RootExports.repoExpire", Bound: true, Args: repoID,
			Doc:  "mark repo expired",
			Func: func(ctx context.Context, id any) error { return k.permRepoState(ctx, id, store.RepoExpired) },
		},
		{
			Name: "repoDelete", PyName: "RootExports.repoDelete", Bound: true, Args: repoID,
			Doc: "Attempt to mark repo deleted, return number of references\n\n" +
				"        If the number of references is nonzero, no change is made\n        Does not remove from disk",
			Func: k.repoDelete,
		},
		{
			Name: "repoProblem", PyName: "RootExports.repoProblem", Bound: true, Args: repoID,
			Doc:  "mark repo as broken",
			Func: func(ctx context.Context, id any) error { return k.permRepoState(ctx, id, store.RepoProblem) },
		},
		{
			Name: "tagFirstChangeEvent", PyName: "tag_first_change_event",
			Args: []Arg{{Name: "tag"}, {Name: "after", Default: None}, {Name: "inherit", Default: true}},
			Doc:  "Report the earliest event that changed the tag, or None if unchanged",
			Func: tagFirstChangeEvent,
		},
	}, k.repoQueueMethods()...)
}

const repoDoneDoc = "Finalize a repo\n\n" +
	"        :param int repo_id: the id of the repo\n" +
	"        :param dict data: a dictionary of repo files in the form:\n" +
	"        :param bool expire: (legacy) if true, mark repo expired\n" +
	"        :param dict repo_json_updates: updates for repo.json file\n\n" +
	"        The data parameter should be of the form:\n" +
	"            { arch: [uploadpath, [file1, file2, ...]], ...}\n\n" +
	"        Actions:\n" +
	"        * Move uploaded repo files into place\n" +
	"        * Mark repo ready (or expired)\n" +
	"        * Move/create 'latest' symlink if appropriate\n\n" +
	"        For dist repos, the move step is skipped (that is handled in\n" +
	"        distRepoMove).\n        "

// pyValues turns what the store's views answer into XML-RPC values:
// times become Python's str() of a datetime, JSON columns their decoded
// value.
func pyValues(v any) (any, error) {
	switch x := v.(type) {
	case []map[string]any:
		for _, m := range x {
			for key, e := range m {
				c, err := pyValues(e)
				if err != nil {
					return nil, err
				}
				m[key] = c
			}
		}
	case [][]any:
		for _, row := range x {
			for i, e := range row {
				c, err := pyValues(e)
				if err != nil {
					return nil, err
				}
				row[i] = c
			}
		}
	case time.Time:
		return pyTime(x), nil
	case store.JSONText:
		return decodeJSON(string(x))
	}
	return v, nil
}

// repoView runs the repo view (or, with queue, repo_queue's) and
// converts its rows.
func repoView(queue bool) viewQuery {
	run := (*store.Tx).QueryRepos
	if queue {
		run = (*store.Tx).QueryRepoQueue
	}
	return func(tx *store.Tx, ctx context.Context, clauses []store.ViewClause, fields []string, opts store.ViewOpts) (any, error) {
		v, err := run(tx, ctx, clauses, fields, opts)
		if err != nil {
			return nil, err
		}
		return pyValues(v)
	}
}

// queryRepoRows runs a RepoQuery (or RepoQueueQuery) the hub makes itself.
func queryRepoRows(ctx context.Context, queue bool, clauses []store.ViewClause, fields []string, opts store.ViewOpts) ([]map[string]any, error) {
	v, err := repoView(queue)(storeTx(ctx), ctx, clauses, fields, opts)
	if err != nil {
		return nil, err
	}
	return v.([]map[string]any), nil
}

// firstRow is QueryView.executeOne: the first row or nil; with strict no
// row is upstream's "query returned no rows".
func firstRow(rows []map[string]any, strict bool) (map[string]any, error) {
	if len(rows) == 0 {
		if strict {
			return nil, fault(koji.ErrGeneric, "query returned no rows")
		}
		return nil, nil
	}
	return rows[0], nil
}

func clause(field, op string, value any) store.ViewClause {
	return store.ViewClause{Field: field, Op: op, Value: value}
}

// repoInfo is upstream's repo_info: every RepoQuery field of the repo.
func repoInfo(ctx context.Context, repoID any, strict bool) (map[string]any, error) {
	var id any
	if repoID != nil {
		n, err := convertInt(repoID)
		if err != nil {
			return nil, err
		}
		id = n
	}
	rows, err := queryRepoRows(ctx, false, []store.ViewClause{clause("id", "=", id)}, []string{"**"}, store.ViewOpts{})
	if err != nil {
		return nil, err
	}
	return firstRow(rows, strict)
}

// optInt is convert_value(v, int, none_allowed=True).
func optInt(v any) (*int64, error) {
	if v == nil {
		return nil, nil
	}
	n, err := convertInt(v)
	return &n, err
}

// oldGetRepo is upstream's old_get_repo, exported as getRepo: the newest
// repo (by creation time) of the tag in the state (READY by default), or
// with event the newest created at or before it in any state.
func oldGetRepo(ctx context.Context, tag, state, event, dist, minEvent any) (any, error) {
	ref, err := tagRef(ctx, storeTx(ctx), tag, true)
	if err != nil {
		return nil, err
	}
	st, err := optInt(state)
	if err != nil {
		return nil, err
	}
	ev, err := optInt(event)
	if err != nil {
		return nil, err
	}
	minEv, err := optInt(minEvent)
	if err != nil {
		return nil, err
	}
	cs := []store.ViewClause{clause("tag_id", "=", ref.ID), clause("dist", "IS", xmlrpc.Truthy(dist))}
	if ev != nil && *ev != 0 {
		cs = append(cs, clause("create_event", "<=", *ev))
	} else {
		s := int64(store.RepoReady)
		if st != nil {
			s = *st
		}
		cs = append(cs, clause("state", "=", s))
	}
	if minEv != nil {
		cs = append(cs, clause("create_event", ">=", *minEv))
	}
	rows, err := queryRepoRows(ctx, false, cs, []string{"**"}, store.ViewOpts{Order: "-creation_time", Limit: 1})
	if err != nil {
		return nil, err
	}
	return firstRow(rows, false)
}

// repoSetState is upstream's repo_set_state: states only move up, but
// DELETED may always be set and is final; setting the state a repo has is
// a no-op. A repo becoming READY fulfils the requests it satisfies.
func (k *Koji) repoSetState(ctx context.Context, repoID any, state int) error {
	id, err := convertInt(repoID)
	if err != nil {
		return err
	}
	if state < 0 || state >= len(repoStateNames) {
		return fault(koji.ErrParameter, "Unknown repo state: %d", state)
	}
	tx := storeTx(ctx)
	old, err := tx.LockRepoState(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return fault(koji.ErrGeneric, "query returned no rows")
	} else if err != nil {
		return err
	}
	switch {
	case old > state && state != store.RepoDeleted:
		return fault(koji.ErrGeneric, "Invalid repo state transition for repo %d: %s -> %s", id, repoStateNames[old], repoStateNames[state])
	case old == state:
		LoggerFrom(ctx).Warn("repo already in state", "repo", id, "state", repoStateNames[state])
		return nil
	case old == store.RepoDeleted:
		return fault(koji.ErrGeneric, "Repo %d is deleted", id)
	}
	if err := tx.SetRepoState(ctx, id, state); err != nil {
		return err
	}
	if state == store.RepoReady {
		return k.repoDoneHook(ctx, id)
	}
	return nil
}

// permRepoState is repoExpire and repoProblem: the repo permission, then
// the state change.
func (k *Koji) permRepoState(ctx context.Context, repoID any, state int) error {
	if err := assertPerm(ctx, "repo"); err != nil {
		return err
	}
	return k.repoSetState(ctx, repoID, state)
}

// repoDelete is RootExports.repoDelete: the repo is marked DELETED unless
// live buildroots reference it, and the number of references is
// returned.
func (k *Koji) repoDelete(ctx context.Context, repoID any) (int, error) {
	if err := assertPerm(ctx, "repo"); err != nil {
		return 0, err
	}
	id, err := convertInt(repoID)
	if err != nil {
		return 0, err
	}
	if _, err := storeTx(ctx).LockRepoState(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return 0, err
	}
	refs, err := repoReferences(ctx, id)
	if err != nil || len(refs) > 0 {
		return len(refs), err
	}
	return 0, k.repoSetState(ctx, id, store.RepoDeleted)
}

// repoReferences is upstream's repo_references: the live buildroots
// using the repo; one EXPIRED but not retired is logged and left out.
func repoReferences(ctx context.Context, repoID int64) ([]map[string]any, error) {
	refs, err := storeTx(ctx).RepoReferences(ctx, repoID)
	if err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for _, r := range refs {
		if r.State != nil && *r.State == store.BRStateExpired {
			LoggerFrom(ctx).Error("buildroot expired, but has no retire_event", "buildroot", r.ID)
			continue
		}
		out = append(out, map[string]any{"id": r.ID, "host_id": r.HostID, "task_id": r.TaskID,
			"create_event": r.CreateEvent, "state": ptrValue(r.State)})
	}
	return out, nil
}

// newRepo is RootExports.newRepo: a newRepo task (priority 15, channel
// createrepo) whose request is the tag as given and, as keyword
// arguments, the event and the options that are set.
func (k *Koji) newRepo(ctx context.Context, tag, event, src, debuginfo, separateSrc any) (int64, error) {
	if k.cfg.Repos.DisableNewRepo {
		return 0, fault(koji.ErrActionNotAllowed, "newRepo api call is disabled")
	}
	repoPerm := false
	if uid := callerID(ctx); uid != 0 {
		markPermsRead(ctx)
		var err error
		if repoPerm, err = hasPerm(ctx, storeTx(ctx), uid, "repo"); err != nil {
			return 0, err
		}
	}
	if !repoPerm {
		if err := assertPerm(ctx, "regen-repo"); err != nil {
			return 0, err
		}
	}
	if _, err := getTag(ctx, tag, true, event, false); err != nil {
		return 0, err
	}
	top, err := k.topDir()
	if err != nil {
		return 0, err
	}
	// Builders refuse the task when the repos directory is missing.
	if err := os.MkdirAll(filepath.Join(top, "repos"), 0o777); err != nil {
		return 0, pyOSError(err, filepath.Join(top, "repos"))
	}
	kw := map[string]any{}
	if event != nil {
		kw["event"] = event
	}
	for name, v := range map[string]any{"src": src, "separate_src": separateSrc, "debuginfo": debuginfo} {
		if xmlrpc.Truthy(v) {
			kw[name] = true
		}
	}
	args := []any{tag}
	if len(kw) > 0 {
		kw["__starstar"] = true
		args = append(args, kw)
	}
	p := newRepoPriority
	ch := "createrepo"
	return k.makeTask(ctx, "newRepo", args, taskOpts{Priority: &p, Channel: &ch})
}

// newRepoPriority is the priority of upstream's newRepo tasks.
const newRepoPriority = 15

// tagFirstChangeEvent is upstream's tag_first_change_event: the oldest
// event after a given one that changed the tag or (with inherit) a tag it
// inherits from as at that event, never older than the tag's creation;
// without after, the tag's creation event.
func tagFirstChangeEvent(ctx context.Context, tag, after, inherit any) (any, error) {
	tx := storeTx(ctx)
	ref, err := tagRef(ctx, tx, tag, true)
	if err != nil {
		return nil, err
	}
	a, err := optInt(after)
	if err != nil {
		return nil, err
	}
	return firstChange(ctx, ref.ID, a, xmlrpc.Truthy(inherit))
}

// firstChange is tag_first_change_event for a tag id: nil when the tag
// did not change after the event.
func firstChange(ctx context.Context, tagID int64, after *int64, inherit bool) (any, error) {
	tx := storeTx(ctx)
	created, err := tx.TagCreateEvent(ctx, tagID)
	if err != nil {
		return nil, err
	}
	if after == nil {
		if created == 0 {
			return nil, nil
		}
		return created, nil
	}
	tags, err := inheritedTags(ctx, tagID, after, inherit)
	if err != nil {
		return nil, err
	}
	e, err := tx.TagFirstChangeEvent(ctx, tags, *after)
	if err != nil || e == 0 {
		return nil, err
	}
	return max(e, created), nil
}

// inheritedTags is the tag and, with inherit, its ancestors as at the
// event.
func inheritedTags(ctx context.Context, tagID int64, asOf *int64, inherit bool) ([]int64, error) {
	tags := []int64{tagID}
	if !inherit {
		return tags, nil
	}
	links, err := fullInheritance(ctx, storeTx(ctx), tagID, asOf, false)
	if err != nil {
		return nil, err
	}
	for _, l := range links {
		tags = append(tags, l["parent_id"].(int64))
	}
	return tags, nil
}

// lastChange is tag_last_change_event for a tag id, before an event: 0
// when nothing changed before it.
func lastChange(ctx context.Context, tagID int64, before *int64) (int64, error) {
	tags, err := inheritedTags(ctx, tagID, before, true)
	if err != nil {
		return 0, err
	}
	return storeTx(ctx).TagLastChangeEvent(ctx, tags, before)
}

// hostRepoInit is HostExports.repoInit: a host creates the INIT repo its
// newRepo task fills.
func (k *Koji) hostRepoInit(ctx context.Context, tag, taskID, event, opts any) ([]any, error) {
	if _, err := callerHost(ctx); err != nil {
		return nil, err
	}
	return k.repoInit(ctx, tag, taskID, event, opts)
}

// hostRepoDone is HostExports.repoDone.
func (k *Koji) hostRepoDone(ctx context.Context, repoID, data, expire, jsonUpdates any) error {
	if _, err := callerHost(ctx); err != nil {
		return err
	}
	return k.repoDone(ctx, repoID, data, expire, jsonUpdates)
}
