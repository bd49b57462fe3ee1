package messages

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// A Format is the form of the messages a Consumer reads.
type Format int

// Message formats.
const (
	// Proton is Koji's protonmsg plugin: routing keys such as
	// "koji.build.complete", read with ParseProton.
	Proton Format = iota
	// Fedora is Fedora's message bus: routing keys such as
	// "org.fedoraproject.prod.buildsys.build.state.change", read with
	// ParseFedora.
	Fedora
)

func (f Format) String() string {
	switch f {
	case Proton:
		return "Proton"
	case Fedora:
		return "Fedora"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// Config configures a Publisher and Consume. The zero value of each field
// means its default.
type Config struct {
	// URL is the broker's AMQP 0.9.1 URL; default
	// "amqp://guest:guest@127.0.0.1:5672/".
	URL string
	// TLSConfig is used for amqps:// URLs; nil means the defaults for the
	// URL's host.
	TLSConfig *tls.Config
	// Exchange is the topic exchange messages go through; default
	// "amq.topic", where RabbitMQ also puts messages its AMQP 1.0 plugin
	// receives for topic addresses. An exchange whose name starts with
	// "amq." is never declared; any other is declared as a durable topic
	// exchange.
	Exchange string
	// TopicPrefix is the Publisher's topic prefix, protonmsg's
	// topic_prefix: an event of topic "build.complete" is published with
	// the routing key "<TopicPrefix>.build.complete"; default "koji".
	TopicPrefix string

	// Queue is the durable queue Consume reads; required by Consume.
	Queue string
	// Bindings are the routing key patterns Consume binds Queue to;
	// default TopicPrefix+".#" for Proton, FedoraTopicPrefix+"#" for
	// Fedora.
	Bindings []string
	// Format is the form of the messages Consume reads; default Proton.
	Format Format
	// Prefetch is how many unacknowledged messages the broker sends
	// ahead; default 10.
	Prefetch int
	// MaxDeliveries bounds how often a message whose handler fails is
	// tried: after that many failures Consume rejects it without
	// requeueing, and the broker drops it or dead-letters it to
	// DeadLetterExchange. Default 5.
	MaxDeliveries int
	// RetryDelay is how long Consume waits before it requeues a message
	// whose handler failed; default 1s.
	RetryDelay time.Duration
	// DeadLetterExchange, when set, is declared as Queue's
	// x-dead-letter-exchange: rejected messages go there. The broker
	// refuses to redeclare an existing queue with other arguments.
	DeadLetterExchange string

	// ReconnectDelay is the first wait before reconnecting after the
	// connection fails; it doubles, with jitter, up to
	// MaxReconnectDelay. Defaults 200ms and 30s.
	ReconnectDelay    time.Duration
	MaxReconnectDelay time.Duration
	// ConnectionName names the connections in the broker's management
	// tools; default "gokoji messages".
	ConnectionName string
	// Logger receives connection changes and failed messages; nil
	// discards them.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.URL == "" {
		c.URL = "amqp://guest:guest@127.0.0.1:5672/"
	}
	if c.Exchange == "" {
		c.Exchange = "amq.topic"
	}
	if c.TopicPrefix == "" {
		c.TopicPrefix = "koji"
	}
	if len(c.Bindings) == 0 {
		if c.Format == Fedora {
			c.Bindings = []string{FedoraTopicPrefix + "#"}
		} else {
			c.Bindings = []string{c.TopicPrefix + ".#"}
		}
	}
	if c.Prefetch <= 0 {
		c.Prefetch = 10
	}
	if c.MaxDeliveries <= 0 {
		c.MaxDeliveries = 5
	}
	if c.RetryDelay <= 0 {
		c.RetryDelay = time.Second
	}
	if c.ReconnectDelay <= 0 {
		c.ReconnectDelay = 200 * time.Millisecond
	}
	if c.MaxReconnectDelay <= 0 {
		c.MaxReconnectDelay = 30 * time.Second
	}
	if c.ConnectionName == "" {
		c.ConnectionName = "gokoji messages"
	}
	if c.Logger == nil {
		c.Logger = slog.New(discardHandler{})
	}
	return c
}

func (c Config) validate() error {
	if c.Format != Proton && c.Format != Fedora {
		return fmt.Errorf("messages: unknown %v", c.Format)
	}
	if _, err := amqp.ParseURI(c.URL); err != nil {
		return fmt.Errorf("messages: broker URL: %w", err)
	}
	return nil
}

// dial connects to the broker; ctx bounds the TCP connection and the
// AMQP handshake.
func dial(ctx context.Context, cfg Config) (*amqp.Connection, error) {
	props := amqp.NewConnectionProperties()
	props.SetClientConnectionName(cfg.ConnectionName)
	stop := func() bool { return false }
	conn, err := amqp.DialConfig(cfg.URL, amqp.Config{
		TLSClientConfig: cfg.TLSConfig,
		Properties:      props,
		Dial: func(network, addr string) (net.Conn, error) {
			d := net.Dialer{Timeout: handshakeTimeout}
			conn, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			// Like amqp.DefaultDial, a deadline for the handshake, which
			// the library clears once the connection is open; and an
			// immediate one if ctx ends first.
			stop = context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
			return conn, conn.SetDeadline(time.Now().Add(handshakeTimeout))
		},
	})
	stop()
	if err == nil && ctx.Err() != nil {
		_ = conn.Close()
		return nil, ctx.Err()
	}
	return conn, err
}

const handshakeTimeout = 30 * time.Second

// declareExchange declares cfg.Exchange unless it is one of the broker's
// own (amq.*), which clients may not declare.
func declareExchange(ch *amqp.Channel, cfg Config) error {
	if strings.HasPrefix(cfg.Exchange, "amq.") {
		return nil
	}
	return ch.ExchangeDeclare(cfg.Exchange, amqp.ExchangeTopic, true, false, false, false, nil)
}

// A backoff produces the waits between reconnection attempts.
type backoff struct {
	min, max, next time.Duration
}

func newBackoff(cfg Config) *backoff {
	return &backoff{min: cfg.ReconnectDelay, max: cfg.MaxReconnectDelay, next: cfg.ReconnectDelay}
}

// wait sleeps for the next delay, or until ctx ends.
func (b *backoff) wait(ctx context.Context) error {
	d := b.next/2 + rand.N(b.next/2+1) // jitter: half to the full delay
	b.next = min(2*b.next, b.max)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *backoff) reset() { b.next = b.min }

// permanent reports whether a broker error will not go away by
// reconnecting: refused access, arguments that contradict an existing
// queue or exchange, an unusable command.
func permanent(err error) bool {
	var e *amqp.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code {
	case amqp.AccessRefused, amqp.PreconditionFailed, amqp.CommandInvalid, amqp.NotImplemented,
		amqp.SyntaxError:
		return true
	}
	return false
}

type discardHandler struct{}

func (discardHandler) Enabled(context.Context, slog.Level) bool  { return false }
func (discardHandler) Handle(context.Context, slog.Record) error { return nil }
func (h discardHandler) WithAttrs([]slog.Attr) slog.Handler      { return h }
func (h discardHandler) WithGroup(string) slog.Handler           { return h }
