// Package estimates predicts how long Koji builds take and when tasks
// will finish, following txkoji's estimates: a package's build duration
// is the hub's average (getAverageBuildDuration), or, for packages that
// average does not serve, such as containers, a statistic of its last
// complete builds; a task finishes when it started plus its package's
// build duration, and a build task when its newest running buildArch
// subtask does.
//
// The last builds give a mean, as upstream computes, and a median, which
// one outlier build (a stuck builder, a build retried for hours) barely
// moves; Estimator.Statistic chooses which of the two estimates use.
package estimates

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/multicall"
	"golang.org/x/sync/errgroup"
)

// Defaults of the Estimator's settings.
const (
	// DefaultLastBuilds is how many complete builds a package's last
	// builds estimate looks at, as txkoji's average_last_builds does.
	DefaultLastBuilds = 5
	// DefaultPollInterval is how long a builder may take to pick up a
	// task: kojid's sleeptime, which txkoji takes as 45 s (the setting of
	// Red Hat's builders; kojid's own default is 15 s).
	DefaultPollInterval = 45 * time.Second
)

// tagBuildWork is what a tagBuild task takes once a builder picked it up,
// by txkoji's guess.
const tagBuildWork = 15 * time.Second

var (
	// ErrNoClient reports an Estimator without a Client.
	ErrNoClient = errors.New("estimates: the Estimator has no Client")
	// ErrNilInput reports a nil task or build.
	ErrNilInput = errors.New("estimates: nil task or build")
	// ErrNoPackage reports a task that builds no package, such as newRepo:
	// there is no build history to estimate it from.
	ErrNoPackage = errors.New("estimates: the task builds no package")
	// ErrNoHistory reports a package without a complete build to estimate
	// from, or one the hub does not know.
	ErrNoHistory = errors.New("estimates: no complete build to estimate from")
	// ErrNoDescendents reports a build or image task without an open
	// buildArch or createImage subtask, txkoji's NoDescendentsError: its
	// subtasks are waiting for a builder, or it is making its SRPM or
	// tagging its build. Try again later.
	ErrNoDescendents = errors.New("estimates: no open subtask to estimate from")
	// ErrChannelFull matches a *ChannelFullError.
	ErrChannelFull = errors.New("estimates: the channel has no free capacity")
	// ErrMissingTime reports a task or build the hub sent without the
	// start or completion time its state implies.
	ErrMissingTime = errors.New("estimates: a time the estimate needs is missing")
)

// A ChannelFullError reports a free task whose channel's open tasks
// already use the capacity of all its enabled hosts, so that when it
// starts depends on when they finish, which txkoji does not estimate
// either (its NotImplementedError). It matches ErrChannelFull.
type ChannelFullError struct {
	TaskID    int
	ChannelID int
	// Capacity is the sum of the capacities of the channel's enabled
	// hosts; OpenWeight the sum of the weights of its open tasks.
	Capacity   float64
	OpenWeight float64
}

func (e *ChannelFullError) Error() string {
	return fmt.Sprintf("estimates: task %d waits in channel %d, whose open tasks weigh %g of a capacity of %g",
		e.TaskID, e.ChannelID, e.OpenWeight, e.Capacity)
}

// Is reports whether target is ErrChannelFull.
func (e *ChannelFullError) Is(target error) bool { return target == ErrChannelFull }

// A Statistic is how a package's last build durations become one
// estimate.
type Statistic int

const (
	// Median is the middle duration, or the mean of the two middle ones:
	// one build far longer than the others barely moves it. The default.
	Median Statistic = iota
	// Mean is the arithmetic mean, as txkoji computes it.
	Mean
)

// String returns "mean" or "median".
func (s Statistic) String() string {
	switch s {
	case Mean:
		return "mean"
	case Median:
		return "median"
	}
	return fmt.Sprintf("Statistic(%d)", int(s))
}

// Durations summarise the durations of a set of builds.
type Durations struct {
	// Count is how many builds were measured; the other fields are zero
	// when it is.
	Count  int
	Mean   time.Duration
	Median time.Duration
}

// Of returns the statistic s of the durations; an unknown Statistic gives
// the median.
func (d Durations) Of(s Statistic) time.Duration {
	if s == Mean {
		return d.Mean
	}
	return d.Median
}

// Measure returns the statistics of the builds' durations (Build.Duration
// at now), leaving out builds without a start time. Like Python's
// timedelta arithmetic in txkoji, the mean and a median between two
// durations are rounded to the microsecond, halves to even.
func Measure(builds []*koji.Build, now time.Time) Durations {
	var ds []time.Duration
	for _, b := range builds {
		if b == nil {
			continue
		}
		if d, ok := b.Duration(now); ok {
			ds = append(ds, d)
		}
	}
	if len(ds) == 0 {
		return Durations{}
	}
	var total time.Duration
	for _, d := range ds {
		total += d
	}
	slices.Sort(ds)
	median := ds[len(ds)/2]
	if len(ds)%2 == 0 {
		median = divide(ds[len(ds)/2-1]+ds[len(ds)/2], 2)
	}
	return Durations{Count: len(ds), Mean: divide(total, len(ds)), Median: median}
}

// divide is timedelta / n: rounded to the microsecond, halves to even.
func divide(d time.Duration, n int) time.Duration {
	us := math.RoundToEven(float64(d) / float64(time.Microsecond) / float64(n))
	return time.Duration(us) * time.Microsecond
}

// IsContainer reports whether pkg names a container image ("-container"
// at its end, as txkoji derives names for buildContainer tasks), whose
// durations the hub's average does not serve.
func IsContainer(pkg string) bool { return strings.HasSuffix(pkg, "-container") }

// An Estimator estimates build durations and completion times from a
// hub's records. Its zero settings are txkoji's, but for Statistic. It is safe for
// concurrent use when its fields are not changed meanwhile.
type Estimator struct {
	Client *koji.Client

	// Statistic chooses the statistic of last builds that estimates use:
	// by default the median, so that one outlier build does not move an
	// estimate by hours (txkoji uses the mean). The hub's average is
	// always a mean.
	Statistic Statistic
	// LastBuilds is how many complete builds the last builds estimate
	// looks at; zero means DefaultLastBuilds.
	LastBuilds int
	// FromLastBuilds reports whether a package's duration is estimated
	// from its last builds rather than the hub's average; nil means
	// IsContainer, as txkoji decides.
	FromLastBuilds func(pkg string) bool
	// PollInterval is how long a builder may take to pick up a task
	// (kojid's sleeptime); zero means DefaultPollInterval.
	PollInterval time.Duration
	// Batch sets how AverageBuildDurations splits its multicalls
	// (BatchSize, MaxRequestBytes, Concurrency); Strict is ignored, since
	// each package reports its own error.
	Batch *multicall.Options
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (e *Estimator) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Estimator) lastBuilds() int {
	if e.LastBuilds > 0 {
		return e.LastBuilds
	}
	return DefaultLastBuilds
}

func (e *Estimator) pollInterval() time.Duration {
	if e.PollInterval > 0 {
		return e.PollInterval
	}
	return DefaultPollInterval
}

func (e *Estimator) fromLastBuilds(pkg string) bool {
	if e.FromLastBuilds != nil {
		return e.FromLastBuilds(pkg)
	}
	return IsContainer(pkg)
}

func (e *Estimator) client() (*koji.Client, error) {
	if e.Client == nil {
		return nil, ErrNoClient
	}
	return e.Client, nil
}

// lastBuildsQuery selects a package's last n complete builds, newest
// first, as txkoji's average_last_builds does.
func lastBuildsQuery(packageID, n int) *koji.ListBuildsOptions {
	complete := koji.BuildComplete
	return &koji.ListBuildsOptions{
		PackageID: packageID,
		State:     &complete,
		QueryOpts: &koji.QueryOpts{Limit: n, Order: "-completion_time"},
	}
}

// AverageBuildDuration returns how long a build of pkg takes: the
// Estimator's Statistic of its last builds when FromLastBuilds says so
// (containers, by default), else the hub's average (getAverageBuildDuration,
// from creation to completion). ok is false when the hub does not know
// the package or it has no complete build.
func (e *Estimator) AverageBuildDuration(ctx context.Context, pkg string) (d time.Duration, ok bool, err error) {
	c, err := e.client()
	if err != nil {
		return 0, false, err
	}
	if e.fromLastBuilds(pkg) {
		ds, ok, err := e.LastBuildsDuration(ctx, pkg, 0)
		return ds.Of(e.Statistic), ok, err
	}
	return c.GetAverageBuildDuration(ctx, pkg, nil)
}

// LastBuildsDuration returns the statistics of the durations, from start
// to completion, of the last n complete builds of pkg (getPackage, then
// listBuilds newest first); n <= 0 means the Estimator's LastBuilds. ok is
// false when the hub does not know the package or it has no complete
// build.
func (e *Estimator) LastBuildsDuration(ctx context.Context, pkg string, n int) (d Durations, ok bool, err error) {
	c, err := e.client()
	if err != nil {
		return Durations{}, false, err
	}
	if n <= 0 {
		n = e.lastBuilds()
	}
	// The package's ID, not its name: older hubs take only IDs in
	// listBuilds, and newer ones fault on an unknown name.
	p, err := c.GetPackage(ctx, pkg, nil)
	if err != nil || p == nil {
		return Durations{}, false, err
	}
	builds, err := c.ListBuilds(ctx, lastBuildsQuery(p.ID, n))
	if err != nil {
		return Durations{}, false, err
	}
	d = Measure(builds, e.now())
	return d, d.Count > 0, nil
}

// An Estimate is one package's build duration, as AverageBuildDurations
// returns it.
type Estimate struct {
	Package string
	// Duration is the estimate; OK is false when there is none: the hub
	// does not know the package, or it has no complete build.
	Duration time.Duration
	OK       bool
	// LastBuilds holds the statistics of the last builds, for packages
	// estimated from them; its Count is zero for the hub's averages.
	LastBuilds Durations
	// Err is this package's own failure, such as a *koji.Fault; it leaves
	// the other packages' estimates alone.
	Err error
}

// AverageBuildDurations returns AverageBuildDuration for many packages at
// once, in the order given. Packages the hub averages are asked for in
// one multicall; those estimated from their last builds in a multicall of
// getPackage and then one of listBuilds, as txkoji does for containers;
// the two kinds may be mixed (txkoji refuses) and are asked for
// concurrently. A package named twice is asked for once. The error is
// that of a request that failed, or ctx's; a package's own fault is in
// its Estimate.
func (e *Estimator) AverageBuildDurations(ctx context.Context, pkgs []string) ([]Estimate, error) {
	c, err := e.client()
	if err != nil {
		return nil, err
	}
	out := make([]Estimate, len(pkgs))
	var hubNames, lastNames []string
	seen := map[string]bool{}
	for i, pkg := range pkgs {
		out[i].Package = pkg
		switch {
		case pkg == "":
			out[i].Err = &koji.RefError{Method: "getAverageBuildDuration", Argument: "package", Value: pkg}
		case seen[pkg]:
		case e.fromLastBuilds(pkg):
			lastNames = append(lastNames, pkg)
		default:
			hubNames = append(hubNames, pkg)
		}
		seen[pkg] = true
	}
	var fromHub, fromLast map[string]Estimate
	g, gctx := errgroup.WithContext(ctx)
	if len(hubNames) > 0 {
		g.Go(func() (err error) {
			fromHub, err = e.hubAverages(gctx, c, hubNames)
			return err
		})
	}
	if len(lastNames) > 0 {
		g.Go(func() (err error) {
			fromLast, err = e.lastBuildsAverages(gctx, c, lastNames)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for i := range out {
		if est, ok := fromHub[out[i].Package]; ok {
			out[i] = est
		} else if est, ok := fromLast[out[i].Package]; ok {
			out[i] = est
		}
	}
	return out, nil
}

func (e *Estimator) batch(c *koji.Client) *multicall.Batch {
	var opts multicall.Options
	if e.Batch != nil {
		opts = *e.Batch
	}
	opts.Strict = false
	return multicall.New(c, &opts)
}

// hubAverages asks for the hub's average of each package in one multicall.
func (e *Estimator) hubAverages(ctx context.Context, c *koji.Client, names []string) (map[string]Estimate, error) {
	b := e.batch(c)
	results := make([]*multicall.Result[*float64], len(names))
	for i, name := range names {
		results[i] = multicall.Add[*float64](b, "getAverageBuildDuration", name)
	}
	if err := b.Run(ctx); err != nil {
		return nil, err
	}
	out := make(map[string]Estimate, len(names))
	for i, name := range names {
		est := Estimate{Package: name}
		secs, err := results[i].Value()
		switch {
		case err != nil:
			est.Err = err
		case secs != nil:
			est.Duration, est.OK = time.Duration(*secs*float64(time.Second)), true
		}
		out[name] = est
	}
	return out, nil
}

// lastBuildsAverages looks the packages up in one multicall and lists the
// last builds of those found in another.
func (e *Estimator) lastBuildsAverages(ctx context.Context, c *koji.Client, names []string) (map[string]Estimate, error) {
	lookups := e.batch(c)
	found := make([]*multicall.Result[*koji.Package], len(names))
	for i, name := range names {
		found[i] = multicall.Add[*koji.Package](lookups, "getPackage", name)
	}
	if err := lookups.Run(ctx); err != nil {
		return nil, err
	}
	out := make(map[string]Estimate, len(names))
	listings := e.batch(c)
	lists := make([]*multicall.Result[[]*koji.Build], len(names))
	for i, name := range names {
		p, err := found[i].Value()
		switch {
		case err != nil:
			out[name] = Estimate{Package: name, Err: err}
		case p == nil:
			out[name] = Estimate{Package: name}
		default:
			lists[i] = multicall.AddKw[[]*koji.Build](listings, "listBuilds", nil, lastBuildsQuery(p.ID, e.lastBuilds()))
		}
	}
	if err := listings.Run(ctx); err != nil {
		return nil, err
	}
	now := e.now()
	for i, name := range names {
		if lists[i] == nil {
			continue
		}
		est := Estimate{Package: name}
		if builds, err := lists[i].Value(); err != nil {
			est.Err = err
		} else {
			est.LastBuilds = Measure(builds, now)
			est.Duration, est.OK = est.LastBuilds.Of(e.Statistic), est.LastBuilds.Count > 0
		}
		out[name] = est
	}
	return out, nil
}
