package hubserver_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
)

// TestKojiExternalReposPython makes an external repo and links it as the
// koji CLI's add-external-repo, edit-external-repo and
// remove-external-repo do, with Python's xmlrpc.client, and reads it back
// as its taginfo (mavenEnabled, getTagExternalRepos with tag_info and
// event as keywords) and list-external-repos do: members and Python types
// as upstream's get_tag_external_repos and get_external_repos select them
// (no recording exists; the members are kojihub.py's columns), and
// upstream's faults.
func TestKojiExternalReposPython(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		kh := startKoji(t, dsn, func(c *hubserver.KojiConfig) { c.AdminPassword = "secret" })
		none := map[string]any(nil)
		calls := []pyCall{
			/* 0 */ pycall("createTag", []any{"py-base"}, map[string]any{"arches": "x86_64"}),
			/* 1 */ pycall("createTag", []any{"py-build"}, map[string]any{"parent": "py-base"}),
			/* 2 */ pycall("createExternalRepo", []any{"py-updates", "https://example.com/py"}, none),
			/* 3 */ pycall("addExternalRepoToTag", []any{"py-base", "py-updates", 10}, map[string]any{"merge_mode": "simple", "arches": "x86_64"}),
			/* 4 */ pycall("getLastEvent", []any{}, none),
			/* 5 */ pycall("mavenEnabled", []any{}, none),
			/* 6 */ pycall("winEnabled", []any{}, none),
			/* 7 */ pycall("getTagExternalRepos", []any{}, map[string]any{"tag_info": ref(0), "event": ref(4, "id")}),
			/* 8 */ pycall("getExternalRepoList", []any{"py-build"}, none),
			/* 9 */ pycall("listExternalRepos", []any{}, map[string]any{"info": "py-updates"}),
			/* 10 */ pycall("getExternalRepo", []any{ref(2, "id")}, none),
			/* 11 */ pycall("editTagExternalRepo", []any{"py-base", "py-updates"}, map[string]any{"priority": 20}),
			/* 12 */ pycall("editTagExternalRepo", []any{"py-base", "py-updates"}, map[string]any{"priority": 20}),
			/* 13 */ pycall("editExternalRepo", []any{"py-updates"}, map[string]any{"url": "https://mirror/py/"}),
			/* 14 */ pycall("addExternalRepoToTag", []any{"py-build", "py-updates", 10, "fancy"}, none),
			/* 15 */ pycall("removeExternalRepoFromTag", []any{"py-build", "py-updates"}, none),
			/* 16 */ pycall("createExternalRepo", []any{"py-updates", "https://example.com/py/"}, none),
			/* 17 */ pycall("getExternalRepo", []any{"nope"}, map[string]any{"strict": true}),
			/* 18 */ pycall("deleteExternalRepo", []any{"py-updates"}, none),
			/* 19 */ pycall("getTagExternalRepos", []any{"py-base"}, none),
			/* 20 */ pycall("addExternalRepoToTag", []any{"py-base", "py-updates", 1}, none),
			/* 21 */ pycall("getTagExternalRepos", []any{}, map[string]any{"tag_info": "py-base", "event": ref(4, "id")}),
		}
		out := runPySession(t, kh, calls)
		for _, i := range []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 18, 19, 21} {
			require.Nil(t, out[i].Fault, "call %d %v", i, calls[i])
		}
		for i, want := range map[int][]any{
			14: {float64(1000), "No such merge mode: fancy"},
			15: {float64(1000), "external repo py-updates not associated with tag py-build"},
			16: {float64(1000), `An external repo named "py-updates" already exists`},
			17: {float64(1000), "No such repo: nope"},
			20: {float64(1000), "No such repo: py-updates"},
		} {
			assert.Equal(t, want, out[i].Fault, "call %d %v", i, calls[i])
		}

		repo := dictOf([]string{"id", "name", "url"}, map[string]string{"id": "int", "name": "str", "url": "str"})
		link := dictOf([]string{"external_repo_id", "external_repo_name", "priority", "tag_id", "tag_name", "url", "merge_mode", "arches"},
			map[string]string{"external_repo_id": "int", "external_repo_name": "str", "priority": "int", "tag_id": "int",
				"tag_name": "str", "url": "str", "merge_mode": "str", "arches": "str"})
		for i, want := range map[int]any{2: repo, 3: "NoneType", 5: "bool", 6: "bool", 7: listOf(link), 8: listOf(link),
			9: listOf(repo), 10: repo, 11: "bool", 12: "bool", 13: "NoneType", 18: "NoneType", 19: map[string]any{"list": []any{}},
			21: listOf(link)} {
			sameShape(t, want, out[i].Types, fmt.Sprintf("%d %s", i, calls[i][0]))
		}
		assert.Equal(t, map[string]any{"id": float64(1), "name": "py-updates", "url": "https://example.com/py/"}, out[2].Result)
		assert.Equal(t, false, out[5].Result)
		assert.Equal(t, false, out[6].Result)
		want := map[string]any{"external_repo_id": float64(1), "external_repo_name": "py-updates", "priority": float64(10),
			"tag_id": float64(1), "tag_name": "py-base", "url": "https://example.com/py/", "merge_mode": "simple", "arches": "x86_64"}
		assert.Equal(t, []any{want}, out[7].Result)
		assert.Equal(t, []any{want}, out[8].Result, "inherited by py-build")
		assert.Equal(t, []any{want}, out[21].Result, "as it was, after the repo's deletion")
		assert.Equal(t, true, out[11].Result)
		assert.Equal(t, false, out[12].Result, "nothing left to change")
		assert.Equal(t, []any{}, out[19].Result)
	})
}
