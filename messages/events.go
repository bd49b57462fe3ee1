package messages

import (
	"strings"
	"time"

	"github.com/gokoji/gokoji/koji"
)

// A Kind names what an event announces. The values are protonmsg's "type"
// property: the name of the hub callback that fired, without "post".
type Kind string

// Event kinds.
const (
	KindTaskStateChange   Kind = "TaskStateChange"
	KindBuildStateChange  Kind = "BuildStateChange"
	KindTag               Kind = "Tag"
	KindUntag             Kind = "Untag"
	KindRepoInit          Kind = "RepoInit"
	KindRepoDone          Kind = "RepoDone"
	KindPackageListChange Kind = "PackageListChange"
	KindImport            Kind = "Import"
	KindRPMSign           Kind = "RPMSign"
	KindBuildPromote      Kind = "BuildPromote"
)

// An Event is something the hub announced. Its concrete type is one of
// the pointer types in this package: *TaskStateChange, *BuildStateChange,
// *Tag, *Untag, *RepoInit, *RepoDone, *PackageListChange, *Import,
// *RPMSign, *BuildPromote, or *Unknown for a message this package does not
// know. Use a type switch to handle the kinds you care about.
type Event interface {
	// Kind is the event's kind; "" for an Unknown message without one.
	Kind() Kind
	// Topic is the address protonmsg sends the event to, without the
	// configured prefix: "task.open", "build.complete", "build.tag",
	// "package.add", "repo.done" and so on.
	Topic() string
	// proton returns the message protonmsg would send for the event.
	proton() (Message, error)
}

// A Message is a message as it travels: its topic (an AMQP 1.0 address or
// an AMQP 0.9.1 routing key), its properties (AMQP 1.0 application
// properties, AMQP 0.9.1 headers) and its body, JSON for every message the
// hub sends.
type Message struct {
	Topic      string
	Properties map[string]any
	Body       []byte
}

// A TaskStateChange announces that a task changed state
// (postTaskStateChange). protonmsg and Fedora's bus only announce changes
// of the state attribute.
type TaskStateChange struct {
	// Task is the task as it is after the change. When the hub has just
	// created it, Task.Request holds the raw request document as a
	// string; Task.Params decodes either form.
	Task      *koji.Task
	Attribute string // "state"
	// Old is nil for a task the hub has just created (FREE).
	Old *koji.TaskState
	New koji.TaskState
}

// A BuildStateChange announces that a build changed state
// (postBuildStateChange).
type BuildStateChange struct {
	// Build is the build as it is after the change. protonmsg leaves out
	// Build.Extra when it is longer than the hub's extra_limit; Fedora's
	// bus sends only the build's ID, NVR, epoch, owner, task and times.
	Build     *koji.Build
	Attribute string // "state"
	// Old is nil for a build the hub has just created (BUILDING).
	Old *koji.BuildState
	New koji.BuildState
	// BuildTypes maps each type of the build ("rpm", "maven", "image",
	// ...) to its type-specific information, as protonmsg's btypes; nil
	// when the message has none.
	BuildTypes map[string]any
	// Task is the task that made the build, as Fedora's bus sends it; nil
	// from protonmsg and for imported builds.
	Task *koji.Task
}

// A Tag announces that a build was tagged (postTag).
type Tag struct {
	// Tag is the tag; Fedora's bus sends only its ID and name.
	Tag   *koji.Tag
	Build *koji.Build
	// User is who tagged the build; Fedora's bus sends only the name.
	User  *koji.User
	Force bool
}

// An Untag announces that a build was untagged (postUntag).
type Untag struct {
	Tag   *koji.Tag
	Build *koji.Build
	User  *koji.User
	// Force and Strict are the options untagBuild was called with.
	Force  bool
	Strict bool
}

// A RepoInit announces that the hub started a new repo (postRepoInit).
type RepoInit struct {
	// Tag is the repo's tag; Fedora's bus sends only its ID and name.
	Tag    *koji.Tag
	RepoID int
	// TaskID is the newRepo task the repo was made for; nil when the
	// message does not say.
	TaskID *int
	// Event is the event the repo reflects; nil for the latest.
	Event *int
	// Options are the repo options (opts): src, debuginfo, separate_src
	// and so on; nil when the message has none.
	Options map[string]any
}

// A RepoDone announces that a repo is ready (postRepoDone).
type RepoDone struct {
	RepoID int
	// Tag is the repo's tag, by ID and name.
	Tag *koji.Tag
	// TaskID is the task that made the repo; nil when unknown.
	TaskID *int
	// State is the repo's state as the hub read it when the task
	// finished; the repo becomes READY right after.
	State       koji.RepoState
	CreateEvent int
	Created     time.Time // zero from Fedora's bus
	Dist        bool
	// Expire reports whether the repo is being expired at once.
	Expire bool
	// Data is what each arch of the newRepo task uploaded: the upload
	// directory and the files, per arch; nil from Fedora's bus.
	Data map[string]any
}

// A PackageListChange announces a change to a tag's package list
// (postPackageListChange).
type PackageListChange struct {
	// Action is add, update, block, remove or unblock.
	Action  string
	Tag     *koji.Tag
	Package *koji.Package
	// User is who made the change; nil from Fedora's bus.
	User *koji.User
	// The entry's new settings, sent for add, update and block. Owner is
	// nil when not sent; protonmsg sends its ID, Fedora's bus its name.
	Owner *koji.User
	// Block and ExtraArches are nil when unchanged.
	Block       *bool
	ExtraArches *string
	Force       bool
	Update      bool
}

// An Import announces an import into Koji (postImport): a build, an RPM,
// a content generator's output, an archive or an image.
type Import struct {
	// Type is build, rpm, cg, archive or image.
	Type  string
	Build *koji.Build
	// Details are the callback's other members, which depend on Type
	// (rpm, archive, fileinfo, ...), as decoded JSON.
	Details map[string]any
}

// An RPMSign announces that an RPM got a signature (postRPMSign).
type RPMSign struct {
	SigKey  string
	SigHash string
	Build   *koji.Build
	RPM     *koji.RPM
}

// A BuildPromote announces that a draft build was promoted to a normal
// build (postBuildPromote).
type BuildPromote struct {
	// Build is the build after promotion.
	Build *koji.Build
	// DraftRelease is the release the build had as a draft;
	// TargetRelease the release it has now.
	DraftRelease  string
	TargetRelease string
	User          *koji.User
}

// Unknown is a message this package does not know how to read: a kind
// that a newer hub or another plugin sends. It carries the message as
// received.
type Unknown struct {
	Message Message
	kind    Kind
}

// Kind methods.

func (*TaskStateChange) Kind() Kind   { return KindTaskStateChange }
func (*BuildStateChange) Kind() Kind  { return KindBuildStateChange }
func (*Tag) Kind() Kind               { return KindTag }
func (*Untag) Kind() Kind             { return KindUntag }
func (*RepoInit) Kind() Kind          { return KindRepoInit }
func (*RepoDone) Kind() Kind          { return KindRepoDone }
func (*PackageListChange) Kind() Kind { return KindPackageListChange }
func (*Import) Kind() Kind            { return KindImport }
func (*RPMSign) Kind() Kind           { return KindRPMSign }
func (*BuildPromote) Kind() Kind      { return KindBuildPromote }

// Kind is the message's "type" property, or "" when it has none.
func (u *Unknown) Kind() Kind { return u.kind }

// Topic methods: the address suffix protonmsg's prep_* function builds.

func (e *TaskStateChange) Topic() string   { return "task." + strings.ToLower(e.New.String()) }
func (e *BuildStateChange) Topic() string  { return "build." + strings.ToLower(e.New.String()) }
func (*Tag) Topic() string                 { return "build.tag" }
func (*Untag) Topic() string               { return "build.untag" }
func (*RepoInit) Topic() string            { return "repo.init" }
func (*RepoDone) Topic() string            { return "repo.done" }
func (e *PackageListChange) Topic() string { return "package." + e.Action }
func (e *Import) Topic() string            { return "import." + e.Type }
func (*RPMSign) Topic() string             { return "sign.rpm" }
func (*BuildPromote) Topic() string        { return "build.promote" }

// Topic is the message's topic as received.
func (u *Unknown) Topic() string { return u.Message.Topic }
