package koji

import (
	"context"
	"iter"
	"strconv"
)

// An RPM is an RPM file known to the hub, as listRPMs returns it.
type RPM struct {
	ID      int    `xmlrpc:"id"`
	Name    string `xmlrpc:"name"`
	Version string `xmlrpc:"version"`
	Release string `xmlrpc:"release"`
	Epoch   *int   `xmlrpc:"epoch"`
	Arch    string `xmlrpc:"arch"` // "src" for a source RPM
	NVR     string `xmlrpc:"nvr"`

	// PayloadHash is the MD5 digest of the payload, in hex.
	PayloadHash string `xmlrpc:"payloadhash"`
	Size        int64  `xmlrpc:"size"`
	BuildTime   int64  `xmlrpc:"buildtime"` // seconds since the epoch

	// BuildID and BuildrootID are nil for RPMs from external repositories.
	BuildID     *int `xmlrpc:"build_id"`
	BuildrootID *int `xmlrpc:"buildroot_id"`
	// ExternalRepoID is 0 for RPMs built in Koji ("INTERNAL").
	ExternalRepoID   int            `xmlrpc:"external_repo_id"`
	ExternalRepoName string         `xmlrpc:"external_repo_name"`
	MetadataOnly     bool           `xmlrpc:"metadata_only"`
	Extra            map[string]any `xmlrpc:"extra"`
	Draft            bool           `xmlrpc:"draft"`

	// Set when listing a buildroot's components: whether the RPM came in
	// as an update of the buildroot.
	ComponentBuildrootID *int `xmlrpc:"component_buildroot_id"`
	IsUpdate             bool `xmlrpc:"is_update"`
}

// NVRA is "name-version-release.arch".
func (r *RPM) NVRA() string { return r.Name + "-" + r.Version + "-" + r.Release + "." + r.Arch }

// NEVRA is "name-epoch:version-release.arch", with epoch 0 when unset.
func (r *RPM) NEVRA() string {
	epoch := 0
	if r.Epoch != nil {
		epoch = *r.Epoch
	}
	return r.Name + "-" + strconv.Itoa(epoch) + ":" + r.Version + "-" + r.Release + "." + r.Arch
}

// Filename is the RPM's file name, "name-version-release.arch.rpm".
func (r *RPM) Filename() string { return r.NVRA() + ".rpm" }

// ListRPMsOptions are the filters of ListRPMs.
type ListRPMsOptions struct {
	BuildID     int `xmlrpc:"buildID,omitempty"`     // the RPMs of this build
	BuildrootID int `xmlrpc:"buildrootID,omitempty"` // the RPMs built in this buildroot
	// ImageID lists the RPMs installed in this image archive.
	ImageID int `xmlrpc:"imageID,omitempty"`
	// ComponentBuildrootID lists the RPMs installed in this buildroot.
	ComponentBuildrootID int        `xmlrpc:"componentBuildrootID,omitempty"`
	HostID               int        `xmlrpc:"hostID,omitempty"` // the RPMs built on this host
	Arches               []string   `xmlrpc:"arches,omitempty"`
	QueryOpts            *QueryOpts `xmlrpc:"queryOpts,omitempty"`
	Draft                *bool      `xmlrpc:"draft,omitempty"`
}

// ListRPMs returns the RPMs that pass the filters (listRPMs). The hub
// reads the whole result into memory: ListRPMsIter pages through big ones.
func (c *Client) ListRPMs(ctx context.Context, opts *ListRPMsOptions) ([]*RPM, error) {
	var rpms []*RPM
	if err := c.CallKw(ctx, "listRPMs", &rpms, nil, opts); err != nil {
		return nil, err
	}
	return rpms, nil
}

// ListRPMsIter iterates over what ListRPMs returns, asking the hub for a
// thousand RPMs at a time. The options' QueryOpts set where to start
// (Offset), how many RPMs to yield in all (Limit) and the order, by RPM
// ID when unset so that pages do not overlap. Iteration stops at the
// first error, which it yields.
func (c *Client) ListRPMsIter(ctx context.Context, opts *ListRPMsOptions) iter.Seq2[*RPM, error] {
	var o ListRPMsOptions
	if opts != nil {
		o = *opts
	}
	return pages(o.QueryOpts, "id", func(q *QueryOpts) ([]*RPM, error) {
		page := o
		page.QueryOpts = q
		return c.ListRPMs(ctx, &page)
	})
}
