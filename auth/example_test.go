package auth_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/gokoji/gokoji/auth"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// Open reads the profile from /etc/koji.conf and ~/.koji/config, as the
// koji command does, and logs in as it says.
func ExampleOpen() {
	ctx := context.Background()
	c, err := auth.Open(ctx, "koji")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close() // logs out

	var user struct {
		Name string `xmlrpc:"name"`
	}
	if err := c.Call(ctx, "getLoggedInUser", &user); err != nil {
		log.Fatal(err)
	}
	fmt.Println("logged in as", user.Name)
}

// A builder logs in with its host certificate and takes an exclusive
// session, as kojid does.
func ExampleSSL() {
	ctx := context.Background()
	p := koji.DefaultProfile()
	p.Server = "https://koji.example.com/kojihub"
	p.ServerCA = "/etc/kojid/serverca.crt"
	c, err := koji.NewClientFromProfile(p)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(ctx, &auth.SSL{CertFile: "/etc/kojid/builder1.pem"}); err != nil {
		log.Fatal(err)
	}
	if err := c.Exclusive(ctx, true); err != nil {
		log.Fatal(err)
	}
}

// A service logs in with Kerberos from a keytab.
func ExampleGSSAPI() {
	ctx := context.Background()
	c, err := koji.NewClient("https://koji.example.com/kojihub")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	err = c.Login(ctx, &auth.GSSAPI{
		Principal: "compose-bot/compose.example.com@EXAMPLE.COM",
		Keytab:    "/etc/compose-bot/koji.keytab",
	})
	if err != nil {
		log.Fatal(err)
	}
}

func ExamplePassword() {
	// A stand-in hub that accepts one password.
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := io.ReadAll(r.Body)
		call, err := xmlrpc.DecodeCall(req)
		var user, password string
		if err == nil && call.Method == "login" && len(call.Params) == 2 {
			_ = call.Params[0].Decode(&user)
			_ = call.Params[1].Decode(&password)
		}
		var body []byte
		switch {
		case call != nil && call.Method == "logout":
			body, _ = xmlrpc.MarshalResponse(nil)
		case user == "testuser" && password == "testpass":
			body, _ = xmlrpc.MarshalResponse(map[string]any{"session-id": 15, "session-key": "2-U3uXPXwdRpuEOYFugcp", "header-auth": true})
		default:
			body, _ = xmlrpc.MarshalFault(&xmlrpc.Fault{Code: 1002, String: "invalid username or password"})
		}
		_, _ = w.Write(body)
	}))
	defer hub.Close()

	ctx := context.Background()
	c, err := koji.NewClient(hub.URL + "/kojihub")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	err = c.Login(ctx, &auth.Password{User: "testuser", Password: "wrong"})
	fmt.Println(err)
	if err := c.Login(ctx, &auth.Password{User: "testuser", Password: "testpass"}); err != nil {
		log.Fatal(err)
	}
	info, _ := c.Session()
	fmt.Println(info)
	// Output:
	// koji: AuthError: invalid username or password
	// session 15
}

func ExampleFromProfile() {
	p := koji.DefaultProfile()
	p.AuthType = "kerberos"
	p.Principal = "compose-bot@EXAMPLE.COM"
	p.Keytab = "/etc/compose-bot/koji.keytab"
	a, err := auth.FromProfile(p, "")
	if err != nil {
		log.Fatal(err)
	}
	g := a.(*auth.GSSAPI)
	fmt.Printf("%T %s %s\n", a, g.Principal, g.Keytab)
	// Output: *auth.GSSAPI compose-bot@EXAMPLE.COM /etc/compose-bot/koji.keytab
}
