package koji

import (
	"math"
	"testing"

	"github.com/gokoji/gokoji/xmlrpc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// labelTask is a task of method and arch whose request is params, sent
// through the XML-RPC encoding as the hub would send it.
func labelTask(t *testing.T, method, arch string, params ...any) *Task {
	t.Helper()
	raw, err := xmlrpc.MarshalValue(params)
	require.NoError(t, err)
	return &Task{ID: 1, Method: method, Arch: arch, Request: raw}
}

// TestTaskLabelUpstreamTable is upstream's own table,
// tests/test_lib/test_taskLabel.py in koji-project/koji, case for case.
func TestTaskLabelUpstreamTable(t *testing.T) {
	url := "https+git://git.server/path/module#branch"
	module := "/path/module:branch"
	build := map[string]any{"name": "n", "version": "v", "release": "r", "epoch": nil}
	for _, tc := range []struct {
		method, arch string
		request      []any
		want         string
	}{
		{"build", "x86_64", []any{url, "target", "opts"}, "build (target, " + module + ")"},
		{"build", "x86_64", []any{"n-v-r.src.rpm", "target", "opts"}, "build (target, n-v-r.src.rpm)"},
		{"maven", "x86_64", []any{url, "target", "opts"}, "maven (target, " + module + ")"},
		{"maven", "x86_64", []any{"n-v-r.jar", "target", "opts"}, "maven (target, n-v-r.jar)"},
		{"indirectionimage", "x86_64", []any{build}, "indirectionimage (n, v, r)"},
		{"buildSRPMFromSCM", "x86_64", []any{url, "build_tag", "opts"}, "buildSRPMFromSCM (" + module + ")"},
		{"buildArch", "x86_64", []any{"pkg", "root", "arch", true, "opts"}, "buildArch (pkg, arch)"},
		{"buildMaven", "x86_64", []any{url, map[string]any{"name": "build_tag", "id": 123}, map[string]any{}}, "buildMaven (build_tag)"},
		{"wrapperRPM", "x86_64", []any{url, map[string]any{"name": "target"}, build, "task"}, "wrapperRPM (target, n-v-r)"},
		{"buildNotification", "x86_64", []any{"rpts", build, "target", "weburl"}, "buildNotification (n-v-r)"},
		{"newRepo", "x86_64", []any{"tag", 123, "src"}, "newRepo (tag)"},
		{"distRepo", "x86_64", []any{"tag", 123, "keys", "task_opts"}, "distRepo (tag)"},
		{"tagBuild", "x86_64", []any{"tag", 123, true, "from", true}, "tagBuild (x86_64)"},
		{"tagNotification", "x86_64", []any{"rcpts", true, "tag", "from", build, "user"}, "tagNotification (x86_64)"},
		{"createrepo", "x86_64", []any{"repo_id", "arch", "oldrepo"}, "createrepo (arch)"},
		{"createdistrepo", "x86_64", []any{"tag", "repo_id", "arch", "keys", "opts"}, "createdistrepo (repo_id, arch)"},
		{"dependantTask", "x86_64", []any{"wait_list", []any{[]any{1}, []any{2}}}, "dependantTask (1, 2)"},
		{"chainbuild", "x86_64", []any{"srcs", "target", "opts"}, "chainbuild (target)"},
		{"chainmaven", "x86_64", []any{"srcs", "target", "opts"}, "chainmaven (target)"},
		{"waitrepo", "x86_64", []any{"tag", "newer", []any{"nvr1", "nvr2"}}, "waitrepo (tag, nvr1, nvr2)"},
		{"appliance", "x86_64", []any{"name", "version", "arch", "target", "ksfile", "opts"}, "appliance (arch, name-version, ksfile)"},
		{"livecd", "x86_64", []any{"name", "version", "arch", "target", "ksfile", "opts"}, "livecd (arch, name-version, ksfile)"},
		{"image", "x86_64", []any{"name", "version", "arches", "target", "inst_tree", "opts"}, "image (arches, name-version, inst_tree)"},
		{"livemedia", "x86_64", []any{"name", "version", "arches", "target", "ksfile", "opts"}, "livemedia (arches, name-version, ksfile)"},
		{"createLiveCD", "x86_64", []any{"name", "version", "release", "arch", map[string]any{"name": "target"}, "build_tag",
			"repo_info", "ksfile", "opts"}, "createLiveCD (target, name-version-release, ksfile, arch)"},
		{"restart", "noarch", []any{map[string]any{"name": "hostname"}}, "restart (hostname)"},
		{"restartVerify", "noarch", []any{123, map[string]any{"name": "hostname"}}, "restartVerify (hostname)"},
		{"vmExec", "x86_64", []any{"name", "task_info", "opts"}, "vmExec (name)"},
		{"winbuild", "x86_64", []any{"name", "source_url", "target", "opts"}, "winbuild (target, :source_url)"},
	} {
		t.Run(tc.method+"/"+tc.want, func(t *testing.T) {
			assert.Equal(t, tc.want, labelTask(t, tc.method, tc.arch, tc.request...).Label())
		})
	}
}

func TestTaskLabelBeyondUpstreamTable(t *testing.T) {
	for _, tc := range []struct {
		name    string
		method  string
		request []any
		want    string
	}{
		// A method without a legacy signature shows its arch.
		{"unknown method", "sleep2", []any{1}, "sleep2 (noarch)"},
		{"sleep", "sleep", []any{1}, "sleep (noarch)"},
		// A known method with arguments none of its signatures takes.
		{"too many args", "sleep", []any{1, 2}, "sleep (noarch, unknown args)"},
		{"missing args", "buildArch", []any{"pkg"}, "buildArch (noarch, unknown args)"},
		{"unexpected keyword", "sleep", []any{1, map[string]any{"bogus": 1, "__starstar": true}}, "sleep (noarch, unknown args)"},
		{"keyword args", "build", []any{"git://h/rpms/bash.git#abc", map[string]any{"target": "f43", "__starstar": true}},
			"build (f43, /rpms/bash.git:abc)"},
		{"new-style params", "buildArch", []any{map[string]any{"__method__": "buildArch", "pkg": "tasks/1/1/a-1-1.src.rpm", "arch": "ppc64le"}},
			"buildArch (a-1-1.src.rpm, ppc64le)"},
		// Special methods whose params cannot be read are malformed...
		{"special method without signature", "SRPM", []any{"git://h/p#r"}, "malformed task"},
		{"wrong shape", "buildMaven", []any{"url", "not a dict", nil}, "malformed task"},
		{"non-string nvrs", "waitrepo", []any{"tag", nil, []any{1}}, "malformed task"},
		{"src that is not a string", "build", []any{nil, "target"}, "malformed task"},
		// ...and the substring test upstream makes for buildSRPMFromSCM
		// catches its substrings too.
		{"substring of buildSRPMFromSCM", "SRPM", []any{map[string]any{"__method__": "SRPM", "url": "git://h/p#r"}}, "SRPM (/p:r)"},
		{"waitrepo nvrs not a list", "waitrepo", []any{42, nil, nil}, "waitrepo (42)"},
		{"waitrepo empty nvrs", "waitrepo", []any{"tag", nil, []any{}}, "waitrepo (tag, )"},
		{"image arches list", "image", []any{"name", "1", []any{"x86_64", "aarch64"}, "target", "http://inst", map[string]any{}},
			"image (['x86_64', 'aarch64'], name-1, http://inst)"},
		{"module path", "buildSRPMFromSCM", []any{"git://h/repo?pkgs/bash#rev", 1, nil}, "buildSRPMFromSCM (/repo:pkgs/bash:rev)"},
		{"module without revision", "buildSRPMFromSCM", []any{"git://h/repo?mod", 1, nil}, "buildSRPMFromSCM (/repo:mo:git://h/repo?mod)"},
		{"non-ASCII URL", "buildSRPMFromSCM", []any{"git://hôst/rëpo#révision", 1, nil}, "buildSRPMFromSCM (/rëpo:révision)"},
		{"createAppliance", "createAppliance", []any{"name", "version", "release", "arch", map[string]any{"name": "target"},
			"build_tag", "repo_info", "ksfile", nil}, "createAppliance (target, name-version-release, ksfile, arch)"},
		{"createImage", "createImage", []any{"name", "version", "release", "arch", map[string]any{"name": "target"},
			"build_tag", "repo_info", "inst_tree", nil}, "createImage (target, name-version-release, inst_tree, arch)"},
		{"createLiveMedia", "createLiveMedia", []any{"name", "version", "release", "arch", map[string]any{"name": "target"},
			"build_tag", "repo_info", "ksfile", nil}, "createLiveMedia (target, name-version-release, ksfile, arch)"},
		{"wrapperRPM without build", "wrapperRPM", []any{"url", map[string]any{"name": "t"}, nil, nil}, "wrapperRPM (t)"},
		{"buildNotification with package_name", "buildNotification",
			[]any{nil, map[string]any{"package_name": "p", "name": "x", "version": 1, "release": nil}, nil, nil}, "buildNotification (p-1-None)"},
		{"empty extra falls back to arch", "vmExec", []any{"", nil, nil}, "vmExec (noarch)"},
		{"dependantTask of strings", "dependantTask", []any{nil, "12"}, "dependantTask (1, 2)"},
		{"dependantTask of empty lists", "dependantTask", []any{nil, []any{[]any{}}}, "malformed task"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, labelTask(t, tc.method, "noarch", tc.request...).Label())
		})
	}
}

func TestTaskLabelRequestForms(t *testing.T) {
	assert.Equal(t, "malformed task", (&Task{Method: "sleep", Arch: "noarch"}).Label(), "no request: upstream's KeyError")

	nilRequest := &Task{Method: "sleep", Arch: "noarch", Request: xmlrpc.RawValue("<value><nil/></value>")}
	assert.Equal(t, "sleep (noarch)", nilRequest.Label(), "a None request has no signature to match")
	nilRequest.Method = "buildArch"
	assert.Equal(t, "malformed task", nilRequest.Label())

	stored := &Task{Method: "sleep", Arch: "noarch",
		Request: xmlrpc.RawValue("<value><string>&lt;?xml version='1.0'?&gt;&lt;methodCall&gt;&lt;methodName&gt;sleep&lt;/methodName&gt;" +
			"&lt;params&gt;&lt;param&gt;&lt;value&gt;&lt;int&gt;1&lt;/int&gt;&lt;/value&gt;&lt;/param&gt;&lt;/params&gt;&lt;/methodCall&gt;</string></value>")}
	assert.Equal(t, "sleep (noarch)", stored.Label(), "an encoded request is decoded first")
	stored.Request = xmlrpc.RawValue("<value><string>not a document</string></value>")
	assert.Equal(t, "malformed task", stored.Label())
}

func TestModuleInfo(t *testing.T) {
	for url, want := range map[string]string{
		"git+https://src.fedoraproject.org/rpms/bash.git#5f2e": "/rpms/bash.git:5f2e",
		"git://pkgs/rpms/bash?#5f2e":                           "/rpms/bash:5f2e",
		"git://pkgs/repo?sub/dir#rev":                          "/repo:sub/dir:rev",
		"no-scheme-path":                                       ":no-scheme-path",
		"":                                                     ":",
	} {
		assert.Equal(t, want, moduleInfo(url), url)
	}
}

func TestPythonRepr(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{nil, "None"}, {true, "True"}, {false, "False"}, {int64(-3), "-3"},
		{1.0, "1.0"}, {0.5, "0.5"}, {1e16, "1e+16"}, {1e-5, "1e-05"}, {0.0001, "0.0001"},
		{123456789012345.0, "123456789012345.0"}, {1.5e300, "1.5e+300"}, {math.Inf(-1), "-inf"}, {math.NaN(), "nan"},
		{"plain", "'plain'"}, {"it's", `"it's"`}, {`both ' and "`, `'both \' and "'`}, {"tab\there\n", `'tab\there\n'`},
		{"\x00\x7f\u00a0é\u2028", `'\x00\x7f\xa0é\u2028'`},
		{[]any{"a", int64(1), nil}, "['a', 1, None]"},
		{map[string]any{"b": int64(2), "a": "x"}, "{'a': 'x', 'b': 2}"},
		{[]byte("hi"), "b'hi'"},
	} {
		assert.Equal(t, tc.want, pyRepr(tc.v), "%#v", tc.v)
	}
	assert.Equal(t, "plain", pyStr("plain"))
}
