package messages

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gokoji/gokoji/koji"
)

const fedoraFormat = "fedora-messaging"

// FedoraTopicPrefix is the prefix of the routing keys under which Fedora's
// production Koji announces events on Fedora's message bus.
const FedoraTopicPrefix = "org.fedoraproject.prod.buildsys."

// fedoraSchemas maps the fedora_messaging_schema header to the topic
// suffix, for a message whose routing key does not say (the schema names
// are the entry points of koji-fedoramessaging-messages).
var fedoraSchemas = map[string]string{
	"koji_fedoramessaging.build.BuildStateChangeV1": "build.state.change",
	"koji_fedoramessaging.task.TaskStateChangeV1":   "task.state.change",
	"koji_fedoramessaging.tag.TagV1":                "tag",
	"koji_fedoramessaging.tag.UntagV1":              "untag",
	"koji_fedoramessaging.repo.InitV1":              "repo.init",
	"koji_fedoramessaging.repo.DoneV1":              "repo.done",
	"koji_fedoramessaging.package.ListChangeV1":     "package.list.change",
	"koji_fedoramessaging.rpm.SignV1":               "rpm.sign",
}

type fedoraParser struct {
	kind  Kind
	parse func(body object) (Event, error)
}

var fedoraParsers = map[string]fedoraParser{
	"build.state.change":  {KindBuildStateChange, fedoraBuildStateChange},
	"task.state.change":   {KindTaskStateChange, fedoraTaskStateChange},
	"tag":                 {KindTag, fedoraTag},
	"untag":               {KindUntag, fedoraUntag},
	"repo.init":           {KindRepoInit, fedoraRepoInit},
	"repo.done":           {KindRepoDone, fedoraRepoDone},
	"package.list.change": {KindPackageListChange, fedoraPackageListChange},
	"rpm.sign":            {KindRPMSign, fedoraRPMSign},
}

// ParseFedora reads a message as Koji announces it on Fedora's message bus
// (fedora-messaging, published by the koji-fedoramessaging hub plugin with
// the schemas of koji-fedoramessaging-messages): routingKey is the topic,
// such as "org.fedoraproject.prod.buildsys.build.state.change" (any prefix
// before "buildsys." is accepted: stg, other instances); headers are the
// AMQP headers (fedora_messaging_schema, sent-at, ...); body is the JSON
// body. Its members differ from protonmsg's: flat build fields, build
// states as numbers, names instead of user and tag objects.
//
// A topic this package does not know is returned as an *Unknown event; a
// known topic whose body cannot be read is a *ParseError.
func ParseFedora(routingKey string, headers map[string]any, body []byte) (Event, error) {
	topic := fedoraTopic(routingKey)
	if _, ok := fedoraParsers[topic]; !ok {
		if t, ok := fedoraSchemas[propString(headers, "fedora_messaging_schema")]; ok {
			topic = t
		}
	}
	p, ok := fedoraParsers[topic]
	if !ok {
		return unknown(routingKey, headers, body, ""), nil
	}
	fail := func(err error) error {
		return &ParseError{Format: fedoraFormat, Topic: routingKey, Kind: p.kind, Err: err}
	}
	m, err := decodeBody(body)
	if err != nil {
		return nil, fail(err)
	}
	ev, err := p.parse(m)
	if err == errLegacyShape {
		return unknown(routingKey, headers, body, p.kind), nil
	}
	if err != nil {
		return nil, fail(err)
	}
	return ev, nil
}

// fedoraTopic returns what follows "buildsys." in a routing key.
func fedoraTopic(routingKey string) string {
	if rest, ok := strings.CutPrefix(routingKey, "buildsys."); ok {
		return rest
	}
	if i := strings.Index(routingKey, ".buildsys."); i >= 0 {
		return routingKey[i+len(".buildsys."):]
	}
	return ""
}

// errLegacyShape marks a body in a form the plugin no longer sends.
var errLegacyShape = errors.New("legacy message shape")

// {build_id, name, version, release, epoch, owner, task_id, attribute,
// old, new, request, task, creation_time, completion_time, url, instance}:
// states are numbers, owner a user name (schema BuildStateChangeV1).
func fedoraBuildStateChange(body object) (Event, error) {
	f := fields{m: body}
	ev := &BuildStateChange{Attribute: f.str("attribute")}
	task := f.object("task")
	if f.err != nil {
		return nil, f.err
	}
	newState, old, err := stateChange(body["new"], body["old"], buildState)
	if err != nil {
		return nil, err
	}
	ev.New, ev.Old = newState, old
	info := object{"state": int64(newState)}
	copyMembers(info, body, "build_id", "name", "version", "release", "epoch", "task_id",
		"creation_time", "completion_time")
	if v, ok := body["owner"]; ok {
		info["owner_name"] = v
	}
	if ev.Build, err = decodeBuild(info); err != nil {
		return nil, err
	}
	if task != nil {
		if ev.Task, err = decodeTask(task, true); err != nil {
			return nil, fmt.Errorf("task: %w", err)
		}
	}
	return ev, nil
}

// {id, info, method, attribute, old, new, owner, srpm, base_url,
// files_base_url, instance}: states are names (schema TaskStateChangeV1).
func fedoraTaskStateChange(body object) (Event, error) {
	f := fields{m: body}
	ev := &TaskStateChange{Attribute: f.str("attribute")}
	info := f.object("info")
	if f.err != nil {
		return nil, f.err
	}
	newState, old, err := stateChange(body["new"], body["old"], taskState)
	if err != nil {
		return nil, err
	}
	ev.New, ev.Old = newState, old
	if info == nil {
		return nil, errors.New("no task info")
	}
	if ev.Task, err = decodeTask(info, true); err != nil {
		return nil, fmt.Errorf("info: %w", err)
	}
	if ev.Task.OwnerName == "" {
		ev.Task.OwnerName = f.str("owner")
	}
	return ev, f.err
}

// {build_id, name, version, release, owner, tag, tag_id, user, instance}
// (schema TagV1 and UntagV1).
func fedoraTagged(body object) (tagged, error) {
	f := fields{m: body}
	t := tagged{
		tag:  &koji.Tag{ID: f.int("tag_id"), Name: f.str("tag")},
		user: &koji.User{Name: f.str("user")},
	}
	if f.err != nil {
		return t, f.err
	}
	info := object{}
	copyMembers(info, body, "build_id", "name", "version", "release")
	if v, ok := body["owner"]; ok {
		info["owner_name"] = v
	}
	var err error
	t.build, err = decodeBuild(info)
	return t, err
}

func fedoraTag(body object) (Event, error) {
	t, err := fedoraTagged(body)
	if err != nil {
		return nil, err
	}
	return &Tag{Tag: t.tag, Build: t.build, User: t.user}, nil
}

func fedoraUntag(body object) (Event, error) {
	t, err := fedoraTagged(body)
	if err != nil {
		return nil, err
	}
	return &Untag{Tag: t.tag, Build: t.build, User: t.user}, nil
}

// {repo_id, tag, tag_id, instance} (schema InitV1 and DoneV1).
func fedoraRepo(body object) (repoID int, tag *koji.Tag, err error) {
	f := fields{m: body}
	repoID = f.int("repo_id")
	tag = &koji.Tag{ID: f.int("tag_id"), Name: f.str("tag")}
	return repoID, tag, f.err
}

func fedoraRepoInit(body object) (Event, error) {
	id, tag, err := fedoraRepo(body)
	if err != nil {
		return nil, err
	}
	return &RepoInit{RepoID: id, Tag: tag}, nil
}

func fedoraRepoDone(body object) (Event, error) {
	id, tag, err := fedoraRepo(body)
	if err != nil {
		return nil, err
	}
	return &RepoDone{RepoID: id, Tag: tag}, nil
}

// {tag, package, action, owner, block, extra_arches, force, update,
// instance}: tag, package and owner are names (schema ListChangeV1).
func fedoraPackageListChange(body object) (Event, error) {
	f := fields{m: body}
	ev := &PackageListChange{
		Action:      f.str("action"),
		Tag:         &koji.Tag{Name: f.str("tag")},
		Package:     &koji.Package{Name: f.str("package")},
		Block:       f.optBool("block"),
		ExtraArches: f.optString("extra_arches"),
		Force:       f.bool("force"),
		Update:      f.bool("update"),
	}
	if owner := f.optString("owner"); owner != nil {
		ev.Owner = &koji.User{Name: *owner}
	}
	if f.err != nil {
		return nil, f.err
	}
	if ev.Action == "" {
		return nil, errors.New("no action")
	}
	return ev, nil
}

// {sigkey, sighash, build, rpm, instance}, the build's times as
// timestamps (schema SignV1). Hubs up to Koji 1.10 sent {attribute, old,
// new, info} instead, which is left Unknown.
func fedoraRPMSign(body object) (Event, error) {
	if _, ok := body["build"]; !ok {
		if _, ok := body["info"]; ok {
			return nil, errLegacyShape
		}
	}
	return protonRPMSign(body, nil)
}

func copyMembers(dst, src object, keys ...string) {
	for _, k := range keys {
		if v, ok := src[k]; ok {
			dst[k] = v
		}
	}
}
