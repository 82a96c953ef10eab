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

package idempotency

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/kubesaga/kubesaga/services/storage"
)

func TestRecordsAndTombstonesSurviveReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db")
	db, err := storage.Open(ctx, path, Migrations)
	if err != nil {
		t.Fatal(err)
	}
	h1, _ := Hash(map[string]int{"a": 1})
	h2, _ := Hash(map[string]int{"a": 2})
	if h1 == h2 {
		t.Fatal("different requests hash alike")
	}
	err = db.Write(ctx, func(tx *storage.Tx) error {
		if err := Save(tx, "s", "k", Record{RequestHash: h1, Status: 201, Body: []byte(`{"x":1}`)}); err != nil {
			return err
		}
		if err := Bury(tx, "s", "dead"); err != nil {
			return err
		}
		return Bury(tx, "s", "dead") // twice is fine
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = storage.Open(ctx, path, Migrations)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Write(ctx, func(tx *storage.Tx) error {
		r, ok, err := Lookup(tx, "s", "k")
		if err != nil || !ok || r.Status != 201 || string(r.Body) != `{"x":1}` || r.RequestHash != h1 {
			t.Errorf("Lookup = %+v, %v, %v", r, ok, err)
		}
		if _, ok, _ := Lookup(tx, "other", "k"); ok {
			t.Error("scopes must not share keys")
		}
		if dead, err := Tombstoned(tx, "s", "dead"); err != nil || !dead {
			t.Errorf("Tombstoned = %v, %v", dead, err)
		}
		if dead, _ := Tombstoned(tx, "s", "k"); dead {
			t.Error("k is not tombstoned")
		}
		if err := Save(tx, "s", "k", Record{RequestHash: h2, Status: 200, Body: []byte("{}")}); err == nil {
			t.Error("a second Save for the same key must fail")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
