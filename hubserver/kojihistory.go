package hubserver

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// historyMethods are upstream's queryHistory (kojihub.py query_history).
func (k *Koji) historyMethods() []Method {
	return []Method{{
		Name: "queryHistory", PyName: "query_history",
		Args: []Arg{{Name: "tables", Default: None}}, VarKw: "kwargs",
		Doc:  "Returns history data from various tables that support it.",
		Func: queryHistory,
	}}
}

// historyFilterTable is the joined table each filter needs: a table
// without it is left out of the answer, as upstream's skip does.
var historyFilterTable = map[string]string{
	"tag": "tag", "build": "build", "host": "host", "channel": "channels", "cg": "content_generator",
	"user": "users", "permission": "permissions", "external_repo": "external_repo",
	"build_target": "build_target", "group": "groups",
}

// queryHistory returns {table: [rows]} of the versioned tables asked for
// (all of them with tables None), each filtered by kwargs.
func queryHistory(ctx context.Context, tables any, kwargs map[string]any) (map[string]any, error) {
	var names []string
	switch v := tables.(type) {
	case nil:
		for t := range store.HistoryTables {
			names = append(names, t)
		}
		slices.Sort(names)
	case []any:
		for _, t := range v {
			s, ok := t.(string)
			if _, known := store.HistoryTables[s]; !ok || !known {
				return nil, fault(koji.ErrGeneric, "No such history table: %s", pyFormat(t))
			}
			names = append(names, s)
		}
	case string:
		for _, r := range v {
			if _, known := store.HistoryTables[string(r)]; !known {
				return nil, fault(koji.ErrGeneric, "No such history table: %s", string(r))
			}
		}
	default:
		return nil, pyException("TypeError", "'%s' object is not iterable", pyTypeName(tables))
	}
	// queryOpts (countOnly, order, offset, limit, asList) applies to each
	// table's query; any other keyword upstream does not know is ignored.
	qo, err := readQueryOpts(kwargs["queryOpts"])
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(kwargs))
	for k := range kwargs {
		if k != "queryOpts" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	tx := storeTx(ctx)
	r := historyResolver{ctx: ctx, tx: tx, ids: map[string]int64{}}
	ret := map[string]any{}
tables:
	for _, table := range names {
		joined := store.HistoryJoined(table)
		var f store.HistoryFilter
		for _, arg := range keys {
			value := kwargs[arg]
			if need, ok := historyFilterTable[arg]; ok {
				if _, have := joined[need]; !have {
					continue tables
				}
				id, err := r.resolve(arg, value)
				if err != nil {
					return nil, err
				}
				setHistoryID(&f, arg, id)
				continue
			}
			var err error
			switch arg {
			case "package":
				if _, have := joined["package"]; have {
					id, err := r.resolve(arg, value)
					if err != nil {
						return nil, err
					}
					f.PackageID = &id
				} else if slices.Contains(store.HistoryTables[table], "package") {
					s := pyFormat(value)
					f.GroupPackage = &s
				} else {
					continue tables
				}
			case "xkey":
				if !slices.Contains(store.HistoryTables[table], "key") {
					continue tables
				}
				s := pyFormat(value)
				f.XKey = &s
			case "before":
				f.Before, err = historyTime(value)
			case "after":
				f.After, err = historyTime(value)
			case "beforeEvent":
				f.BeforeEvent, err = historyEvent(value)
			case "afterEvent":
				f.AfterEvent, err = historyEvent(value)
			case "active":
				if value != nil {
					b := xmlrpc.Truthy(value)
					f.Active = &b
				}
			case "editor":
				var id int64
				id, err = r.resolve("user", value)
				f.Editor = &id
			}
			if err != nil {
				return nil, err
			}
		}
		rows, err := tx.History(ctx, table, f)
		if err != nil {
			return nil, err
		}
		for _, row := range rows {
			historyTests(row, f)
			for _, k := range []string{"create_ts", "revoke_ts"} {
				if t, ok := row[k].(time.Time); ok {
					row[k] = pyTS(t)
				}
			}
		}
		if ret[table], err = historyRows(rows, qo, historyFields(table, f)); err != nil {
			return nil, err
		}
	}
	return ret, nil
}

// setHistoryID sets the id filter of an argument named in
// historyFilterTable.
func setHistoryID(f *store.HistoryFilter, arg string, id int64) {
	p := map[string]**int64{"tag": &f.TagID, "build": &f.BuildID, "host": &f.HostID, "channel": &f.ChannelID,
		"cg": &f.CGID, "user": &f.UserID, "permission": &f.PermID, "external_repo": &f.ExternalRepoID,
		"build_target": &f.BuildTargetID, "group": &f.GroupID}[arg]
	if p != nil {
		*p = &id
	}
}

// historyResolver resolves each filter value once, as the strict lookups
// upstream's query_history makes (get_tag_id, get_build, get_user ...).
type historyResolver struct {
	ctx context.Context
	tx  *store.Tx
	ids map[string]int64
}

func (r *historyResolver) resolve(arg string, value any) (int64, error) {
	if id, ok := r.ids[arg]; ok {
		return id, nil
	}
	id, err := r.lookup(arg, value)
	if err != nil {
		return 0, err
	}
	r.ids[arg] = id
	return id, nil
}

func (r *historyResolver) lookup(arg string, value any) (int64, error) {
	ctx, tx := r.ctx, r.tx
	switch arg {
	case "tag":
		t, err := tagRef(ctx, tx, value, true)
		if err != nil {
			return 0, err
		}
		return t.ID, nil
	case "build":
		b, err := lookupBuild(ctx, tx, value, true)
		if err != nil {
			return 0, err
		}
		if b == nil {
			return 0, fault(koji.ErrGeneric, "No such build: %s", pyRepr(value))
		}
		return b.ID, nil
	case "package":
		p, err := lookupName(ctx, tx, "package", value, true, false)
		if err != nil {
			return 0, err
		}
		return p.ID, nil
	case "user":
		u, err := strictUser(ctx, tx, value)
		if err != nil {
			return 0, err
		}
		return u.ID, nil
	case "permission":
		id, err := permID(ctx, tx, value)
		if err != nil {
			return 0, err
		}
		return *id, nil
	case "group":
		g, err := lookupCompsGroup(ctx, value, true, false)
		if err != nil {
			return 0, err
		}
		return g.ID, nil
	}
	table := historyFilterTable[arg]
	key := value
	if b, ok := value.(bool); ok {
		key = int64(boolInt(b))
	}
	id, err := tx.HistoryRef(ctx, table, key)
	if errors.Is(err, store.ErrNotFound) {
		if arg == "host" || arg == "channel" {
			// upstream looks these up with strict=False: the clause
			// compares with NULL and matches no row
			return nullID, nil
		}
		return 0, fault(koji.ErrGeneric, "No such entry in table %s: %s", table, pyFormat(value))
	}
	return id, err
}

// historyTime is a before or after value: seconds since the epoch, or a
// timestamp string as the database would read it.
func historyTime(v any) (*time.Time, error) {
	switch x := v.(type) {
	case int64, float64, bool:
		secs := toFloat(x)
		if math.IsNaN(secs) || math.IsInf(secs, 0) || math.Abs(secs) > 1e12 {
			return nil, pyException("ValueError", "year is out of range")
		}
		t := time.UnixMicro(int64(math.Round(secs * 1e6))).UTC()
		return &t, nil
	case string:
		s := strings.TrimSpace(x)
		for _, layout := range []string{"2006-01-02 15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999Z07:00",
			"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02"} {
			if t, err := time.Parse(layout, s); err == nil {
				t = t.UTC()
				return &t, nil
			}
		}
		return nil, fault(koji.ErrGeneric, "invalid input syntax for type timestamp: %s", pyRepr(x))
	}
	return nil, pyException("TypeError", "'%s' object cannot be interpreted as an integer", pyTypeName(v))
}

// historyEvent is a beforeEvent or afterEvent value ("%(x)i").
func historyEvent(v any) (*int64, error) {
	n, err := sqlInt(v)
	if err != nil {
		return nil, err
	}
	return &n, nil
}
