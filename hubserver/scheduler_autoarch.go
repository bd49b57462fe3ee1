package hubserver

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// autoArchParams are the parameter names (koji.tasks' LEGACY_SIGNATURES)
// of the methods whose noarch tasks get automatic arch refusals, with the
// parameter naming the build tag (or, for wrapperRPM, the target).
var autoArchParams = map[string]struct {
	names []string
	tag   string
}{
	"buildArch":        {[]string{"pkg", "root", "arch", "keep_srpm", "opts"}, "root"},
	"buildMaven":       {[]string{"url", "build_tag", "opts"}, "build_tag"},
	"wrapperRPM":       {[]string{"spec_url", "build_target", "build", "task", "opts"}, "build_target"},
	"rebuildSRPM":      {[]string{"srpm", "build_tag", "opts"}, "build_tag"},
	"buildSRPMFromSCM": {[]string{"url", "build_tag", "opts"}, "build_tag"},
}

// autoArchRefuse is upstream's scheduler.auto_arch_refuse, which
// make_task calls for every new task: a noarch task of buildArch,
// buildMaven, wrapperRPM, rebuildSRPM or buildSRPMFromSCM gets a hard
// refusal "automatic arch refusal" for every enabled host of its channel
// none of whose arches is among its build tag's (getBuildConfig's arches,
// canonicalized). Problems are only logged, as upstream's, and the
// refusals' writes roll back to a savepoint when one fails so the task's
// transaction goes on.
func (k *Koji) autoArchRefuse(ctx context.Context, taskID, channelID int64, method, arch string, arglist []any) {
	spec, ok := autoArchParams[method]
	if arch != "noarch" || !ok {
		return
	}
	log := k.sched.logger(ctx)
	params, ok := taskParams(spec.names, arglist)
	if !ok {
		log.Warn(fmt.Sprintf("Invalid params for task %d", taskID))
		return
	}
	tx := storeTx(ctx)
	const sp = "auto_arch_refuse"
	if err := tx.Savepoint(ctx, sp); err != nil {
		log.Error(fmt.Sprintf("Error generating auto refusals for task %d", taskID), "error", err)
		return
	}
	err := k.autoArchRefusals(ctx, log, taskID, channelID, method, params[spec.tag])
	if err != nil {
		log.Error(fmt.Sprintf("Error generating auto refusals for task %d", taskID), "error", err)
		err = tx.RollbackToSavepoint(ctx, sp)
	}
	if err == nil {
		err = tx.ReleaseSavepoint(ctx, sp)
	}
	if err != nil {
		log.Error(fmt.Sprintf("Error generating auto refusals for task %d", taskID), "error", err)
	}
}

// autoArchRefusals is upstream's _auto_arch_refuse from the build tag on.
func (k *Koji) autoArchRefusals(ctx context.Context, log *slog.Logger, taskID, channelID int64, method string, tag any) error {
	if method == "wrapperRPM" {
		target, err := getBuildTarget(ctx, tag, nil, false)
		if err != nil {
			return err
		}
		if target == nil {
			log.Warn(fmt.Sprintf("Invalid target for task %d", taskID))
			return nil
		}
		tag = target.(map[string]any)["build_tag"]
	}
	taginfo, err := getTag(ctx, tag, false, nil, false)
	if err != nil {
		return err
	}
	if taginfo == nil {
		log.Warn(fmt.Sprintf("Invalid build tag for task %d", taskID))
		return nil
	}
	config, err := getBuildConfig(ctx, taginfo["id"], nil)
	if err != nil {
		return err
	}
	arches := hasArches(config["arches"])
	if arches == nil {
		return fmt.Errorf("AttributeError: 'NoneType' object has no attribute 'split'")
	}
	var tagArches []string
	for _, a := range strings.Fields(*arches) {
		tagArches = append(tagArches, koji.CanonArch(a))
	}
	if len(tagArches) == 0 {
		log.Warn(fmt.Sprintf("No arches for tag %s [%d]", taginfo["name"], taginfo["id"]))
		return nil
	}
	enabled := true
	hosts, err := listHosts(ctx, nil, channelID, nil, &enabled, nil, nil)
	if err != nil {
		return err
	}
	for _, h := range hosts {
		ha, _ := h["arches"].(string)
		hostArches := strings.Fields(ha)
		if !slices.ContainsFunc(hostArches, func(a string) bool { return slices.Contains(tagArches, a) }) {
			if err := k.sched.setRefusal(ctx, h["id"].(int64), taskID, false, false, "automatic arch refusal"); err != nil {
				return err
			}
		}
	}
	return nil
}

// taskParams is koji.tasks.parse_task_params for a signature with only
// its last parameter optional: the positional arguments and a trailing
// keyword struct (__starstar) by name; false for a call the signature
// does not take.
func taskParams(names []string, arglist []any) (map[string]any, bool) {
	args := arglist
	var kw map[string]any
	if n := len(args); n > 0 {
		if m, ok := args[n-1].(map[string]any); ok && xmlrpc.Truthy(m["__starstar"]) {
			args, kw = args[:n-1], m
		}
	}
	if len(args) > len(names) {
		return nil, false
	}
	out := map[string]any{}
	for i, a := range args {
		out[names[i]] = a
	}
	for k, v := range kw {
		if k == "__starstar" {
			continue
		}
		if _, dup := out[k]; dup || !slices.Contains(names, k) {
			return nil, false
		}
		out[k] = v
	}
	for _, n := range names[:len(names)-1] {
		if _, ok := out[n]; !ok {
			return nil, false
		}
	}
	return out, true
}
