package store

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseStoredTime: the text SQLite holds reads as the driver's
// time.Parse reads it, by the fast path or the driver's other layouts,
// and text that is no timestamp is an error.
func TestParseStoredTime(t *testing.T) {
	for _, s := range []string{
		"2026-12-07 17:25:37.123456789+00:00",
		"2026-12-07 17:25:37.123+00:00", // the schema's default
		"2026-12-07 17:25:37+00:00",
		"2026-12-07 17:25:37.5-05:30",
		"2024-02-29 23:59:59.000001+14:00",
		"2026-12-07T17:25:37.123456+00:00",
		"2026-12-07 17:25:37.123456",
		"2026-12-07 17:25",
		"2026-12-07",
	} {
		got, err := parseStoredTime(s)
		require.NoError(t, err, s)
		want, ok := driverParse(s)
		require.True(t, ok, s)
		assert.True(t, want.Equal(got), "%s: %v, want %v", s, got, want)
		_, offset := got.Zone()
		_, wantOffset := want.Zone()
		assert.Equal(t, wantOffset, offset, s)
	}
	for _, s := range []string{"", "yesterday", "2026-13-07 17:25:37+00:00", "2023-02-29 17:25:37+00:00",
		"2026-12-07 24:00:00+00:00", "2026-12-07 17:25:37.+00:00",
		"2026-12-07 17:25:37+0000", "2026-12-07 17:25:37 +00:00",
		"2026-12-07 17:25:37.123Z"} {
		_, err := parseStoredTime(s)
		assert.Error(t, err, s)
	}
}

// TestTextTimeScan: NULL only into a nullable destination, a time.Time
// as it is, text parsed.
func TestTextTimeScan(t *testing.T) {
	var p *time.Time
	var v time.Time
	require.NoError(t, textTime{&p}.Scan(nil))
	assert.Nil(t, p)
	assert.Error(t, textTime{&v}.Scan(nil))
	at := time.Date(2026, 12, 7, 17, 25, 37, 0, time.UTC)
	require.NoError(t, textTime{&p}.Scan(at))
	assert.Equal(t, at, *p)
	require.NoError(t, textTime{&v}.Scan([]byte("2026-12-07 17:25:37+00:00")))
	assert.True(t, at.Equal(v))
	assert.Error(t, textTime{&v}.Scan(int64(1)))
	assert.Error(t, textTime{&v}.Scan("noon"))
}

// driverParse reads s as modernc.org/sqlite reads a TIMESTAMP column.
func driverParse(s string) (time.Time, bool) {
	for _, layout := range storedTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// FuzzParseStoredTime: parseStoredTime reads any text as the driver's
// layouts do: the same instant and offset, or an error for both.
func FuzzParseStoredTime(f *testing.F) {
	for _, s := range []string{"2026-12-07 17:25:37.123456789+00:00", "2026-12-07 17:25:37-05:30",
		"2026-12-07 17:25:37.1Z", "2026-12-07T17:25:37", "2026-02-30 00:00:00+00:00", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseStoredTime(s)
		want, ok := driverParse(s)
		if !ok {
			if err == nil {
				t.Fatalf("%q: read as %v, the driver cannot read it", s, got)
			}
			return
		}
		if err != nil {
			t.Fatalf("%q: %v, the driver reads %v", s, err, want)
		}
		_, offset := got.Zone()
		_, wantOffset := want.Zone()
		if !got.Equal(want) || offset != wantOffset {
			t.Fatalf("%q: %v, the driver reads %v", s, got, want)
		}
	})
}
