package hubserver

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/gokoji/gokoji/internal/policy"
	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// policyTests are the tests the hub's policies may use: the generic ones
// of koji/policy.py and kojihub.py's (has_perm, user, user_in_group,
// is_build_owner, method, is_child_task, operation, package,
// is_new_package, version, release, tag, fromtag, hastag, skip_tag,
// buildtag, buildtype, imported, volume, source, cg_match_any,
// cg_match_all, vm_name and policy).
func (k *Koji) policyTests() policy.Tests {
	tests := policy.Generic()
	maps := map[string]policy.Factory{
		"operation":     policy.MatchField("operation"),
		"method":        policy.MatchField("method"),
		"vm_name":       policy.MatchField("vm_name"),
		"is_child_task": policy.BoolField("parent"),
		"skip_tag": hubTest(func(_ context.Context, _ []string, data map[string]any) (bool, error) {
			return xmlrpc.Truthy(data["skip_tag"]), nil
		}),
		"has_perm":       hubTest(hasPermTest),
		"user_in_group":  hubTest(userInGroupTest),
		"is_build_owner": hubTest(isBuildOwnerTest),
		"user":           computedMatch("_username", policyUserName),
		"package":        computedMatch("_package", policyPackageName),
		"version":        computedMatch("_version", policyBuildField("version")),
		"release":        computedMatch("_release", policyBuildField("release")),
		"tag":            computedMatch("_tagname", policyTagName("tag")),
		"fromtag":        computedMatch("_tagname", policyTagName("fromtag")),
		"volume":         computedMatch("_volume", policyVolumeName),
		"source":         computedMatch("_source", policySource),
		"is_new_package": hubTest(func(ctx context.Context, _ []string, data map[string]any) (bool, error) {
			pkg, err := policyPackage(ctx, data)
			return err == nil && pkg["id"] == nil, err
		}),
		"hastag":       hubTest(hasTagTest),
		"buildtag":     hubTest(buildTagTest),
		"buildtype":    hubTest(buildTypeTest),
		"imported":     hubTest(importedTest),
		"cg_match_any": hubTest(cgMatchTest(false)),
		"cg_match_all": hubTest(cgMatchTest(true)),
		"policy":       k.policyTest,
	}
	for name, f := range maps {
		tests[name] = f
	}
	return tests
}

// hubTest makes a Factory of a test's function of its arguments (the
// words after its name) and the data.
func hubTest(run func(ctx context.Context, args []string, data map[string]any) (bool, error)) policy.Factory {
	return func(text string) (policy.Test, error) {
		b := policy.Base{Text: text}
		return &policy.Func{Base: b, F: func(ctx context.Context, data map[string]any) (bool, error) {
			return run(ctx, b.Args(), data)
		}}, nil
	}
}

// computedMatch is a MatchTest bound to field whose value value computes
// from the data first (false when it finds none), as upstream's
// PackageTest, TagTest, UserTest... set data[field] and match it.
func computedMatch(field string, value func(ctx context.Context, data map[string]any) (any, bool, error)) policy.Factory {
	return func(text string) (policy.Test, error) {
		m := &policy.MatchTest{Base: policy.Base{Text: text}, Field: field}
		return &policy.Func{Base: m.Base, F: func(ctx context.Context, data map[string]any) (bool, error) {
			v, ok, err := value(ctx, data)
			if err != nil || !ok {
				return false, err
			}
			data[field] = v
			return m.Run(ctx, data)
		}}, nil
	}
}

// policyUser is upstream's policy_get_user: the user of the data's
// user_id (nil for none such), else the logged-in user, else nil.
func policyUser(ctx context.Context, data map[string]any) (*store.User, error) {
	info, ok := data["user_id"]
	if !ok || info == nil {
		if callerID(ctx) == 0 {
			return nil, nil
		}
		info = callerID(ctx)
	}
	return lookupUser(ctx, storeTx(ctx), info)
}

func policyUserName(ctx context.Context, data map[string]any) (any, bool, error) {
	u, err := policyUser(ctx, data)
	if u == nil || err != nil {
		return nil, false, err
	}
	return u.Name, true, nil
}

// hasPermTest is HasPermTest: the user holds a permission (directly or
// through a group) matching one of the patterns.
func hasPermTest(ctx context.Context, args []string, data map[string]any) (bool, error) {
	u, err := policyUser(ctx, data)
	if u == nil || err != nil {
		return false, err
	}
	perms, err := storeTx(ctx).EffectivePerms(ctx, u.ID)
	if err != nil {
		return false, err
	}
	return anyMatch(perms, args)
}

// anyMatch reports whether one of names matches one of patterns.
func anyMatch(names []string, patterns []string) (bool, error) {
	for _, n := range names {
		if ok, err := policy.MatchAny(n, patterns); ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// userGroupNames are the names of the groups the user is in.
func userGroupNames(ctx context.Context, userID int64) ([]string, error) {
	groups, err := storeTx(ctx).UserGroups(ctx, userID, nil)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, g := range groups {
		if g.UserType == store.UserTypeGroup {
			out = append(out, g.Name)
		}
	}
	return out, nil
}

// userInGroupTest is UserInGroupTest: the user is in a group whose name
// matches one of the patterns.
func userInGroupTest(ctx context.Context, args []string, data map[string]any) (bool, error) {
	u, err := policyUser(ctx, data)
	if u == nil || err != nil {
		return false, err
	}
	groups, err := userGroupNames(ctx, u.ID)
	if err != nil {
		return false, err
	}
	return anyMatch(groups, args)
}

// policyDataBuild is get_build(data['build']) for the tests that
// require a build: KeyError without one, and (strict) GenericError for
// one that does not exist.
func policyDataBuild(ctx context.Context, data map[string]any, strict bool) (map[string]any, error) {
	info, ok := data["build"]
	if !ok {
		return nil, pyException("KeyError", "'build'")
	}
	b, err := getBuild(ctx, info, strict)
	if err == nil && b == nil {
		return nil, pyException("TypeError", "'NoneType' object is not subscriptable")
	}
	return b, err
}

// isBuildOwnerTest is IsBuildOwnerTest: the user owns the build, or is
// in the group owning it.
func isBuildOwnerTest(ctx context.Context, _ []string, data map[string]any) (bool, error) {
	b, err := policyDataBuild(ctx, data, false)
	if err != nil {
		return false, err
	}
	tx := storeTx(ctx)
	owner, err := lookupUser(ctx, tx, b["owner_id"])
	if err != nil {
		return false, err
	}
	u, err := policyUser(ctx, data)
	if u == nil || err != nil || owner == nil {
		return false, err
	}
	if owner.ID == u.ID {
		return true, nil
	}
	if owner.UserType == store.UserTypeGroup {
		groups, err := tx.UserGroups(ctx, u.ID, nil)
		if err != nil {
			return false, err
		}
		return slices.ContainsFunc(groups, func(g store.User) bool { return g.ID == owner.ID }), nil
	}
	return false, nil
}

// policyPackage is policy_get_pkg: the data's package ({id: None, name}
// for a name not known yet), else the build's.
func policyPackage(ctx context.Context, data map[string]any) (map[string]any, error) {
	if info, ok := data["package"]; ok {
		pkg, err := getPackage(ctx, info, false, false)
		if err != nil || pkg != nil {
			return pkg, err
		}
		if name, ok := info.(string); ok {
			return map[string]any{"id": nil, "name": name}, nil
		}
		return nil, fault(koji.ErrGeneric, "No such package: %s", pyFormat(info))
	}
	if info, ok := data["build"]; ok {
		b, err := getBuild(ctx, info, true)
		if err != nil {
			return nil, err
		}
		return map[string]any{"id": b["package_id"], "name": b["name"]}, nil
	}
	return nil, fault(koji.ErrGeneric, "policy requires package data")
}

func policyPackageName(ctx context.Context, data map[string]any) (any, bool, error) {
	pkg, err := policyPackage(ctx, data)
	if err != nil {
		return nil, false, err
	}
	return pkg["name"], true, nil
}

// policyBuildField is policy_get_version and policy_get_release: the
// data's field, else the build's.
func policyBuildField(field string) func(ctx context.Context, data map[string]any) (any, bool, error) {
	return func(ctx context.Context, data map[string]any) (any, bool, error) {
		if v, ok := data[field]; ok {
			return v, true, nil
		}
		if info, ok := data["build"]; ok {
			b, err := getBuild(ctx, info, true)
			if err != nil {
				return nil, false, err
			}
			return b[field], true, nil
		}
		return nil, false, fault(koji.ErrGeneric, "policy requires %s data", field)
	}
}

// policyTagName is TagTest.get_tag (and FromTagTest's): the name of the
// data's tag (or fromtag); none for no tag or one that does not exist.
func policyTagName(key string) func(ctx context.Context, data map[string]any) (any, bool, error) {
	return func(ctx context.Context, data map[string]any) (any, bool, error) {
		info := data[key]
		if info == nil {
			return nil, false, nil
		}
		t, err := getTag(ctx, info, false, nil, false)
		if t == nil || err != nil {
			return nil, false, err
		}
		return t["name"], true, nil
	}
}

// policyVolumeName is VolumeTest's volume: the data's (none for one
// that does not exist) or the build's.
func policyVolumeName(ctx context.Context, data map[string]any) (any, bool, error) {
	if info, ok := data["volume"]; ok {
		v, err := lookupVolume(ctx, info)
		if v == nil || err != nil {
			return nil, false, err
		}
		return v.Name, true, nil
	}
	if info, ok := data["build"]; ok {
		b, err := getBuild(ctx, info, false)
		if err != nil {
			return nil, false, err
		}
		if b == nil {
			return nil, false, pyException("TypeError", "'NoneType' object is not subscriptable")
		}
		return b["volume_name"], true, nil
	}
	return nil, false, nil
}

// policySource is SourceTest's source: the data's, the build's, or the
// source parameter of the build's task.
func policySource(ctx context.Context, data map[string]any) (any, bool, error) {
	if v, ok := data["source"]; ok {
		return v, true, nil
	}
	info, ok := data["build"]
	if !ok {
		return nil, false, nil
	}
	b, err := getBuild(ctx, info, false)
	if err != nil {
		return nil, false, err
	}
	if b == nil {
		return nil, false, pyException("TypeError", "'NoneType' object is not subscriptable")
	}
	if b["source"] != nil {
		return b["source"], true, nil
	}
	taskID, _ := b["task_id"].(int64)
	if b["task_id"] == nil {
		return nil, false, nil
	}
	t, err := storeTx(ctx).GetTask(ctx, taskID)
	if err != nil {
		return nil, false, err
	}
	info2, err := taskData(t, true)
	if err != nil {
		return nil, false, err
	}
	request, _ := info2["request"].([]any)
	params, err := koji.ParseTaskParams(t.Method, request)
	if err != nil {
		return nil, false, fault(koji.ErrParameter, "%v", err)
	}
	switch {
	case t.Method == "winbuild":
		return params["source_url"], true, nil
	case t.Method == "indirectionimage":
		return nil, false, nil
	case t.Method == "wrapperRPM":
		return params["spec_url"], true, nil
	}
	if v, ok := params["src"]; ok {
		return v, true, nil
	}
	if v, ok := params["url"]; ok {
		return v, true, nil
	}
	return nil, false, nil
}

// hasTagTest is HasTagTest: the build is (currently) in a tag matching
// one of the patterns.
func hasTagTest(ctx context.Context, args []string, data map[string]any) (bool, error) {
	info, ok := data["build"]
	if !ok {
		return false, nil
	}
	tags, err := listTags(ctx, info, nil, nil, nil, nil)
	if err != nil {
		return false, err
	}
	var names []string
	for _, t := range policyRows(tags) {
		if n, ok := t["name"].(string); ok {
			names = append(names, n)
		}
	}
	return anyMatch(names, args)
}

// policyRows are the rows of a list* helper's answer.
func policyRows(v any) []map[string]any {
	switch x := v.(type) {
	case []map[string]any:
		return x
	case []any:
		out := make([]map[string]any, 0, len(x))
		for _, r := range x {
			if m, ok := r.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}

// policyBuildroots is policy_get_brs: the data's buildroots, else those
// of the build's RPMs and archives; a nil entry for a component without
// one.
func policyBuildroots(ctx context.Context, data map[string]any) ([]any, error) {
	if v, ok := data["buildroots"]; ok {
		l, ok := v.([]any)
		if !ok {
			return nil, pyException("TypeError", "'%s' object is not iterable", koji.PyTypeName(v))
		}
		return uniq(l), nil
	}
	info, ok := data["build"]
	if !ok {
		return nil, nil
	}
	b, err := getBuild(ctx, info, true)
	if err != nil {
		return nil, err
	}
	rpms, err := listRPMs(ctx, b["id"], nil, nil, nil, nil, nil, nil, nil)
	if err != nil {
		return nil, err
	}
	archives, err := listArchives(ctx, b["id"], nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, false)
	if err != nil {
		return nil, err
	}
	var out []any
	for _, r := range append(policyRows(rpms), policyRows(archives)...) {
		out = append(out, r["buildroot_id"])
	}
	return uniq(out), nil
}

// uniq is set(l) for hashable values, in first-seen order.
func uniq(l []any) []any {
	seen := map[string]bool{}
	var out []any
	for _, v := range l {
		key := fmt.Sprintf("%T:%v", v, v)
		if !seen[key] {
			seen[key] = true
			out = append(out, v)
		}
	}
	return out
}

// policyBuildTagNames is policy_get_build_tags: the names of the data's
// build_tag or build_tags, else the build tag of its target, else the
// tags of its buildroots (a nil entry for a buildroot without one).
func policyBuildTagNames(ctx context.Context, data map[string]any) ([]any, error) {
	var names []any
	add := func(info any) error {
		t, err := getTag(ctx, info, true, "auto", false)
		if err != nil {
			return err
		}
		names = append(names, t["name"])
		return nil
	}
	if v, ok := data["build_tag"]; ok {
		if err := add(v); err != nil {
			return nil, err
		}
	} else if v, ok := data["build_tags"]; ok {
		l, _ := v.([]any)
		for _, t := range l {
			if err := add(t); err != nil {
				return nil, err
			}
		}
	}
	if len(names) == 0 && xmlrpc.Truthy(data["target"]) {
		target, err := getBuildTarget(ctx, data["target"], nil, false)
		if err != nil {
			return nil, err
		}
		if m, ok := target.(map[string]any); ok && m != nil {
			if err := add(m["build_tag"]); err != nil {
				return nil, err
			}
		}
	}
	if len(names) == 0 {
		brs, err := policyBuildroots(ctx, data)
		if err != nil {
			return nil, err
		}
		for _, br := range brs {
			if br == nil {
				names = append(names, nil)
				continue
			}
			info, err := getBuildroot(ctx, br, true)
			if err != nil {
				return nil, err
			}
			if n, ok := info["tag_name"].(string); ok && n != "" {
				names = append(names, n)
			}
		}
	}
	return uniq(names), nil
}

// buildTagTest is BuildTagTest: a build tag matches one of the
// patterns.
func buildTagTest(ctx context.Context, args []string, data map[string]any) (bool, error) {
	names, err := policyBuildTagNames(ctx, data)
	if err != nil {
		return false, err
	}
	for _, n := range names {
		if n == nil {
			continue
		}
		if ok, err := policy.MatchAny(n, args); ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// buildTypeTest is BuildTypeTest: one of the data's btypes, or of the
// build's types, matches one of the patterns.
func buildTypeTest(ctx context.Context, args []string, data map[string]any) (bool, error) {
	var types []string
	if v, ok := data["btypes"]; ok {
		l, _ := v.([]any)
		for _, t := range uniq(l) {
			s, ok := t.(string)
			if !ok {
				return policy.MatchAny(t, args)
			}
			types = append(types, s)
		}
	} else if info, ok := data["build"]; ok {
		b, err := getBuild(ctx, info, true)
		if err != nil {
			return false, err
		}
		bt, err := getBuildType(ctx, b, true)
		if err != nil {
			return false, err
		}
		if m, ok := bt.(map[string]any); ok {
			for t := range m {
				types = append(types, t)
			}
			slices.Sort(types)
		}
	}
	return anyMatch(types, args)
}

// importedTest is ImportedTest: an RPM or archive of the build has no
// buildroot.
func importedTest(ctx context.Context, _ []string, data map[string]any) (bool, error) {
	if !xmlrpc.Truthy(data["build"]) {
		return false, fault(koji.ErrGeneric, "policy data must contain a build")
	}
	b, err := getBuild(ctx, data["build"], true)
	if err != nil {
		return false, err
	}
	rpms, err := listRPMs(ctx, b["id"], nil, nil, nil, nil, nil, nil, nil)
	if err != nil {
		return false, err
	}
	archives, err := listArchives(ctx, b["id"], nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, false)
	if err != nil {
		return false, err
	}
	for _, r := range append(policyRows(rpms), policyRows(archives)...) {
		if r["buildroot_id"] == nil {
			return true, nil
		}
	}
	return false, nil
}

// cgMatchTest is CGMatchAnyTest (all false) and CGMatchAllTest: the
// content generators of the data's cg_list, or of the build's
// buildroots, match the patterns.
func cgMatchTest(all bool) func(ctx context.Context, args []string, data map[string]any) (bool, error) {
	return func(ctx context.Context, args []string, data map[string]any) (bool, error) {
		var cgs []any
		if v, ok := data["cg_list"]; ok {
			l, _ := v.([]any)
			for _, cg := range l {
				r, err := lookupName(ctx, storeTx(ctx), "content_generator", cg, true, false)
				if err != nil {
					return false, err
				}
				cgs = append(cgs, r.Name)
			}
		} else {
			brs, err := policyBuildroots(ctx, data)
			if err != nil {
				return false, err
			}
			for _, br := range brs {
				if br == nil {
					cgs = append(cgs, nil)
					continue
				}
				info, err := getBuildroot(ctx, br, true)
				if err != nil {
					return false, err
				}
				cgs = append(cgs, info["cg_name"])
			}
		}
		cgs = uniq(cgs)
		if all && len(cgs) == 0 {
			return false, nil
		}
		for _, cg := range cgs {
			if cg == nil {
				if all {
					return false, nil
				}
				continue
			}
			ok, err := policy.MatchAny(cg, args)
			if err != nil {
				return false, err
			}
			if ok && !all {
				return true, nil
			}
			if !ok && all {
				return false, nil
			}
		}
		return all, nil
	}
}

// runningPolicyTests are the policy tests being run by the call, for
// PolicyTest's loop detection.
type runningPolicyTests struct{}

// policyTest is PolicyTest: "policy name" is true when the named policy
// answers yes, true or allow; a policy running itself again is an error.
func (k *Koji) policyTest(text string) (policy.Test, error) {
	t := &policy.Func{Base: policy.Base{Text: text}}
	t.F = func(ctx context.Context, data map[string]any) (bool, error) {
		args := t.Args()
		if len(args) == 0 {
			return false, pyException("IndexError", "list index out of range")
		}
		running, _ := ctx.Value(runningPolicyTests{}).([]*policy.Func)
		if slices.Contains(running, t) {
			return false, fault(koji.ErrGeneric, "encountered policy loop at %s", text)
		}
		rs := k.policies[args[0]]
		if rs == nil {
			return false, fault(koji.ErrGeneric, "no such policy: %s", args[0])
		}
		ctx = context.WithValue(ctx, runningPolicyTests{}, append(slices.Clip(running), t))
		r, err := rs.Apply(ctx, data)
		if err != nil || !r.Matched {
			return false, err
		}
		switch strings.ToLower(r.Action) {
		case "yes", "true", "allow":
			return true, nil
		}
		return false, nil
	}
	return t, nil
}
