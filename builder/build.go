package builder

import (
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gokoji/gokoji/internal/rpm"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// Build is kojid's build handler (BuildTask), for an SRPM uploaded to
// the hub's work directory as the koji build CLI uploads it: it reads
// the SRPM's header, picks the arches from the build tag and the SRPM
// (BuildArch, ExclusiveArch, ExcludeArch; arch_override for scratch
// builds), creates the build (host.initBuild) unless scratch, runs a
// buildArch subtask per arch (BuildArch builds them), and imports the
// result: host.moveBuildToScratch for a scratch build, else
// host.completeBuild (host.failBuild when a subtask fails), and then,
// unless skip_tag, a tagBuild subtask into the target's destination tag.
//
// Sources from an SCM URL are not supported (they need a checkout and a
// buildSRPMFromSCM task in a buildroot) and fail with a BuildError, as
// does rebuild_srpm. Since BuildArch builds on the host's own tools, the
// build does not wait for a repo of the build tag as kojid does: it uses
// the repo given (opts repo_id) or the tag's current one, when there is
// one, to record the buildroots.
type Build struct{}

// buildWeight is kojid's BuildTask._taskWeight.
const buildWeight = 0.2

// Methods is ["build"].
func (Build) Methods() []string { return []string{"build"} }

// Weight is kojid's 0.2: the task mostly waits for its subtasks.
func (Build) Weight(*Task) float64 { return buildWeight }

// scmSchemes are the URL schemes of koji.daemon.SCM.types.
var scmSchemes = []string{"cvs://", "cvs+ssh://", "git://", "git+http://", "git+https://", "git+rsync://",
	"git+ssh://", "svn://", "svn+http://", "svn+https://", "svn+ssh://"}

// isSCMURL is SCM.is_scm_url.
func isSCMURL(src string) bool {
	return slices.ContainsFunc(scmSchemes, func(s string) bool { return strings.HasPrefix(src, s) })
}

// repoRef is the part of repoInfo and getRepo the build uses.
type repoRef struct {
	ID          int64  `xmlrpc:"id"`
	TagID       int64  `xmlrpc:"tag_id"`
	TagName     string `xmlrpc:"tag_name"`
	State       int    `xmlrpc:"state"`
	CreateEvent int64  `xmlrpc:"create_event"`
}

// Repo states (koji.REPO_STATES).
var repoStates = []string{"INIT", "READY", "EXPIRED", "DELETED", "PROBLEM"}

func repoState(s int) string {
	if s >= 0 && s < len(repoStates) {
		return repoStates[s]
	}
	return fmt.Sprint(s)
}

// buildJob is one build task's state as it runs.
type buildJob struct {
	t        *Task
	src      string
	target   any
	opts     map[string]any
	event    *int64
	repo     *repoRef
	buildTag int64
	destTag  int64
	destName string
}

// Handle runs handler(src, target, opts=None).
func (Build) Handle(ctx context.Context, t *Task) (any, error) {
	a, err := t.args([]string{"src", "target", "opts"}, 2)
	if err != nil {
		return nil, err
	}
	j := &buildJob{t: t, target: a["target"]}
	if j.opts, err = optsArg(t.Method, "opts", a["opts"]); err != nil {
		return nil, err
	}
	src, ok := a["src"].(string)
	if !ok {
		return nil, Fail(koji.ErrBuild, "Invalid source specification: %v", a["src"])
	}
	j.src = src
	if isSCMURL(src) {
		return nil, Fail(koji.ErrBuild, "Building from an SCM (%s) is not supported by this builder: upload an SRPM", src)
	}
	if xmlrpc.Truthy(j.opts["rebuild_srpm"]) {
		return nil, Fail(koji.ErrBuild, "rebuild_srpm is not supported by this builder")
	}
	scratch := xmlrpc.Truthy(j.opts["scratch"])
	if xmlrpc.Truthy(j.opts["arch_override"]) && !scratch {
		return nil, Fail(koji.ErrBuild, "arch_override is only allowed for scratch builds")
	}
	if err := j.resolve(ctx); err != nil {
		return nil, err
	}
	hdr, err := j.readSRPMHeader(ctx)
	if err != nil {
		return nil, err
	}
	var pkgCfg map[string]any
	if err := t.Client.CallKw(ctx, "getPackageConfig", &pkgCfg, []any{j.destTag, hdr.Name}, eventKw(j.event)); err != nil {
		return nil, fmt.Errorf("builder: getPackageConfig: %w", err)
	}
	var extra string
	if pkgCfg != nil {
		extra, _ = pkgCfg["extra_arches"].(string)
	}
	if !xmlrpc.Truthy(j.opts["skip_tag"]) && !scratch {
		if pkgCfg == nil {
			return nil, Fail(koji.ErrBuild, "package %s not in list for tag %s", hdr.Name, j.destName)
		}
		if xmlrpc.Truthy(pkgCfg["blocked"]) {
			return nil, Fail(koji.ErrBuild, "package %s is blocked for tag %s", hdr.Name, j.destName)
		}
	}
	arches, err := j.archList(ctx, hdr, extra)
	if err != nil {
		return nil, err
	}
	var buildID int64
	if !scratch {
		data := map[string]any{"name": hdr.Name, "version": hdr.Version, "release": hdr.Release, "epoch": nil, "task_id": t.ID}
		if hdr.Epoch != nil {
			data["epoch"] = int64(*hdr.Epoch)
		}
		if err := t.Client.Call(ctx, "host.initBuild", &buildID, data); err != nil {
			return nil, fmt.Errorf("builder: host.initBuild: %w", err)
		}
	}
	if err := j.runAndImport(ctx, arches, scratch, buildID); err != nil {
		return nil, err
	}
	if !xmlrpc.Truthy(j.opts["skip_tag"]) && !scratch {
		return nil, j.tagBuild(ctx, buildID)
	}
	return nil, nil
}

// eventKw is the event keyword argument, when there is an event.
func eventKw(event *int64) any {
	if event == nil {
		return nil
	}
	return map[string]any{"event": *event}
}

// resolve finds the repo, the target's tags and the event, and checks
// the policy, as the start of kojid's BuildTask.handler.
func (j *buildJob) resolve(ctx context.Context) error {
	t := j.t
	if v, ok := j.opts["repo_id"]; ok && v != nil {
		if err := t.Client.Call(ctx, "repoInfo", &j.repo, v); err != nil {
			return fmt.Errorf("builder: repoInfo: %w", err)
		}
		if j.repo == nil {
			return Fail(koji.ErrBuild, "No such repo: %v", v)
		}
		if st := repoState(j.repo.State); st != "READY" && st != "EXPIRED" {
			return Fail(koji.ErrBuild, "Bad repo: %d (%s)", j.repo.ID, st)
		}
		j.event = &j.repo.CreateEvent
	}
	var info *koji.Task
	if err := t.Client.Call(ctx, "getTaskInfo", &info, t.ID); err != nil {
		return fmt.Errorf("builder: getTaskInfo: %w", err)
	}
	var target *struct {
		ID           int64  `xmlrpc:"id"`
		BuildTag     int64  `xmlrpc:"build_tag"`
		BuildTagName string `xmlrpc:"build_tag_name"`
		DestTag      int64  `xmlrpc:"dest_tag"`
		DestTagName  string `xmlrpc:"dest_tag_name"`
	}
	if j.target != nil {
		if err := t.Client.CallKw(ctx, "getBuildTarget", &target, []any{j.target}, eventKw(j.event)); err != nil {
			return fmt.Errorf("builder: getBuildTarget: %w", err)
		}
	}
	switch {
	case target != nil:
		j.buildTag, j.destTag, j.destName = target.BuildTag, target.DestTag, target.DestTagName
		if j.repo != nil && j.repo.TagID != target.BuildTag {
			return Fail(koji.ErrBuild, "Repo/Target mismatch: %s/%s", j.repo.TagName, target.BuildTagName)
		}
	case j.repo == nil:
		return Fail(koji.ErrGeneric, "%v: Invalid target", j.target)
	case j.target == nil:
		// A repo and no target: the build tag, and skip-tag.
		j.opts["skip_tag"] = true
		j.buildTag, j.destTag, j.destName = j.repo.TagID, j.repo.TagID, j.repo.TagName
	default:
		var tag *struct {
			ID   int64  `xmlrpc:"id"`
			Name string `xmlrpc:"name"`
		}
		if err := t.Client.CallKw(ctx, "getTag", &tag, []any{j.target}, eventKw(j.event)); err != nil {
			return fmt.Errorf("builder: getTag: %w", err)
		}
		if tag == nil {
			return Fail(koji.ErrGeneric, "neither tag nor target: %v", j.target)
		}
		j.buildTag, j.destTag, j.destName = j.repo.TagID, tag.ID, tag.Name
	}
	if err := j.assertPolicy(ctx, info, target != nil); err != nil {
		return err
	}
	if j.repo == nil {
		if err := j.currentRepo(ctx); err != nil {
			return err
		}
	}
	return nil
}

// assertPolicy checks build_from_srpm (non-scratch) and
// build_from_repo_id (repo_id given) with host.assertPolicy, on a hub
// that has it.
func (j *buildJob) assertPolicy(ctx context.Context, info *koji.Task, hasTarget bool) error {
	var checks []string
	if !xmlrpc.Truthy(j.opts["scratch"]) {
		checks = append(checks, "build_from_srpm")
	}
	if v, ok := j.opts["repo_id"]; ok && v != nil {
		checks = append(checks, "build_from_repo_id")
	}
	if len(checks) == 0 {
		return nil
	}
	has, err := j.t.hubHas(ctx, "host.assertPolicy")
	if err != nil || !has {
		return err
	}
	data := map[string]any{"source": j.src, "task_id": j.t.ID, "build_tag": j.buildTag,
		"skip_tag": xmlrpc.Truthy(j.opts["skip_tag"])}
	if info != nil {
		data["user_id"] = info.Owner
	}
	if hasTarget {
		data["target"] = j.target
	}
	if !xmlrpc.Truthy(j.opts["skip_tag"]) {
		data["tag"] = j.destTag
	}
	for _, policy := range checks {
		if err := j.t.Client.Call(ctx, "host.assertPolicy", nil, policy, data); err != nil {
			return err
		}
	}
	return nil
}

// currentRepo takes the build tag's current repo, if any, for the
// buildroots, and the last event for the tag's configuration.
func (j *buildJob) currentRepo(ctx context.Context) error {
	has, err := j.t.hubHas(ctx, "getRepo")
	if err != nil {
		return err
	}
	if has {
		if err := j.t.Client.Call(ctx, "getRepo", &j.repo, j.buildTag); err != nil {
			return fmt.Errorf("builder: getRepo: %w", err)
		}
	}
	var last struct {
		ID int64 `xmlrpc:"id"`
	}
	if err := j.t.Client.Call(ctx, "getLastEvent", &last); err != nil {
		return fmt.Errorf("builder: getLastEvent: %w", err)
	}
	j.event = &last.ID
	return nil
}

// readSRPMHeader downloads the SRPM, src relative to the work directory,
// and reads its header, as kojid's readSRPMHeader.
func (j *buildJob) readSRPMHeader(ctx context.Context) (*rpm.Package, error) {
	clean := path.Clean(j.src)
	if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
		return nil, Fail(koji.ErrBuild, "Invalid source specification: %s", j.src)
	}
	local := filepath.Join(j.t.WorkDir, "srpm", path.Base(clean))
	if err := j.t.Download(ctx, "work/"+clean, local); err != nil {
		var de *koji.DownloadError
		if errors.As(err, &de) {
			return nil, Fail(koji.ErrBuild, "SRPM file missing: %s (%v)", j.src, err)
		}
		return nil, err
	}
	p, err := rpm.ReadFile(local)
	if err != nil {
		return nil, Fail(koji.ErrBuild, "%s: %v", j.src, err)
	}
	if !p.SourcePackage {
		return nil, Fail(koji.ErrBuild, "%s is not a source package", j.src)
	}
	return p, nil
}

// Header tags of the SRPM's arch restrictions.
const (
	tagExcludeArch   = 1059
	tagExclusiveArch = 1061
	tagBuildArchs    = 1089
)

// archList is kojid's getArchList: the build tag's arches (and the
// package's extra_arches), narrowed by the SRPM's BuildArch,
// ExclusiveArch and ExcludeArch, noarch when the SRPM builds it,
// arch_override for scratch builds, and only those the tag can build.
func (j *buildJob) archList(ctx context.Context, hdr *rpm.Package, extra string) ([]string, error) {
	bc, err := j.t.getBuildConfig(ctx, j.buildTag, j.event)
	if err != nil {
		return nil, err
	}
	arches := archList(bc.Arches)
	if len(arches) == 0 {
		return nil, Fail(koji.ErrBuild, "No arches for tag %s [%d]", bc.Name, bc.ID)
	}
	var tagArches []string
	for _, a := range arches {
		tagArches = append(tagArches, koji.CanonArch(a))
	}
	list := append(slices.Clone(arches), strings.Fields(extra)...)
	buildArchs, _ := hdr.Header.Strings(tagBuildArchs)
	exclusive, _ := hdr.Header.Strings(tagExclusiveArch)
	exclude, _ := hdr.Header.Strings(tagExcludeArch)
	if len(buildArchs) > 0 {
		list = buildArchs
	}
	if len(exclusive) > 0 {
		list = slices.DeleteFunc(list, func(a string) bool { return !slices.Contains(exclusive, a) })
	}
	if len(exclude) > 0 {
		list = slices.DeleteFunc(list, func(a string) bool { return slices.Contains(exclude, a) })
	}
	if !slices.Contains(exclude, "noarch") && (slices.Contains(buildArchs, "noarch") || slices.Contains(exclusive, "noarch")) {
		list = append(list, "noarch")
	}
	if o, _ := j.opts["arch_override"].(string); o != "" && xmlrpc.Truthy(j.opts["scratch"]) {
		list = strings.Fields(o)
	}
	var out []string
	for _, a := range list {
		if (a == "noarch" || slices.Contains(tagArches, koji.CanonArch(a))) && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, Fail(koji.ErrBuild, "No matching arches were found")
	}
	return out, nil
}

// archResult is a buildArch task's result.
type archResult struct {
	RPMs    []string `xmlrpc:"rpms"`
	SRPMs   []string `xmlrpc:"srpms"`
	Logs    []string `xmlrpc:"logs"`
	BrootID int64    `xmlrpc:"brootid"`
}

// runAndImport is kojid's runBuilds and the import after it: a buildArch
// subtask per arch (the first keeps the SRPM), all awaited, failing at
// the first failure; then the scratch move or completeBuild, or
// failBuild when anything failed.
func (j *buildJob) runAndImport(ctx context.Context, arches []string, scratch bool, buildID int64) (err error) {
	defer func() {
		if err != nil && !scratch && buildID != 0 && ctx.Err() == nil {
			fctx, cancel := j.t.afterContext(ctx)
			defer cancel()
			if ferr := j.t.Client.Call(fctx, "host.failBuild", nil, j.t.ID, buildID); ferr != nil {
				err = errors.Join(err, fmt.Errorf("builder: host.failBuild: %w", ferr))
			}
		}
	}()
	archOpts := map[string]any{}
	if j.repo != nil {
		archOpts["repo_id"] = j.repo.ID
	}
	ids := make([]int, len(arches))
	for i, arch := range arches {
		id, err := j.t.Subtask(ctx, "buildArch", []any{j.src, j.buildTag, arch, i == 0, archOpts},
			&SubtaskOptions{Label: arch, Arch: koji.CanonArch(arch)})
		if err != nil {
			return err
		}
		ids[i] = id
	}
	results, err := j.t.Wait(ctx, WaitOptions{Subtasks: ids, All: true, FailAny: true})
	if err != nil {
		return err
	}
	var srpm string
	rpms := []any{}
	brmap := map[string]any{}
	logs := map[string]any{}
	for i, arch := range arches {
		var r archResult
		if err := results[ids[i]].Decode(&r); err != nil {
			return fmt.Errorf("builder: buildArch task %d's result: %w", ids[i], err)
		}
		note := func(fn string) {
			if r.BrootID != 0 { // no buildroot recorded: none to map to
				brmap[fn] = r.BrootID
			}
		}
		for _, fn := range r.RPMs {
			rpms = append(rpms, fn)
			note(fn)
		}
		archLogs, _ := logs[arch].([]any)
		for _, fn := range r.Logs {
			archLogs = append(archLogs, fn)
		}
		logs[arch] = archLogs
		if len(r.SRPMs) > 0 {
			if srpm != "" {
				return Fail(koji.ErrBuild, "multiple builds returned a srpm.  task %d", j.t.ID)
			}
			srpm = r.SRPMs[0]
			note(srpm)
		}
	}
	if srpm == "" {
		return Fail(koji.ErrBuild, "could not find a built srpm")
	}
	if scratch {
		err = j.t.Client.CallKw(ctx, "host.moveBuildToScratch", nil, []any{j.t.ID, srpm, rpms}, map[string]any{"logs": logs})
		if err != nil {
			return fmt.Errorf("builder: host.moveBuildToScratch: %w", err)
		}
		return nil
	}
	err = j.t.Client.CallKw(ctx, "host.completeBuild", nil, []any{j.t.ID, buildID, srpm, rpms},
		map[string]any{"brmap": brmap, "logs": logs})
	if err != nil {
		return fmt.Errorf("builder: host.completeBuild: %w", err)
	}
	return nil
}

// tagBuild is kojid's BuildTask.tagBuild: a tagBuild subtask into the
// destination tag (not forced, no source tag, ignoring the success
// notification), awaited.
func (j *buildJob) tagBuild(ctx context.Context, buildID int64) error {
	id, err := j.t.Subtask(ctx, "tagBuild", []any{j.destTag, buildID, false, nil, true},
		&SubtaskOptions{Label: "tag", Arch: "noarch"})
	if err != nil {
		return err
	}
	_, err = j.t.Wait(ctx, WaitOptions{Subtasks: []int{id}})
	return err
}
