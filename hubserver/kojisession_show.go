package hubserver

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gokoji/gokoji/internal/store"
)

// showSessionMethod is upstream's showSession: str() of the session
// object, for debugging.
func (k *Koji) showSessionMethod() Method {
	return Method{
		Name: "showSession", PyName: "RootExports.showSession", Bound: true,
		Func: showSession,
	}
}

// showSession renders the caller's session as Python's str() of
// upstream's auth.Session: "session <id>: <repr of its __dict__>", or
// "session: not logged in" with the reason in parentheses.
func showSession(ctx context.Context) (string, error) {
	cs := callSessionFrom(ctx)
	if cs == nil {
		cs = &callSession{}
	}
	s := SessionFrom(ctx)
	if s == nil || s.UserID == 0 || cs.row == nil {
		out := "session: not logged in"
		if cs.message != "" {
			out += " (" + cs.message + ")"
		}
		return out, nil
	}
	tx := storeTx(ctx)
	var perms any
	if cs.permsRead {
		names, err := tx.EffectivePerms(ctx, cs.row.UserID)
		if err != nil {
			return "", err
		}
		d := pyDict{}
		for _, n := range names {
			d = append(d, pyItem{n, 1})
		}
		perms = d
	}
	var callnum any
	if s.Callnum != nil {
		callnum = *s.Callnum
	}
	row := cs.row
	attrs := pyDict{
		{"logged_in", true},
		{"id", row.ID},
		{"master", row.Master},
		{"key", row.Key},
		{"user_id", row.UserID},
		{"authtype", row.AuthType},
		{"hostip", cs.hostIP},
		{"user_data", pyDict{{"name", cs.user.Name}, {"status", cs.user.Status}, {"usertype", cs.user.UserType}}},
		{"message", ""},
		{"exclusive", cs.exclusive},
		{"lockerror", nil},
		{"callnum", callnum},
		{"_perms", perms},
		{"_groups", nil},
		{"_host_id", ""},
		{"session_data", sessionRowData(row)},
	}
	return fmt.Sprintf("session %d: %s", row.ID, attrs.repr()), nil
}

// sessionRowData is the session row as upstream's Session loads it
// (session_data), its columns in QueryProcessor's order, by alias.
func sessionRowData(s *store.Session) pyDict {
	var exclusive any
	if s.Exclusive {
		exclusive = true
	}
	var renewTime, renewTS any
	if s.RenewTime != nil {
		renewTime, renewTS = pyDatetime(*s.RenewTime), pyTS(*s.RenewTime)
	}
	return pyDict{
		{"authtype", s.AuthType},
		{"callnum", s.Callnum},
		{"exclusive", exclusive},
		{"expired", s.Expired},
		{"master", s.Master},
		{"renew_time", renewTime},
		{"renew_ts", renewTS},
		{"start_time", pyDatetime(s.StartTime)},
		{"start_ts", pyTS(s.StartTime)},
		{"update_time", pyDatetime(s.UpdateTime)},
		{"update_ts", pyTS(s.UpdateTime)},
		{"user_id", s.UserID},
	}
}

// A pyDict is a Python dict literal, its items in insertion order.
type pyDict []pyItem

type pyItem struct {
	key   string
	value any
}

// pyDatetime is a value whose repr is that of an aware Python datetime.
type pyDatetime time.Time

// repr renders d as Python's repr() does.
func (d pyDict) repr() string {
	parts := make([]string, len(d))
	for i, it := range d {
		parts[i] = pyRepr(it.key) + ": " + pyValueRepr(it.value)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// pyValueRepr is pyRepr knowing nested dicts, datetimes and nil pointers.
func pyValueRepr(v any) string {
	switch x := v.(type) {
	case pyDict:
		return x.repr()
	case pyDatetime:
		t := time.Time(x).UTC()
		s := fmt.Sprintf("datetime.datetime(%d, %d, %d, %d, %d", t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute())
		// Python leaves out trailing zero fields, down to the minute.
		if us := t.Nanosecond() / 1000; us != 0 {
			s += fmt.Sprintf(", %d, %d", t.Second(), us)
		} else if t.Second() != 0 {
			s += fmt.Sprintf(", %d", t.Second())
		}
		return s + ", tzinfo=datetime.timezone.utc)"
	case *int64:
		if x == nil {
			return "None"
		}
		return pyRepr(*x)
	case float64:
		return pyFloatRepr(x)
	}
	return pyRepr(v)
}

// pyFloatRepr is Python's repr of a finite float: the shortest digits
// that round-trip, positional unless the exponent is below -4 or at least
// 16.
func pyFloatRepr(f float64) string {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return pyRepr(f)
	}
	if a := math.Abs(f); a != 0 && (a < 1e-4 || a >= 1e16) {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		// Python writes at least two exponent digits, as Go does.
		return s
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}
