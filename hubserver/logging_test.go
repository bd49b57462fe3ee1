package hubserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/hubserver/hubtest"
	"github.com/gokoji/gokoji/koji"
)

// logBuffer keeps a JSON slog handler's output, written from the hub's
// goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// lines decodes the lines logged so far, refusing a line that names an
// attribute twice.
func (b *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	text := b.buf.String()
	b.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		dec := json.NewDecoder(strings.NewReader(line))
		_, err := dec.Token() // {
		require.NoError(t, err, line)
		m := map[string]any{}
		for dec.More() {
			k, err := dec.Token()
			require.NoError(t, err, line)
			var v any
			require.NoError(t, dec.Decode(&v), line)
			require.NotContains(t, m, k, "attribute given twice: %s", line)
			m[k.(string)] = v
		}
		out = append(out, m)
	}
	return out
}

// find returns the first line with message msg and method.
func find(t *testing.T, lines []map[string]any, msg, method string) map[string]any {
	t.Helper()
	for _, l := range lines {
		if l["msg"] == msg && l["method"] == method {
			return l
		}
	}
	require.Failf(t, "no such log line", "%q for %s in %v", msg, method, lines)
	return nil
}

// caller is a line's method, user and session attributes.
func caller(l map[string]any) []any { return []any{l["method"], l["user"], l["session"]} }

// Every line the hub logs about a request names its method, user and
// session: a normal call, a login (whose own lines name the new session),
// and a call whose session is refused (which names the session claimed).
func TestKojiLogLinesNameCaller(t *testing.T) {
	var logs logBuffer
	kh := startKoji(t, filepath.Join(t.TempDir(), "hub.db"), func(c *hubserver.KojiConfig) { c.Logger = logs.logger() })
	admin := kh.sslClient(t, "")
	s, _ := admin.Session()
	sid := float64(s.ID)
	require.NoError(t, admin.Call(context.Background(), "getLoggedInUser", nil))
	bogus := &raw{kh: kh, id: s.ID, key: "1-bogus"}
	bogus.fault(t, 0, koji.ErrAuth, "getLoggedInUser")
	require.NoError(t, kh.client(t).Call(context.Background(), "hello", nil))

	lines := logs.lines(t)
	for _, l := range lines {
		if l["msg"] == "hub listening" || l["msg"] == "hub stopped" {
			continue
		}
		for _, key := range []string{"method", "user", "session"} {
			assert.Contains(t, l, key, "%v", l)
		}
	}
	assert.Equal(t, []any{"sslLogin", "kojiadmin", sid}, caller(find(t, lines, "logged in", "sslLogin")))
	assert.Equal(t, []any{"sslLogin", "kojiadmin", sid}, caller(find(t, lines, "method completed", "sslLogin")),
		"the login's last line names the session it made")
	assert.Equal(t, []any{"sslLogin", "", 0.0}, caller(find(t, lines, "handling method", "sslLogin")))
	assert.Equal(t, []any{"getLoggedInUser", "kojiadmin", sid}, caller(find(t, lines, "handling method", "getLoggedInUser")))
	assert.Equal(t, []any{"getLoggedInUser", "kojiadmin", sid}, caller(find(t, lines, "method completed", "getLoggedInUser")))
	rejected := find(t, lines, "session rejected", "getLoggedInUser")
	assert.Equal(t, []any{"getLoggedInUser", "", sid}, caller(rejected), "the session the request claims")
	assert.Equal(t, true, rejected["found"])
	assert.Equal(t, []any{"getLoggedInUser", "", 0.0}, caller(find(t, lines, "session check failed", "getLoggedInUser")))
	assert.Equal(t, []any{"hello", "", 0.0}, caller(find(t, lines, "method completed", "hello")))
}

// The transaction's failures are logged with the request's caller.
func TestHubLogTransactionFailuresNameCaller(t *testing.T) {
	var logs logBuffer
	st := &fakeStore{commitErr: errors.New("disk full"), rollbackErr: errors.New("connection lost")}
	h := hubtest.Start(t, hubserver.Config{
		Store:  st,
		Logger: logs.logger(),
		Authenticate: func(ctx context.Context, r *http.Request) (*hubserver.Session, error) {
			return &hubserver.Session{ID: 7, UserID: 3, UserName: "bob"}, nil
		},
	}, func(h *hubserver.Hub) {
		require.NoError(t, h.Register(hubserver.Method{Name: "noop", Func: func(ctx context.Context) error { return nil }}))
	})
	c, err := koji.NewClient(h.URL())
	require.NoError(t, err)
	assert.Error(t, c.Call(context.Background(), "noop", nil))
	st.beginErr = errors.New("no database")
	assert.Error(t, c.Call(context.Background(), "noop", nil))

	lines := logs.lines(t)
	assert.Equal(t, []any{"noop", "bob", 7.0}, caller(find(t, lines, "commit failed", "noop")))
	assert.Equal(t, []any{"noop", "bob", 7.0}, caller(find(t, lines, "rollback failed", "noop")))
	assert.Equal(t, []any{"noop", "", 0.0}, caller(find(t, lines, "cannot begin transaction", "noop")),
		"no session is checked before the transaction begins")
}
