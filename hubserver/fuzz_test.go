package hubserver_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/internal/kojitest"
	"github.com/gokoji/gokoji/xmlrpc"
)

// FuzzHandler sends arbitrary bodies through the hub: every reply is an
// HTTP 200 carrying a well-formed XML-RPC response or fault, or a 400.
func FuzzHandler(f *testing.F) {
	for _, name := range []string{"hello", "echo_types", "multicall_koji", "system_multicall", "wrong_arg_count", "getUser_kwargs", "http_malformed_xml"} {
		f.Add(kojitest.Fixture(f, name).Request)
	}
	f.Add([]byte(""))
	f.Add([]byte("<?xml version='1.0'?><methodCall><methodName>multiCall</methodName><params><param><value><array><data><value><struct><member><name>methodName</name><value>multiCall</value></member></struct></value></data></array></value></param></params></methodCall>"))
	store := &fakeStore{}
	h, err := hubserver.New(hubserver.Config{Store: store, MaxRequestLength: 1 << 16, Logger: quiet})
	if err != nil {
		f.Fatal(err)
	}
	testMethods(h)
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/kojihub", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "text/xml")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		store.log()
		switch rec.Code {
		case http.StatusBadRequest:
			if !strings.HasPrefix(rec.Body.String(), "Invalid request: ") {
				t.Fatalf("400 body %q", rec.Body.String())
			}
		case http.StatusOK:
			var v any
			err := xmlrpc.DecodeResponse(rec.Body.Bytes(), &v)
			if _, isFault := err.(*xmlrpc.Fault); err != nil && !isFault {
				t.Fatalf("reply does not decode: %v\n%s", err, rec.Body.String())
			}
		default:
			t.Fatalf("status %d", rec.Code)
		}
		if rec.Header().Get("Koji-Version") != "1.35.3" {
			t.Fatal("no Koji-Version")
		}
	})
}
