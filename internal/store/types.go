package store

import "context"

// Volume is a row of volume: where build files live (0 is DEFAULT).
type Volume struct {
	ID   int64
	Name string
}

// BType is a row of btype, a build type (rpm, maven, win, image, …).
type BType struct {
	ID   int64
	Name string
}

// ArchiveType is a row of archivetypes.
type ArchiveType struct {
	ID              int64
	Name            string
	Description     string
	Extensions      string // space-separated, without dots
	CompressionType *string
}

// ListVolumes returns the volumes in id order.
func (tx *Tx) ListVolumes(ctx context.Context) ([]Volume, error) {
	rows, err := tx.query(ctx, "SELECT id, name FROM volume ORDER BY id")
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r scanner) (*Volume, error) {
		var v Volume
		return &v, r.Scan(&v.ID, &v.Name)
	})
}

// ListBTypes returns the build types in id order.
func (tx *Tx) ListBTypes(ctx context.Context) ([]BType, error) {
	rows, err := tx.query(ctx, "SELECT id, name FROM btype ORDER BY id")
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r scanner) (*BType, error) {
		var b BType
		return &b, r.Scan(&b.ID, &b.Name)
	})
}

// ListArchiveTypes returns the archive types in id order.
func (tx *Tx) ListArchiveTypes(ctx context.Context) ([]ArchiveType, error) {
	rows, err := tx.query(ctx, "SELECT id, name, description, extensions, compression_type FROM archivetypes ORDER BY id")
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r scanner) (*ArchiveType, error) {
		var a ArchiveType
		return &a, r.Scan(&a.ID, &a.Name, &a.Description, &a.Extensions, &a.CompressionType)
	})
}
