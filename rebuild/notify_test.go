package rebuild

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/messages"
)

// fakePublisher keeps what it is given.
type fakePublisher struct {
	mu     sync.Mutex
	events []messages.Event
}

func (p *fakePublisher) Publish(_ context.Context, ev messages.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, ev)
	return nil
}

func (p *fakePublisher) take() []messages.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	evs := p.events
	p.events = nil
	return evs
}

// body is a message's JSON body as Koschei's publisher sends it.
func body(t *testing.T, ev messages.Event) (string, map[string]any) {
	t.Helper()
	m, err := messages.EncodeProton(ev)
	require.NoError(t, err)
	var b map[string]any
	require.NoError(t, json.Unmarshal(m.Body, &b))
	return m.Topic, b
}

// The service's state changes as MessageNotifier publishes them: package
// changes and the collection's, each time its buildroot's resolution
// changes (unknown → ok → unresolved → ok) and only then, with the repo
// it resolved in, in the topics and bodies of Koschei's publisher.
func TestMessageNotifier(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		pub := &fakePublisher{}
		e := newTestEnvColl(t, dsn, func(c *Config) { c.Notifier = &MessageNotifier{Publisher: pub} },
			func(c *Collection) { c.KojiInstance = "secondary" })
		e.repo(repoV("1"))
		e.hub.tag("foo", "1", "gcc")
		e.hub.tag("bar", "1", "foo", "gcc")
		require.NoError(t, e.store.Track(ctx, "f44", []string{"foo", "bar"}, true))
		require.NoError(t, e.svc.Poll(ctx))
		require.NoError(t, e.svc.Resolve(ctx))
		evs := pub.take()
		require.Len(t, evs, 3)
		topic, b := body(t, evs[0])
		require.Equal(t, "koschei.package.state.change", topic)
		require.Equal(t, map[string]any{"name": "bar", "old": "ignored", "new": "ok", "koji_instance": "secondary",
			"repo": "f44", "collection": "f44", "collection_name": "Fedora 44", "groups": []any{}}, b)
		topic, b = body(t, evs[2])
		require.Equal(t, "koschei.collection.state.change", topic)
		require.Equal(t, map[string]any{"old": "unknown", "new": "ok", "koji_instance": "secondary",
			"collection": "f44", "collection_name": "Fedora 44", "repo_id": 1.0}, b)

		// A repo whose buildroot does not install, then one whose does.
		id := e.repo(repoV("1"))
		url, _ := e.hub.RepoURL("f44-build", id, "x86_64")
		e.loader.indexes[url].broken = []string{"nothing provides bash"}
		require.NoError(t, e.svc.Resolve(ctx))
		evs = pub.take()
		require.Len(t, evs, 1)
		_, b = body(t, evs[0])
		require.Equal(t, map[string]any{"old": "ok", "new": "unresolved", "koji_instance": "secondary",
			"collection": "f44", "collection_name": "Fedora 44", "repo_id": 2.0}, b)
		e.repo(repoV("1"))
		require.NoError(t, e.svc.Resolve(ctx))
		evs = pub.take()
		require.Len(t, evs, 1)
		_, b = body(t, evs[0])
		require.Equal(t, "unresolved", b["old"])
		require.Equal(t, "ok", b["new"])
		require.Equal(t, 3.0, b["repo_id"])
		// Another good repo: the state is the same, nothing is said.
		e.repo(repoV("1"))
		require.NoError(t, e.svc.Resolve(ctx))
		require.Empty(t, pub.take())

		// Another modname starts the topics.
		n := &MessageNotifier{Publisher: pub, Modname: "koschei-stg"}
		require.NoError(t, n.CollectionStateChanged(ctx, CollectionStateChange{Collection: e.coll, Old: CollectionUnknown, New: CollectionOK}))
		require.NoError(t, n.PackageStateChanged(ctx, PackageStateChange{Collection: e.coll, Package: e.pkg(t, "foo"), Old: StateOK, New: StateFailing}))
		evs = pub.take()
		topic, b = body(t, evs[0])
		require.Equal(t, "koschei-stg.collection.state.change", topic)
		require.Nil(t, b["repo_id"], "a collection never resolved has no repo")
		require.Contains(t, b, "repo_id")
		topic, _ = body(t, evs[1])
		require.Equal(t, "koschei-stg.package.state.change", topic)
	})
}
