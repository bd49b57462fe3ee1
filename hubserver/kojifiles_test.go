package hubserver_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/auth"
	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// filesHub is a Koji hub with a top directory, an admin client, and a
// host builder1 in an exclusive session holding task 1 OPEN.
type filesHub struct {
	*kojiHub
	top    string
	admin  *koji.Client
	host   *koji.Client
	hostID int64
	task   int64
}

func startFilesHub(t *testing.T, dsn string, edit func(*hubserver.KojiConfig)) *filesHub {
	ctx := context.Background()
	// A Koji installation's top directory, with its work directory.
	top := filepath.Join(t.TempDir(), "koji")
	require.NoError(t, os.MkdirAll(filepath.Join(top, "work"), 0o777))
	kh := startKoji(t, dsn, func(cfg *hubserver.KojiConfig) {
		cfg.TopDir = top
		if edit != nil {
			edit(cfg)
		}
	})
	fh := &filesHub{kojiHub: kh, top: top, admin: kh.sslClient(t, "")}
	require.NoError(t, fh.admin.Call(ctx, "addHost", nil, "builder1", []any{"x86_64"}))
	fh.host = hostClient(t, kh, "builder1")
	require.NoError(t, fh.host.Call(ctx, "exclusiveSession", nil))
	require.NoError(t, fh.host.Call(ctx, "host.getID", &fh.hostID))
	fh.task = fh.openTask(t)
	require.EqualValues(t, 1, fh.task, "the recorded exchanges used task 1")
	return fh
}

// openTask makes a task owned by kojiadmin and opens it on builder1.
func (fh *filesHub) openTask(t *testing.T) int64 {
	var id int64
	require.NoError(t, fh.koji.TaskTx(context.Background(), 1, func(ctx context.Context) error {
		var err error
		if id, err = fh.koji.MakeTaskForTest(ctx, "sleep", []any{int64(1)}, hubserver.TaskOpts{}); err != nil {
			return err
		}
		info, err := fh.koji.OpenTaskForTest(ctx, id, fh.hostID)
		if err == nil && info == nil {
			err = fmt.Errorf("task %d did not open", id)
		}
		return err
	}))
	return id
}

// A session sends raw uploads and calls by hand, with its own callnums.
type session struct {
	kh      *kojiHub
	id      int64
	key     string
	callnum int
}

// subsession returns a subsession of c's session (as kojid forks one per
// task), so that hand-made calls do not disturb c's callnums.
func subsession(t *testing.T, kh *kojiHub, c *koji.Client) *session {
	var s koji.SessionInfo
	require.NoError(t, c.Call(context.Background(), "subsession", &s))
	return &session{kh: kh, id: s.ID, key: s.Key}
}

func loginSession(t *testing.T, kh *kojiHub, user, password string) *session {
	r := kh.passwordLogin(t, user, password)
	return &session{kh: kh, id: r.id, key: r.key}
}

func (s *session) do(t *testing.T, query url.Values, contentType string, body io.Reader) *http.Response {
	u := s.kh.hub.URL()
	if query != nil {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequest(http.MethodPost, u, body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", contentType)
	if s.id != 0 {
		req.Header.Set("Koji-Session-Id", fmt.Sprint(s.id))
		req.Header.Set("Koji-Session-Key", s.key)
		req.Header.Set("Koji-Session-Callnum", fmt.Sprint(s.callnum))
		s.callnum++
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: s.kh.pki.ClientTLS(false)}}
	resp, err := hc.Do(req)
	require.NoError(t, err)
	return resp
}

func decodeReply(t *testing.T, resp *http.Response) (any, *xmlrpc.Fault) {
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var v any
	err := xmlrpc.NewDecoder(resp.Body).DecodeResponse(&v)
	if f, ok := err.(*xmlrpc.Fault); ok {
		return nil, f
	}
	require.NoError(t, err)
	return v, nil
}

// upload sends one raw upload chunk.
func (s *session) upload(t *testing.T, query url.Values, body []byte) (any, *xmlrpc.Fault) {
	return decodeReply(t, s.do(t, query, "application/octet-stream", bytes.NewReader(body)))
}

// call sends an XML-RPC call, kwargs the Koji way.
func (s *session) call(t *testing.T, method string, args []any, kwargs map[string]any) (any, *xmlrpc.Fault) {
	if kwargs != nil {
		kw := map[string]any{"__starstar": true}
		for k, v := range kwargs {
			kw[k] = v
		}
		args = append(args, kw)
	}
	body, err := xmlrpc.MarshalCall(method, args...)
	require.NoError(t, err)
	return decodeReply(t, s.do(t, nil, "text/xml", bytes.NewReader(body)))
}

func (s *session) ok(t *testing.T, method string, args []any, kwargs map[string]any) any {
	t.Helper()
	v, f := s.call(t, method, args, kwargs)
	require.Nil(t, f, "%s", method)
	return v
}

// faultOf requires a fault of code and returns its string.
func faultOf(t *testing.T, code int, v any, f *xmlrpc.Fault) string {
	t.Helper()
	require.NotNil(t, f, "expected a fault, got %v", v)
	assert.Equal(t, code, f.Code, f.String)
	return f.String
}

func chunkQuery(name, dir string, offset int64, extra ...string) url.Values {
	q := url.Values{"filename": {name}, "filepath": {dir}, "fileverify": {"adler32"}, "offset": {fmt.Sprint(offset)}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return q
}

func wireFile(t *testing.T, name string) []byte {
	data, err := os.ReadFile(filepath.Join("..", "internal", "kojitest", "testdata", "wire", name))
	require.NoError(t, err)
	return data
}

// TestKojiHostUploadsTaskOutput replays the builder's recorded upload
// into its task's directory, then reads the output back as the recorded
// listTaskOutput and downloadTaskOutput did.
func TestKojiHostUploadsTaskOutput(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		fh := startFilesHub(t, dsn, nil)
		hs := subsession(t, fh.kojiHub, fh.host)
		body := wireFile(t, "host_fastUpload.2.request.bin")

		v, f := hs.call(t, "checkUpload", []any{"tasks/1/1", "sleep.log"}, nil)
		require.Nil(t, f)
		assert.Equal(t, recorded(t, "host_fastUpload"), v)
		// The recorded URL, query string as kojid sent it.
		rec, err := url.Parse("https://127.0.0.1:8443/kojihub?filename=sleep.log&filepath=tasks%2F1%2F1&fileverify=adler32&offset=0&overwrite=1")
		require.NoError(t, err)
		v, f = hs.upload(t, rec.Query(), body)
		require.Nil(t, f)
		sameMembers(t, recorded(t, "host_fastUpload.2"), v)
		v, f = hs.call(t, "checkUpload", []any{"tasks/1/1", "sleep.log"}, nil)
		require.Nil(t, f)
		sameMembers(t, recorded(t, "host_fastUpload.3"), v, "mtime")
		fi, err := os.Stat(filepath.Join(fh.top, "work", "tasks", "1", "1", "sleep.log"))
		require.NoError(t, err)
		assert.InDelta(t, float64(fi.ModTime().UnixNano())/1e9, v.(map[string]any)["mtime"], 1e-6)
		_, err = os.Stat(filepath.Join(fh.top, "work", "tasks", "1", "1", ".user"))
		assert.ErrorIs(t, err, os.ErrNotExist, "a task's directory has no .user")

		var out any
		require.NoError(t, fh.admin.CallKw(ctx, "listTaskOutput", &out, []any{1}, map[string]any{"stat": true}))
		want := recorded(t, "listTaskOutput").(map[string]any)
		got := out.(map[string]any)
		require.Len(t, got, len(want))
		sameMembers(t, want["sleep.log"], got["sleep.log"], "st_atime", "st_ctime", "st_mtime")
		var b64 string
		require.NoError(t, fh.admin.CallKw(ctx, "downloadTaskOutput", &b64, []any{1, "sleep.log"}, map[string]any{"offset": 0, "size": -1}))
		assert.Equal(t, recorded(t, "downloadTaskOutput"), b64)

		// The Go client's uploader, as kojid's uploadWrapper, with small
		// chunks; the typed readers get the files back.
		logs := strings.Repeat("a log line\n", 5000)
		require.NoError(t, fh.host.Upload(ctx, strings.NewReader(logs), "tasks/1/1", "build.log",
			&koji.UploadOptions{BlockSize: 8000, Overwrite: true}))
		require.NoError(t, fh.host.Upload(ctx, strings.NewReader("sub"), "tasks/1/1/x86_64", "root.log",
			&koji.UploadOptions{Method: koji.UploadLegacy}))
		files, err := fh.admin.ListTaskOutput(ctx, 1, &koji.ListTaskOutputOptions{Stat: true, AllVolumes: true})
		require.NoError(t, err)
		sizes := map[string]int64{}
		for _, f := range files {
			assert.Equal(t, "DEFAULT", f.Volume)
			sizes[f.Name] = f.Stat.Size
		}
		assert.Equal(t, map[string]int64{"build.log": int64(len(logs)), "sleep.log": int64(len(body)), "x86_64/root.log": 3}, sizes)
		var names []string
		require.NoError(t, fh.admin.Call(ctx, "listTaskOutput", &names, 1))
		assert.Equal(t, []string{"build.log", "sleep.log", "x86_64/root.log"}, names)
		rc, err := fh.admin.TaskOutput(ctx, 1, "build.log", nil)
		require.NoError(t, err)
		got2, err := io.ReadAll(rc)
		rc.Close()
		require.NoError(t, err)
		assert.Equal(t, logs, string(got2))
	})
}

// TestKojiUserUploads replays the recorded uploads of a user outside the
// task tree: the raw upload with its checkUpload and the legacy uploadFile
// calls, and checks the first uploader owns the directory.
func TestKojiUserUploads(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		fh := startFilesHub(t, dsn, nil)
		require.NoError(t, fh.koji.SetPassword(ctx, "kojiadmin", "pw"))
		as := loginSession(t, fh.kojiHub, "kojiadmin", "pw")
		dir := "anchor-wire/1795311651"

		rec, err := url.Parse("https://127.0.0.1:8443/kojihub?filename=fast.log&filepath=anchor-wire%2F1795311651&fileverify=adler32&offset=0")
		require.NoError(t, err)
		v, f := as.upload(t, rec.Query(), wireFile(t, "rawUpload.request.bin"))
		require.Nil(t, f)
		sameMembers(t, recorded(t, "rawUpload"), v)
		v = as.ok(t, "checkUpload", []any{dir, "fast.log"}, nil)
		sameMembers(t, recorded(t, "rawUpload.2"), v, "mtime")

		for _, name := range []string{"uploadFile", "uploadFile_final"} {
			c, err := xmlrpc.DecodeCall(wireFile(t, name+".request.xml"))
			require.NoError(t, err)
			var params []any
			for _, p := range c.Params {
				var x any
				require.NoError(t, p.Decode(&x))
				params = append(params, x)
			}
			v = as.ok(t, "uploadFile", params, nil)
			assert.Equal(t, recorded(t, name), v, name)
		}
		v = as.ok(t, "checkUpload", []any{dir, "legacy.txt"}, map[string]any{"verify": "adler32"})
		sameMembers(t, recorded(t, "checkUpload"), v, "mtime")
		v = as.ok(t, "checkUpload", []any{dir, "legacy.txt"}, map[string]any{"verify": "sha256", "tail": 20})
		assert.EqualValues(t, 20, v.(map[string]any)["sumlength"])
		tailSum := sha256.Sum256([]byte("legacy upload chunk\n"))
		assert.Equal(t, hex.EncodeToString(tailSum[:]), v.(map[string]any)["hexdigest"])
		owner, err := os.ReadFile(filepath.Join(fh.top, "work", dir, ".user"))
		require.NoError(t, err)
		assert.Equal(t, "1", string(owner))

		// Another user may not write there, nor into tasks/ at all.
		bob := withBob(t, fh.kojiHub)
		bs := &session{kh: fh.kojiHub, id: bob.id, key: bob.key, callnum: 10}
		v, f = bs.upload(t, chunkQuery("mine.log", dir, 0), []byte("x"))
		assert.Equal(t, "Invalid upload directory, not owner: "+dir, faultOf(t, 1000, v, f))
		v, f = bs.call(t, "uploadFile", []any{dir, "b.txt", 1, nil, 0, "eA=="}, nil)
		assert.Equal(t, "Invalid upload directory, not owner: "+dir, faultOf(t, 1000, v, f))
		v, f = bs.upload(t, chunkQuery("x.log", "tasks/1/1", 0), []byte("x"))
		assert.Equal(t, "User 3 is not a host", faultOf(t, 1002, v, f))
		// but may upload elsewhere, with the Go client too.
		bc := fh.client(t)
		require.NoError(t, bc.Login(ctx, &auth.Password{User: "bob", Password: "secret"}))
		require.NoError(t, bc.Upload(ctx, strings.NewReader("bob's"), "bob/dir", "b.txt", &koji.UploadOptions{Method: koji.UploadFast}))
		owner, err = os.ReadFile(filepath.Join(fh.top, "work", "bob", "dir", ".user"))
		require.NoError(t, err)
		assert.Equal(t, "3", string(owner))
	})
}
