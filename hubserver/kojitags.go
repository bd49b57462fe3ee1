package hubserver

import (
	"context"
	"errors"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// tagMethods are upstream's tag methods (§E3): configuration, extra
// settings and deletion here, inheritance in kojitags_inherit.go.
func (k *Koji) tagMethods() []Method {
	return append([]Method{
		{
			Name: "createTag", PyName: "create_tag",
			Args: []Arg{{Name: "name"}, {Name: "parent", Default: None}, {Name: "arches", Default: None}, {Name: "perm", Default: None},
				{Name: "locked", Default: false}, {Name: "maven_support", Default: false}, {Name: "maven_include_all", Default: false},
				{Name: "extra", Default: None}},
			Doc:  "Create a new tag",
			Func: createTag,
		},
		{
			Name: "getTag", PyName: "get_tag",
			Args: []Arg{{Name: "tagInfo"}, {Name: "strict", Default: false}, {Name: "event", Default: None}, {Name: "blocked", Default: false}},
			Doc:  "Get tag information based on the tagInfo.",
			Func: func(ctx context.Context, tagInfo, strict, event, blocked any) (any, error) {
				t, err := getTag(ctx, tagInfo, xmlrpc.Truthy(strict), event, xmlrpc.Truthy(blocked))
				if t == nil || err != nil {
					return nil, err
				}
				return t, nil
			},
		},
		{
			Name: "getTagID", PyName: "get_tag_id",
			Args: []Arg{{Name: "info"}, {Name: "strict", Default: false}, {Name: "create", Default: false}},
			Doc:  "Get the id for tag",
			Func: getTagID,
		},
		{
			Name: "editTag2", PyName: "edit_tag",
			Args: []Arg{{Name: "tagInfo"}}, VarKw: "kwargs",
			Doc:  "Edit information for an existing tag.",
			Func: editTag,
		},
		{
			Name: "editTag", PyName: "old_edit_tag",
			Args: []Arg{{Name: "tagInfo"}, {Name: "name"}, {Name: "arches"}, {Name: "locked"}, {Name: "permissionID"}, {Name: "extra", Default: None}},
			Doc:  "Edit information for an existing tag.",
			Func: func(ctx context.Context, tagInfo, name, arches, locked, permissionID, extra any) error {
				return editTag(ctx, tagInfo, map[string]any{"name": name, "arches": arches, "locked": locked, "perm_id": permissionID, "extra": extra})
			},
		},
		{
			Name: "deleteTag", PyName: "delete_tag",
			Args: []Arg{{Name: "tagInfo"}},
			Doc:  "Delete the specified tag.",
			Func: deleteTag,
		},
		{
			Name: "listTags", PyName: "list_tags",
			Args: []Arg{{Name: "build", Default: None}, {Name: "package", Default: None}, {Name: "perms", Default: true},
				{Name: "queryOpts", Default: None}, {Name: "pattern", Default: None}},
			Doc:  "List tags according to filters",
			Func: listTags,
		},
	}, slices.Concat(k.inheritanceMethods(), k.pkgListMethods(), k.taggingMethods(), k.taggedMethods(), k.taggedRPMMethods(), k.externalRepoMethods())...)
}

// tagKey is upstream's name_or_id_clause for the tag table: an id, a
// name, or a struct with either.
func tagKey(info any) (id *int64, name *string, err error) {
	if m, ok := info.(map[string]any); ok {
		if v, ok := m["id"]; ok {
			n, err := convertInt(v)
			if err != nil {
				return nil, nil, fault(koji.ErrParameter, "Invalid name or id value: %s", pyRepr(info))
			}
			return &n, nil, nil
		}
		v, ok := m["name"]
		if !ok {
			return nil, nil, fault(koji.ErrParameter, "Invalid name or id value: %s", pyRepr(info))
		}
		info = v
	}
	switch v := info.(type) {
	case int64:
		return &v, nil, nil
	case string:
		return nil, &v, nil
	}
	return nil, nil, fault(koji.ErrParameter, "Invalid name or id value: %s", pyFormat(info))
}

// tagEvent reads an event parameter as upstream's eventCondition does:
// None or an int.
func tagEvent(event any) (*int64, error) {
	switch e := event.(type) {
	case nil:
		return nil, nil
	case int64:
		return &e, nil
	case bool:
		n := int64(boolInt(e))
		return &n, nil
	}
	return nil, fault(koji.ErrGeneric, "Invalid event: %s", pyRepr(event))
}

// lookupTag finds a current tag (or one as at asOf) by id, name or
// struct; nil when there is none.
func lookupTag(ctx context.Context, tx *store.Tx, info any, asOf *int64) (*store.Tag, error) {
	id, name, err := tagKey(info)
	if err != nil {
		return nil, err
	}
	return tagByKey(ctx, tx, id, name, asOf)
}

// tagByKey reads the tag of tagKey's id or name; nil when there is none.
func tagByKey(ctx context.Context, tx *store.Tx, id *int64, name *string, asOf *int64) (*store.Tag, error) {
	var t *store.Tag
	var err error
	if id != nil {
		t, err = tx.GetTag(ctx, *id, asOf)
	} else {
		t, err = tx.GetTagByName(ctx, *name, asOf)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return t, err
}

// strictTag is lookupTag faulting as get_tag(strict=True) does.
func strictTag(ctx context.Context, tx *store.Tx, info any) (*store.Tag, error) {
	t, err := lookupTag(ctx, tx, info, nil)
	if err == nil && t == nil {
		return nil, fault(koji.ErrGeneric, "No such tagInfo: %s", pyRepr(info))
	}
	return t, err
}

// tagRef is upstream's lookup_name('tag', info, strict): the tag table's
// row, deleted tags included; nil when there is none and not strict.
func tagRef(ctx context.Context, tx *store.Tx, info any, strict bool) (*store.TagRef, error) {
	id, name, err := tagKey(info)
	if err != nil {
		return nil, err
	}
	var r *store.TagRef
	if id != nil {
		r, err = tx.TagRefByID(ctx, *id)
	} else {
		r, err = tx.TagRefByName(ctx, *name)
	}
	if errors.Is(err, store.ErrNotFound) {
		if strict {
			return nil, fault(koji.ErrGeneric, "No such entry in table tag: %s", pyFormat(info))
		}
		return nil, nil
	}
	return r, err
}

// getTag is upstream's get_tag: the tag's members, its own extra settings
// (with blocked, each as [blocked, value]), and query_event when read at
// an event; event "auto" reads a deleted tag as it was just before its
// deletion, adding revoke_event.
func getTag(ctx context.Context, tagInfo any, strict bool, event any, blocked bool) (map[string]any, error) {
	tx := storeTx(ctx)
	id, name, err := tagKey(tagInfo)
	if err != nil {
		return nil, err
	}
	var revoked *int64
	if event == "auto" {
		event = nil
		ref, err := tagRef(ctx, tx, tagInfo, false)
		if err != nil {
			return nil, err
		}
		if ref != nil {
			rev, _, err := tx.TagLastConfig(ctx, *ref)
			if err != nil {
				return nil, err
			}
			if rev != nil {
				revoked = rev
				event = *rev - 1
			}
		}
	}
	asOf, err := tagEvent(event)
	if err != nil {
		return nil, err
	}
	t, err := tagByKey(ctx, tx, id, name, asOf)
	if err != nil {
		return nil, err
	}
	if t == nil {
		if strict {
			return nil, fault(koji.ErrGeneric, "No such tagInfo: %s", pyRepr(tagInfo))
		}
		return nil, nil
	}
	out := tagData(t, true)
	if out["extra"], err = tagExtra(ctx, tx, t.ID, asOf, blocked); err != nil {
		return nil, err
	}
	if revoked != nil {
		out["revoke_event"] = *revoked
	}
	if asOf != nil {
		out["query_event"] = *asOf
	}
	return out, nil
}

// tagData is a tag's members as get_tag and list_tags select them; perm
// only with perms.
func tagData(t *store.Tag, perms bool) map[string]any {
	out := map[string]any{
		"id": t.ID, "name": t.Name, "perm_id": t.PermID, "arches": t.Arches, "locked": t.Locked,
		"maven_support": t.MavenSupport, "maven_include_all": t.MavenIncludeAll,
	}
	if perms {
		out["perm"] = t.Perm
	}
	return out
}

// tagExtra is upstream's get_tag_extra: the tag's own extra settings,
// JSON-decoded; with blocked, each is [blocked, value] and blocked keys
// are included.
func tagExtra(ctx context.Context, tx *store.Tx, tagID int64, asOf *int64, blocked bool) (map[string]any, error) {
	rows, err := tx.TagExtras(ctx, tagID, asOf, blocked)
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, len(rows))
	for _, r := range rows {
		var v any
		if r.Value != nil {
			if v, err = decodeJSON(*r.Value); err != nil {
				return nil, fault(koji.ErrGeneric, "No such tag extra data: %s", r.Key)
			}
		}
		if blocked {
			out[r.Key] = []any{r.Value == nil, v}
		} else {
			out[r.Key] = v
		}
	}
	return out, nil
}

// tagArches is upstream's koji.parse_arches(arches, strict=True,
// allow_none=True): a string or list, commas or spaces between arches;
// None is "".
func tagArches(v any) (*string, error) {
	var parts []string
	switch a := v.(type) {
	case nil:
	case string:
		parts = []string{a}
	case []any:
		for _, e := range a {
			s, ok := e.(string)
			if !ok {
				return nil, pyException("TypeError", "sequence item 0: expected str instance, %s found", pyTypeName(e))
			}
			parts = append(parts, s)
		}
	default:
		return nil, pyException("AttributeError", "'%s' object has no attribute 'replace'", pyTypeName(v))
	}
	s, err := parseArches(parts)
	return &s, err
}

// permID is upstream's get_perm_id(info, strict=True).
func permID(ctx context.Context, tx *store.Tx, info any) (*int64, error) {
	switch v := info.(type) {
	case string:
		p, err := lookupPerm(ctx, tx, v, false, nil)
		if err != nil {
			return nil, err
		}
		return &p.ID, nil
	case int64:
		perms, err := tx.ListPermissions(ctx)
		if err != nil {
			return nil, err
		}
		for _, p := range perms {
			if p.ID == v {
				return &p.ID, nil
			}
		}
		return nil, fault(koji.ErrGeneric, "No such entry in table permissions: %d", v)
	}
	if _, _, err := tagKey(info); err != nil {
		return nil, err
	}
	return nil, fault(koji.ErrGeneric, "No such entry in table permissions: %s", pyFormat(info))
}

// errNoMaven is upstream's answer to maven options without EnableMaven,
// which this hub never sets.
func errNoMaven() error { return fault(koji.ErrGeneric, "Maven support not enabled") }

// createTag is upstream's create_tag (the tag permission): a new tag, or
// a deleted one's id reused, with an inheritance link to parent at
// priority 0.
func createTag(ctx context.Context, name, parent, arches, perm, locked, mavenSupport, mavenIncludeAll, extra any) (int64, error) {
	if err := assertPerm(ctx, "tag"); err != nil {
		return 0, err
	}
	tagName, err := verifyNameInternal(name)
	if err != nil {
		return 0, err
	}
	cfg := store.TagConfig{Locked: xmlrpc.Truthy(locked)}
	if cfg.Arches, err = tagArches(arches); err != nil {
		return 0, err
	}
	if xmlrpc.Truthy(mavenSupport) || xmlrpc.Truthy(mavenIncludeAll) {
		return 0, errNoMaven()
	}
	tx := storeTx(ctx)
	if t, err := lookupTag(ctx, tx, tagName, nil); err != nil {
		return 0, err
	} else if t != nil {
		return 0, fault(koji.ErrGeneric, "A tag with the name '%s' already exists", tagName)
	}
	var parentID int64
	if xmlrpc.Truthy(parent) {
		p, err := lookupTag(ctx, tx, parent, nil)
		if err != nil {
			return 0, err
		}
		if p == nil {
			return 0, fault(koji.ErrGeneric, "Parent tag '%s' could not be found", pyFormat(parent))
		}
		parentID = p.ID
	}
	if perm != nil {
		if cfg.PermID, err = permID(ctx, tx, perm); err != nil {
			return 0, err
		}
	}
	var extras map[string]any
	if extra != nil {
		m, ok := extra.(map[string]any)
		if !ok {
			return 0, pyException("AttributeError", "'%s' object has no attribute 'items'", pyTypeName(extra))
		}
		extras = m
	}
	user := callerID(ctx)
	id, err := tx.CreateTag(ctx, tagName, cfg, user)
	if err != nil {
		return 0, err
	}
	for _, key := range sortedKeys(extras) {
		v := pyJSON(extras[key])
		if err := tx.SetTagExtra(ctx, id, key, &v, user); err != nil {
			return 0, err
		}
	}
	if parentID != 0 {
		link := map[string]any{"parent_id": parentID, "priority": int64(0), "maxdepth": nil,
			"intransitive": false, "noconfig": false, "pkg_filter": ""}
		if err := writeInheritance(ctx, tx, id, []any{link}, false); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// getTagID is upstream's get_tag_id: the id in the tag table (deleted
// tags included), None or a fault when there is none, or with create a
// new name without configuration.
func getTagID(ctx context.Context, info, strict, create any) (any, error) {
	tx := storeTx(ctx)
	r, err := tagRef(ctx, tx, info, xmlrpc.Truthy(strict))
	if err != nil || r != nil {
		if r == nil {
			return nil, err
		}
		return r.ID, err
	}
	if !xmlrpc.Truthy(create) {
		return nil, nil
	}
	name, ok := info.(string)
	if !ok {
		return nil, fault(koji.ErrGeneric, "Name must be a string")
	}
	return tx.CreateTagName(ctx, name)
}

// editTag is upstream's edit_tag (editTag2; the tag permission).
func editTag(ctx context.Context, tagInfo any, kw map[string]any) error {
	if err := assertPerm(ctx, "tag"); err != nil {
		return err
	}
	_, ms := kw["maven_support"]
	_, mi := kw["maven_include_all"]
	if ms || mi {
		return errNoMaven()
	}
	var removeExtra, blockExtra []string
	for _, f := range []struct {
		name string
		dst  *[]string
	}{{"remove_extra", &removeExtra}, {"block_extra", &blockExtra}} {
		v := kw[f.name]
		if !xmlrpc.Truthy(v) {
			continue
		}
		l, ok := v.([]any)
		if !ok {
			return convertError(v, "list")
		}
		for _, e := range l {
			*f.dst = append(*f.dst, pyFormat(e))
		}
	}
	tx := storeTx(ctx)
	tag, err := getTag(ctx, tagInfo, true, nil, false)
	if err != nil {
		return err
	}
	t, err := lookupTag(ctx, tx, tag["id"], nil)
	if err != nil {
		return err
	}
	user := callerID(ctx)
	if v, ok := kw["perm"]; ok {
		if _, ok := kw["perm_id"]; !ok {
			kw["perm_id"] = v
		}
	}
	cfg, changed := t.TagConfig, false
	if v, ok := kw["perm_id"]; ok {
		var p *int64
		if v != nil {
			if p, err = permID(ctx, tx, v); err != nil {
				return err
			}
		}
		changed = changed || !sameInt(p, t.PermID)
		cfg.PermID = p
	}
	if v := kw["name"]; xmlrpc.Truthy(v) && v != t.Name {
		name, err := verifyNameInternal(v)
		if err != nil {
			return err
		}
		if r, err := tagRef(ctx, tx, name, false); err != nil {
			return err
		} else if r != nil {
			return fault(koji.ErrGeneric, "Name %s already taken by tag %d", name, r.ID)
		}
		if err := tx.RenameTag(ctx, t.ID, name); err != nil {
			return err
		}
	}
	if v, ok := kw["arches"]; ok {
		var a *string
		switch {
		case xmlrpc.Truthy(v):
			if a, err = tagArches(v); err != nil {
				return err
			}
		case v == nil:
		default:
			s, ok := v.(string)
			if !ok {
				return fault(koji.ErrGeneric, "Invalid type for arches: %s", pyType(v))
			}
			a = &s
		}
		changed = changed || !sameString(a, t.Arches)
		cfg.Arches = a
	}
	if v, ok := kw["locked"]; ok {
		changed = changed || xmlrpc.Truthy(v) != t.Locked
		cfg.Locked = xmlrpc.Truthy(v)
	}
	if changed {
		if err := tx.SetTagConfig(ctx, t.ID, cfg, user); err != nil {
			return err
		}
	}
	return editTagExtra(ctx, tx, tag, kw, removeExtra, blockExtra, user)
}

// editTagExtra is the extra, block_extra and remove_extra part of
// upstream's edit_tag.
func editTagExtra(ctx context.Context, tx *store.Tx, tag map[string]any, kw map[string]any, removeExtra, blockExtra []string, user int64) error {
	id, current := tag["id"].(int64), tag["extra"].(map[string]any)
	if v, ok := kw["extra"]; ok {
		extra, ok := v.(map[string]any)
		if !ok {
			return pyException("TypeError", "'%s' object is not iterable", pyTypeName(v))
		}
		for _, k := range append(append([]string{}, blockExtra...), removeExtra...) {
			if _, ok := extra[k]; ok {
				return fault(koji.ErrGeneric, "Can not both add/update and remove tag-extra: '%s'", k)
			}
		}
		for _, key := range sortedKeys(extra) {
			value := pyJSON(extra[key])
			if old, ok := current[key]; ok && pyJSON(old) == value {
				continue
			}
			if err := tx.SetTagExtra(ctx, id, key, &value, user); err != nil {
				return err
			}
		}
	}
	for _, key := range blockExtra {
		if err := tx.SetTagExtra(ctx, id, key, nil, user); err != nil {
			return err
		}
	}
	var missing []string
	for _, key := range removeExtra {
		if _, ok := current[key]; !ok {
			missing = append(missing, key)
		}
	}
	if len(missing) > 0 {
		return fault(koji.ErrGeneric, "Tag: %s doesn't have extra: %s", tag["name"], strings.Join(missing, ", "))
	}
	for _, key := range removeExtra {
		if err := tx.RemoveTagExtra(ctx, id, key, user); err != nil {
			return err
		}
	}
	return nil
}

func sameInt(a, b *int64) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

// deleteTag is upstream's delete_tag (the tag permission): its versioned
// rows are revoked, with the targets building in or tagging into it; the
// name stays in the tag table.
func deleteTag(ctx context.Context, tagInfo any) error {
	if err := assertPerm(ctx, "tag"); err != nil {
		return err
	}
	tx := storeTx(ctx)
	t, err := strictTag(ctx, tx, tagInfo)
	if err != nil {
		return err
	}
	if err := tx.DeleteTag(ctx, t.ID, callerID(ctx)); err != nil {
		return err
	}
	return tx.RevokeTagTargets(ctx, t.ID, callerID(ctx))
}

// tagFields are list_tags' columns, for queryOpts' order.
var tagFields = []queryField{
	{Alias: "arches", Column: "tag_config.arches"},
	{Alias: "id", Column: "tag.id"},
	{Alias: "locked", Column: "tag_config.locked"},
	{Alias: "maven_include_all", Column: "tag_config.maven_include_all"},
	{Alias: "maven_support", Column: "tag_config.maven_support"},
	{Alias: "name", Column: "tag.name"},
	{Alias: "perm", Column: "permissions.name"},
	{Alias: "perm_id", Column: "tag_config.perm_id"},
}

// listTags is upstream's list_tags over the current tags: pattern is a
// case-insensitive glob on the name; build and package keep the tags the
// build is in or whose own package list has the package
// (listTagsFilter).
func listTags(ctx context.Context, build, pkg, perms any, queryOpts map[string]any, pattern any) (any, error) {
	keep, more, err := listTagsFilter(ctx, build, pkg)
	if err != nil {
		return nil, err
	}
	q, err := parseQueryOpts(queryOpts)
	if err != nil {
		return nil, err
	}
	var match *regexp.Regexp
	if pattern != nil {
		p, ok := pattern.(string)
		if !ok {
			return nil, pyException("AttributeError", "'%s' object has no attribute 'replace'", pyTypeName(pattern))
		}
		match = ilikeGlob(p)
	}
	withPerm := xmlrpc.Truthy(perms)
	fields := tagFields
	if !withPerm {
		fields = append(append([]queryField{}, tagFields[:6]...), tagFields[7])
	}
	fields = append(slices.Clone(fields), more...)
	tags, err := storeTx(ctx).ListTags(ctx)
	if err != nil {
		return nil, err
	}
	rows := []map[string]any{}
	for i := range tags {
		if match != nil && !match.MatchString(tags[i].Name) {
			continue
		}
		row := tagData(&tags[i], withPerm)
		if keep != nil {
			add, ok := keep(tags[i].ID)
			if !ok {
				continue
			}
			maps.Copy(row, add)
		}
		rows = append(rows, row)
	}
	return queryRows(rows, q, fields)
}

// ilikeGlob is upstream's glob-to-ILIKE translation as a regexp: * and %
// match anything, ? and _ one character, case-insensitively.
func ilikeGlob(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("(?is)^")
	for _, r := range p {
		switch r {
		case '*', '%':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

func sortedKeys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}
