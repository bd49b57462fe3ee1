package koji

import (
	"context"
	"maps"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestListRPMs(t *testing.T) {
	c, hub := newStubHub(t, func(stubCall) (any, error) {
		// listRPMs' members (kojihub list_rpms); size beyond 32 bits goes as <i8>.
		return []map[string]any{
			{"id": 10, "name": "bash", "version": "5.2", "release": "1.fc43", "nvr": "bash-5.2-1.fc43", "arch": "x86_64",
				"epoch": nil, "payloadhash": "0f3c7ab1", "size": int64(5_000_000_000), "buildtime": int64(1795311000),
				"build_id": 3, "buildroot_id": 7, "external_repo_id": 0, "external_repo_name": "INTERNAL",
				"metadata_only": false, "extra": nil, "draft": false},
			{"id": 11, "name": "bash", "version": "5.2", "release": "1.fc43", "nvr": "bash-5.2-1.fc43", "arch": "src",
				"epoch": 1, "payloadhash": "9a1d", "size": 1024, "buildtime": int64(1795311000),
				"build_id": nil, "buildroot_id": nil, "external_repo_id": 4, "external_repo_name": "fedora",
				"metadata_only": true, "extra": map[string]any{"source": "x"}, "draft": false},
		}, nil
	})
	rpms, err := c.ListRPMs(context.Background(), &ListRPMsOptions{BuildID: 3, Arches: []string{"x86_64", "src"},
		QueryOpts: &QueryOpts{Order: "arch"}, Draft: apiPtr(false)})
	require.NoError(t, err)
	assert.Equal(t, stubCall{Method: "listRPMs", Kwargs: map[string]any{"buildID": int64(3),
		"arches": []any{"x86_64", "src"}, "queryOpts": map[string]any{"order": "arch"}, "draft": false}}, hub.only(t))
	require.Len(t, rpms, 2)
	assert.Equal(t, &RPM{ID: 10, Name: "bash", Version: "5.2", Release: "1.fc43", NVR: "bash-5.2-1.fc43", Arch: "x86_64",
		PayloadHash: "0f3c7ab1", Size: 5_000_000_000, BuildTime: 1795311000, BuildID: apiPtr(3), BuildrootID: apiPtr(7),
		ExternalRepoName: "INTERNAL"}, rpms[0])
	assert.Nil(t, rpms[1].BuildID)
	assert.Equal(t, "fedora", rpms[1].ExternalRepoName)
	assert.Equal(t, map[string]any{"source": "x"}, rpms[1].Extra)

	assert.Equal(t, "bash-5.2-1.fc43.x86_64", rpms[0].NVRA())
	assert.Equal(t, "bash-0:5.2-1.fc43.x86_64", rpms[0].NEVRA())
	assert.Equal(t, "bash-1:5.2-1.fc43.src", rpms[1].NEVRA())
	assert.Equal(t, "bash-5.2-1.fc43.src.rpm", rpms[1].Filename())
}

func TestListRPMsOfAComponentBuildroot(t *testing.T) {
	c, hub := newStubHub(t, func(stubCall) (any, error) {
		return []map[string]any{{"id": 12, "name": "glibc", "component_buildroot_id": 7, "is_update": true}}, nil
	})
	rpms, err := c.ListRPMs(context.Background(), &ListRPMsOptions{ComponentBuildrootID: 7, HostID: 2, BuildrootID: 6, ImageID: 5})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"componentBuildrootID": int64(7), "hostID": int64(2), "buildrootID": int64(6),
		"imageID": int64(5)}, hub.only(t).Kwargs)
	assert.Equal(t, 7, *rpms[0].ComponentBuildrootID)
	assert.True(t, rpms[0].IsUpdate)

	c, hub = newStubHub(t, func(stubCall) (any, error) { return []any{}, nil })
	rpms, err = c.ListRPMs(context.Background(), nil)
	require.NoError(t, err)
	assert.Empty(t, rpms)
	assert.Equal(t, stubCall{Method: "listRPMs"}, hub.only(t), "no options, no arguments")
}

// pagingHub is a stub hub holding total items with IDs 1…total under
// idKey, answering each list call with the window its queryOpts ask for.
func pagingHub(t *testing.T, total int64, idKey string, item map[string]any) (*Client, *stubHub) {
	return newStubHub(t, func(call stubCall) (any, error) {
		q := call.Kwargs["queryOpts"].(map[string]any)
		offset, _ := q["offset"].(int64)
		limit := q["limit"].(int64)
		var page []any
		for id := offset + 1; id <= min(offset+limit, total); id++ {
			m := maps.Clone(item)
			m[idKey] = id
			page = append(page, m)
		}
		return page, nil
	})
}

// assertPaged checks that an iterator yielded IDs 1…total, having asked
// for them a thousand at a time in order, with the filters kept.
func assertPaged(t *testing.T, hub *stubHub, ids []int, total int, order string, filters map[string]any) {
	t.Helper()
	for i, id := range ids {
		require.Equal(t, i+1, id)
	}
	assert.Len(t, ids, total)
	calls := hub.received()
	require.Len(t, calls, total/1000+1)
	for i, call := range calls {
		q := map[string]any{"limit": int64(1000), "order": order}
		if i > 0 {
			q["offset"] = int64(1000 * i) // offset 0 is left out
		}
		want := maps.Clone(filters)
		want["queryOpts"] = q
		assert.Equal(t, want, call.Kwargs)
	}
}

func TestListRPMsIterPages(t *testing.T) {
	c, hub := pagingHub(t, 2345, "id", map[string]any{"name": "bash", "arch": "x86_64"})
	var ids []int
	for r, err := range c.ListRPMsIter(context.Background(), &ListRPMsOptions{BuildID: 3}) {
		require.NoError(t, err)
		ids = append(ids, r.ID)
	}
	assertPaged(t, hub, ids, 2345, "id", map[string]any{"buildID": int64(3)})

	c, hub = newStubHub(t, func(stubCall) (any, error) { return []any{}, nil })
	for range c.ListRPMsIter(context.Background(), &ListRPMsOptions{QueryOpts: &QueryOpts{Offset: 10, Limit: 5, Order: "-size"}}) {
		t.Fatal("the hub has no RPMs")
	}
	assert.Equal(t, map[string]any{"queryOpts": map[string]any{"limit": int64(5), "offset": int64(10), "order": "-size"}},
		hub.only(t).Kwargs, "the caller's window and order are kept")
}
