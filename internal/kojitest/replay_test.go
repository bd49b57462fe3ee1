package kojitest

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every recorded request, sent again as recorded, gets its recorded reply.
func TestEveryExchangeReplays(t *testing.T) {
	all, err := load()
	require.NoError(t, err)
	require.Greater(t, len(all), 90)
	for name, ex := range all {
		require.NotZero(t, ex.order, "%s is listed in INDEX.md", name)
	}
	hub := NewReplayHub(t)
	for _, ex := range hub.exchanges { // in the order recorded
		name := ex.Name
		if ex.HTTPMethod != http.MethodPost || len(ex.Request) == 0 {
			continue
		}
		req, err := http.NewRequest(ex.HTTPMethod, hub.Server.URL+"/kojihub", bytes.NewReader(ex.Request))
		require.NoError(t, err)
		for _, h := range []string{"Content-Type", "Koji-Session-Id"} {
			if v, ok := ex.RequestHeaders[h]; ok {
				req.Header.Set(h, v)
			}
		}
		if ex.Method == "" { // a raw upload: the file and offset pick the exchange
			req.URL.RawQuery = ex.URL[bytes.IndexByte([]byte(ex.URL), '?')+1:]
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err, name)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, ex.Status, resp.StatusCode, name)
		assert.Equal(t, string(ex.Response), string(body), name)
	}
}

func TestUnmatchedRequestFails(t *testing.T) {
	rec := &recordingTB{TB: t}
	hub := NewReplayHub(rec, "hello")
	resp, err := http.Post(hub.URL(), "text/xml", bytes.NewReader(Fixture(t, "getAPIVersion").Request))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	assert.True(t, rec.failed)
}

type recordingTB struct {
	testing.TB
	failed bool
}

func (r *recordingTB) Errorf(string, ...any) { r.failed = true }
