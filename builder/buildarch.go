package builder

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gokoji/gokoji/internal/rpm"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// BuildArch is kojid's buildArch handler (BuildArchTask): it builds one
// arch of an SRPM the parent build task uploaded, and returns kojid's
// result, {rpms, srpms, logs, brootid}, the paths relative to the hub's
// work directory.
//
// Unlike kojid it runs no mock and no chroot: rpmbuild runs directly on
// the host, as the daemon's user, with the host's own tools and
// installed packages (build dependencies are checked against the host's
// rpm database), as
//
//	rpmbuild --rebuild --define "_topdir <task workdir>/rpmbuild" --target <arch> <srpm>
//
// (-ra instead of --rebuild when the task keeps the SRPM, so that the
// SRPM is rebuilt too, as mock's is). The hub's repos are not used; when
// the parent passes a repo (opts repo_id) and the hub has
// host.newBuildRoot, the build is recorded as a buildroot, INIT →
// WAITING → BUILDING → EXPIRED, else brootid is 0. rpmbuild's output is
// build.log, sent while it grows; canceling the task kills rpmbuild and
// everything it started.
type BuildArch struct {
	// RPMBuild is the rpmbuild program; "rpmbuild" from PATH when empty.
	RPMBuild string
	// Timeout (kojid.conf's rpmbuild_timeout) bounds one rpmbuild run;
	// zero means kojid's 24 hours.
	Timeout time.Duration
}

// DefaultRPMBuildTimeout is kojid's rpmbuild_timeout, 86400 seconds.
const DefaultRPMBuildTimeout = 24 * time.Hour

// buildArchWeight is kojid's BuildArchTask.weight(), before updateWeight.
const buildArchWeight = 1.5

// Methods is ["buildArch"].
func (*BuildArch) Methods() []string { return []string{"buildArch"} }

// Weight is kojid's 1.5; Handle raises it from the package's average
// build duration once the SRPM is read (kojid's updateWeight).
func (*BuildArch) Weight(*Task) float64 { return buildArchWeight }

// Handle builds the arch: handler(pkg, root, arch, keep_srpm, opts=None).
func (b *BuildArch) Handle(ctx context.Context, t *Task) (any, error) {
	a, err := t.args([]string{"pkg", "root", "arch", "keep_srpm", "opts"}, 4)
	if err != nil {
		return nil, err
	}
	prog := b.RPMBuild
	if prog == "" {
		prog = "rpmbuild"
	}
	if _, err := exec.LookPath(prog); err != nil {
		// Another host may have it.
		return nil, Refuse(fmt.Sprintf("rpmbuild is not installed on this host: %v", err))
	}
	pkg, ok1 := a["pkg"].(string)
	arch, ok2 := a["arch"].(string)
	if !ok1 || !ok2 || pkg == "" || arch == "" {
		return nil, Fail(koji.ErrParameter, "buildArch: pkg and arch must be non-empty strings")
	}
	opts, err := optsArg(t.Method, "opts", a["opts"])
	if err != nil {
		return nil, err
	}
	keep := xmlrpc.Truthy(a["keep_srpm"])
	var repoID *int64
	if v := opts["repo_id"]; xmlrpc.Truthy(v) {
		id, err := intArg(t.Method, "repo_id", v)
		if err != nil {
			return nil, err
		}
		repoID = &id
	}

	srpmPath := filepath.Join(t.WorkDir, "src", path.Base(pkg))
	if err := t.Download(ctx, "work/"+pkg, srpmPath); err != nil {
		var de *koji.DownloadError
		if errors.As(err, &de) {
			return nil, Fail(koji.ErrBuild, "SRPM file missing: %s (%v)", pkg, err)
		}
		return nil, err
	}
	src, err := rpm.ReadFile(srpmPath)
	if err != nil {
		return nil, Fail(koji.ErrBuild, "reading %s: %v", pkg, err)
	}
	if src.Name == "" {
		return nil, Fail(koji.ErrBuild, "No name in srpm: %s", pkg)
	}
	if !src.SourcePackage {
		return nil, Fail(koji.ErrBuild, "not a source package")
	}
	if err := b.updateWeight(ctx, t, src.Name); err != nil {
		return nil, err
	}
	brArch, err := b.findArch(ctx, t, arch, a["root"], repoID)
	if err != nil {
		return nil, err
	}
	br, err := newBuildroot(ctx, t, repoID, brArch)
	if err != nil {
		return nil, err
	}
	res, err := b.build(ctx, t, prog, src, srpmPath, brArch, keep, br)
	xctx, cancel := t.afterContext(ctx)
	xerr := br.setState(xctx, "EXPIRED")
	cancel()
	if xerr != nil && err == nil {
		err = xerr
	}
	if err != nil {
		return nil, err
	}
	res["brootid"] = br.id
	return res, nil
}

// updateWeight is kojid's BuildArchTask.updateWeight: 1.5 plus 0.75 for
// every hour the package's builds took on average over the last six
// months, at most 4.5 more.
func (*BuildArch) updateWeight(ctx context.Context, t *Task, name string) error {
	var avg *float64
	if err := t.Client.CallKw(ctx, "getAverageBuildDuration", &avg, []any{name}, map[string]any{"age": 6}); err != nil {
		return fmt.Errorf("builder: getAverageBuildDuration: %w", err)
	}
	if avg == nil || *avg == 0 {
		return nil
	}
	if *avg < 0 {
		t.Logger.Warn("builder: negative average build duration", "package", name, "seconds", *avg)
		return nil
	}
	w := buildArchWeight + min(4.5, *avg/4800)
	if err := t.Host().SetTaskWeight(ctx, t.ID, w); err != nil {
		return fmt.Errorf("builder: host.setTaskWeight: %w", err)
	}
	t.d.mu.Lock()
	t.weight = w
	t.d.mu.Unlock()
	return nil
}

// findArch is kojid's find_arch: a noarch build runs on one of the
// canonical arches both the host and the build tag have, at random; any
// other arch is built as itself.
func (*BuildArch) findArch(ctx context.Context, t *Task, arch string, root any, repoID *int64) (string, error) {
	if arch != "noarch" {
		return arch, nil
	}
	host, err := t.Host().Host(ctx)
	if err != nil {
		return "", fmt.Errorf("builder: host.getHost: %w", err)
	}
	var event *int64
	if repoID != nil {
		var repo *struct {
			CreateEvent int64 `xmlrpc:"create_event"`
		}
		if err := t.Client.CallKw(ctx, "repoInfo", &repo, []any{*repoID}, map[string]any{"strict": true}); err != nil {
			return "", err
		}
		event = &repo.CreateEvent
	}
	tag, err := t.getBuildConfig(ctx, root, event)
	if err != nil {
		return "", err
	}
	if host == nil || len(host.ArchList()) == 0 {
		return "", Fail(koji.ErrBuild, "No arch list for this host")
	}
	if tag.Arches == nil {
		return "", Fail(koji.ErrBuild, "No arch list for tag: %s", tag.Name)
	}
	hostArches := canonSet(host.ArchList())
	tagArches := canonSet(archList(tag.Arches))
	var common []string
	for _, a := range hostArches {
		if slices.Contains(tagArches, a) {
			common = append(common, a)
		}
	}
	if len(common) == 0 {
		return "", Fail(koji.ErrBuild, "host %s (%s) does not support any arches of tag %s (%s)",
			host.Name, strings.Join(hostArches, ", "), tag.Name, strings.Join(tagArches, ", "))
	}
	pick := common[rand.IntN(len(common))]
	t.Logger.Info("builder: noarch build", "valid_arches", strings.Join(common, " "), "using", pick)
	return pick, nil
}

// canonSet is the sorted set of the canonical arches of arches.
func canonSet(arches []string) []string {
	var out []string
	for _, a := range arches {
		if c := koji.CanonArch(a); !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

// build runs rpmbuild, checks and uploads what it built.
func (b *BuildArch) build(ctx context.Context, t *Task, prog string, src *rpm.Package, srpmPath, arch string, keep bool, br *buildroot) (map[string]any, error) {
	top := filepath.Join(t.WorkDir, "rpmbuild")
	if err := os.MkdirAll(filepath.Join(top, "tmp"), 0o755); err != nil {
		return nil, fmt.Errorf("builder: %w", err)
	}
	mode := "--rebuild"
	if keep {
		mode = "-ra"
	}
	args := []string{mode, "--define", "_topdir " + top, "--define", "_tmppath " + filepath.Join(top, "tmp"),
		"--target", arch, srpmPath}
	if err := br.setState(ctx, "BUILDING"); err != nil {
		return nil, err
	}
	if err := b.run(ctx, t, prog, args, arch); err != nil {
		return nil, err
	}
	rpms, srpms, err := builtFiles(top)
	if err != nil {
		return nil, err
	}
	if err := checkBuilt(src, rpms, srpms, keep, t.ID); err != nil {
		return nil, err
	}
	up := t.UploadDir()
	res := map[string]any{"rpms": []any{}, "srpms": []any{}, "logs": []any{up + "/build.log"}}
	for _, f := range rpms {
		if err := t.UploadFile(ctx, f, ""); err != nil {
			return nil, err
		}
		res["rpms"] = append(res["rpms"].([]any), up+"/"+filepath.Base(f))
	}
	if keep {
		if err := t.UploadFile(ctx, srpms[0], ""); err != nil {
			return nil, err
		}
		res["srpms"] = []any{up + "/" + filepath.Base(srpms[0])}
	}
	return res, nil
}

// run runs rpmbuild with its output in build.log, sent as it grows,
// killing it and its children when ctx ends or Timeout passes.
func (b *BuildArch) run(ctx context.Context, t *Task, prog string, args []string, arch string) error {
	timeout := b.Timeout
	if timeout <= 0 {
		timeout = DefaultRPMBuildTimeout
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	log, err := t.Log(ctx, "build.log")
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "%s %s\n", prog, strings.Join(args, " "))
	cmd := exec.CommandContext(rctx, prog, args...)
	cmd.Dir = t.WorkDir
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Stdin = nil
	killGroup(cmd)
	cmd.WaitDelay = 5 * time.Second
	t.Logger.Info("builder: running rpmbuild", "args", args)
	runErr := cmd.Run()
	if runErr != nil {
		fmt.Fprintf(log, "\n%s: %v\n", prog, runErr)
	}
	if err := log.Close(); err != nil && runErr == nil {
		return err
	}
	switch {
	case ctx.Err() != nil:
		return context.Cause(ctx)
	case rctx.Err() != nil:
		return Fail(koji.ErrBuild, "error building package (arch %s), rpmbuild timed out after %v; see build.log for more information", arch, timeout)
	case runErr != nil:
		var ee *exec.ExitError
		if errors.As(runErr, &ee) {
			return Fail(koji.ErrBuild, "error building package (arch %s), rpmbuild exited with status %d; see build.log for more information", arch, ee.ExitCode())
		}
		return Fail(koji.ErrBuild, "error building package (arch %s): %v", arch, runErr)
	}
	return nil
}

// builtFiles are the binary and source packages under rpmbuild's
// RPMS and SRPMS directories.
func builtFiles(top string) (rpms, srpms []string, err error) {
	err = filepath.WalkDir(filepath.Join(top, "RPMS"), func(p string, e os.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		if !e.IsDir() && strings.HasSuffix(p, ".rpm") {
			rpms = append(rpms, p)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("builder: %w", err)
	}
	srpms, err = filepath.Glob(filepath.Join(top, "SRPMS", "*.src.rpm"))
	sort.Strings(rpms)
	return rpms, srpms, err
}

// checkBuilt checks what rpmbuild made against the SRPM it was given:
// one SRPM of the same NVR when it is kept, and binary packages whose
// source is that SRPM.
func checkBuilt(src *rpm.Package, rpms, srpms []string, keep bool, taskID int) error {
	if keep {
		if len(srpms) == 0 {
			return Fail(koji.ErrBuild, "no srpm files found for task %d", taskID)
		}
		if len(srpms) > 1 {
			return Fail(koji.ErrBuild, "multiple srpm files found for task %d: %v", taskID, baseNames(srpms))
		}
		p, err := rpm.ReadFile(srpms[0])
		if err != nil {
			return Fail(koji.ErrBuild, "reading the built srpm: %v", err)
		}
		if !p.SourcePackage || p.NVR() != src.NVR() {
			return Fail(koji.ErrBuild, "the built srpm %s does not match the one given, %s", filepath.Base(srpms[0]), src.Filename())
		}
	}
	want := src.NVR() + ".src.rpm"
	for _, f := range rpms {
		p, err := rpm.ReadFile(f)
		if err != nil {
			return Fail(koji.ErrBuild, "reading %s: %v", filepath.Base(f), err)
		}
		if p.SourcePackage {
			return Fail(koji.ErrBuild, "unexpected source package among the built rpms: %s", filepath.Base(f))
		}
		if p.SourceRPM != want {
			return Fail(koji.ErrBuild, "%s was built from %s, not %s", filepath.Base(f), p.SourceRPM, want)
		}
		if filepath.Base(f) != p.Filename() {
			return Fail(koji.ErrBuild, "%s is named unlike its header (%s)", filepath.Base(f), p.Filename())
		}
	}
	return nil
}

func baseNames(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = filepath.Base(p)
	}
	return out
}

// A buildroot is the hub's record of a build (host.newBuildRoot), or
// none (id 0) when there is no repo or the hub has no buildroots.
type buildroot struct {
	t  *Task
	id int64
}

// newBuildroot records a buildroot for the repo and arch, in state INIT
// and then WAITING, when there is a repo and the hub has buildroots.
func newBuildroot(ctx context.Context, t *Task, repoID *int64, arch string) (*buildroot, error) {
	br := &buildroot{t: t}
	if repoID == nil {
		return br, nil
	}
	has, err := t.hubHas(ctx, "host.newBuildRoot")
	if err != nil || !has {
		return br, err
	}
	if err := t.Client.CallKw(ctx, "host.newBuildRoot", &br.id, []any{*repoID, koji.CanonArch(arch)}, map[string]any{"task_id": t.ID}); err != nil {
		return nil, fmt.Errorf("builder: host.newBuildRoot: %w", err)
	}
	return br, br.setState(ctx, "WAITING")
}

// setState is host.setBuildRootState, when there is a buildroot.
func (br *buildroot) setState(ctx context.Context, state string) error {
	if br.id == 0 {
		return nil
	}
	err := br.t.Client.CallKw(ctx, "host.setBuildRootState", nil, []any{br.id, state}, map[string]any{"task_id": br.t.ID})
	if err != nil {
		return fmt.Errorf("builder: host.setBuildRootState %s: %w", state, err)
	}
	return nil
}
