package koji

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
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

// The sessions the recorded exchanges were made on: kojiadmin's, and the
// builder's for the host_* ones.
var (
	filesAdminSession   = SessionInfo{ID: 11, Key: "1-mpmDJf57WxvTtbm7aif", HeaderAuth: true}
	filesBuilderSession = SessionInfo{ID: 12, Key: "4-VGxrSMOE2dRzjqKYamf", HeaderAuth: true}
)

// filesLogin is an Authenticator that hands out a known session without
// asking the hub, so that recorded exchanges replay as logged in.
type filesLogin SessionInfo

func (s filesLogin) Login(context.Context, *Client, LoginRequest) (SessionInfo, error) {
	return SessionInfo(s), nil
}

// filesTestPolicy retries quickly.
var filesTestPolicy = RetryPolicy{MaxRetries: 3, Interval: time.Millisecond, Budget: -1}

// newFilesClient returns a client for server sending through rt (nil: the
// default transport), logged in with session unless it is the zero value.
func newFilesClient(t *testing.T, server string, rt http.RoundTripper, session SessionInfo, profile func(*Profile)) *Client {
	t.Helper()
	p := DefaultProfile()
	p.Server = server
	if profile != nil {
		profile(p)
	}
	c, err := NewClientFromProfile(p, WithHTTPClient(&http.Client{Transport: rt}), WithRetryPolicy(filesTestPolicy))
	require.NoError(t, err)
	if session.Key != "" {
		require.NoError(t, c.Login(context.Background(), filesLogin(session)))
	}
	return c
}

// filesSent is a request as the client sent it.
type filesSent struct {
	Method        string // XML-RPC method; "" for a raw upload
	RawQuery      string
	Header        http.Header
	ContentLength int64
	Body          []byte
}

// filesRouter is a transport that records each request and hands it to
// the hub pick chooses, so that one client can talk to several hubs: the
// replay hub cannot tell two identical recorded calls apart by order.
type filesRouter struct {
	pick func(i int, req filesSent) string // the base URL of the hub answering request i

	mu   sync.Mutex
	sent []filesSent
}

func (u *filesRouter) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			return nil, err
		}
		r.Body.Close()
	}
	rec := filesSent{RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), ContentLength: r.ContentLength, Body: body}
	if r.Header.Get("Content-Type") == "text/xml" {
		if call, err := xmlrpc.DecodeCall(body); err == nil {
			rec.Method = call.Method
		}
	}
	u.mu.Lock()
	i := len(u.sent)
	u.sent = append(u.sent, rec)
	u.mu.Unlock()
	target, err := url.Parse(u.pick(i, rec))
	if err != nil {
		return nil, err
	}
	out := r.Clone(r.Context())
	out.URL.Scheme, out.URL.Host, out.Host = target.Scheme, target.Host, ""
	out.Body = io.NopCloser(bytes.NewReader(body))
	return http.DefaultTransport.RoundTrip(out)
}

func (u *filesRouter) requests() []filesSent {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]filesSent(nil), u.sent...)
}

func TestUploadMatchesRecordedFastUpload(t *testing.T) {
	hub := kojitest.NewReplayHub(t, "rawUpload", "rawUpload.2")
	router := &filesRouter{pick: func(int, filesSent) string { return hub.Server.URL }}
	c := newFilesClient(t, hub.URL(), router, filesAdminSession, nil)

	raw, check := kojitest.Fixture(t, "rawUpload"), kojitest.Fixture(t, "rawUpload.2")
	require.NoError(t, c.Upload(context.Background(), bytes.NewReader(raw.Request), "anchor-wire/1795311651", "fast.log", nil))

	sent := router.requests()
	require.Len(t, sent, 2)
	recorded, err := url.Parse(raw.URL)
	require.NoError(t, err)
	assert.Equal(t, recorded.RawQuery, sent[0].RawQuery, "query parameters in upstream's order")
	assert.Equal(t, raw.Request, sent[0].Body)
	assert.Equal(t, int64(len(raw.Request)), sent[0].ContentLength)
	for _, h := range []string{"Content-Type", "User-Agent", "Koji-Session-Id", "Koji-Session-Key"} {
		assert.Equal(t, raw.RequestHeaders[h], sent[0].Header.Get(h), h)
	}
	assert.Equal(t, "checkUpload", sent[1].Method)
	assert.Equal(t, string(check.Request), string(sent[1].Body), "checkUpload without verify, as recorded")
	assert.Equal(t, []string{"0", "1"}, []string{sent[0].Header.Get("Koji-Session-Callnum"), sent[1].Header.Get("Koji-Session-Callnum")},
		"the raw upload consumes a callnum")
}

// kojid has no use_fast_upload option, so uploadWrapper probes with
// checkUpload; the recorded builder then uploaded with overwrite=1.
func TestUploadProbesHubBeforeFastUpload(t *testing.T) {
	probe := kojitest.NewReplayHub(t, "host_fastUpload")
	rest := kojitest.NewReplayHub(t, "host_fastUpload.2", "host_fastUpload.3")
	router := &filesRouter{pick: func(i int, _ filesSent) string {
		if i == 0 {
			return probe.Server.URL
		}
		return rest.Server.URL
	}}
	c := newFilesClient(t, probe.URL(), router, filesBuilderSession, func(p *Profile) { p.UseFastUpload = false })

	raw := kojitest.Fixture(t, "host_fastUpload.2")
	require.NoError(t, c.Upload(context.Background(), bytes.NewReader(raw.Request), "tasks/1/1", "sleep.log", &UploadOptions{Overwrite: true}))

	sent := router.requests()
	require.Len(t, sent, 3)
	assert.Equal(t, string(kojitest.Fixture(t, "host_fastUpload").Request), string(sent[0].Body))
	recorded, err := url.Parse(raw.URL)
	require.NoError(t, err)
	assert.Equal(t, recorded.RawQuery, sent[1].RawQuery)
	assert.Contains(t, sent[1].RawQuery, "&overwrite=1")
	assert.Equal(t, raw.Request, sent[1].Body)
	assert.Equal(t, string(kojitest.Fixture(t, "host_fastUpload.3").Request), string(sent[2].Body))
}

const uploadLegacyData = "legacy upload chunk\nlegacy upload chunk\nlegacy upload chunk\nlegacy upload chunk\n"

func TestUploadLegacyMatchesRecorded(t *testing.T) {
	hub := kojitest.NewReplayHub(t, "uploadFile", "uploadFile_final")
	router := &filesRouter{pick: func(int, filesSent) string { return hub.Server.URL }}
	c := newFilesClient(t, hub.URL(), router, filesAdminSession, nil)

	require.NoError(t, c.Upload(context.Background(), strings.NewReader(uploadLegacyData), "anchor-wire/1795311651", "legacy.txt",
		&UploadOptions{Method: UploadLegacy}))

	sent := router.requests()
	require.Len(t, sent, 2)
	assert.Equal(t, string(kojitest.Fixture(t, "uploadFile").Request), string(sent[0].Body))
	assert.Equal(t, string(kojitest.Fixture(t, "uploadFile_final").Request), string(sent[1].Body))
}

// A hub before 1.7.1 answers the checkUpload probe with "Invalid method",
// a GenericError: the upload goes the legacy way. The probe is made with
// use_fast_upload off in the profile, or with UploadProbe whatever the
// profile says.
func TestUploadFallsBackToLegacyWhenProbeFails(t *testing.T) {
	for name, tc := range map[string]struct {
		profile func(*Profile)
		opts    *UploadOptions
	}{
		"use_fast_upload off": {func(p *Profile) { p.UseFastUpload = false }, nil},
		"UploadProbe":         {func(p *Profile) { p.UseFastUpload = true }, &UploadOptions{Method: UploadProbe}},
	} {
		t.Run(name, func(t *testing.T) {
			old := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_ = xmlrpc.NewEncoder(w).EncodeFault(&xmlrpc.Fault{Code: int(ErrGeneric), String: "Invalid method: checkUpload"})
			}))
			t.Cleanup(old.Close)
			hub := kojitest.NewReplayHub(t, "uploadFile", "uploadFile_final")
			router := &filesRouter{pick: func(i int, _ filesSent) string {
				if i == 0 {
					return old.URL
				}
				return hub.Server.URL
			}}
			c := newFilesClient(t, hub.URL(), router, filesAdminSession, tc.profile)

			require.NoError(t, c.Upload(context.Background(), strings.NewReader(uploadLegacyData), "anchor-wire/1795311651", "legacy.txt", tc.opts))

			sent := router.requests()
			require.Len(t, sent, 3)
			probe, err := xmlrpc.DecodeCall(sent[0].Body)
			require.NoError(t, err)
			assert.Equal(t, "checkUpload", probe.Method)
			assert.Len(t, probe.Params, 2)
			assert.Nil(t, probe.Kwargs)
			assert.Equal(t, string(kojitest.Fixture(t, "uploadFile").Request), string(sent[1].Body))
			assert.Equal(t, string(kojitest.Fixture(t, "uploadFile_final").Request), string(sent[2].Body))
		})
	}
}

func TestUploadStoresFilesIntact(t *testing.T) {
	const block = 1000
	for _, method := range []UploadMethod{UploadFast, UploadLegacy} {
		for _, size := range []int{0, 1, block - 1, block, block + 1, 3 * block, 7*block + 13} {
			t.Run(fmt.Sprintf("method%d/%d", method, size), func(t *testing.T) {
				hub := newFilesHub(t)
				c := newFilesClient(t, hub.url(), nil, filesAdminSession, nil)
				data := filesRandom(t, size)
				require.NoError(t, c.Upload(context.Background(), bytes.NewReader(data), "cli-build/x", "f.bin",
					&UploadOptions{BlockSize: block, Method: method}))
				stored, ok := hub.file("", "cli-build/x", "f.bin")
				require.True(t, ok)
				assert.True(t, bytes.Equal(data, stored), "stored %d bytes of %d", len(stored), len(data))

				chunks := max(1, (size+block-1)/block)
				if method == UploadFast {
					raw := hub.rawRequests()
					require.Len(t, raw, chunks, "an empty file is one empty chunk")
					for i, r := range raw {
						assert.Equal(t, strconv.Itoa(i*block), r.query.Get("offset"))
						assert.Equal(t, "adler32", r.query.Get("fileverify"))
					}
					assert.Len(t, hub.methodCalls("checkUpload"), 1)
				} else {
					dataCalls := (size + block - 1) / block
					assert.Len(t, hub.methodCalls("uploadFile"), dataCalls+1, "data chunks, then offset -1")
					assert.Empty(t, hub.rawRequests())
				}
			})
		}
	}
}

func TestUploadLargeFileInDefaultBlocks(t *testing.T) {
	hub := newFilesHub(t)
	c := newFilesClient(t, hub.url(), nil, filesAdminSession, nil)
	data := filesRandom(t, 5<<20+17)
	local := filepath.Join(t.TempDir(), "big.rpm")
	require.NoError(t, os.WriteFile(local, data, 0o600))

	var last UploadProgress
	path := UniqueUploadPath("cli-build")
	require.NoError(t, c.UploadFile(context.Background(), local, path, "", &UploadOptions{Progress: func(p UploadProgress) { last = p }}))

	stored, ok := hub.file("", path, "big.rpm")
	require.True(t, ok, "the name defaults to the file's base name")
	assert.True(t, bytes.Equal(data, stored))
	assert.Len(t, hub.rawRequests(), 6, "1 MiB blocks: the profile's upload_blocksize")
	assert.Equal(t, int64(len(data)), last.Uploaded)
	assert.Equal(t, int64(len(data)), last.Total, "an *os.File tells its size")
}

func TestUploadProgress(t *testing.T) {
	hub := newFilesHub(t)
	c := newFilesClient(t, hub.url(), nil, filesAdminSession, nil)
	for _, tc := range []struct {
		name  string
		r     io.Reader
		total int64
	}{
		{"sized", strings.NewReader("0123456789"), 10},
		{"stream", io.MultiReader(strings.NewReader("01234"), strings.NewReader("56789")), -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []UploadProgress
			require.NoError(t, c.Upload(context.Background(), tc.r, "p", tc.name, &UploadOptions{BlockSize: 4,
				Progress: func(p UploadProgress) { got = append(got, p) }}))
			require.Len(t, got, 4)
			for i, want := range []struct {
				uploaded int64
				chunk    int
			}{{0, 0}, {4, 4}, {8, 4}, {10, 2}} {
				assert.Equal(t, want.uploaded, got[i].Uploaded, i)
				assert.Equal(t, want.chunk, got[i].Chunk, i)
				assert.Equal(t, tc.total, got[i].Total, i)
				if i > 0 {
					assert.GreaterOrEqual(t, got[i].TotalTime, got[i-1].TotalTime)
					assert.LessOrEqual(t, got[i].ChunkTime, got[i].TotalTime)
				}
			}
			assert.Zero(t, got[0].ChunkTime)
		})
	}
}

// A chunk refused with a LockError is sent again as a new call; the final
// checkUpload then asks for the whole file's adler32 and compares it. The
// check is answered by the recorded hub, whose digest of this content the
// client must match.
func TestUploadResendsRefusedChunkAndVerifiesWholeFile(t *testing.T) {
	fake := newFilesHub(t)
	fake.onRaw = func(n int, _ *http.Request) *xmlrpc.Fault {
		if n == 1 {
			return filesFault(ErrLock, "[Errno 11] Resource temporarily unavailable")
		}
		return nil
	}
	recorded := kojitest.NewReplayHub(t, "checkUpload")
	router := &filesRouter{pick: func(_ int, req filesSent) string {
		if req.Method == "checkUpload" {
			return recorded.Server.URL
		}
		return fake.server.URL
	}}
	c := newFilesClient(t, fake.url(), router, filesAdminSession, nil)

	require.NoError(t, c.Upload(context.Background(), strings.NewReader(uploadLegacyData), "anchor-wire/1795311651", "legacy.txt",
		&UploadOptions{BlockSize: 32}))

	raw := fake.rawRequests()
	require.Len(t, raw, 4)
	var offsets, callnums []string
	for _, r := range raw {
		offsets = append(offsets, r.query.Get("offset"))
		callnums = append(callnums, r.callnum)
	}
	assert.Equal(t, []string{"0", "32", "32", "64"}, offsets)
	assert.Equal(t, []string{"0", "1", "2", "3"}, callnums, "the resend is a new call")
	stored, _ := fake.file("", "anchor-wire/1795311651", "legacy.txt")
	assert.Equal(t, uploadLegacyData, string(stored))
	sent := router.requests()
	assert.Equal(t, string(kojitest.Fixture(t, "checkUpload").Request), string(sent[len(sent)-1].Body), "verify='adler32'")
}

func TestUploadVerificationFailures(t *testing.T) {
	data := []byte(uploadLegacyData)
	for _, tc := range []struct {
		name    string
		setup   func(h *filesHub)
		offset  int64
		field   string
		sends   int // raw requests
		wantErr error
	}{
		{
			name:   "chunk digest",
			setup:  func(h *filesHub) { h.tamper = func(r map[string]any) { r["hexdigest"] = "0badf00d" } },
			field:  "hexdigest",
			sends:  1 + uploadResends,
			offset: 0,
		},
		{
			name: "chunk size",
			setup: func(h *filesHub) {
				h.tamper = func(r map[string]any) {
					if r["offset"] == int64(32) {
						r["size"] = 31
					}
				}
			},
			field:  "size",
			sends:  2 + uploadResends,
			offset: 32,
		},
		{
			name: "file digest after a resend",
			setup: func(h *filesHub) {
				h.onRaw = func(n int, _ *http.Request) *xmlrpc.Fault {
					if n == 0 {
						return filesFault(ErrRetry, "unable to retry call 0")
					}
					return nil
				}
				h.onCall = func(call *xmlrpc.Call) (any, bool) {
					if call.Method != "checkUpload" {
						return nil, false
					}
					return map[string]any{"size": len(data), "hexdigest": "00000001"}, true
				}
			},
			field:  "hexdigest",
			sends:  4,
			offset: -1,
		},
		{
			name: "file size",
			setup: func(h *filesHub) {
				h.onCall = func(call *xmlrpc.Call) (any, bool) {
					return map[string]any{"size": "79"}, call.Method == "checkUpload"
				}
			},
			field:  "size",
			sends:  3,
			offset: -1,
		},
		{
			name: "file missing",
			setup: func(h *filesHub) {
				h.onCall = func(call *xmlrpc.Call) (any, bool) { return nil, call.Method == "checkUpload" }
			},
			sends:   3,
			offset:  -1,
			wantErr: ErrUploadMissing,
		},
		{
			name: "refusal not worth resending",
			setup: func(h *filesHub) {
				h.onRaw = func(int, *http.Request) *xmlrpc.Fault {
					return filesFault(ErrGeneric, "upload path exists: x")
				}
			},
			sends:   1,
			offset:  0,
			wantErr: ErrGeneric,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hub := newFilesHub(t)
			tc.setup(hub)
			c := newFilesClient(t, hub.url(), nil, filesAdminSession, nil)
			err := c.Upload(context.Background(), bytes.NewReader(data), "p", "f", &UploadOptions{BlockSize: 32})
			var ue *UploadError
			require.ErrorAs(t, err, &ue)
			assert.Equal(t, tc.offset, ue.Offset)
			assert.Equal(t, "p", ue.Path)
			if tc.wantErr != nil {
				assert.ErrorIs(t, err, tc.wantErr)
			} else {
				var mismatch *UploadMismatchError
				require.ErrorAs(t, err, &mismatch)
				assert.Equal(t, tc.field, mismatch.Field)
			}
			assert.Len(t, hub.rawRequests(), tc.sends)
		})
	}
}

// Resending the first chunk of a file the failed call did write needs
// overwrite, or the hub refuses to start the file again; after a
// LockError the file may be another writer's, so it goes without.
func TestUploadResendOfFirstChunk(t *testing.T) {
	for _, tc := range []struct {
		name      string
		setup     func(h *filesHub)
		overwrite string
	}{
		{"after a wrong store", func(h *filesHub) {
			var once sync.Once
			h.tamper = func(r map[string]any) { once.Do(func() { r["hexdigest"] = "0badf00d" }) }
		}, "1"},
		{"after a lock error", func(h *filesHub) {
			h.onRaw = func(n int, _ *http.Request) *xmlrpc.Fault {
				if n == 0 {
					return filesFault(ErrLock, "locked")
				}
				return nil
			}
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hub := newFilesHub(t)
			tc.setup(hub)
			c := newFilesClient(t, hub.url(), nil, filesAdminSession, nil)
			require.NoError(t, c.Upload(context.Background(), strings.NewReader("payload"), "p", "f", nil))
			raw := hub.rawRequests()
			require.Len(t, raw, 2)
			assert.Empty(t, raw[0].query.Get("overwrite"))
			assert.Equal(t, tc.overwrite, raw[1].query.Get("overwrite"))
			stored, _ := hub.file("", "p", "f")
			assert.Equal(t, "payload", string(stored))
			checks := hub.methodCalls("checkUpload")
			require.Len(t, checks, 1)
			var verify string
			require.NoError(t, checks[0].Kwargs["verify"].Decode(&verify))
			assert.Equal(t, "adler32", verify)
		})
	}
}

// A hub sends sizes beyond 32 bits as strings (encode_int).
func TestUploadAcceptsSizesSentAsStrings(t *testing.T) {
	hub := newFilesHub(t)
	hub.tamper = func(r map[string]any) {
		r["size"] = fmt.Sprint(r["size"])
		r["offset"] = fmt.Sprint(r["offset"])
	}
	hub.onCall = func(call *xmlrpc.Call) (any, bool) {
		return map[string]any{"size": "5", "mtime": 1.5}, call.Method == "checkUpload"
	}
	c := newFilesClient(t, hub.url(), nil, filesAdminSession, nil)
	require.NoError(t, c.Upload(context.Background(), strings.NewReader("hello"), "p", "f", nil))

	hub.onCall = func(call *xmlrpc.Call) (any, bool) {
		return map[string]any{"size": "five"}, call.Method == "checkUpload"
	}
	err := c.Upload(context.Background(), strings.NewReader("hello"), "p", "g", nil)
	var te *xmlrpc.TypeError
	assert.ErrorAs(t, err, &te)
}

func TestUploadOverwrite(t *testing.T) {
	hub := newFilesHub(t)
	c := newFilesClient(t, hub.url(), nil, filesAdminSession, nil)
	ctx := context.Background()
	require.NoError(t, c.Upload(ctx, strings.NewReader("first version, long"), "p", "f", nil))

	err := c.Upload(ctx, strings.NewReader("second"), "p", "f", nil)
	assert.ErrorIs(t, err, ErrGeneric)
	assert.Contains(t, err.Error(), "upload path exists")

	require.NoError(t, c.Upload(ctx, strings.NewReader("second"), "p", "f", &UploadOptions{Overwrite: true}))
	stored, _ := hub.file("", "p", "f")
	assert.Equal(t, "second", string(stored), "the hub truncates at the offset")
}

func TestUploadVolume(t *testing.T) {
	for _, method := range []UploadMethod{UploadFast, UploadLegacy} {
		hub := newFilesHub(t)
		c := newFilesClient(t, hub.url(), nil, filesAdminSession, nil)
		ctx := context.Background()
		require.NoError(t, c.Upload(ctx, strings.NewReader("on vol2"), "p", "f", &UploadOptions{Volume: "vol2", Method: method}))
		require.NoError(t, c.Upload(ctx, strings.NewReader("on default"), "p", "f", &UploadOptions{Volume: "DEFAULT", Method: method}))

		stored, _ := hub.file("vol2", "p", "f")
		assert.Equal(t, "on vol2", string(stored))
		stored, _ = hub.file("DEFAULT", "p", "f")
		assert.Equal(t, "on default", string(stored))
		if method == UploadFast {
			raw := hub.rawRequests()
			require.Len(t, raw, 2)
			assert.Equal(t, "vol2", raw[0].query.Get("volume"))
			assert.NotContains(t, raw[1].query, "volume", "DEFAULT is not sent")
			checks := hub.methodCalls("checkUpload")
			require.Len(t, checks, 2)
			assert.Contains(t, checks[0].Kwargs, "volume")
			assert.Nil(t, checks[1].Kwargs)
		} else {
			for i, call := range hub.methodCalls("uploadFile") {
				assert.Equal(t, i < 2, call.Kwargs != nil, "call %d", i)
			}
		}
	}
}

func TestUploadLegacyRetriesRefusedChunk(t *testing.T) {
	hub := newFilesHub(t)
	refusals := 0
	hub.onCall = func(call *xmlrpc.Call) (any, bool) {
		if call.Method == "uploadFile" && refusals < 2 {
			refusals++
			return false, true
		}
		return nil, false
	}
	c := newFilesClient(t, hub.url(), nil, filesAdminSession, nil)
	require.NoError(t, c.Upload(context.Background(), strings.NewReader("data"), "p", "f", &UploadOptions{Method: UploadLegacy}))
	assert.Len(t, hub.methodCalls("uploadFile"), 4, "twice refused, then the chunk, then the end")

	hub2 := newFilesHub(t)
	hub2.onCall = func(call *xmlrpc.Call) (any, bool) { return false, call.Method == "uploadFile" }
	c2 := newFilesClient(t, hub2.url(), nil, filesAdminSession, nil)
	err := c2.Upload(context.Background(), strings.NewReader("data"), "p", "f", &UploadOptions{Method: UploadLegacy})
	assert.ErrorIs(t, err, ErrUploadRejected)
	assert.Len(t, hub2.methodCalls("uploadFile"), 1+uploadResends)
}

func TestUploadRequiresLogin(t *testing.T) {
	hub := newFilesHub(t)
	c := newFilesClient(t, hub.url(), nil, SessionInfo{}, nil)
	err := c.Upload(context.Background(), strings.NewReader("x"), "p", "f", nil)
	assert.ErrorIs(t, err, ErrActionNotAllowed)
	assert.Empty(t, hub.rawRequests())
}

func TestUploadRejectsBadInput(t *testing.T) {
	hub := newFilesHub(t)
	c := newFilesClient(t, hub.url(), nil, filesAdminSession, nil)
	ctx := context.Background()
	for name, err := range map[string]error{
		"no name":        c.Upload(ctx, strings.NewReader("x"), "p", "", nil),
		"nil reader":     c.Upload(ctx, nil, "p", "f", nil),
		"negative block": c.Upload(ctx, strings.NewReader("x"), "p", "f", &UploadOptions{BlockSize: -1}),
		"unknown method": c.Upload(ctx, strings.NewReader("x"), "p", "f", &UploadOptions{Method: 7}),
		"no local file":  c.UploadFile(ctx, filepath.Join(t.TempDir(), "missing"), "p", "", nil),
	} {
		var ue *UploadError
		assert.ErrorAs(t, err, &ue, name)
	}
	assert.Empty(t, hub.rawRequests())
	hub.mu.Lock()
	assert.Empty(t, hub.calls)
	hub.mu.Unlock()
}

type uploadFailingReader struct{ n int }

func (r *uploadFailingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, errors.New("disk on fire")
	}
	n := min(len(p), r.n)
	r.n -= n
	return n, nil
}

func TestUploadReportsReadErrors(t *testing.T) {
	hub := newFilesHub(t)
	c := newFilesClient(t, hub.url(), nil, filesAdminSession, nil)
	err := c.Upload(context.Background(), &uploadFailingReader{n: 10}, "p", "f", &UploadOptions{BlockSize: 4})
	var ue *UploadError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, int64(8), ue.Offset)
	assert.Contains(t, err.Error(), "disk on fire")
	assert.Len(t, hub.rawRequests(), 2)
}

func TestUploadHonoursCancellation(t *testing.T) {
	for _, method := range []UploadMethod{UploadFast, UploadLegacy} {
		t.Run(fmt.Sprint(method), func(t *testing.T) {
			hub := newFilesHub(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			release := make(chan struct{})
			t.Cleanup(func() { close(release) })
			hold := func(ctx context.Context) {
				cancel()
				select {
				case <-ctx.Done():
				case <-release:
				}
			}
			hub.onRaw = func(n int, r *http.Request) *xmlrpc.Fault {
				if n == 1 {
					hold(r.Context())
				}
				return nil
			}
			calls := 0
			hub.onCall = func(call *xmlrpc.Call) (any, bool) {
				if call.Method == "uploadFile" {
					if calls++; calls == 2 {
						cancel()
					}
				}
				return nil, false
			}
			c := newFilesClient(t, hub.url(), nil, filesAdminSession, nil)
			start := time.Now()
			err := c.Upload(ctx, bytes.NewReader(make([]byte, 100)), "p", "f", &UploadOptions{BlockSize: 10, Method: method})
			assert.ErrorIs(t, err, context.Canceled)
			assert.Less(t, time.Since(start), 5*time.Second)
			assert.LessOrEqual(t, len(hub.rawRequests()), 2)
			assert.LessOrEqual(t, len(hub.methodCalls("uploadFile")), 2)
			assert.Empty(t, hub.methodCalls("checkUpload"))
		})
	}
}

func TestUniqueUploadPath(t *testing.T) {
	a, b := UniqueUploadPath("cli-build"), UniqueUploadPath("cli-build/")
	pattern := regexp.MustCompile(`^cli-build/[0-9]{10}\.[0-9]+\.[A-Za-z]{8}$`)
	assert.Regexp(t, pattern, a)
	assert.Regexp(t, pattern, b)
	assert.NotEqual(t, a, b)
}

func TestUploadErrorMessages(t *testing.T) {
	err := &UploadError{Path: "p", Name: "f", Offset: 32, Err: &UploadMismatchError{Field: "size", Want: "32", Got: "31"}}
	assert.Equal(t, "koji: upload p/f at offset 32: hub reports size 31, sent 32", err.Error())
	err = &UploadError{Path: "p", Name: "f", Offset: -1, Err: ErrUploadMissing}
	assert.Equal(t, "koji: upload p/f: koji: the hub has no file for the upload", err.Error())
}

// An upload with Offset appends to what the hub holds, by either method,
// and an empty append sends nothing.
func TestUploadAppendsAtOffset(t *testing.T) {
	for _, method := range []UploadMethod{UploadFast, UploadLegacy} {
		t.Run(fmt.Sprint(method), func(t *testing.T) {
			hub := newFilesHub(t)
			c := newFilesClient(t, hub.url(), nil, filesAdminSession, nil)
			ctx := context.Background()
			opts := &UploadOptions{Method: method, BlockSize: 4}
			require.NoError(t, c.Upload(ctx, strings.NewReader("line 1\n"), "tasks/1/1", "x.log", opts))
			opts.Offset = 7
			require.NoError(t, c.Upload(ctx, strings.NewReader("line 2\n"), "tasks/1/1", "x.log", opts))
			calls := len(hub.rawRequests()) + len(hub.methodCalls("uploadFile"))
			require.NoError(t, c.Upload(ctx, strings.NewReader(""), "tasks/1/1", "x.log", opts))
			assert.Equal(t, calls, len(hub.rawRequests())+len(hub.methodCalls("uploadFile")), "an empty append sends nothing")
			stored, _ := hub.file("", "tasks/1/1", "x.log")
			assert.Equal(t, "line 1\nline 2\n", string(stored))

			opts.Offset = -1
			assert.ErrorContains(t, c.Upload(ctx, strings.NewReader("x"), "tasks/1/1", "x.log", opts), "negative")
		})
	}
}
