package hubserver

import (
	"context"
	"errors"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gokoji/gokoji/internal/rpm"
	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// rpmHeaderMethods are upstream's methods reading the headers of RPM
// files: getRPMHeaders and getChangelogEntries (from a build's RPM in the
// packages directory, or a task's output file).
func (k *Koji) rpmHeaderMethods() []Method {
	return []Method{
		{
			Name: "getRPMHeaders", PyName: "RootExports.getRPMHeaders", Bound: true,
			Args: []Arg{{Name: "rpmID", Default: None}, {Name: "taskID", Default: None}, {Name: "filepath", Default: None},
				{Name: "headers", Default: None}, {Name: "strict", Default: false}},
			Func: k.getRPMHeaders,
		},
		{
			Name: "getChangelogEntries", PyName: "RootExports.getChangelogEntries", Bound: true,
			Args: []Arg{{Name: "buildID", Default: None}, {Name: "taskID", Default: None}, {Name: "filepath", Default: None},
				{Name: "author", Default: None}, {Name: "before", Default: None}, {Name: "after", Default: None},
				{Name: "queryOpts", Default: None}, {Name: "strict", Default: false}},
			Func: k.getChangelogEntries,
		},
	}
}

// buildFilePath is where the hub keeps a build's file: top joined with
// koji.pathinfo.build(build) and rel.
func buildFilePath(top string, b *store.BuildRow, rel string) string {
	pi := koji.PathInfo{TopDir: top}
	return pi.Build(&koji.Build{Name: b.PackageName, Version: b.Version, Release: b.Release, VolumeName: b.VolumeName}) + "/" + rel
}

// rpmRelPath is koji.pathinfo.rpm of an RPM: <arch>/<nvra>.rpm.
func rpmRelPath(name, version, release, arch string) string {
	return arch + "/" + name + "-" + version + "-" + release + "." + arch + ".rpm"
}

// taskFilePath is the path of filepath in the task's work directory, as
// getRPMHeaders and getChangelogEntries build it, with their checks.
func (k *Koji) taskFilePath(taskID, filepath any) (string, error) {
	fp, _ := filepath.(string)
	if !xmlrpc.Truthy(filepath) {
		return "", fault(koji.ErrGeneric, "filepath must be specified with taskID")
	}
	if _, ok := filepath.(string); !ok {
		return "", pyException("AttributeError", "'%s' object has no attribute 'startswith'", pyTypeName(filepath))
	}
	if strings.HasPrefix(fp, "/") || strings.Contains(fp, "../") {
		return "", fault(koji.ErrGeneric, "Invalid filepath: %s", fp)
	}
	id, err := taskIDValue(taskID)
	if err != nil {
		return "", err
	}
	top, err := k.topDir()
	if err != nil {
		return "", err
	}
	return workDir(top, "") + "/" + taskRelPath(id) + "/" + fp, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// getRPMHeaders is upstream's RootExports.getRPMHeaders: the named header
// fields (all the header's when headers is None) of an internal RPM of a
// build that is not deleted, or of a task's output file; {} when the RPM
// or file is missing, unless strict.
func (k *Koji) getRPMHeaders(ctx context.Context, rpmID, taskID, filepath, headers any, strict bool) (any, error) {
	var path string
	switch {
	case xmlrpc.Truthy(rpmID):
		info, err := getRPM(ctx, rpmID, strict, false)
		if err != nil {
			return nil, err
		}
		r, _ := info.(map[string]any)
		if r == nil {
			return map[string]any{}, nil
		}
		if r["external_repo_id"] != int64(0) {
			if strict {
				return nil, fault(koji.ErrGeneric, "External rpm: %s", pyFormat(r["id"]))
			}
			return map[string]any{}, nil
		}
		b, err := lookupBuild(ctx, storeTx(ctx), r["build_id"], true)
		if err != nil {
			return nil, err
		}
		if b.State == store.BuildDeleted {
			if strict {
				return nil, fault(koji.ErrGeneric, "Build %s is deleted", b.NVR())
			}
			return map[string]any{}, nil
		}
		top, err := k.topDir()
		if err != nil {
			return nil, err
		}
		path = buildFilePath(top, b, rpmRelPath(r["name"].(string), r["version"].(string), r["release"].(string), r["arch"].(string)))
		if !fileExists(path) {
			if strict {
				return nil, fault(koji.ErrGeneric, "Missing rpm file: %s", path)
			}
			LoggerFrom(ctx).Error("Missing rpm file: " + path)
			return map[string]any{}, nil
		}
	case xmlrpc.Truthy(taskID):
		var err error
		if path, err = k.taskFilePath(taskID, filepath); err != nil {
			return nil, err
		}
		if !fileExists(path) {
			if strict {
				return nil, fault(koji.ErrGeneric, "Missing rpm file: %s", path)
			}
			return map[string]any{}, nil
		}
	default:
		return nil, fault(koji.ErrGeneric, "either rpmID or taskID and filepath must be specified")
	}
	p, err := readRPM(path)
	if err != nil {
		return nil, err
	}
	var names []any
	switch h := headers.(type) {
	case nil:
		for _, tag := range p.MergedTags() {
			name := rpm.FieldName(tag)
			if name == "" {
				return nil, pyException("KeyError", "%d", tag)
			}
			names = append(names, name)
		}
	case []any:
		names = h
	case string:
		for _, c := range h {
			names = append(names, string(c))
		}
	default:
		return nil, pyException("TypeError", "'%s' object is not iterable", pyTypeName(headers))
	}
	out := map[string]any{}
	for _, n := range names {
		name, ok := n.(string)
		if !ok {
			return nil, pyException("AttributeError", "'%s' object has no attribute 'upper'", pyTypeName(n))
		}
		v, err := headerField(p, name)
		if err != nil {
			return nil, err
		}
		out[removeNonprintable(name)] = fixEncodingValue(v)
	}
	return out, nil
}

// headerField is koji.get_header_field: the upper-cased field, the
// 64-bit size tags standing in for missing 32-bit ones, and byte values
// decoded to str when they are UTF-8 (except for the SIG* fields).
func headerField(p *rpm.Package, name string) (any, error) {
	name = strings.ToUpper(name)
	v, err := p.Field(name)
	switch {
	case errors.Is(err, rpm.ErrNoSuchField):
		return nil, fault(koji.ErrGeneric, "No such rpm header field: %s", name)
	case err != nil:
		return nil, fault(koji.ErrGeneric, "%v", err)
	}
	if slices.Contains([]string{"SIZE", "ARCHIVESIZE", "FILESIZES", "SIGSIZE"}, name) {
		if l, ok := v.([]any); v == nil || ok && len(l) == 0 {
			if long, err := p.Field("LONG" + name); err == nil {
				v = long
			}
		}
	}
	if strings.HasPrefix(name, "SIG") {
		return v, nil
	}
	return decodeItem(v), nil
}

// decodeItem is koji's _decode_item: bytes that are UTF-8 become str.
func decodeItem(v any) any {
	switch x := v.(type) {
	case []byte:
		if utf8.Valid(x) {
			return string(x)
		}
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = decodeItem(e)
		}
		return out
	}
	return v
}

// removeNonprintable is koji.removeNonprintable: control characters
// other than tab, newline and carriage return are dropped.
func removeNonprintable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 32 && r != '\t' && r != '\n' && r != '\r' {
			return -1
		}
		return r
	}, s)
}

// fixEncodingValue is koji.fixEncodingRecurse(v, remove_nonprintable=True)
// on a header value: every str, in lists and dicts too, without its
// nonprintable characters; bytes and numbers as they are.
func fixEncodingValue(v any) any {
	switch x := v.(type) {
	case string:
		return removeNonprintable(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = fixEncodingValue(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for key, e := range x {
			out[removeNonprintable(key)] = fixEncodingValue(e)
		}
		return out
	}
	return v
}

// getChangelogEntries is upstream's RootExports.getChangelogEntries: the
// changelog of the build's SRPM or of a task's SRPM, newest first as the
// header has it, filtered by author and by time (before and after: a
// datetime, a "YYYY-MM-DD[ HH:MM:SS]" string in UTC or seconds), with
// _applyQueryOpts' order, offset, limit and countOnly, or lists with
// asList.
func (k *Koji) getChangelogEntries(ctx context.Context, buildID, taskID, filepath, author, before, after, queryOpts any,
	strict bool) (any, error) {
	opts, ok := queryOpts.(map[string]any)
	if queryOpts != nil && !ok {
		return nil, pyException("AttributeError", "'%s' object has no attribute 'get'", pyTypeName(queryOpts))
	}
	if opts == nil {
		opts = map[string]any{}
	}
	if o, ok := opts["order"].(string); ok && (o == "date" || o == "-date") {
		opts["order"] = strings.Replace(o, "date", "date_ts", 1)
	}
	var path string
	switch {
	case xmlrpc.Truthy(buildID):
		tx := storeTx(ctx)
		b, err := lookupBuild(ctx, tx, buildID, false)
		if err != nil {
			return nil, err
		}
		if b == nil {
			if strict {
				return nil, fault(koji.ErrGeneric, "No such build: %s", pyFormat(buildID))
			}
			return applyQueryOpts(nil, opts)
		}
		srpms, err := tx.QueryRPMs(ctx, store.RPMQuery{BuildID: &b.ID, Arches: []string{"src"}})
		if err != nil {
			return nil, err
		}
		if len(srpms) == 0 {
			if strict {
				return nil, fault(koji.ErrGeneric, "Build %s doesn't have srpms", pyFormat(buildID))
			}
			return applyQueryOpts(nil, opts)
		}
		top, err := k.topDir()
		if err != nil {
			return nil, err
		}
		s := srpms[0]
		path = buildFilePath(top, b, rpmRelPath(s.Name, s.Version, s.Release, s.Arch))
	case xmlrpc.Truthy(taskID):
		var err error
		if path, err = k.taskFilePath(taskID, filepath); err != nil {
			return nil, err
		}
	default:
		return nil, fault(koji.ErrGeneric, "either buildID or taskID and filepath must be specified")
	}
	if !fileExists(path) {
		if strict {
			return nil, fault(koji.ErrGeneric, "SRPM %s doesn't exist", path)
		}
		return applyQueryOpts(nil, opts)
	}
	var bounds [2]*int64
	for i, v := range []any{before, after} {
		t, err := changelogBound([]string{"before", "after"}[i], v)
		if err != nil {
			return nil, err
		}
		bounds[i] = t
	}
	p, err := readRPM(path)
	if err != nil {
		return nil, err
	}
	times, _ := p.Field("CHANGELOGTIME")
	names, _ := p.Field("CHANGELOGNAME")
	texts, _ := p.Field("CHANGELOGTEXT")
	tl, nl, xl := times.([]any), names.([]any), texts.([]any)
	asList := xmlrpc.Truthy(opts["asList"])
	var rows []any
	for i := 0; i < len(tl) && i < len(nl) && i < len(xl); i++ {
		cltime, _ := tl[i].(int64)
		clname, _ := nl[i].(string)
		cltext, _ := xl[i].(string)
		if xmlrpc.Truthy(author) && author != any(clname) {
			continue
		}
		if bounds[0] != nil && cltime >= *bounds[0] {
			continue
		}
		if bounds[1] != nil && cltime <= *bounds[1] {
			continue
		}
		cldate := time.Unix(cltime, 0).In(time.Local).Format("2006-01-02 15:04:05")
		if asList {
			rows = append(rows, []any{cldate, clname, cltext})
		} else {
			rows = append(rows, map[string]any{"date": cldate, "date_ts": cltime, "author": clname, "text": cltext})
		}
	}
	res, err := applyQueryOpts(rows, opts)
	if err != nil {
		return nil, err
	}
	return fixEncodingValue(res), nil
}

var (
	dateRE = regexp.MustCompile(`(\d+)-(\d+)-(\d+)`)
	timeRE = regexp.MustCompile(`(\d+):(\d+):(\d+)`)
)

// changelogBound reads getChangelogEntries' before or after: nil when
// false (or a string koji.util.parseTime cannot read), else seconds.
func changelogBound(name string, v any) (*int64, error) {
	if !xmlrpc.Truthy(v) {
		return nil, nil
	}
	var n int64
	switch x := v.(type) {
	case time.Time:
		n = x.Unix()
	case int64:
		n = x
	case bool:
		n = 1
	case string:
		return parseTime(x)
	default:
		return nil, fault(koji.ErrGeneric, "Invalid type for %s: %s", name, pyClass(v))
	}
	return &n, nil
}

// parseTime is koji.util.parseTime: the first Y-M-D in s, with the first
// H:M:S after it (else midnight), in UTC; nil without a date.
func parseTime(s string) (*int64, error) {
	m := dateRE.FindStringSubmatchIndex(s)
	if m == nil {
		return nil, nil
	}
	var f [6]int
	for i := range 3 {
		f[i], _ = strconv.Atoi(s[m[2+2*i]:m[3+2*i]])
	}
	if t := timeRE.FindStringSubmatch(strings.TrimSpace(s[m[1]:])); t != nil {
		for i := range 3 {
			f[3+i], _ = strconv.Atoi(t[1+i])
		}
	}
	checks := []struct {
		ok  bool
		msg string
	}{{f[0] >= 1 && f[0] <= 9999, "year " + strconv.Itoa(f[0]) + " is out of range"}, {f[1] >= 1 && f[1] <= 12, "month must be in 1..12"},
		{f[2] >= 1 && f[2] <= daysIn(f[0], f[1]), "day is out of range for month"}, {f[3] <= 23, "hour must be in 0..23"},
		{f[4] <= 59, "minute must be in 0..59"}, {f[5] <= 59, "second must be in 0..59"}}
	for _, c := range checks {
		if !c.ok {
			return nil, pyException("ValueError", "%s", c.msg)
		}
	}
	n := time.Date(f[0], time.Month(f[1]), f[2], f[3], f[4], f[5], 0, time.UTC).Unix()
	return &n, nil
}

func daysIn(year, month int) int {
	if month < 1 || month > 12 {
		return 31
	}
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// applyQueryOpts is upstream's _applyQueryOpts on rows computed in
// memory: sorted (stably) on the order key, reversed by a leading "-";
// then offset, limit, and countOnly.
func applyQueryOpts(rows []any, opts map[string]any) (any, error) {
	if rows == nil {
		rows = []any{}
	}
	if o := opts["order"]; xmlrpc.Truthy(o) {
		key, ok := o.(string)
		if !ok {
			return nil, pyException("AttributeError", "'%s' object has no attribute 'startswith'", pyTypeName(o))
		}
		key, desc := strings.CutPrefix(key, "-")
		for _, r := range rows {
			m, ok := r.(map[string]any)
			if !ok {
				return nil, pyException("TypeError", "list indices must be integers or slices, not str")
			}
			if _, ok := m[key]; !ok {
				return nil, pyException("KeyError", "%s", pyRepr(key))
			}
		}
		slices.SortStableFunc(rows, func(a, b any) int {
			c := sqlCompare(a.(map[string]any)[key], b.(map[string]any)[key])
			if desc {
				c = -c
			}
			return c
		})
	}
	for _, opt := range []string{"offset", "limit"} {
		if v := opts[opt]; xmlrpc.Truthy(v) {
			n, ok := v.(int64)
			if !ok {
				return nil, pyException("TypeError", "slice indices must be integers or None or have an __index__ method")
			}
			if n < 0 {
				n = max(int64(len(rows))+n, 0)
			}
			n = min(n, int64(len(rows)))
			if opt == "offset" {
				rows = rows[n:]
			} else {
				rows = rows[:n]
			}
		}
	}
	if xmlrpc.Truthy(opts["countOnly"]) {
		return int64(len(rows)), nil
	}
	return rows, nil
}
