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

package participant

import (
	"context"
	"io/fs"
	"net/http"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/kubesaga/kubesaga/services/events"
	"github.com/kubesaga/kubesaga/services/httpapi"
	"github.com/kubesaga/kubesaga/services/idempotency"
	"github.com/kubesaga/kubesaga/services/storage"
)

// TestIdempotent walks one do through its four states and checks the answers and
// the refusal events, whose wording the participants' callers rely on.
func TestIdempotent(t *testing.T) {
	b, err := Open("things", filepath.Join(t.TempDir(), "things.db"), nil, fstest.MapFS{"migrations": &fstest.MapFile{Mode: fs.ModeDir}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	ctx := context.Background()
	runs := 0
	work := func(*storage.Tx) (httpapi.Answer, error) {
		runs++
		return httpapi.Answer{Status: http.StatusCreated, Body: []byte(`{"n":1}`)}, nil
	}
	do := Do{Scope: "thing", Key: "k1", RequestHash: "h1", Action: "CREATE_THING", Correlation: "c1", Undone: "dropped"}
	problem := func(a httpapi.Answer) string {
		var p httpapi.Problem
		if err := p.UnmarshalJSON(a.Body); err != nil {
			t.Fatal(err)
		}
		return p.Slug() + ": " + p.Detail
	}

	for range 2 { // fresh, then replayed
		a, err := b.Idempotent(ctx, do, work)
		if err != nil || a.Status != http.StatusCreated || string(a.Body) != `{"n":1}` || runs != 1 {
			t.Fatalf("answer %d %s, err %v, runs %d", a.Status, a.Body, err, runs)
		}
	}
	other := do
	other.RequestHash = "h2"
	a, err := b.Idempotent(ctx, other, work)
	if err != nil || a.Status != http.StatusUnprocessableEntity || problem(a) != "idempotency-mismatch: thing k1 exists with a different body" {
		t.Fatalf("mismatch: %d %s, err %v", a.Status, a.Body, err)
	}
	if err := b.DB.Write(ctx, func(tx *storage.Tx) error { return idempotency.Bury(tx, "thing", "k1") }); err != nil {
		t.Fatal(err)
	}
	a, err = b.Idempotent(ctx, do, work)
	if err != nil || a.Status != http.StatusConflict || problem(a) != "already-compensated: thing k1 was dropped; it is not made again" {
		t.Fatalf("compensated: %d %s, err %v", a.Status, a.Body, err)
	}
	if runs != 1 {
		t.Fatalf("work ran %d times", runs)
	}
	evs, err := b.Events.List(ctx, "c1", 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"refused: same id, different body", "refused: already dropped"}
	if len(evs) != len(want) {
		t.Fatalf("events = %+v", evs)
	}
	for i, e := range evs {
		if e.Action != "CREATE_THING" || e.Outcome != events.Failure || e.Detail != want[i] {
			t.Errorf("event %d = %+v", i, e)
		}
	}
}
