// Command kojihub runs a standalone Koji hub: hubserver's Koji 1.35
// compatible hub on SQLite or PostgreSQL, serving the real koji CLI, the
// Python library and kojid.
//
// Usage:
//
//	kojihub [-config hub.conf] [-listen ADDR] [-data DIR] [-db DSN]
//	        [-tls-cert FILE -tls-key FILE] [-client-ca FILE] [-admin NAME]
//	        [-path /kojihub] [-log-level info]
//
// A first start creates the database (by default SQLite in DIR/hub.db;
// -db takes a "postgres://" URL instead) and, with -admin, the user NAME
// with the admin permission. With -tls-cert and -tls-key the hub serves
// HTTPS; with -client-ca it asks clients for a certificate in the TLS
// handshake, and sslLogin logs in the user the certificate's CN names, so
// the admin logs in with a certificate whose CN is NAME. Files (uploads,
// task output) go under DIR/files, upstream's KojiDir, served read-only
// at /kojifiles (upstream's topurl: kojid's topurl is the hub's address
// with /kojifiles).
//
// -config reads a file in upstream's hub.conf format: the [hub] section
// takes upstream's option names (KojiDir, DBName, DBUser, DBHost, DBPort,
// DBPass, DBConnectionString, DNUsernameComponent, ProxyDNs,
// LoginCreatesUser, CheckClientIP, MaxRequestLength,
// SessionRenewalTimeout, AllowProxyAuthType, AuthPrincipal, AuthKeytab,
// ProxyPrincipals, HostPrincipalFormat, AllowedKrbRealms,
// DisableURLSessions, LockOut, ServerOffline, OfflineMessage, and the
// scheduler's MaxJobs, CapacityOvercommit, ReadyTimeout, AssignTimeout,
// SoftRefusalTimeout, HostTimeout and RunInterval, and MissingPolicyOk);
// other upstream options are logged and ignored. The [policy] section
// holds the hub's policies as upstream's does (rules by policy name, each
// replacing upstream's default of that name). A [kojihub] section takes this program's own
// settings, named as the flags without dashes (Listen, Path, Data, DB,
// TLSCert, TLSKey, ClientCA, Admin, LogLevel). A flag given on the
// command line overrides the file. hub.conf in this directory is an
// example.
//
// The hub logs with log/slog to standard error and stops gracefully on
// SIGINT or SIGTERM, letting calls in flight finish.
//
// With the koji CLI, a profile such as
//
//	[kojihub]
//	server = https://hub.example.com:8443/kojihub
//	authtype = ssl
//	cert = ~/.koji/admin.pem
//	serverca = ~/.koji/ca.pem
//
// then "koji -p kojihub hello" greets the admin.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/gokoji/gokoji/hubserver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stderr, nil)
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "kojihub:", err)
		os.Exit(1)
	}
}

// shutdownTimeout bounds the wait for calls in flight when stopping.
const shutdownTimeout = 30 * time.Second

// FilesPath is where the hub serves its files, upstream's topurl path
// (httpd's Alias /kojifiles "/mnt/koji/").
const FilesPath = "/kojifiles"

// serveFiles serves the file tree top read-only under FilesPath, in front
// of the hub, as upstream's httpd serves KojiDir: builders' topurl is
// the hub's address with FilesPath.
func serveFiles(top string) func(http.Handler) http.Handler {
	files := http.StripPrefix(FilesPath, hubserver.FilesHandler(top))
	return func(next http.Handler) http.Handler {
		mux := http.NewServeMux()
		mux.Handle(FilesPath+"/", files)
		mux.Handle("/", next)
		return mux
	}
}

// run runs the hub until ctx ends. ready, when not nil, is called with
// the hub once it listens.
func run(ctx context.Context, args []string, stderr io.Writer, ready func(*hubserver.Hub)) error {
	s, set, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	// The file may set the log level, so configuration warnings are
	// logged at the default level first.
	log := slog.New(slog.NewTextHandler(stderr, nil))
	cfg := hubserver.KojiConfig{}
	if err := loadConfig(&s, set, &cfg, log); err != nil {
		return err
	}
	level, err := logLevel(s.LogLevel)
	if err != nil {
		return err
	}
	log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	if (s.TLSCert == "") != (s.TLSKey == "") {
		return errors.New("-tls-cert and -tls-key go together")
	}
	if s.ClientCA != "" && s.TLSCert == "" {
		return errors.New("-client-ca needs -tls-cert and -tls-key: client certificates come with TLS")
	}
	if err := os.MkdirAll(s.Data, 0o750); err != nil {
		return fmt.Errorf("-data: %w", err)
	}
	if cfg.DSN = s.DB; cfg.DSN == "" {
		if cfg.DSN, err = sqliteDSN(s.Data); err != nil {
			return err
		}
	}
	if cfg.TopDir == "" || set["data"] {
		cfg.TopDir = filepath.Join(s.Data, "files")
	}
	if err := os.MkdirAll(cfg.TopDir, 0o750); err != nil {
		return fmt.Errorf("files directory: %w", err)
	}
	cfg.ListenAddr, cfg.Path = s.Listen, s.Path
	cfg.TLSCertFile, cfg.TLSKeyFile, cfg.ClientCAFile = s.TLSCert, s.TLSKey, s.ClientCA
	cfg.Admin = s.Admin
	cfg.Logger = log
	cfg.Middleware = serveFiles(cfg.TopDir)

	k, err := hubserver.OpenKoji(ctx, cfg)
	if err != nil {
		return err
	}
	defer k.Close()
	h, err := k.NewHub()
	if err != nil {
		return err
	}
	if err := h.Start(ctx); err != nil {
		return err
	}
	log.Info("kojihub started", "url", h.URL(), "database", redactDSN(cfg.DSN), "topdir", cfg.TopDir, "admin", cfg.Admin)
	if ready != nil {
		ready(h)
	}
	<-ctx.Done()
	log.Info("kojihub stopping", "reason", context.Cause(ctx))
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	return h.Shutdown(sctx)
}
