// Package krbtest runs a real MIT Kerberos KDC for tests: krb5kdc on a
// loopback port, with its database, configuration and keytabs in the
// test's temporary directory, stopped when the test ends.
//
// The MIT programs (krb5kdc, kdb5_util, kadmin.local, kinit) must be
// installed; a test that needs one that is missing is skipped, or fails
// under CI=true (see internal/testenv).
package krbtest

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
)

// Realm is the realm of every KDC Start runs.
const Realm = "GOKOJI.TEST"

// A KDC is a running test KDC.
type KDC struct {
	// Dir is the temporary directory holding the KDC's files; keytabs
	// are exported there.
	Dir string
	// Krb5Conf is a client configuration (krb5.conf) for Realm whose
	// KDC is this one.
	Krb5Conf string
	// Env is the environment for running MIT programs against this KDC:
	// the process's own with KRB5_CONFIG and KRB5_KDC_PROFILE set.
	Env []string

	kadmin string
}

// Program finds an MIT Kerberos program, which Debian puts in /usr/sbin,
// outside a normal user's PATH; the test is skipped (failed under CI)
// when it is not installed.
func Program(t testing.TB, name string) string {
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

// FreePort returns a loopback port free for both TCP and UDP.
func FreePort(t testing.TB) int {
	t.Helper()
	for range 20 {
		tl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("krbtest: %v", err)
		}
		port := tl.Addr().(*net.TCPAddr).Port
		ul, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		tl.Close()
		if err == nil {
			ul.Close()
			return port
		}
	}
	t.Fatal("krbtest: no free loopback port")
	return 0
}

// WriteKrb5Conf writes, in dir, a client configuration for Realm whose
// KDC is at 127.0.0.1:port, and returns its path.
func WriteKrb5Conf(t testing.TB, dir string, port int) string {
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
`, Realm, port)
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatalf("krbtest: %v", err)
	}
	return path
}

// Start creates a realm database in a temporary directory and runs
// krb5kdc for it on a free loopback port until the test ends.
func Start(t testing.TB) *KDC {
	t.Helper()
	krb5kdc := Program(t, "krb5kdc")
	kdbUtil := Program(t, "kdb5_util")
	k := &KDC{Dir: t.TempDir(), kadmin: Program(t, "kadmin.local")}
	port := FreePort(t)
	k.Krb5Conf = WriteKrb5Conf(t, k.Dir, port)
	kdcConf := filepath.Join(k.Dir, "kdc.conf")
	err := os.WriteFile(kdcConf, []byte(fmt.Sprintf(`[kdcdefaults]
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
`, Realm, port, k.Dir)), 0o600)
	if err != nil {
		t.Fatalf("krbtest: %v", err)
	}
	k.Env = append(os.Environ(), "KRB5_CONFIG="+k.Krb5Conf, "KRB5_KDC_PROFILE="+kdcConf)

	k.Run(t, kdbUtil, "create", "-s", "-P", "master-password", "-r", Realm)
	kdc := exec.Command(krb5kdc, "-n", "-r", Realm)
	kdc.Env = k.Env
	var out bytes.Buffer
	kdc.Stdout, kdc.Stderr = &out, &out
	if err := kdc.Start(); err != nil {
		t.Fatalf("krbtest: krb5kdc: %v", err)
	}
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
			log, _ := os.ReadFile(filepath.Join(k.Dir, "kdc.log"))
			t.Fatalf("krbtest: krb5kdc exited (%v): %s %s", err, out.String(), log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("krbtest: krb5kdc does not answer on port %d: %s", port, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Run runs a Kerberos program with the realm's configuration and returns
// its combined output; a failure fails the test.
func (k *KDC) Run(t testing.TB, program string, args ...string) string {
	t.Helper()
	cmd := exec.Command(program, args...)
	cmd.Env = k.Env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("krbtest: %s %s: %v: %s", program, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Kadmin runs one kadmin.local request. kadmin.local exits 0 even when
// the request fails, so its output is checked too.
func (k *KDC) Kadmin(t testing.TB, query string) {
	t.Helper()
	out := k.Run(t, k.kadmin, "-r", Realm, "-q", query)
	for _, bad := range []string{"error", "Error", "not found", "while "} {
		if strings.Contains(out, bad) {
			t.Fatalf("krbtest: kadmin.local -q %q: %s", query, out)
		}
	}
}

// AddPrincipal creates a principal with random keys that must
// pre-authenticate, so that a wrong key is refused by the KDC.
func (k *KDC) AddPrincipal(t testing.TB, name string) {
	t.Helper()
	k.Kadmin(t, "addprinc -randkey +requires_preauth "+name)
}

// AddService creates a service principal, such as "HTTP/127.0.0.1",
// with random keys.
func (k *KDC) AddService(t testing.TB, name string) {
	t.Helper()
	k.Kadmin(t, "addprinc -randkey "+name)
}

// ExportKeytab writes name's keys to a new keytab file in Dir and returns
// its path. ktadd gives the principal new keys each time, so an earlier
// export goes stale.
func (k *KDC) ExportKeytab(t testing.TB, name, file string) string {
	t.Helper()
	path := filepath.Join(k.Dir, file)
	k.Kadmin(t, fmt.Sprintf("ktadd -k %s %s", path, name))
	return path
}
