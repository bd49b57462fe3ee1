package koji

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gokoji/gokoji/xmlrpc"
)

// A FaultClass is one of Koji's exception classes, identified by its fault
// code. The exported values work with errors.Is, following upstream's
// class hierarchy: errors.Is(err, ErrAuth) holds for an AuthExpired fault.
type FaultClass int

// Koji's fault classes (koji/__init__.py), by fault code.
const (
	ErrGeneric            FaultClass = 1000 // GenericError: the root of all Koji faults
	ErrLock               FaultClass = 1001 // LockError
	ErrAuth               FaultClass = 1002 // AuthError
	ErrTag                FaultClass = 1003 // TagError
	ErrActionNotAllowed   FaultClass = 1004 // ActionNotAllowed
	ErrBuild              FaultClass = 1005 // BuildError
	ErrAuthLock           FaultClass = 1006 // AuthLockError, an AuthError
	ErrAuthExpired        FaultClass = 1007 // AuthExpired, an AuthError
	ErrSequence           FaultClass = 1008 // SequenceError, an AuthError
	ErrRetry              FaultClass = 1009 // RetryError, an AuthError
	ErrPreBuild           FaultClass = 1010 // PreBuildError, a BuildError
	ErrPostBuild          FaultClass = 1011 // PostBuildError, a BuildError
	ErrBuildroot          FaultClass = 1012 // BuildrootError, a BuildError
	ErrFunctionDeprecated FaultClass = 1013 // FunctionDeprecated
	ErrServerOffline      FaultClass = 1014 // ServerOffline
	ErrLiveCD             FaultClass = 1015 // LiveCDError
	ErrPlugin             FaultClass = 1016 // PluginError
	ErrCallback           FaultClass = 1017 // CallbackError, a PluginError
	ErrAppliance          FaultClass = 1018 // ApplianceError
	ErrParameter          FaultClass = 1019 // ParameterError
	ErrImport             FaultClass = 1020 // ImportError
	ErrConfiguration      FaultClass = 1021 // ConfigurationError
	ErrLiveMedia          FaultClass = 1022 // LiveMediaError
	ErrGSSAPIAuth         FaultClass = 1023 // GSSAPIAuthError, an AuthError
	ErrNameValidation     FaultClass = 1024 // NameValidationError
)

var faultClassNames = map[FaultClass]string{
	ErrGeneric: "GenericError", ErrLock: "LockError", ErrAuth: "AuthError", ErrTag: "TagError",
	ErrActionNotAllowed: "ActionNotAllowed", ErrBuild: "BuildError", ErrAuthLock: "AuthLockError",
	ErrAuthExpired: "AuthExpired", ErrSequence: "SequenceError", ErrRetry: "RetryError",
	ErrPreBuild: "PreBuildError", ErrPostBuild: "PostBuildError", ErrBuildroot: "BuildrootError",
	ErrFunctionDeprecated: "FunctionDeprecated", ErrServerOffline: "ServerOffline",
	ErrLiveCD: "LiveCDError", ErrPlugin: "PluginError", ErrCallback: "CallbackError",
	ErrAppliance: "ApplianceError", ErrParameter: "ParameterError", ErrImport: "ImportError",
	ErrConfiguration: "ConfigurationError", ErrLiveMedia: "LiveMediaError",
	ErrGSSAPIAuth: "GSSAPIAuthError", ErrNameValidation: "NameValidationError",
}

// parent gives each class's superclass; GenericError has none.
func (c FaultClass) parent() FaultClass {
	switch c {
	case ErrAuthLock, ErrAuthExpired, ErrSequence, ErrRetry, ErrGSSAPIAuth:
		return ErrAuth
	case ErrPreBuild, ErrPostBuild, ErrBuildroot:
		return ErrBuild
	case ErrCallback:
		return ErrPlugin
	case ErrGeneric:
		return 0
	}
	if _, known := faultClassNames[c]; known {
		return ErrGeneric
	}
	return 0
}

// Name is the upstream class name, such as "AuthExpired".
func (c FaultClass) Name() string {
	if name, ok := faultClassNames[c]; ok {
		return name
	}
	return fmt.Sprintf("Fault%d", int(c))
}

func (c FaultClass) Error() string { return "koji: " + c.Name() }

// A Fault is a fault returned by a Koji hub. With errors.Is it matches its
// FaultClass and every class above it; a code Koji does not define (code 1
// for an unexpected hub exception) matches no class.
type Fault struct {
	Code      int
	String    string
	Traceback []string // set for a failed multicall entry
}

func (f *Fault) Error() string {
	c := FaultClass(f.Code)
	if _, known := faultClassNames[c]; known {
		return fmt.Sprintf("koji: %s: %s", c.Name(), f.String)
	}
	return fmt.Sprintf("koji: fault %d: %s", f.Code, f.String)
}

// Class returns the fault's class; see FaultClass.
func (f *Fault) Class() FaultClass { return FaultClass(f.Code) }

// Is reports whether target is the fault's class or one of its ancestors.
func (f *Fault) Is(target error) bool {
	want, ok := target.(FaultClass)
	if !ok {
		return false
	}
	for c := FaultClass(f.Code); c != 0; c = c.parent() {
		if c == want {
			return true
		}
	}
	return false
}

// faultFrom converts an XML-RPC fault, as upstream's convertFault does.
func faultFrom(f *xmlrpc.Fault) *Fault {
	return &Fault{Code: f.Code, String: f.String, Traceback: f.Traceback}
}

// An HTTPError reports a hub reply with a status other than 2xx, such as
// 400 for a request the hub could not parse or 405 for a GET.
type HTTPError struct {
	StatusCode int
	Status     string
	Body       string // the start of the plain-text body
}

func (e *HTTPError) Error() string {
	if e.Body == "" {
		return "koji: hub replied " + e.Status
	}
	return "koji: hub replied " + e.Status + ": " + e.Body
}

// A TransportError reports a request that got no usable reply: the
// connection failed, timed out or broke, or the body was not XML-RPC. Err
// is the cause (a context error when the call was canceled).
type TransportError struct {
	Method string
	URL    string // with any session key redacted
	Err    error
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("koji: %s %s: %v", e.Method, e.URL, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// ErrClosed reports a call on a client after Close.
var ErrClosed = errors.New("koji: client closed")

// redactText hides a session key wherever it appears in text from the
// transport (net/http errors quote the request URL).
func redactText(text, key string) string {
	if key == "" {
		return text
	}
	return strings.ReplaceAll(text, key, "REDACTED")
}
