package builder

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// args binds the task's parameters to the handler's parameter names, as
// kojid calls handler(*params, **opts): positional ones first, then
// keyword arguments by name; the first required names must be given, the
// others default to nil. Too many, unknown or repeated arguments fail
// with a ParameterError, as kojid's argument check.
func (t *Task) args(names []string, required int) (map[string]any, error) {
	if len(t.Params) > len(names) {
		return nil, Fail(koji.ErrParameter, "%s() takes at most %d arguments (%d given)", t.Method, len(names), len(t.Params))
	}
	out := make(map[string]any, len(names))
	for i, v := range t.Params {
		out[names[i]] = v
	}
	for k, v := range t.Opts {
		if !slices.Contains(names, k) {
			return nil, Fail(koji.ErrParameter, "%s() got an unexpected keyword argument '%s'", t.Method, k)
		}
		if _, dup := out[k]; dup {
			return nil, Fail(koji.ErrParameter, "%s() got multiple values for argument '%s'", t.Method, k)
		}
		out[k] = v
	}
	for _, n := range names[:required] {
		if _, ok := out[n]; !ok {
			return nil, Fail(koji.ErrParameter, "%s() missing required argument: '%s'", t.Method, n)
		}
	}
	return out, nil
}

// optsArg is a dict argument: nil and a false value are an empty dict.
func optsArg(method, name string, v any) (map[string]any, error) {
	if !xmlrpc.Truthy(v) {
		return map[string]any{}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, Fail(koji.ErrParameter, "%s: %s must be a dict, not %T", method, name, v)
	}
	return m, nil
}

// intArg reads an integer id argument.
func intArg(method, name string, v any) (int64, error) {
	n, ok := v.(int64)
	if !ok {
		return 0, Fail(koji.ErrParameter, "%s: %s must be an integer, not %T", method, name, v)
	}
	return n, nil
}

// hubHas reports whether the hub serves method (system.listMethods), for
// the calls a gokoji hub may lack, such as the buildroot ones.
func (t *Task) hubHas(ctx context.Context, method string) (bool, error) {
	var methods []string
	if err := t.Client.Call(ctx, "system.listMethods", &methods); err != nil {
		return false, fmt.Errorf("builder: system.listMethods: %w", err)
	}
	return slices.Contains(methods, method), nil
}

// buildConfig is getBuildConfig(tag, event): the tag's name, id, arches
// and extra, with inheritance.
type buildConfig struct {
	ID     int64          `xmlrpc:"id"`
	Name   string         `xmlrpc:"name"`
	Arches *string        `xmlrpc:"arches"`
	Extra  map[string]any `xmlrpc:"extra"`
}

// getBuildConfig is getBuildConfig(tag, event=event); a nil event is the
// current one.
func (t *Task) getBuildConfig(ctx context.Context, tag any, event *int64) (*buildConfig, error) {
	var bc *buildConfig
	var kw any
	if event != nil {
		kw = map[string]any{"event": *event}
	}
	if err := t.Client.CallKw(ctx, "getBuildConfig", &bc, []any{tag}, kw); err != nil {
		return nil, err
	}
	if bc == nil {
		return nil, Fail(koji.ErrGeneric, "No such tagInfo: %v", tag)
	}
	return bc, nil
}

// archList splits a space-separated arch list.
func archList(arches *string) []string {
	if arches == nil {
		return nil
	}
	return strings.Fields(*arches)
}
