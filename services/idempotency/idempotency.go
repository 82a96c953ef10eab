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

// Package idempotency stores, inside the caller's write transaction, the first
// answer of each idempotent call (to replay it) and the tombstones left by undos
// (to refuse a do that arrives after its undo).
//
// Because the record, the tombstone and the business change commit in the same
// SQLite transaction, a crash can never leave a change without its record or a
// record without its change, and both survive restarts.
package idempotency

import (
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"

	"github.com/kubesaga/kubesaga/services/storage"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations creates the idempotency_records and tombstones tables.
var Migrations = storage.Migrations{Source: "idempotency", FS: mustSub(migrationFS, "migrations")}

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

// Record is a stored first answer.
type Record struct {
	RequestHash string
	Status      int
	Body        []byte
}

// Hash returns the sha256 of the canonical JSON encoding of a validated request.
// Hashing the decoded value rather than the raw bytes means that whitespace or
// key order do not make a repeat look like a different request.
func Hash(request any) (string, error) {
	b, err := json.Marshal(request)
	if err != nil {
		return "", fmt.Errorf("hash request: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// Lookup returns the record stored for (scope, key), if any.
func Lookup(tx *storage.Tx, scope, key string) (Record, bool, error) {
	var r Record
	err := tx.QueryRow(`SELECT request_hash, status, body FROM idempotency_records WHERE scope = ? AND key = ?`,
		scope, key).Scan(&r.RequestHash, &r.Status, &r.Body)
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, false, nil
	}
	if err != nil {
		return Record{}, false, fmt.Errorf("look up idempotency record %s/%s: %w", scope, key, err)
	}
	return r, true, nil
}

// Save stores the first answer for (scope, key). Saving twice is an error: the
// caller must Lookup first, in the same transaction.
func Save(tx *storage.Tx, scope, key string, r Record) error {
	if _, err := tx.Exec(`INSERT INTO idempotency_records (scope, key, request_hash, status, body, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		scope, key, r.RequestHash, r.Status, r.Body, storage.FormatTime(tx.Now)); err != nil {
		return fmt.Errorf("save idempotency record %s/%s: %w", scope, key, err)
	}
	return nil
}

// Tombstoned reports whether an undo already ran for (scope, key).
func Tombstoned(tx *storage.Tx, scope, key string) (bool, error) {
	var n int
	if err := tx.QueryRow(`SELECT COUNT(*) FROM tombstones WHERE scope = ? AND key = ?`, scope, key).Scan(&n); err != nil {
		return false, fmt.Errorf("look up tombstone %s/%s: %w", scope, key, err)
	}
	return n > 0, nil
}

// Bury leaves a tombstone for (scope, key); burying twice keeps the first one.
func Bury(tx *storage.Tx, scope, key string) error {
	if _, err := tx.Exec(`INSERT OR IGNORE INTO tombstones (scope, key, created_at) VALUES (?, ?, ?)`,
		scope, key, storage.FormatTime(tx.Now)); err != nil {
		return fmt.Errorf("bury %s/%s: %w", scope, key, err)
	}
	return nil
}

// State is what Begin found for an idempotent call.
type State int

// States of an idempotent call, in the order Begin checks them.
const (
	Fresh       State = iota // never seen: do the work, then Save the answer
	Compensated              // its undo already ran: refuse with already-compensated
	Mismatch                 // seen with a different request: refuse with idempotency-mismatch
	Replay                   // seen with the same request: answer the stored Record
)

// Begin classifies a call before any work is done. The tombstone is checked
// first, so that a do after its undo is refused even if it was once answered:
// replaying "201 reserved" for a reservation that was released would lie.
func Begin(tx *storage.Tx, scope, key, requestHash string) (State, Record, error) {
	dead, err := Tombstoned(tx, scope, key)
	if err != nil {
		return 0, Record{}, err
	}
	if dead {
		return Compensated, Record{}, nil
	}
	rec, found, err := Lookup(tx, scope, key)
	if err != nil {
		return 0, Record{}, err
	}
	switch {
	case !found:
		return Fresh, Record{}, nil
	case rec.RequestHash != requestHash:
		return Mismatch, rec, nil
	default:
		return Replay, rec, nil
	}
}
