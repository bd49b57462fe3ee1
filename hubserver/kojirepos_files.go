package hubserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// The repo directory of upstream's repo_init and repoDone, laid out as
// koji.pathinfo.repo: <TopDir>/repos/<tag>/<repo id>/, with groups/,
// repo.json, and per arch the pkglist, rpmlist.jsonl and blocklist a
// builder's newRepo task reads, a toplink back to the top directory, and
// the repodata the builder uploads.

// repoOptNames are the repo options upstream knows.
var repoOptNames = []string{"src", "debuginfo", "separate_src", "maven"}

// convertRepoOpts is upstream's convert_repo_opts: None is {}; with strict
// anything but a dict of known options faults, without it is dropped;
// None values count as unset, others as their truth.
func convertRepoOpts(ctx context.Context, opts any, strict bool) (map[string]any, error) {
	out := map[string]any{}
	if opts == nil {
		return out, nil
	}
	m, ok := opts.(map[string]any)
	if !ok {
		if strict {
			return nil, fault(koji.ErrParameter, "Repo opts must be a dictionary")
		}
		LoggerFrom(ctx).Warn("ignoring invalid repo opts", "opts", pyRepr(opts))
		return out, nil
	}
	for key, v := range m {
		if key == "__starstar" {
			continue
		}
		if !slices.Contains(repoOptNames, key) {
			if strict {
				return nil, fault(koji.ErrParameter, "Invalid repo option: %s", key)
			}
			LoggerFrom(ctx).Warn("ignoring invalid repo opt", "opt", key)
			continue
		}
		if v != nil {
			out[key] = xmlrpc.Truthy(v)
		}
	}
	return out, nil
}

// repoOpts is upstream's get_repo_opts: the tag's repo options (the
// defaults, the hub's tag patterns, the tag's repo.opts or legacy
// with_debuginfo) and those of override that differ from them (custom).
// Maven repos need EnableMaven, which this hub lacks.
func (k *Koji) repoOpts(ctx context.Context, tag map[string]any, override any) (opts, custom map[string]any, err error) {
	opts = map[string]any{"src": false, "debuginfo": false, "separate_src": false, "maven": false}
	name, _ := tag["name"].(string)
	cfg := k.cfg.Repos
	for _, p := range []struct {
		key      string
		patterns []string
	}{{"debuginfo", cfg.DebuginfoTags}, {"src", cfg.SourceTags}, {"separate_src", cfg.SeparateSourceTags}} {
		for _, pat := range p.patterns {
			if ok, _ := path.Match(pat, name); ok {
				opts[p.key] = true
			}
		}
	}
	extra, _ := tag["extra"].(map[string]any)
	tagOpts := extra["repo.opts"]
	if v, ok := extra["with_debuginfo"]; ok {
		if _, has := extra["repo.opts"]; has {
			LoggerFrom(ctx).Warn("ignoring legacy with_debuginfo config, overridden by repo.opts", "tag", name)
		} else {
			tagOpts = map[string]any{"debuginfo": xmlrpc.Truthy(v)}
		}
	}
	fromTag, err := convertRepoOpts(ctx, tagOpts, false)
	if err != nil {
		return nil, nil, err
	}
	for key, v := range fromTag {
		opts[key] = v
	}
	opts["maven"] = false
	custom = map[string]any{}
	if override != nil {
		o, err := convertRepoOpts(ctx, override, false)
		if err != nil {
			return nil, nil, err
		}
		for key, v := range o {
			if v != opts[key] {
				custom[key] = v
			}
		}
		for key, v := range custom {
			opts[key] = v
		}
	}
	return opts, custom, nil
}

// repoDir is koji.pathinfo.repo(id, tag).
func repoDir(top, tag string, id int64) string {
	return filepath.Join(top, "repos", tag, strconv.FormatInt(id, 10))
}

// repoInit is upstream's repo_init: the INIT repo of the tag as at the
// event (a new one unless given) with the options, and its directory.
func (k *Koji) repoInit(ctx context.Context, tag, taskIDArg, eventArg, override any) ([]any, error) {
	taskID, err := optInt(taskIDArg)
	if err != nil {
		return nil, err
	}
	event, err := optInt(eventArg)
	if err != nil {
		return nil, err
	}
	var ev any
	if event != nil {
		ev = *event
	}
	tinfo, err := getTag(ctx, tag, true, ev, false)
	if err != nil {
		return nil, err
	}
	opts, custom, err := k.repoOpts(ctx, tinfo, override)
	if err != nil {
		return nil, err
	}
	kw := map[string]any{"tag": tinfo, "event": ev, "repo_id": nil, "task_id": ptrValue(taskID), "opts": opts}
	if err := k.runCallbacks(ctx, "preRepoInit", kw); err != nil {
		return nil, err
	}
	if opts["maven"] == true {
		return nil, errNoMaven()
	}
	top, err := k.topDir()
	if err != nil {
		return nil, err
	}
	tx := storeTx(ctx)
	var eventID int64
	if event == nil {
		if eventID, err = tx.NewEvent(ctx); err != nil {
			return nil, err
		}
	} else if _, err := tx.GetEvent(ctx, *event); errors.Is(err, store.ErrNotFound) {
		return nil, fault(koji.ErrGeneric, "query returned no rows")
	} else if err != nil {
		return nil, err
	} else {
		eventID = *event
	}
	tagID := tinfo["id"].(int64)
	r := store.Repo{CreateEvent: eventID, TagID: tagID, State: store.RepoInit, TaskID: taskID}
	begin, err := lastChange(ctx, tagID, &eventID)
	if err != nil {
		return nil, err
	}
	if begin == 0 {
		begin = eventID
	}
	r.BeginEvent = &begin
	if end, err := firstChange(ctx, tagID, &eventID, true); err != nil {
		return nil, err
	} else if end != nil {
		e := end.(int64)
		r.EndEvent = &e
	}
	if r.Opts, err = encodeJSON(opts); err != nil {
		return nil, err
	}
	if r.CustomOpts, err = encodeJSON(custom); err != nil {
		return nil, err
	}
	repoID, err := tx.CreateRepo(ctx, r)
	if err != nil {
		return nil, err
	}
	if err := k.writeRepoDir(ctx, top, tinfo, repoID, eventID, taskID, opts, custom); err != nil {
		return nil, err
	}
	kw = map[string]any{"tag": tinfo, "event": ev, "repo_id": repoID, "task_id": ptrValue(taskID), "opts": opts}
	if err := k.runCallbacks(ctx, "postRepoInit", kw); err != nil {
		os.RemoveAll(repoDir(top, tinfo["name"].(string), repoID)) // the call fails: no repo
		return nil, err
	}
	return []any{repoID, eventID}, nil
}

// writeRepoDir makes the repo's directory; on failure it removes what it
// made, the transaction's rollback undoing the rest.
func (k *Koji) writeRepoDir(ctx context.Context, top string, tinfo map[string]any, repoID, eventID int64, taskID *int64,
	opts, custom map[string]any) (err error) {
	tx := storeTx(ctx)
	tagID, tagName := tinfo["id"].(int64), tinfo["name"].(string)
	extra, _ := tinfo["extra"].(map[string]any)
	builds, err := readTaggedBuilds(ctx, tx, taggedArgs{tagID: tagID, asOf: &eventID, inherit: true,
		latest: !xmlrpc.Truthy(extra["repo_include_all"])})
	if err != nil {
		return err
	}
	pkgs, err := readPackageList(ctx, tx, pkgFilter{PackageFilter: store.PackageFilter{TagID: &tagID, AsOf: &eventID}, inherit: true})
	if err != nil {
		return err
	}
	var arches []string
	if opts["separate_src"] == true {
		arches = append(arches, "src")
	}
	tagArches, _ := tinfo["arches"].(string)
	if p, ok := tinfo["arches"].(*string); ok && p != nil {
		tagArches = *p
	}
	{
		for _, a := range strings.Fields(tagArches) {
			a = koji.CanonArch(a)
			if a != "src" && a != "noarch" && !slices.Contains(arches, a) {
				arches = append(arches, a)
			}
		}
	}

	dir := repoDir(top, tagName, repoID)
	if err := os.MkdirAll(filepath.Dir(dir), 0o777); err != nil {
		return pyOSError(err, filepath.Dir(dir))
	}
	if err := os.Mkdir(dir, 0o777); err != nil {
		return pyOSError(err, dir) // it must not exist yet
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	files := map[string]*bytes.Buffer{}
	file := func(rel string) *bytes.Buffer {
		if files[rel] == nil {
			files[rel] = &bytes.Buffer{}
		}
		return files[rel]
	}
	comps, err := repoComps(ctx, tx, tagID, eventID)
	if err != nil {
		return err
	}
	file("groups/comps.xml").WriteString(comps)
	repoJSON := pyDict{{"id", repoID}, {"tag", tagName}, {"tag_id", tagID}, {"task_id", ptrValue(taskID)},
		{"event_id", eventID}, {"opts", opts}, {"custom_opts", custom},
		{"with_src", opts["src"]}, {"with_separate_src", opts["separate_src"]}, {"with_debuginfo", opts["debuginfo"]}}
	if err := writeIndentJSON(file("repo.json"), repoJSON); err != nil {
		return err
	}
	for _, a := range arches {
		file(a + "/pkglist")
		file(a + "/rpmlist.jsonl")
	}
	for i := range builds {
		if err := addBuildRPMs(ctx, tx, &builds[i], arches, opts, file); err != nil {
			return err
		}
	}
	for _, a := range arches {
		bl := file(a + "/blocklist")
		for _, id := range pkgs.order {
			if e := pkgs.get(id); e["blocked"] == true {
				bl.WriteString(e["package_name"].(string) + "\n")
			}
		}
	}
	for rel, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
			return pyOSError(err, filepath.Dir(p))
		}
		if err := os.WriteFile(p, b.Bytes(), 0o666); err != nil {
			return pyOSError(err, p)
		}
	}
	for _, a := range arches {
		// The relative path from <top>/repos/<tag>/<id>/<arch> to <top>.
		if err := os.Symlink("../../../..", filepath.Join(dir, a, "toplink")); err != nil {
			return pyOSError(err, filepath.Join(dir, a, "toplink"))
		}
	}
	return nil
}

// addBuildRPMs adds a build's RPMs to the arches' pkglist and
// rpmlist.jsonl as repo_init sorts them: sources to every arch with src
// and to the src arch with separate_src, noarch to every binary arch,
// the others to their canonical arch when the tag has it; debuginfo only
// with the debuginfo option.
func addBuildRPMs(ctx context.Context, tx *store.Tx, b *taggedBuild, arches []string, opts map[string]any,
	file func(string) *bytes.Buffer) error {
	rpms, err := tx.QueryRPMs(ctx, store.RPMQuery{BuildID: &b.ID})
	if err != nil {
		return err
	}
	builddir := path.Join("toplink", "packages", b.Name, b.Version, b.Release)
	if v := b.VolumeName; v != "" && v != "DEFAULT" {
		builddir = path.Join("toplink", "vol", v, "packages", b.Name, b.Version, b.Release)
	}
	for i := range rpms {
		r := &rpms[i]
		if opts["debuginfo"] != true && isDebuginfo(r.Name) {
			continue
		}
		info, err := rpmInfo(r)
		if err != nil {
			return err
		}
		info["tag_id"], info["tag_name"] = b.TagID, b.TagName
		line, err := encodeJSON(info)
		if err != nil {
			return err
		}
		rel := fmt.Sprintf("%s/%s/%s-%s-%s.%s.rpm\n", builddir, r.Arch, r.Name, r.Version, r.Release, r.Arch)
		var to []string
		switch r.Arch {
		case "src":
			if opts["src"] == true {
				to = append(to, arches...)
			}
			if opts["separate_src"] == true && !slices.Contains(to, "src") {
				to = append(to, "src")
			}
		case "noarch":
			for _, a := range arches {
				if a != "src" {
					to = append(to, a)
				}
			}
		default:
			if a := koji.CanonArch(r.Arch); slices.Contains(arches, a) {
				to = append(to, a)
			}
		}
		for _, a := range to {
			file(a + "/pkglist").WriteString(rel)
			file(a + "/rpmlist.jsonl").WriteString(line + "\n")
		}
	}
	return nil
}

// isDebuginfo is koji.is_debuginfo.
func isDebuginfo(name string) bool {
	return strings.HasSuffix(name, "-debuginfo") || strings.HasSuffix(name, "-debugsource") ||
		strings.Contains(name, "-debuginfo-")
}

// writeIndentJSON writes a dict as Python's json.dump(indent=2) does,
// in its key order (nested values with sorted keys).
func writeIndentJSON(b *bytes.Buffer, d pyDict) error {
	b.WriteString("{")
	for i, it := range d {
		if i > 0 {
			b.WriteString(",")
		}
		v, err := json.MarshalIndent(it.value, "  ", "  ")
		if err != nil {
			return err
		}
		k, _ := json.Marshal(it.key)
		fmt.Fprintf(b, "\n  %s: %s", k, v)
	}
	b.WriteString("\n}")
	return nil
}

// readOrderedJSON reads a JSON object keeping its members' order.
func readOrderedJSON(data []byte) (pyDict, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object")
	}
	var d pyDict
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		d = append(d, pyItem{t.(string), jsonNumbers(v)})
	}
	return d, nil
}

// A repoMove is one uploaded file repoDone moves into the repo.
type repoMove struct{ src, dst string }

// repoDone is upstream's HostExports.repoDone after the host check: the
// uploaded files move into the repo (all checked first: arch directories,
// upload paths inside the work directory, files present), the repo
// becomes READY (or, with the legacy expire, EXPIRED) and latest points
// at it.
func (k *Koji) repoDone(ctx context.Context, repoIDArg, data, expire, jsonUpdates any) error {
	rinfo, err := repoInfo(ctx, repoIDArg, true)
	if err != nil {
		return err
	}
	d, ok := data.(map[string]any)
	if !ok {
		return convertError(data, "dict")
	}
	kw := map[string]any{"repo": rinfo, "data": data, "expire": expire}
	if err := k.runCallbacks(ctx, "preRepoDone", kw); err != nil {
		return err
	}
	if rinfo["state"] != int64(store.RepoInit) {
		return fault(koji.ErrGeneric, "Repo %d not in INIT state (got %d)", rinfo["id"], rinfo["state"])
	}
	top, err := k.topDir()
	if err != nil {
		return err
	}
	id := rinfo["id"].(int64)
	dir := repoDir(top, rinfo["tag_name"].(string), id)
	work := workDir(top, "DEFAULT")
	var moves []repoMove
	if rinfo["dist"] != true {
		if moves, err = repoMoves(dir, work, d); err != nil {
			return err
		}
	}
	if err := updateRepoJSON(dir, jsonUpdates); err != nil {
		return err
	}
	if err := moveRepoFiles(moves); err != nil {
		return err
	}
	if xmlrpc.Truthy(expire) {
		LoggerFrom(ctx).Warn("expire option for repoDone call is deprecated")
		err = k.repoSetState(ctx, id, store.RepoExpired)
	} else if err = k.repoSetState(ctx, id, store.RepoReady); err == nil {
		symlinkIfLatest(ctx, top, rinfo)
	}
	if err != nil {
		return err
	}
	return k.runCallbacks(ctx, "postRepoDone", kw)
}

// repoMoves checks repoDone's data, {arch: [uploadpath, [files]]}, and
// returns the moves it asks for: pkglist files to the arch directory,
// the others to its repodata.
func repoMoves(dir, work string, data map[string]any) ([]repoMove, error) {
	var moves []repoMove
	arches := make([]string, 0, len(data))
	for a := range data {
		arches = append(arches, a)
	}
	slices.Sort(arches)
	for _, arch := range arches {
		entry, ok := data[arch].([]any)
		if !ok || len(entry) != 2 {
			return nil, fault(koji.ErrGeneric, "Invalid repo data for arch %s: %s", arch, pyRepr(data[arch]))
		}
		upload, ok1 := entry[0].(string)
		files, ok2 := entry[1].([]any)
		if !ok1 || !ok2 {
			return nil, fault(koji.ErrGeneric, "Invalid repo data for arch %s: %s", arch, pyRepr(data[arch]))
		}
		if !localPath(upload) {
			return nil, fault(koji.ErrGeneric, "Invalid upload path: %s", upload)
		}
		archdir := filepath.Join(dir, koji.CanonArch(arch))
		if !localPath(koji.CanonArch(arch)) || !isDir(archdir) {
			return nil, fault(koji.ErrGeneric, "Repo arch directory missing: %s", archdir)
		}
		for _, f := range files {
			fn, ok := f.(string)
			if !ok || !localPath(fn) {
				return nil, fault(koji.ErrGeneric, "Invalid file name: %s", pyFormat(f))
			}
			src := filepath.Join(work, filepath.FromSlash(upload), filepath.FromSlash(fn))
			dst := filepath.Join(archdir, "repodata", filepath.FromSlash(fn))
			if strings.HasSuffix(fn, "pkglist") {
				dst = filepath.Join(archdir, filepath.FromSlash(fn))
			}
			if fi, err := os.Lstat(src); err != nil || !fi.Mode().IsRegular() {
				return nil, fault(koji.ErrGeneric, "uploaded file missing: %s", src)
			}
			if _, err := os.Lstat(dst); err == nil {
				return nil, fault(koji.ErrGeneric, "Destination exists: %s", dst)
			}
			moves = append(moves, repoMove{src, dst})
		}
	}
	return moves, nil
}

// localPath reports whether a relative path from a host stays below its
// base: not absolute, no "..", no empty name.
func localPath(p string) bool {
	return p != "" && !strings.HasPrefix(p, "/") && filepath.IsLocal(filepath.FromSlash(p)) &&
		!slices.Contains(strings.Split(p, "/"), "..")
}

func isDir(p string) bool {
	fi, err := os.Lstat(p)
	return err == nil && fi.IsDir()
}

// moveRepoFiles renames the files into place, undoing the moves made
// when one fails.
func moveRepoFiles(moves []repoMove) error {
	for i, m := range moves {
		err := os.MkdirAll(filepath.Dir(m.dst), 0o777)
		if err == nil {
			err = os.Rename(m.src, m.dst)
		}
		if err != nil {
			for _, done := range moves[:i] {
				os.Rename(done.dst, done.src)
			}
			return pyOSError(err, m.dst)
		}
	}
	return nil
}

// updateRepoJSON applies repoDone's repo_json_updates to repo.json,
// keeping its members' order.
func updateRepoJSON(dir string, updates any) error {
	if !xmlrpc.Truthy(updates) {
		return nil
	}
	u, ok := updates.(map[string]any)
	if !ok {
		return pyException("AttributeError", "'%s' object has no attribute 'keys'", pyTypeName(updates))
	}
	fn := filepath.Join(dir, "repo.json")
	data, err := os.ReadFile(fn)
	if err != nil {
		return pyOSError(err, fn)
	}
	d, err := readOrderedJSON(data)
	if err != nil {
		return pyException("json.decoder.JSONDecodeError", "%v", err)
	}
	keys := make([]string, 0, len(u))
	for key := range u {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	for _, key := range keys {
		if i := slices.IndexFunc(d, func(it pyItem) bool { return it.key == key }); i >= 0 {
			d[i].value = u[key]
		} else {
			d = append(d, pyItem{key, u[key]})
		}
	}
	var b bytes.Buffer
	if err := writeIndentJSON(&b, d); err != nil {
		return pyException("TypeError", "%v", err)
	}
	if err := os.WriteFile(fn, b.Bytes(), 0o666); err != nil {
		return pyOSError(err, fn)
	}
	return nil
}

// symlinkIfLatest is upstream's symlink_if_latest: repos/<tag>/latest
// points at the repo unless it has custom options or a newer READY repo
// of the tag with the default ones exists. The link is not essential: a
// failure is logged.
func symlinkIfLatest(ctx context.Context, top string, rinfo map[string]any) {
	if custom, _ := rinfo["custom_opts"].(map[string]any); len(custom) > 0 && rinfo["dist"] != true {
		return
	}
	cs := []store.ViewClause{clause("tag_id", "=", rinfo["tag_id"]), clause("state", "=", int64(store.RepoReady)),
		clause("create_event", ">", rinfo["create_event"])}
	base := "repos"
	if rinfo["dist"] == true {
		cs = append(cs, clause("dist", "IS", true))
		base = "repos-dist"
	} else {
		cs = append(cs, clause("custom_opts", "=", "{}"))
	}
	newer, err := queryRepoRows(ctx, false, cs, nil, store.ViewOpts{})
	log := LoggerFrom(ctx)
	if err != nil || len(newer) > 0 {
		if err != nil {
			log.Error("cannot look for newer repos", "error", err)
		}
		return
	}
	link := filepath.Join(top, base, rinfo["tag_name"].(string), "latest")
	if _, err := os.Lstat(link); err == nil {
		err = os.Remove(link)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			log.Error("unable to create latest link", "link", link, "error", err)
			return
		}
	}
	if err := os.Symlink(strconv.FormatInt(rinfo["id"].(int64), 10), link); err != nil {
		log.Error("unable to create latest link", "link", link, "error", err)
	}
}
