package auth

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/asn1tools"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/chksumtype"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"
)

// serviceTicket is what a SPNEGO token is made from: the hub's service
// ticket, its session key and the client's name.
type serviceTicket struct {
	ticket messages.Ticket
	key    types.EncryptionKey
	realm  string
	cname  types.PrincipalName
}

// gssapiFlags are the GSS-API context flags the token asks for: mutual
// authentication, as requests-gssapi requires, with integrity and
// confidentiality like gokrb5's own tokens.
const gssapiFlags = gssapi.ContextFlagMutual | gssapi.ContextFlagInteg | gssapi.ContextFlagConf

// negotiateToken returns a SPNEGO NegTokenInit holding a fresh Kerberos
// AP-REQ that asks for mutual authentication, and the authenticator sent
// in it, which the hub's AP-REP must echo.
func (st *serviceTicket) negotiateToken() ([]byte, types.Authenticator, error) {
	auth, err := types.NewAuthenticator(st.realm, st.cname)
	if err != nil {
		return nil, auth, err
	}
	// The authenticator travels with whole seconds; keep what the hub sees.
	auth.CTime = auth.CTime.Truncate(time.Second)
	// RFC 4121 4.1.1: no channel bindings, then the flags.
	cksum := make([]byte, 24)
	binary.LittleEndian.PutUint32(cksum[0:4], 16)
	binary.LittleEndian.PutUint32(cksum[20:24], gssapiFlags)
	auth.Cksum = types.Checksum{CksumType: chksumtype.GSSAPI, Checksum: cksum}

	apReq, err := messages.NewAPReq(st.ticket, st.key, auth)
	if err != nil {
		return nil, auth, err
	}
	types.SetFlag(&apReq.APOptions, flags.APOptionMutualRequired)
	apReqBytes, err := apReq.Marshal()
	if err != nil {
		return nil, auth, err
	}
	// The Kerberos mechanism token (RFC 1964 1.1): its OID, the AP-REQ
	// token id, the AP-REQ.
	mech, err := asn1.Marshal(gssapi.OIDKRB5.OID())
	if err != nil {
		return nil, auth, err
	}
	mech = append(mech, 0x01, 0x00)
	mech = asn1tools.AddASNAppTag(append(mech, apReqBytes...), 0)
	tok := spnego.SPNEGOToken{Init: true, NegTokenInit: spnego.NegTokenInit{
		MechTypes:      []asn1.ObjectIdentifier{gssapi.OIDKRB5.OID()},
		MechTokenBytes: mech,
	}}
	b, err := tok.Marshal()
	return b, auth, err
}

// verifyAPRep checks the hub's reply token: a SPNEGO NegTokenResp (or a
// bare Kerberos token) whose AP-REP decrypts with the session key and
// carries the time of the authenticator sent. Only the holder of the
// hub's service key could read that time from the AP-REQ.
func (st *serviceTicket) verifyAPRep(token []byte, sent types.Authenticator) error {
	mech := token
	if len(token) > 0 && token[0] == 0xa1 { // [1] NegTokenResp
		var resp spnego.NegTokenResp
		if err := resp.Unmarshal(token); err != nil {
			return fmt.Errorf("the hub's Negotiate token: %w", err)
		}
		if resp.State() == spnego.NegStateReject {
			return errors.New("the hub rejected the Kerberos token")
		}
		if len(resp.ResponseToken) == 0 {
			return errors.New("the hub's Negotiate token carries no AP-REP, so the hub is not authenticated")
		}
		mech = resp.ResponseToken
	}
	var krb spnego.KRB5Token
	if err := krb.Unmarshal(mech); err != nil {
		return fmt.Errorf("the hub's Kerberos token: %w", err)
	}
	switch {
	case krb.IsKRBError():
		return fmt.Errorf("the hub answered with a Kerberos error: %s", krb.KRBError.Error())
	case !krb.IsAPRep():
		return errors.New("the hub's Kerberos token is not an AP-REP")
	}
	plain, err := crypto.DecryptEncPart(krb.APRep.EncPart, st.key, keyusage.AP_REP_ENCPART)
	if err != nil {
		return fmt.Errorf("the hub's AP-REP does not decrypt with the session key: %w", err)
	}
	var part messages.EncAPRepPart
	if err := part.Unmarshal(plain); err != nil {
		return fmt.Errorf("the hub's AP-REP: %w", err)
	}
	if !part.CTime.Equal(sent.CTime) || part.Cusec != sent.Cusec {
		return errors.New("the hub's AP-REP does not answer the authenticator sent")
	}
	return nil
}

// A mutualAuthError reports a SPNEGO exchange that failed on the client's
// side; it is not a connection error, and the login is not tried again.
type mutualAuthError struct{ err error }

func (e *mutualAuthError) Error() string { return e.err.Error() }
func (e *mutualAuthError) Unwrap() error { return e.err }

// spnegoTransport speaks SPNEGO as requests-gssapi does for Koji's client:
// the request goes first without a token; a 401 asking for Negotiate is
// answered by sending it again with one; a successful reply must
// authenticate the hub.
type spnegoTransport struct {
	base   *http.Transport
	ticket *serviceTicket
}

func (t *spnegoTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusUnauthorized || !asksNegotiate(resp) {
		if resp.StatusCode/100 == 2 {
			discard(resp)
			return nil, &mutualAuthError{errors.New("the hub answered without asking for Negotiate authentication, so it is not authenticated")}
		}
		return resp, nil
	}
	discard(resp)
	if req.GetBody == nil {
		return nil, &mutualAuthError{errors.New("the login request cannot be sent again with a token")}
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	token, sent, err := t.ticket.negotiateToken()
	if err != nil {
		return nil, &mutualAuthError{fmt.Errorf("building the Kerberos token: %w", err)}
	}
	retry := req.Clone(req.Context())
	retry.Body = body
	retry.Header.Set("Authorization", "Negotiate "+base64.StdEncoding.EncodeToString(token))
	resp, err = t.base.RoundTrip(retry)
	if err != nil || resp.StatusCode/100 != 2 {
		return resp, err
	}
	reply, ok := negotiateReply(resp)
	if !ok {
		discard(resp)
		return nil, &mutualAuthError{errors.New("the hub's reply carries no Negotiate token, so the hub is not authenticated")}
	}
	if err := t.ticket.verifyAPRep(reply, sent); err != nil {
		discard(resp)
		return nil, &mutualAuthError{err}
	}
	return resp, nil
}

// asksNegotiate reports a WWW-Authenticate challenge for Negotiate.
func asksNegotiate(resp *http.Response) bool {
	for _, v := range resp.Header.Values("WWW-Authenticate") {
		scheme, _, _ := strings.Cut(strings.TrimSpace(v), " ")
		if strings.EqualFold(scheme, "Negotiate") {
			return true
		}
	}
	return false
}

// negotiateReply returns the token of a "WWW-Authenticate: Negotiate
// <base64>" header.
func negotiateReply(resp *http.Response) ([]byte, bool) {
	for _, v := range resp.Header.Values("WWW-Authenticate") {
		scheme, data, _ := strings.Cut(strings.TrimSpace(v), " ")
		if !strings.EqualFold(scheme, "Negotiate") || data == "" {
			continue
		}
		if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(data)); err == nil {
			return b, true
		}
	}
	return nil, false
}
