package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-ini/ini"

	"github.com/gokoji/gokoji/hubserver"
)

// settings are the binary's own settings: the [kojihub] section of the
// configuration file, each overridden by the flag of the same meaning.
type settings struct {
	Config   string
	Listen   string
	Path     string
	Data     string
	DB       string
	TLSCert  string
	TLSKey   string
	ClientCA string
	Admin    string
	LogLevel string
}

// Defaults of the binary's settings.
const (
	defaultListen   = "127.0.0.1:8080"
	defaultData     = "kojihub-data"
	defaultLogLevel = "info"
)

// parseFlags reads the command line; set records the flags given, which
// override the configuration file.
func parseFlags(args []string, stderr io.Writer) (s settings, set map[string]bool, err error) {
	fs := flag.NewFlagSet("kojihub", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: kojihub [flags]\n\nRuns a Koji hub; see the package documentation.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&s.Config, "config", "", "hub.conf-style `FILE`: [hub] with upstream's options, [kojihub] with the flags' settings")
	fs.StringVar(&s.Listen, "listen", defaultListen, "TCP `ADDR`ess to serve on")
	fs.StringVar(&s.Path, "path", hubserver.DefaultPath, "URL `PATH` of the hub")
	fs.StringVar(&s.Data, "data", defaultData, "`DIR`ectory for the SQLite database (hub.db) and the files (files/, KojiDir)")
	fs.StringVar(&s.DB, "db", "", "database `DSN` (postgres://… or an SQLite path); default: SQLite in -data")
	fs.StringVar(&s.TLSCert, "tls-cert", "", "server certificate `FILE` (PEM); serves HTTPS with -tls-key")
	fs.StringVar(&s.TLSKey, "tls-key", "", "server private key `FILE` (PEM)")
	fs.StringVar(&s.ClientCA, "client-ca", "", "`FILE` of CA certificates (PEM) that client certificates must chain to, for sslLogin")
	fs.StringVar(&s.Admin, "admin", "", "`NAME` of the admin user, created with the admin permission on first start; it logs in with a client certificate whose CN is NAME")
	fs.StringVar(&s.LogLevel, "log-level", defaultLogLevel, "`LEVEL` of the log: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return s, nil, err
	}
	if fs.NArg() > 0 {
		return s, nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return s, set, nil
}

// ownKeys are the [kojihub] keys and the flags they stand for.
var ownKeys = map[string]string{
	"listen": "listen", "path": "path", "data": "data", "db": "db", "tlscert": "tls-cert",
	"tlskey": "tls-key", "clientca": "client-ca", "admin": "admin", "loglevel": "log-level",
}

// loadConfig reads the configuration file into s (for the settings no
// flag gave) and cfg. Unknown [kojihub] keys are errors; [hub] options
// this hub does not implement are logged and ignored, as upstream ignores
// options it does not know.
func loadConfig(s *settings, set map[string]bool, cfg *hubserver.KojiConfig, log *slog.Logger) error {
	if s.Config == "" {
		return nil
	}
	f, err := ini.LoadSources(ini.LoadOptions{Insensitive: true, AllowPythonMultilineValues: true}, s.Config)
	if err != nil {
		return fmt.Errorf("config %s: %w", s.Config, err)
	}
	if sec, err := f.GetSection("kojihub"); err == nil {
		fields := map[string]*string{
			"listen": &s.Listen, "path": &s.Path, "data": &s.Data, "db": &s.DB, "tls-cert": &s.TLSCert,
			"tls-key": &s.TLSKey, "client-ca": &s.ClientCA, "admin": &s.Admin, "log-level": &s.LogLevel,
		}
		for _, k := range sec.Keys() {
			flagName, ok := ownKeys[k.Name()]
			if !ok {
				return fmt.Errorf("config %s: [kojihub] has no option %q", s.Config, k.Name())
			}
			if !set[flagName] {
				*fields[flagName] = k.Value()
			}
		}
	}
	if cfg.Policies, err = readPolicies(s.Config); err != nil {
		return err
	}
	sec, err := f.GetSection("hub")
	if err != nil {
		return nil
	}
	h := hubOptions{file: s.Config, sec: sec}
	if err := h.apply(cfg, log); err != nil {
		return err
	}
	// DB connection options, for a DSN when -db gives none.
	if !set["db"] && s.DB == "" {
		if s.DB, err = h.dsn(); err != nil {
			return err
		}
	}
	if v := h.str("kojidir"); v != "" && !set["data"] {
		cfg.TopDir = v
	}
	return nil
}

// hubOptions reads upstream's options from the [hub] section.
type hubOptions struct {
	file string
	sec  *ini.Section
	err  error
}

func (h *hubOptions) fail(key, format string, args ...any) {
	if name := implemented[strings.ToLower(key)]; name != "" {
		key = name
	}
	if h.err == nil {
		h.err = fmt.Errorf("config %s: [hub] %s: %s", h.file, key, fmt.Sprintf(format, args...))
	}
}

func (h *hubOptions) str(key string) string {
	if !h.sec.HasKey(key) {
		return ""
	}
	return strings.TrimSpace(h.sec.Key(key).Value())
}

// boolean reads a boolean as Python's ConfigParser.getboolean does.
func (h *hubOptions) boolean(key string, dst *bool) {
	if !h.sec.HasKey(key) {
		return
	}
	switch strings.ToLower(h.str(key)) {
	case "1", "yes", "true", "on":
		*dst = true
	case "0", "no", "false", "off":
		*dst = false
	default:
		h.fail(key, "not a boolean: %q", h.str(key))
	}
}

func (h *hubOptions) integer(key string, dst *int64) {
	if !h.sec.HasKey(key) {
		return
	}
	n, err := strconv.ParseInt(h.str(key), 10, 64)
	if err != nil {
		h.fail(key, "not an integer: %q", h.str(key))
		return
	}
	*dst = n
}

// seconds reads a duration given in whole seconds.
func (h *hubOptions) seconds(key string, dst *time.Duration) {
	if !h.sec.HasKey(key) {
		return
	}
	var n int64
	h.integer(key, &n)
	if n < 0 {
		h.fail(key, "must not be negative")
		return
	}
	*dst = time.Duration(n) * time.Second
}

var listSplit = regexp.MustCompile(`\s*,\s*`)

// list splits a value at sep, dropping empty parts.
func list(v, sep string) []string {
	var out []string
	parts := strings.Split(v, sep)
	if sep == "," {
		parts = listSplit.Split(v, -1)
	}
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// implemented are the [hub] options this hub reads (the DB options and
// KojiDir by loadConfig), by their lower-cased names as ConfigParser
// reads them, with their names as upstream spells them.
var implemented = map[string]string{}

func init() {
	for _, name := range []string{
		"DBName", "DBUser", "DBHost", "DBPort", "DBPass", "DBConnectionString", "KojiDir",
		"AuthPrincipal", "AuthKeytab", "ProxyPrincipals", "HostPrincipalFormat", "AllowedKrbRealms",
		"DisableURLSessions", "DNUsernameComponent", "ProxyDNs", "CheckClientIP", "LoginCreatesUser",
		"AllowProxyAuthType", "SessionRenewalTimeout", "MaxRequestLength", "LockOut", "ServerOffline",
		"OfflineMessage", "MaxJobs", "CapacityOvercommit", "ReadyTimeout", "AssignTimeout",
		"SoftRefusalTimeout", "HostTimeout", "RunInterval",
		"DisableNotifications", "NotifyOnSuccess", "EmailDomain", "KojiWebURL",
		"AllowNewRepo", "RepoLag", "RepoAutoLag", "RepoLagWindow", "MaxRepoTasks", "MaxRepoTasksMaven",
		"RepoRetries", "RequestCleanTime", "RepoQueueUser", "DebuginfoTags", "SourceTags", "SeparateSourceTags",
		"MissingPolicyOk",
	} {
		implemented[strings.ToLower(name)] = name
	}
}

func (h *hubOptions) apply(cfg *hubserver.KojiConfig, log *slog.Logger) error {
	for _, k := range h.sec.Keys() {
		if implemented[k.Name()] == "" {
			log.Warn("hub.conf option not supported by this hub; ignored", "option", k.Name())
		}
	}
	if v := h.str("dnusernamecomponent"); v != "" {
		cfg.DNUsernameComponent = v
	}
	if v := h.str("proxydns"); v != "" {
		cfg.ProxyDNs = list(v, "|")
	}
	createUsers, checkIP := !cfg.DisableUserCreation, !cfg.IgnoreClientIP
	h.boolean("logincreatesuser", &createUsers)
	h.boolean("checkclientip", &checkIP)
	cfg.DisableUserCreation, cfg.IgnoreClientIP = !createUsers, !checkIP
	h.boolean("allowproxyauthtype", &cfg.AllowProxyAuthType)
	h.boolean("disableurlsessions", &cfg.DisableURLSessions)
	h.boolean("lockout", &cfg.LockOut)
	h.boolean("serveroffline", &cfg.ServerOffline)
	missingOK := !cfg.DenyMissingPolicy
	h.boolean("missingpolicyok", &missingOK)
	cfg.DenyMissingPolicy = !missingOK
	h.boolean("disablenotifications", &cfg.Notifications.Disable)
	notifySuccess := !cfg.Notifications.SkipSuccess
	h.boolean("notifyonsuccess", &notifySuccess)
	cfg.Notifications.SkipSuccess = !notifySuccess
	cfg.Notifications.EmailDomain = h.str("emaildomain")
	cfg.Notifications.WebURL = h.str("kojiweburl")
	cfg.OfflineMessage = h.str("offlinemessage")
	h.integer("maxrequestlength", &cfg.MaxRequestLength)
	if h.sec.HasKey("sessionrenewaltimeout") {
		var minutes int64
		h.integer("sessionrenewaltimeout", &minutes)
		switch {
		case minutes == 0:
			cfg.SessionRenewalTimeout = -1 // upstream's 0: never
		case minutes > 0:
			cfg.SessionRenewalTimeout = time.Duration(minutes) * time.Minute
		default:
			h.fail("SessionRenewalTimeout", "must not be negative")
		}
	}
	cfg.AuthKeytab = h.str("authkeytab")
	cfg.AuthPrincipal = h.str("authprincipal")
	cfg.HostPrincipalFormat = h.str("hostprincipalformat")
	if v := h.str("proxyprincipals"); v != "" {
		cfg.ProxyPrincipals = list(v, ",")
	}
	if v := h.str("allowedkrbrealms"); v != "" && v != "*" {
		cfg.AllowedKrbRealms = list(v, ",")
	}
	var maxJobs int64
	h.integer("maxjobs", &maxJobs)
	cfg.Scheduler.MaxJobs = int(maxJobs)
	if v := h.str("capacityovercommit"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			h.fail("CapacityOvercommit", "not a number: %q", v)
		}
		cfg.Scheduler.CapacityOvercommit = f
	}
	h.seconds("readytimeout", &cfg.Scheduler.ReadyTimeout)
	h.seconds("assigntimeout", &cfg.Scheduler.AssignTimeout)
	h.seconds("softrefusaltimeout", &cfg.Scheduler.SoftRefusalTimeout)
	h.seconds("hosttimeout", &cfg.Scheduler.HostTimeout)
	h.seconds("runinterval", &cfg.Scheduler.RunInterval)
	h.repoOptions(&cfg.Repos)
	return h.err
}

// repoOptions reads upstream's repo request options. Where upstream's 0
// means none, the RepoConfig field that says so is set.
func (h *hubOptions) repoOptions(cfg *hubserver.RepoConfig) {
	allow := !cfg.DisableNewRepo
	h.boolean("allownewrepo", &allow)
	cfg.DisableNewRepo = !allow
	for key, dst := range map[string]*time.Duration{"repolag": &cfg.RepoLag, "repoautolag": &cfg.RepoAutoLag} {
		if h.sec.HasKey(key) {
			if h.seconds(key, dst); *dst == 0 {
				*dst = -1 // no lag
			}
		}
	}
	if h.sec.HasKey("repolagwindow") {
		if h.seconds("repolagwindow", &cfg.RepoLagWindow); cfg.RepoLagWindow == 0 {
			h.fail("RepoLagWindow", "must be positive")
		}
	}
	for key, dst := range map[string]*int{"maxrepotasks": &cfg.MaxRepoTasks, "maxrepotasksmaven": &cfg.MaxRepoTasksMaven} {
		if h.count(key, dst); h.sec.HasKey(key) && *dst == 0 {
			h.fail(key, "must be positive")
		}
	}
	if h.count("reporetries", &cfg.RepoRetries); h.sec.HasKey("reporetries") && cfg.RepoRetries == 0 {
		cfg.RepoRetries = -1 // no retries
	}
	if h.sec.HasKey("requestcleantime") {
		var minutes int
		if h.count("requestcleantime", &minutes); minutes == 0 {
			cfg.RequestCleanTime = time.Nanosecond // cleaned at once
		} else {
			cfg.RequestCleanTime = time.Duration(minutes) * time.Minute
		}
	}
	if v := h.str("repoqueueuser"); v != "" {
		cfg.RepoQueueUser = v
	}
	for key, dst := range map[string]*[]string{"debuginfotags": &cfg.DebuginfoTags, "sourcetags": &cfg.SourceTags,
		"separatesourcetags": &cfg.SeparateSourceTags} {
		if v := h.str(key); v != "" {
			*dst = strings.Fields(v)
		}
	}
}

// count reads a number that must not be negative.
func (h *hubOptions) count(key string, dst *int) {
	if !h.sec.HasKey(key) {
		return
	}
	var n int64
	if h.integer(key, &n); n < 0 {
		h.fail(key, "must not be negative")
		return
	}
	*dst = int(n)
}

// dsn builds a database DSN from upstream's DB options:
// DBConnectionString as is, else a postgres:// URL from DBName, DBUser,
// DBPass, DBHost and DBPort; "" when none is set.
func (h *hubOptions) dsn() (string, error) {
	if v := h.str("dbconnectionstring"); v != "" {
		return v, nil
	}
	name := h.str("dbname")
	if name == "" {
		for _, k := range []string{"dbuser", "dbhost", "dbport", "dbpass"} {
			if h.str(k) != "" {
				return "", fmt.Errorf("config %s: [hub] DB options without DBName", h.file)
			}
		}
		return "", nil
	}
	u := url.URL{Scheme: "postgres", Path: "/" + name}
	host := h.str("dbhost")
	if host == "" {
		host = "localhost"
	}
	if port := h.str("dbport"); port != "" {
		if _, err := strconv.Atoi(port); err != nil {
			return "", fmt.Errorf("config %s: [hub] DBPort: not an integer: %q", h.file, port)
		}
		host += ":" + port
	}
	u.Host = host
	if user := h.str("dbuser"); user != "" {
		if pass := h.str("dbpass"); pass != "" {
			u.User = url.UserPassword(user, pass)
		} else {
			u.User = url.User(user)
		}
	}
	return u.String(), nil
}

// logLevel parses -log-level.
func logLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, errors.New("-log-level: want debug, info, warn or error, not " + strconv.Quote(s))
	}
	return l, nil
}

// sqliteDSN is the default database: hub.db in the data directory.
func sqliteDSN(data string) (string, error) {
	abs, err := filepath.Abs(filepath.Join(data, "hub.db"))
	if err != nil {
		return "", err
	}
	return abs, nil
}

// redactDSN hides the password of a database URL, for the log.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	return u.Redacted()
}

// sectionLine and optionLine are ConfigParser's SECTCRE and OPTCRE: a
// section's header, and an option, "=" or ":", then its value.
var (
	sectionLine = regexp.MustCompile(`^\[(.+)\]`)
	optionLine  = regexp.MustCompile(`^(.*?)\s*[=:]\s*(.*)$`)
)

// readPolicies reads the [policy] section of the configuration file as
// upstream's hub reads it with Python's ConfigParser (raw, whose
// multi-line values go-ini does not read the same way): a policy's rule
// text starts after "name =" (or "name:") and goes on over the lines
// indented deeper than its name, blank lines included, comment lines
// ("#" or ";" first) left out; names are lower-cased, the section's is
// not. Nil without the section.
func readPolicies(file string) (map[string]string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", file, err)
	}
	var policies map[string]string
	var lines map[string][]string
	inPolicy, name, indent := false, "", -1
	for i, line := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
		value := strings.TrimSpace(line)
		if value == "" || value[0] == '#' || value[0] == ';' {
			if value == "" && inPolicy && name != "" {
				lines[name] = append(lines[name], "")
			}
			continue
		}
		level := len(line) - len(strings.TrimLeft(line, " \t"))
		if inPolicy && name != "" && level > indent {
			lines[name] = append(lines[name], value)
			continue
		}
		indent = level
		if m := sectionLine.FindStringSubmatch(value); m != nil {
			inPolicy, name = m[1] == "policy", ""
			if inPolicy {
				if policies != nil {
					return nil, fmt.Errorf("config %s: line %d: section [policy] already exists", file, i+1)
				}
				policies, lines = map[string]string{}, map[string][]string{}
			}
			continue
		}
		if !inPolicy {
			name = ""
			continue
		}
		m := optionLine.FindStringSubmatch(value)
		if m == nil || m[1] == "" {
			return nil, fmt.Errorf("config %s: line %d: [policy]: not a name = rules line: %q", file, i+1, value)
		}
		name = strings.ToLower(strings.TrimRight(m[1], " \t"))
		if _, dup := lines[name]; dup {
			return nil, fmt.Errorf("config %s: line %d: [policy]: policy %q already given", file, i+1, name)
		}
		lines[name] = []string{m[2]}
	}
	for n, l := range lines {
		policies[n] = strings.TrimRight(strings.Join(l, "\n"), " \t\n")
	}
	return policies, nil
}
