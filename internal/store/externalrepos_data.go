package store

import (
	"context"
	"database/sql"
	"errors"
)

// ExternalRepoData returns the data (JSON text) of the repo's active
// external_repo_data row, nil when it has none.
func (tx *Tx) ExternalRepoData(ctx context.Context, id int64) (*string, error) {
	var data *string
	err := tx.queryRow(ctx, "SELECT data FROM external_repo_data WHERE external_repo_id = ? AND active = TRUE", id).
		Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return data, err
}

// SetExternalRepoData replaces the repo's external_repo_data row (if any)
// with one holding data (JSON text) at this transaction's event.
func (tx *Tx) SetExternalRepoData(ctx context.Context, id int64, data string, userID int64) error {
	if _, err := tx.revoke(ctx, "external_repo_data", userID, "external_repo_id = ?", id); err != nil {
		return err
	}
	event, err := tx.NewEvent(ctx)
	if err != nil {
		return err
	}
	_, err = tx.exec(ctx, "INSERT INTO external_repo_data (external_repo_id, data, create_event, creator_id, active) "+
		"VALUES (?, ?, ?, ?, TRUE)", id, data, event, userID)
	return classify(err)
}
