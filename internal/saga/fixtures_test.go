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

package saga

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// orderDef is the order saga (docs/architecture.md, "The order saga").
func orderDef() Definition {
	return Definition{
		Steps: []Step{
			{Name: "LockCart", Kind: Compensatable, Undo: "UnlockCart", DoneEvent: "CART_LOCKED", UndoneEvent: "CART_UNLOCKED"},
			{Name: "ReserveStock", Kind: Compensatable, Undo: "ReleaseStock", DoneEvent: "STOCK_RESERVED", UndoneEvent: "STOCK_RELEASED"},
			{Name: "CreateSale", Kind: Pivot, Undo: "CancelSale", DoneEvent: "SALE_CREATED", UndoneEvent: "SALE_CANCELLED", Probe: "GetSale"},
			{Name: "CommitReservation", Kind: Retriable, DoneEvent: "RESERVATION_COMMITTED"},
			{Name: "CheckoutCart", Kind: Retriable, DoneEvent: "CART_CHECKED_OUT"},
		},
		Policy: Policy{MaxAttempts: 3, CompensationMaxAttempts: 4, BackoffBase: time.Second, BackoffMax: 30 * time.Second},
	}
}

const (
	lock, reserve, sale, commit, checkout = 0, 1, 2, 3, 4
	testSeed                              = 42
)

// ss is a compact step state for tables.
type ss struct {
	status    StepStatus
	attempts  int
	undo      int
	retryAt   time.Time
	lastError string
	probes    int
}

// state builds a State for orderDef from compact entries; missing ones stay absent.
func state(entries ...ss) State {
	def := orderDef()
	st := State{Seed: testSeed}
	for i, e := range entries {
		st.Steps = append(st.Steps, StepState{
			Name: def.Steps[i].Name, Status: e.status, Attempts: e.attempts, UndoAttempts: e.undo,
			NextRetryAt: e.retryAt, LastError: e.lastError, Probes: e.probes,
		})
	}
	return st
}

// withoutProbe is def with no probe on its pivot: the pivot's success is checkpointed.
func withoutProbe(def Definition) Definition {
	def.Steps = append([]Step(nil), def.Steps...)
	for i := range def.Steps {
		def.Steps[i].Probe = ""
	}
	return def
}

func at(d time.Duration) time.Time { return t0.Add(d) }

func sameAction(t *testing.T, got, want Action) {
	t.Helper()
	if got.Type != want.Type || got.Step != want.Step || got.Name != want.Name ||
		!got.Until.Equal(want.Until) || got.Result != want.Result || got.Reason != want.Reason {
		t.Fatalf("action\n got  %+v\n want %+v", got, want)
	}
}
