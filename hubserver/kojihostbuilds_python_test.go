package hubserver_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/koji"
)

// A builder written with Python's xmlrpc.client uploads a package,
// records its build with host.initBuild and imports it with
// host.completeBuild.
func TestKojiHostCompleteBuildPython(t *testing.T) {
	b := buildRPMs(t, "hello", "1.0", "1")
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		py := testenv.Command(t, "python3")
		top := filepath.Join(t.TempDir(), "koji")
		kh := startKoji(t, dsn, func(cfg *hubserver.KojiConfig) { cfg.TopDir = top })
		admin := kh.sslClient(t, "")
		var hostID int64
		require.NoError(t, admin.Call(ctx, "addHost", &hostID, "pybuilder", []any{"x86_64"}))
		var task int64
		taskTx(t, kh, 1, func(ctx context.Context) error {
			var err error
			task, err = kh.koji.MakeTaskForTest(ctx, "buildArch", []any{"x", int64(1), "x86_64", false, map[string]any{}}, hubserver.TaskOpts{})
			return err
		})
		taskOpen(t, kh, hostID, task)

		h, pki := builderHub(t, kh, "pybuilder")
		dir := t.TempDir()
		key, err := x509.MarshalPKCS8PrivateKey(pki.Client.PrivateKey)
		require.NoError(t, err)
		for name, data := range map[string][]byte{
			"ca.pem":   pki.CAPEM,
			"cert.pem": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pki.Client.Certificate[0]}),
			"key.pem":  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}),
		} {
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o600))
		}
		args := append([]string{"testdata/pyhostbuild.py", h.URL(), filepath.Join(dir, "ca.pem"),
			filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), pyFmt(task)}, b.all()...)
		cmd := exec.CommandContext(ctx, py, args...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		stdout, err := cmd.Output()
		require.NoError(t, err, stderr.String())
		var out map[string]any
		require.NoError(t, json.Unmarshal(stdout, &out), string(stdout))

		var build map[string]any
		require.NoError(t, admin.Call(ctx, "getBuild", &build, "hello-1.0-1"))
		assert.EqualValues(t, build["id"], out["build_id"])
		assert.Equal(t, asJSON(t, build), out["completeBuild"], "completeBuild answers the build as getBuild does")
		assert.Equal(t, int64(1), build["state"])
		assert.Equal(t, []any{float64(koji.ErrGeneric), "Unable to complete build: state is COMPLETE"}, out["again"])
		var rpms []any
		require.NoError(t, admin.CallKw(ctx, "listRPMs", &rpms, nil, map[string]any{"buildID": build["id"]}))
		assert.Len(t, rpms, 3)
		pi := koji.PathInfo{TopDir: top}
		for _, f := range b.all() {
			arch := filepath.Ext(strings.TrimSuffix(filepath.Base(f), ".rpm"))[1:]
			assert.FileExists(t, pi.Build(&koji.Build{Name: "hello", Version: "1.0", Release: "1"})+"/"+arch+"/"+filepath.Base(f))
		}
	})
}
