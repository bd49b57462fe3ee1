package koji

import (
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/gokoji/gokoji/xmlrpc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTaskParamsForms(t *testing.T) {
	call, err := xmlrpc.MarshalCall("build", "git://h/p.git#r", "f43", xmlrpc.AppendKwargs(nil, map[string]any{"scratch": true})[0])
	require.NoError(t, err)
	want := []any{"git://h/p.git#r", "f43", map[string]any{"scratch": true, "__starstar": true}}
	for name, stored := range map[string]string{
		"decoded": "",
		"xml":     string(call),
		"base64":  base64.StdEncoding.EncodeToString(call),
	} {
		t.Run(name, func(t *testing.T) {
			task := labelTask(t, "build", "noarch", want...)
			if stored != "" {
				raw, err := xmlrpc.MarshalValue(stored)
				require.NoError(t, err)
				task.Request = raw
			}
			params, err := task.Params()
			require.NoError(t, err)
			assert.Equal(t, want, params)
			scratch, err := task.IsScratch()
			require.NoError(t, err)
			assert.True(t, scratch)
		})
	}

	task := &Task{ID: 4, Method: "build", Request: xmlrpc.RawValue("<value><int>3</int></value>")}
	_, err = task.Params()
	var perr *TaskParamsError
	require.ErrorAs(t, err, &perr)
	assert.Equal(t, "koji: task 4 (build): request is int, not a parameter list", err.Error())
}

func TestTaskParamHelpers(t *testing.T) {
	build := map[string]any{"name": "bash", "version": "5.2", "release": "1"}
	type want struct {
		arch, pkg, target string
		arches            []string
		tag               NameOrID
		buildID           int
	}
	for _, tc := range []struct {
		method string
		params []any
		want   want
	}{
		{"build", []any{"git+https://src.fedoraproject.org/rpms/bash.git#5f2e", "f43-candidate", map[string]any{}},
			want{pkg: "bash", target: "f43-candidate"}},
		{"build", []any{"cli-build/1795311647.1.abcdef/bash-5.2-1.fc43.src.rpm", "f43"}, want{pkg: "bash", target: "f43"}},
		{"buildContainer", []any{"git://pkgs/containers/httpd#1", "f43-container"}, want{pkg: "httpd-container", target: "f43-container"}},
		{"maven", []any{"svn:trunk/app", "target"}, want{pkg: "app", target: "target"}},
		{"buildArch", []any{"tasks/1/1/python-requests-2.31-1.src.rpm", int64(42), "aarch64", false, map[string]any{}},
			want{arch: "aarch64", arches: []string{"aarch64"}, pkg: "python-requests", tag: 42}},
		{"buildSRPMFromSCM", []any{"git://pkgs/rpms/zsh#r", int64(2), map[string]any{}}, want{pkg: "zsh"}},
		{"buildMaven", []any{"git://pkgs/m/app.git#r", map[string]any{"name": "maven-build", "id": 3}}, want{pkg: "app", tag: "maven-build"}},
		{"buildNotification", []any{[]any{"a@b"}, build, map[string]any{"name": "f43"}, "https://koji"}, want{pkg: "bash", target: "f43"}},
		{"createImage", []any{"fedora-cloud", "43", "1", "x86_64", map[string]any{"name": "f43-image"}}, want{arch: "x86_64",
			arches: []string{"x86_64"}, pkg: "fedora-cloud", target: "f43-image"}},
		{"image", []any{"fedora-cloud", "43", []any{"x86_64", "aarch64"}, "f43-image"}, want{arches: []string{"x86_64", "aarch64"},
			pkg: "fedora-cloud", target: "f43-image"}},
		{"livecd", []any{"spin", "43", "i686", "f43-livecd"}, want{arch: "i686", arches: []string{"i686"}, pkg: "spin", target: "f43-livecd"}},
		{"indirectionimage", []any{map[string]any{"arch": "s390x", "name": "base", "target": "t"}}, want{arch: "s390x",
			arches: []string{"s390x"}, pkg: "base", target: "t"}},
		{"createrepo", []any{int64(9), "ppc64le", nil}, want{arch: "ppc64le", arches: []string{"ppc64le"}}},
		{"runroot", []any{"f43-build", "x86_64", "ls"}, want{arch: "x86_64", arches: []string{"x86_64"}, tag: "f43-build"}},
		{"createdistrepo", []any{"f43", int64(9), "x86_64"}, want{arch: "x86_64", arches: []string{"x86_64"}, tag: "f43"}},
		{"newRepo", []any{"f43-build"}, want{tag: "f43-build"}},
		{"tagBuild", []any{int64(11), int64(1234), false}, want{tag: 11, buildID: 1234}},
		{"tagNotification", []any{nil, true, int64(11), nil, int64(1234)}, want{tag: 11}},
		{"waitrepo", []any{"f43-build", nil, nil}, want{tag: "f43-build"}},
		{"chainmaven", []any{map[string]any{}, "maven-target"}, want{target: "maven-target"}},
		{"wrapperRPM", []any{"git://spec", map[string]any{"name": "wrap-target"}, build}, want{target: "wrap-target"}},
		{"sleep", []any{int64(1)}, want{}},
	} {
		t.Run(tc.method, func(t *testing.T) {
			task := labelTask(t, tc.method, "noarch", tc.params...)
			arch, err := task.RequestArch()
			require.NoError(t, err)
			assert.Equal(t, tc.want.arch, arch)
			arches, err := task.Arches()
			require.NoError(t, err)
			assert.Equal(t, tc.want.arches, arches)
			pkg, err := task.Package()
			require.NoError(t, err)
			assert.Equal(t, tc.want.pkg, pkg)
			target, err := task.Target()
			require.NoError(t, err)
			assert.Equal(t, tc.want.target, target)
			tag, err := task.Tag()
			require.NoError(t, err)
			assert.Equal(t, tc.want.tag, tag)
			buildID, err := task.BuildID()
			require.NoError(t, err)
			assert.Equal(t, tc.want.buildID, buildID)
			scratch, err := task.IsScratch()
			require.NoError(t, err)
			assert.False(t, scratch)
		})
	}
}

func TestTaskParamHelpersRefuseOtherShapes(t *testing.T) {
	for _, tc := range []struct {
		method string
		params []any
		helper func(*Task) error
		reason string
	}{
		{"build", []any{"bash.src.rpm", "t"}, pkgOf, `source "bash.src.rpm" is not a name-version-release.src.rpm`},
		{"build", []any{"just-a-name", "t"}, pkgOf, `cannot parse source "just-a-name"`},
		{"build", []any{int64(5), "t"}, pkgOf, "parameter 0 is int, not a string"},
		{"buildArch", []any{"x.src.rpm"}, archOf, "1 parameters, not the 3 needed"},
		{"image", []any{"n", "v", "x86_64"}, archesOf, "arches are str, not a list"},
		{"image", []any{"n", "v", []any{int64(1)}}, archesOf, "arch 0 is int, not a string"},
		{"buildNotification", []any{nil, "not a build"}, pkgOf, "parameter 1 is str, not a map"},
		{"buildNotification", []any{nil, map[string]any{"name": nil}}, pkgOf, "parameter 1's name is NoneType, not a string"},
		{"newRepo", []any{[]any{"tag"}}, tagOf, "parameter 0 is list, not an ID or a name"},
		{"tagBuild", []any{int64(1), "bash-1-1"}, buildIDOf, "build ID is str, not an int"},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			err := tc.helper(labelTask(t, tc.method, "noarch", tc.params...))
			var perr *TaskParamsError
			require.ErrorAs(t, err, &perr)
			assert.Equal(t, fmt.Sprintf("koji: task 1 (%s): %s", tc.method, tc.reason), err.Error())
		})
	}
	// Without the request, helpers that need it say so.
	_, err := (&Task{Method: "build"}).Package()
	assert.ErrorIs(t, err, ErrNoTaskRequest)
	pkg, err := (&Task{Method: "sleep"}).Package()
	assert.NoError(t, err, "a method without a package needs no request")
	assert.Empty(t, pkg)
}

func pkgOf(t *Task) error    { _, err := t.Package(); return err }
func archOf(t *Task) error   { _, err := t.RequestArch(); return err }
func archesOf(t *Task) error { _, err := t.Arches(); return err }
func tagOf(t *Task) error    { _, err := t.Tag(); return err }
func buildIDOf(t *Task) error {
	_, err := t.BuildID()
	return err
}

func TestParseTaskParamsSignatures(t *testing.T) {
	params, err := parseTaskParams("tagBuild", []any{"tag", int64(5)})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"tag_id": "tag", "build_id": int64(5), "force": false, "fromtag": nil, "ignore_success": false}, params)

	params, err = parseTaskParams("default", []any{int64(1), int64(2), map[string]any{"x": "y", "__starstar": true}})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"args": []any{int64(1), int64(2)}, "opts": map[string]any{"x": "y"}}, params)

	_, err = parseTaskParams("sleep", []any{int64(1), map[string]any{"n": int64(2), "__starstar": true}})
	var perr *paramError
	require.ErrorAs(t, err, &perr)
	assert.Equal(t, "Invalid signature for sleep: duplicate keyword argument 'n'", perr.Error())

	_, err = parseTaskParams("restartVerify", []any{int64(1)})
	require.ErrorAs(t, err, &perr)
	assert.Equal(t, "Invalid signature for restartVerify: missing required argument 'host' (#1)", perr.Error())

	_, err = parseTaskParams("noSuchMethod", nil)
	assert.ErrorIs(t, err, errNoSignature)
}
