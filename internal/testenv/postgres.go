package testenv

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// localPostgres is tried when GOKOJI_TEST_POSTGRES is unset outside CI.
const localPostgres = "postgres:///test?host=/var/run/postgresql&user=postgres&sslmode=disable"

// PostgresBase returns the test database's DSN, GOKOJI_TEST_POSTGRES (or,
// outside CI, the local server's socket), once PostgreSQL answers there,
// or why it cannot be used.
func PostgresBase() (string, error) {
	base := os.Getenv("GOKOJI_TEST_POSTGRES")
	if base == "" {
		if InCI() {
			return "", errors.New("GOKOJI_TEST_POSTGRES is not set (.ci/run sets it)")
		}
		base = localPostgres
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", err
	}
	defer admin.Close()
	if err := admin.Ping(); err != nil {
		return "", fmt.Errorf("PostgreSQL at %s: %v", base, err)
	}
	return base, nil
}

// PostgresSchema creates a schema of its own in the database at base,
// dropped when the test ends, and returns base's DSN with its search_path
// pointing at it, so that tests (and several hub processes in one test)
// share nothing with other tests.
func PostgresSchema(t testing.TB, base string) string {
	t.Helper()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var b [8]byte
	_, _ = rand.Read(b[:])
	schema := "test_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			t.Error(err)
			return
		}
		defer admin.Close()
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

// PostgresDSN is PostgresSchema on PostgresBase, stopping the test as
// Unavailable when PostgreSQL cannot be used.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base, err := PostgresBase()
	if err != nil {
		Unavailable(t, "%v", err)
	}
	return PostgresSchema(t, base)
}
