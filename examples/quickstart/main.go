// Command quickstart builds a package with Koji, in one process and with
// nothing to install but Go:
//
//	go run ./examples/quickstart
//
// It starts an embedded gokoji hub (hubserver, on SQLite in a temporary
// directory, over HTTPS on a free loopback port, with a certificate
// authority made for the run) and a builder (package builder) logged in
// to it as a host. With package koji, as an admin, it creates a tag tree
// (the build tag quickstart-build, for this machine's arch, inheriting
// from the destination tag quickstart), the target quickstart and
// hello's entry in the package list. It then makes the SRPM of the small
// package in hello/, uploads it as `koji build` does and builds it,
// printing what `koji watch-task` prints, and shows the build, its RPMs
// and the hub's estimate of its next build's duration, before stopping
// the builder and the hub.
//
// The builder builds with rpmbuild (builder.BuildArch) when it is
// installed. Without it, or with -pure-go, the quickstart makes the SRPM
// and the binary package with gokoji's pure-Go RPM writer instead: a
// buildArch handler of its own (pureGoBuildArch) that only understands
// specs as simple as hello's.
//
// Flags:
//
//	-pure-go   build without rpmbuild even when it is installed
//	-dir DIR   keep the hub's database and files in DIR (by default a
//	           temporary directory, removed at the end)
//	-v         log the hub's and the builder's work to standard error
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/gokoji/gokoji/builder"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var opts options
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.BoolVar(&opts.PureGo, "pure-go", false, "build without rpmbuild even when it is installed")
	fs.StringVar(&opts.Dir, "dir", "", "keep the hub's database and files in `DIR` (default: a temporary directory, removed at the end)")
	verbose := fs.Bool("v", false, "log the hub's and the builder's work to standard error")
	switch err := fs.Parse(os.Args[1:]); {
	case errors.Is(err, flag.ErrHelp):
		return
	case err != nil:
		os.Exit(2)
	case fs.NArg() > 0:
		fmt.Fprintln(os.Stderr, "quickstart: unexpected arguments:", fs.Args())
		os.Exit(2)
	}
	if *verbose {
		opts.Log = os.Stderr
	}
	if err := run(ctx, os.Stdout, opts); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// options configure run.
type options struct {
	// PureGo builds with the pure-Go RPM writer even when rpmbuild is
	// installed.
	PureGo bool
	// Dir holds the hub's database (hub.db) and files (files/); empty
	// means a temporary directory, removed when run returns.
	Dir string
	// Log receives the hub's and the builder's logs; nil discards them.
	Log io.Writer
	// wrapBuildArch, set by tests, replaces the buildArch handler with
	// one made from it, to hold a build open.
	wrapBuildArch func(builder.Handler) builder.Handler
}

// logger is the logger of opts.Log.
func (o options) logger() *slog.Logger {
	if o.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(o.Log, nil))
}
