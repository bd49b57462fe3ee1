package hubserver_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/auth"
	"github.com/gokoji/gokoji/koji"
)

// tagRepoSummary describes getTagExternalRepos' (or getExternalRepoList's)
// answer: each link as priority:repo@tag(merge_mode,arches).
func tagRepoSummary(t *testing.T, c *koji.Client, method string, args []any, kw map[string]any) []string {
	t.Helper()
	return rowStrings(t, c, method, args, kw, func(r map[string]any) string {
		return fmt.Sprintf("%d:%s@%s(%s,%v)", r["priority"], r["external_repo_name"], r["tag_name"], r["merge_mode"], r["arches"])
	})
}

// externalRepoTags makes f44 (id 1) and f44-build (id 2) inheriting from
// it, the repos updates (id 1) and epel (id 2), and links updates to f44 at
// priority 5 and epel to f44-build at 3 (bare, two arches).
func externalRepoTags(t *testing.T, admin *koji.Client) {
	t.Helper()
	call(t, admin, "createTag", []any{"f44"}, map[string]any{"arches": "x86_64"})
	call(t, admin, "createTag", []any{"f44-build"}, map[string]any{"parent": "f44"})
	call(t, admin, "createExternalRepo", []any{"updates", "https://example.com/updates/$arch"}, nil)
	call(t, admin, "createExternalRepo", []any{"epel", "https://example.com/epel/"}, nil)
	call(t, admin, "addExternalRepoToTag", []any{"f44", "updates", 5}, nil)
	call(t, admin, "addExternalRepoToTag", []any{"f44-build", "epel", 3},
		map[string]any{"merge_mode": "bare", "arches": "x86_64,aarch64"})
}

func TestKojiExternalRepos(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		assert.Equal(t, false, call(t, admin, "mavenEnabled", nil, nil))
		assert.Equal(t, false, call(t, admin, "winEnabled", nil, nil))

		// The URL gains the trailing slash; the answer is the new repo.
		assert.Equal(t, map[string]any{"id": int64(1), "name": "updates", "url": "https://example.com/updates/$arch/"},
			call(t, admin, "createExternalRepo", []any{"updates", "https://example.com/updates/$arch"}, nil))
		assert.Equal(t, `An external repo named "updates" already exists`,
			faultString(t, admin, koji.ErrGeneric, "createExternalRepo", []any{"updates", "https://elsewhere/"}, nil))
		assert.Equal(t, "Name bad name does not match RegexNameInternal value",
			faultString(t, admin, koji.ErrGeneric, "createExternalRepo", []any{"bad name", "https://x/"}, nil))
		call(t, admin, "createExternalRepo", []any{"epel", "https://example.com/epel/"}, nil)

		names := func(kw map[string]any) []string {
			return rowStrings(t, admin, "listExternalRepos", nil, kw, func(r map[string]any) string {
				return fmt.Sprintf("%d:%s=%s", r["id"], r["name"], r["url"])
			})
		}
		assert.Equal(t, []string{"1:updates=https://example.com/updates/$arch/", "2:epel=https://example.com/epel/"}, names(nil))
		assert.Equal(t, []string{"2:epel=https://example.com/epel/"}, names(map[string]any{"url": "https://example.com/epel/"}))
		assert.Equal(t, []string{"2:epel=https://example.com/epel/"}, names(map[string]any{"info": int64(2)}))
		assert.Equal(t, []string{"2:epel=https://example.com/epel/"}, names(map[string]any{"info": map[string]any{"name": "epel"}}))
		assert.Empty(t, names(map[string]any{"info": int64(0)}), "INTERNAL has no configuration")
		assert.Equal(t, []string{"2:epel=https://example.com/epel/", "1:updates=https://example.com/updates/$arch/"},
			names(map[string]any{"queryOpts": map[string]any{"order": "name"}}))
		assert.EqualValues(t, 2, call(t, admin, "listExternalRepos", nil, map[string]any{"queryOpts": map[string]any{"countOnly": true}}))
		assert.Equal(t, "Invalid name or id value: [1]", faultString(t, admin, koji.ErrParameter, "listExternalRepos", []any{[]any{1}}, nil))

		assert.Equal(t, map[string]any{"id": int64(2), "name": "epel", "url": "https://example.com/epel/"},
			call(t, admin, "getExternalRepo", []any{"epel"}, nil))
		assert.Nil(t, call(t, admin, "getExternalRepo", []any{"nope"}, nil))
		assert.Equal(t, "No such repo: nope", faultString(t, admin, koji.ErrGeneric, "getExternalRepo", []any{"nope"}, map[string]any{"strict": true}))
		assert.Equal(t, "More than one repo in the result.", faultString(t, admin, koji.ErrGeneric, "getExternalRepo", []any{nil}, nil))

		call(t, admin, "createTag", []any{"f44"}, map[string]any{"arches": "x86_64"})
		call(t, admin, "createTag", []any{"f44-build"}, map[string]any{"parent": "f44"})
		assert.Nil(t, call(t, admin, "addExternalRepoToTag", []any{"f44", "updates", 5}, nil))
		assert.Equal(t, "No such merge mode: fancy",
			faultString(t, admin, koji.ErrGeneric, "addExternalRepoToTag", []any{"f44-build", "epel", 3, "fancy"}, nil))
		assert.Equal(t, "Invalid architecture: x86/64",
			faultString(t, admin, koji.ErrGeneric, "addExternalRepoToTag", []any{"f44-build", "epel", 3}, map[string]any{"arches": "x86/64"}))
		assert.Equal(t, "Invalid type for value 'three': <class 'str'>, expected type <class 'int'>",
			faultString(t, admin, koji.ErrParameter, "addExternalRepoToTag", []any{"f44-build", "epel", "three"}, nil))
		assert.Equal(t, "No such repo: nope",
			faultString(t, admin, koji.ErrGeneric, "addExternalRepoToTag", []any{"f44-build", "nope", 3}, nil))
		assert.Equal(t, "No such tagInfo: 'nope'",
			faultString(t, admin, koji.ErrGeneric, "addExternalRepoToTag", []any{"nope", "epel", 3}, nil))
		call(t, admin, "addExternalRepoToTag", []any{"f44-build", "epel", "3"}, map[string]any{"merge_mode": "bare", "arches": "x86_64,aarch64"})
		assert.Equal(t, "tag f44 already associated with external repo updates",
			faultString(t, admin, koji.ErrGeneric, "addExternalRepoToTag", []any{"f44", "updates", 7}, nil))
		assert.Equal(t, "tag f44 already associated with an external repo at priority 5",
			faultString(t, admin, koji.ErrGeneric, "addExternalRepoToTag", []any{"f44", "epel", 5}, nil))

		var links []map[string]any
		require.NoError(t, admin.CallKw(ctx, "getTagExternalRepos", &links, nil, map[string]any{"tag_info": "f44"}))
		assert.Equal(t, []map[string]any{{"external_repo_id": int64(1), "external_repo_name": "updates", "priority": int64(5),
			"tag_id": int64(1), "tag_name": "f44", "url": "https://example.com/updates/$arch/", "merge_mode": "koji", "arches": nil}}, links)
		assert.Equal(t, []string{"3:epel@f44-build(bare,x86_64 aarch64)", "5:updates@f44(koji,<nil>)"},
			tagRepoSummary(t, admin, "getTagExternalRepos", nil, nil), "every link, by priority")
		assert.Equal(t, []string{"3:epel@f44-build(bare,x86_64 aarch64)"},
			tagRepoSummary(t, admin, "getTagExternalRepos", nil, map[string]any{"repo_info": "epel"}))
		assert.Equal(t, []string{"3:epel@f44-build(bare,x86_64 aarch64)", "5:updates@f44(koji,<nil>)"},
			tagRepoSummary(t, admin, "getExternalRepoList", []any{"f44-build"}, nil), "the tag's, then its parent's")
		assert.Equal(t, "No such tagInfo: 'nope'", faultString(t, admin, koji.ErrGeneric, "getTagExternalRepos", []any{"nope"}, nil))
		assert.Equal(t, "No such repo: 9", faultString(t, admin, koji.ErrGeneric, "getTagExternalRepos", nil, map[string]any{"repo_info": 9}))

		// Unchanged values change nothing: False and no new event.
		before := lastEvent(t, admin)
		assert.Equal(t, false, call(t, admin, "editTagExternalRepo", []any{"f44", "updates"}, map[string]any{"priority": 5.0, "merge_mode": "koji"}))
		assert.Equal(t, before, lastEvent(t, admin))
		assert.Equal(t, true, call(t, admin, "editTagExternalRepo", []any{"f44", "updates"}, map[string]any{"priority": 1, "arches": "x86_64"}))
		assert.Equal(t, []string{"1:updates@f44(koji,x86_64)"}, tagRepoSummary(t, admin, "getTagExternalRepos", []any{"f44"}, nil))
		assert.Equal(t, "No such merge mode: fancy", faultString(t, admin, koji.ErrGeneric, "editTagExternalRepo", []any{"f44", "updates"},
			map[string]any{"merge_mode": "fancy"}))
		assert.Equal(t, "external repo epel not associated with tag f44",
			faultString(t, admin, koji.ErrGeneric, "editTagExternalRepo", []any{"f44", "epel"}, map[string]any{"priority": 2}))
		assert.Equal(t, []string{"1:updates@f44(koji,x86_64)"}, tagRepoSummary(t, admin, "getTagExternalRepos", []any{"f44"}, nil),
			"a failed edit keeps the link")

		// Renames are not versioned; URLs are.
		call(t, admin, "editExternalRepo", []any{"updates"}, map[string]any{"name": "f44-updates", "url": "https://mirror/updates"})
		assert.Equal(t, `name "epel" is already taken by external repo 2`,
			faultString(t, admin, koji.ErrGeneric, "editExternalRepo", []any{"f44-updates"}, map[string]any{"name": "epel"}))
		assert.Equal(t, []string{"1:f44-updates=https://mirror/updates/", "2:epel=https://example.com/epel/"}, names(nil))
		assert.Equal(t, []string{"1:f44-updates=https://example.com/updates/$arch/", "2:epel=https://example.com/epel/"},
			names(map[string]any{"event": before}))
		assert.Equal(t, []string{"5:f44-updates@f44(koji,<nil>)"},
			tagRepoSummary(t, admin, "getTagExternalRepos", []any{"f44"}, map[string]any{"event": before}), "as it was")

		call(t, admin, "removeExternalRepoFromTag", []any{"f44", "f44-updates"}, nil)
		assert.Equal(t, "external repo f44-updates not associated with tag f44",
			faultString(t, admin, koji.ErrGeneric, "removeExternalRepoFromTag", []any{"f44", "f44-updates"}, nil))
		assert.Empty(t, tagRepoSummary(t, admin, "getTagExternalRepos", []any{"f44"}, nil))

		assert.Equal(t, "<class 'AttributeError'>: 'int' object has no attribute 'endswith'",
			faultString(t, admin, 1, "createExternalRepo", []any{"numeric", 5}, nil))
		assert.Equal(t, "<class 'AttributeError'>: 'int' object has no attribute 'endswith'",
			faultString(t, admin, 1, "editExternalRepo", []any{"epel"}, map[string]any{"url": 5}))

		// Deleting a repo unlinks it from its tags; its name can be reused,
		// and gets its id back.
		call(t, admin, "deleteExternalRepo", []any{"epel"}, nil)
		assert.Nil(t, call(t, admin, "getExternalRepo", []any{"epel"}, nil))
		assert.Empty(t, tagRepoSummary(t, admin, "getTagExternalRepos", nil, nil))
		assert.Equal(t, "No such repo: epel", faultString(t, admin, koji.ErrGeneric, "deleteExternalRepo", []any{"epel"}, nil))
		assert.EqualValues(t, 2, call(t, admin, "createExternalRepo", []any{"epel", "https://example.com/epel"}, nil).(map[string]any)["id"])
		assert.Equal(t, []string{"3:epel@f44-build(bare,x86_64 aarch64)", "5:f44-updates@f44(koji,<nil>)"},
			tagRepoSummary(t, admin, "getTagExternalRepos", nil, map[string]any{"event": before}), "history keeps the deleted links")
	})
}

// Deleting a tag revokes its links, and the links are part of what
// tagLastChangeEvent reads.
func TestKojiExternalReposDeleteTag(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		externalRepoTags(t, admin)
		linked := lastEvent(t, admin)
		assert.EqualValues(t, linked, call(t, admin, "tagLastChangeEvent", []any{"f44-build"}, nil))
		call(t, admin, "deleteTag", []any{"f44-build"}, nil)
		assert.Equal(t, []string{"5:updates@f44(koji,<nil>)"}, tagRepoSummary(t, admin, "getTagExternalRepos", nil, nil))
		call(t, admin, "createTag", []any{"f44-build"}, nil)
		assert.Empty(t, tagRepoSummary(t, admin, "getTagExternalRepos", []any{"f44-build"}, nil))
	})
}

// queryHistory reads external_repo_config and tag_external_repos, with
// the repo and tag names and the external_repo filter.
func TestKojiExternalReposHistory(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		externalRepoTags(t, admin)
		call(t, admin, "editExternalRepo", []any{"epel"}, map[string]any{"url": "https://mirror/epel"})
		call(t, admin, "editTagExternalRepo", []any{"f44-build", "epel"}, map[string]any{"merge_mode": "simple"})
		var got map[string][]map[string]any
		require.NoError(t, admin.CallKw(ctx, "queryHistory", &got, []any{[]any{"external_repo_config", "tag_external_repos"}},
			map[string]any{"external_repo": "epel"}))
		cfg := got["external_repo_config"]
		require.Len(t, cfg, 2)
		assert.Equal(t, "https://example.com/epel/", cfg[0]["url"])
		assert.Nil(t, cfg[0]["active"])
		assert.Equal(t, "kojiadmin", cfg[0]["revoker_name"])
		assert.Equal(t, "https://mirror/epel/", cfg[1]["url"])
		assert.Equal(t, true, cfg[1]["active"])
		assert.Equal(t, "epel", cfg[1]["external_repo.name"])
		links := got["tag_external_repos"]
		require.Len(t, links, 2)
		for i, mode := range []string{"bare", "simple"} {
			assert.Equal(t, mode, links[i]["merge_mode"])
			assert.Equal(t, "x86_64 aarch64", links[i]["arches"])
			assert.EqualValues(t, 3, links[i]["priority"])
			assert.Equal(t, "f44-build", links[i]["tag.name"])
			assert.Equal(t, "epel", links[i]["external_repo.name"])
		}
		assert.Equal(t, links[0]["revoke_event"], links[1]["create_event"], "an edit is a revoke and a create in one event")
		byTag := map[string][]map[string]any{}
		require.NoError(t, admin.CallKw(ctx, "queryHistory", &byTag, []any{[]any{"external_repo_config", "tag_external_repos"}},
			map[string]any{"tag": "f44"}))
		assert.NotContains(t, byTag, "external_repo_config", "a tag filter leaves out the table without a tag")
		assert.Len(t, byTag["tag_external_repos"], 1)
	})
}

// The repo calls need admin, the tag link calls the tag permission;
// reading needs no login.
func TestKojiExternalReposPermission(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		externalRepoTags(t, admin)
		anon := kh.client(t)
		assert.Equal(t, "admin permission required (user not logged in)",
			faultString(t, anon, koji.ErrActionNotAllowed, "createExternalRepo", []any{"x", "https://x/"}, nil))
		call(t, admin, "createUser", []any{"bob"}, nil)
		require.NoError(t, kh.koji.SetPassword(ctx, "bob", "secret"))
		bob := kh.client(t)
		require.NoError(t, bob.Login(ctx, &auth.Password{User: "bob", Password: "secret"}))
		for _, c := range [][]any{{"createExternalRepo", "x", "https://x/"}, {"editExternalRepo", "epel", "epel2"},
			{"deleteExternalRepo", "epel"}} {
			assert.Equal(t, "admin permission required (logged in as bob)",
				faultString(t, bob, koji.ErrActionNotAllowed, c[0].(string), c[1:], nil))
		}
		tagCalls := [][]any{{"addExternalRepoToTag", "f44", "epel", 1}, {"editTagExternalRepo", "f44", "updates", 2},
			{"removeExternalRepoFromTag", "f44", "epel"}}
		for _, c := range tagCalls {
			assert.Equal(t, "tag permission required (logged in as bob)",
				faultString(t, bob, koji.ErrActionNotAllowed, c[0].(string), c[1:], nil))
		}
		assert.Len(t, tagRepoSummary(t, anon, "getExternalRepoList", []any{"f44-build"}, nil), 2)
		assert.Len(t, tagRepoSummary(t, anon, "listExternalRepos", nil, nil), 2)
		call(t, admin, "grantPermission", []any{"bob", "tag"}, nil)
		for _, c := range tagCalls {
			call(t, bob, c[0].(string), c[1:], nil)
		}
		assert.Equal(t, []string{"2:updates@f44(koji,<nil>)"}, tagRepoSummary(t, anon, "getTagExternalRepos", []any{"f44"}, nil))
		assert.Equal(t, "admin permission required (logged in as bob)",
			faultString(t, bob, koji.ErrActionNotAllowed, "deleteExternalRepo", []any{"epel"}, nil), "tag is not admin")
	})
}

// TestExternalRepoMethodSignatures compares the methods' signatures with
// Koji 1.35.3's method list, and checks it has no other feature switch
// (an *Enabled call) than mavenEnabled and winEnabled.
func TestExternalRepoMethodSignatures(t *testing.T) {
	upstream := upstreamArgdesc(t)
	var enabled []string
	for name := range upstream {
		if strings.HasSuffix(name, "Enabled") && !strings.Contains(name, ".") {
			enabled = append(enabled, name)
		}
	}
	assert.ElementsMatch(t, []string{"mavenEnabled", "winEnabled"}, enabled)
	kh := startKoji(t, filepath.Join(t.TempDir(), "hub.db"), nil)
	byName := listAPI(t, kh)
	for _, name := range []string{"mavenEnabled", "winEnabled", "createExternalRepo", "listExternalRepos", "getExternalRepo",
		"editExternalRepo", "deleteExternalRepo", "addExternalRepoToTag", "removeExternalRepoFromTag", "editTagExternalRepo",
		"getTagExternalRepos", "getExternalRepoList"} {
		require.Contains(t, upstream, name)
		require.Contains(t, byName, name)
		assert.Equal(t, upstream[name], byName[name]["argdesc"], name)
	}
}
