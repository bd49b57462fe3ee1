package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"text/template"
)

// migrationFS holds the schema migrations, named NNNN_description.sql and
// applied in version order. Each is a text/template expanded with
// [dialectTypes] so one file serves both databases.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// SchemaVersionError reports a database whose schema is newer than this
// package knows: it was migrated by a newer gokoji and Open refuses it
// rather than risk misreading it.
type SchemaVersionError struct {
	Database int // the version recorded in schema_version
	Code     int // the newest version this package has
}

func (e *SchemaVersionError) Error() string {
	return fmt.Sprintf("store: database schema version %d is newer than this program's %d", e.Database, e.Code)
}

// dialectTypes fills the placeholders of the migration templates.
type dialectTypes struct {
	ID  string // auto-incrementing integer primary key
	TS  string // timestamp with time zone
	Now string // default for timestamp columns
}

func (d Dialect) types() dialectTypes {
	if d == Postgres {
		return dialectTypes{ID: "SERIAL NOT NULL PRIMARY KEY", TS: "TIMESTAMPTZ", Now: "NOW()"}
	}
	// TIMESTAMP makes modernc.org/sqlite parse the column back into a
	// time.Time; the default has the layout the driver writes.
	return dialectTypes{
		ID:  "INTEGER PRIMARY KEY AUTOINCREMENT",
		TS:  "TIMESTAMP",
		Now: "(strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))",
	}
}

type migration struct {
	version int
	name    string
	text    string
}

// migrations returns the embedded migrations in version order.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("store: migration %s: name must start with a version number and _", base)
		}
		text, err := migrationFS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, text: string(text)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("store: migrations %s and %s share a version", ms[i-1].name, ms[i].name)
		}
	}
	return ms, nil
}

// statements expands a migration for the dialect and splits it into
// statements: comment lines are dropped and a statement ends with a
// semicolon at the end of a line.
func (m migration) statements(d Dialect) ([]string, error) {
	tmpl, err := template.New(m.name).Option("missingkey=error").Parse(m.text)
	if err != nil {
		return nil, fmt.Errorf("store: migration %s: %w", m.name, err)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, d.types()); err != nil {
		return nil, fmt.Errorf("store: migration %s: %w", m.name, err)
	}
	var stmts []string
	var cur strings.Builder
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			stmts = append(stmts, strings.TrimSpace(cur.String()))
			cur.Reset()
		}
	}
	if rest := strings.TrimSpace(cur.String()); rest != "" {
		return nil, fmt.Errorf("store: migration %s: statement without a final semicolon", m.name)
	}
	return stmts, nil
}

// migrationLockKey is the PostgreSQL advisory lock that keeps two hub
// processes from migrating the same database at once.
const migrationLockKey = 0x6b6f6a69 // "koji"

// migrate applies, in one transaction, the migrations newer than the
// database's schema_version.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	latest := ms[len(ms)-1].version
	tx, err := db.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if db.dialect == Postgres {
		if _, err := tx.exec(ctx, "SELECT pg_advisory_xact_lock(?)", migrationLockKey); err != nil {
			return fmt.Errorf("store: migration lock: %w", err)
		}
	}
	create := "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL PRIMARY KEY, applied " +
		db.dialect.types().TS + " NOT NULL)"
	if _, err := tx.exec(ctx, create); err != nil {
		return fmt.Errorf("store: schema_version: %w", err)
	}
	var current int
	if err := tx.queryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_version").Scan(&current); err != nil {
		return fmt.Errorf("store: schema_version: %w", err)
	}
	if current > latest {
		return &SchemaVersionError{Database: current, Code: latest}
	}
	// A migration is applied unless recorded, not merely when newer than
	// the newest recorded: one numbered below a migration applied before
	// it existed (developed side by side) still runs, in version order.
	applied := map[int]bool{}
	rows, err := tx.query(ctx, "SELECT version FROM schema_version")
	if err != nil {
		return fmt.Errorf("store: schema_version: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("store: schema_version: %w", err)
		}
		applied[v] = true
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("store: schema_version: %w", err)
	}
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		stmts, err := m.statements(db.dialect)
		if err != nil {
			return err
		}
		for _, s := range stmts {
			if _, err := tx.tx.ExecContext(ctx, s); err != nil {
				return fmt.Errorf("store: migration %s: %w\n%s", m.name, err, s)
			}
		}
		if _, err := tx.exec(ctx, "INSERT INTO schema_version (version, applied) VALUES (?, ?)", m.version, now()); err != nil {
			return fmt.Errorf("store: migration %s: %w", m.name, err)
		}
	}
	return tx.Commit(ctx)
}

// SchemaVersion returns the schema version recorded in the database.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.read.db.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_version").Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("store: schema_version: %w", err)
	}
	return v, nil
}
