package rebuild

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/gokoji/gokoji/internal/rpm"
	"github.com/gokoji/gokoji/koji"
)

// Hub is what the service asks of a Koji hub: the calls Koschei makes
// (§1.7), plus fetching SRPMs, which replaces getRPMHeaders and getRPMDeps
// (which gokoji's hub does not serve) by reading the SRPM's own header.
// KojiHub implements it on a *koji.Client; tests use fakes.
type Hub interface {
	// TagArches returns the tag's arches (getBuildConfig(tag)["arches"]).
	TagArches(ctx context.Context, tag string) ([]string, error)
	// LatestRepo returns the tag's newest READY repo (getRepo), nil if
	// it has none.
	LatestRepo(ctx context.Context, tag string) (*Repo, error)
	// Repo returns a repo by id (repoInfo), nil if there is none.
	Repo(ctx context.Context, id int) (*Repo, error)
	// RepoURL is where the repo's metadata for arch is served:
	// <topurl>/repos/<tag>/<id>/<arch>.
	RepoURL(tag string, id int, arch string) (string, error)
	// BuildGroup returns the non-blocked default and mandatory packages
	// of the tag's group at event (getTagGroups).
	BuildGroup(ctx context.Context, tag, group string, event int) ([]string, error)
	// Packages returns the tag's package list with inheritance
	// (listPackages).
	Packages(ctx context.Context, tag string) ([]*koji.TagPackage, error)
	// LatestBuilds returns the latest build of each package in the tag,
	// or of pkg alone when pkg is set (listTagged latest, inherit).
	LatestBuilds(ctx context.Context, tag, pkg string) ([]*koji.TaggedBuild, error)
	// SRPM fetches the SRPM of a build (getBuild, listRPMs arches=src,
	// then the file from topurl) and reads its header; nil when the build
	// has none.
	SRPM(ctx context.Context, nvr string) (*SRPM, error)
	// ScratchBuild submits a scratch build of the SRPM for target and
	// returns the task id.
	ScratchBuild(ctx context.Context, s *SRPM, target string, opts *koji.BuildOptions) (int, error)
	// Task returns a task (getTaskInfo), nil if there is none.
	Task(ctx context.Context, id int) (*koji.Task, error)
	// TaskResult returns the fault a failed task ended with
	// (getTaskResult), nil for a task that did not fail.
	TaskResult(ctx context.Context, id int) error
	// TaskChildren returns a task's subtasks with their requests.
	TaskChildren(ctx context.Context, id int) ([]*koji.Task, error)
	// CancelTask cancels a task and its subtasks.
	CancelTask(ctx context.Context, id int) error
	// Hosts returns the enabled hosts of the channel that build any of
	// the arches (getChannel, listHosts).
	Hosts(ctx context.Context, channel string, arches []string) ([]*koji.Host, error)
}

// A Repo is a hub's repo of a tag.
type Repo struct {
	ID          int            `xmlrpc:"id"`
	State       koji.RepoState `xmlrpc:"state"`
	CreateEvent int            `xmlrpc:"create_event"`
	TagName     string         `xmlrpc:"tag_name"`
}

// A Requirement is one build requirement of an SRPM: a name, and a
// comparison ("<", "<=", "=", ">=", ">"; "" for any version) with an EVR.
type Requirement struct {
	Name, Op, Version string
}

// String is the requirement as rpm writes it: "gcc >= 14".
func (r Requirement) String() string {
	if r.Op == "" {
		return r.Name
	}
	return r.Name + " " + r.Op + " " + r.Version
}

// An SRPM is the source package of a real build, as the service rebuilds
// and resolves it.
type SRPM struct {
	Build *koji.Build
	RPM   *koji.RPM
	// Requires are its build requirements, filtered as Koschei's
	// get_rpm_requires: rpmlib() and other dependencies with flags beyond
	// a version comparison are dropped.
	Requires []Requirement
	// The header's arch restrictions.
	BuildArchs, ExclusiveArch, ExcludeArch []string
	// File is the downloaded SRPM.
	File string
}

// NVR is the build's name-version-release.
func (s *SRPM) NVR() string { return s.Build.Label() }

// Header tags of the SRPM's arch restrictions.
const (
	tagExcludeArch   = 1059
	tagExclusiveArch = 1061
	tagBuildArchs    = 1089
)

// requirements filters an SRPM's Requires as Koschei's get_rpm_requires.
func requirements(deps []rpm.Dependency) []Requirement {
	var out []Requirement
	for _, d := range deps {
		flags := d.Flags &^ rpm.DepFindRequires
		if flags&^rpm.DepSenseMask != 0 {
			continue
		}
		op := ""
		if flags&rpm.DepLess != 0 {
			op += "<"
		}
		if flags&rpm.DepGreater != 0 {
			op += ">"
		}
		if flags&rpm.DepEqual != 0 {
			op += "="
		}
		out = append(out, Requirement{Name: d.Name, Op: op, Version: d.Version})
	}
	return out
}

// ReadSRPM reads an SRPM file's build requirements and arch restrictions.
func ReadSRPM(file string) (*SRPM, error) {
	p, err := rpm.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if !p.SourcePackage {
		return nil, fmt.Errorf("rebuild: %s is not a source package", file)
	}
	s := &SRPM{File: file, Requires: requirements(p.Requires)}
	s.BuildArchs, _ = p.Header.Strings(tagBuildArchs)
	s.ExclusiveArch, _ = p.Header.Strings(tagExclusiveArch)
	s.ExcludeArch, _ = p.Header.Strings(tagExcludeArch)
	return s, nil
}

// KojiHub is a Hub on a koji.Client, logged in for builds. SRPMs are
// downloaded once into CacheDir and read from there afterwards.
type KojiHub struct {
	Client   *koji.Client
	CacheDir string

	mu    sync.Mutex
	srpms map[string]*SRPM
}

// NewKojiHub returns a Hub on c, caching SRPMs in cacheDir.
func NewKojiHub(c *koji.Client, cacheDir string) *KojiHub {
	return &KojiHub{Client: c, CacheDir: cacheDir, srpms: map[string]*SRPM{}}
}

// HTTPClient returns the client's HTTP client, which the default
// RepoLoader fetches repo metadata with.
func (h *KojiHub) HTTPClient() *http.Client { return h.Client.HTTPClient() }

// TagArches implements Hub.
func (h *KojiHub) TagArches(ctx context.Context, tag string) ([]string, error) {
	var bc struct {
		Arches string `xmlrpc:"arches"`
	}
	if err := h.Client.Call(ctx, "getBuildConfig", &bc, tag); err != nil {
		return nil, err
	}
	return strings.Fields(bc.Arches), nil
}

// LatestRepo implements Hub.
func (h *KojiHub) LatestRepo(ctx context.Context, tag string) (*Repo, error) {
	var r *Repo
	if err := h.Client.CallKw(ctx, "getRepo", &r, []any{tag}, map[string]any{"state": int(koji.RepoReady)}); err != nil {
		return nil, err
	}
	if r != nil && r.TagName == "" {
		r.TagName = tag
	}
	return r, nil
}

// Repo implements Hub.
func (h *KojiHub) Repo(ctx context.Context, id int) (*Repo, error) {
	var r *Repo
	err := h.Client.Call(ctx, "repoInfo", &r, id)
	return r, err
}

// RepoURL implements Hub.
func (h *KojiHub) RepoURL(tag string, id int, arch string) (string, error) {
	return h.Client.FileURL(fmt.Sprintf("repos/%s/%d/%s", tag, id, arch))
}

// BuildGroup implements Hub.
func (h *KojiHub) BuildGroup(ctx context.Context, tag, group string, event int) ([]string, error) {
	var groups []struct {
		Name     string `xmlrpc:"name"`
		Packages []struct {
			Package string `xmlrpc:"package"`
			Type    string `xmlrpc:"type"`
			Blocked bool   `xmlrpc:"blocked"`
		} `xmlrpc:"packagelist"`
	}
	kw := map[string]any{}
	if event > 0 {
		kw["event"] = event
	}
	if err := h.Client.CallKw(ctx, "getTagGroups", &groups, []any{tag}, kw); err != nil {
		return nil, err
	}
	for _, g := range groups {
		if g.Name != group {
			continue
		}
		var out []string
		for _, p := range g.Packages {
			if !p.Blocked && (p.Type == "default" || p.Type == "mandatory") {
				out = append(out, p.Package)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("rebuild: tag %s has no group %s", tag, group)
}

// Packages implements Hub.
func (h *KojiHub) Packages(ctx context.Context, tag string) ([]*koji.TagPackage, error) {
	return h.Client.ListPackages(ctx, &koji.ListPackagesOptions{TagID: tag, Inherited: true})
}

// LatestBuilds implements Hub.
func (h *KojiHub) LatestBuilds(ctx context.Context, tag, pkg string) ([]*koji.TaggedBuild, error) {
	return h.Client.ListTagged(ctx, tag, &koji.ListTaggedOptions{Latest: 1, Inherit: true, Package: pkg})
}

// SRPM implements Hub.
func (h *KojiHub) SRPM(ctx context.Context, nvr string) (*SRPM, error) {
	h.mu.Lock()
	s, ok := h.srpms[nvr]
	h.mu.Unlock()
	if ok {
		return s, nil
	}
	b, err := h.Client.GetBuild(ctx, nvr, nil)
	if err != nil || b == nil {
		return nil, err
	}
	rpms, err := h.Client.ListRPMs(ctx, &koji.ListRPMsOptions{BuildID: b.ID, Arches: []string{"src"}})
	if err != nil || len(rpms) == 0 {
		return nil, err
	}
	r := rpms[0]
	pi := koji.PathInfo{}
	u, err := h.Client.FileURL(strings.TrimPrefix(pi.Build(b), "/") + "/" + pi.RPM(r))
	if err != nil {
		return nil, err
	}
	file := filepath.Join(h.CacheDir, r.Filename())
	if _, err := os.Stat(file); err != nil {
		if err := os.MkdirAll(h.CacheDir, 0o755); err != nil {
			return nil, err
		}
		tmp := file + ".part"
		if err := h.Client.DownloadFile(ctx, u, tmp, nil); err != nil {
			return nil, err
		}
		if err := os.Rename(tmp, file); err != nil {
			return nil, err
		}
	}
	s, err = ReadSRPM(file)
	if err != nil {
		return nil, err
	}
	s.Build, s.RPM = b, r
	h.mu.Lock()
	h.srpms[nvr] = s
	h.mu.Unlock()
	return s, nil
}

// ScratchBuild implements Hub. It uploads the SRPM as the koji CLI does
// for `koji build --scratch target file.src.rpm` and builds the upload.
// Koschei instead passes the path of the SRPM in the hub's own storage,
// relative to its work directory (../packages/...); gokoji's builder
// refuses paths that leave the work directory, and the upload works with
// every hub.
func (h *KojiHub) ScratchBuild(ctx context.Context, s *SRPM, target string, opts *koji.BuildOptions) (int, error) {
	if s.File == "" {
		return 0, errors.New("rebuild: the SRPM was not downloaded")
	}
	dir := koji.UniqueUploadPath("koschei")
	if err := h.Client.UploadFile(ctx, s.File, dir, "", nil); err != nil {
		return 0, err
	}
	o := *opts
	o.Scratch = true
	return h.Client.Build(ctx, dir+"/"+filepath.Base(s.File), target, &o)
}

// Task implements Hub.
func (h *KojiHub) Task(ctx context.Context, id int) (*koji.Task, error) {
	return h.Client.GetTaskInfo(ctx, id, nil)
}

// TaskResult implements Hub.
func (h *KojiHub) TaskResult(ctx context.Context, id int) error {
	return h.Client.GetTaskResult(ctx, id, true, nil)
}

// TaskChildren implements Hub.
func (h *KojiHub) TaskChildren(ctx context.Context, id int) ([]*koji.Task, error) {
	return h.Client.GetTaskChildren(ctx, id, &koji.TaskInfoOptions{Request: true})
}

// CancelTask implements Hub.
func (h *KojiHub) CancelTask(ctx context.Context, id int) error {
	return h.Client.CancelTask(ctx, id, true)
}

// Hosts implements Hub.
func (h *KojiHub) Hosts(ctx context.Context, channel string, arches []string) ([]*koji.Host, error) {
	ch, err := h.Client.GetChannel(ctx, channel, &koji.GetChannelOptions{Strict: true})
	if err != nil {
		return nil, err
	}
	return h.Client.ListHosts(ctx, &koji.ListHostsOptions{Arches: arches, ChannelID: ch.ID, Enabled: koji.Ptr(true)})
}
