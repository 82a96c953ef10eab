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
	"path/filepath"
	"sync"
	"testing"
	"testing/fstest"
)

func testMigrations() Migrations {
	return Migrations{Source: "test", FS: fstest.MapFS{
		"001_counter.sql": {Data: []byte(`CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL CHECK (n >= 0));
INSERT INTO counter (id, n) VALUES (1, 0);`)},
		"002_note.sql": {Data: []byte(`CREATE TABLE note (t TEXT);`)},
		"README.md":    {Data: []byte("ignored")},
	}}
}

func TestOpenMigratesOnceAndCreatesDirectory(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nested", "dir", "db.sqlite")
	for i := 0; i < 2; i++ { // the second open must not re-apply (the INSERT would fail the PK)
		db, err := Open(ctx, path, testMigrations())
		if err != nil {
			t.Fatalf("open #%d: %v", i, err)
		}
		var n int
		if err := db.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n != 2 {
			t.Fatalf("schema_migrations = %d, %v", n, err)
		}
		var mode string
		if err := db.Reader().QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
			t.Fatalf("journal_mode = %q, %v", mode, err)
		}
		if err := db.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenRejectsBadMigrations(t *testing.T) {
	bad := Migrations{Source: "bad", FS: fstest.MapFS{"x.sql": {Data: []byte("SELECT 1")}}}
	if _, err := Open(context.Background(), filepath.Join(t.TempDir(), "db"), bad); err == nil {
		t.Fatal("want error for unnumbered migration")
	}
	broken := Migrations{Source: "broken", FS: fstest.MapFS{"001_x.sql": {Data: []byte("CREATE TABLE (")}}}
	if _, err := Open(context.Background(), filepath.Join(t.TempDir(), "db"), broken); err == nil {
		t.Fatal("want error for invalid SQL")
	}
	if _, err := Open(context.Background(), "a?b"); err == nil {
		t.Fatal("want error for '?' in path")
	}
}

func TestWriteRollsBackOnErrorAndRunsOnCommit(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "db"), testMigrations())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	boom := errors.New("boom")
	committed := false
	err = db.Write(ctx, func(tx *Tx) error {
		tx.OnCommit(func() { committed = true })
		if _, err := tx.Exec(`UPDATE counter SET n = 5`); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) || committed {
		t.Fatalf("err = %v, committed = %v", err, committed)
	}
	var n int
	_ = db.Reader().QueryRowContext(ctx, `SELECT n FROM counter`).Scan(&n)
	if n != 0 {
		t.Fatalf("rolled back write is visible: n = %d", n)
	}
	if err := db.Write(ctx, func(tx *Tx) error {
		tx.OnCommit(func() { committed = true })
		_, err := tx.Exec(`UPDATE counter SET n = 5`)
		return err
	}); err != nil || !committed {
		t.Fatalf("err = %v, committed = %v", err, committed)
	}
}

// TestConcurrentReadModifyWrite shows why writes are serialized: 50 goroutines
// each read the counter and write it back +1; no increment may be lost.
func TestConcurrentReadModifyWrite(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "db"), testMigrations())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := db.Write(ctx, func(tx *Tx) error {
				var n int
				if err := tx.QueryRow(`SELECT n FROM counter`).Scan(&n); err != nil {
					return err
				}
				_, err := tx.Exec(`UPDATE counter SET n = ?`, n+1)
				return err
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var n int
	_ = db.Reader().QueryRowContext(ctx, `SELECT n FROM counter`).Scan(&n)
	if n != 50 {
		t.Fatalf("n = %d, want 50", n)
	}
}

// TestStatementsArePreparedOnceAndReused shows that a write transaction's statement is
// parsed at its first use only: it is prepared on the writer connection after that
// transaction, and later transactions (committed or rolled back) run it prepared, with
// the same results as unprepared.
func TestStatementsArePreparedOnceAndReused(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "db"), testMigrations())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const inc, read = `UPDATE counter SET n = n + ?`, `SELECT n FROM counter`
	prepared := func(q string) bool { _, ok := db.stmts.Load(q); return ok }
	step := func(by int) (n int) {
		t.Helper()
		if err := db.Write(ctx, func(tx *Tx) error {
			if _, err := tx.Exec(inc, by); err != nil {
				return err
			}
			rows, err := tx.Query(read)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				if err := rows.Scan(&n); err != nil {
					return err
				}
			}
			return rows.Err()
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if prepared(inc) || prepared(read) {
		t.Fatal("prepared before any use")
	}
	if n := step(2); n != 2 {
		t.Fatalf("n = %d after the unprepared first use", n)
	}
	if !prepared(inc) || !prepared(read) {
		t.Fatal("not prepared after the first transaction")
	}
	boom := errors.New("boom")
	if err := db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(inc, 100); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	for want := 5; want <= 11; want += 3 {
		if n := step(3); n != want {
			t.Fatalf("n = %d, want %d: a prepared statement ran in the wrong transaction", n, want)
		}
	}
	var n int
	if err := db.write.QueryRowContext(ctx, read).Scan(&n); err != nil || n != 11 {
		t.Fatalf("n = %d (%v): the writer connection is not free after the transactions", n, err)
	}
}
