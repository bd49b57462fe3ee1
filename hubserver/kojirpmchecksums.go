package hubserver

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"os"
	"slices"

	"github.com/gokoji/gokoji/internal/rpm"
	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// checksumHashes are the hashes of koji.CHECKSUM_TYPES.
var checksumHashes = map[string]func() hash.Hash{"md5": md5.New, "sha1": sha1.New, "sha256": sha256.New}

// getRPMChecksums is RootExports.getRPMChecksums: for each signature key
// of the RPM, the checksums of its signed copy of each type (default
// RPMDefaultChecksums); those not recorded yet are computed from the
// signed copy, or from the RPM with the cached signature header spliced
// in, and recorded, unless cacheonly (then they are None).
func (k *Koji) getRPMChecksums(ctx context.Context, rpmID, typesArg any, cacheonly bool) (any, error) {
	id, ok := rpmID.(int64)
	if b, isBool := rpmID.(bool); isBool {
		id, ok = int64(boolInt(b)), true
	}
	if !ok {
		return nil, fault(koji.ErrGeneric, "rpm_id must be an integer")
	}
	info, err := getRPM(ctx, id, true, false)
	if err != nil {
		return nil, err
	}
	r := info.(map[string]any)
	var types []string
	if xmlrpc.Truthy(typesArg) {
		list, ok := typesArg.([]any)
		if !ok {
			return nil, fault(koji.ErrGeneric, "checksum_type must be a list")
		}
		for _, x := range list {
			s, _ := x.(string)
			if _, ok := checksumHashes[s]; !ok {
				return nil, fault(koji.ErrGeneric, "Checksum_type %s isn't supported", pyFormat(x))
			}
			types = append(types, s)
		}
	}
	if len(types) == 0 {
		types = defaultRPMChecksums
	}
	tx := storeTx(ctx)
	sigs, err := tx.QueryRPMSigs(ctx, &id, nil)
	if err != nil {
		return nil, err
	}
	if len(sigs) == 0 {
		return map[string]any{}, nil
	}
	recorded := func() (map[string]map[string]any, int, error) {
		rows, err := tx.RPMChecksums(ctx, id)
		if err != nil {
			return nil, 0, err
		}
		out := map[string]map[string]any{}
		for _, s := range sigs {
			out[s.SigKey] = map[string]any{}
			for _, t := range types {
				out[s.SigKey][t] = nil
			}
		}
		n := 0
		for _, c := range rows {
			name := checksumTypeName(c.ChecksumType)
			if m, ok := out[c.SigKey]; ok && slices.Contains(types, name) {
				m[name] = c.Checksum
				n++
			}
		}
		return out, n, nil
	}
	have, n, err := recorded()
	if err != nil {
		return nil, err
	}
	if n == len(dedupe(types))*len(sigs) || cacheonly {
		return checksumsAnswer(have), nil
	}
	b, err := lookupBuild(ctx, tx, r["build_id"], false)
	if err != nil {
		return nil, err
	}
	top, err := k.topDir()
	if err != nil {
		return nil, err
	}
	rel := rpmRelPath(r["name"].(string), r["version"].(string), r["release"].(string), r["arch"].(string))
	for _, s := range sigs {
		var missing []string
		for _, t := range dedupe(types) {
			if have[s.SigKey][t] == nil {
				missing = append(missing, t)
			}
		}
		if len(missing) == 0 {
			continue
		}
		sums, err := signedCopySums(top, b, rel, s.SigKey, missing)
		if err != nil {
			return nil, err
		}
		if err := tx.AddRPMChecksums(ctx, sums.rows(id, s.SigKey)); err != nil {
			return nil, err
		}
	}
	if have, _, err = recorded(); err != nil {
		return nil, err
	}
	return checksumsAnswer(have), nil
}

// checksumTypeName is the name of a koji.CHECKSUM_TYPES number.
func checksumTypeName(n int) string {
	if n >= 0 && n < len(checksumTypes) {
		return checksumTypes[n]
	}
	return ""
}

func checksumsAnswer(m map[string]map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// namedSums are checksums of one file by type name (upstream's
// MultiSum).
type namedSums map[string]hash.Hash

// newSums are sums of the koji.CHECKSUM_TYPES named.
func newSums(types []string) namedSums {
	sums := namedSums{}
	for _, t := range types {
		sums[t] = checksumHashes[t]()
	}
	return sums
}

func (s namedSums) Write(p []byte) (int, error) {
	for _, h := range s {
		h.Write(p)
	}
	return len(p), nil
}

// rows are upstream's create_rpm_checksum rows of the sums, in
// koji.CHECKSUM_TYPES order.
func (s namedSums) rows(rpmID int64, key string) []store.RPMChecksum {
	var out []store.RPMChecksum
	for _, name := range checksumTypes {
		if h, ok := s[name]; ok {
			out = append(out, store.RPMChecksum{RPMID: rpmID, SigKey: key, Checksum: hex.EncodeToString(h.Sum(nil)),
				ChecksumType: slices.Index(checksumTypes, name)})
		}
	}
	return out
}

// signedCopySums is calculate_chsum of the RPM's signed copy for the key,
// or, without one, of the RPM with the key's cached header spliced in.
func signedCopySums(top string, b *store.BuildRow, rel, key string, types []string) (namedSums, error) {
	sums := newSums(types)
	signed := buildFilePath(top, b, signedRel(rel, key))
	if f, err := os.Open(signed); err == nil {
		defer f.Close()
		if _, err := io.Copy(sums, f); err != nil {
			return nil, pyOSError(err, signed)
		}
		return sums, nil
	}
	sigpath := buildFilePath(top, b, sigHeaderRel(rel, key))
	sighdr, err := os.ReadFile(sigpath)
	if err != nil {
		return nil, pyOSError(err, sigpath)
	}
	if err := rpm.SpliceSigHeader(sighdr, buildFilePath(top, b, rel), sums); err != nil {
		return nil, rpmHeaderError(err, "Invalid rpm")
	}
	return sums, nil
}
