package store

import (
	"context"
	"fmt"
	"time"
)

// Channel is a row of channels.
type Channel struct {
	ID          int64
	Name        string
	Description *string
	Enabled     bool
	Comment     *string
}

// HostConfig is the versioned part of a host (host_config).
type HostConfig struct {
	Arches      string  // space-separated
	Capacity    float64 // upstream's default is 2.0; must exceed 1
	Description *string
	Comment     *string
	Enabled     bool
}

// Host is a builder: a row of host joined with its host_config version.
type Host struct {
	ID         int64
	UserID     int64
	Name       string
	UpdateTime *time.Time
	TaskLoad   float64
	Ready      bool
	HostConfig
}

const channelColumns = "id, name, description, enabled, comment"

func scanChannel(row scanner) (*Channel, error) {
	var c Channel
	if err := row.Scan(&c.ID, &c.Name, &c.Description, &c.Enabled, &c.Comment); err != nil {
		return nil, err
	}
	return &c, nil
}

// ListChannels returns every channel in id order.
func (tx *Tx) ListChannels(ctx context.Context) ([]Channel, error) {
	rows, err := tx.query(ctx, "SELECT "+channelColumns+" FROM channels ORDER BY id")
	if err != nil {
		return nil, err
	}
	return collect(rows, scanChannel)
}

// GetChannel returns the channel with the given id.
func (tx *Tx) GetChannel(ctx context.Context, id int64) (*Channel, error) {
	c, err := scanChannel(tx.queryRow(ctx, "SELECT "+channelColumns+" FROM channels WHERE id = ?", id))
	if err != nil {
		return nil, notFound(err, "channel", id)
	}
	return c, nil
}

// GetChannelByName returns the channel with the given name.
func (tx *Tx) GetChannelByName(ctx context.Context, name string) (*Channel, error) {
	c, err := scanChannel(tx.queryRow(ctx, "SELECT "+channelColumns+" FROM channels WHERE name = ?", name))
	if err != nil {
		return nil, notFound(err, "channel", name)
	}
	return c, nil
}

// CreateChannel adds an enabled channel and returns its id.
func (tx *Tx) CreateChannel(ctx context.Context, name string, description *string) (int64, error) {
	return tx.insertID(ctx, "INSERT INTO channels (name, description, enabled) VALUES (?, ?, TRUE) RETURNING id", name, description)
}

const hostColumns = "h.id, h.user_id, h.name, h.update_time, h.task_load, h.ready, " +
	"COALESCE(hc.arches, ''), hc.capacity, hc.description, hc.comment, hc.enabled"

func scanHost(row scanner) (*Host, error) {
	var h Host
	err := row.Scan(&h.ID, &h.UserID, &h.Name, &h.UpdateTime, &h.TaskLoad, &h.Ready,
		&h.Arches, &h.Capacity, &h.Description, &h.Comment, &h.Enabled)
	if err != nil {
		return nil, err
	}
	return &h, nil
}

// CreateHost inserts a host for an existing user (normally of type
// UserTypeHost) with its first configuration, created at this
// transaction's event by creatorID, and returns the host's id. A zero
// Capacity stands for upstream's default 2.0.
func (tx *Tx) CreateHost(ctx context.Context, userID int64, name string, cfg HostConfig, creatorID int64) (int64, error) {
	id, err := tx.insertID(ctx, "INSERT INTO host (user_id, name, task_load, ready) VALUES (?, ?, 0.0, FALSE) RETURNING id", userID, name)
	if err != nil {
		return 0, err
	}
	if err := tx.insertHostConfig(ctx, id, cfg, creatorID); err != nil {
		return 0, err
	}
	return id, nil
}

func (tx *Tx) insertHostConfig(ctx context.Context, hostID int64, cfg HostConfig, creatorID int64) error {
	event, err := tx.NewEvent(ctx)
	if err != nil {
		return err
	}
	if cfg.Capacity == 0 {
		cfg.Capacity = 2.0
	}
	_, err = tx.exec(ctx, "INSERT INTO host_config (host_id, arches, capacity, description, comment, enabled, "+
		"create_event, creator_id, active) VALUES (?, ?, ?, ?, ?, ?, ?, ?, TRUE)",
		hostID, cfg.Arches, cfg.Capacity, cfg.Description, cfg.Comment, cfg.Enabled, event, creatorID)
	return err
}

// SetHostConfig replaces a host's configuration: the current version is
// revoked and cfg inserted, both at this transaction's event, as upstream's
// editHost does.
func (tx *Tx) SetHostConfig(ctx context.Context, hostID int64, cfg HostConfig, userID int64) error {
	n, err := tx.revoke(ctx, "host_config", userID, "host_id = ?", hostID)
	if err != nil {
		return err
	}
	if n == 0 {
		return &NotFoundError{Kind: "host", Key: hostID}
	}
	return tx.insertHostConfig(ctx, hostID, cfg, userID)
}

// GetHost returns the host with the given id, configured as now or, with
// asOf, as at that event (a host without configuration then is not found).
func (tx *Tx) GetHost(ctx context.Context, id int64, asOf *int64) (*Host, error) {
	cond, args := eventCondition("hc", asOf)
	h, err := scanHost(tx.queryRow(ctx, "SELECT "+hostColumns+" FROM host h JOIN host_config hc ON hc.host_id = h.id "+
		"WHERE h.id = ? AND "+cond, append([]any{id}, args...)...))
	if err != nil {
		return nil, notFound(err, "host", id)
	}
	return h, nil
}

// GetHostByName is [Tx.GetHost] by host name.
func (tx *Tx) GetHostByName(ctx context.Context, name string, asOf *int64) (*Host, error) {
	cond, args := eventCondition("hc", asOf)
	h, err := scanHost(tx.queryRow(ctx, "SELECT "+hostColumns+" FROM host h JOIN host_config hc ON hc.host_id = h.id "+
		"WHERE h.name = ? AND "+cond, append([]any{name}, args...)...))
	if err != nil {
		return nil, notFound(err, "host", name)
	}
	return h, nil
}

// GetHostByUser returns the current host whose user is userID: how a
// session finds out it belongs to a builder.
func (tx *Tx) GetHostByUser(ctx context.Context, userID int64) (*Host, error) {
	h, err := scanHost(tx.queryRow(ctx, "SELECT "+hostColumns+" FROM host h JOIN host_config hc ON hc.host_id = h.id "+
		"WHERE h.user_id = ? AND hc.active = TRUE", userID))
	if err != nil {
		return nil, notFound(err, "host of user", userID)
	}
	return h, nil
}

// ListHosts returns the hosts in id order, configured as now or at asOf.
func (tx *Tx) ListHosts(ctx context.Context, asOf *int64) ([]Host, error) {
	cond, args := eventCondition("hc", asOf)
	rows, err := tx.query(ctx, "SELECT "+hostColumns+" FROM host h JOIN host_config hc ON hc.host_id = h.id "+
		"WHERE "+cond+" ORDER BY h.id", args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanHost)
}

// UpdateHost records a builder's check-in (host.updateHost): its readiness
// and task load, with update_time now.
func (tx *Tx) UpdateHost(ctx context.Context, id int64, ready bool, taskLoad float64) error {
	return tx.execOne(ctx, "host", id, "UPDATE host SET ready = ?, task_load = ?, update_time = ? WHERE id = ?",
		ready, taskLoad, now(), id)
}

// AddHostChannel subscribes a host to a channel at this transaction's
// event; an existing subscription is a [*ConflictError].
func (tx *Tx) AddHostChannel(ctx context.Context, hostID, channelID, creatorID int64) error {
	event, err := tx.NewEvent(ctx)
	if err != nil {
		return err
	}
	_, err = tx.exec(ctx, "INSERT INTO host_channels (host_id, channel_id, create_event, creator_id, active) VALUES (?, ?, ?, ?, TRUE)",
		hostID, channelID, event, creatorID)
	return err
}

// RemoveHostChannel ends a host's subscription to a channel.
func (tx *Tx) RemoveHostChannel(ctx context.Context, hostID, channelID, revokerID int64) error {
	n, err := tx.revoke(ctx, "host_channels", revokerID, "host_id = ? AND channel_id = ?", hostID, channelID)
	if err != nil {
		return err
	}
	if n == 0 {
		return &NotFoundError{Kind: "host channel", Key: fmt.Sprintf("host %d channel %d", hostID, channelID)}
	}
	return nil
}

// HostChannels returns the channels a host listens on, in id order: now or
// at asOf.
func (tx *Tx) HostChannels(ctx context.Context, hostID int64, asOf *int64) ([]Channel, error) {
	cond, args := eventCondition("hch", asOf)
	rows, err := tx.query(ctx, "SELECT c.id, c.name, c.description, c.enabled, c.comment FROM host_channels hch "+
		"JOIN channels c ON c.id = hch.channel_id WHERE hch.host_id = ? AND "+cond+" ORDER BY c.id",
		append([]any{hostID}, args...)...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanChannel)
}
