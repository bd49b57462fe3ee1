package rebuild

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/messages"
)

// BrokerURL is the RabbitMQ the tests use.
const BrokerURL = "amqp://guest:guest@127.0.0.1:5672/"

// BrokerConfigForTest returns a messages configuration on an exchange of
// the test's own, deleted when the test ends with the queues named by
// the exchange's name and each of suffixes; it stops the test as
// Unavailable without a broker. The package's external tests use it too.
func BrokerConfigForTest(t *testing.T, log *slog.Logger, suffixes ...string) messages.Config {
	t.Helper()
	testenv.ShareBroker(t)
	conn, err := amqp.DialConfig(BrokerURL, amqp.Config{Dial: amqp.DefaultDial(3 * time.Second)})
	if err != nil {
		testenv.Unavailable(t, "RabbitMQ at %s: %v", BrokerURL, err)
	}
	conn.Close()
	name := fmt.Sprintf("gokoji.test.rebuild.%d", time.Now().UnixNano())
	t.Cleanup(func() {
		conn, err := amqp.Dial(BrokerURL)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		ch, err := conn.Channel()
		if err != nil {
			t.Error(err)
			return
		}
		for _, s := range suffixes {
			_, _ = ch.QueueDelete(name+s, false, false, false)
		}
		_ = ch.ExchangeDelete(name, false, false)
	})
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return messages.Config{URL: BrokerURL, Exchange: name, RetryDelay: 10 * time.Millisecond,
		ReconnectDelay: 50 * time.Millisecond, MaxReconnectDelay: time.Second, Logger: log}
}

// WaitQueueForTest waits until the broker has the queue (Consume declares
// it), so that what is published next reaches it.
func WaitQueueForTest(t *testing.T, queue string) {
	t.Helper()
	conn, err := amqp.Dial(BrokerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	deadline := time.Now().Add(time.Minute)
	for {
		ch, err := conn.Channel()
		if err != nil {
			t.Fatal(err)
		}
		_, err = ch.QueueDeclarePassive(queue, true, false, false, false, nil)
		ch.Close()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no queue %s: %v", queue, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
