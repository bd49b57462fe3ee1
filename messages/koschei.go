package messages

import (
	"encoding/json"
	"fmt"
	"time"
)

// Kinds of the messages Koschei sends (its fedmsg plugin's publisher,
// with the koschei_messages schemas).
const (
	KindKoscheiPackageStateChange    Kind = "KoscheiPackageStateChange"
	KindKoscheiCollectionStateChange Kind = "KoscheiCollectionStateChange"
)

// KoscheiModname is the default modname of Koschei's topics
// (fedmsg-publisher.modname).
const KoscheiModname = "koschei"

// A KoscheiPackageStateChange announces that a package's state in a
// rebuild collection changed, as Koschei's
// <modname>.package.state.change. States are ok, failing, unresolved or
// ignored.
type KoscheiPackageStateChange struct {
	// Modname starts the topic; "" means KoscheiModname.
	Modname        string   `json:"-"`
	Name           string   `json:"name"`
	Old            string   `json:"old"`
	New            string   `json:"new"`
	KojiInstance   string   `json:"koji_instance"`
	Repo           string   `json:"repo"` // the collection, kept by Koschei for compatibility
	Collection     string   `json:"collection"`
	CollectionName string   `json:"collection_name"`
	Groups         []string `json:"groups"`
}

// A KoscheiCollectionStateChange announces that a collection's state (its
// buildroot's resolution: ok, unresolved, unknown) changed, as Koschei's
// <modname>.collection.state.change.
type KoscheiCollectionStateChange struct {
	Modname        string `json:"-"`
	Old            string `json:"old"`
	New            string `json:"new"`
	KojiInstance   string `json:"koji_instance"`
	Collection     string `json:"collection"`
	CollectionName string `json:"collection_name"`
	RepoID         *int   `json:"repo_id"`
}

// Kind implements Event.
func (*KoscheiPackageStateChange) Kind() Kind { return KindKoscheiPackageStateChange }

// Kind implements Event.
func (*KoscheiCollectionStateChange) Kind() Kind { return KindKoscheiCollectionStateChange }

func modname(m string) string {
	if m == "" {
		return KoscheiModname
	}
	return m
}

// Topic implements Event: "koschei.package.state.change". A Publisher
// whose TopicPrefix is Fedora's "org.fedoraproject.prod" sends it with
// the routing key Koschei's messages have there.
func (e *KoscheiPackageStateChange) Topic() string {
	return modname(e.Modname) + ".package.state.change"
}

// Topic implements Event: "koschei.collection.state.change".
func (e *KoscheiCollectionStateChange) Topic() string {
	return modname(e.Modname) + ".collection.state.change"
}

// koscheiSchemas are the fedora_messaging_schema names of Koschei's
// messages: the entry points of koschei-messages.
const (
	koscheiPackageSchema    = "koschei.package.state.change"
	koscheiCollectionSchema = "koschei.collection.state.change"
)

// fedoraMessage is a message as fedora-messaging sends it: the body as
// JSON and the headers naming its schema, severity (INFO) and time.
func fedoraMessage(topic, schema string, body any) (Message, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return Message{}, err
	}
	return Message{Topic: topic, Body: b, Properties: map[string]any{
		"fedora_messaging_schema":   schema,
		"fedora_messaging_severity": int32(20),
		"sent-at":                   time.Now().UTC().Format("2006-01-02T15:04:05+00:00"),
		"priority":                  int32(0),
	}}, nil
}

func (e *KoscheiPackageStateChange) proton() (Message, error) {
	ev := *e
	if ev.Groups == nil {
		ev.Groups = []string{} // Koschei sends a list, empty when no groups
	}
	return fedoraMessage(e.Topic(), koscheiPackageSchema, ev)
}

func (e *KoscheiCollectionStateChange) proton() (Message, error) {
	return fedoraMessage(e.Topic(), koscheiCollectionSchema, e)
}

// Koschei's messages are read by ParseFedora: its topics carry no
// "buildsys.", so they are found by their fedora_messaging_schema header.
func init() {
	fedoraSchemas[koscheiPackageSchema] = koscheiPackageSchema
	fedoraSchemas[koscheiCollectionSchema] = koscheiCollectionSchema
	fedoraParsers[koscheiPackageSchema] = fedoraParser{KindKoscheiPackageStateChange, parseKoscheiPackage}
	fedoraParsers[koscheiCollectionSchema] = fedoraParser{KindKoscheiCollectionStateChange, parseKoscheiCollection}
}

func parseKoscheiPackage(body object) (Event, error) {
	e := &KoscheiPackageStateChange{}
	if err := decodeKoschei(body, e, "name", "old", "new"); err != nil {
		return nil, err
	}
	return e, nil
}

func parseKoscheiCollection(body object) (Event, error) {
	e := &KoscheiCollectionStateChange{}
	if err := decodeKoschei(body, e, "old", "new", "collection"); err != nil {
		return nil, err
	}
	return e, nil
}

// decodeKoschei decodes a Koschei body into dst, requiring the members
// named.
func decodeKoschei(body object, dst any, required ...string) error {
	for _, k := range required {
		if _, ok := body[k].(string); !ok {
			return fmt.Errorf("member %s: %s, not a string", k, jsonKind(body[k]))
		}
	}
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, dst)
}
