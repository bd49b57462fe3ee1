package hubserver_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// pyURLSession logs bob in with Python and returns the hub URL carrying
// his session the pre-1.31 way, in the query string.
func pyURLSession(t *testing.T, kh *kojiHub, ca string) (string, map[string]any) {
	var login []map[string]any
	runPython(t, []any{[]any{"login", []any{"bob", "secret"}, nil}}, &login, "call", kh.hub.URL(), ca)
	require.Contains(t, login[0], "result", "%v", login)
	s := login[0]["result"].(map[string]any)
	return fmt.Sprintf("%s?session-id=%v&session-key=%v", kh.hub.URL(), s["session-id"], s["session-key"]), s
}

func TestKojiDisableURLSessions(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		kh := startKoji(t, dsn, nil)
		withBob(t, kh)
		ca := filepath.Join(t.TempDir(), "ca.pem")
		require.NoError(t, os.WriteFile(ca, kh.pki.CAPEM, 0o600))
		url, _ := pyURLSession(t, kh, ca)
		var out []map[string]any
		runPython(t, []any{[]any{"getLoggedInUser", []any{}, nil}}, &out, "call", url, ca)
		assert.Equal(t, "bob", out[0]["result"].(map[string]any)["name"])
		// A query string without a session is refused, as upstream's
		// parse of the session args refuses it.
		out = nil
		runPython(t, []any{[]any{"getLoggedInUser", []any{}, nil}}, &out, "call", kh.hub.URL()+"?foo=bar", ca)
		assert.Equal(t, []any{float64(koji.ErrAuth), "'session-id' not specified in session args"}, out[0]["fault"])

		kh = startKoji(t, dsn, func(c *hubserver.KojiConfig) { c.DisableURLSessions = true })
		require.NoError(t, os.WriteFile(ca, kh.pki.CAPEM, 0o600))
		url, _ = pyURLSession(t, kh, ca)
		out = nil
		runPython(t, []any{
			[]any{"getLoggedInUser", []any{}, nil},
			[]any{"showSession", []any{}, nil},
		}, &out, "call", url, ca)
		assert.Equal(t, map[string]any{"result": nil}, out[0], "the session in the URL is ignored")
		assert.Equal(t, "session: not logged in (no Koji-Session-* headers)", out[1]["result"])
		// Headers still work.
		bob := kh.passwordLogin(t, "bob", "secret")
		assert.Equal(t, "bob", bob.ok(t, 0, "getLoggedInUser").(map[string]any)["name"])
	})
}

func TestKojiLockOut(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		withBob(t, kh)
		kh = startKoji(t, dsn, func(c *hubserver.KojiConfig) { c.LockOut = true })
		const offline = "Server disabled for maintenance"
		// Logins and logout pass, everything else needs admin.
		bob := kh.passwordLogin(t, "bob", "secret")
		assert.Equal(t, offline, bob.fault(t, 0, koji.ErrServerOffline, "getLoggedInUser"))
		assert.Equal(t, offline, bob.fault(t, 1, koji.ErrServerOffline, "multiCall", []any{}))
		bob.ok(t, 2, "logout")
		err := kh.client(t).Call(ctx, "getAPIVersion", nil)
		var kf *koji.Fault
		require.ErrorAs(t, err, &kf)
		assert.Equal(t, [2]any{int(koji.ErrServerOffline), offline}, [2]any{kf.Code, kf.String})

		admin := kh.sslClient(t, "")
		var me map[string]any
		require.NoError(t, admin.Call(ctx, "getLoggedInUser", &me))
		assert.Equal(t, "kojiadmin", me["name"])
		var shown string
		require.NoError(t, admin.Call(ctx, "showSession", &shown))
		assert.Contains(t, shown, "'_perms': {'admin': 1}", "the lockout check read the permissions")
	})
}

func TestKojiServerOffline(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		for _, tc := range []struct{ message, want string }{
			{"", "server is offline"},
			{"back at noon", "back at noon"},
		} {
			kh := startKoji(t, dsn, func(c *hubserver.KojiConfig) { c.ServerOffline, c.OfflineMessage = true, tc.message })
			hc := &http.Client{Transport: &http.Transport{TLSClientConfig: kh.pki.ClientTLS(false)}}
			body, err := xmlrpc.MarshalCall("noSuchMethod")
			require.NoError(t, err)
			for _, url := range []string{kh.hub.URL(), kh.hub.URL() + "/ssllogin"} {
				r := post(t, hc, url, "text/xml", body)
				assert.Equal(t, http.StatusOK, r.status)
				assert.Equal(t, "text/xml", r.header.Get("Content-Type"))
				var v any
				err = xmlrpc.NewDecoder(bytes.NewReader(r.body)).DecodeResponse(&v)
				f, ok := err.(*xmlrpc.Fault)
				require.True(t, ok, "%v", err)
				assert.Equal(t, xmlrpc.Fault{Code: int(koji.ErrServerOffline), String: tc.want}, *f)
			}
			// Only POST is answered so: anything else is 405 first.
			resp, err := hc.Get(kh.hub.URL())
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
		}
	})
}

// dictKeys lists the keys of a Python dict repr's top level, in order.
func dictKeys(repr string) []string {
	var keys []string
	depth := 0
	re := regexp.MustCompile(`^'([A-Za-z_]+)': `)
	for i := 0; i < len(repr); i++ {
		switch repr[i] {
		case '{', '(':
			depth++
			if depth == 1 {
				if m := re.FindStringSubmatch(repr[i+1:]); m != nil {
					keys = append(keys, m[1])
				}
			}
		case '}', ')':
			depth--
		case ',':
			if depth == 1 {
				if m := re.FindStringSubmatch(repr[i+2:]); m != nil {
					keys = append(keys, m[1])
				}
			}
		}
	}
	return keys
}

func TestKojiShowSession(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		var anon string
		require.NoError(t, kh.client(t).Call(ctx, "showSession", &anon))
		assert.Equal(t, "session: not logged in (no session header or session args)", anon)

		admin := kh.sslClient(t, "")
		var shown string
		require.NoError(t, admin.Call(ctx, "showSession", &shown))
		want := recorded(t, "showSession").(string)
		prefix := regexp.MustCompile(`^session (\d+): (\{.*\})$`)
		wm, gm := prefix.FindStringSubmatch(want), prefix.FindStringSubmatch(shown)
		require.NotNil(t, gm, shown)
		assert.Equal(t, dictKeys(wm[2]), dictKeys(gm[2]), "members in upstream's order")
		inner := regexp.MustCompile(`'session_data': (\{.*\})\}$`)
		assert.Equal(t, dictKeys(inner.FindStringSubmatch(wm[2])[1]), dictKeys(inner.FindStringSubmatch(gm[2])[1]))

		// Every value, against the session row as getSessionInfo reads it.
		info, ok := admin.Session()
		require.True(t, ok)
		var row map[string]any
		require.NoError(t, admin.CallKw(ctx, "getSessionInfo", &row, nil, map[string]any{"details": true}))
		start, err := time.Parse("2006-01-02 15:04:05.999999-07:00", row["start_time"].(string))
		require.NoError(t, err)
		require.NoError(t, admin.Call(ctx, "showSession", &shown))
		exp := fmt.Sprintf("session %d: {'logged_in': True, 'id': %d, 'master': None, 'key': '%s', 'user_id': 1, "+
			"'authtype': 2, 'hostip': '127.0.0.1', 'user_data': {'name': 'kojiadmin', 'status': 0, 'usertype': 0}, "+
			"'message': '', 'exclusive': False, 'lockerror': None, 'callnum': %%d, '_perms': None, '_groups': None, "+
			"'_host_id': '', 'session_data': {'authtype': 2, 'callnum': None, 'exclusive': None, 'expired': False, "+
			"'master': None, 'renew_time': None, 'renew_ts': None, 'start_time': %s, 'start_ts': %%s, ",
			info.ID, info.ID, info.Key, pyDatetimeRepr(start))
		var callnum int
		var startTS string
		m := regexp.MustCompile(`'callnum': (\d+), '_perms'.*'start_ts': ([0-9.]+), `).FindStringSubmatch(shown)
		require.NotNil(t, m, shown)
		fmt.Sscan(m[1], &callnum)
		startTS = m[2]
		assert.Equal(t, fmt.Sprintf(exp, callnum, startTS), shown[:len(fmt.Sprintf(exp, callnum, startTS))])
		assert.Regexp(t, `'update_time': datetime\.datetime\([0-9, ]+, tzinfo=datetime\.timezone\.utc\), 'update_ts': [0-9.]+, 'user_id': 1\}\}$`, shown)

		// Python's xmlrpc.client sees the same text.
		ca := filepath.Join(t.TempDir(), "ca.pem")
		require.NoError(t, os.WriteFile(ca, kh.pki.CAPEM, 0o600))
		var out []map[string]any
		runPython(t, []any{[]any{"showSession", []any{}, nil}}, &out, "call", kh.hub.URL(), ca)
		assert.Equal(t, "session: not logged in (no session header or session args)", out[0]["result"])
	})
}

// pyDatetimeRepr is Python's repr of an aware UTC datetime.
func pyDatetimeRepr(t time.Time) string {
	t = t.UTC()
	s := fmt.Sprintf("datetime.datetime(%d, %d, %d, %d, %d", t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute())
	switch {
	case t.Nanosecond() != 0:
		s += fmt.Sprintf(", %d, %d", t.Second(), t.Nanosecond()/1000)
	case t.Second() != 0:
		s += fmt.Sprintf(", %d", t.Second())
	}
	return s + ", tzinfo=datetime.timezone.utc)"
}
