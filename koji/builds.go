package koji

import (
	"context"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/gokoji/gokoji/xmlrpc"
)

// A Build is a build as getBuild and listBuilds return it. Members the hub
// sends as nil leave pointers nil and other fields at their zero value:
// "" for a build without source, a zero time for one not completed.
type Build struct {
	// ID is the build's ID (build_id; getBuild also sends it as id).
	ID          int    `xmlrpc:"build_id"`
	PackageID   int    `xmlrpc:"package_id"`
	PackageName string `xmlrpc:"package_name"`
	Name        string `xmlrpc:"name"` // the package name
	Version     string `xmlrpc:"version"`
	Release     string `xmlrpc:"release"`
	Epoch       *int   `xmlrpc:"epoch"`
	NVR         string `xmlrpc:"nvr"`

	State BuildState `xmlrpc:"state"`
	Draft bool       `xmlrpc:"draft"`
	// TaskID is the task that made the build; nil for imports and content
	// generator builds. KojiTaskID also finds the task of OSBS builds.
	TaskID    *int   `xmlrpc:"task_id"`
	OwnerID   int    `xmlrpc:"owner_id"`
	OwnerName string `xmlrpc:"owner_name"`
	// Source is the SCM URL the build was made from, if recorded.
	Source     string         `xmlrpc:"source"`
	VolumeID   int            `xmlrpc:"volume_id"`
	VolumeName string         `xmlrpc:"volume_name"`
	Extra      map[string]any `xmlrpc:"extra"`

	// Times, as the hub's timestamp strings and, where it sends them, as
	// float seconds since the epoch (the *TS fields), which Created,
	// Started and Completed prefer. listTagged sends no *_ts members.
	CreationEventID int       `xmlrpc:"creation_event_id"`
	CreationTime    time.Time `xmlrpc:"creation_time"`
	CreationTS      float64   `xmlrpc:"creation_ts"`
	StartTime       time.Time `xmlrpc:"start_time"`
	StartTS         *float64  `xmlrpc:"start_ts"`
	CompletionTime  time.Time `xmlrpc:"completion_time"`
	CompletionTS    *float64  `xmlrpc:"completion_ts"`

	// Draft builds (Koji 1.34 and later) are promoted into normal ones.
	PromotionTime time.Time `xmlrpc:"promotion_time"`
	PromotionTS   *float64  `xmlrpc:"promotion_ts"`
	PromoterID    *int      `xmlrpc:"promoter_id"`
	PromoterName  string    `xmlrpc:"promoter_name"`

	// The content generator that imported the build, if any (getBuild).
	CGID   *int   `xmlrpc:"cg_id"`
	CGName string `xmlrpc:"cg_name"`
}

// A TaggedBuild is a build as listTagged and getLatestBuilds return it:
// the build, and the tag it was found in.
type TaggedBuild struct {
	Build
	TagID   int    `xmlrpc:"tag_id"`
	TagName string `xmlrpc:"tag_name"`
	// CreateEvent is the event at which the build was tagged.
	CreateEvent int `xmlrpc:"create_event"`
}

// Label is "name-version-release", as upstream's buildLabel writes it and
// the CLI shows builds.
func (b *Build) Label() string {
	name := b.PackageName
	if name == "" {
		name = b.Name
	}
	return name + "-" + b.Version + "-" + b.Release
}

// LabelWithEpoch is Label with "epoch:" in front when the build has an
// epoch: "2:bar-2.0-3.el9".
func (b *Build) LabelWithEpoch() string {
	if b.Epoch == nil {
		return b.Label()
	}
	return strconv.Itoa(*b.Epoch) + ":" + b.Label()
}

// Created is when the build was created, in UTC.
func (b *Build) Created() time.Time {
	if b.CreationTS != 0 {
		return tsTime(b.CreationTS)
	}
	return b.CreationTime.UTC()
}

// Started is when the build started, in UTC; ok is false when the hub did
// not record it.
func (b *Build) Started() (t time.Time, ok bool) { return buildTime(b.StartTS, b.StartTime) }

// Completed is when the build completed (or failed, or was canceled), in
// UTC; ok is false while it is building.
func (b *Build) Completed() (t time.Time, ok bool) {
	return buildTime(b.CompletionTS, b.CompletionTime)
}

func buildTime(ts *float64, t time.Time) (time.Time, bool) {
	switch {
	case ts != nil:
		return tsTime(*ts), true
	case !t.IsZero():
		return t.UTC(), true
	}
	return time.Time{}, false
}

// Duration is how long the build took, or for a build not completed, how
// long it has been running at now. ok is false when it has no start time.
func (b *Build) Duration(now time.Time) (d time.Duration, ok bool) {
	start, ok := b.Started()
	if !ok {
		return 0, false
	}
	end, done := b.Completed()
	if !done {
		end = now
	}
	return end.Sub(start), true
}

// GitHash is the text after the last "#" of the build's source URL, which
// for a build from git is the commit it was made from; "" when the source
// has no "#".
func (b *Build) GitHash() string {
	i := strings.LastIndexByte(b.Source, '#')
	if i < 0 {
		return ""
	}
	return b.Source[i+1:]
}

// KojiTaskID returns the task that made the build: TaskID, or for
// container builds made through OSBS, which record no task_id, the
// container_koji_task_id member of Extra.
func (b *Build) KojiTaskID() (id int, ok bool) {
	if b.TaskID != nil {
		return *b.TaskID, true
	}
	switch v := b.Extra["container_koji_task_id"].(type) {
	case int64:
		return int(v), true
	case float64:
		if v == float64(int(v)) {
			return int(v), true
		}
	case string:
		if n, err := strconv.Atoi(v); err == nil {
			return n, true
		}
	}
	return 0, false
}

// URL is the build's kojiweb page under weburl.
func (b *Build) URL(weburl string) string { return webPage(weburl, "buildinfo", "buildID", b.ID) }

// GetBuildOptions are the options of GetBuild.
type GetBuildOptions struct {
	// Strict makes a missing build a GenericError fault instead of nil.
	Strict bool `xmlrpc:"strict,omitempty"`
}

// GetBuild returns a build by ID or NVR ("name-version-release") (getBuild),
// or nil when there is none.
func (c *Client) GetBuild(ctx context.Context, build NameOrID, opts *GetBuildOptions) (*Build, error) {
	if err := checkRef("getBuild", "buildInfo", build); err != nil {
		return nil, err
	}
	var b *Build
	if err := c.CallKw(ctx, "getBuild", &b, []any{build}, opts); err != nil {
		return nil, err
	}
	return b, nil
}

// ListBuildsOptions are the filters of ListBuilds; unset ones do not
// filter. Times are sent as seconds since the epoch.
type ListBuildsOptions struct {
	PackageID NameOrID `xmlrpc:"packageID,omitempty"` // a package ID or name
	UserID    NameOrID `xmlrpc:"userID,omitempty"`    // the owner's ID or name
	// TaskID keeps the build made by that task; -1 keeps every build made
	// by a task.
	TaskID int         `xmlrpc:"taskID,omitempty"`
	Prefix string      `xmlrpc:"prefix,omitempty"` // package name prefix
	State  *BuildState `xmlrpc:"state,omitempty"`
	// VolumeID is a pointer because the default volume's ID is 0.
	VolumeID *int   `xmlrpc:"volumeID,omitempty"`
	Source   string `xmlrpc:"source,omitempty"` // a glob on the source URL

	CreatedBefore  time.Time `xmlrpc:"-"`
	CreatedAfter   time.Time `xmlrpc:"-"`
	CompleteBefore time.Time `xmlrpc:"-"`
	CompleteAfter  time.Time `xmlrpc:"-"`

	// Type keeps builds of that build type, such as "maven" or "image";
	// TypeInfo filters on its type-specific data.
	Type      string         `xmlrpc:"type,omitempty"`
	TypeInfo  map[string]any `xmlrpc:"typeInfo,omitempty"`
	QueryOpts *QueryOpts     `xmlrpc:"queryOpts,omitempty"`
	Pattern   string         `xmlrpc:"pattern,omitempty"` // a glob on the NVR
	CGID      NameOrID       `xmlrpc:"cgID,omitempty"`    // a content generator ID or name
	// Draft keeps only draft builds when true and only others when false.
	Draft *bool `xmlrpc:"draft,omitempty"`

	PromotedBefore time.Time `xmlrpc:"-"`
	PromotedAfter  time.Time `xmlrpc:"-"`
	Promoter       NameOrID  `xmlrpc:"promoter,omitempty"` // a user ID or name
}

// listBuildsArgs is ListBuildsOptions as sent, with its times as floats.
type listBuildsArgs struct {
	ListBuildsOptions
	CreatedBefore  *float64 `xmlrpc:"createdBefore,omitempty"`
	CreatedAfter   *float64 `xmlrpc:"createdAfter,omitempty"`
	CompleteBefore *float64 `xmlrpc:"completeBefore,omitempty"`
	CompleteAfter  *float64 `xmlrpc:"completeAfter,omitempty"`
	PromotedBefore *float64 `xmlrpc:"promotedBefore,omitempty"`
	PromotedAfter  *float64 `xmlrpc:"promotedAfter,omitempty"`
}

// ListBuilds returns the builds that pass the filters (listBuilds). The
// hub reads the whole result into memory: ListBuildsIter pages through
// big ones.
func (c *Client) ListBuilds(ctx context.Context, opts *ListBuildsOptions) ([]*Build, error) {
	if opts == nil {
		opts = &ListBuildsOptions{}
	}
	const m = "listBuilds"
	if err := refErr(checkOptionalRef(m, "packageID", opts.PackageID), checkOptionalRef(m, "userID", opts.UserID),
		checkOptionalRef(m, "cgID", opts.CGID), checkOptionalRef(m, "promoter", opts.Promoter)); err != nil {
		return nil, err
	}
	args := listBuildsArgs{
		ListBuildsOptions: *opts,
		CreatedBefore:     timeTS(opts.CreatedBefore), CreatedAfter: timeTS(opts.CreatedAfter),
		CompleteBefore: timeTS(opts.CompleteBefore), CompleteAfter: timeTS(opts.CompleteAfter),
		PromotedBefore: timeTS(opts.PromotedBefore), PromotedAfter: timeTS(opts.PromotedAfter),
	}
	var builds []*Build
	if err := c.CallKw(ctx, m, &builds, nil, &args); err != nil {
		return nil, err
	}
	return builds, nil
}

// ListBuildsIter iterates over what ListBuilds returns, asking the hub for
// a thousand builds at a time. The options' QueryOpts set where to start
// (Offset), how many builds to yield in all (Limit) and the order, by
// build ID when unset so that pages do not overlap. Iteration stops at
// the first error, which it yields.
func (c *Client) ListBuildsIter(ctx context.Context, opts *ListBuildsOptions) iter.Seq2[*Build, error] {
	var o ListBuildsOptions
	if opts != nil {
		o = *opts
	}
	return pages(o.QueryOpts, "build_id", func(q *QueryOpts) ([]*Build, error) {
		page := o
		page.QueryOpts = q
		return c.ListBuilds(ctx, &page)
	})
}

// ListTaggedOptions are the options of ListTagged.
type ListTaggedOptions struct {
	// Latest keeps the Latest most recently tagged builds of each package;
	// 1 is the CLI's --latest, 0 keeps all.
	Latest int `xmlrpc:"-"`
	// Inherit also lists the builds of the tag's ancestors, in inheritance
	// order.
	Inherit bool     `xmlrpc:"inherit,omitempty"`
	Event   int      `xmlrpc:"event,omitempty"` // the tag as it was at that event
	Prefix  string   `xmlrpc:"prefix,omitempty"`
	Package string   `xmlrpc:"package,omitempty"` // a package name
	Owner   NameOrID `xmlrpc:"owner,omitempty"`   // a user ID or name
	Type    string   `xmlrpc:"type,omitempty"`    // a build type, such as "maven"
	// Strict set to false makes a missing tag an empty list instead of a
	// GenericError fault.
	Strict *bool `xmlrpc:"strict,omitempty"`
	Extra  bool  `xmlrpc:"extra,omitempty"` // also send each build's extra
	Draft  *bool `xmlrpc:"draft,omitempty"` // only drafts (true) or non-drafts (false)
}

// listTaggedArgs is ListTaggedOptions as sent: latest as true for 1, as
// the CLI sends it, and as the count otherwise.
type listTaggedArgs struct {
	Latest any `xmlrpc:"latest,omitempty"`
	ListTaggedOptions
}

func latestArg(n int) any {
	switch {
	case n == 1:
		return true
	case n > 1:
		return n
	}
	return nil
}

// ListTagged returns the builds tagged in tag, most recently tagged first
// (listTagged); only complete builds are tagged.
func (c *Client) ListTagged(ctx context.Context, tag NameOrID, opts *ListTaggedOptions) ([]*TaggedBuild, error) {
	args, err := listTaggedCall(tag, opts)
	if err != nil {
		return nil, err
	}
	var builds []*TaggedBuild
	if err := c.CallKw(ctx, "listTagged", &builds, []any{tag}, args); err != nil {
		return nil, err
	}
	return builds, nil
}

func listTaggedCall(tag NameOrID, opts *ListTaggedOptions) (*listTaggedArgs, error) {
	if opts == nil {
		opts = &ListTaggedOptions{}
	}
	const m = "listTagged"
	if err := refErr(checkRef(m, "tag", tag), checkOptionalRef(m, "owner", opts.Owner)); err != nil {
		return nil, err
	}
	return &listTaggedArgs{Latest: latestArg(opts.Latest), ListTaggedOptions: *opts}, nil
}

// ListTaggedIter yields what ListTagged returns as the reply arrives, in
// memory bounded by one build rather than the whole reply: listTagged on a
// distribution tag answers with tens of megabytes. A failure after the
// first build is yielded ends the iteration with the error, unretried.
func (c *Client) ListTaggedIter(ctx context.Context, tag NameOrID, opts *ListTaggedOptions) iter.Seq2[*TaggedBuild, error] {
	return func(yield func(*TaggedBuild, error) bool) {
		args, err := listTaggedCall(tag, opts)
		if err != nil {
			yield(nil, err)
			return
		}
		stopped := false
		err = c.StreamKw(ctx, "listTagged", []any{tag}, args, func(arr *xmlrpc.ArrayReader) error {
			for arr.Next() {
				b := new(TaggedBuild)
				if err := arr.Decode(b); err != nil {
					return err
				}
				if !yield(b, nil) {
					stopped = true
					return nil
				}
			}
			return nil
		})
		if err != nil && !stopped {
			yield(nil, err)
		}
	}
}

// GetLatestBuildsOptions are the options of GetLatestBuilds.
type GetLatestBuildsOptions struct {
	Event   int    `xmlrpc:"event,omitempty"`
	Package string `xmlrpc:"package,omitempty"` // a package name
	Type    string `xmlrpc:"type,omitempty"`
	Draft   *bool  `xmlrpc:"draft,omitempty"`
}

// GetLatestBuilds returns the latest build of each package in tag,
// following inheritance (getLatestBuilds, as ListTagged with Inherit and
// Latest 1): the most recently tagged, not the highest version.
func (c *Client) GetLatestBuilds(ctx context.Context, tag NameOrID, opts *GetLatestBuildsOptions) ([]*TaggedBuild, error) {
	if err := checkRef("getLatestBuilds", "tag", tag); err != nil {
		return nil, err
	}
	var builds []*TaggedBuild
	if err := c.CallKw(ctx, "getLatestBuilds", &builds, []any{tag}, opts); err != nil {
		return nil, err
	}
	return builds, nil
}

// BuildOptions are the options of Build: the build task's options (the
// hub's opts), then the call's own priority and channel.
type BuildOptions struct {
	Scratch bool `xmlrpc:"scratch,omitempty"`
	// SkipTag leaves the build out of the target's destination tag.
	SkipTag bool `xmlrpc:"skip_tag,omitempty"`
	// ArchOverride limits a scratch build to these arches, space-separated.
	ArchOverride string `xmlrpc:"arch_override,omitempty"`
	RepoID       int    `xmlrpc:"repo_id,omitempty"` // build in this repository
	// FailFast fails the build at the first failed arch.
	FailFast bool `xmlrpc:"fail_fast,omitempty"`
	// WaitRepo waits for a repository that is current, and WaitBuilds for
	// one that holds these builds (NVRs).
	WaitRepo   bool     `xmlrpc:"wait_repo,omitempty"`
	WaitBuilds []string `xmlrpc:"wait_builds,omitempty"`
	// RebuildSRPM rebuilds a given SRPM in the build tag (true) or uses it
	// as it is (false); unset, the hub's policy decides.
	RebuildSRPM        *bool          `xmlrpc:"rebuild_srpm,omitempty"`
	Draft              bool           `xmlrpc:"draft,omitempty"`
	CustomUserMetadata map[string]any `xmlrpc:"custom_user_metadata,omitempty"`

	// Priority is relative to PriorityDefault: higher runs later
	// (PriorityBackground), negative (admins only) earlier.
	Priority int `xmlrpc:"-"`
	// Channel puts the task on that channel instead of the default one.
	Channel string `xmlrpc:"-"`
}

type buildArgs struct {
	Priority int    `xmlrpc:"priority,omitempty"`
	Channel  string `xmlrpc:"channel,omitempty"`
}

// Build starts a build of src, an SCM URL or an SRPM already uploaded
// (its path under the hub's work directory), for target (build), and
// returns the build task's ID.
func (c *Client) Build(ctx context.Context, src, target string, opts *BuildOptions) (taskID int, err error) {
	if err := refErr(checkRef("build", "src", src), checkRef("build", "target", target)); err != nil {
		return 0, err
	}
	if opts == nil {
		opts = &BuildOptions{}
	}
	err = c.CallKw(ctx, "build", &taskID, []any{src, target, opts}, buildArgs{Priority: opts.Priority, Channel: opts.Channel})
	return taskID, err
}

// CancelBuild cancels a build that is building, and its task (cancelBuild).
// It reports false when the build is missing or not building.
func (c *Client) CancelBuild(ctx context.Context, build NameOrID) (bool, error) {
	if err := checkRef("cancelBuild", "buildID", build); err != nil {
		return false, err
	}
	var canceled bool
	err := c.Call(ctx, "cancelBuild", &canceled, build)
	return canceled, err
}

// CreateEmptyBuildOptions are the options of CreateEmptyBuild.
type CreateEmptyBuildOptions struct {
	Owner NameOrID `xmlrpc:"owner,omitempty"` // a user ID or name; the caller by default
	Draft bool     `xmlrpc:"draft,omitempty"`
}

// CreateEmptyBuild records a complete build with no content and returns
// its ID (createEmptyBuild, admin only). epoch may be nil.
func (c *Client) CreateEmptyBuild(ctx context.Context, name, version, release string, epoch *int, opts *CreateEmptyBuildOptions) (int, error) {
	if opts != nil {
		if err := checkOptionalRef("createEmptyBuild", "owner", opts.Owner); err != nil {
			return 0, err
		}
	}
	var id int
	err := c.CallKw(ctx, "createEmptyBuild", &id, []any{name, version, release, epoch}, opts)
	return id, err
}
