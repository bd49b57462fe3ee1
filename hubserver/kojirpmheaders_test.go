package hubserver_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/internal/store"
	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/koji"
)

// changelogSpec is a package with an epoch and a changelog of three
// entries by two authors, newest first.
const changelogSpec = `Name: clog
Version: 2.0
Release: 1
Epoch: 3
Summary: a package with a changelog
License: MIT
%description
Has a changelog.
%install
mkdir -p %{buildroot}/usr/share/clog
echo clog > %{buildroot}/usr/share/clog/data
%files
/usr/share/clog/data
%changelog
* Wed Mar 04 2026 Alice <alice@example.org> - 3:2.0-1
- third change
- with two lines
* Mon Feb 02 2026 Bob <bob@example.org> - 1.0-2
- second change
* Thu Jan 01 2026 Alice <alice@example.org> - 1.0-1
- first change
`

// buildChangelogRPMs builds changelogSpec with rpmbuild: its SRPM and
// x86_64 RPM.
func buildChangelogRPMs(t *testing.T) (srpm, bin string) {
	t.Helper()
	rpmbuild := testenv.Command(t, "rpmbuild")
	top := t.TempDir()
	spec := filepath.Join(top, "clog.spec")
	require.NoError(t, os.WriteFile(spec, []byte(changelogSpec), 0o644))
	cmd := exec.Command(rpmbuild, "-ba", "--define", "_topdir "+top, "--define", "_build_id_links none",
		"--define", "debug_package %{nil}", "--target", "x86_64", spec)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	return filepath.Join(top, "SRPMS", "clog-2.0-1.src.rpm"), filepath.Join(top, "RPMS", "x86_64", "clog-2.0-1.x86_64.rpm")
}

// triggersSpec is a package with every kind of trigger script, with
// and without version conditions.
const triggersSpec = `Name: trig
Version: 1.0
Release: 1
Summary: a package with triggers
License: MIT
BuildArch: noarch
%description
Has triggers.
%install
mkdir -p %{buildroot}/usr/share/trig
echo trig > %{buildroot}/usr/share/trig/data
%files
/usr/share/trig/data
%trigger -- bash
echo plain
%triggerin -- foo < 2.0, bar >= 1:3.1-2, baz
echo in
%triggerun -- qux = 4
echo un
%triggerpostun -- quux > 0.5
echo postun
%filetriggerin -- /usr/lib /usr/share
echo filein
%filetriggerpostun -- /opt
echo filepostun
%transfiletriggerin -P 2000 -- /usr/lib64
echo transin
%transfiletriggerun -- /var/x /var/y
echo transun
`

// triggerHeaders are the trigger and context fields rpm computes or
// (FSCONTEXTS, RECONTEXTS) reads as stored, which rpmbuild never does.
var triggerHeaders = []string{"TRIGGERCONDS", "TRIGGERTYPE", "FILETRIGGERCONDS", "FILETRIGGERTYPE",
	"TRANSFILETRIGGERCONDS", "TRANSFILETRIGGERTYPE", "FSCONTEXTS", "RECONTEXTS"}

// buildTriggersRPM builds triggersSpec with rpmbuild and copies the RPM
// into task 9's work directory under top as trig.rpm.
func buildTriggersRPM(t *testing.T, top string) string {
	t.Helper()
	rpmbuild := testenv.Command(t, "rpmbuild")
	dir := t.TempDir()
	spec := filepath.Join(dir, "trig.spec")
	require.NoError(t, os.WriteFile(spec, []byte(triggersSpec), 0o644))
	out, err := exec.Command(rpmbuild, "-bb", "--define", "_topdir "+dir, spec).CombinedOutput()
	require.NoError(t, err, "%s", out)
	built := filepath.Join(dir, "RPMS", "noarch", "trig-1.0-1.noarch.rpm")
	data, err := os.ReadFile(built)
	require.NoError(t, err)
	taskDir := filepath.Join(top, "work", "tasks", "9", "9")
	require.NoError(t, os.MkdirAll(taskDir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(taskDir, "trig.rpm"), data, 0o644))
	return built
}

// TestKojiRPMHeadersTriggers reads the trigger extensions (and the
// context tags) of an RPM with triggers by getRPMHeaders: lists of
// strings, element by element what rpm -qp --qf '[%{TAG}\n]' prints.
func TestKojiRPMHeadersTriggers(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		top := t.TempDir()
		kh := startKoji(t, dsn, func(cfg *hubserver.KojiConfig) { cfg.TopDir = top })
		built := buildTriggersRPM(t, top)
		var headers []any
		want := map[string]any{}
		for _, name := range triggerHeaders {
			headers = append(headers, strings.ToLower(name))
			lines := []any{}
			for _, l := range strings.Split(rpmQuery(t, built, "[%{"+name+"}\n]"), "\n") {
				if l != "" {
					lines = append(lines, l)
				}
			}
			want[strings.ToLower(name)] = lines
		}
		assert.Equal(t, []any{"bash", "bar >= 1:3.1-2, baz, foo < 2.0", "qux = 4", "quux > 0.5"}, want["triggerconds"])
		assert.Equal(t, []any{"in", "in", "un", "postun"}, want["triggertype"])
		assert.Equal(t, []any{"/usr/lib, /usr/share", "/opt"}, want["filetriggerconds"])
		assert.Equal(t, []any{"in", "un"}, want["transfiletriggertype"])
		assert.Equal(t, []any{}, want["fscontexts"])
		var got map[string]any
		require.NoError(t, kh.client(t).CallKw(ctx, "getRPMHeaders", &got, nil,
			map[string]any{"taskID": 9, "filepath": "trig.rpm", "headers": headers}))
		assert.Equal(t, want, got)
	})
}

// rpmQuery is rpm -qp --qf format of file.
func rpmQuery(t *testing.T, file, format string) string {
	t.Helper()
	out, err := exec.Command(testenv.Command(t, "rpm"), "-qp", "--nosignature", "--nodigest", "--qf", format, file).Output()
	require.NoError(t, err)
	return string(out)
}

// rpmFilesHub is a hub with a top directory holding the build clog-2.0-1
// with its SRPM and RPM in the packages directory and recorded.
type rpmFilesHub struct {
	*kojiHub
	top              string
	srpm, bin        string
	buildID          int64
	srpmID, binRPMID int64
}

func startRPMFilesHub(t *testing.T, dsn string) *rpmFilesHub {
	srpm, bin := buildChangelogRPMs(t)
	top := t.TempDir()
	kh := startKoji(t, dsn, func(cfg *hubserver.KojiConfig) { cfg.TopDir = top })
	h := &rpmFilesHub{kojiHub: kh, top: top, srpm: srpm, bin: bin}
	ctx := context.Background()
	require.NoError(t, kh.koji.TaskTx(ctx, 1, func(ctx context.Context) error {
		var err error
		if h.buildID, err = kh.koji.NewBuildForTest(ctx, "clog", "2.0", "1", store.BuildComplete, 1, 0); err != nil {
			return err
		}
		if h.srpmID, err = kh.koji.AddRPMFileForTest(ctx, h.buildID, srpm, top); err != nil {
			return err
		}
		h.binRPMID, err = kh.koji.AddRPMFileForTest(ctx, h.buildID, bin, top)
		return err
	}))
	return h
}

func TestKojiChangelogEntries(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		h := startRPMFilesHub(t, dsn)
		anon := h.client(t)
		var times []int64
		for _, s := range strings.Fields(rpmQuery(t, h.srpm, "[%{CHANGELOGTIME}\n]")) {
			n, err := strconv.ParseInt(s, 10, 64)
			require.NoError(t, err)
			times = append(times, n)
		}
		require.Len(t, times, 3)
		date := func(ts int64) string { return time.Unix(ts, 0).Local().Format("2006-01-02 15:04:05") }
		entry := func(i int, author, text string) map[string]any {
			return map[string]any{"date": date(times[i]), "date_ts": times[i], "author": author, "text": text}
		}
		alice3 := entry(0, "Alice <alice@example.org> - 3:2.0-1", "- third change\n- with two lines")
		bob := entry(1, "Bob <bob@example.org> - 1.0-2", "- second change")
		alice1 := entry(2, "Alice <alice@example.org> - 1.0-1", "- first change")
		call := func(kw map[string]any, args ...any) any {
			var v any
			require.NoError(t, anon.CallKw(ctx, "getChangelogEntries", &v, args, kw))
			return v
		}
		all := []any{alice3, bob, alice1}
		assert.Equal(t, all, call(nil, h.buildID))
		assert.Equal(t, all, call(nil, "clog-2.0-1"))
		assert.Equal(t, []any{bob}, call(map[string]any{"author": "Bob <bob@example.org> - 1.0-2"}, h.buildID))
		assert.Equal(t, []any{}, call(map[string]any{"author": "Bob"}, h.buildID))
		// before and after: seconds, strings in UTC (a date alone is midnight)
		assert.Equal(t, []any{bob, alice1}, call(map[string]any{"before": times[0]}, h.buildID))
		assert.Equal(t, []any{alice3}, call(map[string]any{"after": "2026-02-02 23:00:00"}, h.buildID))
		assert.Equal(t, []any{bob}, call(map[string]any{"after": "2026-01-15", "before": "2026-03-01"}, h.buildID))
		assert.Equal(t, all, call(map[string]any{"before": "not a date"}, h.buildID))
		assert.Equal(t, []any{alice1}, call(map[string]any{"before": time.Unix(times[1], 0).UTC()}, h.buildID))
		// queryOpts: order by date is by date_ts, then offset, limit, countOnly, asList
		assert.Equal(t, []any{alice1, bob, alice3}, call(map[string]any{"queryOpts": map[string]any{"order": "date"}}, h.buildID))
		assert.Equal(t, []any{bob, alice3, alice1}, call(map[string]any{"queryOpts": map[string]any{"order": "-author"}}, h.buildID))
		assert.Equal(t, []any{bob}, call(map[string]any{"queryOpts": map[string]any{"offset": 1, "limit": 1}}, h.buildID))
		assert.Equal(t, int64(3), call(map[string]any{"queryOpts": map[string]any{"countOnly": true}}, h.buildID))
		assert.Equal(t, []any{[]any{date(times[1]), bob["author"], bob["text"]}},
			call(map[string]any{"author": bob["author"], "queryOpts": map[string]any{"asList": true}}, h.buildID))
		// a task's output file
		taskDir := filepath.Join(h.top, "work", "tasks", "7", "7", "sub")
		require.NoError(t, os.MkdirAll(taskDir, 0o755))
		data, err := os.ReadFile(h.srpm)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(taskDir, "clog-2.0-1.src.rpm"), data, 0o644))
		assert.Equal(t, all, call(map[string]any{"taskID": 7, "filepath": "sub/clog-2.0-1.src.rpm"}))

		// missing things: [] (or the count), or with strict upstream's faults
		assert.Equal(t, []any{}, call(nil, "nosuch-1-1"))
		assert.Equal(t, int64(0), call(map[string]any{"queryOpts": map[string]any{"countOnly": true}}, "nosuch-1-1"))
		assert.Equal(t, []any{}, call(map[string]any{"taskID": 7, "filepath": "missing.src.rpm"}))
		var empty int
		require.NoError(t, h.koji.TaskTx(ctx, 1, func(ctx context.Context) error {
			id, err := h.koji.NewBuildForTest(ctx, "empty", "1", "1", store.BuildComplete, 1, 0)
			empty = int(id)
			return err
		}))
		assert.Equal(t, []any{}, call(nil, empty))
		strict := func(kw map[string]any, args ...any) string {
			if kw == nil {
				kw = map[string]any{}
			}
			kw["strict"] = true
			return faultString(t, anon, koji.ErrGeneric, "getChangelogEntries", args, kw)
		}
		assert.Equal(t, "No such build: nosuch-1-1", strict(nil, "nosuch-1-1"))
		assert.Equal(t, "Build "+strconv.Itoa(empty)+" doesn't have srpms", strict(nil, empty))
		assert.Equal(t, "SRPM "+filepath.Join(h.top, "work", "tasks", "7", "7", "missing.src.rpm")+" doesn't exist",
			strict(map[string]any{"taskID": 7, "filepath": "missing.src.rpm"}))
		// wrong arguments, strict or not
		for _, tc := range []struct {
			kw   map[string]any
			want string
		}{
			{map[string]any{}, "either buildID or taskID and filepath must be specified"},
			{map[string]any{"taskID": 7}, "filepath must be specified with taskID"},
			{map[string]any{"taskID": 7, "filepath": "/etc/passwd"}, "Invalid filepath: /etc/passwd"},
			{map[string]any{"taskID": 7, "filepath": "sub/../../x"}, "Invalid filepath: sub/../../x"},
			{map[string]any{"buildID": h.buildID, "before": 1.5}, "Invalid type for before: <class 'float'>"},
			{map[string]any{"buildID": h.buildID, "after": []any{1}}, "Invalid type for after: <class 'list'>"},
		} {
			assert.Equal(t, tc.want, faultString(t, anon, koji.ErrGeneric, "getChangelogEntries", nil, tc.kw))
		}
		// Python's errors of _applyQueryOpts
		assert.Equal(t, "<class 'KeyError'>: 'nosuch'", faultString(t, anon, koji.FaultClass(1), "getChangelogEntries",
			[]any{h.buildID}, map[string]any{"queryOpts": map[string]any{"order": "nosuch"}}))
		assert.Equal(t, "<class 'TypeError'>: list indices must be integers or slices, not str", faultString(t, anon, koji.FaultClass(1),
			"getChangelogEntries", []any{h.buildID}, map[string]any{"queryOpts": map[string]any{"order": "date", "asList": true}}))
	})
}

func TestKojiRPMHeaders(t *testing.T) {
	gone := buildRPMs(t, "gone", "1", "1")
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		h := startRPMFilesHub(t, dsn)
		anon := h.client(t)
		call := func(kw map[string]any, args ...any) map[string]any {
			var v map[string]any
			require.NoError(t, anon.CallKw(ctx, "getRPMHeaders", &v, args, kw))
			return v
		}
		names := []any{"name", "Version", "RELEASE", "epoch", "arch", "buildtime", "size", "filesizes", "summary",
			"sourcerpm", "requirename", "changelogtime", "disttag", "nvra", "sigmd5", "sigsize", "filenames"}
		got := call(map[string]any{"headers": names}, h.binRPMID)
		q := func(format string) string { return rpmQuery(t, h.bin, format) }
		num := func(format string) int64 {
			n, err := strconv.ParseInt(q(format), 10, 64)
			require.NoError(t, err)
			return n
		}
		var reqs []any
		for _, r := range strings.Split(strings.TrimSuffix(q("[%{REQUIRENAME}\n]"), "\n"), "\n") {
			reqs = append(reqs, r)
		}
		var times []any
		for _, s := range strings.Fields(q("[%{CHANGELOGTIME}\n]")) {
			n, err := strconv.ParseInt(s, 10, 64)
			require.NoError(t, err)
			times = append(times, n)
		}
		var payload koji.RPM
		require.NoError(t, anon.Call(ctx, "getRPM", &payload, h.binRPMID))
		sum, err := hexBytes(payload.PayloadHash)
		require.NoError(t, err)
		assert.Equal(t, map[string]any{
			"name": "clog", "Version": "2.0", "RELEASE": "1", "epoch": int64(3), "arch": "x86_64",
			"buildtime": num("%{BUILDTIME}"), "size": num("%{SIZE}"), "filesizes": []any{int64(5)}, "summary": "a package with a changelog",
			"sourcerpm": "clog-2.0-1.src.rpm", "requirename": reqs, "changelogtime": times, "disttag": nil,
			"nvra": "clog-2.0-1.x86_64", "sigmd5": sum, "sigsize": num("%{SIGSIZE}"), "filenames": []any{"/usr/share/clog/data"},
		}, got)
		// by N-V-R.A too, and the SRPM; no headers: every one of the header
		assert.Equal(t, map[string]any{"name": "clog"}, call(map[string]any{"headers": []any{"name"}}, "clog-2.0-1.x86_64"))
		assert.Equal(t, map[string]any{"sourcepackage": int64(1), "sourcerpm": nil},
			call(map[string]any{"headers": []any{"sourcepackage", "sourcerpm"}}, h.srpmID))
		every := call(nil, h.binRPMID)
		for _, k := range []string{"NAME", "VERSION", "FILENAMES", "SIGMD5", "SHA256HEADER", "CHANGELOGTEXT", "PAYLOADDIGEST"} {
			if k != "FILENAMES" {
				assert.Contains(t, every, k)
			}
		}
		assert.NotContains(t, every, "HEADERIMMUTABLE")
		assert.Equal(t, []any{"C"}, every["HEADERI18NTABLE"])
		// named as rpm.tagnames names them
		assert.Contains(t, every, "REQUIRES")
		assert.NotContains(t, every, "REQUIRENAME")
		assert.Equal(t, "clog", every["NAME"])
		// a task's output file
		taskDir := filepath.Join(h.top, "work", "tasks", "8", "8")
		require.NoError(t, os.MkdirAll(taskDir, 0o755))
		data, err := os.ReadFile(h.bin)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(taskDir, "clog.rpm"), data, 0o644))
		assert.Equal(t, map[string]any{"NAME": "clog"}, call(map[string]any{"taskID": 8, "filepath": "clog.rpm", "headers": []any{"NAME"}}))

		// missing rpms and files: {}, or with strict faults
		assert.Equal(t, map[string]any{}, call(nil, 999))
		assert.Equal(t, map[string]any{}, call(map[string]any{"taskID": 8, "filepath": "missing.rpm"}))
		assert.Equal(t, "No such rpm: {'id': 999}", faultString(t, anon, koji.ErrGeneric, "getRPMHeaders", []any{999},
			map[string]any{"strict": true}))
		missing := filepath.Join(h.top, "work", "tasks", "8", "8", "missing.rpm")
		assert.Equal(t, "Missing rpm file: "+missing, faultString(t, anon, koji.ErrGeneric, "getRPMHeaders", nil,
			map[string]any{"taskID": 8, "filepath": "missing.rpm", "strict": true}))
		built := filepath.Join(h.top, "packages", "clog", "2.0", "1", "x86_64", "clog-2.0-1.x86_64.rpm")
		require.NoError(t, os.Remove(built))
		assert.Equal(t, map[string]any{}, call(nil, h.binRPMID))
		assert.Equal(t, "Missing rpm file: "+built, faultString(t, anon, koji.ErrGeneric, "getRPMHeaders", []any{h.binRPMID},
			map[string]any{"strict": true}))
		for _, tc := range []struct {
			kw   map[string]any
			want string
		}{
			{map[string]any{}, "either rpmID or taskID and filepath must be specified"},
			{map[string]any{"taskID": 8}, "filepath must be specified with taskID"},
			{map[string]any{"taskID": 8, "filepath": "../x"}, "Invalid filepath: ../x"},
			{map[string]any{"rpmID": h.srpmID, "headers": []any{"nosuch"}}, "No such rpm header field: NOSUCH"},
		} {
			assert.Equal(t, tc.want, faultString(t, anon, koji.ErrGeneric, "getRPMHeaders", nil, tc.kw))
		}
		assert.Equal(t, "<class 'AttributeError'>: 'int' object has no attribute 'upper'", faultString(t, anon, koji.FaultClass(1),
			"getRPMHeaders", []any{h.srpmID}, map[string]any{"headers": []any{1}}))
		// a deleted build's RPM: {}, or with strict a fault
		var goneRPM int64
		require.NoError(t, h.koji.TaskTx(ctx, 1, func(ctx context.Context) error {
			id, err := h.koji.NewBuildForTest(ctx, "gone", "1", "1", store.BuildDeleted, 1, 0)
			if err != nil {
				return err
			}
			goneRPM, err = h.koji.AddRPMFileForTest(ctx, id, gone.rpms[0], h.top)
			return err
		}))
		assert.Equal(t, map[string]any{}, call(nil, goneRPM))
		assert.Equal(t, "Build gone-1-1 is deleted", faultString(t, anon, koji.ErrGeneric, "getRPMHeaders", []any{goneRPM},
			map[string]any{"strict": true}))
	})
}

// Python's xmlrpc.client reads the headers and changelog with the types
// koji's CLI expects (rpminfo, buildinfo --changelog).
func TestKojiRPMHeadersPython(t *testing.T) {
	h := startRPMFilesHub(t, filepath.Join(t.TempDir(), "hub.db"))
	require.NoError(t, h.koji.SetPassword(context.Background(), "kojiadmin", "secret"))
	buildTriggersRPM(t, h.top)
	none := map[string]any{}
	out := runPySession(t, h.kojiHub, []pyCall{
		pycall("getRPMHeaders", []any{h.binRPMID}, map[string]any{"headers": []any{"name", "epoch", "filesizes", "requirename", "disttag"}}),
		pycall("getChangelogEntries", []any{h.buildID}, none),
		pycall("getChangelogEntries", []any{h.buildID}, map[string]any{"queryOpts": map[string]any{"countOnly": true}}),
		pycall("getMavenBuild", []any{h.buildID}, none),
		pycall("getRPMHeaders", []any{h.binRPMID}, map[string]any{"headers": []any{"nosuch"}}),
		pycall("addRPMSig", []any{h.binRPMID, base64.StdEncoding.EncodeToString(ripSigHeader(t, h.bin))}, none),
		pycall("queryRPMSigs", []any{}, map[string]any{"rpm_id": h.binRPMID}),
		// koji buildinfo's and rpminfo's calls
		pycall("multiCall", []any{[]any{map[string]any{"methodName": "queryRPMSigs", "params": []any{h.binRPMID}},
			map[string]any{"methodName": "queryRPMSigs", "params": []any{h.srpmID}}}}, none),
		pycall("getRPMHeaders", []any{}, map[string]any{"rpmID": h.binRPMID, "headers": []any{"license"}}),
		pycall("getRPMHeaders", []any{}, map[string]any{"taskID": 9, "filepath": "trig.rpm",
			"headers": []any{"triggerconds", "filetriggertype", "fscontexts"}}),
	})
	assert.Equal(t, map[string]any{"dict": map[string]any{"name": "str", "epoch": "int", "filesizes": map[string]any{"list": []any{"int"}},
		"requirename": map[string]any{"list": []any{"str"}}, "disttag": "NoneType"}}, out[0].Types)
	assert.Equal(t, map[string]any{"list": []any{map[string]any{"dict": map[string]any{"date": "str", "date_ts": "int",
		"author": "str", "text": "str"}}}}, out[1].Types)
	assert.Equal(t, "int", out[2].Types)
	assert.Equal(t, "NoneType", out[3].Types)
	assert.Equal(t, []any{float64(1000), "No such rpm header field: NOSUCH"}, out[4].Fault)
	assert.Equal(t, "NoneType", out[5].Types)
	assert.Equal(t, map[string]any{"list": []any{map[string]any{"dict": map[string]any{"rpm_id": "int", "sigkey": "str",
		"sighash": "str"}}}}, out[6].Types)
	sig := map[string]any{"dict": map[string]any{"rpm_id": "int", "sigkey": "str", "sighash": "str"}}
	assert.Equal(t, map[string]any{"list": []any{map[string]any{"list": []any{map[string]any{"list": []any{sig}}}}}}, out[7].Types)
	assert.Equal(t, []any{[]any{}}, out[7].Result.([]any)[1])
	assert.Equal(t, map[string]any{"license": "MIT"}, out[8].Result)
	// the trigger extensions are lists of str, as hdr[tag] answers them
	assert.Equal(t, map[string]any{"dict": map[string]any{"triggerconds": map[string]any{"list": []any{"str"}},
		"filetriggertype": map[string]any{"list": []any{"str"}}, "fscontexts": map[string]any{"list": []any{}}}}, out[9].Types)
	assert.Equal(t, []any{"bash", "bar >= 1:3.1-2, baz, foo < 2.0", "qux = 4", "quux > 0.5"},
		out[9].Result.(map[string]any)["triggerconds"])
	// formatChangelog's strptime format
	for _, e := range out[1].Result.([]any) {
		_, err := time.Parse("2006-01-02 15:04:05", e.(map[string]any)["date"].(string))
		assert.NoError(t, err)
	}
}

func hexBytes(s string) ([]byte, error) { return hex.DecodeString(s) }
