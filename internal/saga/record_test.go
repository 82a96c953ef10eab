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
	"reflect"
	"testing"
	"time"
)

func TestRecord(t *testing.T) {
	def := orderDef()
	p := def.Policy
	now := at(10 * time.Second)
	started := at(time.Second)
	var (
		ok   = Outcome{Class: Success}
		ref  = Outcome{Class: Refusal, Err: "409 cart locked by another order"}
		tr   = Outcome{Class: Transient, Err: "503 unavailable"}
		doAt = func(i int) Action { return Action{Type: ActDo, Step: i, Name: def.Steps[i].Name} }
		unAt = func(i int) Action { return Action{Type: ActUndo, Step: i, Name: def.Steps[i].Undo} }
	)
	tests := []struct {
		name string
		in   StepState // the step's state before
		step int
		act  Action
		out  Outcome
		want StepState
	}{
		{"do success", StepState{Status: StepPending}, lock, doAt(lock), ok,
			StepState{Status: StepSucceeded, Attempts: 1, StartedAt: now, FinishedAt: now}},
		{"do success after retries keeps StartedAt and the last error", StepState{Status: StepRetrying, Attempts: 2, StartedAt: started, LastError: "503", NextRetryAt: now}, lock, doAt(lock), ok,
			StepState{Status: StepSucceeded, Attempts: 3, StartedAt: started, FinishedAt: now, LastError: "503"}},
		{"do refusal: final", StepState{Status: StepPending}, reserve, doAt(reserve), ref,
			StepState{Status: StepRefused, Attempts: 1, StartedAt: now, FinishedAt: now, LastError: ref.Err}},
		{"do transient: retry with backoff", StepState{Status: StepPending}, reserve, doAt(reserve), tr,
			StepState{Status: StepRetrying, Attempts: 1, StartedAt: now, LastError: tr.Err, NextRetryAt: now.Add(Backoff(p, testSeed, reserve, 1))}},
		{"do transient second attempt: longer backoff", StepState{Status: StepRetrying, Attempts: 1, StartedAt: started}, reserve, doAt(reserve), tr,
			StepState{Status: StepRetrying, Attempts: 2, StartedAt: started, LastError: tr.Err, NextRetryAt: now.Add(Backoff(p, testSeed, reserve, 2))}},
		{"do transient at the limit: exhausted", StepState{Status: StepRetrying, Attempts: 2, StartedAt: started}, sale, doAt(sale), tr,
			StepState{Status: StepExhausted, Attempts: 3, StartedAt: started, FinishedAt: now, LastError: tr.Err}},
		{"retriable transient at the limit: still retrying, never exhausted nor stalled", StepState{Status: StepRetrying, Attempts: 2, StartedAt: started}, commit, doAt(commit), tr,
			StepState{Status: StepRetrying, Attempts: 3, StartedAt: started, LastError: tr.Err, NextRetryAt: now.Add(Backoff(p, testSeed, commit, 3))}},
		{"retriable transient far past the limit: the backoff stays capped", StepState{Status: StepRetrying, Attempts: 99, StartedAt: started}, checkout, doAt(checkout), tr,
			StepState{Status: StepRetrying, Attempts: 100, StartedAt: started, LastError: tr.Err, NextRetryAt: now.Add(Backoff(p, testSeed, checkout, 100))}},
		{"retriable refusal: stalled", StepState{Status: StepPending}, checkout, doAt(checkout), ref,
			StepState{Status: StepStalled, Attempts: 1, StartedAt: now, LastError: ref.Err}},
		{"undo success", StepState{Status: StepSucceeded, Attempts: 1, StartedAt: started, FinishedAt: started}, lock, unAt(lock), ok,
			StepState{Status: StepCompensated, Attempts: 1, UndoAttempts: 1, StartedAt: started, FinishedAt: now}},
		{"undo of an in-flight retrying step", StepState{Status: StepRetrying, Attempts: 1, StartedAt: started, NextRetryAt: at(time.Hour)}, reserve, unAt(reserve), ok,
			StepState{Status: StepCompensated, Attempts: 1, UndoAttempts: 1, StartedAt: started, FinishedAt: now}},
		{"undo of an uncertain pending step (tombstone)", StepState{Status: StepPending}, sale, unAt(sale), ok,
			StepState{Status: StepCompensated, UndoAttempts: 1, StartedAt: now, FinishedAt: now}},
		{"undo transient: compensating with backoff", StepState{Status: StepSucceeded, Attempts: 1, StartedAt: started}, lock, unAt(lock), tr,
			StepState{Status: StepCompensating, Attempts: 1, UndoAttempts: 1, StartedAt: started, LastError: tr.Err, NextRetryAt: now.Add(Backoff(p, testSeed^undoSalt, lock, 1))}},
		{"undo refusal: stalled at once, no retry can fix it", StepState{Status: StepExhausted, Attempts: 3, StartedAt: started}, sale, unAt(sale), ref,
			StepState{Status: StepStalled, Attempts: 3, UndoAttempts: 1, StartedAt: started, LastError: ref.Err}},
		{"undo transient at and past the limit: still compensating", StepState{Status: StepCompensating, Attempts: 1, UndoAttempts: 3, StartedAt: started}, lock, unAt(lock), tr,
			StepState{Status: StepCompensating, Attempts: 1, UndoAttempts: 4, StartedAt: started, LastError: tr.Err, NextRetryAt: now.Add(Backoff(p, testSeed^undoSalt, lock, 4))}},
		{"undo transient far past the limit: the backoff stays capped", StepState{Status: StepCompensating, Attempts: 1, UndoAttempts: 50, StartedAt: started}, lock, unAt(lock), tr,
			StepState{Status: StepCompensating, Attempts: 1, UndoAttempts: 51, StartedAt: started, LastError: tr.Err, NextRetryAt: now.Add(Backoff(p, testSeed^undoSalt, lock, 51))}},
		{"undo success after a retry of a stall", StepState{Status: StepCompensating, Attempts: 1, StartedAt: started, NextRetryAt: now}, lock, unAt(lock), ok,
			StepState{Status: StepCompensated, Attempts: 1, UndoAttempts: 1, StartedAt: started, FinishedAt: now}},

		// Stale or duplicate reports change nothing.
		{"do on a succeeded step", StepState{Status: StepSucceeded, Attempts: 1}, lock, doAt(lock), tr, StepState{Status: StepSucceeded, Attempts: 1}},
		{"do on a compensated step", StepState{Status: StepCompensated, Attempts: 1, UndoAttempts: 1}, lock, doAt(lock), ok, StepState{Status: StepCompensated, Attempts: 1, UndoAttempts: 1}},
		{"undo on a refused step", StepState{Status: StepRefused, Attempts: 1}, lock, unAt(lock), ok, StepState{Status: StepRefused, Attempts: 1}},
		{"undo on a compensated step", StepState{Status: StepCompensated, Attempts: 1, UndoAttempts: 1}, lock, unAt(lock), tr, StepState{Status: StepCompensated, Attempts: 1, UndoAttempts: 1}},
		{"wait is not recorded", StepState{Status: StepRetrying, Attempts: 1}, lock, Action{Type: ActWait, Step: lock}, tr, StepState{Status: StepRetrying, Attempts: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := State{Seed: testSeed, Steps: make([]StepState, len(def.Steps))}
			for i := range st.Steps {
				st.Steps[i] = StepState{Name: def.Steps[i].Name, Status: StepSucceeded}
			}
			in := tc.in
			in.Name = def.Steps[tc.step].Name
			st.Steps[tc.step] = in
			before := Normalize(def, st)
			got := Record(def, st, tc.act, tc.out, now)
			want := tc.want
			want.Name = in.Name
			if !reflect.DeepEqual(got.Steps[tc.step], want) {
				t.Fatalf("step\n got  %+v\n want %+v", got.Steps[tc.step], want)
			}
			if r := got.Steps[tc.step].NextRetryAt; !r.IsZero() && r.Sub(now) > p.BackoffMax {
				t.Fatalf("next retry %v after now, past the cap %v", r.Sub(now), p.BackoffMax)
			}
			if !reflect.DeepEqual(st, before) {
				t.Fatal("Record modified its input")
			}
			for i := range got.Steps {
				if i != tc.step && !reflect.DeepEqual(got.Steps[i], st.Steps[i]) {
					t.Fatalf("Record changed step %d", i)
				}
			}
		})
	}
}

func TestRecordOutOfRangeAndShortState(t *testing.T) {
	def := orderDef()
	st := State{Seed: 7}
	got := Record(def, st, Action{Type: ActDo, Step: 9}, Outcome{Class: Success}, t0)
	if len(got.Steps) != len(def.Steps) || got.Steps[0].Status != StepPending {
		t.Fatalf("out of range act should only normalize: %+v", got)
	}
	got = Record(def, st, Action{Type: ActDo, Step: reserve}, Outcome{Class: Success}, t0)
	if got.Steps[reserve].Status != StepSucceeded || got.Steps[reserve].Name != "ReserveStock" || got.Seed != 7 {
		t.Fatalf("record on a short state: %+v", got)
	}
}

func TestRetry(t *testing.T) {
	def := orderDef()
	now := at(time.Hour)
	tests := []struct {
		name     string
		st       State
		wantStep int
		want     StepState
		next     Action
	}{
		{"stalled retriable step: fresh budget, due now",
			state(ss{status: StepSucceeded}, ss{status: StepSucceeded}, ss{status: StepSucceeded}, ss{status: StepStalled, attempts: 3, lastError: "409"}),
			commit, StepState{Status: StepRetrying, NextRetryAt: now, LastError: "409"},
			Action{Type: ActDo, Step: commit, Name: "CommitReservation"}},
		{"stalled compensation: fresh undo budget, due now",
			state(ss{status: StepSucceeded, attempts: 1}, ss{status: StepStalled, attempts: 1, undo: 4, lastError: "503"}, ss{status: StepRefused, attempts: 1}),
			reserve, StepState{Status: StepCompensating, Attempts: 1, NextRetryAt: now, LastError: "503"},
			Action{Type: ActUndo, Step: reserve, Name: "ReleaseStock", Reason: ReasonStepRefused}},
		{"retrying in backoff: due now",
			state(ss{status: StepSucceeded}, ss{status: StepRetrying, attempts: 2, retryAt: at(2 * time.Hour)}),
			reserve, StepState{Status: StepRetrying, Attempts: 2, NextRetryAt: now},
			Action{Type: ActDo, Step: reserve, Name: "ReserveStock"}},
		{"compensating in backoff: due now",
			state(ss{status: StepSucceeded}, ss{status: StepCompensating, attempts: 1, undo: 1, retryAt: at(2 * time.Hour)}, ss{status: StepRefused}),
			reserve, StepState{Status: StepCompensating, Attempts: 1, UndoAttempts: 1, NextRetryAt: now},
			Action{Type: ActUndo, Step: reserve, Name: "ReleaseStock", Reason: ReasonStepRefused}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Retry(def, tc.st, now)
			want := tc.want
			want.Name = def.Steps[tc.wantStep].Name
			if !reflect.DeepEqual(got.Steps[tc.wantStep], want) {
				t.Fatalf("step\n got  %+v\n want %+v", got.Steps[tc.wantStep], want)
			}
			for i := range got.Steps {
				if i != tc.wantStep && i < len(tc.st.Steps) && got.Steps[i].Status != tc.st.Steps[i].Status {
					t.Fatalf("Retry changed finished step %d: %s -> %s", i, tc.st.Steps[i].Status, got.Steps[i].Status)
				}
			}
			sameAction(t, Next(def, got, now), tc.next)
		})
	}

	t.Run("finished saga: no-op", func(t *testing.T) {
		for _, st := range []State{
			state(ss{status: StepSucceeded}, ss{status: StepSucceeded}, ss{status: StepSucceeded}, ss{status: StepSucceeded}, ss{status: StepSucceeded}),
			state(ss{status: StepCompensated, undo: 1}, ss{status: StepRefused}),
		} {
			if got := Retry(def, st, now); !reflect.DeepEqual(got, st) {
				t.Fatalf("Retry changed a finished saga:\n%+v\n%+v", st, got)
			}
		}
	})
}

func TestNormalize(t *testing.T) {
	def := orderDef()
	st := State{Seed: 3, Abort: true, Steps: []StepState{
		{Name: "ReserveStock", Status: StepSucceeded, Attempts: 1},
		{Name: "Gone", Status: StepSucceeded},
		{Name: "LockCart", Status: StepSucceeded, Attempts: 2},
		{Name: "CreateSale", Status: "Bogus"},
	}}
	got := Normalize(def, st)
	if len(got.Steps) != len(def.Steps) || got.Seed != 3 || !got.Abort {
		t.Fatalf("normalize: %+v", got)
	}
	want := []StepState{
		{Name: "LockCart", Status: StepSucceeded, Attempts: 2},
		{Name: "ReserveStock", Status: StepSucceeded, Attempts: 1},
		{Name: "CreateSale", Status: StepPending},
		{Name: "CommitReservation", Status: StepPending},
		{Name: "CheckoutCart", Status: StepPending},
	}
	if !reflect.DeepEqual(got.Steps, want) {
		t.Fatalf("steps\n got  %+v\n want %+v", got.Steps, want)
	}
	got.Steps[1].Attempts = 99
	if st.Steps[0].Attempts != 1 {
		t.Fatal("Normalize shares memory with its input")
	}
	// Unnamed entries match by position.
	pos := Normalize(def, State{Steps: []StepState{{Status: StepSucceeded}}})
	if pos.Steps[0].Name != "LockCart" || pos.Steps[0].Status != StepSucceeded {
		t.Fatalf("positional entry: %+v", pos.Steps[0])
	}
}

func TestRecordProbe(t *testing.T) {
	def := orderDef()
	S := ss{status: StepSucceeded, attempts: 1}
	exh := ss{status: StepExhausted, attempts: 3, lastError: "503"}
	// After a restart from an empty status, the replay exhausted ReserveStock: the saga
	// asks whether the sale exists before it compensates.
	inDoubt := state(S, exh)
	probe := Next(def, inDoubt, t0)
	if probe.Type != ActProbe || probe.Step != sale {
		t.Fatalf("want a probe of the pivot, got %+v", probe)
	}

	t.Run("found: every step up to the pivot succeeded, forward", func(t *testing.T) {
		st := Record(def, inDoubt, probe, Outcome{Class: Success}, at(time.Second))
		for i := 0; i <= sale; i++ {
			if s := st.Steps[i]; s.Status != StepSucceeded || s.LastError != "" || s.Attempts < 1 {
				t.Fatalf("step %d: %+v", i, s)
			}
		}
		if !PastPivot(def, st) {
			t.Fatal("not past the pivot")
		}
		sameAction(t, Next(def, st, at(time.Second)), Action{Type: ActDo, Step: commit, Name: "CommitReservation"})
	})
	t.Run("not found: compensate, the pivot's undo first", func(t *testing.T) {
		st := Record(def, inDoubt, probe, Outcome{Class: Refusal, Err: "404"}, at(time.Second))
		if st.Steps[sale].Status != StepCompensating {
			t.Fatalf("pivot %+v", st.Steps[sale])
		}
		sameAction(t, Next(def, st, at(time.Second)), Action{Type: ActUndo, Step: sale, Name: "CancelSale", Reason: ReasonAttemptsExhausted})
		if !MustCheckpoint(def, inDoubt, st, at(time.Second)) {
			t.Fatal("the decision to compensate is not checkpointed before the first undo")
		}
	})
	t.Run("transient: back off, then ask again; Retry asks at once", func(t *testing.T) {
		st := Record(def, inDoubt, probe, Outcome{Class: Transient, Err: "GetSale: 503"}, t0)
		s := st.Steps[sale]
		if s.Probes != 1 || s.Status != StepPending || !s.NextRetryAt.After(t0) || s.LastError != "GetSale: 503" {
			t.Fatalf("pivot %+v", s)
		}
		sameAction(t, Next(def, st, t0), Action{Type: ActWait, Step: sale, Name: "GetSale", Until: s.NextRetryAt, Reason: ReasonAttemptsExhausted})
		sameAction(t, Next(def, st, s.NextRetryAt), probe)
		sameAction(t, Next(def, Retry(def, st, t0), t0), probe)
		st = Record(def, st, probe, Outcome{Class: Transient, Err: "GetSale: 503"}, s.NextRetryAt)
		if st.Steps[sale].Probes != 2 || !st.Steps[sale].NextRetryAt.After(s.NextRetryAt) {
			t.Fatalf("second failure: %+v", st.Steps[sale])
		}
	})
	t.Run("a stale probe changes nothing", func(t *testing.T) {
		refused := state(S, ss{status: StepRefused, attempts: 1})
		if got := Record(def, refused, probe, Outcome{Class: Success}, t0); got.Steps[sale].Status != StepPending || got.Steps[reserve].Status != StepRefused {
			t.Fatalf("%+v", got.Steps)
		}
	})
	t.Run("a refusal before the pivot needs no probe", func(t *testing.T) {
		sameAction(t, Next(def, state(S, ss{status: StepRefused, attempts: 1}), t0), Action{Type: ActUndo, Step: lock, Name: "UnlockCart", Reason: ReasonStepRefused})
	})
}
