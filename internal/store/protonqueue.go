package store

import (
	"context"
	"fmt"
	"time"
)

// ProtonMessage is a row of proton_queue: a message the hub's protonmsg
// layer could not deliver, kept to be sent again. Props and Body are JSON.
type ProtonMessage struct {
	ID      int64
	Created time.Time
	Address string // the topic, such as "task.free", without the prefix
	Props   string
	Body    string
}

// QueueProtonMessages stores messages in proton_queue, created now; their
// ID and Created are ignored.
func (tx *Tx) QueueProtonMessages(ctx context.Context, msgs []ProtonMessage) error {
	t := now()
	for _, m := range msgs {
		if _, err := tx.exec(ctx, "INSERT INTO proton_queue (created_ts, address, props, body) VALUES (?, ?, ?, ?)",
			t, m.Address, m.Props, m.Body); err != nil {
			return fmt.Errorf("store: queue proton message: %w", err)
		}
	}
	return nil
}

// ExpireProtonMessages deletes the queued messages created before before
// (upstream's max_age) and returns how many it deleted.
func (tx *Tx) ExpireProtonMessages(ctx context.Context, before time.Time) (int64, error) {
	res, err := tx.exec(ctx, "DELETE FROM proton_queue WHERE created_ts < ?", before.UTC())
	if err != nil {
		return 0, fmt.Errorf("store: expire proton messages: %w", err)
	}
	return res.RowsAffected()
}

// ProtonMessages returns up to limit queued messages, oldest first.
func (tx *Tx) ProtonMessages(ctx context.Context, limit int) ([]ProtonMessage, error) {
	rows, err := tx.query(ctx, "SELECT id, created_ts, address, props, body FROM proton_queue ORDER BY id LIMIT ?", limit)
	if err != nil {
		return nil, fmt.Errorf("store: proton messages: %w", err)
	}
	return collect(rows, func(row scanner) (*ProtonMessage, error) {
		var m ProtonMessage
		return &m, row.Scan(&m.ID, &m.Created, &m.Address, &m.Props, &m.Body)
	})
}

// DeleteProtonMessages deletes the queued messages with the given ids.
func (tx *Tx) DeleteProtonMessages(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	q := "DELETE FROM proton_queue WHERE id IN (" + placeholders(len(ids)) + ")"
	if _, err := tx.exec(ctx, q, args...); err != nil {
		return fmt.Errorf("store: delete proton messages: %w", err)
	}
	return nil
}
