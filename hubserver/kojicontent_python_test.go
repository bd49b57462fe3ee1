package hubserver_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/internal/testenv"
)

// pyCall is one call of testdata/pysession.py: method, positional
// arguments, keyword arguments.
type pyCall []any

func pycall(method string, args []any, kw map[string]any) pyCall { return pyCall{method, args, kw} }

// ref stands for a part of the result of call i in a later call's
// arguments.
func ref(i int, keys ...any) map[string]any { return map[string]any{"$ref": append([]any{i}, keys...)} }

// pyAnswer is what testdata/pysession.py printed for one call.
type pyAnswer struct {
	Result any   `json:"result"`
	Types  any   `json:"types"`
	Fault  []any `json:"fault"`
}

// runPySession runs calls through testdata/pysession.py, logged in as
// kojiadmin with password "secret".
func runPySession(t *testing.T, kh *kojiHub, calls []pyCall) []pyAnswer {
	t.Helper()
	return runPySessionAs(t, kh, "kojiadmin", "secret", calls)
}

// runPySessionAs runs calls through testdata/pysession.py, logged in as
// user with password.
func runPySessionAs(t *testing.T, kh *kojiHub, user, password string, calls []pyCall) []pyAnswer {
	t.Helper()
	py := testenv.Command(t, "python3")
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, kh.pki.CAPEM, 0o600))
	in, err := json.Marshal(calls)
	require.NoError(t, err)
	cmd := exec.Command(py, "testdata/pysession.py", kh.hub.URL(), ca, user, password)
	cmd.Stdin = bytes.NewReader(in)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	got, err := cmd.Output()
	require.NoError(t, err, stderr.String())
	var out []pyAnswer
	require.NoError(t, json.Unmarshal(got, &out), string(got))
	require.Len(t, out, len(calls))
	return out
}

// pyShape is the shape of a value decoded by package xmlrpc as
// testdata/pysession.py writes the shape of what Python decoded.
func pyShape(v any) any {
	switch x := v.(type) {
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
		return "datetime"
	case []any:
		items := []any{}
		if len(x) > 0 {
			items = append(items, pyShape(x[0]))
		}
		return map[string]any{"list": items}
	case map[string]any:
		members := map[string]any{}
		for k, m := range x {
			members[k] = pyShape(m)
		}
		return map[string]any{"dict": members}
	}
	panic(fmt.Sprintf("no Python shape for %T", v))
}

// sameShape checks that got has the shape of want: the same members
// everywhere, of the same Python types, where a None on either side
// matches any type (upstream's answer and ours hold different data).
func sameShape(t *testing.T, want, got any, path string) {
	t.Helper()
	if want == "NoneType" || got == "NoneType" {
		return
	}
	switch w := want.(type) {
	case string:
		assert.Equal(t, w, got, path)
	case map[string]any:
		g, ok := got.(map[string]any)
		if !assert.True(t, ok, "%s: %v, want %v", path, got, want) {
			return
		}
		if wd, ok := w["dict"].(map[string]any); ok {
			gd, ok := g["dict"].(map[string]any)
			if !assert.True(t, ok, "%s: %v, want a dict", path, got) {
				return
			}
			assert.ElementsMatch(t, keysOf(wd), keysOf(gd), path)
			for k, v := range wd {
				if gv, ok := gd[k]; ok {
					sameShape(t, v, gv, path+"."+k)
				}
			}
			return
		}
		wl, _ := w["list"].([]any)
		gl, ok := g["list"].([]any)
		if !assert.True(t, ok, "%s: %v, want a list", path, got) {
			return
		}
		if len(wl) > 0 && assert.NotEmpty(t, gl, path) {
			sameShape(t, wl[0], gl[0], path+"[0]")
		}
	}
}

// dictOf is the shape of a dict with the given members, each of any type
// but the ones given in types.
func dictOf(members []string, types map[string]string) any {
	d := map[string]any{}
	for _, m := range members {
		d[m] = "NoneType"
		if ty, ok := types[m]; ok {
			d[m] = ty
		}
	}
	return map[string]any{"dict": d}
}

func listOf(item any) any { return map[string]any{"list": []any{item}} }

// TestKojiContentPython goes through the tag, package, build, target,
// tagging, event and history calls of the koji CLI's everyday commands
// (§F tiers 4 and 5) as the CLI does, with Python's xmlrpc.client logged in
// by password, and checks each answer's shape as Python decoded it: the
// members and types of upstream's recorded answer where a recording
// exists, else the members §E and §F give.
func TestKojiContentPython(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		kh := startKoji(t, dsn, func(c *hubserver.KojiConfig) { c.AdminPassword = "secret" })
		none := map[string]any(nil)
		calls := []pyCall{
			/* 0 */ pycall("createTag", []any{"py-base"}, map[string]any{"arches": "x86_64",
				"extra": map[string]any{"mock.package_manager": "dnf"}}),
			/* 1 */ pycall("createTag", []any{"py-build"}, map[string]any{"parent": "py-base"}),
			/* 2 */ pycall("createTag", []any{"py-dest"}, none),
			/* 3 */ pycall("getTag", []any{"py-build"}, none),
			/* 4 */ pycall("listTags", []any{}, none),
			/* 5 */ pycall("getInheritanceData", []any{"py-build"}, none),
			/* 6 */ pycall("getFullInheritance", []any{"py-build"}, none),
			/* 7 */ pycall("getBuildConfig", []any{"py-build"}, none),
			/* 8 */ pycall("packageListAdd", []any{"py-base", "foo"}, map[string]any{"owner": "kojiadmin"}),
			/* 9 */ pycall("listPackages", []any{}, map[string]any{"tagID": "py-build", "inherited": true}),
			/* 10 */ pycall("getPackage", []any{"foo"}, none),
			/* 11 */ pycall("createBuildTarget", []any{"py-target", "py-build", "py-dest"}, none),
			/* 12 */ pycall("getBuildTargets", []any{}, none),
			/* 13 */ pycall("getBuildTarget", []any{"py-target"}, none),
			/* 14 */ pycall("createEmptyBuild", []any{"foo", "1.0", "1", nil}, none),
			/* 15 */ pycall("getBuild", []any{"foo-1.0-1"}, none),
			/* 16 */ pycall("tagBuildBypass", []any{"py-base", "foo-1.0-1"}, none),
			/* 17 */ pycall("listTagged", []any{"py-base"}, none),
			/* 18 */ pycall("getLatestBuilds", []any{"py-build"}, none),
			/* 19 */ pycall("listBuilds", []any{}, map[string]any{"queryOpts": map[string]any{"order": "-build_id", "limit": 5}}),
			/* 20 */ pycall("getLastEvent", []any{}, none),
			/* 21 */ pycall("getEvent", []any{ref(20, "id")}, none),
			/* 22 */ pycall("tagLastChangeEvent", []any{"py-build"}, none),
			/* 23 */ pycall("queryHistory", []any{}, map[string]any{"tag": "py-base"}),
			/* 24 */ pycall("listRPMs", []any{}, map[string]any{"buildID": ref(14)}),
			/* 25 */ pycall("listArchives", []any{}, map[string]any{"buildID": ref(14)}),
			/* 26 */ pycall("getAverageBuildDuration", []any{"foo"}, none),
			/* 27 */ pycall("packageListAdd", []any{"py-dest", "foo"}, map[string]any{"owner": "kojiadmin"}),
			/* 28 */ pycall("checkTagPackage", []any{"py-dest", "foo"}, none),
			/* 29 */ pycall("untagBuild", []any{"py-base", "foo-1.0-1"}, none),
			/* 30 */ pycall("listTagged", []any{"py-build"}, map[string]any{"inherit": true}),
			/* 31 */ pycall("packageListBlock", []any{"py-build", "foo"}, none),
			/* 32 */ pycall("listPackages", []any{}, map[string]any{"tagID": "py-build", "inherited": true}),
			/* 33 */ pycall("cancelBuild", []any{ref(14)}, none),
			/* 34 */ pycall("getUser", []any{"kojiadmin"}, none),
			/* 35 */ pycall("listVolumes", []any{}, none),
			/* 36 */ pycall("getTag", []any{"no-such-tag"}, map[string]any{"strict": true}),
			/* 37 */ pycall("tagBuild", []any{"py-dest", "foo-1.0-1"}, none),
			/* 38 */ pycall("getTaskInfo", []any{ref(37)}, map[string]any{"request": true}),
			/* 39 */ pycall("getPackageConfig", []any{"py-build", "foo"}, none),
			/* 40 */ pycall("checkTagPackage", []any{"py-build", "foo"}, none),
		}
		out := runPySession(t, kh, calls)
		for i, a := range out {
			if i != 36 {
				require.Nil(t, a.Fault, "call %d %v", i, calls[i])
			}
		}

		inheritance := []string{"parent_id", "name", "priority", "maxdepth", "intransitive", "noconfig", "pkg_filter", "child_id"}
		tagMembers := []string{"id", "name", "perm_id", "perm", "arches", "locked", "maven_support", "maven_include_all", "extra"}
		shapes := map[int]any{
			0:  "int",
			3:  pyShape(recorded(t, "getTag")),
			4:  pyShape(recorded(t, "listTags")),
			5:  listOf(dictOf(inheritance, map[string]string{"parent_id": "int", "priority": "int", "intransitive": "bool"})),
			6:  listOf(dictOf(append(slices.Clone(inheritance), "nextdepth", "currdepth", "filter"), map[string]string{"currdepth": "int"})),
			7:  dictOf(append(slices.Clone(tagMembers), "config_inheritance"), map[string]string{"id": "int", "arches": "str"}),
			8:  "NoneType",
			9:  pyShape(recorded(t, "listPackages")),
			10: pyShape(recorded(t, "getPackage")),
			11: "NoneType",
			12: pyShape(recorded(t, "getBuildTargets")),
			13: pyShape(recorded(t, "getBuildTargets")).(map[string]any)["list"].([]any)[0],
			14: pyShape(recorded(t, "createEmptyBuild")),
			15: pyShape(recorded(t, "getBuild")),
			16: pyShape(recorded(t, "tagBuildBypass")),
			17: pyShape(recorded(t, "listTagged")),
			18: pyShape(recorded(t, "listTagged")),
			19: pyShape(recorded(t, "listBuilds_queryOpts")),
			20: pyShape(recorded(t, "getLastEvent")),
			21: pyShape(recorded(t, "getLastEvent")),
			22: "int",
			24: map[string]any{"list": []any{}},
			25: map[string]any{"list": []any{}},
			26: "NoneType",
			27: "NoneType",
			28: "bool",
			29: "NoneType",
			30: map[string]any{"list": []any{}},
			31: "NoneType",
			32: pyShape(recorded(t, "listPackages")),
			33: "bool",
			34: pyShape(recorded(t, "getUser")),
			37: "int",
			38: pyShape(recorded(t, "getTaskInfo_free")),
			39: pyShape(recorded(t, "listPackages")).(map[string]any)["list"].([]any)[0],
			40: "bool",
			35: listOf(dictOf([]string{"id", "name"}, map[string]string{"id": "int", "name": "str"})),
		}
		for i, want := range shapes {
			sameShape(t, want, out[i].Types, fmt.Sprintf("%d %s", i, calls[i][0]))
		}

		// The answers themselves, as the CLI's commands read them.
		assert.Equal(t, "py-build", out[3].Result.(map[string]any)["name"])
		assert.Equal(t, "py-base", out[5].Result.([]any)[0].(map[string]any)["name"])
		assert.Equal(t, map[string]any{"mock.package_manager": "dnf"}, out[7].Result.(map[string]any)["extra"], "extra inherited from py-base")
		assert.Equal(t, "foo-1.0-1", out[18].Result.([]any)[0].(map[string]any)["nvr"], "latest in py-build, inherited")
		assert.Equal(t, "py-base", out[18].Result.([]any)[0].(map[string]any)["tag_name"])
		assert.Equal(t, true, out[28].Result)
		assert.Equal(t, "tagBuild", out[38].Result.(map[string]any)["method"])
		assert.Empty(t, out[30].Result, "untagged from py-base")
		assert.Equal(t, true, out[32].Result.([]any)[0].(map[string]any)["blocked"])
		assert.Equal(t, "py-build", out[39].Result.(map[string]any)["tag_name"], "the blocking entry")
		assert.Equal(t, false, out[40].Result, "blocked in py-build")
		assert.Equal(t, false, out[33].Result, "a COMPLETE build cannot be canceled")
		history := out[23].Result.(map[string]any)
		for _, table := range []string{"tag_config", "tag_packages", "tag_package_owners", "tag_listing"} {
			assert.NotEmpty(t, history[table], table)
		}
		assert.Equal(t, []any{float64(1000), "No such tagInfo: 'no-such-tag'"}, out[36].Fault)
	})
}
