package koji

import (
	"context"
	"iter"
)

// A Channel is a channel as getChannel and listChannels return it: a set
// of hosts that take the tasks sent to it, such as "default" or
// "createrepo".
type Channel struct {
	ID          int    `xmlrpc:"id"`
	Name        string `xmlrpc:"name"`
	Description string `xmlrpc:"description"`
	Enabled     bool   `xmlrpc:"enabled"`
	Comment     string `xmlrpc:"comment"`
}

// URL is the channel's page on kojiweb at weburl.
func (ch *Channel) URL(weburl string) string {
	return webPage(weburl, "channelinfo", "channelID", ch.ID)
}

// GetChannelOptions are the options of GetChannel.
type GetChannelOptions struct {
	// Strict makes a missing channel a GenericError fault instead of nil.
	Strict bool `xmlrpc:"strict,omitempty"`
}

// GetChannel returns the channel (getChannel), given as an int ID or a
// string name, or nil when there is none and opts.Strict is not set.
func (c *Client) GetChannel(ctx context.Context, channel NameOrID, opts *GetChannelOptions) (*Channel, error) {
	if err := checkRef("getChannel", "channelInfo", channel); err != nil {
		return nil, err
	}
	var ch *Channel
	if err := c.CallKw(ctx, "getChannel", &ch, []any{channel}, opts); err != nil {
		return nil, err
	}
	return ch, nil
}

// ListChannelsOptions select channels for ListChannels.
type ListChannelsOptions struct {
	HostID  int   `xmlrpc:"hostID,omitempty"` // the channels of this host
	Event   int   `xmlrpc:"event,omitempty"`  // the host's channels as they were then
	Enabled *bool `xmlrpc:"enabled,omitempty"`
}

// ListChannels returns the channels opts selects (listChannels).
func (c *Client) ListChannels(ctx context.Context, opts *ListChannelsOptions) ([]*Channel, error) {
	var channels []*Channel
	err := c.CallKw(ctx, "listChannels", &channels, nil, opts)
	return channels, err
}

// ChannelHosts returns the hosts of the channel (listHosts with
// channelID), as txkoji's Channel.hosts does.
func (c *Client) ChannelHosts(ctx context.Context, channelID int) ([]*Host, error) {
	return c.ListHosts(ctx, &ListHostsOptions{ChannelID: channelID})
}

// ChannelTasks iterates over the channel's tasks that opts selects, in
// the order the scheduler takes them (priority, then creation time), as
// txkoji's Channel.tasks does.
func (c *Client) ChannelTasks(ctx context.Context, channelID int, opts *ListTasksOptions) iter.Seq2[*Task, error] {
	var o ListTasksOptions
	if opts != nil {
		o = *opts
	}
	o.ChannelID = []int{channelID}
	// IDs break ties so that pages neither overlap nor skip.
	return c.ListTasksIter(ctx, &o, &QueryOpts{Order: "priority,create_time,id"})
}

// ChannelCapacity is the total capacity of the channel's enabled hosts:
// the task weight it can run at once (txkoji's Channel.total_capacity).
func (c *Client) ChannelCapacity(ctx context.Context, channelID int) (float64, error) {
	enabled := true
	hosts, err := c.ListHosts(ctx, &ListHostsOptions{ChannelID: channelID, Enabled: &enabled})
	if err != nil {
		return 0, err
	}
	var total float64
	for _, h := range hosts {
		total += h.Capacity
	}
	return total, nil
}
