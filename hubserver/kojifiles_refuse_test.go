package hubserver_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/hubserver/hubtest"
	"github.com/gokoji/gokoji/koji"
)

// tree lists the files and directories under dir with their contents, to
// show what a call left behind.
func tree(t *testing.T, dir string) map[string]string {
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out[rel] = "-> " + target
		case d.IsDir():
			out[rel+"/"] = ""
		default:
			data, err := os.ReadFile(p)
			require.NoError(t, err)
			out[rel] = string(data)
		}
		return nil
	})
	if os.IsNotExist(err) {
		return out
	}
	require.NoError(t, err)
	return out
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestKojiTaskDirectoryIsTheHosts shows that only the host holding a task
// OPEN writes into its directory.
func TestKojiTaskDirectoryIsTheHosts(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		fh := startFilesHub(t, dsn, nil)
		require.NoError(t, fh.admin.Call(ctx, "addHost", nil, "builder2", []any{"x86_64"}))
		other := hostClient(t, fh.kojiHub, "builder2")
		os2 := subsession(t, fh.kojiHub, other)
		// Without an exclusive session a host is refused like upstream's
		// Host.verify.
		v, f := os2.upload(t, chunkQuery("x.log", "tasks/1/1", 0), []byte("x"))
		assert.Equal(t, "This method requires an exclusive session", faultOf(t, 1002, v, f))
		require.NoError(t, other.Call(ctx, "exclusiveSession", nil))
		v, f = os2.upload(t, chunkQuery("x.log", "tasks/1/1", 0), []byte("x"))
		assert.Equal(t, "host 2 does not own task 1", faultOf(t, 1004, v, f))
		v, f = os2.call(t, "uploadFile", []any{"tasks/1/1", "x.log", 1, nil, 0, b64("x")}, nil)
		assert.Equal(t, "host 2 does not own task 1", faultOf(t, 1004, v, f))
		err := other.Upload(ctx, strings.NewReader("x"), "tasks/1/1", "x.log", nil)
		var kf *koji.Fault
		require.ErrorAs(t, err, &kf)
		assert.Equal(t, "host 2 does not own task 1", kf.String)

		hs := subsession(t, fh.kojiHub, fh.host)
		for dir, want := range map[string]string{
			"tasks/1":             "Invalid task upload directory: tasks/1",
			"tasks":               "Invalid task upload directory: tasks",
			"tasks/1/one":         "Invalid task upload directory: tasks/1/one",
			"./tasks/x/../1/99/a": "No such task: 99",
		} {
			v, f = hs.upload(t, chunkQuery("x.log", dir, 0), []byte("x"))
			assert.Equal(t, want, faultOf(t, 1000, v, f), dir)
		}
		// Any second part is accepted, and subdirectories of the task's.
		v, f = hs.upload(t, chunkQuery("x.log", "tasks/7/1/sub", 0), []byte("x"))
		require.Nil(t, f, "%v", v)
		// A task that is no longer OPEN is nobody's to write.
		require.NoError(t, fh.koji.TaskTx(ctx, 1, func(ctx context.Context) error {
			return fh.koji.CloseTaskForTest(ctx, 1, "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><nil/></value></param>\n</params>\n</methodResponse>\n", 2)
		}))
		v, f = hs.upload(t, chunkQuery("y.log", "tasks/1/1", 0), []byte("y"))
		assert.Equal(t, "host 1 does not own task 1", faultOf(t, 1004, v, f))
		assert.Equal(t, map[string]string{"./": "", "work/": "", "work/tasks/": "", "work/tasks/7/": "", "work/tasks/7/1/": "",
			"work/tasks/7/1/sub/": "", "work/tasks/7/1/sub/x.log": "x"}, tree(t, fh.top), "refused uploads left nothing")

		// Anonymous callers do not upload. With a query string and no
		// session headers, upstream's session check looks for the session
		// in the query string (a pre-1.31 client) and refuses first.
		anon := &session{kh: fh.kojiHub}
		v, f = anon.upload(t, chunkQuery("x.log", "anon", 0), []byte("x"))
		assert.Equal(t, "'session-id' not specified in session args", faultOf(t, 1002, v, f))
		v, f = anon.upload(t, nil, []byte("x"))
		assert.Equal(t, "you must be logged-in to upload a file", faultOf(t, 1004, v, f))
		v, f = anon.call(t, "uploadFile", []any{"anon", "x.log", 1, nil, 0, b64("x")}, nil)
		assert.Equal(t, "you must be logged in for this operation", faultOf(t, 1004, v, f))
	})
}

// TestKojiUploadHostilePaths tries to leave the top directory with names,
// "..", absolute paths and symbolic links.
func TestKojiUploadHostilePaths(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		fh := startFilesHub(t, dsn, nil)
		require.NoError(t, fh.koji.SetPassword(ctx, "kojiadmin", "pw"))
		as := loginSession(t, fh.kojiHub, "kojiadmin", "pw")
		outside := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o600))
		work := filepath.Join(fh.top, "work")
		require.NoError(t, os.MkdirAll(filepath.Join(work, "own"), 0o777))
		require.NoError(t, os.WriteFile(filepath.Join(work, "own", ".user"), []byte("1"), 0o666))
		require.NoError(t, os.Symlink(outside, filepath.Join(work, "escape")))
		require.NoError(t, os.Symlink(filepath.Join(outside, "secret"), filepath.Join(work, "own", "secret.log")))
		require.NoError(t, os.WriteFile(filepath.Join(work, "own", "target"), []byte("t"), 0o666))
		require.NoError(t, os.Symlink("target", filepath.Join(work, "own", "inner.log")))
		before := tree(t, fh.top)

		type bad struct {
			dir, name string
			code      int
			want      string
		}
		for _, c := range []bad{
			{"x", "../secret", 1000, "Invalid upload filename: ../secret"},
			{"x", "a/b", 1000, "Invalid upload filename: a/b"},
			{"x", ".user", 1000, "Invalid upload filename: .user"},
			{"..", "f", 1000, "Invalid upload directory: .."},
			{"../../etc", "f", 1000, "Invalid upload directory: ../../etc"},
			{"a/../../b", "f", 1000, "Invalid upload directory: a/../../b"},
			{"..hidden", "f", 1000, "Invalid upload directory: ..hidden"},
			{"/etc", "passwd", 1, "<class 'ValueError'>: Invalid path segment: /etc"},
			{"//etc", "passwd", 1, "<class 'ValueError'>: Invalid path segment: //etc"},
			{"escape", "f", 1000, "path leaves the hub's directory: " + filepath.Join(work, "escape", ".user")},
			{"escape/sub", "f", 1000, "path leaves the hub's directory: " + filepath.Join(work, "escape", "sub", ".user")},
			{"own", "secret.log", 1000, "destination not a file: " + filepath.Join(work, "own", "secret.log")},
			{"own", "inner.log", 1000, "destination not a file: " + filepath.Join(work, "own", "inner.log")},
			{"own", "", 1000, "destination not a file: " + filepath.Join(work, "own") + "/."},
		} {
			v, f := as.call(t, "uploadFile", []any{c.dir, c.name, 5, nil, -1, b64("pwned")}, nil)
			assert.Equal(t, c.want, faultOf(t, c.code, v, f), "uploadFile to %q %q", c.dir, c.name)
			if c.name == "" {
				// parse_qs drops a blank filename.
				c.code, c.want = 1, "<class 'KeyError'>: 'filename'"
			}
			v, f = as.upload(t, chunkQuery(c.name, c.dir, 0, "overwrite", "1"), []byte("pwned"))
			assert.Equal(t, c.want, faultOf(t, c.code, v, f), "raw upload to %q %q", c.dir, c.name)
		}
		for _, c := range []bad{
			{"escape", "secret", 1000, "path leaves the hub's directory: " + filepath.Join(work, "escape", "secret")},
			{"own", "secret.log", 1000, "path leaves the hub's directory: " + filepath.Join(work, "own", "secret.log")},
			{"own", "inner.log", 1000, "Not a regular file: " + filepath.Join(work, "own", "inner.log")},
			{"../x", "f", 1000, "Invalid upload directory: ../x"},
		} {
			v, f := as.call(t, "checkUpload", []any{c.dir, c.name}, map[string]any{"verify": "sha256"})
			assert.Equal(t, c.want, faultOf(t, c.code, v, f), "checkUpload %q %q", c.dir, c.name)
		}
		assert.Equal(t, before, tree(t, fh.top), "nothing changed in the top directory")
		assert.Equal(t, map[string]string{"./": "", "secret": "secret"}, tree(t, outside), "nothing changed outside")

		// Task output: names with "..", and links out of the tree.
		taskDir := filepath.Join(work, "tasks", "1", "1")
		require.NoError(t, os.MkdirAll(taskDir, 0o777))
		require.NoError(t, os.WriteFile(filepath.Join(taskDir, "ok.log"), []byte("ok"), 0o666))
		require.NoError(t, os.Symlink(filepath.Join(outside, "secret"), filepath.Join(taskDir, "leak.log")))
		require.NoError(t, os.Symlink(outside, filepath.Join(taskDir, "leakdir")))
		require.NoError(t, os.Symlink("ok.log", filepath.Join(taskDir, "alias.log")))
		var names []string
		require.NoError(t, fh.admin.Call(ctx, "listTaskOutput", &names, 1))
		// listed as upstream's os.walk lists them (a link to a directory
		// not); only the link's name and stat are read, never its target
		assert.Equal(t, []string{"alias.log", "leak.log", "ok.log"}, names)
		for name, want := range map[string]string{
			"../../../own/target": "Invalid file name: ../../../own/target",
			"leak.log":            `no file "leak.log" output by task 1`,
			"leakdir/secret":      `no file "leakdir/secret" output by task 1`,
			"nothing":             `no file "nothing" output by task 1`,
			"":                    `no file "" output by task 1`,
		} {
			err := fh.admin.Call(ctx, "downloadTaskOutput", nil, 1, name)
			var kf *koji.Fault
			require.ErrorAs(t, err, &kf, name)
			assert.Equal(t, want, kf.String, name)
		}
		var got string
		require.NoError(t, fh.admin.Call(ctx, "downloadTaskOutput", &got, 1, "/ok.log"))
		assert.Equal(t, b64("ok"), got, "a leading slash stays in the task's directory, as upstream's normpath")
	})
}

// TestKojiUploadBadInput sends malformed uploads: each faults (or answers
// False) and leaves nothing behind.
func TestKojiUploadBadInput(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		fh := startFilesHub(t, dsn, nil)
		require.NoError(t, fh.koji.SetPassword(ctx, "kojiadmin", "pw"))
		as := loginSession(t, fh.kojiHub, "kojiadmin", "pw")
		empty := tree(t, fh.top)

		q := chunkQuery("f.log", "bad/dir", 0)
		q.Del("filename")
		v, f := as.upload(t, q, []byte("x"))
		assert.Equal(t, "<class 'KeyError'>: 'filename'", faultOf(t, 1, v, f))
		v, f = as.upload(t, chunkQuery("f.log", "bad/dir", 0, "offset", "ten"), []byte("x"))
		assert.Equal(t, "<class 'ValueError'>: invalid literal for int() with base 10: 'ten'", faultOf(t, 1, v, f))
		v, f = as.upload(t, chunkQuery("f.log", "bad/dir", 0, "offset", "-5"), []byte("x"))
		assert.Equal(t, "<class 'OSError'>: [Errno 22] Invalid argument", faultOf(t, 1, v, f))
		v, f = as.upload(t, chunkQuery("f.log", "bad/dir", 0, "fileverify", "crc32"), []byte("x"))
		assert.Equal(t, "Unsupported verify type: crc32", faultOf(t, 1000, v, f))
		q = chunkQuery("f.log", "bad/dir", 0)
		q.Del("fileverify")
		v, f = as.upload(t, q, []byte("x"))
		assert.Equal(t, "<class 'TypeError'>: 'NoneType' object is not callable", faultOf(t, 1, v, f))
		v, f = as.upload(t, chunkQuery("f.log", "bad/dir", 0, "volume", "nope"), []byte("x"))
		assert.Equal(t, "No such entry in table volume: nope", faultOf(t, 1000, v, f))
		resp := as.do(t, nil, "application/octet-stream", strings.NewReader("x"))
		v, f = decodeReply(t, resp)
		assert.Equal(t, "<class 'KeyError'>: 'filename'", faultOf(t, 1, v, f))

		call := func(args ...any) (any, string) {
			v, f := as.call(t, "uploadFile", args, nil)
			if f != nil {
				return nil, f.String
			}
			return v, ""
		}
		// A chunk of another size or digest is refused before anything is made.
		v, fs := call("bad/dir", "f.txt", 6, []any{"sha256", sha256Hex("hello")}, 0, b64("hello"))
		assert.Equal(t, false, v, fs)
		v, fs = call("bad/dir", "f.txt", 5, []any{"sha256", sha256Hex("hellO")}, 0, b64("hello"))
		assert.Equal(t, false, v, fs)
		v, fs = call("bad/dir", "f.txt", 5, "5d41402abc4b2a76b9719d911017c592", 0, b64("hellO"))
		assert.Equal(t, false, v, fs, "a string checksum is an MD5 digest")
		_, fs = call("bad/dir", "f.txt", 5, []any{"crc", "0"}, 0, b64("hello"))
		assert.Equal(t, "Unsupported verify type: crc", fs)
		_, fs = call("bad/dir", "f.txt", 5, []any{"sha256"}, 0, b64("hello"))
		assert.Equal(t, "<class 'ValueError'>: not enough values to unpack (expected 2, got 1)", fs)
		_, fs = call("bad/dir", "f.txt", "five", nil, 0, b64("hello"))
		assert.Equal(t, "<class 'ValueError'>: invalid literal for int() with base 10: 'five'", fs)
		_, fs = call("bad/dir", "f.txt", 5, nil, -2, b64("hello"))
		assert.Equal(t, "<class 'OSError'>: [Errno 22] Invalid argument", fs)
		_, fs = call("bad/dir", "f.txt", 5, nil, 0, "aGVsbG8")
		assert.Equal(t, "<class 'binascii.Error'>: Incorrect padding", fs)
		// The final call of a file whose whole digest does not match (here:
		// a size beyond what was sent) answers False and undoes the file.
		v, fs = call("bad/dir", "f.txt", 1000, []any{"sha256", sha256Hex("hello")}, -1, b64("hello"))
		assert.Equal(t, false, v, fs)
		assert.Equal(t, empty, tree(t, fh.top), "refused uploads left nothing")

		// A good file; then a bad final call leaves it as it was.
		v, fs = call("bad/dir", "f.txt", 5, []any{"sha256", sha256Hex("hello")}, 0, b64("hello"))
		require.Equal(t, true, v, fs)
		v, fs = call("bad/dir", "f.txt", 6, []any{"sha256", sha256Hex("hello!")}, -1, b64("!"))
		require.Equal(t, true, v, fs)
		v, fs = call("bad/dir", "f.txt", 4, []any{"sha256", sha256Hex("hello")}, -1, "")
		assert.Equal(t, false, v, fs)
		v, fs = call("bad/dir", "f.txt", 6, []any{"sha256", sha256Hex("hello!")}, -1, "")
		assert.Equal(t, true, v, fs, "the final call may be repeated")
		_, fs = call("bad/dir", "f.txt", 5, nil, 0, b64("again"))
		assert.Equal(t, "file already exists: "+filepath.Join(fh.top, "work", "bad", "dir", "f.txt"), fs)
		// .log files may start again, for real-time log viewing.
		for _, s := range []string{"first version", "second"} {
			v, fs = call("bad/dir", "build.log", len(s), nil, 0, b64(s))
			require.Equal(t, true, v, fs)
		}
		// A final chunk that is the whole file replaces it.
		v, fs = call("bad/dir", "whole.txt", 3, []any{"sha256", sha256Hex("abc")}, -1, b64("abc"))
		require.Equal(t, true, v, fs)
		v, f = as.upload(t, chunkQuery("f.txt", "bad/dir", 0), []byte("x"))
		assert.Equal(t, "upload path exists: "+filepath.Join(fh.top, "work", "bad", "dir", "f.txt"), faultOf(t, 1000, v, f))
		assert.Equal(t, map[string]string{"./": "", "work/": "", "work/bad/": "", "work/bad/dir/": "", "work/bad/dir/.user": "1",
			"work/bad/dir/f.txt": "hello!", "work/bad/dir/build.log": "second", "work/bad/dir/whole.txt": "abc"}, tree(t, fh.top))

		// Appending (offset -1) and overwriting at an offset.
		v, f = as.upload(t, chunkQuery("f.txt", "bad/dir", -1), []byte(" more"))
		require.Nil(t, f)
		assert.EqualValues(t, 6, v.(map[string]any)["offset"])
		v, f = as.upload(t, chunkQuery("f.txt", "bad/dir", 3), []byte("p"))
		require.Nil(t, f)
		assert.Equal(t, map[string]any{"size": int64(1), "offset": int64(3), "fileverify": "adler32", "hexdigest": "00710071"}, v)
		data, err := os.ReadFile(filepath.Join(fh.top, "work", "bad", "dir", "f.txt"))
		require.NoError(t, err)
		assert.Equal(t, "help", string(data), "a chunk cuts the file at its end, as upstream")
	})
}

// TestKojiUploadTimeout stalls an upload's body: the hub answers 408,
// keeps serving other calls meanwhile (the body is read before the call's
// transaction starts, which on SQLite every other call would wait for),
// and leaves nothing behind. A body cut short is answered 400.
func TestKojiUploadTimeout(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		fh := startFilesHub(t, dsn, func(cfg *hubserver.KojiConfig) { cfg.ReadTimeout = 1500 * time.Millisecond })
		require.NoError(t, fh.koji.SetPassword(ctx, "kojiadmin", "pw"))
		as := loginSession(t, fh.kojiHub, "kojiadmin", "pw")
		empty := tree(t, fh.top)

		pr, pw := io.Pipe()
		req, err := http.NewRequest(http.MethodPost, fh.hub.URL()+"?"+chunkQuery("slow.log", "slow", 0).Encode(), pr)
		require.NoError(t, err)
		req.ContentLength = 100
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set("Koji-Session-Id", fmt.Sprint(as.id))
		req.Header.Set("Koji-Session-Key", as.key)
		req.Header.Set("Koji-Session-Callnum", "1000")
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: fh.pki.ClientTLS(false)}}
		type result struct {
			resp *http.Response
			err  error
		}
		done := make(chan result)
		go func() {
			resp, err := hc.Do(req)
			done <- result{resp, err}
		}()
		_, err = pw.Write([]byte("the first part"))
		require.NoError(t, err)
		start := time.Now()
		var me map[string]any
		require.NoError(t, fh.admin.Call(ctx, "getLoggedInUser", &me))
		assert.Less(t, time.Since(start), time.Second, "other calls go on while an upload's body is awaited")
		res := <-done
		pw.Close()
		require.NoError(t, res.err)
		body, _ := io.ReadAll(res.resp.Body)
		res.resp.Body.Close()
		assert.Equal(t, http.StatusRequestTimeout, res.resp.StatusCode, string(body))
		assert.Equal(t, "1.35.3", res.resp.Header.Get("Koji-Version"))
		assert.Equal(t, empty, tree(t, fh.top))

		// A body shorter than its Content-Length.
		conn, err := tls.Dial("tcp", fh.hub.Addr().String(), fh.pki.ClientTLS(false))
		require.NoError(t, err)
		defer conn.Close()
		fmt.Fprintf(conn, "POST /kojihub?%s HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"+
			"Content-Length: 100\r\nKoji-Session-Id: %d\r\nKoji-Session-Key: %s\r\nKoji-Session-Callnum: 1001\r\n\r\nshort",
			chunkQuery("short.log", "slow", 0).Encode(), as.id, as.key)
		require.NoError(t, conn.CloseWrite())
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		require.NoError(t, err)
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, string(body))
		assert.Equal(t, "Invalid request: unexpected EOF\n", string(body))
		assert.Equal(t, empty, tree(t, fh.top))

		// The session goes on: the failed calls did not take their callnums.
		as.ok(t, "checkUpload", []any{"slow", "slow.log"}, nil)

		// Without the spooling middleware the upload handler reads the body
		// itself, and the hub's own rule answers 408.
		cfg := fh.koji.HubConfig()
		cfg.Middleware = nil
		bare, pki := hubtest.StartTLS(t, cfg, "kojiadmin", func(h *hubserver.Hub) { require.NoError(t, h.Register(fh.koji.Methods()...)) })
		bs := loginSession(t, &kojiHub{koji: fh.koji, hub: bare, pki: pki}, "kojiadmin", "pw")
		pr, pw = io.Pipe()
		go func() {
			pw.Write([]byte("the first part"))
			time.Sleep(3 * time.Second)
			pw.Close()
		}()
		resp = bs.do(t, chunkQuery("bare.log", "slow", 0), "application/octet-stream", pr)
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusRequestTimeout, resp.StatusCode, string(body))
		assert.Equal(t, empty, tree(t, fh.top))
	})
}

// TestKojiFilesWithoutTopDir shows the file methods of a hub without a
// top directory.
func TestKojiFilesWithoutTopDir(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		c := kh.sslClient(t, "")
		const msg = "the hub has no top directory (KojiDir) for files"
		assert.Equal(t, msg, faultString(t, c, koji.ErrGeneric, "checkUpload", []any{"a", "b"}, nil))
		assert.Equal(t, msg, faultString(t, c, koji.ErrGeneric, "uploadFile", []any{"a", "b", 1, nil, 0, b64("x")}, nil))
		assert.Equal(t, msg, faultString(t, c, koji.ErrGeneric, "downloadTaskOutput", []any{1, "x.log"}, nil))
		err := c.Upload(ctx, strings.NewReader("x"), "a", "b", &koji.UploadOptions{Method: koji.UploadFast})
		var kf *koji.Fault
		require.ErrorAs(t, err, &kf)
		assert.Equal(t, msg, kf.String)
		var names []string
		require.NoError(t, c.Call(ctx, "listTaskOutput", &names, 1))
		assert.Equal(t, []string{}, names)
		var stats map[string]any
		require.NoError(t, c.CallKw(ctx, "listTaskOutput", &stats, []any{1}, map[string]any{"stat": true}))
		assert.Empty(t, stats)
	})
}

// TestKojiUploadLockOut shows that the raw upload obeys LockOut: only
// administrators upload while the hub is locked out.
func TestKojiUploadLockOut(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		top := t.TempDir()
		kh := startKoji(t, dsn, func(cfg *hubserver.KojiConfig) { cfg.LockOut, cfg.TopDir = true, top })
		bob := withBob(t, kh)
		bs := &session{kh: kh, id: bob.id, key: bob.key}
		v, f := bs.upload(t, chunkQuery("b.log", "bob", 0), []byte("b"))
		assert.Equal(t, "Server disabled for maintenance", faultOf(t, 1014, v, f))
		admin := kh.sslClient(t, "")
		require.NoError(t, admin.Upload(ctx, strings.NewReader("a"), "admin", "a.log", &koji.UploadOptions{Method: koji.UploadFast}))
		assert.Equal(t, map[string]string{"./": "", "work/": "", "work/admin/": "", "work/admin/.user": "1", "work/admin/a.log": "a"},
			tree(t, top))
	})
}
