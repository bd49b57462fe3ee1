package builder

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gokoji/gokoji/koji"
)

// Config configures a Daemon. Fields named after a kojid.conf option
// (§D8) have its meaning, and its default when left zero.
type Config struct {
	// Client is the (anonymous) client for the hub: kojid.conf's server,
	// serverca, timeout and retry options are its profile's. Required.
	Client *koji.Client
	// Auth logs the daemon in: auth.SSL (cert), auth.GSSAPI (keytab,
	// krb_principal) or auth.Password (user, password). Required.
	Auth koji.Authenticator
	// ForceLock closes another exclusive session of the host's user when
	// logging in (kojid's --force-lock), such as the one a killed daemon
	// left; without it the login fails with AuthLockError.
	ForceLock bool

	// SleepTime (sleeptime, 15s) is the time between check-ins: how long
	// host.waitTasks waits for work, or how long the daemon sleeps
	// between host.getTasks polls on a hub without it.
	SleepTime time.Duration
	// MaxJobs (maxjobs, 10) is how many tasks run at once.
	MaxJobs int
	// MinSpace (minspace, 8192) is the free space in MiB the work
	// directory needs for the host to be ready; negative turns the check
	// off.
	MinSpace int64
	// WorkDir (workdir, /var/tmp/koji) holds each task's directory,
	// <workdir>/tasks/<id%10000>/<id>, made before the handler runs and
	// removed after. Its file system is the one MinSpace checks (kojid
	// checks mockdir; this builder runs no mock).
	WorkDir string
	// TopURL (topurl) is where the hub's files are served, for handlers
	// that download them; the daemon itself does not use it.
	TopURL string
	// UseFastUpload (use_fast_upload, true) sends files with the raw
	// upload; false asks the hub first, as upstream.
	UseFastUpload *bool
	// MaxLoad is the 1-minute load average above which the host is not
	// ready; zero means kojid's 4 × the CPUs online, negative no check.
	MaxLoad float64

	// CheckInterval is how often the daemon compares its running tasks
	// with what the hub says (host.getHostTasks, then getTaskInfo), to
	// stop the handler of a task canceled or reassigned, free stale
	// tasks, and wake waiters on a hub without host.taskWaitAny; 2s by
	// default. kojid does this once a loop.
	CheckInterval time.Duration
	// LogInterval is how often a task log (Task.Log) is sent while it is
	// written; 2s by default.
	LogInterval time.Duration
	// StopTimeout bounds the hub calls of a stop, so that a hub gone
	// cannot hold it up: the stopped tasks' last calls (sending their
	// logs, reporting a task that just ended, logging out their
	// subsessions) end at most StopTimeout after Stop begins, and the
	// daemon's own (freeing the tasks, checking in as not ready, logging
	// out) at most StopTimeout after the handlers ended; 3s by default.
	// A hub that answers needs milliseconds for them.
	StopTimeout time.Duration

	// Logger receives the daemon's logs; nil discards them.
	Logger *slog.Logger
}

// kojid.conf defaults (§D8) and gokoji's own.
const (
	DefaultSleepTime     = 15 * time.Second
	DefaultMaxJobs       = 10
	DefaultMinSpace      = 8192
	DefaultWorkDir       = "/var/tmp/koji"
	DefaultCheckInterval = 2 * time.Second
	DefaultLogInterval   = 2 * time.Second
	DefaultStopTimeout   = 3 * time.Second
)

// withDefaults checks c and fills in its zero fields.
func (c Config) withDefaults() (Config, error) {
	if c.Client == nil {
		return c, errors.New("builder: Config.Client is required")
	}
	if c.Auth == nil {
		return c, errors.New("builder: Config.Auth is required")
	}
	if c.SleepTime < 0 || c.CheckInterval < 0 || c.LogInterval < 0 || c.StopTimeout < 0 || c.MaxJobs < 0 {
		return c, fmt.Errorf("builder: negative sleeptime, maxjobs, CheckInterval, LogInterval or StopTimeout")
	}
	if c.SleepTime == 0 {
		c.SleepTime = DefaultSleepTime
	}
	if c.MaxJobs == 0 {
		c.MaxJobs = DefaultMaxJobs
	}
	if c.MinSpace == 0 {
		c.MinSpace = DefaultMinSpace
	}
	if c.WorkDir == "" {
		c.WorkDir = DefaultWorkDir
	}
	if c.CheckInterval == 0 {
		c.CheckInterval = DefaultCheckInterval
	}
	if c.LogInterval == 0 {
		c.LogInterval = DefaultLogInterval
	}
	if c.StopTimeout == 0 {
		c.StopTimeout = DefaultStopTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}
