package messages

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// A ParseError reports a message of a known kind that could not be read:
// a body that is not a JSON object, or members of the wrong type. A
// redelivery cannot fix it; Consume rejects such messages.
type ParseError struct {
	Format string // "protonmsg" or "fedora-messaging"
	Topic  string
	Kind   Kind
	Err    error
}

func (e *ParseError) Error() string {
	kind := ""
	if e.Kind != "" {
		kind = " (" + string(e.Kind) + ")"
	}
	return fmt.Sprintf("messages: %s message %q%s: %v", e.Format, e.Topic, kind, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// object is a JSON object decoded with normalized values: nil, bool,
// string, int64 (integers that fit), float64, []any and object. Strings
// hold only characters XML can carry (see xmlSafe), so that every value
// converts to XML-RPC.
type object = map[string]any

// decodeBody decodes a message body that must be a JSON object.
func decodeBody(body []byte) (object, error) {
	body = unwrapAMQPValue(body)
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("body is not JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("body has data after its JSON value")
	}
	m, ok := normalize(v).(object)
	if !ok {
		return nil, fmt.Errorf("body is a JSON %s, not an object", jsonKind(v))
	}
	return m, nil
}

// unwrapAMQPValue returns the string or binary an AMQP 1.0 amqp-value
// section holds, or body unchanged when it is not one. protonmsg puts its
// JSON in an amqp-value string; RabbitMQ hands a message whose body is not
// a single data section to AMQP 0.9.1 consumers in its AMQP 1.0 encoding
// (rabbitmq.com/docs/conversions, "AMQP 1.0 -> AMQP 0.9.1"). JSON never
// starts with the section's 0x00 descriptor byte.
func unwrapAMQPValue(body []byte) []byte {
	// 0x00 0x53 0x77: described type, smallulong 0x77 (amqp-value).
	if len(body) < 5 || body[0] != 0x00 || body[1] != 0x53 || body[2] != 0x77 {
		return body
	}
	var n, off int
	switch body[3] {
	case 0xa1, 0xa0: // str8-utf8, vbin8
		n, off = int(body[4]), 5
	case 0xb1, 0xb0: // str32-utf8, vbin32
		if len(body) < 8 {
			return body
		}
		n, off = int(binary.BigEndian.Uint32(body[4:8])), 8
	default:
		return body
	}
	if n > len(body)-off {
		return body
	}
	return body[off : off+n]
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "number"
}

// normalize converts what encoding/json decoded (with UseNumber) into the
// value kinds object documents.
func normalize(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return i
		}
		// A number beyond float64 becomes ±Inf, as in Python.
		f, _ := strconv.ParseFloat(string(v), 64)
		return f
	case string:
		return xmlSafe(v)
	case []any:
		for i := range v {
			v[i] = normalize(v[i])
		}
		return v
	case map[string]any:
		m := make(object, len(v))
		for k, x := range v {
			m[xmlSafe(k)] = normalize(x)
		}
		return m
	}
	return v
}

// xmlSafe replaces the characters XML cannot carry (control characters
// other than tab, newline and carriage return, U+FFFE and U+FFFF) with
// U+FFFD. JSON carries them, but the objects are decoded through the
// xmlrpc package, with the same rules as the hub's own answers.
func xmlSafe(s string) string {
	i := strings.IndexFunc(s, notXMLChar)
	if i < 0 {
		return s
	}
	return s[:i] + strings.Map(func(r rune) rune {
		if notXMLChar(r) {
			return utf8.RuneError
		}
		return r
	}, s[i:])
}

func notXMLChar(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return false
	case r < 0x20, r == 0xfffe, r == 0xffff:
		return true
	}
	return false
}

// decodeInto decodes a normalized JSON value into a koji type through the
// xmlrpc package, so messages decode by the same rules as the hub's
// answers: members named by xmlrpc tags, nil leaving pointers nil, the
// hub's timestamp strings accepted by time.Time fields.
func decodeInto(v any, dst any) error {
	raw, err := xmlrpc.MarshalValue(v)
	if err != nil {
		return err
	}
	return raw.Decode(dst)
}

// member returns m[key] as an object; ok is false when it is missing or
// null, and err set when it is something else.
func member(m object, key string) (o object, ok bool, err error) {
	switch v := m[key].(type) {
	case nil:
		return nil, false, nil
	case object:
		return v, true, nil
	default:
		return nil, false, fmt.Errorf("%s is a JSON %s, not an object", key, jsonKind(v))
	}
}

// Typed members. Each returns ok false for a missing or null member and an
// error for one of another type.

func intMember(m object, key string) (n int, ok bool, err error) {
	switch v := m[key].(type) {
	case nil:
		return 0, false, nil
	case int64:
		if int64(int(v)) != v {
			return 0, false, fmt.Errorf("%s %d overflows int", key, v)
		}
		return int(v), true, nil
	default:
		return 0, false, fmt.Errorf("%s is a JSON %s, not an integer", key, jsonKind(v))
	}
}

func stringMember(m object, key string) (s string, ok bool, err error) {
	switch v := m[key].(type) {
	case nil:
		return "", false, nil
	case string:
		return v, true, nil
	default:
		return "", false, fmt.Errorf("%s is a JSON %s, not a string", key, jsonKind(v))
	}
}

func boolMember(m object, key string) (b bool, ok bool, err error) {
	switch v := m[key].(type) {
	case nil:
		return false, false, nil
	case bool:
		return v, true, nil
	default:
		return false, false, fmt.Errorf("%s is a JSON %s, not a boolean", key, jsonKind(v))
	}
}

// A fields reads typed members of one object and keeps the first error,
// so that a parser reads every member it needs and checks once.
type fields struct {
	m   object
	err error
}

func (f *fields) keep(err error) {
	if f.err == nil && err != nil {
		f.err = err
	}
}

func (f *fields) object(key string) object {
	o, _, err := member(f.m, key)
	f.keep(err)
	return o
}

func (f *fields) str(key string) string {
	s, _, err := stringMember(f.m, key)
	f.keep(err)
	return s
}

func (f *fields) bool(key string) bool {
	b, _, err := boolMember(f.m, key)
	f.keep(err)
	return b
}

func (f *fields) optBool(key string) *bool {
	b, ok, err := boolMember(f.m, key)
	f.keep(err)
	if !ok {
		return nil
	}
	return &b
}

func (f *fields) optString(key string) *string {
	s, ok, err := stringMember(f.m, key)
	f.keep(err)
	if !ok {
		return nil
	}
	return &s
}

func (f *fields) int(key string) int {
	n, _, err := intMember(f.m, key)
	f.keep(err)
	return n
}

func (f *fields) optInt(key string) *int {
	n, ok, err := intMember(f.m, key)
	f.keep(err)
	if !ok {
		return nil
	}
	return &n
}

// Properties and headers arrive with the types of the protocol that
// carried them: AMQP 0.9.1 tables have int8 to int64, float32, []byte.

func propString(props map[string]any, key string) string {
	switch v := props[key].(type) {
	case string:
		return v
	case []byte:
		return string(v)
	}
	return ""
}

func propInt(props map[string]any, key string) (int, bool) {
	var n int64
	switch v := props[key].(type) {
	case int:
		return v, true
	case int8:
		n = int64(v)
	case int16:
		n = int64(v)
	case int32:
		n = int64(v)
	case int64:
		n = v
	case uint8:
		n = int64(v)
	case uint16:
		n = int64(v)
	case uint32:
		n = int64(v)
	default:
		return 0, false
	}
	if int64(int(n)) != n {
		return 0, false
	}
	return int(n), true
}

// State members: task states travel by name, build states by number in
// bodies and by name in protonmsg's properties.

// stateChange parses a state change's new state, which is required, and
// its old one, which is absent when the task or build was just created.
func stateChange[S any](newRaw, oldRaw any, parse func(any) (S, bool, error)) (S, *S, error) {
	newState, ok, err := parse(newRaw)
	if err != nil {
		return newState, nil, fmt.Errorf("new: %w", err)
	}
	if !ok {
		return newState, nil, errors.New("no new state")
	}
	old, ok, err := parse(oldRaw)
	if err != nil {
		return newState, nil, fmt.Errorf("old: %w", err)
	}
	if !ok {
		return newState, nil, nil
	}
	return newState, &old, nil
}

func taskState(v any) (s koji.TaskState, ok bool, err error) {
	switch v := v.(type) {
	case nil:
		return 0, false, nil
	case string:
		s, err := koji.ParseTaskState(v)
		return s, err == nil, err
	case int64:
		if v < 0 || v > math.MaxInt32 {
			return 0, false, fmt.Errorf("task state %d out of range", v)
		}
		return koji.TaskState(v), true, nil
	}
	return 0, false, fmt.Errorf("task state is a JSON %s", jsonKind(v))
}

func buildState(v any) (s koji.BuildState, ok bool, err error) {
	switch v := v.(type) {
	case nil:
		return 0, false, nil
	case string:
		s, err := koji.ParseBuildState(v)
		return s, err == nil, err
	case int64:
		if v < 0 || v > math.MaxInt32 {
			return 0, false, fmt.Errorf("build state %d out of range", v)
		}
		return koji.BuildState(v), true, nil
	}
	return 0, false, fmt.Errorf("build state is a JSON %s", jsonKind(v))
}

// Objects from the hub.

// timeMembers are the time members of builds, tasks and repos whose
// float-seconds twin Fedora's bus sends under the same name (it converts
// datetimes to timestamps in task info and in rpm.sign's build).
var timeMembers = map[string]string{
	"creation_time":   "creation_ts",
	"create_time":     "create_ts",
	"start_time":      "start_ts",
	"completion_time": "completion_ts",
	"promotion_time":  "promotion_ts",
}

// fixTimes moves a time member sent as seconds to its *_ts twin (unless
// the message has the twin too), since time.Time fields take strings.
func fixTimes(o object) {
	for name, ts := range timeMembers {
		switch v := o[name].(type) {
		case int64:
			if _, ok := o[ts]; !ok {
				o[ts] = float64(v)
			}
			delete(o, name)
		case float64:
			if _, ok := o[ts]; !ok {
				o[ts] = v
			}
			delete(o, name)
		}
	}
}

// decodeBuild decodes a build dict as callbacks pass it: getBuild's form
// (build_id and id, owner_id, package_id) or, when the hub has just
// created the build, the row it inserted (id, owner, pkg_id, extra as a
// JSON string).
func decodeBuild(o object) (*koji.Build, error) {
	o = cloneObject(o)
	fixTimes(o)
	rename(o, "id", "build_id")
	rename(o, "pkg_id", "package_id")
	if _, ok := o["owner"].(int64); ok {
		rename(o, "owner", "owner_id")
	}
	if s, ok := o["extra"].(string); ok {
		if extra, err := decodeBody([]byte(s)); err == nil {
			o["extra"] = extra
		} else {
			delete(o, "extra")
		}
	}
	if s, ok := o["epoch"].(string); ok { // Fedora's schema allows a string
		if n, err := strconv.Atoi(s); err == nil {
			o["epoch"] = int64(n)
		} else {
			delete(o, "epoch")
		}
	}
	var b koji.Build
	if err := decodeInto(o, &b); err != nil {
		return nil, err
	}
	if b.NVR == "" && b.Name != "" {
		b.NVR = b.Name + "-" + b.Version + "-" + b.Release
	}
	if b.PackageName == "" {
		b.PackageName = b.Name
	}
	return &b, nil
}

// decodeTask decodes task info: getTaskInfo's form, make_task's options
// for a new task, or Fedora's form (fedora true), whose owner is a user
// name, whose times are timestamps and whose result is the decoded value.
func decodeTask(o object, fedora bool) (*koji.Task, error) {
	o = cloneObject(o)
	fixTimes(o)
	if _, ok := o["owner"].(string); ok {
		rename(o, "owner", "owner_name")
	}
	if r, ok := o["result"]; ok && r != nil && fedora {
		// Task.DecodeResult reads a decoded result as the hub's
		// getTaskResult form: the response's parameters.
		o["result"] = []any{r}
	}
	var t koji.Task
	if err := decodeInto(o, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

func decodeTag(o object) (*koji.Tag, error) {
	var t koji.Tag
	if err := decodeInto(o, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

func decodeUser(o object) (*koji.User, error) {
	var u koji.User
	if err := decodeInto(o, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

func decodePackage(o object) (*koji.Package, error) {
	var p koji.Package
	if err := decodeInto(o, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

func decodeRPM(o object) (*koji.RPM, error) {
	o = cloneObject(o)
	fixTimes(o)
	var r koji.RPM
	if err := decodeInto(o, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// cloneObject copies the top level of o, which the decoders edit.
func cloneObject(o object) object {
	c := make(object, len(o))
	for k, v := range o {
		c[k] = v
	}
	return c
}

// rename moves o[from] to o[to] unless o already has to.
func rename(o object, from, to string) {
	v, ok := o[from]
	if !ok {
		return
	}
	if _, taken := o[to]; !taken {
		o[to] = v
	}
	delete(o, from)
}
