package hubserver

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"
)

// APIVersion is Koji's API version, answered by getAPIVersion.
const APIVersion = 1

// Defaults of Config's fields.
const (
	DefaultListenAddr       = "127.0.0.1:0"
	DefaultPath             = "/kojihub"
	DefaultMaxRequestLength = 4194304
	DefaultReadTimeout      = 60 * time.Second
	DefaultKojiVersion      = "1.35.3"
)

// Config configures a Hub. The zero value is a plain-HTTP hub on a free
// loopback port without a database.
type Config struct {
	// ListenAddr is the TCP address Start listens on; DefaultListenAddr
	// when empty.
	ListenAddr string
	// Path is the URL path of the hub, DefaultPath when empty. Handler
	// serves it and Path+"/ssllogin", the URL the koji CLI uses for SSL
	// logins (the hub itself ignores which of the two was hit, as
	// upstream's WSGI application does).
	Path string

	// TLSConfig makes Start serve HTTPS. When its ClientCAs is set and
	// ClientAuth left at NoClientCert, the hub uses VerifyClientCertIfGiven:
	// the handshake requests a client certificate and verifies it when one
	// is sent (Go has no TLS 1.3 post-handshake authentication, so the
	// certificate cannot be asked for later, on /ssllogin only).
	TLSConfig *tls.Config
	// TLSCertFile and TLSKeyFile, PEM files, are an alternative to
	// TLSConfig's Certificates; ClientCAFile, a PEM bundle, to its
	// ClientCAs.
	TLSCertFile, TLSKeyFile, ClientCAFile string

	// MaxRequestLength bounds an XML-RPC request body, in bytes
	// (upstream's MaxRequestLength); DefaultMaxRequestLength when zero.
	// Raw uploads are not bounded by it.
	MaxRequestLength int64
	// ReadTimeout bounds the reading of a request body; a body not read in
	// time is answered 408. DefaultReadTimeout when zero.
	ReadTimeout time.Duration

	// KojiVersion is the version the hub claims, in the Koji-Version
	// header and getKojiVersion. The koji client parses it as dotted
	// integers and gates features on it, so it must be numeric.
	// DefaultKojiVersion when empty.
	KojiVersion string

	// Logger receives the hub's logs; slog.Default() when nil.
	Logger *slog.Logger

	// Store provides the per-request transaction; nil runs without one.
	Store Store
	// Authenticate validates the request's session; nil treats every
	// caller as anonymous.
	Authenticate Authenticator
	// Upload handles raw uploads (POST with Content-Type
	// application/octet-stream); the files layer plugs in here. Nil
	// answers every raw upload with a GenericError fault.
	Upload UploadFunc
	// Middleware, when set, wraps the hub's HTTP handler, the one Start
	// serves and Handler returns: it sees each request first, as the web
	// server's modules see it before upstream's WSGI application does
	// (mod_auth_gssapi's SPNEGO handshake on the ssllogin URL, for one).
	Middleware func(http.Handler) http.Handler
}

var numericVersion = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*$`)

// withDefaults validates cfg and fills in its defaults.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.ListenAddr == "" {
		cfg.ListenAddr = DefaultListenAddr
	}
	if cfg.Path == "" {
		cfg.Path = DefaultPath
	}
	if !strings.HasPrefix(cfg.Path, "/") {
		return cfg, fmt.Errorf("hubserver: Path %q does not start with /", cfg.Path)
	}
	cfg.Path = strings.TrimRight(cfg.Path, "/")
	if cfg.MaxRequestLength == 0 {
		cfg.MaxRequestLength = DefaultMaxRequestLength
	}
	if cfg.MaxRequestLength < 0 {
		return cfg, errors.New("hubserver: negative MaxRequestLength")
	}
	if cfg.ReadTimeout == 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	if cfg.KojiVersion == "" {
		cfg.KojiVersion = DefaultKojiVersion
	}
	if !numericVersion.MatchString(cfg.KojiVersion) {
		return cfg, fmt.Errorf("hubserver: KojiVersion %q is not a dotted number", cfg.KojiVersion)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	tc, err := cfg.tlsConfig()
	if err != nil {
		return cfg, err
	}
	cfg.TLSConfig = tc
	return cfg, nil
}

// tlsConfig assembles the server's TLS configuration, nil for plain HTTP.
func (cfg Config) tlsConfig() (*tls.Config, error) {
	if cfg.TLSConfig == nil && cfg.TLSCertFile == "" && cfg.TLSKeyFile == "" && cfg.ClientCAFile == "" {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tc = cfg.TLSConfig.Clone()
	}
	if cfg.TLSCertFile != "" || cfg.TLSKeyFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("hubserver: TLS certificate: %w", err)
		}
		tc.Certificates = append(tc.Certificates, cert)
	}
	if len(tc.Certificates) == 0 && tc.GetCertificate == nil {
		return nil, errors.New("hubserver: TLS configured without a server certificate")
	}
	if cfg.ClientCAFile != "" {
		pem, err := os.ReadFile(cfg.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("hubserver: client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("hubserver: client CA: no certificate in %s", cfg.ClientCAFile)
		}
		tc.ClientCAs = pool
	}
	if tc.ClientCAs != nil && tc.ClientAuth == tls.NoClientCert {
		tc.ClientAuth = tls.VerifyClientCertIfGiven
	}
	return tc, nil
}
