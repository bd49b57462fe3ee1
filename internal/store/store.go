// Package store keeps an embedded Koji hub's state in a SQL database:
// SQLite (modernc.org/sqlite, pure Go) as the embedded default and
// PostgreSQL (github.com/jackc/pgx/v5) for hubs that need several processes
// sharing one database.
//
// The schema follows upstream Koji's schemas/schema.sql table and column
// names, and a new database starts with exactly the rows upstream's schema
// creates, so ids (permissions, channels, volume, build and archive types)
// match an upstream hub created the same way. Versioned tables carry
// create_event, revoke_event, creator_id, revoker_id and active as upstream
// does; see eventCondition in users.go.
//
// Work happens in transactions: [DB.Begin] returns a [Tx] whose methods are
// typed repositories (users, permissions, sessions, hosts, channels, tasks).
// Queries are written once with ? placeholders; the dialect rewrites them for
// PostgreSQL.
//
// # Connections
//
// PostgreSQL uses database/sql over pgx's stdlib driver; pgx prepares and
// caches every statement per connection, so repeated queries skip parsing.
//
// SQLite allows one writer at a time. Rather than letting concurrent writers
// collide on the database lock (SQLITE_BUSY), the store serialises them: it
// opens the file twice, a writer pool of exactly one connection whose
// transactions begin IMMEDIATE, and a reader pool of several query-only
// connections. [DB.Begin] transactions run on the writer (so they queue in Go
// rather than failing in SQLite); [DB.BeginRead] transactions run on the
// readers and, thanks to WAL, see the last committed state without waiting
// for the writer. Every connection has foreign keys on and a busy timeout,
// which only matters when another process writes the same file. Prepared
// statements are not cached across transactions (a pool of one connection
// cannot prepare while its connection runs a transaction); SQLite's prepare
// costs microseconds. An in-memory database (":memory:") exists
// per connection, so it uses the single writer connection for reads too.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Dialect names the SQL database behind a [DB].
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

// busyTimeout is how long an SQLite connection waits for a lock held by
// another process before failing with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// DB is a handle on the hub's database. It is safe for concurrent use.
type DB struct {
	dialect Dialect
	write   *pool // Begin: the single SQLite writer, or the PostgreSQL pool
	read    *pool // BeginRead: SQLite's reader pool, or the same as write
}

// pool is one *sql.DB with the statements prepared on it.
type pool struct {
	db      *sql.DB
	dialect Dialect
	rebound sync.Map // query as written -> query rebound for PostgreSQL
}

// Open opens the database named by dsn and brings its schema up to date.
//
// A dsn starting with "postgres://" or "postgresql://" is passed to pgx
// (libpq-style parameters such as sslmode and search_path work). Anything
// else is SQLite: "sqlite:///abs/path/hub.db", "sqlite://rel/path.db", a
// plain file path, or ":memory:" for a private in-memory database.
//
// Open applies the embedded migrations the database lacks, in one
// transaction; it fails with a [*SchemaVersionError] if the database was
// written by a newer version of this package.
func Open(ctx context.Context, dsn string) (*DB, error) {
	var (
		db  *DB
		err error
	)
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		db, err = openPostgres(dsn)
	default:
		db, err = openSQLite(strings.TrimPrefix(dsn, "sqlite://"))
	}
	if err != nil {
		return nil, err
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func openPostgres(dsn string) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	sqldb := stdlib.OpenDB(*cfg)
	n := 4 * runtime.GOMAXPROCS(0)
	sqldb.SetMaxOpenConns(n)
	sqldb.SetMaxIdleConns(n)
	p := &pool{db: sqldb, dialect: Postgres}
	return &DB{dialect: Postgres, write: p, read: p}, nil
}

func openSQLite(path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("store: empty SQLite path")
	}
	pragmas := url.Values{}
	pragmas.Add("_pragma", "foreign_keys(1)")
	pragmas.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	pragmas.Set("_time_format", "sqlite")
	if path == ":memory:" {
		w, err := sqliteDB(":memory:?"+pragmas.Encode(), 1)
		if err != nil {
			return nil, err
		}
		return &DB{dialect: SQLite, write: w, read: w}, nil
	}
	pragmas.Add("_pragma", "journal_mode(WAL)")
	pragmas.Add("_pragma", "synchronous(NORMAL)")
	wq := url.Values{}
	for k, v := range pragmas {
		wq[k] = v
	}
	wq.Set("_txlock", "immediate")
	// The writer opens first: it creates the file and switches it to WAL
	// before any query-only reader connects.
	w, err := sqliteDB("file:"+path+"?"+wq.Encode(), 1)
	if err != nil {
		return nil, err
	}
	if err := w.db.Ping(); err != nil {
		w.db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	rq := url.Values{}
	for k, v := range pragmas {
		rq[k] = v
	}
	rq.Add("_pragma", "query_only(1)")
	r, err := sqliteDB("file:"+path+"?"+rq.Encode(), max(4, runtime.GOMAXPROCS(0)))
	if err != nil {
		w.db.Close()
		return nil, err
	}
	return &DB{dialect: SQLite, write: w, read: r}, nil
}

func sqliteDB(dsn string, conns int) (*pool, error) {
	connector, err := newStmtCacheConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	sqldb := sql.OpenDB(connector)
	sqldb.SetMaxOpenConns(conns)
	sqldb.SetMaxIdleConns(conns)
	sqldb.SetConnMaxLifetime(0)
	sqldb.SetConnMaxIdleTime(0)
	return &pool{db: sqldb, dialect: SQLite}, nil
}

// Dialect reports which database the handle talks to.
func (db *DB) Dialect() Dialect { return db.dialect }

// Close closes the database's connections.
func (db *DB) Close() error {
	err := db.write.db.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.db.Close())
	}
	return err
}

// Begin starts a read-write transaction. On SQLite it waits (honouring ctx)
// until the single writer connection is free.
func (db *DB) Begin(ctx context.Context) (*Tx, error) {
	return db.begin(ctx, db.write, nil)
}

// BeginRead starts a read-only transaction. On SQLite it runs on the reader
// pool, concurrently with the writer and other readers.
func (db *DB) BeginRead(ctx context.Context) (*Tx, error) {
	return db.begin(ctx, db.read, &sql.TxOptions{ReadOnly: true})
}

func (db *DB) begin(ctx context.Context, p *pool, opts *sql.TxOptions) (*Tx, error) {
	tx, err := p.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("store: begin: %w", err)
	}
	return &Tx{pool: p, tx: tx, readOnly: opts != nil && opts.ReadOnly}, nil
}

// BeginStatements returns a Tx for work that only reads, without a
// transaction: each statement runs on its own, on one connection of the
// reader pool (SQLite) or the pool (PostgreSQL). That spares the BEGIN and
// COMMIT of a transaction, two of the three round trips of a one-row read
// on PostgreSQL; under PostgreSQL's default READ COMMITTED isolation each
// statement of a transaction sees the data committed when it starts
// anyway. A write is refused before it runs, with an error, and counted
// by [Tx.Writes]: the caller then runs its work again in a transaction of
// [DB.Begin]. Savepoints do nothing; Commit and Rollback release the
// connection.
func (db *DB) BeginStatements(ctx context.Context) (*Tx, error) {
	conn, err := db.read.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: begin: %w", err)
	}
	return &Tx{pool: db.read, conn: conn, readOnly: true}, nil
}

// sql returns query rewritten for the dialect, cached. Queries use ?
// placeholders and must not contain a literal question mark.
func (p *pool) sql(query string) string {
	if p.dialect != Postgres {
		return query
	}
	if v, ok := p.rebound.Load(query); ok {
		return v.(string)
	}
	q := rebind(query)
	p.rebound.Store(query, q)
	return q
}

// rebind turns ? placeholders into PostgreSQL's $1, $2, ….
func rebind(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// placeholders returns "?, ?, …" with n marks, for IN lists.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
