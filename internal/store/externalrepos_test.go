package store

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExternalRepoVersions: repo URLs and tag links are versioned (read
// as of an event), names are not; a tag cannot have two live links at one
// priority or to one repo; revoking the configuration hides the repo and
// its links; deleting a tag revokes its links.
func TestExternalRepoVersions(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openTest(t, dsn)
		var admin, tag, repo, other, before int64
		inTx(t, db, func(tx *Tx) {
			var err error
			admin, err = tx.CreateUser(ctx, User{Name: "kojiadmin", Status: UserStatusNormal, UserType: UserTypeNormal})
			require.NoError(t, err)
			tag, err = tx.CreateTag(ctx, "f44", TagConfig{}, admin)
			require.NoError(t, err)
			repo, err = tx.CreateExternalRepoName(ctx, "updates")
			require.NoError(t, err)
			require.NoError(t, tx.SetExternalRepoURL(ctx, repo, "https://a/", admin))
			other, err = tx.CreateExternalRepoName(ctx, "epel")
			require.NoError(t, err)
			require.NoError(t, tx.SetExternalRepoURL(ctx, other, "https://b/", admin))
			require.NoError(t, tx.AddTagExternalRepo(ctx, TagExternalRepo{TagID: tag, ExternalRepoID: repo, Priority: 5, MergeMode: "koji"}, admin))
			require.NoError(t, tx.Savepoint(ctx, "dup"))
			_, err = tx.CreateExternalRepoName(ctx, "epel")
			assert.True(t, errors.As(err, new(*ConflictError)), "names are unique: %v", err)
			require.NoError(t, tx.RollbackToSavepoint(ctx, "dup"))
		})
		assert.Equal(t, int64(1), repo, "the first after INTERNAL")
		inTx(t, db, func(tx *Tx) {
			e, err := tx.LastEvent(ctx, nil)
			require.NoError(t, err)
			before = e.ID
			require.NoError(t, tx.SetExternalRepoURL(ctx, repo, "https://c/", admin))
			require.NoError(t, tx.RenameExternalRepo(ctx, repo, "f44-updates"))
			arches := "x86_64"
			require.NoError(t, tx.AddTagExternalRepo(ctx, TagExternalRepo{TagID: tag, ExternalRepoID: other, Priority: 1,
				MergeMode: "bare", Arches: &arches}, admin))
			require.NoError(t, tx.Savepoint(ctx, "dup"))
			err = tx.AddTagExternalRepo(ctx, TagExternalRepo{TagID: tag, ExternalRepoID: other, Priority: 9, MergeMode: "koji"}, admin)
			assert.True(t, errors.As(err, new(*ConflictError)), "one live link a repo: %v", err)
			require.NoError(t, tx.RollbackToSavepoint(ctx, "dup"))
		})
		inTx(t, db, func(tx *Tx) {
			now, err := tx.ExternalRepos(ctx, ExternalRepoFilter{ID: &repo})
			require.NoError(t, err)
			assert.Equal(t, []ExternalRepo{{ID: repo, Name: "f44-updates", URL: "https://c/"}}, now)
			then, err := tx.ExternalRepos(ctx, ExternalRepoFilter{AsOf: &before})
			require.NoError(t, err)
			assert.Equal(t, []ExternalRepo{{ID: repo, Name: "f44-updates", URL: "https://a/"}, {ID: other, Name: "epel", URL: "https://b/"}}, then)
			url := "https://b/"
			byURL, err := tx.ExternalRepos(ctx, ExternalRepoFilter{URL: &url})
			require.NoError(t, err)
			assert.Equal(t, []ExternalRepo{{ID: other, Name: "epel", URL: "https://b/"}}, byURL)
			internal := int64(0)
			none, err := tx.ExternalRepos(ctx, ExternalRepoFilter{ID: &internal})
			require.NoError(t, err)
			assert.Empty(t, none, "INTERNAL has no configuration")

			links, err := tx.TagExternalRepos(ctx, TagExternalRepoFilter{TagID: &tag})
			require.NoError(t, err)
			require.Len(t, links, 2)
			assert.Equal(t, TagExternalRepo{TagID: tag, TagName: "f44", ExternalRepoID: other, ExternalRepoName: "epel", URL: "https://b/",
				Priority: 1, MergeMode: "bare", Arches: links[0].Arches}, links[0], "by priority")
			require.NotNil(t, links[0].Arches)
			assert.Equal(t, "x86_64", *links[0].Arches)
			assert.Equal(t, "https://c/", links[1].URL)
			assert.Nil(t, links[1].Arches)
			old, err := tx.TagExternalRepos(ctx, TagExternalRepoFilter{AsOf: &before})
			require.NoError(t, err)
			require.Len(t, old, 1)
			assert.Equal(t, "https://a/", old[0].URL)
			require.NoError(t, tx.Savepoint(ctx, "dup"))
			err = tx.AddTagExternalRepo(ctx, TagExternalRepo{TagID: tag, ExternalRepoID: 0, Priority: 5, MergeMode: "koji"}, admin)
			assert.True(t, errors.As(err, new(*ConflictError)), "one live link a priority: %v", err)
			require.NoError(t, tx.RollbackToSavepoint(ctx, "dup"))
		})
		inTx(t, db, func(tx *Tx) {
			n, err := tx.RevokeExternalRepoConfig(ctx, other, admin)
			require.NoError(t, err)
			assert.Equal(t, int64(1), n)
			links, err := tx.TagExternalRepos(ctx, TagExternalRepoFilter{})
			require.NoError(t, err)
			require.Len(t, links, 1, "a deleted repo's links are hidden")
			assert.Equal(t, repo, links[0].ExternalRepoID)
			n, err = tx.RemoveTagExternalRepo(ctx, tag, other, admin)
			require.NoError(t, err)
			assert.Equal(t, int64(1), n, "the hidden link is still live")
			require.NoError(t, tx.DeleteTag(ctx, tag, admin))
			links, err = tx.TagExternalRepos(ctx, TagExternalRepoFilter{ExternalRepoID: &repo})
			require.NoError(t, err)
			assert.Empty(t, links, "deleting the tag revoked its links")
		})
	})
}
