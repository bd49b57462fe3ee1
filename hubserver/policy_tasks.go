package hubserver

import (
	"context"
	"errors"
	"strconv"

	"github.com/gokoji/gokoji/internal/policy"
	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
)

// policyDataFromTaskArgs is upstream's policy_data_from_task_args: the
// source (src, spec_url or url, but not newRepo's src), the target (by
// name; None for a None or nameless struct target) and scratch of a
// task's arguments; nothing for a call its method's signature does not
// take. strict is upstream's own: the target must exist and opts must be
// a struct. Without it, as make_task uses it, an unknown target is seen
// by the name given (gokoji makes the task and its builder fails it,
// where upstream's make_task faults "No such build target") and an opts
// that is not a struct counts as none.
func policyDataFromTaskArgs(ctx context.Context, method string, arglist []any, strict bool) (map[string]any, error) {
	out := map[string]any{}
	params, err := koji.ParseTaskParams(method, arglist)
	if err != nil || len(params) == 0 {
		if strict {
			LoggerFrom(ctx).WarnContext(ctx, "Cannot parse task parameters", "method", method, "error", err)
		}
		return out, nil
	}
	if method == "indirectionimage" {
		opts, _ := params["opts"].(map[string]any)
		if opts == nil {
			opts = map[string]any{}
		}
		params = map[string]any{}
		for k, v := range opts {
			params[k] = v
		}
		params["opts"] = opts
	}
	if method != "newRepo" {
		for _, k := range []string{"src", "spec_url", "url"} {
			if v, ok := params[k]; ok {
				if strict {
					if _, err := checkString(v, false); err != nil {
						return nil, err
					}
				} else if _, isStr := v.(string); !isStr {
					return nil, convertError(v, "str")
				}
				out["source"] = v
				break
			}
		}
	}
	for _, k := range []string{"target", "build_target", "target_info"} {
		target, ok := params[k]
		if !ok {
			continue
		}
		if m, isMap := target.(map[string]any); isMap {
			target = m["name"] // nil (a bad target) without a name
			if target == nil && strict {
				LoggerFrom(ctx).WarnContext(ctx, "Bad build target parameter", "target", pyRepr(m))
			}
		}
		if target == nil {
			out["target"] = nil
			break
		}
		info, err := getBuildTarget(ctx, target, nil, strict)
		if err != nil {
			return nil, err
		}
		if m, ok := info.(map[string]any); ok && m != nil {
			out["target"] = m["name"]
		} else if name, ok := target.(string); ok {
			out["target"] = name
		} else {
			out["target"] = nil
		}
		break
	}
	scratch := any(false)
	if opts, ok := params["opts"]; ok {
		m, isDict := opts.(map[string]any)
		if !isDict && strict {
			return nil, pyException("AttributeError", "'%s' object has no attribute 'get'", pyTypeName(opts))
		}
		if v, ok := m["scratch"]; ok {
			scratch = v
		}
	}
	out["scratch"] = scratch
	return out, nil
}

// policyDataFromTask is upstream's policy_data_from_task: the policy
// data of the task's own arguments.
func policyDataFromTask(ctx context.Context, taskID int64) (map[string]any, error) {
	t, err := getTask(ctx, taskID)
	if err != nil {
		return nil, err
	}
	request, err := decodeRequest(t.Request)
	if err != nil {
		return nil, err
	}
	return policyDataFromTaskArgs(ctx, t.Method, request, true)
}

// taskPolicies applies make_task's channel and priority policies to the
// task t being made: the policy data of info (its arch, parent, label
// and owner), the requested channel (req_channel, which must exist and
// be enabled) and the task's arguments. The channel policy's action is
// "use NAME" (an enabled channel), "parent" (a subtask's parent's
// channel), "req" (the requested one) or, without a match, the default
// channel; the priority policy's is "stay", "set N" or "adjust N".
func (k *Koji) taskPolicies(ctx context.Context, t *store.Task, info map[string]any, method string, arglist []any,
	reqChannel *string, parentChannel int64) error {
	tx := storeTx(ctx)
	data := map[string]any{"method": method, "user_id": info["owner"]}
	for _, key := range []string{"arch", "parent", "label", "owner"} {
		data[key] = info[key]
	}
	var reqID int64
	if reqChannel != nil {
		data["req_channel"] = *reqChannel
		c, err := lookupChannel(ctx, tx, *reqChannel)
		if err != nil {
			return err
		}
		if c == nil {
			return fault(koji.ErrGeneric, "No such channel: %s", *reqChannel)
		}
		if !c.Enabled {
			return fault(koji.ErrGeneric, "Channel %s is disabled.", *reqChannel)
		}
		reqID = c.ID
	}
	more, err := policyDataFromTaskArgs(ctx, method, arglist, false)
	if err != nil {
		return err
	}
	for key, v := range more {
		data[key] = v
	}
	log := LoggerFrom(ctx)

	r, err := k.applyPolicy(ctx, "channel", data)
	if err != nil {
		return err
	}
	invalid := func() error {
		log.ErrorContext(ctx, "Invalid result from channel policy", "rule", r.LastRule)
		return fault(koji.ErrGeneric, "invalid channel policy")
	}
	parts := policy.Fields(r.Action)
	switch {
	case !r.Matched:
		log.WarnContext(ctx, "Channel policy returned no result, using default")
		c, err := tx.GetChannelByName(ctx, "default")
		if errors.Is(err, store.ErrNotFound) {
			return fault(koji.ErrGeneric, "No such channel: default")
		} else if err != nil {
			return err
		}
		t.ChannelID = c.ID
	case len(parts) == 0:
		return invalid()
	case parts[0] == "use":
		if len(parts) < 2 {
			return invalid()
		}
		c, err := tx.GetChannelByName(ctx, parts[1])
		if errors.Is(err, store.ErrNotFound) {
			return fault(koji.ErrGeneric, "No such channel: %s", parts[1])
		} else if err != nil {
			return err
		}
		if !c.Enabled {
			return fault(koji.ErrGeneric, "Channel %s is disabled.", parts[1])
		}
		t.ChannelID = c.ID
	case parts[0] == "parent":
		if t.Parent == nil {
			return invalid()
		}
		t.ChannelID = parentChannel
	case parts[0] == "req":
		if reqChannel == nil {
			return invalid()
		}
		t.ChannelID = reqID
	default:
		return invalid()
	}

	r, err = k.applyPolicy(ctx, "priority", data)
	if err != nil {
		return err
	}
	if !r.Matched {
		log.WarnContext(ctx, "Priority policy returned no result, using default value", "priority", t.Priority)
		return nil
	}
	parts = policy.Fields(r.Action)
	var n int
	if len(parts) > 1 {
		n, err = strconv.Atoi(parts[1]) // Python's int() of "+1" or "-2"
	}
	switch {
	case len(parts) > 0 && parts[0] == "stay":
		return nil
	case len(parts) > 1 && err == nil && parts[0] == "set":
		t.Priority = n
	case len(parts) > 1 && err == nil && parts[0] == "adjust":
		t.Priority += n
	default:
		log.ErrorContext(ctx, "Invalid result from priority policy", "rule", r.LastRule)
		return fault(koji.ErrGeneric, "invalid priority policy")
	}
	info["priority"] = t.Priority
	return nil
}

// applyPolicy is ruleset.apply of a policy that must exist (channel and
// priority always do, as defaults).
func (k *Koji) applyPolicy(ctx context.Context, name string, data map[string]any) (policy.Result, error) {
	rs := k.policies[name]
	if rs == nil {
		return policy.Result{}, fault(koji.ErrGeneric, "no such policy: %s", name)
	}
	r, err := rs.Apply(ctx, data)
	if err != nil {
		return r, policyFault(err)
	}
	return r, nil
}
