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

package controllers

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/internal/ordersaga"
	"github.com/kubesaga/kubesaga/internal/saga"
)

// Table tests of the pure mappers between the engine's state and an Order's status.

var (
	mapperPolicy = saga.Policy{MaxAttempts: 3, CompensationMaxAttempts: 4, BackoffBase: time.Second, BackoffMax: time.Minute}
	mapperT0     = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
)

// stateOf builds an order saga state from step statuses (missing ones are Pending).
func stateOf(steps ...saga.StepState) saga.State {
	def := ordersaga.Definition(mapperPolicy)
	st := saga.State{Steps: make([]saga.StepState, len(def.Steps))}
	for i := range def.Steps {
		st.Steps[i] = saga.StepState{Name: def.Steps[i].Name, Status: saga.StepPending}
		if i < len(steps) {
			steps[i].Name = def.Steps[i].Name
			st.Steps[i] = steps[i]
		}
	}
	return st
}

var (
	stepOK        = saga.StepState{Status: saga.StepSucceeded, Attempts: 1}
	stepRefused   = saga.StepState{Status: saga.StepRefused, Attempts: 1, LastError: "insufficient stock"}
	stepExhausted = saga.StepState{Status: saga.StepExhausted, Attempts: 3, LastError: "503"}
	stepUndone    = saga.StepState{Status: saga.StepCompensated, Attempts: 1, UndoAttempts: 1}
)

func TestConditionsAndPhase(t *testing.T) {
	def := ordersaga.Definition(mapperPolicy)
	retrying := func(n int) saga.StepState {
		return saga.StepState{Status: saga.StepRetrying, Attempts: n, LastError: "503", NextRetryAt: mapperT0.Add(time.Minute)}
	}
	tests := []struct {
		name  string
		st    saga.State
		phase sagav1.OrderPhase
		conds map[string]string // type -> "Status/Reason"
	}{
		{"not started", stateOf(), sagav1.PhasePending, map[string]string{
			sagav1.ConditionSucceeded: "Unknown/Running", sagav1.ConditionStalled: "False/NotStalled"}},
		{"first step done", stateOf(stepOK), sagav1.PhaseRunning, map[string]string{
			sagav1.ConditionSucceeded: "Unknown/Running", sagav1.ConditionProgressing: "True/Running"}},
		{"first pass that waits: Running, not Pending", stateOf(stepOK, stepOK, retrying(1)), sagav1.PhaseRunning, map[string]string{
			sagav1.ConditionSucceeded: "Unknown/WaitingToRetry", sagav1.ConditionProgressing: "True/WaitingToRetry"}},
		{"after the pivot past the attempt limit", stateOf(stepOK, stepOK, stepOK, retrying(3)), sagav1.PhaseRunning, map[string]string{
			sagav1.ConditionSucceeded: "Unknown/RetryLimitExceeded", sagav1.ConditionProgressing: "True/RetryLimitExceeded",
			sagav1.ConditionStalled: "False/NotStalled"}},
		{"succeeded", stateOf(stepOK, stepOK, stepOK, stepOK, stepOK), sagav1.PhaseSucceeded, map[string]string{
			sagav1.ConditionSucceeded: "True/Completed", sagav1.ConditionCompensated: "False/Completed", sagav1.ConditionProgressing: "False/Completed"}},
		{"compensating", stateOf(stepOK, stepRefused), sagav1.PhaseCompensating, map[string]string{
			sagav1.ConditionSucceeded: "False/StepRefused", sagav1.ConditionCompensated: "False/Compensating", sagav1.ConditionProgressing: "True/Compensating"}},
		{"failed", stateOf(stepUndone, stepRefused), sagav1.PhaseFailed, map[string]string{
			sagav1.ConditionSucceeded: "False/StepRefused", sagav1.ConditionCompensated: "True/Compensated", sagav1.ConditionProgressing: "False/Compensated"}},
		{"stalled undo", stateOf(stepOK, saga.StepState{Status: saga.StepStalled, Attempts: 1, UndoAttempts: 1, LastError: "422"}, stepRefused),
			sagav1.PhaseStalled, map[string]string{sagav1.ConditionStalled: "True/CompensationRefused", sagav1.ConditionProgressing: "False/Stalled"}},
		{"stalled step after the pivot", stateOf(stepOK, stepOK, stepOK, saga.StepState{Status: saga.StepStalled, Attempts: 1, LastError: "409"}),
			sagav1.PhaseStalled, map[string]string{sagav1.ConditionStalled: "True/RetriableStepRefused", sagav1.ConditionSucceeded: "Unknown/Running"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := &sagav1.Order{ObjectMeta: metav1.ObjectMeta{Generation: 2}}
			act := saga.Next(def, tc.st, mapperT0)
			setConditions(o, saga.StatusAt(def, tc.st, mapperT0), act)
			if o.Status.Phase != tc.phase {
				t.Errorf("phase %s, want %s", o.Status.Phase, tc.phase)
			}
			for typ, want := range tc.conds {
				c := meta.FindStatusCondition(o.Status.Conditions, typ)
				if c == nil || string(c.Status)+"/"+c.Reason != want || c.ObservedGeneration != 2 {
					t.Errorf("%s = %+v, want %s", typ, c, want)
				}
			}
			if got := phaseOf(o.Status.Conditions, saga.StatusAt(def, tc.st, mapperT0).Started); got != o.Status.Phase {
				t.Errorf("phaseOf %s disagrees with setConditions %s", got, o.Status.Phase)
			}
		})
	}
}

func TestSagaStateLoadStore(t *testing.T) {
	def := ordersaga.Definition(mapperPolicy)
	at := func(d time.Duration) time.Time { return mapperT0.Add(d) }
	st := stateOf(
		saga.StepState{Status: saga.StepSucceeded, Attempts: 2, LastError: "503", StartedAt: at(0), FinishedAt: at(time.Second)},
		saga.StepState{Status: saga.StepCompensating, Attempts: 1, UndoAttempts: 3, LastError: "release: 503",
			NextRetryAt: at(time.Minute), StartedAt: at(2 * time.Second), FinishedAt: at(3 * time.Second)},
		saga.StepState{Status: saga.StepRefused, Attempts: 1, LastError: "refused", StartedAt: at(4 * time.Second), FinishedAt: at(4 * time.Second)},
	)
	o := &sagav1.Order{ObjectMeta: metav1.ObjectMeta{UID: "9b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d", CreationTimestamp: metav1.NewTime(mapperT0)},
		Spec: sagav1.OrderSpec{Timeout: &metav1.Duration{Duration: 30 * time.Second}}}
	storeSagaState(st, ordersaga.Output{ReservationID: "r", SaleID: "s", Total: "1.00"}, o)

	if len(o.Status.Steps) != 3 {
		t.Fatalf("pending steps are left out of the status: %+v", o.Status.Steps)
	}
	if o.Status.ReservationID != "" || o.Status.SaleID != "s" || o.Status.Total != "1.00" {
		t.Fatalf("output (the reservation id is the UID: not written): %+v", o.Status)
	}
	for _, s := range o.Status.Steps {
		if s.StartedAt != nil || s.FinishedAt != nil {
			t.Fatalf("a step's times are in the history, not in steps[]: %+v", s)
		}
	}
	back := sagaState(def, o)
	st.Seed, st.Deadline = seedOf(string(o.UID)), mapperT0.Add(30*time.Second)
	for i := range st.Steps {
		st.Steps[i].StartedAt, st.Steps[i].FinishedAt = time.Time{}, time.Time{}
	}
	if !reflect.DeepEqual(back, st) {
		t.Fatalf("load(store(st)) != st\n got  %+v\n want %+v", back, st)
	}
	// A status written with step times by an older version keeps them while the step's
	// state holds: an upgrade rewrites no finished Order.
	old := o.DeepCopy()
	t1 := metav1.NewTime(mapperT0)
	old.Status.Steps[0].StartedAt, old.Status.Steps[0].FinishedAt = &t1, &t1
	old.Status.Steps[1].StartedAt = &t1
	kept := old.DeepCopy()
	storeSagaState(sagaState(def, old), sagaOutput(old), old)
	if !reflect.DeepEqual(old.Status, kept.Status) {
		t.Fatalf("an older status changed\n got  %+v\n want %+v", old.Status.Steps, kept.Status.Steps)
	}
	next := st
	next.Steps = append([]saga.StepState(nil), st.Steps...)
	next.Steps[1].Status = saga.StepCompensated
	storeSagaState(next, sagaOutput(old), old)
	if old.Status.Steps[1].StartedAt != nil || old.Status.Steps[0].StartedAt == nil {
		t.Fatalf("a step that changes state drops its old times, the others keep them: %+v", old.Status.Steps)
	}
	// A status written by a definition with other steps still loads, by name.
	o.Status.Steps = append([]sagav1.StepStatus{{Name: "Gone", State: "Succeeded"}}, o.Status.Steps...)
	if again := sagaState(def, o); !reflect.DeepEqual(again, st) {
		t.Fatalf("load with an unknown step\n got  %+v\n want %+v", again, st)
	}
	// Without a timeout there is no deadline; the seed is stable per UID.
	o.Spec.Timeout = nil
	if s := sagaState(def, o); !s.Deadline.IsZero() || s.Seed != st.Seed {
		t.Fatalf("deadline %v seed %d", s.Deadline, s.Seed)
	}
}

func TestFailedStep(t *testing.T) {
	def := ordersaga.Definition(mapperPolicy)
	for _, tc := range []struct {
		st   saga.State
		want string
	}{
		{stateOf(stepUndone, stepRefused), "ReserveStock"},
		{stateOf(stepUndone, stepUndone, stepExhausted), "CreateSale"},
		{stateOf(stepRefused), "LockCart"},
		{stateOf(stepUndone, stepUndone, stepUndone), noStep}, // a deadline or a deletion
	} {
		if got := failedStep(def, tc.st); got != tc.want {
			t.Errorf("failedStep(%+v) = %s, want %s", tc.st.Steps, got, tc.want)
		}
	}
}

func TestAbortOnDeletion(t *testing.T) {
	def := ordersaga.Definition(mapperPolicy)
	now := metav1.NewTime(mapperT0)
	beforePivot := stateOf(stepOK, stepOK, saga.StepState{Status: saga.StepRetrying, Attempts: 1})
	afterPivot := stateOf(stepOK, stepOK, stepOK, saga.StepState{Status: saga.StepRetrying, Attempts: 7})
	for _, tc := range []struct {
		name     string
		policy   sagav1.DeletionPolicy
		deleted  bool
		st       saga.State
		finished bool
		want     bool
	}{
		{"not deleted", sagav1.DeletionCompensate, false, beforePivot, false, false},
		{"Retain before the pivot: compensate", sagav1.DeletionRetain, true, beforePivot, false, true},
		{"default policy is Retain", "", true, afterPivot, false, false},
		{"Retain after the pivot: finish forward", sagav1.DeletionRetain, true, afterPivot, false, false},
		{"Compensate before the pivot", sagav1.DeletionCompensate, true, beforePivot, false, true},
		{"Compensate after the pivot: undo the sale too", sagav1.DeletionCompensate, true, afterPivot, false, true},
		{"Compensate, succeeded", sagav1.DeletionCompensate, true, stateOf(stepOK, stepOK, stepOK, stepOK, stepOK), false, true},
		{"finished and needing nothing", sagav1.DeletionCompensate, true, stateOf(stepUndone, stepRefused), true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := &sagav1.Order{Spec: sagav1.OrderSpec{DeletionPolicy: tc.policy}}
			if tc.deleted {
				o.DeletionTimestamp = &now
			}
			if got := abortOnDeletion(o, def, tc.st, tc.finished); got != tc.want {
				t.Fatalf("abort = %v, want %v", got, tc.want)
			}
		})
	}
}

// The names of history events and Event reasons that the saga definition and the engine
// produce are the API's constants: a rename there is an API change, never an accident.
func TestVocabularyIsTheAPIs(t *testing.T) {
	history := map[string]bool{}
	for _, h := range []string{sagav1.HistoryCartLocked, sagav1.HistoryCartUnlocked, sagav1.HistoryStockReserved,
		sagav1.HistoryStockReleased, sagav1.HistorySaleCreated, sagav1.HistorySaleCancelled,
		sagav1.HistoryReservationCommitted, sagav1.HistoryCartCheckedOut} {
		history[h] = true
	}
	reasons := map[string]bool{}
	for _, r := range []string{sagav1.EventReasonCartLocked, sagav1.EventReasonCartUnlocked, sagav1.EventReasonStockReserved,
		sagav1.EventReasonStockReleased, sagav1.EventReasonSaleCreated, sagav1.EventReasonSaleCancelled,
		sagav1.EventReasonReservationCommitted, sagav1.EventReasonCartCheckedOut} {
		reasons[r] = true
	}
	for _, s := range ordersaga.Definition(mapperPolicy).Steps {
		for _, ev := range []string{s.DoneEvent, s.UndoneEvent} {
			if ev == "" {
				continue
			}
			if !history[ev] || !reasons[reasonOf(ev)] {
				t.Errorf("step %s: history event %q (Event reason %q) is not an API constant", s.Name, ev, reasonOf(ev))
			}
		}
	}
	for _, r := range []string{saga.ReasonStepRefused, saga.ReasonAttemptsExhausted, saga.ReasonDeadlineExceeded,
		saga.ReasonAborted, saga.ReasonCompensationRefused, saga.ReasonRetriableStepRefused} {
		found := false
		for _, api := range []string{sagav1.ReasonStepRefused, sagav1.ReasonAttemptsExhausted, sagav1.ReasonDeadlineExceeded,
			sagav1.ReasonAborted, sagav1.ReasonCompensationRefused, sagav1.ReasonRetriableStepRefused} {
			found = found || api == r
		}
		if !found {
			t.Errorf("engine reason %q is not an API constant", r)
		}
	}
	if reasonOf("CART_CHECKED_OUT") != "CartCheckedOut" || strings.Contains(reasonOf("A__B"), "_") {
		t.Error("reasonOf")
	}
}

// Consecutive retries of one call fold into one history entry; anything else appends.
func TestHistoryFoldsRetries(t *testing.T) {
	o := &sagav1.Order{}
	add := func(ev, msg string) { appendHistory(o, ev, mapperT0, msg) }
	add(sagav1.HistoryCartLocked, "")
	add(sagav1.HistoryStepRetrying, retryNote("CommitReservation", 1, "503"))
	add(sagav1.HistoryStepRetrying, retryNote("CommitReservation", 2, "503"))
	add(sagav1.HistoryStepRetrying, retryNote("CheckoutCart", 1, "503"))
	add(sagav1.HistoryStepRetrying, retryNote("CheckoutCart", 2, "503"))
	add(sagav1.HistoryStepFailed, "x")
	add(sagav1.HistoryStepFailed, "x")
	got := make([]string, 0, len(o.Status.History))
	for _, h := range o.Status.History {
		got = append(got, h.Event+" "+h.Message)
	}
	want := []string{"CART_LOCKED ", "STEP_RETRYING CommitReservation attempt 2: 503", "STEP_RETRYING CheckoutCart attempt 2: 503",
		"STEP_FAILED x", "STEP_FAILED x"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("history\n got  %q\n want %q", got, want)
	}
	for range 2 * sagav1.MaxHistory {
		add(sagav1.HistoryStepFailed, "x")
	}
	if len(o.Status.History) != sagav1.MaxHistory {
		t.Fatalf("history of %d entries", len(o.Status.History))
	}
}
