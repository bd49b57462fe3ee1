package hubserver

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// The repo request queue of Koji 1.35 (kojihub/repos.py): repo.request
// and friends, repo_done_hook, and check_repo_queue, which kojira's loop
// (repo.checkQueue) or the hub's own worker (kojirepos_worker.go) runs.

// repoQueueMethods are upstream's RepoExports (the repo.* methods): all
// of them, the external repo data ones (kojiexternalrepos_data.go) last.
func (k *Koji) repoQueueMethods() []Method {
	return append([]Method{
		{
			Name: "repo.request", PyName: "request_repo",
			Args: []Arg{{Name: "tag"}, {Name: "min_event", Default: None}, {Name: "at_event", Default: None},
				{Name: "opts", Default: None}, {Name: "priority", Default: None}, {Name: "force", Default: false}},
			Doc:  "Request a repo for a tag",
			Func: k.requestRepo,
		},
		{
			Name: "repo.get", PyName: "get_repo",
			Args: []Arg{{Name: "tag"}, {Name: "min_event", Default: None}, {Name: "at_event", Default: None}, {Name: "opts", Default: None}},
			Doc:  "Get best ready repo matching given requirements",
			Func: getRepo,
		},
		{
			Name: "repo.checkRequest", PyName: "check_repo_request",
			Args: []Arg{{Name: "req_id"}},
			Doc:  "Report status of repo request",
			Func: checkRepoRequest,
		},
		{
			Name: "repo.setRequestPriority", PyName: "RepoExports.setRequestPriority", Bound: true,
			Args: []Arg{{Name: "req_id"}, {Name: "priority"}},
			Func: func(ctx context.Context, reqID, priority any) error {
				if err := assertPerm(ctx, "admin"); err != nil {
					return err
				}
				return setRequestPriority(ctx, reqID, priority)
			},
		},
		{
			Name: "repo.references", PyName: "RepoExports.references", Bound: true,
			Args: []Arg{{Name: "repo_id"}},
			Doc:  "Return a list of buildroots that reference the repo",
			Func: func(ctx context.Context, repoID any) (any, error) {
				id, err := sqlInt(repoID)
				if err != nil {
					return nil, err
				}
				return repoReferences(ctx, id)
			},
		},
		{
			Name: "repo.setState", PyName: "RepoExports.setState", Bound: true,
			Args: []Arg{{Name: "repo_id"}, {Name: "state"}},
			Doc:  "Set repo state",
			Func: func(ctx context.Context, repoID, state any) error {
				if err := assertPerm(ctx, "repo"); err != nil {
					return err
				}
				s, err := convertInt(state)
				if err != nil {
					return err
				}
				if s < 0 || s >= int64(len(repoStateNames)) {
					return fault(koji.ErrParameter, "Unknown repo state: %d", s)
				}
				return k.repoSetState(ctx, repoID, int(s))
			},
		},
		{
			Name: "repo.query", PyName: "RepoExports.query", Bound: true,
			Args: []Arg{{Name: "clauses"}, {Name: "fields", Default: None}, {Name: "opts", Default: None}},
			Func: func(ctx context.Context, clauses, fields, opts any) (any, error) {
				return queryView(ctx, repoView(false), clauses, fields, opts, false)
			},
		},
		{
			Name: "repo.queryQueue", PyName: "RepoExports.queryQueue", Bound: true,
			Args: []Arg{{Name: "clauses", Default: None}, {Name: "fields", Default: None}, {Name: "opts", Default: None}},
			Func: func(ctx context.Context, clauses, fields, opts any) (any, error) {
				return queryView(ctx, repoView(true), clauses, fields, opts, false)
			},
		},
		{
			Name: "repo.checkQueue", PyName: "RepoExports.checkQueue", Bound: true,
			Doc: "[kojira] trigger automatic repo requests",
			Func: func(ctx context.Context) error {
				if err := assertPerm(ctx, "repo"); err != nil {
					return err
				}
				return k.checkRepoQueue(ctx)
			},
		},
		{
			Name: "repo.autoRequests", PyName: "RepoExports.autoRequests", Bound: true,
			Doc: "[kojira] trigger automatic repo requests",
			Func: func(ctx context.Context) error {
				if err := assertPerm(ctx, "repo"); err != nil {
					return err
				}
				return k.autoRequests(ctx)
			},
		},
		{
			Name: "repo.updateEndEvents", PyName: "RepoExports.updateEndEvents", Bound: true,
			Doc: "[kojira] update end events for repos",
			Func: func(ctx context.Context) error {
				if err := assertPerm(ctx, "repo"); err != nil {
					return err
				}
				return updateEndEvents(ctx)
			},
		},
	}, k.externalRepoDataMethods()...)
}

// getRepo is upstream's get_repo (repo.get): the newest READY non-dist
// repo of the tag at the event (or from min_event on) with every option
// asked for and no custom option not asked for; nil when there is none.
func getRepo(ctx context.Context, tag, minEvent, atEvent, opts any) (any, error) {
	ref, err := tagRef(ctx, storeTx(ctx), tag, true)
	if err != nil {
		return nil, err
	}
	minEv, err := optInt(minEvent)
	if err != nil {
		return nil, err
	}
	atEv, err := optInt(atEvent)
	if err != nil {
		return nil, err
	}
	o, err := convertRepoOpts(ctx, opts, true)
	if err != nil {
		return nil, err
	}
	row, err := bestRepo(ctx, ref.ID, minEv, atEv, o)
	if row == nil || err != nil {
		return nil, err
	}
	return row, nil
}

// bestRepo is get_repo's query.
func bestRepo(ctx context.Context, tagID int64, minEv, atEv *int64, opts map[string]any) (map[string]any, error) {
	doc, err := encodeJSON(opts)
	if err != nil {
		return nil, err
	}
	cs := []store.ViewClause{clause("tag_id", "=", tagID), clause("dist", "IS", false),
		clause("state", "=", int64(store.RepoReady)), clause("opts", "@>", doc), clause("custom_opts", "<@", doc)}
	if atEv != nil {
		cs = append(cs, clause("create_event", "=", *atEv))
	} else if minEv != nil {
		cs = append(cs, clause("create_event", ">=", *minEv))
	}
	rows, err := queryRepoRows(ctx, false, cs, []string{"**"}, store.ViewOpts{Order: "-create_event", Limit: 1})
	if err != nil {
		return nil, err
	}
	return firstRow(rows, false)
}

// validEvent is getEvent(ev, strict=False) as request_repo checks its
// events.
func validEvent(ctx context.Context, ev int64) error {
	if _, err := storeTx(ctx).GetEvent(ctx, ev); errors.Is(err, store.ErrNotFound) {
		return fault(koji.ErrParameter, "Invalid event: %d", ev)
	} else if err != nil {
		return err
	}
	return nil
}

// requestRepo is upstream's request_repo (repo.request): an existing
// READY repo that satisfies the request (unless force), else an active
// request for the same options that asks no less (joined, its priority
// raised if needed, duplicate), else a new request.
func (k *Koji) requestRepo(ctx context.Context, tag, minEvent, atEvent, opts, priority, force any) (map[string]any, error) {
	if err := assertLogin(ctx); err != nil {
		return nil, err
	}
	tinfo, err := getTag(ctx, tag, true, nil, false)
	if err != nil {
		return nil, err
	}
	tagID := tinfo["id"].(int64)
	o, err := convertRepoOpts(ctx, opts, true)
	if err != nil {
		return nil, err
	}
	if o["maven"] == true {
		return nil, errNoMaven()
	}
	var atEv, minEv *int64
	switch {
	case atEvent != nil:
		if minEvent != nil {
			return nil, fault(koji.ErrParameter, "The min_event and at_event options conflict")
		}
		n, err := convertInt(atEvent)
		if err != nil {
			return nil, err
		}
		if err := validEvent(ctx, n); err != nil {
			return nil, err
		}
		atEv = &n
	case minEvent == "last":
		n, err := lastChange(ctx, tagID, nil)
		if err != nil {
			return nil, err
		}
		minEv = &n
	case minEvent == nil:
		n, err := k.defaultMinEvent(ctx, tinfo)
		if err != nil {
			return nil, err
		}
		minEv = &n
	default:
		n, err := convertInt(minEvent)
		if err != nil {
			return nil, err
		}
		if err := validEvent(ctx, n); err != nil {
			return nil, err
		}
		minEv = &n
	}
	prio := koji.PriorityDefault
	if priority != nil {
		p, err := convertInt(priority)
		if err != nil {
			return nil, err
		}
		if p < 0 {
			admin, err := callerIsAdmin(ctx)
			if err != nil {
				return nil, err
			}
			if !admin {
				return nil, fault(koji.ErrActionNotAllowed, "only admins may create high-priority requests")
			}
		}
		prio += int(p)
	}

	ret := map[string]any{"repo": nil, "request": nil, "duplicate": false}
	if !xmlrpc.Truthy(force) {
		repo, err := bestRepo(ctx, tagID, minEv, atEv, o)
		if err != nil {
			return nil, err
		}
		if repo != nil {
			ret["repo"] = repo
			return ret, nil
		}
	}
	doc, err := encodeJSON(o)
	if err != nil {
		return nil, err
	}
	cs := []store.ViewClause{clause("tag_id", "=", tagID), clause("active", "IS", true), clause("opts", "=", doc)}
	if atEv != nil {
		cs = append(cs, clause("at_event", "=", *atEv))
	} else {
		cs = append(cs, clause("min_event", ">=", *minEv))
	}
	tx := storeTx(ctx)
	same, err := queryRepoRows(ctx, true, cs, []string{"**"}, store.ViewOpts{Order: "priority,id"})
	if err != nil {
		return nil, err
	}
	if len(same) > 0 {
		req := same[0]
		if req["priority"].(int64) > int64(prio) {
			if err := tx.UpdateRepoRequests(ctx, []int64{req["id"].(int64)}, store.RepoRequestUpdate{Priority: &prio}); err != nil {
				return nil, err
			}
			req["priority"] = int64(prio)
		}
		ret["request"], ret["duplicate"] = req, true
		return ret, nil
	}
	id, err := tx.CreateRepoRequest(ctx, store.RepoRequest{Owner: callerID(ctx), Priority: prio, TagID: tagID,
		AtEvent: atEv, MinEvent: minEv, Opts: doc})
	if err != nil {
		return nil, err
	}
	LoggerFrom(ctx).Info("new repo request", "tag", tinfo["name"], "request", id)
	rows, err := queryRepoRows(ctx, true, []store.ViewClause{clause("id", "=", id)}, []string{"**"}, store.ViewOpts{})
	if err != nil {
		return nil, err
	}
	ret["request"] = rows[0]
	AfterCommit(ctx, k.wakeRepoWorker)
	return ret, nil
}

// defaultMinEvent is upstream's default_min_event: laggedMinEvent with
// the tag's repo.lag (inherited) seconds, else RepoLag.
func (k *Koji) defaultMinEvent(ctx context.Context, tinfo map[string]any) (int64, error) {
	cfg := k.cfg.Repos.withDefaults()
	lag := cfg.RepoLag.Seconds()
	if extra, _ := tinfo["extra"].(map[string]any); extra != nil && extra["repo.lag"] != nil {
		if l, ok := repoLag(extra["repo.lag"]); ok {
			lag = l
		} else {
			LoggerFrom(ctx).Warn("invalid repo.lag setting", "tag", tinfo["name"], "value", pyRepr(extra["repo.lag"]))
		}
	}
	return laggedMinEvent(ctx, tinfo["id"].(int64), lag, cfg.RepoLagWindow.Seconds())
}

// repoLag is a repo.lag setting in seconds: an integer (a bool too, as
// Python's isinstance(value, int) holds for it).
func repoLag(v any) (float64, bool) {
	switch v := v.(type) {
	case int64:
		return float64(v), true
	case bool:
		if v {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// laggedMinEvent is the event a repo request asks for: the tag's last
// change or, if that is recent, the last event before now minus lag
// seconds rounded down to a multiple of window seconds (so that requests
// close in time ask for the same event). On a hub younger than that, the
// tag's first event stands for the lagged one.
func laggedMinEvent(ctx context.Context, tagID int64, lag, window float64) (int64, error) {
	last, err := lastChange(ctx, tagID, nil)
	if err != nil {
		return 0, err
	}
	baseTS := math.Floor((pyTS(time.Now())-lag)/window) * window
	before := time.UnixMicro(int64(baseTS * 1e6)).UTC()
	base := int64(0)
	e, err := storeTx(ctx).LastEvent(ctx, &before)
	switch {
	case err == nil:
		base = e.ID
	case errors.Is(err, store.ErrNotFound):
		if first, err := firstChange(ctx, tagID, nil, true); err != nil {
			return 0, err
		} else if first != nil {
			base = first.(int64)
		}
	default:
		return 0, err
	}
	return min(base, last), nil
}

// checkRepoRequest is upstream's check_repo_request (repo.checkRequest):
// the request, its repo once it has one, else its task if any.
func checkRepoRequest(ctx context.Context, reqID any) (map[string]any, error) {
	id, err := convertInt(reqID)
	if err != nil {
		return nil, err
	}
	rows, err := queryRepoRows(ctx, true, []store.ViewClause{clause("id", "=", id)}, []string{"**"}, store.ViewOpts{})
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fault(koji.ErrGeneric, "No such request")
	}
	req := rows[0]
	ret := map[string]any{"repo": nil, "request": req}
	if req["repo_id"] != nil {
		if ret["repo"], err = repoInfo(ctx, req["repo_id"], false); err != nil {
			return nil, err
		}
	} else if tid, ok := req["task_id"].(int64); ok {
		t, err := storeTx(ctx).GetTask(ctx, tid)
		switch {
		case errors.Is(err, store.ErrNotFound):
			ret["task"] = nil
		case err != nil:
			return nil, err
		default:
			ret["task"] = taskFields(t)
		}
	}
	return ret, nil
}

// setRequestPriority is upstream's set_request_priority.
func setRequestPriority(ctx context.Context, reqID, priority any) error {
	id, err := convertInt(reqID)
	if err != nil {
		return err
	}
	p, err := convertInt(priority)
	if err != nil {
		return err
	}
	prio := int(p)
	return storeTx(ctx).UpdateRepoRequests(ctx, []int64{id}, store.RepoRequestUpdate{Priority: &prio})
}

// repoDoneHook is upstream's repo_done_hook: the active requests a repo
// that just became READY satisfies (same tag, every requested option, no
// custom option not requested, the event) get it and become inactive. As
// upstream, a failure is logged and undone, never failing the call.
func (k *Koji) repoDoneHook(ctx context.Context, repoID int64) error {
	tx := storeTx(ctx)
	const sp = "repo_done_hook"
	if err := tx.Savepoint(ctx, sp); err != nil {
		return err
	}
	if err := fulfilRequests(ctx, repoID); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		LoggerFrom(ctx).Error("failed to update repo queue", "repo", repoID, "error", err)
		return tx.RollbackToSavepoint(ctx, sp)
	}
	return tx.ReleaseSavepoint(ctx, sp)
}

func fulfilRequests(ctx context.Context, repoID int64) error {
	repo, err := repoInfo(ctx, repoID, false)
	if err != nil || repo == nil || repo["dist"] == true {
		return err
	}
	opts, ok1 := repo["opts"].(map[string]any)
	custom, ok2 := repo["custom_opts"].(map[string]any)
	if !ok1 || !ok2 {
		LoggerFrom(ctx).Error("repo with invalid opts values", "repo", repoID)
		return nil
	}
	optsDoc, err := encodeJSON(opts)
	if err != nil {
		return err
	}
	customDoc, err := encodeJSON(custom)
	if err != nil {
		return err
	}
	base := []store.ViewClause{clause("tag_id", "=", repo["tag_id"]), clause("active", "IS", true),
		clause("repo_id", "IS", nil), clause("opts", "<@", optsDoc), clause("opts", "@>", customDoc)}
	var ids []int64
	for _, c := range []store.ViewClause{clause("min_event", "<=", repo["create_event"]), clause("at_event", "=", repo["create_event"])} {
		rows, err := queryRepoRows(ctx, true, append(base[:len(base):len(base)], c), []string{"id"}, store.ViewOpts{Order: "id"})
		if err != nil {
			return err
		}
		for _, r := range rows {
			ids = append(ids, r["id"].(int64))
		}
	}
	inactive := false
	return storeTx(ctx).UpdateRepoRequests(ctx, ids, store.RepoRequestUpdate{RepoID: &repoID, Active: &inactive})
}

// updateEndEvents is upstream's update_end_events: READY repos without an
// end event get the first change of their tag after their event, if any.
func updateEndEvents(ctx context.Context) error {
	rows, err := queryRepoRows(ctx, false, []store.ViewClause{clause("end_event", "IS", nil),
		clause("state", "=", int64(store.RepoReady))}, []string{"id", "tag_id", "create_event"}, store.ViewOpts{Order: "id"})
	if err != nil {
		return err
	}
	unchanged := map[int64]int64{} // tag id -> its last change, known not to be followed by any
	for _, r := range rows {
		tagID, ev := r["tag_id"].(int64), r["create_event"].(int64)
		if last, ok := unchanged[tagID]; ok && last <= ev {
			continue
		}
		end, err := firstChange(ctx, tagID, &ev, true)
		if err != nil {
			return err
		}
		if end == nil {
			if unchanged[tagID], err = lastChange(ctx, tagID, nil); err != nil {
				return err
			}
			continue
		}
		if err := storeTx(ctx).SetRepoEndEvent(ctx, r["id"].(int64), end.(int64)); err != nil {
			return err
		}
	}
	return nil
}
