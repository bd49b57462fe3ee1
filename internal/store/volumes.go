package store

import (
	"context"
	"database/sql"
	"errors"
)

// CreateVolume adds a storage volume and returns its id; a taken name is
// a [*ConflictError].
func (tx *Tx) CreateVolume(ctx context.Context, name string) (int64, error) {
	return tx.insertID(ctx, "INSERT INTO volume (name) VALUES (?) RETURNING id", name)
}

// DeleteVolume removes the volume with the given id.
func (tx *Tx) DeleteVolume(ctx context.Context, id int64) error {
	_, err := tx.exec(ctx, "DELETE FROM volume WHERE id = ?", id)
	return err
}

// VolumeHasBuilds reports whether some build is stored on the volume.
func (tx *Tx) VolumeHasBuilds(ctx context.Context, id int64) (bool, error) {
	var n int64
	err := tx.queryRow(ctx, "SELECT id FROM build WHERE volume_id = ? LIMIT 1", id).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, classify(err)
}

// SetBuildVolume records that the build's files are on the volume.
func (tx *Tx) SetBuildVolume(ctx context.Context, buildID, volumeID int64) error {
	return tx.execOne(ctx, "build", buildID, "UPDATE build SET volume_id = ? WHERE id = ?", volumeID, buildID)
}
