package koji

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// builder1 is the host the recorded hub had, as getHost sends it.
var builder1 = &Host{ID: 1, UserID: 4, Name: "builder1", Arches: "x86_64", Capacity: 2, Enabled: true}

func TestGetHostRecorded(t *testing.T) {
	c, hub := replayClient(t, 11, "getHost")
	h, err := c.GetHost(context.Background(), "builder1", nil)
	require.NoError(t, err)
	assertSentAsRecorded(t, hub, 0, "getHost")
	assert.Equal(t, builder1, h)
	assert.Equal(t, []string{"x86_64"}, h.ArchList())
	_, ok := h.Updated()
	assert.False(t, ok, "the host never checked in")
	assert.Equal(t, "https://koji.example.org/koji/hostinfo?hostID=1", h.URL("https://koji.example.org/koji/"))
}

func TestListHostsRecorded(t *testing.T) {
	c, hub := replayClient(t, 11, "listHosts")
	hosts, err := c.ListHosts(context.Background(), nil)
	require.NoError(t, err)
	assertSentAsRecorded(t, hub, 0, "listHosts")
	assert.Equal(t, []*Host{builder1}, hosts)
}

func TestHostCallsOnTheWire(t *testing.T) {
	yes, no := true, false
	c, hub := newStubHub(t, func(call stubCall) (any, error) {
		if call.Method == "getHost" {
			return map[string]any{"id": 3, "name": "b3", "arches": "x86_64 i686", "update_ts": 1795311648.5}, nil
		}
		return []any{}, nil
	})
	ctx := context.Background()
	h, err := c.GetHost(ctx, 3, &GetHostOptions{Strict: true, Event: 1000})
	require.NoError(t, err)
	assert.Equal(t, []string{"x86_64", "i686"}, h.ArchList())
	updated, ok := h.Updated()
	assert.True(t, ok)
	assert.Equal(t, time.Date(2026, 11, 22, 1, 40, 48, 500000000, time.UTC), updated)

	_, err = c.ListHosts(ctx, &ListHostsOptions{Arches: []string{"x86_64"}, ChannelID: 2, Ready: &yes, Enabled: &no,
		UserID: 4, QueryOpts: &QueryOpts{Order: "name"}})
	require.NoError(t, err)
	calls := hub.received()
	assert.Equal(t, stubCall{Method: "getHost", Args: []any{int64(3)}, Kwargs: map[string]any{"strict": true, "event": int64(1000)}}, calls[0])
	assert.Equal(t, stubCall{Method: "listHosts", Kwargs: map[string]any{"arches": []any{"x86_64"}, "channelID": int64(2),
		"ready": true, "enabled": false, "userID": int64(4), "queryOpts": map[string]any{"order": "name"}}}, calls[1])

	_, err = c.GetHost(ctx, "", nil)
	var refErr *RefError
	require.ErrorAs(t, err, &refErr)
	assert.Len(t, hub.received(), 2, "a bad host is refused before sending")
}

func TestRunScheduler(t *testing.T) {
	c, hub := replayClient(t, 11, "scheduler.doRun")
	ran, err := c.RunScheduler(context.Background(), true)
	require.NoError(t, err)
	assert.True(t, ran)
	assertSentAsRecorded(t, hub, 0, "scheduler.doRun")

	stub, calls := newStubHub(t, func(stubCall) (any, error) { return false, nil })
	ran, err = stub.RunScheduler(context.Background(), false)
	require.NoError(t, err)
	assert.False(t, ran)
	assert.Equal(t, stubCall{Method: "scheduler.doRun"}, calls.only(t))
}

// The builder's side, replayed on builder1's session 12 as kojid made the
// calls: each request is byte for byte what kojid sent.
func TestHostAPIRecorded(t *testing.T) {
	c, hub := replayClient(t, 12, "host.getID", "host.getHost", "host.updateHost", "host.getTasks", "host.openTask",
		"host.setTaskWeight", "host.closeTask", "host.openTask_2", "host.failTask", "host.getHostTasks")
	ctx := context.Background()
	api := c.HostAPI()

	id, err := api.ID(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, id)
	assertSentAsRecorded(t, hub, 0, "host.getID")

	h, err := api.Host(ctx)
	require.NoError(t, err)
	assert.Equal(t, builder1, h)
	assertSentAsRecorded(t, hub, 1, "host.getHost")

	// kojid's data dict, in its insertion order.
	data := struct {
		Methods []string `xmlrpc:"methods"`
		MaxJobs int      `xmlrpc:"maxjobs"`
	}{[]string{"sleep", "fork", "wait"}, 10}
	require.NoError(t, api.UpdateHost(ctx, 0, true, data))
	assertSentAsRecorded(t, hub, 2, "host.updateHost")

	tasks, err := api.Tasks(ctx)
	require.NoError(t, err)
	assertSentAsRecorded(t, hub, 3, "host.getTasks")
	require.Len(t, tasks, 2)
	assert.Equal(t, []int{1, 2}, []int{tasks[0].ID, tasks[1].ID})
	assert.Equal(t, TaskAssigned, tasks[0].State)
	assert.Equal(t, time.Date(2026, 11, 22, 1, 40, 47, 101714000, time.UTC), tasks[1].Created())
	assert.Nil(t, tasks[0].Request)

	task, err := api.OpenTask(ctx, 1)
	require.NoError(t, err)
	assertSentAsRecorded(t, hub, 4, "host.openTask")
	assert.Equal(t, TaskOpen, task.State)
	params, err := task.Params()
	require.NoError(t, err)
	assert.Equal(t, []any{int64(1)}, params, "decoded from the stored methodCall")

	require.NoError(t, api.SetTaskWeight(ctx, 1, 0.5))
	assertSentAsRecorded(t, hub, 5, "host.setTaskWeight")

	require.NoError(t, api.CloseTask(ctx, 1, sleepResult{Slept: 1, Big: 1 << 40}))
	assertSentAsRecorded(t, hub, 6, "host.closeTask")

	task, err = api.OpenTask(ctx, 2)
	require.NoError(t, err)
	assert.Equal(t, 2, task.ID)
	require.NoError(t, api.FailTask(ctx, 2, &Fault{Code: 1000, String: "simulated failure"}))
	assertSentAsRecorded(t, hub, 8, "host.failTask")

	open, err := api.OpenTasks(ctx)
	require.NoError(t, err)
	assert.Empty(t, open)
	assertSentAsRecorded(t, hub, 9, "host.getHostTasks")
}

func TestHostAPIOpenTasksAndRefusal(t *testing.T) {
	c, _ := newStubHub(t, func(call stubCall) (any, error) {
		if call.Method == "host.openTask" {
			return nil, nil // another host got it first
		}
		return []any{map[string]any{"id": 5, "waiting": true, "weight": 0.2, "alert": true},
			map[string]any{"id": 6, "waiting": nil, "weight": 1.5}}, nil
	})
	ctx := context.Background()
	task, err := c.HostAPI().OpenTask(ctx, 5)
	require.NoError(t, err)
	assert.Nil(t, task)
	open, err := c.HostAPI().OpenTasks(ctx)
	require.NoError(t, err)
	assert.Equal(t, []HostTask{{ID: 5, Waiting: true, Weight: 0.2, Alert: true}, {ID: 6, Weight: 1.5}}, open)
}
