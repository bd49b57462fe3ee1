package koji

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/gokoji/gokoji/xmlrpc"
)

// ErrNoTaskRequest reports a task read without its request: ask for it
// with TaskInfoOptions.Request.
var ErrNoTaskRequest = errors.New("koji: the task's request was not fetched")

// Params returns the task's parameters as its creator passed them, keyword
// arguments included as a last map whose "__starstar" member is true.
// Values are decoded as for an any (see package xmlrpc): int64, string,
// []any, map[string]any and so on.
func (t *Task) Params() ([]any, error) {
	if t.Request == nil {
		return nil, ErrNoTaskRequest
	}
	var v any
	if err := t.Request.Decode(&v); err != nil {
		return nil, t.paramsError("request: %v", err)
	}
	switch x := v.(type) {
	case []any:
		return x, nil
	case string:
		params, err := decodeStoredCall(x)
		if err != nil {
			return nil, t.paramsError("request: %v", err)
		}
		return params, nil
	}
	return nil, t.paramsError("request is %s, not a parameter list", pyTypeName(v))
}

// storedDocument returns the XML document of a stored request or result:
// the hub keeps old ones base64-encoded, recognising XML by "<?xml" in
// the first ten characters, as it does itself.
func storedDocument(s string) ([]byte, error) {
	if i := strings.Index(s, "<?xml"); i >= 0 && i+len("<?xml") <= 10 {
		return []byte(s), nil
	}
	return base64.StdEncoding.DecodeString(s)
}

// decodeStoredCall decodes a stored methodCall into its parameter list.
func decodeStoredCall(s string) ([]any, error) {
	doc, err := storedDocument(s)
	if err != nil {
		return nil, err
	}
	call, err := xmlrpc.DecodeCall(doc)
	if err != nil {
		return nil, err
	}
	params := make([]any, len(call.Params), len(call.Params)+1)
	for i, raw := range call.Params {
		if err := raw.Decode(&params[i]); err != nil {
			return nil, err
		}
	}
	if call.Kwargs != nil {
		kw := map[string]any{"__starstar": true}
		for name, raw := range call.Kwargs {
			var v any
			if err := raw.Decode(&v); err != nil {
				return nil, err
			}
			kw[name] = v
		}
		params = append(params, kw)
	}
	return params, nil
}

// A TaskParamsError reports a task whose request or result does not have
// the shape its method calls for.
type TaskParamsError struct {
	TaskID int
	Method string
	Reason string
}

func (e *TaskParamsError) Error() string {
	return fmt.Sprintf("koji: task %d (%s): %s", e.TaskID, e.Method, e.Reason)
}

func (t *Task) paramsError(format string, args ...any) error {
	return &TaskParamsError{TaskID: t.ID, Method: t.Method, Reason: fmt.Sprintf(format, args...)}
}

// What the parameters say. These helpers follow txkoji's Task, reading
// parameters by position as the methods' creators pass them; a method
// they know nothing about gives a zero value, parameters of another shape
// a *TaskParamsError.

// RequestArch is the arch the task's parameters name, for the methods
// that take one: buildArch, createdistrepo, livecd, createrepo, runroot,
// createImage and indirectionimage; "" for others.
func (t *Task) RequestArch() (string, error) {
	p, err := t.positional("buildArch", "createdistrepo", "livecd", "createrepo", "runroot", "createImage", "indirectionimage")
	if p == nil {
		return "", err
	}
	switch t.Method {
	case "buildArch", "createdistrepo", "livecd":
		return p.str(2)
	case "createrepo", "runroot":
		return p.str(1)
	case "createImage":
		return p.str(3)
	}
	return p.memberStr(0, "arch") // indirectionimage
}

// Arches are the arches the task works for: those an image task lists,
// else RequestArch's, else none.
func (t *Task) Arches() ([]string, error) {
	if t.Method == "image" {
		p, err := t.positional("image")
		if err != nil {
			return nil, err
		}
		list, err := p.at(2)
		if err != nil {
			return nil, err
		}
		items, ok := list.([]any)
		if !ok {
			return nil, t.paramsError("arches are %s, not a list", pyTypeName(list))
		}
		arches := make([]string, len(items))
		for i, a := range items {
			if arches[i], ok = a.(string); !ok {
				return nil, t.paramsError("arch %d is %s, not a string", i, pyTypeName(a))
			}
		}
		return arches, nil
	}
	arch, err := t.RequestArch()
	if err != nil || arch == "" {
		return nil, err
	}
	return []string{arch}, nil
}

// Package is the name of the package the task builds: from a build's
// parameters, an image's name, or for the build methods from the source,
// the name in a "*.src.rpm" NVR or the last path element of an SCM URL
// without ".git" (with "-container" added for buildContainer). It is ""
// for other methods.
func (t *Task) Package() (string, error) {
	p, err := t.positional("buildNotification", "createImage", "image", "livecd", "indirectionimage",
		"build", "buildArch", "buildContainer", "buildMaven", "buildSRPMFromSCM", "maven")
	if p == nil {
		return "", err
	}
	switch t.Method {
	case "buildNotification":
		return p.memberStr(1, "name")
	case "createImage", "image", "livecd":
		return p.str(0)
	case "indirectionimage":
		return p.memberStr(0, "name")
	}
	source, err := p.str(0)
	if err != nil {
		return "", err
	}
	if strings.HasSuffix(source, ".src.rpm") {
		srpm := pyBasename(source)
		// The name is what precedes the last two dashes of the NVR.
		if i := strings.LastIndexByte(srpm, '-'); i > 0 {
			if j := strings.LastIndexByte(srpm[:i], '-'); j >= 0 {
				return srpm[:j], nil
			}
		}
		return "", t.paramsError("source %q is not a name-version-release.src.rpm", source)
	}
	if u, err := url.Parse(source); err == nil && u.Scheme != "" {
		path := u.Path
		if u.Opaque != "" {
			path = u.Opaque
		}
		name := strings.TrimSuffix(pyBasename(path), ".git")
		if t.Method == "buildContainer" {
			name += "-container"
		}
		return name, nil
	}
	return "", t.paramsError("cannot parse source %q", source)
}

// Tag is the tag the task works on, as its parameters name it: an int ID
// or a string name, depending on the method and its caller. It is nil for
// methods that name none.
func (t *Task) Tag() (NameOrID, error) {
	p, err := t.positional("buildArch", "createdistrepo", "distRepo", "newRepo", "runroot", "tagBuild", "waitrepo",
		"tagNotification", "buildMaven")
	if p == nil {
		return nil, err
	}
	switch t.Method {
	case "buildArch":
		return p.ref(1)
	case "tagNotification":
		return p.ref(2)
	case "buildMaven":
		return p.memberStr(1, "name")
	}
	return p.ref(0)
}

// Target is the name of the build target the task builds for, for the
// methods that have one; "" for others.
func (t *Task) Target() (string, error) {
	p, err := t.positional("build", "buildContainer", "chainmaven", "maven", "buildNotification", "createImage",
		"image", "livecd", "indirectionimage", "wrapperRPM")
	if p == nil {
		return "", err
	}
	switch t.Method {
	case "buildNotification":
		return p.memberStr(2, "name")
	case "createImage":
		return p.memberStr(4, "name")
	case "image", "livecd":
		return p.str(3)
	case "indirectionimage":
		return p.memberStr(0, "target")
	case "wrapperRPM":
		return p.memberStr(1, "name")
	}
	return p.str(1)
}

// BuildID is the ID of the build a tagBuild task tags; 0 for other
// methods.
func (t *Task) BuildID() (int, error) {
	p, err := t.positional("tagBuild")
	if p == nil {
		return 0, err
	}
	v, err := p.at(1)
	if err != nil {
		return 0, err
	}
	id, ok := v.(int64)
	if !ok {
		return 0, t.paramsError("build ID is %s, not an int", pyTypeName(v))
	}
	return int(id), nil
}

// IsScratch reports whether the task builds a scratch build: whether one
// of its option maps sets scratch.
func (t *Task) IsScratch() (bool, error) {
	params, err := t.Params()
	if err != nil {
		return false, err
	}
	for _, param := range params {
		if m, ok := param.(map[string]any); ok && xmlrpc.Truthy(m["scratch"]) {
			return true, nil
		}
	}
	return false, nil
}

// positional returns the task's parameters when its method is one of
// methods, and nil (with no error) when it is not.
func (t *Task) positional(methods ...string) (*taskParams, error) {
	if !contains(methods, t.Method) {
		return nil, nil
	}
	params, err := t.Params()
	if err != nil {
		return nil, err
	}
	return &taskParams{t: t, params: params}, nil
}

// taskParams reads parameters by position, reporting a wrong shape.
type taskParams struct {
	t      *Task
	params []any
}

func (p *taskParams) at(i int) (any, error) {
	if i >= len(p.params) {
		return nil, p.t.paramsError("%d parameters, not the %d needed", len(p.params), i+1)
	}
	return p.params[i], nil
}

func (p *taskParams) str(i int) (string, error) {
	v, err := p.at(i)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok {
		return "", p.t.paramsError("parameter %d is %s, not a string", i, pyTypeName(v))
	}
	return s, nil
}

func (p *taskParams) memberStr(i int, key string) (string, error) {
	v, err := p.at(i)
	if err != nil {
		return "", err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return "", p.t.paramsError("parameter %d is %s, not a map", i, pyTypeName(v))
	}
	s, ok := m[key].(string)
	if !ok {
		return "", p.t.paramsError("parameter %d's %s is %s, not a string", i, key, pyTypeName(m[key]))
	}
	return s, nil
}

// ref reads an ID or a name; nil stays nil.
func (p *taskParams) ref(i int) (NameOrID, error) {
	v, err := p.at(i)
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case nil, string:
		return x, nil
	case int64:
		return int(x), nil
	}
	return nil, p.t.paramsError("parameter %d is %s, not an ID or a name", i, pyTypeName(v))
}

// A paramError is upstream's ParameterError from parse_task_params: the
// parameters match none of the method's signatures.
type paramError struct{ msg string }

func (e *paramError) Error() string { return e.msg }

// errNoSignature is upstream's TypeError from parse_task_params: the
// method has no legacy signature.
var errNoSignature = errors.New("no legacy signature")

// parseTaskParams ports koji.tasks.parse_task_params: a task's parameters
// by name, from the new single-dict form or from the method's legacy
// signatures.
func parseTaskParams(method string, params []any) (map[string]any, error) {
	if len(params) == 1 {
		if m, ok := params[0].(map[string]any); ok {
			if _, ok := m["__method__"]; ok {
				out := make(map[string]any, len(m)-1)
				for k, v := range m {
					if k != "__method__" {
						out[k] = v
					}
				}
				return out, nil
			}
		}
	}
	args, kwargs := splitKwargs(params)
	specs, ok := legacySignatures[method]
	if !ok {
		return nil, errNoSignature
	}
	var first error
	for _, spec := range specs {
		data, err := spec.apply(args, kwargs)
		if err == nil {
			return data, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, &paramError{msg: fmt.Sprintf("Invalid signature for %s: %v", method, first)}
}

// splitKwargs ports koji.decode_args on decoded values.
func splitKwargs(params []any) ([]any, map[string]any) {
	if n := len(params); n > 0 {
		if m, ok := params[n-1].(map[string]any); ok && xmlrpc.Truthy(m["__starstar"]) {
			opts := make(map[string]any, len(m)-1)
			for k, v := range m {
				if k != "__starstar" {
					opts[k] = v
				}
			}
			return params[:n-1], opts
		}
	}
	return params, nil
}

// An argspec is a Python function signature as getargspec gives it.
type argspec struct {
	args     []string
	varargs  string // "" for none
	varkw    string // "" for none
	defaults []any  // for the last len(defaults) args
}

// apply ports koji.util.apply_argspec.
func (s argspec) apply(args []any, kwargs map[string]any) (map[string]any, error) {
	data := map[string]any{}
	for i, name := range s.args {
		if i < len(args) {
			data[name] = args[i]
		}
	}
	switch {
	case len(args) > len(s.args):
		if s.varargs == "" {
			return nil, &paramError{msg: "too many args"}
		}
		data[s.varargs] = args[len(s.args):]
	case s.varargs != "":
		data[s.varargs] = []any{}
	}
	var varkw map[string]any
	if s.varkw != "" {
		varkw = map[string]any{}
		data[s.varkw] = varkw
	}
	for name, v := range kwargs {
		if _, dup := data[name]; dup {
			return nil, &paramError{msg: fmt.Sprintf("duplicate keyword argument %s", pyRepr(name))}
		}
		switch {
		case contains(s.args, name):
			data[name] = v
		case varkw == nil:
			return nil, &paramError{msg: fmt.Sprintf("unexpected keyword argument %s", pyRepr(name))}
		default:
			varkw[name] = v
		}
	}
	for i, v := range s.defaults {
		name := s.args[len(s.args)-len(s.defaults)+i]
		if _, set := data[name]; !set {
			data[name] = v
		}
	}
	for n, name := range s.args {
		if _, set := data[name]; !set {
			return nil, &paramError{msg: fmt.Sprintf("missing required argument %s (#%d)", pyRepr(name), n)}
		}
	}
	return data, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// legacySignatures is koji.tasks.LEGACY_SIGNATURES: the handler signatures
// of the task methods upstream knows.
var legacySignatures = map[string][]argspec{
	"chainbuild":        {{args: []string{"srcs", "target", "opts"}, defaults: []any{nil}}},
	"waitrepo":          {{args: []string{"tag", "newer_than", "nvrs"}, defaults: []any{nil, nil}}},
	"createLiveMedia":   {{args: imageTaskArgs("ksfile"), defaults: []any{nil}}},
	"createAppliance":   {{args: imageTaskArgs("ksfile"), defaults: []any{nil}}},
	"livecd":            {{args: []string{"name", "version", "arch", "target", "ksfile", "opts"}, defaults: []any{nil}}},
	"buildNotification": {{args: []string{"recipients", "build", "target", "weburl"}}},
	"buildMaven":        {{args: []string{"url", "build_tag", "opts"}, defaults: []any{nil}}},
	"build":             {{args: []string{"src", "target", "opts"}, defaults: []any{nil}}},
	"buildSRPMFromSCM":  {{args: []string{"url", "build_tag", "opts"}, defaults: []any{nil}}},
	"rebuildSRPM":       {{args: []string{"srpm", "build_tag", "opts"}, defaults: []any{nil}}},
	"createrepo":        {{args: []string{"repo_id", "arch", "oldrepo"}}},
	"livemedia":         {{args: []string{"name", "version", "arches", "target", "ksfile", "opts"}, defaults: []any{nil}}},
	"indirectionimage":  {{args: []string{"opts"}}},
	"wrapperRPM":        {{args: []string{"spec_url", "build_target", "build", "task", "opts"}, defaults: []any{nil}}},
	"createLiveCD":      {{args: imageTaskArgs("ksfile"), defaults: []any{nil}}},
	"appliance":         {{args: []string{"name", "version", "arch", "target", "ksfile", "opts"}, defaults: []any{nil}}},
	"image":             {{args: []string{"name", "version", "arches", "target", "inst_tree", "opts"}, defaults: []any{nil}}},
	"tagBuild":          {{args: []string{"tag_id", "build_id", "force", "fromtag", "ignore_success"}, defaults: []any{false, nil, false}}},
	"chainmaven":        {{args: []string{"builds", "target", "opts"}, defaults: []any{nil}}},
	"newRepo":           {{args: []string{"tag", "event", "src", "debuginfo", "separate_src"}, defaults: []any{nil, false, false, false}}},
	"createImage":       {{args: imageTaskArgs("inst_tree"), defaults: []any{nil}}},
	"tagNotification": {{args: []string{"recipients", "is_successful", "tag_info", "from_info", "build_info", "user_info",
		"ignore_success", "failure_msg"}, defaults: []any{nil, ""}}},
	"buildArch":     {{args: []string{"pkg", "root", "arch", "keep_srpm", "opts"}, defaults: []any{nil}}},
	"maven":         {{args: []string{"url", "target", "opts"}, defaults: []any{nil}}},
	"waittest":      {{args: []string{"count", "seconds"}, defaults: []any{int64(10)}}},
	"default":       {{varargs: "args", varkw: "opts"}},
	"shutdown":      {{}},
	"restartVerify": {{args: []string{"task_id", "host"}}},
	"someMethod":    {{varargs: "args"}},
	"restart":       {{args: []string{"host"}}},
	"fork":          {{args: []string{"n", "m"}, defaults: []any{int64(5), int64(37)}}},
	"sleep":         {{args: []string{"n"}}},
	"dependantTask": {{args: []string{"wait_list", "task_list"}}},
	"subtask":       {{args: []string{"n"}, defaults: []any{int64(4)}}},
	"restartHosts":  {{args: []string{"options"}, defaults: []any{nil}}},
	"runroot": {{args: []string{"root", "arch", "command", "keep", "packages", "mounts", "repo_id", "skip_setarch",
		"weight", "upload_logs", "new_chroot"}, defaults: []any{false, []any{}, []any{}, nil, false, nil, nil, false}}},
	"distRepo":       {{args: []string{"tag", "repo_id", "keys", "task_opts"}}},
	"createdistrepo": {{args: []string{"tag", "repo_id", "arch", "keys", "opts"}}},
	"saveFailedTree": {{args: []string{"buildrootID", "full"}, defaults: []any{false}}},
	"vmExec":         {{args: []string{"name", "task_info", "opts"}}},
	"winbuild":       {{args: []string{"name", "source_url", "target", "opts"}}},
}

// imageTaskArgs is the signature shared by the create* image tasks, whose
// eighth argument is the kickstart or install tree.
func imageTaskArgs(source string) []string {
	return []string{"name", "version", "release", "arch", "target_info", "build_tag", "repo_info", source, "opts"}
}
