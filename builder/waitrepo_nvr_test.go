package builder

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/koji"
)

// parseNVR splits as koji.parse_NVR: at the last two dashes, an epoch
// prefix dropped from the name; a missing or empty version or release is
// "invalid format".
func TestParseNVR(t *testing.T) {
	for nvr, want := range map[string]nvrParts{
		"hello-1.0-1":            {"hello", "1.0", "1"},
		"python3-foo-2.1-3.fc40": {"python3-foo", "2.1", "3.fc40"},
		"1:bash-5.2-1":           {"bash", "5.2", "1"},
		"-1-1":                   {"", "1", "1"},
	} {
		got, err := parseNVR(nvr)
		require.NoError(t, err, nvr)
		assert.Equal(t, want, got, nvr)
	}
	for _, nvr := range []string{"", "nodashes", "one-dash", "trailing-1-", "a--1", "a-1-"} {
		_, err := parseNVR(nvr)
		var f *koji.Fault
		require.ErrorAs(t, err, &f, "%q", nvr)
		assert.Equal(t, koji.Fault{Code: int(koji.ErrGeneric), String: "invalid format: " + nvr}, *f)
	}
}

// FuzzParseNVR: a parsed N-V-R puts back together as given (less an
// epoch), its version and release non-empty and without dashes.
func FuzzParseNVR(f *testing.F) {
	for _, s := range []string{"hello-1.0-1", "1:bash-5.2-1", "a--1", "x-y-z-w", ":-1-1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, nvr string) {
		p, err := parseNVR(nvr)
		if err != nil {
			return
		}
		if p.version == "" || p.release == "" || strings.Contains(p.version, "-") || strings.Contains(p.release, "-") {
			t.Fatalf("%q: bad split %+v", nvr, p)
		}
		name := nvr[:len(nvr)-len(p.version)-len(p.release)-2]
		if i := strings.Index(name, ":"); i != -1 {
			name = name[i+1:]
		}
		if name != p.name || nvr[len(nvr)-len(p.release)-len(p.version)-2:] != "-"+p.version+"-"+p.release {
			t.Fatalf("%q: split %+v does not put back together", nvr, p)
		}
	})
}
