package messages

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/gokoji/gokoji/koji"
)

const protonFormat = "protonmsg"

// ParseProton reads a message as Koji's protonmsg hub plugin sends it
// (plugins/hub/protonmsg.py): addressOrTopic is the AMQP 1.0 address
// ("topic://koji.build.complete"), the AMQP 0.9.1 routing key it became
// ("koji.build.complete") or just the suffix ("build.complete");
// properties are the application properties (AMQP 0.9.1 headers); body is
// the JSON of the callback's keyword arguments.
//
// The kind comes from the "type" property, or from the address when a
// message has lost its properties. A message of a kind this package does
// not know is returned as an *Unknown event, not an error; a known kind
// whose body cannot be read is a *ParseError.
func ParseProton(addressOrTopic string, properties map[string]any, body []byte) (Event, error) {
	kind := Kind(propString(properties, "type"))
	if kind == "" {
		kind = protonKind(addressOrTopic)
	}
	parse, ok := protonParsers[kind]
	if !ok {
		return unknown(addressOrTopic, properties, body, kind), nil
	}
	fail := func(err error) error {
		return &ParseError{Format: protonFormat, Topic: addressOrTopic, Kind: kind, Err: err}
	}
	m, err := decodeBody(body)
	if err != nil {
		return nil, fail(err)
	}
	ev, err := parse(m, properties)
	if err != nil {
		return nil, fail(err)
	}
	return ev, nil
}

func unknown(topic string, props map[string]any, body []byte, kind Kind) *Unknown {
	return &Unknown{Message: Message{Topic: topic, Properties: props, Body: body}, kind: kind}
}

// protonKind infers the kind from an address's last two segments, which
// are the topic protonmsg built whatever prefix the hub configured.
func protonKind(address string) Kind {
	segs := strings.Split(address, ".")
	if len(segs) < 2 {
		return ""
	}
	group, leaf := segs[len(segs)-2], segs[len(segs)-1]
	if i := strings.LastIndexAny(group, "/:"); i >= 0 { // "topic://task"
		group = group[i+1:]
	}
	switch group {
	case "task":
		if _, err := koji.ParseTaskState(leaf); err == nil {
			return KindTaskStateChange
		}
	case "build":
		switch leaf {
		case "tag":
			return KindTag
		case "untag":
			return KindUntag
		case "promote":
			return KindBuildPromote
		}
		if _, err := koji.ParseBuildState(leaf); err == nil {
			return KindBuildStateChange
		}
	case "repo":
		switch leaf {
		case "init":
			return KindRepoInit
		case "done":
			return KindRepoDone
		}
	case "package":
		return KindPackageListChange
	case "import":
		return KindImport
	case "sign":
		if leaf == "rpm" {
			return KindRPMSign
		}
	}
	return ""
}

type protonParser func(body object, props map[string]any) (Event, error)

var protonParsers = map[Kind]protonParser{
	KindTaskStateChange:   protonTaskStateChange,
	KindBuildStateChange:  protonBuildStateChange,
	KindTag:               protonTag,
	KindUntag:             protonUntag,
	KindRepoInit:          protonRepoInit,
	KindRepoDone:          protonRepoDone,
	KindPackageListChange: protonPackageListChange,
	KindImport:            protonImport,
	KindRPMSign:           protonRPMSign,
	KindBuildPromote:      protonBuildPromote,
}

// orProp returns body[key], or the property of that name when the body
// lacks it.
func orProp(body object, props map[string]any, key string) any {
	if v, ok := body[key]; ok {
		return v
	}
	if s := propString(props, key); s != "" {
		return s
	}
	return nil
}

// {attribute, old, new, info}; old and new are state names.
func protonTaskStateChange(body object, props map[string]any) (Event, error) {
	f := fields{m: body}
	ev := &TaskStateChange{Attribute: f.str("attribute")}
	info := f.object("info")
	if f.err != nil {
		return nil, f.err
	}
	if ev.Attribute == "" {
		ev.Attribute = propString(props, "attribute")
	}
	newState, old, err := stateChange(orProp(body, props, "new"), orProp(body, props, "old"), taskState)
	if err != nil {
		return nil, err
	}
	ev.New, ev.Old = newState, old
	if info == nil {
		// Nothing but the properties: the task's ID, parent and method.
		id, ok := propInt(props, "id")
		if !ok {
			return nil, errors.New("no task info")
		}
		ev.Task = &koji.Task{ID: id, Method: propString(props, "method"), State: newState}
		if parent, ok := propInt(props, "parent"); ok {
			ev.Task.Parent = &parent
		}
		return ev, nil
	}
	if ev.Task, err = decodeTask(info, false); err != nil {
		return nil, fmt.Errorf("info: %w", err)
	}
	return ev, nil
}

// {attribute, old, new, info, btypes}; old and new are state numbers in
// the body and names in the properties.
func protonBuildStateChange(body object, props map[string]any) (Event, error) {
	f := fields{m: body}
	ev := &BuildStateChange{Attribute: f.str("attribute")}
	info := f.object("info")
	ev.BuildTypes = f.object("btypes")
	if f.err != nil {
		return nil, f.err
	}
	if ev.Attribute == "" {
		ev.Attribute = propString(props, "attribute")
	}
	newState, old, err := stateChange(orProp(body, props, "new"), orProp(body, props, "old"), buildState)
	if err != nil {
		return nil, err
	}
	ev.New, ev.Old = newState, old
	if info == nil {
		return nil, errors.New("no build info")
	}
	if ev.Build, err = decodeBuild(info); err != nil {
		return nil, fmt.Errorf("info: %w", err)
	}
	return ev, nil
}

// tagged holds what Tag and Untag share: {tag, build, user, force}.
type tagged struct {
	tag   *koji.Tag
	build *koji.Build
	user  *koji.User
	force bool
}

func protonTagged(body object, props map[string]any) (tagged, error) {
	f := fields{m: body}
	var t tagged
	tag, build, user := f.object("tag"), f.object("build"), f.object("user")
	t.force = f.bool("force")
	if f.err != nil {
		return t, f.err
	}
	if build == nil {
		return t, errors.New("no build")
	}
	var err error
	if t.build, err = decodeBuild(build); err != nil {
		return t, fmt.Errorf("build: %w", err)
	}
	if tag != nil {
		if t.tag, err = decodeTag(tag); err != nil {
			return t, fmt.Errorf("tag: %w", err)
		}
	} else if name := propString(props, "tag"); name != "" {
		t.tag = &koji.Tag{Name: name}
	} else {
		return t, errors.New("no tag")
	}
	if t.user, err = protonUser(user, props); err != nil {
		return t, err
	}
	return t, nil
}

func protonTag(body object, props map[string]any) (Event, error) {
	t, err := protonTagged(body, props)
	if err != nil {
		return nil, err
	}
	return &Tag{Tag: t.tag, Build: t.build, User: t.user, Force: t.force}, nil
}

func protonUntag(body object, props map[string]any) (Event, error) {
	t, err := protonTagged(body, props)
	if err != nil {
		return nil, err
	}
	f := fields{m: body}
	ev := &Untag{Tag: t.tag, Build: t.build, User: t.user, Force: t.force, Strict: f.bool("strict")}
	return ev, f.err
}

// {tag, event, repo_id, task_id, opts}; hubs before the opts argument
// sent with_src, with_debuginfo and with_separate_src instead.
func protonRepoInit(body object, props map[string]any) (Event, error) {
	f := fields{m: body}
	ev := &RepoInit{}
	tag := f.object("tag")
	repoID := f.optInt("repo_id")
	ev.TaskID = f.optInt("task_id")
	ev.Event = f.optInt("event")
	ev.Options = f.object("opts")
	if f.err != nil {
		return nil, f.err
	}
	if ev.Options == nil {
		for k, v := range body {
			if opt, ok := strings.CutPrefix(k, "with_"); ok {
				if ev.Options == nil {
					ev.Options = object{}
				}
				ev.Options[opt] = v
			}
		}
	}
	if repoID == nil {
		id, ok := propInt(props, "repo_id")
		if !ok {
			return nil, errors.New("no repo_id")
		}
		repoID = &id
	}
	ev.RepoID = *repoID
	if ev.TaskID == nil {
		if id, ok := propInt(props, "task_id"); ok {
			ev.TaskID = &id
		}
	}
	var err error
	if tag != nil {
		if ev.Tag, err = decodeTag(tag); err != nil {
			return nil, fmt.Errorf("tag: %w", err)
		}
	} else if name := propString(props, "tag"); name != "" {
		ev.Tag = &koji.Tag{Name: name}
	} else {
		return nil, errors.New("no tag")
	}
	return ev, nil
}

// repoInfo is the repo dict postRepoDone passes (repo_info).
type repoInfo struct {
	ID          int            `xmlrpc:"id"`
	TagID       int            `xmlrpc:"tag_id"`
	TagName     string         `xmlrpc:"tag_name"`
	TaskID      *int           `xmlrpc:"task_id"`
	State       koji.RepoState `xmlrpc:"state"`
	CreateEvent int            `xmlrpc:"create_event"`
	CreateTS    float64        `xmlrpc:"create_ts"`
	CreateTime  time.Time      `xmlrpc:"creation_time"`
	Dist        bool           `xmlrpc:"dist"`
}

// {repo, data, expire}.
func protonRepoDone(body object, props map[string]any) (Event, error) {
	f := fields{m: body}
	repo := f.object("repo")
	ev := &RepoDone{Data: f.object("data"), Expire: f.bool("expire")}
	if f.err != nil {
		return nil, f.err
	}
	if repo == nil {
		id, ok := propInt(props, "repo_id")
		if !ok {
			return nil, errors.New("no repo")
		}
		ev.RepoID = id
		ev.Tag = &koji.Tag{Name: propString(props, "tag")}
		if id, ok := propInt(props, "task_id"); ok {
			ev.TaskID = &id
		}
		return ev, nil
	}
	var r repoInfo
	if err := decodeInto(repo, &r); err != nil {
		return nil, fmt.Errorf("repo: %w", err)
	}
	ev.RepoID, ev.TaskID, ev.State, ev.CreateEvent, ev.Dist = r.ID, r.TaskID, r.State, r.CreateEvent, r.Dist
	ev.Created = r.CreateTime.UTC()
	if r.CreateTS != 0 {
		ev.Created = tsTime(r.CreateTS)
	}
	ev.Tag = &koji.Tag{ID: r.TagID, Name: r.TagName}
	return ev, nil
}

// {action, tag, package, user} and, for add, update and block, {owner,
// block, extra_arches, force, update}; owner is a user ID.
func protonPackageListChange(body object, props map[string]any) (Event, error) {
	f := fields{m: body}
	ev := &PackageListChange{Action: f.str("action")}
	tag, pkg, user := f.object("tag"), f.object("package"), f.object("user")
	owner := f.optInt("owner")
	ev.Block = f.optBool("block")
	ev.ExtraArches = f.optString("extra_arches")
	ev.Force = f.bool("force")
	ev.Update = f.bool("update")
	if f.err != nil {
		return nil, f.err
	}
	if ev.Action == "" {
		ev.Action = propString(props, "action")
	}
	if ev.Action == "" {
		return nil, errors.New("no action")
	}
	if owner != nil {
		ev.Owner = &koji.User{ID: *owner}
	}
	var err error
	if tag != nil {
		if ev.Tag, err = decodeTag(tag); err != nil {
			return nil, fmt.Errorf("tag: %w", err)
		}
	} else {
		ev.Tag = &koji.Tag{Name: propString(props, "tag")}
	}
	if pkg != nil {
		if ev.Package, err = decodePackage(pkg); err != nil {
			return nil, fmt.Errorf("package: %w", err)
		}
	} else {
		ev.Package = &koji.Package{Name: propString(props, "package")}
	}
	if ev.User, err = protonUser(user, props); err != nil {
		return nil, err
	}
	return ev, nil
}

// {type, build, ...}: the other members depend on the type.
func protonImport(body object, props map[string]any) (Event, error) {
	f := fields{m: body}
	ev := &Import{Type: f.str("type")}
	build := f.object("build")
	if f.err != nil {
		return nil, f.err
	}
	if ev.Type == "" {
		ev.Type = propString(props, "importType")
	}
	if ev.Type == "" {
		return nil, errors.New("no import type")
	}
	if build == nil {
		return nil, errors.New("no build")
	}
	var err error
	if ev.Build, err = decodeBuild(build); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	for k, v := range body {
		if k == "type" || k == "build" {
			continue
		}
		if ev.Details == nil {
			ev.Details = object{}
		}
		ev.Details[k] = v
	}
	return ev, nil
}

// {sigkey, sighash, build, rpm}.
func protonRPMSign(body object, props map[string]any) (Event, error) {
	f := fields{m: body}
	ev := &RPMSign{SigKey: f.str("sigkey"), SigHash: f.str("sighash")}
	build, rpm := f.object("build"), f.object("rpm")
	if f.err != nil {
		return nil, f.err
	}
	if ev.SigKey == "" {
		ev.SigKey = propString(props, "sigkey")
	}
	if build == nil || rpm == nil {
		return nil, errors.New("no build or rpm")
	}
	var err error
	if ev.Build, err = decodeBuild(build); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	if ev.RPM, err = decodeRPM(rpm); err != nil {
		return nil, fmt.Errorf("rpm: %w", err)
	}
	return ev, nil
}

// {draft_release, target_release, build, user}.
func protonBuildPromote(body object, props map[string]any) (Event, error) {
	f := fields{m: body}
	ev := &BuildPromote{DraftRelease: f.str("draft_release"), TargetRelease: f.str("target_release")}
	build, user := f.object("build"), f.object("user")
	if f.err != nil {
		return nil, f.err
	}
	if build == nil {
		return nil, errors.New("no build")
	}
	var err error
	if ev.Build, err = decodeBuild(build); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	if ev.User, err = protonUser(user, props); err != nil {
		return nil, err
	}
	return ev, nil
}

// tsTime converts the hub's float seconds to a time, to the microsecond
// the hub keeps, as the koji package does.
func tsTime(ts float64) time.Time {
	sec, frac := math.Modf(ts)
	return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC()
}

// protonUser returns the user a message names: the body's user object, or
// else only the name in the "user" property, or nil when it has neither.
func protonUser(user object, props map[string]any) (*koji.User, error) {
	if user != nil {
		u, err := decodeUser(user)
		if err != nil {
			return nil, fmt.Errorf("user: %w", err)
		}
		return u, nil
	}
	if name := propString(props, "user"); name != "" {
		return &koji.User{Name: name}, nil
	}
	return nil, nil
}
