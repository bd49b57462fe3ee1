package messages

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/koji"
)

// These tests run against the RabbitMQ server on this machine (CI starts
// it; .ci/run checks it), each on an exchange and a queue of its own,
// deleted when it ends. They do not run in parallel: two of them restart
// the broker's connections, holding testenv's broker lock exclusively so
// that no other package's test uses the broker meanwhile.
const testBrokerURL = "amqp://guest:guest@127.0.0.1:5672/"

// testBroker returns a Config for a fresh exchange and queue, or stops
// the test as Unavailable when no broker answers.
func testBroker(t *testing.T) Config {
	t.Helper()
	testenv.ShareBroker(t)
	conn, err := amqp.DialConfig(testBrokerURL, amqp.Config{Dial: amqp.DefaultDial(3 * time.Second)})
	if err != nil {
		testenv.Unavailable(t, "RabbitMQ at %s: %v", testBrokerURL, err)
	}
	_ = conn.Close()
	name := fmt.Sprintf("gokoji.test.%s.%d", strings.ReplaceAll(t.Name(), "/", "."), time.Now().UnixNano())
	t.Cleanup(func() {
		admin(t, func(ch *amqp.Channel) error {
			if _, err := ch.QueueDelete(name, false, false, false); err != nil {
				return err
			}
			return ch.ExchangeDelete(name, false, false)
		})
	})
	return Config{
		URL: testBrokerURL, Exchange: name, Queue: name,
		RetryDelay: 10 * time.Millisecond, ReconnectDelay: 50 * time.Millisecond, MaxReconnectDelay: time.Second,
		ConnectionName: "gokoji messages test", Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil)),
	}
}

// testWriter sends log lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// admin runs f on a channel of a connection of its own, which survives
// nothing: the tests that drop connections call it afresh each time.
func admin(t *testing.T, f func(ch *amqp.Channel) error) {
	t.Helper()
	conn, err := amqp.Dial(testBrokerURL)
	require.NoError(t, err)
	defer conn.Close()
	ch, err := conn.Channel()
	require.NoError(t, err)
	require.NoError(t, f(ch))
}

// inspect returns the queue's ready messages and consumers; ok is false
// while the queue does not exist.
func inspect(t *testing.T, queue string) (q amqp.Queue, ok bool) {
	t.Helper()
	conn, err := amqp.Dial(testBrokerURL)
	require.NoError(t, err)
	defer conn.Close()
	ch, err := conn.Channel()
	require.NoError(t, err)
	q, err = ch.QueueDeclarePassive(queue, true, false, false, false, nil)
	return q, err == nil
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startConsumer runs Consume until the returned stop is called, which
// waits for Consume to return and checks that it returned nil.
func startConsumer(t *testing.T, cfg Config, h Handler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Consume(ctx, cfg, h) }()
	waitFor(t, 10*time.Second, "the consumer to consume "+cfg.Queue, func() bool {
		q, ok := inspect(t, cfg.Queue)
		return ok && q.Consumers == 1
	})
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				assert.NoError(t, err, "Consume")
			case <-time.After(10 * time.Second):
				t.Error("Consume did not return after its context ended")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// checkGoroutines fails the test if goroutines started after baseline
// are still running a few seconds after everything was stopped.
func checkGoroutines(t *testing.T, baseline int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			var buf bytes.Buffer
			_ = pprof.Lookup("goroutine").WriteTo(&buf, 1)
			t.Fatalf("%d goroutines left running, %d before:\n%s", runtime.NumGoroutine(), baseline, buf.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// baseline counts goroutines once those of earlier connections are gone.
func baseline() int {
	time.Sleep(100 * time.Millisecond)
	return runtime.NumGoroutine()
}

// received collects what a handler was called with.
type received struct {
	mu         sync.Mutex
	events     []Event
	deliveries []Delivery
	handled    map[string]int // successful handler calls per message ID
}

func (r *received) add(ctx context.Context, ev Event, ok bool) {
	d, _ := DeliveryFromContext(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	r.deliveries = append(r.deliveries, *d)
	if ok {
		if r.handled == nil {
			r.handled = map[string]int{}
		}
		r.handled[d.MessageID]++
	}
}

func (r *received) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.handled)
}

// times returns how many handler calls succeeded on the message with ID id.
func (r *received) times(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.handled[id]
}

// Every kind of event goes through the broker and comes back the same,
// with protonmsg's routing key and headers; nothing is left behind.
func TestPublishConsumeRoundTrip(t *testing.T) {
	cfg := testBroker(t)
	before := baseline()
	ctx := context.Background()

	var got received
	stop := startConsumer(t, cfg, func(ctx context.Context, ev Event) error {
		got.add(ctx, ev, true)
		return nil
	})
	pub, err := NewPublisher(ctx, cfg)
	require.NoError(t, err)

	names := protonFixtureNames(t)
	var sent []Event
	for _, name := range names {
		ev := loadProton(t, name).parse(t)
		require.NoError(t, pub.Publish(ctx, ev), name)
		sent = append(sent, ev)
	}
	waitFor(t, 10*time.Second, "every event", func() bool { return got.count() == len(sent) })
	stop()
	require.NoError(t, pub.Close())
	assert.ErrorIs(t, pub.Publish(ctx, sent[0]), ErrPublisherClosed)

	assert.Equal(t, sent, got.events)
	for i, d := range got.deliveries {
		m, err := EncodeProton(sent[i])
		require.NoError(t, err)
		assert.Equal(t, "koji."+m.Topic, d.Message.Topic, names[i])
		assert.Equal(t, string(sent[i].Kind()), d.Message.Properties["type"], names[i])
		assert.Equal(t, m.Body, d.Message.Body, names[i])
		assert.Len(t, d.MessageID, 36)
		assert.Equal(t, 1, d.Attempt)
		assert.False(t, d.Redelivered)
	}
	q, ok := inspect(t, cfg.Queue)
	require.True(t, ok)
	assert.Equal(t, 0, q.Messages, "messages left in the queue")
	checkGoroutines(t, before)
}

func tagEvent(n int) *Tag {
	return &Tag{
		Tag:   &koji.Tag{ID: 1, Name: "f43"},
		Build: &koji.Build{ID: n, Name: "bash", Version: "5.2", Release: fmt.Sprint(n), State: koji.BuildComplete},
		User:  &koji.User{ID: 2, Name: "kojiadmin"},
	}
}

// A failing handler gets the message again, until it succeeds or
// MaxDeliveries is reached; then the message is dead-lettered.
func TestConsumeRedeliversAfterHandlerError(t *testing.T) {
	cfg := testBroker(t)
	dlq := cfg.Queue + ".dead"
	cfg.DeadLetterExchange = dlq
	cfg.MaxDeliveries = 3
	admin(t, func(ch *amqp.Channel) error {
		if err := ch.ExchangeDeclare(dlq, amqp.ExchangeFanout, false, true, false, false, nil); err != nil {
			return err
		}
		if _, err := ch.QueueDeclare(dlq, false, true, false, false, nil); err != nil {
			return err
		}
		return ch.QueueBind(dlq, "", dlq, false, nil)
	})
	before := baseline()
	ctx := context.Background()

	var got received
	stop := startConsumer(t, cfg, func(ctx context.Context, ev Event) error {
		d, _ := DeliveryFromContext(ctx)
		release := ev.(*Tag).Build.Release
		ok := release == "1" && d.Attempt == 2 // fails once, then succeeds
		got.add(ctx, ev, ok)
		if !ok {
			return fmt.Errorf("failing %s on attempt %d", release, d.Attempt)
		}
		return nil
	})
	pub, err := NewPublisher(ctx, cfg)
	require.NoError(t, err)
	require.NoError(t, pub.Publish(ctx, tagEvent(1)))
	require.NoError(t, pub.Publish(ctx, tagEvent(2))) // always fails
	require.NoError(t, pub.Close())

	waitFor(t, 10*time.Second, "the failing message in the dead-letter queue", func() bool {
		q, _ := inspect(t, dlq)
		return q.Messages == 1
	})
	stop()

	got.mu.Lock()
	defer got.mu.Unlock()
	var attempts = map[string][]int{}
	for i, d := range got.deliveries {
		release := got.events[i].(*Tag).Build.Release
		attempts[release] = append(attempts[release], d.Attempt)
		assert.Equal(t, d.Attempt > 1, d.Redelivered, "redelivered flag on attempt %d", d.Attempt)
	}
	assert.Equal(t, map[string][]int{"1": {1, 2}, "2": {1, 2, 3}}, attempts)
	assert.Len(t, got.handled, 1)
	q, _ := inspect(t, cfg.Queue)
	assert.Equal(t, 0, q.Messages)
	admin(t, func(ch *amqp.Channel) error {
		d, ok, err := ch.Get(dlq, true)
		require.True(t, ok)
		ev, perr := ParseProton(d.RoutingKey, d.Headers, d.Body)
		require.NoError(t, perr)
		assert.Equal(t, "2", ev.(*Tag).Build.Release)
		return err
	})
	checkGoroutines(t, before)
}

// A message that is no readable event is rejected at once; the handler
// never sees it and the messages after it flow.
func TestConsumeRejectsUnreadable(t *testing.T) {
	cfg := testBroker(t)
	var got received
	startConsumer(t, cfg, func(ctx context.Context, ev Event) error {
		got.add(ctx, ev, true)
		return nil
	})
	admin(t, func(ch *amqp.Channel) error {
		return ch.Publish(cfg.Exchange, "koji.build.tag", false, false, amqp.Publishing{
			Headers: amqp.Table{"type": "Tag"}, Body: []byte(`{"build": "not an object"}`), MessageId: "bad",
		})
	})
	ctx := context.Background()
	pub, err := NewPublisher(ctx, cfg)
	require.NoError(t, err)
	defer pub.Close()
	require.NoError(t, pub.Publish(ctx, tagEvent(1)))
	waitFor(t, 10*time.Second, "the good message", func() bool { return got.count() == 1 })
	assert.NotContains(t, got.handled, "bad")
	q, _ := inspect(t, cfg.Queue)
	assert.Equal(t, 0, q.Messages)
}

// A Fedora consumer reads the Fedora bus's topics.
func TestConsumeFedora(t *testing.T) {
	cfg := testBroker(t)
	cfg.Format = Fedora
	var got received
	startConsumer(t, cfg, func(ctx context.Context, ev Event) error {
		got.add(ctx, ev, true)
		return nil
	})
	f := loadFedora(t, "tag")
	body, err := json.Marshal(f.Body)
	require.NoError(t, err)
	admin(t, func(ch *amqp.Channel) error {
		return ch.Publish(cfg.Exchange, f.RoutingKey, false, false, amqp.Publishing{
			Headers: amqp.Table(f.Headers), Body: body, MessageId: "fedora-1", ContentType: "application/json",
		})
	})
	waitFor(t, 10*time.Second, "the Fedora message", func() bool { return got.count() == 1 })
	got.mu.Lock()
	defer got.mu.Unlock()
	assert.Equal(t, "perl-GooCanvas2-0.06-17.el9", got.events[0].(*Tag).Build.NVR)
	assert.Equal(t, "koji_fedoramessaging.tag.TagV1", got.deliveries[0].Message.Properties["fedora_messaging_schema"])
}

// restartTest publishes messages, drops the broker's connections with
// interrupt while the consumer is in the middle of them, publishes more
// while the broker is away, and checks that each message reached the
// handler's success, once each after removing the duplicates that
// at-least-once delivery allows, and that the message whose
// acknowledgement the interruption lost came back and was handled again.
// brokerDown tells whether the broker refuses connections until resume.
func restartTest(t *testing.T, brokerDown bool, interrupt func(t *testing.T), resume func(t *testing.T)) {
	cfg := testBroker(t)
	before := baseline()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	const beforeRestart, afterRestart = 10, 5
	gate := make(chan struct{})
	var openGate sync.Once
	var got received
	var blocked sync.Once
	inHandler := make(chan struct{})
	var lostID string // message 4's ID, set before inHandler closes
	stop := startConsumer(t, cfg, func(ctx context.Context, ev Event) error {
		if ev.(*Tag).Build.ID == 4 {
			blocked.Do(func() {
				d, _ := DeliveryFromContext(ctx)
				lostID = d.MessageID
				close(inHandler)
				<-gate // the broker goes away meanwhile: this ack is lost
			})
		}
		got.add(ctx, ev, true)
		return nil
	})
	t.Cleanup(func() { openGate.Do(func() { close(gate) }) }) // runs before stop
	pub, err := NewPublisher(ctx, cfg)
	require.NoError(t, err)
	defer pub.Close()
	for i := range beforeRestart {
		require.NoError(t, pub.Publish(ctx, tagEvent(i)))
	}
	select {
	case <-inHandler:
	case <-ctx.Done():
		t.Fatal("the handler never got message 4")
	}

	start := time.Now()
	interrupt(t)
	if !brokerDown {
		// The consumer cannot reconnect while its handler holds message 4:
		// once the queue has no consumer, the broker has closed the
		// channel and requeued message 4, so its ack cannot reach it.
		// (stop_app returns only once every connection is closed.)
		waitFor(t, 10*time.Second, "the broker to drop the consumer", func() bool {
			q, ok := inspect(t, cfg.Queue)
			return ok && q.Consumers == 0
		})
	}
	openGate.Do(func() { close(gate) })
	published := make(chan error, 1)
	go func() {
		for i := beforeRestart; i < beforeRestart+afterRestart; i++ {
			if err := pub.Publish(ctx, tagEvent(i)); err != nil {
				published <- err
				return
			}
		}
		published <- nil
	}()
	if brokerDown {
		// A Publish gives up with its context, even while another one is
		// reconnecting.
		short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		err := pub.Publish(short, tagEvent(-1))
		cancel()
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	}
	resume(t)
	require.NoError(t, <-published)
	waitFor(t, time.Minute, "every message", func() bool { return got.count() == beforeRestart+afterRestart })
	t.Logf("all %d messages handled %v after the interruption", beforeRestart+afterRestart, time.Since(start))
	// Message 4 was handled once already; its ack was lost, so the broker
	// must deliver it again: at least once, not at most once.
	waitFor(t, time.Minute, "message 4, whose ack was lost, to be redelivered and handled again",
		func() bool { return got.times(lostID) >= 2 })
	stop()
	require.NoError(t, pub.Close())

	got.mu.Lock()
	ids := map[int]bool{}
	var lost []Delivery
	for i, ev := range got.events {
		ids[ev.(*Tag).Build.ID] = true
		if got.deliveries[i].MessageID == lostID {
			assert.Equal(t, 4, ev.(*Tag).Build.ID)
			lost = append(lost, got.deliveries[i])
		}
	}
	calls := len(got.events)
	got.mu.Unlock()
	assert.Len(t, ids, beforeRestart+afterRestart)
	require.GreaterOrEqual(t, len(lost), 2, "handlings of message 4")
	assert.False(t, lost[0].Redelivered, "message 4's first delivery")
	for _, d := range lost[1:] {
		assert.True(t, d.Redelivered, "message 4 delivered again")
	}
	t.Logf("%d handler calls for %d messages", calls, len(ids))
	q, _ := inspect(t, cfg.Queue)
	assert.Equal(t, 0, q.Messages)
	checkGoroutines(t, before)
}

// rabbitmqctl runs the broker's control tool; the caller has checked with
// testenv.Command that it is installed.
func rabbitmqctl(t *testing.T, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	out, err := exec.CommandContext(ctx, "rabbitmqctl", args...).CombinedOutput()
	require.NoError(t, err, "rabbitmqctl %s: %s", strings.Join(args, " "), out)
	t.Logf("rabbitmqctl %s took %v", args[0], time.Since(start).Round(time.Millisecond))
}

// The broker closes every connection (as when an operator forces them
// closed, or a network failure): both sides reconnect.
func TestBrokerClosesConnections(t *testing.T) {
	testenv.Command(t, "rabbitmqctl")
	testenv.DisruptBroker(t) // it closes other packages' connections too
	restartTest(t, false, func(t *testing.T) {
		rabbitmqctl(t, "close_all_connections", "gokoji messages test")
	}, func(*testing.T) {})
}

// The broker restarts (its application stops and starts again, dropping
// every connection and keeping durable queues and persistent messages).
func TestBrokerRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts the broker; skipped with -short")
	}
	testenv.Command(t, "rabbitmqctl")
	testenv.DisruptBroker(t)
	restartTest(t, true, func(t *testing.T) {
		t.Cleanup(func() { // never leave the broker stopped
			_ = exec.Command("rabbitmqctl", "start_app").Run()
		})
		rabbitmqctl(t, "stop_app")
	}, func(t *testing.T) {
		time.Sleep(time.Second) // publishes wait for the broker meanwhile
		rabbitmqctl(t, "start_app")
	})
}

// A queue that exists with other arguments is a configuration the broker
// refuses for good: Consume returns the error instead of retrying.
func TestConsumeReturnsPermanentError(t *testing.T) {
	cfg := testBroker(t)
	admin(t, func(ch *amqp.Channel) error {
		_, err := ch.QueueDeclare(cfg.Queue, true, false, false, false, amqp.Table{"x-max-length": int32(5)})
		return err
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := Consume(ctx, cfg, func(context.Context, Event) error { return nil })
	var aerr *amqp.Error
	require.ErrorAs(t, err, &aerr)
	assert.Equal(t, amqp.PreconditionFailed, aerr.Code)
	assert.NoError(t, ctx.Err())
}

// Publish is safe for concurrent use, and confirms each message.
func TestPublishConcurrently(t *testing.T) {
	cfg := testBroker(t)
	var got received
	startConsumer(t, cfg, func(ctx context.Context, ev Event) error {
		got.add(ctx, ev, true)
		return nil
	})
	ctx := context.Background()
	pub, err := NewPublisher(ctx, cfg)
	require.NoError(t, err)
	defer pub.Close()
	const publishers, each = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, publishers*each)
	for p := range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				errs <- pub.Publish(ctx, tagEvent(p*each+i))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	waitFor(t, 10*time.Second, "every message", func() bool { return got.count() == publishers*each })
	got.mu.Lock()
	defer got.mu.Unlock()
	ids := map[int]bool{}
	for _, ev := range got.events {
		ids[ev.(*Tag).Build.ID] = true
	}
	assert.Len(t, ids, publishers*each)
}
