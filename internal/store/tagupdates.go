package store

import "context"

// Tag update types (koji.TAG_UPDATE_TYPES).
const (
	TagUpdateVolumeChange = 0
	TagUpdateImport       = 1
	TagUpdateManual       = 2
)

// AddTagUpdate is upstream's set_tag_update: a change to the tag's
// contents no versioned row records, at this transaction's event.
func (tx *Tx) AddTagUpdate(ctx context.Context, tagID, updaterID int64, updateType int) error {
	event, err := tx.NewEvent(ctx)
	if err != nil {
		return err
	}
	_, err = tx.exec(ctx, "INSERT INTO tag_updates (tag_id, update_event, updater_id, update_type) VALUES (?, ?, ?, ?)",
		tagID, event, updaterID, updateType)
	return err
}
