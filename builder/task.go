package builder

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/gokoji/gokoji/koji"
)

// A Task is a task being run by the daemon, as its handler sees it.
type Task struct {
	ID     int
	Method string
	// Info is the task as host.openTask returned it, request included.
	Info *koji.Task
	// Params are the task's positional parameters and Opts its keyword
	// arguments (nil when none), decoded as for an any (see package
	// xmlrpc): int64, string, []any, map[string]any and so on.
	Params []any
	Opts   map[string]any
	// Client is logged in on the task's own subsession: hub calls the
	// handler makes go on it, as a kojid task process's.
	Client *koji.Client
	// WorkDir is the task's local directory,
	// <workdir>/tasks/<id%10000>/<id>, empty at the start and removed at
	// the end.
	WorkDir string
	// Logger logs with the task's id and method.
	Logger *slog.Logger

	d       *Daemon
	handler Handler
	weight  float64
	waiting atomic.Bool
	alert   chan struct{} // the monitor saw an awaited subtask finish
	cancel  context.CancelCauseFunc

	mu   sync.Mutex
	logs []*LogWriter // open logs, flushed and closed when the task ends
}

// Host is the host.* API on the task's subsession.
func (t *Task) Host() koji.HostAPI { return t.Client.HostAPI() }

// UploadDir is the task's upload directory on the hub,
// tasks/<id%10000>/<id>, where getTaskOutput and watch-logs find its
// files (BaseTaskHandler.getUploadDir).
func (t *Task) UploadDir() string { return koji.PathInfo{}.TaskRelPath(t.ID) }

// Weight is the weight the task was given when it opened.
func (t *Task) Weight() float64 { return t.weight }

// newTask makes the Task of an opened task, its parameters decoded.
func newTask(d *Daemon, info *koji.Task, h Handler) (*Task, error) {
	t := &Task{ID: info.ID, Method: info.Method, Info: info, d: d, handler: h, alert: make(chan struct{}, 1)}
	params, err := info.Params()
	if err != nil {
		return t, fmt.Errorf("task %d: decoding its parameters: %w", info.ID, err)
	}
	if n := len(params); n > 0 {
		if kw, ok := params[n-1].(map[string]any); ok && kw["__starstar"] == true {
			delete(kw, "__starstar")
			params, t.Opts = params[:n-1], kw
		}
	}
	t.Params = params
	return t, nil
}

// wake tells a waiting Wait to look again.
func (t *Task) wake() {
	select {
	case t.alert <- struct{}{}:
	default:
	}
}
