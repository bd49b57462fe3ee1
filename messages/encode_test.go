package messages

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/koji"
)

func protonFixtureNames(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "proton", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".json"))
	}
	return names
}

// asJSON reads v back as encoding/json decodes JSON, so values from
// fixtures and from EncodeProton compare alike.
func asJSON(t testing.TB, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	var x any
	require.NoError(t, json.Unmarshal(data, &x))
	return x
}

// covers checks that got has every member want has, with the same value;
// a null in want may be the zero value in got, since the koji types have
// no null for their plain fields (a tag without arches, force=None).
func covers(t *testing.T, path string, want, got any) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !assert.True(t, ok, "%s: %v is not an object", path, got) {
			return
		}
		for k, wv := range w {
			gv, ok := g[k]
			if assert.True(t, ok, "%s.%s missing", path, k) {
				covers(t, path+"."+k, wv, gv)
			}
		}
	case []any:
		g, ok := got.([]any)
		if assert.True(t, ok, "%s: %v is not an array", path, got) && assert.Len(t, g, len(w), path) {
			for i := range w {
				covers(t, fmt.Sprintf("%s[%d]", path, i), w[i], g[i])
			}
		}
	case nil:
		switch got {
		case nil, "", 0.0, false:
		default:
			t.Errorf("%s: want null, got %v", path, got)
		}
	default:
		assert.Equal(t, want, got, path)
	}
}

// EncodeProton gives back what protonmsg sent: the same topic, exactly
// the same properties, and a body with every member of the original; and
// what it encodes parses back to the same event.
func TestEncodeProtonRoundTrip(t *testing.T) {
	for _, name := range protonFixtureNames(t) {
		t.Run(name, func(t *testing.T) {
			f := loadProton(t, name)
			ev := f.parse(t)
			m, err := EncodeProton(ev)
			require.NoError(t, err)
			assert.Equal(t, strings.TrimPrefix(f.Address, "topic://koji."), m.Topic)
			assert.Equal(t, asJSON(t, f.Properties), asJSON(t, m.Properties))

			var body map[string]any
			require.NoError(t, json.Unmarshal(m.Body, &body))
			switch name {
			case "task.free", "build.building":
				// New tasks and builds: the hub's raw forms (make_task's
				// options, new_build's row) come back in getTaskInfo's
				// and getBuild's form.
			case "repo.init.dist":
				// RepoInit has no members for a dist repo's own
				// arguments; the rest comes back.
				want := map[string]any{}
				for k, v := range f.Body {
					want[k] = v
				}
				for _, k := range []string{"dist", "keys", "arches", "task_opts", "repodir"} {
					delete(want, k)
				}
				covers(t, "body", want, body)
			default:
				covers(t, "body", f.Body, body)
			}

			again, err := ParseProton("topic://koji."+m.Topic, m.Properties, m.Body)
			require.NoError(t, err)
			assert.Equal(t, ev, again)
		})
	}
}

func TestEncodeProtonBody(t *testing.T) {
	old := koji.BuildBuilding
	epoch := 2
	ev := &BuildStateChange{
		Attribute: "state", Old: &old, New: koji.BuildComplete,
		Build: &koji.Build{
			ID: 7, Name: "bash", Version: "5.2.37", Release: "1.fc43", Epoch: &epoch, NVR: "bash-5.2.37-1.fc43",
			State:        koji.BuildComplete,
			CreationTime: time.Date(2026, 11, 22, 1, 40, 46, 922628000, time.UTC), CreationTS: 1795311646.922628,
			StartTime:      time.Date(2026, 11, 22, 1, 40, 46, 0, time.UTC),
			CompletionTime: time.Time{},
			Extra:          map[string]any{"typeinfo": map[string]any{"rpm": nil}},
		},
	}
	m, err := EncodeProton(ev)
	require.NoError(t, err)
	assert.Equal(t, "build.complete", m.Topic)
	assert.Equal(t, map[string]any{
		"type": "BuildStateChange", "name": "bash", "version": "5.2.37", "release": "1.fc43",
		"attribute": "state", "old": "BUILDING", "new": "COMPLETE",
	}, m.Properties)
	body := string(m.Body)
	for _, want := range []string{
		`"old":0`, `"new":1`, `"btypes":{}`, `"id":7`, `"build_id":7`, `"epoch":2`,
		// convert_datetime's isoformat(' '), microseconds only when set
		`"creation_time":"2026-11-22 01:40:46.922628+00:00"`, `"start_time":"2026-11-22 01:40:46+00:00"`,
		`"completion_time":null`, `"completion_ts":null`, `"task_id":null`,
		// floats as Python writes them
		`"creation_ts":1795311646.922628`,
		`"extra":{"typeinfo":{"rpm":null}}`,
	} {
		assert.Contains(t, body, want)
	}
}

func TestPyFloat(t *testing.T) {
	for f, want := range map[float64]string{
		1: "1.0", 0.2: "0.2", -3: "-3.0", 1686218181.738084: "1686218181.738084", 1e16: "1e+16",
		1e-7: "1e-07", 0.0001: "0.0001", 123456789012345678: "1.2345678901234568e+17", 0: "0.0",
		9999999999999998: "9999999999999998.0",
	} {
		got, err := json.Marshal(pyFloat(f))
		require.NoError(t, err)
		assert.Equal(t, want, string(got), "%v", f)
	}
}

func TestEncodeProtonPackageListChange(t *testing.T) {
	user := &koji.User{ID: 1, Name: "kojiadmin"}
	block := true
	for action, settings := range map[string]bool{"add": true, "update": true, "block": true, "remove": false, "unblock": false} {
		ev := &PackageListChange{
			Action: action, Tag: &koji.Tag{ID: 2, Name: "f43"}, Package: &koji.Package{ID: 3, Name: "bash"},
			User: user, Owner: &koji.User{ID: 4}, Block: &block,
		}
		m, err := EncodeProton(ev)
		require.NoError(t, err)
		assert.Equal(t, "package."+action, m.Topic)
		var body map[string]any
		require.NoError(t, json.Unmarshal(m.Body, &body))
		// The hub passes the entry's settings for add, update and block
		// only (pkglist_add), and the owner as a user ID.
		if settings {
			assert.Equal(t, 4.0, body["owner"], action)
			assert.Equal(t, true, body["block"], action)
			assert.Contains(t, body, "extra_arches", action)
			assert.Nil(t, body["extra_arches"], action)
		} else {
			assert.NotContains(t, body, "owner", action)
			assert.NotContains(t, body, "block", action)
		}
		assert.Equal(t, "kojiadmin", m.Properties["user"])
	}
}

func TestEncodeProtonErrors(t *testing.T) {
	for _, ev := range []Event{
		nil,
		(*Tag)(nil),
		&TaskStateChange{},
		&BuildStateChange{},
		&Tag{Build: &koji.Build{}},
		&Untag{Tag: &koji.Tag{}},
		&RepoInit{},
		&RepoDone{},
		&PackageListChange{Tag: &koji.Tag{}, Package: &koji.Package{}, User: &koji.User{}},
		&Import{Type: "build"},
		&RPMSign{Build: &koji.Build{}, RPM: &koji.RPM{}},
		&BuildPromote{Build: &koji.Build{}},
		&Unknown{Message: Message{Topic: "koji.x.y"}},
		// Values JSON cannot carry.
		&Tag{Tag: &koji.Tag{}, User: &koji.User{}, Build: &koji.Build{Extra: map[string]any{"c": make(chan int)}}},
		&Tag{Tag: &koji.Tag{Extra: map[string]any{"f": func() {}}}, User: &koji.User{}, Build: &koji.Build{}},
		&RepoDone{Tag: &koji.Tag{}, Data: map[string]any{"inf": math.Inf(1)}},
		// Years Python's datetime cannot hold.
		&RepoDone{Tag: &koji.Tag{}, Created: time.Unix(1e12, 0)},
		&RepoDone{Tag: &koji.Tag{}, Created: time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		_, err := EncodeProton(ev)
		assert.Error(t, err, "%#v", ev)
	}
}
