package builder

import (
	"context"
	"errors"
	"fmt"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// TagBuild is kojid's tagBuild handler (TagBuildTask), the task the hub's
// tagBuild call and a build's last step create: it tags the build with
// host.tagBuild and reports how that went with host.tagNotification,
// failing the task with the tagging's fault.
type TagBuild struct{}

// tagBuildWeight is kojid's TagBuildTask._taskWeight.
const tagBuildWeight = 0.1

// Methods is ["tagBuild"].
func (TagBuild) Methods() []string { return []string{"tagBuild"} }

// Weight is kojid's 0.1.
func (TagBuild) Weight(*Task) float64 { return tagBuildWeight }

// Handle runs handler(tag_id, build_id, force=False, fromtag=None,
// ignore_success=False).
func (TagBuild) Handle(ctx context.Context, t *Task) (any, error) {
	a, err := t.args([]string{"tag_id", "build_id", "force", "fromtag", "ignore_success"}, 2)
	if err != nil {
		return nil, err
	}
	var info *koji.Task
	if err := t.Client.Call(ctx, "getTaskInfo", &info, t.ID); err != nil {
		return nil, fmt.Errorf("builder: getTaskInfo: %w", err)
	}
	if info == nil {
		return nil, Fail(koji.ErrGeneric, "No such task: %d", t.ID)
	}
	tag, build, fromtag := a["tag_id"], a["build_id"], a["fromtag"]
	ignore := xmlrpc.Truthy(a["ignore_success"])
	err = func() error {
		if err := t.Client.CallKw(ctx, "getBuild", nil, []any{build}, map[string]any{"strict": true}); err != nil {
			return err
		}
		if err := t.Client.CallKw(ctx, "getTag", nil, []any{tag}, map[string]any{"strict": true}); err != nil {
			return err
		}
		return t.Client.CallKw(ctx, "host.tagBuild", nil, []any{t.ID, tag, build},
			map[string]any{"force": xmlrpc.Truthy(a["force"]), "fromtag": fromtag})
	}()
	if err == nil {
		return nil, t.Client.Call(ctx, "host.tagNotification", nil, true, tag, fromtag, build, info.Owner, ignore)
	}
	if ctx.Err() != nil {
		return nil, err
	}
	nerr := t.Client.Call(ctx, "host.tagNotification", nil, false, tag, fromtag, build, info.Owner, ignore, failureMsg(err))
	if nerr != nil {
		return nil, errors.Join(err, fmt.Errorf("builder: host.tagNotification: %w", nerr))
	}
	return nil, err
}

// failureMsg is kojid's "%s: %s" % (exctype, value) of an error: the
// fault's class and text.
func failureMsg(err error) string {
	var f *koji.Fault
	if errors.As(err, &f) {
		return fmt.Sprintf("<class 'koji.%s'>: %s", f.Class().Name(), f.String)
	}
	return fmt.Sprintf("<class 'Exception'>: %v", err)
}
