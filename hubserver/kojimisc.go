package hubserver

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"

	"github.com/gokoji/gokoji/koji"
)

// miscMethods are upstream's listPackagesSimple, findBuildID,
// checkTagAccess, buildReferences, getBuildLogs and tagChangedSinceEvent.
func (k *Koji) miscMethods() []Method {
	return []Method{
		{
			Name: "listPackagesSimple", PyName: "RootExports.listPackagesSimple", Bound: true,
			Args: []Arg{{Name: "prefix", Default: None}, {Name: "queryOpts", Default: None}},
			Doc:  "list packages that starts with prefix and are filted and ordered by queryOpts.",
			Func: listPackagesSimple,
		},
		{
			Name: "findBuildID", PyName: "find_build_id",
			Args: []Arg{{Name: "X"}, {Name: "strict", Default: false}},
			Doc:  "gets build ID for various inputs",
			Func: findBuildIDMethod,
		},
		{
			Name: "checkTagAccess", PyName: "check_tag_access",
			Args: []Arg{{Name: "tag_id"}, {Name: "user_id", Default: None}},
			Doc:  "Determine if user has access to tag package with tag.",
			Func: checkTagAccess,
		},
		{
			Name: "buildReferences", PyName: "RootExports.buildReferences", Bound: true,
			Args: []Arg{{Name: "build"}, {Name: "limit", Default: None}, {Name: "lazy", Default: false}},
			Doc:  "Returns references to a build",
			Func: buildReferences,
		},
		{
			Name: "getBuildLogs", PyName: "get_build_logs",
			Args: []Arg{{Name: "build"}},
			Doc:  "Return a list of log files for the given build",
			Func: k.getBuildLogs,
		},
		{
			Name: "tagChangedSinceEvent", PyName: "tag_changed_since_event",
			Args: []Arg{{Name: "event"}, {Name: "taglist"}},
			Doc:  "Report whether any changes since event affect any of the tags in list",
			Func: tagChangedSinceEvent,
		},
	}
}

// listPackagesSimpleFields are listPackagesSimple's columns.
var listPackagesSimpleFields = []queryField{
	{Alias: "package_id", Column: "package.id"}, {Alias: "package_name", Column: "package.name"},
}

// listPackagesSimple is RootExports.listPackagesSimple: every package
// (package_id, package_name), or those whose names match prefix as
// "ILIKE prefix || '%'" does (the prefix's own % and _ match anything).
func listPackagesSimple(ctx context.Context, prefix any, queryOpts any) (any, error) {
	qo, err := readQueryOpts(queryOpts)
	if err != nil {
		return nil, err
	}
	var p *string
	switch v := prefix.(type) {
	case nil:
	case string:
		p = &v
	case int64, float64:
		s := pyFormat(v)
		p = &s
	default:
		return nil, pyException("psycopg2.ProgrammingError", "can't adapt type '%s'", pyTypeName(prefix))
	}
	pkgs, err := storeTx(ctx).ListPackagesLike(ctx, p)
	if err != nil {
		return nil, err
	}
	rows := make([]map[string]any, len(pkgs))
	for i, pk := range pkgs {
		rows[i] = map[string]any{"package_id": pk.ID, "package_name": pk.Name}
	}
	return queryRows(rows, qo, listPackagesSimpleFields)
}

// findBuildIDMethod is find_build_id as a hub method: an int comes back
// as given; None when there is no such build (with strict a
// GenericError).
func findBuildIDMethod(ctx context.Context, x any, strict bool) (any, error) {
	switch x.(type) {
	case int64, bool:
		return x, nil
	}
	id, err := findBuildID(ctx, storeTx(ctx), x, strict)
	if err != nil || id == 0 {
		return nil, err
	}
	return id, nil
}

// checkTagAccess is upstream's check_tag_access: [access, override,
// reason] for the user (the caller by default): a locked tag, or one
// whose permission the user lacks, is refused; override says the user is
// an admin, who may force it.
func checkTagAccess(ctx context.Context, tagID, userID any) (any, error) {
	if userID == nil {
		if id := callerID(ctx); id != 0 {
			userID = id
		} else {
			return nil, fault(koji.ErrGeneric, "a user_id is required")
		}
	}
	uid, err := convertInt(userID)
	if err != nil {
		return nil, err
	}
	tx := storeTx(ctx)
	perms, err := tx.EffectivePerms(ctx, uid)
	if err != nil {
		return nil, err
	}
	override := slices.Contains(perms, "admin")
	tag, err := strictTag(ctx, tx, tagID)
	if err != nil {
		return nil, err
	}
	if tag.Locked {
		return []any{false, override, "tag is locked"}, nil
	}
	if tag.PermID != nil && *tag.PermID != 0 && tag.Perm != nil && !slices.Contains(perms, *tag.Perm) {
		return []any{false, override, "tag requires " + *tag.Perm + " permission"}, nil
	}
	return []any{true, override, ""}, nil
}

// buildReferences is RootExports.buildReferences, upstream's
// build_references of get_build(build, strict=True): the tags holding
// the build (tags), the RPMs of COMPLETE builds made in buildroots that
// listed its RPMs (rpms), the archives of COMPLETE builds holding its
// RPMs or archives (component_of, also as images), the archives of
// COMPLETE builds made in buildroots that used its archives (archives),
// and when a standard buildroot last used them (last_used, seconds since
// the epoch). limit bounds each query and stops a kind once more than
// limit are found; lazy answers as soon as a kind has references, with
// the kinds read so far.
func buildReferences(ctx context.Context, build, limit any, lazy bool) (any, error) {
	tx := storeTx(ctx)
	b, err := lookupBuild(ctx, tx, build, true)
	if err != nil {
		return nil, err
	}
	var lim *int64
	if limit != nil {
		n, err := convertInt(limit)
		if err != nil {
			return nil, err
		}
		lim = &n
	}
	// queryLimit is a QueryProcessor limit option: none unless positive,
	// refused when negative.
	queryLimit := func() (int64, error) {
		if lim != nil && *lim < 0 {
			return 0, errors.New("LIMIT must not be negative")
		}
		if lim == nil {
			return 0, nil
		}
		return *lim, nil
	}
	over := func(n int) bool { return lim != nil && int64(n) > *lim }
	ret := map[string]any{}

	tags, err := tx.BuildTagRefs(ctx, b.ID)
	if err != nil {
		return nil, err
	}
	tagRefs := make([]map[string]any, len(tags))
	for i, t := range tags {
		tagRefs[i] = map[string]any{"tag_id": t.TagID, "name": t.Name}
	}
	ret["tags"] = tagRefs
	if lazy && len(tags) > 0 {
		return ret, nil
	}

	rpmIDs, err := tx.RPMIDsOfBuild(ctx, b.ID)
	if err != nil {
		return nil, err
	}
	archiveIDs, err := tx.ArchiveIDsOfBuild(ctx, b.ID)
	if err != nil {
		return nil, err
	}

	rpms := []map[string]any{}
	seen := map[int64]bool{}
	for _, id := range rpmIDs {
		refs, err := tx.RPMsBuiltWith(ctx, id, lim)
		if err != nil {
			return nil, err
		}
		for _, r := range refs {
			if !seen[r.ID] {
				seen[r.ID] = true
				rpms = append(rpms, map[string]any{"id": r.ID, "name": r.Name, "version": r.Version, "release": r.Release,
					"arch": r.Arch, "build_id": r.BuildID})
			}
		}
		if over(len(rpms)) {
			break
		}
	}
	ret["rpms"] = rpms
	if lazy && len(rpms) > 0 {
		return ret, nil
	}

	// holding appends the archives query finds holding each item.
	holding := func(componentOf, items []int64, query func(context.Context, int64, int64) ([]int64, error)) ([]int64, error) {
		for _, id := range items {
			n, err := queryLimit()
			if err != nil {
				return nil, err
			}
			ids, err := query(ctx, id, n)
			if err != nil {
				return nil, err
			}
			componentOf = append(componentOf, ids...)
		}
		return componentOf, nil
	}
	componentOf, err := holding([]int64{}, rpmIDs, tx.ArchivesHoldingRPM)
	if err != nil {
		return nil, err
	}
	ret["component_of"] = componentOf
	if lazy && len(componentOf) > 0 {
		return ret, nil
	}

	archives := []map[string]any{}
	seen = map[int64]bool{}
	for _, id := range archiveIDs {
		n, err := queryLimit()
		if err != nil {
			return nil, err
		}
		refs, err := tx.ArchivesBuiltWith(ctx, id, n)
		if err != nil {
			return nil, err
		}
		for _, a := range refs {
			if !seen[a.ID] {
				seen[a.ID] = true
				archives = append(archives, map[string]any{"id": a.ID, "type_id": a.TypeID, "type_name": a.TypeName,
					"build_id": a.BuildID, "filename": a.Filename})
			}
		}
		if over(len(archives)) {
			break
		}
	}
	ret["archives"] = archives
	if lazy && len(archives) > 0 {
		return ret, nil
	}

	if componentOf, err = holding(componentOf, archiveIDs, tx.ArchivesHoldingArchive); err != nil {
		return nil, err
	}
	ret["component_of"] = componentOf
	if lazy && len(componentOf) > 0 {
		return ret, nil
	}

	last, err := tx.BuildLastUsed(ctx, b.ID)
	if err != nil {
		return nil, err
	}
	ret["last_used"] = nil
	if last != nil {
		ret["last_used"] = float64(last.UnixMicro()) / 1e6
	}
	ret["images"] = componentOf
	return ret, nil
}

// getBuildLogs is upstream's get_build_logs: the regular files under the
// build's data/logs directory, each as name, dir (its directory relative
// to the logs directory, "." for the top) and path (under the top
// directory: <logs>/<dir>/<name>); symbolic links and other files are
// left out, and directories are walked top-down without following links,
// as os.walk walks them.
func (k *Koji) getBuildLogs(ctx context.Context, build any) (any, error) {
	b, err := lookupBuild(ctx, storeTx(ctx), build, true)
	if err != nil {
		return nil, err
	}
	logs := []any{}
	top, err := k.topDir()
	if err != nil {
		return logs, nil // the hub keeps no files
	}
	pi := koji.PathInfo{TopDir: top}
	logdir := pi.BuildLogs(&koji.Build{Name: b.PackageName, Version: b.Version, Release: b.Release, VolumeName: b.VolumeName})
	rel, err := filepath.Rel(top, logdir)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(logdir)
	if err != nil {
		return logs, nil
	}
	if !st.IsDir() {
		return nil, fault(koji.ErrGeneric, "Not a directory: %s", logdir)
	}
	var walk func(dir, sub string)
	walk = func(dir, sub string) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return // os.walk skips what it cannot list
		}
		var subdirs []string
		for _, e := range entries {
			switch {
			case e.Type().IsRegular():
				logs = append(logs, map[string]any{"name": e.Name(), "dir": sub, "path": rel + "/" + sub + "/" + e.Name()})
			case e.IsDir():
				subdirs = append(subdirs, e.Name())
			}
		}
		for _, d := range subdirs {
			next := d
			if sub != "." {
				next = sub + "/" + d
			}
			walk(filepath.Join(dir, d), next)
		}
	}
	walk(logdir, ".")
	return logs, nil
}

// tagChangedSinceEvent is upstream's tag_changed_since_event: whether a
// tag update after event, or a change of the tags' versioned data (tag
// listings, inheritance, configuration, extra, package lists, external
// repos, groups) after it, concerns one of the tags in taglist. No event
// (None) compares as SQL's NULL: nothing changed after it.
func tagChangedSinceEvent(ctx context.Context, event, taglist any) (any, error) {
	list, ok := taglist.([]any)
	if !ok {
		return nil, pyException("psycopg2.errors.SyntaxError", "syntax error at or near \"%s\"", pyFormat(taglist))
	}
	if len(list) == 0 {
		return nil, pyException("psycopg2.errors.SyntaxError", "syntax error at or near \")\"")
	}
	ids := make([]int64, len(list))
	for i, v := range list {
		n, err := convertInt(v)
		if err != nil {
			return nil, err
		}
		ids[i] = n
	}
	if event == nil {
		return false, nil
	}
	ev, err := convertInt(event)
	if err != nil {
		return nil, err
	}
	return storeTx(ctx).TagChangedSinceEvent(ctx, ev, ids)
}
