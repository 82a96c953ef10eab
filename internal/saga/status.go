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

// Summary condenses a state for the reconciler's conditions, phase and printer columns.
type Summary struct {
	// Running: the saga is not finished (forward, compensating, waiting or stalled).
	Running bool
	// Started: some step was attempted (done or undone) at least once.
	Started bool
	// Compensating: the saga is on the compensation path (still true once it finished
	// with ResultCompensated).
	Compensating bool
	// Result is set when the saga finished.
	Result Result
	// Stalled: a person must act (Retry); Reason says whether an undo or a retriable step.
	Stalled bool
	// CurrentStep is the index of the step being done, undone, waited for or stalled on;
	// -1 when the saga finished.
	CurrentStep int
	// Reason is the CamelCase cause of compensation or stall (see the Reason constants);
	// empty on the plain forward path.
	Reason string
	// LastError is the error that caused the compensation or stall (for a deadline or an
	// abort without a failed step: a short description, or empty for an abort); while a
	// forward step retries, its last transient error.
	LastError string
	// NextRetryAt is when the saga wakes up from a backoff (or at the deadline, when that
	// comes first); zero when it is not waiting.
	NextRetryAt time.Time
	// PastAttemptLimit: the step being retried (forward after the pivot, or an undo) has
	// failed at least the policy's limit of times (MaxAttempts forward,
	// CompensationMaxAttempts for an undo) and still retries at the capped backoff. Nothing
	// is lost, but an outage lasts longer than expected: worth an alarm. It clears itself
	// when the step succeeds.
	PastAttemptLimit bool
}

// Status summarizes st without a clock: a deadline counts only once compensation has
// been recorded, and every backoff reads as still running. Prefer StatusAt when the
// current time is at hand; Status exists for display code that has none.
func Status(def Definition, st State) Summary { return StatusAt(def, st, time.Time{}) }

// StatusAt summarizes st at time now, consistently with Next(def, st, now).
func StatusAt(def Definition, st State, now time.Time) Summary {
	v := plan(def, st, now)
	sum := Summary{
		Running:      v.act.Type != ActFinish,
		Compensating: v.compensating,
		Stalled:      v.act.Type == ActStall,
		CurrentStep:  v.act.Step,
		Reason:       v.act.Reason,
	}
	for i := range def.Steps {
		if s := stepAt(st, i); s.Attempts > 0 || s.UndoAttempts > 0 || s.Probes > 0 || known(s.Status) != StepPending {
			sum.Started = true
			break
		}
	}
	switch v.act.Type {
	case ActFinish:
		sum.Result = v.act.Result
		sum.CurrentStep = -1
	case ActWait:
		sum.NextRetryAt = v.act.Until
	}
	if t := v.act.Type; t == ActDo || t == ActUndo || t == ActWait || t == ActProbe {
		s := stepAt(st, v.act.Step)
		switch {
		case probing(def, v.act):
			sum.PastAttemptLimit = s.Probes >= atLeastOne(def.Policy.MaxAttempts)
		case known(s.Status) == StepRetrying:
			sum.PastAttemptLimit = s.Attempts >= atLeastOne(def.Policy.MaxAttempts)
		case known(s.Status) == StepCompensating:
			sum.PastAttemptLimit = s.UndoAttempts >= atLeastOne(def.Policy.CompensationMaxAttempts)
		}
	}
	switch {
	case v.cause >= 0:
		sum.LastError = stepAt(st, v.cause).LastError
	case v.act.Reason == ReasonDeadlineExceeded:
		sum.LastError = "deadline " + st.Deadline.UTC().Format(time.RFC3339) + " exceeded"
	case !v.compensating && v.act.Type != ActFinish:
		sum.LastError = stepAt(st, v.act.Step).LastError
	}
	if probing(def, v.act) && stepAt(st, v.act.Step).Probes > 0 {
		sum.LastError = stepAt(st, v.act.Step).LastError // why the probe is retried
	}
	return sum
}

// probing reports whether act probes the pivot or waits for the probe's backoff.
func probing(def Definition, act Action) bool {
	switch act.Type {
	case ActProbe:
		return true
	case ActWait:
		return act.Name != "" && act.Name == def.Steps[act.Step].Probe
	}
	return false
}
