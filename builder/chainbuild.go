package builder

import (
	"context"
	"fmt"
	"strings"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// ChainBuild is kojid's chainbuild handler (ChainBuildTask), the task of
// koji chain-build (the hub's chainBuild): handler(srcs, target,
// opts=None), where srcs are build levels, each a list of sources and
// N-V-Rs, run in order. Each level's sources become build subtasks
// (build(src, target, opts)), run in parallel and all awaited, failing
// at the first failure; its N-V-Rs, and the builds its sources made, are
// what the next level waits for: a waitrepo subtask of the target's
// build tag with those N-V-Rs (see Waitrepo) runs before it. Scratch
// chain builds are refused, as upstream refuses them.
//
// Upstream takes only SCM URLs as sources and the rest for N-V-Rs; since
// Build builds SRPMs uploaded to the work directory, a path ending in
// .src.rpm is a source too (the hub's chainBuild takes one; the koji CLI
// does not). An N-V-R is not looked up: as upstream, the waitrepo task
// waits for it to be built and tagged, failing at its timeout if it never
// is.
type ChainBuild struct{}

// chainBuildWeight is ChainBuildTask._taskWeight.
const chainBuildWeight = 0.1

// Methods is ["chainbuild"].
func (ChainBuild) Methods() []string { return []string{"chainbuild"} }

// Weight is kojid's 0.1: the task only waits for its subtasks.
func (ChainBuild) Weight(*Task) float64 { return chainBuildWeight }

// isChainSource is whether a chain build entry is something to build
// rather than an N-V-R.
func isChainSource(src string) bool { return isSCMURL(src) || strings.HasSuffix(src, ".src.rpm") }

// Handle runs handler(srcs, target, opts=None).
func (ChainBuild) Handle(ctx context.Context, t *Task) (any, error) {
	a, err := t.args([]string{"srcs", "target", "opts"}, 2)
	if err != nil {
		return nil, err
	}
	opts, err := optsArg(t.Method, "opts", a["opts"])
	if err != nil {
		return nil, err
	}
	if xmlrpc.Truthy(opts["scratch"]) {
		return nil, Fail(koji.ErrBuild, "--scratch is not allowed with chain-builds")
	}
	levels, err := chainLevels(a["srcs"])
	if err != nil {
		return nil, err
	}
	target := a["target"]
	var info *struct {
		BuildTagName string `xmlrpc:"build_tag_name"`
	}
	if err := t.Client.Call(ctx, "getBuildTarget", &info, target); err != nil {
		return nil, fmt.Errorf("builder: getBuildTarget: %w", err)
	}
	if info == nil {
		return nil, Fail(koji.ErrGeneric, "unknown build target: %v", target)
	}
	var nvrs []string
	for n, level := range levels {
		if len(nvrs) > 0 {
			args := []any{info.BuildTagName, nil, stringsAny(nvrs)}
			id, err := t.Subtask(ctx, "waitrepo", args, &SubtaskOptions{Label: fmt.Sprintf("wait %d", n)})
			if err != nil {
				return nil, err
			}
			if _, err := t.Wait(ctx, WaitOptions{Subtasks: []int{id}, All: true, FailAny: true}); err != nil {
				return nil, err
			}
		}
		nvrs = nil
		var builds []int
		for i, src := range level {
			if !isChainSource(src) {
				nvrs = append(nvrs, src) // the next level waits for it
				continue
			}
			id, err := t.Subtask(ctx, "build", []any{src, target, opts}, &SubtaskOptions{Label: fmt.Sprintf("build %d,%d", n, i)})
			if err != nil {
				return nil, err
			}
			builds = append(builds, id)
		}
		if len(builds) == 0 {
			continue // a level of N-V-Rs only
		}
		if _, err := t.Wait(ctx, WaitOptions{Subtasks: builds, All: true, FailAny: true}); err != nil {
			return nil, err
		}
		for _, id := range builds {
			var made []struct {
				NVR string `xmlrpc:"nvr"`
			}
			if err := t.Client.CallKw(ctx, "listBuilds", &made, nil, map[string]any{"taskID": id}); err != nil {
				return nil, fmt.Errorf("builder: listBuilds: %w", err)
			}
			if len(made) > 0 {
				nvrs = append(nvrs, made[0].NVR)
			}
		}
	}
	return nil, nil
}

// chainLevels reads srcs, a list of lists of strings.
func chainLevels(v any) ([][]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, Fail(koji.ErrParameter, "chainbuild: srcs must be a list of build levels, not %T", v)
	}
	levels := make([][]string, 0, len(list))
	for _, l := range list {
		entries, ok := l.([]any)
		if !ok {
			return nil, Fail(koji.ErrParameter, "chainbuild: build level %v is not a list", l)
		}
		level := make([]string, 0, len(entries))
		for _, e := range entries {
			s, ok := e.(string)
			if !ok {
				return nil, Fail(koji.ErrParameter, "chainbuild: build level entry %v is not a string", e)
			}
			level = append(level, s)
		}
		levels = append(levels, level)
	}
	return levels, nil
}

// stringsAny is l as a []any, for task arguments.
func stringsAny(l []string) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}
