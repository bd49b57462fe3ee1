package hubserver_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/koji"
)

// searchTree makes what TestKojiSearch looks for: the packages foo,
// foo_bar, fooXbar and Bar with a build each, an RPM of foo-1.0-1, the
// tags f44 and f44-old (deleted), the target f44-candidate, the user
// bartender and the host builder-bar.
func searchTree(t *testing.T, kh *kojiHub, admin *koji.Client) {
	t.Helper()
	var fooID int64
	for _, p := range []string{"foo", "foo_bar", "fooXbar", "Bar"} {
		id := call(t, admin, "createEmptyBuild", []any{p, "1.0", "1", nil}, nil).(int64)
		if p == "foo" {
			fooID = id
		}
	}
	taskTx(t, kh, 1, func(ctx context.Context) error {
		_, err := kh.koji.AddRPMForTest(ctx, fooID, "foo", "x86_64")
		return err
	})
	call(t, admin, "createTag", []any{"f44"}, nil)
	call(t, admin, "createTag", []any{"f44-old"}, nil)
	call(t, admin, "deleteTag", []any{"f44-old"}, nil)
	call(t, admin, "createBuildTarget", []any{"f44-candidate", "f44", "f44"}, nil)
	call(t, admin, "createUser", []any{"bartender"}, nil)
	call(t, admin, "addHost", []any{"builder-bar", []any{"x86_64"}}, nil)
}

func TestKojiSearch(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		searchTree(t, kh, admin)
		anon := kh.client(t)
		names := func(terms, typ, match any, qo map[string]any) []string {
			t.Helper()
			out := []string{}
			for _, r := range call(t, anon, "search", []any{terms, typ, match, qo}, nil).([]any) {
				r := r.(map[string]any)
				require.Len(t, r, 2)
				require.IsType(t, int64(0), r["id"])
				out = append(out, r["name"].(string))
			}
			return out
		}

		// glob: case-insensitive, "_" literal, "?" one character.
		assert.Equal(t, []string{"foo", "foo_bar", "fooXbar"}, names("foo*", "package", "glob", nil))
		assert.Equal(t, []string{"foo_bar", "fooXbar", "Bar"}, names("*bar", "package", "glob", nil))
		assert.Equal(t, []string{"foo_bar"}, names("foo_bar", "package", "glob", nil))
		assert.Equal(t, []string{"foo_bar", "fooXbar"}, names("foo?bar", "package", "glob", nil))
		assert.Equal(t, []string{"Bar"}, names("BAR", "package", "glob", nil))
		// exact: case-sensitive; regexp: case-insensitive and unanchored.
		assert.Equal(t, []string{}, names("bar", "package", "exact", nil))
		assert.Equal(t, []string{"Bar"}, names("Bar", "package", "anything", nil))
		assert.Equal(t, []string{"foo_bar", "fooXbar", "Bar"}, names("BAR$", "package", "regexp", nil))
		assert.Equal(t, []string{"foo", "foo_bar", "fooXbar"}, names("^fo+", "package", "regexp", nil))

		assert.Equal(t, []string{"foo-1.0-1"}, names("foo-*", "build", "glob", nil))
		assert.Equal(t, []string{"foo-1.0-1", "foo_bar-1.0-1", "fooXbar-1.0-1"}, names("foo*-1", "build", "glob", nil))
		assert.Equal(t, []string{"fooXbar-1.0-1"}, names("fooXbar-1.0-1", "build", "exact", nil))
		assert.Equal(t, []string{"foo-1.0-1.x86_64.rpm"}, names("*.rpm", "rpm", "glob", nil))
		assert.Equal(t, []string{"foo-1.0-1.x86_64.rpm"}, names(`x86_64\.rpm$`, "rpm", "regexp", nil))
		assert.Equal(t, []string{"f44"}, names("f44*", "tag", "glob", nil), "not the deleted tag")
		assert.Equal(t, []string{"f44-candidate"}, names("f44*", "target", "glob", nil))
		call(t, admin, "deleteBuildTarget", []any{"f44-candidate"}, nil)
		assert.Equal(t, []string{}, names("f44*", "target", "glob", nil), "a deleted target")
		assert.Equal(t, []string{"bartender", "builder-bar"}, names("b*", "user", "glob", nil), "a host's user too")
		assert.Equal(t, []string{"builder-bar"}, names("*bar", "host", "glob", nil))
		for _, typ := range []string{"maven", "win"} {
			for _, match := range []string{"glob", "regexp", "exact"} {
				assert.Equal(t, []string{}, names("foo*", typ, match, nil), typ+" "+match)
			}
		}
		assert.Equal(t, []string{}, names("foo", "file", "glob", nil), "no longer supported")

		// queryOpts
		assert.Equal(t, []string{"fooXbar", "foo_bar", "foo"}, names("foo*", "package", "glob", map[string]any{"order": "-id"}))
		assert.Equal(t, []string{"foo_bar"}, names("foo*", "package", "glob", map[string]any{"order": "id", "offset": 1, "limit": 1}))
		assert.Equal(t, []string{"foo_bar-1.0-1", "fooXbar-1.0-1", "foo-1.0-1"}, names("foo*-1", "build", "glob",
			map[string]any{"order": "-package.name || '-' || build.version || '-' || build.release"}))
		assert.Equal(t, int64(3), call(t, anon, "search", []any{"foo*", "package", "glob", map[string]any{"countOnly": true}}, nil))
		assert.Equal(t, int64(0), call(t, anon, "search", []any{"foo*", "file", "glob", map[string]any{"countOnly": true}}, nil))
		list := call(t, anon, "search", []any{"foo", "package", "exact", map[string]any{"asList": true}}, nil).([]any)
		require.Len(t, list, 1)
		assert.Equal(t, []any{int64(1), "foo"}, list[0])

		// Errors, in upstream's words.
		assert.Equal(t, "empty search terms", faultString(t, anon, koji.ErrGeneric, "search", []any{"", "package", "glob"}, nil))
		assert.Equal(t, "No such search type: pkg", faultString(t, anon, koji.ErrGeneric, "search", []any{"foo", "pkg", "glob"}, nil))
		f := faultString(t, anon, 1, "search", []any{"foo", "package", "glob", map[string]any{"order": "nope"}}, nil)
		assert.Contains(t, f, "Invalid order: nope")
		f = faultString(t, anon, 1, "search", []any{5, "package", "glob"}, nil)
		assert.Equal(t, "<class 'AttributeError'>: 'int' object has no attribute 'replace'", f)
	})
}

// TestKojiSearchPython searches as the koji CLI's search command does
// (session.search(terms, type, matchType) with Python's xmlrpc.client),
// and checks the members and Python types of the answer.
func TestKojiSearchPython(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		kh := startKoji(t, dsn, func(c *hubserver.KojiConfig) { c.AdminPassword = "secret" })
		searchTree(t, kh, kh.sslClient(t, ""))
		calls := []pyCall{
			pycall("search", []any{"foo*", "build", "glob"}, nil),
			pycall("search", []any{"^b", "user", "regexp"}, map[string]any{"queryOpts": map[string]any{"order": "-name"}}),
			pycall("search", []any{"", "build", "glob"}, nil),
		}
		out := runPySession(t, kh, calls)
		row := listOf(dictOf([]string{"id", "name"}, map[string]string{"id": "int", "name": "str"}))
		sameShape(t, row, out[0].Types, "build")
		sameShape(t, row, out[1].Types, "user")
		var got []string
		for _, r := range out[1].Result.([]any) {
			got = append(got, fmt.Sprint(r.(map[string]any)["name"]))
		}
		assert.Equal(t, []string{"builder-bar", "bartender"}, got)
		assert.Equal(t, []any{float64(1000), "empty search terms"}, out[2].Fault)
	})
}

func TestSearchMethodSignatures(t *testing.T) {
	assertUpstreamSignatures(t, "search")
}
