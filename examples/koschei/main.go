// Command koschei tracks one collection on a Koji hub with package
// rebuild, Koschei's way (scratch rebuilds when build dependencies change
// or time passes), and serves a read-only status page: the collection's
// state, its packages with their states and priorities (and the
// priority's parts), and each package's builds with the dependency
// changes behind them. The pages are plain server-rendered HTML.
//
// Usage:
//
//	koschei -config koschei.conf [-listen ADDR] [-log-level info]
//
// The configuration is an INI file (koschei.conf in this directory is an
// example); option names are case-insensitive, times are in seconds
// except t0 and t1, in hours as Koschei's:
//
//	[hub]        profile (a koji.conf profile, read as the koji CLI reads
//	             it), config (a file instead of ~/.koji/config, as koji -c),
//	             and any of server, topurl, weburl, serverca, cert,
//	             authtype, principal, keytab over the profile's (without a
//	             profile, server is needed); cache_dir, where SRPMs are
//	             kept (default: the user's cache directory)
//	[collection] name and target (required), display_name, koji_instance,
//	             build_tag and dest_tag (default: the target's),
//	             priority_coefficient, build_group, build_group_packages
//	             (for hubs without getTagGroups), channel, poll_untracked,
//	             track (packages to track, separated by spaces)
//	[store]      dsn: an SQLite file (default koschei.db) or a
//	             postgres:// URL
//	[http]       listen (default 127.0.0.1:8080)
//	[broker]     optional: url, exchange, hub_topic_prefix (the hub's
//	             protonmsg topic_prefix, default koji), queue (default
//	             koschei.watcher), topic_prefix of the Koschei messages
//	             published (default org.fedoraproject.prod); without it
//	             builds are followed by polling alone and no state
//	             change is announced
//	[service]    max_builds, load_threshold, submit_burst,
//	             submit_interval, build_arches, task_priority,
//	             task_timeout, repo_arch, schedule_interval,
//	             poll_interval, resolve_interval (rebuild.Config)
//	[priorities] build_threshold, package_update, failed_build_priority,
//	             newly_added, t0, t1 (rebuild.PriorityConfig)
//
// The collection is added to the store at the first start; a later
// start uses it as stored (its settings in the file are not applied
// again) and tracks the packages of track that are not tracked yet.
// Dependencies are resolved with rebuild's default loader (packages
// repodata and depsolve) against the build tag's repos under topurl.
//
// Pages: / (the collection) and /package/NAME (a package's record).
// The program logs with log/slog to standard error and stops on SIGINT
// or SIGTERM.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/gokoji/gokoji/auth"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/messages"
	"github.com/gokoji/gokoji/rebuild"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stderr, nil)
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "koschei:", err)
		os.Exit(1)
	}
}

// shutdownTimeout bounds the wait for page requests in flight when
// stopping.
const shutdownTimeout = 10 * time.Second

// run tracks the collection and serves its pages until ctx ends. ready,
// when not nil, is called with the pages' base URL once they are served.
func run(ctx context.Context, args []string, stderr io.Writer, ready func(url string)) error {
	fs := flag.NewFlagSet("koschei", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "configuration `FILE` (INI)")
	listen := fs.String("listen", "", "`ADDR` to serve the pages on ([http] listen)")
	levelName := fs.String("log-level", "info", "`LEVEL`: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *config == "" {
		return errors.New("no configuration: give -config FILE")
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*levelName)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	s, err := loadSettings(*config)
	if err != nil {
		return err
	}
	if *listen != "" {
		s.listen = *listen
	}

	p, err := s.hub.loadProfile()
	if err != nil {
		return err
	}
	client, err := auth.OpenProfile(ctx, p, koji.WithLogger(log))
	if err != nil {
		return fmt.Errorf("hub %s: %w", p.Server, err)
	}
	defer client.Close()
	st, err := rebuild.OpenStore(ctx, s.storeDSN)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := setUpCollection(ctx, client, st, s); err != nil {
		return err
	}

	cacheDir := s.hub.cacheDir
	if cacheDir == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return fmt.Errorf("no cache_dir in [hub] and no user cache directory: %w", err)
		}
		cacheDir = filepath.Join(dir, "gokoji-koschei")
	}
	if err := os.MkdirAll(cacheDir, 0o750); err != nil {
		return err
	}
	cfg := s.service
	cfg.Store, cfg.Hub = st, rebuild.NewKojiHub(client, cacheDir)
	cfg.Loader = rebuild.RepodataLoader{HTTP: client.HTTPClient()}
	cfg.Priorities, cfg.Logger = s.priorities, log
	if s.broker != nil {
		watch, publish := s.broker.messages()
		watch.Logger, publish.Logger = log, log
		pub, err := messages.NewPublisher(ctx, publish)
		if err != nil {
			return err
		}
		defer pub.Close()
		cfg.Notifier, cfg.Consume = &rebuild.MessageNotifier{Publisher: pub}, &watch
	}
	svc, err := rebuild.NewService(cfg)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", s.listen)
	if err != nil {
		return err
	}
	pages := &statusPages{store: st, collection: s.collection.Name, priorities: s.priorities, webURL: p.WebURL,
		now: time.Now, log: log}
	srv := &http.Server{Handler: pages.handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	ran := make(chan error, 1)
	go func() { ran <- svc.Run(ctx) }()
	url := "http://" + ln.Addr().String()
	log.Info("koschei started", "collection", s.collection.Name, "hub", p.Server, "pages", url)
	if ready != nil {
		ready(url)
	}

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	shutErr := srv.Shutdown(sctx)
	runErr := <-ran
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	log.Info("koschei stopped")
	return errors.Join(serveErr, shutErr, runErr)
}

// setUpCollection adds the collection at the first start, its tags
// taken from the target when not given, and tracks the packages to
// track.
func setUpCollection(ctx context.Context, client *koji.Client, st *rebuild.Store, s *settings) error {
	cs, err := st.Collections(ctx)
	if err != nil {
		return err
	}
	known := false
	for _, c := range cs {
		known = known || c.Name == s.collection.Name
	}
	if !known {
		c := s.collection
		if c.BuildTag == "" || c.DestTag == "" {
			t, err := client.GetBuildTarget(ctx, c.Target, nil)
			if err != nil {
				return err
			}
			if t == nil {
				return fmt.Errorf("hub has no target %s", c.Target)
			}
			c.BuildTag = cmp.Or(c.BuildTag, t.BuildTagName)
			c.DestTag = cmp.Or(c.DestTag, t.DestTagName)
		}
		if err := st.AddCollection(ctx, &c); err != nil {
			return err
		}
	}
	if len(s.track) == 0 {
		return nil
	}
	return st.Track(ctx, s.collection.Name, s.track, true)
}
