package rebuild

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/rebuild/internal/rstore"
)

// maxIndexes bounds the repo indexes kept in memory: the latest repo of
// a few collections and the older ones builds ran in.
const maxIndexes = 4

// index returns the RepoIndex of a tag's repo, loading it once.
func (s *Service) index(ctx context.Context, tag string, repo int) (RepoIndex, error) {
	url, err := s.cfg.Hub.RepoURL(tag, repo, s.cfg.RepoArch)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	idx, ok := s.indexes[url]
	s.mu.Unlock()
	if ok {
		return idx, nil
	}
	idx, err = s.cfg.Loader.Load(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("rebuild: loading repo %s: %w", url, err)
	}
	s.mu.Lock()
	if len(s.indexes) >= maxIndexes {
		for k := range s.indexes { // any one: repos are used in runs
			delete(s.indexes, k)
			break
		}
	}
	s.indexes[url] = idx
	s.mu.Unlock()
	return idx, nil
}

// buildGroup returns the collection's build group in a repo: the
// collection's own list, or the build tag's group at the repo's event.
func (s *Service) buildGroup(ctx context.Context, c *Collection, repo *Repo) ([]string, error) {
	if len(c.BuildGroupPackages) > 0 {
		return c.BuildGroupPackages, nil
	}
	return s.cfg.Hub.BuildGroup(ctx, c.BuildTag, c.BuildGroup, repo.CreateEvent)
}

// ResolveRepos runs the repo resolver on every collection.
func (s *Service) ResolveRepos(ctx context.Context) error {
	colls, err := s.collections(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range colls {
		errs = append(errs, s.ResolveCollection(ctx, c))
	}
	return errors.Join(errs...)
}

// ResolveCollection is Koschei's repo resolver for one collection
// (§3.5): when the build tag has a newer READY repo, resolve the build
// group alone (the collection's state), then, if it installs, every
// tracked package against that repo; otherwise only the packages not
// resolved yet, in the repo last used.
func (s *Service) ResolveCollection(ctx context.Context, c *Collection) error {
	repo, err := s.cfg.Hub.LatestRepo(ctx, c.BuildTag)
	if err != nil || repo == nil {
		return err
	}
	fresh := c.LatestRepoID == nil || int64(repo.ID) > *c.LatestRepoID
	if !fresh {
		if !*c.LatestRepoResolved {
			return nil
		}
		if repo, err = s.cfg.Hub.Repo(ctx, int(*c.LatestRepoID)); err != nil || repo == nil {
			return err
		}
	}
	idx, err := s.index(ctx, c.BuildTag, repo.ID)
	if err != nil {
		return err
	}
	group, err := s.buildGroup(ctx, c, repo)
	if err != nil {
		return err
	}
	if fresh {
		res, err := idx.Resolve(ctx, group, nil, s.cfg.RepoArch)
		if err != nil {
			return err
		}
		old := CollectionStateOf(c)
		if err := s.db.Update(ctx, func(tx *rstore.Tx) error {
			return tx.SetCollectionRepo(ctx, c.ID, int64(repo.ID), res.OK(), res.Problems)
		}); err != nil {
			return err
		}
		id, ok := int64(repo.ID), res.OK()
		c.LatestRepoID, c.LatestRepoResolved = &id, &ok
		s.log.Info("rebuild: buildroot resolved", slog.String("collection", c.Name), slog.Int("repo", repo.ID),
			slog.Bool("ok", ok))
		s.notifyCollection(ctx, c, old, CollectionStateOf(c))
		if !ok {
			return nil
		}
	}
	var pkgs []*Package
	if err := s.db.View(ctx, func(tx *rstore.Tx) (err error) {
		pkgs, err = tx.Packages(ctx, c.ID)
		return err
	}); err != nil {
		return err
	}
	var errs []error
	for _, p := range pkgs {
		if !p.Tracked || p.Blocked || p.SkipResolution || p.LastCompleteBuildID == nil || (!fresh && p.Resolved != nil) {
			continue
		}
		errs = append(errs, s.resolvePackage(ctx, c, repo, idx, group, p))
	}
	return errors.Join(errs...)
}

// srpmOf returns the SRPM a build of the package rebuilt: the real
// build's of that NVR.
func (s *Service) srpmOf(ctx context.Context, p *Package, b *Build) (*SRPM, error) {
	return s.cfg.Hub.SRPM(ctx, p.Name+"-"+b.Version+"-"+b.Release)
}

// resolvePackage resolves a package's build requirements (those of its
// last complete build's SRPM) in repo, and records the result: resolved
// or the problems, and the changes since the build it is compared with
// (Koschei's get_build_for_comparison) with the dependency priority they
// give. A package whose last build changed meanwhile is left for the next
// run.
func (s *Service) resolvePackage(ctx context.Context, c *Collection, repo *Repo, idx RepoIndex, group []string, p *Package) error {
	var last *Build
	var prev []ResolvedDep
	err := s.db.View(ctx, func(tx *rstore.Tx) error {
		var err error
		if last, err = tx.Build(ctx, *p.LastCompleteBuildID, false); err != nil {
			return err
		}
		cmp, err := tx.ComparisonBuild(ctx, p)
		if err != nil || cmp == nil {
			return err
		}
		prev, err = tx.BuildDeps(ctx, cmp.ID)
		return err
	})
	if err != nil {
		return err
	}
	srpm, err := s.srpmOf(ctx, p, last)
	if err != nil {
		return err
	}
	if srpm == nil {
		s.log.Warn("rebuild: no SRPM to resolve", slog.String("package", p.Name))
		return nil
	}
	res, err := idx.Resolve(ctx, group, srpm.Requires, s.cfg.RepoArch)
	if err != nil {
		return err
	}
	var changes []Change
	if res.OK() {
		changes = diffDeps(prev, res.deps())
	}
	prio := s.cfg.Priorities.DependencyPriority(changes)
	s.log.Debug("rebuild: package resolved", slog.String("package", p.Name), slog.Int("repo", repo.ID),
		slog.Bool("ok", res.OK()), slog.Int("baseline", len(prev)), slog.Int("installed", len(res.Installed)),
		slog.Int("changes", len(changes)))
	var after *Package
	err = s.db.Update(ctx, func(tx *rstore.Tx) error {
		cur, err := tx.Package(ctx, p.ID, true)
		if err != nil {
			return err
		}
		if !sameID(cur.LastBuildID, p.LastBuildID) {
			return nil // a build came meanwhile: its baseline is not ours
		}
		if _, err := tx.SetResolution(ctx, p.ID, int64(repo.ID), res.OK(), res.Problems, changes, prio, s.cfg.Now()); err != nil {
			return err
		}
		after, err = tx.Package(ctx, p.ID, false)
		return err
	})
	if err != nil || after == nil {
		return err
	}
	if len(changes) > 0 {
		s.log.Info("rebuild: dependencies changed", slog.String("package", p.Name), slog.Int("changes", len(changes)),
			slog.Int64("dependency_priority", prio))
	}
	s.notifyPackage(ctx, c, after, StateOf(p), StateOf(after))
	return nil
}

func sameID(a, b *int64) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }

// ResolveBuilds is Koschei's build resolver: each build whose repo is
// known but whose dependencies are not resolved yet is resolved in its
// own repo, its dependency set stored and its applied changes computed
// against the package's previous resolved build. A build that cannot be
// resolved (its repo gone, its requirements uninstallable) is marked so;
// when it is its package's last build, the package gets the newly-added
// build priority, which is how newly tracked packages get built soon.
func (s *Service) ResolveBuilds(ctx context.Context) error {
	var builds []*Build
	if err := s.db.View(ctx, func(tx *rstore.Tx) (err error) {
		builds, err = tx.UnresolvedBuilds(ctx, 100)
		return err
	}); err != nil {
		return err
	}
	var errs []error
	for _, b := range builds {
		errs = append(errs, s.resolveBuild(ctx, b))
	}
	return errors.Join(errs...)
}

func (s *Service) resolveBuild(ctx context.Context, b *Build) error {
	var p *Package
	var c *Collection
	err := s.db.View(ctx, func(tx *rstore.Tx) (err error) {
		if p, err = tx.Package(ctx, b.PackageID, false); err != nil {
			return err
		}
		c, err = tx.Collection(ctx, p.CollectionID)
		return err
	})
	if err != nil {
		return err
	}
	repo, err := s.cfg.Hub.Repo(ctx, int(*b.RepoID))
	if err != nil {
		return err
	}
	var res *DepResolution
	if repo != nil && (repo.State == koji.RepoReady || repo.State == koji.RepoExpired) {
		if repo.TagName == "" {
			repo.TagName = c.BuildTag
		}
		if res, err = s.resolveIn(ctx, c, p, b, repo); err != nil {
			return err
		}
	}
	return s.db.Update(ctx, func(tx *rstore.Tx) error {
		cur, err := tx.Build(ctx, b.ID, true)
		if isNotFound(err) {
			return nil
		}
		if err != nil || cur.DepsResolved != nil {
			return err
		}
		if res == nil || !res.OK() {
			if err := tx.SetBuildDeps(ctx, b.ID, false, nil, nil); err != nil {
				return err
			}
			pkg, err := tx.Package(ctx, p.ID, true)
			if err != nil || !sameID(pkg.LastBuildID, &b.ID) {
				return err
			}
			return tx.SetPackage(ctx, p.ID, rstore.FieldBuildPriority, int64(s.cfg.Priorities.NewlyAdded))
		}
		var prev []ResolvedDep
		if pb, err := tx.PreviousResolvedBuild(ctx, cur); err != nil {
			return err
		} else if pb != nil {
			if prev, err = tx.BuildDeps(ctx, pb.ID); err != nil {
				return err
			}
		}
		deps := res.deps()
		return tx.SetBuildDeps(ctx, b.ID, true, deps, diffDeps(prev, deps))
	})
}

// resolveIn resolves a build's requirements in its repo; nil when its
// SRPM is not to be found.
func (s *Service) resolveIn(ctx context.Context, c *Collection, p *Package, b *Build, repo *Repo) (*DepResolution, error) {
	srpm, err := s.srpmOf(ctx, p, b)
	if err != nil || srpm == nil {
		return nil, err
	}
	idx, err := s.index(ctx, repo.TagName, repo.ID)
	if err != nil {
		return nil, err
	}
	group, err := s.buildGroup(ctx, c, repo)
	if err != nil {
		return nil, err
	}
	return idx.Resolve(ctx, group, srpm.Requires, s.cfg.RepoArch)
}
