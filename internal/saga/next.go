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

// Next returns what to do next. Pure: same inputs, same answer; it never allocates.
//
// Forward, the first step that is not Succeeded is the current one: Pending or a due
// Retrying step is done (ActDo), a Retrying step in backoff is waited for (ActWait), a
// Stalled step after the pivot is handed to a person (ActStall). When every step
// succeeded the saga finishes with ResultSucceeded.
//
// The saga compensates when it is aborted, when a compensatable step or the pivot was
// refused or exhausted, when the deadline passed before the pivot succeeded, or when an
// undo has already been recorded (compensation is sticky: an undo leaves tombstones at
// the participants, so going forward again is impossible). Compensation walks the steps
// newest first and undoes every step whose effect may exist (see needsUndo); when none
// is left it finishes with ResultCompensated.
//
// Action.Step is also set for ActWait (the step whose backoff is waited for).
func Next(def Definition, st State, now time.Time) Action {
	return plan(def, st, now).act
}

// verdict is Next's answer plus what Status needs to explain it.
type verdict struct {
	act          Action
	compensating bool
	cause        int // step whose failure caused compensation or stall; -1 if none
}

func plan(def Definition, st State, now time.Time) verdict {
	if reason, cause, ok := compensation(def, st, now); ok {
		if p := inDoubtPivot(def, st); p >= 0 {
			return probe(def, st, now, p, reason, cause)
		}
		return compensate(def, st, now, reason, cause)
	}
	return forward(def, st, now)
}

// inDoubtPivot returns the pivot's index when compensation is about to start while the
// pivot's effect is in doubt and the definition can ask about it (Step.Probe); -1
// otherwise. A pivot with a probe gets no checkpoint of its own (MustCheckpoint), so a
// restart may load a state from before the pivot succeeded, although the pivot and the
// steps after it ran; that state's replay may then exhaust its attempts, outlive the
// deadline or meet a deletion, and compensating would undo a saga that must go forward.
// The pivot is not in doubt once compensation is recorded (an undo was decided, after
// any probe), once the pivot's own outcome is final (Succeeded, Refused), or when a step
// before it was refused: participants repeat their first answer, so no run went past a
// refused step.
func inDoubtPivot(def Definition, st State) int {
	pivot := pivotOf(def)
	if !pivotProbed(def) {
		return -1
	}
	for i := range def.Steps {
		s := stepAt(st, i)
		switch known(s.Status) {
		case StepCompensating, StepCompensated:
			return -1
		case StepStalled:
			if undoStalled(s) {
				return -1
			}
		case StepRefused:
			if i <= pivot {
				return -1 // before the pivot, or the pivot itself
			}
		}
	}
	switch statusAt(st, pivot) {
	case StepPending, StepRetrying, StepExhausted:
		return pivot
	}
	return -1
}

// probe asks whether the in-doubt pivot p happened, or waits for the probe's backoff.
// Nothing is decided yet, so the verdict is not compensating.
func probe(def Definition, st State, now time.Time, p int, reason string, cause int) verdict {
	s := stepAt(st, p)
	if s.Probes > 0 && !due(s.NextRetryAt, now) {
		return verdict{act: Action{Type: ActWait, Step: p, Name: def.Steps[p].Probe, Until: s.NextRetryAt, Reason: reason}, cause: cause}
	}
	return verdict{act: Action{Type: ActProbe, Step: p, Name: def.Steps[p].Probe, Reason: reason}, cause: cause}
}

// statusAt reads a step's status; missing, empty or unknown entries are Pending so that
// a state recorded against a shorter (or older) definition still means something.
func statusAt(st State, i int) StepStatus {
	if i >= len(st.Steps) {
		return StepPending
	}
	return known(st.Steps[i].Status)
}

func known(s StepStatus) StepStatus {
	switch s {
	case StepRetrying, StepSucceeded, StepRefused, StepExhausted,
		StepCompensating, StepCompensated, StepStalled:
		return s
	}
	return StepPending
}

// pending stands for a missing entry; never modified.
var pending = StepState{Status: StepPending}

// stepAt returns step i's recorded state without copying it (Next must stay cheap); the
// caller must not modify it and must read the status through statusAt.
func stepAt(st State, i int) *StepState {
	if i >= len(st.Steps) {
		return &pending
	}
	return &st.Steps[i]
}

// undoStalled tells a compensation that stalled from a forward stall: only undo attempts
// can stall a compensation, and Retry resets them together with the status.
func undoStalled(s *StepState) bool { return known(s.Status) == StepStalled && s.UndoAttempts > 0 }

// due reports whether a backoff that ends at t is over.
func due(t, now time.Time) bool { return t.IsZero() || !now.Before(t) }

// compensation decides whether the saga is compensating, why, and which step caused it.
func compensation(def Definition, st State, now time.Time) (reason string, cause int, ok bool) {
	cause = -1
	pivotDone, sticky := false, false
	frontier := -1 // the last step attempted forward
	for i, step := range def.Steps {
		s := stepAt(st, i)
		if s.Attempts > 0 {
			frontier = i
		}
		switch known(s.Status) {
		case StepRefused, StepExhausted:
			// A retriable step never compensates; Record stalls it instead.
			if step.Kind != Retriable && cause < 0 {
				cause = i
				reason = ReasonStepRefused
				if s.Status == StepExhausted {
					reason = ReasonAttemptsExhausted
				}
			}
		case StepCompensating, StepCompensated:
			sticky = true
		case StepStalled:
			sticky = sticky || undoStalled(s)
		case StepSucceeded:
			pivotDone = pivotDone || step.Kind == Pivot
		}
	}
	deadline := !st.Deadline.IsZero() && !pivotDone
	switch {
	case st.Abort:
		return ReasonAborted, cause, true
	case cause >= 0:
		return reason, cause, true
	case sticky && exhaustedThenUndone(def, st, frontier):
		// Undoing an Exhausted step overwrote its status; its attempts still tell.
		return ReasonAttemptsExhausted, frontier, true
	case deadline && !now.Before(st.Deadline):
		return ReasonDeadlineExceeded, -1, true
	case sticky && deadline:
		// An undo was recorded and only the deadline can explain it (Status without a clock).
		return ReasonDeadlineExceeded, -1, true
	case sticky:
		// Only an abort compensates past the pivot or without a failed step.
		return ReasonAborted, -1, true
	}
	return "", -1, false
}

// exhaustedThenUndone reports whether the forward frontier is a compensatable step or the
// pivot that used its whole attempt budget and is being (or was) undone. A step that
// succeeded on its very last attempt right before the deadline passed reads the same; the
// reason is then AttemptsExhausted instead of DeadlineExceeded, which only affects display.
func exhaustedThenUndone(def Definition, st State, frontier int) bool {
	if frontier < 0 || def.Steps[frontier].Kind == Retriable {
		return false
	}
	s := stepAt(st, frontier)
	status := known(s.Status)
	undoing := status == StepCompensating || status == StepCompensated || undoStalled(s)
	return undoing && s.Attempts >= atLeastOne(def.Policy.MaxAttempts)
}

func forward(def Definition, st State, now time.Time) verdict {
	for i, step := range def.Steps {
		s := stepAt(st, i)
		switch known(s.Status) {
		case StepSucceeded:
			continue
		case StepRetrying:
			if !due(s.NextRetryAt, now) {
				return verdict{act: Action{Type: ActWait, Step: i, Name: step.Name, Until: wakeUp(def, st, s.NextRetryAt)}, cause: -1}
			}
		case StepStalled, StepRefused, StepExhausted:
			// Only a retriable step gets here (the others compensate): a person must act.
			return verdict{act: Action{Type: ActStall, Step: i, Name: step.Name, Reason: ReasonRetriableStepRefused}, cause: i}
		}
		return verdict{act: Action{Type: ActDo, Step: i, Name: step.Name}, cause: -1}
	}
	return verdict{act: Action{Type: ActFinish, Result: ResultSucceeded}, cause: -1}
}

// wakeUp is when a forward wait ends: at the retry time, or at the deadline when that
// comes first and the pivot has not succeeded (past the deadline the saga compensates,
// and it must not sleep through it).
func wakeUp(def Definition, st State, retryAt time.Time) time.Time {
	if !st.Deadline.IsZero() && st.Deadline.Before(retryAt) && !pivotSucceeded(def, st) {
		return st.Deadline
	}
	return retryAt
}

func compensate(def Definition, st State, now time.Time, reason string, cause int) verdict {
	refused := firstRefused(def, st)
	for i := len(def.Steps) - 1; i >= 0; i-- {
		step := def.Steps[i]
		s := stepAt(st, i)
		status := known(s.Status)
		if step.Undo == "" || !needsUndo(status, i, refused) {
			continue
		}
		switch {
		case status == StepCompensated:
			continue
		case undoStalled(s):
			return verdict{act: Action{Type: ActStall, Step: i, Name: step.Undo, Reason: ReasonCompensationRefused}, compensating: true, cause: i}
		case status == StepCompensating && !due(s.NextRetryAt, now):
			wait := Action{Type: ActWait, Step: i, Name: step.Undo, Until: s.NextRetryAt, Reason: reason}
			return verdict{act: wait, compensating: true, cause: cause}
		}
		// Newest first: an older step is only undone once every newer one is.
		return verdict{act: Action{Type: ActUndo, Step: i, Name: step.Undo, Reason: reason}, compensating: true, cause: cause}
	}
	return verdict{act: Action{Type: ActFinish, Result: ResultCompensated, Reason: reason}, compensating: true, cause: cause}
}

func firstRefused(def Definition, st State) int {
	for i := range def.Steps {
		if statusAt(st, i) == StepRefused {
			return i
		}
	}
	return -1
}

// needsUndo reports whether compensation must undo step i (if it has an Undo), given the
// index of the first Refused step (-1 if none).
//
// Succeeded, Retrying (a response may have been lost), Exhausted and Stalled steps may
// have their effect; Compensating and Compensated ones are being or have been undone.
// Refused steps applied nothing. A Pending step is undone too unless an earlier step
// was refused: the caller may have performed it (and later ones) and crashed before the
// state was persisted, so its effect is uncertain; the undo is idempotent, and its
// tombstone also refuses a late do still on its way. After a refusal the saga cannot
// have gone past the refused step in any history (participants repeat their first answer),
// so the steps after it are known untouched.
func needsUndo(s StepStatus, i, refused int) bool {
	switch s {
	case StepRefused:
		return false
	case StepPending:
		return refused < 0 || refused > i
	}
	return true
}
