package hubserver

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gokoji/gokoji/internal/rpm"
	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// rpmSigMethods are upstream's RPM signature methods: the signature
// headers stored for an RPM (rpmsigs, and the copy under the build's
// data/sigcache), and the signed copies written from them.
func (k *Koji) rpmSigMethods() []Method {
	return []Method{
		{
			Name: "queryRPMSigs", PyName: "query_rpm_sigs",
			Args: []Arg{{Name: "rpm_id", Default: None}, {Name: "sigkey", Default: None}, {Name: "queryOpts", Default: None}},
			Func: queryRPMSigs,
		},
		{
			Name: "addRPMSig", PyName: "RootExports.addRPMSig", Bound: true,
			Args: []Arg{{Name: "an_rpm"}, {Name: "data"}},
			Func: k.addRPMSigMethod,
		},
		{
			Name: "deleteRPMSig", PyName: "RootExports.deleteRPMSig", Bound: true,
			Args: []Arg{{Name: "rpminfo"}, {Name: "sigkey", Default: None}, {Name: "all_sigs", Default: false}},
			Func: k.deleteRPMSig,
		},
		{
			Name: "writeSignedRPM", PyName: "RootExports.writeSignedRPM", Bound: true,
			Args: []Arg{{Name: "an_rpm"}, {Name: "sigkey"}, {Name: "force", Default: false}},
			Func: k.writeSignedRPMMethod,
		},
		{
			Name: "host.writeSignedRPM", PyName: "HostExports.writeSignedRPM", Bound: true,
			Args: []Arg{{Name: "an_rpm"}, {Name: "sigkey"}, {Name: "force", Default: false}},
			Func: k.hostWriteSignedRPM,
		},
		{
			Name: "getRPMChecksums", PyName: "RootExports.getRPMChecksums", Bound: true,
			Args: []Arg{{Name: "rpm_id"}, {Name: "checksum_types", Default: None}, {Name: "cacheonly", Default: false}},
			Doc:  "Returns RPM checksums for specific rpm.",
			Func: k.getRPMChecksums,
		},
	}
}

// rpmSigFields are the columns queryRPMSigs selects.
var rpmSigFields = []queryField{{"rpm_id", "rpm_id", "rpm_id"}, {"sigkey", "sigkey", "sigkey"}, {"sighash", "sighash", "sighash"}}

// lowerSigkey is Python's sigkey.lower() of a decoded argument.
func lowerSigkey(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", pyException("AttributeError", "'%s' object has no attribute 'lower'", pyTypeName(v))
	}
	return strings.ToLower(s), nil
}

// queryRPMSigs is upstream's query_rpm_sigs: the signatures of an RPM (by
// id, N-V-R.A or struct; [] when there is no such RPM) and key (lower
// cased), with queryOpts.
func queryRPMSigs(ctx context.Context, rpmID, sigkey, queryOpts any) (any, error) {
	var id *int64
	switch v := rpmID.(type) {
	case nil:
	case int64:
		id = &v
	case bool:
		n := int64(boolInt(v))
		id = &n
	default:
		info, err := getRPM(ctx, rpmID, false, false)
		if err != nil {
			return nil, err
		}
		r, _ := info.(map[string]any)
		if r == nil {
			return []any{}, nil
		}
		n := r["id"].(int64)
		id = &n
	}
	var key *string
	if sigkey != nil {
		s, err := lowerSigkey(sigkey)
		if err != nil {
			return nil, err
		}
		key = &s
	}
	qo, err := readQueryOpts(queryOpts)
	if err != nil {
		return nil, err
	}
	sigs, err := storeTx(ctx).QueryRPMSigs(ctx, id, key)
	if err != nil {
		return nil, err
	}
	rows := make([]map[string]any, len(sigs))
	for i, s := range sigs {
		rows[i] = map[string]any{"rpm_id": s.RPMID, "sigkey": s.SigKey, "sighash": s.SigHash}
	}
	return queryRows(rows, qo, rpmSigFields)
}

// internalRPM is get_rpm(an_rpm, strict=True) for the signature methods:
// an RPM built here, with its build.
func internalRPM(ctx context.Context, anRPM any) (map[string]any, *store.BuildRow, error) {
	info, err := getRPM(ctx, anRPM, true, false)
	if err != nil {
		return nil, nil, err
	}
	r := info.(map[string]any)
	if r["external_repo_id"] != int64(0) {
		return nil, nil, fault(koji.ErrGeneric, "Not an internal rpm: %s (from %s)", pyFormat(anRPM), pyFormat(r["external_repo_name"]))
	}
	b, err := lookupBuild(ctx, storeTx(ctx), r["build_id"], true)
	return r, b, err
}

// rpmNVRA is "%(name)s-%(version)s-%(release)s.%(arch)s" of an RPM.
func rpmNVRA(r map[string]any) string {
	return fmt.Sprintf("%s-%s-%s.%s", r["name"], r["version"], r["release"], r["arch"])
}

// internalRPMFile is internalRPM with the build's directory and the
// RPM's path relative to it.
func (k *Koji) internalRPMFile(ctx context.Context, anRPM any) (r map[string]any, b *store.BuildRow, dir, rel string, err error) {
	if r, b, err = internalRPM(ctx, anRPM); err != nil {
		return nil, nil, "", "", err
	}
	top, err := k.topDir()
	if err != nil {
		return nil, nil, "", "", err
	}
	pi := koji.PathInfo{TopDir: top}
	dir = pi.Build(&koji.Build{Name: b.PackageName, Version: b.Version, Release: b.Release, VolumeName: b.VolumeName})
	return r, b, dir, rpmRelPath(r["name"].(string), r["version"].(string), r["release"].(string), r["arch"].(string)), nil
}

// sigHeaderRel and signedRel are koji.pathinfo.sighdr and signed.
func sigHeaderRel(rel, key string) string { return "data/sigcache/" + key + "/" + rel + ".sig" }
func signedRel(rel, key string) string    { return "data/signed/" + key + "/" + rel }

// addRPMSigMethod is upstream's RootExports.addRPMSig: with the sign
// permission, add_rpm_sig of the base64-decoded header.
func (k *Koji) addRPMSigMethod(ctx context.Context, anRPM, data any) error {
	if err := assertPerm(ctx, "sign"); err != nil {
		return err
	}
	var text string
	switch v := data.(type) {
	case string:
		text = v
	case []byte:
		text = string(v)
	default:
		return pyException("TypeError", "argument should be a bytes-like object or ASCII string, not '%s'", pyTypeName(data))
	}
	sighdr, err := pyB64Decode(text)
	if err != nil {
		return err
	}
	return k.addRPMSig(ctx, anRPM, sighdr)
}

// pyBytesRepr is Python's repr of bytes.
func pyBytesRepr(b []byte) string {
	var s strings.Builder
	s.WriteString("b'")
	for _, c := range b {
		switch {
		case c == '\\' || c == '\'':
			s.WriteString("\\" + string(c))
		case c == '\t':
			s.WriteString(`\t`)
		case c == '\n':
			s.WriteString(`\n`)
		case c == '\r':
			s.WriteString(`\r`)
		case c < 32 || c >= 127:
			fmt.Fprintf(&s, `\x%02x`, c)
		default:
			s.WriteByte(c)
		}
	}
	s.WriteString("'")
	return s.String()
}

// rpmHeaderError turns the errors of package rpm's Koji helpers into
// upstream's faults.
func rpmHeaderError(err error, what string) error {
	var magic *rpm.BadMagicError
	var py *rpm.PyError
	var typ *rpm.UnreadableTypeError
	switch {
	case errors.As(err, &magic):
		return fault(koji.ErrGeneric, "%s: bad magic: %s", what, pyBytesRepr(magic.Got))
	case errors.As(err, &py):
		return pyException(py.Class, "%s", py.Msg)
	case errors.As(err, &typ):
		return fault(koji.ErrGeneric, "%v", err)
	}
	return err
}

// addRPMSig is upstream's add_rpm_sig: the header's MD5 must be the
// RPM's payloadhash; its key is that of the first OpenPGP signature
// found ("" for none); the signature is recorded (once per key) between
// the pre and postRPMSign callbacks and the header written to the
// build's sigcache.
func (k *Koji) addRPMSig(ctx context.Context, anRPM any, sighdr []byte) error {
	r, b, builddir, rel, err := k.internalRPMFile(ctx, anRPM)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(builddir); err != nil || !fi.IsDir() {
		return fault(koji.ErrGeneric, "No such directory: %s", builddir)
	}
	raw, err := rpm.ParseRawHeader(sighdr)
	if err != nil {
		return rpmHeaderError(err, "Invalid rpm header")
	}
	md5v, err := raw.Get(rpm.SigTagMD5)
	if err != nil {
		return rpmHeaderError(err, "")
	}
	sigmd5, ok := md5v.([]byte)
	if !ok {
		return pyException("TypeError", "'%s' object is not iterable", pyTypeName(md5v))
	}
	var sigkey []byte
	if hex.EncodeToString(sigmd5) == r["payloadhash"] {
		for _, tag := range rpm.SigPacketTags {
			v, err := raw.Get(tag)
			if err != nil {
				return rpmHeaderError(err, "")
			}
			if p, _ := v.([]byte); len(p) > 0 {
				sigkey = p
				break
			}
		}
	} else {
		// upstream's _scan_sighdr reads the same MD5 from the header
		// spliced into the package
		path := builddir + "/" + rel
		if fi, err := os.Stat(path); err != nil {
			return fault(koji.ErrGeneric, "No such path: %s", path)
		} else if !fi.Mode().IsRegular() {
			return fault(koji.ErrGeneric, "Not a regular file: %s", path)
		}
		return fault(koji.ErrGeneric, "wrong md5 for %s: %s", rpmNVRA(r), hex.EncodeToString(sigmd5))
	}
	key := ""
	if len(sigkey) > 0 {
		if key, err = rpm.SigPacketKeyID(sigkey); err != nil {
			return rpmHeaderError(err, "")
		}
	}
	sum := md5.Sum(sighdr)
	sighash := hex.EncodeToString(sum[:])
	binfo, err := buildInfo(b)
	if err != nil {
		return err
	}
	kw := func() map[string]any {
		return map[string]any{"sigkey": key, "sighash": sighash, "build": binfo, "rpm": r}
	}
	if err := k.runCallbacks(ctx, "preRPMSign", kw()); err != nil {
		return err
	}
	tx := storeTx(ctx)
	if err := tx.Savepoint(ctx, "add_rpm_sig"); err != nil {
		return err
	}
	if err := tx.AddRPMSig(ctx, store.RPMSig{RPMID: r["id"].(int64), SigKey: key, SigHash: sighash}); err != nil {
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
		if err := tx.RollbackToSavepoint(ctx, "add_rpm_sig"); err != nil {
			return err
		}
		return fault(koji.ErrGeneric, "Signature already exists for package %s, key %s", rpmNVRA(r), key)
	}
	if err := tx.ReleaseSavepoint(ctx, "add_rpm_sig"); err != nil {
		return err
	}
	sigpath := builddir + "/" + sigHeaderRel(rel, key)
	if err := os.MkdirAll(filepath.Dir(sigpath), 0o755); err != nil {
		return pyOSError(err, filepath.Dir(sigpath))
	}
	if err := os.WriteFile(sigpath, sighdr, 0o644); err != nil {
		return pyOSError(err, sigpath)
	}
	return k.runCallbacks(ctx, "postRPMSign", kw())
}

// deleteRPMSig is upstream's RootExports.deleteRPMSig (admin): the RPM's
// signatures of the key, or all of them, leave rpmsigs, rpm_checksum and
// the build's sigcache and signed directories.
func (k *Koji) deleteRPMSig(ctx context.Context, rpminfo, sigkey any, allSigs bool) error {
	if err := assertPerm(ctx, "admin"); err != nil {
		return err
	}
	if allSigs {
		sigkey = nil
	} else if !xmlrpc.Truthy(sigkey) {
		return fault(koji.ErrGeneric, "No signature specified")
	}
	r, _, builddir, rel, err := k.internalRPMFile(ctx, rpminfo)
	if err != nil {
		return err
	}
	id := r["id"].(int64)
	found, err := queryRPMSigs(ctx, id, sigkey, nil)
	if err != nil {
		return err
	}
	sigs := found.([]map[string]any)
	if len(sigs) == 0 {
		return fault(koji.ErrGeneric, "%s has no matching signatures to delete", rpmNVRA(r))
	}
	// upstream deletes with the key as given (query_rpm_sigs lower-cases
	// it for the lookup only)
	var key *string
	if sigkey != nil {
		s, ok := sigkey.(string)
		if !ok {
			return pyException("AttributeError", "'%s' object has no attribute 'lower'", pyTypeName(sigkey))
		}
		key = &s
	}
	if err := storeTx(ctx).DeleteRPMSigs(ctx, id, key); err != nil {
		return err
	}
	var signed, cached []string
	for _, s := range sigs {
		signed = append(signed, builddir+"/"+signedRel(rel, s["sigkey"].(string)))
		cached = append(cached, builddir+"/"+sigHeaderRel(rel, s["sigkey"].(string)))
	}
	paths := append(signed, cached...)
	log := LoggerFrom(ctx)
	for _, p := range paths {
		if err := os.Remove(p); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				log.Warn("deleted file was missing", "path", p)
				continue
			}
			log.Error("deleting a signed copy failed", "path", p, "err", err)
			return fault(koji.ErrGeneric, "File %s cannot be deleted.", p)
		}
	}
	for _, p := range paths {
		base := filepath.Dir(p)
		for _, dir := range []string{base, filepath.Dir(base)} {
			if entries, err := os.ReadDir(dir); err == nil && len(entries) == 0 {
				if err := os.Remove(dir); err != nil {
					log.Warn("removing an empty directory failed", "path", dir, "err", err)
				}
			}
		}
	}
	log.Warn("signed RPM deleted", "rpm", id, "sigkey", ptrValue(key))
	return nil
}

// defaultRPMChecksums are upstream's RPMDefaultChecksums ("md5 sha256").
var defaultRPMChecksums = []string{"md5", "sha256"}

// writeSignedRPMMethod is upstream's RootExports.writeSignedRPM: with the
// sign permission, write_signed_rpm.
func (k *Koji) writeSignedRPMMethod(ctx context.Context, anRPM, sigkey any, force bool) error {
	if err := assertPerm(ctx, "sign"); err != nil {
		return err
	}
	return k.writeSignedRPM(ctx, anRPM, sigkey, force)
}

// hostWriteSignedRPM is upstream's HostExports.writeSignedRPM: for a
// host, write_signed_rpm.
func (k *Koji) hostWriteSignedRPM(ctx context.Context, anRPM, sigkey any, force bool) error {
	if _, err := callerHost(ctx); err != nil {
		return err
	}
	return k.writeSignedRPM(ctx, anRPM, sigkey, force)
}

// writeSignedRPM is upstream's write_signed_rpm: the build's
// data/signed/<key> copy of the RPM with the cached signature header
// spliced in (kept as it is unless force), its checksums recorded in
// rpm_checksum.
func (k *Koji) writeSignedRPM(ctx context.Context, anRPM, sigkey any, force bool) error {
	key, err := lowerSigkey(sigkey)
	if err != nil {
		return err
	}
	r, _, builddir, rel, err := k.internalRPMFile(ctx, anRPM)
	if err != nil {
		return err
	}
	rpmPath := builddir + "/" + rel
	if fi, err := os.Stat(rpmPath); err != nil {
		return fault(koji.ErrGeneric, "No such path: %s", rpmPath)
	} else if !fi.Mode().IsRegular() {
		return fault(koji.ErrGeneric, "Not a regular file: %s", rpmPath)
	}
	tx := storeTx(ctx)
	id := r["id"].(int64)
	sigs, err := tx.QueryRPMSigs(ctx, &id, &key)
	if err != nil {
		return err
	}
	if len(sigs) == 0 || sigs[0].SigHash == "" {
		return fault(koji.ErrGeneric, "No cached signature for package %s, key %s", rpmNVRA(r), key)
	}
	signed := builddir + "/" + signedRel(rel, key)
	if _, err := os.Lstat(signed); err == nil {
		if !force {
			f, err := os.Open(signed)
			if err != nil {
				return fault(koji.ErrGeneric, "File %s cannot be read -- %v", signed, err)
			}
			defer f.Close()
			sums := newSums(defaultRPMChecksums)
			if _, err := io.Copy(sums, f); err != nil {
				return fault(koji.ErrGeneric, "File %s cannot be read -- %v", signed, err)
			}
			return storeTx(ctx).AddRPMChecksums(ctx, sums.rows(id, key))
		}
		if err := os.Remove(signed); err != nil {
			return pyOSError(err, signed)
		}
	}
	sigpath := builddir + "/" + sigHeaderRel(rel, key)
	sighdr, err := os.ReadFile(sigpath)
	if err != nil {
		return pyOSError(err, sigpath)
	}
	if err := os.MkdirAll(filepath.Dir(signed), 0o755); err != nil {
		return pyOSError(err, filepath.Dir(signed))
	}
	f, err := os.OpenFile(signed, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return pyOSError(err, signed)
	}
	sums := newSums(defaultRPMChecksums)
	err = rpm.SpliceSigHeader(sighdr, rpmPath, io.MultiWriter(f, sums))
	if cerr := f.Close(); err == nil && cerr != nil {
		err = pyOSError(cerr, signed)
	}
	if err != nil {
		os.Remove(signed)
		return rpmHeaderError(err, "Invalid rpm")
	}
	return storeTx(ctx).AddRPMChecksums(ctx, sums.rows(id, key))
}
