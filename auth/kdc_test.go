package auth_test

import (
	"testing"

	"github.com/gokoji/gokoji/internal/krbtest"
)

// The KDC these tests use is internal/krbtest's, shared with the hub's
// GSSAPI tests; these names keep the tests short.

const testRealm = krbtest.Realm

// testKDC is a real MIT Kerberos KDC for one test.
type testKDC struct {
	*krbtest.KDC
	krb5Conf string // the client configuration
}

func startKDC(t *testing.T) *testKDC {
	t.Helper()
	k := krbtest.Start(t)
	return &testKDC{KDC: k, krb5Conf: k.Krb5Conf}
}

func krbProgram(t *testing.T, name string) string { return krbtest.Program(t, name) }

func freePort(t *testing.T) int { return krbtest.FreePort(t) }

func writeKrb5Conf(t *testing.T, dir string, port int) string {
	return krbtest.WriteKrb5Conf(t, dir, port)
}

func (k *testKDC) run(t *testing.T, program string, args ...string) string {
	t.Helper()
	return k.Run(t, program, args...)
}

func (k *testKDC) kadminQuery(t *testing.T, query string) {
	t.Helper()
	k.Kadmin(t, query)
}

func (k *testKDC) addPrincipal(t *testing.T, name string) {
	t.Helper()
	k.AddPrincipal(t, name)
}

func (k *testKDC) exportKeytab(t *testing.T, name, file string) string {
	t.Helper()
	return k.ExportKeytab(t, name, file)
}
