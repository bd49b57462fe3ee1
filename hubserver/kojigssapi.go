package hubserver

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/asn1tools"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/asnAppTag"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/service"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// A gssapiAcceptor checks the Kerberos tickets clients present in SPNEGO
// tokens against the hub's keytab: the part of a GSSAPI login that
// mod_auth_gssapi does in front of upstream's hub.
type gssapiAcceptor struct {
	keytab *keytab.Keytab
	// name and realm are AuthPrincipal's, "" to accept any principal of
	// the keytab.
	name, realm string
}

// newGSSAPIAcceptor loads AuthKeytab; it returns nil when GSSAPI logins
// are not configured.
func newGSSAPIAcceptor(cfg KojiConfig) (*gssapiAcceptor, error) {
	if cfg.AuthKeytab == "" {
		if cfg.AuthPrincipal != "" {
			return nil, errors.New("hubserver: AuthPrincipal is set without AuthKeytab")
		}
		return nil, nil
	}
	kt, err := keytab.Load(strings.TrimPrefix(cfg.AuthKeytab, "FILE:"))
	if err != nil {
		return nil, fmt.Errorf("hubserver: AuthKeytab: %w", err)
	}
	if len(kt.Entries) == 0 {
		return nil, fmt.Errorf("hubserver: AuthKeytab %s holds no keys", cfg.AuthKeytab)
	}
	a := &gssapiAcceptor{keytab: kt}
	if cfg.AuthPrincipal != "" {
		a.name, a.realm, _ = strings.Cut(cfg.AuthPrincipal, "@")
		if !keytabHolds(kt, a.name, a.realm) {
			return nil, fmt.Errorf("hubserver: AuthKeytab %s holds no key for AuthPrincipal %s", cfg.AuthKeytab, cfg.AuthPrincipal)
		}
	}
	return a, nil
}

// keytabHolds reports whether kt has a key for the principal name (in
// realm, unless realm is empty).
func keytabHolds(kt *keytab.Keytab, name, realm string) bool {
	for _, e := range kt.Entries {
		if e.Principal.Realm != realm && realm != "" {
			continue
		}
		if strings.Join(e.Principal.Components, "/") == name {
			return true
		}
	}
	return false
}

// An acceptError is a token the hub refuses; its text is logged, and the
// client is answered 401 as mod_auth_gssapi answers it.
type acceptError struct{ msg string }

func (e *acceptError) Error() string { return e.msg }

func refuse(format string, args ...any) error {
	return &acceptError{fmt.Sprintf(format, args...)}
}

// accept verifies a Negotiate token from a client at remoteAddr: a SPNEGO
// NegTokenInit carrying a Kerberos AP-REQ, or a bare Kerberos token. It
// returns the client's principal ("name@REALM") and, when the client asked
// for mutual authentication, the token that answers it: an AP-REP
// echoing the authenticator's time, which only the holder of the service
// key can make.
func (a *gssapiAcceptor) accept(token []byte, remoteAddr string) (string, []byte, error) {
	mechToken, wrapped := token, false
	var st spnego.SPNEGOToken
	if err := st.Unmarshal(token); err == nil {
		if !st.Init {
			return "", nil, refuse("the token is not a NegTokenInit")
		}
		if !offersKerberos(st.NegTokenInit.MechTypes) {
			return "", nil, refuse("the token offers no Kerberos mechanism")
		}
		mechToken, wrapped = st.NegTokenInit.MechTokenBytes, true
	}
	var krb spnego.KRB5Token
	if err := krb.Unmarshal(mechToken); err != nil {
		return "", nil, refuse("the token holds no Kerberos token: %v", err)
	}
	if !krb.IsAPReq() {
		return "", nil, refuse("the Kerberos token is not an AP-REQ")
	}
	apReq := krb.APReq
	if a.realm != "" && apReq.Ticket.Realm != a.realm {
		return "", nil, refuse("the ticket is for realm %s, not %s", apReq.Ticket.Realm, a.realm)
	}
	settings := []func(*service.Settings){service.DecodePAC(false)}
	if addr, err := types.GetHostAddress(remoteAddr); err == nil {
		settings = append(settings, service.ClientAddress(addr))
	}
	if a.name != "" {
		settings = append(settings, service.KeytabPrincipal(a.name))
	}
	ok, creds, err := service.VerifyAPREQ(&apReq, service.NewSettings(a.keytab, settings...))
	if !ok || err != nil {
		return "", nil, refuse("the AP-REQ does not verify: %v", err)
	}
	principal := creds.UserName() + "@" + creds.Domain()
	if !types.IsFlagSet(&apReq.APOptions, flags.APOptionMutualRequired) {
		return principal, nil, nil
	}
	reply, err := apRepToken(apReq, wrapped)
	if err != nil {
		return "", nil, err
	}
	return principal, reply, nil
}

// offersKerberos reports whether a SPNEGO mechanism list has Kerberos 5
// (or its Microsoft alias).
func offersKerberos(mechs []asn1.ObjectIdentifier) bool {
	for _, m := range mechs {
		if m.Equal(gssapi.OIDKRB5.OID()) || m.Equal(gssapi.OIDMSLegacyKRB5.OID()) {
			return true
		}
	}
	return false
}

// apRepToken builds the reply to apReq: the AP-REP (RFC 4120 5.5.2)
// encrypted under the ticket's session key, in a Kerberos mechanism token
// (RFC 1964 1.1: the mechanism OID, token id 02 00, the AP-REP) and, when
// the request came in SPNEGO, in a NegTokenResp accepting it.
func apRepToken(apReq messages.APReq, spnegoWrapped bool) ([]byte, error) {
	part, err := asn1.Marshal(messages.EncAPRepPart{CTime: apReq.Authenticator.CTime, Cusec: apReq.Authenticator.Cusec})
	if err != nil {
		return nil, err
	}
	key := apReq.Ticket.DecryptedEncPart.Key
	enc, err := crypto.GetEncryptedData(asn1tools.AddASNAppTag(part, asnAppTag.EncAPRepPart), key, keyusage.AP_REP_ENCPART, 0)
	if err != nil {
		return nil, err
	}
	rep, err := asn1.Marshal(messages.APRep{PVNO: 5, MsgType: msgtype.KRB_AP_REP, EncPart: enc})
	if err != nil {
		return nil, err
	}
	mech, err := asn1.Marshal(gssapi.OIDKRB5.OID())
	if err != nil {
		return nil, err
	}
	mech = append(mech, 0x02, 0x00)
	mech = asn1tools.AddASNAppTag(append(mech, asn1tools.AddASNAppTag(rep, asnAppTag.APREP)...), 0)
	if !spnegoWrapped {
		return mech, nil
	}
	resp := spnego.NegTokenResp{
		NegState:      asn1.Enumerated(spnego.NegStateAcceptCompleted),
		SupportedMech: gssapi.OIDKRB5.OID(),
		ResponseToken: mech,
	}
	return resp.Marshal()
}

type gssapiPrincipalKey struct{}

// gssapiPrincipal returns the Kerberos principal the request authenticated
// with, as mod_auth_gssapi sets REMOTE_USER.
func gssapiPrincipal(ctx context.Context) (string, bool) {
	p, ok := ctx.Value(gssapiPrincipalKey{}).(string)
	return p, ok
}

// middleware answers ServerOffline and serves the GSSAPI handshake in
// front of the hub.
func (k *Koji) middleware(next http.Handler) http.Handler {
	path := strings.TrimRight(k.cfg.Path, "/")
	if path == "" {
		path = DefaultPath
	}
	loginPath := path + "/ssllogin"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method != http.MethodPost:
		case k.cfg.ServerOffline:
			k.offlineReply(w)
			return
		case k.krb != nil && r.URL.Path == loginPath:
			k.negotiate(w, r, next)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// offlineReply answers a request while ServerOffline is set: HTTP 200
// carrying a ServerOffline fault, as upstream's offline_reply.
func (k *Koji) offlineReply(w http.ResponseWriter) {
	msg := k.cfg.OfflineMessage
	if msg == "" {
		msg = "server is offline"
	}
	var body bytes.Buffer
	if err := xmlrpc.NewEncoder(&body).EncodeFault(&xmlrpc.Fault{Code: int(koji.ErrServerOffline), String: xmlSafe(msg)}); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	version := k.cfg.KojiVersion
	if version == "" {
		version = DefaultKojiVersion
	}
	w.Header().Set("Koji-Version", version)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", fmt.Sprint(body.Len()))
	w.WriteHeader(http.StatusOK)
	w.Write(body.Bytes())
}

// negotiate serves a POST to the ssllogin URL of a hub with a keytab, as
// httpd with mod_auth_gssapi does: a request with a valid Negotiate token
// goes on to sslLogin with its principal, and its reply carries the
// mutual authentication token in WWW-Authenticate; one without a token is
// asked for one (401 "WWW-Authenticate: Negotiate"), unless it came with
// a verified client certificate, for an SSL login; a bad token is refused
// with 401.
func (k *Koji) negotiate(w http.ResponseWriter, r *http.Request, next http.Handler) {
	// The body is not read yet: the method is not known, nor the user
	// until the token is accepted.
	log := labelled(k.logger(), "", "", 0)
	scheme, data, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !strings.EqualFold(scheme, "Negotiate") {
		if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
			next.ServeHTTP(w, r)
			return
		}
		unauthorized(w)
		return
	}
	token, err := base64.StdEncoding.DecodeString(strings.TrimSpace(data))
	var principal string
	var reply []byte
	if err == nil {
		principal, reply, err = k.krb.accept(token, r.RemoteAddr)
	}
	if err != nil {
		log.Info("GSSAPI authentication failed", "remote", r.RemoteAddr, "error", err)
		unauthorized(w)
		return
	}
	log.Debug("GSSAPI authentication succeeded", "remote", r.RemoteAddr, "principal", principal)
	if reply != nil {
		w.Header().Set("WWW-Authenticate", "Negotiate "+base64.StdEncoding.EncodeToString(reply))
	}
	next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), gssapiPrincipalKey{}, principal)))
}

// unauthorized asks for (or refuses) a Negotiate token, as
// mod_auth_gssapi does.
func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", "Negotiate")
	http.Error(w, "Unauthorized", http.StatusUnauthorized)
}

// checkKrbPrincipal refuses a principal whose realm AllowedKrbRealms does
// not allow, as upstream's Session.checkKrbPrincipal.
func (k *Koji) checkKrbPrincipal(principal string) error {
	realms := k.cfg.AllowedKrbRealms
	if len(realms) == 0 || len(realms) == 1 && realms[0] == "*" {
		return nil
	}
	at := strings.IndexByte(principal, '@')
	if at < 0 || at == len(principal)-1 {
		return fault(koji.ErrAuth, "invalid Kerberos principal: %s", principal)
	}
	realm := principal[at+1:]
	for _, r := range realms {
		if r == realm {
			return nil
		}
	}
	return fault(koji.ErrAuth, "Kerberos principal's realm: %s is not allowed", realm)
}
