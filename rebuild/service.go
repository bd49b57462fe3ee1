package rebuild

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gokoji/gokoji/messages"
	"github.com/gokoji/gokoji/rebuild/internal/rstore"
)

// Config configures a Service. Zero fields take the defaults named, which
// are Koschei's (config.cfg.template) where Koschei has the setting.
type Config struct {
	Store *Store
	Hub   Hub
	// Loader reads repo metadata for dependency resolution; by default a
	// RepodataLoader on the Hub's HTTP client when it has one (KojiHub's
	// HTTPClient), http.DefaultClient otherwise.
	Loader RepoLoader
	// Notifier is told of package and collection state changes; nil
	// tells no one.
	Notifier Notifier
	// Consume, when set, makes Run follow the hub's task state changes
	// through the message broker (messages.Consume with this
	// configuration and HandleEvent); polling remains the fallback.
	Consume *messages.Config

	// Priorities are the formula's constants; zero means
	// DefaultPriorityConfig.
	Priorities PriorityConfig
	// PrioritySources add to every schedulable package's dynamic
	// priority (see PrioritySource).
	PrioritySources []PrioritySource

	// MaxBuilds caps the running builds of all collections (max_builds,
	// 30).
	MaxBuilds int
	// LoadThreshold is the hub load (0..1, see Load) above which nothing
	// is submitted for a package's arches (load_threshold, 0.5); 1 or
	// more turns the check off.
	LoadThreshold float64
	// SubmitBurst and SubmitInterval are the global throttle: at most
	// SubmitBurst submissions per SubmitInterval, whatever the priorities
	// (defaults 10 per 10 minutes; a negative SubmitBurst turns it off).
	SubmitBurst    int
	SubmitInterval time.Duration
	// BuildArches, when set, limits builds to these arches
	// (koji_config.build_arches); by default every arch of the build tag.
	BuildArches []string
	// TaskPriority is the build task's priority (task_priority, 30).
	TaskPriority int
	// TaskTimeout cancels builds running longer (task_timeout, 48 h).
	TaskTimeout time.Duration
	// RepoArch is the arch of the repo resolved against and resolved for
	// (dependency.repo_arch and resolve_for_arch, x86_64).
	RepoArch string

	// ScheduleInterval is the scheduler's cycle (3 s), PollInterval the
	// polling fallback's (20 min) and ResolveInterval the resolvers' (3 s).
	ScheduleInterval time.Duration
	PollInterval     time.Duration
	ResolveInterval  time.Duration

	Logger *slog.Logger
	// Now is the clock; time.Now by default.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.Priorities == (PriorityConfig{}) {
		c.Priorities = DefaultPriorityConfig()
	}
	setDefault(&c.MaxBuilds, 30)
	setDefault(&c.LoadThreshold, 0.5)
	setDefault(&c.SubmitBurst, 10)
	setDefault(&c.SubmitInterval, 10*time.Minute)
	setDefault(&c.TaskPriority, 30)
	setDefault(&c.TaskTimeout, 48*time.Hour)
	setDefault(&c.RepoArch, "x86_64")
	setDefault(&c.ScheduleInterval, 3*time.Second)
	setDefault(&c.PollInterval, 20*time.Minute)
	setDefault(&c.ResolveInterval, 3*time.Second)
	if c.Loader == nil {
		hc := http.DefaultClient
		if h, ok := c.Hub.(interface{ HTTPClient() *http.Client }); ok {
			hc = h.HTTPClient()
		}
		c.Loader = RepodataLoader{HTTP: hc}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

func setDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}

// Service is the rebuild service: Koschei's polling, watcher, repo and
// build resolvers and scheduler, as loops of one process that share only
// the store, so several services (or one per role) can run on one
// PostgreSQL database.
type Service struct {
	cfg      Config
	db       *rstore.DB
	log      *slog.Logger
	throttle *Throttle

	mu      sync.Mutex
	indexes map[string]RepoIndex // by repo URL; see index
	arches  map[string]cachedArches
}

type cachedArches struct {
	arches []string
	at     time.Time
}

// NewService returns a service for cfg; Run starts it.
func NewService(cfg Config) (*Service, error) {
	cfg = cfg.withDefaults()
	if cfg.Store == nil || cfg.Hub == nil {
		return nil, errors.New("rebuild: a service needs a Store and a Hub")
	}
	return &Service{
		cfg:      cfg,
		db:       cfg.Store.db,
		log:      cfg.Logger,
		throttle: NewThrottle(cfg.SubmitBurst, cfg.SubmitInterval, cfg.Now()),
		indexes:  map[string]RepoIndex{},
		arches:   map[string]cachedArches{},
	}, nil
}

// Run runs the service's loops until ctx ends: the scheduler, the
// resolvers (repos, then builds), polling, and, with Config.Consume, the
// message watcher. A failed cycle is logged and tried again at the next.
func (s *Service) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	loop := func(name string, every time.Duration, fn func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				if err := fn(ctx); err != nil && ctx.Err() == nil {
					s.log.Error("rebuild: "+name+" failed", slog.String("error", err.Error()))
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		}()
	}
	loop("polling", s.cfg.PollInterval, s.Poll)
	loop("resolver", s.cfg.ResolveInterval, s.Resolve)
	loop("scheduler", s.cfg.ScheduleInterval, func(ctx context.Context) error {
		_, err := s.Schedule(ctx)
		return err
	})
	if s.cfg.Consume != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := messages.Consume(ctx, *s.cfg.Consume, s.HandleEvent); err != nil {
				s.log.Error("rebuild: watcher stopped", slog.String("error", err.Error()))
			}
		}()
	}
	<-ctx.Done()
	wg.Wait()
	return nil
}

// Resolve runs the repo resolver on every collection, then the build
// resolver.
func (s *Service) Resolve(ctx context.Context) error {
	return errors.Join(s.ResolveRepos(ctx), s.ResolveBuilds(ctx))
}

// collections returns every collection.
func (s *Service) collections(ctx context.Context) (cs []*Collection, err error) {
	err = s.db.View(ctx, func(tx *rstore.Tx) error {
		cs, err = tx.Collections(ctx)
		return err
	})
	return cs, err
}

// tagArches returns the build tag's arches, cached for an hour as
// Koschei's get_koji_arches.
func (s *Service) tagArches(ctx context.Context, tag string) ([]string, error) {
	now := s.cfg.Now()
	s.mu.Lock()
	c, ok := s.arches[tag]
	s.mu.Unlock()
	if ok && now.Sub(c.at) < time.Hour {
		return c.arches, nil
	}
	arches, err := s.cfg.Hub.TagArches(ctx, tag)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.arches[tag] = cachedArches{arches, now}
	s.mu.Unlock()
	return arches, nil
}

func (s *Service) notifyPackage(ctx context.Context, c *Collection, p *Package, old, new PackageState) {
	old, new = old.MsgState(), new.MsgState()
	if s.cfg.Notifier == nil || old == new {
		return
	}
	s.log.Info("rebuild: package state changed", slog.String("collection", c.Name), slog.String("package", p.Name),
		slog.String("old", string(old)), slog.String("new", string(new)))
	if err := s.cfg.Notifier.PackageStateChanged(ctx, PackageStateChange{Collection: c, Package: p, Old: old, New: new}); err != nil {
		s.log.Error("rebuild: package state notification failed", slog.String("package", p.Name), slog.String("error", err.Error()))
	}
}

func (s *Service) notifyCollection(ctx context.Context, c *Collection, old, new CollectionState) {
	if s.cfg.Notifier == nil || old == new {
		return
	}
	s.log.Info("rebuild: collection state changed", slog.String("collection", c.Name),
		slog.String("old", string(old)), slog.String("new", string(new)))
	if err := s.cfg.Notifier.CollectionStateChanged(ctx, CollectionStateChange{Collection: c, Old: old, New: new}); err != nil {
		s.log.Error("rebuild: collection state notification failed", slog.String("collection", c.Name), slog.String("error", err.Error()))
	}
}
