package koji

import (
	"context"
	"fmt"
	"iter"
	"math"
	"reflect"
	"time"
)

// NameOrID is an argument the hub accepts either as an object's numeric
// ID (any Go integer type) or as its name (a string): a tag "f43-build"
// or 42, a build "bash-5.2.26-3.fc40" or 12345. The hub looks names and IDs
// up the same way, so passing either gives the same result. Other types,
// nil and the empty string are refused with a *RefError before anything
// is sent.
type NameOrID = any

// A RefError reports an argument that is not a NameOrID.
type RefError struct {
	Method   string // the hub method, such as "getBuild"
	Argument string // the hub's name for the argument, such as "buildInfo"
	Value    any
}

func (e *RefError) Error() string {
	if e.Value == nil {
		return fmt.Sprintf("koji: %s: %s is missing: want an int ID or a string name", e.Method, e.Argument)
	}
	return fmt.Sprintf("koji: %s: %s is %T %#v: want an int ID or a non-empty string name", e.Method, e.Argument, e.Value, e.Value)
}

// checkRef checks a required NameOrID argument.
func checkRef(method, arg string, v NameOrID) error {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if rv.Uint() <= math.MaxInt64 {
			return nil
		}
	case reflect.String:
		if rv.Len() > 0 {
			return nil
		}
	}
	return &RefError{Method: method, Argument: arg, Value: v}
}

// checkOptionalRef checks a NameOrID option, which nil leaves unset.
func checkOptionalRef(method, arg string, v NameOrID) error {
	if v == nil {
		return nil
	}
	return checkRef(method, arg, v)
}

// refErr returns the first of the errors of a method's NameOrID checks.
func refErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// QueryOpts shapes the result of a list call (the hub's queryOpts): its
// order, and a window of it. The hub's countOnly and asList options are
// left out because they change the shape of the result, and group because
// most calls refuse it.
type QueryOpts struct {
	// Limit caps the number of results; 0 is no limit.
	Limit int `xmlrpc:"limit,omitempty"`
	// Offset skips that many results first.
	Offset int `xmlrpc:"offset,omitempty"`
	// Order names the fields to sort by, comma-separated, each one
	// descending with a leading "-": "-completion_time,build_id".
	Order string `xmlrpc:"order,omitempty"`
}

// listPageSize is how many results a paging iterator asks for at once.
const listPageSize = 1000

// pages iterates over the results of a list call fetched a page at a
// time, using offset and limit as upstream does for big queries. It keeps
// the caller's Offset and Limit (as where to start and how many in all)
// and Order; without an order, results are sorted by defaultOrder so that
// pages do not overlap.
func pages[T any](base *QueryOpts, defaultOrder string, fetch func(q *QueryOpts) ([]T, error)) iter.Seq2[T, error] {
	var q QueryOpts
	if base != nil {
		q = *base
	}
	if q.Order == "" {
		q.Order = defaultOrder
	}
	return func(yield func(T, error) bool) {
		offset, remaining := q.Offset, q.Limit // remaining 0: no limit
		for {
			size := listPageSize
			if q.Limit > 0 {
				size = min(size, remaining)
			}
			items, err := fetch(&QueryOpts{Limit: size, Offset: offset, Order: q.Order})
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, item := range items {
				if !yield(item, nil) {
					return
				}
			}
			offset += len(items)
			remaining -= len(items)
			if len(items) < size || (q.Limit > 0 && remaining <= 0) {
				return
			}
		}
	}
}

// tsTime converts one of the hub's *_ts members, seconds since the epoch
// as a float, to a UTC time, to the microsecond the hub's database keeps.
func tsTime(ts float64) time.Time {
	sec, frac := math.Modf(ts)
	return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC()
}

// timeTS converts a time to the float seconds the hub takes for its
// timestamp arguments; nil for the zero time, which leaves the argument out.
func timeTS(t time.Time) *float64 {
	if t.IsZero() {
		return nil
	}
	ts := float64(t.UnixMicro()) / 1e6
	return &ts
}

// An Event is a point in the hub's history: every change to versioned data
// happens at an event, and calls that take an event read data as it was
// then.
type Event struct {
	ID int     `xmlrpc:"id"`
	TS float64 `xmlrpc:"ts"` // seconds since the epoch
}

// Time is when the event happened, in UTC.
func (e *Event) Time() time.Time { return tsTime(e.TS) }

// Hello calls the hub's hello, which answers "Hello World": a cheap check
// that the hub is up (koji moshimoshi).
func (c *Client) Hello(ctx context.Context) (string, error) {
	var s string
	err := c.Call(ctx, "hello", &s)
	return s, err
}

// APIVersion returns the hub's API version (getAPIVersion). A hub that
// reports anything but APIVersion may not understand this package.
func (c *Client) APIVersion(ctx context.Context) (int, error) {
	var v int
	err := c.Call(ctx, "getAPIVersion", &v)
	return v, err
}

// KojiVersion asks the hub for its Koji version, such as "1.35.3"
// (getKojiVersion, from Koji 1.23 on). HubVersion gives the same answer
// without a call when the hub announced its version in a reply.
func (c *Client) KojiVersion(ctx context.Context) (string, error) {
	var v string
	err := c.Call(ctx, "getKojiVersion", &v)
	return v, err
}

// LastEvent returns the hub's latest event (getLastEvent), or with a
// non-zero before, the latest event before that time; the hub answers a
// GenericError fault when there is none. As upstream warns, the event
// found may be a few microseconds later than before.
func (c *Client) LastEvent(ctx context.Context, before time.Time) (*Event, error) {
	var args []any
	if ts := timeTS(before); ts != nil {
		args = append(args, *ts)
	}
	var e *Event
	if err := c.Call(ctx, "getLastEvent", &e, args...); err != nil {
		return nil, err
	}
	return e, nil
}

// AverageBuildDurationOptions are the options of GetAverageBuildDuration.
type AverageBuildDurationOptions struct {
	// Age, in months, counts only builds completed that recently.
	Age int `xmlrpc:"age,omitempty"`
}

// GetAverageBuildDuration returns how long the package's complete builds
// took on average, from creation to completion (getAverageBuildDuration).
// ok is false when the package is unknown or has no such build.
func (c *Client) GetAverageBuildDuration(ctx context.Context, pkg NameOrID, opts *AverageBuildDurationOptions) (d time.Duration, ok bool, err error) {
	if err := checkRef("getAverageBuildDuration", "package", pkg); err != nil {
		return 0, false, err
	}
	var secs *float64
	if err := c.CallKw(ctx, "getAverageBuildDuration", &secs, []any{pkg}, opts); err != nil {
		return 0, false, err
	}
	if secs == nil {
		return 0, false, nil
	}
	return time.Duration(*secs * float64(time.Second)), true, nil
}

// Ptr returns a pointer to v, for options whose unset value must differ
// from their zero value (a *bool that defaults to true on the hub).
func Ptr[T any](v T) *T { return &v }
