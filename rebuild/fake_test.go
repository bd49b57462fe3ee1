package rebuild

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/rebuild/internal/rstore"
	"github.com/gokoji/gokoji/xmlrpc"
)

// clock is a settable time for the service and the fake hub.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// fakeHub is a Hub holding a tag pair's state in memory.
type fakeHub struct {
	mu       sync.Mutex
	clock    *clock
	arches   []string
	repos    []*Repo // the build tag's, newest last
	tagged   map[string]*koji.TaggedBuild
	packages []*koji.TagPackage
	srpms    map[string]*SRPM
	tasks    map[int]*koji.Task
	children map[int][]*koji.Task
	results  map[int]error
	hosts    []*koji.Host
	nextTask int
	// submitted records ScratchBuild calls: "nvr target arch_override".
	submitted []string
	cancelled []int
	// hostQueries records Hosts calls: "channel arch...".
	hostQueries []string
	// polls counts Packages calls: one per polling run, after its
	// PollBuilds.
	polls int
}

func newFakeHub(c *clock) *fakeHub {
	return &fakeHub{clock: c, arches: []string{"x86_64"}, tagged: map[string]*koji.TaggedBuild{},
		srpms: map[string]*SRPM{}, tasks: map[int]*koji.Task{}, children: map[int][]*koji.Task{},
		results: map[int]error{}, nextTask: 100,
		hosts: []*koji.Host{{ID: 1, Name: "b1", Arches: "x86_64 i386", Capacity: 4, Ready: true, Enabled: true}}}
}

// addRepo makes a new READY repo of the build tag.
func (h *fakeHub) addRepo() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	id := len(h.repos) + 1
	h.repos = append(h.repos, &Repo{ID: id, State: koji.RepoReady, CreateEvent: id * 10, TagName: "f44-build"})
	return id
}

// newTask makes a build task, created now, with a buildArch subtask whose
// request names the latest repo.
func (h *fakeHub) newTask(state koji.TaskState) int {
	id := h.nextTask
	h.nextTask += 2
	now := float64(h.clock.Now().UnixNano()) / 1e9
	h.tasks[id] = &koji.Task{ID: id, Method: "build", State: state, CreateTS: now}
	repo := 0
	if len(h.repos) > 0 {
		repo = h.repos[len(h.repos)-1].ID
	}
	req, err := xmlrpc.MarshalValue([]any{"x.src.rpm", "f44-build", "x86_64", true, map[string]any{"repo_id": repo}})
	if err != nil {
		panic(err)
	}
	h.children[id] = []*koji.Task{{ID: id + 1, Method: "buildArch", Arch: "x86_64", State: state, Request: req, CreateTS: now}}
	return id
}

// tag makes a real build of name-version-1 the tag's latest, with an SRPM
// requiring requires.
func (h *fakeHub) tag(name, version string, requires ...string) *koji.TaggedBuild {
	h.mu.Lock()
	defer h.mu.Unlock()
	task := h.newTask(koji.TaskClosed)
	h.tasks[task].CompletionTS = koji.Ptr(h.tasks[task].CreateTS)
	b := &koji.TaggedBuild{Build: koji.Build{ID: task, Name: name, Version: version, Release: "1", TaskID: &task,
		State: koji.BuildComplete}, TagName: "f44"}
	h.tagged[name] = b
	s := &SRPM{Build: &b.Build, RPM: &koji.RPM{Name: name, Version: version, Release: "1", Arch: "src"}}
	for _, r := range requires {
		s.Requires = append(s.Requires, Requirement{Name: r})
	}
	h.srpms[b.Label()] = s
	if !slices.ContainsFunc(h.packages, func(p *koji.TagPackage) bool { return p.PackageName == name }) {
		h.packages = append(h.packages, &koji.TagPackage{PackageName: name, TagName: "f44"})
	}
	return b
}

// finish ends a task (and its subtask) in state.
func (h *fakeHub) finish(id int, state koji.TaskState, result error) *koji.Task {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.tasks[id]
	t.State = state
	t.CompletionTS = koji.Ptr(float64(h.clock.Now().UnixNano()) / 1e9)
	for _, ch := range h.children[id] {
		ch.State = state
	}
	h.results[id] = result
	cp := *t
	return &cp
}

func (h *fakeHub) TagArches(context.Context, string) ([]string, error) { return h.arches, nil }

func (h *fakeHub) LatestRepo(context.Context, string) (*Repo, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.repos) == 0 {
		return nil, nil
	}
	r := *h.repos[len(h.repos)-1]
	return &r, nil
}

func (h *fakeHub) Repo(_ context.Context, id int) (*Repo, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if id < 1 || id > len(h.repos) {
		return nil, nil
	}
	r := *h.repos[id-1]
	return &r, nil
}

func (h *fakeHub) RepoURL(tag string, id int, arch string) (string, error) {
	return fmt.Sprintf("fake://%s/%d/%s", tag, id, arch), nil
}

func (h *fakeHub) BuildGroup(context.Context, string, string, int) ([]string, error) {
	return []string{"bash", "rpm-build"}, nil
}

func (h *fakeHub) Packages(context.Context, string) ([]*koji.TagPackage, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.polls++
	return slices.Clone(h.packages), nil
}

func (h *fakeHub) LatestBuilds(_ context.Context, _ string, pkg string) ([]*koji.TaggedBuild, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*koji.TaggedBuild
	for name, b := range h.tagged {
		if pkg == "" || pkg == name {
			out = append(out, b)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (h *fakeHub) SRPM(_ context.Context, nvr string) (*SRPM, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.srpms[nvr], nil
}

func (h *fakeHub) ScratchBuild(_ context.Context, s *SRPM, target string, opts *koji.BuildOptions) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.submitted = append(h.submitted, strings.TrimSpace(s.NVR()+" "+target+" "+opts.ArchOverride))
	return h.newTask(koji.TaskOpen), nil
}

func (h *fakeHub) Task(_ context.Context, id int) (*koji.Task, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t, ok := h.tasks[id]
	if !ok {
		return nil, nil
	}
	cp := *t
	return &cp, nil
}

func (h *fakeHub) TaskResult(_ context.Context, id int) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.results[id]
}

func (h *fakeHub) TaskChildren(_ context.Context, id int) ([]*koji.Task, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.children[id], nil
}

func (h *fakeHub) CancelTask(_ context.Context, id int) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cancelled = append(h.cancelled, id)
	h.tasks[id].State = koji.TaskCanceled
	return nil
}

func (h *fakeHub) Hosts(_ context.Context, channel string, arches []string) ([]*koji.Host, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hostQueries = append(h.hostQueries, channel+" "+strings.Join(arches, " "))
	var out []*koji.Host
	for _, host := range h.hosts {
		if slices.ContainsFunc(arches, func(a string) bool { return slices.Contains(host.ArchList(), a) }) {
			cp := *host
			out = append(out, &cp)
		}
	}
	return out, nil
}

// fakeLoader serves fakeIndexes by repo URL.
type fakeLoader struct {
	mu      sync.Mutex
	indexes map[string]*fakeIndex
}

func (l *fakeLoader) Load(_ context.Context, url string) (RepoIndex, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	idx, ok := l.indexes[url]
	if !ok {
		return nil, fmt.Errorf("no repo at %s", url)
	}
	return idx, nil
}

// fakeIndex is a repo of binary packages by name, each with the names it
// requires; it resolves by breadth-first search, the level being the
// distance.
type fakeIndex struct {
	pkgs   map[string]fakePkg
	broken []string // problems of every resolution
}

type fakePkg struct {
	version  string
	requires []string
}

func (x *fakeIndex) Resolve(_ context.Context, group []string, requires []Requirement, _ string) (*DepResolution, error) {
	res := &DepResolution{Distances: map[string]int{}, Problems: x.broken}
	seen := map[string]bool{}
	install := func(name string) {
		if !seen[name] {
			seen[name] = true
			res.Installed = append(res.Installed, Dependency{Name: name, Version: x.pkgs[name].version, Release: "1", Arch: "x86_64"})
		}
	}
	var level []string
	for _, r := range requires {
		if _, ok := x.pkgs[r.Name]; !ok {
			res.Problems = append(res.Problems, "nothing provides "+r.Name)
			continue
		}
		level = append(level, r.Name)
	}
	for d := 1; len(level) > 0; d++ {
		var next []string
		for _, n := range level {
			if seen[n] {
				continue
			}
			install(n)
			res.Distances[n] = d
			next = append(next, x.pkgs[n].requires...)
		}
		level = next
	}
	for _, g := range group {
		if _, ok := x.pkgs[g]; ok {
			install(g)
		}
	}
	if !res.OK() {
		res.Installed, res.Distances = nil, nil
	}
	return res, nil
}

// recorder is a Notifier keeping what it was told.
type recorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) PackageStateChanged(_ context.Context, ch PackageStateChange) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, fmt.Sprintf("package %s %s->%s", ch.Package.Name, ch.Old, ch.New))
	return nil
}

func (r *recorder) CollectionStateChanged(_ context.Context, ch CollectionStateChange) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, fmt.Sprintf("collection %s %s->%s", ch.Collection.Name, ch.Old, ch.New))
	return nil
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.msgs
	r.msgs = nil
	return m
}

// testEnv is a service on a fake hub and a fresh store.
type testEnv struct {
	cfg    Config // the service's
	svc    *Service
	store  *Store
	hub    *fakeHub
	loader *fakeLoader
	clock  *clock
	notes  *recorder
	coll   *Collection
}

// eachBackend runs fn on a fresh SQLite file and a fresh PostgreSQL
// schema.
func eachBackend(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, filepath.Join(t.TempDir(), "rebuild.db")) })
	t.Run("postgres", func(t *testing.T) { fn(t, testenv.PostgresDSN(t)) })
}

func newTestEnv(t *testing.T, dsn string, edit func(*Config)) *testEnv {
	return newTestEnvColl(t, dsn, edit, nil)
}

// newTestEnvColl is newTestEnv with editColl changing the collection
// before it is added.
func newTestEnvColl(t *testing.T, dsn string, edit func(*Config), editColl func(*Collection)) *testEnv {
	ctx := context.Background()
	st, err := OpenStore(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	clk := &clock{t: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
	e := &testEnv{store: st, hub: newFakeHub(clk), loader: &fakeLoader{indexes: map[string]*fakeIndex{}}, clock: clk,
		notes: &recorder{}}
	cfg := Config{Store: st, Hub: e.hub, Loader: e.loader, Notifier: e.notes, Now: clk.Now}
	if edit != nil {
		edit(&cfg)
	}
	e.cfg = cfg
	e.svc, err = NewService(cfg)
	require.NoError(t, err)
	e.coll = &Collection{Name: "f44", DisplayName: "Fedora 44", Target: "f44-candidate", BuildTag: "f44-build", DestTag: "f44"}
	if editColl != nil {
		editColl(e.coll)
	}
	require.NoError(t, st.AddCollection(ctx, e.coll))
	return e
}

// repo adds a repo to the hub and its contents to the loader.
func (e *testEnv) repo(pkgs map[string]fakePkg) int {
	id := e.hub.addRepo()
	url, _ := e.hub.RepoURL("f44-build", id, "x86_64")
	e.loader.mu.Lock()
	e.loader.indexes[url] = &fakeIndex{pkgs: pkgs}
	e.loader.mu.Unlock()
	return id
}

func (e *testEnv) pkg(t *testing.T, name string) *Package {
	var p *Package
	require.NoError(t, e.store.withPackage(context.Background(), "f44", name, func(_ *rstore.Tx, pp *Package) error {
		p = pp
		return nil
	}))
	return p
}
