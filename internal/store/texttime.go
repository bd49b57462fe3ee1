package store

import (
	"fmt"
	"time"
)

// A textTime scans a timestamp column into Dst (a *time.Time, or a
// **time.Time for a nullable one). PostgreSQL hands over a time.Time;
// SQLite, when the query selects the column as text (see timeText), its
// stored text, which parseStoredTime reads without time.Parse: the
// driver parses a TIMESTAMP column by trying layouts with time.Parse,
// failing once per value before it succeeds, which costs a large read
// such as listTagged a fifth of its time.
type textTime struct{ Dst any }

// Scan implements sql.Scanner.
func (s textTime) Scan(src any) error {
	var t time.Time
	switch v := src.(type) {
	case nil:
		p, ok := s.Dst.(**time.Time)
		if !ok {
			return fmt.Errorf("store: NULL timestamp in a NOT NULL column")
		}
		*p = nil
		return nil
	case time.Time:
		t = v
	case string:
		var err error
		if t, err = parseStoredTime(v); err != nil {
			return err
		}
	case []byte:
		var err error
		if t, err = parseStoredTime(string(v)); err != nil {
			return err
		}
	default:
		return fmt.Errorf("store: cannot scan %T into a timestamp", src)
	}
	switch p := s.Dst.(type) {
	case *time.Time:
		*p = t
	case **time.Time:
		*p = &t
	default:
		return fmt.Errorf("store: cannot scan a timestamp into %T", s.Dst)
	}
	return nil
}

// timeText is a timestamp column as a query of dialect d selects it for
// a textTime: on SQLite an expression, which has no declared type, so
// that the driver passes the text on instead of parsing it.
func timeText(d Dialect, column string) string {
	if d == Postgres {
		return column
	}
	return "CAST(" + column + " AS TEXT)"
}

// storedTimeLayouts are the layouts modernc.org/sqlite reads a TIMESTAMP
// column with, for the text parseStoredTime's fast path does not take.
var storedTimeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02T15:04",
	"2006-01-02",
}

// parseStoredTime reads a timestamp as SQLite stores it: the driver's
// "2006-01-02 15:04:05.999999999-07:00" and the schema's default, with
// milliseconds and "+00:00", directly; anything else as the driver
// would, with time.Parse over its layouts (UTC when the text has no
// offset).
func parseStoredTime(s string) (time.Time, error) {
	if t, ok := parseTimeFast(s); ok {
		return t, nil
	}
	for _, layout := range storedTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("store: unreadable timestamp %q", s)
}

// parseTimeFast reads "YYYY-MM-DD HH:MM:SS", an optional fraction of one
// to nine digits, and an offset ±HH:MM ("Z" is no layout the driver
// reads); ok is false for any
// other text, and for a date or time out of range.
func parseTimeFast(s string) (t time.Time, ok bool) {
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 ||
		day > daysIn(year, month) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	rest := s[19:]
	nsec := 0
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && n <= 9 && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 1 || n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			return time.Time{}, false // no digit, or more than nine
		}
		frac, _ := digits(rest[1:n])
		for range 10 - n {
			frac *= 10
		}
		nsec, rest = frac, rest[n:]
	}
	offset := 0
	switch {
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := digits(rest[1:3])
		om, ok2 := digits(rest[4:6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return time.Time{}, false
		}
		offset = (oh*60 + om) * 60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, false
	}
	t = time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if offset != 0 {
		t = t.Add(-time.Duration(offset) * time.Second).In(time.FixedZone("", offset))
	}
	return t, true
}

// digits is the value of s, all decimal digits.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
