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

package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime/debug"
)

// Group commit: the one writer goroutine runs the write transactions that are waiting
// when it is free as one SQLite transaction, each inside its own savepoint, and commits
// them with one fsync. A commit (the WAL frames and the fsync that synchronous=FULL
// asks for) costs more CPU than a participant call's statements, so under concurrent
// calls a service spends most of its write CPU on commits; with group commit it spends
// it once per batch. Each caller still learns of its success only after the commit is
// durable, and one caller's error rolls back its own savepoint only.

// maxBatch bounds how many transactions share one commit, and so how long the first of
// them waits for the others to run.
const maxBatch = 32

// errClosed answers a write that arrives after Close.
var errClosed = errors.New("database is closed")

// writeReq is one caller's transaction, waiting for the writer.
type writeReq struct {
	ctx  context.Context
	fn   func(*Tx) error
	tx   *Tx
	err  error // the answer, sent on done once the whole batch has ended
	done chan error
	// panicked is what fn panicked with, if it did: Write panics with it on the caller's
	// goroutine, where the service's recoverer answers 500, as when fn ran there.
	panicked *writePanic
}

// writePanic is a write function's panic, carried from the writer to its caller.
type writePanic struct {
	value any
	stack []byte
}

func (p *writePanic) Error() string {
	return fmt.Sprintf("panic in a write transaction: %v\n\n%s", p.value, p.stack)
}

// run calls r's function; a panic becomes an error, so that the batch rolls back r's
// writes only and the writer goes on.
func (r *writeReq) run() (err error) {
	defer func() {
		if v := recover(); v != nil {
			r.panicked = &writePanic{value: v, stack: debug.Stack()}
			err = r.panicked
		}
	}()
	return r.fn(r.tx)
}

// writer runs write transactions until Close: it takes one request, then every request
// already waiting (up to maxBatch), and runs them in one transaction.
func (db *DB) writer() {
	defer close(db.writerDone)
	for {
		var batch []*writeReq
		select {
		case r := <-db.queue:
			batch = append(batch, r)
		case <-db.closed:
			return
		}
	drain:
		for len(batch) < maxBatch {
			select {
			case r := <-db.queue:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		db.runBatch(batch)
	}
}

// runBatch runs batch in one IMMEDIATE transaction and answers every request, after
// preparing the statements it used unprepared (the writer connection is free again by
// then). A request whose context ended while it waited is answered with that error and
// not run.
func (db *DB) runBatch(batch []*writeReq) {
	db.batches.Add(1)
	defer func() {
		db.preparePending()
		for _, r := range batch {
			r.done <- r.err
		}
	}()
	sqlTx, err := db.write.BeginTx(context.Background(), nil)
	if err != nil {
		answer(batch, fmt.Errorf("begin transaction: %w", err))
		return
	}
	single := len(batch) == 1
	var ok []*writeReq
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err = fmt.Errorf("begin transaction: %w", err) // as when it ends before the writer takes it
			continue
		}
		// The statements of a batch must not be interrupted by one caller going away:
		// SQLite rolls the whole transaction back when a write statement is interrupted.
		r.tx = &Tx{Tx: sqlTx, db: db, ctx: context.WithoutCancel(r.ctx), Now: db.now()}
		if single {
			err = r.run()
		} else {
			err = inSavepoint(sqlTx, r)
		}
		if err == nil {
			ok = append(ok, r)
			continue
		}
		var lost *batchLost
		if single || errors.As(err, &lost) {
			// The transaction is gone: SQLite rolled it back (I/O error, disk full), or
			// it was the only one. Nothing of this batch is written.
			if rbErr := sqlTx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
				err = errors.Join(err, fmt.Errorf("rollback: %w", rbErr))
			}
			r.err = err
			answer(ok, fmt.Errorf("transaction rolled back with another in its commit: %w", err))
			answer(batch[i+1:], fmt.Errorf("transaction not run: another in its commit failed: %w", err))
			return
		}
		r.err = err
	}
	if err := sqlTx.Commit(); err != nil {
		answer(ok, fmt.Errorf("commit transaction: %w", err))
		return
	}
	answer(ok, nil)
}

// batchLost is a savepoint that could not be rolled back or released: the enclosing
// transaction no longer holds what the batch wrote.
type batchLost struct{ err error }

func (e *batchLost) Error() string { return e.err.Error() }
func (e *batchLost) Unwrap() error { return e.err }

// inSavepoint runs r's function inside a savepoint of the batch's transaction, and rolls
// back to it when the function fails, so that the others in the batch keep their writes.
func inSavepoint(sqlTx *sql.Tx, r *writeReq) error {
	ctx := context.Background()
	if _, err := sqlTx.ExecContext(ctx, "SAVEPOINT w"); err != nil {
		return &batchLost{fmt.Errorf("savepoint: %w", err)}
	}
	if err := r.run(); err != nil {
		if _, rbErr := sqlTx.ExecContext(ctx, "ROLLBACK TO w"); rbErr != nil {
			return &batchLost{errors.Join(err, fmt.Errorf("rollback to savepoint: %w", rbErr))}
		}
		if _, relErr := sqlTx.ExecContext(ctx, "RELEASE w"); relErr != nil {
			return &batchLost{errors.Join(err, fmt.Errorf("release savepoint: %w", relErr))}
		}
		return err
	}
	if _, err := sqlTx.ExecContext(ctx, "RELEASE w"); err != nil {
		return &batchLost{fmt.Errorf("release savepoint: %w", err)}
	}
	return nil
}

// answer tells every request of reqs that its transaction ended with err.
func answer(reqs []*writeReq, err error) {
	for _, r := range reqs {
		r.err = err
	}
}
