package hubserver

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"strconv"
	"time"
)

// spoolMemory is how much of a raw upload's body spoolUploads keeps in
// memory; the rest goes to a temporary file.
const spoolMemory = 4 << 20

// spoolUploads reads the body of a raw upload that carries an open
// session before the hub handles the request. The hub holds the request's
// transaction while its upload handler runs, and on SQLite that is the one
// writer every other request waits for: a client sending its chunk slowly
// would stall the whole hub. Spooled, the chunk is copied from memory or a
// local file. A body not read within ReadTimeout is answered 408 and
// another read error 400, as upstream answers them. Requests without an
// open session are passed on unread; the hub refuses them without reading.
func (k *Koji) spoolUploads(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if r.Method != http.MethodPost || ct != "application/octet-stream" || !k.carriesOpenSession(r) {
			next.ServeHTTP(w, r)
			return
		}
		timeout := k.cfg.ReadTimeout
		if timeout == 0 {
			timeout = DefaultReadTimeout
		}
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(timeout))
		body, n, err := spool(r.Body)
		if err != nil {
			status, msg := http.StatusBadRequest, "Invalid request: "
			if isTimeout(err) {
				status, msg = http.StatusRequestTimeout, "Request Timeout: "
			}
			k.logger().Info("raw upload not received", "error", err)
			k.plainReply(w, status, msg+err.Error()+"\n")
			return
		}
		defer body.Close()
		r.Body, r.ContentLength = body, n
		next.ServeHTTP(w, r)
	})
}

// carriesOpenSession reports whether the request names an open session of
// its client, looked up in a read-only transaction.
func (k *Koji) carriesOpenSession(r *http.Request) bool {
	c, ok, _, err := k.requestCredentials(r)
	if !ok || err != nil {
		return false
	}
	tx, err := k.db.BeginRead(r.Context())
	if err != nil {
		return false
	}
	defer tx.Rollback(context.WithoutCancel(r.Context()))
	s, err := tx.GetSession(r.Context(), c.id)
	return err == nil && s.Key == c.key && !s.Closed && s.HostIP == k.clientIP(r)
}

// plainReply writes a text/plain HTTP error reply and closes the
// connection, as the hub answers a request it cannot read.
func (k *Koji) plainReply(w http.ResponseWriter, status int, msg string) {
	version := k.cfg.KojiVersion
	if version == "" {
		version = DefaultKojiVersion
	}
	w.Header().Set("Koji-Version", version)
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Content-Length", strconv.Itoa(len(msg)))
	w.Header().Set("Connection", "close")
	w.WriteHeader(status)
	io.WriteString(w, msg)
}

// A spooled body is a request body read ahead: in memory, or in a
// temporary file removed on Close.
type spooled struct {
	io.Reader
	file *os.File
}

func (s *spooled) Close() error {
	if s.file == nil {
		return nil
	}
	err := s.file.Close()
	return errors.Join(err, os.Remove(s.file.Name()))
}

// spool reads body to its end, returning it as a spooled body and its
// length.
func spool(body io.Reader) (io.ReadCloser, int64, error) {
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(body, spoolMemory+1))
	if err != nil {
		return nil, 0, err
	}
	if n <= spoolMemory {
		return &spooled{Reader: &buf}, n, nil
	}
	f, err := os.CreateTemp("", "gokoji-upload-*")
	if err != nil {
		return nil, 0, err
	}
	s := &spooled{Reader: f, file: f}
	rest, err := io.Copy(f, io.MultiReader(&buf, body))
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		s.Close()
		return nil, 0, err
	}
	return s, rest, nil
}
