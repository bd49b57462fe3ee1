package koji

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gokoji/gokoji/xmlrpc"
)

// malformedTask is upstream's label for a task whose fields or parameters
// do not have the shape its method needs.
const malformedTask = "malformed task"

// Label describes the task as Koji's tools do (koji.taskLabel), such as
// "build (f43-candidate, /rpms/bash.git:5f2e…)" or "buildArch
// (bash-5.2-1.src.rpm, x86_64)": the method and, for the methods Koji
// knows, the interesting parameters, else the task's arch. A task whose
// request was not fetched, or whose parameters do not fit its method, is
// "malformed task"; parameters that match none of a known method's
// signatures give "<method> (<arch>, unknown args)".
//
// The parameters are read with Params, so a request the hub left encoded
// (listTasks without Decode) is labelled like a decoded one.
func (t *Task) Label() string {
	if t.Request == nil {
		return malformedTask // upstream: KeyError on the missing request
	}
	var params []any
	if !t.Request.IsNil() {
		var err error
		if params, err = t.Params(); err != nil {
			return malformedTask
		}
	}
	return taskLabel(t.Method, params, t.Request.IsNil(), t.Arch)
}

// taskLabel ports koji._taskLabel; nilRequest is a request of None, which
// upstream cannot parse and treats like a method without a signature.
func taskLabel(method string, request []any, nilRequest bool, arch string) string {
	var params any // nil plays the part of Python's None
	if !nilRequest {
		parsed, err := parseTaskParams(method, request)
		var perr *paramError
		switch {
		case errors.As(err, &perr):
			return fmt.Sprintf("%s (%s, unknown args)", method, arch)
		case err == nil:
			params = parsed
		}
	}
	extra, archText, err := labelExtra(method, params, arch)
	if err != nil {
		return malformedTask
	}
	if xmlrpc.Truthy(extra) {
		return fmt.Sprintf("%s (%s)", method, pyStr(extra))
	}
	return fmt.Sprintf("%s (%s)", method, archText)
}

// labelExtra computes _taskLabel's extra text, in upstream's branch order.
// It also returns the arch text, which buildArch replaces by its param.
func labelExtra(method string, p any, arch string) (extra any, archText string, err error) {
	archText = arch
	l := &labeler{params: p}
	switch {
	case method == "build" || method == "maven":
		src := l.or(l.get("src"), l.get("url"))
		var info string
		if s := l.str(src); strings.Contains(s, "://") {
			info = moduleInfo(s)
		} else {
			info = pyBasename(s)
		}
		target := l.or(l.get("target"), l.get("build_tag"))
		extra = fmt.Sprintf("%s, %s", pyStr(target), info)
	case method == "indirectionimage":
		opts := l.item(p, "opts")
		extra = fmt.Sprintf("%s, %s, %s", pyStr(l.item(opts, "name")), pyStr(l.item(opts, "version")), pyStr(l.item(opts, "release")))
	case strings.Contains("buildSRPMFromSCM", method):
		// Upstream writes `method in ('buildSRPMFromSCM')`: a substring
		// test on a string, not a one-element tuple.
		extra = moduleInfo(l.str(l.item(p, "url")))
	case method == "buildArch":
		srpm := pyBasename(l.str(l.item(p, "pkg")))
		archParam := l.item(p, "arch")
		archText = pyStr(archParam)
		extra = fmt.Sprintf("%s, %s", srpm, archText)
	case method == "buildMaven":
		extra = l.item(l.item(p, "build_tag"), "name")
	case method == "wrapperRPM":
		target := l.item(l.item(p, "build_target"), "name")
		if build := l.item(p, "build"); xmlrpc.Truthy(build) {
			extra = fmt.Sprintf("%s, %s", pyStr(target), l.buildLabel(build))
		} else {
			extra = target
		}
	case method == "winbuild":
		info := moduleInfo(l.str(l.item(p, "source_url")))
		extra = fmt.Sprintf("%s, %s", pyStr(l.item(p, "target")), info)
	case method == "vmExec":
		extra = l.item(p, "name")
	case method == "buildNotification":
		extra = l.buildLabel(l.item(p, "build"))
	case method == "newRepo" || method == "distRepo":
		extra = pyStr(l.item(p, "tag"))
	case method == "tagBuild" || method == "tagNotification":
		// Nothing displayable in the request: the label shows the arch.
	case method == "createrepo":
		extra = l.item(p, "arch")
	case method == "createdistrepo":
		extra = fmt.Sprintf("%s, %s", pyStr(l.item(p, "repo_id")), pyStr(l.item(p, "arch")))
	case method == "dependantTask":
		var ids []string
		for _, subtask := range l.iterate(l.item(p, "task_list")) {
			ids = append(ids, pyStr(l.index(subtask, 0)))
		}
		extra = strings.Join(ids, ", ")
	case method == "chainbuild" || method == "chainmaven":
		extra = l.item(p, "target")
	case method == "waitrepo":
		text := pyStr(l.item(p, "tag"))
		if nvrs, ok := l.item(p, "nvrs").([]any); ok {
			names := make([]string, len(nvrs))
			for i, nvr := range nvrs {
				names[i] = l.str(nvr) // str.join accepts only strings
			}
			text += ", " + strings.Join(names, ", ")
		}
		extra = text
	case method == "livecd" || method == "appliance" || method == "image" || method == "livemedia":
		kstart := l.or(l.get("ksfile"), l.get("inst_tree"))
		arches := l.or(l.get("arch"), l.get("arches"))
		extra = fmt.Sprintf("%s, %s-%s, %s", pyStr(arches), pyStr(l.item(p, "name")), pyStr(l.item(p, "version")), pyStr(kstart))
	case method == "createLiveCD" || method == "createAppliance" || method == "createImage" || method == "createLiveMedia":
		kstart := l.or(l.get("ksfile"), l.get("inst_tree"))
		extra = fmt.Sprintf("%s, %s-%s-%s, %s, %s", pyStr(l.item(l.item(p, "target_info"), "name")),
			pyStr(l.item(p, "name")), pyStr(l.item(p, "version")), pyStr(l.item(p, "release")),
			pyStr(kstart), pyStr(l.item(p, "arch")))
	case method == "restart" || method == "restartVerify":
		extra = l.item(l.item(p, "host"), "name")
	}
	return extra, archText, l.err
}

// A labeler evaluates upstream's expressions on decoded values with
// Python's semantics, remembering the first exception instead of raising
// it; once one happened, every later step yields nil.
type labeler struct {
	params any
	err    error
}

func (l *labeler) fail(format string, args ...any) any {
	if l.err == nil {
		l.err = fmt.Errorf(format, args...)
	}
	return nil
}

// get is params.get(key): params must be a dict.
func (l *labeler) get(key string) any {
	if l.err != nil {
		return nil
	}
	m, ok := l.params.(map[string]any)
	if !ok {
		return l.fail("%s has no attribute 'get'", pyTypeName(l.params))
	}
	return m[key]
}

// or is Python's `a or b`.
func (l *labeler) or(a, b any) any {
	if xmlrpc.Truthy(a) {
		return a
	}
	return b
}

// item is container[key] for a dict.
func (l *labeler) item(container any, key string) any {
	if l.err != nil {
		return nil
	}
	m, ok := container.(map[string]any)
	if !ok {
		return l.fail("%s is not subscriptable by %q", pyTypeName(container), key)
	}
	v, ok := m[key]
	if !ok {
		return l.fail("KeyError: %q", key)
	}
	return v
}

// index is container[i] for a list or a string.
func (l *labeler) index(container any, i int) any {
	if l.err != nil {
		return nil
	}
	switch c := container.(type) {
	case []any:
		if i < len(c) {
			return c[i]
		}
	case string:
		if r := []rune(c); i < len(r) {
			return string(r[i])
		}
	default:
		return l.fail("%s is not subscriptable", pyTypeName(container))
	}
	return l.fail("IndexError: %d", i)
}

// iterate is `for x in v` over a list or a string.
func (l *labeler) iterate(v any) []any {
	if l.err != nil {
		return nil
	}
	switch c := v.(type) {
	case []any:
		return c
	case string:
		var out []any
		for _, r := range c {
			out = append(out, string(r))
		}
		return out
	}
	l.fail("%s is not iterable", pyTypeName(v))
	return nil
}

// str asserts a value is a string, as upstream's string operations need.
func (l *labeler) str(v any) string {
	if l.err != nil {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		l.fail("expected a string, not %s", pyTypeName(v))
	}
	return s
}

// buildLabel ports koji.buildLabel without the epoch, as taskLabel calls it.
func (l *labeler) buildLabel(build any) string {
	if l.err != nil {
		return ""
	}
	m, ok := build.(map[string]any)
	if !ok {
		l.fail("%s has no attribute 'get'", pyTypeName(build))
		return ""
	}
	name := m["package_name"]
	if !xmlrpc.Truthy(name) {
		name = m["name"]
	}
	return fmt.Sprintf("%s-%s-%s", pyStr(name), pyStr(m["version"]), pyStr(m["release"]))
}

// moduleInfo ports koji._module_info: "<path>:<rev>" or
// "<path>:<module>:<rev>" from an SCM URL, with Python's index arithmetic
// (str.find returning -1 and negative slice bounds) kept as upstream has
// it, so that odd URLs give the same odd text.
func moduleInfo(url string) string {
	u := []rune(url)
	find := func(sub string, start int) int { return pyFind(u, sub, start) }
	module := ""
	if strings.Contains(url, "?") {
		module = pySlice(u, find("?", 0)+1, find("#", 0))
	}
	repoStart := find("/", find("://", 0)+3)
	repoEnd := find("?", 0)
	if repoEnd == -1 {
		repoEnd = find("#", 0)
	}
	repo := pySlice(u, repoStart, repoEnd)
	rev := pySlice(u, find("#", 0)+1, len(u))
	if module != "" {
		return repo + ":" + module + ":" + rev
	}
	return repo + ":" + rev
}

// pyFind is str.find on runes.
func pyFind(s []rune, sub string, start int) int {
	if start < 0 {
		start = max(start+len(s), 0)
	}
	if start > len(s) {
		return -1
	}
	i := strings.Index(string(s[start:]), sub)
	if i < 0 {
		return -1
	}
	return start + utf8.RuneCountInString(string(s[start:])[:i])
}

// pySlice is s[start:end] on runes with Python's bounds rules.
func pySlice(s []rune, start, end int) string {
	clamp := func(i int) int {
		if i < 0 {
			i += len(s)
		}
		return min(max(i, 0), len(s))
	}
	start, end = clamp(start), clamp(end)
	if start >= end {
		return ""
	}
	return string(s[start:end])
}

// pyBasename is os.path.basename.
func pyBasename(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

// pyStr is Python's str() of a decoded value.
func pyStr(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return pyRepr(v)
}

// pyRepr is Python's repr() of a decoded value. Dicts list their keys
// sorted: the decoded form no longer knows the order the hub sent.
func pyRepr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		return pyFloatRepr(x)
	case string:
		return pyStringRepr(x)
	case []byte:
		return "b" + pyStringRepr(string(x))
	case time.Time:
		return "<DateTime '" + x.Format("20060102T15:04:05") + "'>"
	case []any:
		items := make([]string, len(x))
		for i, e := range x {
			items[i] = pyRepr(e)
		}
		return "[" + strings.Join(items, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		items := make([]string, len(keys))
		for i, k := range keys {
			items[i] = pyStringRepr(k) + ": " + pyRepr(x[k])
		}
		return "{" + strings.Join(items, ", ") + "}"
	}
	return fmt.Sprint(v)
}

// pyFloatRepr is repr(float): the shortest text that reads back, fixed
// notation for decimal exponents -4 to 15, else scientific.
func pyFloatRepr(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	sci := strconv.FormatFloat(f, 'e', -1, 64)
	mant, expText, _ := strings.Cut(sci, "e")
	exp, _ := strconv.Atoi(expText)
	if exp < -4 || exp >= 16 {
		sign := "+"
		if exp < 0 {
			sign, exp = "-", -exp
		}
		return fmt.Sprintf("%se%s%02d", mant, sign, exp)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// pyStringRepr is repr(str): single quotes unless the text has one and no
// double quote, with Python's escapes for what is not printable.
func pyStringRepr(s string) string {
	quote := '\''
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		quote = '"'
	}
	var b strings.Builder
	b.WriteRune(quote)
	for _, r := range s {
		switch {
		case r == quote || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.IsPrint(r):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x10000:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteRune(quote)
	return b.String()
}

// pyTypeName names a decoded value's Python type, for error messages.
func pyTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int64, int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []any:
		return "list"
	case map[string]any:
		return "dict"
	}
	return fmt.Sprintf("%T", v)
}
