package rebuild

import (
	"context"
	"errors"
	"log/slog"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/rebuild/internal/rstore"
)

// Poll is Koschei's polling service: the running builds' tasks, then
// each collection's package list and latest real builds.
func (s *Service) Poll(ctx context.Context) error {
	errs := []error{s.PollBuilds(ctx)}
	colls, err := s.collections(ctx)
	if err != nil {
		return err
	}
	for _, c := range colls {
		errs = append(errs, s.RefreshPackages(ctx, c), s.refreshLatest(ctx, c, ""))
	}
	return errors.Join(errs...)
}

// RefreshPackages brings a collection's packages in line with its
// destination tag's package list (Koschei's refresh_packages).
func (s *Service) RefreshPackages(ctx context.Context, c *Collection) error {
	list, err := s.cfg.Hub.Packages(ctx, c.DestTag)
	if err != nil {
		return err
	}
	entries := make([]rstore.PackageEntry, 0, len(list))
	for _, p := range list {
		entries = append(entries, rstore.PackageEntry{Name: p.PackageName, Blocked: p.Blocked})
	}
	return s.db.Update(ctx, func(tx *rstore.Tx) error {
		added, err := tx.SyncPackages(ctx, c.ID, entries)
		if len(added) > 0 {
			s.log.Info("rebuild: new packages", slog.String("collection", c.Name), slog.Int("count", len(added)))
		}
		return err
	})
}

// refreshTagged looks for a new real build of pkg in the collections whose
// destination tag is tag (the watcher's tag event). Koschei takes the
// first package of that name in any collection; this looks in each
// collection of that tag.
func (s *Service) refreshTagged(ctx context.Context, tag, pkg string) error {
	colls, err := s.collections(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range colls {
		if c.DestTag == tag {
			errs = append(errs, s.refreshLatest(ctx, c, pkg))
		}
	}
	return errors.Join(errs...)
}

// refreshLatest compares the destination tag's latest builds (of pkg, or
// of all packages) with the collection's (Koschei's
// refresh_latest_builds): a newer one is registered as a real build; when
// the tag's latest is older than the last build known, the builds newer
// than it are marked untagged; a build tagged again is no longer
// untagged.
func (s *Service) refreshLatest(ctx context.Context, c *Collection, pkg string) error {
	latest, err := s.cfg.Hub.LatestBuilds(ctx, c.DestTag, pkg)
	if err != nil {
		return err
	}
	var errs []error
	for _, tb := range latest {
		name := tb.Name
		if name == "" {
			name = tb.PackageName
		}
		errs = append(errs, s.checkLatest(ctx, c, name, &tb.Build))
	}
	return errors.Join(errs...)
}

func (s *Service) checkLatest(ctx context.Context, c *Collection, name string, kb *koji.Build) error {
	if kb.TaskID == nil {
		return nil // an import: no task, no repo to resolve in
	}
	var p *Package
	var builds []*Build
	err := s.db.View(ctx, func(tx *rstore.Tx) (err error) {
		if p, err = tx.PackageByName(ctx, c.ID, name); err != nil {
			return err
		}
		builds, err = tx.PackageBuilds(ctx, p.ID, 0)
		return err
	})
	if isNotFound(err) {
		return nil
	}
	if err != nil || !p.Tracked && !c.PollUntracked {
		return err
	}
	// After the tag's build, the builds of a higher EVR are untagged and
	// those of its EVR tagged again; a build of its EVR (a scratch build
	// of its SRPM, or itself) makes registering it moot.
	var retag, untag []*Build
	register := true
	for _, b := range builds {
		c := compareEVR(epochOf(b.Epoch), b.Version, b.Release, epochOf(kb.Epoch), kb.Version, kb.Release)
		switch {
		case c == 0 && b.Untagged:
			retag = append(retag, b)
		case c > 0 && !b.Untagged:
			untag = append(untag, b)
		}
		if c == 0 || b.TaskID == int64(*kb.TaskID) {
			register = false
		}
	}
	if len(retag)+len(untag) > 0 {
		err := s.db.Update(ctx, func(tx *rstore.Tx) error {
			for _, b := range retag {
				if err := tx.SetUntagged(ctx, b, false); err != nil {
					return err
				}
			}
			for _, b := range untag {
				if err := tx.SetUntagged(ctx, b, true); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if !register {
		return nil
	}
	return s.registerRealBuild(ctx, c, p, kb)
}

// registerRealBuild stores a maintainer's build found in the destination
// tag (Koschei's register_real_builds): its times and repo from its task,
// dropped when the repo is unknown (it could not be resolved). It clears
// the package's priorities and skip reason, as a new build is the new
// baseline.
func (s *Service) registerRealBuild(ctx context.Context, c *Collection, p *Package, kb *koji.Build) error {
	task, err := s.cfg.Hub.Task(ctx, *kb.TaskID)
	if err != nil || task == nil {
		return err
	}
	repo, kts, err := s.subtasks(ctx, task.ID)
	if err != nil {
		return err
	}
	if repo == 0 {
		s.log.Info("rebuild: real build without a repo ignored", slog.String("nvr", kb.Label()))
		return nil
	}
	b := &Build{PackageID: p.ID, State: BuildComplete, TaskID: int64(task.ID), Started: task.Created(),
		Epoch: kb.Epoch, Version: kb.Version, Release: kb.Release, RepoID: &repo, Real: true}
	finished := task.Created()
	if t, ok := task.Completed(); ok {
		finished = t
	}
	b.Finished = &finished
	var before, after *Package
	err = s.db.Update(ctx, func(tx *rstore.Tx) error {
		var err error
		if before, err = tx.Package(ctx, p.ID, true); err != nil {
			return err
		}
		if bs, err := tx.BuildsByTask(ctx, b.TaskID); err != nil {
			return err
		} else if slicesContainsPackage(bs, p.ID) {
			before = nil // registered meanwhile
			return nil
		}
		if err := tx.InsertBuild(ctx, b); err != nil {
			return err
		}
		if err := tx.SetKojiTasks(ctx, b.ID, kts); err != nil {
			return err
		}
		if err := tx.ClearPriorities(ctx, p.ID); err != nil {
			return err
		}
		if err := tx.SetPackage(ctx, p.ID, rstore.FieldSkipReason, SkipNone); err != nil {
			return err
		}
		after, err = tx.Package(ctx, p.ID, false)
		return err
	})
	if err != nil || before == nil {
		return err
	}
	s.log.Info("rebuild: real build registered", slog.String("collection", c.Name), slog.String("nvr", kb.Label()))
	s.notifyPackage(ctx, c, after, StateOf(before), StateOf(after))
	return nil
}

func slicesContainsPackage(bs []*Build, pkg int64) bool {
	for _, b := range bs {
		if b.PackageID == pkg {
			return true
		}
	}
	return false
}
