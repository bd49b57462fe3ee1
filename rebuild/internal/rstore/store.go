// Package rstore keeps the rebuild service's state: collections, their
// packages, builds, dependency sets and changes, and resolution results,
// in SQLite (modernc.org/sqlite, the default) or PostgreSQL (pgx), with
// the schema in migrations/ templated per dialect as the hub's store does.
//
// Koschei keeps its last-build pointers with database triggers; here the
// store's own write methods keep them (see Tx.refreshLastBuilds), so both
// databases behave alike.
package rstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// Dialect names the database behind a DB.
type Dialect int

// The supported dialects.
const (
	SQLite Dialect = iota
	Postgres
)

// String returns "sqlite" or "postgres".
func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("rstore: not found")

// DB is a handle on the rebuild database, safe for concurrent use.
type DB struct {
	db      *sql.DB
	dialect Dialect
}

//go:embed migrations/*.sql
var migrationFS embed.FS

// Open opens the database named by dsn and applies the migrations it
// lacks. A dsn starting with postgres:// or postgresql:// is PostgreSQL;
// anything else is an SQLite path ("sqlite://" prefix optional, or
// ":memory:").
//
// SQLite gets a single connection: its writers are serialised anyway, and
// one connection keeps an in-memory database whole.
func Open(ctx context.Context, dsn string) (*DB, error) {
	var db *DB
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			return nil, fmt.Errorf("rstore: %w", err)
		}
		db = &DB{db: stdlib.OpenDB(*cfg), dialect: Postgres}
		db.db.SetMaxOpenConns(8)
	} else {
		path := strings.TrimPrefix(dsn, "sqlite://")
		if path == "" {
			return nil, errors.New("rstore: empty SQLite path")
		}
		q := url.Values{}
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "busy_timeout(10000)")
		q.Set("_time_format", "sqlite")
		if path != ":memory:" {
			q.Add("_pragma", "journal_mode(WAL)")
			path = "file:" + path
		}
		sdb, err := sql.Open("sqlite", path+"?"+q.Encode())
		if err != nil {
			return nil, fmt.Errorf("rstore: %w", err)
		}
		sdb.SetMaxOpenConns(1)
		sdb.SetConnMaxLifetime(0)
		sdb.SetConnMaxIdleTime(0)
		db = &DB{db: sdb, dialect: SQLite}
	}
	if err := db.migrate(ctx); err != nil {
		db.db.Close()
		return nil, err
	}
	return db, nil
}

// Close closes the database.
func (db *DB) Close() error { return db.db.Close() }

// Dialect reports the database behind db.
func (db *DB) Dialect() Dialect { return db.dialect }

// Tx is a transaction with the store's methods. Not safe for concurrent
// use.
type Tx struct {
	tx      *sql.Tx
	dialect Dialect
}

// Update runs fn in a read-write transaction, committed when fn returns
// nil and rolled back otherwise.
func (db *DB) Update(ctx context.Context, fn func(tx *Tx) error) error {
	return db.run(ctx, nil, fn)
}

// View runs fn in a read-only transaction.
func (db *DB) View(ctx context.Context, fn func(tx *Tx) error) error {
	return db.run(ctx, &sql.TxOptions{ReadOnly: db.dialect == Postgres}, fn)
}

func (db *DB) run(ctx context.Context, opts *sql.TxOptions, fn func(tx *Tx) error) error {
	t, err := db.db.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("rstore: begin: %w", err)
	}
	done := false
	defer func() {
		if !done { // fn panicked or called runtime.Goexit
			_ = t.Rollback()
		}
	}()
	err = fn(&Tx{tx: t, dialect: db.dialect})
	done = true
	if err != nil {
		return errors.Join(err, ignoreDone(t.Rollback()))
	}
	if err := t.Commit(); err != nil {
		return fmt.Errorf("rstore: commit: %w", err)
	}
	return nil
}

func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

// sql rewrites ? placeholders as $n for PostgreSQL.
func (tx *Tx) sql(q string) string {
	if tx.dialect != Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

func (tx *Tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	r, err := tx.tx.ExecContext(ctx, tx.sql(q), args...)
	if err != nil {
		return nil, fmt.Errorf("rstore: %w", err)
	}
	return r, nil
}

func (tx *Tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	r, err := tx.tx.QueryContext(ctx, tx.sql(q), args...)
	if err != nil {
		return nil, fmt.Errorf("rstore: %w", err)
	}
	return r, nil
}

func (tx *Tx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return tx.tx.QueryRowContext(ctx, tx.sql(q), args...)
}

// insert runs an INSERT and returns the new row's id.
func (tx *Tx) insert(ctx context.Context, q string, args ...any) (int64, error) {
	var id int64
	if err := tx.queryRow(ctx, q+" RETURNING id", args...).Scan(&id); err != nil {
		return 0, fmt.Errorf("rstore: %w", err)
	}
	return id, nil
}

// forUpdate is the row-locking suffix of a SELECT: PostgreSQL locks the
// rows; SQLite's writer lock already covers the whole database.
func (tx *Tx) forUpdate() string {
	if tx.dialect == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// collect reads every row of rows with scan.
func collect[T any](rows *sql.Rows, scan func(*sql.Rows) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("rstore: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rstore: %w", err)
	}
	return out, nil
}

// utc normalises a time for storage: SQLite compares the stored text.
func utc(t time.Time) time.Time { return t.UTC().Round(time.Microsecond) }

func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return utc(*t)
}

func timePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

func boolPtr(b sql.NullBool) *bool {
	if !b.Valid {
		return nil
	}
	return &b.Bool
}

func int64Ptr(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	return &n.Int64
}

func intPtr(n sql.NullInt64) *int {
	if !n.Valid {
		return nil
	}
	v := int(n.Int64)
	return &v
}

// migrate applies the embedded migrations not yet recorded in
// schema_version, in one transaction.
func (db *DB) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	types := map[string]string{"ID": "INTEGER PRIMARY KEY AUTOINCREMENT", "TS": "TIMESTAMP"}
	if db.dialect == Postgres {
		types = map[string]string{"ID": "BIGSERIAL NOT NULL PRIMARY KEY", "TS": "TIMESTAMPTZ"}
	}
	return db.Update(ctx, func(tx *Tx) error {
		if db.dialect == Postgres {
			// Two services opening one database must not both migrate.
			if _, err := tx.exec(ctx, "SELECT pg_advisory_xact_lock(?)", int64(0x72656275)); err != nil {
				return err
			}
		}
		if _, err := tx.exec(ctx, "CREATE TABLE IF NOT EXISTS rebuild_schema_version (version INTEGER NOT NULL PRIMARY KEY)"); err != nil {
			return err
		}
		rows, err := tx.query(ctx, "SELECT version FROM rebuild_schema_version")
		if err != nil {
			return err
		}
		done, err := collect(rows, func(r *sql.Rows) (v int, err error) { return v, r.Scan(&v) })
		if err != nil {
			return err
		}
		for _, name := range names {
			base := strings.TrimPrefix(name, "migrations/")
			num, _, _ := strings.Cut(base, "_")
			v, err := strconv.Atoi(num)
			if err != nil {
				return fmt.Errorf("rstore: migration %s: no version number", base)
			}
			if slices.Contains(done, v) {
				continue
			}
			text, err := migrationFS.ReadFile(name)
			if err != nil {
				return err
			}
			tmpl, err := template.New(base).Option("missingkey=error").Parse(string(text))
			if err != nil {
				return fmt.Errorf("rstore: migration %s: %w", base, err)
			}
			var b strings.Builder
			if err := tmpl.Execute(&b, types); err != nil {
				return fmt.Errorf("rstore: migration %s: %w", base, err)
			}
			for _, stmt := range statements(b.String()) {
				if _, err := tx.tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("rstore: migration %s: %w\n%s", base, err, stmt)
				}
			}
			if _, err := tx.exec(ctx, "INSERT INTO rebuild_schema_version (version) VALUES (?)", v); err != nil {
				return err
			}
		}
		return nil
	})
}

// statements splits a migration into statements, dropping comment lines;
// a statement ends with a semicolon at the end of a line.
func statements(text string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "--") {
			continue
		}
		cur.WriteString(line + "\n")
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		}
	}
	return out
}
