package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/gokoji/gokoji/auth"
	"github.com/gokoji/gokoji/builder"
	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/koji"
)

// Names of the quickstart's users, tags and target.
const (
	adminName = "kojiadmin"
	hostName  = "quickstart-builder"
	destTag   = "quickstart"
	buildTag  = "quickstart-build"
	target    = "quickstart"
)

// filesPath is where the hub serves its top directory, the builder's
// topurl, as httpd serves /mnt/koji at /kojifiles on a Koji hub.
const filesPath = "/kojifiles"

// stopTimeout bounds stopping the builder and the hub.
const stopTimeout = 30 * time.Second

// rpmArches are rpm's names of Go's architectures.
var rpmArches = map[string]string{
	"amd64": "x86_64", "arm64": "aarch64", "386": "i686", "arm": "armv7hl", "ppc64le": "ppc64le",
	"ppc64": "ppc64", "s390x": "s390x", "riscv64": "riscv64", "loong64": "loongarch64",
}

// machineArch is this machine's arch as rpm names it.
func machineArch() (string, error) {
	a, ok := rpmArches[runtime.GOARCH]
	if !ok {
		return "", fmt.Errorf("no rpm arch known for GOARCH %s", runtime.GOARCH)
	}
	return a, nil
}

// A world is the running hub and builder, and the admin's client.
type world struct {
	koji      *hubserver.Koji
	hub       *hubserver.Hub
	topDir    string
	transport *http.Transport
	admin     *koji.Client
	host      *koji.Client
	daemon    *builder.Daemon
}

// startWorld starts a hub on an SQLite database in dir, logs its admin
// in, and starts a builder with the build handlers (buildArch, the
// handler given) as a host of arch. stop stops what it started, also
// when it fails half way.
func startWorld(ctx context.Context, dir, arch string, buildArch builder.Handler, log *slog.Logger) (w *world, err error) {
	w = &world{topDir: filepath.Join(dir, "files")}
	defer func() {
		if err != nil {
			err = errors.Join(err, w.stop())
		}
	}()
	ca, err := newPKI()
	if err != nil {
		return w, err
	}
	cfg := hubserver.KojiConfig{DSN: filepath.Join(dir, "hub.db"), TopDir: w.topDir, Admin: adminName}
	// No mail server here: without this, each build and tagging would
	// leave a notification task no handler of the builder sends.
	cfg.Notifications.Disable = true
	cfg.Logger = log.With("side", "hub")
	if w.koji, err = hubserver.OpenKoji(ctx, cfg); err != nil {
		return w, err
	}
	hcfg := w.koji.HubConfig()
	hcfg.ListenAddr = "127.0.0.1:0"
	if hcfg.TLSConfig, err = ca.serverTLS(); err != nil {
		return w, err
	}
	inner := hcfg.Middleware
	files := http.StripPrefix(filesPath, w.koji.FilesHandler())
	hcfg.Middleware = func(next http.Handler) http.Handler {
		mux := http.NewServeMux()
		mux.Handle(filesPath+"/", files)
		mux.Handle("/", inner(next))
		return mux
	}
	hub, err := hubserver.New(hcfg)
	if err != nil {
		return w, err
	}
	if err := hub.Register(w.koji.Methods()...); err != nil {
		return w, err
	}
	if err := hub.Start(ctx); err != nil {
		return w, err
	}
	w.hub = hub
	w.transport = &http.Transport{TLSClientConfig: ca.clientTLS()}

	if w.admin, err = w.login(ctx, ca, adminName); err != nil {
		return w, err
	}
	if err := w.admin.Call(ctx, "addHost", nil, hostName, []string{arch}); err != nil {
		return w, fmt.Errorf("addHost: %w", err)
	}
	if w.host, err = w.client(); err != nil {
		return w, err
	}
	cert, err := ca.cert(hostName)
	if err != nil {
		return w, err
	}
	d, err := builder.New(builder.Config{
		Client: w.host, Auth: &auth.SSL{Certificate: cert},
		WorkDir: filepath.Join(dir, "builder"), TopURL: w.filesURL(),
		// A demo on any machine: no free space or load limits, and logs
		// sent often so that they show progress at once. The default
		// sleeptime costs nothing: host.waitTasks answers as soon as the
		// hub assigns a task.
		MinSpace: -1, MaxLoad: -1, CheckInterval: 500 * time.Millisecond, LogInterval: 500 * time.Millisecond,
		Logger: log.With("side", "builder"),
	}, builder.Build{}, buildArch, builder.TagBuild{})
	if err != nil {
		return w, err
	}
	if err := d.Start(ctx); err != nil {
		return w, err
	}
	w.daemon = d
	return w, nil
}

// filesURL is the hub's files' URL, the builder's topurl.
func (w *world) filesURL() string { return strings.TrimSuffix(w.hub.URL(), "/kojihub") + filesPath }

// client is an anonymous client of the hub.
func (w *world) client() (*koji.Client, error) {
	return koji.NewClient(w.hub.URL(), koji.WithHTTPClient(&http.Client{Transport: w.transport}))
}

// login is a client logged in as user with a client certificate.
func (w *world) login(ctx context.Context, ca *pki, user string) (*koji.Client, error) {
	c, err := w.client()
	if err != nil {
		return nil, err
	}
	cert, err := ca.cert(user)
	if err == nil {
		err = c.Login(ctx, &auth.SSL{Certificate: cert})
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// stop stops the builder (freeing its tasks and logging out), logs the
// admin out and shuts the hub down, whatever the context run had.
func (w *world) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	var errs []error
	if w.daemon != nil {
		errs = append(errs, w.daemon.Stop(ctx))
	}
	for _, c := range []*koji.Client{w.host, w.admin} {
		if c != nil {
			errs = append(errs, c.Close())
		}
	}
	if w.hub != nil {
		errs = append(errs, w.hub.Shutdown(ctx))
	}
	if w.koji != nil {
		errs = append(errs, w.koji.Close())
	}
	if w.transport != nil {
		w.transport.CloseIdleConnections()
	}
	return errors.Join(errs...)
}
