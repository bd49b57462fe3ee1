package messages

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// EncodeProton returns the message protonmsg sends for ev: its topic (the
// address suffix, without the hub's topic prefix), the properties its
// prep_* function sets, and the JSON of the callback's keyword arguments.
// Objects are written with every member of their koji type, times as the
// hub's isoformat(' ') strings (convert_datetime) and unset times as null.
// An *Unknown event cannot be encoded.
func EncodeProton(ev Event) (Message, error) {
	if ev == nil || reflect.ValueOf(ev).IsNil() {
		return Message{}, errors.New("messages: cannot encode a nil event")
	}
	return ev.proton()
}

// protonMessage builds a message from props and body kwargs, encoding the
// body as protonmsg's queue_msg does (json.dumps).
func protonMessage(topic string, props map[string]any, kwargs map[string]any) (Message, error) {
	v, err := jsonValue(reflect.ValueOf(kwargs))
	if err != nil {
		return Message{}, fmt.Errorf("messages: encoding %s: %w", topic, err)
	}
	body, err := json.Marshal(v)
	if err != nil {
		return Message{}, fmt.Errorf("messages: encoding %s: %w", topic, err)
	}
	return Message{Topic: topic, Properties: props, Body: body}, nil
}

// optional returns *p, or nil for a nil pointer, as Python's None.
func optional[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func (e *TaskStateChange) proton() (Message, error) {
	if e.Task == nil {
		return Message{}, errors.New("messages: TaskStateChange without a Task")
	}
	var old any
	if e.Old != nil {
		old = e.Old.String()
	}
	props := map[string]any{
		"type": string(KindTaskStateChange), "id": e.Task.ID, "parent": optional(e.Task.Parent),
		"method": e.Task.Method, "attribute": e.Attribute, "old": old, "new": e.New.String(),
	}
	return protonMessage(e.Topic(), props, map[string]any{
		"attribute": e.Attribute, "old": old, "new": e.New.String(), "info": e.Task,
	})
}

func (e *BuildStateChange) proton() (Message, error) {
	if e.Build == nil {
		return Message{}, errors.New("messages: BuildStateChange without a Build")
	}
	var oldName, oldNumber any
	if e.Old != nil {
		oldName, oldNumber = e.Old.String(), int(*e.Old)
	}
	props := map[string]any{
		"type": string(KindBuildStateChange), "name": e.Build.Name, "version": e.Build.Version,
		"release": e.Build.Release, "attribute": e.Attribute, "old": oldName, "new": e.New.String(),
	}
	btypes := e.BuildTypes
	if btypes == nil {
		btypes = map[string]any{}
	}
	return protonMessage(e.Topic(), props, map[string]any{
		"attribute": e.Attribute, "old": oldNumber, "new": int(e.New), "info": buildInfo{e.Build},
		"btypes": btypes,
	})
}

// buildInfo is a build as the hub's get_build returns it, which sends the
// build ID twice: as build_id and as id.
type buildInfo struct{ *koji.Build }

func (b buildInfo) MarshalJSON() ([]byte, error) {
	v, err := jsonValue(reflect.ValueOf(b.Build))
	if err != nil {
		return nil, err
	}
	info := v.(map[string]any) // a non-nil *koji.Build encodes as an object
	info["id"] = b.ID
	return json.Marshal(info)
}

func tagProps(kind Kind, tag *koji.Tag, b *koji.Build, user *koji.User) (map[string]any, error) {
	if tag == nil || b == nil || user == nil {
		return nil, fmt.Errorf("messages: %s needs a Tag, a Build and a User", kind)
	}
	return map[string]any{
		"type": string(kind), "tag": tag.Name, "name": b.Name, "version": b.Version,
		"release": b.Release, "user": user.Name,
	}, nil
}

func (e *Tag) proton() (Message, error) {
	props, err := tagProps(KindTag, e.Tag, e.Build, e.User)
	if err != nil {
		return Message{}, err
	}
	return protonMessage(e.Topic(), props, map[string]any{
		"tag": e.Tag, "build": buildInfo{e.Build}, "user": e.User, "force": e.Force,
	})
}

func (e *Untag) proton() (Message, error) {
	props, err := tagProps(KindUntag, e.Tag, e.Build, e.User)
	if err != nil {
		return Message{}, err
	}
	return protonMessage(e.Topic(), props, map[string]any{
		"tag": e.Tag, "build": buildInfo{e.Build}, "user": e.User, "force": e.Force, "strict": e.Strict,
	})
}

func (e *RepoInit) proton() (Message, error) {
	if e.Tag == nil {
		return Message{}, errors.New("messages: RepoInit without a Tag")
	}
	props := map[string]any{
		"type": string(KindRepoInit), "tag": e.Tag.Name, "repo_id": e.RepoID, "task_id": optional(e.TaskID),
	}
	opts := e.Options
	if opts == nil {
		opts = map[string]any{}
	}
	return protonMessage(e.Topic(), props, map[string]any{
		"tag": e.Tag, "event": optional(e.Event), "repo_id": e.RepoID, "task_id": optional(e.TaskID),
		"opts": opts,
	})
}

func (e *RepoDone) proton() (Message, error) {
	if e.Tag == nil {
		return Message{}, errors.New("messages: RepoDone without a Tag")
	}
	props := map[string]any{
		"type": string(KindRepoDone), "tag": e.Tag.Name, "repo_id": e.RepoID,
		"task_id": optional(e.TaskID), "expire": e.Expire,
	}
	repo := repoInfo{
		ID: e.RepoID, TagID: e.Tag.ID, TagName: e.Tag.Name, TaskID: e.TaskID, State: e.State,
		CreateEvent: e.CreateEvent, CreateTime: e.Created, Dist: e.Dist,
	}
	if !e.Created.IsZero() {
		repo.CreateTS = float64(e.Created.UnixMicro()) / 1e6
	}
	return protonMessage(e.Topic(), props, map[string]any{
		"repo": repo, "data": e.Data, "expire": e.Expire,
	})
}

func (e *PackageListChange) proton() (Message, error) {
	if e.Tag == nil || e.Package == nil || e.User == nil {
		return Message{}, errors.New("messages: PackageListChange needs a Tag, a Package and a User")
	}
	if e.Action == "" {
		return Message{}, errors.New("messages: PackageListChange without an Action")
	}
	props := map[string]any{
		"type": string(KindPackageListChange), "tag": e.Tag.Name, "package": e.Package.Name,
		"action": e.Action, "user": e.User.Name,
	}
	kwargs := map[string]any{"action": e.Action, "tag": e.Tag, "package": e.Package, "user": e.User}
	// The hub's pkglist_add passes the entry's settings; remove and
	// unblock pass none.
	if e.Action != "remove" && e.Action != "unblock" {
		var owner any
		if e.Owner != nil {
			owner = e.Owner.ID
		}
		kwargs["owner"] = owner
		kwargs["block"] = optional(e.Block)
		kwargs["extra_arches"] = optional(e.ExtraArches)
		kwargs["force"] = e.Force
		kwargs["update"] = e.Update
	}
	return protonMessage(e.Topic(), props, kwargs)
}

func (e *Import) proton() (Message, error) {
	if e.Build == nil || e.Type == "" {
		return Message{}, errors.New("messages: Import needs a Type and a Build")
	}
	props := map[string]any{
		"type": string(KindImport), "importType": e.Type, "name": e.Build.Name,
		"version": e.Build.Version, "release": e.Build.Release,
	}
	kwargs := map[string]any{}
	for k, v := range e.Details {
		kwargs[k] = v
	}
	kwargs["type"], kwargs["build"] = e.Type, buildInfo{e.Build}
	return protonMessage(e.Topic(), props, kwargs)
}

func (e *RPMSign) proton() (Message, error) {
	if e.Build == nil || e.RPM == nil {
		return Message{}, errors.New("messages: RPMSign needs a Build and an RPM")
	}
	// protonmsg sends nothing for an RPM without a signature key.
	if e.SigKey == "" {
		return Message{}, errors.New("messages: RPMSign without a SigKey")
	}
	props := map[string]any{
		"type": string(KindRPMSign), "sigkey": e.SigKey, "name": e.Build.Name,
		"version": e.Build.Version, "release": e.Build.Release, "rpm_name": e.RPM.Name,
		"rpm_version": e.RPM.Version, "rpm_release": e.RPM.Release, "rpm_arch": e.RPM.Arch,
	}
	return protonMessage(e.Topic(), props, map[string]any{
		"sigkey": e.SigKey, "sighash": e.SigHash, "build": buildInfo{e.Build}, "rpm": e.RPM,
	})
}

func (e *BuildPromote) proton() (Message, error) {
	if e.Build == nil || e.User == nil {
		return Message{}, errors.New("messages: BuildPromote needs a Build and a User")
	}
	props := map[string]any{
		"type": string(KindBuildPromote), "build_id": e.Build.ID, "name": e.Build.Name,
		"version": e.Build.Version, "release": e.Build.Release, "draft_release": e.DraftRelease,
		"target_release": e.TargetRelease, "user": e.User.Name,
	}
	return protonMessage(e.Topic(), props, map[string]any{
		"draft_release": e.DraftRelease, "target_release": e.TargetRelease,
		"build": buildInfo{e.Build}, "user": e.User,
	})
}

func (u *Unknown) proton() (Message, error) {
	return Message{}, fmt.Errorf("messages: cannot encode an Unknown message (%q)", u.Message.Topic)
}

// JSON encoding of koji objects, by their xmlrpc tags.

var (
	timeType      = reflect.TypeFor[time.Time]()
	rawType       = reflect.TypeFor[xmlrpc.RawValue]()
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
)

// pyFloat is a float that encodes as Python's json.dumps writes floats
// (float.__repr__): the shortest form that reads back, in positional
// notation for exponents from -4 to 15 and with ".0" when integral, so a
// Python consumer reads a float back; scientific notation otherwise.
type pyFloat float64

func (f pyFloat) MarshalJSON() ([]byte, error) {
	x := float64(f)
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return nil, fmt.Errorf("unsupported float %v", x)
	}
	sci := strconv.FormatFloat(x, 'e', -1, 64)
	exp, _ := strconv.Atoi(sci[strings.IndexByte(sci, 'e')+1:])
	if exp < -4 || exp >= 16 {
		return []byte(sci), nil
	}
	b := strconv.AppendFloat(nil, x, 'f', -1, 64)
	if !strings.ContainsRune(string(b), '.') {
		b = append(b, ".0"...)
	}
	return b, nil
}

// pyTime writes t as Python's datetime.isoformat(' '), the form the hub's
// convert_datetime gives callbacks: microseconds only when not zero. Years
// outside 1–9999 are an error, as Python's datetime cannot hold them.
func pyTime(t time.Time) (string, error) {
	if y := t.Year(); y < 1 || y > 9999 {
		return "", fmt.Errorf("time %s: year %d is outside Python's datetime range", t.Format(time.RFC3339), y)
	}
	if t.Nanosecond()/1000 == 0 {
		return t.Format("2006-01-02 15:04:05-07:00"), nil
	}
	return t.Format("2006-01-02 15:04:05.000000-07:00"), nil
}

// jsonValue converts v to a value encoding/json writes as protonmsg
// would: structs as objects named by their xmlrpc tags (with the koji
// package's decoding rules in reverse), nil pointers as null, zero times
// as null, raw XML-RPC values decoded.
func jsonValue(v reflect.Value) (any, error) {
	if !v.IsValid() {
		return nil, nil
	}
	switch v.Type() {
	case timeType:
		t := v.Interface().(time.Time)
		if t.IsZero() {
			return nil, nil
		}
		return pyTime(t)
	case rawType:
		raw := v.Interface().(xmlrpc.RawValue)
		if len(raw) == 0 {
			return nil, nil
		}
		var x any
		if err := raw.Decode(&x); err != nil {
			return nil, err
		}
		return jsonValue(reflect.ValueOf(x))
	}
	if v.Type().Implements(jsonMarshaler) {
		return v.Interface(), nil // buildInfo: encodes itself
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil, nil
		}
		return jsonValue(v.Elem())
	case reflect.Struct:
		m := map[string]any{}
		return m, structMembers(v, m)
	case reflect.Map:
		if v.IsNil() {
			return nil, nil
		}
		if v.Type().Key().Kind() != reflect.String {
			return nil, fmt.Errorf("map with %s keys", v.Type().Key())
		}
		m := make(map[string]any, v.Len())
		for it := v.MapRange(); it.Next(); {
			x, err := jsonValue(it.Value())
			if err != nil {
				return nil, err
			}
			m[it.Key().String()] = x
		}
		return m, nil
	case reflect.Slice:
		if v.IsNil() {
			return nil, nil
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return base64.StdEncoding.EncodeToString(v.Bytes()), nil
		}
		fallthrough
	case reflect.Array:
		s := make([]any, v.Len())
		for i := range s {
			x, err := jsonValue(v.Index(i))
			if err != nil {
				return nil, err
			}
			s[i] = x
		}
		return s, nil
	case reflect.Bool:
		return v.Bool(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return v.Uint(), nil
	case reflect.Float32, reflect.Float64:
		return pyFloat(v.Float()), nil
	case reflect.String:
		return v.String(), nil
	}
	return nil, fmt.Errorf("cannot encode %s", v.Type())
}

// structMembers adds the members of struct v to m: fields named by their
// xmlrpc tag, or else by the field name; "-" skips a field, omitempty a
// zero value; untagged embedded structs are flattened.
func structMembers(v reflect.Value, m map[string]any) error {
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("xmlrpc")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if sf.Anonymous && name == "" && sf.Type.Kind() == reflect.Struct {
			if err := structMembers(v.Field(i), m); err != nil {
				return err
			}
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		fv := v.Field(i)
		if opts == "omitempty" && fv.IsZero() {
			continue
		}
		// A task's request and result are left out when not fetched, as
		// the hub leaves them out of task info it was not asked for.
		if fv.Type() == rawType && fv.Len() == 0 {
			continue
		}
		x, err := jsonValue(fv)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		m[name] = x
	}
	return nil
}
