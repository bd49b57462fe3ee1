package koji

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash/adler32"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gokoji/gokoji/internal/kojitest"
	"github.com/gokoji/gokoji/xmlrpc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTaskOutputReplaysRecorded(t *testing.T) {
	hub := kojitest.NewReplayHub(t, "downloadTaskOutput")
	router := &filesRouter{pick: func(int, filesSent) string { return hub.Server.URL }}
	c := newFilesClient(t, hub.URL(), router, filesAdminSession, nil)

	r, err := c.TaskOutput(context.Background(), 1, "sleep.log", &TaskOutputOptions{ChunkSize: -1})
	require.NoError(t, err)
	data, err := io.ReadAll(r)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	assert.Equal(t, strings.Repeat("hello from builder1\nline 2\n", 3), string(data))

	sent := router.requests()
	require.Len(t, sent, 1, "size=-1 returns the rest of the file at once")
	assert.Equal(t, string(kojitest.Fixture(t, "downloadTaskOutput").Request), string(sent[0].Body))
}

func taskOutputOffsets(t *testing.T, hub *filesHub) (offsets, sizes []int64) {
	t.Helper()
	for _, call := range hub.methodCalls("downloadTaskOutput") {
		var offset, size int64
		require.NoError(t, call.Kwargs["offset"].Decode(&offset))
		require.NoError(t, call.Kwargs["size"].Decode(&size))
		offsets, sizes = append(offsets, offset), append(sizes, size)
	}
	return offsets, sizes
}

func TestTaskOutputReadsInChunks(t *testing.T) {
	hub := newFilesHub(t)
	content := filesRandom(t, 40)
	hub.tasks[filesKey("", "7", "build.log")] = content
	hub.tasks[filesKey("vol2", "7", "build.log")] = []byte("elsewhere")
	c := newFilesClient(t, hub.url(), nil, filesAdminSession, nil)
	ctx := context.Background()

	r, err := c.TaskOutput(ctx, 7, "build.log", &TaskOutputOptions{Offset: 5, ChunkSize: 16})
	require.NoError(t, err)
	data, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, content[5:], data)
	offsets, sizes := taskOutputOffsets(t, hub)
	assert.Equal(t, []int64{5, 21, 37, 40}, offsets, "until an empty chunk")
	assert.Equal(t, []int64{16, 16, 16, 16}, sizes)

	r, err = c.TaskOutput(ctx, 7, "build.log", &TaskOutputOptions{Volume: "vol2"})
	require.NoError(t, err)
	data, err = io.ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, "elsewhere", string(data))
	calls := hub.methodCalls("downloadTaskOutput")
	var volume string
	require.NoError(t, calls[4].Kwargs["volume"].Decode(&volume))
	assert.Equal(t, "vol2", volume)
	_, sizes = taskOutputOffsets(t, hub)
	assert.Equal(t, int64(16384), sizes[4], "koji watch-logs' chunk by default")

	r, err = c.TaskOutput(ctx, 7, "build.log", &TaskOutputOptions{Offset: -10, ChunkSize: 4, Volume: "DEFAULT"})
	require.NoError(t, err)
	data, err = io.ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, content[30:], data)
	calls = hub.methodCalls("downloadTaskOutput")
	last := calls[len(calls)-1]
	assert.NotContains(t, last.Kwargs, "volume", "DEFAULT is not sent")
	offsets, sizes = taskOutputOffsets(t, hub)
	assert.Equal(t, []int64{-10}, offsets[len(offsets)-1:])
	assert.Equal(t, []int64{-1}, sizes[len(sizes)-1:], "the tail in one call")
}

func TestTaskOutputErrors(t *testing.T) {
	hub := newFilesHub(t)
	hub.tasks[filesKey("", "7", "build.log")] = []byte("0123456789")
	c := newFilesClient(t, hub.url(), nil, filesAdminSession, nil)

	_, err := c.TaskOutput(context.Background(), 7, "missing.log", nil)
	assert.ErrorIs(t, err, ErrGeneric, "a missing file fails at once")

	r, err := c.TaskOutput(context.Background(), 7, "build.log", &TaskOutputOptions{ChunkSize: 4})
	require.NoError(t, err)
	buf := make([]byte, 4)
	_, err = io.ReadFull(r, buf)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	_, err = r.Read(buf)
	assert.ErrorIs(t, err, fs.ErrClosed)

	hub.onCall = func(call *xmlrpc.Call) (any, bool) { return "not base64!", call.Method == "downloadTaskOutput" }
	_, err = c.TaskOutput(context.Background(), 7, "build.log", nil)
	var corrupt base64.CorruptInputError
	assert.ErrorAs(t, err, &corrupt)
}

func TestTaskOutputHonoursCancellation(t *testing.T) {
	hub := newFilesHub(t)
	hub.tasks[filesKey("", "7", "build.log")] = []byte("0123456789")
	c := newFilesClient(t, hub.url(), nil, filesAdminSession, nil)
	ctx, cancel := context.WithCancel(context.Background())
	r, err := c.TaskOutput(ctx, 7, "build.log", &TaskOutputOptions{ChunkSize: 4})
	require.NoError(t, err)
	buf := make([]byte, 8)
	n, err := r.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "0123", string(buf[:n]))
	cancel()
	_, err = r.Read(buf)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Len(t, hub.methodCalls("downloadTaskOutput"), 1, "no call after cancellation")
}

// downloadServer serves content with Range support; its hooks answer the
// first requests with errors, drop connections mid-body, or ignore Range.
type downloadServer struct {
	server  *httptest.Server
	content []byte

	mu          sync.Mutex
	ranges      []string // the Range header of each request
	statuses    []int    // answer the next requests with these statuses
	dropAfter   []int    // cut the next bodies after this many bytes
	ignoreRange bool
	badStart    bool          // announce a range starting one byte late
	hold        chan struct{} // when set, stop mid-body until the request ends
}

func newDownloadServer(t *testing.T, content []byte) *downloadServer {
	s := &downloadServer{content: content}
	s.server = httptest.NewServer(s)
	t.Cleanup(s.server.Close)
	return s
}

func (s *downloadServer) url() string { return s.server.URL + "/kojifiles/packages/f.rpm" }

func (s *downloadServer) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ranges...)
}

func (s *downloadServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.ranges = append(s.ranges, r.Header.Get("Range"))
	status, drop := 0, -1
	if len(s.statuses) > 0 {
		status, s.statuses = s.statuses[0], s.statuses[1:]
	}
	if len(s.dropAfter) > 0 {
		drop, s.dropAfter = s.dropAfter[0], s.dropAfter[1:]
	}
	ignoreRange, badStart, hold := s.ignoreRange, s.badStart, s.hold
	s.mu.Unlock()
	if status != 0 {
		http.Error(w, http.StatusText(status), status)
		return
	}
	size := int64(len(s.content))
	start := int64(0)
	if spec, ok := strings.CutPrefix(r.Header.Get("Range"), "bytes="); ok && !ignoreRange {
		start, _ = strconv.ParseInt(strings.TrimSuffix(spec, "-"), 10, 64)
		if start >= size {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", size))
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
		announced := start
		if badStart {
			announced++
		}
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", announced, size-1, size))
		w.Header().Set("Content-Length", strconv.FormatInt(size-start, 10))
		w.WriteHeader(http.StatusPartialContent)
	} else {
		w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	}
	body := s.content[start:]
	if hold != nil {
		_, _ = w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-hold:
		}
		return
	}
	if drop >= 0 && drop < len(body) {
		_, _ = w.Write(body[:drop])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // the connection breaks mid-body
	}
	_, _ = w.Write(body)
}

func newDownloadClient(t *testing.T) *Client {
	t.Helper()
	c, err := NewClient("http://hub.invalid/kojihub", WithRetryPolicy(filesTestPolicy))
	require.NoError(t, err)
	return c
}

func TestDownloadFileResumesAfterDroppedConnection(t *testing.T) {
	content := filesRandom(t, 1<<20)
	srv := newDownloadServer(t, content)
	srv.dropAfter = []int{300000, 200000}
	c := newDownloadClient(t)
	local := filepath.Join(t.TempDir(), "f.rpm")

	var done, total int64
	require.NoError(t, c.DownloadFile(context.Background(), srv.url(), local, &DownloadOptions{Progress: func(d, t int64) { done, total = d, t }}))

	got, err := os.ReadFile(local)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(content, got), "the file is whole")
	assert.Equal(t, []string{"", "bytes=300000-", "bytes=500000-"}, srv.requests())
	assert.Equal(t, int64(len(content)), done)
	assert.Equal(t, int64(len(content)), total)
}

func TestDownloadToWriterResumes(t *testing.T) {
	content := filesRandom(t, 100000)
	for _, ignoreRange := range []bool{false, true} {
		t.Run(fmt.Sprint("ignoreRange=", ignoreRange), func(t *testing.T) {
			srv := newDownloadServer(t, content)
			srv.dropAfter = []int{40000}
			srv.ignoreRange = ignoreRange
			var buf bytes.Buffer
			n, err := newDownloadClient(t).Download(context.Background(), srv.url(), &buf, nil)
			require.NoError(t, err)
			assert.Equal(t, int64(len(content)), n)
			assert.True(t, bytes.Equal(content, buf.Bytes()), "a server ignoring Range repeats what w has; it is skipped")
			assert.Equal(t, []string{"", "bytes=40000-"}, srv.requests())
		})
	}
}

func TestDownloadFileResumeExisting(t *testing.T) {
	content := filesRandom(t, 5000)
	c := newDownloadClient(t)
	ctx := context.Background()
	dir := t.TempDir()

	t.Run("continues a partial file", func(t *testing.T) {
		srv := newDownloadServer(t, content)
		local := filepath.Join(dir, "partial")
		require.NoError(t, os.WriteFile(local, content[:1000], 0o600))
		require.NoError(t, c.DownloadFile(ctx, srv.url(), local, &DownloadOptions{Resume: true}))
		got, _ := os.ReadFile(local)
		assert.True(t, bytes.Equal(content, got))
		assert.Equal(t, []string{"bytes=1000-"}, srv.requests())
	})
	t.Run("starts afresh without Resume", func(t *testing.T) {
		srv := newDownloadServer(t, content)
		local := filepath.Join(dir, "stale")
		require.NoError(t, os.WriteFile(local, bytes.Repeat([]byte("x"), 9000), 0o600))
		require.NoError(t, c.DownloadFile(ctx, srv.url(), local, nil))
		got, _ := os.ReadFile(local)
		assert.True(t, bytes.Equal(content, got))
		assert.Equal(t, []string{""}, srv.requests())
	})
	t.Run("rewrites when the server ignores Range", func(t *testing.T) {
		srv := newDownloadServer(t, content)
		srv.ignoreRange = true
		local := filepath.Join(dir, "ignored")
		require.NoError(t, os.WriteFile(local, []byte("junk that is not the start"), 0o600))
		require.NoError(t, c.DownloadFile(ctx, srv.url(), local, &DownloadOptions{Resume: true}))
		got, _ := os.ReadFile(local)
		assert.True(t, bytes.Equal(content, got))
	})
	t.Run("complete file with known size", func(t *testing.T) {
		srv := newDownloadServer(t, content)
		local := filepath.Join(dir, "complete")
		require.NoError(t, os.WriteFile(local, content, 0o600))
		require.NoError(t, c.DownloadFile(ctx, srv.url(), local, &DownloadOptions{Resume: true, Size: int64(len(content))}))
		assert.Empty(t, srv.requests(), "nothing to fetch")
	})
	t.Run("complete file, size unknown", func(t *testing.T) {
		srv := newDownloadServer(t, content)
		local := filepath.Join(dir, "complete2")
		require.NoError(t, os.WriteFile(local, content, 0o600))
		require.NoError(t, c.DownloadFile(ctx, srv.url(), local, &DownloadOptions{Resume: true}))
		assert.Equal(t, []string{"bytes=5000-"}, srv.requests(), "416 with the same size: whole")
		got, _ := os.ReadFile(local)
		assert.True(t, bytes.Equal(content, got))
	})
	t.Run("local file longer than remote", func(t *testing.T) {
		srv := newDownloadServer(t, content)
		local := filepath.Join(dir, "longer")
		longer := append(append([]byte(nil), content...), "tail"...)
		require.NoError(t, os.WriteFile(local, longer, 0o600))
		err := c.DownloadFile(ctx, srv.url(), local, &DownloadOptions{Resume: true})
		var mismatch *DownloadMismatchError
		require.ErrorAs(t, err, &mismatch)
		assert.Equal(t, int64(len(content)), mismatch.Got)
		assert.Len(t, srv.requests(), 1, "not retried")
		got, _ := os.ReadFile(local)
		assert.True(t, bytes.Equal(longer, got), "the local file is left alone")
	})
}

func TestDownloadChecksSizes(t *testing.T) {
	content := filesRandom(t, 3000)
	c := newDownloadClient(t)
	ctx := context.Background()

	srv := newDownloadServer(t, content)
	_, err := c.Download(ctx, srv.url(), io.Discard, &DownloadOptions{Size: 2999})
	var mismatch *DownloadMismatchError
	require.ErrorAs(t, err, &mismatch)
	assert.Equal(t, DownloadMismatchError{Field: "size", Want: 2999, Got: 3000}, *mismatch)
	assert.Len(t, srv.requests(), 1, "a wrong size is not retried")

	srv = newDownloadServer(t, content)
	srv.badStart = true
	local := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(local, content[:100], 0o600))
	err = c.DownloadFile(ctx, srv.url(), local, &DownloadOptions{Resume: true})
	require.ErrorAs(t, err, &mismatch)
	assert.Equal(t, DownloadMismatchError{Field: "range start", Want: 100, Got: 101}, *mismatch)
}

func TestDownloadRetriesTransientStatuses(t *testing.T) {
	content := []byte("rpm bytes")
	c := newDownloadClient(t)
	ctx := context.Background()

	srv := newDownloadServer(t, content)
	srv.statuses = []int{http.StatusServiceUnavailable, http.StatusTooManyRequests, http.StatusRequestTimeout}
	var buf bytes.Buffer
	_, err := c.Download(ctx, srv.url(), &buf, nil)
	require.NoError(t, err)
	assert.Equal(t, content, buf.Bytes())
	assert.Len(t, srv.requests(), 4)

	srv = newDownloadServer(t, content)
	srv.statuses = []int{http.StatusInternalServerError, http.StatusInternalServerError, http.StatusInternalServerError, http.StatusInternalServerError}
	_, err = c.Download(ctx, srv.url(), io.Discard, nil)
	var de *DownloadError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, http.StatusInternalServerError, de.StatusCode)
	assert.Len(t, srv.requests(), 1+filesTestPolicy.MaxRetries, "the policy's retries, then the error")

	srv = newDownloadServer(t, content)
	srv.statuses = []int{http.StatusNotFound}
	local := filepath.Join(t.TempDir(), "absent.rpm")
	err = c.DownloadFile(ctx, srv.url(), local, nil)
	require.ErrorAs(t, err, &de)
	assert.Equal(t, http.StatusNotFound, de.StatusCode)
	assert.Equal(t, "koji: download "+srv.url()+": server replied 404 Not Found", err.Error())
	assert.Len(t, srv.requests(), 1)
	assert.NoFileExists(t, local, "a file that received nothing is removed")
}

func TestDownloadHonoursCancellation(t *testing.T) {
	srv := newDownloadServer(t, filesRandom(t, 200000))
	srv.hold = make(chan struct{})
	t.Cleanup(func() { close(srv.hold) })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	_, err := newDownloadClient(t).Download(ctx, srv.url(), io.Discard, &DownloadOptions{Progress: func(int64, int64) { cancel() }})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Len(t, srv.requests(), 1, "not retried")
}

func TestDownloadRejectsBadInput(t *testing.T) {
	c := newDownloadClient(t)
	for _, u := range []string{"ftp://example.org/f", "packages/f.rpm", "http://"} {
		_, err := c.Download(context.Background(), u, io.Discard, nil)
		var de *DownloadError
		assert.ErrorAs(t, err, &de, u)
	}
	err := c.DownloadFile(context.Background(), "http://127.0.0.1:1/f", filepath.Join(t.TempDir(), "no", "dir", "f"), nil)
	var pe *fs.PathError
	assert.ErrorAs(t, err, &pe)
}

func TestFilesAfterClose(t *testing.T) {
	hub := newFilesHub(t)
	c := newFilesClient(t, hub.url(), nil, filesAdminSession, nil)
	require.NoError(t, c.Close())
	ctx := context.Background()
	assert.ErrorIs(t, c.Upload(ctx, strings.NewReader("x"), "p", "f", nil), ErrClosed)
	_, err := c.TaskOutput(ctx, 7, "build.log", nil)
	assert.ErrorIs(t, err, ErrClosed)
	_, err = c.Download(ctx, hub.server.URL+"/f", io.Discard, nil)
	assert.ErrorIs(t, err, ErrClosed)
	local := filepath.Join(t.TempDir(), "f")
	assert.ErrorIs(t, c.DownloadFile(ctx, hub.server.URL+"/f", local, nil), ErrClosed)
	assert.NoFileExists(t, local)
	assert.Empty(t, hub.rawRequests())
	assert.Len(t, hub.methodCalls("logout"), 1, "only Close's logout reached the hub")
	hub.mu.Lock()
	assert.Len(t, hub.calls, 1)
	hub.mu.Unlock()
}

func TestFileURL(t *testing.T) {
	p := DefaultProfile()
	p.Server = "https://koji.example.org/kojihub"
	p.TopURL = "https://kojipkgs.example.org/kojifiles/"
	c, err := NewClientFromProfile(p)
	require.NoError(t, err)

	u, err := c.FileURL("packages/gcc/14.2.1/3.fc41/x86_64/gcc-c++-14.2.1-3.fc41.x86_64.rpm")
	require.NoError(t, err)
	assert.Equal(t, "https://kojipkgs.example.org/kojifiles/packages/gcc/14.2.1/3.fc41/x86_64/gcc-c++-14.2.1-3.fc41.x86_64.rpm", u)
	u, err = c.FileURL("/work/tasks/7/7/build log 100%.txt")
	require.NoError(t, err)
	assert.Equal(t, "https://kojipkgs.example.org/kojifiles/work/tasks/7/7/build%20log%20100%25.txt", u)

	_, err = c.FileURL("packages/../../etc/passwd")
	var de *DownloadError
	assert.ErrorAs(t, err, &de)

	p.TopURL = ""
	_, err = c.FileURL("packages/f.rpm")
	assert.ErrorIs(t, err, ErrConfiguration)
	p.TopURL = "kojipkgs.example.org"
	_, err = c.FileURL("packages/f.rpm")
	assert.ErrorIs(t, err, ErrConfiguration)
}

func TestParseContentRange(t *testing.T) {
	for _, tc := range []struct {
		header      string
		start, size int64
		ok          bool
	}{
		{"bytes 100-199/1000", 100, 1000, true},
		{"bytes 0-0/1", 0, 1, true},
		{"bytes 100-199/*", 100, -1, true},
		{"bytes */1000", -1, 1000, true},
		{"bytes 200-100/1000", -1, -1, false},
		{"bytes 100-1000/1000", -1, -1, false},
		{"bytes 100-199", -1, -1, false},
		{"items 1-2/3", -1, -1, false},
		{"bytes x-1/3", -1, -1, false},
		{"", -1, -1, false},
	} {
		start, size, ok := parseContentRange(tc.header)
		assert.Equal(t, []any{tc.start, tc.size, tc.ok}, []any{start, size, ok}, tc.header)
	}
}

// filesHub is a fake hub for the upload and download tests. It stores
// uploads as Koji's does (HK/handle_upload, RootExports.uploadFile and
// checkUpload) and serves task output (downloadTaskOutput). Hooks inject
// failures.
type filesHub struct {
	server *httptest.Server

	mu     sync.Mutex
	files  map[string][]byte // volume|path/name
	tasks  map[string][]byte // volume|taskID/fileName
	raw    []filesRaw
	calls  []*xmlrpc.Call
	mtime  float64
	onRaw  func(n int, r *http.Request) *xmlrpc.Fault // before raw request n is stored
	tamper func(reply map[string]any)                 // changes a raw upload's reply
	onCall func(call *xmlrpc.Call) (any, bool)        // answers a call instead of the hub
}

type filesRaw struct {
	query   url.Values
	callnum string
	size    int
}

func newFilesHub(t *testing.T) *filesHub {
	h := &filesHub{files: map[string][]byte{}, tasks: map[string][]byte{}, mtime: 1795311651.4}
	h.server = httptest.NewServer(h)
	t.Cleanup(h.server.Close)
	return h
}

func (h *filesHub) url() string { return h.server.URL + "/kojihub" }

func filesKey(volume, path, name string) string {
	if volume == "" {
		volume = "DEFAULT"
	}
	return volume + "|" + path + "/" + name
}

func (h *filesHub) file(volume, path, name string) ([]byte, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	data, ok := h.files[filesKey(volume, path, name)]
	return data, ok
}

func (h *filesHub) rawRequests() []filesRaw {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]filesRaw(nil), h.raw...)
}

func (h *filesHub) methodCalls(method string) []*xmlrpc.Call {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*xmlrpc.Call
	for _, c := range h.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

func (h *filesHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	var result any
	if r.Header.Get("Content-Type") == "application/octet-stream" {
		result, err = h.upload(r, body)
	} else {
		call, derr := xmlrpc.DecodeCall(body)
		if derr != nil {
			http.Error(w, "Invalid request: "+derr.Error(), http.StatusBadRequest)
			return
		}
		result, err = h.call(call, r.Header.Get("Koji-Session-Id") != "")
	}
	w.Header().Set("Content-Type", "text/xml")
	if f, ok := err.(*xmlrpc.Fault); ok {
		_ = xmlrpc.NewEncoder(w).EncodeFault(f)
		return
	}
	_ = xmlrpc.NewEncoder(w).EncodeResponse(result)
}

func filesFault(class FaultClass, format string, args ...any) *xmlrpc.Fault {
	return &xmlrpc.Fault{Code: int(class), String: fmt.Sprintf(format, args...)}
}

// upload is handle_upload.
func (h *filesHub) upload(r *http.Request, data []byte) (any, error) {
	q := r.URL.Query()
	h.mu.Lock()
	n := len(h.raw)
	h.raw = append(h.raw, filesRaw{query: q, callnum: r.Header.Get("Koji-Session-Callnum"), size: len(data)})
	hook := h.onRaw
	h.mu.Unlock()
	if r.Header.Get("Koji-Session-Id") == "" {
		return nil, filesFault(ErrActionNotAllowed, "you must be logged-in to upload a file")
	}
	if hook != nil {
		if f := hook(n, r); f != nil {
			return nil, f
		}
	}
	name, path, verify := q.Get("filename"), q.Get("filepath"), q.Get("fileverify")
	offset, err := strconv.ParseInt(q.Get("offset"), 10, 64)
	if err != nil {
		offset = 0
	}
	overwrite := q.Get("overwrite") != ""
	key := filesKey(q.Get("volume"), path, name)

	h.mu.Lock()
	defer h.mu.Unlock()
	file, exists := h.files[key]
	if exists && offset == 0 && !overwrite {
		return nil, filesFault(ErrGeneric, "upload path exists: %s", key)
	}
	if offset == -1 {
		offset = int64(len(file))
	}
	if overwrite && offset < int64(len(file)) {
		file = file[:offset]
	}
	for int64(len(file)) < offset {
		file = append(file, 0)
	}
	file = append(file[:offset], append(data, file[min(int64(len(file)), offset+int64(len(data))):]...)...)
	if !overwrite && int64(len(file)) != offset+int64(len(data)) {
		return nil, filesFault(ErrGeneric, "Incorrect upload length")
	}
	h.files[key] = file
	reply := map[string]any{"size": len(data), "fileverify": verify, "offset": offset}
	switch verify {
	case "adler32":
		reply["hexdigest"] = fmt.Sprintf("%08x", adler32.Checksum(data))
	case "sha256":
		sum := sha256.Sum256(data)
		reply["hexdigest"] = hex.EncodeToString(sum[:])
	case "":
	default:
		return nil, filesFault(ErrGeneric, "Unsupported verify type: %s", verify)
	}
	if h.tamper != nil {
		h.tamper(reply)
	}
	return reply, nil
}

func (h *filesHub) call(call *xmlrpc.Call, loggedIn bool) (any, error) {
	h.mu.Lock()
	h.calls = append(h.calls, call)
	hook := h.onCall
	h.mu.Unlock()
	if hook != nil {
		if result, ok := hook(call); ok {
			return result, nil
		}
	}
	var args []any
	for _, p := range call.Params {
		var v any
		if err := p.Decode(&v); err != nil {
			return nil, err
		}
		args = append(args, v)
	}
	kw := map[string]string{}
	for k, raw := range call.Kwargs {
		var v any
		if err := raw.Decode(&v); err != nil {
			return nil, err
		}
		kw[k] = fmt.Sprint(v)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	switch call.Method {
	case "logout":
		return nil, nil
	case "checkUpload":
		return h.checkUpload(args, kw, loggedIn)
	case "uploadFile":
		return h.uploadFile(args, kw, loggedIn)
	case "downloadTaskOutput":
		return h.downloadTaskOutput(args, kw)
	}
	return nil, filesFault(ErrGeneric, "Invalid method: %s", call.Method)
}

func (h *filesHub) checkUpload(args []any, kw map[string]string, loggedIn bool) (any, error) {
	if !loggedIn {
		return nil, filesFault(ErrActionNotAllowed, "you must be logged-in to upload a file")
	}
	if len(args) != 2 {
		return nil, filesFault(ErrParameter, "checkUpload takes path and name")
	}
	file, ok := h.files[filesKey(kw["volume"], fmt.Sprint(args[0]), fmt.Sprint(args[1]))]
	if !ok {
		return nil, nil
	}
	info := map[string]any{"size": len(file), "mtime": h.mtime}
	switch kw["verify"] {
	case "adler32":
		info["sumlength"] = len(file)
		info["hexdigest"] = fmt.Sprintf("%08x", adler32.Checksum(file))
	case "":
	default:
		return nil, filesFault(ErrGeneric, "Unsupported verify type: %s", kw["verify"])
	}
	return info, nil
}

// uploadFile is RootExports.uploadFile with a sha256 checksum.
func (h *filesHub) uploadFile(args []any, kw map[string]string, loggedIn bool) (any, error) {
	if !loggedIn {
		return nil, filesFault(ErrActionNotAllowed, "you must be logged-in to upload a file")
	}
	if len(args) != 6 {
		return nil, filesFault(ErrParameter, "uploadFile takes 6 arguments, got %d", len(args))
	}
	size, _ := strconv.ParseInt(fmt.Sprint(args[2]), 10, 64)
	offset, _ := strconv.ParseInt(fmt.Sprint(args[4]), 10, 64)
	checksum, _ := args[3].([]any)
	if len(checksum) != 2 || checksum[0] != "sha256" {
		return nil, filesFault(ErrGeneric, "unsupported checksum %v", args[3])
	}
	data, err := base64.StdEncoding.DecodeString(fmt.Sprint(args[5]))
	if err != nil {
		return nil, err
	}
	if offset != -1 {
		sum := sha256.Sum256(data)
		if size != int64(len(data)) || hex.EncodeToString(sum[:]) != checksum[1] {
			return false, nil
		}
	}
	key := filesKey(kw["volume"], fmt.Sprint(args[0]), fmt.Sprint(args[1]))
	file := h.files[key]
	if offset == 0 {
		file = nil
	}
	if offset == -1 {
		file = append(file, data...)
		sum := sha256.Sum256(file)
		if size != int64(len(file)) {
			return nil, filesFault(ErrGeneric, "File size mismatch for %s: %d != %d", key, size, len(file))
		}
		if hex.EncodeToString(sum[:]) != checksum[1] {
			return nil, filesFault(ErrGeneric, "File checksum mismatch for %s", key)
		}
	} else {
		for int64(len(file)) < offset {
			file = append(file, 0)
		}
		file = append(file[:offset], data...)
	}
	h.files[key] = file
	return true, nil
}

// downloadTaskOutput reads size bytes from offset, from the end when
// offset is negative; size -1 is the rest of the file.
func (h *filesHub) downloadTaskOutput(args []any, kw map[string]string) (any, error) {
	if len(args) != 2 {
		return nil, filesFault(ErrParameter, "downloadTaskOutput takes taskID and fileName")
	}
	file, ok := h.tasks[filesKey(kw["volume"], fmt.Sprint(args[0]), fmt.Sprint(args[1]))]
	if !ok {
		return nil, filesFault(ErrGeneric, "no file %s output by task %v", args[1], args[0])
	}
	offset, _ := strconv.ParseInt(kw["offset"], 10, 64)
	size, _ := strconv.ParseInt(kw["size"], 10, 64)
	if offset < 0 {
		offset = max(0, int64(len(file))+offset)
	}
	offset = min(offset, int64(len(file)))
	end := int64(len(file))
	if size >= 0 {
		end = min(end, offset+size)
	}
	return base64.StdEncoding.EncodeToString(file[offset:end]), nil
}

func filesRandom(t *testing.T, n int) []byte {
	t.Helper()
	data := make([]byte, n)
	_, err := rand.Read(data)
	require.NoError(t, err)
	return data
}
