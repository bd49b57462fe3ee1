package messages

import (
	"encoding/json"
	"errors"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/koji"
)

// A protonFixture is a message as protonmsg sends it. The fixtures in
// testdata/proton are modelled on upstream's data: the callback keyword
// arguments of koji-fedoramessaging's tests (tests/test_*.py), which are
// what protonmsg's queue_msg dumps once convert_datetime has turned
// datetimes into isoformat(' ') strings, and the properties of
// protonmsg.py's prep_* functions and koji's tests/test_plugins/test_protonmsg.py.
// Those upstream tests have no rpm, cg, archive or image import and no dist
// repo: those bodies have the keyword arguments of the hub's run_callbacks
// calls (kojihub.py: import_rpm, CG_Importer.do_import,
// import_archive_internal, importImageInternal, dist_repo_init).
type protonFixture struct {
	Address    string         `json:"address"`
	Properties map[string]any `json:"properties"`
	Body       map[string]any `json:"body"`
}

func loadProton(t testing.TB, name string) protonFixture {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "proton", name+".json"))
	require.NoError(t, err)
	var f protonFixture
	require.NoError(t, json.Unmarshal(data, &f))
	return f
}

// parse parses the fixture with its body as json.dumps would write it.
func (f protonFixture) parse(t testing.TB) Event {
	t.Helper()
	body, err := json.Marshal(f.Body)
	require.NoError(t, err)
	ev, err := ParseProton(f.Address, f.Properties, body)
	require.NoError(t, err)
	return ev
}

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04:05.999999", s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseProtonTaskOpen(t *testing.T) {
	ev := loadProton(t, "task.open").parse(t)
	e, ok := ev.(*TaskStateChange)
	require.True(t, ok, "%T", ev)
	assert.Equal(t, KindTaskStateChange, e.Kind())
	assert.Equal(t, "task.open", e.Topic())
	assert.Equal(t, "state", e.Attribute)
	require.NotNil(t, e.Old)
	assert.Equal(t, koji.TaskFree, *e.Old)
	assert.Equal(t, koji.TaskOpen, e.New)
	task := e.Task
	assert.Equal(t, 110011364, task.ID)
	assert.Equal(t, "build", task.Method)
	assert.Equal(t, koji.TaskOpen, task.State)
	assert.Equal(t, 3445, task.Owner)
	assert.Equal(t, 569, *task.HostID)
	assert.Nil(t, task.Parent)
	assert.Equal(t, 1.0, task.Weight)
	assert.Equal(t, utc("2023-06-08 09:56:21.738084"), task.Created())
	_, done := task.Completed()
	assert.False(t, done)
	params, err := task.Params()
	require.NoError(t, err)
	assert.Equal(t, "rawhide", params[1])
	scratch, err := task.IsScratch()
	require.NoError(t, err)
	assert.True(t, scratch)
}

// The hub passes callbacks the result as kojid sent it to host.closeTask:
// a methodResponse document.
func TestParseProtonTaskClosedHasResult(t *testing.T) {
	e := loadProton(t, "task.closed").parse(t).(*TaskStateChange)
	assert.Equal(t, "task.closed", e.Topic())
	end, done := e.Task.Completed()
	require.True(t, done)
	assert.Equal(t, utc("2023-06-08 10:01:09.737291"), end)
	var result struct {
		SRPM    string `xmlrpc:"srpm"`
		BrootID int    `xmlrpc:"brootid"`
	}
	require.NoError(t, e.Task.DecodeResult(&result))
	assert.Equal(t, 42474755, result.BrootID)
	assert.Equal(t, "tasks/1390/110011390/python-atpublic-4.0-1.fc39.src.rpm", result.SRPM)
}

// A task the hub has just created: old is None and the info is make_task's
// options, with the request as the stored XML-RPC document.
func TestParseProtonTaskCreated(t *testing.T) {
	e := loadProton(t, "task.free").parse(t).(*TaskStateChange)
	assert.Nil(t, e.Old)
	assert.Equal(t, koji.TaskFree, e.New)
	assert.Equal(t, "task.free", e.Topic())
	assert.Equal(t, 110011389, *e.Task.Parent)
	assert.Equal(t, "srpm", *e.Task.SubtaskLabel)
	params, err := e.Task.Params()
	require.NoError(t, err)
	require.Len(t, params, 3)
	assert.Equal(t, int64(4513), params[1])
	assert.Equal(t, int64(5216957), params[2].(map[string]any)["repo_id"])
}

func TestParseProtonBuildComplete(t *testing.T) {
	e := loadProton(t, "build.complete").parse(t).(*BuildStateChange)
	assert.Equal(t, KindBuildStateChange, e.Kind())
	assert.Equal(t, "build.complete", e.Topic())
	require.NotNil(t, e.Old)
	assert.Equal(t, koji.BuildBuilding, *e.Old)
	assert.Equal(t, koji.BuildComplete, e.New)
	assert.Equal(t, map[string]any{"rpm": nil}, e.BuildTypes)
	b := e.Build
	assert.Equal(t, 2211083, b.ID)
	assert.Equal(t, "grep-3.11-1.fc39", b.NVR)
	assert.Equal(t, "jskarvad", b.OwnerName)
	assert.Equal(t, 101962689, *b.TaskID)
	assert.Nil(t, b.Epoch)
	assert.Equal(t, koji.BuildComplete, b.State)
	assert.Equal(t, "799f88f953393ea45f722b71669744948c12a422", b.GitHash())
	end, ok := b.Completed()
	require.True(t, ok)
	assert.Equal(t, utc("2023-06-09 07:32:16.160696"), end)
	assert.Equal(t, map[string]any{"source": map[string]any{
		"original_url": "git+https://src.fedoraproject.org/rpms/grep.git#799f88f953393ea45f722b71669744948c12a422"}},
		b.Extra)
}

// A build the hub has just created: old is None and the info is the row
// new_build inserted, with owner and pkg_id and extra as JSON text.
func TestParseProtonBuildCreated(t *testing.T) {
	e := loadProton(t, "build.building").parse(t).(*BuildStateChange)
	assert.Nil(t, e.Old)
	assert.Equal(t, koji.BuildBuilding, e.New)
	assert.Equal(t, "build.building", e.Topic())
	b := e.Build
	assert.Equal(t, 2211149, b.ID)
	assert.Equal(t, 3445, b.OwnerID)
	assert.Equal(t, 21548, b.PackageID)
	assert.Equal(t, "Fedora-Cloud-Base-Vagrant", b.PackageName)
	assert.Equal(t, 0, *b.Epoch)
	assert.Equal(t, map[string]any{"typeinfo": map[string]any{"image": map[string]any{}}}, b.Extra)
	assert.Equal(t, map[string]any{"image": map[string]any{"build_id": int64(2211149)}}, e.BuildTypes)
}

func TestParseProtonTagUntag(t *testing.T) {
	tag := loadProton(t, "build.tag").parse(t).(*Tag)
	assert.Equal(t, KindTag, tag.Kind())
	assert.Equal(t, "build.tag", tag.Topic())
	assert.Equal(t, 68659, tag.Tag.ID)
	assert.Equal(t, "epel9-build-side-68659", tag.Tag.Name)
	assert.Equal(t, []string{"aarch64", "ppc64le", "s390x", "x86_64"}, tag.Tag.ArchList())
	assert.Equal(t, true, tag.Tag.Extra["sidetag"])
	assert.Equal(t, "perl-GooCanvas2-0.06-17.el9", tag.Build.NVR)
	assert.Equal(t, "ppisar", tag.User.Name)
	assert.Equal(t, 1374, tag.User.ID)
	assert.False(t, tag.Force)

	untag := loadProton(t, "build.untag").parse(t).(*Untag)
	assert.Equal(t, KindUntag, untag.Kind())
	assert.Equal(t, "build.untag", untag.Topic())
	assert.Equal(t, tag.Tag, untag.Tag)
	assert.Equal(t, tag.Build, untag.Build)
	assert.True(t, untag.Strict)
	assert.False(t, untag.Force)
}

func TestParseProtonRepo(t *testing.T) {
	init := loadProton(t, "repo.init").parse(t).(*RepoInit)
	assert.Equal(t, "repo.init", init.Topic())
	assert.Equal(t, 9001680, init.RepoID)
	assert.Equal(t, "epel7-infra-mailman", init.Tag.Name)
	assert.Equal(t, 409, init.Tag.ID)
	assert.Equal(t, 110011401, *init.TaskID)
	assert.Nil(t, init.Event)
	assert.Equal(t, map[string]any{"src": false, "debuginfo": false, "separate_src": false}, init.Options)

	// Older hubs: with_* arguments, no task.
	f := loadProton(t, "repo.init")
	delete(f.Body, "opts")
	delete(f.Body, "task_id")
	delete(f.Properties, "task_id")
	f.Body["with_src"], f.Body["with_debuginfo"], f.Body["with_separate_src"] = true, false, false
	old := f.parse(t).(*RepoInit)
	assert.Nil(t, old.TaskID)
	assert.Equal(t, map[string]any{"src": true, "debuginfo": false, "separate_src": false}, old.Options)

	done := loadProton(t, "repo.done").parse(t).(*RepoDone)
	assert.Equal(t, "repo.done", done.Topic())
	assert.Equal(t, 5216957, done.RepoID)
	assert.Equal(t, &koji.Tag{ID: 22493, Name: "eln-build"}, done.Tag)
	assert.Equal(t, 101962739, *done.TaskID)
	assert.Equal(t, koji.RepoInit, done.State)
	assert.Equal(t, 112308041, done.CreateEvent)
	assert.False(t, done.Expire)
	assert.Equal(t, time.Date(2023, 6, 9, 7, 20, 35, 592910000, time.UTC), done.Created)
	assert.Equal(t, []any{"tasks/2778/101962778", []any{"repomd.xml"}}, done.Data["src"])
}

func TestParseProtonPackageListChange(t *testing.T) {
	add := loadProton(t, "package.add").parse(t).(*PackageListChange)
	assert.Equal(t, "package.add", add.Topic())
	assert.Equal(t, "add", add.Action)
	assert.Equal(t, "f39", add.Tag.Name)
	assert.Equal(t, &koji.Package{ID: 29829, Name: "nats-server"}, add.Package)
	assert.Equal(t, "bodhi", add.User.Name)
	assert.Equal(t, &koji.User{ID: 5170}, add.Owner)
	require.NotNil(t, add.Block)
	assert.False(t, *add.Block)
	require.NotNil(t, add.ExtraArches)
	assert.Equal(t, "", *add.ExtraArches)
	assert.True(t, add.Force)
	assert.False(t, add.Update)

	remove := loadProton(t, "package.remove").parse(t).(*PackageListChange)
	assert.Equal(t, "package.remove", remove.Topic())
	assert.Nil(t, remove.Owner)
	assert.Nil(t, remove.Block)
	assert.Nil(t, remove.ExtraArches)
}

func TestParseProtonImportSignPromote(t *testing.T) {
	imp := loadProton(t, "import.build").parse(t).(*Import)
	assert.Equal(t, "import.build", imp.Topic())
	assert.Equal(t, "build", imp.Type)
	assert.Equal(t, "erlang-26.0.1-1.fc39", imp.Build.NVR)
	assert.Equal(t, "erlang-26.0.1-1.fc39.src.rpm", imp.Details["srpm"])
	assert.Equal(t, int64(2211158), imp.Details["build_id"])
	assert.NotContains(t, imp.Details, "build")

	sign := loadProton(t, "sign.rpm").parse(t).(*RPMSign)
	assert.Equal(t, "sign.rpm", sign.Topic())
	assert.Equal(t, "18b8e74c", sign.SigKey)
	assert.Equal(t, "e7556957058ad918c6264179d3bf5d31", sign.SigHash)
	assert.Equal(t, "erlang-ssl-26.0.1-1.fc39.ppc64le", sign.RPM.NVRA())
	assert.Equal(t, int64(1973193), sign.RPM.Size)
	assert.Equal(t, 2211158, sign.Build.ID)

	promote := loadProton(t, "build.promote").parse(t).(*BuildPromote)
	assert.Equal(t, "build.promote", promote.Topic())
	assert.Equal(t, "1.fc39,draft_2211158", promote.DraftRelease)
	assert.Equal(t, "1.fc39", promote.TargetRelease)
	assert.Equal(t, "bodhi", promote.User.Name)
	assert.Equal(t, "bodhi", promote.Build.PromoterName)
	assert.False(t, promote.Build.Draft)
}

// Each import type has its own members besides type and build: those the
// hub's postImport call for it passes, which Details holds.
func TestParseProtonImportTypes(t *testing.T) {
	for _, tt := range []struct {
		typ     string
		details []string
	}{
		{"build", []string{"srpm", "rpms", "brmap", "task_id", "build_id", "logs"}},
		{"rpm", []string{"rpm", "filepath", "fileinfo"}},
		{"cg", []string{"metadata", "directory"}},
		{"archive", []string{"archive", "build_type", "filepath", "fileinfo"}},
		{"image", []string{"image", "fullpath"}},
	} {
		t.Run(tt.typ, func(t *testing.T) {
			imp := loadProton(t, "import."+tt.typ).parse(t).(*Import)
			assert.Equal(t, KindImport, imp.Kind())
			assert.Equal(t, "import."+tt.typ, imp.Topic())
			assert.Equal(t, tt.typ, imp.Type)
			require.NotNil(t, imp.Build)
			assert.NotZero(t, imp.Build.ID)
			var keys []string
			for k := range imp.Details {
				keys = append(keys, k)
			}
			assert.ElementsMatch(t, tt.details, keys)
		})
	}

	rpm := loadProton(t, "import.rpm").parse(t).(*Import)
	assert.Equal(t, "erlang-26.0.1-1.fc39", rpm.Build.NVR)
	r, err := decodeRPM(rpm.Details["rpm"].(map[string]any))
	require.NoError(t, err)
	assert.Equal(t, "erlang-ssl-26.0.1-1.fc39.ppc64le", r.NVRA())
	assert.Equal(t, 34707522, r.ID)
	assert.Equal(t, rpm.Build.ID, *r.BuildID)
	assert.Equal(t, 43372466, *r.BuildrootID)
	assert.Equal(t, "/mnt/koji/work/tasks/4750/101964750/erlang-ssl-26.0.1-1.fc39.ppc64le.rpm", rpm.Details["filepath"])
	assert.Nil(t, rpm.Details["fileinfo"]) // not a content generator's file

	cg := loadProton(t, "import.cg").parse(t).(*Import)
	assert.Equal(t, "Fedora-IoT-39-20230609.0", cg.Build.NVR)
	assert.Equal(t, "osbuild", cg.Build.CGName)
	assert.Equal(t, 3, *cg.Build.CGID)
	assert.Nil(t, cg.Build.TaskID)
	assert.Equal(t, koji.BuildComplete, cg.Build.State)
	metadata := cg.Details["metadata"].(map[string]any)
	assert.Equal(t, int64(0), metadata["metadata_version"])
	assert.Equal(t, "Fedora-IoT", metadata["build"].(map[string]any)["name"])
	buildroots := metadata["buildroots"].([]any)
	require.Len(t, buildroots, 1)
	assert.Equal(t, int64(3), buildroots[0].(map[string]any)["cg_id"])
	output := metadata["output"].([]any)
	require.Len(t, output, 1)
	assert.Equal(t, "Fedora-IoT-39.20230609.0.x86_64.raw.xz", output[0].(map[string]any)["filename"])
	assert.Equal(t, "osbuild-cg/osbuild-koji-5c2a8bd3", cg.Details["directory"])

	// An image build's file: imported while the build is still BUILDING.
	archive := loadProton(t, "import.archive").parse(t).(*Import)
	assert.Equal(t, "Fedora-Cloud-Base-Vagrant-37-20230609.0", archive.Build.NVR)
	assert.Equal(t, koji.BuildBuilding, archive.Build.State)
	a := archive.Details["archive"].(map[string]any)
	assert.Equal(t, int64(7281342), a["id"])
	assert.Equal(t, int64(archive.Build.ID), a["build_id"])
	assert.Equal(t, "Fedora-Cloud-Base-Vagrant-37-20230609.0.x86_64.vagrant-libvirt.box", a["filename"])
	assert.Equal(t, "x86_64", a["arch"])
	assert.Equal(t, "image", archive.Details["build_type"])
	assert.Equal(t, map[string]any{}, archive.Details["fileinfo"])

	image := loadProton(t, "import.image").parse(t).(*Import)
	assert.Equal(t, archive.Build, image.Build)
	img := image.Details["image"].(map[string]any)
	assert.Equal(t, "x86_64", img["arch"])
	assert.Equal(t, int64(101963963), img["task_id"])
	assert.Equal(t, "tasks/3963/101963963", img["relpath"])
	assert.Equal(t, []any{"Fedora-Cloud-Base-Vagrant-37-20230609.0.x86_64.vagrant-libvirt.box"}, img["files"])
	assert.Len(t, img["rpmlist"], 1)
	assert.Equal(t, a["filename"], path.Base(image.Details["fullpath"].(string)))
}

// A dist repo (dist_repo_init) passes repo_init's arguments, without a
// task (distRepo is made after it), and its own: dist, keys, arches,
// task_opts and repodir.
func TestParseProtonRepoInitDist(t *testing.T) {
	f := loadProton(t, "repo.init.dist")
	init := f.parse(t).(*RepoInit)
	assert.Equal(t, KindRepoInit, init.Kind())
	assert.Equal(t, "repo.init", init.Topic())
	assert.Equal(t, 9001702, init.RepoID)
	assert.Equal(t, 22494, init.Tag.ID)
	assert.Equal(t, "epel8-infra", init.Tag.Name)
	assert.Nil(t, init.TaskID)
	require.NotNil(t, init.Event)
	assert.Equal(t, 112311342, *init.Event)
	assert.Equal(t, map[string]any{"src": false, "debuginfo": false, "separate_src": false}, init.Options)

	// Hubs that pass with_* arguments send no task_id at all, in the body
	// or the properties (prep_repo_init sets type, tag and repo_id).
	delete(f.Body, "opts")
	delete(f.Body, "task_id")
	delete(f.Properties, "task_id")
	f.Body["with_src"], f.Body["with_debuginfo"], f.Body["with_separate_src"] = false, false, false
	old := f.parse(t).(*RepoInit)
	assert.Nil(t, old.TaskID)
	assert.Equal(t, 9001702, old.RepoID)
	assert.Equal(t, init.Options, old.Options)
}

// protonmsg drops a build's extra from the body when its JSON is longer
// than message.extra_limit: the build parses the same, without Extra.
func TestParseProtonBuildWithoutExtra(t *testing.T) {
	f := loadProton(t, "build.complete.noextra")
	require.NotContains(t, f.Body["info"], "extra")
	e := f.parse(t).(*BuildStateChange)
	assert.Equal(t, "build.complete", e.Topic())
	assert.Equal(t, koji.BuildComplete, e.New)
	assert.Nil(t, e.Build.Extra)
	full := loadProton(t, "build.complete").parse(t).(*BuildStateChange)
	want := *full.Build
	want.Extra = nil
	assert.Equal(t, &want, e.Build)
	assert.Equal(t, "799f88f953393ea45f722b71669744948c12a422", e.Build.GitHash())
}

// Every address protonmsg builds, each state, action and import type, in
// every addressing form, parses to the kind and topic it names.
func TestParseProtonEveryTopic(t *testing.T) {
	type variant struct {
		fixture string
		topic   string
		edit    func(f *protonFixture)
		kind    Kind
	}
	var variants []variant
	for _, s := range []koji.TaskState{koji.TaskFree, koji.TaskOpen, koji.TaskClosed, koji.TaskCanceled,
		koji.TaskAssigned, koji.TaskFailed} {
		variants = append(variants, variant{"task.open", "task." + strings.ToLower(s.String()), func(f *protonFixture) {
			f.Properties["new"], f.Body["new"] = s.String(), s.String()
		}, KindTaskStateChange})
	}
	for _, s := range []koji.BuildState{koji.BuildBuilding, koji.BuildComplete, koji.BuildDeleted,
		koji.BuildFailed, koji.BuildCanceled} {
		variants = append(variants, variant{"build.complete", "build." + strings.ToLower(s.String()), func(f *protonFixture) {
			f.Properties["new"], f.Body["new"] = s.String(), int(s)
		}, KindBuildStateChange})
	}
	for _, action := range []string{"add", "update", "block"} {
		variants = append(variants, variant{"package.add", "package." + action, func(f *protonFixture) {
			f.Properties["action"], f.Body["action"] = action, action
		}, KindPackageListChange})
	}
	for _, action := range []string{"remove", "unblock"} {
		variants = append(variants, variant{"package.remove", "package." + action, func(f *protonFixture) {
			f.Properties["action"], f.Body["action"] = action, action
		}, KindPackageListChange})
	}
	for _, typ := range []string{"build", "rpm", "cg", "archive", "image"} {
		variants = append(variants, variant{"import.build", "import." + typ, func(f *protonFixture) {
			f.Properties["importType"], f.Body["type"] = typ, typ
		}, KindImport})
	}
	for _, name := range []string{"build.tag", "build.untag", "sign.rpm", "repo.init", "repo.done", "build.promote"} {
		kind := Kind(loadProton(t, name).Properties["type"].(string))
		variants = append(variants, variant{name, name, func(*protonFixture) {}, kind})
	}
	addresses := map[string]func(topic string) string{
		"amqp1.0":     func(topic string) string { return "topic://koji." + topic },
		"/topic/":     func(topic string) string { return "/topic/koji." + topic },
		"routing key": func(topic string) string { return "koji." + topic },
		"deep prefix": func(topic string) string { return "org.example.koji." + topic },
		"suffix":      func(topic string) string { return topic },
	}
	for _, v := range variants {
		for form, address := range addresses {
			t.Run(v.topic+"/"+form, func(t *testing.T) {
				f := loadProton(t, v.fixture)
				v.edit(&f)
				f.Address = address(v.topic)
				ev := f.parse(t)
				assert.Equal(t, v.kind, ev.Kind())
				assert.Equal(t, v.topic, ev.Topic())

				// Without properties, the address alone tells the kind.
				f.Properties = nil
				ev = f.parse(t)
				assert.Equal(t, v.kind, ev.Kind())
				assert.Equal(t, v.topic, ev.Topic())
			})
		}
	}
}

// protonmsg's body is an AMQP 1.0 string value; RabbitMQ may hand it to
// AMQP 0.9.1 consumers still encoded.
func TestParseProtonAMQPValueBody(t *testing.T) {
	f := loadProton(t, "build.tag")
	body, err := json.Marshal(f.Body)
	require.NoError(t, err)
	for _, enc := range [][]byte{
		append([]byte{0x00, 0x53, 0x77, 0xb1, 0, 0, byte(len(body) >> 8), byte(len(body))}, body...),
		append([]byte{0x00, 0x53, 0x77, 0xa1, byte(len(body[:200]))}, body[:200]...),
	} {
		ev, err := ParseProton(f.Address, f.Properties, enc)
		if len(enc) < len(body) { // the str8 form holds a truncated body
			var perr *ParseError
			require.ErrorAs(t, err, &perr)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, "perl-GooCanvas2", ev.(*Tag).Build.Name)
	}
}

func TestParseProtonUnknown(t *testing.T) {
	props := map[string]any{"type": "SomethingNew", "id": 7}
	ev, err := ParseProton("topic://koji.something.new", props, []byte(`{"x": 1}`))
	require.NoError(t, err)
	u, ok := ev.(*Unknown)
	require.True(t, ok, "%T", ev)
	assert.Equal(t, Kind("SomethingNew"), u.Kind())
	assert.Equal(t, "topic://koji.something.new", u.Topic())
	assert.Equal(t, []byte(`{"x": 1}`), u.Message.Body)
	assert.Equal(t, props, u.Message.Properties)

	// Neither a type nor an address protonmsg builds: unknown, even when
	// the body is no JSON at all.
	ev, err = ParseProton("koji.task.bogus", nil, []byte("not json"))
	require.NoError(t, err)
	assert.Equal(t, Kind(""), ev.Kind())
}

func TestParseProtonErrors(t *testing.T) {
	tests := []struct {
		name, address string
		props         map[string]any
		body          string
		want          string
	}{
		{"not json", "koji.build.tag", nil, `{"tag": `, "not JSON"},
		{"not an object", "koji.build.tag", nil, `[1, 2]`, "JSON array, not an object"},
		{"trailing data", "koji.build.tag", nil, `{} {}`, "data after"},
		{"no build", "koji.build.tag", nil, `{"tag": {"name": "f43"}}`, "no build"},
		{"wrong member type", "koji.build.tag", nil, `{"build": "bash", "tag": {"name": "f43"}}`, "build is a JSON string"},
		{"wrong field type", "koji.build.tag", nil, `{"build": {"build_id": "x"}, "tag": {"name": "f43"}}`, "build_id"},
		{"unknown task state", "koji.task.open", nil, `{"new": "SLEEPING", "info": {"id": 1}}`, "SLEEPING"},
		{"no task info", "koji.task.open", nil, `{"new": "OPEN"}`, "no task info"},
		{"task state out of range", "koji.task.open", nil, `{"new": 99999999999, "info": {}}`, "out of range"},
		{"build state type", "koji.build.complete", nil, `{"new": true, "info": {}}`, "JSON boolean"},
		{"no repo", "koji.repo.done", nil, `{"expire": false}`, "no repo"},
		{"repo_id type", "koji.repo.init", nil, `{"repo_id": 1.5, "tag": {"name": "f43"}}`, "not an integer"},
		{"no action", "koji.package.x", map[string]any{"type": "PackageListChange"}, `{}`, "no action"},
		{"integer overflow", "koji.repo.init", nil, `{"repo_id": 1, "task_id": 1e400, "tag": {}}`, "task_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := ParseProton(tt.address, tt.props, []byte(tt.body))
			assert.Nil(t, ev)
			var perr *ParseError
			require.ErrorAs(t, err, &perr)
			assert.Equal(t, protonFormat, perr.Format)
			assert.Equal(t, tt.address, perr.Topic)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// Bodies carry characters XML cannot, which the objects cannot hold; they
// become U+FFFD rather than failing the message.
func TestParseProtonControlCharacters(t *testing.T) {
	f := loadProton(t, "build.tag")
	f.Body["build"].(map[string]any)["source"] = "git+https://example.org/\x01bash.git"
	f.Body["build"].(map[string]any)["extra"] = map[string]any{"k\x02": "v\ufffe"}
	tag := f.parse(t).(*Tag)
	assert.Equal(t, "git+https://example.org/\ufffdbash.git", tag.Build.Source)
	assert.Equal(t, map[string]any{"k\ufffd": "v\ufffd"}, tag.Build.Extra)
}

func TestParseErrorUnwraps(t *testing.T) {
	_, err := ParseProton("koji.task.open", nil, []byte(`{"new": "NAPPING", "info": {}}`))
	var enum *koji.EnumError
	require.True(t, errors.As(err, &enum), "%v", err)
	assert.Equal(t, "NAPPING", enum.Name)
}
