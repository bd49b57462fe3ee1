package hubserver_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/koji"
)

// cgFile writes a file for a content generator output and returns its
// path.
func cgFile(t *testing.T, name, content string) string {
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

// cgArchiveOutput is an archive output entry for a local file, with the
// output's extra.
func cgArchiveOutput(t *testing.T, file string, extra map[string]any) map[string]any {
	out := cgOutput(t, file, "image")
	out["extra"] = extra
	return out
}

// TestKojiCGArchives: CGImport of archive outputs, as upstream's
// CG_Importer imports them: a Maven build's pom (checked against its
// typeinfo) and jar in the Maven layout with .md5/.sha1 beside them, an
// image build's image with its RPM and archive components (listRPMs and
// listArchives with imageID then list them, and the components' builds
// cannot be deleted), a metadata-only output recorded without a file,
// the buildroot's listing through componentBuildrootID; and the refusals,
// each leaving nothing behind.
func TestKojiCGArchives(t *testing.T) {
	pkg := buildRPMs(t, "cgpkg", "1", "1")
	eachBackend(t, func(t *testing.T, dsn string) {
		fh := startFilesHub(t, dsn, func(c *hubserver.KojiConfig) { c.AdminPassword = "secret" })
		admin := fh.admin
		call(t, admin, "grantCGAccess", []any{"kojiadmin", "osbs"}, map[string]any{"create": true})
		pi := koji.PathInfo{TopDir: fh.top}

		// An RPM build, whose package becomes a component.
		dir := "cli-import/cgpkg"
		upload(t, admin, dir, pkg.all()...)
		var outputs []any
		for _, f := range pkg.all() {
			outputs = append(outputs, cgOutput(t, f, "rpm"))
		}
		call(t, admin, "CGImport", []any{cgMetadata("cgpkg", nil, outputs...), dir}, nil)
		rpm := call(t, admin, "getRPM", []any{"cgpkg-1-1.x86_64"}, nil).(map[string]any)

		// A Maven build.
		gav := map[string]any{"group_id": "org.example", "artifact_id": "demo", "version": "1.0"}
		pom := cgFile(t, "demo-1.0.pom", `<project><groupId>org.example</groupId><artifactId>demo</artifactId><version>1.0</version></project>`)
		jar := cgFile(t, "demo-1.0.jar", "PK jar bytes")
		mdir := "cli-import/cgmaven"
		upload(t, admin, mdir, pom, jar)
		maven := cgMetadata("demo", nil, cgArchiveOutput(t, pom, map[string]any{"typeinfo": map[string]any{"maven": gav}}),
			cgArchiveOutput(t, jar, map[string]any{"maven": gav}))
		maven["build"].(map[string]any)["extra"] = map[string]any{"typeinfo": map[string]any{"maven": gav}}

		wrong := map[string]any{"group_id": "org.example", "artifact_id": "other", "version": "1.0"}
		bad := cgMetadata("demo", nil, cgArchiveOutput(t, pom, map[string]any{"maven": wrong}))
		bad["build"].(map[string]any)["extra"] = map[string]any{"maven": wrong}
		assert.Equal(t, "Maven info from .pom file (org.example-demo-1.0) does not match user-supplied typeInfo (org.example-other-1.0)",
			faultString(t, admin, koji.ErrBuild, "CGImport", []any{bad, mdir}, nil))
		bad = cgMetadata("demo", nil, cgArchiveOutput(t, jar, map[string]any{"win": map[string]any{}}))
		bad["build"].(map[string]any)["extra"] = map[string]any{"maven": gav}
		assert.Equal(t, "Output type win not listed in build types", faultString(t, admin, koji.ErrGeneric, "CGImport", []any{bad, mdir}, nil))
		both := cgArchiveOutput(t, jar, map[string]any{"maven": gav, "image": map[string]any{"arch": "x86_64"}})
		bad = cgMetadata("demo", nil, both)
		assert.Equal(t, "Output file has multiple types: demo-1.0.jar", faultString(t, admin, koji.ErrGeneric, "CGImport", []any{bad, mdir}, nil))
		withComps := cgArchiveOutput(t, jar, map[string]any{"maven": gav})
		withComps["components"] = []any{}
		bad = cgMetadata("demo", nil, withComps)
		bad["build"].(map[string]any)["extra"] = map[string]any{"maven": gav}
		assert.Equal(t, "Component list not allowed for archives of type maven",
			faultString(t, admin, koji.ErrGeneric, "CGImport", []any{bad, mdir}, nil))
		assert.Nil(t, call(t, admin, "getBuild", []any{"demo-1-1"}, nil), "nothing half-written")

		mb := call(t, admin, "CGImport", []any{maven, mdir}, nil).(map[string]any)
		assert.Equal(t, map[string]any{"build_id": mb["id"], "group_id": "org.example", "artifact_id": "demo", "version": "1.0"},
			call(t, admin, "getMavenBuild", []any{mb["id"]}, nil))
		mavenArchives := call(t, admin, "listArchives", nil, map[string]any{"buildID": mb["id"], "type": "maven"}).([]any)
		require.Len(t, mavenArchives, 2)
		jarInfo := mavenArchives[1].(map[string]any)
		assert.Equal(t, "demo-1.0.jar", jarInfo["filename"])
		assert.Equal(t, "jar", jarInfo["type_name"])
		assert.Equal(t, "maven", jarInfo["btype"])
		assert.Equal(t, "demo", jarInfo["artifact_id"])
		assert.Equal(t, "pom", mavenArchives[0].(map[string]any)["type_name"])
		kb := &koji.Build{Name: "demo", Version: "1", Release: "1"}
		repo := pi.MavenBuild(kb) + "/org/example/demo/1.0/"
		assert.FileExists(t, repo+"demo-1.0.jar")
		md5sum, err := os.ReadFile(repo + "demo-1.0.jar.md5")
		require.NoError(t, err)
		assert.Equal(t, "865a69b82237b9630afe6fbf84e17eea", string(md5sum))
		assert.FileExists(t, repo+"demo-1.0.pom.sha1")

		// An image build holding the RPM and the jar, and a metadata-only
		// output.
		img := cgFile(t, "disk.qcow2", "qcow2 image")
		idir := "cli-import/cgimage"
		upload(t, admin, idir, img, cgFile(t, "disk.raw.xz", "present for the size check"))
		imageOut := cgArchiveOutput(t, img, map[string]any{"image": map[string]any{"arch": "x86_64"}})
		imageOut["components"] = []any{
			map[string]any{"type": "rpm", "name": "cgpkg", "version": "1", "release": "1", "epoch": nil, "arch": "x86_64",
				"sigmd5": rpm["payloadhash"], "signature": nil},
			map[string]any{"type": "kojifile", "archive_id": jarInfo["id"], "nvr": "demo-1-1", "filename": "demo-1.0.jar"},
			map[string]any{"type": "rpm", "name": "cgpkg", "version": "1", "release": "1", "epoch": nil, "arch": "x86_64",
				"sigmd5": rpm["payloadhash"], "signature": nil},
		}
		sum := sha256.Sum256([]byte("present for the size check"))
		metaOnly := map[string]any{"buildroot_id": 1, "filename": "disk.raw.xz", "filesize": 26, "checksum": hex.EncodeToString(sum[:]),
			"checksum_type": "sha256", "type": "image", "metadata_only": true, "extra": map[string]any{"image": map[string]any{"arch": "aarch64"}}}
		image := cgMetadata("appliance", nil, imageOut, metaOnly)
		image["build"].(map[string]any)["extra"] = map[string]any{"image": map[string]any{}}
		image["buildroots"].([]any)[0].(map[string]any)["components"] = imageOut["components"].([]any)[1:2]
		ib := call(t, admin, "CGImport", []any{image, idir}, nil).(map[string]any)
		assert.Equal(t, map[string]any{"build_id": ib["id"]}, call(t, admin, "getImageBuild", []any{ib["id"]}, nil))
		imgs := call(t, admin, "listArchives", nil, map[string]any{"buildID": ib["id"], "type": "image"}).([]any)
		require.Len(t, imgs, 2)
		qcow := imgs[0].(map[string]any)
		assert.Equal(t, "x86_64", qcow["arch"])
		assert.Equal(t, "qcow2", qcow["type_name"])
		raw := imgs[1].(map[string]any)
		assert.Equal(t, true, raw["metadata_only"])
		assert.Equal(t, "raw-xz", raw["type_name"])
		assert.Equal(t, int64(2), raw["checksum_type"])
		assert.FileExists(t, pi.ImageBuild(&koji.Build{Name: "appliance", Version: "1", Release: "1"})+"/disk.qcow2")
		assert.NoFileExists(t, pi.ImageBuild(&koji.Build{Name: "appliance", Version: "1", Release: "1"})+"/disk.raw.xz")

		held := call(t, admin, "listRPMs", nil, map[string]any{"imageID": qcow["id"]}).([]any)
		require.Len(t, held, 1, "a component listed twice is recorded once")
		assert.Equal(t, rpm["id"], held[0].(map[string]any)["id"])
		inside := call(t, admin, "listArchives", nil, map[string]any{"imageID": qcow["id"]}).([]any)
		require.Len(t, inside, 1)
		assert.Equal(t, jarInfo["id"], inside[0].(map[string]any)["id"])
		assert.Empty(t, call(t, admin, "listRPMs", nil, map[string]any{"imageID": raw["id"]}))

		// The image's buildroot had the jar; another's the RPM.
		br := qcow["buildroot_id"].(int64)
		usedArchives := call(t, admin, "listArchives", nil, map[string]any{"componentBuildrootID": br}).([]any)
		require.Len(t, usedArchives, 1)
		assert.Equal(t, jarInfo["id"], usedArchives[0].(map[string]any)["id"])
		assert.Equal(t, br, usedArchives[0].(map[string]any)["component_buildroot_id"])
		assert.Equal(t, false, usedArchives[0].(map[string]any)["project"])
		assert.Empty(t, call(t, admin, "listRPMs", nil, map[string]any{"componentBuildrootID": br}))

		// Components keep their builds: the RPM's, held by the image, and
		// the jar's, whose use in the image's buildroot comes first.
		assert.Equal(t, "Cannot delete build, used as component of: ["+pyFmt(qcow["id"])+"]",
			faultString(t, admin, koji.ErrGeneric, "deleteBuild", []any{"cgpkg-1-1"}, nil))
		assert.Contains(t, faultString(t, admin, koji.ErrGeneric, "deleteBuild", []any{"demo-1-1"}, nil),
			"Cannot delete build, used in archive buildroots: [{'id': "+pyFmt(qcow["id"]))

		log := cgFile(t, "tool.log", "used cgpkg\n")
		upload(t, admin, "cli-import/tool", log)
		tool := cgMetadata("tool", nil, cgOutput(t, log, "log"))
		tool["buildroots"].([]any)[0].(map[string]any)["components"] = imageOut["components"].([]any)[:1]
		call(t, admin, "CGImport", []any{tool, "cli-import/tool"}, nil)
		roots := call(t, admin, "listBuildroots", nil, map[string]any{"rpmID": rpm["id"]}).([]any)
		require.Len(t, roots, 1)
		toolBR := roots[0].(map[string]any)["id"]
		used := call(t, admin, "listRPMs", nil, map[string]any{"componentBuildrootID": toolBR}).([]any)
		require.Len(t, used, 1)
		assert.Equal(t, rpm["id"], used[0].(map[string]any)["id"])
		assert.Equal(t, toolBR, used[0].(map[string]any)["component_buildroot_id"])
		assert.Equal(t, false, used[0].(map[string]any)["is_update"])

		// The same answers through Python's xmlrpc.client.
		out := runPySession(t, fh.kojiHub, []pyCall{
			pycall("listRPMs", []any{}, map[string]any{"imageID": qcow["id"]}),
			pycall("listArchives", []any{}, map[string]any{"imageID": qcow["id"]}),
			pycall("listRPMs", []any{}, map[string]any{"componentBuildrootID": toolBR}),
			pycall("listArchives", []any{}, map[string]any{"componentBuildrootID": br, "type": "maven"}),
		})
		for i, a := range out {
			require.Nil(t, a.Fault, "call %d", i)
		}
		assert.Equal(t, float64(rpm["id"].(int64)), out[0].Result.([]any)[0].(map[string]any)["id"])
		assert.Equal(t, "int", out[0].Types.(map[string]any)["list"].([]any)[0].(map[string]any)["dict"].(map[string]any)["id"])
		assert.Equal(t, "demo-1.0.jar", out[1].Result.([]any)[0].(map[string]any)["filename"])
		comp := out[2].Types.(map[string]any)["list"].([]any)[0].(map[string]any)["dict"].(map[string]any)
		assert.Equal(t, "bool", comp["is_update"])
		assert.Equal(t, "int", comp["component_buildroot_id"])
		mv := out[3].Types.(map[string]any)["list"].([]any)[0].(map[string]any)["dict"].(map[string]any)
		assert.Equal(t, "bool", mv["project"])
		assert.Equal(t, "str", mv["group_id"])

		bad = cgMetadata("unknown", nil, cgArchiveOutput(t, cgFile(t, "blob.weird", "x"), map[string]any{"image": map[string]any{"arch": "x86_64"}}))
		bad["build"].(map[string]any)["extra"] = map[string]any{"image": map[string]any{}}
		upload(t, admin, "cli-import/weird", cgFile(t, "blob.weird", "x"))
		assert.Equal(t, "unsupported file extension: blob.weird", faultString(t, admin, koji.ErrGeneric, "CGImport",
			[]any{bad, "cli-import/weird"}, nil))
		assert.Nil(t, call(t, admin, "getBuild", []any{"unknown-1-1"}, nil), "nothing half-written")
	})
}

// CGImport checks the cg_import policy as upstream's assert_policy does,
// with the package, source, metadata-only flag and content generator,
// before anything is written; upstream's default allows everything.
func TestKojiCGImportPolicy(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		fh := startFilesHub(t, dsn, func(c *hubserver.KojiConfig) {
			c.Policies = map[string]string{"cg_import": "package secret :: deny secret builds stay out\n" +
				"cg_match_any other :: deny\nbool metadata_only :: deny no metadata-only imports\nall :: allow"}
		})
		admin := fh.admin
		call(t, admin, "grantCGAccess", []any{"kojiadmin", "osbs"}, map[string]any{"create": true})
		log := cgFile(t, "build.log", "built\n")
		upload(t, admin, "cli-import/pol", log)
		refused := faultString(t, admin, koji.ErrActionNotAllowed, "CGImport",
			[]any{cgMetadata("secret", nil, cgOutput(t, log, "log")), "cli-import/pol"}, nil)
		assert.Contains(t, refused, "policy violation (cg_import)")
		assert.Contains(t, refused, "secret builds stay out")
		assert.Nil(t, call(t, admin, "getBuild", []any{"secret-1-1"}, nil), "nothing written")
		meta := cgOutput(t, log, "log")
		meta["metadata_only"] = true
		assert.Contains(t, faultString(t, admin, koji.ErrActionNotAllowed, "CGImport",
			[]any{cgMetadata("public", nil, meta), "cli-import/pol"}, nil), "no metadata-only imports")
		got := call(t, admin, "CGImport", []any{cgMetadata("public", nil, cgOutput(t, log, "log")), "cli-import/pol"}, nil).(map[string]any)
		assert.Equal(t, "public-1-1", got["nvr"])
	})
}
