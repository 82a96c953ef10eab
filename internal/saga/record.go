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

import "time"

// Record returns the state after the caller performed act (ActDo or ActUndo) and got out
// at time now. It never modifies st (the caller may compare old and new state to decide
// whether to write status); any other action, or an act that does not fit the step's
// recorded status (a stale or duplicate report), returns st's steps unchanged.
//
// A do outcome applies to a Pending or Retrying step:
//   - Success: Succeeded.
//   - Refusal: Refused (nothing applied) — or Stalled for a retriable step, which is never
//     compensated and waits for a person instead.
//   - Transient: Retrying until NextRetryAt = now+Backoff; before the pivot, the attempt
//     that reaches Policy.MaxAttempts makes it Exhausted (effect uncertain: compensate).
//     A retriable step is never exhausted: past the pivot the saga only goes forward, so
//     it retries at the capped backoff for as long as the outage lasts (PastAttemptLimit
//     tells the caller when to raise an alarm).
//
// An undo outcome applies to any step that may need undoing (not Refused, not already
// Compensated): Success makes it Compensated; a Transient failure makes it Compensating
// until NextRetryAt, however many times (an undo must succeed eventually and is idempotent
// at the participants); a Refusal makes it Stalled at once, since no retry can change a
// participant's considered "no" to an undo: a person must act.
//
// StartedAt is set on the step's first attempt, FinishedAt when it reaches a final status
// (Succeeded, Refused, Exhausted, Compensated); LastError keeps the last failure message.
func Record(def Definition, st State, act Action, out Outcome, now time.Time) State {
	next := Normalize(def, st)
	i := act.Step
	if i < 0 || i >= len(def.Steps) {
		return next
	}
	switch act.Type {
	case ActDo:
		next.Steps[i] = recordDo(def, st.Seed, i, next.Steps[i], out, now)
	case ActUndo:
		next.Steps[i] = recordUndo(def, st.Seed, i, next.Steps[i], out, now)
	case ActProbe:
		recordProbe(def, next, i, out, now)
	}
	return next
}

// probeSalt keeps the probe's jitter apart from the pivot's own retries.
const probeSalt = 0x2545f4914f6cdd1d

// recordProbe applies the answer of the pivot's probe to st (a normalized copy). Found:
// the pivot and, since steps run in order, every step before it succeeded; the saga goes
// forward. Not found: compensation goes ahead and starts with the pivot's undo, whose
// tombstone refuses a do still on its way (a pivot without undo has nothing to undo). A
// transient failure is retried with backoff: the saga cannot decide until it knows. A
// probe that no longer matches the state (the pivot is not in doubt) changes nothing.
func recordProbe(def Definition, st State, p int, out Outcome, now time.Time) {
	if inDoubtPivot(def, st) != p {
		return
	}
	s := &st.Steps[p]
	switch out.Class {
	case Success:
		for i := 0; i <= p; i++ {
			d := &st.Steps[i]
			d.Status, d.NextRetryAt, d.LastError = StepSucceeded, time.Time{}, ""
			d.Attempts = max(d.Attempts, 1)
			if d.FinishedAt.IsZero() {
				d.FinishedAt = now
			}
		}
	case Refusal:
		s.NextRetryAt = time.Time{}
		s.Status = StepCompensating
		if def.Steps[p].Undo == "" {
			s.Status = StepCompensated
		}
	default:
		s.Probes++
		s.LastError = out.Err
		s.NextRetryAt = now.Add(Backoff(def.Policy, st.Seed^probeSalt, p, s.Probes))
	}
}

func recordDo(def Definition, seed uint64, i int, s StepState, out Outcome, now time.Time) StepState {
	if s.Status != StepPending && s.Status != StepRetrying {
		return s
	}
	retriable := def.Steps[i].Kind == Retriable
	s.Attempts++
	if s.StartedAt.IsZero() {
		s.StartedAt = now
	}
	s.NextRetryAt = time.Time{}
	switch out.Class {
	case Success:
		s.Status = StepSucceeded
		s.FinishedAt = now
		return s
	case Refusal:
		s.LastError = out.Err
		if retriable {
			s.Status = StepStalled
			return s
		}
		s.Status = StepRefused
		s.FinishedAt = now
		return s
	}
	// Transient, or a class this version does not know: the effect is uncertain.
	s.LastError = out.Err
	switch {
	case retriable || s.Attempts < atLeastOne(def.Policy.MaxAttempts):
		s.Status = StepRetrying
		s.NextRetryAt = now.Add(Backoff(def.Policy, seed, i, s.Attempts))
	default:
		s.Status = StepExhausted
		s.FinishedAt = now
	}
	return s
}

// undoSalt separates the jitter of undo retries from that of forward retries of the same step.
const undoSalt = 0x9e3779b97f4a7c15

func recordUndo(def Definition, seed uint64, i int, s StepState, out Outcome, now time.Time) StepState {
	if s.Status == StepRefused || s.Status == StepCompensated {
		return s
	}
	s.UndoAttempts++
	if s.StartedAt.IsZero() {
		s.StartedAt = now
	}
	s.NextRetryAt = time.Time{}
	if out.Class == Success {
		s.Status = StepCompensated
		s.FinishedAt = now
		return s
	}
	s.LastError = out.Err
	if out.Class == Refusal {
		s.Status = StepStalled
		return s
	}
	// Transient (or a class this version does not know): the undo is idempotent, retry it.
	s.Status = StepCompensating
	s.NextRetryAt = now.Add(Backoff(def.Policy, seed^undoSalt, i, s.UndoAttempts))
	return s
}

func atLeastOne(n int) int { return max(n, 1) }

// Retry is a person's manual retry (the saga.kubesaga.io/retry annotation). A Stalled step
// gets a fresh attempt budget and is due now (a stalled undo: UndoAttempts reset, status
// Compensating; a stalled retriable step: Attempts reset, status Retrying); a step waiting
// in backoff (Retrying or Compensating) becomes due now. Finished steps (Succeeded,
// Refused, Exhausted, Compensated) are never redone. On a finished saga it changes nothing.
func Retry(def Definition, st State, now time.Time) State {
	if plan(def, st, now).act.Type == ActFinish {
		return st
	}
	next := Normalize(def, st)
	for i := range next.Steps {
		s := &next.Steps[i]
		switch s.Status {
		case StepStalled:
			if s.UndoAttempts > 0 {
				s.Status, s.UndoAttempts = StepCompensating, 0
			} else {
				s.Status, s.Attempts = StepRetrying, 0
			}
			s.NextRetryAt = now
		case StepRetrying, StepCompensating:
			s.NextRetryAt = now
		default:
			if s.Probes > 0 {
				s.NextRetryAt = now // a probe in backoff
			}
		}
	}
	return next
}

// Normalize returns a copy of st whose Steps are aligned with def.Steps: one entry per
// step, in definition order, matched by name (an unnamed entry matches by position);
// missing entries are Pending, entries of steps not in def are dropped, and empty or
// unknown statuses read as Pending. The result never shares memory with st.
func Normalize(def Definition, st State) State {
	out := st
	out.Steps = make([]StepState, len(def.Steps))
	for i, step := range def.Steps {
		s := StepState{Status: StepPending}
		if j := findStep(st.Steps, step.Name, i); j >= 0 {
			s = st.Steps[j]
		}
		s.Name = step.Name
		s.Status = known(s.Status)
		out.Steps[i] = s
	}
	return out
}

func findStep(steps []StepState, name string, i int) int {
	if i < len(steps) && (steps[i].Name == name || steps[i].Name == "") {
		return i // the common case: already aligned
	}
	for j := range steps {
		if steps[j].Name == name {
			return j
		}
	}
	return -1
}
