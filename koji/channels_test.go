package koji

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGetChannelRecorded(t *testing.T) {
	c, hub := replayClient(t, 11, "getChannel", "getChannel_nonexistent")
	ctx := context.Background()
	ch, err := c.GetChannel(ctx, "default", nil)
	require.NoError(t, err)
	assertSentAsRecorded(t, hub, 0, "getChannel")
	assert.Equal(t, &Channel{ID: 1, Name: "default", Enabled: true}, ch)
	assert.Equal(t, "https://koji.example.org/koji/channelinfo?channelID=1", ch.URL("https://koji.example.org/koji"))

	ch, err = c.GetChannel(ctx, "no-such-channel", nil)
	require.NoError(t, err)
	assert.Nil(t, ch)
	assertSentAsRecorded(t, hub, 1, "getChannel_nonexistent")
}

func TestListChannelsRecorded(t *testing.T) {
	c, hub := replayClient(t, 11, "listChannels")
	channels, err := c.ListChannels(context.Background(), nil)
	require.NoError(t, err)
	assertSentAsRecorded(t, hub, 0, "listChannels")
	var names []string
	for i, ch := range channels {
		assert.Equal(t, i+1, ch.ID)
		assert.True(t, ch.Enabled)
		names = append(names, ch.Name)
	}
	assert.Equal(t, []string{"default", "createrepo", "maven", "livecd", "appliance", "vm", "image", "livemedia"}, names)
}

func TestChannelCallsOnTheWire(t *testing.T) {
	enabled := true
	c, hub := newStubHub(t, func(call stubCall) (any, error) {
		switch call.Method {
		case "getChannel":
			return map[string]any{"id": 2, "name": "createrepo", "enabled": true, "description": "repos", "comment": nil}, nil
		case "listHosts":
			return []any{map[string]any{"id": 1, "capacity": 2.0}, map[string]any{"id": 2, "capacity": 6.5}}, nil
		case "listTasks":
			return []any{map[string]any{"id": 10, "channel_id": 2}}, nil
		}
		return []any{}, nil
	})
	ctx := context.Background()
	ch, err := c.GetChannel(ctx, 2, &GetChannelOptions{Strict: true})
	require.NoError(t, err)
	assert.Equal(t, &Channel{ID: 2, Name: "createrepo", Enabled: true, Description: "repos"}, ch)

	_, err = c.ListChannels(ctx, &ListChannelsOptions{HostID: 1, Event: 99, Enabled: &enabled})
	require.NoError(t, err)

	hosts, err := c.ChannelHosts(ctx, 2)
	require.NoError(t, err)
	assert.Len(t, hosts, 2)

	capacity, err := c.ChannelCapacity(ctx, 2)
	require.NoError(t, err)
	assert.Equal(t, 8.5, capacity)

	var ids []int
	for task, err := range c.ChannelTasks(ctx, 2, &ListTasksOptions{State: []TaskState{TaskFree}}) {
		require.NoError(t, err)
		ids = append(ids, task.ID)
	}
	assert.Equal(t, []int{10}, ids)

	calls := hub.received()
	require.Len(t, calls, 5)
	assert.Equal(t, stubCall{Method: "getChannel", Args: []any{int64(2)}, Kwargs: map[string]any{"strict": true}}, calls[0])
	assert.Equal(t, stubCall{Method: "listChannels", Kwargs: map[string]any{"hostID": int64(1), "event": int64(99), "enabled": true}}, calls[1])
	assert.Equal(t, stubCall{Method: "listHosts", Kwargs: map[string]any{"channelID": int64(2)}}, calls[2])
	assert.Equal(t, stubCall{Method: "listHosts", Kwargs: map[string]any{"channelID": int64(2), "enabled": true}}, calls[3],
		"capacity counts enabled hosts only")
	assert.Equal(t, stubCall{Method: "listTasks", Kwargs: map[string]any{
		"opts":      map[string]any{"channel_id": int64(2), "state": []any{int64(0)}},
		"queryOpts": map[string]any{"order": "priority,create_time,id", "limit": int64(1000)},
	}}, calls[4])

	_, err = c.GetChannel(ctx, nil, nil)
	var refErr *RefError
	assert.ErrorAs(t, err, &refErr)
}
