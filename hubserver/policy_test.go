package hubserver_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/internal/policy"
	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/koji"
)

// TestPolicyMethodSignatures: the policy methods have Koji 1.35.3's
// signatures, as _listapi shows them.
func TestPolicyMethodSignatures(t *testing.T) {
	upstream := upstreamArgdesc(t)
	byName := listAPI(t, startKoji(t, filepath.Join(t.TempDir(), "hub.db"), nil))
	for _, name := range []string{"host.assertPolicy", "host.checkPolicy", "host.evalPolicy", "evalPolicy"} {
		require.Contains(t, upstream, name)
		require.Contains(t, byName, name)
		assert.Equal(t, upstream[name], byName[name]["argdesc"], name)
	}
}

// policyHub is a hub with kojiadmin, a builder host, and alice, a user
// without permissions.
type policyHub struct {
	*kojiHub
	admin, host *koji.Client
	alice       int64
}

func startPolicyHub(t *testing.T, dsn string, edit func(*hubserver.KojiConfig)) *policyHub {
	kh := startKoji(t, dsn, edit)
	admin := kh.sslClient(t, "")
	ph := &policyHub{kojiHub: kh, admin: admin, host: builder(t, kh, admin, "builder1")}
	require.NoError(t, admin.Call(context.Background(), "createUser", &ph.alice, "alice"))
	return ph
}

// check is host.checkPolicy's answer.
func (ph *policyHub) check(t *testing.T, name string, data map[string]any, kw map[string]any) []any {
	t.Helper()
	return call(t, ph.host, "host.checkPolicy", []any{name, data}, kw).([]any)
}

// TestKojiPolicyDefaults: upstream's default policies answer as its hub
// does through host.checkPolicy, host.assertPolicy and the evalPolicy
// calls: build_from_srpm and build_from_repo_id admit admins only,
// package_list admins and tag, channel, priority and volume give their
// actions, and a missing policy (tag) allows.
func TestKojiPolicyDefaults(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		ph := startPolicyHub(t, dsn, nil)
		const deny = "Only admin can do this via default policy"
		for _, name := range []string{"build_from_srpm", "build_from_repo_id", "build_from_scm"} {
			assert.Equal(t, []any{true, ""}, ph.check(t, name, map[string]any{"user_id": int64(1)}, nil), name)
			assert.Equal(t, []any{false, deny}, ph.check(t, name, map[string]any{"user_id": ph.alice}, nil), name)
			assert.Equal(t, []any{false, deny}, ph.check(t, name, map[string]any{"user_id": "alice", "task_id": 7}, nil), name)
			// No user_id: the logged-in user, the host, which is no admin.
			assert.Equal(t, []any{false, deny}, ph.check(t, name, map[string]any{}, nil), name)
			require.NoError(t, ph.host.Call(ctx, "host.assertPolicy", nil, name, map[string]any{"user_id": "kojiadmin"}))
			assert.Equal(t, "policy violation ("+name+"): "+deny+"\nrule: all :: deny "+deny,
				faultString(t, ph.host, koji.ErrActionNotAllowed, "host.assertPolicy", []any{name, map[string]any{"user_id": ph.alice}}, nil))
			assert.Equal(t, "policy violation ("+name+"): "+deny+"\nrule: all :: deny "+deny,
				faultString(t, ph.host, koji.ErrActionNotAllowed, "host.checkPolicy", []any{name, map[string]any{"user_id": ph.alice}},
					map[string]any{"strict": true}))
		}
		// An unknown user is no user: denied.
		assert.Equal(t, []any{false, deny}, ph.check(t, "build_from_srpm", map[string]any{"user_id": int64(999)}, nil))
		call(t, ph.admin, "grantPermission", []any{"alice", "tag"}, nil)
		assert.Equal(t, []any{true, ""}, ph.check(t, "package_list", map[string]any{"user_id": ph.alice}, nil))
		assert.Equal(t, []any{false, "Only admin/win-admin can do this via default policy"},
			ph.check(t, "vm", map[string]any{"user_id": ph.alice}, nil))
		assert.Equal(t, []any{true, ""}, ph.check(t, "build_rpm", map[string]any{}, nil))
		assert.Equal(t, []any{true, ""}, ph.check(t, "cg_import", map[string]any{}, nil))
		// tag is no default: missing, so allowed.
		assert.Equal(t, []any{true, "missing policy"}, ph.check(t, "tag", map[string]any{"tag": "x"}, nil))
		// An action other than allow or deny is an error in policy.
		assert.Equal(t, []any{false, "error in policy"}, ph.check(t, "priority", map[string]any{}, nil))

		anon := ph.client(t)
		for _, c := range []struct {
			name string
			data map[string]any
			want any
		}{
			{"channel", map[string]any{"req_channel": "createrepo"}, "req"},
			{"channel", map[string]any{"parent": int64(3)}, "parent"},
			{"channel", map[string]any{"parent": nil, "method": "build"}, "use default"},
			{"priority", map[string]any{}, "stay"},
			{"volume", map[string]any{}, "DEFAULT"},
			{"build_from_srpm", map[string]any{"user_id": ph.alice}, "deny Only admin can do this via default policy"},
		} {
			assert.Equal(t, c.want, call(t, ph.host, "host.evalPolicy", []any{c.name, c.data}, nil), c.name)
			assert.Equal(t, c.want, call(t, anon, "evalPolicy", []any{c.name, c.data}, nil), c.name)
		}
		assert.Equal(t, "no such policy: tag", faultString(t, anon, koji.ErrGeneric, "evalPolicy", []any{"tag", map[string]any{}}, nil))
		assert.Equal(t, "no such policy: nosuch",
			faultString(t, ph.host, koji.ErrGeneric, "host.evalPolicy", []any{"nosuch", map[string]any{}}, nil))
		// The host calls need a host.
		assert.Equal(t, "User 1 is not a host",
			faultString(t, ph.admin, koji.ErrAuth, "host.assertPolicy", []any{"build_from_srpm", map[string]any{}}, nil))
		assert.Equal(t, "Not logged-in", faultString(t, anon, koji.ErrAuth, "host.checkPolicy", []any{"tag", map[string]any{}}, nil))
	})
}

// TestKojiPolicyConfigured: configured policies replace the defaults of
// their names and use the hub's tests on the hub's data; default applies
// when no rule matches; DenyMissingPolicy denies a missing policy.
func TestKojiPolicyConfigured(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		ph := startPolicyHub(t, dsn, func(c *hubserver.KojiConfig) {
			c.DenyMissingPolicy = true
			c.Policies = map[string]string{
				// The quickstart's kind of override: one user may build from SRPMs.
				"build_from_srpm": "has_perm admin :: allow\nuser alice :: allow\nall :: deny not alice",
				"tag": `
					operation move :: deny no moves
					tag f40* && package hello* :: {
						version 1.* && release *.fc40 :: allow
						hastag f40-candidate :: allow already tagged
						is_build_owner :: allow owner
						user_in_group packagers :: allow packager
					}
					fromtag trash :: allow
					buildtag f40-build :: allow from build tag
					skip_tag :: allow skipped
					is_new_package && package new-* :: allow new
					volume DEFAULT && bool vol :: allow default volume
					`,
				"late":    "match method build* && compare n >= 2 !! deny late",
				"nested":  "policy build_from_srpm :: yes\nall :: no",
				"loop":    "policy loop :: allow\nall :: deny",
				"unknown": "policy nosuch :: allow",
				"empty":   "false :: allow",
			}
		})
		admin := ph.admin
		call(t, admin, "createTag", []any{"f40"}, nil)
		call(t, admin, "createTag", []any{"f40-candidate"}, nil)
		call(t, admin, "createTag", []any{"f40-build"}, nil)
		call(t, admin, "packageListAdd", []any{"f40", "hello"}, map[string]any{"owner": "kojiadmin"})
		call(t, admin, "packageListAdd", []any{"f40-candidate", "hello"}, map[string]any{"owner": "kojiadmin"})
		ids := newBuilds(t, ph.kojiHub, [4]any{"hello", "2.0", "1", 1}, [4]any{"hello", "1.0", "1.fc40", 1}, [4]any{"hello", "3.0", "1", 1})
		call(t, admin, "tagBuildBypass", []any{"f40-candidate", "hello-3.0-1"}, nil)
		var gid int64
		require.NoError(t, admin.Call(ctx, "newGroup", &gid, "packagers"))

		assert.Equal(t, []any{true, ""}, ph.check(t, "build_from_srpm", map[string]any{"user_id": ph.alice}, nil))
		assert.Equal(t, []any{true, ""}, ph.check(t, "build_from_srpm", map[string]any{"user_id": int64(1)}, nil))
		require.NoError(t, admin.Call(ctx, "createUser", nil, "bob"))
		assert.Equal(t, []any{false, "not alice"}, ph.check(t, "build_from_srpm", map[string]any{"user_id": "bob"}, nil))
		// Defaults of other names stay.
		assert.Equal(t, []any{false, "Only admin can do this via default policy"},
			ph.check(t, "build_from_repo_id", map[string]any{"user_id": ph.alice}, nil))
		// A missing policy is denied.
		assert.Equal(t, []any{false, "missing policy"}, ph.check(t, "nope", map[string]any{}, nil))

		tag := func(data map[string]any) []any {
			t.Helper()
			return ph.check(t, "tag", data, nil)
		}
		hello := func(id int64, user any) map[string]any {
			return map[string]any{"tag": "f40", "build": id, "user_id": user, "operation": "tag"}
		}
		assert.Equal(t, []any{false, "no moves"}, tag(map[string]any{"operation": "move"}))
		assert.Equal(t, []any{true, ""}, tag(hello(ids[1], "bob")), "version and release match")
		assert.Equal(t, []any{true, "already tagged"}, tag(hello(ids[2], "bob")))
		assert.Equal(t, []any{true, "owner"}, tag(hello(ids[0], "kojiadmin")))
		// Not matched in the block: the rules after it, then the default.
		assert.Equal(t, []any{false, "not covered by policy"}, tag(hello(ids[0], "bob")))
		assert.Equal(t, []any{true, "not covered by policy"}, ph.check(t, "tag", hello(ids[0], "bob"), map[string]any{"default": "allow"}))
		call(t, admin, "addGroupMember", []any{"packagers", "bob"}, nil)
		assert.Equal(t, []any{true, "packager"}, tag(hello(ids[0], "bob")))
		assert.Equal(t, []any{true, "skipped"}, tag(map[string]any{"fromtag": "trash-none", "skip_tag": true}), "a fromtag that does not exist")
		call(t, admin, "createTag", []any{"trash"}, nil)
		assert.Equal(t, []any{true, ""}, tag(map[string]any{"fromtag": "trash"}))
		assert.Equal(t, []any{true, "from build tag"}, tag(map[string]any{"build_tag": "f40-build"}))
		assert.Equal(t, []any{true, "skipped"}, tag(map[string]any{"skip_tag": true}))
		assert.Equal(t, []any{true, "new"}, tag(map[string]any{"package": "new-thing"}))
		assert.Equal(t, []any{true, "default volume"}, tag(map[string]any{"build": ids[0], "vol": true}))
		assert.Equal(t, []any{false, "late"}, ph.check(t, "late", map[string]any{"method": "buildArch", "n": 1}, nil))
		assert.Equal(t, []any{false, "not covered by policy"}, ph.check(t, "late", map[string]any{"method": "buildArch", "n": 2.5}, nil))
		// Errors of the tests are upstream's faults.
		assert.Equal(t, "policy requires package data",
			faultString(t, ph.host, koji.ErrGeneric, "host.checkPolicy", []any{"tag", map[string]any{"tag": "f40"}}, nil))
		assert.Equal(t, "<class 'TypeError'>: expected str, bytes or os.PathLike object, not int",
			faultString(t, ph.host, 1, "host.checkPolicy", []any{"late", map[string]any{"method": 3}}, nil))

		assert.Equal(t, "yes", call(t, ph.host, "host.evalPolicy", []any{"nested", map[string]any{"user_id": "alice"}}, nil))
		assert.Equal(t, "no", call(t, ph.host, "host.evalPolicy", []any{"nested", map[string]any{"user_id": "bob"}}, nil))
		assert.Equal(t, "encountered policy loop at policy loop ",
			faultString(t, ph.host, koji.ErrGeneric, "host.evalPolicy", []any{"loop", map[string]any{}}, nil))
		assert.Equal(t, "no such policy: nosuch",
			faultString(t, ph.host, koji.ErrGeneric, "host.evalPolicy", []any{"unknown", map[string]any{}}, nil))
		assert.Nil(t, call(t, ph.host, "host.evalPolicy", []any{"empty", map[string]any{}}, nil))
		assert.Equal(t, []any{false, "not covered by policy"}, ph.check(t, "empty", map[string]any{}, nil))
	})
}

// TestOpenKojiPolicySyntaxError: a configured policy that does not parse
// fails OpenKoji, naming the policy, the line and upstream's complaint.
func TestOpenKojiPolicySyntaxError(t *testing.T) {
	for text, want := range map[string]string{
		"has_perm admin :: allow\nall :: {\n": `hubserver: policy build_from_srpm: policy line 2 ("all :: {"): GenericError: nesting error in rule set`,
		"has_perm admin :: allow\nallow it\n": `hubserver: policy build_from_srpm: policy line 2 ("allow it"): Exception: bad policy line: allow it`,
		"nosuch admin :: allow":               `hubserver: policy build_from_srpm: policy line 1 ("nosuch admin :: allow"): GenericError: missing test handler: nosuch`,
	} {
		_, err := hubserver.OpenKoji(context.Background(), hubserver.KojiConfig{
			DSN: filepath.Join(t.TempDir(), "hub.db"), Policies: map[string]string{"build_from_srpm": text}})
		require.Error(t, err)
		assert.Equal(t, want, err.Error())
		var pe *hubserver.PolicyError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, "build_from_srpm", pe.Name)
		var se *policy.SyntaxError
		assert.True(t, errors.As(err, &se))
	}
}

// TestKojiPolicyPython: kojid's policy calls made by Python's
// xmlrpc.client on a host's exclusive session: BuildTask's
// host.assertPolicy('build_from_srpm', ...) for an admin's task and for
// a user's, and host.checkPolicy and host.evalPolicy.
func TestKojiPolicyPython(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ph := startPolicyHub(t, dsn, nil)
		srpm := map[string]any{"source": "hello-1.0-1.src.rpm", "task_id": 1, "build_tag": nil, "skip_tag": false}
		as := func(user any) map[string]any {
			d := map[string]any{}
			for k, v := range srpm {
				d[k] = v
			}
			d["user_id"] = user
			return d
		}
		call(t, ph.admin, "addHost", []any{"pyhost", []any{"x86_64"}}, nil)
		out := runPyPolicy(t, ph.kojiHub, "pyhost", []pyCall{
			pycall("host.assertPolicy", []any{"build_from_srpm", as(int64(1))}, nil),
			pycall("host.assertPolicy", []any{"build_from_srpm", as(ph.alice)}, nil),
			pycall("host.checkPolicy", []any{"build_from_repo_id", as(ph.alice)}, nil),
			pycall("host.checkPolicy", []any{"tag", map[string]any{}}, map[string]any{"strict": true}),
			pycall("host.evalPolicy", []any{"channel", map[string]any{"req_channel": "x"}}, nil),
			pycall("host.evalPolicy", []any{"nosuch", map[string]any{}}, nil),
		})
		const deny = "Only admin can do this via default policy"
		assert.Equal(t, []any{map[string]any{"result": nil},
			map[string]any{"fault": []any{float64(koji.ErrActionNotAllowed), "policy violation (build_from_srpm): " + deny + "\nrule: all :: deny " + deny}},
			map[string]any{"result": []any{false, deny}},
			map[string]any{"result": []any{true, "missing policy"}},
			map[string]any{"result": "req"},
			map[string]any{"fault": []any{float64(koji.ErrGeneric), "no such policy: nosuch"}},
		}, out)
	})
}

// runPyPolicy runs calls through testdata/pypolicy.py logged in as host
// name.
func runPyPolicy(t *testing.T, kh *kojiHub, name string, calls []pyCall) []any {
	t.Helper()
	py := testenv.Command(t, "python3")
	h, pki := builderHub(t, kh, name)
	dir := t.TempDir()
	key, err := x509.MarshalPKCS8PrivateKey(pki.Client.PrivateKey)
	require.NoError(t, err)
	for file, data := range map[string][]byte{
		"ca.pem":   pki.CAPEM,
		"cert.pem": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pki.Client.Certificate[0]}),
		"key.pem":  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}),
	} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, file), data, 0o600))
	}
	in, err := json.Marshal(calls)
	require.NoError(t, err)
	cmd := exec.Command(py, "testdata/pypolicy.py", h.URL(),
		filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	cmd.Stdin = bytes.NewReader(in)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	got, err := cmd.Output()
	require.NoError(t, err, stderr.String())
	var out []any
	require.NoError(t, json.Unmarshal(got, &out), string(got))
	return out
}

// TestKojiPolicySites: the hub's own checks evaluate the configured
// package_list and tag policies with upstream's policy data: package
// list changes, tagBuildBypass, untagBuildBypass, untagBuild and
// tagBuild (operation tag, untag or move), an admin's force overriding
// a denial.
func TestKojiPolicySites(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		ph := startPolicyHub(t, dsn, func(c *hubserver.KojiConfig) {
			c.Policies = map[string]string{
				"package_list": "user alice && match action add :: allow\nhas_perm admin :: allow\nall :: deny no lists for you",
				"tag": "tag frozen :: deny frozen\nfromtag frozen :: deny frozen too\n" +
					"operation move :: deny no moves\nmatch operation tag untag :: allow\nall :: deny",
			}
		})
		admin := ph.admin
		for _, tag := range []string{"f40", "frozen", "other"} {
			call(t, admin, "createTag", []any{tag}, nil)
		}
		require.NoError(t, ph.koji.SetPassword(ctx, "alice", "pw"))
		alice := ph.passwordLogin(t, "alice", "pw")
		alice.ok(t, 1, "packageListAdd", "f40", "hello", "alice")
		const lists = "no lists for you"
		assert.Equal(t, "policy violation (package_list): "+lists+"\nrule: all :: deny "+lists,
			alice.fault(t, 2, koji.ErrActionNotAllowed, "packageListBlock", "f40", "hello"))
		assert.Equal(t, "policy violation (package_list): "+lists+"\nrule: all :: deny "+lists,
			alice.fault(t, 3, koji.ErrActionNotAllowed, "packageListRemove", "f40", "hello"))
		call(t, admin, "packageListBlock", []any{"f40", "hello"}, nil)
		assert.Equal(t, "policy violation (package_list): "+lists+"\nrule: all :: deny "+lists,
			alice.fault(t, 4, koji.ErrActionNotAllowed, "packageListUnblock", "f40", "hello"))
		call(t, admin, "packageListUnblock", []any{"f40", "hello"}, nil)
		for _, tag := range []string{"frozen", "other"} {
			call(t, admin, "packageListAdd", []any{tag, "hello"}, map[string]any{"owner": "kojiadmin"})
		}

		newBuilds(t, ph.kojiHub, [4]any{"hello", "1.0", "1", 1})
		call(t, admin, "tagBuildBypass", []any{"f40", "hello-1.0-1"}, nil)
		assert.Equal(t, "policy violation (tag): frozen\nrule: tag frozen :: deny frozen",
			faultString(t, admin, koji.ErrActionNotAllowed, "tagBuildBypass", []any{"frozen", "hello-1.0-1"}, nil))
		call(t, admin, "tagBuildBypass", []any{"frozen", "hello-1.0-1"}, map[string]any{"force": true})
		assert.Equal(t, "policy violation (tag): frozen too\nrule: fromtag frozen :: deny frozen too",
			faultString(t, admin, koji.ErrActionNotAllowed, "untagBuildBypass", []any{"frozen", "hello-1.0-1"}, nil))
		assert.Equal(t, "policy violation (tag): frozen too\nrule: fromtag frozen :: deny frozen too",
			faultString(t, admin, koji.ErrActionNotAllowed, "untagBuild", []any{"frozen", "hello-1.0-1"}, nil))
		call(t, admin, "untagBuild", []any{"f40", "hello-1.0-1"}, nil)
		assert.Equal(t, "policy violation (tag): no moves\nrule: operation move :: deny no moves",
			faultString(t, admin, koji.ErrActionNotAllowed, "tagBuild", []any{"other", "hello-1.0-1"}, map[string]any{"fromtag": "f40"}))
		call(t, admin, "tagBuild", []any{"other", "hello-1.0-1"}, nil)
	})
}

// TestKojiTaskPolicies: make_task's channel and priority policies, as
// configured: the channel by method, target and the requested one, the
// priority adjusted, set or kept, and an action neither knows an
// invalid policy.
func TestKojiTaskPolicies(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		ph := startPolicyHub(t, dsn, func(c *hubserver.KojiConfig) {
			c.Policies = map[string]string{
				"channel": "method bogus :: nonsense\nmethod useless :: use\nmethod nochan :: use nowhere\n" +
					"method sleep :: req\nmatch target f40* :: use createrepo\nall :: use default",
				"priority": "method build && bool scratch :: adjust +5\nmethod sleep :: {\n  has req_channel :: adjust -3\n}\n" +
					"method setprio :: set 30\nmethod badprio :: set high\nall :: stay",
			}
		})
		admin := ph.admin
		anchorTags(t, admin)
		require.NoError(t, admin.Call(ctx, "createBuildTarget", nil, "f40-candidate", "anchor-build", "anchor-dest"))
		require.NoError(t, admin.Call(ctx, "createBuildTarget", nil, "el9-candidate", "anchor-build", "anchor-dest"))
		def, repo := channelID(t, admin, "default"), channelID(t, admin, "createrepo")
		task := func(id int) *koji.Task {
			t.Helper()
			info, err := admin.GetTaskInfo(ctx, id, nil)
			require.NoError(t, err)
			return info
		}
		src := "git+https://scm.example.com/foo.git#abc"
		id, err := admin.Build(ctx, src, "f40-candidate", nil)
		require.NoError(t, err)
		assert.Equal(t, repo, int64(task(id).ChannelID), "by target")
		id, err = admin.Build(ctx, src, "el9-candidate", nil)
		require.NoError(t, err)
		assert.Equal(t, def, int64(task(id).ChannelID))
		assert.Equal(t, koji.PriorityDefault, task(id).Priority, "stay")
		id, err = admin.Build(ctx, src, "el9-candidate", &koji.BuildOptions{Scratch: true})
		require.NoError(t, err)
		assert.Equal(t, koji.PriorityDefault+5, task(id).Priority, "adjust")
		id, err = admin.MakeTask(ctx, "setprio", []any{}, nil)
		require.NoError(t, err)
		assert.Equal(t, 30, task(id).Priority, "set")

		// sleep: a requested channel is taken (priority 20 - 3), none is
		// not allowed ("req" without one).
		id, err = admin.MakeTask(ctx, "sleep", []any{1}, &koji.MakeTaskOptions{Channel: "createrepo"})
		require.NoError(t, err)
		assert.Equal(t, repo, int64(task(id).ChannelID))
		assert.Equal(t, koji.PriorityDefault-3, task(id).Priority)
		assert.Equal(t, "invalid channel policy",
			faultString(t, admin, koji.ErrGeneric, "makeTask", []any{"sleep", []any{1}}, nil))
		for _, method := range []string{"bogus", "useless"} {
			assert.Equal(t, "invalid channel policy", faultString(t, admin, koji.ErrGeneric, "makeTask", []any{method, []any{}}, nil))
		}
		assert.Equal(t, "No such channel: nowhere", faultString(t, admin, koji.ErrGeneric, "makeTask", []any{"nochan", []any{}}, nil))
		assert.Equal(t, "invalid priority policy", faultString(t, admin, koji.ErrGeneric, "makeTask", []any{"badprio", []any{}}, nil))
	})
}
