package hubserver

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/gokoji/gokoji/internal/store"
)

// The repo queue's worker: upstream makes the automatic requests and
// turns requests into newRepo tasks only when kojira calls
// repo.autoRequests and repo.checkQueue; an embedded hub runs the same
// do_auto_requests every WorkerInterval, and check_repo_queue then and at
// once when a request is made or a newRepo task ends through this hub.

// repoQueueLock is the lock row check_repo_queue takes (db_lock).
const repoQueueLock = "repo-queue"

// A repoWorker runs the queue in its own goroutine.
type repoWorker struct {
	k    *Koji
	cfg  RepoConfig
	log  *slog.Logger
	wake chan struct{} // a pending wake-up; buffered, one slot
	run  goroutine
}

// A goroutine is a loop running until stop.
type goroutine struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// start runs loop in a goroutine, with a context stop cancels.
func (g *goroutine) start(loop func(ctx context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	g.cancel, g.done = cancel, make(chan struct{})
	go func() {
		defer close(g.done)
		loop(ctx)
	}()
}

// stop cancels the loop and waits for it to return; a loop never
// started, or stopped already, is left alone.
func (g *goroutine) stop() {
	if g.cancel == nil {
		return
	}
	g.cancel()
	<-g.done
	g.cancel = nil
}

// newRepoWorker returns k's worker with its postTaskStateChange callback
// registered; it runs from start.
func newRepoWorker(k *Koji) (*repoWorker, error) {
	log := k.cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	w := &repoWorker{k: k, cfg: k.cfg.Repos.withDefaults(), log: log.With("component", "repo-queue"),
		wake: make(chan struct{}, 1)}
	if err := k.RegisterCallback("postTaskStateChange", w.taskChanged, CallbackOptions{IgnoreError: true}); err != nil {
		return nil, err
	}
	return w, nil
}

// taskChanged wakes the worker, once the change commits, when a newRepo
// task ends.
func (w *repoWorker) taskChanged(ctx context.Context, _ string, kw map[string]any) error {
	info, _ := kw["info"].(map[string]any)
	if kw["attribute"] != "state" || info["method"] != "newRepo" {
		return nil
	}
	switch kw["new"] {
	case "CLOSED", "FAILED", "CANCELED":
		AfterCommit(ctx, w.poke)
	}
	return nil
}

// poke wakes the worker without waiting.
func (w *repoWorker) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// wakeRepoWorker wakes the worker, if the hub runs one.
func (k *Koji) wakeRepoWorker() {
	if k.repos != nil {
		k.repos.poke()
	}
}

// start runs the goroutine until stop, unless DisableRepoWorker.
func (w *repoWorker) start() {
	if !w.cfg.DisableRepoWorker {
		w.run.start(w.loop)
	}
}

// stop ends the goroutine and waits for it.
func (w *repoWorker) stop() {
	if w != nil {
		w.run.stop()
	}
}

func (w *repoWorker) loop(ctx context.Context) {
	t := time.NewTimer(0) // a first look at once, for requests left by an earlier run
	defer t.Stop()
	ctx = context.WithValue(ctx, loggerKey{}, w.log)
	var lastAuto time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.wake:
		}
		if time.Since(lastAuto) >= w.cfg.WorkerInterval {
			lastAuto = time.Now()
			w.pass(ctx, "automatic repo requests failed", func(ctx context.Context) error {
				ctx, err := w.k.asQueueUser(ctx, w.cfg)
				if err != nil {
					return err
				}
				return w.k.autoRequests(ctx)
			})
		}
		w.pass(ctx, "repo queue check failed", w.k.checkRepoQueue)
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(w.cfg.WorkerInterval)
	}
}

// pass runs f in a transaction, logging its error.
func (w *repoWorker) pass(ctx context.Context, what string, f func(ctx context.Context) error) {
	if err := w.k.inTx(ctx, f); err != nil && !errors.Is(err, context.Canceled) {
		w.log.Error(what, "error", err)
	}
}

// checkRepoQueue is upstream's check_repo_queue, under the repo-queue
// lock (skipped when another process holds it): requests whose task
// ended get their repo, or the task is forgotten for a retry (at most
// RepoRetries) or the request given up; then waiting requests, in
// priority order, get newRepo tasks while fewer than MaxRepoTasks run.
func (k *Koji) checkRepoQueue(ctx context.Context) error {
	tx := storeTx(ctx)
	if ok, err := tx.Lock(ctx, repoQueueLock, false); err != nil || !ok {
		return err
	}
	cfg := k.cfg.Repos.withDefaults()
	log := LoggerFrom(ctx)
	waiting, err := queryRepoRows(ctx, true, []store.ViewClause{clause("repo_id", "IS", nil), clause("active", "IS", true)},
		[]string{"*", "task_state", "tag_name"}, store.ViewOpts{Order: "priority,id"})
	if err != nil {
		return err
	}
	updates := map[int64]*store.RepoRequestUpdate{}
	upd := func(id int64) *store.RepoRequestUpdate {
		if updates[id] == nil {
			updates[id] = &store.RepoRequestUpdate{}
		}
		return updates[id]
	}
	inactive := false
	nTasks, nMaven := 0, 0
	for _, req := range waiting {
		tid, ok := req["task_id"].(int64)
		if !ok {
			continue
		}
		id := req["id"].(int64)
		retry := false
		switch req["task_state"] {
		case int64(store.TaskClosed):
			log.Warn("repo task did not trigger repo_done_hook", "task", tid)
			repo, err := repoFromTask(ctx, tid)
			if err != nil {
				return err
			}
			if repo != nil && validRepo(ctx, req, repo) {
				repoID := repo["id"].(int64)
				upd(id).RepoID, upd(id).Active = &repoID, &inactive
			} else {
				retry = true
			}
		case int64(store.TaskCanceled), int64(store.TaskFailed):
			log.Warn("repo task did not complete", "task", tid)
			retry = true
		default:
			nTasks++
			if isMaven(req) {
				nMaven++
			}
		}
		if retry {
			if req["tries"].(int64) > int64(cfg.RepoRetries) {
				log.Error("retries exhausted for repo request", "request", id)
				upd(id).Active = &inactive
			} else {
				upd(id).ClearTask = true
				req["task_id"] = nil
			}
		}
	}
	for _, req := range waiting {
		if req["task_id"] != nil {
			continue
		}
		if nTasks >= cfg.MaxRepoTasks {
			break
		}
		if isMaven(req) && nMaven >= cfg.MaxRepoTasksMaven {
			continue
		}
		tid, err := k.repoQueueTask(ctx, req, cfg)
		if err != nil {
			return err
		}
		nTasks++
		if isMaven(req) {
			nMaven++
		}
		id := req["id"].(int64)
		tries := int(req["tries"].(int64)) + 1
		u := upd(id)
		u.ClearTask, u.TaskID, u.Tries = false, &tid, &tries
		log.Info("created task for repo request", "task", tid, "request", id)
	}
	if len(updates) == 0 {
		return nil
	}
	for _, req := range waiting {
		id := req["id"].(int64)
		if u := updates[id]; u != nil {
			if err := tx.UpdateRepoRequests(ctx, []int64{id}, *u); err != nil {
				return err
			}
		}
	}
	n, err := tx.CleanRepoQueue(ctx, time.Now().Add(-cfg.RequestCleanTime))
	if n > 0 {
		log.Info("cleaned repo queue entries", "count", n)
	}
	return err
}

func isMaven(req map[string]any) bool {
	opts, _ := req["opts"].(map[string]any)
	return opts["maven"] == true
}

// repoFromTask is upstream's get_repo_from_task: the repo a finished
// newRepo task reports ([repo_id, event_id]); nil, logged, when it cannot
// be read.
func repoFromTask(ctx context.Context, taskID int64) (map[string]any, error) {
	log := LoggerFrom(ctx)
	t, err := storeTx(ctx).GetTask(ctx, taskID)
	if err != nil {
		return nil, err
	}
	var res any
	if t.Result != nil {
		res, err = decodeResult(*t.Result)
	}
	list, _ := res.([]any)
	if err != nil || len(list) == 0 {
		log.Error("cannot read the result of the repo task", "task", taskID, "error", err)
		return nil, nil
	}
	id, err := convertInt(list[0])
	if err != nil {
		log.Error("cannot read the result of the repo task", "task", taskID, "error", err)
		return nil, nil
	}
	repo, err := repoInfo(ctx, id, false)
	if err == nil && repo == nil {
		log.Error("repo task reported an invalid repo", "task", taskID, "repo", id)
	}
	return repo, err
}

// validRepo is upstream's valid_repo: the repo is of the request's tag,
// READY, at (or not before) its event, with every option it asked for
// and no custom option it did not.
func validRepo(ctx context.Context, req, repo map[string]any) bool {
	log := LoggerFrom(ctx).With("request", req["id"], "repo", repo["id"])
	switch {
	case repo["tag_id"] != req["tag_id"]:
		log.Error("request got a repo of another tag")
		return false
	case repo["state"] != int64(store.RepoReady):
		log.Error("request got a repo in the wrong state", "state", repo["state"])
		return false
	}
	if at, ok := req["at_event"].(int64); ok {
		if repo["create_event"] != at {
			log.Error("request got a repo at the wrong event")
			return false
		}
	} else if min, ok := req["min_event"].(int64); ok && repo["create_event"].(int64) < min {
		log.Error("request got a repo before its min_event")
		return false
	}
	ropts, _ := repo["opts"].(map[string]any)
	custom, _ := repo["custom_opts"].(map[string]any)
	qopts, _ := req["opts"].(map[string]any)
	if len(ropts) == 0 {
		log.Error("requested repo has no opts")
		return false
	}
	for key, v := range qopts {
		if rv, ok := ropts[key]; !ok || rv != v {
			log.Error("requested repo has wrong opts")
			return false
		}
	}
	for key, v := range custom {
		if qv, ok := qopts[key]; !ok || qv != v {
			log.Error("requested repo has wrong opts")
			return false
		}
	}
	return true
}

// repoQueueTask is upstream's repo_queue_task: a newRepo task (priority
// 15, channel createrepo) for the request's tag ({id, name}) with its
// options and, for at_event, the event. Upstream's task belongs to the
// caller of repo.checkQueue; the worker's to RepoQueueUser if it exists,
// else to the request's owner.
func (k *Koji) repoQueueTask(ctx context.Context, req map[string]any, cfg RepoConfig) (int64, error) {
	opts, err := convertRepoOpts(ctx, req["opts"], true)
	if err != nil {
		return 0, err
	}
	kw := map[string]any{"opts": opts, "__starstar": true}
	if at, ok := req["at_event"].(int64); ok {
		kw["event"] = at
	}
	tagspec := map[string]any{"id": req["tag_id"], "name": req["tag_name"]}
	if callerID(ctx) == 0 {
		owner := req["owner"].(int64)
		u, err := lookupUser(ctx, storeTx(ctx), cfg.RepoQueueUser)
		if err != nil {
			return 0, err
		}
		if u != nil {
			owner = u.ID
		}
		ctx = WithSession(ctx, &Session{UserID: int(owner)})
	}
	p, ch := newRepoPriority, "createrepo"
	return k.makeTask(ctx, "newRepo", []any{tagspec, kw}, taskOpts{Priority: &p, Channel: &ch})
}
