package auth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gokoji/gokoji/auth"
	"github.com/gokoji/gokoji/internal/kojitest"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPasswordLoginAsRecorded(t *testing.T) {
	hub := kojitest.NewReplayHub(t, "login_password", "logout")
	c := newTestClient(t, hub.URL(), nil)

	require.NoError(t, c.Login(context.Background(), &auth.Password{User: "testuser", Password: "testpass"}))

	info, ok := c.Session()
	require.True(t, ok)
	assert.Equal(t, int64(15), info.ID)
	received := hub.Received()
	require.Len(t, received, 1)
	assert.Equal(t, "/kojihub", received[0].Path, "login goes to the hub URL itself")
	assert.Equal(t, string(kojitest.Fixture(t, "login_password").Request), string(received[0].Body),
		"login(user, password, opts=None) byte for byte as Koji's client sent it")
}

func TestPasswordLoginRefused(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.add(t, r)
		reply(t, w, &xmlrpc.Fault{Code: 1002, String: "invalid username or password"})
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL+"/kojihub", nil)

	err := c.Login(context.Background(), &auth.Password{User: "testuser", Password: "wrong-s3cret"})

	var f *koji.Fault
	require.ErrorAs(t, err, &f, "the hub's fault, as Koji's client raises it")
	assert.Equal(t, "invalid username or password", f.String)
	assert.ErrorIs(t, err, koji.ErrAuth)
	assert.NotContains(t, err.Error(), "wrong-s3cret")
	assert.False(t, c.LoggedIn())
	assert.Len(t, rec.all(), 1, "a refused login is not tried again")
}

func TestPasswordFormatsWithoutPassword(t *testing.T) {
	p := auth.Password{User: "testuser", Password: "s3cret"}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(format, p)
		assert.NotContains(t, out, "s3cret", format)
		assert.Contains(t, out, "testuser", format)
	}
	assert.NotContains(t, fmt.Sprintf("%v", &p), "s3cret")
}
