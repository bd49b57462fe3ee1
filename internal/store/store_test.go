package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gokoji/gokoji/internal/testenv"
	"github.com/gokoji/gokoji/xmlrpc"
)

// eachBackend runs fn once on a fresh SQLite file and once on a fresh
// PostgreSQL schema; dsn opens that database (Open may be called on it more
// than once, as several hub processes would).
func eachBackend(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, filepath.Join(t.TempDir(), "hub.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, testenv.PostgresDSN(t))
	})
}

func openTest(t testing.TB, dsn string) *DB {
	t.Helper()
	db, err := Open(context.Background(), dsn)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, db.Close()) })
	return db
}

// inTx runs fn in a read-write transaction and commits it.
func inTx(t testing.TB, db *DB, fn func(tx *Tx)) {
	t.Helper()
	ctx := context.Background()
	tx, err := db.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx)
	fn(tx)
	require.NoError(t, tx.Commit(ctx))
}

func wire(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "kojitest", "testdata", "wire", name+".response.xml"))
	require.NoError(t, err)
	require.NoError(t, xmlrpc.DecodeResponse(data, v))
}

func TestInitialRowsMatchUpstream(t *testing.T) {
	var perms []struct {
		ID          int64  `xmlrpc:"id"`
		Name        string `xmlrpc:"name"`
		Description string `xmlrpc:"description"`
	}
	wire(t, "getAllPerms", &perms)
	require.Len(t, perms, 15)
	var channels []struct {
		ID          int64   `xmlrpc:"id"`
		Name        string  `xmlrpc:"name"`
		Enabled     bool    `xmlrpc:"enabled"`
		Description *string `xmlrpc:"description"`
		Comment     *string `xmlrpc:"comment"`
	}
	wire(t, "listChannels", &channels)
	require.Len(t, channels, 8)

	eachBackend(t, func(t *testing.T, dsn string) {
		db := openTest(t, dsn)
		inTx(t, db, func(tx *Tx) {
			ctx := context.Background()
			got, err := tx.ListPermissions(ctx)
			require.NoError(t, err)
			require.Len(t, got, len(perms))
			for i, p := range perms {
				assert.Equal(t, p.ID, got[i].ID)
				assert.Equal(t, p.Name, got[i].Name)
				require.NotNil(t, got[i].Description)
				assert.Equal(t, p.Description, *got[i].Description)
			}
			gotCh, err := tx.ListChannels(ctx)
			require.NoError(t, err)
			require.Len(t, gotCh, len(channels))
			for i, c := range channels {
				assert.Equal(t, Channel{ID: c.ID, Name: c.Name, Enabled: c.Enabled, Description: c.Description, Comment: c.Comment}, gotCh[i])
			}
			vols, err := tx.ListVolumes(ctx)
			require.NoError(t, err)
			assert.Equal(t, []Volume{{0, "DEFAULT"}}, vols)
			bt, err := tx.ListBTypes(ctx)
			require.NoError(t, err)
			assert.Equal(t, []BType{{1, "rpm"}, {2, "maven"}, {3, "win"}, {4, "image"}}, bt)
			at, err := tx.ListArchiveTypes(ctx)
			require.NoError(t, err)
			require.Len(t, at, 71)
			zip := "zip"
			assert.Equal(t, ArchiveType{1, "jar", "Jar file", "jar war rar ear sar jdocbook jdocbook-style", &zip}, at[0])
			assert.Equal(t, ArchiveType{58, "yaml", "YAML Ain't Markup Language", "yaml yml", nil}, at[57])
			assert.Equal(t, ArchiveType{71, "verified", "Kiwi verified package list", "verified", nil}, at[70])
			// New rows continue after the seeded ones.
			id, err := tx.CreateChannel(ctx, "custom", nil)
			require.NoError(t, err)
			assert.Equal(t, int64(9), id)
		})
	})
}

func TestMigrationsIdempotentAndRefuseNewer(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		ms, err := migrations()
		require.NoError(t, err)
		latest := ms[len(ms)-1].version

		db, err := Open(ctx, dsn)
		require.NoError(t, err)
		require.NoError(t, db.Close())
		db = openTest(t, dsn) // a second Open applies nothing
		v, err := db.SchemaVersion(ctx)
		require.NoError(t, err)
		assert.Equal(t, latest, v)
		inTx(t, db, func(tx *Tx) {
			perms, err := tx.ListPermissions(ctx)
			require.NoError(t, err)
			assert.Len(t, perms, 15)
			_, err = tx.exec(ctx, "INSERT INTO schema_version (version, applied) VALUES (?, ?)", latest+1, now())
			require.NoError(t, err)
		})

		_, err = Open(ctx, dsn)
		var verr *SchemaVersionError
		require.ErrorAs(t, err, &verr)
		assert.Equal(t, SchemaVersionError{Database: latest + 1, Code: latest}, *verr)
	})
}

func TestMemoryDatabase(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, ":memory:")
	inTx(t, db, func(tx *Tx) {
		_, err := tx.CreateUser(ctx, User{Name: "alice"})
		require.NoError(t, err)
	})
	tx, err := db.BeginRead(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx)
	u, err := tx.GetUserByName(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, "alice", u.Name)
	assert.Equal(t, SQLite, db.Dialect())
}

func TestSavepoints(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openTest(t, dsn)
		inTx(t, db, func(tx *Tx) {
			_, err := tx.CreateUser(ctx, User{Name: "kept"})
			require.NoError(t, err)
			before, err := tx.NewEvent(ctx)
			require.NoError(t, err)

			require.NoError(t, tx.Savepoint(ctx, "multiCall_loop"))
			tx.NextEvent()
			undone, err := tx.NewEvent(ctx)
			require.NoError(t, err)
			assert.Greater(t, undone, before)
			_, err = tx.CreateUser(ctx, User{Name: "undone"})
			require.NoError(t, err)
			require.NoError(t, tx.RollbackToSavepoint(ctx, "multiCall_loop"))

			// The event row created after the savepoint is gone, and so
			// is the transaction's memory of it.
			again, err := tx.NewEvent(ctx)
			require.NoError(t, err)
			assert.Equal(t, before, again)
			_, err = tx.GetEvent(ctx, undone)
			assert.ErrorIs(t, err, ErrNotFound)

			_, err = tx.CreateUser(ctx, User{Name: "after"})
			require.NoError(t, err)
			require.NoError(t, tx.ReleaseSavepoint(ctx, "multiCall_loop"))
			assert.Error(t, tx.ReleaseSavepoint(ctx, "multiCall_loop"))
			assert.Error(t, tx.Savepoint(ctx, "bad name; DROP TABLE users"))
		})
		tx, err := db.BeginRead(ctx)
		require.NoError(t, err)
		defer tx.Rollback(ctx)
		for name, exists := range map[string]bool{"kept": true, "undone": false, "after": true} {
			_, err := tx.GetUserByName(ctx, name)
			if exists {
				assert.NoError(t, err, name)
			} else {
				var nf *NotFoundError
				require.ErrorAs(t, err, &nf, name)
				assert.Equal(t, "undone", nf.Key)
			}
		}
	})
}

func TestCommitHonoursContext(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		db := openTest(t, dsn)
		ctx, cancel := context.WithCancel(context.Background())
		tx, err := db.Begin(ctx)
		require.NoError(t, err)
		_, err = tx.CreateUser(ctx, User{Name: "never"})
		require.NoError(t, err)
		cancel()
		require.ErrorIs(t, tx.Commit(ctx), context.Canceled)

		inTx(t, db, func(tx *Tx) {
			_, err := tx.GetUserByName(context.Background(), "never")
			assert.True(t, errors.Is(err, ErrNotFound), "%v", err)
		})
	})
}

// failing runs fn, which must fail, inside a savepoint and rolls back to it:
// on PostgreSQL a failed statement aborts the transaction otherwise.
func failing(t *testing.T, tx *Tx, fn func() error) error {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, tx.Savepoint(ctx, "expect_failure"))
	err := fn()
	require.Error(t, err)
	require.NoError(t, tx.RollbackToSavepoint(ctx, "expect_failure"))
	require.NoError(t, tx.ReleaseSavepoint(ctx, "expect_failure"))
	return err
}
