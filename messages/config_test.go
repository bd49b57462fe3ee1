package messages

import (
	"context"
	"net"
	"runtime"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConfigDefaults(t *testing.T) {
	c := Config{}.withDefaults()
	assert.Equal(t, "amqp://guest:guest@127.0.0.1:5672/", c.URL)
	assert.Equal(t, "amq.topic", c.Exchange)
	assert.Equal(t, "koji", c.TopicPrefix)
	assert.Equal(t, []string{"koji.#"}, c.Bindings)
	assert.Equal(t, 10, c.Prefetch)
	assert.Equal(t, 5, c.MaxDeliveries)
	assert.Equal(t, []string{"org.fedoraproject.prod.buildsys.#"}, Config{Format: Fedora}.withDefaults().Bindings)
	assert.Equal(t, []string{"brew.#"}, Config{TopicPrefix: "brew"}.withDefaults().Bindings)
}

func TestConsumeRefusesBadConfig(t *testing.T) {
	ok := func(context.Context, Event) error { return nil }
	for name, tt := range map[string]struct {
		cfg     Config
		handler Handler
		want    string
	}{
		"no queue":   {Config{}, ok, "queue name"},
		"no handler": {Config{Queue: "q"}, nil, "handler"},
		"bad url":    {Config{Queue: "q", URL: "http://example.org"}, ok, "broker URL"},
		"bad format": {Config{Queue: "q", Format: 7}, ok, "Format(7)"},
	} {
		t.Run(name, func(t *testing.T) {
			err := Consume(context.Background(), tt.cfg, tt.handler)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

func TestNewPublisherUnreachable(t *testing.T) {
	_, err := NewPublisher(context.Background(), Config{URL: "amqp://guest:guest@" + closedPort(t) + "/"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "connecting to the broker")
}

// While the broker cannot be reached Consume keeps trying, and returns
// nil, leaving nothing running, once its context ends.
func TestConsumeStopsWhileReconnecting(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := Consume(ctx, Config{URL: "amqp://guest:guest@" + closedPort(t) + "/", Queue: "q",
		ReconnectDelay: 10 * time.Millisecond}, func(context.Context, Event) error { return nil })
	assert.NoError(t, err)
	assert.Less(t, time.Since(start), 5*time.Second)
	checkGoroutines(t, before)
}

// A handshake that never completes ends with the context.
func TestDialHonoursContext(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // accept, then say nothing
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = dial(ctx, Config{URL: "amqp://guest:guest@" + l.Addr().String() + "/"}.withDefaults())
	require.Error(t, err)
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestPermanent(t *testing.T) {
	assert.True(t, permanent(&amqp.Error{Code: amqp.AccessRefused}))
	assert.True(t, permanent(&amqp.Error{Code: amqp.PreconditionFailed}))
	assert.False(t, permanent(&amqp.Error{Code: amqp.ConnectionForced}))
	assert.False(t, permanent(amqp.ErrClosed))
	assert.False(t, permanent(context.DeadlineExceeded))
}

func TestMessageID(t *testing.T) {
	a, b := newMessageID(), newMessageID()
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, a)
	assert.NotEqual(t, a, b)
}
