package hubserver_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
)

// The files handler serves the tree read-only with Range requests, and
// nothing outside it: no "..", no symlink out, no writes.
func TestFilesHandler(t *testing.T) {
	top := t.TempDir()
	outside := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(top, "work/tasks/1/1"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(top, "work/tasks/1/1/build.log"), []byte("0123456789"), 0o644))
	require.NoError(t, os.Symlink("work/tasks/1/1/build.log", filepath.Join(top, "inside")))
	require.NoError(t, os.Symlink(filepath.Join(outside, "secret"), filepath.Join(top, "out")))
	require.NoError(t, os.Symlink(outside, filepath.Join(top, "outdir")))
	mux := http.NewServeMux()
	mux.Handle("/kojifiles/", http.StripPrefix("/kojifiles", hubserver.FilesHandler(top)))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	get := func(method, p string, hdr map[string]string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+p, nil)
		require.NoError(t, err)
		req.URL.Opaque = p // keep ".." as sent
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(body)
	}

	code, body := get("GET", "/kojifiles/work/tasks/1/1/build.log", nil)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "0123456789", body)
	code, body = get("GET", "/kojifiles/work/tasks/1/1/build.log", map[string]string{"Range": "bytes=4-"})
	assert.Equal(t, http.StatusPartialContent, code)
	assert.Equal(t, "456789", body)
	code, body = get("GET", "/kojifiles/inside", nil)
	assert.Equal(t, http.StatusOK, code, "a symlink within the tree is followed")
	assert.Equal(t, "0123456789", body)
	code, body = get("GET", "/kojifiles/work/tasks/1/", nil)
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `href="1/"`, "directories are listed")

	for _, p := range []string{"/kojifiles/out", "/kojifiles/outdir/secret", "/kojifiles/../secret",
		"/kojifiles/work/../../" + filepath.Base(outside) + "/secret", "/kojifiles/missing"} {
		code, body = get("GET", p, nil)
		assert.Equal(t, http.StatusNotFound, code, p)
		assert.NotContains(t, body, "secret", p)
	}
	for _, m := range []string{"PUT", "POST", "DELETE"} {
		code, _ = get(m, "/kojifiles/work/tasks/1/1/build.log", nil)
		assert.Equal(t, http.StatusMethodNotAllowed, code, m)
	}
	code, body = get("HEAD", "/kojifiles/work/tasks/1/1/build.log", nil)
	assert.Equal(t, http.StatusOK, code)
	assert.Empty(t, strings.TrimSpace(body))
}
