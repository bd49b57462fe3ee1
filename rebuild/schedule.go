package rebuild

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/rebuild/internal/rstore"
)

// A Scheduled is a schedulable package with its current priority.
type Scheduled struct {
	Collection *Collection
	Package    *Package
	Priority   float64
}

// Priorities returns the schedulable packages of every collection with
// their priorities at the service's now, highest first (Koschei's
// get_priorities), PrioritySources included.
func (s *Service) Priorities(ctx context.Context) ([]Scheduled, error) {
	return s.priorities(ctx, s.cfg.Now())
}

func (s *Service) priorities(ctx context.Context, now time.Time) ([]Scheduled, error) {
	var cands []rstore.Candidate
	colls := map[int64]*Collection{}
	// The last builds, by id, for the PrioritySources: one query per
	// collection, not one per package.
	var last map[int64]*Build
	err := s.db.View(ctx, func(tx *rstore.Tx) error {
		cs, err := tx.Collections(ctx)
		if err != nil {
			return err
		}
		for _, c := range cs {
			colls[c.ID] = c
		}
		if cands, err = tx.Candidates(ctx); err != nil || len(s.cfg.PrioritySources) == 0 {
			return err
		}
		last = map[int64]*Build{}
		for _, c := range cs {
			bs, err := tx.LastBuilds(ctx, c.ID)
			if err != nil {
				return err
			}
			maps.Copy(last, bs)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]Scheduled, 0, len(cands))
	for _, cand := range cands {
		in := PriorityInput{Package: cand.Package, Coefficient: cand.Coefficient,
			CollectionResolved: cand.CollectionResolved, LastBuildStarted: cand.LastBuildStarted}
		if in.Unschedulable() != "" {
			continue
		}
		extra, err := s.extraPriority(ctx, colls[cand.Package.CollectionID], cand.Package, last)
		if err != nil {
			s.log.Warn("rebuild: priority source failed; package skipped this cycle",
				slog.String("package", cand.Package.Name), slog.String("error", err.Error()))
			continue
		}
		in.Extra = extra
		prio, ok := s.cfg.Priorities.Priority(in, now)
		if ok {
			out = append(out, Scheduled{Collection: colls[cand.Package.CollectionID], Package: cand.Package, Priority: prio})
		}
	}
	slices.SortStableFunc(out, func(a, b Scheduled) int {
		switch {
		case a.Priority > b.Priority:
			return -1
		case a.Priority < b.Priority:
			return 1
		}
		return int(a.Package.ID - b.Package.ID)
	})
	return out, nil
}

// extraPriority is the sum of the PrioritySources for a package; last
// holds the last builds by id.
func (s *Service) extraPriority(ctx context.Context, c *Collection, p *Package, last map[int64]*Build) (float64, error) {
	if len(s.cfg.PrioritySources) == 0 {
		return 0, nil
	}
	info := PackageInfo{Collection: c, Package: p}
	if id := p.LastBuildID; id != nil {
		info.LastBuild = last[*id]
	}
	sum := 0.0
	for _, src := range s.cfg.PrioritySources {
		v, err := src.Priority(ctx, info)
		if err != nil {
			return 0, err
		}
		sum += v
	}
	return sum, nil
}

// Schedule runs one scheduler cycle, as Koschei's Scheduler.main with a
// global throttle: nothing when MaxBuilds builds run or the throttle is
// empty; otherwise the packages at or above the threshold, highest
// priority first, until one is submitted. A package without an SRPM or
// without arches to build is marked skipped and passed over; one whose
// arches are busier than LoadThreshold is passed over this cycle (Koschei
// ends the cycle there, holding back packages for idle arches too). It
// returns the build submitted, or nil.
func (s *Service) Schedule(ctx context.Context) (*Build, error) {
	now := s.cfg.Now()
	var running int
	if err := s.db.View(ctx, func(tx *rstore.Tx) (err error) {
		running, err = tx.CountRunning(ctx)
		return err
	}); err != nil {
		return nil, err
	}
	if running >= s.cfg.MaxBuilds {
		s.log.Debug("rebuild: max_builds reached", slog.Int("running", running))
		return nil, nil
	}
	if wait := s.throttle.Next(now); wait > 0 {
		s.log.Debug("rebuild: submissions throttled", slog.Duration("next", wait))
		return nil, nil
	}
	list, err := s.priorities(ctx, now)
	if err != nil {
		return nil, err
	}
	loads := map[string]float64{} // by collection channel and arches, for this cycle
	for _, sc := range list {
		if sc.Priority < s.cfg.Priorities.BuildThreshold {
			break
		}
		b, err := s.submit(ctx, sc, now, loads)
		if err != nil || b != nil {
			return b, err
		}
	}
	return nil, nil
}

// submit submits a build of the package, or returns nil when it cannot be
// now.
func (s *Service) submit(ctx context.Context, sc Scheduled, now time.Time, loads map[string]float64) (*Build, error) {
	c, p := sc.Collection, sc.Package
	log := s.log.With(slog.String("collection", c.Name), slog.String("package", p.Name))
	latest, err := s.cfg.Hub.LatestBuilds(ctx, c.DestTag, p.Name)
	if err != nil {
		return nil, err
	}
	var srpm *SRPM
	if len(latest) > 0 {
		if srpm, err = s.cfg.Hub.SRPM(ctx, latest[0].Label()); err != nil {
			return nil, err
		}
	}
	if srpm == nil {
		log.Info("rebuild: no SRPM to rebuild; package skipped")
		return nil, s.skip(ctx, p, SkipNoSRPM)
	}
	tagArches, err := s.tagArches(ctx, c.BuildTag)
	if err != nil {
		return nil, err
	}
	arches := BuildArches(tagArches, srpm, p.ArchOverride, s.cfg.BuildArches)
	if len(arches) == 0 {
		log.Info("rebuild: no arches to build; package skipped")
		return nil, s.skip(ctx, p, SkipNoArches)
	}
	if s.cfg.LoadThreshold < 1 {
		load, err := s.load(ctx, c, tagArches, arches, loads)
		if err != nil {
			return nil, err
		}
		if load > s.cfg.LoadThreshold {
			log.Debug("rebuild: hub too busy for the package's arches", slog.Float64("load", load),
				slog.String("arches", strings.Join(arches, " ")))
			return nil, nil
		}
	}
	if !s.throttle.Allow(now) {
		return nil, nil
	}
	opts := &koji.BuildOptions{Priority: s.cfg.TaskPriority}
	if !slices.Contains(arches, "noarch") {
		opts.ArchOverride = strings.Join(arches, " ")
	}
	task, err := s.cfg.Hub.ScratchBuild(ctx, srpm, c.Target, opts)
	if err != nil {
		s.throttle.Return()
		return nil, fmt.Errorf("rebuild: submitting %s: %w", srpm.NVR(), err)
	}
	b := &Build{PackageID: p.ID, State: BuildRunning, TaskID: int64(task), Started: now,
		Epoch: srpm.Build.Epoch, Version: srpm.Build.Version, Release: srpm.Build.Release}
	// Dependency and build priority stay until the build finishes, so a
	// cancelled build keeps them (Koschei's submit_build).
	err = s.db.Update(ctx, func(tx *rstore.Tx) error {
		if err := tx.InsertBuild(ctx, b); err != nil {
			return err
		}
		if err := tx.SetPackage(ctx, p.ID, rstore.FieldManualPriority, 0); err != nil {
			return err
		}
		return tx.SetPackage(ctx, p.ID, rstore.FieldSkipReason, SkipNone)
	})
	if err != nil {
		return nil, err
	}
	log.Info("rebuild: scratch build submitted", slog.Int("task", task), slog.String("nvr", srpm.NVR()),
		slog.Float64("priority", sc.Priority))
	return b, nil
}

func (s *Service) skip(ctx context.Context, p *Package, r SkipReason) error {
	return s.db.Update(ctx, func(tx *rstore.Tx) error { return tx.SetPackage(ctx, p.ID, rstore.FieldSkipReason, r) })
}

// load is the hub's load for the arches in the collection's channel,
// computed once per arch set and cycle.
func (s *Service) load(ctx context.Context, c *Collection, tagArches, arches []string, loads map[string]float64) (float64, error) {
	key := c.Channel + "\x00" + strings.Join(arches, " ")
	if v, ok := loads[key]; ok {
		return v, nil
	}
	query := arches
	if slices.Contains(arches, "noarch") {
		query = tagArches
	}
	hosts, err := s.cfg.Hub.Hosts(ctx, c.Channel, query)
	if err != nil {
		return 0, err
	}
	v := Load(hosts, tagArches, arches)
	loads[key] = v
	return v, nil
}
