package hubserver_test

import (
	"context"
	"encoding/json"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
)

// TestRepoMessages: repoInit and repoDone run their callbacks with
// upstream's keywords, and protonmsg announces repo.init and repo.done
// with the properties and body members of upstream's messages.
func TestRepoMessages(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		cfg, deliveries := brokerQueue(t)
		rh := startRepoHub(t, dsn, func(c *hubserver.KojiConfig) { c.Protonmsg = hubserver.ProtonmsgConfig{Broker: &cfg} })
		seen := map[string]map[string]any{}
		for _, name := range []string{"preRepoInit", "postRepoInit", "preRepoDone", "postRepoDone"} {
			require.NoError(t, rh.koji.RegisterCallback(name, func(_ context.Context, cb string, kw map[string]any) error {
				seen[cb] = kw
				return nil
			}, hubserver.CallbackOptions{}))
		}
		task := call(t, rh.admin, "newRepo", []any{"f40-build"}, nil).(int64)
		repoID := rh.initRepo(t, task)
		rh.finishRepo(t, task, repoID)

		assert.Equal(t, []string{"event", "opts", "repo_id", "tag", "task_id"}, keys(t, seen["preRepoInit"]))
		assert.Nil(t, seen["preRepoInit"]["repo_id"])
		assert.Equal(t, repoID, seen["postRepoInit"]["repo_id"])
		assert.Equal(t, []string{"data", "expire", "repo"}, keys(t, seen["postRepoDone"]))
		assert.Equal(t, repoFields, keys(t, seen["preRepoDone"]["repo"]))

		msgs := map[string]amqp.Delivery{}
		for len(msgs) < 2 {
			d := next(t, deliveries)
			if d.RoutingKey == "koji.repo.init" || d.RoutingKey == "koji.repo.done" {
				msgs[d.RoutingKey] = d
			}
		}
		for _, name := range []string{"repo.init", "repo.done"} {
			d := msgs["koji."+name]
			fx := protonFixture(t, name)
			props := map[string]any{}
			for k, v := range d.Headers {
				props[k] = v
			}
			assert.Equal(t, keys(t, fx["properties"]), keys(t, props), name)
			assert.Equal(t, "f40-build", props["tag"], name)
			assert.EqualValues(t, repoID, props["repo_id"], name)
			assert.EqualValues(t, task, props["task_id"], name)
			var body map[string]any
			require.NoError(t, json.Unmarshal(d.Body, &body))
			assert.Equal(t, keys(t, fx["body"]), keys(t, body), name)
		}
	})
}
