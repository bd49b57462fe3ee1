package hubserver

import (
	"context"
	"math/big"
	"strings"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// buildAdminMethods are upstream's untaggedBuilds, getNextRelease,
// getAllArches and listBTypes.
func (k *Koji) buildAdminMethods() []Method {
	return []Method{
		{
			Name: "untaggedBuilds", PyName: "untagged_builds",
			Args: []Arg{{Name: "name", Default: None}, {Name: "queryOpts", Default: None}, {Name: "draft", Default: None}},
			Doc:  "Returns the list of untagged builds",
			Func: untaggedBuilds,
		},
		{
			Name: "getNextRelease", PyName: "get_next_release",
			Args: []Arg{{Name: "build_info"}, {Name: "incr", Default: int64(1)}},
			Doc:  `Find the next release for a package's version.`,
			Func: getNextRelease,
		},
		{
			Name: "getAllArches", PyName: "get_all_arches",
			Doc:  "Return a list of all (canonical) arches available from hosts",
			Func: getAllArches,
		},
		{
			Name: "listBTypes", PyName: "list_btypes",
			Args: []Arg{{Name: "query", Default: None}, {Name: "queryOpts", Default: None}},
			Doc:  "List btypes matching query",
			Func: listBTypes,
		},
	}
}

// untaggedBuildFields are untagged_builds' columns.
var untaggedBuildFields = []queryField{
	{Alias: "id", Column: "build.id"}, {Alias: "name", Column: "package.name"},
	{Alias: "version", Column: "build.version"}, {Alias: "release", Column: "build.release"},
}

// untaggedBuilds is upstream's untagged_builds: the COMPLETE builds no
// tag holds (id, name, version, release), of one package by name, draft
// or not.
func untaggedBuilds(ctx context.Context, name any, queryOpts map[string]any, draft any) (any, error) {
	qo, err := parseQueryOpts(queryOpts)
	if err != nil {
		return nil, err
	}
	var n *string
	if name != nil {
		s := pyFormat(name)
		n = &s
	}
	var d *bool
	if draft != nil {
		b := xmlrpc.Truthy(draft)
		d = &b
	}
	found, err := storeTx(ctx).UntaggedBuilds(ctx, n, d)
	if err != nil {
		return nil, err
	}
	rows := make([]map[string]any, len(found))
	for i, b := range found {
		rows[i] = map[string]any{"id": b.ID, "name": b.Name, "version": b.Version, "release": b.Release}
	}
	return queryRows(rows, qo, untaggedBuildFields)
}

// buildInfoKey is build_info[key] for getNextRelease's dict.
func buildInfoKey(info any, key string) (string, error) {
	switch m := info.(type) {
	case map[string]any:
		v, ok := m[key]
		if !ok {
			return "", pyException("KeyError", "'%s'", key)
		}
		return pyFormat(v), nil
	case string:
		return "", pyException("TypeError", "string indices must be integers, not 'str'")
	case []any:
		return "", pyException("TypeError", "list indices must be integers or slices, not str")
	}
	return "", pyException("TypeError", "'%s' object is not subscriptable", pyTypeName(info))
}

// getNextRelease is upstream's get_next_release: the release after the
// newest BUILDING, COMPLETE or DELETED build of the name and version,
// incr added to its number ("N", "N.dist" or "date.nightly.N"); incr
// itself when there is none.
func getNextRelease(ctx context.Context, buildInfo, incr any) (any, error) {
	n, err := convertInt(incr)
	if err != nil {
		return nil, fault(koji.ErrParameter, "incr parameter must be an integer")
	}
	name, err := buildInfoKey(buildInfo, "name")
	if err != nil {
		return nil, err
	}
	version, err := buildInfoKey(buildInfo, "version")
	if err != nil {
		return nil, err
	}
	release, _, err := storeTx(ctx).LatestRelease(ctx, name, version)
	if err != nil {
		return nil, err
	}
	step := big.NewInt(n)
	add := func(s string) string { v, _ := new(big.Int).SetString(s, 10); return v.Add(v, step).String() }
	parts := strings.Split(release, ".")
	switch {
	case release == "":
		return step.String(), nil
	case isDigits(release):
		return add(release), nil
	case len(parts) == 2 && isDigits(parts[0]):
		parts[0] = add(parts[0])
	case len(parts) == 3 && isDigits(parts[2]):
		parts[2] = add(parts[2])
	default:
		return nil, fault(koji.ErrBuild, "Unable to increment release value: %s", release)
	}
	return strings.Join(parts, "."), nil
}

// isDigits is Python's str.isdigit for ASCII: non-empty, digits only.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// getAllArches is upstream's get_all_arches: the canonical arches of the
// hosts' current configurations, each once, in the order first seen.
func getAllArches(ctx context.Context) (any, error) {
	all, err := storeTx(ctx).ActiveHostArches(ctx)
	if err != nil {
		return nil, err
	}
	out := []any{}
	seen := map[string]bool{}
	for _, arches := range all {
		for _, a := range strings.Fields(arches) {
			if c := koji.CanonArch(a); !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// btypeFields are list_btypes' columns.
var btypeFields = []queryField{{Alias: "id", Column: "id"}, {Alias: "name", Column: "name"}}

// listBTypes is upstream's list_btypes: the build types (id, name), or
// those of query's name and id.
func listBTypes(ctx context.Context, query any, queryOpts map[string]any) (any, error) {
	var q map[string]any
	switch v := query.(type) {
	case nil:
	case map[string]any:
		q = v
	default:
		return nil, pyException("AttributeError", "'%s' object has no attribute 'copy'", pyTypeName(query))
	}
	qo, err := parseQueryOpts(queryOpts)
	if err != nil {
		return nil, err
	}
	all, err := storeTx(ctx).ListBTypes(ctx)
	if err != nil {
		return nil, err
	}
	rows := []map[string]any{}
	for _, bt := range all {
		if name, ok := q["name"]; ok && name != bt.Name {
			continue
		}
		if id, ok := q["id"]; ok && !sameID(id, bt.ID) {
			continue
		}
		rows = append(rows, map[string]any{"id": bt.ID, "name": bt.Name})
	}
	return queryRows(rows, qo, btypeFields)
}

// sameID is the database's id = value for an id given as a number or a
// numeric string; None and anything else match no row.
func sameID(v any, id int64) bool {
	switch x := v.(type) {
	case int64:
		return x == id
	case float64:
		return x == float64(id)
	case string:
		n, ok := pyParseInt(strings.TrimSpace(x))
		return ok && n == id
	}
	return false
}
