package store

import "context"

// Channel administration: the writes behind addChannel's siblings
// (editChannel, enableChannel, disableChannel, removeChannel). Channels are
// not versioned upstream; these change rows in place.

// ChannelEdit holds the channel columns [Tx.EditChannel] changes; nil
// fields are left alone. Description and Comment set to a nil *string
// inside a non-nil field clear the column.
type ChannelEdit struct {
	Name        *string
	Description **string
	Comment     **string
}

// EditChannel changes the columns e names.
func (tx *Tx) EditChannel(ctx context.Context, id int64, e ChannelEdit) error {
	var (
		sets []string
		args []any
	)
	if e.Name != nil {
		sets, args = append(sets, "name = ?"), append(args, *e.Name)
	}
	if e.Description != nil {
		sets, args = append(sets, "description = ?"), append(args, *e.Description)
	}
	if e.Comment != nil {
		sets, args = append(sets, "comment = ?"), append(args, *e.Comment)
	}
	if len(sets) == 0 {
		return nil
	}
	q := "UPDATE channels SET " + sets[0]
	for _, s := range sets[1:] {
		q += ", " + s
	}
	return tx.execOne(ctx, "channel", id, q+" WHERE id = ?", append(args, id)...)
}

// SetChannelEnabled enables or disables a channel and sets its comment
// (nil clears it), as upstream's set_channel_enabled does.
func (tx *Tx) SetChannelEnabled(ctx context.Context, id int64, enabled bool, comment *string) error {
	return tx.execOne(ctx, "channel", id, "UPDATE channels SET enabled = ?, comment = ? WHERE id = ?", enabled, comment, id)
}

// ChannelHasTasks reports whether any task was ever placed in the
// channel.
func (tx *Tx) ChannelHasTasks(ctx context.Context, id int64) (bool, error) {
	return tx.channelRef(ctx, "SELECT 1 FROM task WHERE channel_id = ? LIMIT 1", id)
}

// ChannelHasHosts reports whether any host_channels row, current or
// revoked, names the channel.
func (tx *Tx) ChannelHasHosts(ctx context.Context, id int64) (bool, error) {
	return tx.channelRef(ctx, "SELECT 1 FROM host_channels WHERE channel_id = ? LIMIT 1", id)
}

// DeleteChannel removes a channel and every host_channels row, history
// included, that names it, as upstream's remove_channel does. Tasks must
// not reference it (see [Tx.ChannelHasTasks]).
func (tx *Tx) DeleteChannel(ctx context.Context, id int64) error {
	if _, err := tx.exec(ctx, "DELETE FROM host_channels WHERE channel_id = ?", id); err != nil {
		return err
	}
	return tx.execOne(ctx, "channel", id, "DELETE FROM channels WHERE id = ?", id)
}

func (tx *Tx) channelRef(ctx context.Context, query string, args ...any) (bool, error) {
	rows, err := tx.query(ctx, query, args...)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	found := rows.Next()
	return found, rows.Err()
}
