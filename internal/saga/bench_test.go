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

// Next runs on every reconcile; it must not allocate.
func BenchmarkNext(b *testing.B) {
	def := orderDef()
	states := []State{
		state(ss{status: StepSucceeded}, ss{status: StepRetrying, attempts: 1, retryAt: at(time.Second)}),
		state(ss{status: StepSucceeded}, ss{status: StepCompensating, undo: 1, retryAt: at(time.Second)}, ss{status: StepRefused}),
		state(ss{status: StepSucceeded}, ss{status: StepSucceeded}, ss{status: StepSucceeded}, ss{status: StepSucceeded}, ss{status: StepSucceeded}),
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		Next(def, states[i%len(states)], t0)
	}
}

// Record copies the steps once (it never modifies its input).
func BenchmarkRecord(b *testing.B) {
	def := orderDef()
	st := state(ss{status: StepSucceeded}, ss{status: StepRetrying, attempts: 1})
	act := Action{Type: ActDo, Step: reserve, Name: "ReserveStock"}
	out := Outcome{Class: Transient, Err: "503"}
	b.ReportAllocs()
	for b.Loop() {
		Record(def, st, act, out, t0)
	}
}

func TestNextDoesNotAllocate(t *testing.T) {
	def := orderDef()
	st := state(ss{status: StepSucceeded}, ss{status: StepCompensating, undo: 1, retryAt: at(time.Second)}, ss{status: StepRefused})
	if n := testing.AllocsPerRun(100, func() { Next(def, st, t0) }); n != 0 {
		t.Fatalf("Next allocates %v times per call", n)
	}
}
