package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
)

// HistoryTables are upstream query_history's table_fields (kojihub.py,
// 1.35): each versioned table queryHistory reads, with its own columns.
var HistoryTables = map[string][]string{
	"user_perms":            {"user_id", "perm_id"},
	"user_groups":           {"user_id", "group_id"},
	"cg_users":              {"user_id", "cg_id"},
	"tag_inheritance":       {"tag_id", "parent_id", "priority", "maxdepth", "intransitive", "noconfig", "pkg_filter"},
	"tag_config":            {"tag_id", "arches", "perm_id", "locked", "maven_support", "maven_include_all"},
	"tag_extra":             {"tag_id", "key", "value"},
	"build_target_config":   {"build_target_id", "build_tag", "dest_tag"},
	"external_repo_config":  {"external_repo_id", "url"},
	"host_config":           {"host_id", "arches", "capacity", "description", "comment", "enabled"},
	"host_channels":         {"host_id", "channel_id"},
	"tag_external_repos":    {"tag_id", "external_repo_id", "priority", "merge_mode", "arches"},
	"tag_listing":           {"build_id", "tag_id"},
	"tag_packages":          {"package_id", "tag_id", "blocked", "extra_arches"},
	"tag_package_owners":    {"package_id", "tag_id", "owner"},
	"group_config":          {"group_id", "tag_id", "blocked", "exported", "display_name", "is_default", "uservisible", "description", "langonly", "biarchonly"},
	"group_req_listing":     {"group_id", "tag_id", "req_id", "blocked", "type", "is_metapkg"},
	"group_package_listing": {"group_id", "tag_id", "package", "blocked", "type", "basearchonly", "requires"},
}

// historySchema are the HistoryTables this schema has (all of them).
var historySchema = map[string]bool{
	"user_perms": true, "user_groups": true, "tag_inheritance": true, "tag_config": true, "tag_extra": true,
	"build_target_config": true, "host_config": true, "host_channels": true, "tag_listing": true,
	"tag_packages": true, "tag_package_owners": true, "cg_users": true,
	"external_repo_config": true, "tag_external_repos": true,
	"group_config": true, "group_req_listing": true, "group_package_listing": true,
}

// historyNameJoins are upstream's name_joins: field → table, join alias,
// member alias (the last two default to the table).
var historyNameJoins = map[string][3]string{
	"user_id":          {"users", "users", "user"},
	"perm_id":          {"permissions", "permission", "permission"},
	"cg_id":            {"content_generator", "content_generator", "content_generator"},
	"tag_id":           {"tag", "tag", "tag"},
	"host_id":          {"host", "host", "host"},
	"channel_id":       {"channels", "channels", "channels"},
	"parent_id":        {"tag", "parent", "parent"},
	"build_target_id":  {"build_target", "build_target", "build_target"},
	"build_tag":        {"tag", "build_tag", "build_tag"},
	"dest_tag":         {"tag", "dest_tag", "dest_tag"},
	"external_repo_id": {"external_repo", "external_repo", "external_repo"},
	"package_id":       {"package", "package", "package"},
	"owner":            {"users", "owner", "owner"},
	"req_id":           {"groups", "req", "req"},
}

// historyKinds are the scan types of the columns that are not integers.
var historyKinds = map[string]byte{
	"intransitive": 'b', "noconfig": 'b', "locked": 'b', "maven_support": 'b', "maven_include_all": 'b',
	"enabled": 'b', "blocked": 'b', "exported": 'b', "is_default": 'b', "uservisible": 'b',
	"biarchonly": 'b', "is_metapkg": 'b', "basearchonly": 'b', "active": 'b',
	"pkg_filter": 's', "arches": 's', "key": 's', "value": 's', "url": 's', "description": 's', "comment": 's',
	"merge_mode": 's', "extra_arches": 's', "display_name": 's', "langonly": 's', "type": 's', "package": 's', "requires": 's',
	"version": 's', "release": 's', "name": 's',
	"capacity": 'f', "time": 't',
}

// HistoryJoined is upstream's joined map for a table: the tables its
// name joins read, each with the alias its filter clause names (later
// fields overriding earlier ones as upstream's dict assignments do).
func HistoryJoined(table string) map[string]string {
	joined := map[string]string{}
	for _, f := range HistoryTables[table] {
		if nj, ok := historyNameJoins[f]; ok {
			joined[nj[0]] = nj[1]
			continue
		}
		switch {
		case f == "build_id":
			joined["build"], joined["package"] = "build", "package"
		case f == "group_id" && strings.HasPrefix(table, "group_"):
			joined["groups"] = "groups"
		case f == "group_id" && table == "user_groups":
			joined["users"] = "usergroup"
		}
	}
	return joined
}

// HistoryFilter is queryHistory's filters with names resolved to ids;
// nil fields do not filter.
type HistoryFilter struct {
	TagID, BuildID, PackageID, UserID, PermID, HostID, ChannelID *int64
	CGID, ExternalRepoID, BuildTargetID, GroupID                 *int64
	GroupPackage, XKey                                           *string
	Before, After                                                *time.Time
	BeforeEvent, AfterEvent                                      *int64
	Active                                                       *bool
	Editor                                                       *int64
}

type historyCol struct{ expr, alias, kind string }

// History returns the rows of one of [HistoryTables] that pass f,
// ordered by create_event, as upstream's query_history reads them: the
// table's columns, the common versioning members (create_ts and
// revoke_ts as time.Time or nil) and the joined names.
func (tx *Tx) History(ctx context.Context, table string, f HistoryFilter) ([]map[string]any, error) {
	fields, ok := HistoryTables[table]
	if !ok {
		return nil, fmt.Errorf("store: no history table %q", table)
	}
	if !historySchema[table] {
		return []map[string]any{}, nil
	}
	var cols []historyCol
	add := func(expr, alias string) {
		name := expr[strings.LastIndexByte(expr, '.')+1:]
		k := "i"
		if c, ok := historyKinds[name]; ok {
			k = string(c)
		}
		cols = append(cols, historyCol{expr, alias, k})
	}
	for _, c := range []string{"active", "create_event", "revoke_event", "creator_id", "revoker_id"} {
		add(table+"."+c, c)
	}
	add("creator.name", "creator_name")
	add("revoker.name", "revoker_name")
	add("ev1.time", "create_ts")
	add("ev2.time", "revoke_ts")
	joins := []string{
		"JOIN events AS ev1 ON ev1.id = " + table + ".create_event",
		"LEFT OUTER JOIN events AS ev2 ON ev2.id = " + table + ".revoke_event",
		"JOIN users AS creator ON creator.id = " + table + ".creator_id",
		"LEFT OUTER JOIN users AS revoker ON revoker.id = " + table + ".revoker_id",
	}
	for _, fl := range fields {
		add(table+"."+fl, fl)
		if nj, ok := historyNameJoins[fl]; ok {
			add(nj[1]+".name", nj[2]+".name")
			joins = append(joins, fmt.Sprintf("LEFT OUTER JOIN %s AS %s ON %s.%s = %s.id", nj[0], nj[1], table, fl, nj[1]))
			continue
		}
		switch {
		case fl == "build_id":
			add("package.name", "name")
			add("build.version", "version")
			add("build.release", "release")
			add("build.epoch", "epoch")
			add("build.state", "build.state")
			joins = append(joins, "JOIN build ON "+table+".build_id = build.id", "JOIN package ON build.pkg_id = package.id")
		case fl == "group_id" && table == "user_groups":
			add("usergroup.name", "group.name")
			joins = append(joins, "JOIN users AS usergroup ON "+table+".group_id = usergroup.id")
		case fl == "group_id" && strings.HasPrefix(table, "group_"):
			add("groups.name", "group.name")
			joins = append(joins, "JOIN groups ON "+table+".group_id = groups.id")
		}
	}
	joined := HistoryJoined(table)
	var clauses []string
	var args []any
	idClause := func(tbl string, id *int64) {
		if id != nil {
			clauses = append(clauses, joined[tbl]+".id = ?")
			args = append(args, *id)
		}
	}
	if f.TagID != nil && table == "tag_inheritance" {
		clauses = append(clauses, table+".tag_id = ? OR "+table+".parent_id = ?")
		args = append(args, *f.TagID, *f.TagID)
	} else {
		idClause("tag", f.TagID)
	}
	if f.BuildID != nil {
		clauses = append(clauses, "build.id = ?")
		args = append(args, *f.BuildID)
	}
	idClause("package", f.PackageID)
	idClause("users", f.UserID)
	idClause("permissions", f.PermID)
	idClause("host", f.HostID)
	idClause("channels", f.ChannelID)
	idClause("content_generator", f.CGID)
	idClause("external_repo", f.ExternalRepoID)
	idClause("build_target", f.BuildTargetID)
	idClause("groups", f.GroupID)
	if f.GroupPackage != nil {
		// a comps group's package is a name, not a package row
		clauses = append(clauses, table+".package = ?")
		args = append(args, *f.GroupPackage)
	}
	if f.XKey != nil {
		clauses = append(clauses, table+".key = ?")
		args = append(args, *f.XKey)
	}
	if f.Before != nil {
		clauses = append(clauses, "ev1.time < ? OR ev2.time < ?")
		args = append(args, f.Before.UTC(), f.Before.UTC())
	}
	if f.After != nil {
		clauses = append(clauses, "ev1.time > ? OR ev2.time > ?")
		args = append(args, f.After.UTC(), f.After.UTC())
	}
	if f.BeforeEvent != nil {
		clauses = append(clauses, table+".create_event < ? OR "+table+".revoke_event < ?")
		args = append(args, *f.BeforeEvent, *f.BeforeEvent)
	}
	if f.AfterEvent != nil {
		clauses = append(clauses, table+".create_event > ? OR "+table+".revoke_event > ?")
		args = append(args, *f.AfterEvent, *f.AfterEvent)
	}
	if f.Active != nil {
		if *f.Active {
			clauses = append(clauses, table+".active = TRUE")
		} else {
			clauses = append(clauses, table+".active IS NULL")
		}
	}
	if f.Editor != nil {
		clauses = append(clauses, "creator.id = ? OR revoker.id = ?")
		args = append(args, *f.Editor, *f.Editor)
	}
	exprs := make([]string, len(cols))
	for i, c := range cols {
		exprs[i] = c.expr
	}
	q := "SELECT " + strings.Join(exprs, ", ") + " FROM " + table + " " + strings.Join(joins, " ")
	if len(clauses) > 0 {
		q += " WHERE (" + strings.Join(clauses, ") AND (") + ")"
	}
	q += " ORDER BY " + table + ".create_event"
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: history of %s: %w", table, err)
	}
	defer rows.Close()
	out := []map[string]any{}
	for rows.Next() {
		dest := make([]any, len(cols))
		for i, c := range cols {
			switch c.kind {
			case "b":
				dest[i] = new(sql.NullBool)
			case "s":
				dest[i] = new(sql.NullString)
			case "f":
				dest[i] = new(sql.NullFloat64)
			case "t":
				dest[i] = new(sql.NullTime)
			default:
				dest[i] = new(sql.NullInt64)
			}
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("store: history of %s: %w", table, err)
		}
		m := make(map[string]any, len(cols))
		for i, c := range cols {
			var v any
			switch d := dest[i].(type) {
			case *sql.NullBool:
				if d.Valid {
					v = d.Bool
				}
			case *sql.NullString:
				if d.Valid {
					v = d.String
				}
			case *sql.NullFloat64:
				if d.Valid {
					v = d.Float64
				}
			case *sql.NullTime:
				if d.Valid {
					v = d.Time
				}
			case *sql.NullInt64:
				if d.Valid {
					v = d.Int64
				}
			}
			m[c.alias] = v
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// historyRefTables are the id-and-name tables [Tx.HistoryRef] reads.
var historyRefTables = []string{"host", "channels", "build_target", "content_generator", "external_repo"}

// HistoryRef is upstream's get_id(table, info): the id of a row of an
// id-and-name table by id (int64) or name (string), a [*NotFoundError]
// when there is none.
func (tx *Tx) HistoryRef(ctx context.Context, table string, key any) (int64, error) {
	if !slices.Contains(historyRefTables, table) {
		return 0, fmt.Errorf("store: HistoryRef of table %q", table)
	}
	var id int64
	var err error
	switch k := key.(type) {
	case int64:
		err = tx.queryRow(ctx, "SELECT id FROM "+table+" WHERE id = ?", k).Scan(&id)
	case string:
		err = tx.queryRow(ctx, "SELECT id FROM "+table+" WHERE name = ?", k).Scan(&id)
	default:
		return 0, &NotFoundError{Kind: table, Key: key}
	}
	if err != nil {
		return 0, notFound(err, table, key)
	}
	return id, nil
}
