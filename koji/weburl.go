package koji

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

// A WebKind is a kind of object with a kojiweb page.
type WebKind string

// The kinds of object kojiweb has pages for.
const (
	WebBuild   WebKind = "build"
	WebChannel WebKind = "channel"
	WebHost    WebKind = "host"
	WebPackage WebKind = "package"
	WebTask    WebKind = "task"
	WebTag     WebKind = "tag"
	WebTarget  WebKind = "target"
	WebUser    WebKind = "user"
)

// webPages maps each kind to its kojiweb page and the page's ID parameter.
var webPages = map[WebKind]struct{ page, param string }{
	WebBuild:   {"buildinfo", "buildID"},
	WebChannel: {"channelinfo", "channelID"},
	WebHost:    {"hostinfo", "hostID"},
	WebPackage: {"packageinfo", "packageID"},
	WebTask:    {"taskinfo", "taskID"},
	WebTag:     {"taginfo", "tagID"},
	WebTarget:  {"targetinfo", "targetID"},
	WebUser:    {"userinfo", "userID"},
}

// A WebObject is the object a kojiweb page shows.
type WebObject struct {
	Kind WebKind
	ID   int
}

// URL is the object's kojiweb page under weburl, such as
// "https://koji.fedoraproject.org/koji/buildinfo?buildID=42".
func (o WebObject) URL(weburl string) string {
	p := webPages[o.Kind]
	return webPage(weburl, p.page, p.param, o.ID)
}

func webPage(weburl, page, param string, id int) string {
	return strings.TrimRight(weburl, "/") + "/" + page + "?" + param + "=" + strconv.Itoa(id)
}

// Why ParseWebURL or ResolveWebURL refuses a link; a *WebURLError wraps
// one of these.
var (
	ErrWebURLSpace   = errors.New("contains white space")
	ErrWebURLOutside = errors.New("is not under the kojiweb URL")
	ErrWebURLPage    = errors.New("is not a kojiweb page of a build, channel, host, package, task, tag, target or user")
	ErrWebURLID      = errors.New("has no numeric object ID")
	ErrWebURLMissing = errors.New("shows an object the hub does not have")
)

// A WebURLError reports a link that does not name a kojiweb object.
type WebURLError struct {
	URL string
	Err error
}

func (e *WebURLError) Error() string { return "koji: " + strconv.Quote(e.URL) + " " + e.Err.Error() }

func (e *WebURLError) Unwrap() error { return e.Err }

// ParseWebURL tells which object a kojiweb link shows, such as
// "https://koji.fedoraproject.org/koji/taskinfo?taskID=42" under weburl
// "https://koji.fedoraproject.org/koji". The link must be on weburl's host
// and under its path; http and https count as the same. An empty weburl
// accepts a page under any URL. As txkoji does, a link with white space in
// it is refused.
func ParseWebURL(weburl, link string) (WebObject, error) {
	fail := func(err error) (WebObject, error) { return WebObject{}, &WebURLError{URL: link, Err: err} }
	if strings.IndexFunc(link, unicode.IsSpace) >= 0 {
		return fail(ErrWebURLSpace)
	}
	u, err := url.Parse(link)
	if err != nil {
		return fail(err)
	}
	dir, page := "", u.Path
	if i := strings.LastIndexByte(u.Path, '/'); i >= 0 {
		dir, page = u.Path[:i], u.Path[i+1:]
	}
	if weburl != "" {
		base, err := url.Parse(weburl)
		if err != nil {
			return fail(err)
		}
		if !webScheme(u.Scheme) || !webScheme(base.Scheme) || !strings.EqualFold(u.Host, base.Host) ||
			dir != strings.TrimRight(base.Path, "/") {
			return fail(ErrWebURLOutside)
		}
	}
	for kind, p := range webPages {
		if p.page != page {
			continue
		}
		value := u.Query().Get(p.param)
		id, err := strconv.Atoi(value)
		if err != nil || strings.TrimLeft(value, "0123456789") != "" {
			return fail(ErrWebURLID)
		}
		return WebObject{Kind: kind, ID: id}, nil
	}
	return fail(ErrWebURLPage)
}

func webScheme(s string) bool { return s == "http" || s == "https" }

// ResolveWebURL fetches the object a kojiweb link shows, as txkoji's
// from_web does: a *Build, *Channel, *Host, *Package, *Task (with its
// request), *Tag, *Target or *User. The link must be under the weburl of
// the client's profile, since an ID means nothing on another hub. An
// object the hub does not have is ErrWebURLMissing.
func (c *Client) ResolveWebURL(ctx context.Context, link string) (any, error) {
	o, err := ParseWebURL(c.profile.WebURL, link)
	if err != nil {
		return nil, err
	}
	var v any
	switch o.Kind {
	case WebBuild:
		v, err = found(c.GetBuild(ctx, o.ID, nil))
	case WebChannel:
		v, err = found(c.GetChannel(ctx, o.ID, nil))
	case WebHost:
		v, err = found(c.GetHost(ctx, o.ID, nil))
	case WebPackage:
		v, err = found(c.GetPackage(ctx, o.ID, nil))
	case WebTask:
		v, err = found(c.GetTaskInfo(ctx, o.ID, &TaskInfoOptions{Request: true}))
	case WebTag:
		v, err = found(c.GetTag(ctx, o.ID, nil))
	case WebTarget:
		v, err = found(c.GetBuildTarget(ctx, o.ID, nil))
	case WebUser:
		v, err = found(c.GetUser(ctx, o.ID, nil))
	}
	if err == nil && v == nil {
		err = &WebURLError{URL: link, Err: ErrWebURLMissing}
	}
	return v, err
}

// found turns a lookup's result into an interface that is nil, not a nil
// pointer, when nothing was found.
func found[T any](v *T, err error) (any, error) {
	if v == nil || err != nil {
		return nil, err
	}
	return v, nil
}
