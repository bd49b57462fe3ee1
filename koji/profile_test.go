package koji

import (
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// confTree is a temporary /etc and home directory for one test.
type confTree struct {
	t    *testing.T
	root string
	loc  confLocations
}

func newConfTree(t *testing.T) *confTree {
	t.Helper()
	root := t.TempDir()
	c := &confTree{t: t, root: root, loc: confLocations{
		sysDir: filepath.Join(root, "etc"),
		home:   filepath.Join(root, "home", "jdoe"),
	}}
	require.NoError(t, os.MkdirAll(c.loc.sysDir, 0o755))
	require.NoError(t, os.MkdirAll(c.loc.home, 0o755))
	return c
}

// path maps "/etc/..." into the tree's sysDir, "~/..." into its home, and
// anything else under its root.
func (c *confTree) path(p string) string {
	switch {
	case strings.HasPrefix(p, "/etc/"):
		return filepath.Join(c.loc.sysDir, p[len("/etc/"):])
	case strings.HasPrefix(p, "~/"):
		return filepath.Join(c.loc.home, p[2:])
	}
	return filepath.Join(c.root, p)
}

func (c *confTree) write(p, content string) string {
	c.t.Helper()
	full := c.path(p)
	require.NoError(c.t, os.MkdirAll(filepath.Dir(full), 0o755))
	require.NoError(c.t, os.WriteFile(full, []byte(content), 0o644))
	return full
}

func (c *confTree) load(name string) (*Profile, error) { return c.loc.load(name, "") }

func (c *confTree) mustLoad(name string) *Profile {
	c.t.Helper()
	p, err := c.load(name)
	require.NoError(c.t, err)
	return p
}

// confRequireError asserts that err is a *ConfigError that errors.Is matches
// with ErrConfiguration, and returns it.
func confRequireError(t *testing.T, err error) *ConfigError {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrConfiguration)
	assert.ErrorIs(t, err, ErrGeneric, "ConfigurationError is a GenericError")
	assert.NotErrorIs(t, err, ErrAuth)
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	return ce
}

func TestDefaultProfile(t *testing.T) {
	c := newConfTree(t)
	want := &Profile{
		Name:                 "x",
		Server:               "http://localhost/kojihub",
		WebURL:               "http://localhost/koji",
		TopDir:               "/mnt/koji",
		MaxRetries:           30,
		RetryInterval:        20 * time.Second,
		OfflineRetryInterval: 20 * time.Second,
		Timeout:              43200 * time.Second,
		AuthTimeout:          60 * time.Second,
		UseFastUpload:        true,
		UploadBlockSize:      1048576,
		PollInterval:         6 * time.Second,
	}
	assert.Equal(t, want, c.loc.defaultProfile("x"))

	// A section with nothing in it is the same profile.
	c.write("/etc/koji.conf", "[x]\n")
	assert.Equal(t, want, c.mustLoad("x"))

	// cert and serverca default to the files under ~/.koji that exist.
	crt := c.write("~/.koji/client.crt", "")
	want.Cert = crt
	assert.Equal(t, want, c.loc.defaultProfile("x"))
	assert.Equal(t, want, c.mustLoad("x"))
	ca := c.write("~/.koji/serverca.crt", "")
	want.ServerCA = ca
	assert.Equal(t, want, c.mustLoad("x"))

	// Without a home directory there are no such defaults.
	c.loc.home = ""
	want.Cert, want.ServerCA = "", ""
	assert.Equal(t, want, c.mustLoad("x"))

	// The exported function is the same, for the real home directory.
	d := DefaultProfile()
	d.Cert, d.ServerCA = "", ""
	want.Name = ""
	assert.Equal(t, want, d)
}

// TestProfileOptions sets each option in turn and checks its type, value
// and errors against the default profile.
func TestProfileOptions(t *testing.T) {
	type tc struct {
		line string
		want func(p *Profile) // changes to the default profile; nil when err is set
		err  string
	}
	cases := []tc{
		{line: "server = https://koji.example.com/kojihub", want: func(p *Profile) { p.Server = "https://koji.example.com/kojihub" }},
		{line: "weburl = https://koji.example.com/koji", want: func(p *Profile) { p.WebURL = "https://koji.example.com/koji" }},
		{line: "topurl = https://kojipkgs.example.com/", want: func(p *Profile) { p.TopURL = "https://kojipkgs.example.com/" }},
		{line: "topdir = /srv/koji", want: func(p *Profile) { p.TopDir = "/srv/koji" }},
		{line: "authtype = kerberos", want: func(p *Profile) { p.AuthType = "kerberos" }},
		{line: "authtype = SSL", want: func(p *Profile) { p.AuthType = "SSL" }}, // kept as written, as upstream
		{line: "principal = builder/host@EXAMPLE.COM", want: func(p *Profile) { p.Principal = "builder/host@EXAMPLE.COM" }},
		{line: "keytab = /etc/builder.keytab", want: func(p *Profile) { p.Keytab = "/etc/builder.keytab" }},
		{line: "plugin_paths = /a:/b", want: func(p *Profile) { p.PluginPaths = "/a:/b" }},
		{line: "cert = /etc/pki/koji.pem", want: func(p *Profile) { p.Cert = "/etc/pki/koji.pem" }},
		{line: "serverca = /etc/pki/ca.pem", want: func(p *Profile) { p.ServerCA = "/etc/pki/ca.pem" }},
		{line: "server =", want: func(p *Profile) { p.Server = "" }},
		{line: "pyver = 3", want: func(p *Profile) { p.PyVer = 3 }},
		{line: "max_retries = 0", want: func(p *Profile) { p.MaxRetries = 0 }},
		{line: "max_retries = -1", want: func(p *Profile) { p.MaxRetries = -1 }},
		{line: "upload_blocksize = 65536", want: func(p *Profile) { p.UploadBlockSize = 65536 }},
		{line: "retry_interval = 5", want: func(p *Profile) { p.RetryInterval = 5 * time.Second }},
		{line: "offline_retry_interval = 300", want: func(p *Profile) { p.OfflineRetryInterval = 300 * time.Second }},
		{line: "timeout = 1_000", want: func(p *Profile) { p.Timeout = 1000 * time.Second }},
		{line: "auth_timeout = +7", want: func(p *Profile) { p.AuthTimeout = 7 * time.Second }},
		{line: "poll_interval = 007", want: func(p *Profile) { p.PollInterval = 7 * time.Second }},
		{line: "poll_interval = ٣٠", want: func(p *Profile) { p.PollInterval = 30 * time.Second }}, // int() takes any decimal digits
		{line: "timeout = 9223372037", err: "value for timeout config option is out of range"},
		{line: "no_ssl_verify =", want: func(p *Profile) {}}, // upstream: a string, and "" is false
		// Not known: kept in Extra, lower-cased.
		{line: "krb_rdns = false", want: func(p *Profile) { p.Extra = map[string]string{"krb_rdns": "false"} }},
		{line: "User = jdoe", want: func(p *Profile) { p.Extra = map[string]string{"user": "jdoe"} }},
		// pkgurl is obsolete: the CLI derives topurl from it.
		{line: "pkgurl = https://h/kojifiles/packages", want: func(p *Profile) { p.TopURL = "https://h/kojifiles" }},
		{line: "pkgurl = https://h/kojifiles/packages/", want: func(p *Profile) { p.TopURL = "https://h/kojifiles" }},
		{line: "pkgurl = https://h/kojifiles", want: func(p *Profile) {}},
		{line: "pkgurl = https://h/a/packages\ntopurl = https://h/b", want: func(p *Profile) { p.TopURL = "https://h/b" }},
		{line: "pkgurl = https://h/a/packages\ntopurl =", want: func(p *Profile) { p.TopURL = "https://h/a" }},
	}
	bools := map[string]func(p *Profile, v bool){
		"anon_retry":      func(p *Profile, v bool) { p.AnonRetry = v },
		"offline_retry":   func(p *Profile, v bool) { p.OfflineRetry = v },
		"use_fast_upload": func(p *Profile, v bool) { p.UseFastUpload = v },
		"no_ssl_verify":   func(p *Profile, v bool) { p.NoSSLVerify = v },
		"debug":           func(p *Profile, v bool) { p.Debug = v },
		"debug_xmlrpc":    func(p *Profile, v bool) { p.DebugXMLRPC = v },
		"force_auth":      func(p *Profile, v bool) { p.ForceAuth = v },
	}
	for name, set := range bools {
		for _, v := range []string{"1", "yes", "true", "on", "YES", "True", "oN"} {
			cases = append(cases, tc{line: name + " = " + v, want: func(p *Profile) { set(p, true) }})
		}
		for _, v := range []string{"0", "no", "false", "off", "NO", "False", "Off"} {
			cases = append(cases, tc{line: name + " = " + v, want: func(p *Profile) { set(p, false) }})
		}
		for _, v := range []string{"2", "y", "enabled", "'yes'"} {
			cases = append(cases, tc{line: name + " = " + v, err: "value for " + name + " config option must be a valid boolean"})
		}
	}
	for _, name := range []string{"max_retries", "retry_interval", "offline_retry_interval", "poll_interval", "timeout", "auth_timeout", "upload_blocksize", "pyver"} {
		for _, v := range []string{"", "ten", "1.5", "0x10", "1e3", "1__0", "_1", "1_", "- 1", "+", "'5'"} {
			cases = append(cases, tc{line: name + " = " + v, err: "value for " + name + " config option must be a valid integer"})
		}
	}
	for _, name := range []string{"anon_retry", "debug"} {
		cases = append(cases, tc{line: name + " =", err: "value for " + name + " config option must be a valid boolean"})
	}
	for _, tc := range cases {
		t.Run(tc.line, func(t *testing.T) {
			c := newConfTree(t)
			path := c.write("/etc/koji.conf", "[p]\n"+tc.line+"\n")
			p, err := c.load("p")
			if tc.err != "" {
				ce := confRequireError(t, err)
				assert.Contains(t, err.Error(), tc.err)
				assert.Equal(t, path, ce.Path)
				assert.Equal(t, "p", ce.Profile)
				assert.Equal(t, strings.Fields(tc.line)[0], ce.Option)
				assert.Equal(t, 2, ce.Line)
				return
			}
			require.NoError(t, err)
			want := c.loc.defaultProfile("p")
			tc.want(want)
			assert.Equal(t, want, p)
		})
	}
}

func TestProfilePrecedence(t *testing.T) {
	c := newConfTree(t)
	c.write("/etc/koji.conf.d/a.conf", "[p]\nserver = d-a\nweburl = d-a\ntopurl = d-a\ntopdir = d-a\nauthtype = d-a\n")
	c.write("/etc/koji.conf.d/b.conf", "[p]\nserver = d-b\nweburl = d-b\ntopurl = d-b\ntopdir = d-b\n")
	c.write("/etc/koji.conf", "[p]\nserver = etc\nweburl = etc\ntopurl = etc\n")
	c.write("~/.koji/config.d/x.conf", "[p]\nserver = home-d\nweburl = home-d\n")
	c.write("~/.koji/config", "[p]\nserver = home\n")
	p := c.mustLoad("p")
	assert.Equal(t, []string{"home", "home-d", "etc", "d-b", "d-a"},
		[]string{p.Server, p.WebURL, p.TopURL, p.TopDir, p.AuthType})

	// -c replaces the files in the home directory, not those in /etc.
	cfile := c.write("custom.conf", "[p]\nweburl = custom\n")
	p, err := c.loc.load("p", cfile)
	require.NoError(t, err)
	assert.Equal(t, []string{"etc", "custom", "etc", "d-b", "d-a"},
		[]string{p.Server, p.WebURL, p.TopURL, p.TopDir, p.AuthType})

	// A section may come from any of the files, and [DEFAULT] from another.
	c.write("~/.koji/config", "[DEFAULT]\nmax_retries = 4\n[q]\nserver = q\n")
	p = c.mustLoad("p")
	assert.Equal(t, "home-d", p.Server)
	assert.Equal(t, 4, p.MaxRetries)
	assert.Equal(t, "q", c.mustLoad("q").Server)

	names, err := c.loc.profileNames()
	require.NoError(t, err)
	assert.Equal(t, []string{"p", "q"}, names)
}

func TestProfileDefaultSection(t *testing.T) {
	c := newConfTree(t)
	c.write("/etc/koji.conf", `[DEFAULT]
max_retries = 5
Debug = yes
topurl = https://kojipkgs.example.com/
hub = koji.example.com

[a]
server = https://%(hub)s/kojihub

[b]
max_retries = 7
hub = b.example.com
server = https://%(hub)s/kojihub

[DEFAULT]
anon_retry = on
`)
	a, b := c.mustLoad("a"), c.mustLoad("b")
	assert.Equal(t, 5, a.MaxRetries)
	assert.Equal(t, 7, b.MaxRetries)
	assert.True(t, a.Debug && b.Debug && a.AnonRetry && b.AnonRetry)
	assert.Equal(t, "https://kojipkgs.example.com/", b.TopURL)
	assert.Equal(t, "https://koji.example.com/kojihub", a.Server)
	assert.Equal(t, "https://b.example.com/kojihub", b.Server)
	assert.Equal(t, map[string]string{"hub": "koji.example.com"}, a.Extra)
	assert.Equal(t, map[string]string{"hub": "b.example.com"}, b.Extra)

	// [DEFAULT] is no profile, and [default] is an ordinary one.
	_, err := c.load("DEFAULT")
	assert.Contains(t, confRequireError(t, err).Error(), "no configuration for profile name: DEFAULT")
	names, err := c.loc.profileNames()
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, names)
	c.write("/etc/koji.conf.d/x.conf", "[default]\nserver = lower\n")
	assert.Equal(t, "lower", c.mustLoad("default").Server)
	assert.Equal(t, 5, c.mustLoad("default").MaxRetries)
}

func TestProfileInterpolation(t *testing.T) {
	c := newConfTree(t)
	c.write("/etc/koji.conf", `[DEFAULT]
base = https://%(host)s
weburl = %(base)s/koji

[p]
host = koji.example.com
server = %(BASE)s/kojihub
topurl = https://kojipkgs.example.com/100%%/
principal = %(user)s@EXAMPLE.COM
user = jdoe
loop = %(loop)s
`)
	c.write("/etc/koji.conf.d/x.conf", "[p]\n\n[other]\nbroken = %(nope)s\n")
	ps := c.write("~/.koji/config", "[q]\nhost = h\ntopurl = https://h/%7Ejdoe\n[r]\nhost = h\ntopurl = %(x)d\n[s]\nhost = h\nweburl = %(nothere)s\n")

	// The reference loop is an error for the whole profile, as
	// ConfigParser.items interpolates every option.
	_, err := c.load("p")
	ce := confRequireError(t, err)
	assert.Equal(t, "loop", ce.Option)
	assert.Contains(t, err.Error(), "nest more than 10 deep")

	c.write("/etc/koji.conf", strings.Replace(confMustRead(t, c.path("/etc/koji.conf")), "loop = %(loop)s\n", "", 1))
	p := c.mustLoad("p")
	assert.Equal(t, "https://koji.example.com/kojihub", p.Server)
	assert.Equal(t, "https://koji.example.com/koji", p.WebURL)
	assert.Equal(t, "https://kojipkgs.example.com/100%/", p.TopURL)
	assert.Equal(t, "jdoe@EXAMPLE.COM", p.Principal)
	assert.Equal(t, map[string]string{"base": "https://koji.example.com", "host": "koji.example.com", "user": "jdoe"}, p.Extra)

	for name, msg := range map[string]string{
		"q": `'%' must be followed by '%' or '(', found: "%7Ejdoe"`,
		"r": `bad interpolation variable reference "%(x)d"`,
		"s": `value refers to %(nothere)s, but there is no option "nothere"`,
	} {
		_, err := c.load(name)
		ce := confRequireError(t, err)
		assert.Contains(t, err.Error(), msg)
		assert.Equal(t, ps, ce.Path)
		assert.Equal(t, name, ce.Profile)
		assert.NotZero(t, ce.Line)
	}
	// The [DEFAULT] option that cannot be interpolated in a profile is
	// reported where [DEFAULT] sets it.
	c.write("/etc/koji.conf", "[DEFAULT]\nweburl = %(host)s/koji\n[p]\n")
	_, err = c.load("p")
	ce = confRequireError(t, err)
	assert.Equal(t, c.path("/etc/koji.conf"), ce.Path)
	assert.Equal(t, 2, ce.Line)
	assert.Equal(t, "weburl", ce.Option)
}

func confMustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

func TestProfileCaseSensitivity(t *testing.T) {
	c := newConfTree(t)
	c.write("/etc/koji.conf", "[Koji]\nSERVER = upper\nMax_Retries = 2\nKRB_RDNS = no\n[koji]\nserver = lower\n")
	c.write("~/.koji/config", "[Koji]\nServer = home\n")
	p := c.mustLoad("Koji")
	assert.Equal(t, "home", p.Server, "option names are case-insensitive across files")
	assert.Equal(t, 2, p.MaxRetries)
	assert.Equal(t, map[string]string{"krb_rdns": "no"}, p.Extra)
	assert.Equal(t, "lower", c.mustLoad("koji").Server, "section names are case-sensitive")
	_, err := c.load("KOJI")
	confRequireError(t, err)
}

// TestProfileParsesAsConfigParser covers the file syntax where go-ini on
// its own parses otherwise than Python's ConfigParser.
func TestProfileParsesAsConfigParser(t *testing.T) {
	cases := []struct {
		name, text string
		want       map[string]string // the Extra options of [p]
		err        string
	}{
		{"inline # kept", "[p]\nx = a # b\n", map[string]string{"x": "a # b"}, ""},
		{"inline ; kept", "[p]\nx = a ; b\ny=;\n", map[string]string{"x": "a ; b", "y": ";"}, ""},
		{"full-line comments", "# c\n; c\n[p]\n  # c\n\t; x = 1\nx = 2\n", map[string]string{"x": "2"}, ""},
		{"double quotes kept", "[p]\nx = \"a b\"\n", map[string]string{"x": `"a b"`}, ""},
		{"single quotes kept", "[p]\nx = 'a'\n", map[string]string{"x": "'a'"}, ""},
		{"triple quotes kept", "[p]\nx = \"\"\"a\ny = \"\"\"b\"\"\"\nz = \"\"\"\n", map[string]string{"x": `"""a`, "y": `"""b"""`, "z": `"""`}, ""},
		{"backquotes kept", "[p]\nx = `a`\ny = `b\n", map[string]string{"x": "`a`", "y": "`b"}, ""},
		{"trailing backslash kept", "[p]\nx = a\\\ny = b\n", map[string]string{"x": `a\`, "y": "b"}, ""},
		{"continuation lines", "[p]\nx = a\n  b\n\n\tc\n   # not in the value\ny = d\n\n\n", map[string]string{"x": "a\nb\n\nc", "y": "d"}, ""},
		{"value on the next line", "[p]\nx =\n  a\n", map[string]string{"x": "\na"}, ""},
		{"continuation looks like a header", "[p]\nx = a\n  [q]\n  y = b\n", map[string]string{"x": "a\n[q]\ny = b"}, ""},
		{"indented options at one level", "[p]\n  x = a\n  y = b\n    z = c\n", map[string]string{"x": "a", "y": "b\nz = c"}, ""},
		{"no continuation after a header", "  [p]\n    x = a\n", map[string]string{"x": "a"}, ""},
		{"colon delimiter", "[p]\nx: a=b\ny = a:b\nz:\n", map[string]string{"x": "a=b", "y": "a:b", "z": ""}, ""},
		{"spaces in names", "[p]\nA  B = c\n", map[string]string{"a  b": "c"}, ""},
		{"quoted name", "[p]\n\"X\" = a\n`y` = b\n", map[string]string{`"x"`: "a", "`y`": "b"}, ""},
		{"name -", "[p]\n- = a\n", map[string]string{"-": "a"}, ""},
		{"name starting with [", "[p]\n[x = a\n", map[string]string{"[x": "a"}, ""},
		{"header with trailing text", "[p] ; comment\nx = a\n", map[string]string{"x": "a"}, ""},
		{"CRLF", "[p]\r\nx = a\r\n  b\r\n", map[string]string{"x": "a\nb"}, ""},
		{"CR", "[p]\rx = a\ry = b\r", map[string]string{"x": "a", "y": "b"}, ""},
		{"U+001C is space", "[p]\nx = \x1ca\x1c\n", map[string]string{"x": "a"}, ""},
		{"U+00A0 is space", "[p]\nx =\u00a0a\u00a0\n", map[string]string{"x": "a"}, ""},
		{"UTF-8", "[p]\nx = Jiří Šťastný\n", map[string]string{"x": "Jiří Šťastný"}, ""},
		{"DEFAULT twice", "[DEFAULT]\nx = a\n[DEFAULT]\ny = b\n[p]\n", map[string]string{"x": "a", "y": "b"}, ""},
		{"text before a header", "x = a\n[p]\n", nil, `no section header before "x = a"`},
		{"byte order mark", "\ufeff[p]\nx = a\n", nil, "byte order mark"},
		{"not UTF-8", "[p]\nx = \xff\n", nil, "not valid UTF-8"},
		{"option twice", "[p]\nX = a\nx = b\n", nil, `option "x" in section "p" already exists in this file`},
		{"DEFAULT option twice", "[DEFAULT]\nx = a\n[DEFAULT]\nx = b\n[p]\n", nil, "already exists"},
		{"section twice", "[p]\nx = a\n[q]\n[p]\n", nil, `section "p" already exists in this file`},
		{"no delimiter", "[p]\nx\n", nil, "is not an option line"},
		{"no name", "[p]\n= a\n", nil, "option without a name"},
		{"empty header", "[]\nx = a\n", nil, "no section header"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newConfTree(t)
			path := c.write("/etc/koji.conf", tc.text)
			p, err := c.load("p")
			if tc.err != "" {
				ce := confRequireError(t, err)
				assert.Contains(t, err.Error(), tc.err)
				assert.Equal(t, path, ce.Path)
				assert.NotZero(t, ce.Line)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, p.Extra)
		})
	}

	// Options in two files, or a section in two files, are no duplicates:
	// the later file overrides the earlier one, including values go-ini
	// cannot read and the scanner sets.
	c := newConfTree(t)
	c.write("/etc/koji.conf.d/a.conf", "[p]\nx = a\ny = \"\"\"a\nz = a\n  b\nw = a\n")
	c.write("/etc/koji.conf.d/b.conf", "[p]\nX = b\nY = b\nz = b\n")
	c.write("/etc/koji.conf", "[p]\nw = `c`\n")
	assert.Equal(t, map[string]string{"x": "b", "y": "b", "z": "b", "w": "`c`"}, c.mustLoad("p").Extra)
}

func TestProfileLoadErrors(t *testing.T) {
	c := newConfTree(t)
	c.write("/etc/koji.conf", "[koji]\nserver = https://koji.example.com/kojihub\n")

	for _, name := range []string{"nosuch", "DEFAULT", "", "KOJI"} {
		_, err := c.load(name)
		ce := confRequireError(t, err)
		assert.Equal(t, "koji: no configuration for profile name: "+name, err.Error())
		assert.Equal(t, name, ce.Profile)
	}

	// -c FILE must exist.
	missing := c.path("nosuch.conf")
	_, err := c.loc.load("koji", missing)
	ce := confRequireError(t, err)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.Equal(t, missing, ce.Path)
	assert.Equal(t, "koji: "+missing+": config file can't be opened: no such file or directory", err.Error())

	// -c DIR must hold .conf files, all of them regular.
	dir := c.path("conf.d")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	c.write("conf.d/README", "[koji]\n")
	_, err = c.loc.load("koji", dir)
	assert.Contains(t, confRequireError(t, err).Error(), "no config files found in directory")
	require.NoError(t, os.Mkdir(filepath.Join(dir, "sub.conf"), 0o755))
	_, err = c.loc.load("koji", dir)
	ce = confRequireError(t, err)
	assert.Equal(t, filepath.Join(dir, "sub.conf"), ce.Path)
	require.NoError(t, os.Remove(filepath.Join(dir, "sub.conf")))
	c.write("conf.d/mine.conf", "[koji]\ntopdir = /srv/koji\n")
	p, err := c.loc.load("koji", dir)
	require.NoError(t, err)
	assert.Equal(t, "/srv/koji", p.TopDir)
	assert.Equal(t, "https://koji.example.com/kojihub", p.Server, "/etc/koji.conf is still read with -c")

	// A ~ in the -c path is expanded.
	c.write("~/my.conf", "[koji]\ntopdir = /home/koji\n")
	p, err = c.loc.load("koji", "~/my.conf")
	require.NoError(t, err)
	assert.Equal(t, "/home/koji", p.TopDir)

	// A file that exists but cannot be read is an error (upstream skips it).
	failing := c.loc
	failing.readFile = func(path string) ([]byte, error) {
		return nil, &fs.PathError{Op: "open", Path: path, Err: syscall.EACCES}
	}
	_, err = failing.load("koji", "")
	ce = confRequireError(t, err)
	assert.ErrorIs(t, err, fs.ErrPermission)
	assert.Equal(t, c.path("/etc/koji.conf"), ce.Path)
	assert.Equal(t, "koji: "+ce.Path+": config file can't be read: permission denied", err.Error())
	if os.Geteuid() != 0 { // root reads anything
		require.NoError(t, os.Chmod(c.path("/etc/koji.conf"), 0))
		_, err = c.load("koji")
		assert.ErrorIs(t, confRequireError(t, err), fs.ErrPermission)
		require.NoError(t, os.Chmod(c.path("/etc/koji.conf"), 0o644))
	}

	// The parse error of a file counts even when the profile is elsewhere.
	bad := c.write("~/.koji/config.d/bad.conf", "[other]\nnonsense\n")
	_, err = c.load("koji")
	ce = confRequireError(t, err)
	assert.Equal(t, bad, ce.Path)
	assert.Equal(t, 2, ce.Line)
	require.NoError(t, os.Remove(bad))

	// An /etc that is a file holds no configuration.
	c.loc.sysDir = c.write("etcfile", "")
	_, err = c.load("koji")
	assert.Equal(t, "koji: no configuration for profile name: koji", err.Error())

	// LoadProfileFile needs a path.
	_, err = LoadProfileFile("", "koji")
	confRequireError(t, err)
}

func TestProfileDirectoryContents(t *testing.T) {
	c := newConfTree(t)
	// Lexical order: "10-" before "2-", upper case before lower case.
	c.write("/etc/koji.conf.d/2-b.conf", "[p]\nserver = 2-b\n")
	c.write("/etc/koji.conf.d/10-a.conf", "[p]\nserver = 10-a\nweburl = 10-a\n")
	c.write("/etc/koji.conf.d/B.conf", "[p]\ntopurl = B\n")
	c.write("/etc/koji.conf.d/a.conf", "[p]\ntopurl = a\n")
	// Skipped: other names, directories, dangling links.
	c.write("/etc/koji.conf.d/z.conf.rpmnew", "[p]\nserver = rpmnew\n")
	c.write("/etc/koji.conf.d/conf", "[p]\nserver = conf\n")
	c.write("/etc/koji.conf.d/dir.conf/x.conf", "[p]\nserver = dir\n")
	require.NoError(t, os.Symlink("nowhere", c.path("/etc/koji.conf.d/zz-dangling.conf")))
	// Followed: a link to a file.
	target := c.write("elsewhere/link.txt", "[p]\ntopdir = linked\n")
	require.NoError(t, os.Symlink(target, c.path("/etc/koji.conf.d/zz-link.conf")))

	p := c.mustLoad("p")
	assert.Equal(t, []string{"2-b", "10-a", "a", "linked"}, []string{p.Server, p.WebURL, p.TopURL, p.TopDir})

	// ~/.koji/config may itself be a directory, read like config.d.
	c.write("~/.koji/config/x.conf", "[p]\nserver = home-dir\n")
	assert.Equal(t, "home-dir", c.mustLoad("p").Server)
	files, err := confFiles(c.loc.sources(""))
	require.NoError(t, err)
	var rel []string
	for _, f := range files {
		r, err := filepath.Rel(c.root, f)
		require.NoError(t, err)
		rel = append(rel, r)
	}
	assert.Equal(t, []string{
		"etc/koji.conf.d/10-a.conf", "etc/koji.conf.d/2-b.conf", "etc/koji.conf.d/B.conf",
		"etc/koji.conf.d/a.conf", "etc/koji.conf.d/zz-link.conf", "home/jdoe/.koji/config/x.conf",
	}, rel)
}

func TestProfileTildeExpansion(t *testing.T) {
	c := newConfTree(t)
	home := c.loc.home
	c.write("/etc/koji.conf", `[p]
cert = ~/.koji/me.pem
serverca = ~
topdir = ~/koji
keytab = ~/k.keytab
principal = ~me
plugin_paths = ~/plugins:~/more
weburl = ~/not-a-path
[q]
cert =
serverca = /abs/~/ca.pem
`)
	c.write("~/.koji/client.crt", "")
	p := c.mustLoad("p")
	assert.Equal(t, home+"/.koji/me.pem", p.Cert)
	assert.Equal(t, home, p.ServerCA)
	assert.Equal(t, home+"/koji", p.TopDir)
	assert.Equal(t, "~/k.keytab", p.Keytab, "keytab is not expanded")
	assert.Equal(t, "~me", p.Principal)
	assert.Equal(t, "~/plugins:~/more", p.PluginPaths)
	assert.Equal(t, "~/not-a-path", p.WebURL)
	q := c.mustLoad("q")
	assert.Equal(t, "", q.Cert, "a cert set to empty has no default")
	assert.Equal(t, "/abs/~/ca.pem", q.ServerCA)

	for _, tc := range []struct{ path, home, want string }{
		{"~", "/home/u", "/home/u"},
		{"~/", "/home/u", "/home/u/"},
		{"~/x", "/home/u/", "/home/u/x"},
		{"~/x", "/", "/x"},
		{"~", "/", "/"},
		{"~/x", "", "~/x"},
		{"x/~/y", "/home/u", "x/~/y"},
		{"~nosuchuser-gokoji/x", "/home/u", "~nosuchuser-gokoji/x"},
		{"", "/home/u", ""},
	} {
		assert.Equal(t, tc.want, confExpandUser(tc.path, tc.home), "expanduser(%q) with home %q", tc.path, tc.home)
	}
	if u, err := user.Current(); err == nil && u.Username != "" && !strings.Contains(u.Username, "/") {
		assert.Equal(t, strings.TrimRight(u.HomeDir, "/")+"/x", confExpandUser("~"+u.Username+"/x", "/elsewhere"))
	}
}

func TestProfileTestdataTree(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("testdata", "profiles", "tree"))
	require.NoError(t, err)
	loc := confLocations{sysDir: filepath.Join(root, "etc"), home: filepath.Join(root, "home")}
	home := loc.home
	names, err := loc.profileNames()
	require.NoError(t, err)
	assert.Equal(t, []string{"fedora", "koji", "mine", "stg"}, names)

	load := func(name string) *Profile {
		p, err := loc.load(name, "")
		require.NoError(t, err)
		return p
	}
	fedora := loc.defaultProfile("fedora")
	fedora.Server = "https://koji.fedoraproject.org/kojihub"
	fedora.WebURL = "https://koji.fedoraproject.org/koji"
	fedora.TopURL = "https://kojipkgs.fedoraproject.org/"
	fedora.AuthType = "ssl"
	fedora.Cert = home + "/.fedora.cert"
	fedora.ServerCA = home + "/.fedora-server-ca.cert"
	fedora.MaxRetries = 3
	fedora.AnonRetry = true
	assert.Equal(t, fedora, load("fedora"))

	stg := loc.defaultProfile("stg")
	stg.Server = "https://koji.stg.fedoraproject.org/kojihub"
	stg.WebURL = "https://koji.stg.fedoraproject.org/koji"
	stg.TopURL = "https://kojipkgs.stg.fedoraproject.org/"
	stg.AuthType = "kerberos"
	stg.Principal = "jdoe@STG.FEDORAPROJECT.ORG"
	stg.Keytab = "~/.keytabs/jdoe.keytab"
	stg.PollInterval = 15 * time.Second
	stg.MaxRetries = 10
	stg.AnonRetry = true
	stg.Extra = map[string]string{"host": "koji.stg.fedoraproject.org"}
	assert.Equal(t, stg, load("stg"))

	mine := loc.defaultProfile("mine")
	mine.Server = "https://koji.example.com/kojihub"
	mine.WebURL = "https://koji.example.com/koji"
	mine.TopURL = "https://koji.example.com/kojifiles"
	mine.Timeout = 600 * time.Second
	mine.UseFastUpload = false
	mine.PluginPaths = "~/.koji/plugins:/usr/share/koji-plugins"
	mine.MaxRetries = 10
	mine.AnonRetry = true
	assert.Equal(t, mine, load("mine"))

	koji := loc.defaultProfile("koji")
	koji.MaxRetries = 10
	koji.AnonRetry = true
	assert.Equal(t, koji, load("koji"))

	// The Fedora and CBS fixtures, as with koji -c.
	p, err := loc.load("fedora", filepath.Join("testdata", "profiles", "fedora.conf"))
	require.NoError(t, err)
	assert.Equal(t, "kerberos", p.AuthType)
	assert.Equal(t, map[string]string{"krb_rdns": "false"}, p.Extra)
	assert.Equal(t, 10, p.MaxRetries, "from [DEFAULT] in /etc/koji.conf")
	p, err = loc.load("cbs", filepath.Join("testdata", "profiles", "cbs.conf"))
	require.NoError(t, err)
	assert.Equal(t, []string{home + "/.centos.cert", home + "/.centos-server-ca.cert", "ssl"}, []string{p.Cert, p.ServerCA, p.AuthType})
	assert.Equal(t, []any{5, 10 * time.Second, true}, []any{p.MaxRetries, p.RetryInterval, p.AnonRetry})
}

// --- Python's configparser as the reference ---------------------------------
