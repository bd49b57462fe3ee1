package messages

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// ErrNacked reports a message the broker refused (a negative publisher
// confirm): its queue is full and rejects new messages, or the broker
// failed internally.
var ErrNacked = errors.New("messages: the broker refused the message")

// ErrPublisherClosed is returned by Publish after Close.
var ErrPublisherClosed = errors.New("messages: publisher closed")

// A Publisher publishes events as Koji's protonmsg plugin does, on an
// AMQP 0.9.1 broker: each message goes to the configured exchange with the
// routing key "<TopicPrefix>.<event topic>", its properties as headers and
// its JSON as the body (see the package documentation). Messages are
// persistent and carry a unique message ID.
//
// Publish returns only once the broker has confirmed the message. After a
// broker restart or a lost connection, Publish reconnects and publishes
// again, so a message whose confirm was lost may arrive twice; consumers
// can tell by the message ID. A Publisher is safe for concurrent use.
type Publisher struct {
	cfg    Config
	log    *slog.Logger
	life   context.Context // ends with Close, to stop a reconnection
	cancel context.CancelFunc

	// lock guards conn, ch and closed, and is held while reconnecting.
	// It is a channel so that a Publish waiting for another one's
	// reconnection gives up with its own context.
	lock   chan struct{}
	conn   *amqp.Connection
	ch     *amqp.Channel
	closed bool
}

// NewPublisher connects to the broker cfg names and declares its
// exchange. It does not retry: a broker it cannot reach is an error.
func NewPublisher(ctx context.Context, cfg Config) (*Publisher, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	p := &Publisher{cfg: cfg, log: cfg.Logger, lock: make(chan struct{}, 1)}
	p.life, p.cancel = context.WithCancel(context.Background())
	if err := p.connect(ctx); err != nil {
		p.cancel()
		return nil, err
	}
	return p, nil
}

// connect opens a connection and a channel in confirm mode. p.lock is
// held.
func (p *Publisher) connect(ctx context.Context) error {
	conn, err := dial(ctx, p.cfg)
	if err != nil {
		return fmt.Errorf("messages: connecting to the broker: %w", err)
	}
	ch, err := conn.Channel()
	if err == nil {
		err = ch.Confirm(false)
	}
	if err == nil {
		err = declareExchange(ch, p.cfg)
	}
	if err != nil {
		_ = conn.Close()
		return fmt.Errorf("messages: opening a channel: %w", err)
	}
	p.conn, p.ch = conn, ch
	return nil
}

// channel returns the open channel, reconnecting with backoff until it
// succeeds, ctx ends, the Publisher is closed or the broker refuses for
// good.
func (p *Publisher) channel(ctx context.Context) (*amqp.Channel, error) {
	select {
	case p.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-p.life.Done():
		return nil, ErrPublisherClosed
	}
	defer func() { <-p.lock }()
	if p.closed {
		return nil, ErrPublisherClosed
	}
	if p.ch != nil && !p.ch.IsClosed() {
		return p.ch, nil
	}
	p.drop()
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	defer context.AfterFunc(p.life, stop)()
	b := newBackoff(p.cfg)
	for {
		err := p.connect(ctx)
		if err == nil {
			p.log.Info("messages: publisher reconnected", slog.String("exchange", p.cfg.Exchange))
			return p.ch, nil
		}
		if ctx.Err() == nil && permanent(err) {
			return nil, err
		}
		if ctx.Err() == nil {
			p.log.Warn("messages: publisher cannot reach the broker", slog.String("error", err.Error()))
			_ = b.wait(ctx)
		}
		if ctx.Err() != nil {
			if p.life.Err() != nil {
				return nil, ErrPublisherClosed
			}
			return nil, fmt.Errorf("messages: reconnecting to the broker: %w (last error: %v)", ctx.Err(), err)
		}
	}
}

// drop closes the connection, if any. p.lock is held.
func (p *Publisher) drop() {
	if p.conn != nil {
		_ = p.conn.Close()
	}
	p.conn, p.ch = nil, nil
}

// Publish publishes ev as protonmsg would (see EncodeProton) and waits for
// the broker's confirm. While the broker is unreachable it keeps trying
// until ctx ends; give it a deadline (protonmsg gives up after 60s).
func (p *Publisher) Publish(ctx context.Context, ev Event) error {
	m, err := EncodeProton(ev)
	if err != nil {
		return err
	}
	return p.PublishMessage(ctx, m, PublishOptions{})
}

// PublishOptions adjust how PublishMessage publishes a message.
type PublishOptions struct {
	// TTL, when positive, is how long the broker keeps the message for
	// consumers before dropping it (protonmsg's message ttl); it is sent
	// as the AMQP expiration, in milliseconds.
	TTL time.Duration
}

// PublishMessage publishes a message already built, as EncodeProton or
// EncodeProtonKwargs build them or as it was kept while the broker was
// down: Topic is the routing key after the configured TopicPrefix,
// Properties become the headers and Body is sent as is. It waits for the
// broker's confirm and retries like Publish.
func (p *Publisher) PublishMessage(ctx context.Context, m Message, opts PublishOptions) error {
	headers := amqp.Table(m.Properties)
	if err := headers.Validate(); err != nil {
		return fmt.Errorf("messages: properties of %s: %w", m.Topic, err)
	}
	pub := amqp.Publishing{
		Headers:      headers,
		ContentType:  "application/json",
		DeliveryMode: amqp.Persistent,
		MessageId:    newMessageID(),
		Timestamp:    time.Now(),
		Body:         m.Body,
	}
	if opts.TTL > 0 {
		pub.Expiration = strconv.FormatInt(max(opts.TTL.Milliseconds(), 1), 10)
	}
	key := p.cfg.TopicPrefix + "." + m.Topic
	for {
		ch, err := p.channel(ctx)
		if err != nil {
			return err
		}
		dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, p.cfg.Exchange, key, false, false, pub)
		if err == nil {
			select {
			case <-dc.Done():
			case <-ctx.Done():
				return ctx.Err()
			}
			if dc.Acked() {
				return nil
			}
			if !ch.IsClosed() {
				return fmt.Errorf("%w (%s)", ErrNacked, key)
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// The channel closed before the broker confirmed: the message may
		// or may not have arrived. Publish it again on a new connection.
		p.log.Warn("messages: connection lost while publishing; publishing again",
			slog.String("routing_key", key), slog.String("message_id", pub.MessageId))
	}
}

// Close closes the connection. Publish calls under way or later fail with
// ErrPublisherClosed.
func (p *Publisher) Close() error {
	p.cancel() // ends a reconnection under way, which holds the lock
	p.lock <- struct{}{}
	defer func() { <-p.lock }()
	if p.closed {
		return nil
	}
	p.closed = true
	var err error
	if p.conn != nil {
		err = p.conn.Close()
	}
	p.conn, p.ch = nil, nil
	if errors.Is(err, amqp.ErrClosed) {
		err = nil
	}
	return err
}

// EncodeProtonKwargs builds the message protonmsg queues for a callback
// (its queue_msg): the topic (address) and properties as given, and as
// body the JSON of the callback's keyword arguments, encoded as
// EncodeProton encodes an event's (times as isoformat(' ') strings, nil
// pointers as null, structs by their xmlrpc tags). A hub that has the
// callback's keyword arguments rather than an Event uses it, so the body
// carries exactly what the callback was given.
func EncodeProtonKwargs(topic string, props, kwargs map[string]any) (Message, error) {
	return protonMessage(topic, props, kwargs)
}

// newMessageID returns a random (version 4) UUID, the form
// fedora-messaging requires of message IDs.
func newMessageID() string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // crypto/rand.Read never fails
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:])
}
