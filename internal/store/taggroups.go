package store

import (
	"context"
	"database/sql"
	"errors"
)

// LookupGroup finds a comps group of the groups table by id (an int64)
// or name (a string), as upstream's lookup_group; none is a
// [*NotFoundError].
func (tx *Tx) LookupGroup(ctx context.Context, key any) (*NamedRow, error) {
	var r NamedRow
	var err error
	switch k := key.(type) {
	case int64:
		r.ID = k
		err = tx.queryRow(ctx, "SELECT name FROM groups WHERE id = ?", k).Scan(&r.Name)
	case string:
		r.Name = k
		err = tx.queryRow(ctx, "SELECT id FROM groups WHERE name = ?", k).Scan(&r.ID)
	default:
		return nil, errors.New("store: LookupGroup takes an id or a name")
	}
	if err != nil {
		return nil, notFound(err, "group", key)
	}
	return &r, nil
}

// CreateGroup inserts a comps group and returns its id; a taken name is a
// [*ConflictError].
func (tx *Tx) CreateGroup(ctx context.Context, name string) (int64, error) {
	return tx.insertID(ctx, "INSERT INTO groups (name) VALUES (?) RETURNING id", name)
}

// A GroupConfig is a row of group_config with its group's name: a comps
// group as one tag has it.
type GroupConfig struct {
	GroupID, TagID int64
	Name           string
	Blocked        bool
	Exported       *bool
	DisplayName    string
	IsDefault      *bool
	UserVisible    *bool
	Description    *string
	LangOnly       *string
	BiarchOnly     *bool
}

// A GroupPackage is a row of group_package_listing: a package of a
// group as one tag has it.
type GroupPackage struct {
	GroupID, TagID int64
	Package        string
	Blocked        bool
	Type           string
	BasearchOnly   *bool
	Requires       *string
}

// A GroupReq is a row of group_req_listing with the required group's
// name: a group's requirement on another group, as one tag has it.
type GroupReq struct {
	GroupID, TagID, ReqID int64
	Name                  string
	Blocked               bool
	Type                  *string
	IsMetapkg             bool
}

// GroupConfigs returns the tag's own group_config rows, current or as of
// asOf, in the order they were written.
func (tx *Tx) GroupConfigs(ctx context.Context, tagID int64, asOf *int64) ([]GroupConfig, error) {
	cond, args := eventCondition("gc", asOf)
	rows, err := tx.query(ctx, "SELECT g.name, gc.group_id, gc.tag_id, gc.blocked, gc.exported, gc.display_name, gc.is_default, "+
		"gc.uservisible, gc.description, gc.langonly, gc.biarchonly FROM group_config gc JOIN groups g ON g.id = gc.group_id "+
		"WHERE "+cond+" AND gc.tag_id = ? ORDER BY gc.create_event, gc.group_id", append(args, tagID)...)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r scanner) (*GroupConfig, error) {
		var g GroupConfig
		return &g, r.Scan(&g.Name, &g.GroupID, &g.TagID, &g.Blocked, &g.Exported, &g.DisplayName, &g.IsDefault,
			&g.UserVisible, &g.Description, &g.LangOnly, &g.BiarchOnly)
	})
}

// GroupPackages returns the tag's own group_package_listing rows, current
// or as of asOf, in the order they were written.
func (tx *Tx) GroupPackages(ctx context.Context, tagID int64, asOf *int64) ([]GroupPackage, error) {
	cond, args := eventCondition("gp", asOf)
	rows, err := tx.query(ctx, "SELECT gp.group_id, gp.tag_id, gp.package, gp.blocked, gp.type, gp.basearchonly, gp.requires "+
		"FROM group_package_listing gp WHERE "+cond+" AND gp.tag_id = ? ORDER BY gp.create_event, gp.group_id, gp.package",
		append(args, tagID)...)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r scanner) (*GroupPackage, error) {
		var p GroupPackage
		return &p, r.Scan(&p.GroupID, &p.TagID, &p.Package, &p.Blocked, &p.Type, &p.BasearchOnly, &p.Requires)
	})
}

// GroupReqs returns the tag's own group_req_listing rows, current or as
// of asOf, in the order they were written.
func (tx *Tx) GroupReqs(ctx context.Context, tagID int64, asOf *int64) ([]GroupReq, error) {
	cond, args := eventCondition("gr", asOf)
	rows, err := tx.query(ctx, "SELECT gr.group_id, gr.tag_id, gr.req_id, g.name, gr.blocked, gr.type, gr.is_metapkg "+
		"FROM group_req_listing gr JOIN groups g ON g.id = gr.req_id WHERE "+cond+" AND gr.tag_id = ? "+
		"ORDER BY gr.create_event, gr.group_id, gr.req_id", append(args, tagID)...)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(r scanner) (*GroupReq, error) {
		var q GroupReq
		return &q, r.Scan(&q.GroupID, &q.TagID, &q.ReqID, &q.Name, &q.Blocked, &q.Type, &q.IsMetapkg)
	})
}

// SetGroupConfig replaces the tag's group_config row for the group at
// this transaction's event (upstream's _grplist_add); g.Name is not
// stored.
func (tx *Tx) SetGroupConfig(ctx context.Context, g GroupConfig, userID int64) error {
	if _, err := tx.RevokeGroupConfig(ctx, g.TagID, g.GroupID, userID); err != nil {
		return err
	}
	event, err := tx.NewEvent(ctx)
	if err != nil {
		return err
	}
	_, err = tx.exec(ctx, "INSERT INTO group_config (group_id, tag_id, blocked, exported, display_name, is_default, uservisible, "+
		"description, langonly, biarchonly, create_event, creator_id, active) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, TRUE)",
		g.GroupID, g.TagID, g.Blocked, g.Exported, g.DisplayName, g.IsDefault, g.UserVisible, g.Description, g.LangOnly,
		g.BiarchOnly, event, userID)
	return classify(err)
}

// RevokeGroupConfig revokes the tag's group_config row for the group and
// returns how many rows it revoked (0 or 1).
func (tx *Tx) RevokeGroupConfig(ctx context.Context, tagID, groupID, userID int64) (int64, error) {
	return tx.revoke(ctx, "group_config", userID, "group_id = ? AND tag_id = ?", groupID, tagID)
}

// SetGroupPackage replaces the tag's group_package_listing row for the
// group's package at this transaction's event (upstream's _grp_pkg_add).
func (tx *Tx) SetGroupPackage(ctx context.Context, p GroupPackage, userID int64) error {
	if _, err := tx.RevokeGroupPackage(ctx, p.TagID, p.GroupID, p.Package, userID); err != nil {
		return err
	}
	event, err := tx.NewEvent(ctx)
	if err != nil {
		return err
	}
	_, err = tx.exec(ctx, "INSERT INTO group_package_listing (group_id, tag_id, package, blocked, type, basearchonly, requires, "+
		"create_event, creator_id, active) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, TRUE)",
		p.GroupID, p.TagID, p.Package, p.Blocked, p.Type, p.BasearchOnly, p.Requires, event, userID)
	return classify(err)
}

// RevokeGroupPackage revokes the tag's group_package_listing row for the
// group's package and returns how many rows it revoked.
func (tx *Tx) RevokeGroupPackage(ctx context.Context, tagID, groupID int64, pkg string, userID int64) (int64, error) {
	return tx.revoke(ctx, "group_package_listing", userID, "group_id = ? AND tag_id = ? AND package = ?", groupID, tagID, pkg)
}

// SetGroupReq replaces the tag's group_req_listing row for the group's
// requirement at this transaction's event (upstream's _grp_req_add);
// r.Name is not stored.
func (tx *Tx) SetGroupReq(ctx context.Context, r GroupReq, userID int64) error {
	if _, err := tx.RevokeGroupReq(ctx, r.TagID, r.GroupID, r.ReqID, userID); err != nil {
		return err
	}
	event, err := tx.NewEvent(ctx)
	if err != nil {
		return err
	}
	_, err = tx.exec(ctx, "INSERT INTO group_req_listing (group_id, tag_id, req_id, blocked, type, is_metapkg, "+
		"create_event, creator_id, active) VALUES (?, ?, ?, ?, ?, ?, ?, ?, TRUE)",
		r.GroupID, r.TagID, r.ReqID, r.Blocked, r.Type, r.IsMetapkg, event, userID)
	return classify(err)
}

// RevokeGroupReq revokes the tag's group_req_listing row for the group's
// requirement and returns how many rows it revoked.
func (tx *Tx) RevokeGroupReq(ctx context.Context, tagID, groupID, reqID, userID int64) (int64, error) {
	return tx.revoke(ctx, "group_req_listing", userID, "group_id = ? AND tag_id = ? AND req_id = ?", groupID, tagID, reqID)
}

// GroupEntryBlocked reports whether the tag's own current row of a
// group table is there and whether it blocks, as the unblock calls check
// it: table is group_config (key nil), group_package_listing (key the
// package name) or group_req_listing (key the required group's id). On
// PostgreSQL the row is locked for the rest of the transaction.
func (tx *Tx) GroupEntryBlocked(ctx context.Context, table string, tagID, groupID int64, key any) (found, blocked bool, err error) {
	q := "SELECT blocked FROM " + table + " WHERE active = TRUE AND group_id = ? AND tag_id = ?"
	args := []any{groupID, tagID}
	switch table {
	case "group_config":
	case "group_package_listing":
		q += " AND package = ?"
		args = append(args, key)
	case "group_req_listing":
		q += " AND req_id = ?"
		args = append(args, key)
	default:
		return false, false, errors.New("store: GroupEntryBlocked of table " + table)
	}
	if tx.pool.dialect == Postgres {
		q += " FOR UPDATE"
	}
	err = tx.queryRow(ctx, q, args...).Scan(&blocked)
	if errors.Is(err, sql.ErrNoRows) {
		return false, false, nil
	}
	return err == nil, blocked, err
}
