package builder

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// NewRepo is kojid's newRepo handler (NewRepoTask), the task the hub's
// newRepo call and its repo queue create: host.repoInit makes the repo
// (INIT) and its directory, with a pkglist per arch; a createrepo
// subtask per arch (Createrepo) makes the arch's repodata; host.repoDone
// moves the uploaded repodata into place and makes the repo READY. Its
// result is kojid's, [repo_id, event_id].
type NewRepo struct {
	// TopDir (kojid.conf's topdir) is the hub's file tree as mounted on
	// this host, where the repo's arch directories are listed; when
	// empty, the arches are the build tag's, as the hub makes them.
	TopDir string
	// Createrepo is the createrepo_c program; "createrepo_c" from PATH
	// when empty. A host without it refuses the task, so that another
	// takes it.
	Createrepo string
}

// newRepoWeight is kojid's NewRepoTask._taskWeight.
const newRepoWeight = 0.1

// Methods is ["newRepo"].
func (NewRepo) Methods() []string { return []string{"newRepo"} }

// Weight is kojid's 0.1.
func (NewRepo) Weight(*Task) float64 { return newRepoWeight }

// lookCreaterepo finds createrepo_c, or refuses the task softly.
func lookCreaterepo(prog string) (string, error) {
	if prog == "" {
		prog = "createrepo_c"
	}
	p, err := exec.LookPath(prog)
	if err != nil {
		return "", Refuse(fmt.Sprintf("createrepo_c is not installed on this host: %v", err))
	}
	return p, nil
}

// Handle runs handler(tag, event=None, src=False, debuginfo=False,
// separate_src=False, opts=None).
func (n NewRepo) Handle(ctx context.Context, t *Task) (any, error) {
	a, err := t.args([]string{"tag", "event", "src", "debuginfo", "separate_src", "opts"}, 1)
	if err != nil {
		return nil, err
	}
	if _, err := lookCreaterepo(n.Createrepo); err != nil {
		return nil, err
	}
	opts, err := optsArg(t.Method, "opts", a["opts"])
	if err != nil {
		return nil, err
	}
	// The deprecated flags are repo options.
	for _, k := range []string{"src", "debuginfo", "separate_src"} {
		if xmlrpc.Truthy(a[k]) {
			opts[k] = true
		}
	}
	event := a["event"]
	var tag *struct {
		ID     int64   `xmlrpc:"id"`
		Name   string  `xmlrpc:"name"`
		Arches *string `xmlrpc:"arches"`
	}
	kw := map[string]any{"strict": true}
	if event != nil {
		kw["event"] = event
	}
	if err := t.Client.CallKw(ctx, "getTag", &tag, []any{a["tag"]}, kw); err != nil {
		return nil, err
	}
	if n.TopDir != "" {
		if st, err := os.Stat(filepath.Join(n.TopDir, "repos")); err != nil || !st.IsDir() {
			// A missing or wrong mount: another host may do better.
			return nil, Refuse(fmt.Sprintf("No access to repos dir %s", filepath.Join(n.TopDir, "repos")))
		}
	}
	initKw := map[string]any{"task_id": t.ID}
	if len(opts) > 0 {
		initKw["opts"] = opts
	}
	if event != nil {
		initKw["event"] = event
	}
	var ids []int64
	if err := t.Client.CallKw(ctx, "host.repoInit", &ids, []any{tag.ID}, initKw); err != nil {
		return nil, err
	}
	if len(ids) != 2 {
		return nil, fmt.Errorf("builder: host.repoInit answered %v, not [repo_id, event_id]", ids)
	}
	repoID, eventID := ids[0], ids[1]
	arches, err := n.arches(tag.Name, archList(tag.Arches), repoID, xmlrpc.Truthy(opts["separate_src"]))
	if err != nil {
		return nil, err
	}
	subtasks := make([]int, len(arches))
	for i, arch := range arches {
		if subtasks[i], err = t.Subtask(ctx, "createrepo", []any{repoID, arch, nil},
			&SubtaskOptions{Label: arch, Arch: "noarch"}); err != nil {
			return nil, err
		}
	}
	data := map[string]any{}
	if len(subtasks) > 0 {
		results, err := t.Wait(ctx, WaitOptions{Subtasks: subtasks, All: true, FailAny: true})
		if err != nil {
			return nil, err
		}
		for i, arch := range arches {
			var r []any
			if err := results[subtasks[i]].Decode(&r); err != nil {
				return nil, fmt.Errorf("builder: createrepo task %d's result: %w", subtasks[i], err)
			}
			data[arch] = r
		}
	}
	doneKw := map[string]any{}
	if event != nil {
		doneKw["expire"] = true // a repo of the past is not current
	}
	if err := t.Client.CallKw(ctx, "host.repoDone", nil, []any{repoID, data}, doneKw); err != nil {
		return nil, err
	}
	return []any{repoID, eventID}, nil
}

// arches are the repo's arch directories: those with a pkglist under
// TopDir, else those the hub makes, the tag's canonical arches (not
// noarch) and src for separate_src.
func (n NewRepo) arches(tag string, tagArches []string, repoID int64, separateSrc bool) ([]string, error) {
	if n.TopDir != "" {
		dir := koji.PathInfo{TopDir: n.TopDir}.Repo(int(repoID), tag)
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, Fail(koji.ErrGeneric, "Repo directory missing: %s", dir)
		}
		var out []string
		for _, e := range entries {
			if st, err := os.Stat(filepath.Join(dir, e.Name(), "pkglist")); e.Name() != "groups" && err == nil && st.Mode().IsRegular() {
				out = append(out, e.Name())
			}
		}
		return out, nil
	}
	var out []string
	if separateSrc {
		out = append(out, "src")
	}
	for _, a := range tagArches {
		if c := koji.CanonArch(a); c != "noarch" && c != "src" && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}
