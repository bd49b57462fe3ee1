package messages

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// A Handler handles one event. Consume acknowledges the message when the
// handler returns nil and tries it again later when it returns an error.
type Handler func(ctx context.Context, ev Event) error

// A Delivery describes the message an event came in, for a Handler:
// Consume puts it in the handler's context (see DeliveryFromContext).
type Delivery struct {
	// Message is the message as received: routing key, headers, body.
	Message Message
	// MessageID is the AMQP message ID, "" when the publisher set none.
	// A Publisher sets a unique one, kept when it publishes again after a
	// lost connection, so a handler can recognise a duplicate.
	MessageID string
	// Redelivered reports whether the broker delivered the message before
	// (to this consumer or another one) without an acknowledgement.
	Redelivered bool
	// Attempt is 1 plus the number of times the handler failed on this
	// message in this Consume call. On a queue that counts deliveries
	// (RabbitMQ's quorum queues, x-delivery-count) it counts every
	// earlier delivery instead, when that is more.
	Attempt int
}

type deliveryKey struct{}

// DeliveryFromContext returns the Delivery of the event a Handler was
// called with.
func DeliveryFromContext(ctx context.Context) (*Delivery, bool) {
	d, ok := ctx.Value(deliveryKey{}).(*Delivery)
	return d, ok
}

// Consume reads events from cfg.Queue and calls handler with each, one at
// a time, in the order the broker delivers them, until ctx ends; then it
// returns nil. It returns an error only for a configuration the broker
// refuses (access, queue arguments) or cfg itself.
//
// Consume declares the durable queue and binds it to cfg.Bindings on
// cfg.Exchange, so messages published while it is disconnected wait in
// the queue. It acknowledges a message only after handler returned nil;
// when handler fails, it waits cfg.RetryDelay and requeues the message,
// and after cfg.MaxDeliveries failures it rejects it (dead-lettered to
// cfg.DeadLetterExchange, if set, else dropped). A message that is not a
// readable event of cfg.Format (a *ParseError) is rejected at once, as no
// retry can fix it; messages of unknown kinds reach the handler as
// *Unknown.
//
// When the connection or channel closes (a broker restart, a network
// failure), Consume reconnects with backoff and resumes; the broker
// redelivers the messages that were not acknowledged. Delivery is thus at
// least once: a handler may see a message again after a reconnection.
func Consume(ctx context.Context, cfg Config, handler Handler) error {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return err
	}
	if cfg.Queue == "" {
		return errors.New("messages: Consume needs a queue name")
	}
	if handler == nil {
		return errors.New("messages: Consume needs a handler")
	}
	c := &consumer{cfg: cfg, log: cfg.Logger, handler: handler, attempts: map[string]int{}}
	b := newBackoff(cfg)
	for {
		consumed, err := c.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if permanent(err) {
			return err
		}
		if consumed {
			b.reset() // a new failure: start again from the shortest wait
		}
		c.log.Warn("messages: consumer disconnected; reconnecting",
			slog.String("queue", cfg.Queue), slog.String("error", errorText(err)))
		if b.wait(ctx) != nil {
			return nil
		}
	}
}

type consumer struct {
	cfg     Config
	log     *slog.Logger
	handler Handler
	// attempts counts failed deliveries by message key (see messageKey),
	// across reconnections; bounded by maxTracked.
	attempts map[string]int
}

const maxTracked = 10000

// session connects, declares the queue and consumes until the connection
// fails or ctx ends. consumed reports whether it got as far as consuming.
func (c *consumer) session(ctx context.Context) (consumed bool, err error) {
	conn, err := dial(ctx, c.cfg)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	closed := conn.NotifyClose(make(chan *amqp.Error, 1))
	ch, err := conn.Channel()
	if err != nil {
		return false, err
	}
	chClosed := ch.NotifyClose(make(chan *amqp.Error, 1))
	deliveries, err := c.declare(ch)
	if err != nil {
		return false, err
	}
	c.log.Info("messages: consuming", slog.String("queue", c.cfg.Queue))
	for {
		select {
		case <-ctx.Done():
			return true, ctx.Err()
		case d, ok := <-deliveries:
			if !ok {
				return true, closeReason(closed, chClosed)
			}
			c.handle(ctx, d)
		}
	}
}

// declare sets up the queue and starts consuming it.
func (c *consumer) declare(ch *amqp.Channel) (<-chan amqp.Delivery, error) {
	if err := ch.Qos(c.cfg.Prefetch, 0, false); err != nil {
		return nil, err
	}
	if err := declareExchange(ch, c.cfg); err != nil {
		return nil, fmt.Errorf("messages: declaring exchange %s: %w", c.cfg.Exchange, err)
	}
	var args amqp.Table
	if c.cfg.DeadLetterExchange != "" {
		args = amqp.Table{"x-dead-letter-exchange": c.cfg.DeadLetterExchange}
	}
	if _, err := ch.QueueDeclare(c.cfg.Queue, true, false, false, false, args); err != nil {
		return nil, fmt.Errorf("messages: declaring queue %s: %w", c.cfg.Queue, err)
	}
	for _, key := range c.cfg.Bindings {
		if err := ch.QueueBind(c.cfg.Queue, key, c.cfg.Exchange, false, nil); err != nil {
			return nil, fmt.Errorf("messages: binding queue %s to %s: %w", c.cfg.Queue, key, err)
		}
	}
	return ch.Consume(c.cfg.Queue, "", false, false, false, false, nil)
}

func closeReason(conn, ch <-chan *amqp.Error) error {
	for _, c := range []<-chan *amqp.Error{ch, conn} {
		select {
		case e, ok := <-c:
			if ok && e != nil {
				return e
			}
		default:
		}
	}
	return errors.New("delivery channel closed")
}

func errorText(err error) string {
	if err == nil {
		return "connection closed"
	}
	return err.Error()
}

// handle parses one delivery, calls the handler and settles the message.
func (c *consumer) handle(ctx context.Context, d amqp.Delivery) {
	msg := Message{Topic: d.RoutingKey, Properties: map[string]any(d.Headers), Body: d.Body}
	log := c.log.With(slog.String("routing_key", d.RoutingKey), slog.String("message_id", d.MessageId))
	var ev Event
	var err error
	if c.cfg.Format == Fedora {
		ev, err = ParseFedora(msg.Topic, msg.Properties, msg.Body)
	} else {
		ev, err = ParseProton(msg.Topic, msg.Properties, msg.Body)
	}
	if err != nil {
		log.Error("messages: rejecting an unreadable message", slog.String("error", err.Error()))
		c.settle(log, d.Reject(false))
		return
	}
	key := messageKey(d)
	attempt := c.attempts[key] + 1
	if n, ok := propInt(msg.Properties, "x-delivery-count"); ok && n+1 > attempt {
		attempt = n + 1
	}
	info := &Delivery{Message: msg, MessageID: d.MessageId, Redelivered: d.Redelivered, Attempt: attempt}
	err = c.handler(context.WithValue(ctx, deliveryKey{}, info), ev)
	if err == nil {
		delete(c.attempts, key)
		c.settle(log, d.Ack(false))
		return
	}
	if ctx.Err() != nil {
		// Shutting down: leave the message unacknowledged; the broker
		// requeues it when the connection closes.
		return
	}
	if attempt >= c.cfg.MaxDeliveries {
		delete(c.attempts, key)
		log.Error("messages: handler failed; rejecting the message",
			slog.Int("attempt", attempt), slog.String("error", err.Error()))
		c.settle(log, d.Nack(false, false))
		return
	}
	if len(c.attempts) >= maxTracked {
		clear(c.attempts)
	}
	c.attempts[key] = attempt
	log.Warn("messages: handler failed; requeueing the message",
		slog.Int("attempt", attempt), slog.String("error", err.Error()))
	t := time.NewTimer(c.cfg.RetryDelay)
	defer t.Stop()
	select {
	case <-t.C:
		c.settle(log, d.Nack(false, true))
	case <-ctx.Done():
	}
}

// settle logs a failed acknowledgement: the connection is gone, and the
// broker will deliver the message again.
func (c *consumer) settle(log *slog.Logger, err error) {
	if err != nil {
		log.Warn("messages: cannot settle the message", slog.String("error", err.Error()))
	}
}

// messageKey identifies a message across redeliveries: by its ID, or by
// its routing key and body when it has none (protonmsg sets none).
func messageKey(d amqp.Delivery) string {
	if d.MessageId != "" {
		return "id:" + d.MessageId
	}
	h := sha256.New()
	h.Write([]byte(d.Exchange))
	h.Write([]byte{0})
	h.Write([]byte(d.RoutingKey))
	h.Write([]byte{0})
	h.Write(d.Body)
	return fmt.Sprintf("sha256:%x", h.Sum(nil))
}
