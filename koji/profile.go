package koji

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"
)

// A Profile is one section of the koji client configuration: a hub and how
// to talk to it. LoadProfile reads one from the same files, with the same
// precedence and defaults, as the koji command-line client; the zero value
// is not useful, start from DefaultProfile when building one by hand.
//
// Durations are written in the configuration as whole seconds.
type Profile struct {
	// Name is the profile's section name, such as "koji" or "stg".
	Name string

	Server string // hub XML-RPC URL (server)
	WebURL string // kojiweb base URL (weburl)
	// TopURL is the HTTP root of the Koji file tree (topurl). When it is
	// unset and the obsolete pkgurl option ends in "/packages", TopURL is
	// pkgurl without that suffix, as the CLI does.
	TopURL string
	// TopDir is the local path of the Koji file tree (topdir), with a
	// leading ~ expanded, as the CLI does.
	TopDir string

	// Retries and timeouts.
	MaxRetries    int           // max_retries: retries after the first attempt
	RetryInterval time.Duration // retry_interval
	AnonRetry     bool          // anon_retry: retry transport errors when not logged in
	OfflineRetry  bool          // offline_retry: retry ServerOffline faults indefinitely
	// OfflineRetryInterval is the sleep between offline retries
	// (offline_retry_interval). Like upstream's read_config, it defaults
	// to 20s on its own: setting retry_interval does not change it. Only
	// zero, which read_config never produces, falls back to RetryInterval,
	// as ClientSession does when given no offline_retry_interval.
	OfflineRetryInterval time.Duration
	Timeout              time.Duration // timeout: per request
	AuthTimeout          time.Duration // auth_timeout: during ssl and gssapi login
	UseFastUpload        bool          // use_fast_upload: the raw POST upload
	UploadBlockSize      int           // upload_blocksize, in bytes
	PollInterval         time.Duration // poll_interval: task watching

	// Authentication.
	AuthType string // authtype: "", "noauth", "ssl", "password" or "kerberos"
	// Cert is the client certificate PEM (cert), with a leading ~
	// expanded. When unset it is ~/.koji/client.crt if that exists, else "".
	Cert string
	// ServerCA is the CA file for the hub's TLS certificate (serverca),
	// with a leading ~ expanded. When unset it is ~/.koji/serverca.crt if
	// that exists, else "".
	ServerCA string
	// NoSSLVerify turns off the verification of the hub's certificate
	// when ServerCA is empty (no_ssl_verify). Upstream keeps this option
	// as a string, so that any non-empty value, even "false", turns
	// verification off; here it is a boolean like the others, and empty
	// means false.
	NoSSLVerify bool
	Principal   string // principal: GSSAPI principal, not expanded
	Keytab      string // keytab: GSSAPI keytab, not expanded

	Debug       bool // debug
	DebugXMLRPC bool // debug_xmlrpc
	ForceAuth   bool // force_auth: log in even for anonymous calls
	// PluginPaths is the CLI's colon-separated plugin directories
	// (plugin_paths), as written: the CLI splits it and expands ~ in
	// each element.
	PluginPaths string
	PyVer       int // pyver: the CLI's Python re-exec version; 0 when unset

	// Extra holds the options this package does not know, with lower-cased
	// names and interpolated values, including those inherited from
	// [DEFAULT]. Upstream's read_config ignores them, but plugins may read
	// them. It is nil when there are none.
	Extra map[string]string
}

// Upstream's read_config defaults (koji/__init__.py).
const (
	defaultProfileServer    = "http://localhost/kojihub"
	defaultProfileWebURL    = "http://localhost/koji"
	defaultProfileCert      = "~/.koji/client.crt"
	defaultProfileServerCA  = "~/.koji/serverca.crt"
	confDefaultSection      = "DEFAULT" // ConfigParser's default_section
	confMaxInterpolateDepth = 10        // ConfigParser's MAX_INTERPOLATION_DEPTH
)

// DefaultProfile returns the profile upstream's read_config would produce
// from no configuration at all: server http://localhost/kojihub, weburl
// http://localhost/koji, topdir /mnt/koji, 30 retries 20s apart, 20s
// between offline retries, a 12h request timeout, a 60s login timeout, fast
// uploads in 1 MiB blocks, a 6s poll interval, every flag off, and Cert and
// ServerCA set to ~/.koji/client.crt and ~/.koji/serverca.crt when those
// files exist. Its Name is empty.
func DefaultProfile() *Profile {
	return defaultConfLocations().defaultProfile("")
}

// LoadProfile reads the named profile from the standard locations, as the
// koji command-line client does. Files are read in this order, each value
// overriding those read before it:
//
//	/etc/koji.conf.d/*.conf
//	/etc/koji.conf
//	~/.koji/config.d/*.conf
//	~/.koji/config
//
// A directory contributes its regular files whose names end in ".conf", in
// lexical order. Locations that do not exist are skipped; a file that
// exists but cannot be read is an error (the CLI silently skips it). Each
// of the four paths may also be a directory, read like the .d ones.
//
// The files are parsed as Python's ConfigParser parses them: option names
// are case-insensitive, section names are not; a [DEFAULT] section applies
// to every profile; values may refer to other options of the same profile
// or of [DEFAULT] as %(name)s, and %% stands for %; a line indented deeper
// than the option before it continues that option's value; "#" and ";"
// start a comment only at the beginning of a line; quotes are kept. As for
// the CLI, a section or option given twice in one file, text before the
// first section header, a byte order mark and invalid UTF-8 are errors.
//
// Options are typed as upstream's read_config types them: the booleans
// accept 1/yes/true/on and 0/no/false/off in any case, the integers and
// the durations (whole seconds) must be valid integers, and anything else
// is an error. Options this package does not know go to Profile.Extra.
//
// Every error LoadProfile returns is a *ConfigError, and errors.Is(err,
// ErrConfiguration) holds for it; a missing profile is reported as
// "no configuration for profile name: NAME".
func LoadProfile(name string) (*Profile, error) {
	return defaultConfLocations().load(name, "")
}

// LoadProfileFile reads the named profile as "koji -c path" does: from
// /etc/koji.conf.d/*.conf and /etc/koji.conf, then from path instead of
// the files in the home directory. Unlike the standard locations, path
// must exist, and if it is a directory it must hold .conf files, all of
// them regular files. A leading ~ in path is expanded. Otherwise it
// behaves as LoadProfile.
func LoadProfileFile(path, name string) (*Profile, error) {
	if path == "" {
		return nil, &ConfigError{Err: errors.New("no configuration file given")}
	}
	return defaultConfLocations().load(name, path)
}

// ProfileNames returns the names of the profiles defined in the standard
// locations (see LoadProfile), sorted. [DEFAULT] is not a profile.
func ProfileNames() ([]string, error) {
	return defaultConfLocations().profileNames()
}

// A ConfigError reports a client configuration that cannot be used: a file
// that cannot be read or parsed, a missing profile, or an option with a bad
// value. errors.Is(err, ErrConfiguration) holds for it, as for upstream's
// ConfigurationError, which is a GenericError.
type ConfigError struct {
	Path    string // the file at fault, if any
	Line    int    // its line, if known
	Profile string // the profile being read, if any
	Option  string // the option at fault, if any
	Err     error
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("koji: ")
	if e.Path != "" {
		b.WriteString(e.Path)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	switch {
	case e.Option != "" && e.Profile != "":
		fmt.Fprintf(&b, "[%s] %s: ", e.Profile, e.Option)
	case e.Option != "":
		fmt.Fprintf(&b, "%s: ", e.Option)
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString("configuration error")
	}
	return b.String()
}

func (e *ConfigError) Unwrap() error { return e.Err }

// Is reports whether target is ErrConfiguration or ErrGeneric, the classes
// of upstream's ConfigurationError.
func (e *ConfigError) Is(target error) bool {
	for c := ErrConfiguration; c != 0; c = c.parent() {
		if target == c {
			return true
		}
	}
	return false
}

// confLocations is where the standard configuration lives: sysDir stands
// for /etc and home for the user's home directory ("" when unknown, which
// skips the files in it). Tests point both at temporary trees.
type confLocations struct {
	sysDir   string
	home     string
	readFile func(string) ([]byte, error) // os.ReadFile when nil
}

func defaultConfLocations() confLocations {
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		home = ""
		if u, err := user.Current(); err == nil {
			home = u.HomeDir
		}
	}
	return confLocations{sysDir: "/etc", home: home}
}

// confSource is a configuration path and whether it must exist.
type confSource struct {
	path   string
	strict bool
}

// sources lists the paths upstream's read_config reads, in order; a
// non-empty userConfig stands for -c.
func (l confLocations) sources(userConfig string) []confSource {
	srcs := []confSource{
		{path: filepath.Join(l.sysDir, "koji.conf.d")},
		{path: filepath.Join(l.sysDir, "koji.conf")},
	}
	switch {
	case userConfig != "":
		srcs = append(srcs, confSource{path: confExpandUser(userConfig, l.home), strict: true})
	case l.home != "":
		srcs = append(srcs,
			confSource{path: confExpandUser("~/.koji/config.d", l.home)},
			confSource{path: confExpandUser("~/.koji/config", l.home)})
	}
	return srcs
}

// confFiles resolves sources into the files to read, as upstream's
// read_config_files and config_directory_contents do.
func confFiles(srcs []confSource) ([]string, error) {
	var files []string
	for _, src := range srcs {
		fi, err := os.Stat(src.path)
		switch {
		case confMissing(err) && !src.strict:
			continue
		case err != nil:
			return nil, &ConfigError{Path: src.path, Err: fmt.Errorf("config file can't be opened: %w", confPathErr(err))}
		case fi.IsDir():
			names, err := confDirContents(src.path, src.strict)
			if err != nil {
				return nil, err
			}
			if len(names) == 0 && src.strict {
				return nil, &ConfigError{Path: src.path, Err: errors.New("no config files found in directory")}
			}
			files = append(files, names...)
		case fi.Mode().IsRegular():
			files = append(files, src.path)
		case src.strict:
			return nil, &ConfigError{Path: src.path, Err: errors.New("config file can't be opened: not a regular file")}
		}
	}
	return files, nil
}

func confDirContents(dir string, strict bool) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, &ConfigError{Path: dir, Err: fmt.Errorf("config directory can't be read: %w", confPathErr(err))}
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names) // byte order is code point order, as Python's sorted
	var files []string
	for _, name := range names {
		if !strings.HasSuffix(name, ".conf") {
			continue
		}
		full := filepath.Join(dir, name)
		if fi, err := os.Stat(full); err == nil && fi.Mode().IsRegular() {
			files = append(files, full)
		} else if strict {
			return nil, &ConfigError{Path: full, Err: errors.New("config file can't be opened: not a regular file")}
		}
	}
	return files, nil
}

// confMissing reports whether err says a path does not exist, as a
// missing file or a file where a directory should be.
func confMissing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// confPathErr drops the path from a *fs.PathError, which ConfigError
// already names.
func confPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (l confLocations) readSet(userConfig string) (*confSet, error) {
	files, err := confFiles(l.sources(userConfig))
	if err != nil {
		return nil, err
	}
	read := l.readFile
	if read == nil {
		read = os.ReadFile
	}
	srcs := make([]confFileData, 0, len(files))
	for _, path := range files {
		data, err := read(path)
		if err != nil {
			return nil, &ConfigError{Path: path, Err: fmt.Errorf("config file can't be read: %w", confPathErr(err))}
		}
		srcs = append(srcs, confFileData{path, data})
	}
	return parseConf(srcs)
}

func (l confLocations) load(name, userConfig string) (*Profile, error) {
	set, err := l.readSet(userConfig)
	if err != nil {
		return nil, err
	}
	return set.profile(name, l.home)
}

func (l confLocations) profileNames() ([]string, error) {
	set, err := l.readSet("")
	if err != nil {
		return nil, err
	}
	return set.sectionNames(), nil
}

// defaultProfile is DefaultProfile with the given name and home.
func (l confLocations) defaultProfile(name string) *Profile {
	return &Profile{
		Name:                 name,
		Server:               defaultProfileServer,
		WebURL:               defaultProfileWebURL,
		TopDir:               BaseDir,
		MaxRetries:           30,
		RetryInterval:        20 * time.Second,
		OfflineRetryInterval: 20 * time.Second,
		Timeout:              12 * time.Hour, // DEFAULT_REQUEST_TIMEOUT
		AuthTimeout:          60 * time.Second,
		UseFastUpload:        true,
		UploadBlockSize:      1048576,
		PollInterval:         6 * time.Second,
		Cert:                 confDefaultFile(defaultProfileCert, l.home),
		ServerCA:             confDefaultFile(defaultProfileServerCA, l.home),
	}
}

// confDefaultFile is read_config's default for cert and serverca: the
// expanded path if something exists there, else "".
func confDefaultFile(path, home string) string {
	p := confExpandUser(path, home)
	if strings.HasPrefix(p, "~") {
		return ""
	}
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// confExpandUser is Python's os.path.expanduser with home standing for
// $HOME: "~" and "~/..." use home (left alone when home is ""), "~user/..."
// that user's home directory.
func confExpandUser(path, home string) string {
	if !strings.HasPrefix(path, "~") {
		return path
	}
	i := strings.IndexByte(path[1:], '/') + 1
	if i == 0 {
		i = len(path)
	}
	var userHome string
	if i == 1 {
		if home == "" {
			return path
		}
		userHome = home
	} else {
		u, err := user.Lookup(path[1:i])
		if err != nil {
			return path
		}
		userHome = u.HomeDir
	}
	if p := strings.TrimRight(userHome, "/") + path[i:]; p != "" {
		return p
	}
	return "/"
}

// The profile options, by how read_config types them.
var (
	confBoolOptions = map[string]bool{
		"anon_retry": true, "offline_retry": true, "use_fast_upload": true,
		"debug": true, "debug_xmlrpc": true, "force_auth": true, "no_ssl_verify": true,
	}
	confIntOptions = map[string]bool{
		"max_retries": true, "retry_interval": true, "offline_retry_interval": true,
		"poll_interval": true, "timeout": true, "auth_timeout": true,
		"upload_blocksize": true, "pyver": true,
	}
)

// profile builds the named profile as read_config and the CLI do.
func (c *confSet) profile(name, home string) (*Profile, error) {
	items, err := c.items(name)
	if err != nil {
		return nil, err
	}
	p := confLocations{home: home}.defaultProfile(name)
	p.Cert, p.ServerCA = "", ""
	var certSet, caSet bool
	var pkgURL string
	for _, it := range items {
		fail := func(err error) error {
			return &ConfigError{Path: it.path, Line: it.line, Profile: name, Option: it.name, Err: err}
		}
		v := it.value
		var (
			b   bool
			n   int64
			d   time.Duration
			err error
		)
		if confBoolOptions[it.name] && !(it.name == "no_ssl_verify" && v == "") {
			if b, err = confParseBool(v); err != nil {
				return nil, fail(fmt.Errorf("value for %s config option must be a valid boolean (1/yes/true/on or 0/no/false/off), not %q", it.name, v))
			}
		}
		if confIntOptions[it.name] {
			if n, err = confParseInt(v); err != nil {
				return nil, fail(fmt.Errorf("value for %s config option must be a valid integer, not %q", it.name, v))
			}
			if n > math.MaxInt64/int64(time.Second) || n < math.MinInt64/int64(time.Second) {
				return nil, fail(fmt.Errorf("value for %s config option is out of range: %s", it.name, v))
			}
			d = time.Duration(n) * time.Second
		}
		switch it.name {
		case "server":
			p.Server = v
		case "weburl":
			p.WebURL = v
		case "topurl":
			p.TopURL = v
		case "pkgurl":
			pkgURL = v
		case "topdir":
			p.TopDir = v
		case "max_retries":
			p.MaxRetries = int(n)
		case "retry_interval":
			p.RetryInterval = d
		case "anon_retry":
			p.AnonRetry = b
		case "offline_retry":
			p.OfflineRetry = b
		case "offline_retry_interval":
			p.OfflineRetryInterval = d
		case "timeout":
			p.Timeout = d
		case "auth_timeout":
			p.AuthTimeout = d
		case "use_fast_upload":
			p.UseFastUpload = b
		case "upload_blocksize":
			p.UploadBlockSize = int(n)
		case "poll_interval":
			p.PollInterval = d
		case "principal":
			p.Principal = v
		case "keytab":
			p.Keytab = v
		case "cert":
			p.Cert, certSet = v, true
		case "serverca":
			p.ServerCA, caSet = v, true
		case "no_ssl_verify":
			p.NoSSLVerify = b
		case "authtype":
			p.AuthType = v
		case "debug":
			p.Debug = b
		case "debug_xmlrpc":
			p.DebugXMLRPC = b
		case "force_auth":
			p.ForceAuth = b
		case "pyver":
			p.PyVer = int(n)
		case "plugin_paths":
			p.PluginPaths = v
		default:
			if p.Extra == nil {
				p.Extra = make(map[string]string)
			}
			p.Extra[it.name] = v
		}
	}
	// read_config: cert and serverca default to the files under ~/.koji
	// when present, and are expanded either way.
	if certSet {
		p.Cert = confExpandUser(p.Cert, home)
	} else {
		p.Cert = confDefaultFile(defaultProfileCert, home)
	}
	if caSet {
		p.ServerCA = confExpandUser(p.ServerCA, home)
	} else {
		p.ServerCA = confDefaultFile(defaultProfileServerCA, home)
	}
	// The CLI (get_options) also expands topdir, and turns an obsolete
	// pkgurl ending in /packages into topurl when topurl is empty.
	p.TopDir = confExpandUser(p.TopDir, home)
	if p.TopURL == "" && pkgURL != "" {
		if s := confPkgURLSuffix.ReplaceAllString(pkgURL, ""); s != pkgURL {
			p.TopURL = s
		}
	}
	return p, nil
}

var confPkgURLSuffix = regexp.MustCompile(`/packages/?$`)
