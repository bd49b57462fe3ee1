package hubserver_test

import (
	"context"
	"fmt"
	"path"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/multicall"
)

// taggedRPMTree makes rpm-base and rpm-child (inheriting from it) with
// the packages foo, bar and baz (blocked in rpm-child) and these builds,
// tagged in this order, each with a src and an x86_64 RPM (foo-2.0-1
// also a noarch one):
//
//	rpm-base:  foo-1.0-1, bar-1.0-1, baz-1.0-1, foo-2.0-1
//	rpm-child: bar-1.0-1 (again), foo-3.0-1
func taggedRPMTree(t *testing.T, kh *kojiHub, admin *koji.Client) {
	t.Helper()
	call(t, admin, "createTag", []any{"rpm-base"}, nil)
	call(t, admin, "createTag", []any{"rpm-child"}, map[string]any{"parent": "rpm-base"})
	for _, p := range []string{"foo", "bar", "baz"} {
		call(t, admin, "packageListAdd", []any{"rpm-base", p, "kojiadmin"}, nil)
	}
	call(t, admin, "packageListBlock", []any{"rpm-child", "baz"}, nil)
	ids := map[string]int64{}
	for _, nvr := range []string{"foo-1.0-1", "bar-1.0-1", "baz-1.0-1", "foo-2.0-1", "foo-3.0-1"} {
		p := strings.SplitN(nvr, "-", 3)
		ids[nvr] = call(t, admin, "createEmptyBuild", []any{p[0], p[1], p[2], nil}, nil).(int64)
	}
	taskTx(t, kh, 1, func(ctx context.Context) error {
		for _, nvr := range []string{"foo-1.0-1", "bar-1.0-1", "baz-1.0-1", "foo-2.0-1", "foo-3.0-1"} {
			arches := []string{"src", "x86_64"}
			if nvr == "foo-2.0-1" {
				arches = append(arches, "noarch")
			}
			for _, a := range arches {
				if _, err := kh.koji.AddRPMForTest(ctx, ids[nvr], strings.SplitN(nvr, "-", 2)[0], a); err != nil {
					return err
				}
			}
		}
		return nil
	})
	for _, tb := range [][2]string{{"rpm-base", "foo-1.0-1"}, {"rpm-base", "bar-1.0-1"}, {"rpm-base", "baz-1.0-1"},
		{"rpm-base", "foo-2.0-1"}, {"rpm-child", "bar-1.0-1"}, {"rpm-child", "foo-3.0-1"}} {
		call(t, admin, "tagBuildBypass", []any{tb[0], tb[1]}, nil)
	}
}

// rpmsAndBuilds describes a [rpms, builds] answer: each RPM as N-V-R.A
// (with ":sigkey" when it has one), each build as nvr@tag.
func rpmsAndBuilds(t *testing.T, v any) (rpms, builds []string) {
	t.Helper()
	pair, ok := v.([]any)
	require.True(t, ok, "%v", v)
	require.Len(t, pair, 2)
	rpms, builds = []string{}, []string{}
	for _, r := range pair[0].([]any) {
		r := r.(map[string]any)
		s := fmt.Sprintf("%s-%s-%s.%s", r["name"], r["version"], r["release"], r["arch"])
		if k, ok := r["sigkey"]; ok {
			s += fmt.Sprintf(":%v", k)
		}
		rpms = append(rpms, s)
	}
	for _, b := range pair[1].([]any) {
		b := b.(map[string]any)
		builds = append(builds, fmt.Sprintf("%s@%s", b["nvr"], b["tag_name"]))
	}
	return rpms, builds
}

func TestKojiListTaggedRPMS(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		taggedRPMTree(t, kh, admin)
		anon := kh.client(t)
		list := func(tag any, kw map[string]any) ([]string, []string) {
			t.Helper()
			return rpmsAndBuilds(t, call(t, anon, "listTaggedRPMS", []any{tag}, kw))
		}

		rpms, builds := list("rpm-base", nil)
		assert.Equal(t, []string{"foo-2.0-1@rpm-base", "baz-1.0-1@rpm-base", "bar-1.0-1@rpm-base", "foo-1.0-1@rpm-base"}, builds)
		assert.Equal(t, []string{"foo-1.0-1.src", "foo-1.0-1.x86_64", "bar-1.0-1.src", "bar-1.0-1.x86_64",
			"baz-1.0-1.src", "baz-1.0-1.x86_64", "foo-2.0-1.src", "foo-2.0-1.x86_64", "foo-2.0-1.noarch"}, rpms)

		// With inheritance a build listed from two tags has its RPMs
		// once, under the last (upstream's build_idx); baz is blocked.
		rpms, builds = list("rpm-child", map[string]any{"inherit": true})
		assert.Equal(t, []string{"foo-3.0-1@rpm-child", "bar-1.0-1@rpm-child", "foo-2.0-1@rpm-base", "bar-1.0-1@rpm-base",
			"foo-1.0-1@rpm-base"}, builds)
		assert.Equal(t, []string{"foo-3.0-1.src", "foo-3.0-1.x86_64", "foo-1.0-1.src", "foo-1.0-1.x86_64",
			"bar-1.0-1.src", "bar-1.0-1.x86_64", "foo-2.0-1.src", "foo-2.0-1.x86_64", "foo-2.0-1.noarch"}, rpms)

		rpms, builds = list("rpm-child", map[string]any{"inherit": true, "latest": true})
		assert.Equal(t, []string{"foo-3.0-1@rpm-child", "bar-1.0-1@rpm-child"}, builds)
		assert.Equal(t, []string{"bar-1.0-1.src", "bar-1.0-1.x86_64", "foo-3.0-1.src", "foo-3.0-1.x86_64"}, rpms, "by id in a tag")
		latest := call(t, anon, "getLatestRPMS", []any{"rpm-child"}, nil)
		assert.Equal(t, call(t, anon, "listTaggedRPMS", []any{"rpm-child"}, map[string]any{"inherit": true, "latest": true}), latest)
		rpms, _ = rpmsAndBuilds(t, call(t, anon, "getLatestRPMS", []any{int64(1)}, map[string]any{"arch": "noarch"}))
		assert.Equal(t, []string{"foo-2.0-1.noarch"}, rpms)
		rpms, builds = rpmsAndBuilds(t, call(t, anon, "getLatestRPMS", []any{"rpm-child"}, map[string]any{"package": "bar"}))
		assert.Equal(t, []string{"bar-1.0-1@rpm-child"}, builds)
		assert.Equal(t, []string{"bar-1.0-1.src", "bar-1.0-1.x86_64"}, rpms)

		rpms, _ = list("rpm-base", map[string]any{"latest": 2, "arch": []any{"src", "noarch"}})
		assert.Equal(t, []string{"foo-1.0-1.src", "bar-1.0-1.src", "baz-1.0-1.src", "foo-2.0-1.src", "foo-2.0-1.noarch"}, rpms)
		rpms, builds = list("rpm-base", map[string]any{"package": "foo", "arch": "x86_64"})
		assert.Equal(t, []string{"foo-2.0-1@rpm-base", "foo-1.0-1@rpm-base"}, builds)
		assert.Equal(t, []string{"foo-1.0-1.x86_64", "foo-2.0-1.x86_64"}, rpms)
		rpms, builds = list("rpm-base", map[string]any{"owner": "nobody"})
		assert.Empty(t, rpms)
		assert.Empty(t, builds)
		rpms, _ = list("rpm-base", map[string]any{"arch": []any{}})
		assert.Len(t, rpms, 9, "an empty list is no filter")

		// As at an event: before foo-2.0-1 was tagged.
		ev := call(t, anon, "tagLastChangeEvent", []any{"rpm-base"}, nil).(int64)
		rpms, builds = list("rpm-base", map[string]any{"event": ev - 1, "package": "foo"})
		assert.Equal(t, []string{"foo-1.0-1@rpm-base"}, builds)
		assert.Equal(t, []string{"foo-1.0-1.src", "foo-1.0-1.x86_64"}, rpms)

		// The members: extra by default, sigkey with rpmsigs.
		pair := call(t, anon, "listTaggedRPMS", []any{"rpm-base"}, map[string]any{"package": "bar"}).([]any)
		r := pair[0].([]any)[0].(map[string]any)
		assert.Equal(t, map[string]any{"name": "bar", "version": "1.0", "release": "1", "arch": "src", "id": r["id"],
			"epoch": nil, "draft": false, "payloadhash": "0123456789abcdef", "size": int64(1234), "buildtime": int64(1700000000),
			"buildroot_id": nil, "build_id": int64(2), "metadata_only": false, "extra": nil}, r)
		b := pair[1].([]any)[0].(map[string]any)
		assert.NotContains(t, b, "extra", "readTaggedRPMS reads builds without extra")
		assert.Equal(t, "bar-1.0-1", b["nvr"])
		pair = call(t, anon, "listTaggedRPMS", []any{"rpm-base"}, map[string]any{"package": "bar", "extra": false, "rpmsigs": true}).([]any)
		r = pair[0].([]any)[0].(map[string]any)
		assert.NotContains(t, r, "extra")
		assert.Contains(t, r, "sigkey")
		assert.Nil(t, r["sigkey"], "unsigned")
		// One row per signature; an unsigned RPM once, with None.
		taskTx(t, kh, 1, func(ctx context.Context) error {
			for _, k := range []string{"fd431d51", "", "abcd1234"} {
				if err := kh.koji.AddRPMSigForTest(ctx, r["id"].(int64), k); err != nil {
					return err
				}
			}
			return nil
		})
		rpms, _ = list("rpm-base", map[string]any{"package": "bar", "rpmsigs": true})
		assert.Equal(t, []string{"bar-1.0-1.src:", "bar-1.0-1.src:abcd1234", "bar-1.0-1.src:fd431d51", "bar-1.0-1.x86_64:<nil>"}, rpms)
		rpms, _ = list("rpm-base", map[string]any{"package": "bar"})
		assert.Equal(t, []string{"bar-1.0-1.src", "bar-1.0-1.x86_64"}, rpms)

		// Errors, in upstream's order and words.
		assert.Equal(t, []any{}, call(t, anon, "listTaggedRPMS", []any{"no-such-tag"}, map[string]any{"strict": false}))
		assert.Equal(t, "No such tagInfo: 'no-such-tag'",
			faultString(t, anon, koji.ErrGeneric, "listTaggedRPMS", []any{"no-such-tag"}, nil))
		assert.Equal(t, "No such entry in table tag: no-such-tag",
			faultString(t, anon, koji.ErrGeneric, "getLatestRPMS", []any{"no-such-tag"}, nil))
		assert.Equal(t, "Invalid type for arch option: <class 'int'>",
			faultString(t, anon, koji.ErrGeneric, "listTaggedRPMS", []any{"rpm-base"}, map[string]any{"arch": 5}))
		assert.Equal(t, "unsupported build type: nope",
			faultString(t, anon, koji.ErrGeneric, "listTaggedRPMS", []any{"rpm-base"}, map[string]any{"arch": 5, "type": "nope"}))
	})
}

// TestKojiListTaggedRPMSPython reads a tag's RPMs with Python's
// xmlrpc.client as the koji CLI's list-tagged --rpms and --paths do
// (session.listTaggedRPMS(tag, **opts), then a build_idx by b['id'] for
// each rinfo['build_id'] and pathinfo.build/pathinfo.rpm): the members
// and Python types of readTaggedRPMS' rows and readTaggedBuilds'.
func TestKojiListTaggedRPMSPython(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		kh := startKoji(t, dsn, func(c *hubserver.KojiConfig) { c.AdminPassword = "secret" })
		admin := kh.sslClient(t, "")
		taggedRPMTree(t, kh, admin)
		calls := []pyCall{
			pycall("listTaggedRPMS", []any{"rpm-child"}, map[string]any{"inherit": true, "latest": true}),
			pycall("listTaggedRPMS", []any{"rpm-base"}, map[string]any{"rpmsigs": true, "arch": []any{"x86_64"}}),
			pycall("getLatestRPMS", []any{"rpm-child"}, map[string]any{"arch": "src"}),
			pycall("listTaggedRPMS", []any{"rpm-base"}, map[string]any{"arch": 1.5}),
		}
		out := runPySession(t, kh, calls)
		for i, a := range out[:3] {
			require.Nil(t, a.Fault, "call %d %v", i, calls[i])
		}
		assert.Equal(t, []any{float64(1000), "Invalid type for arch option: <class 'float'>"}, out[3].Fault)

		rpmMembers := []string{"name", "version", "release", "arch", "id", "epoch", "draft", "payloadhash", "size",
			"buildtime", "buildroot_id", "build_id", "metadata_only"}
		rpmTypes := map[string]string{"name": "str", "version": "str", "release": "str", "arch": "str", "id": "int",
			"draft": "bool", "payloadhash": "str", "size": "int", "buildtime": "int", "build_id": "int", "metadata_only": "bool"}
		build := dictOf([]string{"tag_id", "tag_name", "id", "build_id", "version", "release", "epoch", "state",
			"completion_time", "promotion_time", "start_time", "task_id", "draft", "owner_id", "owner_name", "promoter_id",
			"promoter_name", "creation_event_id", "creation_time", "volume_id", "volume_name", "package_id", "package_name",
			"name", "nvr", "create_event"},
			map[string]string{"tag_id": "int", "tag_name": "str", "id": "int", "build_id": "int", "version": "str",
				"release": "str", "state": "int", "completion_time": "str", "start_time": "str", "draft": "bool",
				"owner_id": "int", "owner_name": "str", "creation_event_id": "int", "creation_time": "str", "volume_id": "int",
				"volume_name": "str", "package_id": "int", "package_name": "str", "name": "str", "nvr": "str",
				"create_event": "int"})
		pairOf := func(members []string) any {
			return map[string]any{"list": []any{listOf(dictOf(members, rpmTypes)), listOf(build)}}
		}
		sameShape(t, pairOf(append(append([]string{}, rpmMembers...), "extra")), out[0].Types, "listTaggedRPMS")
		sameShape(t, pairOf(append(append([]string{}, rpmMembers...), "extra", "sigkey")), out[1].Types, "rpmsigs")
		sameShape(t, pairOf(append(append([]string{}, rpmMembers...), "extra")), out[2].Types, "getLatestRPMS")

		// list-tagged --rpms --paths: every RPM's build is in the list.
		pair := out[0].Result.([]any)
		byID := map[float64]map[string]any{}
		for _, b := range pair[1].([]any) {
			b := b.(map[string]any)
			byID[b["id"].(float64)] = b
		}
		var paths []string
		for _, r := range pair[0].([]any) {
			r := r.(map[string]any)
			b, ok := byID[r["build_id"].(float64)]
			require.True(t, ok, "build %v of %v", r["build_id"], r["name"])
			paths = append(paths, path.Join("/mnt/koji/packages", b["name"].(string), b["version"].(string), b["release"].(string),
				r["arch"].(string), fmt.Sprintf("%s-%s-%s.%s.rpm", r["name"], r["version"], r["release"], r["arch"])))
		}
		assert.Equal(t, []string{"/mnt/koji/packages/bar/1.0/1/src/bar-1.0-1.src.rpm",
			"/mnt/koji/packages/bar/1.0/1/x86_64/bar-1.0-1.x86_64.rpm",
			"/mnt/koji/packages/foo/3.0/1/src/foo-3.0-1.src.rpm",
			"/mnt/koji/packages/foo/3.0/1/x86_64/foo-3.0-1.x86_64.rpm"}, paths)
	})
}

// TestKojiListTaggedRPMSMany reads the RPMs of a tag of 1,200 builds,
// three RPMs each, and compares them with listRPMs of every build: the
// one query for the RPMs of the selected builds must answer what a query
// per build would.
func TestKojiListTaggedRPMSMany(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		call(t, admin, "createTag", []any{"many"}, nil)
		const n = 1200
		taskTx(t, kh, 1, func(ctx context.Context) error {
			for i := range n {
				name := fmt.Sprintf("pkg%04d", i)
				id, err := kh.koji.NewBuildForTest(ctx, name, "1", "1", store.BuildComplete, 1, 0)
				if err != nil {
					return err
				}
				for _, a := range []string{"src", "x86_64", "noarch"} {
					if _, err := kh.koji.AddRPMForTest(ctx, id, name, a); err != nil {
						return err
					}
				}
			}
			return nil
		})
		batch := multicall.New(admin, &multicall.Options{Strict: true, BatchSize: 1000})
		for i := range n {
			multicall.Add[any](batch, "packageListAdd", "many", fmt.Sprintf("pkg%04d", i), "kojiadmin")
			multicall.Add[any](batch, "tagBuildBypass", "many", fmt.Sprintf("pkg%04d-1-1", i))
		}
		require.NoError(t, batch.Run(ctx))
		var pair []any
		require.NoError(t, admin.Call(ctx, "listTaggedRPMS", &pair, "many"))
		rpms, builds := pair[0].([]any), pair[1].([]any)
		require.Len(t, builds, n)
		require.Len(t, rpms, 3*n)
		byBuild := map[int64][]any{}
		for _, r := range rpms {
			id := r.(map[string]any)["build_id"].(int64)
			byBuild[id] = append(byBuild[id], r.(map[string]any)["id"])
		}
		for _, b := range builds[:50] {
			id := b.(map[string]any)["id"].(int64)
			var want []map[string]any
			require.NoError(t, admin.CallKw(ctx, "listRPMs", &want, nil, map[string]any{"buildID": id}))
			var ids []any
			for _, r := range want {
				ids = append(ids, r["id"])
			}
			assert.Equal(t, ids, byBuild[id])
		}
	})
}

func TestTaggedRPMMethodSignatures(t *testing.T) {
	assertUpstreamSignatures(t, "listTaggedRPMS", "getLatestRPMS")
}
