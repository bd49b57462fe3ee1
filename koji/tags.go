package koji

import (
	"context"
	"strings"
)

// A Tag is a tag as getTag and listTags return it.
type Tag struct {
	ID   int    `xmlrpc:"id"`
	Name string `xmlrpc:"name"`
	// Arches are the arches the tag builds for, space-separated; "" when
	// the tag sets none (its ancestors may).
	Arches          string `xmlrpc:"arches"`
	Locked          bool   `xmlrpc:"locked"`
	MavenSupport    bool   `xmlrpc:"maven_support"`
	MavenIncludeAll bool   `xmlrpc:"maven_include_all"`
	// PermID and Perm name the permission needed to tag into the tag;
	// nil and "" when none is.
	PermID *int   `xmlrpc:"perm_id"`
	Perm   string `xmlrpc:"perm"`
	// Extra is the tag's own extra settings (getTag).
	Extra map[string]any `xmlrpc:"extra"`
	// QueryEvent is the event GetTag read the tag at, when asked for one.
	QueryEvent *int `xmlrpc:"query_event"`

	// ListTags sets these when it lists the tags of a package: the
	// package's entry in the tag's package list.
	OwnerID     *int   `xmlrpc:"owner_id"`
	OwnerName   string `xmlrpc:"owner_name"`
	Blocked     bool   `xmlrpc:"blocked"`
	ExtraArches string `xmlrpc:"extra_arches"`
}

// ArchList returns the tag's arches as a list.
func (t *Tag) ArchList() []string { return strings.Fields(t.Arches) }

// URL is the tag's kojiweb page under weburl.
func (t *Tag) URL(weburl string) string { return webPage(weburl, "taginfo", "tagID", t.ID) }

// GetTagOptions are the options of GetTag.
type GetTagOptions struct {
	// Strict makes a missing tag a GenericError fault instead of nil.
	Strict bool `xmlrpc:"strict,omitempty"`
	Event  int  `xmlrpc:"event,omitempty"` // the tag as it was at that event
	// Blocked also sends extra settings blocked in the tag.
	Blocked bool `xmlrpc:"blocked,omitempty"`
}

// GetTag returns a tag by ID or name (getTag), or nil when there is none.
func (c *Client) GetTag(ctx context.Context, tag NameOrID, opts *GetTagOptions) (*Tag, error) {
	if err := checkRef("getTag", "tagInfo", tag); err != nil {
		return nil, err
	}
	var t *Tag
	if err := c.CallKw(ctx, "getTag", &t, []any{tag}, opts); err != nil {
		return nil, err
	}
	return t, nil
}

// ListTagsOptions are the filters of ListTags.
type ListTagsOptions struct {
	Build   NameOrID `xmlrpc:"build,omitempty"`   // tags the build is in: an ID or NVR
	Package NameOrID `xmlrpc:"package,omitempty"` // tags listing the package: an ID or name
	// Perms set to false leaves the perm member out, saving a join.
	Perms     *bool      `xmlrpc:"perms,omitempty"`
	QueryOpts *QueryOpts `xmlrpc:"queryOpts,omitempty"`
	Pattern   string     `xmlrpc:"pattern,omitempty"` // a glob on the tag name
}

// ListTags returns the tags that pass the filters, all tags by default
// (listTags).
func (c *Client) ListTags(ctx context.Context, opts *ListTagsOptions) ([]*Tag, error) {
	if opts != nil {
		if err := refErr(checkOptionalRef("listTags", "build", opts.Build), checkOptionalRef("listTags", "package", opts.Package)); err != nil {
			return nil, err
		}
	}
	var tags []*Tag
	if err := c.CallKw(ctx, "listTags", &tags, nil, opts); err != nil {
		return nil, err
	}
	return tags, nil
}

// CreateTagOptions are the options of CreateTag.
type CreateTagOptions struct {
	// Parent, a tag ID or name, becomes the new tag's parent at priority 0.
	Parent NameOrID `xmlrpc:"parent,omitempty"`
	Arches string   `xmlrpc:"arches,omitempty"` // space-separated
	// Perm, a permission ID or name, is then needed to tag into the tag.
	Perm            NameOrID       `xmlrpc:"perm,omitempty"`
	Locked          bool           `xmlrpc:"locked,omitempty"`
	MavenSupport    bool           `xmlrpc:"maven_support,omitempty"`
	MavenIncludeAll bool           `xmlrpc:"maven_include_all,omitempty"`
	Extra           map[string]any `xmlrpc:"extra,omitempty"`
}

// CreateTag creates a tag and returns its ID (createTag; needs the tag
// permission).
func (c *Client) CreateTag(ctx context.Context, name string, opts *CreateTagOptions) (int, error) {
	const m = "createTag"
	if err := checkRef(m, "name", name); err != nil {
		return 0, err
	}
	if opts != nil {
		if err := refErr(checkOptionalRef(m, "parent", opts.Parent), checkOptionalRef(m, "perm", opts.Perm)); err != nil {
			return 0, err
		}
	}
	var id int
	err := c.CallKw(ctx, m, &id, []any{name}, opts)
	return id, err
}

// TagBuildOptions are the options of TagBuild.
type TagBuildOptions struct {
	// Force tags in spite of a locked tag, missing permission, a package
	// not listed or the policy, for admins.
	Force bool `xmlrpc:"force,omitempty"`
	// FromTag, a tag ID or name, makes the tagging a move from that tag.
	FromTag NameOrID `xmlrpc:"fromtag,omitempty"`
}

// TagBuild asks for a build to be tagged and returns the ID of the
// tagBuild task that tags it (tagBuild). The hub checks the request
// first: the build must be complete and its package listed in the tag.
func (c *Client) TagBuild(ctx context.Context, tag, build NameOrID, opts *TagBuildOptions) (taskID int, err error) {
	const m = "tagBuild"
	if err := refErr(checkRef(m, "tag", tag), checkRef(m, "build", build)); err != nil {
		return 0, err
	}
	if opts != nil {
		if err := checkOptionalRef(m, "fromtag", opts.FromTag); err != nil {
			return 0, err
		}
	}
	err = c.CallKw(ctx, m, &taskID, []any{tag, build}, opts)
	return taskID, err
}

// UntagBuildOptions are the options of UntagBuild.
type UntagBuildOptions struct {
	// Strict set to false makes untagging a build that is not in the tag
	// succeed instead of failing with a TagError fault.
	Strict *bool `xmlrpc:"strict,omitempty"`
	// Force bypasses the hub's tag policy (admins only).
	Force bool `xmlrpc:"force,omitempty"`
}

// UntagBuild removes a build from a tag, at once (untagBuild).
func (c *Client) UntagBuild(ctx context.Context, tag, build NameOrID, opts *UntagBuildOptions) error {
	if err := refErr(checkRef("untagBuild", "tag", tag), checkRef("untagBuild", "build", build)); err != nil {
		return err
	}
	return c.CallKw(ctx, "untagBuild", nil, []any{tag, build}, opts)
}

// TagBuildBypassOptions are the options of TagBuildBypass.
type TagBuildBypassOptions struct {
	// Force retags a build already in the tag and overrides the policy.
	Force  bool `xmlrpc:"force,omitempty"`
	Notify bool `xmlrpc:"notify,omitempty"` // send the tag notification mail
}

// TagBuildBypass tags a build at once, without a tagBuild task
// (tagBuildBypass; needs the tag permission; meant for imports and syncs).
func (c *Client) TagBuildBypass(ctx context.Context, tag, build NameOrID, opts *TagBuildBypassOptions) error {
	if err := refErr(checkRef("tagBuildBypass", "tag", tag), checkRef("tagBuildBypass", "build", build)); err != nil {
		return err
	}
	return c.CallKw(ctx, "tagBuildBypass", nil, []any{tag, build}, opts)
}

// A Target is a build target: builds for it build in its build tag and
// are tagged into its destination tag.
type Target struct {
	ID           int    `xmlrpc:"id"`
	Name         string `xmlrpc:"name"`
	BuildTagID   int    `xmlrpc:"build_tag"`
	BuildTagName string `xmlrpc:"build_tag_name"`
	DestTagID    int    `xmlrpc:"dest_tag"`
	DestTagName  string `xmlrpc:"dest_tag_name"`
}

// URL is the target's kojiweb page under weburl.
func (t *Target) URL(weburl string) string { return webPage(weburl, "targetinfo", "targetID", t.ID) }

// GetBuildTargetOptions are the options of GetBuildTarget.
type GetBuildTargetOptions struct {
	Event int `xmlrpc:"event,omitempty"`
	// Strict makes a missing target a GenericError fault instead of nil.
	Strict bool `xmlrpc:"strict,omitempty"`
}

// GetBuildTarget returns a build target by ID or name (getBuildTarget),
// or nil when there is none.
func (c *Client) GetBuildTarget(ctx context.Context, target NameOrID, opts *GetBuildTargetOptions) (*Target, error) {
	if err := checkRef("getBuildTarget", "info", target); err != nil {
		return nil, err
	}
	var t *Target
	if err := c.CallKw(ctx, "getBuildTarget", &t, []any{target}, opts); err != nil {
		return nil, err
	}
	return t, nil
}

// GetBuildTargetsOptions are the filters of GetBuildTargets.
type GetBuildTargetsOptions struct {
	Info       NameOrID   `xmlrpc:"info,omitempty"` // one target's ID or name
	Event      int        `xmlrpc:"event,omitempty"`
	BuildTagID NameOrID   `xmlrpc:"buildTagID,omitempty"` // targets building in this tag
	DestTagID  NameOrID   `xmlrpc:"destTagID,omitempty"`  // targets tagging into this tag
	QueryOpts  *QueryOpts `xmlrpc:"queryOpts,omitempty"`
}

// GetBuildTargets returns the build targets that pass the filters, all of
// them by default (getBuildTargets).
func (c *Client) GetBuildTargets(ctx context.Context, opts *GetBuildTargetsOptions) ([]*Target, error) {
	if opts != nil {
		const m = "getBuildTargets"
		if err := refErr(checkOptionalRef(m, "info", opts.Info), checkOptionalRef(m, "buildTagID", opts.BuildTagID),
			checkOptionalRef(m, "destTagID", opts.DestTagID)); err != nil {
			return nil, err
		}
	}
	var targets []*Target
	if err := c.CallKw(ctx, "getBuildTargets", &targets, nil, opts); err != nil {
		return nil, err
	}
	return targets, nil
}
