package messages

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkParsed holds for whatever a parser returns: an event or a
// *ParseError, never both or neither; and an event that encodes settles
// after one round through EncodeProton and ParseProton (the first round
// may drop what protonmsg cannot carry, such as nanoseconds).
func checkParsed(t *testing.T, ev Event, err error) {
	if err != nil {
		require.Nil(t, ev)
		var perr *ParseError
		require.True(t, errors.As(err, &perr), "%T: %v", err, err)
		return
	}
	require.NotNil(t, ev)
	_ = ev.Topic()
	m, err := EncodeProton(ev)
	if err != nil {
		return // an event without what protonmsg needs, or Unknown
	}
	first, err := ParseProton("topic://koji."+m.Topic, m.Properties, m.Body)
	require.NoError(t, err, "%s %s", m.Topic, m.Body)
	m2, err := EncodeProton(first)
	require.NoError(t, err)
	second, err := ParseProton("topic://koji."+m2.Topic, m2.Properties, m2.Body)
	require.NoError(t, err)
	assert.Equal(t, first, second)
}

func FuzzParseProton(f *testing.F) {
	for _, name := range protonFixtureNames(f) {
		fx := loadProton(f, name)
		body, err := json.Marshal(fx.Body)
		require.NoError(f, err)
		f.Add(fx.Address, fx.Properties["type"].(string), body)
	}
	f.Add("koji.task.open", "", []byte(`{"new": "OPEN", "info": {"id": 1, "request": "<?xml"}}`))
	f.Add("koji.build.tag", "Tag", []byte("\x00\x53\x77\xa1\x02{}"))
	f.Add("koji.repo.done", "RepoDone", []byte(`{"repo": {"create_ts": 1e12}}`))
	f.Fuzz(func(t *testing.T, address, typ string, body []byte) {
		props := map[string]any{"id": int32(1), "repo_id": int64(2), "tag": "f43", "user": []byte("u")}
		if typ != "" {
			props["type"] = typ
		}
		ev, err := ParseProton(address, props, body)
		checkParsed(t, ev, err)
	})
}

func FuzzParseFedora(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "fedora", "*.json"))
	require.NoError(f, err)
	for _, file := range files {
		fx := loadFedora(f, strings.TrimSuffix(filepath.Base(file), ".json"))
		body, err := json.Marshal(fx.Body)
		require.NoError(f, err)
		schema, _ := fx.Headers["fedora_messaging_schema"].(string)
		f.Add(fx.RoutingKey, schema, body)
	}
	f.Fuzz(func(t *testing.T, routingKey, schema string, body []byte) {
		headers := map[string]any{"fedora_messaging_schema": schema, "priority": int8(2)}
		ev, err := ParseFedora(routingKey, headers, body)
		checkParsed(t, ev, err)
	})
}
