package hubserver

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// inheritanceMethods are upstream's tag inheritance methods (§E3) and
// tagLastChangeEvent.
func (k *Koji) inheritanceMethods() []Method {
	return []Method{
		{
			Name: "getInheritanceData", PyName: "RootExports.getInheritanceData", Bound: true,
			Args: []Arg{{Name: "tag"}, {Name: "event", Default: None}},
			Doc:  "Return inheritance data for tag",
			Func: getInheritanceData,
		},
		{
			Name: "setInheritanceData", PyName: "RootExports.setInheritanceData", Bound: true,
			Args: []Arg{{Name: "tag"}, {Name: "data"}, {Name: "clear", Default: false}},
			Doc:  "Set inheritance relationships for a tag.",
			Func: setInheritanceData,
		},
		{
			Name: "getFullInheritance", PyName: "RootExports.getFullInheritance", Bound: true,
			Args: []Arg{{Name: "tag"}, {Name: "event", Default: None}, {Name: "reverse", Default: false}}, VarKw: "kwargs",
			Func: getFullInheritance,
		},
		{
			Name: "tagLastChangeEvent", PyName: "tag_last_change_event",
			Args: []Arg{{Name: "tag"}, {Name: "before", Default: None}, {Name: "inherit", Default: true}},
			Doc:  "Report the most recent event that changed the tag, or None",
			Func: tagLastChangeEvent,
		},
	}
}

// linkData is an inheritance link as readInheritanceData answers it
// (child_id) or, for reverse, readDescendantsData (tag_id).
func linkData(l store.TagLink, reverse bool) map[string]any {
	out := map[string]any{
		"parent_id": l.ParentID, "name": l.Name, "priority": l.Priority, "maxdepth": l.MaxDepth,
		"intransitive": l.Intransitive, "noconfig": l.NoConfig, "pkg_filter": l.PkgFilter,
	}
	if reverse {
		out["tag_id"] = l.TagID
	} else {
		out["child_id"] = l.TagID
	}
	return out
}

func getInheritanceData(ctx context.Context, tag, event any) ([]map[string]any, error) {
	tx := storeTx(ctx)
	r, err := tagRef(ctx, tx, tag, true)
	if err != nil {
		return nil, err
	}
	asOf, err := tagEvent(event)
	if err != nil {
		return nil, err
	}
	links, err := tx.TagParents(ctx, r.ID, asOf)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(links))
	for i, l := range links {
		out[i] = linkData(l, false)
	}
	return out, nil
}

func setInheritanceData(ctx context.Context, tag, data, clear any) error {
	tx := storeTx(ctx)
	r, err := tagRef(ctx, tx, tag, true)
	if err != nil {
		return err
	}
	if err := assertPerm(ctx, "tag"); err != nil {
		return err
	}
	var changes []any
	switch d := data.(type) {
	case map[string]any:
		changes = []any{d}
	case []any:
		changes = d
	default:
		return pyException("TypeError", "'%s' object is not iterable", pyTypeName(data))
	}
	return writeInheritance(ctx, tx, r.ID, changes, xmlrpc.Truthy(clear))
}

var linkFields = []string{"parent_id", "priority", "maxdepth", "intransitive", "noconfig", "pkg_filter"}

// inheritLink is one entry of _writeInheritanceData's merged data.
type inheritLink struct {
	link   store.TagLink
	update bool
	delete bool
	// priorityKey is the priority as upstream's pri_index keys it: a
	// priority given as a string (the CLI's --priority) is kept as given,
	// so it only meets the very same string, and the database casts it.
	priorityKey string
}

// priorityKey is the key of a link's priority in upstream's pri_index.
func priorityKey(p parsedLink, raw any) string {
	if s, ok := raw.(string); ok && p.textPriority {
		return "s" + s
	}
	return fmt.Sprintf("i%d", p.link.Priority)
}

// columnInt is a value bound to an INTEGER column as upstream passes it
// to PostgreSQL: a string is cast as int4's input does (blanks around an
// optionally signed decimal); text reports a string.
func columnInt(v any) (n int64, text bool, err error) {
	s, ok := v.(string)
	if !ok {
		n, err := sqlInt(v)
		return n, false, err
	}
	t := strings.Trim(s, " \t\n\r\f\v")
	digits := strings.TrimLeft(t, "+-")
	if len(t)-len(digits) > 1 || digits == "" || strings.Trim(digits, "0123456789") != "" {
		return 0, true, pyException("psycopg2.errors.InvalidTextRepresentation", "invalid input syntax for type integer: \"%s\"", s)
	}
	if n, err = strconv.ParseInt(t, 10, 32); err != nil {
		return 0, true, pyException("psycopg2.errors.NumericValueOutOfRange", "value \"%s\" is out of range for type integer", s)
	}
	return n, true, nil
}

// parsedLink is a requested link's fields; asText is set when one of its
// integers came as a string, which never equals the stored value.
type parsedLink struct {
	link                 store.TagLink
	textPriority, asText bool
}

// linkInt reads an integer field: a string as the database casts it,
// another value faulting with "Invalid <name>".
func linkInt(name string, v any) (int64, bool, error) {
	n, text, err := columnInt(v)
	if err != nil && !text {
		err = fault(koji.ErrGeneric, "Invalid %s: %s", name, pyRepr(v))
	}
	return n, text, err
}

// parseLink reads a requested link's fields (all present, as checked).
func parseLink(tagID int64, m map[string]any) (parsedLink, error) {
	p := parsedLink{link: store.TagLink{TagID: tagID, Intransitive: xmlrpc.Truthy(m["intransitive"]), NoConfig: xmlrpc.Truthy(m["noconfig"])}}
	var err error
	if p.link.Priority, p.textPriority, err = linkInt("priority", m["priority"]); err != nil {
		return p, err
	}
	p.asText = p.textPriority
	if v := m["maxdepth"]; v != nil {
		n, text, err := linkInt("maxdepth", v)
		if err != nil {
			return p, err
		}
		p.asText = p.asText || text
		p.link.MaxDepth = &n
	}
	switch f := m["pkg_filter"].(type) {
	case string:
		p.link.PkgFilter = f
	case nil:
	default:
		return p, fault(koji.ErrGeneric, "Invalid pkg_filter: %s", pyRepr(f))
	}
	return p, nil
}

func sameLink(a, b store.TagLink) bool {
	return a.Priority == b.Priority && sameInt(a.MaxDepth, b.MaxDepth) && a.Intransitive == b.Intransitive &&
		a.NoConfig == b.NoConfig && a.PkgFilter == b.PkgFilter
}

// writeInheritance is upstream's _writeInheritanceData: links to add or
// change, {"delete link": True, "parent_id": …} to remove, with clear
// every other current link removed; two remaining links at one priority
// are refused. A parent_id may also be a parent's name.
func writeInheritance(ctx context.Context, tx *store.Tx, tagID int64, changes []any, clear bool) error {
	type change struct {
		m      map[string]any
		parent int64
	}
	var reqs []change
	for _, c := range changes {
		m, ok := c.(map[string]any)
		if !ok {
			return pyException("AttributeError", "'%s' object has no attribute 'get'", pyTypeName(c))
		}
		check := linkFields
		if xmlrpc.Truthy(m["delete link"]) {
			check = linkFields[:1]
		}
		for _, f := range check {
			if _, ok := m[f]; !ok {
				return fault(koji.ErrGeneric, "No value for %s", f)
			}
		}
		p, err := strictTag(ctx, tx, m["parent_id"])
		if err != nil {
			return err
		}
		reqs = append(reqs, change{m, p.ID})
	}
	current, err := tx.TagParents(ctx, tagID, nil)
	if err != nil {
		return err
	}
	// data keeps Python's dict order: current links by priority, then
	// new parents in request order.
	var order []int64
	data := map[int64]*inheritLink{}
	for _, l := range current {
		order = append(order, l.ParentID)
		data[l.ParentID] = &inheritLink{link: l}
	}
	put := func(parent int64, e *inheritLink) {
		if _, ok := data[parent]; !ok {
			order = append(order, parent)
		}
		data[parent] = e
	}
	for _, r := range reqs {
		orig := data[r.parent]
		if xmlrpc.Truthy(r.m["delete link"]) {
			if orig != nil {
				put(r.parent, &inheritLink{link: store.TagLink{ParentID: r.parent}, update: true, delete: true})
			}
			continue
		}
		p, err := parseLink(tagID, r.m)
		if err != nil {
			return err
		}
		p.link.ParentID = r.parent
		if orig == nil || clear || orig.delete || p.asText || !sameLink(orig.link, p.link) {
			put(r.parent, &inheritLink{link: p.link, update: true, priorityKey: priorityKey(p, r.m["priority"])})
		}
	}
	changed := false
	for _, p := range order {
		e := data[p]
		if clear && !e.update {
			e.update, e.delete = true, true
		}
		changed = changed || e.update
	}
	if !changed {
		return nil
	}
	if err := checkPriorities(tagID, order, data); err != nil {
		return err
	}
	user := callerID(ctx)
	for _, p := range order {
		if e := data[p]; e.update {
			if err := tx.RevokeTagLink(ctx, tagID, p, user); err != nil {
				return err
			}
		}
	}
	for _, p := range order {
		if e := data[p]; e.update && !e.delete {
			e.link.TagID = tagID
			if err := tx.AddTagLink(ctx, e.link, user); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkPriorities refuses two remaining links at one priority: upstream's
// duplicate check on the priorities as given (a string one formatted with
// %d is a TypeError), then the unique constraint on (tag_id, priority,
// active) for a string priority the check did not see as equal.
func checkPriorities(tagID int64, order []int64, data map[int64]*inheritLink) error {
	var keys []string
	byKey := map[string][]int64{}
	byValue := map[int64]int{}
	for _, p := range order {
		e := data[p]
		if e.delete {
			continue
		}
		if e.priorityKey == "" {
			e.priorityKey = fmt.Sprintf("i%d", e.link.Priority)
		}
		if _, ok := byKey[e.priorityKey]; !ok {
			keys = append(keys, e.priorityKey)
		}
		byKey[e.priorityKey] = append(byKey[e.priorityKey], p)
		byValue[e.link.Priority]++
	}
	for _, k := range keys {
		dups := byKey[k]
		if len(dups) <= 1 {
			continue
		}
		if strings.HasPrefix(k, "s") {
			return pyException("TypeError", "%%d format: a real number is required, not str")
		}
		ids := make([]string, len(dups))
		for i, d := range dups {
			ids[i] = fmt.Sprint(d)
		}
		return fault(koji.ErrGeneric, "Multiple parent tags ([%s]) cannot have the same priority value (%s) on child tag %d",
			strings.Join(ids, ", "), k[1:], tagID)
	}
	for _, p := range order {
		if e := data[p]; !e.delete && byValue[e.link.Priority] > 1 {
			return pyException("psycopg2.errors.UniqueViolation",
				"duplicate key value violates unique constraint \"tag_inheritance_tag_id_priority_active_key\"\nDETAIL:  Key (tag_id, priority, active)=(%d, %d, t) already exists.\n",
				tagID, e.link.Priority)
		}
	}
	return nil
}

func getFullInheritance(ctx context.Context, tag, event, reverse any, kwargs map[string]any) ([]map[string]any, error) {
	for _, k := range sortedKeys(kwargs) {
		if k != "stops" && k != "jumps" {
			return nil, fault(koji.ErrParameter, "getFullInheritance() got an unexpected keyword argument '%s'", k)
		}
		if xmlrpc.Truthy(kwargs[k]) {
			return nil, fault(koji.ErrParameter, "%s option has been removed since 1.26", k)
		}
	}
	tx := storeTx(ctx)
	id, err := tagIDArg(ctx, tx, tag)
	if err != nil {
		return nil, err
	}
	asOf, err := tagEvent(event)
	if err != nil {
		return nil, err
	}
	return fullInheritance(ctx, tx, id, asOf, xmlrpc.Truthy(reverse))
}

// fullInheritance is upstream's readFullInheritance.
func fullInheritance(ctx context.Context, tx *store.Tx, tagID int64, asOf *int64, reverse bool) ([]map[string]any, error) {
	w := inheritWalk{ctx: ctx, tx: tx, asOf: asOf, reverse: reverse, hist: map[int64][]map[string]any{}, order: []map[string]any{}}
	err := w.recurse(tagID, map[int64]bool{}, 0, nil, false, []any{})
	return w.order, err
}

type inheritWalk struct {
	ctx     context.Context
	tx      *store.Tx
	asOf    *int64
	reverse bool
	hist    map[int64][]map[string]any
	order   []map[string]any
}

// recurse is upstream's readFullInheritanceRecurse, step for step: depth
// first in priority order, loops pruned, intransitive links followed only
// from the root, maxdepth propagated, noconfig sticky (for later
// siblings too, as upstream's loop variable is), pkg_filters
// accumulated, and a parent seen before scanned again only when the new
// path is less restrictive.
func (w *inheritWalk) recurse(tagID int64, top map[int64]bool, currdepth int64, maxdepth *int64, noconfig bool, pfilter []any) error {
	if maxdepth != nil && *maxdepth < 1 {
		return nil
	}
	currdepth++
	top = cloneSet(top)
	top[tagID] = true
	var links []store.TagLink
	var err error
	if w.reverse {
		links, err = w.tx.TagChildren(w.ctx, tagID, w.asOf)
	} else {
		links, err = w.tx.TagParents(w.ctx, tagID, w.asOf)
	}
	if err != nil {
		return err
	}
	for _, l := range links {
		id := l.ParentID
		if w.reverse {
			id = l.TagID
		}
		if top[id] {
			continue // a loop: pruned
		}
		if l.Intransitive && len(top) > 1 && !w.reverse {
			continue
		}
		var nextdepth *int64
		if w.reverse {
			if l.MaxDepth != nil && *l.MaxDepth < currdepth-1 {
				continue
			}
		} else if l.MaxDepth == nil {
			if maxdepth != nil {
				n := *maxdepth - 1
				nextdepth = &n
			}
		} else {
			n := *l.MaxDepth
			if maxdepth != nil {
				n = min(n, *maxdepth)
			}
			n--
			nextdepth = &n
		}
		link := linkData(l, w.reverse)
		link["nextdepth"] = nextdepth
		link["currdepth"] = currdepth
		if l.NoConfig {
			noconfig = true
		}
		filter := append([]any{}, pfilter...)
		if l.PkgFilter != "" {
			filter = append(filter, l.PkgFilter)
		}
		link["filter"] = filter
		if prev, seen := w.hist[id]; seen {
			rescan := true
			for _, p := range prev {
				sufficient := true
				last, _ := p["nextdepth"].(*int64)
				if nextdepth == nil {
					if last != nil {
						sufficient = false
					}
				} else if last != nil && *last < *nextdepth {
					sufficient = false
				}
				if p["noconfig"] == true && !noconfig {
					sufficient = false
				}
				if len(p["filter"].([]any)) > 0 {
					sufficient = false
				}
				if sufficient {
					rescan = false
				}
			}
			if !rescan {
				continue
			}
		}
		w.hist[id] = append(w.hist[id], link)
		w.order = append(w.order, link)
		if l.Intransitive && w.reverse {
			continue
		}
		if err := w.recurse(id, top, currdepth, nextdepth, noconfig, filter); err != nil {
			return err
		}
	}
	return nil
}

func cloneSet(s map[int64]bool) map[int64]bool {
	out := make(map[int64]bool, len(s)+1)
	for k, v := range s {
		out[k] = v
	}
	return out
}

// tagLastChangeEvent is upstream's tag_last_change_event: the newest
// event, before a given one, that changed the tag or (with inherit) a tag
// it inherits from as at that event; a deleted tag's deletion event when
// before is None.
func tagLastChangeEvent(ctx context.Context, tag, before, inherit any) (any, error) {
	t, err := getTag(ctx, tag, true, "auto", false)
	if err != nil {
		return nil, err
	}
	var b *int64
	if before != nil {
		n, err := convertInt(before)
		if err != nil {
			return nil, err
		}
		b = &n
	}
	if rev, ok := t["revoke_event"].(int64); ok && b == nil {
		return rev, nil
	}
	id := t["id"].(int64)
	tags := []int64{id}
	tx := storeTx(ctx)
	if xmlrpc.Truthy(inherit) {
		links, err := fullInheritance(ctx, tx, id, b, false)
		if err != nil {
			return nil, err
		}
		for _, l := range links {
			tags = append(tags, l["parent_id"].(int64))
		}
	}
	e, err := tx.TagLastChangeEvent(ctx, tags, b)
	if err != nil || e == 0 {
		return nil, err
	}
	return e, nil
}
