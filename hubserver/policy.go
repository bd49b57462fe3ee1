package hubserver

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/gokoji/gokoji/internal/policy"
	"github.com/gokoji/gokoji/koji"
)

// DefaultPolicies are upstream's default policies (kojixmlrpc.py's
// _default_policies), which KojiConfig.Policies overrides one by one: a
// policy absent from both is "missing", which check_policy allows unless
// KojiConfig.DenyMissingPolicy (so tag, for one, allows by default).
var DefaultPolicies = map[string]string{
	"build_rpm": `
            all :: allow
            `,
	"build_from_srpm": `
            has_perm admin :: allow
            all :: deny Only admin can do this via default policy
            `,
	"build_from_repo_id": `
            has_perm admin :: allow
            all :: deny Only admin can do this via default policy
            `,
	"build_from_scm": `
            has_perm admin :: allow
            # match scm_type CVS CVS+SSH && match scm_host scm.example.com && match scm_repository /cvs/example :: allow
            # match scm_type GIT GIT+SSH && match scm_host git.example.org && match scm_repository /example :: allow
            # match scm_type SVN SVN+SSH && match scm_host svn.example.org && match scm_repository /users/* :: allow
            all :: deny Only admin can do this via default policy
            `,
	"package_list": `
            has_perm admin :: allow
            has_perm tag :: allow
            all :: deny Only admin/tag can do this via default policy
            `,
	"channel": `
            has req_channel :: req
            is_child_task :: parent
            all :: use default
            `,
	"vm": `
            has_perm admin win-admin :: allow
            all :: deny Only admin/win-admin can do this via default policy
           `,
	"cg_import": `
            all :: allow
            `,
	"volume": `
            all :: DEFAULT
            `,
	"priority": `
            all :: stay
            `,
	"draft_promotion": `
            has_perm draft-promoter :: allow
            is_build_owner :: allow
            all :: deny Only draft-promoter and build owner can do this via default policy
            `,
}

// A PolicyError is a policy of KojiConfig.Policies (or DefaultPolicies)
// that does not parse, as OpenKoji reports it.
type PolicyError struct {
	Name string // the policy's name
	Err  error  // a *policy.SyntaxError
}

func (e *PolicyError) Error() string {
	return fmt.Sprintf("hubserver: policy %s: %v", e.Name, e.Err)
}

func (e *PolicyError) Unwrap() error { return e.Err }

// loadPolicies parses the configured policies over the defaults, as
// upstream's load_config and get_policy do.
func (k *Koji) loadPolicies() error {
	texts := maps.Clone(DefaultPolicies)
	maps.Copy(texts, k.cfg.Policies)
	tests := k.policyTests()
	k.policies = make(map[string]*policy.RuleSet, len(texts))
	for _, name := range slices.Sorted(maps.Keys(texts)) {
		rs, err := policy.Parse(texts[name], tests)
		if err != nil {
			return &PolicyError{Name: name, Err: err}
		}
		k.policies[name] = rs
	}
	return nil
}

// policyFault makes the errors of the policy package faults worded as
// upstream's exceptions.
func policyFault(err error) error {
	var pe *policy.Error
	if !errors.As(err, &pe) {
		return err
	}
	if pe.Class == "GenericError" {
		return fault(koji.ErrGeneric, "%s", pe.Message)
	}
	return pyException(pe.Class, "%s", pe.Message)
}

// checkPolicy is upstream's check_policy: whether the named policy
// allows data, and the reason its action gives. A missing policy allows
// unless DenyMissingPolicy, one that matches nothing takes def, and an
// action other than allow or deny is an error in policy (denied). With
// strict a denial is ActionNotAllowed "policy violation (name): reason"
// with the rule; with force an admin (the data's user) passes anyway.
func (k *Koji) checkPolicy(ctx context.Context, name string, data map[string]any, def string, strict, force bool) (bool, string, error) {
	if data == nil {
		data = map[string]any{}
	}
	var result, reason, lastRule string
	if rs := k.policies[name]; rs == nil {
		result = "allow"
		if k.cfg.DenyMissingPolicy {
			result = "deny"
		}
		reason = "missing policy"
	} else {
		r, err := rs.Apply(ctx, data)
		if err != nil {
			return false, "", policyFault(err)
		}
		if !r.Matched {
			result, reason = def, "not covered by policy"
		} else {
			// result.split(None, 1), padded with "".
			parts := append(policy.SplitN(r.Action, 2), "", "")
			result, reason = parts[0], parts[1]
		}
		lastRule = r.LastRule
	}
	if result == "allow" {
		return true, reason, nil
	}
	if result != "deny" {
		reason = "error in policy"
		LoggerFrom(ctx).ErrorContext(ctx, "Invalid action in policy", "policy", name, "rule", lastRule)
	}
	if force {
		user, err := policyUser(ctx, data)
		if err != nil {
			return false, "", err
		}
		if user != nil {
			perms, err := storeTx(ctx).EffectivePerms(ctx, user.ID)
			if err != nil {
				return false, "", err
			}
			if slices.Contains(perms, "admin") {
				LoggerFrom(ctx).InfoContext(ctx, "Policy overriden by force", "policy", name, "user", user.Name, "reason", reason)
				return true, "overriden by force", nil
			}
		}
	}
	if !strict {
		return false, reason, nil
	}
	msg := fmt.Sprintf("policy violation (%s)", name)
	if reason != "" {
		msg += ": " + reason
	}
	if lastRule != "" {
		msg += "\nrule: " + lastRule
	}
	return false, reason, fault(koji.ErrActionNotAllowed, "%s", msg)
}

// assertPolicy is upstream's assert_policy: checkPolicy, strict.
func (k *Koji) assertPolicy(ctx context.Context, name string, data map[string]any, force bool) error {
	_, _, err := k.checkPolicy(ctx, name, data, "deny", true, force)
	return err
}

// evalPolicy is upstream's eval_policy: the action of the named policy
// for data, nil when no rule matches; GenericError "no such policy" for
// a policy neither configured nor a default.
func (k *Koji) evalPolicy(ctx context.Context, name string, data map[string]any) (any, error) {
	rs := k.policies[name]
	if rs == nil {
		return nil, fault(koji.ErrGeneric, "no such policy: %s", name)
	}
	if data == nil {
		data = map[string]any{}
	}
	r, err := rs.Apply(ctx, data)
	if err != nil {
		return nil, policyFault(err)
	}
	if !r.Matched {
		return nil, nil
	}
	return r.Action, nil
}

const evalPolicyDoc = "Evaluate named policy with given data and return the result\n\n" +
	"        :param str name: the policy name\n" +
	"        :param dict data: the policy data\n" +
	"        :returns the action as a string\n" +
	"        :raises koji.GenericError if the policy is empty or not found\n        "

// policyMethods are the policy calls: HostExports' checkPolicy,
// assertPolicy and evalPolicy (a host's exclusive session) and
// RootExports.evalPolicy.
func (k *Koji) policyMethods() []Method {
	return []Method{
		{
			Name: "host.checkPolicy", PyName: "HostExports.checkPolicy", Bound: true,
			Args: []Arg{{Name: "name"}, {Name: "data"}, {Name: "default", Default: "deny"}, {Name: "strict", Default: false}},
			Func: func(ctx context.Context, name string, data map[string]any, def string, strict any) ([]any, error) {
				if _, err := callerHost(ctx); err != nil {
					return nil, err
				}
				ok, reason, err := k.checkPolicy(ctx, name, data, def, truthy(strict), false)
				if err != nil {
					return nil, err
				}
				return []any{ok, reason}, nil
			},
		},
		{
			Name: "host.assertPolicy", PyName: "HostExports.assertPolicy", Bound: true,
			Args: []Arg{{Name: "name"}, {Name: "data"}, {Name: "default", Default: "deny"}},
			Func: func(ctx context.Context, name string, data map[string]any, def string) error {
				if _, err := callerHost(ctx); err != nil {
					return err
				}
				_, _, err := k.checkPolicy(ctx, name, data, def, true, false)
				return err
			},
		},
		{
			Name: "host.evalPolicy", PyName: "HostExports.evalPolicy", Bound: true,
			Args: []Arg{{Name: "name"}, {Name: "data"}},
			Doc:  "Evaluate named policy with given data and return the result",
			Func: func(ctx context.Context, name string, data map[string]any) (any, error) {
				if _, err := callerHost(ctx); err != nil {
					return nil, err
				}
				return k.evalPolicy(ctx, name, data)
			},
		},
		{
			Name: "evalPolicy", PyName: "RootExports.evalPolicy", Bound: true,
			Args: []Arg{{Name: "name"}, {Name: "data"}},
			Doc:  evalPolicyDoc,
			Func: k.evalPolicy,
		},
	}
}
