package xmlrpc

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrDTD reports a document type or entity declaration, which this
	// package refuses as Koji's hub does (it parses with defusedxml).
	ErrDTD = errors.New("xmlrpc: DTD or entity declaration")
	// ErrEncoding reports a character encoding other than UTF-8, US-ASCII
	// and ISO-8859-1.
	ErrEncoding = errors.New("xmlrpc: unsupported character encoding")
	// ErrTooLarge reports a document larger than Limits.MaxBytes.
	ErrTooLarge = errors.New("xmlrpc: document too large")
	// ErrTooDeep reports values nested deeper than Limits.MaxDepth.
	ErrTooDeep = errors.New("xmlrpc: values nested too deeply")
)

// A SyntaxError reports input that is not well-formed XML or not an
// XML-RPC document.
type SyntaxError struct {
	Offset int64  // byte offset in the input where the problem was found
	Msg    string // what was wrong
	Err    error  // an underlying cause such as ErrDTD, or nil
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("xmlrpc: syntax error at byte %d: %s", e.Offset, e.Msg)
}

func (e *SyntaxError) Unwrap() error { return e.Err }

// A LimitError reports input beyond one of the decoder's Limits.
type LimitError struct {
	What  string // "document size" or "nesting depth"
	Limit int64
	Err   error // ErrTooLarge or ErrTooDeep
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("xmlrpc: %s exceeds the limit of %d", e.What, e.Limit)
}

func (e *LimitError) Unwrap() error { return e.Err }

// A TypeError reports a value that cannot be stored in the Go value it is
// decoded into. Path locates it from the top value, as in "[3].owner_id".
type TypeError struct {
	Path   string       // where the value is; "" for the top value
	Value  string       // the XML-RPC type, such as "string" or "i8"
	Type   reflect.Type // the Go type it was decoded into
	Offset int64        // byte offset of the value in the input
	Detail string       // why, when more than a type mismatch (an overflow, a bad number)
}

func (e *TypeError) Error() string {
	var b strings.Builder
	b.WriteString("xmlrpc: ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "cannot decode %s into Go value of type %s", e.Value, e.Type)
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// A MarshalError reports a Go value that cannot be encoded: an unsupported
// type, an integer beyond 64 bits, or a string XML cannot carry.
type MarshalError struct {
	Path string // where the value is, as in TypeError
	Msg  string
}

func (e *MarshalError) Error() string {
	if e.Path == "" {
		return "xmlrpc: cannot encode value: " + e.Msg
	}
	return "xmlrpc: cannot encode " + e.Path + ": " + e.Msg
}

// A Fault is an XML-RPC fault: the error a server returns instead of a
// result. Koji's fault codes and their hierarchy live in package koji.
type Fault struct {
	Code   int    `xmlrpc:"faultCode"`
	String string `xmlrpc:"faultString"`
	// Traceback is set by Koji's hub on failed multicall entries; a fault
	// response carries none.
	Traceback []string `xmlrpc:"traceback,omitempty"`
}

func (f *Fault) Error() string {
	return fmt.Sprintf("xmlrpc: fault %d: %s", f.Code, f.String)
}

// prefixPath prepends a path element (".name" or "[i]") to the path of a
// TypeError or MarshalError on its way up; other errors, and nil, pass.
func prefixPath(err error, elem string) error {
	switch e := err.(type) {
	case *TypeError:
		e.Path = joinPath(elem, e.Path)
	case *MarshalError:
		e.Path = joinPath(elem, e.Path)
	}
	return err
}

func joinPath(elem, rest string) string {
	if rest == "" || rest[0] == '[' {
		return elem + rest
	}
	return elem + "." + rest
}

func indexPath(i int) string { return fmt.Sprintf("[%d]", i) }
