package koji

import (
	"context"
	"iter"
)

// A User is a Koji account as getUser, listUsers and getLoggedInUser
// return it: a person, a builder host or a group.
type User struct {
	ID            int        `xmlrpc:"id"`
	Name          string     `xmlrpc:"name"`
	Status        UserStatus `xmlrpc:"status"`
	Type          UserType   `xmlrpc:"usertype"`
	KrbPrincipals []string   `xmlrpc:"krb_principals"`
	// Groups are the names of the groups the user is in, sent when
	// GetUser is asked for them.
	Groups []string `xmlrpc:"groups"`

	// LoggedInUser sets these: how the session logged in, and the user's
	// first Kerberos principal, if any.
	AuthType     *AuthType `xmlrpc:"authtype"`
	KrbPrincipal string    `xmlrpc:"krb_principal"`
}

// URL is the user's kojiweb page under weburl.
func (u *User) URL(weburl string) string { return webPage(weburl, "userinfo", "userID", u.ID) }

// A Permission is one of the hub's permissions (getAllPerms).
type Permission struct {
	ID          int    `xmlrpc:"id"`
	Name        string `xmlrpc:"name"`
	Description string `xmlrpc:"description"`
}

// LoggedInUser returns the user the client's session belongs to
// (getLoggedInUser), or nil when the client is anonymous.
func (c *Client) LoggedInUser(ctx context.Context) (*User, error) {
	var u *User
	if err := c.Call(ctx, "getLoggedInUser", &u); err != nil {
		return nil, err
	}
	return u, nil
}

// GetUserOptions are the options of GetUser.
type GetUserOptions struct {
	// Strict makes a missing user a GenericError fault instead of nil.
	Strict bool `xmlrpc:"strict,omitempty"`
	// KrbPrincs set to false leaves the Kerberos principals out.
	KrbPrincs *bool `xmlrpc:"krb_princs,omitempty"`
	// Groups also sends the groups the user is in.
	Groups bool `xmlrpc:"groups,omitempty"`
}

// GetUser returns a user by ID, name or Kerberos principal (getUser), or
// nil when there is none.
func (c *Client) GetUser(ctx context.Context, user NameOrID, opts *GetUserOptions) (*User, error) {
	if err := checkRef("getUser", "userInfo", user); err != nil {
		return nil, err
	}
	var u *User
	if err := c.CallKw(ctx, "getUser", &u, []any{user}, opts); err != nil {
		return nil, err
	}
	return u, nil
}

// ListUsersOptions are the filters of ListUsers.
type ListUsersOptions struct {
	// Types lists users of these types; by default only UserTypeNormal.
	Types  []UserType `xmlrpc:"-"`
	Prefix string     `xmlrpc:"prefix,omitempty"`
	// QueryOpts orders and windows the result.
	QueryOpts *QueryOpts `xmlrpc:"queryOpts,omitempty"`
	// Perm lists only users with that permission, or with InheritedPerm
	// also those who have it through a group (Koji 1.35 and later).
	Perm          string `xmlrpc:"perm,omitempty"`
	InheritedPerm bool   `xmlrpc:"inherited_perm,omitempty"`
}

type listUsersArgs struct {
	UserType any `xmlrpc:"userType,omitempty"`
	ListUsersOptions
}

// ListUsers returns the users that pass the filters (listUsers).
func (c *Client) ListUsers(ctx context.Context, opts *ListUsersOptions) ([]*User, error) {
	var args listUsersArgs
	if opts != nil {
		args.ListUsersOptions = *opts
		switch len(opts.Types) {
		case 0:
		case 1:
			args.UserType = opts.Types[0] // as an int, which every hub takes
		default:
			args.UserType = opts.Types
		}
	}
	var users []*User
	if err := c.CallKw(ctx, "listUsers", &users, nil, &args); err != nil {
		return nil, err
	}
	return users, nil
}

// ListUsersIter iterates over what ListUsers returns, asking the hub for a
// thousand users at a time. The options' QueryOpts set where to start
// (Offset), how many users to yield in all (Limit) and the order, by user
// ID when unset so that pages do not overlap. Iteration stops at the first
// error, which it yields.
func (c *Client) ListUsersIter(ctx context.Context, opts *ListUsersOptions) iter.Seq2[*User, error] {
	var o ListUsersOptions
	if opts != nil {
		o = *opts
	}
	return pages(o.QueryOpts, "id", func(q *QueryOpts) ([]*User, error) {
		page := o
		page.QueryOpts = q
		return c.ListUsers(ctx, &page)
	})
}

// Perms returns the names of the permissions of the client's user
// (getPerms); none when anonymous.
func (c *Client) Perms(ctx context.Context) ([]string, error) {
	var perms []string
	if err := c.Call(ctx, "getPerms", &perms); err != nil {
		return nil, err
	}
	return perms, nil
}

// AllPerms returns every permission the hub knows (getAllPerms).
func (c *Client) AllPerms(ctx context.Context) ([]*Permission, error) {
	var perms []*Permission
	if err := c.Call(ctx, "getAllPerms", &perms); err != nil {
		return nil, err
	}
	return perms, nil
}
