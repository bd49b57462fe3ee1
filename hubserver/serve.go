package hubserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// An UploadFunc handles a raw upload: a POST with Content-Type
// application/octet-stream whose body is a chunk of a file and whose query
// string says where it goes (filename, filepath, fileverify, offset,
// overwrite, volume), as the koji client's fastUpload sends it. It runs in
// the request's transaction, after Config.Authenticate; its result is
// answered as an XML-RPC response and its error as a fault. An error
// wrapping os.ErrDeadlineExceeded (the body was not read within
// Config.ReadTimeout) is answered 408, as upstream does. MaxRequestLength
// does not apply: the function reads r.Body itself.
type UploadFunc func(ctx context.Context, r *http.Request) (any, error)

const methodNotAllowedBody = "Method Not Allowed\nThis is an XML-RPC server. Only POST requests are accepted.\n"

// errReadTimeout marks a request whose body was not read in time.
var errReadTimeout = errors.New("request timed out")

// ServeHTTP serves the hub on every path; see Handler for a handler that
// serves only the hub's own paths.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Koji-Version", h.cfg.KojiVersion)
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.plain(w, http.StatusMethodNotAllowed, methodNotAllowedBody)
		return
	}
	// A handler mounted in a server that cannot set deadlines reads
	// without one; that server's own timeouts apply then.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(h.cfg.ReadTimeout))
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/octet-stream" {
		h.respond(w, r, "rawUpload", func(ctx context.Context) (any, error) {
			if h.cfg.Upload == nil {
				return nil, &koji.Fault{Code: int(koji.ErrGeneric), String: "raw uploads are not supported by this hub"}
			}
			res, err := h.cfg.Upload(ctx, r)
			if isTimeout(err) {
				return nil, fmt.Errorf("%w: %w", errReadTimeout, err)
			}
			return res, err
		})
		return
	}
	body, err := h.readBody(r.Body)
	switch {
	case isTimeout(err):
		h.plain(w, http.StatusRequestTimeout, "Request Timeout: "+err.Error()+"\n")
		return
	case err != nil:
		h.plain(w, http.StatusBadRequest, "Invalid request: "+err.Error()+"\n")
		return
	}
	dec := xmlrpc.NewDecoder(bytes.NewReader(body))
	dec.SetLimits(xmlrpc.Limits{MaxBytes: h.cfg.MaxRequestLength})
	call, err := dec.DecodeCall()
	if err != nil {
		h.plain(w, http.StatusBadRequest, "Invalid request: "+err.Error()+"\n")
		return
	}
	h.respond(w, r, call.Method, func(ctx context.Context) (any, error) { return h.dispatch(ctx, r, call) })
}

// readBody reads an XML-RPC request body within MaxRequestLength.
func (h *Hub) readBody(body io.Reader) ([]byte, error) {
	var buf bytes.Buffer
	_, err := buf.ReadFrom(io.LimitReader(body, h.cfg.MaxRequestLength+1))
	switch {
	case err != nil:
		return nil, err
	case int64(buf.Len()) > h.cfg.MaxRequestLength:
		return nil, requestError("Request too long")
	case buf.Len() == 0:
		return nil, requestError("Empty request")
	}
	return buf.Bytes(), nil
}

// A requestError is a body the hub refuses, worded as upstream words it.
type requestError string

func (e requestError) Error() string { return string(e) }

func isTimeout(err error) bool {
	var ne net.Error
	return err != nil && (errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout())
}

// plain writes a text/plain HTTP error reply and closes the connection, as
// upstream's error_reply does.
func (h *Hub) plain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Content-Length", strconv.Itoa(len(msg)))
	if status != http.StatusMethodNotAllowed {
		w.Header().Set("Connection", "close")
	}
	w.WriteHeader(status)
	io.WriteString(w, msg)
}

// respond runs one request in its transaction and writes the XML-RPC
// reply: the result, or the fault the error stands for. As upstream's
// application does, a fault rolls the transaction back and anything else
// commits it; the reply is encoded before the commit, so that a result
// that cannot be encoded, or a failed commit, is answered as a fault.
// The AfterCommit functions run after a commit only, before the reply is
// written, as upstream runs postCommit callbacks.
func (h *Hub) respond(w http.ResponseWriter, r *http.Request, method string, run func(context.Context) (any, error)) {
	writer, lost := false, 0
	for {
		ctx, c, ok := h.begin(w, r, method, writer)
		if !ok {
			return
		}
		res, err := run(ctx)
		if ro, _ := c.tx.(ReadOnlyTx); ro != nil && ro.NeedsWriter() && !writer {
			h.endTx(ctx, c.tx, false, method)
			writer = true
			continue
		}
		// A parked call may have moved on to a new transaction, or have
		// none left when it failed while waiting.
		tx := c.tx
		if errors.Is(err, errReadTimeout) {
			h.endTx(ctx, tx, false, method)
			h.plain(w, http.StatusRequestTimeout, "Request Timeout: "+err.Error()+"\n")
			return
		}
		var body []byte
		if err == nil {
			var buf bytes.Buffer
			if err = xmlrpc.NewEncoder(&buf).EncodeResponse(res); err == nil {
				body = buf.Bytes()
			}
		}
		if err == nil {
			err = c.beforeCommit(ctx, 0)
		}
		if err == nil && !h.endTx(ctx, tx, true, method) {
			// endTx rolled the transaction back already.
			err, tx = errors.New("the transaction did not commit"), nil
		}
		if err != nil {
			h.endTx(ctx, tx, false, method)
			if l, _ := c.tx.(LosingTx); l != nil && l.Lost() && lost < maxLostRetries && method != "rawUpload" && r.Context().Err() == nil {
				lost++
				callLogger(h.cfg.Logger, ctx, method).Info("transaction lost to a concurrent one; running the call again", "error", err, "attempt", lost+1)
				continue
			}
			body = faultBody(topFault(err))
		} else {
			c.committed()
		}
		h.writeXML(w, body)
		return
	}
}

// begin makes the context of one run of a request's call, with its call
// state and, with a Store, its transaction; writer says that a read-only
// one will not do. When the transaction cannot begin, begin answers the
// request and reports false.
func (h *Hub) begin(w http.ResponseWriter, r *http.Request, method string, writer bool) (context.Context, *callState, bool) {
	c := &callState{}
	ctx := context.WithValue(context.WithValue(context.WithValue(r.Context(), requestKey{}, r), methodKey{}, method), callKey{}, c)
	if writer {
		ctx = context.WithValue(ctx, writerRequiredKey{}, true)
	}
	if h.cfg.Store == nil {
		return ctx, c, true
	}
	tx, err := h.cfg.Store.Begin(ctx)
	if err != nil {
		callLogger(h.cfg.Logger, ctx, method).Error("cannot begin transaction", "error", err)
		h.writeXML(w, faultBody(&xmlrpc.Fault{Code: int(koji.ErrServerOffline), String: "database outage"}))
		return nil, nil, false
	}
	c.tx = tx
	return context.WithValue(ctx, txKey{}, tx), c, true
}

// endTx commits or rolls back tx, reporting whether a commit succeeded;
// a failure is logged with the request's method and caller.
func (h *Hub) endTx(ctx context.Context, tx Tx, commit bool, method string) bool {
	if tx == nil {
		return true
	}
	if commit {
		err := tx.Commit(ctx)
		if err == nil {
			return true
		}
		callLogger(h.cfg.Logger, ctx, method).Error("commit failed", "error", err)
	}
	// Roll back even when the client went away.
	if err := tx.Rollback(context.WithoutCancel(ctx)); err != nil {
		callLogger(h.cfg.Logger, ctx, method).Error("rollback failed", "error", err)
	}
	return false
}

// unencodableFault answers when a fault cannot be encoded, which xmlSafe
// rules out; it keeps the reply well-formed regardless.
const unencodableFault = "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n<value><int>1</int></value>\n</member>\n<member>\n<name>faultString</name>\n<value><string>unencodable fault</string></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n"

func faultBody(f *xmlrpc.Fault) []byte {
	var buf bytes.Buffer
	// A fault's two fields always encode: the string was produced by the
	// hub and any text XML cannot carry is replaced first.
	if err := xmlrpc.NewEncoder(&buf).EncodeFault(&xmlrpc.Fault{Code: f.Code, String: xmlSafe(f.String)}); err != nil {
		return []byte(unencodableFault)
	}
	return buf.Bytes()
}

// xmlSafe replaces the characters XML 1.0 cannot carry with U+FFFD.
func xmlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return r
		case r < 0x20, r == 0xFFFE, r == 0xFFFF, r == 0xFFFD:
			return 0xFFFD
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

func (h *Hub) writeXML(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// resolve returns the binding of a method name, nil when unknown.
func (h *Hub) resolve(name string) *binding {
	if b, ok := h.multi[name]; ok {
		return b
	}
	return h.lookup(name)
}

func isMulticall(name string) bool { return name == "multiCall" || name == "system.multicall" }

func invalidMethod(name string) error {
	return &koji.Fault{Code: int(koji.ErrGeneric), String: "Invalid method: " + name}
}

// dispatch runs a top-level call: the method is resolved first (an
// unknown one faults before any session check, as upstream), then the
// session is validated once for the whole request, then the call runs.
func (h *Hub) dispatch(ctx context.Context, r *http.Request, call *xmlrpc.Call) (any, error) {
	b := h.resolve(call.Method)
	if b == nil {
		callLogger(h.cfg.Logger, ctx, call.Method).Info("invalid method")
		return nil, invalidMethod(call.Method)
	}
	if h.cfg.Authenticate != nil {
		s, err := h.cfg.Authenticate(ctx, r)
		if err != nil {
			callLogger(h.cfg.Logger, ctx, call.Method).Info("session check failed", "error", err)
			return nil, err
		}
		if s != nil {
			ctx = WithSession(ctx, s)
			callFrom(ctx).setCaller(s)
		}
	}
	return h.runParked(ctx, b, call.Params, call.Kwargs)
}

// invoke runs one bound call, labelled in the logs with its method and
// caller. A panic in the method is recovered and answered as an
// exception.
func (h *Hub) invoke(ctx context.Context, b *binding, params []xmlrpc.RawValue, kwargs map[string]xmlrpc.RawValue) (res any, err error) {
	log := callLogger(h.cfg.Logger, ctx, b.Name)
	ctx = context.WithValue(context.WithValue(ctx, loggerKey{}, log), callLogKey{}, callLog{h.cfg.Logger, b.Name})
	start := time.Now()
	log.Debug("handling method", "params", len(params), "kwargs", len(kwargs))
	defer func() {
		if p := recover(); p != nil {
			log.Error("method panicked", "panic", p, "stack", string(debug.Stack()))
			res, err = nil, fmt.Errorf("panic: %v", p)
		}
		if SessionFrom(ctx) == nil {
			// A login names its new session on the lines that follow it.
			log = relabelled(ctx)
		}
		var p *parkError
		switch {
		case errors.As(err, &p):
			log.Debug("method parked", "duration", time.Since(start))
		case err != nil:
			log.Info("method failed", "duration", time.Since(start), "error", err)
		default:
			log.Info("method completed", "duration", time.Since(start))
		}
	}()
	return b.call(ctx, params, kwargs)
}

// classify reads what an error returned by a method stands for: its fault
// code, message and Python class, and whether it is an explicit XML-RPC
// fault (passed through as is, as upstream passes a raised Fault).
func classify(err error) (f xmlrpc.Fault, pyClass string, explicit bool) {
	var xf *xmlrpc.Fault
	if errors.As(err, &xf) {
		return *xf, "Fault", true
	}
	var kf *koji.Fault
	if errors.As(err, &kf) {
		cls := "Exception"
		if errors.Is(kf, koji.ErrGeneric) {
			cls = "koji." + kf.Class().Name()
		}
		return xmlrpc.Fault{Code: kf.Code, String: kf.String}, cls, false
	}
	var fc koji.FaultClass
	if errors.As(err, &fc) && errors.Is(&koji.Fault{Code: int(fc)}, koji.ErrGeneric) {
		msg := strings.TrimSuffix(err.Error(), ": "+fc.Error())
		return xmlrpc.Fault{Code: int(fc), String: msg}, "koji." + fc.Name(), false
	}
	return xmlrpc.Fault{Code: 1, String: err.Error()}, "Exception", false
}

// topFault is the fault answering a single call that failed with err:
// Koji's exceptions give their code and message, any other error code 1
// and "<class 'Exception'>: message", as upstream's _wrap_handler.
func topFault(err error) *xmlrpc.Fault {
	f, cls, explicit := classify(err)
	if !explicit && cls == "Exception" && f.Code == 1 {
		f.String = "<class 'Exception'>: " + f.String
	}
	return &f
}

// entryFault is the fault struct answering a failed multicall entry: an
// explicit fault as is, any other error with a traceback, whose last line
// names the Python class as upstream's format_exception does.
func entryFault(err error) *xmlrpc.Fault {
	f, cls, explicit := classify(err)
	f.String = xmlSafe(f.String)
	if !explicit {
		f.Traceback = []string{"Traceback (most recent call last):\n", cls + ": " + f.String + "\n"}
	}
	return &f
}
