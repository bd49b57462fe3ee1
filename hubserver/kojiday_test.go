package hubserver_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/auth"
	"github.com/gokoji/gokoji/koji"
)

// TestKojiRealisticDay scripts a day on a hub as its users would live it:
// an admin makes a release engineer and a packager; the release engineer
// builds a tag tree (dist-build inherits from dist-updates, which inherits
// from dist-base), fills the package list and adds a target; builds are
// imported and tagged into parent and child tags, a package is blocked and
// a build untagged, and the latest builds of dist-build change with every
// step as §E5 says: the most recently tagged build of a package wins within
// a tag, a child's build shadows its parents' whatever its version, and a
// blocked package disappears. Calls refused on the way (a missing
// permission, a locked tag, a blocked package, a build not in the tag, a
// bad NVR) give upstream's faults and write nothing: the last event stays
// as it was. At the end the history replays every step: the latest builds
// as of each step's event are what they were then, and queryHistory lists
// each tagging and untagging in order.
func TestKojiRealisticDay(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		kh := startKoji(t, dsn, nil)
		admin := kh.sslClient(t, "")
		login := func(user string) *koji.Client {
			require.NoError(t, admin.Call(ctx, "createUser", nil, user))
			require.NoError(t, kh.koji.SetPassword(ctx, user, user+"-secret"))
			c := kh.client(t)
			require.NoError(t, c.Login(ctx, &auth.Password{User: user, Password: user + "-secret"}))
			return c
		}
		rel, alice := login("rel"), login("alice")
		for _, perm := range []string{"tag", "target"} {
			require.NoError(t, admin.Call(ctx, "grantPermission", nil, "rel", perm))
		}

		lastEvent := func() int {
			var e struct {
				ID int `xmlrpc:"id"`
			}
			require.NoError(t, admin.Call(ctx, "getLastEvent", &e))
			return e.ID
		}
		// refused checks that a call fails with class and message and
		// writes nothing.
		refused := func(c *koji.Client, class koji.FaultClass, msg, method string, args ...any) {
			t.Helper()
			before := lastEvent()
			err := c.Call(ctx, method, nil, args...)
			var f *koji.Fault
			require.True(t, errors.As(err, &f), "%s: %v", method, err)
			assert.True(t, errors.Is(err, class), "%s: %v", method, err)
			assert.Equal(t, msg, f.String, method)
			assert.Equal(t, before, lastEvent(), "%s wrote an event", method)
		}

		// The packager may not make tags; the release engineer may.
		refused(alice, koji.ErrActionNotAllowed, "tag permission required (logged in as alice)", "createTag", "dist-base")
		_, err := rel.CreateTag(ctx, "dist-base", &koji.CreateTagOptions{Arches: "x86_64"})
		require.NoError(t, err)
		_, err = rel.CreateTag(ctx, "dist-updates", &koji.CreateTagOptions{Parent: "dist-base"})
		require.NoError(t, err)
		_, err = rel.CreateTag(ctx, "dist-build", &koji.CreateTagOptions{Parent: "dist-updates"})
		require.NoError(t, err)
		for _, pkg := range []string{"hello", "lib", "tool"} {
			require.NoError(t, rel.PackageListAdd(ctx, "dist-base", pkg, &koji.PackageListAddOptions{Owner: "alice"}))
		}
		refused(alice, koji.ErrActionNotAllowed, "target permission required (logged in as alice)",
			"createBuildTarget", "dist-candidate", "dist-build", "dist-updates")
		require.NoError(t, rel.Call(ctx, "createBuildTarget", nil, "dist-candidate", "dist-build", "dist-updates"))
		var target map[string]any
		require.NoError(t, alice.Call(ctx, "getBuildTarget", &target, "dist-candidate"))
		assert.Equal(t, "dist-build", target["build_tag_name"])
		assert.Equal(t, "dist-updates", target["dest_tag_name"])

		for _, nvr := range [][3]string{{"hello", "1.0", "1"}, {"hello", "1.1", "1"}, {"lib", "2.0", "1"},
			{"lib", "2.1", "1"}, {"tool", "0.9", "1"}} {
			_, err := admin.CreateEmptyBuild(ctx, nvr[0], nvr[1], nvr[2], nil, &koji.CreateEmptyBuildOptions{Owner: "alice"})
			require.NoError(t, err)
		}

		// latest is getLatestBuilds(dist-build) as "tag:nvr", as of an
		// event when one is given.
		latest := func(event int) []string {
			t.Helper()
			builds, err := alice.GetLatestBuilds(ctx, "dist-build", &koji.GetLatestBuildsOptions{Event: event})
			require.NoError(t, err)
			out := []string{}
			for _, b := range builds {
				out = append(out, b.TagName+":"+b.NVR)
			}
			return out
		}
		type step struct {
			what   string
			event  int
			latest []string
		}
		var steps []step
		// do runs a change and checks dist-build's latest builds after it.
		do := func(what string, change func() error, want ...string) {
			t.Helper()
			require.NoError(t, change(), what)
			got := latest(0)
			require.Equal(t, append([]string{}, want...), got, what)
			steps = append(steps, step{what, lastEvent(), got})
		}
		tag := func(tag, nvr string) func() error {
			return func() error { return rel.TagBuildBypass(ctx, tag, nvr, nil) }
		}

		do("nothing tagged", func() error { return nil })
		do("hello 1.0 and lib 2.0 into dist-base", func() error {
			if err := tag("dist-base", "hello-1.0-1")(); err != nil {
				return err
			}
			return tag("dist-base", "lib-2.0-1")()
		}, "dist-base:lib-2.0-1", "dist-base:hello-1.0-1")
		do("hello 1.1 into dist-updates shadows dist-base's", tag("dist-updates", "hello-1.1-1"),
			"dist-updates:hello-1.1-1", "dist-base:lib-2.0-1")
		do("lib 2.1 into dist-base is its newest there", tag("dist-base", "lib-2.1-1"),
			"dist-updates:hello-1.1-1", "dist-base:lib-2.1-1")
		do("the older hello 1.0 into dist-build wins there", tag("dist-build", "hello-1.0-1"),
			"dist-build:hello-1.0-1", "dist-base:lib-2.1-1")
		do("tool 0.9 into dist-base", tag("dist-base", "tool-0.9-1"),
			"dist-build:hello-1.0-1", "dist-base:tool-0.9-1", "dist-base:lib-2.1-1")
		do("lib blocked in dist-updates is gone below it", func() error {
			return rel.Call(ctx, "packageListBlock", nil, "dist-updates", "lib")
		}, "dist-build:hello-1.0-1", "dist-base:tool-0.9-1")
		do("hello 1.0 untagged from dist-build brings back dist-updates' 1.1", func() error {
			return rel.UntagBuild(ctx, "dist-build", "hello-1.0-1", nil)
		}, "dist-updates:hello-1.1-1", "dist-base:tool-0.9-1")

		// dist-base's own view never saw the block, nor the child tags.
		base, err := alice.GetLatestBuilds(ctx, "dist-base", nil)
		require.NoError(t, err)
		var baseNVRs []string
		for _, b := range base {
			baseNVRs = append(baseNVRs, b.NVR)
		}
		assert.Equal(t, []string{"tool-0.9-1", "lib-2.1-1", "hello-1.0-1"}, baseNVRs)

		// Refusals, each writing nothing.
		refused(alice, koji.ErrActionNotAllowed, "tag permission required (logged in as alice)",
			"tagBuildBypass", "dist-base", "hello-1.1-1")
		refused(rel, koji.ErrTag, "Package lib blocked in dist-updates", "tagBuild", "dist-updates", "lib-2.1-1")
		refused(rel, koji.ErrTag, "build hello-1.1-1 not in tag dist-build", "untagBuild", "dist-build", "hello-1.1-1")
		refused(rel, koji.ErrGeneric, "No such build: 'hello-9-9'", "tagBuild", "dist-base", "hello-9-9")
		refused(rel, koji.ErrGeneric, "invalid format: hello-nope", "tagBuild", "dist-base", "hello-nope")
		refused(rel, koji.ErrGeneric, "invalid format: hello", "getBuild", "hello", true)
		require.NoError(t, admin.CallKw(ctx, "editTag2", nil, []any{"dist-base"}, map[string]any{"locked": true}))
		refused(rel, koji.ErrActionNotAllowed, "tag is locked", "tagBuildBypass", "dist-base", "hello-1.1-1")
		refused(rel, koji.ErrActionNotAllowed, "tag is locked", "tagBuild", "dist-base", "hello-1.1-1")
		require.Equal(t, steps[len(steps)-1].latest, latest(0))

		// The history replays the day.
		for _, s := range steps {
			assert.Equal(t, s.latest, latest(s.event), "as of the event of %q", s.what)
		}
		var history map[string][]map[string]any
		require.NoError(t, alice.CallKw(ctx, "queryHistory", &history, nil, map[string]any{"tables": []any{"tag_listing"}}))
		var listing []string
		for _, row := range history["tag_listing"] {
			nvr := fmt.Sprintf("%s-%s-%s", row["name"], row["version"], row["release"])
			listing = append(listing, fmt.Sprintf("%s %s active=%v", row["tag.name"], nvr, row["active"]))
		}
		assert.Equal(t, []string{
			"dist-base hello-1.0-1 active=true",
			"dist-base lib-2.0-1 active=true",
			"dist-updates hello-1.1-1 active=true",
			"dist-base lib-2.1-1 active=true",
			"dist-build hello-1.0-1 active=<nil>",
			"dist-base tool-0.9-1 active=true",
		}, listing)
		require.NoError(t, alice.CallKw(ctx, "queryHistory", &history, nil, map[string]any{"user": "rel"}))
		var perms []string
		for _, row := range history["user_perms"] {
			perms = append(perms, fmt.Sprint(row["permission.name"]))
		}
		assert.Equal(t, []string{"tag", "target"}, perms)
	})
}
