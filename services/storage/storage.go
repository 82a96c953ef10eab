/*
Copyright 2026 The kubesaga Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Package storage opens a participant service's SQLite database (pure Go, WAL),
// applies its embedded migrations, and runs write transactions one writer at a time,
// committing the ones that waited together with one commit (groupcommit.go).
package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/kubesaga/kubesaga/internal/tracing"
)

// pragmas apply to every connection. synchronous(FULL) makes every commit
// durable across power loss, not only across process crashes: an idempotency
// record or tombstone that the caller was told about must never disappear.
// busy_timeout covers other processes that
// open the same file; inside one process writes are serialized by the single
// writer connection, and BEGIN IMMEDIATE takes the write lock up front so that a
// read-then-write transaction can never lose a race it has already started.
const pragmas = "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(ON)"

// readConns is the size of the read pool; WAL lets readers run beside the writer.
const readConns = 4

// DB is a service database: one writer connection and a small read pool.
type DB struct {
	write *sql.DB
	read  *sql.DB
	now   func() time.Time
	name  string // the file's base name, for traces
	// stmts holds the write transactions' statements, prepared once on the writer
	// connection (query text -> *sql.Stmt): SQLite parses a statement on every
	// unprepared use, a sixth of a service's CPU per call. A statement is prepared after
	// the transaction that first used it (the one writer connection is busy during it).
	stmts   sync.Map
	pending sync.Map // query text -> struct{}: used unprepared, to prepare after the transaction

	// The writer goroutine (groupcommit.go) takes requests from queue until closed.
	queue      chan *writeReq
	closed     chan struct{}
	writerDone chan struct{}
	closeOnce  sync.Once
	waiting    atomic.Int32 // writes handed to Write and not yet taken by the writer
	batches    atomic.Int64 // transactions the writer has begun
}

// Open creates the parent directory, opens path and applies the migrations of
// each source in order. The migrations are recorded in schema_migrations, so
// reopening an existing database applies only what is new.
func Open(ctx context.Context, path string, sources ...Migrations) (*DB, error) {
	if path == "" {
		return nil, errors.New("open database: empty path")
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open database %q: path must not contain '?' or '#'", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("open database: create directory: %w", err)
	}
	write, err := sql.Open("sqlite", path+"?"+pragmas+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open database %q: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	db := &DB{write: write, now: func() time.Time { return time.Now().UTC() }, name: filepath.Base(path),
		queue: make(chan *writeReq), closed: make(chan struct{}), writerDone: make(chan struct{})}
	if err := write.PingContext(ctx); err != nil {
		_ = write.Close()
		return nil, fmt.Errorf("open database %q: %w", path, err)
	}
	go db.writer()
	if err := db.migrate(ctx, sources); err != nil {
		db.stopWriter()
		_ = write.Close()
		return nil, fmt.Errorf("migrate database %q: %w", path, err)
	}
	read, err := sql.Open("sqlite", path+"?"+pragmas+"&_pragma=query_only(ON)")
	if err != nil {
		db.stopWriter()
		_ = write.Close()
		return nil, fmt.Errorf("open database %q for reading: %w", path, err)
	}
	read.SetMaxOpenConns(readConns)
	read.SetMaxIdleConns(readConns)
	db.read = read
	return db, nil
}

// Close closes both pools. With WAL, closing the last connection checkpoints the
// log into the main file.
func (db *DB) Close() error {
	db.stopWriter()
	var errs []error
	db.stmts.Range(func(_, st any) bool {
		errs = append(errs, st.(*sql.Stmt).Close())
		return true
	})
	return errors.Join(append(errs, db.read.Close(), db.write.Close())...)
}

// stopWriter stops the writer goroutine once it has answered the batch it runs; later
// writes fail with errClosed.
func (db *DB) stopWriter() {
	db.closeOnce.Do(func() { close(db.closed) })
	<-db.writerDone
}

// prepared returns the statement of query bound to tx when it was prepared, or nil
// after noting query for preparation once tx ends.
func (tx *Tx) prepared(query string) *sql.Stmt {
	if st, ok := tx.db.stmts.Load(query); ok {
		return tx.Tx.StmtContext(tx.ctx, st.(*sql.Stmt))
	}
	tx.db.pending.Store(query, struct{}{})
	return nil
}

// preparePending prepares the statements that transactions used unprepared. A statement
// that fails to prepare stays unprepared (parsed at each use, as before) and is tried
// again after its next use.
func (db *DB) preparePending() {
	db.pending.Range(func(q, _ any) bool {
		db.pending.Delete(q)
		query := q.(string)
		if _, ok := db.stmts.Load(query); ok {
			return true
		}
		if st, err := db.write.PrepareContext(context.Background(), query); err == nil {
			if _, loaded := db.stmts.LoadOrStore(query, st); loaded {
				_ = st.Close()
			}
		}
		return true
	})
}

// Ping checks that the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// Reader is the read pool for queries outside write transactions.
func (db *DB) Reader() *sql.DB { return db.read }

// Tx is a write transaction. It is bound to the context it was begun with, and
// carries the one timestamp used for everything it writes.
type Tx struct {
	*sql.Tx
	db       *DB
	ctx      context.Context
	Now      time.Time
	onCommit []func()
}

// ExecContext, QueryContext and QueryRowContext shadow *sql.Tx's, for code that takes
// a transaction as a plain querier: they are Exec, Query and QueryRow. ctx is not used:
// a statement of a shared transaction runs to its end even when its caller goes away
// (see runBatch), and the transaction's context carries the caller's values.
func (tx *Tx) ExecContext(_ context.Context, query string, args ...any) (sql.Result, error) {
	return tx.Exec(query, args...)
}

// QueryContext is Query; see ExecContext.
func (tx *Tx) QueryContext(_ context.Context, query string, args ...any) (*sql.Rows, error) {
	return tx.Query(query, args...)
}

// QueryRowContext is QueryRow; see ExecContext.
func (tx *Tx) QueryRowContext(_ context.Context, query string, args ...any) *sql.Row {
	return tx.QueryRow(query, args...)
}

// Exec runs a statement in the transaction, prepared once its query has been used.
func (tx *Tx) Exec(query string, args ...any) (sql.Result, error) {
	if st := tx.prepared(query); st != nil {
		return st.ExecContext(tx.ctx, args...)
	}
	return tx.Tx.ExecContext(tx.ctx, query, args...)
}

// QueryRow runs a single-row query in the transaction; see Exec.
func (tx *Tx) QueryRow(query string, args ...any) *sql.Row {
	if st := tx.prepared(query); st != nil {
		return st.QueryRowContext(tx.ctx, args...)
	}
	return tx.Tx.QueryRowContext(tx.ctx, query, args...)
}

// Query runs a query in the transaction; see Exec.
func (tx *Tx) Query(query string, args ...any) (*sql.Rows, error) {
	if st := tx.prepared(query); st != nil {
		return st.QueryContext(tx.ctx, args...)
	}
	return tx.Tx.QueryContext(tx.ctx, query, args...)
}

// OnCommit registers f to run after a successful commit, e.g. to count a
// business event only once it is durable.
func (tx *Tx) OnCommit(f func()) { tx.onCommit = append(tx.onCommit, f) }

// Write runs fn in an IMMEDIATE transaction and returns once that transaction is
// committed (durably) or rolled back. fn may share its transaction and its commit with
// other writers' functions (groupcommit.go), each in its own savepoint: an error from
// fn undoes fn's writes only, and fn sees what the functions run before it in the same
// transaction wrote, exactly as if they had committed just before. Business refusals
// are not errors: fn records them (event, idempotency record) and returns nil so that
// they commit too. fn runs on the writer's goroutine and must not call Write. With
// tracing on, the transaction is a span (waiting for the writer included) under the
// request's.
func (db *DB) Write(ctx context.Context, fn func(*Tx) error) (err error) {
	ctx, span := tracing.StartSQLiteTx(ctx, db.name)
	defer func() { tracing.End(span, err) }()
	r := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	db.waiting.Add(1)
	select {
	case db.queue <- r:
	case <-db.closed:
		r.done <- fmt.Errorf("write: %w", errClosed)
	case <-ctx.Done():
		r.done <- fmt.Errorf("begin transaction: %w", ctx.Err())
	}
	db.waiting.Add(-1)
	if err := <-r.done; err != nil {
		if r.panicked != nil {
			panic(r.panicked)
		}
		return err
	}
	for _, f := range r.tx.onCommit {
		f()
	}
	return nil
}

// timeLayout is fixed-width so that stored timestamps sort as text.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// FormatTime renders t for storage (UTC, nanoseconds, fixed width).
func FormatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// ParseTime reads a stored timestamp.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse stored time %q: %w", s, err)
	}
	return t, nil
}
