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

// MustCheckpoint reports whether the caller must persist st before it performs the next
// action, given saved, the state it last persisted (e.g. the status it loaded).
//
// A reconcile pass may run several calls and write status once (docs/architecture.md, "Why it is safe to repeat anything"); a crash
// then restarts from saved and repeats the calls, which participants answer as before.
// That is only safe while a restart from saved cannot decide differently from st:
//   - st compensates but saved does not: an exhausted step (transient faults are not
//     repeatable) may succeed after the restart, the saga goes forward, and an undo that
//     is still on its way then reverses a step of a saga that succeeds. Persisting the
//     decision first makes it stick: every compensation trigger is then either recorded
//     or monotonic (deadline, abort).
//   - st has the pivot Succeeded but saved does not, and the pivot has no Probe: after a
//     restart the deadline, an exhausted retry or a deletion could compensate a saga that
//     already ran steps after the pivot, which are never compensated. With a Probe that
//     restart asks the pivot's participant first (ActProbe) and goes forward when the
//     effect exists, so the happy path needs no write between its first call and its end.
//
// It is false when saved already is at (or past) those points.
func MustCheckpoint(def Definition, saved, st State, now time.Time) bool {
	if plan(def, st, now).compensating && !plan(def, saved, now).compensating {
		return true
	}
	return pivotSucceeded(def, st) && !pivotSucceeded(def, saved) && !pivotProbed(def)
}

// pivotOf returns the pivot's index, or -1 for a definition without one.
func pivotOf(def Definition) int {
	for i, step := range def.Steps {
		if step.Kind == Pivot {
			return i
		}
	}
	return -1
}

// pivotProbed reports whether the pivot has a Probe.
func pivotProbed(def Definition) bool {
	p := pivotOf(def)
	return p >= 0 && def.Steps[p].Probe != ""
}

func pivotSucceeded(def Definition, st State) bool {
	p := pivotOf(def)
	return p >= 0 && statusAt(st, p) == StepSucceeded
}

// PastPivot reports whether the pivot succeeded: from then on the saga only goes forward
// unless it is aborted (State.Abort), which the caller decides (a deletion under the
// Retain policy finishes forward past the pivot; see docs/operations.md).
func PastPivot(def Definition, st State) bool { return pivotSucceeded(def, st) }
