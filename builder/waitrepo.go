package builder

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gokoji/gokoji/koji"
)

// Waitrepo is kojid's waitrepo handler (koji.tasks.WaitrepoTask of Koji
// 1.35), the task a chain build (and a build waiting for its buildroot's
// repo) makes: handler(tag, newer_than=None, nvrs=None, min_event=None)
// waits until the tag has a READY repo that holds the builds nvrs (which
// need not exist yet) and is no older than min_event, and returns that
// repo (as repo.request returns it).
//
// It waits as koji.util.RepoWatcher.waitrepo does, through the hub's repo
// queue: first until the builds are tagged (listTagged with inheritance),
// then it asks for a repo with repo.request (from the tag's last change
// on) and follows the request with repo.checkRequest until it has its
// repo, failing when the request goes inactive (its newRepo task failed
// for good) or the time runs out. The legacy newer_than ("now", or a
// timestamp) becomes a min_event as upstream's handler makes it.
type Waitrepo struct {
	// Pause is how long to sleep between checks; default 60s, as
	// WaitrepoTask.PAUSE.
	Pause time.Duration
	// Timeout is how long to wait in all before failing; default 120
	// minutes, as WaitrepoTask.TIMEOUT.
	Timeout time.Duration
}

// waitrepoWeight is WaitrepoTask._taskWeight.
const waitrepoWeight = 0.2

// Methods is ["waitrepo"].
func (Waitrepo) Methods() []string { return []string{"waitrepo"} }

// Weight is kojid's 0.2: the task mostly waits.
func (Waitrepo) Weight(*Task) float64 { return waitrepoWeight }

// Handle runs handler(tag, newer_than=None, nvrs=None, min_event=None).
func (w Waitrepo) Handle(ctx context.Context, t *Task) (any, error) {
	a, err := t.args([]string{"tag", "newer_than", "nvrs", "min_event"}, 1)
	if err != nil {
		return nil, err
	}
	tag, minEvent := a["tag"], a["min_event"]
	if newer := a["newer_than"]; newer != nil {
		if minEvent != nil {
			return nil, Fail(koji.ErrGeneric, "newer_than and min_event args confict")
		}
		if minEvent, err = newerThanEvent(ctx, t, tag, newer); err != nil {
			return nil, err
		}
	}
	var nvrs []string
	if a["nvrs"] != nil {
		list, ok := a["nvrs"].([]any)
		if !ok {
			return nil, Fail(koji.ErrParameter, "waitrepo: nvrs must be a list, not %T", a["nvrs"])
		}
		for _, v := range list {
			s, ok := v.(string)
			if !ok {
				return nil, Fail(koji.ErrParameter, "waitrepo: nvr %v is not a string", v)
			}
			nvrs = append(nvrs, s)
		}
	}
	rw, err := newRepoWatcher(ctx, t, tag, nvrs, minEvent)
	if err != nil {
		return nil, err
	}
	rw.pause, rw.timeout = w.Pause, w.Timeout
	if rw.pause <= 0 {
		rw.pause = 60 * time.Second
	}
	if rw.timeout <= 0 {
		rw.timeout = 120 * time.Minute
	}
	return rw.waitrepo(ctx)
}

// newerThanEvent is the min_event of the legacy newer_than argument:
// "now" is the tag's last change; a timestamp the first event that
// changed the tag after it, or the last change if none did.
func newerThanEvent(ctx context.Context, t *Task, tag, newer any) (any, error) {
	var ts float64
	switch v := newer.(type) {
	case string:
		if strings.ToLower(v) == "now" {
			return "last", nil
		}
		return nil, Fail(koji.ErrGeneric, "Invalid value for newer_than: %s", v)
	case int64:
		ts = float64(v)
	case float64:
		ts = v
	default:
		return nil, Fail(koji.ErrGeneric, "Invalid value for newer_than: %v", v)
	}
	var base *struct {
		ID int64 `xmlrpc:"id"`
	}
	if err := t.Client.CallKw(ctx, "getLastEvent", &base, nil, map[string]any{"before": ts, "strict": false}); err != nil {
		return nil, fmt.Errorf("builder: getLastEvent: %w", err)
	}
	var after any // upstream passes the event itself; the hub takes its id
	if base != nil {
		after = base.ID
	}
	var first *int64
	if err := t.Client.CallKw(ctx, "tagFirstChangeEvent", &first, []any{tag}, map[string]any{"after": after}); err != nil {
		return nil, fmt.Errorf("builder: tagFirstChangeEvent: %w", err)
	}
	if first == nil {
		return "last", nil
	}
	return *first, nil
}

// nvrParts is koji.parse_NVR's name, version and release.
type nvrParts struct{ name, version, release string }

// parseNVR is koji.parse_NVR (an epoch prefix of the name dropped).
func parseNVR(nvr string) (nvrParts, error) {
	bad := Fail(koji.ErrGeneric, "invalid format: %s", nvr)
	p2 := strings.LastIndex(nvr, "-")
	if p2 == -1 || p2 == len(nvr)-1 {
		return nvrParts{}, bad
	}
	p1 := strings.LastIndex(nvr[:p2], "-")
	if p1 == -1 || p1 == p2-1 {
		return nvrParts{}, bad
	}
	name := nvr[:p1]
	if i := strings.Index(name, ":"); i != -1 {
		name = name[i+1:]
	}
	return nvrParts{name: name, version: nvr[p1+1 : p2], release: nvr[p2+1:]}, nil
}

// A repoWatcher is koji.util.RepoWatcher without at_event and opts
// (which a waitrepo task does not take).
type repoWatcher struct {
	t        *Task
	tagID    int64
	tagName  string
	nvrs     []string
	builds   []nvrParts
	minEvent *int64
	start    time.Time
	pause    time.Duration
	timeout  time.Duration
}

// newRepoWatcher is RepoWatcher(session, tag, nvrs, min_event): the tag
// must exist; min_event "last" is the tag's last change.
func newRepoWatcher(ctx context.Context, t *Task, tag any, nvrs []string, minEvent any) (*repoWatcher, error) {
	var info *struct {
		ID   int64  `xmlrpc:"id"`
		Name string `xmlrpc:"name"`
	}
	if err := t.Client.CallKw(ctx, "getTag", &info, []any{tag}, map[string]any{"strict": true}); err != nil {
		return nil, err
	}
	if info == nil {
		return nil, Fail(koji.ErrGeneric, "No such tagInfo: %v", tag)
	}
	rw := &repoWatcher{t: t, tagID: info.ID, tagName: info.Name, nvrs: nvrs}
	for _, nvr := range nvrs {
		b, err := parseNVR(nvr)
		if err != nil {
			return nil, err
		}
		rw.builds = append(rw.builds, b)
	}
	switch v := minEvent.(type) {
	case nil:
	case string:
		if v == "last" {
			ev, err := rw.lastChange(ctx)
			if err != nil {
				return nil, err
			}
			rw.minEvent = ev
			break
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return nil, Fail(koji.ErrGeneric, "invalid literal for int() with base 10: '%s'", v)
		}
		rw.minEvent = &n
	case int64:
		rw.minEvent = &v
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, Fail(koji.ErrGeneric, "cannot convert float %v to integer", v)
		}
		n := int64(v)
		rw.minEvent = &n
	default:
		return nil, Fail(koji.ErrParameter, "waitrepo: min_event %v (%T) is not an event", v, v)
	}
	return rw, nil
}

// lastChange is tagLastChangeEvent of the tag.
func (rw *repoWatcher) lastChange(ctx context.Context) (*int64, error) {
	var ev *int64
	if err := rw.t.Client.Call(ctx, "tagLastChangeEvent", &ev, rw.tagID); err != nil {
		return nil, fmt.Errorf("builder: tagLastChangeEvent: %w", err)
	}
	return ev, nil
}

// repoCheck is the answer of repo.request and repo.checkRequest.
type repoCheck struct {
	Repo    map[string]any `xmlrpc:"repo"`
	Request map[string]any `xmlrpc:"request"`
}

// waitrepo is RepoWatcher.waitrepo: wait for the builds, request a repo
// from the tag's last change on, and wait for the request until a repo
// satisfies the conditions.
func (rw *repoWatcher) waitrepo(ctx context.Context) (map[string]any, error) {
	rw.t.Logger.Info("builder: waiting on repo", "tag", rw.tagName, "min_event", ptrValue(rw.minEvent), "nvrs", rw.nvrs)
	rw.start = time.Now()
	minEvent := rw.minEvent
	var req map[string]any
	for {
		if req != nil {
			repo, err := rw.waitRequest(ctx, req)
			if err != nil {
				return nil, err
			}
			ok, err := rw.checkRepo(ctx, repo)
			if err != nil || ok {
				return repo, err
			}
			if minEvent, err = rw.lastChange(ctx); err != nil {
				return nil, err
			}
			rw.t.Logger.Error("builder: repo request did not satisfy conditions", "request", req["id"])
		}
		if len(rw.builds) > 0 {
			if err := rw.waitBuilds(ctx); err != nil {
				return nil, err
			}
			var err error
			if minEvent, err = rw.lastChange(ctx); err != nil {
				return nil, err
			}
		}
		check, err := rw.request(ctx, minEvent)
		if err != nil {
			return nil, err
		}
		if check.Repo != nil {
			ok, err := rw.checkRepo(ctx, check.Repo)
			if err != nil || ok {
				return check.Repo, err
			}
		} else {
			if check.Request == nil {
				return nil, Fail(koji.ErrGeneric, "repo.request for %s returned neither a repo nor a request", rw.tagName)
			}
			req = check.Request
			rw.t.Logger.Info("builder: got repo request", "request", req["id"])
			if minEvent == nil {
				if ev, ok := req["min_event"].(int64); ok {
					minEvent = &ev
				}
			}
		}
		if err := rw.sleep(ctx); err != nil {
			return nil, err
		}
	}
}

// ptrValue is *p, or nil.
func ptrValue[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// request is RepoWatcher.request: repo.request for the tag from
// minEvent (the watcher's own when nil) on.
func (rw *repoWatcher) request(ctx context.Context, minEvent *int64) (*repoCheck, error) {
	if minEvent == nil {
		minEvent = rw.minEvent
	}
	var check repoCheck
	kw := map[string]any{"min_event": ptrValue(minEvent), "at_event": nil, "opts": nil}
	if err := rw.t.Client.CallKw(ctx, "repo.request", &check, []any{rw.tagID}, kw); err != nil {
		return nil, fmt.Errorf("builder: repo.request: %w", err)
	}
	return &check, nil
}

// requestWatch are the request fields whose changes waitRequest logs.
var requestWatch = []string{"task_id", "task_state", "repo_id", "active", "tries"}

// waitRequest is RepoWatcher.wait_request: repo.checkRequest until the
// request has its repo; failing when it is no longer active or the time
// is up.
func (rw *repoWatcher) waitRequest(ctx context.Context, req map[string]any) (map[string]any, error) {
	watch := map[string]any{}
	for _, f := range requestWatch {
		watch[f] = req[f]
	}
	for {
		var check repoCheck
		if err := rw.t.Client.Call(ctx, "repo.checkRequest", &check, req["id"]); err != nil {
			return nil, fmt.Errorf("builder: repo.checkRequest: %w", err)
		}
		if check.Repo != nil {
			return check.Repo, nil
		}
		if check.Request == nil {
			return nil, Fail(koji.ErrGeneric, "repo.checkRequest %v returned no request", req["id"])
		}
		for _, f := range requestWatch {
			if v := check.Request[f]; fmt.Sprint(v) != fmt.Sprint(watch[f]) {
				rw.t.Logger.Info("builder: repo request updated", "field", f, "from", watch[f], "to", v)
				watch[f] = v
			}
		}
		if rw.timedOut() {
			return nil, Fail(koji.ErrGeneric, "Unsuccessfully waited %s for a new %s repo", rw.duration(), rw.tagName)
		}
		if active, _ := check.Request["active"].(bool); !active {
			if tid := check.Request["task_id"]; tid != nil {
				state := fmt.Sprint(check.Request["task_state"])
				if s, ok := check.Request["task_state"].(int64); ok {
					state = koji.TaskState(s).String()
				}
				return nil, Fail(koji.ErrGeneric, "Repo request inactive: task %v state is %s", tid, state)
			}
			return nil, Fail(koji.ErrGeneric, "Repo request no longer active")
		}
		if err := rw.sleep(ctx); err != nil {
			return nil, err
		}
	}
}

// waitBuilds is RepoWatcher.wait_builds: wait until the builds are in
// the tag.
func (rw *repoWatcher) waitBuilds(ctx context.Context) error {
	rw.t.Logger.Info("builder: waiting for nvrs in tag", "nvrs", rw.nvrs, "tag", rw.tagName)
	for {
		ok, err := rw.checkForBuilds(ctx, nil)
		if err != nil || ok {
			return err
		}
		if rw.timedOut() {
			return Fail(koji.ErrGeneric, "Unsuccessfully waited %s for %s to appear in the %s repo",
				rw.duration(), printList(rw.nvrs), rw.tagName)
		}
		if err := rw.sleep(ctx); err != nil {
			return err
		}
	}
}

// checkRepo is RepoWatcher.check_repo: the repo is the tag's, no older
// than min_event, and holds the builds.
func (rw *repoWatcher) checkRepo(ctx context.Context, repo map[string]any) (bool, error) {
	if tagID, _ := repo["tag_id"].(int64); tagID != rw.tagID {
		rw.t.Logger.Error("builder: got repo for wrong tag", "expected", rw.tagID, "got", repo["tag_id"])
		return false, nil
	}
	event, ok := repo["create_event"].(int64)
	if !ok {
		return false, Fail(koji.ErrGeneric, "repo %v has no create_event", repo["id"])
	}
	if rw.minEvent != nil && event < *rw.minEvent {
		rw.t.Logger.Info("builder: got repo before min event", "create_event", event, "min_event", *rw.minEvent)
		return false, nil
	}
	if len(rw.builds) > 0 {
		has, err := rw.checkForBuilds(ctx, &event)
		if err != nil {
			return false, err
		}
		if !has {
			rw.t.Logger.Info("builder: got repo without needed builds", "repo", repo["id"])
			return false, nil
		}
	}
	return true, nil
}

// checkForBuilds is koji.util.checkForBuilds: every build is tagged in
// the tag (with inheritance) at the event (now when nil).
func (rw *repoWatcher) checkForBuilds(ctx context.Context, event *int64) (bool, error) {
	for _, b := range rw.builds {
		var tagged []struct {
			Version string `xmlrpc:"version"`
			Release string `xmlrpc:"release"`
		}
		kw := map[string]any{"package": b.name, "inherit": true}
		if event != nil {
			kw["event"] = *event
		}
		if err := rw.t.Client.CallKw(ctx, "listTagged", &tagged, []any{rw.tagID}, kw); err != nil {
			return false, fmt.Errorf("builder: listTagged: %w", err)
		}
		found := false
		for _, x := range tagged {
			if x.Version == b.version && x.Release == b.release {
				found = true
				break
			}
		}
		if !found {
			return false, nil
		}
	}
	return true, nil
}

// timedOut is RepoWatcher.check_timeout.
func (rw *repoWatcher) timedOut() bool { return time.Since(rw.start) > rw.timeout }

// duration is koji.util.duration: the time waited as M:SS.
func (rw *repoWatcher) duration() string {
	secs := int(time.Since(rw.start).Seconds())
	return fmt.Sprintf("%d:%02d", secs/60, secs%60)
}

// sleep is RepoWatcher.pause, ending early with the task's context.
func (rw *repoWatcher) sleep(ctx context.Context) error {
	timer := time.NewTimer(rw.pause)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-timer.C:
		return nil
	}
}

// printList is koji.util.printList: "a", "a and b", "a, b, and c".
func printList(l []string) string {
	switch len(l) {
	case 0:
		return ""
	case 1:
		return l[0]
	case 2:
		return l[0] + " and " + l[1]
	}
	return strings.Join(l[:len(l)-1], ", ") + ", and " + l[len(l)-1]
}
