package builder

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/gokoji/gokoji/koji"
)

// Createrepo is kojid's createrepo handler (CreaterepoTask), a newRepo
// task's subtask for one arch: it runs createrepo_c over the packages
// the arch's pkglist names (paths through the repo's toplink to the
// hub's packages directory) and uploads the repodata, returning kojid's
// [uploadpath, files] for host.repoDone.
//
// With TopDir (kojid.conf's topdir: the hub's file tree mounted here, as
// kojid needs it) createrepo_c reads the packages in place; without it
// the pkglist and the packages are downloaded from the topurl into the
// task's directory first, so that the builder needs only HTTP access.
// External repos are not merged, and the previous repo is not reused
// (createrepo_update).
type Createrepo struct {
	// TopDir is the hub's file tree as mounted here; empty downloads.
	TopDir string
	// Createrepo is the createrepo_c program; "createrepo_c" from PATH
	// when empty. A host without it refuses the task.
	Createrepo string
}

// createrepoWeight is kojid's CreaterepoTask._taskWeight.
const createrepoWeight = 1.5

// Repo states (koji.REPO_STATES): INIT.
const repoInit = 0

// Methods is ["createrepo"].
func (Createrepo) Methods() []string { return []string{"createrepo"} }

// Weight is kojid's 1.5.
func (Createrepo) Weight(*Task) float64 { return createrepoWeight }

// Handle runs handler(repo_id, arch, oldrepo).
func (c Createrepo) Handle(ctx context.Context, t *Task) (any, error) {
	a, err := t.args([]string{"repo_id", "arch", "oldrepo"}, 3)
	if err != nil {
		return nil, err
	}
	prog, err := lookCreaterepo(c.Createrepo)
	if err != nil {
		return nil, err
	}
	arch, ok := a["arch"].(string)
	if !ok || arch == "" || strings.ContainsAny(arch, "/\\") || arch == "." || arch == ".." {
		return nil, Fail(koji.ErrParameter, "createrepo: arch must be an arch name, not %v", a["arch"])
	}
	var repo *repoRef
	if err := t.Client.CallKw(ctx, "repoInfo", &repo, []any{a["repo_id"]}, map[string]any{"strict": true}); err != nil {
		return nil, err
	}
	if repo.State != repoInit {
		return nil, Fail(koji.ErrGeneric, "Repo %d not in INIT state (got %d)", repo.ID, repo.State)
	}
	top := koji.PathInfo{}.Repo(int(repo.ID), repo.TagName) // relative: "/repos/<tag>/<id>"
	top = strings.TrimPrefix(top, "/")
	repodir, comps, err := c.repoSource(ctx, t, top, arch)
	if err != nil {
		return nil, err
	}
	pkglist := filepath.Join(repodir, "pkglist")
	if st, err := os.Stat(pkglist); err == nil && st.Size() == 0 {
		pkglist = ""
	}
	outdir := filepath.Join(t.WorkDir, "repo")
	if err := os.MkdirAll(outdir, 0o755); err != nil {
		return nil, fmt.Errorf("builder: %w", err)
	}
	args := []string{"--error-exit-val", "-vd", "-o", outdir}
	if pkglist != "" {
		args = append(args, "-i", pkglist)
	}
	if comps != "" {
		args = append(args, "-g", comps)
	}
	if pkglist == "" {
		args = append(args, outdir)
	} else {
		args = append(args, repodir)
	}
	if err := runLogged(ctx, t, "createrepo.log", prog, args); err != nil {
		return nil, err
	}
	datadir := filepath.Join(outdir, "repodata")
	if pkglist == "" {
		msg := "This repo is empty because its tag has no content for this arch\n"
		if err := os.WriteFile(filepath.Join(datadir, "EMPTY_REPO"), []byte(msg), 0o644); err != nil {
			return nil, fmt.Errorf("builder: %w", err)
		}
	}
	entries, err := os.ReadDir(datadir)
	if err != nil {
		return nil, fmt.Errorf("builder: %w", err)
	}
	files := []any{}
	for _, e := range entries {
		if err := t.UploadFile(ctx, filepath.Join(datadir, e.Name()), ""); err != nil {
			return nil, err
		}
		files = append(files, e.Name())
	}
	return []any{t.UploadDir(), files}, nil
}

// repoSource is the arch's repo directory to run createrepo_c in, and
// the repo's comps.xml when it has one: under TopDir, or a copy of the
// pkglist and its packages downloaded into the task's directory.
func (c Createrepo) repoSource(ctx context.Context, t *Task, top, arch string) (dir, comps string, err error) {
	if c.TopDir != "" {
		dir = filepath.Join(c.TopDir, filepath.FromSlash(top), arch)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return "", "", Fail(koji.ErrGeneric, "Repo directory missing: %s", dir)
		}
		comps = filepath.Join(c.TopDir, filepath.FromSlash(top), "groups", "comps.xml")
		if _, err := os.Stat(comps); err != nil {
			comps = ""
		}
		return dir, comps, nil
	}
	dir = filepath.Join(t.WorkDir, "source", arch)
	pkglist := filepath.Join(dir, "pkglist")
	if err := t.Download(ctx, path.Join(top, arch, "pkglist"), pkglist); err != nil {
		var de *koji.DownloadError
		if errors.As(err, &de) {
			return "", "", Fail(koji.ErrGeneric, "Repo directory missing: %s (%v)", path.Join(top, arch), err)
		}
		return "", "", err
	}
	data, err := os.ReadFile(pkglist)
	if err != nil {
		return "", "", fmt.Errorf("builder: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		rel := strings.TrimSpace(sc.Text())
		if rel == "" {
			continue
		}
		clean := path.Clean(rel)
		if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
			return "", "", Fail(koji.ErrGeneric, "pkglist entry leaves the repo: %s", rel)
		}
		if err := t.Download(ctx, path.Join(top, arch, clean), filepath.Join(dir, filepath.FromSlash(clean))); err != nil {
			return "", "", err
		}
	}
	if err := sc.Err(); err != nil {
		return "", "", fmt.Errorf("builder: pkglist: %w", err)
	}
	comps = filepath.Join(t.WorkDir, "source", "groups", "comps.xml")
	if err := t.Download(ctx, path.Join(top, "groups", "comps.xml"), comps); err != nil {
		var de *koji.DownloadError
		if !errors.As(err, &de) {
			return "", "", err
		}
		comps = "" // the repo has none
	}
	return dir, comps, nil
}

// runLogged runs prog with its output in the task log name, sent as it
// grows, as kojid's log_output, killing it when ctx ends; a failure is
// kojid's GenericError "failed to create repo".
func runLogged(ctx context.Context, t *Task, name, prog string, args []string) error {
	log, err := t.Log(ctx, name)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Dir = t.WorkDir
	cmd.Stdout, cmd.Stderr = log, log
	killGroup(cmd)
	cmd.WaitDelay = 5 * time.Second
	runErr := cmd.Run()
	if err := log.Close(); err != nil && runErr == nil {
		return err
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if runErr != nil {
		return Fail(koji.ErrGeneric, "failed to create repo: %s %s: %v", prog, strings.Join(args, " "), runErr)
	}
	return nil
}
