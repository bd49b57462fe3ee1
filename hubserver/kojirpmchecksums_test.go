package hubserver_test

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/koji"
)

// fileSums are a file's md5, sha1 and sha256, hex.
func fileSums(t *testing.T, file string) map[string]string {
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	m, s1, s256 := md5.Sum(data), sha1.Sum(data), sha256.Sum256(data)
	return map[string]string{"md5": hex.EncodeToString(m[:]), "sha1": hex.EncodeToString(s1[:]), "sha256": hex.EncodeToString(s256[:])}
}

// TestKojiRPMChecksums: getRPMChecksums answers, per signature key of
// the RPM, the checksums of its signed copy: computed (from the RPM with
// the cached header spliced in, as no copy is written) and recorded when
// missing, None for missing ones with cacheonly, the default types md5
// and sha256; upstream's faults for bad arguments; also through Python's
// xmlrpc.client.
func TestKojiRPMChecksums(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		h := startRPMFilesHub(t, dsn)
		require.NoError(t, h.koji.SetPassword(ctx, "kojiadmin", "secret"))
		signedFile, key := signRPM(t, h.bin)
		admin := h.sslClient(t, "")
		anon := h.client(t)
		get := func(kw map[string]any) any { return call(t, anon, "getRPMChecksums", []any{h.binRPMID}, kw) }
		assert.Equal(t, map[string]any{}, get(nil), "no signatures")

		b64 := base64.StdEncoding.EncodeToString
		require.NoError(t, admin.Call(ctx, "addRPMSig", nil, h.binRPMID, b64(ripSigHeader(t, h.bin))))
		require.NoError(t, admin.Call(ctx, "addRPMSig", nil, h.binRPMID, b64(ripSigHeader(t, signedFile))))
		unsigned, signed := fileSums(t, h.bin), fileSums(t, signedFile)
		assert.Equal(t, map[string]any{"": map[string]any{"sha1": nil}, key: map[string]any{"sha1": nil}},
			get(map[string]any{"checksum_types": []any{"sha1"}, "cacheonly": true}), "nothing recorded yet")
		assert.Equal(t, map[string]any{
			"":  map[string]any{"md5": unsigned["md5"], "sha256": unsigned["sha256"]},
			key: map[string]any{"md5": signed["md5"], "sha256": signed["sha256"]},
		}, get(nil), "the RPM with each header spliced in")
		assert.Equal(t, map[string]any{"": map[string]any{"sha1": unsigned["sha1"], "md5": unsigned["md5"]},
			key: map[string]any{"sha1": signed["sha1"], "md5": signed["md5"]}},
			get(map[string]any{"checksum_types": []any{"sha1", "md5"}}))
		var rows int
		require.NoError(t, h.koji.TaskTx(ctx, 0, func(ctx context.Context) error {
			recorded, err := h.koji.RPMChecksumsForTest(ctx, h.binRPMID)
			rows = len(recorded)
			return err
		}))
		assert.Equal(t, 6, rows, "three types for each of the two keys")
		assert.Equal(t, map[string]any{"": map[string]any{"sha1": unsigned["sha1"]}, key: map[string]any{"sha1": signed["sha1"]}},
			get(map[string]any{"checksum_types": []any{"sha1"}, "cacheonly": true}))

		for _, tc := range []struct {
			args []any
			kw   map[string]any
			want string
		}{
			{[]any{"clog-2.0-1.x86_64"}, nil, "rpm_id must be an integer"},
			{[]any{h.binRPMID, "md5"}, nil, "checksum_type must be a list"},
			{[]any{h.binRPMID, []any{"sha512"}}, nil, "Checksum_type sha512 isn't supported"},
			{[]any{999}, nil, "No such rpm: {'id': 999}"},
		} {
			assert.Equal(t, tc.want, faultString(t, anon, koji.ErrGeneric, "getRPMChecksums", tc.args, tc.kw))
		}

		out := runPySession(t, h.kojiHub, []pyCall{pycall("getRPMChecksums", []any{h.binRPMID}, nil)})
		require.Nil(t, out[0].Fault)
		assert.Equal(t, map[string]any{"dict": map[string]any{
			"":  map[string]any{"dict": map[string]any{"md5": "str", "sha256": "str"}},
			key: map[string]any{"dict": map[string]any{"md5": "str", "sha256": "str"}},
		}}, out[0].Types)
	})
	assertUpstreamSignatures(t, "getRPMChecksums")
}
