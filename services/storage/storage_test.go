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
