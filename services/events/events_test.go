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

package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kubesaga/kubesaga/services/storage"
)

func TestAppendListAndCountAfterCommit(t *testing.T) {
	ctx := context.Background()
	db, err := storage.Open(ctx, filepath.Join(t.TempDir(), "db"), Migrations)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reg := prometheus.NewRegistry()
	log, err := NewLog(db, reg, "test", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		corr := "a"
		if i%2 == 1 {
			corr = "b"
		}
		if err := db.Write(ctx, func(tx *storage.Tx) error {
			return log.Append(tx, "LOCK_CART", Success, corr, fmt.Sprint(i))
		}); err != nil {
			t.Fatal(err)
		}
	}
	// A rolled-back event is neither stored nor counted.
	_ = db.Write(ctx, func(tx *storage.Tx) error {
		if err := log.Append(tx, "LOCK_CART", Failure, "a", "rolled back"); err != nil {
			return err
		}
		return errors.New("abort")
	})
	a, err := log.List(ctx, "a", 100)
	if err != nil || len(a) != 3 || a[0].Detail != "0" || a[2].Detail != "4" {
		t.Fatalf("List(a) = %+v, %v", a, err)
	}
	latest, err := log.List(ctx, "", 2)
	if err != nil || len(latest) != 2 || latest[0].Detail != "3" || latest[1].Detail != "4" {
		t.Fatalf("latest = %+v, %v", latest, err)
	}
	families, err := reg.Gather()
	if err != nil || len(families) != 1 {
		t.Fatalf("gather = %v, %v", families, err)
	}
	series := families[0].GetMetric()
	if len(series) != 1 || series[0].GetCounter().GetValue() != 5 {
		t.Fatalf("series = %v; want only LOCK_CART/SUCCESS = 5 (the rolled-back FAILURE is not counted)", series)
	}
}
