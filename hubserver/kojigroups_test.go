package hubserver_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/auth"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/rebuild"
)

// groupSummary describes getTagGroups' answer: each group as
// name@tag_id[!] with its packages (name:type@tag_id[!]) and required
// groups (name@tag_id[!]).
func groupSummary(t *testing.T, c *koji.Client, tag any, kw map[string]any) []string {
	t.Helper()
	return rowStrings(t, c, "getTagGroups", []any{tag}, kw, func(g map[string]any) string {
		mark := func(r map[string]any) string {
			s := fmt.Sprintf("@%d", r["tag_id"])
			if r["blocked"] == true {
				s += "!"
			}
			return s
		}
		s := g["name"].(string) + mark(g)
		if pl, ok := g["packagelist"].([]any); ok {
			var ps []string
			for _, p := range pl {
				p := p.(map[string]any)
				ps = append(ps, fmt.Sprintf("%s:%s%s", p["package"], p["type"], mark(p)))
			}
			s += " [" + strings.Join(ps, " ") + "]"
		}
		if gl, ok := g["grouplist"].([]any); ok {
			var rs []string
			for _, r := range gl {
				r := r.(map[string]any)
				rs = append(rs, r["name"].(string)+mark(r))
			}
			s += " {" + strings.Join(rs, " ") + "}"
		}
		return s
	})
}

// groupTags makes f44 (id 1) with the build and srpm-build groups, and
// f44-build (id 2) inheriting from it.
func groupTags(t *testing.T, admin *koji.Client) {
	t.Helper()
	call(t, admin, "createTag", []any{"f44"}, map[string]any{"arches": "x86_64"})
	call(t, admin, "createTag", []any{"f44-build"}, map[string]any{"parent": "f44", "arches": "x86_64"})
	call(t, admin, "groupListAdd", []any{"f44", "build"}, map[string]any{"description": "Buildroot & tools", "is_default": true})
	for _, p := range []string{"bash", "rpm-build"} {
		call(t, admin, "groupPackageListAdd", []any{"f44", "build", p}, nil)
	}
	call(t, admin, "groupPackageListAdd", []any{"f44", "build", "gcc"}, map[string]any{"type": "default"})
	call(t, admin, "groupListAdd", []any{"f44", "srpm-build"}, nil)
	call(t, admin, "groupPackageListAdd", []any{"f44", "srpm-build", "redhat-rpm-config"}, nil)
	call(t, admin, "groupReqListAdd", []any{"f44", "build", "srpm-build"}, nil)
}

func lastEvent(t *testing.T, c *koji.Client) int64 {
	return call(t, c, "getLastEvent", nil, nil).(map[string]any)["id"].(int64)
}

func TestKojiTagGroups(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		groupTags(t, admin)
		full := []string{
			"build@1 [bash:mandatory@1 rpm-build:mandatory@1 gcc:default@1] {srpm-build@1}",
			"srpm-build@1 [redhat-rpm-config:mandatory@1] {}",
		}
		assert.Equal(t, full, groupSummary(t, admin, "f44-build", nil), "inherited from f44")
		assert.Equal(t, full, groupSummary(t, admin, int64(1), nil))
		assert.Empty(t, groupSummary(t, admin, "f44-build", map[string]any{"inherit": false}))
		assert.Equal(t, []string{"build@1", "srpm-build@1"},
			groupSummary(t, admin, "f44-build", map[string]any{"incl_pkgs": false, "incl_reqs": false}))

		var groups []map[string]any
		require.NoError(t, admin.CallKw(ctx, "getTagGroups", &groups, []any{"f44"}, nil))
		g := groups[0]
		assert.Equal(t, map[string]any{"name": "build", "group_id": int64(1), "tag_id": int64(1), "blocked": false,
			"exported": true, "display_name": "build", "is_default": true, "uservisible": true,
			"description": "Buildroot & tools", "langonly": nil, "biarchonly": false,
			"packagelist": g["packagelist"], "grouplist": g["grouplist"]}, g)
		assert.Equal(t, map[string]any{"group_id": int64(1), "tag_id": int64(1), "package": "bash", "blocked": false,
			"type": "mandatory", "basearchonly": nil, "requires": nil}, g["packagelist"].([]any)[0])
		assert.Equal(t, map[string]any{"group_id": int64(1), "tag_id": int64(1), "req_id": int64(2), "name": "srpm-build",
			"blocked": false, "type": "mandatory", "is_metapkg": false}, g["grouplist"].([]any)[0])

		// The same data again changes nothing: no new event.
		before := lastEvent(t, admin)
		call(t, admin, "groupListAdd", []any{"f44-build", "build"}, map[string]any{"description": "Buildroot & tools"})
		call(t, admin, "groupPackageListAdd", []any{"f44-build", "build", "bash"}, nil)
		call(t, admin, "groupReqListAdd", []any{"f44-build", "build", "srpm-build"}, nil)
		assert.Equal(t, before, lastEvent(t, admin))

		// Blocking in the child hides the parent's entry there only.
		call(t, admin, "groupPackageListBlock", []any{"f44-build", "build", "gcc"}, nil)
		assert.Equal(t, "build@1 [bash:mandatory@1 rpm-build:mandatory@1] {srpm-build@1}",
			groupSummary(t, admin, "f44-build", nil)[0])
		assert.Equal(t, "build@1 [gcc:default@2! bash:mandatory@1 rpm-build:mandatory@1] {srpm-build@1}",
			groupSummary(t, admin, "f44-build", map[string]any{"incl_blocked": true})[0])
		assert.Equal(t, full, groupSummary(t, admin, "f44", nil))
		assert.Equal(t, full, groupSummary(t, admin, "f44-build", map[string]any{"event": before}), "as it was")
		assert.Equal(t, "package gcc blocked in group build, tag f44-build",
			faultString(t, admin, koji.ErrGeneric, "groupPackageListAdd", []any{"f44-build", "build", "gcc"}, nil))
		call(t, admin, "groupPackageListAdd", []any{"f44-build", "build", "gcc"}, map[string]any{"force": true, "type": "optional"})
		assert.Equal(t, "build@1 [gcc:optional@2 bash:mandatory@1 rpm-build:mandatory@1] {srpm-build@1}",
			groupSummary(t, admin, "f44-build", nil)[0])
		call(t, admin, "groupPackageListRemove", []any{"f44-build", "build", "gcc"}, nil)
		assert.Equal(t, full, groupSummary(t, admin, "f44-build", nil))
		call(t, admin, "groupPackageListBlock", []any{"f44-build", "build", "gcc"}, nil)
		call(t, admin, "groupPackageListUnblock", []any{"f44-build", "build", "gcc"}, nil)
		assert.Equal(t, full, groupSummary(t, admin, "f44-build", nil))
		assert.Equal(t, "package gcc is NOT blocked in group 1, tag 2",
			faultString(t, admin, koji.ErrGeneric, "groupPackageListUnblock", []any{"f44-build", "build", "gcc"}, nil))

		// A blocked group goes, and so do the requirements on it.
		call(t, admin, "groupListBlock", []any{"f44-build", "srpm-build"}, nil)
		assert.Equal(t, []string{"build@1 [bash:mandatory@1 rpm-build:mandatory@1 gcc:default@1] {}"},
			groupSummary(t, admin, "f44-build", nil))
		assert.Equal(t, []string{"srpm-build@2! [] {}", "build@1 [bash:mandatory@1 rpm-build:mandatory@1 gcc:default@1] {}"},
			groupSummary(t, admin, "f44-build", map[string]any{"incl_blocked": true}), "the child's own first")
		assert.Equal(t, "group srpm-build is blocked in tag f44-build",
			faultString(t, admin, koji.ErrGeneric, "groupListAdd", []any{"f44-build", "srpm-build"}, nil))
		assert.Equal(t, "group srpm-build is blocked in tag f44-build",
			faultString(t, admin, koji.ErrGeneric, "groupPackageListAdd", []any{"f44-build", "srpm-build", "x"}, nil))
		call(t, admin, "groupListUnblock", []any{"f44-build", "srpm-build"}, nil)
		assert.Equal(t, full, groupSummary(t, admin, "f44-build", nil))
		assert.Equal(t, "group srpm-build is NOT blocked in tag f44-build",
			faultString(t, admin, koji.ErrGeneric, "groupListUnblock", []any{"f44-build", "srpm-build"}, nil))

		// Requirements: blocked, unblocked, removed.
		call(t, admin, "groupReqListBlock", []any{"f44-build", "build", "srpm-build"}, nil)
		assert.Equal(t, "build@1 [bash:mandatory@1 rpm-build:mandatory@1 gcc:default@1] {srpm-build@2!}",
			groupSummary(t, admin, "f44-build", map[string]any{"incl_blocked": true})[0])
		assert.Equal(t, "requirement on group srpm-build blocked in group build, tag f44-build",
			faultString(t, admin, koji.ErrGeneric, "groupReqListAdd", []any{"f44-build", "build", "srpm-build"}, nil))
		call(t, admin, "groupReqListUnblock", []any{"f44-build", "build", "srpm-build"}, nil)
		assert.Equal(t, "group req 2 is NOT blocked in group 1, tag 2",
			faultString(t, admin, koji.ErrGeneric, "groupReqListUnblock", []any{"f44-build", "build", "srpm-build"}, nil))
		call(t, admin, "groupReqListRemove", []any{"f44", "build", "srpm-build"}, nil)
		assert.Equal(t, "build@1 [bash:mandatory@1 rpm-build:mandatory@1 gcc:default@1] {}", groupSummary(t, admin, "f44", nil)[0])

		// A group of the child's own overrides the parent's config.
		call(t, admin, "groupListAdd", []any{"f44-build", "build"}, map[string]any{"display_name": "Build"})
		require.NoError(t, admin.CallKw(ctx, "getTagGroups", &groups, []any{"f44-build"}, nil))
		assert.Equal(t, "Build", groups[0]["display_name"])
		assert.Equal(t, int64(2), groups[0]["tag_id"])
		assert.Equal(t, "Buildroot & tools", groups[0]["description"], "the other fields kept")
		call(t, admin, "groupListRemove", []any{"f44-build", "build"}, nil)
		assert.Equal(t, "No group: build found for tag: f44-build",
			faultString(t, admin, koji.ErrGeneric, "groupListRemove", []any{"f44-build", "build"}, nil))
		call(t, admin, "groupListRemove", []any{"f44-build", "build"}, map[string]any{"force": true})

		// Refusals.
		call(t, admin, "createTag", []any{"other"}, nil)
		call(t, admin, "groupListAdd", []any{"other", "lonely"}, nil)
		for _, c := range []struct {
			method string
			args   []any
			kw     map[string]any
			want   string
		}{
			{"getTagGroups", []any{"nosuch"}, nil, "No such entry in table tag: nosuch"},
			{"getTagGroups", []any{"f44"}, map[string]any{"event": "x"}, "Invalid event: 'x'"},
			{"groupListAdd", []any{"nosuch", "build"}, nil, "No such tagInfo: 'nosuch'"},
			{"groupListAdd", []any{"f44", 99}, nil, "Name must be a string"},
			{"groupListAdd", []any{"f44", []any{}}, nil, "Invalid name or id value: []"},
			{"groupListAdd", []any{"f44", "x"}, map[string]any{"display_name": 5}, "invalid value for display_name: 5"},
			{"groupListAdd", []any{"f44", "x"}, map[string]any{"is_default": "yes"}, "invalid value for is_default: 'yes'"},
			{"groupPackageListAdd", []any{"f44", "nosuch", "bash"}, nil, "No such entry in table groups: nosuch"},
			{"groupPackageListAdd", []any{"f44", "build", 5}, nil, "invalid package name: 5"},
			{"groupPackageListAdd", []any{"f44", "build", "bash"}, map[string]any{"type": nil}, "invalid value for type: None"},
			{"groupPackageListAdd", []any{"f44-build", "lonely", "bash"}, nil, "group lonely not present in tag f44-build"},
			{"groupReqListAdd", []any{"f44", "build", "nosuch"}, nil, "No such entry in table groups: nosuch"},
			{"groupListUnblock", []any{"f44", "nosuch"}, nil, "No such entry in table groups: nosuch"},
		} {
			assert.Equal(t, c.want, faultString(t, admin, koji.ErrGeneric, c.method, c.args, c.kw), "%s %v", c.method, c.args)
		}
	})
}

// The group calls need the tag permission (or admin); reading needs no
// login.
func TestKojiTagGroupsPermission(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		groupTags(t, admin)
		anon := kh.client(t)
		assert.Equal(t, "tag permission required (user not logged in)",
			faultString(t, anon, koji.ErrActionNotAllowed, "groupListAdd", []any{"f44", "x"}, nil))
		call(t, admin, "createUser", []any{"bob"}, nil)
		require.NoError(t, kh.koji.SetPassword(ctx, "bob", "secret"))
		bob := kh.client(t)
		require.NoError(t, bob.Login(ctx, &auth.Password{User: "bob", Password: "secret"}))
		for _, c := range [][]any{
			{"groupListAdd", "f44", "x"}, {"groupListRemove", "f44", "build"}, {"groupListBlock", "f44", "build"},
			{"groupListUnblock", "f44", "build"}, {"groupPackageListAdd", "f44", "build", "p"},
			{"groupPackageListRemove", "f44", "build", "bash"}, {"groupPackageListBlock", "f44", "build", "bash"},
			{"groupPackageListUnblock", "f44", "build", "bash"}, {"groupReqListAdd", "f44", "srpm-build", "build"},
			{"groupReqListRemove", "f44", "build", "srpm-build"}, {"groupReqListBlock", "f44", "build", "srpm-build"},
			{"groupReqListUnblock", "f44", "build", "srpm-build"},
		} {
			assert.Equal(t, "tag permission required (logged in as bob)",
				faultString(t, bob, koji.ErrActionNotAllowed, c[0].(string), c[1:], nil))
		}
		assert.Len(t, groupSummary(t, anon, "f44-build", nil), 2)
		call(t, admin, "grantPermission", []any{"bob", "tag"}, nil)
		call(t, bob, "groupPackageListAdd", []any{"f44-build", "build", "make"}, nil)
		assert.Equal(t, "build@1 [make:mandatory@2 bash:mandatory@1 rpm-build:mandatory@1 gcc:default@1] {srpm-build@1}",
			groupSummary(t, anon, "f44-build", nil)[0])
	})
}

// rebuild.KojiHub.BuildGroup reads a gokoji hub's build group: its
// default and mandatory packages, not the blocked or optional ones, at the
// repo's event when given.
func TestKojiTagGroupsRebuildBuildGroup(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		groupTags(t, admin)
		call(t, admin, "groupPackageListAdd", []any{"f44", "build", "doxygen"}, map[string]any{"type": "optional"})
		event := lastEvent(t, admin)
		call(t, admin, "groupPackageListBlock", []any{"f44-build", "build", "rpm-build"}, nil)
		hub := rebuild.NewKojiHub(admin, t.TempDir())
		pkgs, err := hub.BuildGroup(ctx, "f44-build", "build", 0)
		require.NoError(t, err)
		assert.Equal(t, []string{"bash", "gcc"}, pkgs)
		pkgs, err = hub.BuildGroup(ctx, "f44-build", "build", int(event))
		require.NoError(t, err)
		assert.Equal(t, []string{"bash", "rpm-build", "gcc"}, pkgs)
		_, err = hub.BuildGroup(ctx, "f44-build", "nosuch", 0)
		assert.EqualError(t, err, "rebuild: tag f44-build has no group nosuch")
	})
}

// A repo's groups/comps.xml is koji.generate_comps of the tag's groups
// at the repo's event, the build group's requirements expanded.
func TestKojiTagGroupsRepoComps(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		rh := startRepoHub(t, dsn, nil)
		a := rh.admin
		call(t, a, "groupListAdd", []any{"f40-build", "build"}, map[string]any{"description": "Buildroot <&> tools"})
		for _, p := range []string{"rpm-build", "bash"} {
			call(t, a, "groupPackageListAdd", []any{"f40-build", "build", p}, nil)
		}
		call(t, a, "groupPackageListAdd", []any{"f40-build", "build", "glibc"}, map[string]any{"basearchonly": true, "requires": "bash"})
		call(t, a, "groupPackageListBlock", []any{"f40-build", "build", "hidden"}, nil)
		call(t, a, "groupListAdd", []any{"f40-build", "srpm-build"}, map[string]any{"biarchonly": true})
		call(t, a, "groupPackageListAdd", []any{"f40-build", "srpm-build", "redhat-rpm-config"}, map[string]any{"type": "default"})
		call(t, a, "groupPackageListAdd", []any{"f40-build", "srpm-build", "bash"}, nil)
		call(t, a, "groupListAdd", []any{"f40-build", "gone"}, nil)
		call(t, a, "groupReqListAdd", []any{"f40-build", "build", "srpm-build"}, nil)
		call(t, a, "groupReqListAdd", []any{"f40-build", "build", "gone"}, map[string]any{"is_metapkg": true})
		call(t, a, "groupListBlock", []any{"f40-build", "gone"}, nil)

		task := call(t, a, "newRepo", []any{"f40-build"}, nil).(int64)
		call(t, a, "addHostToChannel", []any{"builder1", "createrepo"}, nil)
		call(t, rh.host, "host.updateHost", []any{0.0, true}, map[string]any{"data": map[string]any{"methods": []any{"newRepo"}, "maxjobs": 5}})
		call(t, a, "scheduler.doRun", nil, map[string]any{"force": true})
		repoID := rh.initRepo(t, task)
		// Changes after the repo's event are not in it.
		call(t, a, "groupPackageListAdd", []any{"f40-build", "build", "later"}, nil)
		data, err := os.ReadFile(filepath.Join(rh.top, "repos", "f40-build", fmt.Sprint(repoID), "groups", "comps.xml"))
		require.NoError(t, err)
		assert.Equal(t, `<?xml version="1.0"?>
<!DOCTYPE comps PUBLIC "-//Red Hat, Inc.//DTD Comps info//EN" "comps.dtd">

<!-- Auto-generated by the build system -->
<comps>
  <group>
    <id>build</id>
    <name>build</name>
    <description>Buildroot &lt;&amp;&gt; tools</description>
    <default>false</default>
    <uservisible>true</uservisible>
    <packagelist>
      <packagereq type="mandatory">bash</packagereq>
      <packagereq type="mandatory" basearchonly="true" requires="bash">glibc</packagereq>
      <packagereq type="mandatory">rpm-build</packagereq>
      <!-- Expanding Group: srpm-build -->
      <packagereq type="default">redhat-rpm-config</packagereq>
    </packagelist>
  </group>
  <group>
    <id>srpm-build</id>
    <name>srpm-build</name>
    <description>None</description>
    <default>false</default>
    <uservisible>true</uservisible>
    <biarchonly>true</biarchonly>
    <packagelist>
      <packagereq type="mandatory">bash</packagereq>
      <packagereq type="default">redhat-rpm-config</packagereq>
    </packagelist>
  </group>
</comps>
`, string(data))
	})
}

func TestKojiTagGroupsSignatures(t *testing.T) {
	assertUpstreamSignatures(t, "getTagGroups", "groupListAdd", "groupListRemove", "groupListBlock", "groupListUnblock",
		"groupPackageListAdd", "groupPackageListRemove", "groupPackageListBlock", "groupPackageListUnblock",
		"groupReqListAdd", "groupReqListRemove", "groupReqListBlock", "groupReqListUnblock")
}
