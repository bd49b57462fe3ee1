package auth_test

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gokoji/gokoji/auth"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/asn1tools"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/asnAppTag"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/service"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// How kerberosHub answers an authenticated login.
type hubReply int

const (
	replyAPRep        hubReply = iota // mutual authentication, as mod_auth_gssapi does
	replyNoToken                      // no Negotiate token at all
	replyAPRepBadTime                 // an AP-REP for another authenticator
	replyAPRepBadKey                  // an AP-REP under another key
	replyNeverAsk                     // no authentication asked: 200 at once
)

// kerberosHub acts as httpd with mod_auth_gssapi in front of the hub's
// /ssllogin: it asks for Negotiate, checks the AP-REQ against the HTTP
// service keytab, answers with an AP-REP, and serves sslLogin for the
// principal.
type kerberosHub struct {
	t      *testing.T
	keytab *keytab.Keytab
	reply  hubReply
	rec    recorder

	mu         sync.Mutex
	principals []string // authenticated, in order
}

func (h *kerberosHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	call := h.rec.add(h.t, r)
	if h.reply == replyNeverAsk {
		reply(h.t, w, session(40, "1-kerberoskey"))
		return
	}
	scheme, data, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if scheme != "Negotiate" {
		w.Header().Set("WWW-Authenticate", "Negotiate")
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	raw, err := base64.StdEncoding.DecodeString(data)
	require.NoError(h.t, err)
	var tok spnego.SPNEGOToken
	require.NoError(h.t, tok.Unmarshal(raw))
	require.True(h.t, tok.Init)
	var mech spnego.KRB5Token
	require.NoError(h.t, mech.Unmarshal(tok.NegTokenInit.MechTokenBytes))
	require.True(h.t, mech.IsAPReq())
	apReq := mech.APReq
	ok, creds, err := service.VerifyAPREQ(&apReq, service.NewSettings(h.keytab, service.DecodePAC(false)))
	if !ok {
		h.t.Logf("AP-REQ refused: %v", err)
		w.Header().Set("WWW-Authenticate", "Negotiate oQcwBaADCgEC") // reject
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	assert.True(h.t, types.IsFlagSet(&apReq.APOptions, flags.APOptionMutualRequired), "mutual authentication is required")
	principal := creds.UserName() + "@" + creds.Domain()
	h.mu.Lock()
	h.principals = append(h.principals, principal)
	h.mu.Unlock()

	key := apReq.Ticket.DecryptedEncPart.Key
	ctime, cusec := apReq.Authenticator.CTime, apReq.Authenticator.Cusec
	switch h.reply {
	case replyAPRep:
		w.Header().Set("WWW-Authenticate", "Negotiate "+apRepToken(h.t, key, ctime, cusec))
	case replyAPRepBadTime:
		w.Header().Set("WWW-Authenticate", "Negotiate "+apRepToken(h.t, key, ctime, cusec+1))
	case replyAPRepBadKey:
		other := types.EncryptionKey{KeyType: key.KeyType, KeyValue: make([]byte, len(key.KeyValue))}
		_, _ = rand.Read(other.KeyValue)
		w.Header().Set("WWW-Authenticate", "Negotiate "+apRepToken(h.t, other, ctime, cusec))
	}
	if call.Method != "sslLogin" || r.URL.Path != "/kojihub/ssllogin" {
		reply(h.t, w, &xmlrpc.Fault{Code: 1000, String: "unexpected " + call.Method})
		return
	}
	reply(h.t, w, session(40, "1-kerberoskey"))
}

// apRepToken builds the SPNEGO reply mod_auth_gssapi sends: a NegTokenResp
// accepting the Kerberos mechanism, whose response token is the AP-REP
// (RFC 4120 5.5.2) echoing the authenticator's time.
func apRepToken(t *testing.T, key types.EncryptionKey, ctime time.Time, cusec int) string {
	part, err := asn1.Marshal(messages.EncAPRepPart{CTime: ctime, Cusec: cusec})
	require.NoError(t, err)
	enc, err := crypto.GetEncryptedData(asn1tools.AddASNAppTag(part, asnAppTag.EncAPRepPart), key, keyusage.AP_REP_ENCPART, 0)
	require.NoError(t, err)
	rep, err := asn1.Marshal(messages.APRep{PVNO: 5, MsgType: msgtype.KRB_AP_REP, EncPart: enc})
	require.NoError(t, err)
	mech, err := asn1.Marshal(gssapi.OIDKRB5.OID())
	require.NoError(t, err)
	mech = append(mech, 0x02, 0x00)
	mech = asn1tools.AddASNAppTag(append(mech, asn1tools.AddASNAppTag(rep, asnAppTag.APREP)...), 0)
	resp := spnego.NegTokenResp{
		NegState:      asn1.Enumerated(spnego.NegStateAcceptCompleted),
		SupportedMech: gssapi.OIDKRB5.OID(),
		ResponseToken: mech,
	}
	b, err := resp.Marshal()
	require.NoError(t, err)
	return base64.StdEncoding.EncodeToString(b)
}

// kerberosSetup is a KDC with a user, kojiuser, and the hub's service
// principal, HTTP/127.0.0.1.
type kerberosSetup struct {
	kdc           *testKDC
	userKeytab    string
	staleKeytab   string // kojiuser's keys before the last export
	serviceKeytab *keytab.Keytab
	ca            *testCA
	userFullName  string
}

func newKerberosSetup(t *testing.T) *kerberosSetup {
	kdc := startKDC(t)
	kdc.addPrincipal(t, "kojiuser")
	kdc.kadminQuery(t, "addprinc -randkey HTTP/127.0.0.1")
	s := &kerberosSetup{kdc: kdc, ca: newTestCA(t, "ca"), userFullName: "kojiuser@" + testRealm}
	s.staleKeytab = kdc.exportKeytab(t, "kojiuser", "stale.keytab")
	s.userKeytab = kdc.exportKeytab(t, "kojiuser", "user.keytab")
	kt, err := keytab.Load(kdc.exportKeytab(t, "HTTP/127.0.0.1", "http.keytab"))
	require.NoError(t, err)
	s.serviceKeytab = kt
	return s
}

func (s *kerberosSetup) hub(t *testing.T, r hubReply) (*kerberosHub, *httptest.Server) {
	h := &kerberosHub{t: t, keytab: s.serviceKeytab, reply: r}
	return h, startTLSHub(t, h, s.ca, tls.NoClientCert, nil)
}

func TestGSSAPI(t *testing.T) {
	s := newKerberosSetup(t)
	ctx := context.Background()

	t.Run("keytab", func(t *testing.T) {
		h, srv := s.hub(t, replyAPRep)
		c := newTestClient(t, srv.URL+"/kojihub", s.ca)

		err := c.Login(ctx, &auth.GSSAPI{Principal: s.userFullName, Keytab: s.userKeytab, Krb5Conf: s.kdc.krb5Conf})

		require.NoError(t, err)
		info, _ := c.Session()
		assert.Equal(t, int64(40), info.ID)
		assert.Equal(t, []string{s.userFullName}, h.principals)
		calls := h.rec.all()
		require.Len(t, calls, 2, "the first request goes without a token, as requests-gssapi sends it")
		assert.Empty(t, calls[0].Header.Get("Authorization"))
		assert.True(t, strings.HasPrefix(calls[1].Header.Get("Authorization"), "Negotiate "))
		assert.Equal(t, calls[0].Body, calls[1].Body)
		assert.Equal(t, "/kojihub/ssllogin", calls[1].Path)
		assert.Equal(t, map[string]any{"proxyuser": nil}, calls[1].Kwargs)
	})

	t.Run("principal without realm and proxy user", func(t *testing.T) {
		h, srv := s.hub(t, replyAPRep)
		c := newTestClient(t, srv.URL+"/kojihub", s.ca)

		require.NoError(t, c.Login(ctx, &auth.GSSAPI{Principal: "kojiuser", Keytab: "FILE:" + s.userKeytab,
			Krb5Conf: s.kdc.krb5Conf, ProxyUser: "testuser"}))

		calls := h.rec.all()
		assert.Equal(t, map[string]any{"proxyuser": "testuser"}, calls[len(calls)-1].Kwargs)
	})

	t.Run("credential cache", func(t *testing.T) {
		ccache := filepath.Join(t.TempDir(), "ccache")
		s.kdc.run(t, krbProgram(t, "kinit"), "-k", "-t", s.userKeytab, "-c", "FILE:"+ccache, s.userFullName)
		h, srv := s.hub(t, replyAPRep)

		c := newTestClient(t, srv.URL+"/kojihub", s.ca)
		require.NoError(t, c.Login(ctx, &auth.GSSAPI{CCache: ccache, Krb5Conf: s.kdc.krb5Conf}))

		t.Setenv("KRB5CCNAME", "FILE:"+ccache)
		t.Setenv("KRB5_CONFIG", s.kdc.krb5Conf)
		c = newTestClient(t, srv.URL+"/kojihub", s.ca)
		require.NoError(t, c.Login(ctx, &auth.GSSAPI{Principal: s.userFullName}), "KRB5CCNAME and KRB5_CONFIG by default")
		assert.Equal(t, []string{s.userFullName, s.userFullName}, h.principals)

		err := c.Login(ctx, &auth.GSSAPI{Principal: "someone@" + testRealm})
		assert.ErrorIs(t, err, koji.ErrGSSAPIAuth)
		assert.Contains(t, err.Error(), "holds credentials for kojiuser@"+testRealm)
	})

	t.Run("wrong keytab", func(t *testing.T) {
		h, srv := s.hub(t, replyAPRep)
		c := newTestClient(t, srv.URL+"/kojihub", s.ca)

		err := c.Login(ctx, &auth.GSSAPI{Principal: s.userFullName, Keytab: s.staleKeytab, Krb5Conf: s.kdc.krb5Conf})

		var le *auth.LoginError
		require.ErrorAs(t, err, &le)
		assert.ErrorIs(t, err, koji.ErrGSSAPIAuth)
		assert.ErrorIs(t, err, koji.ErrAuth)
		assert.Contains(t, err.Error(), "unable to obtain a session (gssapi auth failed:")
		assert.False(t, c.LoggedIn())
		assert.Empty(t, h.rec.all(), "no ticket, no request")
	})

	for _, tc := range []struct {
		name     string
		reply    hubReply
		requests int
		message  string
	}{
		{"hub sends no AP-REP", replyNoToken, 2, "carries no Negotiate token"},
		{"AP-REP for another authenticator", replyAPRepBadTime, 2, "does not answer the authenticator"},
		{"AP-REP under another key", replyAPRepBadKey, 2, "does not decrypt with the session key"},
		{"hub never asks", replyNeverAsk, 1, "without asking for Negotiate"},
	} {
		t.Run("mutual authentication fails: "+tc.name, func(t *testing.T) {
			h, srv := s.hub(t, tc.reply)
			c := newTestClient(t, srv.URL+"/kojihub", s.ca)

			err := c.Login(ctx, &auth.GSSAPI{Principal: s.userFullName, Keytab: s.userKeytab, Krb5Conf: s.kdc.krb5Conf})

			assert.ErrorIs(t, err, koji.ErrGSSAPIAuth)
			assert.ErrorContains(t, err, tc.message)
			assert.False(t, c.LoggedIn(), "an unauthenticated hub's session is not used")
			assert.Len(t, h.rec.all(), tc.requests, "not tried again")
		})
	}

	t.Run("connection errors are tried again", func(t *testing.T) {
		for _, tc := range []struct {
			drop, maxRetries, accepted int
			ok                         bool
		}{
			{drop: 2, maxRetries: 3, accepted: 3, ok: true},
			{drop: 5, maxRetries: 2, accepted: 2, ok: false},
		} {
			h := &kerberosHub{t: t, keytab: s.serviceKeytab, reply: replyAPRep}
			srv := httptest.NewUnstartedServer(h)
			serverCert, _ := s.ca.issue(t, "hub", true)
			srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}}
			flaky := &droppingListener{Listener: srv.Listener, drop: int32(tc.drop)}
			srv.Listener = flaky
			srv.Config.ErrorLog = discardLog
			srv.StartTLS()
			t.Cleanup(srv.Close)
			p := koji.DefaultProfile()
			p.Server, p.ServerCA, p.Cert = srv.URL+"/kojihub", s.ca.file, ""
			p.MaxRetries, p.RetryInterval = tc.maxRetries, 5*time.Millisecond
			c, err := koji.NewClientFromProfile(p)
			require.NoError(t, err)

			err = c.Login(ctx, &auth.GSSAPI{Principal: s.userFullName, Keytab: s.userKeytab, Krb5Conf: s.kdc.krb5Conf})

			assert.Equal(t, tc.ok, err == nil, "drop %d, max_retries %d: %v", tc.drop, tc.maxRetries, err)
			if !tc.ok {
				assert.ErrorIs(t, err, koji.ErrGSSAPIAuth)
			}
			assert.Equal(t, int32(tc.accepted), flaky.accepted.Load(), "connections made")
			c.Close()
		}
	})

	t.Run("open a profile", func(t *testing.T) {
		h, srv := s.hub(t, replyAPRep)
		t.Setenv("KRB5_CONFIG", s.kdc.krb5Conf)
		p := koji.DefaultProfile()
		p.Server, p.ServerCA, p.Cert = srv.URL+"/kojihub", s.ca.file, ""
		p.AuthType, p.Principal, p.Keytab = "kerberos", s.userFullName, s.userKeytab

		c, err := auth.OpenProfile(ctx, p)

		require.NoError(t, err)
		defer c.Close()
		assert.True(t, c.LoggedIn())
		assert.Equal(t, []string{s.userFullName}, h.principals)
	})
}

// droppingListener closes the first drop connections it accepts, as a hub
// restarting would.
type droppingListener struct {
	net.Listener
	drop     int32
	accepted atomic.Int32
}

func (l *droppingListener) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.accepted.Add(1) > l.drop {
			return conn, nil
		}
		conn.Close()
	}
}

func TestGSSAPIKDCDown(t *testing.T) {
	dir := t.TempDir()
	krb5Conf := writeKrb5Conf(t, dir, freePort(t))
	kt := keytab.New()
	require.NoError(t, kt.AddEntry("kojiuser", testRealm, "password", time.Now(), 1, etypeID.AES256_CTS_HMAC_SHA1_96))
	ktBytes, err := kt.Marshal()
	require.NoError(t, err)
	ktFile := filepath.Join(dir, "user.keytab")
	require.NoError(t, os.WriteFile(ktFile, ktBytes, 0o600))
	ca := newTestCA(t, "ca")
	rec := &recorder{}
	srv := startTLSHub(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { rec.add(t, r) }), ca, tls.NoClientCert, nil)
	c := newTestClient(t, srv.URL+"/kojihub", ca)

	start := time.Now()
	err = c.Login(context.Background(), &auth.GSSAPI{Principal: "kojiuser", Keytab: ktFile, Krb5Conf: krb5Conf})

	assert.Less(t, time.Since(start), 5*time.Second, "a KDC that is down fails at once")
	assert.ErrorIs(t, err, koji.ErrGSSAPIAuth)
	assert.ErrorContains(t, err, "KDC")
	assert.Empty(t, rec.all())
}

func TestGSSAPIBadSettings(t *testing.T) {
	dir := t.TempDir()
	krb5Conf := writeKrb5Conf(t, dir, 88)
	c := newTestClient(t, "https://127.0.0.1:1/kojihub", nil)
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		g       auth.GSSAPI
		message string
	}{
		{"keytab without principal", auth.GSSAPI{Keytab: "/nonexistent", Krb5Conf: krb5Conf}, "needs a principal"},
		{"missing keytab", auth.GSSAPI{Principal: "u", Keytab: filepath.Join(dir, "none"), Krb5Conf: krb5Conf}, "keytab"},
		{"keyring cache", auth.GSSAPI{CCache: "KEYRING:persistent:0", Krb5Conf: krb5Conf}, "only files"},
		{"missing cache", auth.GSSAPI{CCache: filepath.Join(dir, "none"), Krb5Conf: krb5Conf}, "credential cache"},
		{"missing configuration", auth.GSSAPI{Principal: "u", Keytab: "/x", Krb5Conf: filepath.Join(dir, "none.conf")}, "kerberos configuration"},
		{"service principal with realm", auth.GSSAPI{ServicePrincipal: "HTTP/hub@" + testRealm}, "without a realm"},
	} {
		err := c.Login(ctx, &tc.g)
		assert.ErrorIs(t, err, koji.ErrGSSAPIAuth, tc.name)
		assert.ErrorContains(t, err, tc.message, tc.name)
	}
}

func TestGSSAPIHonoursContext(t *testing.T) {
	// A KDC that accepts connections and never answers.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { silent.Close() })
	go func() {
		for {
			conn, err := silent.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { conn.Close() })
		}
	}()
	dir := t.TempDir()
	krb5Conf := writeKrb5Conf(t, dir, silent.Addr().(*net.TCPAddr).Port)
	kt := keytab.New()
	require.NoError(t, kt.AddEntry("kojiuser", testRealm, "password", time.Now(), 1, etypeID.AES256_CTS_HMAC_SHA1_96))
	ktBytes, err := kt.Marshal()
	require.NoError(t, err)
	ktFile := filepath.Join(dir, "user.keytab")
	require.NoError(t, os.WriteFile(ktFile, ktBytes, 0o600))
	c := newTestClient(t, "https://127.0.0.1:1/kojihub", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()

	start := time.Now()
	err = c.Login(ctx, &auth.GSSAPI{Principal: "kojiuser", Keytab: ktFile, Krb5Conf: krb5Conf})

	assert.Less(t, time.Since(start), 2*time.Second)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, koji.ErrGSSAPIAuth)
}
