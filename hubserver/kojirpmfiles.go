package hubserver

import (
	"context"
	"strings"

	"github.com/gokoji/gokoji/internal/rpm"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// rpmFileMethods are upstream's RootExports.getRPMDeps, listRPMFiles and
// getRPMFile: an internal RPM's dependencies and files, read from its
// header in the build's directory.
func (k *Koji) rpmFileMethods() []Method {
	return []Method{
		{
			Name: "getRPMDeps", PyName: "RootExports.getRPMDeps", Bound: true,
			Args: []Arg{{Name: "rpmID"}, {Name: "depType", Default: None}, {Name: "queryOpts", Default: None},
				{Name: "strict", Default: false}},
			Func: k.getRPMDeps,
		},
		{
			Name: "listRPMFiles", PyName: "RootExports.listRPMFiles", Bound: true,
			Args: []Arg{{Name: "rpmID"}, {Name: "queryOpts", Default: None}},
			Func: k.listRPMFiles,
		},
		{
			Name: "getRPMFile", PyName: "RootExports.getRPMFile", Bound: true,
			Args: []Arg{{Name: "rpmID"}, {Name: "filename"}, {Name: "strict", Default: false}},
			Func: k.getRPMFile,
		},
	}
}

// The dependency types of koji.DEP_*, in the order getRPMDeps lists them.
var rpmDepTypes = []struct {
	name string
	id   int64
}{{"REQUIRE", 0}, {"PROVIDE", 1}, {"CONFLICT", 3}, {"OBSOLETE", 2}, {"SUGGEST", 4}, {"ENHANCE", 5},
	{"SUPPLEMENT", 6}, {"RECOMMEND", 7}}

// rpmFileProblems are the GenericErrors a strict lookup gives for an
// external RPM and for a missing file; empty means not strict there.
type rpmFileProblems struct{ external, missing string }

// internalRPMFile finds an internal RPM's file (get_rpm, get_build and
// koji.pathinfo): its header, or nil (and no error) when there is no such
// RPM, it is external or its file is missing and the lookup is not strict.
func (k *Koji) internalRPMHeader(ctx context.Context, rpmID any, strict bool, p rpmFileProblems) (*rpm.Package, map[string]any, error) {
	info, err := getRPM(ctx, rpmID, strict, false)
	if err != nil {
		return nil, nil, err
	}
	r, _ := info.(map[string]any)
	if r == nil {
		return nil, nil, nil
	}
	if r["build_id"] == nil {
		if strict && p.external != "" {
			return nil, nil, fault(koji.ErrGeneric, p.external, pyFormat(rpmID))
		}
		return nil, nil, nil
	}
	b, err := lookupBuild(ctx, storeTx(ctx), r["build_id"], false)
	if err != nil || b == nil {
		return nil, nil, err
	}
	top, err := k.topDir()
	if err != nil {
		return nil, nil, err
	}
	path := buildFilePath(top, b, rpmRelPath(r["name"].(string), r["version"].(string), r["release"].(string), r["arch"].(string)))
	if !fileExists(path) {
		if strict && p.missing != "" {
			return nil, nil, fault(koji.ErrGeneric, p.missing, pyFormat(rpmID))
		}
		return nil, nil, nil
	}
	h, err := readRPM(path)
	return h, r, err
}

// getRPMDeps is RootExports.getRPMDeps: the RPM's dependencies of each
// type (or of depType), as {name, version, flags, type} or, with asList,
// [name, version, flags, type].
func (k *Koji) getRPMDeps(ctx context.Context, rpmID, depType, queryOpts any, strict bool) (any, error) {
	opts, err := memoryQueryOpts(queryOpts)
	if err != nil {
		return nil, err
	}
	h, _, err := k.internalRPMHeader(ctx, rpmID, strict, rpmFileProblems{
		external: "Can not get dependencies, because RPM: %s is not internal",
		missing:  "RPM file of %s doesn't exist"})
	if err != nil || h == nil {
		if err != nil {
			return nil, err
		}
		return applyQueryOpts(nil, opts)
	}
	var rows []any
	for _, dt := range rpmDepTypes {
		if depType != nil && !pyEqual(depType, dt.id) {
			continue
		}
		cols := make([][]any, 3)
		for i, suffix := range []string{"NAME", "VERSION", "FLAGS"} {
			v, err := headerField(h, dt.name+suffix)
			if err != nil {
				return nil, err
			}
			cols[i] = headerList(v)
		}
		for i := 0; i < len(cols[0]) && i < len(cols[1]) && i < len(cols[2]); i++ {
			if xmlrpc.Truthy(opts["asList"]) {
				rows = append(rows, []any{cols[0][i], cols[1][i], cols[2][i], dt.id})
			} else {
				rows = append(rows, map[string]any{"name": cols[0][i], "version": cols[1][i], "flags": cols[2][i], "type": dt.id})
			}
		}
	}
	return applyQueryOpts(rows, opts)
}

// headerList is a header value as a list: a list as is, a scalar as one item,
// nil as none.
func headerList(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	}
	return []any{v}
}

// memoryQueryOpts reads queryOpts for _applyQueryOpts (nil: none).
func memoryQueryOpts(v any) (map[string]any, error) {
	if v == nil {
		return map[string]any{}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, pyException("AttributeError", "'%s' object has no attribute 'get'", pyTypeName(v))
	}
	return m, nil
}

// rpmFileFields are the header fields listRPMFiles and getRPMFile read.
var rpmFileFields = []string{"filenames", "filemd5s", "filesizes", "fileflags", "fileusername", "filegroupname",
	"filemtimes", "filemodes"}

// rpmFiles are the RPM's files, each its fields' values in rpmFileFields
// order, with the header's file digest algorithm.
func rpmFiles(h *rpm.Package) (files [][]any, algo string, err error) {
	cols := make([][]any, len(rpmFileFields))
	n := -1
	for i, f := range rpmFileFields {
		v, err := headerField(h, f)
		if err != nil {
			return nil, "", err
		}
		cols[i] = headerList(v)
		if n < 0 || len(cols[i]) < n {
			n = len(cols[i]) // zip stops at the shortest
		}
	}
	for i := 0; i < n; i++ {
		row := make([]any, len(cols))
		for j := range cols {
			row[j] = cols[j][i]
		}
		files = append(files, row)
	}
	algo, err = fileDigestAlgo(h)
	return files, algo, err
}

// fileDigestAlgos are koji.RPM_FILEDIGESTALGO_IDS.
var fileDigestAlgos = map[int64]string{1: "MD5", 2: "SHA1", 3: "RIPEMD160", 5: "MD2", 6: "TIGER192", 8: "SHA256",
	9: "SHA384", 10: "SHA512", 11: "SHA224"}

// fileDigestAlgo is koji.util.filedigestAlgo: the header's
// FILEDIGESTALGO, lower-cased (md5 without one, "unknown" for an id koji
// does not know).
func fileDigestAlgo(h *rpm.Package) (string, error) {
	v, err := headerField(h, "FILEDIGESTALGO")
	if err != nil {
		return "", err
	}
	if l, ok := v.([]any); ok {
		if len(l) == 0 {
			v = nil
		} else if len(l) == 1 {
			v = l[0]
		}
	}
	if v == nil {
		return "md5", nil
	}
	id, ok := v.(int64)
	if !ok {
		return "unknown", nil
	}
	if name, ok := fileDigestAlgos[id]; ok {
		return strings.ToLower(name), nil
	}
	return "unknown", nil
}

// listRPMFiles is RootExports.listRPMFiles: the files of an internal
// RPM, with _applyQueryOpts; [] when there is no such RPM or file.
func (k *Koji) listRPMFiles(ctx context.Context, rpmID, queryOpts any) (any, error) {
	opts, err := memoryQueryOpts(queryOpts)
	if err != nil {
		return nil, err
	}
	h, _, err := k.internalRPMHeader(ctx, rpmID, false, rpmFileProblems{})
	if err != nil || h == nil {
		if err != nil {
			return nil, err
		}
		return applyQueryOpts(nil, opts)
	}
	files, algo, err := rpmFiles(h)
	if err != nil {
		return nil, err
	}
	rows := make([]any, len(files))
	for i, f := range files {
		if xmlrpc.Truthy(opts["asList"]) {
			rows[i] = []any{f[0], f[1], f[2], f[3], algo, f[4], f[5], f[6], f[7]}
		} else {
			rows[i] = map[string]any{"name": f[0], "digest": f[1], "digest_algo": algo, "md5": f[1], "size": f[2],
				"flags": f[3], "user": f[4], "group": f[5], "mtime": f[6], "mode": f[7]}
		}
	}
	return applyQueryOpts(rows, opts)
}

// getRPMFile is RootExports.getRPMFile: one file of an internal RPM, or
// {} (with strict, a GenericError) when there is none.
func (k *Koji) getRPMFile(ctx context.Context, rpmID, filename any, strict bool) (any, error) {
	h, r, err := k.internalRPMHeader(ctx, rpmID, strict, rpmFileProblems{
		external: "Can not get RPM file, because RPM: %s is not internal",
		missing:  "RPM package file of %s doesn't exist"})
	if err != nil || h == nil {
		if err != nil {
			return nil, err
		}
		return map[string]any{}, nil
	}
	files, algo, err := rpmFiles(h)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if pyEqual(f[0], filename) {
			return map[string]any{"rpm_id": r["id"], "name": f[0], "digest": f[1], "digest_algo": algo, "md5": f[1],
				"size": f[2], "flags": f[3], "user": f[4], "group": f[5], "mtime": f[6], "mode": f[7]}, nil
		}
	}
	if strict {
		return nil, fault(koji.ErrGeneric, "No file: %s found in RPM: %s", pyFormat(filename), pyFormat(rpmID))
	}
	return map[string]any{}, nil
}
