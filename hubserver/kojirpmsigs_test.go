package hubserver_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/internal/rpm"
	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/koji"
)

// signRPM signs a copy of file with rpmsign and a new GnuPG key, and
// returns the copy and the key ID as Koji names keys (the last 8 hex
// digits).
func signRPM(t *testing.T, file string) (string, string) {
	t.Helper()
	gpg := testenv.Command(t, "gpg")
	rpmsign := testenv.Command(t, "rpmsign")
	home := filepath.Join(t.TempDir(), "gnupg")
	require.NoError(t, os.Mkdir(home, 0o700))
	env := append(os.Environ(), "GNUPGHOME="+home)
	run := func(name string, args ...string) string {
		cmd := exec.Command(name, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s %v: %s", name, args, out)
		return string(out)
	}
	run(gpg, "--batch", "--passphrase", "", "--quick-gen-key", "Signer <signer@example.org>", "rsa2048", "sign", "never")
	var keyID string
	for _, line := range strings.Split(run(gpg, "--list-keys", "--with-colons"), "\n") {
		if f := strings.Split(line, ":"); f[0] == "pub" {
			keyID = strings.ToLower(f[4][len(f[4])-8:])
		}
	}
	require.NotEmpty(t, keyID)
	signed := filepath.Join(t.TempDir(), filepath.Base(file))
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(signed, data, 0o644))
	run(rpmsign, "--addsign", "--define", "__gpg "+gpg, "--define", "_gpg_name signer@example.org",
		"--define", `_gpg_sign_cmd_extra_args --batch --pinentry-mode loopback --passphrase ""`, signed)
	return signed, keyID
}

func ripSigHeader(t *testing.T, file string) []byte {
	t.Helper()
	h, err := rpm.RipSigHeader(file)
	require.NoError(t, err)
	return h
}

func TestKojiRPMSigs(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		h := startRPMFilesHub(t, dsn)
		signedFile, key := signRPM(t, h.bin)
		admin := h.sslClient(t, "")
		anon := h.client(t)
		unsigned := ripSigHeader(t, h.bin)
		signed := ripSigHeader(t, signedFile)
		b64 := base64.StdEncoding.EncodeToString
		query := func(args ...any) any {
			var v any
			require.NoError(t, anon.Call(ctx, "queryRPMSigs", &v, args...))
			return v
		}
		assert.Equal(t, []any{}, query(h.binRPMID))
		// the unsigned header (key ''), then the signed one
		require.NoError(t, admin.Call(ctx, "addRPMSig", nil, h.binRPMID, b64(unsigned)))
		require.NoError(t, admin.Call(ctx, "addRPMSig", nil, "clog-2.0-1.x86_64", b64(signed)))
		sigUnsigned := map[string]any{"rpm_id": h.binRPMID, "sigkey": "", "sighash": md5Hex(string(unsigned))}
		sigSigned := map[string]any{"rpm_id": h.binRPMID, "sigkey": key, "sighash": md5Hex(string(signed))}
		assert.Equal(t, []any{sigUnsigned, sigSigned}, query(h.binRPMID))
		assert.Equal(t, []any{sigSigned}, query("clog-2.0-1.x86_64", strings.ToUpper(key)))
		assert.Equal(t, []any{sigSigned}, query(nil, key))
		assert.Equal(t, []any{}, query("nosuch-1-1.x86_64"))
		var n int64
		require.NoError(t, anon.CallKw(ctx, "queryRPMSigs", &n, nil, map[string]any{"queryOpts": map[string]any{"countOnly": true}}))
		assert.Equal(t, int64(2), n)
		var ordered []any
		require.NoError(t, anon.CallKw(ctx, "queryRPMSigs", &ordered, nil, map[string]any{"rpm_id": h.binRPMID,
			"queryOpts": map[string]any{"order": "-sigkey", "asList": true}}))
		// asList values come in alias order, as QueryProcessor sorts its columns
		assert.Equal(t, []any{[]any{h.binRPMID, md5Hex(string(signed)), key}, []any{h.binRPMID, md5Hex(string(unsigned)), ""}}, ordered)
		builddir := filepath.Join(h.top, "packages", "clog", "2.0", "1")
		cached, err := os.ReadFile(filepath.Join(builddir, "data", "sigcache", key, "x86_64", "clog-2.0-1.x86_64.rpm.sig"))
		require.NoError(t, err)
		assert.Equal(t, signed, cached)
		require.FileExists(t, filepath.Join(builddir, "data", "sigcache", "x86_64", "clog-2.0-1.x86_64.rpm.sig"))

		// the errors of add_rpm_sig
		for _, tc := range []struct {
			rpm  any
			data string
			want string
		}{
			{h.binRPMID, b64(signed), "Signature already exists for package clog-2.0-1.x86_64, key " + key},
			{h.binRPMID, b64(ripSigHeader(t, h.srpm)), "wrong md5 for clog-2.0-1.x86_64: "},
			{h.binRPMID, b64([]byte("junk header")), "Invalid rpm header: bad magic: b'jun'"},
			{999, b64(signed), "No such rpm: {'id': 999}"},
		} {
			got := faultString(t, admin, koji.ErrGeneric, "addRPMSig", []any{tc.rpm, tc.data}, nil)
			assert.True(t, strings.HasPrefix(got, tc.want), "%s, want %s", got, tc.want)
		}
		assert.Equal(t, "<class 'binascii.Error'>: Incorrect padding",
			faultString(t, admin, koji.FaultClass(1), "addRPMSig", []any{h.binRPMID, "abc"}, nil))
		assert.Equal(t, "sign permission required (user not logged in)",
			faultString(t, anon, koji.ErrActionNotAllowed, "addRPMSig", []any{h.binRPMID, b64(signed)}, nil))

		// writeSignedRPM splices the cached header in: rpmsign's file
		require.NoError(t, admin.Call(ctx, "writeSignedRPM", nil, h.binRPMID, strings.ToUpper(key)))
		written := filepath.Join(builddir, "data", "signed", key, "x86_64", "clog-2.0-1.x86_64.rpm")
		got, err := os.ReadFile(written)
		require.NoError(t, err)
		want, err := os.ReadFile(signedFile)
		require.NoError(t, err)
		assert.True(t, bytes.Equal(want, got), "the signed copy differs from rpmsign's")
		checksums := func() []store.RPMChecksum {
			var out []store.RPMChecksum
			require.NoError(t, h.koji.TaskTx(ctx, 0, func(ctx context.Context) error {
				var err error
				out, err = h.koji.RPMChecksumsForTest(ctx, h.binRPMID)
				return err
			}))
			return out
		}
		sha := sha256.Sum256(want)
		assert.Equal(t, []store.RPMChecksum{{RPMID: h.binRPMID, SigKey: key, Checksum: md5Hex(string(want)), ChecksumType: 0},
			{RPMID: h.binRPMID, SigKey: key, Checksum: hex.EncodeToString(sha[:]), ChecksumType: 2}}, checksums())
		// kept without force, written again with it
		require.NoError(t, os.WriteFile(written, []byte("kept"), 0o644))
		require.NoError(t, admin.Call(ctx, "writeSignedRPM", nil, h.binRPMID, key))
		got, _ = os.ReadFile(written)
		assert.Equal(t, "kept", string(got))
		require.NoError(t, admin.CallKw(ctx, "writeSignedRPM", nil, []any{h.binRPMID, key}, map[string]any{"force": true}))
		got, _ = os.ReadFile(written)
		assert.True(t, bytes.Equal(want, got))
		assert.Equal(t, "No cached signature for package clog-2.0-1.x86_64, key deadbeef",
			faultString(t, admin, koji.ErrGeneric, "writeSignedRPM", []any{h.binRPMID, "DEADBEEF"}, nil))
		assert.Equal(t, "sign permission required (user not logged in)",
			faultString(t, anon, koji.ErrActionNotAllowed, "writeSignedRPM", []any{h.binRPMID, key}, nil))

		// deleteRPMSig: one key, then all; the files go too
		assert.Equal(t, "No signature specified", faultString(t, admin, koji.ErrGeneric, "deleteRPMSig", []any{h.binRPMID}, nil))
		assert.Equal(t, "admin permission required (user not logged in)",
			faultString(t, anon, koji.ErrActionNotAllowed, "deleteRPMSig", []any{h.binRPMID, key}, nil))
		require.NoError(t, admin.Call(ctx, "deleteRPMSig", nil, h.binRPMID, key))
		assert.Equal(t, []any{sigUnsigned}, query(h.binRPMID))
		assert.Empty(t, checksums())
		assert.NoFileExists(t, written)
		assert.NoDirExists(t, filepath.Join(builddir, "data", "signed", key))
		assert.NoDirExists(t, filepath.Join(builddir, "data", "sigcache", key))
		require.NoError(t, admin.CallKw(ctx, "deleteRPMSig", nil, []any{"clog-2.0-1.x86_64"}, map[string]any{"all_sigs": true}))
		assert.Equal(t, []any{}, query(h.binRPMID))
		assert.Equal(t, "clog-2.0-1.x86_64 has no matching signatures to delete",
			faultString(t, admin, koji.ErrGeneric, "deleteRPMSig", []any{h.binRPMID}, map[string]any{"all_sigs": true}))
		// signed again after the deletion
		require.NoError(t, admin.Call(ctx, "addRPMSig", nil, h.binRPMID, b64(signed)))
		assert.Equal(t, []any{sigSigned}, query(h.binRPMID))
	})
}

// host.completeBuild stores each imported package's signature header, as
// upstream's import_build does; a host writes signed copies with
// host.writeSignedRPM.
func TestKojiHostBuildSigs(t *testing.T) {
	b := buildRPMs(t, "hello", "1.0", "1")
	signedFile, key := signRPM(t, b.rpms[0])
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		fh := startFilesHub(t, dsn, nil)
		task := openHostTask(t, fh, "buildArch", "tasks/1/1/hello-1.0-1.src.rpm", int64(1), "x86_64", false, map[string]any{})
		dir := "tasks/" + pyFmt(task) + "/" + pyFmt(task)
		files := upload(t, fh.host, dir, b.all()...)
		id := call(t, fh.host, "host.initBuild", []any{headerData(t, b.srpm, task)}, nil).(int64)
		call(t, fh.host, "host.completeBuild", []any{task, id, files[0], []any{files[1], files[2]}}, nil)
		var rpms []koji.RPM
		require.NoError(t, fh.admin.CallKw(ctx, "listRPMs", &rpms, nil, map[string]any{"buildID": id}))
		require.Len(t, rpms, 3)
		byName := map[string]int{}
		for _, r := range rpms {
			var sigs []any
			require.NoError(t, fh.admin.Call(ctx, "queryRPMSigs", &sigs, r.ID))
			require.Len(t, sigs, 1, r.NVRA())
			assert.Equal(t, "", sigs[0].(map[string]any)["sigkey"])
			byName[r.NVRA()] = r.ID
		}
		bin := byName["hello-1.0-1.x86_64"]
		require.NoError(t, fh.admin.Call(ctx, "addRPMSig", nil, bin, base64.StdEncoding.EncodeToString(ripSigHeader(t, signedFile))))
		require.NoError(t, fh.host.Call(ctx, "host.writeSignedRPM", nil, bin, key))
		got, err := os.ReadFile(filepath.Join(fh.top, "packages", "hello", "1.0", "1", "data", "signed", key, "x86_64",
			"hello-1.0-1.x86_64.rpm"))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(mustRead(t, signedFile), got))
		assert.Equal(t, "User 1 is not a host", faultString(t, fh.admin, koji.ErrAuth, "host.writeSignedRPM", []any{bin, key}, nil))
	})
}
