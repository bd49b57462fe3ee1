package hubserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/messages"
)

// protonLock is the lock row that serialises sending queued messages
// between hub processes, upstream's db_lock('protonmsg-plugin').
const protonLock = "protonmsg-plugin"

// A protonSender sends the messages of committed calls in the background,
// one batch at a time in commit order, as upstream's send_queued_msgs does
// in postCommit: messages it cannot send go to proton_queue; after a batch
// that was sent entirely, queued messages are sent again
// (handle_db_msgs).
type protonSender struct {
	db  *store.DB
	cfg ProtonmsgConfig
	log *slog.Logger

	mu      sync.Mutex
	pending []messages.Message
	closed  bool
	wake    chan struct{} // a batch is pending
	quit    chan struct{} // closed by close
	done    chan struct{} // closed when run returned

	pub    *messages.Publisher // nil until connected
	ownPub bool                // pub was made from cfg.Broker: close it
}

// protonSender returns k's sender, started on first use, or nil when no
// broker is configured.
func (k *Koji) protonSender() *protonSender {
	k.ev.protonOnce.Do(func() {
		cfg := k.cfg.Protonmsg
		if !cfg.enabled() {
			return
		}
		log := k.cfg.Logger
		if log == nil {
			log = slog.Default()
		}
		s := &protonSender{
			db: k.db, cfg: cfg.withDefaults(), log: log.With("plugin", "protonmsg"), pub: cfg.Publisher,
			wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{}),
		}
		go s.run()
		k.ev.proton = s
	})
	return k.ev.proton
}

// closeEvents stops k's sender, if it started: messages still pending are
// sent, or queued when they cannot be (which takes at most about
// SendTimeout). Koji.Close calls it before closing the database.
func (k *Koji) closeEvents() {
	k.ev.protonOnce.Do(func() {}) // no sender can start any more
	if s := k.ev.proton; s != nil {
		s.close()
	}
}

// enqueue adds a committed call's message to the next batch.
func (s *protonSender) enqueue(m messages.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		s.log.Error("message after the hub closed; dropped", "address", m.Topic)
		return
	}
	s.pending = append(s.pending, m)
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *protonSender) close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.quit)
	}
	s.mu.Unlock()
	<-s.done
}

func (s *protonSender) run() {
	defer close(s.done)
	var retry <-chan time.Time
	if s.cfg.RetryInterval > 0 && !s.cfg.DisableQueue {
		t := time.NewTicker(s.cfg.RetryInterval)
		defer t.Stop()
		retry = t.C
	}
	for {
		select {
		case <-s.wake:
			s.sendPending()
		case <-retry:
			s.sendQueued()
		case <-s.quit:
			s.sendPending()
			if s.ownPub && s.pub != nil {
				if err := s.pub.Close(); err != nil {
					s.log.Warn("closing the publisher", "error", err)
				}
			}
			return
		}
	}
}

// sendPending sends the pending messages: those it cannot send are
// queued; when all went out, queued messages are sent again.
func (s *protonSender) sendPending() {
	s.mu.Lock()
	batch := s.pending
	s.pending = nil
	s.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	unsent := s.publish(batch)
	switch {
	case len(unsent) == 0:
		if !s.cfg.DisableQueue {
			s.sendQueued()
		}
	case s.cfg.DisableQueue:
		s.log.Error("could not send messages; the queue is disabled", "unsent", len(unsent))
	default:
		if err := s.store(unsent); err != nil {
			s.log.Error("could not queue unsent messages; dropped", "unsent", len(unsent), "error", err)
		}
	}
}

// publish sends msgs in order within SendTimeout and returns those it did
// not send: after a failure the broker is taken to be unreachable and the
// rest is not tried.
func (s *protonSender) publish(msgs []messages.Message) []messages.Message {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.SendTimeout)
	defer cancel()
	pub, err := s.publisher(ctx)
	if err != nil {
		s.log.Warn("cannot reach the broker", "unsent", len(msgs), "error", err)
		return msgs
	}
	for i, m := range msgs {
		if err := pub.PublishMessage(ctx, m, messages.PublishOptions{TTL: s.cfg.TTL}); err != nil {
			s.log.Warn("cannot send message", "address", m.Topic, "unsent", len(msgs)-i, "error", err)
			return msgs[i:]
		}
	}
	return nil
}

// publisher returns the publisher, connecting to Broker when there is
// none yet.
func (s *protonSender) publisher(ctx context.Context) (*messages.Publisher, error) {
	if s.pub != nil {
		return s.pub, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ConnectTimeout)
	defer cancel()
	pub, err := messages.NewPublisher(ctx, *s.cfg.Broker)
	if err != nil {
		return nil, err
	}
	s.pub, s.ownPub = pub, true
	return pub, nil
}

// store keeps msgs in proton_queue (upstream's store_to_db).
func (s *protonSender) store(msgs []messages.Message) error {
	rows := make([]store.ProtonMessage, len(msgs))
	for i, m := range msgs {
		props, err := json.Marshal(m.Properties)
		if err != nil {
			return err
		}
		rows[i] = store.ProtonMessage{Address: m.Topic, Props: string(props), Body: string(m.Body)}
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.SendTimeout)
	defer cancel()
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := tx.QueueProtonMessages(ctx, rows); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	s.log.Info("queued unsent messages", "count", len(msgs))
	return nil
}

// sendQueued sends queued messages again, as upstream's handle_db_msgs:
// under the protonmsg-plugin lock (skipped when another hub process holds
// it), messages older than MaxAge are dropped and the oldest BatchSize are
// sent and deleted. Unlike upstream it goes on with the next batch while
// whole batches go out, as it runs in the background.
func (s *protonSender) sendQueued() {
	for {
		more, err := s.sendQueuedBatch()
		if err != nil {
			s.log.Error("cannot send queued messages", "error", err)
			return
		}
		if !more {
			return
		}
	}
}

// sendQueuedBatch sends one batch of queued messages and reports whether
// there may be more to send.
//
// On PostgreSQL the lock is held while the batch is sent, as upstream
// holds it, which blocks no other writer. On SQLite, whose single writer
// the lock would block for as long as the broker takes, the batch is read
// and deleted in two short transactions; this sender is the only one of
// its process, and hub processes sharing an SQLite file are not supported.
func (s *protonSender) sendQueuedBatch() (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.SendTimeout)
	defer cancel()
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if s.db.Dialect() == store.Postgres {
		ok, err := tx.Lock(ctx, protonLock, false)
		if err != nil || !ok {
			return false, err
		}
	}
	if n, err := tx.ExpireProtonMessages(ctx, time.Now().Add(-s.cfg.MaxAge)); err != nil {
		return false, err
	} else if n > 0 {
		s.log.Warn("dropped queued messages older than the maximum age", "count", n, "max_age", s.cfg.MaxAge)
	}
	rows, err := tx.ProtonMessages(ctx, s.cfg.BatchSize)
	if err != nil {
		return false, err
	}
	if len(rows) == 0 {
		return false, tx.Commit(ctx)
	}
	if s.db.Dialect() != store.Postgres {
		// Release SQLite's writer before talking to the broker.
		if err := tx.Commit(ctx); err != nil {
			return false, err
		}
	}
	msgs := make([]messages.Message, 0, len(rows))
	ids := make([]int64, 0, len(rows)) // of msgs
	var bad []int64
	for _, r := range rows {
		m, err := queuedMessage(r)
		if err != nil {
			s.log.Error("dropping an unreadable queued message", "id", r.ID, "error", err)
			bad = append(bad, r.ID)
			continue
		}
		msgs, ids = append(msgs, m), append(ids, r.ID)
	}
	unsent := s.publish(msgs)
	sent := append(bad, ids[:len(msgs)-len(unsent)]...)
	if s.db.Dialect() != store.Postgres {
		if tx, err = s.db.Begin(ctx); err != nil {
			return false, err
		}
		defer tx.Rollback(context.WithoutCancel(ctx))
	}
	if err := tx.DeleteProtonMessages(ctx, sent); err != nil {
		return false, err
	}
	if err := tx.Commit(ctx); err != nil {
		return false, err
	}
	if len(sent) > len(bad) {
		s.log.Info("sent queued messages", "count", len(sent)-len(bad))
	}
	return len(unsent) == 0 && len(rows) == s.cfg.BatchSize, nil
}

// queuedMessage reads a proton_queue row back into the message it was
// stored from.
func queuedMessage(r store.ProtonMessage) (messages.Message, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(r.Props)))
	dec.UseNumber()
	var props map[string]any
	if err := dec.Decode(&props); err != nil {
		return messages.Message{}, err
	}
	for k, v := range props {
		n, ok := v.(json.Number)
		if !ok {
			continue
		}
		if i, err := n.Int64(); err == nil {
			props[k] = i
		} else if f, err := n.Float64(); err == nil {
			props[k] = f
		} else {
			return messages.Message{}, errors.New("bad number in properties")
		}
	}
	if !json.Valid([]byte(r.Body)) {
		return messages.Message{}, errors.New("the body is not JSON")
	}
	return messages.Message{Topic: r.Address, Properties: props, Body: []byte(r.Body)}, nil
}
