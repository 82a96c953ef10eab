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
	"strings"
	"testing"
	"time"
)

func TestMustCheckpoint(t *testing.T) {
	def := orderDef()
	S := ss{status: StepSucceeded, attempts: 1}
	retrying := ss{status: StepRetrying, attempts: 2, retryAt: at(time.Second)}
	exhausted := ss{status: StepExhausted, attempts: 3}
	withDeadline := func(st State) State { st.Deadline = at(time.Minute); return st }
	absent := ss{status: StepCompensating} // the pivot's probe found nothing
	tests := []struct {
		name      string
		saved, st State
		now       time.Time
		want      bool
	}{
		{"forward progress before the pivot can be batched", State{}, state(S, S), t0, false},
		{"forward progress after the pivot can be batched", state(S, S, S), state(S, S, S, S), t0, false},
		{"the pivot succeeded, with a probe: a restart asks the pivot instead", state(S, S), state(S, S, S), t0, false},
		{"the pivot succeeded, without a probe: persist before going on", state(S, S), state(S, S, S), t0, true},
		{"an exhausted step decides nothing before the probe answers", state(S, retrying), state(S, exhausted), t0, false},
		{"the decision to compensate: persist before the first undo", state(S, retrying), state(S, exhausted, absent), t0, true},
		{"without a probe the exhausted step decides at once", state(S, retrying), state(S, exhausted), t0, true},
		{"a refusal is repeatable, but persisting it costs nothing and keeps the rule simple", state(S), state(S, ss{status: StepRefused, attempts: 1}), t0, true},
		{"already compensating", state(S, exhausted, absent), state(S, exhausted, ss{status: StepCompensated, undo: 1}), t0, false},
		{"the deadline is monotonic: a restart decides the same", withDeadline(state(S)), withDeadline(state(S, retrying)), at(time.Hour), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := def
			if strings.Contains(tc.name, "without a probe") {
				d = withoutProbe(def)
			}
			if got := MustCheckpoint(d, tc.saved, tc.st, tc.now); got != tc.want {
				t.Fatalf("MustCheckpoint = %v, want %v", got, tc.want)
			}
		})
	}
}
