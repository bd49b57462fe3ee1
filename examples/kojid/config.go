package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/go-ini/ini"

	"github.com/gokoji/gokoji/builder"
)

// settings are the builder's settings, from kojid.conf and the flags.
type settings struct {
	server, serverCA          string
	cert, key                 string
	principal, keytab, ccache string
	user, password            string
	forceLock                 bool
	sleepTime                 time.Duration
	maxJobs                   int
	minSpace                  int64
	workDir, topURL           string
	topDir                    string
	rpmbuildTimeout           time.Duration
	useFastUpload             bool
	maxLoad                   float64 // gokoji's: kojid has 4 × CPUs fixed
	level                     slog.Level
	mail                      builder.Mail // smtphost, from_addr, smtp_user, smtp_pass
}

// ignored are kojid.conf options this builder accepts but does not use
// (it runs no mock, SCM checkouts or plugins; it always runs createrepo_c,
// afresh, and fails a build at its first failed arch).
var ignored = map[string]bool{
	"mockdir": true, "mockuser": true, "host_principal_format": true,
	"retry_interval": true, "max_retries": true, "offline_retry": true, "offline_retry_interval": true,
	"timeout": true, "allowed_scms": true, "allowed_scms_use_config": true, "allowed_scms_use_policy": true,
	"task_avail_delay": true, "buildroot_basic_cleanup_delay": true, "buildroot_final_cleanup_delay": true,
	"failed_buildroot_lifetime": true, "plugin": true, "plugins": true,
	"pluginpath": true, "packager": true, "vendor": true, "distribution": true, "mockhost": true,
	"admin_emails":  true,
	"no_ssl_verify": true, "serverca_path": true,
	"use_createrepo_c": true, "createrepo_skip_stat": true, "createrepo_update": true,
	"literal_task_arches": true, "build_arch_can_fail": true,
}

// loadSettings reads the flags and the file -config names; a flag given
// overrides the file. Unknown options in the file are an error, as for
// kojid.
func loadSettings(args []string, stderr io.Writer) (*settings, error) {
	fs := flag.NewFlagSet("kojid", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "kojid.conf-style `FILE` ([kojid] section)")
	fs.StringVar(config, "c", "", "short for -config")
	s := &settings{sleepTime: builder.DefaultSleepTime, maxJobs: builder.DefaultMaxJobs,
		minSpace: builder.DefaultMinSpace, workDir: builder.DefaultWorkDir, useFastUpload: true}
	server := fs.String("server", "", "hub `URL` (server)")
	fs.StringVar(server, "s", "", "short for -server")
	flags := map[string]*string{
		"server":        server,
		"serverca":      fs.String("serverca", "", "CA `FILE` of the hub's certificate (serverca)"),
		"topurl":        fs.String("topurl", "", "`URL` of the hub's files, as kojifiles serves them (topurl)"),
		"topdir":        fs.String("topdir", "", "`DIR` where the hub's files are mounted, for repos (topdir)"),
		"sleeptime":     fs.String("sleeptime", "", "polling interval in `SECONDS` (sleeptime; default 15)"),
		"minspace":      fs.String("minspace", "", "`MiB` of free space the work directory needs to take a task (minspace)"),
		"maxload":       fs.String("maxload", "", "1-minute load `AVERAGE` above which no task is taken; 0 is kojid's 4 × CPUs, negative no check (gokoji's maxload)"),
		"cert":          fs.String("cert", "", "client certificate `FILE` (PEM; with its key unless -key)"),
		"key":           fs.String("key", "", "client private key `FILE` (PEM)"),
		"keytab":        fs.String("keytab", "", "Kerberos keytab `FILE`"),
		"krb_principal": fs.String("principal", "", "Kerberos `PRINCIPAL`"),
		"user":          fs.String("user", "", "user `NAME` for a password login"),
		"password":      fs.String("password", "", "`PASSWORD` for a password login"),
		"workdir":       fs.String("workdir", "", "work `DIR`ectory (workdir)"),
		"log_level":     fs.String("log-level", "", "`LEVEL`: debug, info, warn or error"),
	}
	maxJobs := fs.Int("maxjobs", 0, "tasks run at once (maxjobs; default 10)")
	fs.BoolVar(&s.forceLock, "force-lock", false, "take over another exclusive session of the host")
	var verbose, debug, foreground bool
	for _, name := range []string{"verbose", "v"} {
		fs.BoolVar(&verbose, name, false, "log at info level (kojid's --verbose)")
	}
	for _, name := range []string{"debug", "d"} {
		fs.BoolVar(&debug, name, false, "log at debug level, over log_level (kojid's --debug)")
	}
	for _, name := range []string{"fg", "f"} {
		// kojid detaches without it; this builder always runs in the
		// foreground, under a supervisor or a shell.
		fs.BoolVar(&foreground, name, false, "run in the foreground (always so)")
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	values := map[string]string{}
	if *config != "" {
		f, err := ini.Load(*config)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		for _, k := range f.Section("kojid").Keys() {
			values[k.Name()] = k.Value()
		}
	}
	for name, v := range flags {
		if *v != "" {
			values[name] = *v
		}
	}
	if *maxJobs != 0 {
		values["maxjobs"] = fmt.Sprint(*maxJobs)
	}
	if err := s.apply(values); err != nil {
		return nil, err
	}
	switch {
	case debug:
		s.level = slog.LevelDebug
	case verbose:
		s.level = slog.LevelInfo
	}
	if s.server == "" {
		return nil, errors.New("no server: give -server or server in [kojid]")
	}
	return s, nil
}

// apply sets the settings from kojid.conf option values.
func (s *settings) apply(values map[string]string) error {
	for name, v := range values {
		var err error
		switch name {
		case "server":
			s.server = v
		case "serverca":
			s.serverCA = v
		case "cert":
			s.cert = v
		case "key":
			s.key = v
		case "krb_principal":
			s.principal = v
		case "keytab":
			s.keytab = v
		case "ccache":
			s.ccache = v
		case "user":
			s.user = v
		case "password":
			s.password = v
		case "workdir":
			s.workDir = v
		case "topurl":
			s.topURL = v
		case "topdir":
			s.topDir = v
		case "smtphost":
			s.mail.Host = v
		case "from_addr":
			s.mail.FromAddr = v
		case "smtp_user":
			s.mail.User = v
		case "smtp_pass":
			s.mail.Password = v
		case "rpmbuild_timeout":
			var secs float64
			if _, err = fmt.Sscan(v, &secs); err == nil && secs <= 0 {
				err = errors.New("not positive")
			}
			s.rpmbuildTimeout = time.Duration(secs * float64(time.Second))
		case "sleeptime":
			var secs float64
			if _, err = fmt.Sscan(v, &secs); err == nil && secs <= 0 {
				err = errors.New("not positive")
			}
			s.sleepTime = time.Duration(secs * float64(time.Second))
		case "maxjobs":
			if _, err = fmt.Sscan(v, &s.maxJobs); err == nil && s.maxJobs <= 0 {
				err = errors.New("not positive")
			}
		case "minspace":
			_, err = fmt.Sscan(v, &s.minSpace)
		case "maxload":
			_, err = fmt.Sscan(v, &s.maxLoad)
		case "use_fast_upload":
			s.useFastUpload, err = parseBool(v)
		case "log_level":
			// Python's logging level names, as kojid's getattr(logging, …)
			name := strings.ToUpper(strings.TrimPrefix(strings.ToLower(v), "logging."))
			switch name {
			case "WARNING":
				name = "WARN"
			case "CRITICAL", "FATAL":
				name = "ERROR"
			}
			err = s.level.UnmarshalText([]byte(name))
		default:
			if !ignored[name] {
				return fmt.Errorf("config: unknown option %q in [kojid]", name)
			}
		}
		if err != nil {
			return fmt.Errorf("config: %s = %q: %v", name, v, err)
		}
	}
	return nil
}

// parseBool reads a boolean as Python's configparser does.
func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "1", "yes", "true", "on":
		return true, nil
	case "0", "no", "false", "off":
		return false, nil
	}
	return false, errors.New("not a boolean")
}
