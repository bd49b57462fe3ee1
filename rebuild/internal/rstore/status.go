package rstore

import (
	"context"
)

// LastBuilds returns the last builds (Package.LastBuildID) of a
// collection's packages, by build id, in one query.
func (tx *Tx) LastBuilds(ctx context.Context, collection int64) (map[int64]*Build, error) {
	bs, err := tx.builds(ctx, "id IN (SELECT last_build_id FROM package WHERE collection_id = ? AND last_build_id IS NOT NULL)",
		collection)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]*Build, len(bs))
	for _, b := range bs {
		out[b.ID] = b
	}
	return out, nil
}
