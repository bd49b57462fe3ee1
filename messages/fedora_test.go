package messages

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/koji"
)

// A fedoraFixture is a message as Koji announces it on Fedora's bus. The
// fixtures in testdata/fedora follow the schemas and test bodies of
// fedora-infra/koji-fedoramessaging-messages (build.py, task.py, tag.py,
// repo.py, package.py, rpm.py and tests/) and the bodies
// fedora-infra/koji-fedoramessaging's plugin builds (get_message_body and
// its tests), with the headers fedora-messaging sets (docs/api/
// wire-format.rst). build.state.change.fedmsg.json is the older,
// fedmsg-era body: no task, url or times, the epoch as a string.
type fedoraFixture struct {
	RoutingKey string         `json:"routing_key"`
	Headers    map[string]any `json:"headers"`
	Body       map[string]any `json:"body"`
}

func loadFedora(t testing.TB, name string) fedoraFixture {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "fedora", name+".json"))
	require.NoError(t, err)
	var f fedoraFixture
	require.NoError(t, json.Unmarshal(data, &f))
	return f
}

func (f fedoraFixture) parse(t testing.TB) Event {
	t.Helper()
	body, err := json.Marshal(f.Body)
	require.NoError(t, err)
	ev, err := ParseFedora(f.RoutingKey, f.Headers, body)
	require.NoError(t, err)
	return ev
}

func TestParseFedoraBuildStateChange(t *testing.T) {
	e := loadFedora(t, "build.state.change").parse(t).(*BuildStateChange)
	assert.Equal(t, "build.complete", e.Topic())
	assert.Equal(t, "state", e.Attribute)
	assert.Equal(t, koji.BuildBuilding, *e.Old)
	assert.Equal(t, koji.BuildComplete, e.New)
	b := e.Build
	assert.Equal(t, 2211083, b.ID)
	assert.Equal(t, "grep", b.Name)
	assert.Equal(t, "grep", b.PackageName)
	assert.Equal(t, "grep-3.11-1.fc39", b.NVR)
	assert.Equal(t, "jskarvad", b.OwnerName)
	assert.Equal(t, 101962689, *b.TaskID)
	assert.Equal(t, koji.BuildComplete, b.State)
	assert.Nil(t, b.Epoch)
	assert.Equal(t, time.Date(2023, 6, 9, 7, 17, 25, 397820000, time.UTC), b.Created())
	end, ok := b.Completed()
	require.True(t, ok)
	assert.Equal(t, time.Date(2023, 6, 9, 7, 32, 16, 160696000, time.UTC), end)

	task := e.Task
	require.NotNil(t, task)
	assert.Equal(t, 101962689, task.ID)
	assert.Equal(t, "jskarvad", task.OwnerName)
	assert.Equal(t, 0, task.Owner)
	assert.Equal(t, koji.TaskClosed, task.State)
	assert.Equal(t, time.Unix(1686295044, 0).UTC(), task.Created())
	target, err := task.Target()
	require.NoError(t, err)
	assert.Equal(t, "rawhide", target)
}

func TestParseFedoraImportedBuild(t *testing.T) {
	e := loadFedora(t, "build.state.change.import").parse(t).(*BuildStateChange)
	assert.Equal(t, "build.failed", e.Topic())
	assert.Nil(t, e.Task)
	assert.Nil(t, e.Build.TaskID)
	assert.Equal(t, "chromium-80.0.3987.132-1.fc33", e.Build.NVR)
}

func TestParseFedoraFedmsgBuild(t *testing.T) {
	e := loadFedora(t, "build.state.change.fedmsg").parse(t).(*BuildStateChange)
	assert.Equal(t, "build.building", e.Topic())
	assert.Nil(t, e.Old)
	assert.Equal(t, 1, *e.Build.Epoch)
	assert.Equal(t, "1:python-requests-2.19.1-2.fc29", e.Build.LabelWithEpoch())
	assert.Equal(t, "jcline", e.Build.OwnerName)
	assert.Equal(t, 28941422, *e.Build.TaskID)
}

func TestParseFedoraTaskStateChange(t *testing.T) {
	e := loadFedora(t, "task.state.change").parse(t).(*TaskStateChange)
	assert.Equal(t, KindTaskStateChange, e.Kind())
	assert.Equal(t, "task.closed", e.Topic())
	assert.Equal(t, koji.TaskOpen, *e.Old)
	assert.Equal(t, koji.TaskClosed, e.New)
	task := e.Task
	assert.Equal(t, 42569071, task.ID)
	assert.Equal(t, "koschei", task.OwnerName)
	assert.Equal(t, time.Unix(1584475491, 0).UTC(), task.Created())
	start, ok := task.Started()
	require.True(t, ok)
	assert.Equal(t, time.Unix(1584475492, 0).UTC(), start)
	end, ok := task.Completed()
	require.True(t, ok)
	assert.Equal(t, time.Unix(1584475720, 0).UTC(), end)
	pkg, err := task.Package()
	require.NoError(t, err)
	assert.Equal(t, "libfreehand", pkg)
	assert.ErrorIs(t, task.DecodeResult(new(any)), koji.ErrNoTaskResult)
}

// The plugin sends a task's result decoded; DecodeResult reads it.
func TestParseFedoraTaskResult(t *testing.T) {
	f := loadFedora(t, "task.state.change")
	f.Body["info"].(map[string]any)["result"] = map[string]any{"srpm": "tasks/9071/42569071/x.src.rpm", "brootid": 1}
	e := f.parse(t).(*TaskStateChange)
	var result struct {
		SRPM string `xmlrpc:"srpm"`
	}
	require.NoError(t, e.Task.DecodeResult(&result))
	assert.Equal(t, "tasks/9071/42569071/x.src.rpm", result.SRPM)
}

// koji-fedoramessaging-messages' own test has the task's owner as a user
// ID; the plugin sends the name.
func TestParseFedoraTaskOwnerID(t *testing.T) {
	f := loadFedora(t, "task.state.change")
	f.Body["info"].(map[string]any)["owner"] = 3199
	e := f.parse(t).(*TaskStateChange)
	assert.Equal(t, 3199, e.Task.Owner)
	assert.Equal(t, "koschei", e.Task.OwnerName) // from the body's owner
}

func TestParseFedoraTagUntag(t *testing.T) {
	tag := loadFedora(t, "tag").parse(t).(*Tag)
	assert.Equal(t, "build.tag", tag.Topic())
	assert.Equal(t, &koji.Tag{ID: 68659, Name: "epel9-build-side-68659"}, tag.Tag)
	assert.Equal(t, &koji.User{Name: "ppisar"}, tag.User)
	assert.Equal(t, 2209268, tag.Build.ID)
	assert.Equal(t, "perl-GooCanvas2-0.06-17.el9", tag.Build.NVR)
	assert.Equal(t, "ppisar", tag.Build.OwnerName)

	untag := loadFedora(t, "untag").parse(t).(*Untag)
	assert.Equal(t, "build.untag", untag.Topic())
	assert.Equal(t, tag.Tag, untag.Tag)
	assert.Equal(t, tag.Build, untag.Build)
}

func TestParseFedoraRepo(t *testing.T) {
	init := loadFedora(t, "repo.init").parse(t).(*RepoInit)
	assert.Equal(t, "repo.init", init.Topic())
	assert.Equal(t, 9001680, init.RepoID)
	assert.Equal(t, &koji.Tag{ID: 409, Name: "epel7-infra-mailman"}, init.Tag)

	done := loadFedora(t, "repo.done").parse(t).(*RepoDone)
	assert.Equal(t, "repo.done", done.Topic())
	assert.Equal(t, 5216957, done.RepoID)
	assert.Equal(t, &koji.Tag{ID: 22493, Name: "eln-build"}, done.Tag)
}

func TestParseFedoraPackageListChange(t *testing.T) {
	e := loadFedora(t, "package.list.change").parse(t).(*PackageListChange)
	assert.Equal(t, "package.update", e.Topic())
	assert.Equal(t, "f39", e.Tag.Name)
	assert.Equal(t, "nats-server", e.Package.Name)
	assert.Equal(t, &koji.User{Name: "mikelo2"}, e.Owner)
	assert.Nil(t, e.User)
	assert.False(t, *e.Block)
	assert.True(t, e.Force)
	assert.True(t, e.Update)

	f := loadFedora(t, "package.list.change")
	f.Body["owner"], f.Body["block"], f.Body["force"] = nil, nil, nil
	e = f.parse(t).(*PackageListChange)
	assert.Nil(t, e.Owner)
	assert.Nil(t, e.Block)
	assert.False(t, e.Force)
}

func TestParseFedoraRPMSign(t *testing.T) {
	e := loadFedora(t, "rpm.sign").parse(t).(*RPMSign)
	assert.Equal(t, "sign.rpm", e.Topic())
	assert.Equal(t, "18b8e74c", e.SigKey)
	assert.Equal(t, "erlang-ssl", e.RPM.Name)
	// Fedora's bus sends the build's times as timestamps, beside the
	// finer creation_ts.
	assert.Equal(t, time.Date(2023, 6, 9, 9, 9, 10, 627583000, time.UTC), e.Build.Created())
	end, ok := e.Build.Completed()
	require.True(t, ok)
	assert.Equal(t, time.Unix(1686305099, 0).UTC(), end)

	legacy := `{"attribute": "sighash", "old": null, "new": "abc", "info": {"sigkey": "18b8e74c"}}`
	ev, err := ParseFedora(FedoraTopicPrefix+"rpm.sign", nil, []byte(legacy))
	require.NoError(t, err)
	assert.IsType(t, &Unknown{}, ev)
	assert.Equal(t, KindRPMSign, ev.Kind())
}

func TestParseFedoraTopics(t *testing.T) {
	f := loadFedora(t, "tag")
	body, err := json.Marshal(f.Body)
	require.NoError(t, err)
	for _, key := range []string{
		"org.fedoraproject.prod.buildsys.tag",
		"org.fedoraproject.stg.buildsys.tag",
		"org.centos.prod.buildsys.tag",
		"buildsys.tag",
	} {
		ev, err := ParseFedora(key, nil, body)
		require.NoError(t, err, key)
		assert.IsType(t, &Tag{}, ev, key)
	}
	// Without a buildsys topic the schema header decides.
	ev, err := ParseFedora("whatever", map[string]any{"fedora_messaging_schema": "koji_fedoramessaging.tag.UntagV1"}, body)
	require.NoError(t, err)
	assert.IsType(t, &Untag{}, ev)

	// Other topics and other applications' messages are Unknown.
	for _, key := range []string{FedoraTopicPrefix + "build.promote", "org.fedoraproject.prod.bodhi.update.comment", ""} {
		ev, err := ParseFedora(key, map[string]any{"sent-at": "2023-06-09T07:35:15+00:00"}, []byte(`{"x": 1}`))
		require.NoError(t, err)
		u, ok := ev.(*Unknown)
		require.True(t, ok, "%T", ev)
		assert.Equal(t, key, u.Topic())
		assert.Equal(t, Kind(""), u.Kind())
	}
}

func TestParseFedoraErrors(t *testing.T) {
	tests := []struct{ topic, body, want string }{
		{"build.state.change", `{"new": "DONE"}`, "DONE"},
		{"build.state.change", `{"old": 0}`, "no new state"},
		{"build.state.change", `{"new": 1, "build_id": "x"}`, "build_id"},
		{"task.state.change", `{"new": "OPEN"}`, "no task info"},
		{"task.state.change", `{"new": "OPEN", "info": []}`, "info is a JSON array"},
		{"tag", `{"tag_id": "f39"}`, "tag_id"},
		{"repo.done", `{"repo_id": null, "tag": 5}`, "tag is a JSON number"},
		{"package.list.change", `{"tag": "f39"}`, "no action"},
		{"rpm.sign", `{"sigkey": "x"}`, "no build or rpm"},
		{"tag", `"tagged"`, "not an object"},
	}
	for _, tt := range tests {
		t.Run(tt.topic, func(t *testing.T) {
			_, err := ParseFedora(FedoraTopicPrefix+tt.topic, nil, []byte(tt.body))
			var perr *ParseError
			require.ErrorAs(t, err, &perr)
			assert.Equal(t, fedoraFormat, perr.Format)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
