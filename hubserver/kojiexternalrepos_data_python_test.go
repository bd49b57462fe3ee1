package hubserver_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
)

// TestKojiExternalRepoDataPython keeps an external repo's data as kojira
// does (repo.setExternalRepoData by repo id, then
// repo.getExternalRepoData), with Python's xmlrpc.client, positionally and
// by keyword: the data comes back as Python set it, with its types (an
// int stays an int, a float a float), None before any was set, and
// upstream's faults (no recording exists; the calls are
// kojihub/repos.py's).
func TestKojiExternalRepoDataPython(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		kh := startKoji(t, dsn, func(c *hubserver.KojiConfig) { c.AdminPassword = "secret" })
		none := map[string]any(nil)
		data := map[string]any{"max_ts": 1733600000, "ratio": 0.5, "whole": json.Number("2.0"), // a float in Python
			"mirrors": []any{"a", "b"}, "arches": map[string]any{"x86_64": map[string]any{"ts": 1733600000, "ok": true, "note": nil}}}
		calls := []pyCall{
			/* 0 */ pycall("createExternalRepo", []any{"py-ext", "https://example.com/py/"}, none),
			/* 1 */ pycall("repo.getExternalRepoData", []any{ref(0, "id")}, none),
			/* 2 */ pycall("repo.setExternalRepoData", []any{ref(0, "id"), data}, none),
			/* 3 */ pycall("repo.getExternalRepoData", []any{"py-ext"}, none),
			/* 4 */ pycall("repo.setExternalRepoData", []any{}, map[string]any{"external_repo_id": "py-ext", "data": map[string]any{"max_ts": 1733700000}}),
			/* 5 */ pycall("repo.getExternalRepoData", []any{}, map[string]any{"erepo": ref(0, "id")}),
			/* 6 */ pycall("repo.setExternalRepoData", []any{"py-ext", "not a dict"}, none),
			/* 7 */ pycall("repo.setExternalRepoData", []any{"nope", map[string]any{}}, none),
			/* 8 */ pycall("repo.getExternalRepoData", []any{"nope"}, none),
			/* 9 */ pycall("repo.setExternalRepoData", []any{"py-ext"}, none),
			/* 10 */ pycall("repo.getExternalRepoData", []any{"py-ext"}, none),
		}
		out := runPySession(t, kh, calls)
		for _, i := range []int{0, 1, 2, 3, 4, 5, 10} {
			require.Nil(t, out[i].Fault, "call %d %v", i, calls[i])
		}
		for i, want := range map[int][]any{
			6: {float64(1019), "Invalid type for value 'not a dict': <class 'str'>, expected type <class 'dict'>"},
			7: {float64(1000), "No such entry in table external_repo: nope"},
			8: {float64(1000), "No such entry in table external_repo: nope"},
			9: {float64(1019), "RepoExports.setExternalRepoData() missing 1 required positional argument: 'data'"},
		} {
			assert.Equal(t, want, out[i].Fault, "call %d %v", i, calls[i])
		}
		assert.Nil(t, out[1].Result)
		assert.Equal(t, "NoneType", out[1].Types)
		assert.Equal(t, "NoneType", out[2].Types)
		assert.Equal(t, map[string]any{"dict": map[string]any{
			"max_ts": "int", "ratio": "float", "whole": "float", "mirrors": map[string]any{"list": []any{"str"}},
			"arches": map[string]any{"dict": map[string]any{"x86_64": map[string]any{"dict": map[string]any{
				"ts": "int", "ok": "bool", "note": "NoneType"}}}},
		}}, out[3].Types)
		assert.Equal(t, map[string]any{"max_ts": float64(1733600000), "ratio": 0.5, "whole": 2.0, "mirrors": []any{"a", "b"},
			"arches": map[string]any{"x86_64": map[string]any{"ts": float64(1733600000), "ok": true, "note": nil}}}, out[3].Result)
		assert.Equal(t, map[string]any{"max_ts": float64(1733700000)}, out[5].Result)
		assert.Equal(t, map[string]any{"dict": map[string]any{"max_ts": "int"}}, out[5].Types)
		assert.Equal(t, out[5].Result, out[10].Result, "the refused calls changed nothing")
	})
}
