package hubserver

import (
	"context"
	"slices"
	"strings"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// buildMoreMethods are the build methods of kojisearch.go,
// kojibuildadmin.go and kojibuilddelete.go, which buildMethods lists.
func (k *Koji) buildMoreMethods() []Method {
	return slices.Concat(k.searchMethods(), k.buildAdminMethods(), k.buildDeleteMethods())
}

// searchMethods are upstream's RootExports.search.
func (k *Koji) searchMethods() []Method {
	return []Method{{
		Name: "search", PyName: "RootExports.search", Bound: true,
		Args: []Arg{{Name: "terms"}, {Name: "type"}, {Name: "matchType"}, {Name: "queryOpts", Default: None}},
		Doc:  `Search for an item in the database matching "terms".`,
		Func: search,
	}}
}

// searchColumns are the id and name columns upstream's search selects
// for each type (its _searchTables' keys), which queryOpts' order may
// name besides the aliases id and name.
var searchColumns = map[string][2]string{
	"package": {"id", "name"}, "tag": {"id", "name"}, "target": {"id", "name"}, "user": {"id", "name"},
	"host":  {"id", "name"},
	"build": {"build.id", "package.name || '-' || build.version || '-' || build.release"},
	"rpm":   {"id", "name || '-' || version || '-' || release || '.' || arch || '.rpm'"},
	"maven": {"id", "filename"},
	"win":   {"id", "trim(leading '/' from win_archives.relpath || '/' || archiveinfo.filename)"},
}

// prepareSearchTerms is upstream's _prepareSearchTerms: a glob becomes a
// LIKE pattern (backslash escapes, "_" literal, "?" one character, "*"
// any); other terms are left as they are.
func prepareSearchTerms(terms any, matchType any) (string, error) {
	s, ok := terms.(string)
	if matchType == "glob" {
		if !ok {
			return "", pyException("AttributeError", "'%s' object has no attribute 'replace'", pyTypeName(terms))
		}
		return strings.NewReplacer(`\`, `\\`, "_", `\_`, "?", "_", "*", "%").Replace(s), nil
	}
	if !ok {
		s = pyFormat(terms)
	}
	return s, nil
}

// search is upstream's search(terms, type, matchType, queryOpts): the id
// and name of the packages, builds (nvr), tags and targets (current
// ones), users, hosts, RPMs (N-V-R.A.rpm), Maven archives (by file name
// or G-A-V) or Windows archives (by file name or relpath/filename)
// matching terms as a case-insensitive glob, a case-insensitive regular
// expression or (any other matchType) exactly. The file type, which
// upstream no longer supports, finds nothing.
func search(ctx context.Context, terms, typ, matchType any, queryOpts map[string]any) (any, error) {
	if !xmlrpc.Truthy(terms) {
		return nil, fault(koji.ErrGeneric, "empty search terms")
	}
	qo, err := parseQueryOpts(queryOpts)
	if err != nil {
		return nil, err
	}
	fields := []queryField{{Alias: "id", Column: "id"}, {Alias: "name", Column: "name"}}
	if typ == "file" {
		return queryRows([]map[string]any{}, qo, fields)
	}
	name, _ := typ.(string)
	cols, ok := searchColumns[name]
	if !ok {
		return nil, fault(koji.ErrGeneric, "No such search type: %s", pyFormat(typ))
	}
	match := store.SearchExact
	switch matchType {
	case "glob":
		match = store.SearchGlob
	case "regexp":
		match = store.SearchRegexp
	}
	s, err := prepareSearchTerms(terms, matchType)
	if err != nil {
		return nil, err
	}
	found, err := storeTx(ctx).Search(ctx, name, match, s)
	if err != nil {
		return nil, err
	}
	rows := make([]map[string]any, len(found))
	for i, r := range found {
		rows[i] = map[string]any{"id": r.ID, "name": r.Name}
	}
	fields[0].Column, fields[1].Column = cols[0], cols[1]
	return queryRows(rows, qo, fields)
}
