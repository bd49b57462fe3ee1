package hubserver

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gokoji/gokoji/koji"
)

// The callback points of upstream's koji.plugin: the hub runs the
// callbacks registered for one of them, with keyword arguments describing
// the change, before (pre*) and after (post*) each change it announces;
// preCommit and postCommit run around the commit of such a call. The
// builder's points are listed because upstream's registry accepts them
// too; the hub never runs them.
var callbackNames = []string{
	// hub
	"prePackageListChange", "postPackageListChange",
	"preTaskStateChange", "postTaskStateChange",
	"preBuildStateChange", "postBuildStateChange",
	"preImport", "postImport",
	"preRPMSign", "postRPMSign",
	"preTag", "postTag",
	"preUntag", "postUntag",
	"preRepoInit", "postRepoInit",
	"preRepoDone", "postRepoDone",
	"preBuildPromote", "postBuildPromote",
	"preCommit", "postCommit",
	// builder
	"preSCMCheckout", "postSCMCheckout",
	"postCreateDistRepo", "postCreateRepo",
}

// A CallbackFunc is a callback: it is called with the callback point's
// name (such as "postTaskStateChange") and its keyword arguments, as
// upstream calls a plugin's f(cbtype, **kws). It runs in the call that
// made the change, inside its transaction (postCommit excepted), and an
// error aborts that call unless the callback ignores errors. kw is the
// callback's own copy of the top-level map; nested values are shared.
type CallbackFunc func(ctx context.Context, name string, kw map[string]any) error

// CallbackOptions are the marks upstream's plugin decorators put on a
// callback.
type CallbackOptions struct {
	// IgnoreError (@ignore_error) logs the callback's error and lets the
	// call go on, instead of aborting it with a CallbackError.
	IgnoreError bool
	// ConvertDatetime (@convert_datetime) gives the callback the keyword
	// arguments with every time.Time turned into its isoformat(' ')
	// string, as JSON-minded plugins need.
	ConvertDatetime bool
}

type callback struct {
	fn     CallbackFunc
	opts   CallbackOptions
	module string // where fn comes from, for CallbackError's message
}

// events is a Koji's callback registry and protonmsg sender.
type events struct {
	mu        sync.RWMutex
	callbacks map[string][]callback

	protonOnce sync.Once
	proton     *protonSender // nil when no broker is configured

	// buildTypes returns a build's types for the btypes member protonmsg
	// adds to postBuildStateChange messages (upstream's get_build_type);
	// the builds layer sets it, and without it btypes is empty.
	buildTypes func(ctx context.Context, info map[string]any) (map[string]any, error)
}

// RegisterCallback registers fn to run at the callback point name, after
// the callbacks registered there before. An unknown name is a PluginError,
// worded as upstream's register_callback words it.
//
// Callbacks are how an embedder reacts to what the hub does (upstream's hub
// plugins): announce a build elsewhere, veto a tag change in a pre
// callback, invalidate a cache in postCommit.
func (k *Koji) RegisterCallback(name string, fn CallbackFunc, opts CallbackOptions) error {
	if !slices.Contains(callbackNames, name) {
		return fault(koji.ErrPlugin, "%q is not a valid callback type", name)
	}
	if fn == nil {
		return fault(koji.ErrPlugin, "function is not callable")
	}
	k.ev.mu.Lock()
	defer k.ev.mu.Unlock()
	if k.ev.callbacks == nil {
		k.ev.callbacks = make(map[string][]callback)
	}
	k.ev.callbacks[name] = append(k.ev.callbacks[name], callback{fn: fn, opts: opts, module: funcModule(fn)})
	return nil
}

// funcModule returns the package path of fn, the counterpart of the
// Python function's __module__ in upstream's CallbackError message.
func funcModule(fn CallbackFunc) string {
	f := runtime.FuncForPC(reflect.ValueOf(fn).Pointer())
	if f == nil {
		return "unknown"
	}
	name := f.Name()
	slash := strings.LastIndexByte(name, '/')
	if dot := strings.IndexByte(name[slash+1:], '.'); dot >= 0 {
		return name[:slash+1+dot]
	}
	return name
}

func (k *Koji) registered(name string) []callback {
	k.ev.mu.RLock()
	defer k.ev.mu.RUnlock()
	return k.ev.callbacks[name]
}

// commitCallbacksKey registers the preCommit and postCommit callbacks
// once per call (or multicall entry).
type commitCallbacksKey struct{}

// runCallbacks runs the callbacks registered for name (one of upstream's
// callback names, such as "postTaskStateChange") with the keyword
// arguments kw, as upstream's run_callbacks does, and queues the protonmsg
// message of a post callback, sent after the commit. An error of a
// callback that does not ignore errors is returned as a CallbackError,
// which aborts (and so rolls back) the call.
//
// The first callback point of a call also arranges for preCommit to run
// just before its commit and postCommit after it (upstream runs them for
// every call that wrote to the database; here, for every call that made a
// change announced through a callback point).
func (k *Koji) runCallbacks(ctx context.Context, name string, kw map[string]any) error {
	if !slices.Contains(callbackNames, name) {
		return fault(koji.ErrPlugin, "%q is not a valid callback type", name)
	}
	if name != "preCommit" && name != "postCommit" {
		err := onCommit(ctx, commitCallbacksKey{},
			func(ctx context.Context) error { return k.callCallbacks(ctx, "preCommit", map[string]any{}) },
			func() {
				// postCommit callbacks cannot abort a committed call:
				// their errors are logged.
				if err := k.callCallbacks(ctx, "postCommit", map[string]any{}); err != nil {
					LoggerFrom(ctx).Error("postCommit callback failed", "error", err)
				}
			})
		if err != nil {
			return err
		}
	}
	if err := k.callCallbacks(ctx, name, kw); err != nil {
		return err
	}
	return k.queueProtonmsg(ctx, name, kw)
}

// callCallbacks calls the callbacks registered for name in order.
func (k *Koji) callCallbacks(ctx context.Context, name string, kw map[string]any) error {
	var converted map[string]any // shared by the converting callbacks, as upstream caches it
	for _, cb := range k.registered(name) {
		var args map[string]any
		if cb.opts.ConvertDatetime {
			if converted == nil {
				converted = convertDatetime(kw).(map[string]any)
			}
			args = cloneKw(converted)
		} else {
			args = cloneKw(kw)
		}
		err := callOne(ctx, cb.fn, name, args)
		if err == nil {
			continue
		}
		msg := fmt.Sprintf("Error running %s callback from %s", name, cb.module)
		if cb.opts.IgnoreError {
			LoggerFrom(ctx).Warn(msg, "error", err)
			continue
		}
		return fault(koji.ErrCallback, "%s:\n%s\n", msg, err)
	}
	return nil
}

// callOne calls a callback, turning a panic into its error as Python
// turns any exception into a CallbackError.
func callOne(ctx context.Context, fn CallbackFunc, name string, kw map[string]any) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return fn(ctx, name, kw)
}

// cloneKw returns a callback's own copy of the keyword arguments, as
// Python's **kws gives each function a dict of its own.
func cloneKw(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return maps.Clone(m)
}

// convertDatetime returns a copy of v with every time.Time (or non-nil
// *time.Time) replaced by its isoformat(' ') string and each
// {"__class__": "datetime", "__value__": s} by s, as upstream's
// encode_datetime_recurse does for @convert_datetime callbacks. Maps and
// slices are copied; other values are shared.
func convertDatetime(v any) any {
	switch x := v.(type) {
	case time.Time:
		return pyTime(x)
	case *time.Time:
		if x == nil {
			return nil
		}
		return pyTime(*x)
	case map[string]any:
		if x["__class__"] == "datetime" {
			if s, ok := x["__value__"].(string); ok && s != "" {
				return s
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = convertDatetime(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = convertDatetime(e)
		}
		return out
	}
	return v
}
