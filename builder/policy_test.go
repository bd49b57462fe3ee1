package builder_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/hubserver"
	"github.com/gokoji/gokoji/koji"
)

// Upstream's default build_from_srpm policy, which the build task checks
// with host.assertPolicy as kojid's BuildTask does: a user without admin
// may not build from an SRPM (the task fails with the hub's
// ActionNotAllowed before any buildArch), but may make a scratch build,
// which the policy does not cover.
func TestBuildFromSRPMDeniedByDefault(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		th := startHub(t, dsn, false)
		buildSetup(t, th, "hello")
		user, a := th.client(t, "packager")
		require.NoError(t, user.Login(context.Background(), a))
		srpm := makeSRPM(t, "hello", "true")

		id := submitBuild(t, user, srpm, nil)
		require.Equal(t, koji.TaskFailed, waitLong(t, th.admin, id, koji.TaskClosed, koji.TaskFailed).State)
		f := taskFailure(t, th.admin, id)
		const deny = "Only admin can do this via default policy"
		assert.Equal(t, int(koji.ErrActionNotAllowed), f.Code)
		assert.Equal(t, "policy violation (build_from_srpm): "+deny+"\nrule: all :: deny "+deny, f.String)
		assert.Empty(t, children(t, th.admin, id), "no buildArch")
		b, err := th.admin.GetBuild(context.Background(), "hello-1.0-1", nil)
		require.NoError(t, err)
		assert.Nil(t, b, "no build")

		id = submitBuild(t, user, srpm, map[string]any{"scratch": true})
		info := waitLong(t, th.admin, id, koji.TaskClosed, koji.TaskFailed)
		require.Equal(t, koji.TaskClosed, info.State, "scratch: %v", info)
	})
}

// A hub whose configured build_from_srpm policy admits the user lets
// its build from an SRPM through, to the tag.
func TestBuildFromSRPMConfiguredPolicy(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		th := startHubConfig(t, dsn, func(c *hubserver.KojiConfig) {
			c.Policies = map[string]string{"build_from_srpm": "has_perm admin :: allow\nuser packager :: allow\nall :: deny"}
		})
		buildSetup(t, th, "hello")
		user, a := th.client(t, "packager")
		require.NoError(t, user.Login(context.Background(), a))
		id := submitBuild(t, user, makeSRPM(t, "hello", "true"), nil)
		info := waitLong(t, th.admin, id, koji.TaskClosed, koji.TaskFailed)
		if info.State == koji.TaskFailed {
			t.Fatalf("build failed: %v", taskFailure(t, th.admin, id))
		}
		builds, err := th.admin.ListTagged(context.Background(), "dest-tag", nil)
		require.NoError(t, err)
		require.Len(t, builds, 1)
		assert.Equal(t, "hello-1.0-1", builds[0].NVR)
	})
}
