package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRepoRowsAndViews: repos and requests are written and read back
// through their views, JSON clauses compare documents and containment the
// same way on both databases, and the queue is cleaned of old inactive
// requests only.
func TestRepoRowsAndViews(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openTest(t, dsn)
		var admin, tag, repo, req int64
		inTx(t, db, func(tx *Tx) {
			var err error
			admin, err = tx.CreateUser(ctx, User{Name: "kojiadmin", Status: UserStatusNormal, UserType: UserTypeNormal})
			require.NoError(t, err)
			tag, err = tx.CreateTag(ctx, "f40-build", TagConfig{}, admin)
			require.NoError(t, err)
			ev, err := tx.NewEvent(ctx)
			require.NoError(t, err)
			repo, err = tx.CreateRepo(ctx, Repo{CreateEvent: ev, BeginEvent: &ev, TagID: tag, State: RepoInit,
				Opts: `{"debuginfo":false,"src":true}`, CustomOpts: `{"src":true}`})
			require.NoError(t, err)
			req, err = tx.CreateRepoRequest(ctx, RepoRequest{Owner: admin, Priority: 20, TagID: tag, MinEvent: &ev, Opts: `{}`})
			require.NoError(t, err)
		})
		inTx(t, db, func(tx *Tx) {
			st, err := tx.LockRepoState(ctx, repo)
			require.NoError(t, err)
			assert.Equal(t, RepoInit, st)
			_, err = tx.LockRepoState(ctx, 99)
			assert.True(t, errors.Is(err, ErrNotFound))
			require.NoError(t, tx.SetRepoState(ctx, repo, RepoReady))

			all, err := tx.QueryRepos(ctx, []ViewClause{{Field: "id", Op: "=", Value: repo}}, []string{"**"}, ViewOpts{})
			require.NoError(t, err)
			rows := all.([]map[string]any)
			require.Len(t, rows, 1)
			r := rows[0]
			assert.Equal(t, int64(RepoReady), r["state"])
			assert.Equal(t, "f40-build", r["tag_name"])
			assert.Equal(t, JSONText(`{"debuginfo":false,"src":true}`), r["opts"])
			assert.IsType(t, time.Time{}, r["creation_time"])
			assert.IsType(t, float64(0), r["create_ts"])
			assert.Nil(t, r["end_event"])
			assert.Nil(t, r["task_state"])
			assert.Equal(t, false, r["dist"])

			for _, c := range []struct {
				op, doc string
				match   bool
			}{
				{"@>", `{"src": true}`, true},
				{"@>", `{"src": false}`, false},
				{"@>", `{}`, true},
				{"@>", `{"maven": true}`, false},
				{"<@", `{"src": true, "debuginfo": false, "maven": false}`, true},
				{"<@", `{"src": true}`, false},
				{"=", `{"src": true, "debuginfo": false}`, true},
				{"!=", `{"src": true, "debuginfo": false}`, false},
			} {
				got, err := tx.QueryRepos(ctx, []ViewClause{{Field: "opts", Op: c.op, Value: c.doc}}, []string{"id"}, ViewOpts{})
				require.NoError(t, err, c)
				assert.Equal(t, c.match, len(got.([]map[string]any)) == 1, c)
			}
			_, err = tx.QueryRepos(ctx, []ViewClause{{Field: "opts", Op: "@>", Value: "{"}}, nil, ViewOpts{})
			var ve *ViewError
			assert.True(t, errors.As(err, &ve))
			_, err = tx.QueryRepos(ctx, []ViewClause{{Field: "opts", Op: ">", Value: "{}"}}, nil, ViewOpts{})
			assert.True(t, errors.As(err, &ve))

			q, err := tx.QueryRepoQueue(ctx, []ViewClause{{Field: "active", Op: "IS", Value: true}}, []string{"**"}, ViewOpts{})
			require.NoError(t, err)
			qs := q.([]map[string]any)
			require.Len(t, qs, 1)
			assert.Equal(t, "kojiadmin", qs[0]["owner_name"])
			assert.Equal(t, int64(0), qs[0]["tries"])
			assert.Nil(t, qs[0]["at_event"])

			active, tries := false, 2
			require.NoError(t, tx.UpdateRepoRequests(ctx, []int64{req}, RepoRequestUpdate{Active: &active, Tries: &tries, RepoID: &repo}))
			n, err := tx.CleanRepoQueue(ctx, time.Now().Add(-time.Hour))
			require.NoError(t, err)
			assert.Zero(t, n, "a request fulfilled just now stays")
			n, err = tx.CleanRepoQueue(ctx, time.Now().Add(time.Hour))
			require.NoError(t, err)
			assert.Equal(t, int64(1), n)
		})
	})
}

// TestTagChangeEvents: the first change after an event, and the tag's
// creation event.
func TestTagChangeEvents(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openTest(t, dsn)
		var admin, tag, created, changed int64
		inTx(t, db, func(tx *Tx) {
			var err error
			admin, err = tx.CreateUser(ctx, User{Name: "kojiadmin", Status: UserStatusNormal, UserType: UserTypeNormal})
			require.NoError(t, err)
			tag, err = tx.CreateTag(ctx, "a", TagConfig{}, admin)
			require.NoError(t, err)
			created, err = tx.NewEvent(ctx)
			require.NoError(t, err)
		})
		inTx(t, db, func(tx *Tx) {
			require.NoError(t, tx.DeleteTag(ctx, tag, admin))
			var err error
			changed, err = tx.NewEvent(ctx)
			require.NoError(t, err)
		})
		inTx(t, db, func(tx *Tx) {
			e, err := tx.TagCreateEvent(ctx, tag)
			require.NoError(t, err)
			assert.Equal(t, created, e)
			e, err = tx.TagFirstChangeEvent(ctx, []int64{tag}, created)
			require.NoError(t, err)
			assert.Equal(t, changed, e)
			e, err = tx.TagFirstChangeEvent(ctx, []int64{tag}, changed)
			require.NoError(t, err)
			assert.Zero(t, e)
		})
	})
}
