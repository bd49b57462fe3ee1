package rebuild

import (
	"context"

	"github.com/gokoji/gokoji/messages"
)

// A PackageStateChange is a change of a package's message state (ok,
// failing, unresolved, ignored).
type PackageStateChange struct {
	Collection *Collection
	Package    *Package
	Old, New   PackageState
}

// A CollectionStateChange is a change of a collection's state.
type CollectionStateChange struct {
	Collection *Collection
	Old, New   CollectionState
}

// A Notifier is told of state changes after they are stored: a package's
// when a build finishes or a resolution changes it, a collection's when
// its buildroot resolution does. Koschei also stays silent when a real
// build changes a package's state; the service tells of those too.
type Notifier interface {
	PackageStateChanged(ctx context.Context, ch PackageStateChange) error
	CollectionStateChanged(ctx context.Context, ch CollectionStateChange) error
}

// Publisher is what MessageNotifier publishes with: a
// *messages.Publisher.
type Publisher interface {
	Publish(ctx context.Context, ev messages.Event) error
}

// MessageNotifier publishes state changes as Koschei does: the messages
// koschei.package.state.change and koschei.collection.state.change. Give
// its Publisher Fedora's TopicPrefix, "org.fedoraproject.prod", for the
// routing keys Koschei's messages have on Fedora's bus.
type MessageNotifier struct {
	Publisher Publisher
	// Modname starts the topics; "koschei" by default.
	Modname string
}

// PackageStateChanged implements Notifier.
func (n *MessageNotifier) PackageStateChanged(ctx context.Context, ch PackageStateChange) error {
	c := ch.Collection
	return n.Publisher.Publish(ctx, &messages.KoscheiPackageStateChange{
		Modname: n.Modname, Name: ch.Package.Name, Old: string(ch.Old), New: string(ch.New),
		KojiInstance: c.KojiInstance, Repo: c.Name, Collection: c.Name, CollectionName: c.DisplayName,
		Groups: []string{},
	})
}

// CollectionStateChanged implements Notifier.
func (n *MessageNotifier) CollectionStateChanged(ctx context.Context, ch CollectionStateChange) error {
	c := ch.Collection
	ev := &messages.KoscheiCollectionStateChange{Modname: n.Modname, Old: string(ch.Old), New: string(ch.New),
		KojiInstance: c.KojiInstance, Collection: c.Name, CollectionName: c.DisplayName}
	if c.LatestRepoID != nil {
		id := int(*c.LatestRepoID)
		ev.RepoID = &id
	}
	return n.Publisher.Publish(ctx, ev)
}
