package store

import (
	"context"
	"errors"
)

// A Target is a build target with its configuration (build_target joined
// with build_target_config and the two tags' names), now or as at an
// event.
type Target struct {
	ID           int64
	Name         string
	BuildTag     int64
	BuildTagName string
	DestTag      int64
	DestTagName  string
}

// TargetFilter selects targets for [Tx.ListTargets]; nil fields do not
// filter.
type TargetFilter struct {
	ID       *int64
	Name     *string
	BuildTag *int64
	DestTag  *int64
	AsOf     *int64 // read the configuration as at this event
}

// TargetRefByID returns the build_target table's row with the given id
// (deleted targets included) as a [TagRef]-like pair.
func (tx *Tx) TargetRefByID(ctx context.Context, id int64) (*TagRef, error) {
	r := TagRef{ID: id}
	if err := tx.queryRow(ctx, "SELECT name FROM build_target WHERE id = ?", id).Scan(&r.Name); err != nil {
		return nil, notFound(err, "build target", id)
	}
	return &r, nil
}

// TargetRefByName is [Tx.TargetRefByID] by name.
func (tx *Tx) TargetRefByName(ctx context.Context, name string) (*TagRef, error) {
	r := TagRef{Name: name}
	if err := tx.queryRow(ctx, "SELECT id FROM build_target WHERE name = ?", name).Scan(&r.ID); err != nil {
		return nil, notFound(err, "build target", name)
	}
	return &r, nil
}

// CreateTarget configures a target at this transaction's event, reusing
// the id of a deleted target of the same name (upstream's
// get_build_target_id with create), and returns the id.
func (tx *Tx) CreateTarget(ctx context.Context, name string, buildTag, destTag, creatorID int64) (int64, error) {
	ref, err := tx.TargetRefByName(ctx, name)
	var id int64
	switch {
	case err == nil:
		id = ref.ID
	case errors.Is(err, ErrNotFound):
		if id, err = tx.insertID(ctx, "INSERT INTO build_target (name) VALUES (?) RETURNING id", name); err != nil {
			return 0, err
		}
	default:
		return 0, err
	}
	return id, tx.insertTargetConfig(ctx, id, buildTag, destTag, creatorID)
}

func (tx *Tx) insertTargetConfig(ctx context.Context, id, buildTag, destTag, creatorID int64) error {
	event, err := tx.NewEvent(ctx)
	if err != nil {
		return err
	}
	_, err = tx.exec(ctx, "INSERT INTO build_target_config (build_target_id, build_tag, dest_tag, create_event, creator_id, active) "+
		"VALUES (?, ?, ?, ?, ?, TRUE)", id, buildTag, destTag, event, creatorID)
	return classify(err)
}

// SetTargetConfig replaces a target's build and destination tags (revoke
// and insert at this transaction's event), as upstream's
// edit_build_target does.
func (tx *Tx) SetTargetConfig(ctx context.Context, id, buildTag, destTag, userID int64) error {
	if _, err := tx.revoke(ctx, "build_target_config", userID, "build_target_id = ?", id); err != nil {
		return err
	}
	return tx.insertTargetConfig(ctx, id, buildTag, destTag, userID)
}

// RenameTarget changes a target's name, which is not versioned. A taken
// name is a [*ConflictError].
func (tx *Tx) RenameTarget(ctx context.Context, id int64, name string) error {
	return tx.execOne(ctx, "build target", id, "UPDATE build_target SET name = ? WHERE id = ?", name, id)
}

// DeleteTarget revokes a target's configuration; the name stays.
func (tx *Tx) DeleteTarget(ctx context.Context, id, userID int64) error {
	_, err := tx.revoke(ctx, "build_target_config", userID, "build_target_id = ?", id)
	return err
}

// RevokeTagTargets revokes the configuration of every target building in
// or tagging into the tag, as upstream's delete_tag does.
func (tx *Tx) RevokeTagTargets(ctx context.Context, tagID, userID int64) error {
	if _, err := tx.revoke(ctx, "build_target_config", userID, "build_tag = ?", tagID); err != nil {
		return err
	}
	_, err := tx.revoke(ctx, "build_target_config", userID, "dest_tag = ?", tagID)
	return err
}

// ListTargets returns the targets passing the filter, in id order.
func (tx *Tx) ListTargets(ctx context.Context, f TargetFilter) ([]Target, error) {
	cond, args := eventCondition("btc", f.AsOf)
	q := "SELECT bt.id, bt.name, btc.build_tag, t1.name, btc.dest_tag, t2.name FROM build_target_config btc " +
		"JOIN build_target bt ON bt.id = btc.build_target_id JOIN tag t1 ON t1.id = btc.build_tag " +
		"JOIN tag t2 ON t2.id = btc.dest_tag WHERE " + cond
	for _, c := range []struct {
		clause string
		v      any
		set    bool
	}{
		{" AND bt.id = ?", ptrArg(f.ID), f.ID != nil},
		{" AND bt.name = ?", ptrArg(f.Name), f.Name != nil},
		{" AND btc.build_tag = ?", ptrArg(f.BuildTag), f.BuildTag != nil},
		{" AND btc.dest_tag = ?", ptrArg(f.DestTag), f.DestTag != nil},
	} {
		if c.set {
			q += c.clause
			args = append(args, c.v)
		}
	}
	rows, err := tx.query(ctx, q+" ORDER BY bt.id", args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(row scanner) (*Target, error) {
		var t Target
		return &t, row.Scan(&t.ID, &t.Name, &t.BuildTag, &t.BuildTagName, &t.DestTag, &t.DestTagName)
	})
}

func ptrArg[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
