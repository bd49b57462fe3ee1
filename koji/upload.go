package koji

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/adler32"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gokoji/gokoji/xmlrpc"
)

// defaultUploadBlockSize is upstream's upload_blocksize default, 1 MiB.
const defaultUploadBlockSize = 1 << 20

// uploadResends is how many times a chunk the hub refused or stored wrongly
// is sent again; upstream's legacy upload allows as many.
const uploadResends = 4

// An UploadMethod chooses how Upload sends a file.
type UploadMethod int

const (
	// UploadAuto does what upstream's uploadWrapper does: a fast upload
	// when the profile's use_fast_upload is set; otherwise it asks the hub
	// with checkUpload whether it knows fast uploads, and uses the legacy
	// upload when that call fails with a GenericError.
	UploadAuto UploadMethod = iota
	// UploadFast sends raw chunks (HTTP POSTs of application/octet-stream),
	// checked with adler32. Hubs since Koji 1.7.1 accept them.
	UploadFast
	// UploadLegacy sends base64 chunks with the uploadFile call, checked
	// with sha256. Each request must fit the hub's MaxRequestLength.
	UploadLegacy
	// UploadProbe is UploadAuto with use_fast_upload off, whatever the
	// profile says: it asks the hub with checkUpload first (kojid's
	// use_fast_upload = false).
	UploadProbe
)

// UploadOptions are the options of Upload and UploadFile.
type UploadOptions struct {
	// BlockSize is the chunk size in bytes; zero means the profile's
	// upload_blocksize, or 1 MiB.
	BlockSize int
	// Overwrite replaces a file already at the destination. Without it
	// the hub refuses the upload ("upload path exists"). Upstream's
	// uploadWrapper sets it, fastUpload does not; the CLI uploads to fresh
	// paths (UniqueUploadPath), where it makes no difference.
	Overwrite bool
	// Volume is the storage volume; "" and "DEFAULT" mean the default one.
	Volume string
	// Method chooses the upload protocol; the zero value is UploadAuto.
	Method UploadMethod
	// Progress, when set, is called before the first chunk and after each
	// chunk, as upstream's upload callback.
	Progress func(UploadProgress)
	// Offset, when positive, appends: what r yields is written from this
	// byte of a file the hub already holds (cut there), as kojid's
	// incremental_upload sends a growing log. Each chunk is checked; the
	// final check compares the file's size only, and an empty input sends
	// nothing.
	Offset int64
}

// UploadProgress reports how far an upload has come.
type UploadProgress struct {
	Uploaded  int64         // bytes stored so far
	Total     int64         // bytes to send, or -1 when the reader does not tell
	Chunk     int           // bytes in the chunk just sent; 0 before the first
	ChunkTime time.Duration // time the chunk took
	TotalTime time.Duration // time since the upload started
}

// An UploadError reports an upload that failed.
type UploadError struct {
	Path string // the upload directory
	Name string
	// Offset is where the failed chunk starts, or -1 when the failure
	// concerns the whole file (its final check, a bad option).
	Offset int64
	// Err is the cause: a *Fault, *TransportError or *HTTPError from the
	// hub, an *UploadMismatchError, ErrUploadMissing, ErrUploadRejected,
	// an error reading the input, or the context's error.
	Err error
}

func (e *UploadError) Error() string {
	if e.Offset < 0 {
		return fmt.Sprintf("koji: upload %s/%s: %v", e.Path, e.Name, e.Err)
	}
	return fmt.Sprintf("koji: upload %s/%s at offset %d: %v", e.Path, e.Name, e.Offset, e.Err)
}

func (e *UploadError) Unwrap() error { return e.Err }

// An UploadMismatchError reports that the hub stored something other than
// what was sent: a chunk or file of another size or digest.
type UploadMismatchError struct {
	Field string // "size" or "hexdigest"
	Want  string // what was sent
	Got   string // what the hub reports
}

func (e *UploadMismatchError) Error() string {
	return fmt.Sprintf("hub reports %s %s, sent %s", e.Field, e.Got, e.Want)
}

var (
	// ErrUploadMissing reports an upload the hub has no file for once
	// every chunk was sent (checkUpload returned None).
	ErrUploadMissing = errors.New("koji: the hub has no file for the upload")
	// ErrUploadRejected reports a legacy upload chunk that the hub kept
	// refusing (uploadFile returned false: wrong size or checksum).
	ErrUploadRejected = errors.New("koji: the hub rejected the uploaded data")
)

// Upload stores what r yields on the hub as the file name in the upload
// directory path, which the hub keeps under <topdir>/work/<path>/<name>;
// calls such as build then name it "<path>/<name>". The client must be
// logged in. It is upstream's ClientSession.uploadWrapper for a stream.
//
// A fast upload sends the data in BlockSize chunks, one request each, and
// checks the size and adler32 digest the hub reports for every chunk; an
// empty input still sends one empty chunk. A chunk the hub stores wrongly
// or refuses with a fault a resend may cure (LockError, RetryError, an
// unexpected hub exception) is sent again, up to four times, each time as
// a new call after the wait of the client's RetryPolicy; the final
// checkUpload then also compares the adler32 digest of the whole file.
// Transport failures are retried by the client, with the same callnum, as
// for any call. A legacy upload sends base64 chunks with their sha256,
// then a final call with the size and sha256 of the whole file.
//
// When r has a Len method (bytes.Reader, strings.Reader) or is a regular
// *os.File, Progress reports the total size.
func (c *Client) Upload(ctx context.Context, r io.Reader, path, name string, opts *UploadOptions) error {
	if c.closed.Load() {
		return ErrClosed
	}
	u, err := c.newUpload(r, path, name, opts)
	if err != nil {
		return err
	}
	switch u.opts.Method {
	case UploadFast:
		return c.fastUpload(ctx, u)
	case UploadLegacy:
		return c.legacyUpload(ctx, u)
	case UploadAuto, UploadProbe:
	default:
		return u.fail(-1, fmt.Errorf("unknown UploadMethod %d", u.opts.Method))
	}
	if u.opts.Method == UploadAuto && c.profile.UseFastUpload {
		return c.fastUpload(ctx, u)
	}
	// Hubs before 1.7.1 do not know checkUpload: any GenericError says so.
	err = c.CallKw(ctx, "checkUpload", nil, []any{path, name}, checkUploadOptions{Volume: u.volume})
	switch {
	case errors.Is(err, ErrGeneric):
		c.logger.Debug("koji: hub lacks fast upload; using uploadFile", "error", err.Error())
		return c.legacyUpload(ctx, u)
	case err != nil:
		return u.fail(-1, err)
	}
	return c.fastUpload(ctx, u)
}

// UploadFile uploads the local file localPath as Upload does; an empty
// name means the file's base name, as upstream's.
func (c *Client) UploadFile(ctx context.Context, localPath, path, name string, opts *UploadOptions) error {
	if name == "" {
		name = filepath.Base(localPath)
	}
	f, err := os.Open(localPath)
	if err != nil {
		return &UploadError{Path: path, Name: name, Offset: -1, Err: err}
	}
	defer f.Close()
	return c.Upload(ctx, f, path, name, opts)
}

// UniqueUploadPath returns a fresh upload directory under prefix, in the
// form the koji CLI uses: "cli-build/1795311651.416008.hTqzPwLe" for the
// prefix "cli-build" (the time in seconds, then 8 random letters).
func UniqueUploadPath(prefix string) string {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	var b strings.Builder
	b.WriteString(strings.TrimSuffix(prefix, "/"))
	b.WriteByte('/')
	// Python's repr of time.time(): the shortest exact decimal, ".0" for
	// a whole number.
	secs := strconv.FormatFloat(float64(time.Now().UnixMicro())/1e6, 'f', -1, 64)
	if !strings.Contains(secs, ".") {
		secs += ".0"
	}
	b.WriteString(secs)
	b.WriteByte('.')
	for range 8 {
		b.WriteByte(letters[rand.IntN(len(letters))])
	}
	return b.String()
}

// upload is one upload in progress.
type upload struct {
	r          io.Reader
	path, name string
	opts       UploadOptions
	blockSize  int
	volume     string // "" for the default volume
	total      int64  // -1 when unknown
	start      time.Time
}

func (c *Client) newUpload(r io.Reader, path, name string, opts *UploadOptions) (*upload, error) {
	u := &upload{r: r, path: path, name: name, total: readerSize(r), start: time.Now()}
	if opts != nil {
		u.opts = *opts
	}
	u.blockSize = u.opts.BlockSize
	if u.blockSize == 0 {
		u.blockSize = c.profile.UploadBlockSize
	}
	if u.blockSize <= 0 {
		u.blockSize = defaultUploadBlockSize
	}
	if u.opts.Volume != "DEFAULT" {
		u.volume = u.opts.Volume
	}
	switch {
	case name == "":
		return nil, u.fail(-1, errors.New("no file name"))
	case u.opts.BlockSize < 0:
		return nil, u.fail(-1, fmt.Errorf("BlockSize %d is negative", u.opts.BlockSize))
	case u.opts.Offset < 0:
		return nil, u.fail(-1, fmt.Errorf("option Offset %d is negative", u.opts.Offset))
	case r == nil:
		return nil, u.fail(-1, errors.New("nil reader"))
	}
	return u, nil
}

func (u *upload) fail(offset int64, err error) error {
	return &UploadError{Path: u.path, Name: u.name, Offset: offset, Err: err}
}

// readChunk fills buf from the input; last reports that the input ended.
func (u *upload) readChunk(buf []byte, offset int64) (chunk []byte, last bool, err error) {
	n, err := io.ReadFull(u.r, buf)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return buf[:n], true, nil
	case err != nil:
		return nil, false, u.fail(offset, err)
	}
	return buf[:n], false, nil
}

func (u *upload) progress(uploaded int64, chunk int, lap time.Time) {
	if u.opts.Progress == nil {
		return
	}
	now := time.Now()
	p := UploadProgress{Uploaded: uploaded, Total: u.total, Chunk: chunk, TotalTime: now.Sub(u.start)}
	if chunk > 0 {
		p.ChunkTime = now.Sub(lap)
	}
	u.opts.Progress(p)
}

// readerSize returns how many bytes r will yield, or -1 when it cannot tell.
func readerSize(r io.Reader) int64 {
	switch v := r.(type) {
	case interface{ Len() int }:
		return int64(v.Len())
	case *os.File:
		fi, err := v.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return -1
		}
		pos, err := v.Seek(0, io.SeekCurrent)
		if err != nil {
			return -1
		}
		return fi.Size() - pos
	}
	return -1
}

// uploadInt is an integer the hub may send as a string: Koji's encode_int
// turns values beyond 32 bits into strings.
type uploadInt int64

func (n *uploadInt) UnmarshalXMLRPC(raw xmlrpc.RawValue) error {
	var v any
	if err := raw.Decode(&v); err != nil {
		return err
	}
	switch v := v.(type) {
	case int64:
		*n = uploadInt(v)
		return nil
	case string:
		if i, err := strconv.ParseInt(v, 10, 64); err == nil {
			*n = uploadInt(i)
			return nil
		}
	}
	return &xmlrpc.TypeError{Value: fmt.Sprintf("%T", v), Type: reflect.TypeFor[uploadInt](), Detail: "not an integer"}
}

// chunkReply is what the client checks of handle_upload's answer for one
// raw chunk (which also echoes fileverify and the offset).
type chunkReply struct {
	Size      uploadInt `xmlrpc:"size"`
	HexDigest string    `xmlrpc:"hexdigest"`
}

// uploadStatus is checkUpload's answer for an existing file.
type uploadStatus struct {
	Size      uploadInt `xmlrpc:"size"`
	HexDigest string    `xmlrpc:"hexdigest"`
}

// checkUploadOptions are checkUpload's keyword arguments, in upstream's order.
type checkUploadOptions struct {
	Volume string `xmlrpc:"volume,omitempty"`
	Verify string `xmlrpc:"verify,omitempty"`
}

// adler32Hex formats an adler32 sum as upstream's adler32_constructor does:
// 8 lowercase hex digits.
func adler32Hex(h hash.Hash32) string { return fmt.Sprintf("%08x", h.Sum32()) }

// fastUpload is upstream's ClientSession.fastUpload.
func (c *Client) fastUpload(ctx context.Context, u *upload) error {
	if !c.LoggedIn() {
		return u.fail(-1, &Fault{Code: int(ErrActionNotAllowed), String: "You must be logged in to upload files"})
	}
	query := url.Values{"filename": {u.name}, "filepath": {u.path}, "fileverify": {"adler32"}}
	if u.opts.Overwrite {
		query.Set("overwrite", "1")
	}
	if u.volume != "" {
		query.Set("volume", u.volume)
	}
	buf := make([]byte, u.blockSize)
	whole := adler32.New()
	offset := u.opts.Offset
	resent := false
	u.progress(0, 0, u.start)
	for first := u.opts.Offset == 0; ; first = false {
		if err := ctx.Err(); err != nil {
			return u.fail(offset, err)
		}
		lap := time.Now()
		chunk, last, err := u.readChunk(buf, offset)
		if err != nil {
			return err
		}
		if len(chunk) == 0 && !first {
			break
		}
		again, err := c.sendChunk(ctx, u, query, chunk, offset)
		if err != nil {
			return err
		}
		resent = resent || again
		whole.Write(chunk)
		offset += int64(len(chunk))
		u.progress(offset, len(chunk), lap)
		if last {
			break
		}
	}
	if u.total >= 0 && offset-u.opts.Offset != u.total {
		c.logger.LogAttrs(ctx, slog.LevelError, "koji: upload input changed size",
			slog.String("name", u.name), slog.Int64("expected", u.total), slog.Int64("sent", offset-u.opts.Offset))
	}
	if offset == u.opts.Offset && u.opts.Offset > 0 {
		return nil // nothing to append
	}
	check := checkUploadOptions{Volume: u.volume}
	if resent && u.opts.Offset == 0 {
		check.Verify = "adler32"
	}
	return c.checkUpload(ctx, u, check, offset, adler32Hex(whole))
}

// sendChunk sends one raw chunk, again as a new call when the hub refuses
// it with a fault a resend may cure or stores it wrongly; resent reports
// that it took more than one call.
func (c *Client) sendChunk(ctx context.Context, u *upload, query url.Values, chunk []byte, offset int64) (resent bool, err error) {
	q := make(url.Values, len(query)+1)
	for k, v := range query {
		q[k] = v
	}
	q.Set("offset", strconv.FormatInt(offset, 10))
	sum := adler32.New()
	sum.Write(chunk)
	want := adler32Hex(sum)
	for try := 0; ; try++ {
		var reply chunkReply
		err := c.do(ctx, &request{method: "rawUpload", query: q, body: chunk,
			contentType: "application/octet-stream", result: &reply})
		if err == nil {
			err = reply.check(len(chunk), want)
		}
		if err == nil {
			return try > 0, nil
		}
		if try >= uploadResends || !resendable(err) || ctx.Err() != nil {
			return try > 0, u.fail(offset, err)
		}
		if offset == 0 && ownsFile(err) {
			// The hub holds what the failed call wrote; without overwrite it
			// would refuse to start the file again ("upload path exists").
			q.Set("overwrite", "1")
		}
		c.logger.LogAttrs(ctx, slog.LevelWarn, "koji: sending upload chunk again",
			slog.String("name", u.name), slog.Int64("offset", offset), slog.Int("attempt", try+2), slog.String("error", err.Error()))
		if err := sleep(ctx, c.retry.backoff(try)); err != nil {
			return true, u.fail(offset, err)
		}
	}
}

func (r *chunkReply) check(size int, hexdigest string) error {
	if int64(r.Size) != int64(size) {
		return &UploadMismatchError{Field: "size", Want: strconv.Itoa(size), Got: strconv.FormatInt(int64(r.Size), 10)}
	}
	if r.HexDigest != hexdigest {
		return &UploadMismatchError{Field: "hexdigest", Want: hexdigest, Got: r.HexDigest}
	}
	return nil
}

// resendable tells whether a chunk that failed with err may succeed when
// sent again as a new call: after a wrong store, a lock held by another
// writer, a RetryError (the hub ran the call but its reply was lost) or an
// unexpected hub exception; not after a refusal a resend would repeat.
func resendable(err error) bool {
	var mismatch *UploadMismatchError
	if errors.As(err, &mismatch) {
		return true
	}
	var f *Fault
	if !errors.As(err, &f) {
		return false // the client's retry policy has had its say
	}
	// Code 1 is an exception of no Koji class (koji.Fault on the hub).
	return f.Is(ErrLock) || f.Is(ErrRetry) || f.Code == 1
}

// ownsFile tells whether a chunk that failed with err was written by that
// call, so that the file at the destination is this upload's own: the hub
// answered with what it stored, or refused a replay of a call it ran.
func ownsFile(err error) bool {
	var mismatch *UploadMismatchError
	return errors.As(err, &mismatch) || errors.Is(err, ErrRetry)
}

// checkUpload makes upstream's final check: the file exists with the size
// sent and, when verify was asked for, the digest of what was sent.
func (c *Client) checkUpload(ctx context.Context, u *upload, opts checkUploadOptions, size int64, hexdigest string) error {
	var status *uploadStatus
	if err := c.CallKw(ctx, "checkUpload", &status, []any{u.path, u.name}, opts); err != nil {
		return u.fail(-1, err)
	}
	switch {
	case status == nil:
		return u.fail(-1, ErrUploadMissing)
	case int64(status.Size) != size:
		return u.fail(-1, &UploadMismatchError{Field: "size", Want: strconv.FormatInt(size, 10), Got: strconv.FormatInt(int64(status.Size), 10)})
	case opts.Verify != "" && status.HexDigest != hexdigest:
		return u.fail(-1, &UploadMismatchError{Field: "hexdigest", Want: hexdigest, Got: status.HexDigest})
	}
	return nil
}

// legacyUpload is the uploadFile fallback of upstream's uploadWrapper:
// base64 chunks with their sha256, then offset -1 with the whole file's
// size and sha256 to finish.
func (c *Client) legacyUpload(ctx context.Context, u *upload) error {
	var kwargs any
	if u.volume != "" {
		kwargs = map[string]any{"volume": u.volume}
	}
	buf := make([]byte, u.blockSize)
	whole := sha256.New()
	offset := u.opts.Offset
	u.progress(0, 0, u.start)
	for {
		if err := ctx.Err(); err != nil {
			return u.fail(offset, err)
		}
		lap := time.Now()
		chunk, last, err := u.readChunk(buf, offset)
		if err != nil {
			return err
		}
		if len(chunk) > 0 {
			whole.Write(chunk)
			sum := sha256.Sum256(chunk)
			if err := c.uploadFileCall(ctx, u, kwargs, int64(len(chunk)), hex.EncodeToString(sum[:]), offset,
				base64.StdEncoding.EncodeToString(chunk)); err != nil {
				return err
			}
			offset += int64(len(chunk))
			u.progress(offset, len(chunk), lap)
		}
		if last {
			break
		}
	}
	if u.opts.Offset > 0 {
		return nil // an append has no whole-file digest to send
	}
	return c.uploadFileCall(ctx, u, kwargs, offset, hex.EncodeToString(whole.Sum(nil)), -1, "")
}

// uploadFileCall sends one uploadFile call, again while the hub answers
// false (a size or digest mismatch), up to uploadResends times.
func (c *Client) uploadFileCall(ctx context.Context, u *upload, kwargs any, size int64, sha256hex string, offset int64, data string) error {
	args := []any{u.path, u.name, size, []any{"sha256", sha256hex}, offset, data}
	failAt := offset
	if offset < 0 {
		failAt = -1
	}
	for try := 0; ; try++ {
		var ok bool
		if err := c.CallKw(ctx, "uploadFile", &ok, args, kwargs); err != nil {
			return u.fail(failAt, err)
		}
		if ok {
			return nil
		}
		if try >= uploadResends {
			return u.fail(failAt, ErrUploadRejected)
		}
		c.logger.LogAttrs(ctx, slog.LevelWarn, "koji: uploadFile refused; sending again",
			slog.String("name", u.name), slog.Int64("offset", offset), slog.Int("attempt", try+2))
	}
}
