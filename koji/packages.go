package koji

import (
	"context"
	"iter"
)

// A Package is a package name known to the hub (getPackage).
type Package struct {
	ID   int    `xmlrpc:"id"`
	Name string `xmlrpc:"name"`
}

// URL is the package's kojiweb page under weburl.
func (p *Package) URL(weburl string) string {
	return webPage(weburl, "packageinfo", "packageID", p.ID)
}

// A TagPackage is an entry of a tag's package list, as listPackages
// returns it. Without a tag, user or package filter the hub sends only
// PackageID and PackageName.
type TagPackage struct {
	PackageID   int    `xmlrpc:"package_id"`
	PackageName string `xmlrpc:"package_name"`
	TagID       int    `xmlrpc:"tag_id"`
	TagName     string `xmlrpc:"tag_name"`
	// OwnerID and OwnerName are left out when WithOwners is false.
	OwnerID   *int   `xmlrpc:"owner_id"`
	OwnerName string `xmlrpc:"owner_name"`
	// Blocked packages cannot be built or tagged into the tag.
	Blocked bool `xmlrpc:"blocked"`
	// ExtraArches, space-separated, are built for the package on top of
	// the tag's arches.
	ExtraArches string `xmlrpc:"extra_arches"`
}

// GetPackageOptions are the options of GetPackage.
type GetPackageOptions struct {
	// Strict makes a missing package a GenericError fault instead of nil.
	Strict bool `xmlrpc:"strict,omitempty"`
	// Create creates the package when it is missing.
	Create bool `xmlrpc:"create,omitempty"`
}

// GetPackage returns a package by ID or name (getPackage), or nil when
// there is none.
func (c *Client) GetPackage(ctx context.Context, pkg NameOrID, opts *GetPackageOptions) (*Package, error) {
	if err := checkRef("getPackage", "info", pkg); err != nil {
		return nil, err
	}
	var p *Package
	if err := c.CallKw(ctx, "getPackage", &p, []any{pkg}, opts); err != nil {
		return nil, err
	}
	return p, nil
}

// ListPackagesOptions are the filters of ListPackages.
type ListPackagesOptions struct {
	TagID  NameOrID `xmlrpc:"tagID,omitempty"`  // the package list of this tag: an ID or name
	UserID NameOrID `xmlrpc:"userID,omitempty"` // packages this user owns
	PkgID  NameOrID `xmlrpc:"pkgID,omitempty"`  // this package's entries
	Prefix string   `xmlrpc:"prefix,omitempty"`
	// Inherited also lists the entries the tag inherits.
	Inherited bool `xmlrpc:"inherited,omitempty"`
	// WithDups, with Inherited, keeps an entry for every tag that lists
	// the package, not just the nearest.
	WithDups  bool       `xmlrpc:"with_dups,omitempty"`
	Event     int        `xmlrpc:"event,omitempty"`
	QueryOpts *QueryOpts `xmlrpc:"queryOpts,omitempty"`
	// WithOwners set to false leaves the owner members out.
	WithOwners *bool `xmlrpc:"with_owners,omitempty"`
	// WithBlocked set to false leaves blocked entries out.
	WithBlocked *bool `xmlrpc:"with_blocked,omitempty"`
}

// ListPackages returns package list entries (listPackages); with no
// filter, every package.
func (c *Client) ListPackages(ctx context.Context, opts *ListPackagesOptions) ([]*TagPackage, error) {
	if opts != nil {
		const m = "listPackages"
		if err := refErr(checkOptionalRef(m, "tagID", opts.TagID), checkOptionalRef(m, "userID", opts.UserID),
			checkOptionalRef(m, "pkgID", opts.PkgID)); err != nil {
			return nil, err
		}
	}
	var pkgs []*TagPackage
	if err := c.CallKw(ctx, "listPackages", &pkgs, nil, opts); err != nil {
		return nil, err
	}
	return pkgs, nil
}

// ListPackagesIter iterates over what ListPackages returns, asking the hub
// for a thousand entries at a time. The options' QueryOpts set where to
// start (Offset), how many entries to yield in all (Limit) and the order,
// by package ID when unset so that pages do not overlap. Iteration stops
// at the first error, which it yields.
func (c *Client) ListPackagesIter(ctx context.Context, opts *ListPackagesOptions) iter.Seq2[*TagPackage, error] {
	var o ListPackagesOptions
	if opts != nil {
		o = *opts
	}
	return pages(o.QueryOpts, "package_id", func(q *QueryOpts) ([]*TagPackage, error) {
		page := o
		page.QueryOpts = q
		return c.ListPackages(ctx, &page)
	})
}

// PackageListAddOptions are the options of PackageListAdd.
type PackageListAddOptions struct {
	// Owner, a user ID or name, owns the package in the tag; it is needed
	// unless the tag inherits an entry for the package.
	Owner NameOrID `xmlrpc:"owner,omitempty"`
	// Block adds the package blocked.
	Block bool `xmlrpc:"block,omitempty"`
	// ExtraArches, space-separated, are built on top of the tag's arches.
	ExtraArches string `xmlrpc:"extra_arches,omitempty"`
	// Force overrides the policy and unblocks a blocked package.
	Force bool `xmlrpc:"force,omitempty"`
	// Update changes an existing entry instead of failing.
	Update bool `xmlrpc:"update,omitempty"`
}

// PackageListAdd adds a package, created if need be, to a tag's package
// list (packageListAdd; the package_list policy decides who may).
func (c *Client) PackageListAdd(ctx context.Context, tag, pkg NameOrID, opts *PackageListAddOptions) error {
	const m = "packageListAdd"
	if err := refErr(checkRef(m, "taginfo", tag), checkRef(m, "pkginfo", pkg)); err != nil {
		return err
	}
	if opts != nil {
		if err := checkOptionalRef(m, "owner", opts.Owner); err != nil {
			return err
		}
	}
	return c.CallKw(ctx, m, nil, []any{tag, pkg}, opts)
}
