package auth

import (
	"context"
	"fmt"

	"github.com/gokoji/gokoji/koji"
)

// Password logs in with a user name and password, as Koji's login: it
// sends login(user, password, opts=None) to the hub URL itself. Only hubs
// that store passwords accept it, and the password crosses the network as
// it is, so use it over https only. Its String and GoString methods leave
// the password out.
type Password struct {
	User     string
	Password string
}

// Login obtains a session with login. A refused login returns the hub's
// fault as it is, like Koji's client: an AuthError for a wrong password.
func (p *Password) Login(ctx context.Context, c *koji.Client, r koji.LoginRequest) (koji.SessionInfo, error) {
	args := passwordLoginArgs{}
	if r.Renew {
		args.Renew = true
		args.Exclusive = &r.Exclusive
	}
	return c.LoginCall(ctx, "", nil, "login", []any{p.User, p.Password}, args)
}

// passwordLoginArgs are login's keyword arguments as Koji's client sends
// them: opts always (None), renew and exclusivity only when renewing.
type passwordLoginArgs struct {
	Opts      map[string]any `xmlrpc:"opts"`
	Renew     bool           `xmlrpc:"renew,omitempty"`
	Exclusive *bool          `xmlrpc:"exclusive,omitempty"`
}

// String describes the credentials without the password.
func (p Password) String() string { return fmt.Sprintf("password login for %q", p.User) }

// GoString describes the credentials without the password, for %#v.
func (p Password) GoString() string { return fmt.Sprintf("auth.Password{User: %q}", p.User) }
