package koji

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// defaultTaskOutputChunk is the chunk koji watch-logs reads task output in.
const defaultTaskOutputChunk = 16384

// TaskOutputOptions are the options of TaskOutput.
type TaskOutputOptions struct {
	// Volume is the storage volume holding the output; "" and "DEFAULT"
	// mean the default one.
	Volume string
	// Offset is where to start reading. A negative Offset counts from the
	// end of the file, and the rest of the file is then read in one call.
	Offset int64
	// ChunkSize is how many bytes each downloadTaskOutput call asks for;
	// zero means 16384, as koji watch-logs, and a negative value reads the
	// rest of the file in one call.
	ChunkSize int
}

// taskOutputArgs are downloadTaskOutput's keyword arguments, in upstream's
// order.
type taskOutputArgs struct {
	Offset int64  `xmlrpc:"offset"`
	Size   int64  `xmlrpc:"size"`
	Volume string `xmlrpc:"volume,omitempty"`
}

// TaskOutput reads the output file fileName of a task (a log, an rpm)
// through the hub's downloadTaskOutput call, chunk by chunk, until the hub
// returns an empty chunk. The first chunk is fetched before TaskOutput
// returns, so a missing file is reported here as a GenericError fault;
// later chunks are fetched as the reader is read, under ctx. The reader
// is not safe for concurrent use; Close stops it.
func (c *Client) TaskOutput(ctx context.Context, taskID int, fileName string, opts *TaskOutputOptions) (io.ReadCloser, error) {
	r := &taskOutputReader{c: c, ctx: ctx, taskID: taskID, fileName: fileName, chunk: defaultTaskOutputChunk}
	if opts != nil {
		r.offset = opts.Offset
		if opts.Volume != "DEFAULT" {
			r.volume = opts.Volume
		}
		if opts.ChunkSize != 0 {
			r.chunk = opts.ChunkSize
		}
	}
	if r.offset < 0 {
		r.chunk = -1 // offsets from the end move as the file grows
	}
	if err := r.fetch(); err != nil {
		return nil, err
	}
	return r, nil
}

type taskOutputReader struct {
	c        *Client
	ctx      context.Context // the reader's reads belong to TaskOutput's call
	taskID   int
	fileName string
	volume   string
	offset   int64
	chunk    int // -1: the rest of the file in one call

	buf  []byte // fetched, not yet read
	done bool
	err  error
}

func (r *taskOutputReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		switch {
		case r.err != nil:
			return 0, r.err
		case r.done:
			return 0, io.EOF
		}
		if err := r.fetch(); err != nil {
			r.err = err
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// fetch asks the hub for the next chunk.
func (r *taskOutputReader) fetch() error {
	if err := r.ctx.Err(); err != nil {
		return err
	}
	size := int64(r.chunk)
	if size < 0 {
		size = -1
	}
	var encoded string
	err := r.c.CallKw(r.ctx, "downloadTaskOutput", &encoded, []any{r.taskID, r.fileName},
		taskOutputArgs{Offset: r.offset, Size: size, Volume: r.volume})
	if err != nil {
		return err
	}
	data, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return fmt.Errorf("koji: downloadTaskOutput(%d, %q) at offset %d: %w", r.taskID, r.fileName, r.offset, err)
	}
	r.buf = data
	r.offset += int64(len(data))
	r.done = len(data) == 0 || size < 0
	return nil
}

func (r *taskOutputReader) Close() error {
	r.buf, r.done, r.err = nil, true, fs.ErrClosed
	return nil
}

// DownloadOptions are the options of Download and DownloadFile.
type DownloadOptions struct {
	// Resume makes DownloadFile continue a local file that already holds
	// the start of the download, asking the server for the rest with a
	// Range request, as koji download-build does for files whose size it
	// knows. Without it DownloadFile starts afresh.
	Resume bool
	// Size, when positive, is the size the file must have, such as an
	// rpm's or archive's size from the hub: a server announcing another
	// size is an error, and a complete local file is not fetched again.
	Size int64
	// Progress, when set, is called as data arrives with the bytes in
	// place so far and the total, or -1 when the server does not say.
	Progress func(done, total int64)
}

// A DownloadError reports a failed download.
type DownloadError struct {
	URL string
	// StatusCode and Status are set when the server refused the request.
	StatusCode int
	Status     string
	// Err is the cause when the server did not refuse: the transport's
	// error, a *DownloadMismatchError, an error writing the data, or the
	// context's error.
	Err error
}

func (e *DownloadError) Error() string {
	if e.StatusCode != 0 {
		return fmt.Sprintf("koji: download %s: server replied %s", e.URL, e.Status)
	}
	return fmt.Sprintf("koji: download %s: %v", e.URL, e.Err)
}

func (e *DownloadError) Unwrap() error { return e.Err }

// A DownloadMismatchError reports a server reply that does not fit the
// download: another size than expected, a range that does not start where
// the local data ends, or a local file longer than the remote one.
type DownloadMismatchError struct {
	Field string // "size" or "range start"
	Want  int64
	Got   int64
}

func (e *DownloadMismatchError) Error() string {
	return fmt.Sprintf("server reports %s %d, want %d", e.Field, e.Got, e.Want)
}

// FileURL returns the URL of rel, a path in the Koji file tree such as
// "packages/bash/5.2.26/3.fc41/x86_64/bash-5.2.26-3.fc41.x86_64.rpm", under
// the profile's topurl. A path with ".." elements is refused.
func (c *Client) FileURL(rel string) (string, error) {
	p := c.profile
	if p.TopURL == "" {
		return "", &ConfigError{Profile: p.Name, Option: "topurl", Err: errors.New("not set")}
	}
	top, err := url.Parse(p.TopURL)
	if err != nil || top.Host == "" || (top.Scheme != "http" && top.Scheme != "https") {
		return "", &ConfigError{Profile: p.Name, Option: "topurl", Err: fmt.Errorf("%q is not an http(s) URL", p.TopURL)}
	}
	var elems []string
	for _, elem := range strings.Split(strings.Trim(rel, "/"), "/") {
		if elem == ".." {
			return "", &DownloadError{URL: rel, Err: errors.New("path leaves topurl")}
		}
		elems = append(elems, url.PathEscape(elem))
	}
	return top.JoinPath(elems...).String(), nil
}

// Download copies the file at rawURL (an http or https URL, such as one
// from FileURL) to w and returns the bytes written. A transient failure
// (a broken connection, 5xx, 408, 429) is retried under the client's
// RetryPolicy, asking with a Range request for what w lacks; from a server
// that ignores Range the part already written is skipped. The size the
// server announces (Content-Length, Content-Range) is checked.
func (c *Client) Download(ctx context.Context, rawURL string, w io.Writer, opts *DownloadOptions) (int64, error) {
	if c.closed.Load() {
		return 0, ErrClosed
	}
	d, err := newDownload(rawURL, opts)
	if err != nil {
		return 0, err
	}
	d.w = w
	err = c.download(ctx, d)
	return d.written, err
}

// DownloadFile downloads the file at rawURL into localPath as Download
// does. With Resume, a local file is continued from its size. A partial
// file stays in place after a failure, for a later Resume; a file that
// received nothing is removed, as the koji CLI does.
func (c *Client) DownloadFile(ctx context.Context, rawURL, localPath string, opts *DownloadOptions) (err error) {
	if c.closed.Load() {
		return ErrClosed
	}
	d, err := newDownload(rawURL, opts)
	if err != nil {
		return err
	}
	_, statErr := os.Lstat(localPath)
	existed := statErr == nil
	flags := os.O_WRONLY | os.O_CREATE
	if !d.opts.Resume {
		flags |= os.O_TRUNC
	}
	f, err := os.OpenFile(localPath, flags, 0o644)
	if err != nil {
		return &DownloadError{URL: d.url, Err: err}
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = &DownloadError{URL: d.url, Err: cerr}
		}
		if err != nil && !existed && d.written == 0 {
			os.Remove(localPath)
		}
	}()
	if d.written, err = f.Seek(0, io.SeekEnd); err != nil {
		return &DownloadError{URL: d.url, Err: err}
	}
	if size := d.opts.Size; size > 0 && d.written >= size {
		if d.written > size {
			return &DownloadError{URL: d.url, Err: &DownloadMismatchError{Field: "size", Want: size, Got: d.written}}
		}
		return nil // already complete
	}
	d.w = f
	d.restart = func() error {
		if err := f.Truncate(0); err != nil {
			return err
		}
		_, err := f.Seek(0, io.SeekStart)
		return err
	}
	return c.download(ctx, d)
}

// download is one download in progress.
type download struct {
	url     string
	opts    DownloadOptions
	w       io.Writer
	written int64        // bytes in place at the destination
	restart func() error // empties the destination; nil when it cannot be
}

func newDownload(rawURL string, opts *DownloadOptions) (*download, error) {
	d := &download{url: rawURL}
	if opts != nil {
		d.opts = *opts
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, &DownloadError{URL: rawURL, Err: errors.New("not an http(s) URL")}
	}
	return d, nil
}

// download runs attempts until the file is whole, a failure is not
// transient, or the retry policy gives up.
func (c *Client) download(ctx context.Context, d *download) error {
	for try := 0; ; try++ {
		err := c.downloadAttempt(ctx, d)
		if err == nil {
			c.budget.success()
			return nil
		}
		if ctx.Err() != nil {
			return &DownloadError{URL: d.url, Err: ctx.Err()}
		}
		if !transientDownload(err) || try >= c.retry.MaxRetries || !c.budget.spend() {
			return err
		}
		wait := c.retry.backoff(try)
		c.logger.LogAttrs(ctx, slog.LevelWarn, "koji: retrying download",
			slog.String("url", d.url), slog.Int64("from", d.written), slog.Duration("after", wait), slog.String("error", err.Error()))
		if err := sleep(ctx, wait); err != nil {
			return &DownloadError{URL: d.url, Err: err}
		}
	}
}

// transientDownload tells whether a failed attempt is worth repeating.
func transientDownload(err error) bool {
	var de *DownloadError
	if !errors.As(err, &de) {
		return false
	}
	switch code := de.StatusCode; {
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests, code >= 500:
		return true
	case code != 0:
		return false
	}
	var mismatch *DownloadMismatchError
	var werr *downloadWriteError
	return !errors.As(err, &mismatch) && !errors.As(err, &werr) && !isCertError(err)
}

// downloadWriteError marks a failure of the destination, which a new
// request does not cure.
type downloadWriteError struct{ err error }

func (e *downloadWriteError) Error() string { return e.err.Error() }
func (e *downloadWriteError) Unwrap() error { return e.err }

// downloadAttempt makes one request for what the destination lacks.
func (c *Client) downloadAttempt(ctx context.Context, d *download) error {
	fail := func(err error) error { return &DownloadError{URL: d.url, Err: err} }
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.url, nil)
	if err != nil {
		return fail(err)
	}
	req.Header.Set("User-Agent", c.agent)
	// Byte offsets must count the file itself, not a compressed stream.
	req.Header.Set("Accept-Encoding", "identity")
	if d.written > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", d.written))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close()

	total := int64(-1)
	var skip int64
	switch resp.StatusCode {
	case http.StatusPartialContent:
		start, size, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || start != d.written {
			return fail(&DownloadMismatchError{Field: "range start", Want: d.written, Got: start})
		}
		total = size
	case http.StatusOK:
		total = resp.ContentLength
		if d.written > 0 {
			// The server ignored Range: start over, or skip what w has.
			if d.restart != nil {
				if err := d.restart(); err != nil {
					return fail(&downloadWriteError{err})
				}
				d.written = 0
			} else {
				skip = d.written
			}
		}
	case http.StatusRequestedRangeNotSatisfiable:
		_, size, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if d.written > 0 && ok && size == d.written {
			return d.check() // the local copy is already whole
		}
		if d.written > 0 && ok {
			return fail(&DownloadMismatchError{Field: "size", Want: d.written, Got: size})
		}
		return &DownloadError{URL: d.url, StatusCode: resp.StatusCode, Status: resp.Status}
	default:
		return &DownloadError{URL: d.url, StatusCode: resp.StatusCode, Status: resp.Status}
	}
	if want := d.opts.Size; want > 0 && total >= 0 && total != want {
		return fail(&DownloadMismatchError{Field: "size", Want: want, Got: total})
	}
	if total < 0 && d.opts.Size > 0 {
		total = d.opts.Size
	}
	if skip > 0 {
		if _, err := io.CopyN(io.Discard, resp.Body, skip); err != nil {
			return fail(err)
		}
	}
	if err := d.copy(resp.Body, total); err != nil {
		return fail(err)
	}
	if total >= 0 && d.written != total {
		return fail(io.ErrUnexpectedEOF)
	}
	return d.check()
}

// copy writes the body to the destination, reporting progress.
func (d *download) copy(body io.Reader, total int64) error {
	buf := make([]byte, 32<<10)
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			m, werr := d.w.Write(buf[:n])
			d.written += int64(m)
			if werr == nil && m < n {
				werr = io.ErrShortWrite
			}
			if werr != nil {
				return &downloadWriteError{werr}
			}
			if d.opts.Progress != nil {
				d.opts.Progress(d.written, total)
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// check compares the finished download with the expected size.
func (d *download) check() error {
	if want := d.opts.Size; want > 0 && d.written != want {
		return &DownloadError{URL: d.url, Err: &DownloadMismatchError{Field: "size", Want: want, Got: d.written}}
	}
	return nil
}

// parseContentRange reads "bytes 100-199/1000" or "bytes */1000"; start is
// -1 for the second form, size -1 for an unknown total ("/*").
func parseContentRange(v string) (start, size int64, ok bool) {
	rest, found := strings.CutPrefix(v, "bytes ")
	if !found {
		return -1, -1, false
	}
	span, sizeText, found := strings.Cut(rest, "/")
	if !found {
		return -1, -1, false
	}
	size = -1
	if sizeText != "*" {
		n, err := strconv.ParseInt(sizeText, 10, 64)
		if err != nil || n < 0 {
			return -1, -1, false
		}
		size = n
	}
	if span == "*" {
		return -1, size, true
	}
	first, last, found := strings.Cut(span, "-")
	if !found {
		return -1, -1, false
	}
	s, err1 := strconv.ParseInt(first, 10, 64)
	e, err2 := strconv.ParseInt(last, 10, 64)
	if err1 != nil || err2 != nil || s < 0 || e < s || (size >= 0 && e >= size) {
		return -1, -1, false
	}
	return s, size, true
}
