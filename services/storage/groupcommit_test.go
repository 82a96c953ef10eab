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
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func openTest(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "db")
	db, err := Open(context.Background(), path, testMigrations())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db, path
}

func notes(t *testing.T, db *DB) []string {
	t.Helper()
	rows, err := db.Reader().QueryContext(context.Background(), `SELECT t FROM note ORDER BY t`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func addNote(text string) func(*Tx) error {
	return func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO note (t) VALUES (?)`, text)
		return err
	}
}

// TestWritesWaitingShareOneCommit: while one transaction holds the writer, the writes
// that arrive wait, then run together in one transaction. One of them fails, and only
// its own writes are undone; one had a context that ended while it waited, and it is not
// run at all; every other one is committed, each read-modify-write seeing the ones
// before it.
func TestWritesWaitingShareOneCommit(t *testing.T) {
	ctx := context.Background()
	db, path := openTest(t)
	release, running := make(chan struct{}), make(chan struct{})
	held := make(chan error, 1)
	go func() {
		held <- db.Write(ctx, func(tx *Tx) error {
			close(running)
			<-release
			return addNote("a-first")(tx)
		})
	}()
	<-running
	batches := db.batches.Load()

	const n = 20
	boom := errors.New("boom")
	gone, cancel := context.WithCancel(ctx)
	errs := make([]error, n)
	committed := make([]bool, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := ctx
			if i == 7 {
				c = gone
			}
			errs[i] = db.Write(c, func(tx *Tx) error {
				tx.OnCommit(func() { committed[i] = true })
				var k int
				if err := tx.QueryRow(`SELECT n FROM counter`).Scan(&k); err != nil {
					return err
				}
				if _, err := tx.Exec(`UPDATE counter SET n = ?`, k+1); err != nil {
					return err
				}
				if err := addNote(fmt.Sprintf("b-%02d", i))(tx); err != nil {
					return err
				}
				if i == 3 {
					return boom
				}
				return nil
			})
		}()
	}
	for db.waiting.Load() != n {
		time.Sleep(time.Millisecond)
	}
	cancel()
	for db.waiting.Load() != n-1 { // the cancelled one gave up waiting
		time.Sleep(time.Millisecond)
	}
	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if got := db.batches.Load() - batches; got != 1 {
		t.Fatalf("the waiting writes ran in %d transactions, want 1", got)
	}

	var want []string
	for i := range n {
		switch i {
		case 3:
			if !errors.Is(errs[i], boom) || committed[i] {
				t.Errorf("write %d: err %v, committed %v; want boom, not committed", i, errs[i], committed[i])
			}
		case 7:
			if !errors.Is(errs[i], context.Canceled) || committed[i] {
				t.Errorf("write %d: err %v, committed %v; want context.Canceled, not committed", i, errs[i], committed[i])
			}
		default:
			if errs[i] != nil || !committed[i] {
				t.Errorf("write %d: err %v, committed %v; want committed", i, errs[i], committed[i])
			}
			want = append(want, fmt.Sprintf("b-%02d", i))
		}
	}
	want = append([]string{"a-first"}, want...)
	if got := notes(t, db); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("notes %v, want %v", got, want)
	}
	var k int
	_ = db.Reader().QueryRowContext(ctx, `SELECT n FROM counter`).Scan(&k)
	if k != n-2 {
		t.Fatalf("counter %d, want %d: an increment was lost or a failed one kept", k, n-2)
	}

	// What the callers were told is on disk: reopen the file.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(ctx, path, testMigrations())
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if got := notes(t, again); len(got) != len(want) {
		t.Fatalf("after reopening: notes %v, want %v", got, want)
	}
}

// TestBatchLostFailsEveryOne: when the shared transaction itself is gone (here ended by
// one of the functions, as SQLite ends it on an I/O error), no caller is told that its
// write committed, and nothing of the batch is on disk.
func TestBatchLostFailsEveryOne(t *testing.T) {
	db, _ := openTest(t)
	mk := func(fn func(*Tx) error) *writeReq {
		return &writeReq{ctx: context.Background(), fn: fn, done: make(chan error, 1)}
	}
	before, breaker, after := mk(addNote("before")), mk(func(tx *Tx) error {
		_, err := tx.Exec(`ROLLBACK`)
		return err
	}), mk(addNote("after"))
	db.runBatch([]*writeReq{before, breaker, after})
	for name, r := range map[string]*writeReq{"before": before, "breaker": breaker, "after": after} {
		if err := <-r.done; err == nil {
			t.Errorf("%s: told it committed", name)
		}
	}
	if got := notes(t, db); len(got) != 0 {
		t.Fatalf("notes %v, want none", got)
	}
	if err := db.Write(context.Background(), addNote("next")); err != nil {
		t.Fatalf("the writer does not recover: %v", err)
	}
}

// TestWriteAfterClose fails with a clear error instead of hanging.
func TestWriteAfterClose(t *testing.T) {
	db, _ := openTest(t)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Write(context.Background(), addNote("late")); !errors.Is(err, errClosed) {
		t.Fatalf("err = %v, want errClosed", err)
	}
}

// TestPanicInABatch: a function that panics loses its own writes only, the others in its
// transaction commit, the writer goes on, and the panic reaches the caller's goroutine
// (where a service's recoverer answers 500).
func TestPanicInABatch(t *testing.T) {
	db, _ := openTest(t)
	mk := func(fn func(*Tx) error) *writeReq {
		return &writeReq{ctx: context.Background(), fn: fn, done: make(chan error, 1)}
	}
	first, bad, last := mk(addNote("first")), mk(func(tx *Tx) error {
		if err := addNote("bad")(tx); err != nil {
			return err
		}
		panic("handler bug")
	}), mk(addNote("last"))
	db.runBatch([]*writeReq{first, bad, last})
	if err := <-first.done; err != nil {
		t.Fatalf("first: %v", err)
	}
	if err := <-last.done; err != nil {
		t.Fatalf("last: %v", err)
	}
	if err := <-bad.done; err == nil || bad.panicked == nil || bad.panicked.value != "handler bug" {
		t.Fatalf("bad: err %v, panicked %+v", err, bad.panicked)
	}
	if got := notes(t, db); strings.Join(got, ",") != "first,last" {
		t.Fatalf("notes %v, want [first last]", got)
	}

	var got any
	func() {
		defer func() { got = recover() }()
		_ = db.Write(context.Background(), func(*Tx) error { panic("handler bug") })
	}()
	if p, ok := got.(*writePanic); !ok || p.value != "handler bug" || !strings.Contains(p.Error(), "groupcommit_test.go") {
		t.Fatalf("Write's caller got %v, want the panic with its stack", got)
	}
	if err := db.Write(context.Background(), addNote("after")); err != nil {
		t.Fatalf("the writer does not go on after a panic: %v", err)
	}
}
