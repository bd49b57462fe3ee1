package messages

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The bodies carry exactly the members of Koschei's publisher
// (koschei/plugins/fedmsg_plugin/backend/publisher.py), under the topics
// and schema names of koschei-messages.
func TestKoscheiMessageShapes(t *testing.T) {
	pkg := &KoscheiPackageStateChange{Name: "rnv", Old: "ok", New: "failing", KojiInstance: "primary",
		Repo: "f44", Collection: "f44", CollectionName: "Fedora 44"}
	m, err := EncodeProton(pkg)
	require.NoError(t, err)
	require.Equal(t, "koschei.package.state.change", m.Topic)
	require.Equal(t, "koschei.package.state.change", m.Properties["fedora_messaging_schema"])
	var body map[string]any
	require.NoError(t, json.Unmarshal(m.Body, &body))
	require.Equal(t, map[string]any{"name": "rnv", "old": "ok", "new": "failing", "koji_instance": "primary",
		"repo": "f44", "collection": "f44", "collection_name": "Fedora 44", "groups": []any{}}, body)

	repo := 42
	coll := &KoscheiCollectionStateChange{Modname: "koschei-stg", Old: "unknown", New: "unresolved",
		KojiInstance: "primary", Collection: "f44", CollectionName: "Fedora 44", RepoID: &repo}
	m, err = EncodeProton(coll)
	require.NoError(t, err)
	require.Equal(t, "koschei-stg.collection.state.change", m.Topic)
	body = nil
	require.NoError(t, json.Unmarshal(m.Body, &body))
	require.Equal(t, map[string]any{"old": "unknown", "new": "unresolved", "koji_instance": "primary",
		"collection": "f44", "collection_name": "Fedora 44", "repo_id": 42.0}, body)
}

// ParseFedora reads them back from Fedora's bus routing keys, by schema.
func TestKoscheiParseFedora(t *testing.T) {
	for _, ev := range []Event{
		&KoscheiPackageStateChange{Name: "rnv", Old: "ok", New: "failing", KojiInstance: "primary", Repo: "f44",
			Collection: "f44", CollectionName: "Fedora 44", Groups: []string{"java/maven"}},
		&KoscheiCollectionStateChange{Old: "ok", New: "unresolved", KojiInstance: "primary", Collection: "f44",
			CollectionName: "Fedora 44"},
	} {
		m, err := EncodeProton(ev)
		require.NoError(t, err)
		got, err := ParseFedora("org.fedoraproject.prod."+m.Topic, m.Properties, m.Body)
		require.NoError(t, err)
		require.Equal(t, ev, got)
		require.Equal(t, ev.Kind(), got.Kind())
	}
	_, err := ParseFedora("org.fedoraproject.prod.koschei.package.state.change",
		map[string]any{"fedora_messaging_schema": "koschei.package.state.change"}, []byte(`{"name": 3}`))
	var pe *ParseError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, KindKoscheiPackageStateChange, pe.Kind)
}

// Through RabbitMQ: published under Fedora's prefix, consumed in the
// Fedora format.
func TestKoscheiBroker(t *testing.T) {
	cfg := testBroker(t)
	cfg.TopicPrefix = "org.fedoraproject.prod"
	cfg.Format = Fedora
	cfg.Bindings = []string{"org.fedoraproject.prod.koschei.#"}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got := make(chan Event, 1)
	done := make(chan error, 1)
	go func() {
		done <- Consume(ctx, cfg, func(ctx context.Context, ev Event) error {
			select {
			case got <- ev:
			case <-ctx.Done():
			}
			return nil
		})
	}()
	p, err := NewPublisher(ctx, cfg)
	require.NoError(t, err)
	defer p.Close()
	want := &KoscheiPackageStateChange{Name: "rnv", Old: "ok", New: "failing", KojiInstance: "primary",
		Repo: "f44", Collection: "f44", CollectionName: "f44", Groups: []string{}}
	// The queue is declared by Consume: publish until it is there.
	for {
		require.NoError(t, p.Publish(ctx, want))
		select {
		case ev := <-got:
			require.Equal(t, want, ev)
			cancel()
			require.NoError(t, <-done)
			return
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("no message consumed")
		}
	}
}
