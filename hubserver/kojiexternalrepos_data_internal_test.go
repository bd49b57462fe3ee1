package hubserver

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// TestExternalRepoDataJSON: what the JSONB column would make of
// json.dumps' text, and what it and json.dumps refuse, for the values no
// client of the tests sends (NaN, infinities, keys json.dumps refuses).
func TestExternalRepoDataJSON(t *testing.T) {
	for _, c := range []struct {
		in   any
		want string
	}{
		{map[string]any{"bb": int64(1), "a": math.Copysign(0, -1), "ccc": 1e300, "c": -2.5e-5, "d": 123.0}, `{"a": 0.0, "c": -0.000025, "d": 123.0, "bb": 1, ` +
			`"ccc": 1` + strings.Repeat("0", 300) + `}`},
		{map[string]any{"t": "\t\x01é\U0001F600/"}, `{"t": "\t\u0001é` + "\U0001F600" + `/"}`},
		{map[string]any{}, `{}`},
	} {
		got, err := jsonbText(c.in)
		require.NoError(t, err)
		assert.Equal(t, c.want, got)
		back, err := decodeJSON(got)
		require.NoError(t, err)
		assert.IsType(t, map[string]any{}, back)
	}
	for _, c := range []struct {
		in   any
		want string
	}{
		{map[string]any{"x": []any{math.NaN()}}, "<class 'psycopg2.errors.InvalidTextRepresentation'>: invalid input syntax for type json\nDETAIL:  Token \"NaN\" is invalid."},
		{map[string]any{"x": math.Inf(-1)}, "<class 'psycopg2.errors.InvalidTextRepresentation'>: invalid input syntax for type json\nDETAIL:  Token \"-Infinity\" is invalid."},
		{map[string]any{"x": math.NaN(), "y": []byte("b")}, "<class 'TypeError'>: Object of type bytes is not JSON serializable"},
		{map[string]any{"x": time.Unix(0, 0)}, "<class 'TypeError'>: Object of type datetime is not JSON serializable"},
	} {
		_, err := jsonbText(c.in)
		var f *xmlrpc.Fault
		require.ErrorAs(t, err, &f)
		assert.Equal(t, c.want, f.String)
	}

	d, err := convertDict([]any{[]any{1.5, "a"}, []any{math.Inf(1), "b"}, []any{int64(1), "c"}, []any{1.0, "d"}, []byte("xy")})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"1.5": "a", "Infinity": "b", "1": "d", "120": int64(121)}, d)
	d, err = convertDict([]any{[]any{int64(1<<60 + 1), "a"}, []any{float64(1 << 60), "b"}, []any{int64(1 << 60), "c"},
		[]any{math.NaN(), "n1"}, []any{math.NaN(), "n2"}})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"1152921504606846977": "a", "1.152921504606847e+18": "c", "NaN": "n2"}, d,
		"2**60 + 1 is not float(2**60), which is 2**60; NaNs are two keys json.dumps writes alike")
	for _, c := range []struct {
		in   any
		want string
	}{
		{[]any{[]any{[]byte("k"), "v"}}, "<class 'TypeError'>: keys must be str, int, float, bool or None, not bytes"},
		{[]any{[]any{time.Unix(0, 0), "v"}}, "<class 'TypeError'>: keys must be str, int, float, bool or None, not datetime"},
		{[]any{map[string]any{"a": 1, "b": 2}}, "Invalid type for value '[{'a': 1, 'b': 2}]': <class 'list'>, expected type <class 'dict'>"},
		{[]byte("ab"), "Invalid type for value 'b'ab'': <class 'bytes'>, expected type <class 'dict'>"},
		{1.5, "Invalid type for value '1.5': <class 'float'>, expected type <class 'dict'>"},
	} {
		_, err := convertDict(c.in)
		var f *xmlrpc.Fault
		var kf *koji.Fault
		switch {
		case errors.As(err, &f):
			assert.Equal(t, c.want, f.String, "%#v", c.in)
		case errors.As(err, &kf):
			assert.Equal(t, int(koji.ErrParameter), kf.Code)
			assert.Equal(t, c.want, kf.String, "%#v", c.in)
		default:
			t.Errorf("%#v: %v", c.in, err)
		}
	}
}
