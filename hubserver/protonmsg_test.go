package hubserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/messages"
	"github.com/gokoji/gokoji/xmlrpc"
)

const testBrokerAddr = "127.0.0.1:5672"

// brokerQueue declares an exchange and a queue of the test's own on the
// RabbitMQ server, the queue bound to every koji.* message, and returns
// the messages.Config publishing there and the queue's deliveries. The
// test is Unavailable when no broker answers.
func brokerQueue(t *testing.T) (messages.Config, <-chan amqp.Delivery) {
	t.Helper()
	testenv.ShareBroker(t)
	url := "amqp://guest:guest@" + testBrokerAddr + "/"
	conn, err := amqp.DialConfig(url, amqp.Config{Dial: amqp.DefaultDial(3 * time.Second)})
	if err != nil {
		testenv.Unavailable(t, "RabbitMQ at %s: %v", testBrokerAddr, err)
	}
	t.Cleanup(func() { conn.Close() })
	ch, err := conn.Channel()
	require.NoError(t, err)
	name := fmt.Sprintf("gokoji.hubtest.%d", time.Now().UnixNano())
	// Declared as the Publisher declares it.
	require.NoError(t, ch.ExchangeDeclare(name, amqp.ExchangeTopic, true, false, false, false, nil))
	_, err = ch.QueueDeclare(name, false, true, true, false, nil)
	require.NoError(t, err)
	require.NoError(t, ch.QueueBind(name, "koji.#", name, false, nil))
	deliveries, err := ch.Consume(name, "", true, true, false, false, nil)
	require.NoError(t, err)
	t.Cleanup(func() {
		ch.ExchangeDelete(name, false, false)
	})
	return messages.Config{URL: url, Exchange: name, ReconnectDelay: 50 * time.Millisecond,
		MaxReconnectDelay: 200 * time.Millisecond}, deliveries
}

// next returns the next delivery, failing the test after a while.
func next(t *testing.T, deliveries <-chan amqp.Delivery) amqp.Delivery {
	t.Helper()
	select {
	case d := <-deliveries:
		return d
	case <-time.After(15 * time.Second):
		t.Fatal("no message arrived")
		return amqp.Delivery{}
	}
}

// taskEvent parses a delivery as ParseProton reads a protonmsg message
// and returns the task state change it announces.
func taskEvent(t *testing.T, d amqp.Delivery) *messages.TaskStateChange {
	t.Helper()
	ev, err := messages.ParseProton("topic://"+d.RoutingKey, d.Headers, d.Body)
	require.NoError(t, err)
	tsc, ok := ev.(*messages.TaskStateChange)
	require.True(t, ok, "%T", ev)
	return tsc
}

// keys returns the sorted keys of a JSON object.
func keys(t *testing.T, m any) []string {
	obj, ok := m.(map[string]any)
	require.True(t, ok, "%T", m)
	out := make([]string, 0, len(obj))
	for k := range obj {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestProtonmsgTaskMessages(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		cfg, deliveries := brokerQueue(t)
		ctx := context.Background()
		kh := startKoji(t, dsn, func(c *hubserver.KojiConfig) { c.Protonmsg = hubserver.ProtonmsgConfig{Broker: &cfg} })
		admin := kh.sslClient(t, "")
		// Tasks of method "veto" fail in preCommit, after their message
		// was queued.
		var mu sync.Mutex
		var lastMethod any
		require.NoError(t, kh.koji.RegisterCallback("postTaskStateChange", func(ctx context.Context, _ string, kw map[string]any) error {
			mu.Lock()
			defer mu.Unlock()
			lastMethod = kw["info"].(map[string]any)["method"]
			return nil
		}, hubserver.CallbackOptions{}))
		require.NoError(t, kh.koji.RegisterCallback("preCommit", func(context.Context, string, map[string]any) error {
			mu.Lock()
			defer mu.Unlock()
			if lastMethod == "veto" {
				return errors.New("vetoed")
			}
			return nil
		}, hubserver.CallbackOptions{}))

		// A committed makeTask announces task.free as protonmsg does.
		id, err := admin.MakeTask(ctx, "sleep", []any{5}, nil)
		require.NoError(t, err)
		d := next(t, deliveries)
		assert.Equal(t, "koji.task.free", d.RoutingKey)
		assert.Equal(t, "application/json", d.ContentType)
		assert.Equal(t, amqp.Table{"type": "TaskStateChange", "id": int64(id), "parent": nil, "method": "sleep",
			"attribute": "state", "old": nil, "new": "FREE"}, d.Headers)
		var body map[string]any
		require.NoError(t, json.Unmarshal(d.Body, &body))
		request, err := xmlrpc.MarshalCall("sleep", 5)
		require.NoError(t, err)
		info := body["info"].(map[string]any)
		assert.Equal(t, string(request), info["request"], "the raw request document, as make_task passes it")
		assert.EqualValues(t, id, info["id"])
		// The same members as upstream's message (a subtask's, there).
		fx := protonFixture(t, "task.free")
		assert.Equal(t, keys(t, fx["body"]), keys(t, body))
		assert.Equal(t, keys(t, fx["body"].(map[string]any)["info"]), keys(t, info))
		assert.Equal(t, keys(t, fx["properties"]), keys(t, map[string]any(d.Headers)))
		ev := taskEvent(t, d)
		assert.Equal(t, id, ev.Task.ID)
		assert.Equal(t, "sleep", ev.Task.Method)
		assert.Nil(t, ev.Old)
		assert.Equal(t, koji.TaskFree, ev.New)

		// A canceled task announces task.canceled; the completion_ts
		// change that goes with it is not announced.
		require.NoError(t, admin.CancelTask(ctx, id, true))
		d = next(t, deliveries)
		assert.Equal(t, "koji.task.canceled", d.RoutingKey)
		ev = taskEvent(t, d)
		assert.Equal(t, koji.TaskFree, *ev.Old)
		assert.Equal(t, koji.TaskCanceled, ev.New)
		assert.Equal(t, id, ev.Task.ID)

		// A call rolled back announces nothing: the next message is that
		// of the next committed call.
		_, err = admin.MakeTask(ctx, "veto", nil, nil)
		require.ErrorIs(t, err, koji.ErrCallback)
		var res []xmlrpc.MulticallResult
		require.NoError(t, admin.Call(ctx, "multiCall", &res, []any{
			xmlrpc.MulticallCall{Method: "makeTask", Params: []any{"sleep", []any{1}}},
			xmlrpc.MulticallCall{Method: "makeTask", Params: []any{"veto", []any{}}},
			xmlrpc.MulticallCall{Method: "makeTask", Params: []any{"sleep", []any{2}}},
		}))
		require.Len(t, res, 3)
		require.NotNil(t, res[1].Fault)
		var first, third int
		require.NoError(t, res[0].Value.Decode(&first))
		require.NoError(t, res[2].Value.Decode(&third))
		last, err := admin.MakeTask(ctx, "sentinel", nil, nil)
		require.NoError(t, err)
		for _, want := range []int{first, third, last} {
			ev := taskEvent(t, next(t, deliveries))
			assert.Equal(t, want, ev.Task.ID)
			assert.NotEqual(t, "veto", ev.Task.Method)
		}
		select {
		case d := <-deliveries:
			t.Fatalf("unexpected message %s %s", d.RoutingKey, d.Body)
		case <-time.After(100 * time.Millisecond):
		}
	})
}

// protonFixture reads a message of messages/testdata/proton.
func protonFixture(t *testing.T, name string) map[string]any {
	data, err := os.ReadFile(filepath.Join("..", "messages", "testdata", "proton", name+".json"))
	require.NoError(t, err)
	var fx map[string]any
	require.NoError(t, json.Unmarshal(data, &fx))
	return fx
}

// A tcpProxy forwards connections to a target while it is up; down
// closes the listener and every connection, as a broker outage would.
type tcpProxy struct {
	t      *testing.T
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
}

func newProxy(t *testing.T, target string) *tcpProxy {
	p := &tcpProxy{t: t, target: target, addr: "127.0.0.1:0"}
	p.up()
	t.Cleanup(p.down)
	return p
}

func (p *tcpProxy) up() {
	ln, err := net.Listen("tcp", p.addr)
	require.NoError(p.t, err)
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { io.Copy(u, c); u.Close() }()
			go func() { io.Copy(c, u); c.Close() }()
		}
	}()
}

func (p *tcpProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// queued returns the addresses and bodies of the messages in dsn's
// proton_queue.
func queued(t *testing.T, dsn string) []store.ProtonMessage {
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	require.NoError(t, err)
	defer db.Close()
	tx, err := db.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx)
	msgs, err := tx.ProtonMessages(ctx, 1000)
	require.NoError(t, err)
	return msgs
}

func TestProtonmsgBrokerOutage(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		cfg, deliveries := brokerQueue(t)
		ctx := context.Background()
		proxy := newProxy(t, testBrokerAddr)
		cfg.URL = "amqp://guest:guest@" + proxy.addr + "/"
		kh := startKoji(t, dsn, func(c *hubserver.KojiConfig) {
			c.Protonmsg = hubserver.ProtonmsgConfig{Broker: &cfg, ConnectTimeout: time.Second,
				SendTimeout: 2 * time.Second, RetryInterval: -1}
		})
		admin := kh.sslClient(t, "")

		a, err := admin.MakeTask(ctx, "sleep", []any{"a"}, nil)
		require.NoError(t, err)
		assert.Equal(t, a, taskEvent(t, next(t, deliveries)).Task.ID)
		// The broker's confirm of a travels to the hub as a reaches the
		// queue; give it time to arrive before the connection drops, or
		// the hub rightly counts a as unsent and queues it too.
		time.Sleep(300 * time.Millisecond)

		// While the broker is unreachable, calls succeed and their
		// messages wait in proton_queue.
		proxy.down()
		b, err := admin.MakeTask(ctx, "sleep", []any{"b"}, nil)
		require.NoError(t, err)
		require.Eventually(t, func() bool { return len(queued(t, dsn)) == 1 }, 15*time.Second, 50*time.Millisecond)
		q := queued(t, dsn)[0]
		assert.Equal(t, "task.free", q.Address)
		var props map[string]any
		require.NoError(t, json.Unmarshal([]byte(q.Props), &props))
		assert.EqualValues(t, b, props["id"])
		assert.True(t, strings.Contains(q.Body, `"new":"FREE"`), q.Body)

		// The next message sent after the broker is back sends the
		// queued ones after it, as upstream's handle_db_msgs.
		proxy.up()
		c, err := admin.MakeTask(ctx, "sleep", []any{"c"}, nil)
		require.NoError(t, err)
		dc, db := next(t, deliveries), next(t, deliveries)
		assert.Equal(t, c, taskEvent(t, dc).Task.ID)
		evb := taskEvent(t, db)
		assert.Equal(t, b, evb.Task.ID)
		assert.Equal(t, "koji.task.free", db.RoutingKey)
		assert.Equal(t, amqp.Table{"type": "TaskStateChange", "id": int64(b), "parent": nil, "method": "sleep",
			"attribute": "state", "old": nil, "new": "FREE"}, db.Headers, "the queued message keeps its properties")
		// Deleted once the broker confirmed it.
		require.Eventually(t, func() bool { return len(queued(t, dsn)) == 0 }, 5*time.Second, 20*time.Millisecond)
	})
}

func TestProtonmsgRetryInterval(t *testing.T) {
	cfg, deliveries := brokerQueue(t)
	ctx := context.Background()
	proxy := newProxy(t, testBrokerAddr)
	cfg.URL = "amqp://guest:guest@" + proxy.addr + "/"
	dsn := filepath.Join(t.TempDir(), "hub.db")
	proxy.down()
	kh := startKoji(t, dsn, func(c *hubserver.KojiConfig) {
		c.Protonmsg = hubserver.ProtonmsgConfig{Broker: &cfg, ConnectTimeout: time.Second,
			SendTimeout: time.Second, RetryInterval: 200 * time.Millisecond}
	})
	admin := kh.sslClient(t, "")
	// The broker is down from the start: the publisher cannot connect.
	id, err := admin.MakeTask(ctx, "sleep", nil, nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(queued(t, dsn)) == 1 }, 15*time.Second, 50*time.Millisecond)
	// Back up, the queued message goes out with no further call.
	proxy.up()
	assert.Equal(t, id, taskEvent(t, next(t, deliveries)).Task.ID)
	require.Eventually(t, func() bool { return len(queued(t, dsn)) == 0 }, 5*time.Second, 50*time.Millisecond)
}

func TestProtonmsgMaxAge(t *testing.T) {
	cfg, deliveries := brokerQueue(t)
	ctx := context.Background()
	proxy := newProxy(t, testBrokerAddr)
	cfg.URL = "amqp://guest:guest@" + proxy.addr + "/"
	dsn := filepath.Join(t.TempDir(), "hub.db")
	proxy.down()
	kh := startKoji(t, dsn, func(c *hubserver.KojiConfig) {
		c.Protonmsg = hubserver.ProtonmsgConfig{Broker: &cfg, ConnectTimeout: time.Second,
			SendTimeout: time.Second, RetryInterval: -1, MaxAge: 100 * time.Millisecond}
	})
	admin := kh.sslClient(t, "")
	_, err := admin.MakeTask(ctx, "sleep", []any{"old"}, nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(queued(t, dsn)) == 1 }, 15*time.Second, 50*time.Millisecond)
	time.Sleep(200 * time.Millisecond)
	// Queued longer than MaxAge, it is dropped rather than sent late.
	proxy.up()
	id, err := admin.MakeTask(ctx, "sleep", []any{"new"}, nil)
	require.NoError(t, err)
	assert.Equal(t, id, taskEvent(t, next(t, deliveries)).Task.ID)
	require.Eventually(t, func() bool { return len(queued(t, dsn)) == 0 }, 5*time.Second, 20*time.Millisecond)
	select {
	case d := <-deliveries:
		t.Fatalf("the expired message was sent: %s", d.Body)
	case <-time.After(200 * time.Millisecond):
	}
}

func TestProtonmsgDisableQueue(t *testing.T) {
	cfg, deliveries := brokerQueue(t)
	ctx := context.Background()
	proxy := newProxy(t, testBrokerAddr)
	cfg.URL = "amqp://guest:guest@" + proxy.addr + "/"
	dsn := filepath.Join(t.TempDir(), "hub.db")
	proxy.down()
	logs := &recordingHandler{}
	kh := startKoji(t, dsn, func(c *hubserver.KojiConfig) {
		c.Protonmsg = hubserver.ProtonmsgConfig{Broker: &cfg, ConnectTimeout: time.Second,
			SendTimeout: time.Second, DisableQueue: true}
		c.Logger = slog.New(logs)
	})
	admin := kh.sslClient(t, "")
	_, err := admin.MakeTask(ctx, "sleep", []any{"lost"}, nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return logs.has("the queue is disabled") }, 15*time.Second, 20*time.Millisecond)
	assert.Empty(t, queued(t, dsn))
	proxy.up()
	id, err := admin.MakeTask(ctx, "sleep", []any{"sent"}, nil)
	require.NoError(t, err)
	assert.Equal(t, id, taskEvent(t, next(t, deliveries)).Task.ID)
}
