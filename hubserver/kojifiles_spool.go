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

	"github.com/gokoji/gokoji/internal/store"
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
		var s *store.Session
		if r.Method == http.MethodPost && ct == "application/octet-stream" {
			s = k.openSession(r)
		}
		if s == nil {
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
			labelled(k.logger(), "rawUpload", k.userName(r.Context(), s.UserID), int(s.ID)).Info("raw upload not received", "error", err)
			k.plainReply(w, status, msg+err.Error()+"\n")
			return
		}
		defer body.Close()
		r.Body, r.ContentLength = body, n
		next.ServeHTTP(w, r)
	})
}

// openSession returns the open session of its client the request names,
// looked up in a read-only transaction; nil when there is none.
func (k *Koji) openSession(r *http.Request) *store.Session {
	c, ok, _, err := k.requestCredentials(r)
	if !ok || err != nil {
		return nil
	}
	tx, err := k.db.BeginRead(r.Context())
	if err != nil {
		return nil
	}
	defer tx.Rollback(context.WithoutCancel(r.Context()))
	s, err := tx.GetSession(r.Context(), c.id)
	if err != nil || s.Key != c.key || s.Closed || s.HostIP != k.clientIP(r) {
		return nil
	}
	return s
}

// userName is the name of a user for a log line, "" when it cannot be
// read.
func (k *Koji) userName(ctx context.Context, id int64) string {
	tx, err := k.db.BeginRead(ctx)
	if err != nil {
		return ""
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	u, err := tx.GetUser(ctx, id)
	if err != nil {
		return ""
	}
	return u.Name
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
