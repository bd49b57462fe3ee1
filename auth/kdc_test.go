package auth_test

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/stretchr/testify/require"
)

const testRealm = "GOKOJI.TEST"

// testKDC is a real MIT Kerberos KDC for one test, on a loopback port,
// with its database, configuration and keytabs in a temporary directory.
type testKDC struct {
	dir      string
	krb5Conf string // the client configuration
	env      []string
	kadmin   string
}

// krbProgram finds an MIT Kerberos program, which Debian puts in
// /usr/sbin, outside a normal user's PATH; the test is skipped (failed
// under CI) when it is not installed.
func krbProgram(t *testing.T, name string) string {
	t.Helper()
	if path, err := exec.LookPath(name); err == nil {
		return path
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
		path := filepath.Join(dir, name)
		if fi, err := os.Stat(path); err == nil && fi.Mode()&0o111 != 0 {
			return path
		}
	}
	return testenv.Command(t, name)
}

// freePort returns a loopback port free for both TCP and UDP.
func freePort(t *testing.T) int {
	t.Helper()
	for range 20 {
		tl, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		port := tl.Addr().(*net.TCPAddr).Port
		ul, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		tl.Close()
		if err == nil {
			ul.Close()
			return port
		}
	}
	t.Fatal("no free loopback port")
	return 0
}

// writeKrb5Conf writes a client configuration for the test realm whose
// KDC is at 127.0.0.1:port.
func writeKrb5Conf(t *testing.T, dir string, port int) string {
	t.Helper()
	path := filepath.Join(dir, "krb5.conf")
	conf := fmt.Sprintf(`[libdefaults]
	default_realm = %[1]s
	dns_lookup_kdc = false
	dns_lookup_realm = false
	rdns = false
	udp_preference_limit = 1

[realms]
	%[1]s = {
		kdc = 127.0.0.1:%[2]d
	}
`, testRealm, port)
	require.NoError(t, os.WriteFile(path, []byte(conf), 0o600))
	return path
}

func startKDC(t *testing.T) *testKDC {
	t.Helper()
	krb5kdc := krbProgram(t, "krb5kdc")
	kdbUtil := krbProgram(t, "kdb5_util")
	k := &testKDC{dir: t.TempDir(), kadmin: krbProgram(t, "kadmin.local")}
	port := freePort(t)
	k.krb5Conf = writeKrb5Conf(t, k.dir, port)
	kdcConf := filepath.Join(k.dir, "kdc.conf")
	require.NoError(t, os.WriteFile(kdcConf, []byte(fmt.Sprintf(`[kdcdefaults]
	kdc_listen = 127.0.0.1:%[2]d
	kdc_tcp_listen = 127.0.0.1:%[2]d

[realms]
	%[1]s = {
		database_name = %[3]s/principal
		key_stash_file = %[3]s/stash
		acl_file = %[3]s/kadm5.acl
		max_life = 1h 0m 0s
		supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
	}

[logging]
	kdc = FILE:%[3]s/kdc.log
	default = FILE:%[3]s/krb5.log
`, testRealm, port, k.dir)), 0o600))
	k.env = append(os.Environ(), "KRB5_CONFIG="+k.krb5Conf, "KRB5_KDC_PROFILE="+kdcConf)

	k.run(t, kdbUtil, "create", "-s", "-P", "master-password", "-r", testRealm)
	kdc := exec.Command(krb5kdc, "-n", "-r", testRealm)
	kdc.Env = k.env
	var out bytes.Buffer
	kdc.Stdout, kdc.Stderr = &out, &out
	require.NoError(t, kdc.Start())
	exited := make(chan error, 1)
	go func() { exited <- kdc.Wait() }()
	t.Cleanup(func() {
		_ = kdc.Process.Kill()
		<-exited
	})

	deadline := time.Now().Add(15 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			conn.Close()
			return k
		}
		select {
		case err := <-exited:
			log, _ := os.ReadFile(filepath.Join(k.dir, "kdc.log"))
			t.Fatalf("krb5kdc exited (%v): %s %s", err, out.String(), log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("krb5kdc does not answer on port %d: %s", port, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// run runs a Kerberos program with the test realm's configuration.
func (k *testKDC) run(t *testing.T, program string, args ...string) string {
	t.Helper()
	cmd := exec.Command(program, args...)
	cmd.Env = k.env
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %s: %s", program, strings.Join(args, " "), out)
	return string(out)
}

// kadminQuery runs one kadmin.local request; kadmin.local exits 0 even
// when the request fails, so its output is checked too.
func (k *testKDC) kadminQuery(t *testing.T, query string) {
	t.Helper()
	out := k.run(t, k.kadmin, "-r", testRealm, "-q", query)
	for _, bad := range []string{"error", "Error", "not found", "while "} {
		require.NotContains(t, out, bad, "kadmin.local -q %q", query)
	}
}

// addPrincipal creates a principal with random keys that must
// pre-authenticate, so that a wrong key is refused by the KDC.
func (k *testKDC) addPrincipal(t *testing.T, name string) {
	t.Helper()
	k.kadminQuery(t, "addprinc -randkey +requires_preauth "+name)
}

// exportKeytab writes name's keys to a new keytab. ktadd gives the
// principal new keys each time, so an earlier export goes stale.
func (k *testKDC) exportKeytab(t *testing.T, name, file string) string {
	t.Helper()
	path := filepath.Join(k.dir, file)
	k.kadminQuery(t, fmt.Sprintf("ktadd -k %s %s", path, name))
	return path
}
