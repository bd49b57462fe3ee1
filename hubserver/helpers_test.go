package hubserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/koji"
)

type reply struct {
	status int
	header http.Header
	body   []byte
}

func post(t *testing.T, client *http.Client, url, contentType string, body []byte) reply {
	t.Helper()
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", contentType)
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return reply{resp.StatusCode, resp.Header, b}
}

// testMethods registers methods named and answering as the ones the
// recorded multicall and wrong_arg_count exchanges called on upstream.
func testMethods(h *hubserver.Hub) {
	err := h.Register(
		hubserver.Method{
			Name: "getTag", PyName: "get_tag",
			Args: []hubserver.Arg{{Name: "tagInfo"}, {Name: "strict", Default: false},
				{Name: "event", Default: hubserver.None}, {Name: "blocked", Default: false}},
			Doc: "Get tag information",
			Func: func(ctx context.Context, tagInfo any, strict bool, event *int, blocked bool) (map[string]any, error) {
				if tagInfo != "anchor-build" {
					return nil, nil
				}
				if tx, ok := hubserver.TxFrom(ctx).(*fakeTx); ok {
					tx.log("write getTag")
				}
				return map[string]any{"arches": "x86_64", "id": 2, "locked": false, "maven_include_all": false,
					"maven_support": false, "name": "anchor-build", "perm": nil, "perm_id": nil, "extra": map[string]any{}}, nil
			},
		},
		hubserver.Method{
			Name: "getBuild", PyName: "get_build",
			Args: []hubserver.Arg{{Name: "buildInfo"}, {Name: "strict", Default: false}},
			Func: func(ctx context.Context, buildInfo any, strict bool) (any, error) {
				if strict {
					return nil, &koji.Fault{Code: int(koji.ErrGeneric), String: fmt.Sprintf("No such build: %s", pyRepr(buildInfo))}
				}
				return nil, nil
			},
		},
		hubserver.Method{
			Name: "fault", PyName: "RootExports.fault", Bound: true,
			Func: func(ctx context.Context) error { return errors.New("test exception") },
		},
		hubserver.Method{
			Name: "error", PyName: "RootExports.error", Bound: true,
			Func: func(ctx context.Context) error { return fmt.Errorf("test error: %w", koji.ErrGeneric) },
		},
		hubserver.Method{
			Name: "host.getID", PyName: "HostExports.getID", Bound: true,
			Func: func(ctx context.Context) int { return 7 },
		},
	)
	if err != nil {
		panic(err)
	}
}

func pyRepr(v any) string {
	if s, ok := v.(string); ok {
		return "'" + s + "'"
	}
	return fmt.Sprint(v)
}

// fakeTx records the transaction calls the hub makes.
type fakeTx struct {
	mu                     *sync.Mutex
	calls                  *[]string
	commitErr, rollbackErr error
}

func (tx *fakeTx) log(s string) {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	*tx.calls = append(*tx.calls, s)
}

func (tx *fakeTx) Savepoint(ctx context.Context, name string) error {
	tx.log("savepoint " + name)
	return nil
}

func (tx *fakeTx) RollbackToSavepoint(ctx context.Context, name string) error {
	tx.log("rollback to " + name)
	return nil
}

func (tx *fakeTx) ReleaseSavepoint(ctx context.Context, name string) error {
	tx.log("release " + name)
	return nil
}

func (tx *fakeTx) Commit(ctx context.Context) error {
	tx.log("commit")
	return tx.commitErr
}

func (tx *fakeTx) Rollback(ctx context.Context) error {
	tx.log("rollback")
	return tx.rollbackErr
}

func (tx *fakeTx) NewEvent(ctx context.Context) error {
	tx.log("new event")
	return nil
}

type fakeStore struct {
	mu       sync.Mutex
	calls    []string
	beginErr error
	// commitErr and rollbackErr are what its transactions' Commit and
	// Rollback return.
	commitErr, rollbackErr error
}

func (s *fakeStore) Begin(ctx context.Context) (hubserver.Tx, error) {
	if s.beginErr != nil {
		return nil, s.beginErr
	}
	tx := &fakeTx{mu: &s.mu, calls: &s.calls, commitErr: s.commitErr, rollbackErr: s.rollbackErr}
	tx.log("begin")
	return tx, nil
}

func (s *fakeStore) log() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.calls
	s.calls = nil
	return out
}

// runPython runs testdata/pyclient.py with stdin as JSON input and decodes
// its JSON output into out.
func runPython(t *testing.T, in any, out any, args ...string) {
	t.Helper()
	py := testenv.Command(t, "python3")
	data, err := json.Marshal(in)
	require.NoError(t, err)
	cmd := exec.Command(py, append([]string{"testdata/pyclient.py"}, args...)...)
	cmd.Stdin = bytes.NewReader(data)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	got, err := cmd.Output()
	require.NoError(t, err, stderr.String())
	require.NoError(t, json.Unmarshal(got, out), string(got))
}

var quiet = slog.New(slog.DiscardHandler)
