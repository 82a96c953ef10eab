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

func TestStatus(t *testing.T) {
	def := orderDef()
	S := ss{status: StepSucceeded, attempts: 1}
	tests := []struct {
		name string
		st   State
		now  time.Time
		want Summary
	}{
		{"not started", State{}, t0,
			Summary{Running: true, CurrentStep: lock}},
		{"running", state(S), t0,
			Summary{Running: true, Started: true, CurrentStep: reserve}},
		{"retrying shows the transient error and the wake-up time", state(S, ss{status: StepRetrying, attempts: 1, retryAt: at(time.Second), lastError: "503"}), t0,
			Summary{Running: true, Started: true, CurrentStep: reserve, LastError: "503", NextRetryAt: at(time.Second)}},
		{"succeeded", state(S, S, S, S, S), t0,
			Summary{Started: true, Result: ResultSucceeded, CurrentStep: -1}},
		{"compensating after a refusal", state(S, ss{status: StepRefused, attempts: 1, lastError: "insufficient stock"}), t0,
			Summary{Running: true, Started: true, Compensating: true, CurrentStep: lock, Reason: ReasonStepRefused, LastError: "insufficient stock"}},
		{"failed: compensated", state(ss{status: StepCompensated, attempts: 1, undo: 1}, ss{status: StepRefused, attempts: 1, lastError: "insufficient stock"}), t0,
			Summary{Started: true, Compensating: true, Result: ResultCompensated, CurrentStep: -1, Reason: ReasonStepRefused, LastError: "insufficient stock"}},
		{"exhausted: the transient error", state(S, S, ss{status: StepCompensated, attempts: 3, undo: 1, lastError: "503 sales down"}), t0,
			Summary{Running: true, Started: true, Compensating: true, CurrentStep: reserve, Reason: ReasonAttemptsExhausted, LastError: "503 sales down"}},
		{"stalled compensation", state(S, ss{status: StepStalled, attempts: 1, undo: 1, lastError: "422 no such store"}, ss{status: StepRefused, attempts: 1}), t0,
			Summary{Running: true, Started: true, Compensating: true, Stalled: true, CurrentStep: reserve, Reason: ReasonCompensationRefused, LastError: "422 no such store"}},
		{"stalled retriable step", state(S, S, S, S, ss{status: StepStalled, attempts: 1, lastError: "409 checked out"}), t0,
			Summary{Running: true, Started: true, Stalled: true, CurrentStep: checkout, Reason: ReasonRetriableStepRefused, LastError: "409 checked out"}},
		{"retriable step below the attempt limit", state(S, S, S, ss{status: StepRetrying, attempts: 2, retryAt: at(time.Second), lastError: "503"}), t0,
			Summary{Running: true, Started: true, CurrentStep: commit, LastError: "503", NextRetryAt: at(time.Second)}},
		{"retriable step past the attempt limit: still running, flagged", state(S, S, S, ss{status: StepRetrying, attempts: 3, retryAt: at(time.Second), lastError: "503"}), t0,
			Summary{Running: true, Started: true, CurrentStep: commit, LastError: "503", NextRetryAt: at(time.Second), PastAttemptLimit: true}},
		{"past the limit and due: flagged until it succeeds", state(S, S, S, ss{status: StepRetrying, attempts: 7, retryAt: at(time.Second), lastError: "503"}), at(time.Minute),
			Summary{Running: true, Started: true, CurrentStep: commit, LastError: "503", PastAttemptLimit: true}},
		{"undo past the compensation limit: flagged", state(S, ss{status: StepCompensating, attempts: 1, undo: 4, retryAt: at(time.Second), lastError: "503"}, ss{status: StepRefused, attempts: 1, lastError: "insufficient"}), t0,
			Summary{Running: true, Started: true, Compensating: true, CurrentStep: reserve, Reason: ReasonStepRefused, LastError: "insufficient", NextRetryAt: at(time.Second), PastAttemptLimit: true}},
		{"deadline: the pivot is asked about first, nothing decided yet", State{Deadline: at(time.Minute), Steps: state(S).Steps}, at(time.Minute),
			Summary{Running: true, Started: true, CurrentStep: sale, Reason: ReasonDeadlineExceeded, LastError: "deadline 2026-01-01T12:01:00Z exceeded"}},
		{"deadline, pivot absent", State{Deadline: at(time.Minute), Steps: state(S, ss{}, ss{status: StepCompensating}).Steps}, at(time.Minute),
			Summary{Running: true, Started: true, Compensating: true, CurrentStep: sale, Reason: ReasonDeadlineExceeded, LastError: "deadline 2026-01-01T12:01:00Z exceeded"}},
		{"only the probe was tried (a restart past the deadline): started, its error and wake-up time",
			State{Deadline: t0, Steps: state(ss{}, ss{}, ss{probes: 2, retryAt: at(time.Second), lastError: "GetSale: 503"}).Steps}, t0,
			Summary{Running: true, Started: true, CurrentStep: sale, Reason: ReasonDeadlineExceeded, LastError: "GetSale: 503", NextRetryAt: at(time.Second)}},
		{"probe past the attempt limit: flagged", state(S, ss{status: StepExhausted, attempts: 3, lastError: "503"}, ss{probes: 3, retryAt: at(time.Second), lastError: "GetSale: 503"}), at(time.Second),
			Summary{Running: true, Started: true, CurrentStep: sale, Reason: ReasonAttemptsExhausted, LastError: "GetSale: 503", PastAttemptLimit: true}},
		{"aborted", State{Abort: true, Steps: state(S, S, S, S, S).Steps}, t0,
			Summary{Running: true, Started: true, Compensating: true, CurrentStep: sale, Reason: ReasonAborted}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := StatusAt(def, tc.st, tc.now)
			if got != tc.want {
				t.Fatalf("summary\n got  %+v\n want %+v", got, tc.want)
			}
		})
	}
	t.Run("without a clock the deadline is not seen until an undo is recorded", func(t *testing.T) {
		st := State{Deadline: at(time.Minute), Steps: state(S).Steps}
		if s := Status(def, st); s.Compensating {
			t.Fatalf("%+v", s)
		}
		st = Record(def, st, Next(def, st, at(time.Hour)), Outcome{Class: Refusal, Err: "no sale"}, at(time.Hour)) // the probe
		st = Record(def, st, Next(def, st, at(time.Hour)), Outcome{Class: Success}, at(time.Hour))                 // CancelSale
		if s := Status(def, st); !s.Compensating || s.Reason != ReasonDeadlineExceeded {
			t.Fatalf("%+v", s)
		}
	})
}
