package hubserver

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// queryOpts are the queryOpts many list methods take, the options of
// upstream's QueryProcessor (kojihub/db.py): order, offset, limit,
// countOnly and asList. Other members are ignored, as upstream ignores
// them.
type queryOpts struct {
	// Order is the order option split at commas; each term names a field
	// (by alias or column), a leading "-" meaning descending.
	Order     []orderTerm
	Offset    int64
	Limit     int64
	CountOnly bool
	AsList    bool
}

// An orderTerm is one comma-separated part of the order option.
type orderTerm struct {
	Key  string
	Desc bool
}

// parseQueryOpts reads a queryOpts struct (nil for None) with Python's
// truth rules: a false offset or limit (0, None) is no offset or limit.
func parseQueryOpts(m map[string]any) (*queryOpts, error) {
	q := &queryOpts{}
	if m == nil {
		return q, nil
	}
	q.CountOnly = xmlrpc.Truthy(m["countOnly"])
	q.AsList = xmlrpc.Truthy(m["asList"])
	var err error
	if q.Offset, err = sqlIntOpt("OFFSET", m["offset"]); err != nil {
		return nil, err
	}
	if q.Limit, err = sqlIntOpt("LIMIT", m["limit"]); err != nil {
		return nil, err
	}
	if o := m["order"]; xmlrpc.Truthy(o) {
		s, ok := o.(string)
		if !ok {
			return nil, pyException("AttributeError", "'%s' object has no attribute 'split'", pyTypeName(o))
		}
		for _, part := range strings.Split(s, ",") {
			key, desc := strings.CutPrefix(part, "-")
			q.Order = append(q.Order, orderTerm{Key: key, Desc: desc})
		}
	}
	return q, nil
}

// sqlIntOpt is an offset or limit as upstream's "%s %i" formatting reads
// it: numbers truncate to integers; anything else is Python's TypeError.
// A negative value is refused as PostgreSQL refuses it.
func sqlIntOpt(name string, v any) (int64, error) {
	if !xmlrpc.Truthy(v) {
		return 0, nil
	}
	var n int64
	switch x := v.(type) {
	case int64:
		n = x
	case bool:
		n = 1
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, pyException("ValueError", "cannot convert float %s to integer", pyRepr(x))
		}
		n = int64(x)
	default:
		return 0, pyException("TypeError", "%%i format: a real number is required, not %s", pyTypeName(v))
	}
	if n < 0 {
		return 0, errors.New(name + " must not be negative")
	}
	return n, nil
}

// A queryField is one column of an upstream query: its alias (the member
// name in answers), the column expression upstream selects (order may name
// either), and the store column it maps to ("" when it cannot be ordered
// on here).
type queryField struct {
	Alias  string
	Column string
	Store  string
}

// storeOrder resolves the order terms against fields as QueryProcessor's
// _order does: by alias first, then by column expression. An unknown term
// is upstream's plain Exception "Invalid order: <term>".
func (q *queryOpts) storeOrder(fields []queryField) ([]store.OrderBy, error) {
	var out []store.OrderBy
	for _, t := range q.Order {
		i := slices.IndexFunc(fields, func(f queryField) bool { return f.Alias == t.Key })
		if i < 0 {
			i = slices.IndexFunc(fields, func(f queryField) bool { return f.Column == t.Key })
		}
		if i < 0 || fields[i].Store == "" {
			return nil, errors.New("Invalid order: " + t.Key)
		}
		out = append(out, store.OrderBy{Column: fields[i].Store, Desc: t.Desc})
	}
	return out, nil
}

// asList turns rows into lists of their values in QueryProcessor's column
// order, which is the aliases sorted.
func asList(rows []map[string]any, fields []queryField) [][]any {
	aliases := make([]string, len(fields))
	for i, f := range fields {
		aliases[i] = f.Alias
	}
	slices.Sort(aliases)
	out := make([][]any, len(rows))
	for i, r := range rows {
		l := make([]any, len(aliases))
		for j, a := range aliases {
			l[j] = r[a]
		}
		out[i] = l
	}
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// pyTypeName is the name of a decoded value's Python class.
func pyTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int64, int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case time.Time:
		return "datetime.datetime"
	case []any:
		return "list"
	case map[string]any:
		return "dict"
	}
	return fmt.Sprintf("%T", v)
}

// pyException is a Python exception other than Koji's as upstream's hub
// answers it: faultCode 1 and "<class 'Class'>: message".
func pyException(class, format string, args ...any) error {
	return &xmlrpc.Fault{Code: 1, String: "<class '" + class + "'>: " + fmt.Sprintf(format, args...)}
}

// convertInt is upstream's convert_value(value, cast=int): Python's int()
// of the value, faulting with ParameterError when int() refuses it.
func convertInt(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case int:
		return int64(x), nil
	case bool:
		return int64(boolInt(x)), nil
	case float64:
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			return int64(x), nil
		}
	case string:
		if n, ok := pyParseInt(x); ok {
			return n, nil
		}
	}
	return 0, convertError(v, "int")
}

// convertError is convert_value's ParameterError for a value that is not
// of type want.
func convertError(v any, want string) error {
	return fault(koji.ErrParameter, "Invalid type for value '%s': <class '%s'>, expected type <class '%s'>",
		pyFormat(v), pyTypeName(v), want)
}

// checkString is convert_value(value, cast=str, check_only=True), with
// none_allowed when noneOK.
func checkString(v any, noneOK bool) (*string, error) {
	switch s := v.(type) {
	case string:
		return &s, nil
	case nil:
		if noneOK {
			return nil, nil
		}
		return nil, fault(koji.ErrParameter, "Invalid type, expected type <class 'str'>")
	}
	return nil, convertError(v, "str")
}

// pyParseInt parses a decimal integer as Python's int(str) does: optional
// surrounding white space and sign, and underscores between digits.
func pyParseInt(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg, s = s[0] == '-', s[1:]
	}
	if s == "" || s[0] == '_' || s[len(s)-1] == '_' || strings.Contains(s, "__") {
		return 0, false
	}
	var n int64
	for _, c := range s {
		if c == '_' {
			continue
		}
		if c < '0' || c > '9' || n > (math.MaxInt64-9)/10 {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}
