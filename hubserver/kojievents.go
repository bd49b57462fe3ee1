package hubserver

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/xmlrpc"
)

// eventMethods are upstream's reads of the events table (§E1).
func (k *Koji) eventMethods() []Method {
	return []Method{
		{
			Name: "getLastEvent", PyName: "RootExports.getLastEvent", Bound: true,
			Args: []Arg{{Name: "before", Default: None}, {Name: "strict", Default: true}},
			Doc:  "Get the id and timestamp of the last event recorded in the system.",
			Func: getLastEvent,
		},
		{
			Name: "getEvent", PyName: "RootExports.getEvent", Bound: true,
			Args: []Arg{{Name: "id"}, {Name: "strict", Default: true}},
			Doc:  "Get information about the event with the given id.",
			Func: getEvent,
		},
	}
}

// eventData is an event as getEvent and getLastEvent answer it.
func eventData(e *store.Event) map[string]any {
	return map[string]any{"id": e.ID, "ts": pyTS(e.Time)}
}

// eventOrNone is QueryProcessor.executeOne(strict) of an event lookup.
func eventOrNone(e *store.Event, err error, strict any) (any, error) {
	if errors.Is(err, store.ErrNotFound) {
		if xmlrpc.Truthy(strict) {
			return nil, fault(koji.ErrGeneric, "query returned no rows")
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return eventData(e), nil
}

// getLastEvent returns the newest event, or the newest one before a time
// given in seconds since the epoch.
func getLastEvent(ctx context.Context, before any, strict any) (any, error) {
	var t *time.Time
	switch b := before.(type) {
	case nil:
	case int64, float64, bool:
		secs := toFloat(b)
		switch {
		case math.IsNaN(secs) || secs < -1e12:
			// Nothing is earlier (a NaN compares false).
			return eventOrNone(nil, &store.NotFoundError{Kind: "event", Key: "before"}, strict)
		case secs > 1e12:
			// Everything is earlier.
		default:
			at := time.UnixMicro(int64(math.Ceil(secs * 1e6))).UTC()
			t = &at
		}
	default:
		return nil, fault(koji.ErrGeneric, "Invalid type for before: <class '%s'>", pyTypeName(before))
	}
	e, err := storeTx(ctx).LastEvent(ctx, t)
	return eventOrNone(e, err, strict)
}

// getEvent returns the event with the given id.
func getEvent(ctx context.Context, id any, strict any) (any, error) {
	n, err := sqlInt(id)
	if err != nil {
		return nil, err
	}
	e, err := storeTx(ctx).GetEvent(ctx, n)
	return eventOrNone(e, err, strict)
}

// sqlInt is a value as upstream's "%(x)i" query formatting reads it:
// numbers truncate to integers, anything else is Python's TypeError.
func sqlInt(v any) (int64, error) {
	switch v.(type) {
	case int64, bool, float64:
		return pyInt(v)
	}
	return 0, pyException("TypeError", "%%i format: a real number is required, not %s", pyTypeName(v))
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	case bool:
		return float64(boolInt(x))
	}
	return 0
}
