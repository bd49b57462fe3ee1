// Command kojid is a Koji builder made with package builder: it logs in
// to a hub as a host, by client certificate, Kerberos keytab or password,
// and runs sleep, build, buildArch, tagBuild, newRepo, createrepo,
// dependantTask, chainbuild, waitrepo, restartHosts, restart,
// restartVerify, tagNotification and buildNotification tasks until
// SIGINT or SIGTERM, when it stops its running tasks, frees them and logs out, as kojid's
// shutdown; those last hub calls are bounded (builder.Config.StopTimeout),
// so that it exits within seconds with the hub gone, and a second signal
// ends it at once. Builds run rpmbuild on the host itself, as the daemon's user (no
// mock, no chroot: see builder.BuildArch); the SRPMs and repo contents
// come from topurl, or for repos from topdir when it is set (the hub's
// files mounted here, as upstream kojid needs them). Asked to restart (by
// koji restart-hosts), it takes no more tasks and once the running ones
// end runs itself again in the same process with the same arguments, as
// kojid re-executes itself; where that fails it exits with status 3, for
// its supervisor (systemd's Restart=, say) to start it again.
//
// It reads a kojid.conf-style file ([kojid] section, upstream's option
// names: server, serverca, cert, krb_principal, keytab, ccache, user,
// password, sleeptime, maxjobs, minspace, workdir, topurl, topdir,
// rpmbuild_timeout, use_fast_upload, log_level, and for the notification
// mails smtphost, from_addr, smtp_user, smtp_pass; and gokoji's maxload,
// the load average above which no task is taken, which kojid fixes at
// 4 × the CPUs); flags override it.
// kojid's command line options are there under its names (-c/--config,
// -s/--server, --topurl, --topdir, --workdir, --sleeptime, --maxjobs,
// --minspace, --user, --password, --force-lock, -v/--verbose,
// -d/--debug, -f/--fg), with -cert, -key, -serverca, -keytab and
// -principal for what kojid only reads from the file:
//
//	kojid -config /etc/kojid/kojid.conf
//	kojid -s https://koji.example.com/kojihub --topurl https://koji.example.com/kojifiles \
//		-cert host.pem -key host.key -serverca ca.pem
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/gokoji/gokoji/auth"
	"github.com/gokoji/gokoji/builder"
	"github.com/gokoji/gokoji/koji"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// After the first signal, which stops the builder gracefully, a
	// second one ends the process, as during kojid's shutdown.
	context.AfterFunc(ctx, stop)
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "kojid:", err)
		if errors.Is(err, builder.ErrRestart) {
			err = reexec()
			fmt.Fprintln(os.Stderr, "kojid: restart:", err)
			os.Exit(3) // a supervisor starts it again
		}
		os.Exit(1)
	}
}

// run runs the builder until ctx ends.
func run(ctx context.Context, args []string, stderr io.Writer) error {
	s, err := loadSettings(args, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: s.level}))
	p := koji.DefaultProfile()
	p.Server, p.ServerCA, p.Cert, p.UseFastUpload = s.server, s.serverCA, "", s.useFastUpload
	client, err := koji.NewClientFromProfile(p, koji.WithLogger(logger))
	if err != nil {
		return err
	}
	defer client.Close()
	a, err := s.authenticator()
	if err != nil {
		return err
	}
	fast := s.useFastUpload
	d, err := builder.New(builder.Config{
		Client: client, Auth: a, ForceLock: s.forceLock,
		SleepTime: s.sleepTime, MaxJobs: s.maxJobs, MinSpace: s.minSpace, MaxLoad: s.maxLoad, WorkDir: s.workDir,
		TopURL: s.topURL, UseFastUpload: &fast, Logger: logger,
	}, builder.Sleep{}, builder.Build{}, &builder.BuildArch{Timeout: s.rpmbuildTimeout}, builder.TagBuild{},
		builder.NewRepo{TopDir: s.topDir}, builder.Createrepo{TopDir: s.topDir},
		builder.DependantTask{}, builder.ChainBuild{}, builder.Waitrepo{},
		builder.RestartHosts{}, builder.Restart{}, builder.RestartVerify{},
		builder.TagNotification{Mail: s.mail}, builder.BuildNotification{Mail: s.mail})
	if err != nil {
		return err
	}
	return d.Run(ctx)
}

// authenticator is the login the settings ask for: a client certificate,
// else a keytab or credential cache, else a password.
func (s *settings) authenticator() (koji.Authenticator, error) {
	switch {
	case s.cert != "":
		return &auth.SSL{CertFile: s.cert, KeyFile: s.key}, nil
	case s.keytab != "" || s.principal != "":
		return &auth.GSSAPI{Principal: s.principal, Keytab: s.keytab, CCache: s.ccache}, nil
	case s.user != "":
		return &auth.Password{User: s.user, Password: s.password}, nil
	}
	return nil, errors.New("no login: give cert, keytab and krb_principal, or user and password")
}
