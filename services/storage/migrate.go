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
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migrations is one source of schema changes: files named NNN_description.sql
// at the root of FS, applied in numeric order, each once. Source names the owner
// (a package or a service) so that several sources can share one database.
type Migrations struct {
	Source string
	FS     fs.FS
}

type migration struct {
	version int
	name    string
	sql     string
}

func (m Migrations) list() ([]migration, error) {
	entries, err := fs.ReadDir(m.FS, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations of %s: %w", m.Source, err)
	}
	var out []migration
	seen := map[int]string{}
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".sql" {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s/%s: name must start with a positive number and '_'", m.Source, e.Name())
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s/%s and %s share version %d", m.Source, prev, e.Name(), v)
		}
		seen[v] = e.Name()
		b, err := fs.ReadFile(m.FS, e.Name())
		if err != nil {
			return nil, fmt.Errorf("read migration %s/%s: %w", m.Source, e.Name(), err)
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// migrate applies every pending migration, each in its own transaction together
// with its schema_migrations row, so a crash never leaves one half applied.
func (db *DB) migrate(ctx context.Context, sources []Migrations) error {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		source     TEXT    NOT NULL,
		version    INTEGER NOT NULL,
		name       TEXT    NOT NULL,
		applied_at TEXT    NOT NULL,
		PRIMARY KEY (source, version)
	) WITHOUT ROWID`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for _, src := range sources {
		list, err := src.list()
		if err != nil {
			return err
		}
		for _, m := range list {
			err := db.Write(ctx, func(tx *Tx) error {
				var n int
				if err := tx.QueryRow(`SELECT COUNT(*) FROM schema_migrations WHERE source = ? AND version = ?`,
					src.Source, m.version).Scan(&n); err != nil {
					return err
				}
				if n > 0 {
					return nil
				}
				if _, err := tx.Exec(m.sql); err != nil {
					return err
				}
				_, err := tx.Exec(`INSERT INTO schema_migrations (source, version, name, applied_at) VALUES (?, ?, ?, ?)`,
					src.Source, m.version, m.name, FormatTime(tx.Now))
				return err
			})
			if err != nil {
				return fmt.Errorf("apply %s/%s: %w", src.Source, m.name, err)
			}
		}
	}
	return nil
}
