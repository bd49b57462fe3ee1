package hubserver_test

import (
	"context"
	"encoding/json"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/koji"
)

// TestKojiTaggingMessages checks the build.tag, build.untag and
// package.add messages against upstream's, and that a build that is not
// COMPLETE cannot be tagged, not even by force.
func TestKojiTaggingMessages(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		cfg, deliveries := brokerQueue(t)
		ctx := context.Background()
		kh := startKoji(t, dsn, func(c *hubserver.KojiConfig) { c.Protonmsg = hubserver.ProtonmsgConfig{Broker: &cfg} })
		admin := kh.sslClient(t, "")
		anchorTags(t, admin)
		check := func(name string, headers amqp.Table) map[string]any {
			t.Helper()
			d := next(t, deliveries)
			assert.Equal(t, "koji."+name, d.RoutingKey)
			assert.Equal(t, headers, d.Headers)
			var body map[string]any
			require.NoError(t, json.Unmarshal(d.Body, &body))
			fx := protonFixture(t, name)["body"].(map[string]any)
			assert.Equal(t, keys(t, fx), keys(t, body))
			for _, k := range []string{"tag", "user", "package"} {
				if fx[k] != nil {
					assert.Equal(t, keys(t, fx[k]), keys(t, body[k]), k)
				}
			}
			return body
		}

		require.NoError(t, admin.PackageListAdd(ctx, "anchor-base", "foo", &koji.PackageListAddOptions{Owner: "kojiadmin"}))
		body := check("package.add", amqp.Table{"type": "PackageListChange", "tag": "anchor-base", "package": "foo",
			"action": "add", "user": "kojiadmin"})
		assert.Equal(t, float64(1), body["owner"])
		require.NoError(t, admin.Call(ctx, "createEmptyBuild", nil, "foo", "1", "2", nil))
		assert.Equal(t, "koji.build.complete", next(t, deliveries).RoutingKey)
		require.NoError(t, admin.TagBuildBypass(ctx, "anchor-base", "foo-1-2", nil))
		body = check("build.tag", amqp.Table{"type": "Tag", "tag": "anchor-base", "name": "foo", "version": "1",
			"release": "2", "user": "kojiadmin"})
		assert.Equal(t, false, body["force"])
		assert.Equal(t, "foo-1-2", body["build"].(map[string]any)["nvr"])
		require.NoError(t, admin.Call(ctx, "untagBuildBypass", nil, "anchor-base", "foo-1-2"))
		body = check("build.untag", amqp.Table{"type": "Untag", "tag": "anchor-base", "name": "foo", "version": "1",
			"release": "2", "user": "kojiadmin"})
		assert.Equal(t, true, body["strict"])
		require.NoError(t, admin.Call(ctx, "packageListRemove", nil, "anchor-base", "foo"))
		check("package.remove", amqp.Table{"type": "PackageListChange", "tag": "anchor-base", "package": "foo",
			"action": "remove", "user": "kojiadmin"})

		for state, name := range map[int]string{store.BuildBuilding: "BUILDING", store.BuildFailed: "FAILED"} {
			taskTx(t, kh, 1, func(ctx context.Context) error {
				_, err := kh.koji.NewBuildForTest(ctx, "foo", name, "1", state, 1, 0)
				return err
			})
			assert.Equal(t, "build foo-"+name+"-1 not complete: state "+name, faultString(t, admin, koji.ErrTag, "tagBuildBypass",
				[]any{"anchor-base", "foo-" + name + "-1"}, map[string]any{"force": true}))
		}
		var rows []any
		require.NoError(t, admin.CallKw(ctx, "listTagged", &rows, []any{"anchor-base"}, nil))
		assert.Empty(t, rows)
	})
}
