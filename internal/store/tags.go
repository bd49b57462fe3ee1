package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// A Tag is a tag with its configuration (tag joined with tag_config and
// the permission's name), now or as at an event.
type Tag struct {
	ID   int64
	Name string
	TagConfig
	Perm        *string // the name of PermID
	CreateEvent int64   // of the configuration row read
	RevokeEvent *int64  // of the configuration row read; nil while current
}

// TagConfig is a tag's versioned configuration (tag_config).
type TagConfig struct {
	Arches          *string
	PermID          *int64
	Locked          bool
	MavenSupport    bool
	MavenIncludeAll bool
}

// A TagRef is a row of the tag table: a name, which stays after the tag
// is deleted (so its id is reused if the tag is created again).
type TagRef struct {
	ID   int64
	Name string
}

// A TagExtra is one extra setting of a tag: Value is its JSON text, nil
// when the tag blocks the key.
type TagExtra struct {
	Key   string
	Value *string
}

// A TagLink is a row of tag_inheritance: TagID inherits from ParentID.
// Name is the parent's name in [Tx.TagParents] and the child's in
// [Tx.TagChildren].
type TagLink struct {
	TagID        int64
	ParentID     int64
	Name         string
	Priority     int64
	MaxDepth     *int64
	Intransitive bool
	NoConfig     bool
	PkgFilter    string
}

// TagTables are the versioned tables keyed by tag_id: deleting a tag
// revokes its rows in each, and tagLastChangeEvent reads their events.
// Tables keyed by tag that later migrations add belong here too.
var TagTables = []string{"tag_config", "tag_extra", "tag_inheritance", "tag_packages", "tag_package_owners", "tag_listing",
	"tag_external_repos", "group_config", "group_req_listing", "group_package_listing"}

// TagRefByID returns the tag table's row with the given id, deleted tags
// included.
func (tx *Tx) TagRefByID(ctx context.Context, id int64) (*TagRef, error) {
	r := TagRef{ID: id}
	if err := tx.queryRow(ctx, "SELECT name FROM tag WHERE id = ?", id).Scan(&r.Name); err != nil {
		return nil, notFound(err, "tag", id)
	}
	return &r, nil
}

// TagRefByName is [Tx.TagRefByID] by name.
func (tx *Tx) TagRefByName(ctx context.Context, name string) (*TagRef, error) {
	r := TagRef{Name: name}
	if err := tx.queryRow(ctx, "SELECT id FROM tag WHERE name = ?", name).Scan(&r.ID); err != nil {
		return nil, notFound(err, "tag", name)
	}
	return &r, nil
}

// CreateTag creates a tag with its configuration at this transaction's
// event, reusing the id of a deleted tag of the same name, and returns
// the id.
func (tx *Tx) CreateTag(ctx context.Context, name string, cfg TagConfig, creatorID int64) (int64, error) {
	ref, err := tx.TagRefByName(ctx, name)
	var id int64
	switch {
	case err == nil:
		id = ref.ID
	case errors.Is(err, ErrNotFound):
		if id, err = tx.insertID(ctx, "INSERT INTO tag (name) VALUES (?) RETURNING id", name); err != nil {
			return 0, err
		}
	default:
		return 0, err
	}
	return id, tx.insertTagConfig(ctx, id, cfg, creatorID)
}

func (tx *Tx) insertTagConfig(ctx context.Context, tagID int64, cfg TagConfig, creatorID int64) error {
	event, err := tx.NewEvent(ctx)
	if err != nil {
		return err
	}
	_, err = tx.exec(ctx, "INSERT INTO tag_config (tag_id, arches, perm_id, locked, maven_support, maven_include_all, "+
		"create_event, creator_id, active) VALUES (?, ?, ?, ?, ?, ?, ?, ?, TRUE)",
		tagID, cfg.Arches, cfg.PermID, cfg.Locked, cfg.MavenSupport, cfg.MavenIncludeAll, event, creatorID)
	return err
}

// SetTagConfig replaces a tag's configuration (revoke and insert at this
// transaction's event), as upstream's edit_tag does.
func (tx *Tx) SetTagConfig(ctx context.Context, tagID int64, cfg TagConfig, userID int64) error {
	n, err := tx.revoke(ctx, "tag_config", userID, "tag_id = ?", tagID)
	if err != nil {
		return err
	}
	if n == 0 {
		return &NotFoundError{Kind: "tag", Key: tagID}
	}
	return tx.insertTagConfig(ctx, tagID, cfg, userID)
}

// RenameTag changes a tag's name, which is not versioned (upstream's
// edit_tag updates the tag table in place). A taken name is a
// [*ConflictError].
func (tx *Tx) RenameTag(ctx context.Context, tagID int64, name string) error {
	return tx.execOne(ctx, "tag", tagID, "UPDATE tag SET name = ? WHERE id = ?", name, tagID)
}

const tagColumns = "t.id, t.name, tc.arches, tc.perm_id, p.name, tc.locked, tc.maven_support, tc.maven_include_all, " +
	"tc.create_event, tc.revoke_event"

const tagFrom = " FROM tag_config tc JOIN tag t ON t.id = tc.tag_id LEFT JOIN permissions p ON p.id = tc.perm_id "

func scanTag(row scanner) (*Tag, error) {
	var t Tag
	err := row.Scan(&t.ID, &t.Name, &t.Arches, &t.PermID, &t.Perm, &t.Locked, &t.MavenSupport, &t.MavenIncludeAll,
		&t.CreateEvent, &t.RevokeEvent)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// GetTag returns the tag with the given id as configured now or, with
// asOf, at that event; a tag without configuration then (never created
// or deleted) is not found.
func (tx *Tx) GetTag(ctx context.Context, id int64, asOf *int64) (*Tag, error) {
	cond, args := eventCondition("tc", asOf)
	t, err := scanTag(tx.queryRow(ctx, "SELECT "+tagColumns+tagFrom+"WHERE t.id = ? AND "+cond, append([]any{id}, args...)...))
	if err != nil {
		return nil, notFound(err, "tag", id)
	}
	return t, nil
}

// GetTagByName is [Tx.GetTag] by name.
func (tx *Tx) GetTagByName(ctx context.Context, name string, asOf *int64) (*Tag, error) {
	cond, args := eventCondition("tc", asOf)
	t, err := scanTag(tx.queryRow(ctx, "SELECT "+tagColumns+tagFrom+"WHERE t.name = ? AND "+cond, append([]any{name}, args...)...))
	if err != nil {
		return nil, notFound(err, "tag", name)
	}
	return t, nil
}

// TagLastConfig returns the revoke event of the newest configuration of
// the tag (nil while it is current), for getTag's event "auto": found is
// false when the tag never had one.
func (tx *Tx) TagLastConfig(ctx context.Context, ref TagRef) (revoke *int64, found bool, err error) {
	err = tx.queryRow(ctx, "SELECT revoke_event FROM tag_config WHERE tag_id = ? ORDER BY create_event DESC LIMIT 1",
		ref.ID).Scan(&revoke)
	if err == sql.ErrNoRows {
		return nil, false, nil
	}
	return revoke, err == nil, err
}

// ListTags returns the current tags in id order.
func (tx *Tx) ListTags(ctx context.Context) ([]Tag, error) {
	rows, err := tx.query(ctx, "SELECT "+tagColumns+tagFrom+"WHERE tc.active = TRUE ORDER BY t.id")
	if err != nil {
		return nil, err
	}
	return collect(rows, scanTag)
}

// TagExtras returns a tag's extra settings in key order, now or at asOf;
// blocked keys (a NULL value) only when blocked is set.
func (tx *Tx) TagExtras(ctx context.Context, tagID int64, asOf *int64, blocked bool) ([]TagExtra, error) {
	cond, args := eventCondition("te", asOf)
	q := "SELECT te.key, te.value FROM tag_extra te WHERE te.tag_id = ? AND " + cond
	if !blocked {
		q += " AND te.value IS NOT NULL"
	}
	rows, err := tx.query(ctx, q+" ORDER BY te.key", append([]any{tagID}, args...)...)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(row scanner) (*TagExtra, error) {
		var e TagExtra
		return &e, row.Scan(&e.Key, &e.Value)
	})
}

// A TagSetting is one tag's extra key with its JSON text.
type TagSetting struct {
	TagID int64
	Key   string
	Value string
}

// TagSettings returns the current extra settings of every tag with one
// of the keys, set on the tag itself (not inherited, not blocked), in tag
// and key order.
func (tx *Tx) TagSettings(ctx context.Context, keys ...string) ([]TagSetting, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
	}
	rows, err := tx.query(ctx, "SELECT tag_id, key, value FROM tag_extra WHERE active = TRUE AND value IS NOT NULL AND key IN ("+
		strings.TrimSuffix(strings.Repeat("?, ", len(keys)), ", ")+") ORDER BY tag_id, key", args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(row scanner) (*TagSetting, error) {
		var s TagSetting
		return &s, row.Scan(&s.TagID, &s.Key, &s.Value)
	})
}

// SetTagExtra sets (value JSON text) or blocks (value nil) a tag's extra
// key, revoking its current row, at this transaction's event.
func (tx *Tx) SetTagExtra(ctx context.Context, tagID int64, key string, value *string, userID int64) error {
	if _, err := tx.revoke(ctx, "tag_extra", userID, "tag_id = ? AND key = ?", tagID, key); err != nil {
		return err
	}
	event, err := tx.NewEvent(ctx)
	if err != nil {
		return err
	}
	_, err = tx.exec(ctx, "INSERT INTO tag_extra (tag_id, key, value, create_event, creator_id, active) VALUES (?, ?, ?, ?, ?, TRUE)",
		tagID, key, value, event, userID)
	return err
}

// RemoveTagExtra revokes a tag's extra key.
func (tx *Tx) RemoveTagExtra(ctx context.Context, tagID int64, key string, userID int64) error {
	_, err := tx.revoke(ctx, "tag_extra", userID, "tag_id = ? AND key = ?", tagID, key)
	return err
}

const linkColumns = "ti.tag_id, ti.parent_id, t.name, ti.priority, ti.maxdepth, ti.intransitive, ti.noconfig, ti.pkg_filter"

func scanLink(row scanner) (*TagLink, error) {
	var l TagLink
	return &l, row.Scan(&l.TagID, &l.ParentID, &l.Name, &l.Priority, &l.MaxDepth, &l.Intransitive, &l.NoConfig, &l.PkgFilter)
}

// TagParents returns a tag's inheritance links, by priority, now or at
// asOf; Name is each parent's name.
func (tx *Tx) TagParents(ctx context.Context, tagID int64, asOf *int64) ([]TagLink, error) {
	return tx.tagLinks(ctx, "parent_id", "tag_id", tagID, asOf)
}

// TagChildren returns the links inheriting from a tag, by priority, now
// or at asOf; Name is each child's name.
func (tx *Tx) TagChildren(ctx context.Context, parentID int64, asOf *int64) ([]TagLink, error) {
	return tx.tagLinks(ctx, "tag_id", "parent_id", parentID, asOf)
}

func (tx *Tx) tagLinks(ctx context.Context, nameOf, by string, id int64, asOf *int64) ([]TagLink, error) {
	cond, args := eventCondition("ti", asOf)
	rows, err := tx.query(ctx, "SELECT "+linkColumns+" FROM tag_inheritance ti JOIN tag t ON t.id = ti."+nameOf+
		" WHERE ti."+by+" = ? AND "+cond+" ORDER BY ti.priority, ti."+nameOf, append([]any{id}, args...)...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanLink)
}

// RevokeTagLink ends the current link from tagID to parentID, if any.
func (tx *Tx) RevokeTagLink(ctx context.Context, tagID, parentID, userID int64) error {
	_, err := tx.revoke(ctx, "tag_inheritance", userID, "tag_id = ? AND parent_id = ?", tagID, parentID)
	return err
}

// AddTagLink inserts an inheritance link at this transaction's event; a
// second current link to the parent or at the priority is a
// [*ConflictError].
func (tx *Tx) AddTagLink(ctx context.Context, l TagLink, userID int64) error {
	event, err := tx.NewEvent(ctx)
	if err != nil {
		return err
	}
	_, err = tx.exec(ctx, "INSERT INTO tag_inheritance (tag_id, parent_id, priority, maxdepth, intransitive, noconfig, pkg_filter, "+
		"create_event, creator_id, active) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, TRUE)",
		l.TagID, l.ParentID, l.Priority, l.MaxDepth, l.Intransitive, l.NoConfig, l.PkgFilter, event, userID)
	return err
}

// DeleteTag revokes the tag's configuration and its rows in the other
// [TagTables], and the links inheriting from it, as upstream's
// delete_tag; the tag table keeps its name.
func (tx *Tx) DeleteTag(ctx context.Context, tagID, userID int64) error {
	n, err := tx.revoke(ctx, "tag_config", userID, "tag_id = ?", tagID)
	if err != nil {
		return err
	}
	if n == 0 {
		return &NotFoundError{Kind: "tag", Key: tagID}
	}
	for _, table := range TagTables {
		if table == "tag_config" {
			continue
		}
		if _, err := tx.revoke(ctx, table, userID, "tag_id = ?", tagID); err != nil {
			return err
		}
	}
	_, err = tx.revoke(ctx, "tag_inheritance", userID, "parent_id = ?", tagID)
	return err
}

// TagLastChangeEvent returns the newest event, earlier than before when
// set, that created or revoked a row of [TagTables] or recorded a
// tag_updates row for any of tags; 0 when there is none.
func (tx *Tx) TagLastChangeEvent(ctx context.Context, tags []int64, before *int64) (int64, error) {
	if len(tags) == 0 {
		return 0, nil
	}
	in := "tag_id IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(tags)), ", ") + ")"
	args := make([]any, 0, len(tags)+1)
	for _, t := range tags {
		args = append(args, t)
	}
	var parts []string
	add := func(table, col string) {
		q := "SELECT MAX(" + col + ") AS e FROM " + table + " WHERE " + in
		if before != nil {
			q += fmt.Sprintf(" AND %s < %d", col, *before)
		}
		parts = append(parts, q)
	}
	add("tag_updates", "update_event")
	for _, table := range TagTables {
		add(table, "create_event")
		add(table, "revoke_event")
	}
	var all []any
	for range parts {
		all = append(all, args...)
	}
	var e sql.NullInt64
	err := tx.queryRow(ctx, "SELECT MAX(e) FROM ("+strings.Join(parts, " UNION ALL ")+") AS changes", all...).Scan(&e)
	return e.Int64, err
}

// CreateTagName inserts a name into the tag table without configuration
// (upstream's get_tag_id with create) and returns its id.
func (tx *Tx) CreateTagName(ctx context.Context, name string) (int64, error) {
	return tx.insertID(ctx, "INSERT INTO tag (name) VALUES (?) RETURNING id", name)
}
