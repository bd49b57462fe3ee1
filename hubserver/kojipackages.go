package hubserver

import (
	"context"
	"errors"
	"strings"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
)

// packageMethods are upstream's package lookups.
func (k *Koji) packageMethods() []Method {
	return []Method{
		{
			Name: "getPackage", PyName: "lookup_package",
			Args: []Arg{{Name: "info"}, {Name: "strict", Default: false}, {Name: "create", Default: false}},
			Func: getPackage,
		},
		{
			Name: "getPackageID", PyName: "RootExports.getPackageID", Bound: true,
			Args: []Arg{{Name: "name"}, {Name: "strict", Default: false}},
			Func: getPackageID,
		},
		{
			Name: "listVolumes", PyName: "list_volumes",
			Doc:  "List storage volumes",
			Func: listVolumes,
		},
	}
}

// listVolumes is upstream's list_volumes: {id, name} of every volume, by id.
func listVolumes(ctx context.Context) ([]map[string]any, error) {
	rows, err := storeTx(ctx).ListNamed(ctx, "volume")
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(rows))
	for i := range rows {
		out[i] = namedRow(&rows[i])
	}
	return out, nil
}

// lookupName is upstream's lookup_name on an id-and-name table: info is
// an id or a name; a missing row is nil, or with create (names only) a
// new row, or with strict a GenericError.
func lookupName(ctx context.Context, tx *store.Tx, table string, info any, strict, create bool) (*store.NamedRow, error) {
	var key any
	switch v := info.(type) {
	case int64:
		key = v
	case bool: // Python's bool is an int
		key = int64(boolInt(v))
	case string:
		key = v
	default:
		return nil, fault(koji.ErrGeneric, "Invalid name or id value: %s", pyRepr(info))
	}
	r, err := tx.LookupName(ctx, table, key)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return r, err
	}
	switch {
	case create:
		name, ok := key.(string)
		if !ok {
			return nil, fault(koji.ErrGeneric, "Name must be a string")
		}
		if table != "package" {
			return nil, fault(koji.ErrGeneric, "cannot create entries in table %s", table)
		}
		id, err := tx.CreatePackage(ctx, name)
		if err != nil {
			return nil, err
		}
		return &store.NamedRow{ID: id, Name: name}, nil
	case strict:
		return nil, fault(koji.ErrGeneric, "No such entry in table %s: %s", table, pyFormat(info))
	}
	return nil, nil
}

func namedRow(r *store.NamedRow) map[string]any {
	if r == nil {
		return nil
	}
	return map[string]any{"id": r.ID, "name": r.Name}
}

// getPackage is lookup_package: {id, name} of a package by id or name.
func getPackage(ctx context.Context, info any, strict, create bool) (map[string]any, error) {
	r, err := lookupName(ctx, storeTx(ctx), "package", info, strict, create)
	if err != nil {
		return nil, err
	}
	return namedRow(r), nil
}

// getPackageID is RootExports.getPackageID: the id of the package with
// that name, nil (or with strict a GenericError) when there is none.
func getPackageID(ctx context.Context, name any, strict bool) (any, error) {
	if s, ok := name.(string); ok {
		p, err := storeTx(ctx).GetPackageByName(ctx, s)
		if err == nil {
			return p.ID, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	if strict {
		return nil, fault(koji.ErrGeneric, "No such package name: %s", pyFormat(name))
	}
	return nil, nil
}

// lookupPackageID is upstream's get_package_id: the id of a package given by id
// or name, 0 when there is none.
func lookupPackageID(ctx context.Context, tx *store.Tx, info any) (int64, error) {
	r, err := lookupName(ctx, tx, "package", info, false, false)
	if r == nil || err != nil {
		return 0, err
	}
	return r.ID, nil
}

// globLike turns a glob into a LIKE pattern as upstream's
// _prepareSearchTerms does: backslashes and underscores escaped, ? and *
// the wildcards.
func globLike(glob string) string {
	r := strings.NewReplacer(`\`, `\\`, `_`, `\_`, `%`, `\%`, `?`, `_`, `*`, `%`)
	return r.Replace(glob)
}

// pyClass is repr(type(v)) of a decoded value.
func pyClass(v any) string { return "<class '" + pyTypeName(v) + "'>" }
