package hubserver

import (
	"context"
	"fmt"

	"github.com/gokoji/gokoji/xmlrpc"
)

// autoRequestPriority is the priority of automatic requests relative to
// the default: lower, so that they never hold back on-demand ones.
const autoRequestPriority = 5

// repoAutoLock is the lock row the automatic requests run under, so that
// two hubs on one database do not make the same request twice.
const repoAutoLock = "repo-auto"

// autoRequests is upstream's do_auto_requests (repo.autoRequests, which
// kojira calls each cycle and the hub's worker calls in its place): each
// tag whose own extra repo.auto is true (inherited settings do not count)
// gets a repo request, unless a repo or a request already satisfies it,
// for an event no older than its last change or, if that is recent, the
// last event before now minus its own repo.lag seconds (else RepoAutoLag)
// rounded down to RepoLagWindow.
func (k *Koji) autoRequests(ctx context.Context) error {
	tx := storeTx(ctx)
	if ok, err := tx.Lock(ctx, repoAutoLock, false); err != nil || !ok {
		return err
	}
	settings, err := tx.TagSettings(ctx, "repo.auto", "repo.lag")
	if err != nil {
		return err
	}
	var auto []int64
	lags := map[int64]float64{}
	for _, s := range settings {
		v, err := decodeJSON(s.Value)
		if err != nil {
			continue // upstream skips values that are not JSON, silently
		}
		switch s.Key {
		case "repo.auto":
			if xmlrpc.Truthy(v) {
				auto = append(auto, s.TagID)
			}
		case "repo.lag":
			if l, ok := repoLag(v); ok {
				lags[s.TagID] = l
			}
		}
	}
	cfg := k.cfg.Repos.withDefaults()
	log := LoggerFrom(ctx)
	made, dups := 0, 0
	for _, tagID := range auto {
		lag, ok := lags[tagID]
		if !ok {
			lag = cfg.RepoAutoLag.Seconds()
		}
		minEv, err := laggedMinEvent(ctx, tagID, lag, cfg.RepoLagWindow.Seconds())
		if err != nil {
			return err
		}
		if minEv == 0 {
			log.Error("no last event for tag", "tag", tagID)
			continue
		}
		check, err := k.requestRepo(ctx, tagID, minEv, nil, nil, int64(autoRequestPriority), false)
		if err != nil {
			return err
		}
		switch {
		case check["duplicate"] == true:
			dups++
		case check["request"] != nil:
			made++
		}
	}
	if made > 0 {
		log.Info("automatic repo requests", "tags", len(auto), "requests", made, "duplicates", dups)
	}
	return nil
}

// asQueueUser is ctx, when it has no session, with one of the user the
// worker acts as: RepoQueueUser if it exists (kojira's account), else the
// hub's Admin.
func (k *Koji) asQueueUser(ctx context.Context, cfg RepoConfig) (context.Context, error) {
	if callerID(ctx) != 0 {
		return ctx, nil
	}
	for _, name := range []string{cfg.RepoQueueUser, k.cfg.Admin} {
		if name == "" {
			continue
		}
		u, err := lookupUser(ctx, storeTx(ctx), name)
		if err != nil {
			return nil, err
		}
		if u != nil {
			return WithSession(ctx, &Session{UserID: int(u.ID), UserName: u.Name}), nil
		}
	}
	return nil, fmt.Errorf("neither the repo queue user %q nor the admin %q exists", cfg.RepoQueueUser, k.cfg.Admin)
}
