package hubserver_test

import (
	"encoding/json"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/koji"
	"github.com/gokoji/gokoji/messages"
)

// TestKojiHostBuildMessages checks the messages of the build flow
// against upstream's: build.building at initBuild, import.rpm for each
// (S)RPM, build.complete and import.build at completeBuild, and
// build.failed at failBuild; ParseProton reads the state changes.
func TestKojiHostBuildMessages(t *testing.T) {
	b := buildRPMs(t, "hello", "1.0", "1")
	eachBackend(t, func(t *testing.T, dsn string) {
		cfg, deliveries := brokerQueue(t)
		fh := startFilesHub(t, dsn, func(c *hubserver.KojiConfig) { c.Protonmsg = hubserver.ProtonmsgConfig{Broker: &cfg} })
		// skipTo returns the next message to the address, after task
		// messages only.
		skipTo := func(name string) amqp.Delivery {
			t.Helper()
			d := next(t, deliveries)
			for ; d.RoutingKey != "koji."+name; d = next(t, deliveries) {
				require.Contains(t, d.RoutingKey, "koji.task.", "only task messages in between")
			}
			return d
		}
		check := func(name string, headers amqp.Table) map[string]any {
			t.Helper()
			d := skipTo(name)
			assert.Equal(t, headers, d.Headers)
			var body map[string]any
			require.NoError(t, json.Unmarshal(d.Body, &body))
			fx := protonFixture(t, name)
			assert.Equal(t, keys(t, fx["body"]), keys(t, body))
			assert.Equal(t, keys(t, fx["properties"]), keys(t, map[string]any(d.Headers)))
			if name == "import.rpm" {
				assert.Equal(t, keys(t, fx["body"].(map[string]any)["rpm"]), keys(t, body["rpm"]))
			}
			if name == "build.complete" || name == "build.building" {
				ev, err := messages.ParseProton("topic://"+d.RoutingKey, d.Headers, d.Body)
				require.NoError(t, err)
				bsc, ok := ev.(*messages.BuildStateChange)
				require.True(t, ok, "%T", ev)
				assert.Equal(t, "hello-1.0-"+headers["release"].(string), bsc.Build.NVR)
			}
			return body
		}
		task := openHostTask(t, fh, "buildArch", "x", int64(1), "x86_64", false, map[string]any{})
		dir := "tasks/" + pyFmt(task) + "/" + pyFmt(task)
		files := upload(t, fh.host, dir, b.all()...)
		id := call(t, fh.host, "host.initBuild", []any{headerData(t, b.srpm, task)}, nil).(int64)
		props := func(old, new any) amqp.Table {
			return amqp.Table{"type": "BuildStateChange", "name": "hello", "version": "1.0", "release": "1",
				"attribute": "state", "old": old, "new": new}
		}
		body := check("build.building", props(nil, "BUILDING"))
		assert.Equal(t, float64(0), body["new"])
		call(t, fh.host, "host.completeBuild", []any{task, id, files[0], []any{files[1], files[2]}}, nil)
		imp := amqp.Table{"type": "Import", "importType": "rpm", "name": "hello", "version": "1.0", "release": "1"}
		body = check("build.complete", props("BUILDING", "COMPLETE"))
		assert.Equal(t, map[string]any{"rpm": nil}, body["btypes"])
		for _, arch := range []string{"src", "x86_64", "noarch"} {
			body = check("import.rpm", imp)
			assert.Equal(t, arch, body["rpm"].(map[string]any)["arch"])
		}
		imp["importType"] = "build"
		body = check("import.build", imp)
		assert.Equal(t, files[0], body["srpm"])

		// A second build of the task's package fails.
		task2 := openHostTask(t, fh, "buildArch", "y", int64(1), "x86_64", false, map[string]any{})
		data := headerData(t, b.srpm, task2)
		data["release"] = "2"
		id2 := call(t, fh.host, "host.initBuild", []any{data}, nil).(int64)
		props = func(old, new any) amqp.Table {
			return amqp.Table{"type": "BuildStateChange", "name": "hello", "version": "1.0", "release": "2",
				"attribute": "state", "old": old, "new": new}
		}
		check("build.building", props(nil, "BUILDING"))
		call(t, fh.host, "host.failBuild", []any{task2, id2}, nil)
		d := skipTo("build.failed")
		assert.Equal(t, props("BUILDING", "FAILED"), d.Headers)
		ev, err := messages.ParseProton("topic://"+d.RoutingKey, d.Headers, d.Body)
		require.NoError(t, err)
		bsc := ev.(*messages.BuildStateChange)
		assert.Equal(t, koji.BuildFailed, bsc.New)
	})
}
