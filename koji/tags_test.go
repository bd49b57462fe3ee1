package koji

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGetTag(t *testing.T) {
	c, hub := replayClient(t, 11, "getTag", "getTag_by_id", "getTag_nonexistent")
	ctx := context.Background()
	want := &Tag{ID: 2, Name: "anchor-build", Arches: "x86_64", Extra: map[string]any{}}

	tag, err := c.GetTag(ctx, "anchor-build", nil)
	require.NoError(t, err)
	assert.Equal(t, want, tag)
	assertSentAsRecorded(t, hub, 0, "getTag")
	assert.Equal(t, []string{"x86_64"}, tag.ArchList())

	tag, err = c.GetTag(ctx, 2, nil)
	require.NoError(t, err)
	assert.Equal(t, want, tag)
	assertSentAsRecorded(t, hub, 1, "getTag_by_id")

	tag, err = c.GetTag(ctx, "no-such-tag", nil)
	require.NoError(t, err)
	assert.Nil(t, tag)
	assertSentAsRecorded(t, hub, 2, "getTag_nonexistent")
}

func TestGetTagOptionsOnTheWire(t *testing.T) {
	c, hub := newStubHub(t, func(stubCall) (any, error) {
		return map[string]any{"id": 9, "name": "old", "arches": nil, "perm_id": 3, "perm": "admin",
			"locked": true, "maven_support": false, "maven_include_all": false, "extra": map[string]any{}, "query_event": 50}, nil
	})
	tag, err := c.GetTag(context.Background(), "old", &GetTagOptions{Strict: true, Event: 50, Blocked: true})
	require.NoError(t, err)
	assert.Equal(t, stubCall{Method: "getTag", Args: []any{"old"},
		Kwargs: map[string]any{"strict": true, "event": int64(50), "blocked": true}}, hub.only(t))
	assert.Equal(t, 3, *tag.PermID)
	assert.Equal(t, "admin", tag.Perm)
	assert.Equal(t, 50, *tag.QueryEvent)
	assert.Empty(t, tag.ArchList(), "nil arches")
}

func TestListTags(t *testing.T) {
	c, hub := replayClient(t, 11, "listTags")
	tags, err := c.ListTags(context.Background(), nil)
	require.NoError(t, err)
	assertSentAsRecorded(t, hub, 0, "listTags")
	var names []string
	for _, tag := range tags {
		names = append(names, tag.Name)
	}
	assert.Equal(t, []string{"anchor-base", "anchor-build", "anchor-dest"}, names)
	assert.Equal(t, "", tags[0].Arches)
	assert.Nil(t, tags[0].PermID)
	assert.Nil(t, tags[0].Extra, "listTags sends no extra")
}

func TestListTagsOfAPackage(t *testing.T) {
	c, hub := newStubHub(t, func(stubCall) (any, error) {
		return []map[string]any{{"id": 3, "name": "anchor-dest", "arches": "", "locked": false, "perm_id": nil,
			"perm": nil, "maven_support": false, "maven_include_all": false,
			"owner_id": 1, "owner_name": "kojiadmin", "blocked": true, "extra_arches": "ppc64le"}}, nil
	})
	tags, err := c.ListTags(context.Background(), &ListTagsOptions{Package: "foo", Perms: apiPtr(false),
		Pattern: "anchor-*", QueryOpts: &QueryOpts{Order: "name"}})
	require.NoError(t, err)
	assert.Equal(t, stubCall{Method: "listTags", Kwargs: map[string]any{"package": "foo", "perms": false,
		"pattern": "anchor-*", "queryOpts": map[string]any{"order": "name"}}}, hub.only(t))
	require.Len(t, tags, 1)
	assert.Equal(t, 1, *tags[0].OwnerID)
	assert.Equal(t, "kojiadmin", tags[0].OwnerName)
	assert.True(t, tags[0].Blocked)
	assert.Equal(t, "ppc64le", tags[0].ExtraArches)

	_, err = c.ListTags(context.Background(), &ListTagsOptions{Build: ""})
	var re *RefError
	assert.ErrorAs(t, err, &re)
}

func TestCreateTagIsRefused(t *testing.T) {
	c, hub := replayClient(t, 0, "createTag_anonymous")
	_, err := c.CreateTag(context.Background(), "x-not-allowed", nil)
	assert.ErrorIs(t, err, ErrActionNotAllowed)
	assert.ErrorContains(t, err, "tag permission required (user not logged in)")
	assertSentAsRecorded(t, hub, 0, "createTag_anonymous")

	c, hub = replayClient(t, 13, "createTag_anonymous", "ActionNotAllowed_loggedin")
	_, err = c.CreateTag(context.Background(), "x-not-allowed", nil)
	assert.ErrorContains(t, err, "tag permission required (logged in as testuser)")
	assertSentAsRecorded(t, hub, 0, "ActionNotAllowed_loggedin")
	assert.Equal(t, "13", hub.Received()[0].Header.Get("Koji-Session-Id"))
}

func TestCreateTag(t *testing.T) {
	c, hub := newStubHub(t, func(stubCall) (any, error) { return 4, nil })
	id, err := c.CreateTag(context.Background(), "f43-build", &CreateTagOptions{Parent: "f43", Arches: "x86_64 aarch64",
		Perm: "admin", Locked: true, MavenSupport: true, MavenIncludeAll: true, Extra: map[string]any{"mock.package_manager": "dnf5"}})
	require.NoError(t, err)
	assert.Equal(t, 4, id)
	assert.Equal(t, stubCall{Method: "createTag", Args: []any{"f43-build"}, Kwargs: map[string]any{
		"parent": "f43", "arches": "x86_64 aarch64", "perm": "admin", "locked": true, "maven_support": true,
		"maven_include_all": true, "extra": map[string]any{"mock.package_manager": "dnf5"}}}, hub.only(t))

	_, err = c.CreateTag(context.Background(), "", nil)
	var re *RefError
	assert.ErrorAs(t, err, &re)
}

func TestTagAndUntagBuild(t *testing.T) {
	c, hub := newStubHub(t, func(call stubCall) (any, error) {
		if call.Method == "tagBuild" {
			return 1300, nil
		}
		return nil, nil
	})
	ctx := context.Background()

	task, err := c.TagBuild(ctx, "f43-updates", "bash-5.2-1.fc43", nil)
	require.NoError(t, err)
	assert.Equal(t, 1300, task)
	_, err = c.TagBuild(ctx, 7, 42, &TagBuildOptions{Force: true, FromTag: "f43-updates-testing"})
	require.NoError(t, err)
	require.NoError(t, c.UntagBuild(ctx, "f43-updates", "bash-5.2-1.fc43", nil))
	require.NoError(t, c.UntagBuild(ctx, "f43-updates", 42, &UntagBuildOptions{Strict: apiPtr(false), Force: true}))
	assert.Equal(t, []stubCall{
		{Method: "tagBuild", Args: []any{"f43-updates", "bash-5.2-1.fc43"}},
		{Method: "tagBuild", Args: []any{int64(7), int64(42)}, Kwargs: map[string]any{"force": true, "fromtag": "f43-updates-testing"}},
		{Method: "untagBuild", Args: []any{"f43-updates", "bash-5.2-1.fc43"}},
		{Method: "untagBuild", Args: []any{"f43-updates", int64(42)}, Kwargs: map[string]any{"strict": false, "force": true}},
	}, hub.received())

	_, err = c.TagBuild(ctx, "f43", 42, &TagBuildOptions{FromTag: 1.0})
	var re *RefError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "fromtag", re.Argument)
}

func TestTagBuildBypass(t *testing.T) {
	c, hub := replayClient(t, 11, "tagBuildBypass")
	require.NoError(t, c.TagBuildBypass(context.Background(), "anchor-dest", "wirepkg-1.0-1", nil))
	assertSentAsRecorded(t, hub, 0, "tagBuildBypass")

	c, stub := newStubHub(t, func(stubCall) (any, error) { return nil, nil })
	require.NoError(t, c.TagBuildBypass(context.Background(), 3, 3, &TagBuildBypassOptions{Force: true, Notify: true}))
	assert.Equal(t, stubCall{Method: "tagBuildBypass", Args: []any{int64(3), int64(3)},
		Kwargs: map[string]any{"force": true, "notify": true}}, stub.only(t))
}

func TestGetBuildTargets(t *testing.T) {
	c, hub := replayClient(t, 11, "getBuildTargets")
	targets, err := c.GetBuildTargets(context.Background(), nil)
	require.NoError(t, err)
	assertSentAsRecorded(t, hub, 0, "getBuildTargets")
	assert.Equal(t, []*Target{{ID: 1, Name: "anchor-target", BuildTagID: 2, BuildTagName: "anchor-build",
		DestTagID: 3, DestTagName: "anchor-dest"}}, targets)

	c, stub := newStubHub(t, func(stubCall) (any, error) { return []any{}, nil })
	_, err = c.GetBuildTargets(context.Background(), &GetBuildTargetsOptions{Info: "anchor-target", Event: 12,
		BuildTagID: "anchor-build", DestTagID: 3, QueryOpts: &QueryOpts{Limit: 1}})
	require.NoError(t, err)
	assert.Equal(t, stubCall{Method: "getBuildTargets", Kwargs: map[string]any{"info": "anchor-target", "event": int64(12),
		"buildTagID": "anchor-build", "destTagID": int64(3), "queryOpts": map[string]any{"limit": int64(1)}}}, stub.only(t))
}

func TestGetBuildTarget(t *testing.T) {
	c, hub := newStubHub(t, func(call stubCall) (any, error) {
		if call.Args[0] == "nope" {
			return nil, nil
		}
		return map[string]any{"id": 1, "name": "anchor-target", "build_tag": 2, "build_tag_name": "anchor-build",
			"dest_tag": 3, "dest_tag_name": "anchor-dest"}, nil
	})
	target, err := c.GetBuildTarget(context.Background(), "anchor-target", &GetBuildTargetOptions{Event: 12, Strict: true})
	require.NoError(t, err)
	assert.Equal(t, "anchor-dest", target.DestTagName)
	assert.Equal(t, stubCall{Method: "getBuildTarget", Args: []any{"anchor-target"},
		Kwargs: map[string]any{"event": int64(12), "strict": true}}, hub.received()[0])
	target, err = c.GetBuildTarget(context.Background(), "nope", nil)
	require.NoError(t, err)
	assert.Nil(t, target)
}

func TestTagAndTargetURLs(t *testing.T) {
	assert.Equal(t, "https://koji.example.org/koji/taginfo?tagID=2", (&Tag{ID: 2}).URL("https://koji.example.org/koji"))
	assert.Equal(t, "https://koji.example.org/koji/targetinfo?targetID=1", (&Target{ID: 1}).URL("https://koji.example.org/koji/"))
}
