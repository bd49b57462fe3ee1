package builder

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"os"
	"slices"
	"strings"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// kojid's defaults for its mail options (kojid.conf smtphost and
// from_addr).
const (
	DefaultSMTPHost = "example.com"
	DefaultFromAddr = "Koji Build System <buildsys@example.com>"
)

// notifyWeight is kojid's TagNotificationTask and BuildNotificationTask
// _taskWeight.
const notifyWeight = 0.1

// Mail is how the notification handlers send mail, kojid.conf's
// smtphost, from_addr, smtp_user and smtp_pass: as kojid's
// smtplib.SMTP(smtphost), a plain SMTP connection to Host ("host" or
// "host:port", port 25 by default; DefaultSMTPHost when empty), logging
// in when both User and Password are set, with FromAddr
// (DefaultFromAddr when empty) as the sender.
type Mail struct {
	Host, FromAddr string
	User, Password string
}

func (m Mail) from() string {
	if m.FromAddr == "" {
		return DefaultFromAddr
	}
	return m.FromAddr
}

// head is a notification's first headers, as kojid's templates start.
func (m Mail) head(subject, to string) string {
	return "From: " + m.from() + "\r\nSubject: " + subject + "\r\nTo: " + to + "\r\n"
}

// addr is the address smtplib's quoteaddr puts in MAIL FROM and RCPT TO:
// the address part of a "Name <address>" form, else the text as it is.
func addr(s string) string {
	if a, err := mail.ParseAddress(s); err == nil {
		return a.Address
	}
	return strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "<"), ">")
}

// send sends msg, a whole message with its headers, to the recipients as
// kojid's server.sendmail(from_addr, recipients, message).
func (m Mail) send(ctx context.Context, recipients []string, msg string) error {
	host := m.Host
	if host == "" {
		host = DefaultSMTPHost
	}
	name, port, err := net.SplitHostPort(host)
	if err != nil {
		// smtplib splits "host:port" only on a single colon
		name, port = host, "25"
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(name, port))
	if err != nil {
		return fmt.Errorf("builder: smtp %s: %w", host, err)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c, err := smtp.NewClient(conn, name)
	if err != nil {
		conn.Close()
		return fmt.Errorf("builder: smtp %s: %w", host, err)
	}
	defer c.Close()
	if err := m.exchange(c, recipients, msg); err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return fmt.Errorf("builder: smtp %s: %w", host, err)
	}
	return nil
}

func (m Mail) exchange(c *smtp.Client, recipients []string, msg string) error {
	local, err := os.Hostname()
	if err != nil || local == "" {
		local = "localhost"
	}
	if err := c.Hello(local); err != nil {
		return err
	}
	if m.User != "" && m.Password != "" {
		if err := m.login(c); err != nil {
			return err
		}
	}
	if err := c.Mail(addr(m.from())); err != nil {
		return err
	}
	for _, r := range recipients {
		if err := c.Rcpt(addr(r)); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(msg)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// login is smtplib's SMTP.login: the first of CRAM-MD5, PLAIN and LOGIN
// the server offers, on the connection as it is (kojid starts no TLS).
func (m Mail) login(c *smtp.Client) error {
	ok, offered := c.Extension("AUTH")
	if !ok {
		//lint:ignore ST1005 smtplib's message, which fails kojid's task
		return errors.New("SMTP AUTH extension not supported by server.")
	}
	mechs := strings.Fields(strings.ToUpper(offered))
	var a smtp.Auth
	switch {
	case slices.Contains(mechs, "CRAM-MD5"):
		a = smtp.CRAMMD5Auth(m.User, m.Password)
	case slices.Contains(mechs, "PLAIN"):
		a = &clearAuth{mech: "PLAIN", user: m.User, password: m.Password}
	case slices.Contains(mechs, "LOGIN"):
		a = &clearAuth{mech: "LOGIN", user: m.User, password: m.Password}
	default:
		//lint:ignore ST1005 smtplib's message, which fails kojid's task
		return errors.New("No suitable authentication method found.")
	}
	return c.Auth(a)
}

// clearAuth is smtplib's AUTH PLAIN and AUTH LOGIN, which it sends on a
// connection without TLS too (net/smtp's PlainAuth refuses to).
type clearAuth struct {
	mech, user, password string
	step                 int
}

func (a *clearAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	if a.mech == "PLAIN" {
		return "PLAIN", []byte("\x00" + a.user + "\x00" + a.password), nil
	}
	return "LOGIN", nil, nil
}

func (a *clearAuth) Next(_ []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	a.step++
	switch {
	case a.mech == "LOGIN" && a.step == 1:
		return []byte(a.user), nil
	case a.mech == "LOGIN" && a.step == 2:
		return []byte(a.password), nil
	}
	return nil, fmt.Errorf("unexpected server challenge in AUTH %s", a.mech)
}

// stringList reads the recipients parameter, a list of addresses.
func stringList(method string, v any) ([]string, error) {
	l, ok := v.([]any)
	if !ok && v != nil {
		return nil, Fail(koji.ErrParameter, "%s: recipients must be a list, not %T", method, v)
	}
	out := make([]string, len(l))
	for i, e := range l {
		s, ok := e.(string)
		if !ok {
			return nil, Fail(koji.ErrParameter, "%s: recipient %v is not a string", method, e)
		}
		out[i] = s
	}
	return out, nil
}

// pyBool is Python's str of a truth value, as kojid's templates print it.
func pyBool(v any) string {
	if xmlrpc.Truthy(v) {
		return "True"
	}
	return "False"
}

// buildLabel is koji.buildLabel: <package name>-<version>-<release>.
func buildLabel(b map[string]any) string {
	name, _ := b["package_name"].(string)
	if name == "" {
		name, _ = b["name"].(string)
	}
	return fmt.Sprintf("%s-%v-%v", name, b["version"], b["release"])
}

// TagNotification is kojid's tagNotification handler
// (TagNotificationTask): it mails the recipients the hub chose how a
// tagging, untagging or move of a build went. Without recipients, or for
// a success with ignore_success, it sends nothing.
type TagNotification struct{ Mail Mail }

// Methods is ["tagNotification"].
func (TagNotification) Methods() []string { return []string{"tagNotification"} }

// Weight is kojid's 0.1.
func (TagNotification) Weight(*Task) float64 { return notifyWeight }

// Handle runs handler(recipients, is_successful, tag_info, from_info,
// build_info, user_info, ignore_success=None, failure_msg=”).
func (h TagNotification) Handle(ctx context.Context, t *Task) (any, error) {
	a, err := t.args([]string{"recipients", "is_successful", "tag_info", "from_info", "build_info", "user_info",
		"ignore_success", "failure_msg"}, 6)
	if err != nil {
		return nil, err
	}
	recipients, err := stringList(t.Method, a["recipients"])
	if err != nil {
		return nil, err
	}
	ok := xmlrpc.Truthy(a["is_successful"])
	switch {
	case len(recipients) == 0:
		t.Logger.Debug("builder: no recipients, not sending notifications")
		return nil, nil
	case ok && xmlrpc.Truthy(a["ignore_success"]):
		t.Logger.Debug("builder: tag operation successful and ignore success is true, not sending notifications")
		return nil, nil
	}
	var build, user map[string]any
	if err := t.Client.Call(ctx, "getBuild", &build, a["build_info"]); err != nil {
		return nil, err
	}
	if err := t.Client.Call(ctx, "getUser", &user, a["user_info"]); err != nil {
		return nil, err
	}
	if build == nil || user == nil {
		return nil, Fail(koji.ErrGeneric, "tagNotification: no such build or user (%v, %v)", a["build_info"], a["user_info"])
	}
	tagName := func(info any) (string, error) {
		var tag map[string]any
		if err := t.Client.Call(ctx, "getTag", &tag, info); err != nil {
			return "", err
		}
		if tag == nil {
			return "", Fail(koji.ErrGeneric, "tagNotification: no such tag: %v", info)
		}
		name, _ := tag["name"].(string)
		return name, nil
	}
	var action, operation, details, tagHeaders string
	if xmlrpc.Truthy(a["from_info"]) {
		name, err := tagName(a["from_info"])
		if err != nil {
			return nil, err
		}
		operation += " from " + name
		details += "From Tag: " + name + "\r\n"
		tagHeaders += "X-Koji-Tag: " + name
		action = "untagged"
	}
	if xmlrpc.Truthy(a["tag_info"]) {
		name, err := tagName(a["tag_info"])
		if err != nil {
			return nil, err
		}
		operation += " into " + name
		details += "Into Tag: " + name + "\r\n"
		if tagHeaders != "" {
			tagHeaders += "\r\n"
		}
		tagHeaders += "X-Koji-Tag: " + name
		action = "tagged"
	}
	if xmlrpc.Truthy(a["tag_info"]) && xmlrpc.Truthy(a["from_info"]) {
		action = "moved"
	}
	if action == "" {
		return nil, Fail(koji.ErrGeneric, "tagNotification: neither a tag nor a source tag")
	}
	operation = action + operation
	details = "Tag Operation: " + action + "\r\n" + details
	result, status, failure := "successfully", "complete", ""
	if !ok {
		result, status = "unsuccessfully", "failed"
		msg := ""
		if v, given := a["failure_msg"]; given {
			msg = pyText(v)
		}
		failure = "Operation failed with the error:\r\n    " + msg + "\r\n"
	}
	nvr := buildLabel(build)
	userName, _ := user["name"].(string)
	pkg, _ := build["package_name"].(string)
	toAddrs := strings.Join(recipients, ", ")
	summary := fmt.Sprintf("%s %s %s by %s", nvr, result, operation, userName)
	msg := h.Mail.head(summary, toAddrs) +
		"X-Koji-Package: " + pkg + "\r\n" +
		"X-Koji-NVR: " + nvr + "\r\n" +
		"X-Koji-Draft: " + pyBool(build["draft"]) + "\r\n" +
		"X-Koji-User: " + userName + "\r\n" +
		"X-Koji-Status: " + status + "\r\n" +
		tagHeaders + "\r\n" +
		"\r\n" +
		"Package: " + pkg + "\r\n" +
		"NVR: " + nvr + "\r\n" +
		"User: " + userName + "\r\n" +
		"Status: " + status + "\r\n" +
		details + "\r\n" +
		summary + "\r\n" +
		failure + "\r\n"
	if err := h.Mail.send(ctx, recipients, msg); err != nil {
		return nil, err
	}
	return fmt.Sprintf("sent notification of tag operation %d to: %s", t.ID, toAddrs), nil
}

// pyText is Python's str of a parameter for the templates: a string as it
// is, None as "None".
func pyText(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case string:
		return x
	}
	return fmt.Sprint(v)
}
