package auth_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/gokoji/gokoji/auth"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// expiringHub is a hub whose sessions expire after their first
// getLoggedInUser, and which renews them as Koji's hub does: a login call
// with renew=True that carries an expired session's id and key keeps the
// id and gets a new key.
type expiringHub struct {
	t   *testing.T
	rec recorder

	mu      sync.Mutex
	nextID  int64
	keys    map[int64]string
	expired map[int64]bool
	used    map[int64]bool
	renews  int
}

func newExpiringHub(t *testing.T) *expiringHub {
	return &expiringHub{t: t, nextID: 20, keys: map[int64]string{}, expired: map[int64]bool{}, used: map[int64]bool{}}
}

func (h *expiringHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	call := h.rec.add(h.t, r)
	h.mu.Lock()
	defer h.mu.Unlock()
	id, _ := strconv.ParseInt(r.Header.Get("Koji-Session-Id"), 10, 64)
	known := id != 0 && h.keys[id] == r.Header.Get("Koji-Session-Key")
	switch call.Method {
	case "login", "sslLogin":
		if renew, _ := call.Kwargs["renew"].(bool); renew {
			if !known || !h.expired[id] {
				reply(h.t, w, &xmlrpc.Fault{Code: 1002, String: "no expired session to renew"})
				return
			}
			h.renews++
			h.keys[id] = fmt.Sprintf("1-renewed%dkey%d", id, h.renews)
			h.expired[id] = false
			reply(h.t, w, session(id, h.keys[id]))
			return
		}
		h.nextID++
		h.keys[h.nextID] = fmt.Sprintf("1-firstkey%d", h.nextID)
		reply(h.t, w, session(h.nextID, h.keys[h.nextID]))
	case "exclusiveSession", "getLoggedInUser":
		switch {
		case !known:
			reply(h.t, w, &xmlrpc.Fault{Code: 1002, String: "Invalid session or bad credentials"})
		case h.expired[id]:
			reply(h.t, w, &xmlrpc.Fault{Code: 1007, String: fmt.Sprintf("session \"%d\" has expired", id)})
		case call.Method == "exclusiveSession":
			reply(h.t, w, nil)
		case !h.used[id]:
			h.used[id] = true
			h.expired[id] = true
			reply(h.t, w, &xmlrpc.Fault{Code: 1007, String: fmt.Sprintf("session \"%d\" has expired", id)})
		default:
			reply(h.t, w, map[string]any{"id": 1, "name": "kojiadmin"})
		}
	default:
		reply(h.t, w, &xmlrpc.Fault{Code: 1000, String: "unexpected " + call.Method})
	}
}

func TestRenewalRerunsTheLogin(t *testing.T) {
	ca := newTestCA(t, "ca")
	_, certFile := ca.issue(t, "kojiadmin", false)
	for _, tc := range []struct {
		name          string
		authenticator koji.Authenticator
		exclusive     bool
		wantKwargs    map[string]any
	}{
		{"password", &auth.Password{User: "kojiadmin", Password: "s3cret-pw"}, true,
			map[string]any{"opts": nil, "renew": true, "exclusive": true}},
		{"certificate", &auth.SSL{CertFile: certFile}, false,
			map[string]any{"proxyuser": nil, "renew": true, "exclusive": false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hub := newExpiringHub(t)
			srv := startTLSHub(t, hub, ca, tls.VerifyClientCertIfGiven, ca)
			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			c := newTestClient(t, srv.URL+"/kojihub", ca, koji.WithLogger(logger))
			ctx := context.Background()

			require.NoError(t, c.Login(ctx, tc.authenticator))
			first, _ := c.Session()
			if tc.exclusive {
				require.NoError(t, c.Exclusive(ctx, false))
			}
			var user struct {
				Name string `xmlrpc:"name"`
			}
			require.NoError(t, c.Call(ctx, "getLoggedInUser", &user), "expired, renewed, replayed")
			assert.Equal(t, "kojiadmin", user.Name)

			renewed, ok := c.Session()
			require.True(t, ok)
			assert.Equal(t, first.ID, renewed.ID, "renewal keeps the session id")
			assert.NotEqual(t, first.Key, renewed.Key)

			calls := hub.rec.all()
			var renewal *hubCall
			for i := range calls {
				if calls[i].Kwargs["renew"] == true {
					renewal = &calls[i]
				}
			}
			require.NotNil(t, renewal, "a renewing login was sent")
			assert.Equal(t, tc.wantKwargs, renewal.Kwargs)
			assert.Equal(t, strconv.FormatInt(first.ID, 10), renewal.Header.Get("Koji-Session-Id"), "the expired session's headers go along")
			assert.Equal(t, first.Key, renewal.Header.Get("Koji-Session-Key"))
			last := calls[len(calls)-1]
			assert.Equal(t, "getLoggedInUser", last.Method)
			assert.Equal(t, renewed.Key, last.Header.Get("Koji-Session-Key"))

			for _, key := range []string{first.Key, renewed.Key, "s3cret-pw"} {
				assert.NotContains(t, logs.String(), key, "no secret in the logs")
			}
			assert.Contains(t, logs.String(), "renewed session")
		})
	}
}

func TestRenewalFailureKeepsSecretsOut(t *testing.T) {
	ca := newTestCA(t, "ca")
	_, certFile := ca.issue(t, "kojiadmin", false)
	var mu sync.Mutex
	logins := 0
	srv := startTLSHub(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		call := (&recorder{}).add(t, r)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case call.Method == "sslLogin" && logins == 0:
			logins++
			reply(t, w, session(30, "1-Sup3rSecretKey"))
		case call.Method == "sslLogin":
			reply(t, w, &xmlrpc.Fault{Code: 1002, String: "session closed"})
		default:
			reply(t, w, &xmlrpc.Fault{Code: 1007, String: "session \"30\" has expired"})
		}
	}), ca, tls.VerifyClientCertIfGiven, ca)
	var logs bytes.Buffer
	c := newTestClient(t, srv.URL+"/kojihub", ca, koji.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	ctx := context.Background()
	require.NoError(t, c.Login(ctx, &auth.SSL{CertFile: certFile}))

	err := c.Call(ctx, "getLoggedInUser", nil)

	require.Error(t, err)
	assert.ErrorIs(t, err, koji.ErrAuth)
	assert.Contains(t, err.Error(), "session closed")
	assert.NotContains(t, err.Error(), "1-Sup3rSecretKey")
	assert.NotContains(t, logs.String(), "1-Sup3rSecretKey")
}
