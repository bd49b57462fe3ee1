package hubserver_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/koji"
)

// TestKojiListPackagesSimpleAndFindBuildID: listPackagesSimple's prefix
// as upstream's ILIKE (case-insensitive, the prefix's _ matching any
// character) and its queryOpts; findBuildID's inputs and errors.
func TestKojiListPackagesSimpleAndFindBuildID(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		ids := map[string]int64{}
		for _, n := range []string{"foo", "foo_bar", "fooXbar", "Bar", "baz"} {
			b := call(t, admin, "createEmptyBuild", []any{n, "1.0", "1", nil}, nil).(int64)
			ids[n] = call(t, admin, "getBuild", []any{b}, nil).(map[string]any)["package_id"].(int64)
		}
		names := func(v any) []string {
			var out []string
			for _, r := range v.([]any) {
				out = append(out, r.(map[string]any)["package_name"].(string))
			}
			return out
		}
		anon := kh.client(t)
		assert.Equal(t, []string{"foo", "foo_bar", "fooXbar", "Bar", "baz"}, names(call(t, anon, "listPackagesSimple", nil, nil)))
		assert.Equal(t, []string{"foo", "foo_bar", "fooXbar"}, names(call(t, anon, "listPackagesSimple", []any{"foo"}, nil)))
		assert.Equal(t, []string{"foo_bar", "fooXbar"}, names(call(t, anon, "listPackagesSimple", []any{"FOO_"}, nil)))
		assert.Equal(t, []string{"Bar", "baz"}, names(call(t, anon, "listPackagesSimple", []any{"b"}, nil)))
		assert.Equal(t, []any{}, call(t, anon, "listPackagesSimple", []any{"zzz"}, nil))
		assert.Equal(t, map[string]any{"package_id": ids["foo"], "package_name": "foo"},
			call(t, anon, "listPackagesSimple", []any{"foo"}, nil).([]any)[0])
		assert.Equal(t, []string{"foo_bar", "fooXbar"}, names(call(t, anon, "listPackagesSimple", []any{"foo"},
			map[string]any{"queryOpts": map[string]any{"order": "-package.name", "limit": 2}})))
		assert.Equal(t, int64(3), call(t, anon, "listPackagesSimple", []any{"foo", map[string]any{"countOnly": true}}, nil))
		assert.Equal(t, []any{[]any{ids["Bar"], "Bar"}}, call(t, anon, "listPackagesSimple", []any{"bar"},
			map[string]any{"queryOpts": map[string]any{"asList": true}}))
		assert.Equal(t, "<class 'Exception'>: Invalid order: nope",
			faultString(t, anon, 1, "listPackagesSimple", nil, map[string]any{"queryOpts": map[string]any{"order": "nope"}}))

		foo := call(t, anon, "findBuildID", []any{"foo-1.0-1"}, nil).(int64)
		assert.Equal(t, call(t, anon, "getBuild", []any{"foo-1.0-1"}, nil).(map[string]any)["id"], foo)
		assert.Equal(t, foo, call(t, anon, "findBuildID", []any{map[string]any{"name": "foo", "version": "1.0", "release": "1"}}, nil))
		assert.Equal(t, int64(9999), call(t, anon, "findBuildID", []any{9999}, nil), "an int is answered as given")
		assert.Nil(t, call(t, anon, "findBuildID", []any{"nope-1-1"}, nil))
		assert.Equal(t, "No such build: 'nope-1-1'", faultString(t, anon, koji.ErrGeneric, "findBuildID", []any{"nope-1-1", true}, nil))
		assert.Equal(t, "invalid format: nope", faultString(t, anon, koji.ErrGeneric, "findBuildID", []any{"nope"}, nil))
		assert.Equal(t, "did not provide name, version, and release",
			faultString(t, anon, koji.ErrGeneric, "findBuildID", []any{map[string]any{"name": "foo"}}, nil))
		assert.Equal(t, "Invalid type for argument: <class 'list'>", faultString(t, anon, koji.ErrGeneric, "findBuildID", []any{[]any{}}, nil))
	})
}

// TestKojiCheckTagAccess: check_tag_access's [access, override, reason]
// for the caller or a given user, on open, locked and permission-guarded
// tags.
func TestKojiCheckTagAccess(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		call(t, admin, "createUser", []any{"bob"}, nil)
		bob := call(t, admin, "getUser", []any{"bob"}, nil).(map[string]any)["id"].(int64)
		call(t, admin, "createTag", []any{"open"}, nil)
		call(t, admin, "createTag", []any{"locked"}, nil)
		call(t, admin, "editTag2", []any{"locked"}, map[string]any{"locked": true})
		call(t, admin, "createTag", []any{"guarded"}, nil)
		call(t, admin, "editTag2", []any{"guarded"}, map[string]any{"perm": "repo"})

		assert.Equal(t, []any{true, true, ""}, call(t, admin, "checkTagAccess", []any{"open"}, nil))
		assert.Equal(t, []any{true, false, ""}, call(t, admin, "checkTagAccess", []any{"open", bob}, nil))
		assert.Equal(t, []any{false, true, "tag is locked"}, call(t, admin, "checkTagAccess", []any{"locked"}, nil))
		assert.Equal(t, []any{false, false, "tag is locked"}, call(t, admin, "checkTagAccess", []any{"locked", bob}, nil))
		assert.Equal(t, []any{false, true, "tag requires repo permission"}, call(t, admin, "checkTagAccess", []any{"guarded"}, nil))
		assert.Equal(t, []any{false, false, "tag requires repo permission"},
			call(t, admin, "checkTagAccess", []any{"guarded", pyFmt(bob)}, nil), "a user id as a string")
		call(t, admin, "grantPermission", []any{"bob", "repo"}, nil)
		assert.Equal(t, []any{true, false, ""}, call(t, admin, "checkTagAccess", []any{"guarded", bob}, nil))

		anon := kh.client(t)
		assert.Equal(t, "a user_id is required", faultString(t, anon, koji.ErrGeneric, "checkTagAccess", []any{"open"}, nil))
		assert.Equal(t, []any{true, false, ""}, call(t, anon, "checkTagAccess", []any{"open", bob}, nil))
		assert.Equal(t, "No such tagInfo: 'nope'", faultString(t, anon, koji.ErrGeneric, "checkTagAccess", []any{"nope", bob}, nil))
		assert.Equal(t, "Invalid type for value 'bob': <class 'str'>, expected type <class 'int'>",
			faultString(t, anon, koji.ErrParameter, "checkTagAccess", []any{"open", "bob"}, nil))
	})
}

// TestKojiBuildReferences: build_references' tags, rpms, archives,
// component_of (and images) and last_used, lazy answers with the kinds
// read so far, and limit.
func TestKojiBuildReferences(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		fh := startFilesHub(t, dsn, nil)
		admin := fh.admin
		foo := call(t, admin, "createEmptyBuild", []any{"foo", "1.0", "1", nil}, nil).(int64)
		var users []int64
		for _, n := range []string{"bar", "baz"} {
			users = append(users, call(t, admin, "createEmptyBuild", []any{n, "1.0", "1", nil}, nil).(int64))
		}
		var fooRPM, fooArchive int64
		var rpmRefs, archiveRefs []int64
		taskTx(t, fh.kojiHub, 1, func(ctx context.Context) (err error) {
			if fooRPM, err = fh.koji.AddRPMForTest(ctx, foo, "foo", "x86_64"); err != nil {
				return err
			}
			if fooArchive, err = fh.koji.AddArchiveForTest(ctx, foo, "foo.tar"); err != nil {
				return err
			}
			for i, b := range users {
				n := []string{"bar", "baz"}[i]
				r, err := fh.koji.AddBuildrootUseForTest(ctx, b, n, fooRPM)
				if err != nil {
					return err
				}
				a, err := fh.koji.AddArchiveBuildrootUseForTest(ctx, b, n+".tar", fooArchive)
				if err != nil {
					return err
				}
				rpmRefs, archiveRefs = append(rpmRefs, r), append(archiveRefs, a)
			}
			return nil
		})
		call(t, admin, "createTag", []any{"f44"}, nil)
		call(t, admin, "packageListAdd", []any{"f44", "foo", "kojiadmin"}, nil)
		call(t, admin, "tagBuildBypass", []any{"f44", "foo-1.0-1"}, nil)

		rpm := func(id int64, name string, build int64) map[string]any {
			return map[string]any{"id": id, "name": name, "version": "1.0", "release": "1", "arch": "x86_64", "build_id": build}
		}
		archive := func(id int64, name string, build int64) map[string]any {
			return map[string]any{"id": id, "type_id": int64(4), "type_name": "tar", "build_id": build, "filename": name}
		}
		tags := []any{map[string]any{"tag_id": int64(1), "name": "f44"}}
		rpms := []any{rpm(rpmRefs[0], "bar", users[0]), rpm(rpmRefs[1], "baz", users[1])}
		archives := []any{archive(archiveRefs[0], "bar.tar", users[0]), archive(archiveRefs[1], "baz.tar", users[1])}
		anon := fh.client(t)
		assert.Equal(t, map[string]any{"tags": tags, "rpms": rpms, "archives": archives, "component_of": []any{},
			"images": []any{}, "last_used": nil}, call(t, anon, "buildReferences", []any{"foo-1.0-1"}, nil))
		assert.Equal(t, map[string]any{"tags": tags}, call(t, anon, "buildReferences", []any{foo}, map[string]any{"lazy": true}))
		call(t, admin, "untagBuildBypass", []any{"f44", "foo-1.0-1"}, nil)
		assert.Equal(t, map[string]any{"tags": []any{}, "rpms": rpms}, call(t, anon, "buildReferences", []any{foo, nil, true}, nil))
		limited := call(t, anon, "buildReferences", []any{foo, 1}, nil).(map[string]any)
		assert.Equal(t, rpms[:1], limited["rpms"])
		assert.Equal(t, archives[:1], limited["archives"])
		assert.Equal(t, map[string]any{"tags": []any{}, "rpms": []any{}, "archives": []any{}, "component_of": []any{},
			"images": []any{}, "last_used": nil}, call(t, anon, "buildReferences", []any{users[0]}, nil))
		assert.Equal(t, "No such build: 'nope-1-1'", faultString(t, anon, koji.ErrGeneric, "buildReferences", []any{"nope-1-1"}, nil))

		// Archives of COMPLETE builds holding foo's RPM and archive:
		// component_of (and images), RPM holders first; lazy stops there.
		var holders []int64
		taskTx(t, fh.kojiHub, 1, func(ctx context.Context) error {
			for i, c := range [][2][]int64{{{fooRPM}, nil}, {nil, {fooArchive}}} {
				h, err := fh.koji.AddArchiveForTest(ctx, users[i], "holder.tar")
				if err != nil {
					return err
				}
				if err := fh.koji.AddArchiveComponentsForTest(ctx, h, c[0], c[1]); err != nil {
					return err
				}
				holders = append(holders, h)
			}
			return nil
		})
		refs := call(t, anon, "buildReferences", []any{foo}, nil).(map[string]any)
		assert.Equal(t, []any{holders[0], holders[1]}, refs["component_of"])
		assert.Equal(t, refs["component_of"], refs["images"])
		// lazy stops at component_of when a holder is the first reference.
		qux := call(t, admin, "createEmptyBuild", []any{"qux", "1.0", "1", nil}, nil).(int64)
		taskTx(t, fh.kojiHub, 1, func(ctx context.Context) error {
			r, err := fh.koji.AddRPMForTest(ctx, qux, "qux", "noarch")
			if err != nil {
				return err
			}
			return fh.koji.AddArchiveComponentsForTest(ctx, holders[0], []int64{r}, nil)
		})
		assert.Equal(t, map[string]any{"tags": []any{}, "rpms": []any{}, "component_of": []any{holders[0]}},
			call(t, anon, "buildReferences", []any{qux}, map[string]any{"lazy": true}))

		// A standard buildroot listing foo's RPM: last_used is its
		// creation time.
		before := float64(time.Now().Add(-time.Minute).Unix())
		taskTx(t, fh.kojiHub, 1, func(ctx context.Context) error {
			_, err := fh.koji.AddStandardBuildrootUseForTest(ctx, fh.hostID, fh.task, fooRPM)
			return err
		})
		refs = call(t, anon, "buildReferences", []any{foo}, nil).(map[string]any)
		require.IsType(t, float64(0), refs["last_used"])
		assert.Greater(t, refs["last_used"].(float64), before)
		assert.Less(t, refs["last_used"].(float64), float64(time.Now().Add(time.Minute).Unix()))
	})
}

// TestKojiGetBuildLogs: the regular files under the build's data/logs,
// walked top-down as os.walk walks them, with upstream's dir and path
// (which keeps the "./" of the top directory); links and other files left
// out.
func TestKojiGetBuildLogs(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		fh := startFilesHub(t, dsn, nil)
		admin := fh.admin
		foo := call(t, admin, "createEmptyBuild", []any{"foo", "1.0", "1", nil}, nil).(int64)
		assert.Equal(t, []any{}, call(t, admin, "getBuildLogs", []any{foo}, nil), "no logs directory")
		logs := filepath.Join(fh.top, "packages", "foo", "1.0", "1", "data", "logs")
		for _, f := range []string{"noarch/build.log", "noarch/deep/x.log", "x86_64/root.log", "cg_import.log"} {
			require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(logs, f)), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(logs, f), []byte("log\n"), 0o644))
		}
		require.NoError(t, os.Symlink("cg_import.log", filepath.Join(logs, "link.log")))
		require.NoError(t, os.Symlink("noarch", filepath.Join(logs, "linkdir")))
		rel := "packages/foo/1.0/1/data/logs"
		entry := func(dir, name string) map[string]any {
			return map[string]any{"name": name, "dir": dir, "path": rel + "/" + dir + "/" + name}
		}
		assert.Equal(t, []any{entry(".", "cg_import.log"), entry("noarch", "build.log"), entry("noarch/deep", "x.log"),
			entry("x86_64", "root.log")}, call(t, fh.client(t), "getBuildLogs", []any{"foo-1.0-1"}, nil))

		bar := call(t, admin, "createEmptyBuild", []any{"bar", "1.0", "1", nil}, nil).(int64)
		barLogs := filepath.Join(fh.top, "packages", "bar", "1.0", "1", "data", "logs")
		require.NoError(t, os.MkdirAll(filepath.Dir(barLogs), 0o755))
		require.NoError(t, os.WriteFile(barLogs, nil, 0o644))
		assert.Equal(t, "Not a directory: "+barLogs, faultString(t, admin, koji.ErrGeneric, "getBuildLogs", []any{bar}, nil))
		assert.Equal(t, "No such build: 'nope-1-1'", faultString(t, admin, koji.ErrGeneric, "getBuildLogs", []any{"nope-1-1"}, nil))
	})
}

// TestKojiTagChangedSinceEvent: tag updates and changes of the versioned
// tag tables after the event, for the tags listed only.
func TestKojiTagChangedSinceEvent(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		a := call(t, admin, "createTag", []any{"a"}, nil).(int64)
		beforeB := call(t, admin, "getLastEvent", nil, nil).(map[string]any)["id"].(int64)
		b := call(t, admin, "createTag", []any{"b"}, nil).(int64)
		call(t, admin, "createEmptyBuild", []any{"foo", "1.0", "1", nil}, nil)
		event := call(t, admin, "getLastEvent", nil, nil).(map[string]any)["id"].(int64)
		anon := kh.client(t)
		assert.Equal(t, false, call(t, anon, "tagChangedSinceEvent", []any{event, []any{a, b}}, nil))
		assert.Equal(t, true, call(t, anon, "tagChangedSinceEvent", []any{beforeB, []any{b}}, nil), "b was created after it")

		call(t, admin, "packageListAdd", []any{"a", "foo", "kojiadmin"}, nil)
		assert.Equal(t, true, call(t, anon, "tagChangedSinceEvent", []any{event, []any{a, b}}, nil))
		assert.Equal(t, false, call(t, anon, "tagChangedSinceEvent", []any{event, []any{b}}, nil))
		event = call(t, admin, "getLastEvent", nil, nil).(map[string]any)["id"].(int64)
		call(t, admin, "groupListAdd", []any{"b", "build"}, nil)
		assert.Equal(t, false, call(t, anon, "tagChangedSinceEvent", []any{event, []any{a}}, nil))
		assert.Equal(t, true, call(t, anon, "tagChangedSinceEvent", []any{event, []any{b}}, nil), "group_config")
		assert.Equal(t, false, call(t, anon, "tagChangedSinceEvent", []any{nil, []any{a, b}}, nil), "NULL event")
		assert.Equal(t, "<class 'psycopg2.errors.SyntaxError'>: syntax error at or near \")\"",
			faultString(t, anon, 1, "tagChangedSinceEvent", []any{event, []any{}}, nil))
	})
}
