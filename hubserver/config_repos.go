package hubserver

import "time"

// RepoConfig configures the hub's repos (§E9): upstream's hub.conf repo
// options, and the queue worker that stands in for kojira's
// repo.checkQueue loop.
type RepoConfig struct {
	// DisableNewRepo refuses newRepo with ActionNotAllowed "newRepo api
	// call is disabled" (upstream's AllowNewRepo = False). By default
	// newRepo is allowed, as upstream allows it.
	DisableNewRepo bool
	// RepoLag is how old a repo a request may be satisfied with, unless
	// the tag's extra repo.lag says otherwise (seconds there); default
	// one hour, as upstream's RepoLag; negative for none.
	RepoLag time.Duration
	// RepoAutoLag is the same for the requests the hub makes itself for
	// tags with repo.auto; default two hours, as upstream's RepoAutoLag;
	// negative for none.
	RepoAutoLag time.Duration
	// RepoLagWindow rounds the lagged time down to a multiple of itself,
	// so that requests made close together ask for the same event;
	// default ten minutes, as upstream's RepoLagWindow.
	RepoLagWindow time.Duration
	// MaxRepoTasks is how many newRepo tasks the queue keeps running at
	// once; default 10, as upstream's MaxRepoTasks.
	MaxRepoTasks int
	// MaxRepoTasksMaven is the same for maven repos; default 2.
	MaxRepoTasksMaven int
	// RepoRetries is how many times a request whose task failed gets a
	// new task; default 3, as upstream's RepoRetries; negative for none.
	RepoRetries int
	// RequestCleanTime is how long fulfilled or abandoned requests stay
	// in the queue; default one day, as upstream's RequestCleanTime.
	RequestCleanTime time.Duration
	// RepoQueueUser owns the newRepo tasks the queue creates when such a
	// user exists; default "kojira", as upstream's RepoQueueUser. Without
	// it, the task is owned by the user who made the request (upstream's
	// task belongs to the kojira session calling repo.checkQueue).
	RepoQueueUser string
	// DebuginfoTags, SourceTags and SeparateSourceTags are glob patterns
	// of the tags whose repos include debuginfo, sources, or a separate
	// source repo by default (upstream's options of the same names).
	DebuginfoTags      []string
	SourceTags         []string
	SeparateSourceTags []string

	// DisableRepoWorker stops the hub from running the request queue
	// itself: then only repo.checkQueue (kojira's loop) turns requests
	// into newRepo tasks.
	DisableRepoWorker bool
	// WorkerInterval is how often the worker looks at the queue when
	// nothing wakes it; default 5s. A request made or a newRepo task
	// finished through this hub wakes it at once.
	WorkerInterval time.Duration
}

// Upstream's defaults of the repo options.
const (
	DefaultRepoLag           = time.Hour
	DefaultRepoAutoLag       = 2 * time.Hour
	DefaultRepoLagWindow     = 10 * time.Minute
	DefaultMaxRepoTasks      = 10
	DefaultMaxRepoTasksMaven = 2
	DefaultRepoRetries       = 3
	DefaultRequestCleanTime  = 24 * time.Hour
	DefaultRepoQueueUser     = "kojira"
	DefaultWorkerInterval    = 5 * time.Second
)

// withDefaults fills the unset fields with upstream's defaults.
func (c RepoConfig) withDefaults() RepoConfig {
	c.RepoLag = orDefault(c.RepoLag, DefaultRepoLag)
	c.RepoAutoLag = orDefault(c.RepoAutoLag, DefaultRepoAutoLag)
	if c.RepoLagWindow <= 0 {
		c.RepoLagWindow = DefaultRepoLagWindow
	}
	if c.MaxRepoTasks == 0 {
		c.MaxRepoTasks = DefaultMaxRepoTasks
	}
	if c.MaxRepoTasksMaven == 0 {
		c.MaxRepoTasksMaven = DefaultMaxRepoTasksMaven
	}
	if c.RepoRetries == 0 {
		c.RepoRetries = DefaultRepoRetries
	}
	if c.RequestCleanTime == 0 {
		c.RequestCleanTime = DefaultRequestCleanTime
	}
	if c.RepoQueueUser == "" {
		c.RepoQueueUser = DefaultRepoQueueUser
	}
	if c.WorkerInterval <= 0 {
		c.WorkerInterval = DefaultWorkerInterval
	}
	return c
}

// orDefault is a lag: the default when unset, none when negative.
func orDefault(lag, def time.Duration) time.Duration {
	switch {
	case lag == 0:
		return def
	case lag < 0:
		return 0
	}
	return lag
}
