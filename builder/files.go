package builder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gokoji/gokoji/koji"
)

// uploadOptions are the options of the task's uploads: the fast upload
// unless use_fast_upload is off, when the hub is asked first.
func (t *Task) uploadOptions() *koji.UploadOptions {
	o := &koji.UploadOptions{Method: koji.UploadFast, Overwrite: true}
	if f := t.d.cfg.UseFastUpload; f != nil && !*f {
		o.Method = koji.UploadProbe
	}
	return o
}

// uploadDest splits name, relative to the task's upload directory, into
// the directory and file name the hub stores it as.
func (t *Task) uploadDest(name string) (dir, file string, err error) {
	clean := path.Clean(name)
	if name == "" || path.IsAbs(name) || clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", "", fmt.Errorf("builder: upload name %q is not a relative file name", name)
	}
	dir, file = path.Split(clean)
	return strings.TrimSuffix(path.Join(t.UploadDir(), dir), "/"), file, nil
}

// Upload stores what r yields as name (which may have a relative
// directory, as BaseTaskHandler.uploadFile's relPath) in the task's
// upload directory, replacing a file of that name. The hub keeps it for
// getTaskOutput and, when the task ends, in the task's output.
func (t *Task) Upload(ctx context.Context, r io.Reader, name string) error {
	dir, file, err := t.uploadDest(name)
	if err != nil {
		return err
	}
	return t.Client.Upload(ctx, r, dir, file, t.uploadOptions())
}

// UploadFile uploads the local file localPath as name, or under its base
// name when name is "".
func (t *Task) UploadFile(ctx context.Context, localPath, name string) error {
	if name == "" {
		name = filepath.Base(localPath)
	}
	f, err := os.Open(localPath)
	if err != nil {
		return fmt.Errorf("builder: %w", err)
	}
	defer f.Close()
	return t.Upload(ctx, f, name)
}

// A LogWriter is a task log sent to the hub while it is written, so that
// koji watch-logs shows it as it grows: what is written is appended to
// the log on the hub every LogInterval (Config), and when the writer is
// flushed or closed. Safe for concurrent use.
type LogWriter struct {
	t        *Task
	dir      string
	name     string
	interval time.Duration

	sendMu sync.Mutex // one upload at a time

	mu      sync.Mutex
	pending []byte
	sent    int64 // bytes the hub holds
	started bool  // the file exists on the hub
	closed  bool
	stop    chan struct{}
	done    chan struct{}
}

// Log returns a writer of the task log name (such as "build.log") in the
// task's upload directory. It sends what is written every LogInterval
// until ctx ends or it is closed; the daemon closes the logs a handler
// left open when the task ends.
func (t *Task) Log(ctx context.Context, name string) (*LogWriter, error) {
	dir, file, err := t.uploadDest(name)
	if err != nil {
		return nil, err
	}
	w := &LogWriter{t: t, dir: dir, name: file, interval: t.d.cfg.LogInterval,
		stop: make(chan struct{}), done: make(chan struct{})}
	t.mu.Lock()
	t.logs = append(t.logs, w)
	t.mu.Unlock()
	go w.run(ctx)
	return w, nil
}

func (w *LogWriter) run(ctx context.Context) {
	defer close(w.done)
	tick := time.NewTicker(w.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.stop:
			return
		case <-tick.C:
		}
		if err := w.Flush(ctx); err != nil && ctx.Err() == nil {
			w.t.Logger.Warn("builder: sending log", "log", w.name, "error", err.Error())
		}
	}
}

// ErrLogClosed reports a write to a closed LogWriter.
var ErrLogClosed = errors.New("builder: log closed")

// Write adds p to the log; it is sent at the next flush.
func (w *LogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, ErrLogClosed
	}
	w.pending = append(w.pending, p...)
	return len(p), nil
}

// Flush sends what was written since the last flush, appending it to the
// log on the hub (the first flush starts the file afresh). What could not
// be sent is sent again by the next flush.
func (w *LogWriter) Flush(ctx context.Context) error {
	w.sendMu.Lock()
	defer w.sendMu.Unlock()
	w.mu.Lock()
	data, offset, started := w.pending, w.sent, w.started
	w.pending = nil
	w.mu.Unlock()
	if len(data) == 0 && started {
		return nil
	}
	opts := w.t.uploadOptions()
	opts.Offset = offset
	err := w.t.Client.Upload(ctx, bytes.NewReader(data), w.dir, w.name, opts)
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.pending = append(data, w.pending...)
		return err
	}
	w.sent += int64(len(data))
	w.started = true
	return nil
}

// Close sends the rest of the log and stops the writer. The log then
// exists on the hub even when nothing was written.
func (w *LogWriter) Close() error {
	ctx, cancel := w.t.afterContext(context.Background())
	defer cancel()
	return w.close(ctx)
}

func (w *LogWriter) close(ctx context.Context) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	close(w.stop)
	w.mu.Unlock()
	<-w.done
	return w.Flush(ctx)
}

// closeLogs closes the logs of the task, when it ends.
func (t *Task) closeLogs(ctx context.Context) error {
	t.mu.Lock()
	logs := t.logs
	t.logs = nil
	t.mu.Unlock()
	var errs []error
	for _, w := range logs {
		if err := w.close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("builder: log %s: %w", w.name, err))
		}
	}
	return errors.Join(errs...)
}
