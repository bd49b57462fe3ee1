package hubserver

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/messages"
)

// TestProtonPrepsMatchFixtures feeds each protonmsg fixture's keyword
// arguments (its body, less what the prep adds) to the prep of its
// callback and compares the message built with the fixture: address,
// properties and body.
func TestProtonPrepsMatchFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "messages", "testdata", "proton", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	seen := map[string]bool{}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			var fx struct {
				Address    string          `json:"address"`
				Properties map[string]any  `json:"properties"`
				Body       json.RawMessage `json:"body"`
			}
			require.NoError(t, json.Unmarshal(data, &fx))
			var kws map[string]any
			require.NoError(t, json.Unmarshal(fx.Body, &kws))
			kws = intify(kws).(map[string]any)
			name := "post" + fx.Properties["type"].(string)
			seen[name] = true
			k := &Koji{}
			if btypes, ok := kws["btypes"]; ok {
				// Added by the prep, from the build's types.
				delete(kws, "btypes")
				k.ev.buildTypes = func(ctx context.Context, info map[string]any) (map[string]any, error) {
					assert.Equal(t, kws["info"].(map[string]any)["id"], info["id"])
					return btypes.(map[string]any), nil
				}
			}
			m := prepMessage(t, k, name, kws)
			require.NotNil(t, m)
			assert.Equal(t, fx.Address, "topic://koji."+m.Topic)
			props, err := json.Marshal(m.Properties)
			require.NoError(t, err)
			want, err := json.Marshal(fx.Properties)
			require.NoError(t, err)
			assert.JSONEq(t, string(want), string(props))
			assert.JSONEq(t, string(fx.Body), string(m.Body))
			// What the hub sends reads back as the event it stands for.
			ev, err := messages.ParseProton(fx.Address, m.Properties, m.Body)
			require.NoError(t, err)
			assert.Equal(t, m.Topic, ev.Topic())
		})
	}
	for _, name := range []string{"postTaskStateChange", "postBuildStateChange", "postTag", "postUntag",
		"postRepoInit", "postRepoDone", "postPackageListChange", "postImport", "postRPMSign", "postBuildPromote"} {
		assert.True(t, seen[name], "no fixture for %s", name)
		assert.Contains(t, protonPreps, name)
	}
	assert.Len(t, protonPreps, 10)
}

// prepMessage runs the prep of callback name on kw as queueProtonmsg does
// and returns the message, nil when none is sent.
func prepMessage(t *testing.T, k *Koji, name string, kw map[string]any) *messages.Message {
	t.Helper()
	kws := convertDatetime(kw).(map[string]any)
	m, err := protonPreps[name](protonPrep{k: k, ctx: context.Background(), cbtype: name, kws: kws})
	require.NoError(t, err)
	if m == nil {
		return nil
	}
	*m, err = messages.EncodeProtonKwargs(m.Topic, m.Properties, kws)
	require.NoError(t, err)
	return m
}

func TestProtonPrepEdges(t *testing.T) {
	k := &Koji{}
	prep := func(name string, kws map[string]any) (*messages.Message, error) {
		return protonPreps[name](protonPrep{k: k, ctx: context.Background(), cbtype: name, kws: kws})
	}
	// Only state changes are announced.
	m, err := prep("postTaskStateChange", map[string]any{"attribute": "weight", "old": 1.0, "new": 2.0})
	assert.NoError(t, err)
	assert.Nil(t, m)
	m, err = prep("postBuildStateChange", map[string]any{"attribute": "completion_ts"})
	assert.NoError(t, err)
	assert.Nil(t, m)
	// No message for an RPM signed without a key.
	m, err = prep("postRPMSign", map[string]any{"sigkey": "", "build": map[string]any{}})
	assert.NoError(t, err)
	assert.Nil(t, m)
	// A missing keyword is Python's KeyError.
	_, err = prep("postTaskStateChange", map[string]any{"attribute": "state", "new": "FREE", "old": nil})
	assert.EqualError(t, err, "KeyError: 'info'")
	_, err = prep("postTag", map[string]any{"build": map[string]any{}, "tag": map[string]any{"name": "f40"}})
	assert.EqualError(t, err, "KeyError: 'name'")

	// Pointers are followed, times converted (convert_datetime).
	parent, label := int64(7), "srpm"
	when := time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
	msg := prepMessage(t, k, "postTaskStateChange", map[string]any{"attribute": "state", "old": "OPEN", "new": "CLOSED",
		"info": map[string]any{"id": int64(9), "parent": &parent, "label": &label, "method": "buildArch",
			"host_id": (*int64)(nil), "start_time": when}})
	assert.Equal(t, map[string]any{"type": "TaskStateChange", "id": int64(9), "parent": int64(7), "method": "buildArch",
		"attribute": "state", "old": "OPEN", "new": "CLOSED"}, msg.Properties)
	assert.JSONEq(t, `{"attribute": "state", "old": "OPEN", "new": "CLOSED", "info": {"id": 9, "parent": 7,
		"label": "srpm", "method": "buildArch", "host_id": null, "start_time": "2024-05-06 07:08:09.123456+00:00"}}`,
		string(msg.Body))

	// extra_limit drops a build's extra when its JSON is longer.
	build := func() map[string]any {
		return map[string]any{"id": int64(1), "name": "n", "version": "1", "release": "1",
			"extra": map[string]any{"source": map[string]any{"original_url": "git+https://example.com/n.git"}}}
	}
	kw := map[string]any{"tag": map[string]any{"name": "f40"}, "build": build(), "user": map[string]any{"name": "u"}, "force": false}
	extraLen := len(pyJSON(build()["extra"]))
	assert.Equal(t, len(`{"source": {"original_url": "git+https://example.com/n.git"}}`), extraLen)
	for _, c := range []struct {
		limit int
		kept  bool
	}{{0, true}, {extraLen, true}, {extraLen - 1, false}, {-(extraLen - 1), false}} {
		k.cfg.Protonmsg.ExtraLimit = c.limit
		msg := prepMessage(t, k, "postTag", kw)
		var body map[string]any
		require.NoError(t, json.Unmarshal(msg.Body, &body))
		_, kept := body["build"].(map[string]any)["extra"]
		assert.Equal(t, c.kept, kept, "limit %d", c.limit)
		_, still := kw["build"].(map[string]any)["extra"]
		assert.True(t, still, "the callback's own build keeps its extra")
	}
	k.cfg.Protonmsg.ExtraLimit = 0

	// Build states are named from their numbers; the body keeps numbers.
	msg = prepMessage(t, k, "postBuildStateChange", map[string]any{"attribute": "state", "old": 0, "new": int64(1),
		"info": build()})
	assert.Equal(t, "build.complete", msg.Topic)
	assert.Equal(t, "BUILDING", msg.Properties["old"])
	assert.Equal(t, "COMPLETE", msg.Properties["new"])
	assert.True(t, strings.Contains(string(msg.Body), `"btypes":{}`), string(msg.Body))
	_, err = prep("postBuildStateChange", map[string]any{"attribute": "state", "old": nil, "new": 17, "info": build()})
	assert.EqualError(t, err, "KeyError: 17")
}

func TestPyJSON(t *testing.T) {
	for _, c := range []struct {
		in   any
		want string
	}{
		{nil, "null"}, {true, "true"}, {int64(-3), "-3"}, {1.0, "1.0"}, {0.5, "0.5"}, {1e16, "1e+16"},
		{1e-5, "1e-05"}, {"a\"b\\\n\tc\x01é😀\x7f", `"a\"b\\\n\tc\u0001\u00e9\ud83d\ude00` + "\x7f\""},
		{[]any{int64(1), "x"}, `[1, "x"]`}, {map[string]any{"k": []any{}}, `{"k": []}`},
		{struct{}{}, `{"error": "Can't serialize", "type": "unknown"}`},
	} {
		assert.Equal(t, c.want, pyJSON(c.in), "%#v", c.in)
	}
}

func TestConvertDatetime(t *testing.T) {
	when := time.Date(2024, 5, 6, 7, 8, 9, 0, time.FixedZone("CEST", 7200))
	in := map[string]any{
		"t": when, "p": &when, "nilp": (*time.Time)(nil), "n": 1,
		"list": []any{when, "x"}, "wrapped": map[string]any{"__class__": "datetime", "__value__": "20240506T07:08:09"},
		"nested": map[string]any{"t": when},
	}
	out := convertDatetime(in).(map[string]any)
	assert.Equal(t, map[string]any{
		"t": "2024-05-06 05:08:09+00:00", "p": "2024-05-06 05:08:09+00:00", "nilp": nil, "n": 1,
		"list": []any{"2024-05-06 05:08:09+00:00", "x"}, "wrapped": "20240506T07:08:09",
		"nested": map[string]any{"t": "2024-05-06 05:08:09+00:00"},
	}, out)
	assert.Equal(t, when, in["t"], "the input is not changed")
	assert.Equal(t, when, in["nested"].(map[string]any)["t"])
}

func TestRunCallbacksConvertDatetime(t *testing.T) {
	k := &Koji{}
	when := time.Date(2024, 5, 6, 7, 8, 9, 500000000, time.UTC)
	var raw, conv map[string]any
	require.NoError(t, k.RegisterCallback("postImport", func(ctx context.Context, name string, kw map[string]any) error {
		raw = kw
		kw["added"] = true // a callback's own copy
		return nil
	}, CallbackOptions{}))
	require.NoError(t, k.RegisterCallback("postImport", func(ctx context.Context, name string, kw map[string]any) error {
		conv = kw
		return nil
	}, CallbackOptions{ConvertDatetime: true}))
	kw := map[string]any{"type": "build", "build": map[string]any{"completion_time": when}}
	require.NoError(t, k.runCallbacks(context.Background(), "postImport", kw))
	assert.Equal(t, when, raw["build"].(map[string]any)["completion_time"])
	assert.Equal(t, "2024-05-06 07:08:09.500000+00:00", conv["build"].(map[string]any)["completion_time"])
	assert.NotContains(t, kw, "added")
	assert.NotContains(t, conv, "added")

	err := k.runCallbacks(context.Background(), "postNothing", nil)
	assert.EqualError(t, err, `koji: PluginError: "postNothing" is not a valid callback type`)
}

// intify turns the integral float64s of decoded JSON into the int64s the
// hub's keyword arguments hold.
func intify(v any) any {
	switch x := v.(type) {
	case float64:
		if x == float64(int64(x)) {
			return int64(x)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = intify(e)
		}
	case []any:
		for i, e := range x {
			x[i] = intify(e)
		}
	}
	return v
}
