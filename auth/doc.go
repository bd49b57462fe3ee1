// Package auth logs koji clients in to a hub the ways Koji's own client
// does: with an SSL client certificate (SSL), with Kerberos through SPNEGO
// (GSSAPI), or with a user name and password (Password). Each is a
// koji.Authenticator: koji.Client.Login installs the session it obtains and
// runs it again, with renew set, when the hub reports the session expired.
//
// Open loads a profile and returns a client logged in as the profile says,
// choosing the method as the koji command-line client does (FromProfile):
//
//	c, err := auth.Open(ctx, "koji")
//	if err != nil { … }
//	defer c.Close()
//
// # Certificates and TLS versions
//
// sslLogin goes to <hub>/ssllogin over https, so that the web server can ask
// for the client certificate on that one location. Go's TLS client answers
// a certificate request made in the handshake, at any TLS version, and the
// renegotiation a TLS 1.2 server starts to ask for one later; it does not
// implement TLS 1.3 post-handshake authentication. Hence:
//
//   - A hub that asks for the certificate in the handshake works over any
//     TLS version: httpd's SSLVerifyClient require for the whole virtual
//     host, or optional for the host with no SSLVerifyClient at /ssllogin.
//     Optional for the host with Koji's require at /ssllogin is the case of
//     the next point: to apply the stricter setting httpd wants
//     post-handshake authentication although it has the certificate, and
//     answers 403 saying it cannot perform it.
//   - A hub that asks only at /ssllogin (SSLVerifyClient require inside
//     <Location /kojihub/ssllogin>, as Koji's example httpd.conf has it)
//     works over TLS 1.2, where httpd renegotiates. Over TLS 1.3 httpd
//     would need post-handshake authentication and answers 403 instead;
//     when a TLS 1.3 login is refused with 403 although the hub never asked
//     for the certificate, or with httpd's "Cannot perform Post-Handshake
//     Authentication", SSL sends it once more over TLS 1.2 (any other 403 of
//     a hub that asked for the certificate is final). That needs
//     a hub that still accepts TLS 1.2: with one that accepts only TLS 1.3,
//     the login fails with httpd's 403, a *koji.HTTPError inside the
//     *LoginError, and the failed TLS 1.2 handshake is only logged; such a
//     hub has to ask in the handshake, as above.
//
// All of these are tested against Apache httpd 2.4 with mod_ssl.
//
// Koji's client keeps presenting the certificate on every request once
// logged in. Open does the same by giving the client a transport with the
// certificate; a client logged in with Login or Client.Login presents it
// only to sslLogin, which is enough unless the hub requires the certificate
// on every request.
//
// # Kerberos
//
// GSSAPI obtains a service ticket for HTTP/<hub host> with
// github.com/jcmturner/gokrb5, from a keytab or a credential cache, and
// speaks SPNEGO as requests-gssapi does for Koji's client: the first
// request goes without a token, the hub's 401 with "WWW-Authenticate:
// Negotiate" is answered with the token, and mutual authentication is
// required. The hub's reply must carry a Negotiate token holding the
// Kerberos AP-REP, and the login is accepted only if that AP-REP decrypts
// with the service ticket's session key and echoes the time stamp of the
// authenticator this client sent, which only the holder of the service key
// can produce. A reply without it fails, as with requests-gssapi; so does a
// reply whose token is a KRB-ERROR or a rejection. The subkey and sequence
// number an AP-REP may carry are not used: no message is protected with
// them afterwards, the session lives on in Koji's session key.
//
// # Errors and secrets
//
// A failed SSL or Kerberos login is a *LoginError, for which errors.Is
// holds with koji.ErrAuth, and with koji.ErrGSSAPIAuth for Kerberos, as for
// upstream's AuthError and GSSAPIAuthError; it wraps the cause, such as the
// hub's *koji.Fault. A password login returns the hub's fault as it is,
// like upstream. No error or log line carries a session key or a password.
package auth

import (
	"fmt"

	"github.com/gokoji/gokoji/koji"
)

// A LoginError reports a certificate or Kerberos login that obtained no
// session, as upstream's "unable to obtain a session" errors do.
// errors.Is matches it against Class and the classes above it, and
// against anything in the chain of Err.
type LoginError struct {
	Class  koji.FaultClass // koji.ErrAuth, or koji.ErrGSSAPIAuth for Kerberos
	Method string          // "ssl" or "gssapi"
	Err    error
}

func (e *LoginError) Error() string {
	return fmt.Sprintf("koji: unable to obtain a session (%s auth failed: %v)", e.Method, e.Err)
}

func (e *LoginError) Unwrap() error { return e.Err }

// Is reports whether target is the error's class or one of its ancestors.
func (e *LoginError) Is(target error) bool {
	return (&koji.Fault{Code: int(e.Class)}).Is(target)
}
