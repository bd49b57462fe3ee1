package builder

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/gokoji/gokoji/koji"
)

// A Handler runs the tasks of some methods, as a kojid BaseTaskHandler
// subclass does (§D6).
type Handler interface {
	// Methods are the task methods the handler serves. The daemon reports
	// them to the hub in its check-in, and refuses tasks of other methods.
	Methods() []string
	// Weight is how much of the host's capacity the task takes, set with
	// host.setTaskWeight when the task opens: a fixed number (kojid's
	// _taskWeight, 1.0 by default) or one computed from the task.
	Weight(t *Task) float64
	// Handle runs the task. Its result becomes the task's result and must
	// be something package xmlrpc can encode (nil is encoded as None).
	// An error fails the task: see Refuse, Restart and Fail for the
	// errors with a meaning of their own; any other error, or a panic,
	// fails the task with a GenericError fault carrying the error and a
	// traceback-like text, as kojid does. ctx ends when the hub cancels
	// or reassigns the task, or the daemon stops.
	Handle(ctx context.Context, t *Task) (any, error)
}

// Foreground is implemented by the handlers of kojid's foreground tasks
// (Restart, RestartVerify): when Foreground reports true, the daemon's
// main loop runs the task itself, taking no other task until it ends, so
// that what the task changes in the daemon (a restart requested) holds
// for the next task the daemon would take.
type Foreground interface {
	Foreground() bool
}

// HandlerFunc makes a Handler of a function, for the given methods and a
// fixed weight (zero means 1.0, kojid's default).
func HandlerFunc(methods []string, weight float64, fn func(ctx context.Context, t *Task) (any, error)) Handler {
	if weight == 0 {
		weight = DefaultWeight
	}
	return &funcHandler{methods: methods, weight: weight, fn: fn}
}

// DefaultWeight is kojid's default task weight (BaseTaskHandler._taskWeight).
const DefaultWeight = 1.0

type funcHandler struct {
	methods []string
	weight  float64
	fn      func(ctx context.Context, t *Task) (any, error)
}

func (h *funcHandler) Methods() []string                                { return h.methods }
func (h *funcHandler) Weight(*Task) float64                             { return h.weight }
func (h *funcHandler) Handle(ctx context.Context, t *Task) (any, error) { return h.fn(ctx, t) }

// A RefuseError makes the daemon give the task back with host.refuseTask
// instead of failing it, as kojid's RefuseTask: soft refusals expire (the
// hub's SoftRefusalTimeout), hard ones keep the task from this host.
type RefuseError struct {
	Soft bool
	Msg  string
}

func (e *RefuseError) Error() string {
	kind := "hard"
	if e.Soft {
		kind = "soft"
	}
	return fmt.Sprintf("builder: task refused (%s): %s", kind, e.Msg)
}

// Refuse returns the error a handler returns to refuse its task softly,
// as kojid's RefuseTask does: the hub gives it to another host, and may
// offer it again to this one later.
func Refuse(msg string) error { return &RefuseError{Soft: true, Msg: msg} }

// RefuseHard returns the error that refuses the task for good on this
// host.
func RefuseHard(msg string) error { return &RefuseError{Msg: msg} }

// ErrRestart, returned by a handler (kojid's ServerRestart), frees its
// task with host.freeTasks for another run and makes the daemon restart:
// it takes no more tasks, and once the running ones end, Run returns
// ErrRestart so that the program can start again.
var ErrRestart = errors.New("builder: restart requested")

// Fail returns an error that fails the task with the given fault, as a
// handler raising a koji Fault does: getTaskResult then raises exactly
// that code and string. A *koji.Fault returned by a handler (from a hub
// call, say) is reported the same way.
func Fail(code koji.FaultClass, format string, args ...any) error {
	return &koji.Fault{Code: int(code), String: fmt.Sprintf(format, args...)}
}

// taskFault is the fault a handler's error fails the task with (§D5):
// a koji fault as it is, anything else a GenericError with a traceback.
func taskFault(t *Task, err error) *koji.Fault {
	var f *koji.Fault
	if errors.As(err, &f) {
		return &koji.Fault{Code: f.Code, String: f.String}
	}
	return &koji.Fault{Code: int(koji.ErrGeneric), String: fmt.Sprintf(
		"Traceback (most recent call last):\n  task %d, method %s, handler %T\n%T: %v\n", t.ID, t.Method, t.handler, err, err)}
}

// panicError is a handler's panic, with the stack it happened on.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("panic: %v", e.value) }

// handle runs the handler, turning a panic into a *panicError.
func handle(ctx context.Context, h Handler, t *Task) (result any, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &panicError{value: v, stack: debug.Stack()}
		}
	}()
	return h.Handle(ctx, t)
}

// panicFault is the fault of a panic: its value and goroutine stack, as
// kojid's traceback of an unexpected exception.
func panicFault(p *panicError) *koji.Fault {
	return &koji.Fault{Code: int(koji.ErrGeneric), String: fmt.Sprintf(
		"Traceback (most recent call last):\n%s\npanic: %v\n", p.stack, p.value)}
}
