package hubserver

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
)

// userFields are listUsers' columns, by alias and by the column upstream
// selects, for queryOpts' order.
var userFields = []queryField{
	{Alias: "id", Column: "id"},
	{Alias: "krb_principals", Column: "array_agg(krb_principal)"},
	{Alias: "name", Column: "name"},
	{Alias: "status", Column: "status"},
	{Alias: "usertype", Column: "usertype"},
}

// listUsers lists users of the given types (an int, a list of them, or
// None for all) whose name starts with prefix (case-insensitively, as
// upstream's ILIKE), optionally only those holding perm (directly, or
// with inherited_perm also through a group), with upstream's queryOpts.
func listUsers(ctx context.Context, userType any, prefix *string, queryOpts map[string]any, perm *string, inheritedPerm bool) (any, error) {
	tx := storeTx(ctx)
	types, err := userTypes(userType)
	if err != nil {
		return nil, err
	}
	if _, ok := queryOpts["group"]; ok {
		return nil, fault(koji.ErrGeneric, "queryOpts.group is not available for this API")
	}
	q, err := parseQueryOpts(queryOpts)
	if err != nil {
		return nil, err
	}
	if perm != nil {
		if _, err := lookupPerm(ctx, tx, *perm, false, nil); err != nil {
			return nil, err
		}
	}
	var users []store.User
	for _, t := range types {
		us, err := tx.ListUsers(ctx, t)
		if err != nil {
			return nil, err
		}
		users = append(users, us...)
	}
	slices.SortFunc(users, func(a, b store.User) int { return int(a.ID - b.ID) })
	rows := []map[string]any{}
	for i := range users {
		u := &users[i]
		if prefix != nil && *prefix != "" && !strings.HasPrefix(strings.ToLower(u.Name), strings.ToLower(*prefix)) {
			continue
		}
		if perm != nil {
			var has bool
			if inheritedPerm {
				has, err = hasPerm(ctx, tx, u.ID, *perm)
			} else {
				has, err = directPerm(ctx, tx, u.ID, *perm)
			}
			if err != nil {
				return nil, err
			}
			if !has {
				continue
			}
		}
		d, err := userData(ctx, tx, u, true)
		if err != nil {
			return nil, err
		}
		rows = append(rows, d)
	}
	return queryRows(rows, q, userFields)
}

// userTypes reads listUsers' userType: an int, a list of ints, or None
// for every type.
func userTypes(v any) ([]int, error) {
	switch x := v.(type) {
	case nil:
		return []int{store.UserTypeNormal, store.UserTypeHost, store.UserTypeGroup}, nil
	case int64:
		return []int{int(x)}, nil
	case int:
		return []int{x}, nil
	case []any:
		out := make([]int, 0, len(x))
		for _, e := range x {
			n, ok := e.(int64)
			if !ok {
				return nil, fault(koji.ErrGeneric, "Invalid type for userType: %s", pyType(v))
			}
			if !slices.Contains(out, int(n)) {
				out = append(out, int(n))
			}
		}
		return out, nil
	}
	return nil, fault(koji.ErrGeneric, "Invalid type for userType: %s", pyType(v))
}

// queryRows applies queryOpts to rows computed in memory the way
// upstream's QueryProcessor applies them in SQL: ordered by every order
// term (by alias or column; an unknown one is "Invalid order"), then
// offset and limit, then counted (countOnly) or turned into lists of
// values in alias order (asList).
func queryRows(rows []map[string]any, q *queryOpts, fields []queryField) (any, error) {
	keys := make([]orderTerm, 0, len(q.Order))
	for _, t := range q.Order {
		i := slices.IndexFunc(fields, func(f queryField) bool { return f.Alias == t.Key || f.Column == t.Key })
		if i < 0 {
			return nil, errors.New("Invalid order: " + t.Key)
		}
		keys = append(keys, orderTerm{Key: fields[i].Alias, Desc: t.Desc})
	}
	slices.SortStableFunc(rows, func(a, b map[string]any) int {
		for _, k := range keys {
			c := sqlCompare(a[k.Key], b[k.Key])
			if k.Desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	if q.Offset > 0 {
		rows = rows[min(int(q.Offset), len(rows)):]
	}
	if q.Limit > 0 {
		rows = rows[:min(int(q.Limit), len(rows))]
	}
	switch {
	case q.CountOnly:
		return len(rows), nil
	case q.AsList:
		return asList(rows, fields), nil
	}
	return rows, nil
}

// sqlCompare orders two values of a users column as the database does:
// numbers and names by value, arrays element by element.
func sqlCompare(a, b any) int {
	switch x := a.(type) {
	case int64:
		if y, ok := b.(int64); ok {
			return cmp.Compare(x, y)
		}
	case int:
		if y, ok := b.(int); ok {
			return cmp.Compare(x, y)
		}
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y)
		}
	case []string:
		if y, ok := b.([]string); ok {
			return slices.Compare(x, y)
		}
	}
	return 0
}
