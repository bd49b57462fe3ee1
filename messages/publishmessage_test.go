package messages

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A message built from a callback's keyword arguments goes out as is,
// with its TTL, and reads back as the event it announces.
func TestPublishMessage(t *testing.T) {
	cfg := testBroker(t)
	ctx := context.Background()
	var got received
	startConsumer(t, cfg, func(ctx context.Context, ev Event) error {
		got.add(ctx, ev, true)
		return nil
	})
	pub, err := NewPublisher(ctx, cfg)
	require.NoError(t, err)
	defer pub.Close()

	fx := loadProton(t, "task.free")
	m, err := EncodeProtonKwargs("task.free", fx.Properties, intify(fx.Body).(map[string]any))
	require.NoError(t, err)
	require.NoError(t, pub.PublishMessage(ctx, m, PublishOptions{TTL: time.Minute}))
	waitFor(t, 10*time.Second, "the message", func() bool { return got.count() == 1 })

	got.mu.Lock()
	defer got.mu.Unlock()
	d := got.deliveries[0]
	assert.Equal(t, "koji.task.free", d.Message.Topic)
	assert.Equal(t, m.Body, d.Message.Body)
	var body map[string]any
	require.NoError(t, json.Unmarshal(d.Message.Body, &body))
	want, err := json.Marshal(fx.Body)
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(d.Message.Body))
	ev, ok := got.events[0].(*TaskStateChange)
	require.True(t, ok, "%T", got.events[0])
	assert.Equal(t, 110011390, ev.Task.ID)
	assert.Equal(t, "rebuildSRPM", ev.Task.Method)

	// Properties the broker cannot carry are refused before sending.
	err = pub.PublishMessage(ctx, Message{Topic: "x", Properties: map[string]any{"bad": struct{}{}}}, PublishOptions{})
	assert.ErrorContains(t, err, "properties of x")
}

// intify turns the integral float64s of decoded JSON back into the ints a
// hub has, as Python's json.loads reads them.
func intify(v any) any {
	switch x := v.(type) {
	case float64:
		if x == float64(int64(x)) {
			return int64(x)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = intify(e)
		}
	case []any:
		for i, e := range x {
			x[i] = intify(e)
		}
	}
	return v
}
