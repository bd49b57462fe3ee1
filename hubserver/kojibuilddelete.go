package hubserver

import (
	"context"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// buildDeleteMethods are upstream's deleteBuild, resetBuild,
// setBuildOwner and setBuildTimestamp (admin).
func (k *Koji) buildDeleteMethods() []Method {
	return []Method{
		{
			Name: "deleteBuild", PyName: "delete_build",
			Args: []Arg{{Name: "build"}, {Name: "strict", Default: true}, {Name: "min_ref_age", Default: int64(604800)}},
			Doc:  "delete a build, if possible",
			Func: k.deleteBuild,
		},
		{
			Name: "resetBuild", PyName: "reset_build",
			Args: []Arg{{Name: "build"}},
			Doc:  "Reset a build so that it can be reimported",
			Func: k.resetBuild,
		},
		{
			Name: "setBuildOwner", PyName: "RootExports.setBuildOwner", Bound: true,
			Args: []Arg{{Name: "build"}, {Name: "user"}},
			Doc:  "Sets owner of a build",
			Func: k.setBuildOwner,
		},
		{
			Name: "setBuildTimestamp", PyName: "RootExports.setBuildTimestamp", Bound: true,
			Args: []Arg{{Name: "build"}, {Name: "ts"}},
			Doc:  "Set the completion time for a build",
			Func: k.setBuildTimestamp,
		},
	}
}

// pyList is Python's repr of a list of dicts, each given as its members
// in order.
func pyList(items [][]any) string {
	parts := make([]string, len(items))
	for i, kv := range items {
		var m []string
		for j := 0; j < len(kv); j += 2 {
			m = append(m, pyStr(kv[j].(string))+": "+pyRepr(kv[j+1]))
		}
		parts[i] = "{" + strings.Join(m, ", ") + "}"
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// buildRefsError is delete_build's check of build_references(build,
// limit=10, lazy=True): the first kind of reference found, as its
// GenericError; nil when the build may go.
func buildRefsError(ctx context.Context, id int64, minRefAge float64) (error, error) {
	v, err := buildReferences(ctx, id, int64(10), true)
	if err != nil {
		return nil, err
	}
	refs := v.(map[string]any)
	for _, kind := range []struct {
		key, what string
		fields    []string
	}{
		{"tags", "tagged", []string{"tag_id", "name"}},
		{"rpms", "used in buildroots", []string{"id", "name", "version", "release", "arch", "build_id"}},
		{"archives", "used in archive buildroots", []string{"id", "type_id", "type_name", "build_id", "filename"}},
	} {
		rows, _ := refs[kind.key].([]map[string]any)
		if len(rows) == 0 {
			continue
		}
		items := make([][]any, len(rows))
		for i, r := range rows {
			for _, f := range kind.fields {
				items[i] = append(items[i], f, r[f])
			}
		}
		return fault(koji.ErrGeneric, "Cannot delete build, %s: %s", kind.what, pyList(items)), nil
	}
	if holders, _ := refs["component_of"].([]int64); len(holders) > 0 {
		list := make([]any, len(holders))
		for i, h := range holders {
			list[i] = h
		}
		return fault(koji.ErrGeneric, "Cannot delete build, used as component of: %s", pyRepr(list)), nil
	}
	if last, ok := refs["last_used"].(float64); ok && pyTS(time.Now())-last < minRefAge {
		return fault(koji.ErrGeneric, "Cannot delete build, used in recent buildroot"), nil
	}
	return nil, nil
}

// removeBuildDir removes koji.pathinfo.build(b) when the hub has a top
// directory.
func (k *Koji) removeBuildDir(b *store.BuildRow) error {
	top, err := k.topDir()
	if err != nil {
		return nil // no files kept
	}
	pi := koji.PathInfo{TopDir: top}
	return os.RemoveAll(pi.Build(&koji.Build{Name: b.PackageName, Version: b.Version, Release: b.Release, VolumeName: b.VolumeName}))
}

// deleteBuild is upstream's delete_build: an unreferenced build (no tag,
// no buildroot using its RPMs or archives, none used within min_ref_age
// seconds) becomes DELETED, its signatures and files gone; a referenced
// one is refused (a GenericError with strict, else False); a deleted
// one answers None.
func (k *Koji) deleteBuild(ctx context.Context, build, strict, minRefAge any) (any, error) {
	if err := assertPerm(ctx, "admin"); err != nil {
		return nil, err
	}
	tx := storeTx(ctx)
	b, err := lookupBuild(ctx, tx, build, true)
	if err != nil {
		return nil, err
	}
	if b.State == store.BuildDeleted {
		return nil, nil
	}
	age := math.Inf(1)
	if minRefAge != nil {
		age = toFloat(minRefAge)
	}
	refused, err := buildRefsError(ctx, b.ID, age)
	if err != nil {
		return nil, err
	}
	if refused != nil {
		if xmlrpc.Truthy(strict) {
			return nil, refused
		}
		return false, nil
	}
	info, err := getBuildInfo(ctx, tx, b.ID)
	if err != nil {
		return nil, err
	}
	if err := k.buildStateCallbacks(ctx, "preBuildStateChange", b.State, store.BuildDeleted, info); err != nil {
		return nil, err
	}
	if err := tx.DeleteBuild(ctx, b.ID, callerID(ctx)); err != nil {
		return nil, err
	}
	if err := k.removeBuildDir(b); err != nil {
		return nil, err
	}
	if info, err = getBuildInfo(ctx, tx, b.ID); err != nil {
		return nil, err
	}
	if err := k.buildStateCallbacks(ctx, "postBuildStateChange", b.State, store.BuildDeleted, info); err != nil {
		return nil, err
	}
	who := ""
	if u, err := tx.GetUser(ctx, callerID(ctx)); err == nil {
		who = u.Name
	}
	k.logger().Warn(fmt.Sprintf("Build %s is deleted by %s", b.NVR(), who))
	return true, nil
}

// resetBuild is upstream's reset_build: the build's RPMs, archives, type
// rows and tag listings are deleted and it becomes CANCELED without a
// task on the DEFAULT volume, its files gone; no such build is None.
func (k *Koji) resetBuild(ctx context.Context, build any) (any, error) {
	if err := assertPerm(ctx, "admin"); err != nil {
		return nil, err
	}
	tx := storeTx(ctx)
	b, err := lookupBuild(ctx, tx, build, false)
	if err != nil || b == nil {
		return nil, err
	}
	info, err := getBuildInfo(ctx, tx, b.ID)
	if err != nil {
		return nil, err
	}
	if err := k.buildStateCallbacks(ctx, "preBuildStateChange", b.State, store.BuildCanceled, info); err != nil {
		return nil, err
	}
	if err := tx.ResetBuild(ctx, b.ID); err != nil {
		return nil, err
	}
	if err := k.removeBuildDir(b); err != nil {
		return nil, err
	}
	if info, err = getBuildInfo(ctx, tx, b.ID); err != nil {
		return nil, err
	}
	return nil, k.buildStateCallbacks(ctx, "postBuildStateChange", b.State, store.BuildCanceled, info)
}

// setBuildOwner is RootExports.setBuildOwner: the build's owner becomes
// the user, with owner_id callbacks (both given the build as it was).
func (k *Koji) setBuildOwner(ctx context.Context, build, user any) (any, error) {
	if err := assertPerm(ctx, "admin"); err != nil {
		return nil, err
	}
	tx := storeTx(ctx)
	b, err := lookupBuild(ctx, tx, build, true)
	if err != nil {
		return nil, err
	}
	u, err := strictUser(ctx, tx, user)
	if err != nil {
		return nil, err
	}
	info, err := getBuildInfo(ctx, tx, b.ID)
	if err != nil {
		return nil, err
	}
	kw := map[string]any{"attribute": "owner_id", "old": b.Owner, "new": u.ID, "info": info}
	if err := k.runCallbacks(ctx, "preBuildStateChange", kw); err != nil {
		return nil, err
	}
	if err := tx.SetBuildOwner(ctx, b.ID, u.ID); err != nil {
		return nil, err
	}
	return nil, k.runCallbacks(ctx, "postBuildStateChange", kw)
}

// setBuildTimestamp is RootExports.setBuildTimestamp: the build's
// completion time becomes ts, seconds since the epoch (an XML-RPC
// dateTime is read as UTC), with completion_ts callbacks.
func (k *Koji) setBuildTimestamp(ctx context.Context, build, ts any) (any, error) {
	if err := assertPerm(ctx, "admin"); err != nil {
		return nil, err
	}
	tx := storeTx(ctx)
	b, err := lookupBuild(ctx, tx, build, true)
	if err != nil {
		return nil, err
	}
	var secs float64
	switch v := ts.(type) {
	case time.Time:
		secs = float64(v.Unix())
		ts = secs
	case int64, float64, bool:
		secs = toFloat(v)
	default:
		return nil, fault(koji.ErrGeneric, "Invalid type for timestamp")
	}
	info, err := getBuildInfo(ctx, tx, b.ID)
	if err != nil {
		return nil, err
	}
	old := info["completion_ts"]
	if err := k.runCallbacks(ctx, "preBuildStateChange",
		map[string]any{"attribute": "completion_ts", "old": old, "new": ts, "info": info}); err != nil {
		return nil, err
	}
	at := time.UnixMicro(int64(math.Round(secs * 1e6))).UTC()
	if err := tx.SetBuildCompletion(ctx, b.ID, at); err != nil {
		return nil, err
	}
	if info, err = getBuildInfo(ctx, tx, b.ID); err != nil {
		return nil, err
	}
	return nil, k.runCallbacks(ctx, "postBuildStateChange",
		map[string]any{"attribute": "completion_ts", "old": old, "new": ts, "info": info})
}
