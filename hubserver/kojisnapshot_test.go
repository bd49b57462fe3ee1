package hubserver_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/koji"
)

// TestKojiSnapshotTag: snapshotTag (koji clone-tag to a new tag) copies a
// tag's configuration, inherited package list, latest (or all, inherited)
// builds and groups into a new tag without inheritance; snapshotTagModify
// (clone-tag to an existing tag) makes an existing tag's package list and
// builds the source's, in the source's order, and with remove takes away
// what the source lacks; with upstream's checks and faults.
func TestKojiSnapshotTag(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		kh := startKoji(t, dsn, func(c *hubserver.KojiConfig) { c.AdminPassword = "secret" })
		admin := kh.sslClient(t, "")
		base := call(t, admin, "createTag", []any{"base"}, nil).(int64)
		call(t, admin, "createTag", []any{"src"}, map[string]any{"parent": "base", "arches": "x86_64",
			"extra": map[string]any{"mock.new_chroot": int64(0)}})
		build := func(name, rel string) int64 {
			return call(t, admin, "createEmptyBuild", []any{name, "1", rel, nil}, nil).(int64)
		}
		call(t, admin, "packageListAdd", []any{"base", "foo", "kojiadmin"}, nil)
		call(t, admin, "packageListAdd", []any{"src", "bar", "kojiadmin"}, nil)
		call(t, admin, "packageListAdd", []any{"src", "baz", "kojiadmin"}, map[string]any{"block": true})
		for _, nvr := range [][2]string{{"foo", "1"}, {"foo", "2"}} {
			call(t, admin, "tagBuildBypass", []any{"base", build(nvr[0], nvr[1])}, nil)
		}
		for _, nvr := range [][2]string{{"bar", "1"}, {"bar", "2"}} {
			call(t, admin, "tagBuildBypass", []any{"src", build(nvr[0], nvr[1])}, nil)
		}
		call(t, admin, "groupListAdd", []any{"src", "build"}, nil)
		call(t, admin, "groupPackageListAdd", []any{"src", "build", "bash"}, nil)
		call(t, admin, "groupListAdd", []any{"src", "srpm-build"}, nil)
		call(t, admin, "groupReqListAdd", []any{"src", "build", "srpm-build"}, nil)

		nvrs := func(tag string, kw map[string]any) []string {
			var out []string
			for _, b := range call(t, admin, "listTagged", []any{tag}, kw).([]any) {
				out = append(out, b.(map[string]any)["nvr"].(string))
			}
			return out
		}
		pkgs := func(tag string) map[string]bool {
			out := map[string]bool{}
			for _, p := range call(t, admin, "listPackages", nil, map[string]any{"tagID": tag, "inherited": true}).([]any) {
				m := p.(map[string]any)
				out[m["package_name"].(string)] = m["blocked"].(bool)
			}
			return out
		}

		assert.Nil(t, call(t, admin, "snapshotTag", []any{"src", "snap"}, nil))
		snap := call(t, admin, "getTag", []any{"snap"}, nil).(map[string]any)
		assert.Equal(t, "x86_64", snap["arches"])
		assert.Equal(t, map[string]any{"mock.new_chroot": int64(0)}, snap["extra"])
		assert.Empty(t, call(t, admin, "getInheritanceData", []any{"snap"}, nil), "inheritance is not copied")
		assert.Equal(t, map[string]bool{"foo": false, "bar": false, "baz": true}, pkgs("snap"))
		assert.Equal(t, []string{"bar-1-2", "foo-1-2"}, nvrs("snap", nil), "the latest builds, inherited ones too")
		groups := call(t, admin, "getTagGroups", []any{"snap"}, nil).([]any)
		require.Len(t, groups, 2)
		g := groups[0].(map[string]any)
		assert.Equal(t, "build", g["name"])
		assert.Equal(t, "bash", g["packagelist"].([]any)[0].(map[string]any)["package"])
		assert.Equal(t, "srpm-build", g["grouplist"].([]any)[0].(map[string]any)["name"])

		assert.Nil(t, call(t, admin, "snapshotTag", []any{"src", "bare"}, map[string]any{"config": false, "latest_only": false,
			"groups": false}))
		bare := call(t, admin, "getTag", []any{"bare"}, nil).(map[string]any)
		assert.Equal(t, call(t, admin, "getTag", []any{"base"}, nil).(map[string]any)["arches"], bare["arches"],
			"the arches of a tag created without any")
		assert.Equal(t, map[string]any{}, bare["extra"])
		assert.Equal(t, []string{"bar-1-2", "bar-1-1", "foo-1-2", "foo-1-1"}, nvrs("bare", nil), "every build, newest first")
		assert.Empty(t, call(t, admin, "getTagGroups", []any{"bare"}, nil))

		assert.Equal(t, "Target tag already exists", faultString(t, admin, koji.ErrGeneric, "snapshotTag", []any{"src", "snap"}, nil))
		assert.Equal(t, "builds can't be used without pkgs in snapshotTag",
			faultString(t, admin, koji.ErrParameter, "snapshotTag", []any{"src", "x"}, map[string]any{"pkgs": false}))
		call(t, admin, "editTag2", []any{"src"}, map[string]any{"locked": true})
		assert.Equal(t, "Source tag is locked, use force to copy",
			faultString(t, admin, koji.ErrGeneric, "snapshotTag", []any{"src", "x"}, nil))
		assert.Nil(t, call(t, admin, "snapshotTag", []any{"src", "forced"}, map[string]any{"force": true}))
		assert.Equal(t, true, call(t, admin, "getTag", []any{"forced"}, nil).(map[string]any)["locked"])
		call(t, admin, "editTag2", []any{"src"}, map[string]any{"locked": false})
		assert.Equal(t, "tag permission required (user not logged in)",
			faultString(t, kh.client(t), koji.ErrActionNotAllowed, "snapshotTag", []any{"src", "x"}, nil))

		// An existing tag with a package src lacks and bar's builds in the
		// other order.
		call(t, admin, "createTag", []any{"target"}, nil)
		call(t, admin, "packageListAdd", []any{"target", "old", "kojiadmin"}, nil)
		call(t, admin, "packageListAdd", []any{"target", "bar", "kojiadmin"}, nil)
		call(t, admin, "tagBuildBypass", []any{"target", build("old", "1")}, nil)
		call(t, admin, "tagBuildBypass", []any{"target", "bar-1-2"}, nil)
		call(t, admin, "tagBuildBypass", []any{"target", "bar-1-1"}, nil)
		call(t, admin, "createTag", []any{"keep"}, nil)
		call(t, admin, "packageListAdd", []any{"keep", "old", "kojiadmin"}, nil)
		call(t, admin, "tagBuildBypass", []any{"keep", "old-1-1"}, nil)

		assert.Equal(t, "Maven support not enabled", faultString(t, admin, koji.ErrGeneric, "snapshotTagModify",
			[]any{"src", "target"}, nil), "upstream's edit_tag refuses the maven members it is given without EnableMaven")
		opts := map[string]any{"config": false, "latest_only": false, "remove": true}
		assert.Nil(t, call(t, admin, "snapshotTagModify", []any{"src", "target"}, opts))
		assert.Equal(t, map[string]bool{"foo": false, "bar": false, "baz": true, "old": true}, pkgs("target"),
			"src's packages added, the one src lacks blocked")
		assert.Equal(t, []string{"bar-1-2", "bar-1-1"}, nvrs("target", map[string]any{"package": "bar"}), "src's order")
		assert.Equal(t, []string{"foo-1-2", "foo-1-1"}, nvrs("target", map[string]any{"package": "foo"}))
		assert.Empty(t, call(t, admin, "listTagged", []any{"target"}, map[string]any{"package": "old", "inherit": false}),
			"the package src lacks is blocked first, so its build is hidden (and, as upstream, not untagged)")
		groups = call(t, admin, "getTagGroups", []any{"target"}, nil).([]any)
		assert.Len(t, groups, 2)

		assert.Nil(t, call(t, admin, "snapshotTagModify", []any{"src", "keep"}, map[string]any{"config": false, "groups": false}))
		assert.Equal(t, []string{"bar-1-2", "foo-1-2"}, nvrs("keep", nil), "old is blocked now")
		var tagsOfOld []string
		for _, tg := range call(t, admin, "listTags", nil, map[string]any{"build": "old-1-1"}).([]any) {
			tagsOfOld = append(tagsOfOld, tg.(map[string]any)["name"].(string))
		}
		assert.Equal(t, []string{"target", "keep"}, tagsOfOld, "the build src lacks stays tagged")

		assert.Equal(t, "Source or destination tag is locked, use force to copy", func() string {
			call(t, admin, "editTag2", []any{"keep"}, map[string]any{"locked": true})
			return faultString(t, admin, koji.ErrGeneric, "snapshotTagModify", []any{"src", "keep"}, map[string]any{"config": false})
		}())
		assert.Equal(t, "No such tagInfo: 'nosuch'", faultString(t, admin, koji.ErrGeneric, "snapshotTagModify",
			[]any{"src", "nosuch"}, map[string]any{"config": false}))

		out := runPySession(t, kh, []pyCall{
			pycall("snapshotTag", []any{"src", "py-snap"}, map[string]any{"builds": false}),
			pycall("snapshotTagModify", []any{"src", "py-snap"}, map[string]any{"config": false, "remove": true}),
		})
		for i, a := range out {
			require.Nil(t, a.Fault, "call %d", i)
			assert.Nil(t, a.Result)
		}
		assert.Equal(t, []string{"bar-1-2", "foo-1-2"}, nvrs("py-snap", nil))
		_ = base
	})
	assertUpstreamSignatures(t, "snapshotTag", "snapshotTagModify")
}
