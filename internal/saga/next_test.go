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

func TestNext(t *testing.T) {
	var (
		S   = ss{status: StepSucceeded, attempts: 1}
		P   = ss{status: StepPending}
		Ref = ss{status: StepRefused, attempts: 1, lastError: "409 insufficient stock"}
		Exh = ss{status: StepExhausted, attempts: 3, lastError: "503"}
		C   = ss{status: StepCompensated, attempts: 1, undo: 1}
	)
	retrying := func(until time.Time) ss { return ss{status: StepRetrying, attempts: 1, retryAt: until} }
	compensating := func(until time.Time) ss { return ss{status: StepCompensating, attempts: 1, undo: 1, retryAt: until} }
	abort := func(st State) State { st.Abort = true; return st }
	deadline := func(d time.Time, st State) State { st.Deadline = d; return st }

	tests := []struct {
		name string
		st   State
		now  time.Time
		want Action
	}{
		// Forward.
		{"empty state starts with the first step", State{}, t0, Action{Type: ActDo, Step: lock, Name: "LockCart"}},
		{"pending step after a success", state(S), t0, Action{Type: ActDo, Step: reserve, Name: "ReserveStock"}},
		{"retrying and due", state(S, retrying(at(time.Second))), at(time.Second), Action{Type: ActDo, Step: reserve, Name: "ReserveStock"}},
		{"retrying without a retry time is due", state(S, retrying(time.Time{})), t0, Action{Type: ActDo, Step: reserve, Name: "ReserveStock"}},
		{"retrying in backoff waits", state(S, retrying(at(time.Second))), t0, Action{Type: ActWait, Step: reserve, Name: "ReserveStock", Until: at(time.Second)}},
		{"all succeeded", state(S, S, S, S, S), t0, Action{Type: ActFinish, Result: ResultSucceeded}},
		{"unknown status reads as pending", state(ss{status: "Weird"}), t0, Action{Type: ActDo, Step: lock, Name: "LockCart"}},
		{"retriable step in backoff waits", state(S, S, S, retrying(at(time.Minute))), t0, Action{Type: ActWait, Step: commit, Name: "CommitReservation", Until: at(time.Minute)}},
		{"stalled retriable step", state(S, S, S, ss{status: StepStalled, attempts: 3}), t0, Action{Type: ActStall, Step: commit, Name: "CommitReservation", Reason: ReasonRetriableStepRefused}},
		{"refused retriable step (foreign state) stalls", state(S, S, S, S, Ref), t0, Action{Type: ActStall, Step: checkout, Name: "CheckoutCart", Reason: ReasonRetriableStepRefused}},

		// Compensation triggers.
		{"compensatable refused: undo the previous", state(S, Ref), t0, Action{Type: ActUndo, Step: lock, Name: "UnlockCart", Reason: ReasonStepRefused}},
		{"refusal: steps after it are known untouched", state(S, Ref, P, P, P), t0, Action{Type: ActUndo, Step: lock, Name: "UnlockCart", Reason: ReasonStepRefused}},
		{"first step refused: nothing to undo", state(Ref), t0, Action{Type: ActFinish, Result: ResultCompensated, Reason: ReasonStepRefused}},
		{"pivot refused", state(S, S, Ref), t0, Action{Type: ActUndo, Step: reserve, Name: "ReleaseStock", Reason: ReasonStepRefused}},
		{"compensatable exhausted: ask whether the pivot happened", state(S, Exh), t0, Action{Type: ActProbe, Step: sale, Name: "GetSale", Reason: ReasonAttemptsExhausted}},
		{"pivot found absent: later steps are uncertain too, its undo first", state(S, Exh, ss{status: StepCompensating}), t0, Action{Type: ActUndo, Step: sale, Name: "CancelSale", Reason: ReasonAttemptsExhausted}},
		{"compensatable exhausted: undo it (effect uncertain)", state(S, Exh, ss{status: StepCompensated, undo: 1}), t0, Action{Type: ActUndo, Step: reserve, Name: "ReleaseStock", Reason: ReasonAttemptsExhausted}},
		{"pivot exhausted: ask whether the sale exists", state(S, S, Exh), t0, Action{Type: ActProbe, Step: sale, Name: "GetSale", Reason: ReasonAttemptsExhausted}},
		{"pivot exhausted and absent: cancel the sale", state(S, S, ss{status: StepCompensating, attempts: 3}), t0, Action{Type: ActUndo, Step: sale, Name: "CancelSale", Reason: ReasonAttemptsExhausted}},
		{"probe failed: wait for its backoff", state(S, Exh, ss{status: StepPending, probes: 1, retryAt: at(time.Second)}), t0,
			Action{Type: ActWait, Step: sale, Name: "GetSale", Until: at(time.Second), Reason: ReasonAttemptsExhausted}},
		{"probe failed and due: ask again", state(S, Exh, ss{status: StepPending, probes: 1, retryAt: at(time.Second)}), at(time.Second),
			Action{Type: ActProbe, Step: sale, Name: "GetSale", Reason: ReasonAttemptsExhausted}},
		{"a pivot retrying forward waits for its own backoff", state(S, S, ss{status: StepRetrying, attempts: 1, retryAt: at(time.Hour)}, P), at(time.Minute),
			Action{Type: ActWait, Step: sale, Name: "CreateSale", Until: at(time.Hour)}},
		{"exhausted and already undone keeps its reason", state(S, ss{status: StepCompensated, attempts: 3, undo: 1}, ss{status: StepCompensated, undo: 1}), t0, Action{Type: ActUndo, Step: lock, Name: "UnlockCart", Reason: ReasonAttemptsExhausted}},
		{"exhausted pivot undone, reason kept", state(S, S, ss{status: StepCompensated, attempts: 3, undo: 1}), t0, Action{Type: ActUndo, Step: reserve, Name: "ReleaseStock", Reason: ReasonAttemptsExhausted}},

		// Deadline.
		{"deadline not reached", deadline(at(time.Minute), state(S)), at(time.Second), Action{Type: ActDo, Step: reserve, Name: "ReserveStock"}},
		{"deadline reached before the pivot: ask whether the pivot happened", deadline(at(time.Minute), state(S, retrying(at(2*time.Minute)))), at(time.Minute),
			Action{Type: ActProbe, Step: sale, Name: "GetSale", Reason: ReasonDeadlineExceeded}},
		{"deadline, pivot absent: in-flight and later steps are uncertain", deadline(at(time.Minute), state(S, retrying(at(2*time.Minute)), ss{status: StepCompensating})), at(time.Minute),
			Action{Type: ActUndo, Step: sale, Name: "CancelSale", Reason: ReasonDeadlineExceeded}},
		{"deadline while the pivot retries: ask at once", deadline(at(time.Minute), state(S, S, retrying(at(2*time.Minute)))), at(time.Minute),
			Action{Type: ActProbe, Step: sale, Name: "GetSale", Reason: ReasonDeadlineExceeded}},
		{"deadline: the retrying step is undone, never retried", deadline(at(time.Minute), state(S, retrying(at(2*time.Minute)), C)), at(time.Minute),
			Action{Type: ActUndo, Step: reserve, Name: "ReleaseStock", Reason: ReasonDeadlineExceeded}},
		{"a backoff that ends after the deadline wakes up at the deadline", deadline(at(time.Minute), state(S, retrying(at(5*time.Minute)))), at(30 * time.Second),
			Action{Type: ActWait, Step: reserve, Name: "ReserveStock", Until: at(time.Minute)}},
		{"a backoff that ends before the deadline wakes up at its end", deadline(at(time.Minute), state(S, retrying(at(10*time.Second)))), t0,
			Action{Type: ActWait, Step: reserve, Name: "ReserveStock", Until: at(10 * time.Second)}},
		{"after the pivot the deadline does not cut a backoff short", deadline(at(time.Minute), state(S, S, S, retrying(at(5*time.Minute)))), t0,
			Action{Type: ActWait, Step: commit, Name: "CommitReservation", Until: at(5 * time.Minute)}},
		{"deadline after the pivot succeeded does not matter", deadline(at(time.Minute), state(S, S, S)), at(time.Hour), Action{Type: ActDo, Step: commit, Name: "CommitReservation"}},
		{"deadline fully compensated", deadline(at(time.Minute), state(C, C, C)), at(time.Hour), Action{Type: ActFinish, Result: ResultCompensated, Reason: ReasonDeadlineExceeded}},

		// Abort.
		{"abort before anything: ask whether the pivot happened", abort(State{}), t0, Action{Type: ActProbe, Step: sale, Name: "GetSale", Reason: ReasonAborted}},
		{"abort before the pivot: ask", abort(state(S, S, P)), t0, Action{Type: ActProbe, Step: sale, Name: "GetSale", Reason: ReasonAborted}},
		{"abort, pivot absent: everything is uncertain", abort(state(P, P, ss{status: StepCompensating})), t0, Action{Type: ActUndo, Step: sale, Name: "CancelSale", Reason: ReasonAborted}},
		{"abort after the pivot: steps without undo are skipped", abort(state(S, S, S, retrying(at(time.Hour)), P)), t0, Action{Type: ActUndo, Step: sale, Name: "CancelSale", Reason: ReasonAborted}},
		{"abort after success (deletion, policy Compensate)", abort(state(S, S, S, S, S)), t0, Action{Type: ActUndo, Step: sale, Name: "CancelSale", Reason: ReasonAborted}},
		{"abort of a stalled retriable step", abort(state(S, S, S, ss{status: StepStalled, attempts: 3})), t0, Action{Type: ActUndo, Step: sale, Name: "CancelSale", Reason: ReasonAborted}},
		{"abort after a refusal keeps the refusal as the only cause of skipping", abort(state(S, Ref)), t0, Action{Type: ActUndo, Step: lock, Name: "UnlockCart", Reason: ReasonAborted}},
		{"abort fully compensated", abort(state(C, C, C, S, S)), t0, Action{Type: ActFinish, Result: ResultCompensated, Reason: ReasonAborted}},

		// Compensation progress.
		{"undo newest first: older waits for the newer", state(S, compensating(at(time.Second)), Ref), t0, Action{Type: ActWait, Step: reserve, Name: "ReleaseStock", Until: at(time.Second), Reason: ReasonStepRefused}},
		{"compensating and due", state(S, compensating(at(time.Second)), Ref), at(time.Second), Action{Type: ActUndo, Step: reserve, Name: "ReleaseStock", Reason: ReasonStepRefused}},
		{"stalled undo stops everything older", state(S, ss{status: StepStalled, attempts: 1, undo: 4}, Ref), at(time.Hour), Action{Type: ActStall, Step: reserve, Name: "ReleaseStock", Reason: ReasonCompensationRefused}},
		{"after the newer undo, the older one", state(S, C, Ref), t0, Action{Type: ActUndo, Step: lock, Name: "UnlockCart", Reason: ReasonStepRefused}},
		{"all undone", state(C, C, Ref), t0, Action{Type: ActFinish, Result: ResultCompensated, Reason: ReasonStepRefused}},
		{"compensation is sticky without a visible cause", state(S, C, S, S, S), t0, Action{Type: ActUndo, Step: sale, Name: "CancelSale", Reason: ReasonAborted}},
		{"sticky with a deadline set reads as the deadline (no clock)", deadline(at(time.Hour), state(S, C, ss{status: StepCompensated, undo: 1})), time.Time{}, Action{Type: ActUndo, Step: lock, Name: "UnlockCart", Reason: ReasonDeadlineExceeded}},
	}
	def := orderDef()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Next(def, tc.st, tc.now)
			if got.Type == ActProbe {
				// Without a probe the pivot's success was checkpointed: compensate at once.
				if plain := Next(withoutProbe(def), tc.st, tc.now); plain.Type != ActUndo || plain.Step != got.Step || plain.Reason != got.Reason {
					t.Fatalf("without a probe: %+v, want the undo of step %d", plain, got.Step)
				}
			}
			sameAction(t, got, tc.want)
			if again := Next(def, tc.st, tc.now); again != got {
				t.Fatalf("Next is not pure: %+v then %+v", got, again)
			}
		})
	}
}

func TestNeedsUndo(t *testing.T) {
	// Compensation undoes step i when it has an Undo and needsUndo says its effect may exist.
	undoes := func(st State, i int) bool {
		return orderDef().Steps[i].Undo != "" && needsUndo(statusAt(st, i), i, firstRefused(orderDef(), st))
	}
	st := state(ss{status: StepSucceeded}, ss{status: StepRefused}, ss{status: StepPending})
	for i, want := range []bool{true, false, false, false, false} {
		if got := undoes(st, i); got != want {
			t.Errorf("step %d needs undo = %v, want %v", i, got, want)
		}
	}
	if !undoes(State{}, sale) || undoes(State{}, commit) {
		t.Error("without a refusal, pending steps with an undo are uncertain; steps without undo never need it")
	}
}

func TestPastPivot(t *testing.T) {
	S := ss{status: StepSucceeded, attempts: 1}
	for _, tc := range []struct {
		st   State
		want bool
	}{
		{State{}, false},
		{state(S, S), false},
		{state(S, S, ss{status: StepRetrying, attempts: 2}), false},
		{state(S, S, S), true},
		{state(S, S, S, ss{status: StepRetrying, attempts: 9}), true},
		{state(S, S, ss{status: StepCompensated, attempts: 1, undo: 1}), false},
	} {
		if got := PastPivot(orderDef(), tc.st); got != tc.want {
			t.Errorf("PastPivot(%+v) = %v, want %v", tc.st.Steps, got, tc.want)
		}
	}
}
