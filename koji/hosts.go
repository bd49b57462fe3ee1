package koji

import (
	"context"
	"strings"
	"time"

	"github.com/gokoji/gokoji/xmlrpc"
)

// A Host is a builder as getHost and listHosts return it.
type Host struct {
	ID     int    `xmlrpc:"id"`
	UserID int    `xmlrpc:"user_id"` // the host's own user account
	Name   string `xmlrpc:"name"`
	// Arches are the arches the host builds for, space-separated as the
	// hub keeps them; ArchList splits them.
	Arches   string  `xmlrpc:"arches"`
	Capacity float64 `xmlrpc:"capacity"` // the task weight it takes at once
	// TaskLoad is the weight of the tasks it is running, as it last
	// reported.
	TaskLoad    float64 `xmlrpc:"task_load"`
	Ready       bool    `xmlrpc:"ready"` // checking in and able to take tasks
	Enabled     bool    `xmlrpc:"enabled"`
	Description string  `xmlrpc:"description"`
	Comment     string  `xmlrpc:"comment"`
	// UpdateTS is when the host last checked in, in seconds since the
	// epoch; nil if it never did. Updated converts it.
	UpdateTS *float64 `xmlrpc:"update_ts"`
}

// ArchList returns the host's arches.
func (h *Host) ArchList() []string { return strings.Fields(h.Arches) }

// Updated is when the host last checked in, in UTC; ok is false if never.
func (h *Host) Updated() (t time.Time, ok bool) {
	if h.UpdateTS == nil {
		return time.Time{}, false
	}
	return tsTime(*h.UpdateTS), true
}

// URL is the host's page on kojiweb at weburl.
func (h *Host) URL(weburl string) string { return webPage(weburl, "hostinfo", "hostID", h.ID) }

// GetHostOptions are the options of GetHost.
type GetHostOptions struct {
	// Strict makes a missing host a GenericError fault instead of nil.
	Strict bool `xmlrpc:"strict,omitempty"`
	// Event reads the host's configuration as it was at that event.
	Event int `xmlrpc:"event,omitempty"`
}

// GetHost returns the host (getHost), given as an int ID or a string
// name, or nil when there is none and opts.Strict is not set.
func (c *Client) GetHost(ctx context.Context, host NameOrID, opts *GetHostOptions) (*Host, error) {
	if err := checkRef("getHost", "hostInfo", host); err != nil {
		return nil, err
	}
	var h *Host
	if err := c.CallKw(ctx, "getHost", &h, []any{host}, opts); err != nil {
		return nil, err
	}
	return h, nil
}

// ListHostsOptions select hosts for ListHosts. Unset fields select all.
type ListHostsOptions struct {
	Arches    []string `xmlrpc:"arches,omitempty"`    // building any of these arches
	ChannelID int      `xmlrpc:"channelID,omitempty"` // in this channel
	Ready     *bool    `xmlrpc:"ready,omitempty"`
	Enabled   *bool    `xmlrpc:"enabled,omitempty"`
	UserID    int      `xmlrpc:"userID,omitempty"` // with this user account
	// QueryOpts is passed along; hubs up to 1.35 ignore it.
	QueryOpts *QueryOpts `xmlrpc:"queryOpts,omitempty"`
}

// ListHosts returns the hosts opts selects (listHosts). It has no
// iterator form: upstream hubs ignore queryOpts here, so the list cannot
// be paged, and a hub's hosts are few.
func (c *Client) ListHosts(ctx context.Context, opts *ListHostsOptions) ([]*Host, error) {
	var hosts []*Host
	err := c.CallKw(ctx, "listHosts", &hosts, nil, opts)
	return hosts, err
}

// RunScheduler makes the hub's task scheduler run now (scheduler.doRun;
// admin only), as it does when builders check in. Without force the hub
// skips a run when one happened recently. It reports whether it ran.
func (c *Client) RunScheduler(ctx context.Context, force bool) (bool, error) {
	var kwargs any
	if force {
		kwargs = map[string]any{"force": true}
	}
	var ran bool
	err := c.CallKw(ctx, "scheduler.doRun", &ran, nil, kwargs)
	return ran, err
}

// HostAPI makes the host.* calls: the builder's side of the task protocol.
// The client must be logged in as a host's user, with its session made
// exclusive (Client.Exclusive), as kojid does.
type HostAPI struct{ c *Client }

// HostAPI returns the host.* calls on c's session.
func (c *Client) HostAPI() HostAPI { return HostAPI{c: c} }

// ID returns the logged-in host's ID (host.getID).
func (h HostAPI) ID(ctx context.Context) (int, error) {
	var id int
	err := h.c.Call(ctx, "host.getID", &id)
	return id, err
}

// Host returns the logged-in host (host.getHost).
func (h HostAPI) Host(ctx context.Context) (*Host, error) {
	var host *Host
	if err := h.c.Call(ctx, "host.getHost", &host); err != nil {
		return nil, err
	}
	return host, nil
}

// UpdateHost reports the host's load and readiness (host.updateHost), and
// with data, what the scheduler should know of it, such as kojid's
// {"methods": [...], "maxjobs": 10}.
func (h HostAPI) UpdateHost(ctx context.Context, taskLoad float64, ready bool, data any) error {
	kwargs := struct {
		TaskLoad float64 `xmlrpc:"task_load"`
		Ready    bool    `xmlrpc:"ready"`
		Data     any     `xmlrpc:"data,omitempty"`
	}{taskLoad, ready, data}
	return h.c.CallKw(ctx, "host.updateHost", nil, nil, kwargs)
}

// Tasks returns the tasks assigned to the host, highest priority first
// (host.getTasks). The hub sends only the scheduling fields of each.
func (h HostAPI) Tasks(ctx context.Context) ([]*Task, error) {
	var tasks []*Task
	err := h.c.Call(ctx, "host.getTasks", &tasks)
	return tasks, err
}

// OpenTask takes an assigned task and opens it (host.openTask), returning
// it with its request (the stored methodCall; Task.Params decodes it), or
// nil when the hub would not let this host open it.
func (h HostAPI) OpenTask(ctx context.Context, id int) (*Task, error) {
	var t *Task
	if err := h.c.Call(ctx, "host.openTask", &t, id); err != nil {
		return nil, err
	}
	return t, nil
}

// CloseTask ends an open task of this host as CLOSED with its result
// (host.closeTask), sent as kojid does: a methodResponse document in a
// string, which getTaskResult decodes later.
func (h HostAPI) CloseTask(ctx context.Context, id int, result any) error {
	doc, err := xmlrpc.MarshalResponse(result)
	if err != nil {
		return err
	}
	return h.c.Call(ctx, "host.closeTask", nil, id, string(doc))
}

// FailTask ends an open task of this host as FAILED with the fault that
// getTaskResult will raise (host.failTask), sent as a fault response
// document in a string.
func (h HostAPI) FailTask(ctx context.Context, id int, fault *Fault) error {
	doc, err := xmlrpc.MarshalFault(&xmlrpc.Fault{Code: fault.Code, String: fault.String})
	if err != nil {
		return err
	}
	return h.c.Call(ctx, "host.failTask", nil, id, string(doc))
}

// SetTaskWeight sets the weight of an open task of this host
// (host.setTaskWeight): how much of the host's capacity it takes.
func (h HostAPI) SetTaskWeight(ctx context.Context, id int, weight float64) error {
	return h.c.Call(ctx, "host.setTaskWeight", nil, id, weight)
}

// A HostTask is one of the open tasks of a host, as host.getHostTasks
// reports it.
type HostTask struct {
	ID      int     `xmlrpc:"id"`
	Waiting bool    `xmlrpc:"waiting"` // waiting for subtasks
	Weight  float64 `xmlrpc:"weight"`
	// Alert is set when the task waits and one of the subtasks it waits
	// for has finished: time to wake it.
	Alert bool `xmlrpc:"alert"`
}

// OpenTasks returns the host's open tasks (host.getHostTasks).
func (h HostAPI) OpenTasks(ctx context.Context) ([]HostTask, error) {
	var tasks []HostTask
	err := h.c.Call(ctx, "host.getHostTasks", &tasks)
	return tasks, err
}
