package hubserver

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
)

// externalRepoDataMethods are upstream's repo.getExternalRepoData and
// repo.setExternalRepoData (kojihub/repos.py, 1.35): the data kojira
// keeps about each external repo (when it last changed), versioned in
// external_repo_data (migration 0013). Upstream's queryHistory does not
// read that table, deleteExternalRepo leaves it alone, and no other call
// reads it.
func (k *Koji) externalRepoDataMethods() []Method {
	return []Method{
		{
			Name: "repo.getExternalRepoData", PyName: "get_external_repo_data",
			Args: []Arg{{Name: "erepo"}},
			Func: getExternalRepoData,
		},
		{
			Name: "repo.setExternalRepoData", PyName: "RepoExports.setExternalRepoData", Bound: true,
			Args: []Arg{{Name: "external_repo_id"}, {Name: "data"}},
			Doc:  "Update tracking data for an external repo",
			Func: func(ctx context.Context, erepo, data any) error {
				if err := assertPerm(ctx, "repo"); err != nil {
					return err
				}
				return setExternalRepoData(ctx, erepo, data)
			},
		},
	}
}

// externalRepoID is upstream's get_external_repo_id(info, strict=True):
// the id of the external_repo row info names, configured or not (a
// deleted repo, or INTERNAL, has one too).
func externalRepoID(ctx context.Context, info any) (int64, error) {
	id, name, err := externalRepoKey(info)
	if err != nil {
		return 0, err
	}
	var key any
	if id != nil {
		key = *id
	} else {
		key = *name
	}
	r, err := storeTx(ctx).LookupName(ctx, "external_repo", key)
	if errors.Is(err, store.ErrNotFound) {
		return 0, fault(koji.ErrGeneric, "No such entry in table external_repo: %s", pyFormat(info))
	}
	if err != nil {
		return 0, err
	}
	return r.ID, nil
}

// getExternalRepoData is upstream's get_external_repo_data: the data of
// the repo's active row, as the JSONB column decodes (integers stay
// integers), or None.
func getExternalRepoData(ctx context.Context, erepo any) (any, error) {
	id, err := externalRepoID(ctx, erepo)
	if err != nil {
		return nil, err
	}
	data, err := storeTx(ctx).ExternalRepoData(ctx, id)
	if err != nil || data == nil {
		return nil, err
	}
	return decodeJSON(*data)
}

// setExternalRepoData is upstream's set_external_repo_data: data as
// convert_value(data, cast=dict) makes it, written as json.dumps and the
// JSONB column would, replaces the repo's row in a new event.
func setExternalRepoData(ctx context.Context, erepo, data any) error {
	id, err := externalRepoID(ctx, erepo)
	if err != nil {
		return err
	}
	d, err := convertDict(data)
	if err != nil {
		return err
	}
	text, err := jsonbText(d)
	if err != nil {
		return err
	}
	return storeTx(ctx).SetExternalRepoData(ctx, id, text, callerID(ctx))
}

// convertDict is convert_value(value, cast=dict): Python's dict() of the
// value, with ParameterError when dict() refuses it. A struct is itself;
// a list (or binary data, or a string) is a sequence of key-value pairs,
// each a two-item list or a two-character string (so "" and an empty
// list make an empty dict). Keys are then written as json.dumps writes
// them (1 as "1", True as "true", None as "null"), keys dict() holds as
// one (1, 1.0 and True) being one, and a later key json.dumps writes the
// same replacing an earlier one as in the JSONB column. A pair that is a
// two-member struct, which dict() reads as its two member names in the
// order sent, is refused: the decoder does not keep that order.
func convertDict(v any) (map[string]any, error) {
	var items []any
	switch x := v.(type) {
	case nil:
		return nil, fault(koji.ErrParameter, "Invalid type, expected type <class 'dict'>")
	case map[string]any:
		return x, nil
	case []any:
		items = x
	case []byte:
		if len(x) > 0 { // its items are ints, which are not pairs
			return nil, fault(koji.ErrParameter, "Invalid type for value '%s': <class 'bytes'>, expected type <class 'dict'>",
				pyBytesRepr(x))
		}
	case string:
		if x != "" { // its items are one-character strings
			return nil, convertError(v, "dict")
		}
	default:
		return nil, convertError(v, "dict")
	}
	type entry struct{ key, value any }
	var entries []entry
	seen := map[pyKey]int{}
	for _, item := range items {
		var kv []any
		switch p := item.(type) {
		case []any:
			kv = p
		case string:
			if utf8.RuneCountInString(p) == 2 {
				r, n := utf8.DecodeRuneInString(p)
				kv = []any{string(r), p[n:]}
			}
		case []byte:
			if len(p) == 2 {
				kv = []any{int64(p[0]), int64(p[1])}
			}
		}
		if len(kv) != 2 {
			return nil, convertError(v, "dict")
		}
		switch kv[0].(type) {
		case []any, map[string]any: // unhashable
			return nil, convertError(v, "dict")
		}
		if i, ok := seen[hashKey(kv[0])]; ok {
			entries[i].value = kv[1]
		} else {
			seen[hashKey(kv[0])] = len(entries)
			entries = append(entries, entry{kv[0], kv[1]})
		}
	}
	out := make(map[string]any, len(entries))
	for _, e := range entries {
		k, err := jsonKey(e.key)
		if err != nil {
			return nil, err
		}
		out[k] = e.value
	}
	return out, nil
}

// A pyKey stands for a hashable Python value as a dict key: keys
// Python's dict holds as one (1, 1.0 and True) have the same pyKey; a NaN
// is never equal to another.
type pyKey struct {
	kind byte
	i    int64
	f    float64
	s    string
}

func hashKey(k any) pyKey {
	switch x := k.(type) {
	case bool:
		return pyKey{kind: 'n', i: int64(boolInt(x))}
	case int64:
		return pyKey{kind: 'n', i: x}
	case float64:
		if x == math.Trunc(x) && x >= -(1<<63) && x < 1<<63 {
			return pyKey{kind: 'n', i: int64(x)}
		}
		return pyKey{kind: 'f', f: x}
	case string:
		return pyKey{kind: 's', s: x}
	case []byte:
		return pyKey{kind: 'b', s: string(x)}
	case time.Time:
		return pyKey{kind: 't', i: x.UnixNano()}
	}
	return pyKey{kind: 0} // None
}

// jsonKey is a dict key as json.dumps writes it; binary data and
// datetimes are its TypeError.
func jsonKey(k any) (string, error) {
	switch x := k.(type) {
	case string:
		return x, nil
	case nil:
		return "null", nil
	case bool:
		return strconv.FormatBool(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		switch {
		case math.IsNaN(x):
			return "NaN", nil
		case math.IsInf(x, 1):
			return "Infinity", nil
		case math.IsInf(x, -1):
			return "-Infinity", nil
		}
		return pyFloatRepr(x), nil
	}
	return "", pyException("TypeError", "keys must be str, int, float, bool or None, not %s", jsonTypeName(k))
}

// jsonTypeName is the __name__ of a decoded value's Python class.
func jsonTypeName(v any) string {
	if _, ok := v.(time.Time); ok {
		return "datetime"
	}
	return pyTypeName(v)
}

// jsonbText is json.dumps(v) as the JSONB column holds and prints it:
// members by key length, then key; numbers as PostgreSQL's numeric (a
// float json.dumps writes with an exponent comes out positional, so one
// of 1e16 or more reads back as an int); ", " and ": " separators; only
// quotes, backslashes and control characters escaped. What json.dumps
// refuses is its TypeError; a NaN or an infinity, which it writes, is
// the column's error.
func jsonbText(v any) (string, error) {
	var b strings.Builder
	bad := ""
	var write func(v any) error
	write = func(v any) error {
		switch x := v.(type) {
		case nil:
			b.WriteString("null")
		case bool:
			b.WriteString(strconv.FormatBool(x))
		case int64:
			b.WriteString(strconv.FormatInt(x, 10))
		case int:
			b.WriteString(strconv.Itoa(x))
		case float64:
			switch {
			case math.IsNaN(x), math.IsInf(x, 0):
				if bad == "" {
					bad, _ = jsonKey(x)
				}
				b.WriteString("null")
			case strings.Contains(pyFloatRepr(x), "e"):
				b.WriteString(strconv.FormatFloat(x, 'f', -1, 64))
			case x == 0:
				b.WriteString("0.0") // numeric has no -0
			default:
				b.WriteString(pyFloatRepr(x))
			}
		case string:
			writeJSONBString(&b, x)
		case []any:
			b.WriteByte('[')
			for i, e := range x {
				if i > 0 {
					b.WriteString(", ")
				}
				if err := write(e); err != nil {
					return err
				}
			}
			b.WriteByte(']')
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(len(a), len(b)), strings.Compare(a, b)) })
			b.WriteByte('{')
			for i, k := range keys {
				if i > 0 {
					b.WriteString(", ")
				}
				writeJSONBString(&b, k)
				b.WriteString(": ")
				if err := write(x[k]); err != nil {
					return err
				}
			}
			b.WriteByte('}')
		default:
			return pyException("TypeError", "Object of type %s is not JSON serializable", jsonTypeName(v))
		}
		return nil
	}
	if err := write(v); err != nil {
		return "", err
	}
	if bad != "" {
		return "", pyException("psycopg2.errors.InvalidTextRepresentation",
			"invalid input syntax for type json\nDETAIL:  Token \"%s\" is invalid.", bad)
	}
	return b.String(), nil
}

// writeJSONBString writes s as PostgreSQL's escape_json does.
func writeJSONBString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				fmt.Fprintf(b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}
