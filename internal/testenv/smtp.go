package testenv

import (
	"bufio"
	"encoding/base64"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// A MailSession is what one SMTP client did: its AUTH PLAIN login
// ("PLAIN " and the decoded response), its MAIL FROM and RCPT TO
// commands, and its message (with the SMTP dot-stuffing undone).
type MailSession struct {
	Auth, From string
	Rcpts      []string
	Data       string
}

// An SMTPServer is a tiny SMTP server on a free loopback port, for the
// tests of mail senders, that keeps every message; with auth it offers
// AUTH PLAIN and LOGIN (and takes only PLAIN).
type SMTPServer struct {
	// Addr is its host:port.
	Addr     string
	auth     bool
	mu       sync.Mutex
	sessions []MailSession
	got      chan struct{}
}

// StartSMTP starts an SMTPServer, stopped when the test ends.
func StartSMTP(t testing.TB, auth bool) *SMTPServer {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &SMTPServer{Addr: l.Addr().String(), auth: auth, got: make(chan struct{}, 100)}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go s.serve(conn)
		}
	}()
	return s
}

func (s *SMTPServer) serve(conn net.Conn) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	say := func(line string) { conn.Write([]byte(line + "\r\n")) }
	read := func() (string, bool) {
		line, err := r.ReadString('\n')
		return strings.TrimRight(line, "\r\n"), err == nil
	}
	var m MailSession
	say("220 test ESMTP")
	for {
		line, ok := read()
		if !ok {
			return
		}
		verb := strings.ToUpper(strings.Fields(line + " x")[0])
		switch verb {
		case "EHLO":
			if s.auth {
				say("250-test")
				say("250-AUTH PLAIN LOGIN")
			}
			say("250 test")
		case "AUTH":
			parts := strings.Fields(line)
			if len(parts) == 3 && parts[1] == "PLAIN" {
				b, _ := base64.StdEncoding.DecodeString(parts[2])
				m.Auth = "PLAIN " + string(b)
				say("235 ok")
			} else {
				say("504 unsupported")
			}
		case "MAIL":
			m.From = line
			say("250 ok")
		case "RCPT":
			m.Rcpts = append(m.Rcpts, line)
			say("250 ok")
		case "DATA":
			say("354 go on")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, "."))
			}
			m.Data = b.String()
			s.mu.Lock()
			s.sessions = append(s.sessions, m)
			s.mu.Unlock()
			s.got <- struct{}{}
			m = MailSession{}
			say("250 queued")
		case "QUIT":
			say("221 bye")
			return
		default:
			say("502 no")
		}
	}
}

// Next waits up to a minute for the next message.
func (s *SMTPServer) Next(t testing.TB) MailSession {
	t.Helper()
	select {
	case <-s.got:
	case <-time.After(60 * time.Second):
		t.Fatal("no mail came")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.sessions[0]
	s.sessions = s.sessions[1:]
	return m
}

// None fails the test if a message came that Next did not take.
func (s *SMTPServer) None(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sessions) > 0 {
		t.Fatalf("unexpected mail: %+v", s.sessions)
	}
}
