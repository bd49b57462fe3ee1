package xmlrpc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/xmlrpc"
	"github.com/stretchr/testify/require"
)

// pyTimeout bounds one run of the Python peer.
const pyTimeout = 2 * time.Minute

// pyRequirePython skips the test (fails it under CI=true) when python3 is
// missing, before it does any work.
func pyRequirePython(t *testing.T) {
	t.Helper()
	testenv.Command(t, "python3")
}

// pyRun runs testdata/pypeer.py with args and returns its stdout, which by
// the peer's contract is one JSON object. The test is skipped (failed
// under CI=true) when python3 is missing.
func pyRun(t *testing.T, args ...string) []byte {
	t.Helper()
	python := testenv.Command(t, "python3")
	script, err := filepath.Abs(filepath.Join("testdata", "pypeer.py"))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), pyTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, append([]string{script}, args...)...)
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
	require.NoError(t, err, "pypeer.py %s failed after %v; stderr:\n%s", strings.Join(args, " "), time.Since(start), pyTrunc(stderr.Bytes(), 4000))
	if stderr.Len() > 0 {
		t.Logf("pypeer.py %s wrote to stderr:\n%s", args[0], pyTrunc(stderr.Bytes(), 4000))
	}
	return stdout.Bytes()
}

// pyStatuses runs a per-document subcommand (check-equal or reencode) over
// dir and returns the status of each document.
func pyStatuses(t *testing.T, subcommand, dir string) map[string]string {
	t.Helper()
	out := pyRun(t, subcommand, dir)
	var result map[string]string
	require.NoError(t, json.Unmarshal(out, &result), "pypeer.py %s output:\n%s", subcommand, pyTrunc(out, 4000))
	return result
}

// pyCheckStatuses reports every document in names whose status is not
// "ok" (or is missing), calling show for it to log the documents involved,
// and any status for a document not in names. It returns the names that
// are ok.
func pyCheckStatuses(t *testing.T, what string, results map[string]string, names []string, show func(name string)) []string {
	t.Helper()
	var ok []string
	want := make(map[string]bool, len(names))
	for _, name := range names {
		want[name] = true
		status, found := results[name]
		switch {
		case !found:
			t.Errorf("%s %s: no result from Python", what, name)
		case status != "ok":
			t.Errorf("%s %s: %s", what, name, status)
			if show != nil {
				show(name)
			}
		default:
			ok = append(ok, name)
		}
	}
	for name, status := range results {
		if !want[name] {
			t.Errorf("%s: unexpected result for %s: %s", what, name, status)
		}
	}
	return ok
}

// pyLogFiles logs the named files of dir, each truncated, for a failure.
func pyLogFiles(t *testing.T, dir string, files ...string) {
	t.Helper()
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Logf("%s: %v", f, err)
			continue
		}
		t.Logf("%s (%d bytes):\n%s", f, len(data), pyTrunc(data, 3000))
	}
}

// pyTrunc returns b as text, cut to about n bytes.
func pyTrunc(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return fmt.Sprintf("%s\n… (%d more bytes)", b[:n], len(b)-n)
}

func pyWrite(t *testing.T, path string, data []byte) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, data, 0o644))
}

// pyDecodeCall decodes a method call generically: its parameters decoded
// into any, and its keyword arguments, if any, into a map.
func pyDecodeCall(data []byte) (method string, params []any, kwargs map[string]any, err error) {
	call, err := xmlrpc.DecodeCall(data)
	if err != nil {
		return "", nil, nil, err
	}
	for i, raw := range call.Params {
		var v any
		if err := raw.Decode(&v); err != nil {
			return "", nil, nil, fmt.Errorf("param %d: %w", i, err)
		}
		params = append(params, v)
	}
	if call.Kwargs != nil {
		kwargs = make(map[string]any, len(call.Kwargs))
		for k, raw := range call.Kwargs {
			var v any
			if err := raw.Decode(&v); err != nil {
				return "", nil, nil, fmt.Errorf("kwarg %q: %w", k, err)
			}
			kwargs[k] = v
		}
	}
	return call.Method, params, kwargs, nil
}

// pyReencodeCall decodes a method call and encodes it again, keyword
// arguments included.
func pyReencodeCall(data []byte) ([]byte, error) {
	method, params, kwargs, err := pyDecodeCall(data)
	if err != nil {
		return nil, err
	}
	return xmlrpc.MarshalCall(method, xmlrpc.AppendKwargs(params, kwargs)...)
}

// pyReencodeResponse decodes a method response or fault and encodes it again.
func pyReencodeResponse(data []byte) ([]byte, error) {
	var v any
	err := xmlrpc.DecodeResponse(data, &v)
	var fault *xmlrpc.Fault
	if errors.As(err, &fault) {
		return xmlrpc.MarshalFault(&xmlrpc.Fault{Code: fault.Code, String: fault.String})
	}
	if err != nil {
		return nil, err
	}
	return xmlrpc.MarshalResponse(v)
}

// pyDeepEqual compares two generically decoded values strictly, as the
// Python peer does: NaN equals NaN, -0.0 is not 0.0, and types must match
// (bool is not int64, int64 is not float64). An empty []byte equals a nil
// one, since base64 cannot tell them apart. It returns "" when a and b are
// equal, else a description of the first difference.
func pyDeepEqual(a, b any) string { return pyDiff(a, b, "") }

func pyDiff(a, b any, path string) string {
	at := func() string {
		if path == "" {
			return "value"
		}
		return path
	}
	if fmt.Sprintf("%T", a) != fmt.Sprintf("%T", b) {
		return fmt.Sprintf("%s: %T %s != %T %s", at(), a, pyShort(a), b, pyShort(b))
	}
	switch x := a.(type) {
	case nil:
		return ""
	case bool, int64, string:
		if a != b {
			return fmt.Sprintf("%s: %s != %s", at(), pyShort(a), pyShort(b))
		}
	case float64:
		y := b.(float64)
		equal := (math.IsNaN(x) && math.IsNaN(y)) || (x == y && math.Signbit(x) == math.Signbit(y))
		if !equal {
			return fmt.Sprintf("%s: %v != %v", at(), x, y)
		}
	case []byte:
		if !bytes.Equal(x, b.([]byte)) {
			return fmt.Sprintf("%s: %s != %s", at(), pyShort(a), pyShort(b))
		}
	case time.Time:
		if !x.Equal(b.(time.Time)) {
			return fmt.Sprintf("%s: %v != %v", at(), x, b)
		}
	case []any:
		y := b.([]any)
		if (x == nil) != (y == nil) {
			return fmt.Sprintf("%s: %#v != %#v", at(), x, y)
		}
		if len(x) != len(y) {
			return fmt.Sprintf("%s: length %d != %d", at(), len(x), len(y))
		}
		for i := range x {
			if d := pyDiff(x[i], y[i], fmt.Sprintf("%s[%d]", path, i)); d != "" {
				return d
			}
		}
	case map[string]any:
		y := b.(map[string]any)
		if (x == nil) != (y == nil) {
			return fmt.Sprintf("%s: %#v != %#v", at(), x, y)
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
			if _, ok := y[k]; !ok {
				return fmt.Sprintf("%s: member %q missing from the second", at(), k)
			}
		}
		for k := range y {
			if _, ok := x[k]; !ok {
				return fmt.Sprintf("%s: member %q missing from the first", at(), k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			if d := pyDiff(x[k], y[k], fmt.Sprintf("%s[%q]", path, k)); d != "" {
				return d
			}
		}
	default:
		return fmt.Sprintf("%s: unexpected type %T", at(), a)
	}
	return ""
}

func pyShort(v any) string {
	s := fmt.Sprintf("%#v", v)
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}
