package hubserver

import (
	"cmp"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/gokoji/gokoji/internal/store"
)

// nullID is a queryHistory filter id that upstream looks up with
// strict=False and finds none of: its clause compares with NULL, which no
// row passes, and no row has a negative id.
const nullID = -1

// historyNameAliases are upstream query_history's name_joins as the
// answer names them: field → (column, alias) of the joined name.
var historyNameAliases = map[string][2]string{
	"user_id": {"users.name", "user.name"}, "perm_id": {"permission.name", "permission.name"},
	"cg_id": {"content_generator.name", "content_generator.name"}, "tag_id": {"tag.name", "tag.name"},
	"host_id": {"host.name", "host.name"}, "channel_id": {"channels.name", "channels.name"},
	"parent_id": {"parent.name", "parent.name"}, "build_target_id": {"build_target.name", "build_target.name"},
	"build_tag": {"build_tag.name", "build_tag.name"}, "dest_tag": {"dest_tag.name", "dest_tag.name"},
	"external_repo_id": {"external_repo.name", "external_repo.name"}, "package_id": {"package.name", "package.name"},
	"owner": {"owner.name", "owner.name"}, "req_id": {"req.name", "req.name"},
}

// historyFields are the columns (expression and alias) upstream's
// query_history selects from table with the filters of f, which its
// queryOpts order may name.
func historyFields(table string, f store.HistoryFilter) []queryField {
	var out []queryField
	add := func(column, alias string) { out = append(out, queryField{Alias: alias, Column: column}) }
	for _, c := range []string{"active", "create_event", "revoke_event", "creator_id", "revoker_id"} {
		add(table+"."+c, c)
	}
	add("creator.name", "creator_name")
	add("revoker.name", "revoker_name")
	add("date_part('epoch', ev1.time) AS create_ts", "create_ts")
	add("date_part('epoch', ev2.time) AS revoke_ts", "revoke_ts")
	for _, field := range store.HistoryTables[table] {
		add(table+"."+field, field)
		if nj, ok := historyNameAliases[field]; ok {
			add(nj[0], nj[1])
			continue
		}
		switch {
		case field == "build_id":
			add("package.name", "name")
			for _, c := range []string{"version", "release", "epoch"} {
				add("build."+c, c)
			}
			add("build.state", "build.state")
		case field == "group_id" && table == "user_groups":
			add("usergroup.name", "group.name")
		case field == "group_id":
			add("groups.name", "group.name")
		}
	}
	if f.Editor != nil {
		add("creator.id = %(editor)i", "_created_by")
		add("revoker.id = %(editor)i", "_revoked_by")
	}
	if f.After != nil {
		add("ev1.time > %(after)s", "_created_after")
		add("ev2.time > %(after)s", "_revoked_after")
	}
	if f.AfterEvent != nil {
		add(table+".create_event > %(afterEvent)i", "_created_after_event")
		add(table+".revoke_event > %(afterEvent)i", "_revoked_after_event")
	}
	if f.Before != nil {
		add("ev1.time < %(before)s", "_created_before")
		add("ev2.time < %(before)s", "_revoked_before")
	}
	if f.BeforeEvent != nil {
		add(table+".create_event < %(beforeEvent)i", "_created_before_event")
		add(table+".revoke_event < %(beforeEvent)i", "_revoked_before_event")
	}
	return out
}

// historyTests sets the members upstream selects for the editor and time
// filters: whether the row's creation and revocation pass each, None for
// a revocation the row does not have (SQL's NULL comparison).
func historyTests(row map[string]any, f store.HistoryFilter) {
	sqlTest := func(v any, test func(any) bool) any {
		if v == nil {
			return nil
		}
		return test(v)
	}
	pair := func(created, revoked string, cv, rv any, test func(any) bool) {
		row[created] = sqlTest(cv, test)
		row[revoked] = sqlTest(rv, test)
	}
	if f.Editor != nil {
		pair("_created_by", "_revoked_by", row["creator_id"], row["revoker_id"], func(v any) bool { return v == *f.Editor })
	}
	timeTest := func(at time.Time, after bool) func(any) bool {
		return func(v any) bool {
			t, _ := v.(time.Time)
			if after {
				return t.After(at)
			}
			return t.Before(at)
		}
	}
	eventTest := func(ev int64, after bool) func(any) bool {
		return func(v any) bool {
			n, _ := v.(int64)
			if after {
				return n > ev
			}
			return n < ev
		}
	}
	if f.After != nil {
		pair("_created_after", "_revoked_after", row["create_ts"], row["revoke_ts"], timeTest(*f.After, true))
	}
	if f.AfterEvent != nil {
		pair("_created_after_event", "_revoked_after_event", row["create_event"], row["revoke_event"], eventTest(*f.AfterEvent, true))
	}
	if f.Before != nil {
		pair("_created_before", "_revoked_before", row["create_ts"], row["revoke_ts"], timeTest(*f.Before, false))
	}
	if f.BeforeEvent != nil {
		pair("_created_before_event", "_revoked_before_event", row["create_event"], row["revoke_event"], eventTest(*f.BeforeEvent, false))
	}
}

// historyRows applies queryOpts to one table's rows: ordered by the order
// terms as PostgreSQL orders the values (NULL after everything, before it
// descending), then paged, counted or listed as QueryProcessor does.
func historyRows(rows []map[string]any, qo *queryOpts, fields []queryField) (any, error) {
	// an order term names an alias, else a column expression
	alias := map[string]string{}
	for i := len(fields) - 1; i >= 0; i-- {
		alias[fields[i].Column] = fields[i].Alias
	}
	for _, f := range fields {
		alias[f.Alias] = f.Alias
	}
	byRow := func(a, b map[string]any) int { return 0 }
	for i := len(qo.Order) - 1; i >= 0; i-- {
		t := qo.Order[i]
		key, ok := alias[t.Key]
		if !ok {
			return nil, errors.New("Invalid order: " + t.Key)
		}
		next, sign := byRow, 1
		if t.Desc {
			sign = -1
		}
		byRow = func(a, b map[string]any) int {
			return cmp.Or(sign*historyCompare(a[key], b[key]), next(a, b))
		}
	}
	slices.SortStableFunc(rows, byRow)
	return pageRows(rows, qo, fields)
}

// historyCompare orders two values of a history column: NULL last, then
// booleans, numbers and strings by value.
func historyCompare(a, b any) int {
	if a == nil || b == nil {
		return cmp.Compare(boolInt(a == nil), boolInt(b == nil))
	}
	switch x := a.(type) {
	case bool:
		y, _ := b.(bool)
		return cmp.Compare(boolInt(x), boolInt(y))
	case string:
		y, _ := b.(string)
		return strings.Compare(x, y)
	}
	return cmp.Compare(toFloat(a), toFloat(b))
}
