package hubserver

import (
	"context"
	"slices"
	"time"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// listBuildFields are the columns listBuilds selects, with the store
// columns they order by.
var listBuildFields = []queryField{
	{"build_id", "build.id", "id"},
	{"version", "build.version", "version"},
	{"release", "build.release", "release"},
	{"epoch", "build.epoch", "epoch"},
	{"draft", "build.draft", "draft"},
	{"state", "build.state", "state"},
	{"completion_time", "build.completion_time", "completion_time"},
	{"promotion_time", "build.promotion_time", "promotion_time"},
	{"start_time", "build.start_time", "start_time"},
	{"source", "build.source", "source"},
	{"extra", "build.extra", "extra"},
	{"creation_event_id", "events.id", "create_event"},
	{"creation_time", "events.time", "creation_time"},
	{"task_id", "build.task_id", "task_id"},
	{"creation_ts", "date_part('epoch', events.time)", "creation_time"},
	{"start_ts", "date_part('epoch', build.start_time)", "start_time"},
	{"completion_ts", "date_part('epoch', build.completion_time)", "completion_time"},
	{"promotion_ts", "date_part('epoch', build.promotion_time)", "promotion_time"},
	{"package_id", "package.id", "package_id"},
	{"package_name", "package.name", "package_name"},
	{"name", "package.name", "package_name"},
	{"volume_id", "volume.id", "volume_id"},
	{"volume_name", "volume.name", "volume_name"},
	{"nvr", "package.name || '-' || build.version || '-' || build.release", "nvr"},
	{"owner_id", "users.id", "owner_id"},
	{"owner_name", "users.name", "owner_name"},
	{"promoter_id", "promoter.id", "promoter_id"},
	{"promoter_name", "promoter.name", "promoter_name"},
}

// typeBuildFields are the members a type filter adds to listBuilds' rows.
var typeBuildFields = map[string][]queryField{
	"maven": {
		{"maven_group_id", "maven_builds.group_id", "maven_group_id"},
		{"maven_artifact_id", "maven_builds.artifact_id", "maven_artifact_id"},
		{"maven_version", "maven_builds.version", "maven_version"},
	},
	"win": {{"platform", "win_builds.platform", "platform"}},
}

// listBuilds is RootExports.listBuilds: builds filtered by package, owner,
// task (-1: any), prefix, state, volume, source and NVR globs, creation,
// completion and promotion times, build type (with maven or win typeInfo),
// content generator, draft and promoter; queryOpts order, page, count or
// turn rows into lists.
func listBuilds(ctx context.Context, packageID, userID, taskID, prefix, state, volumeID, source,
	createdBefore, createdAfter, completeBefore, completeAfter, typ, typeInfo, queryOpts, pattern, cgID,
	draft, promotedBefore, promotedAfter, promoter any) (any, error) {
	tx := storeTx(ctx)
	var q store.BuildQuery
	none := []map[string]any{}
	if packageID != nil {
		id, err := lookupPackageID(ctx, tx, packageID)
		if id == 0 || err != nil {
			return none, err
		}
		q.PackageID = &id
	}
	for _, u := range []struct {
		v   any
		dst **int64
	}{{userID, &q.OwnerID}, {promoter, &q.PromoterID}} {
		if u.v == nil {
			continue
		}
		user, err := lookupUser(ctx, tx, u.v)
		if user == nil || err != nil {
			return none, err
		}
		*u.dst = &user.ID
	}
	for _, n := range []struct {
		v   any
		dst **int64
	}{{volumeID, &q.VolumeID}, {state, &q.State}} {
		if n.v == nil {
			continue
		}
		id, err := convertInt(n.v)
		if err != nil {
			return nil, err
		}
		*n.dst = &id
	}
	if taskID != nil {
		id, err := convertInt(taskID)
		if err != nil {
			return nil, err
		}
		if id == -1 {
			q.HasTask = true
		} else {
			q.TaskID = &id
		}
	}
	for _, g := range []struct {
		v     any
		dst   **string
		glob  bool
		truth bool
	}{{source, &q.Source, true, false}, {prefix, &q.Prefix, false, true}, {pattern, &q.Pattern, true, true}} {
		if g.v == nil || g.truth && !xmlrpc.Truthy(g.v) {
			continue
		}
		s, ok := g.v.(string)
		if !ok {
			return nil, convertError(g.v, "str")
		}
		if g.glob {
			s = globLike(s)
		}
		*g.dst = &s
	}
	for _, t := range []struct {
		v   any
		dst **time.Time
	}{{createdBefore, &q.CreatedBefore}, {createdAfter, &q.CreatedAfter}, {completeBefore, &q.CompleteBefore},
		{completeAfter, &q.CompleteAfter}, {promotedBefore, &q.PromotedBefore}, {promotedAfter, &q.PromotedAfter}} {
		if !xmlrpc.Truthy(t.v) {
			continue
		}
		when, err := listTaskTime(t.v)
		if err != nil {
			return nil, err
		}
		*t.dst = &when
	}
	if xmlrpc.Truthy(cgID) {
		cg, err := lookupName(ctx, tx, "content_generator", cgID, false, false)
		if cg == nil || err != nil {
			return none, err
		}
		q.CGID = &cg.ID
	}
	fields := listBuildFields
	if typ != nil {
		if err := buildTypeFilter(ctx, tx, &q, typ, typeInfo); err != nil {
			return nil, err
		}
		fields = slices.Concat(fields, typeBuildFields[q.Type])
	}
	if draft != nil {
		d := xmlrpc.Truthy(draft)
		q.Draft = &d
	}
	return queryBuildRows(ctx, tx, q, queryOpts, fields)
}

// buildTypeFilter reads listBuilds' type and typeInfo.
func buildTypeFilter(ctx context.Context, tx *store.Tx, q *store.BuildQuery, typ, typeInfo any) error {
	name, ok := typ.(string)
	if !ok {
		return fault(koji.ErrGeneric, "unsupported build type: %s", pyFormat(typ))
	}
	info, _ := typeInfo.(map[string]any)
	switch name {
	case "maven", "win", "image":
		q.Type = name
		if !xmlrpc.Truthy(typeInfo) {
			return nil
		}
		switch name {
		case "maven":
			q.Maven = &store.MavenBuildRow{}
			for key, dst := range map[string]*string{"group_id": &q.Maven.GroupID, "artifact_id": &q.Maven.ArtifactID, "version": &q.Maven.Version} {
				if v, ok := info[key]; ok {
					s, ok := v.(string)
					if !ok {
						return convertError(v, "str")
					}
					*dst = s
				}
			}
		case "win":
			v, ok := info["platform"]
			if !ok {
				return pyException("KeyError", "'platform'")
			}
			s, ok := v.(string)
			if !ok {
				return convertError(v, "str")
			}
			q.Platform = &s
		}
		return nil
	}
	bt, err := lookupName(ctx, tx, "btype", name, false, false)
	if err != nil {
		return err
	}
	if bt == nil {
		return fault(koji.ErrGeneric, "unsupported build type: %s", name)
	}
	q.BTypeID = &bt.ID
	return nil
}

// queryBuildRows runs a build query with queryOpts and answers the rows
// as listBuilds does.
func queryBuildRows(ctx context.Context, tx *store.Tx, q store.BuildQuery, queryOpts any, fields []queryField) (any, error) {
	qo, err := readQueryOpts(queryOpts)
	if err != nil {
		return nil, err
	}
	q.Offset, q.Limit = qo.Offset, qo.Limit
	if qo.CountOnly {
		return tx.CountBuilds(ctx, q)
	}
	if q.Order, err = qo.storeOrder(fields); err != nil {
		return nil, err
	}
	rows, err := tx.QueryBuilds(ctx, q)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, 0, len(rows))
	for i := range rows {
		r := &rows[i]
		m, err := buildFields(&r.BuildRow)
		if err != nil {
			return nil, err
		}
		if r.Maven != nil {
			m["maven_group_id"], m["maven_artifact_id"], m["maven_version"] = r.Maven.GroupID, r.Maven.ArtifactID, r.Maven.Version
		}
		if q.Type == "win" {
			m["platform"] = ptrValue(r.Platform)
		}
		out = append(out, m)
	}
	if qo.AsList {
		return asList(out, fields), nil
	}
	return out, nil
}
