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

// Package saga is the saga engine: a pure, Kubernetes-free decision function over
// (definition, recorded state, clock). It never performs calls itself; the caller
// performs the action that Next returns and reports the outcome to Record.
//
// A reconcile pass, in short:
//
//	st := saga.Normalize(def, loaded)          // loaded from status; saved := st
//	for {
//		act := saga.Next(def, st, now)
//		if act is Wait, Stall or Finish: persist st if changed; requeue/report; stop
//		if saga.MustCheckpoint(def, saved, st, now) { persist st; saved = st }
//		out := call(act)                       // ActDo: .Name; ActUndo: .Undo; ActProbe: .Probe
//		st = saga.Record(def, st, act, out, now)
//	}
//
// Several calls may run between writes (participants are idempotent, so a crash only
// repeats calls), except across the points MustCheckpoint reports: the decision to
// compensate must be persisted before the first undo, and the pivot's success before the
// next call unless the pivot has a Probe (then a restart that would compensate first asks
// the pivot's participant whether its effect exists: ActProbe). StatusAt condenses a
// state into phase, conditions and the saga-level error; Retry applies the retry
// annotation.
package saga

import "time"

// Kind says how a step's failure is handled.
type Kind string

const (
	// Compensatable steps come before the pivot; on failure they are undone.
	Compensatable Kind = "Compensatable"
	// Pivot is the go/no-go step: once it succeeded the saga only moves forward.
	Pivot Kind = "Pivot"
	// Retriable steps come after the pivot: retried until they succeed, however long the
	// outage, never compensated on failure (only a refusal stalls the saga for a person).
	Retriable Kind = "Retriable"
)

// Step is one step of a definition.
type Step struct {
	Name string // the forward action, e.g. "LockCart"
	Kind Kind
	// Undo names the compensation, e.g. "UnlockCart"; empty when the step has none
	// (its effect is reversed by an earlier step's undo).
	Undo string
	// DoneEvent and UndoneEvent are the history entries for the step, e.g. "CART_LOCKED".
	DoneEvent, UndoneEvent string
	// Probe names a read that tells whether the step's effect exists (found: success; not
	// found: refusal), e.g. "GetSale". Only the pivot may have one. With it the pivot's
	// success needs no checkpoint of its own: a saga about to compensate while its pivot
	// is in doubt asks first (ActProbe), and goes forward when the effect exists.
	Probe string
}

// Policy bounds retries.
type Policy struct {
	// MaxAttempts: before the pivot, attempts before a transient failure counts as final;
	// after it, when to raise an alarm (retries go on).
	MaxAttempts             int
	CompensationMaxAttempts int           // undo attempts before an alarm is raised (retries go on)
	BackoffBase             time.Duration // first retry delay
	BackoffMax              time.Duration // cap of the exponential delay
}

// Definition is an ordered list of steps and the retry policy.
type Definition struct {
	Steps  []Step
	Policy Policy
}

// StepStatus is the recorded state of one step.
type StepStatus string

const (
	StepPending      StepStatus = "Pending"      // not attempted
	StepRetrying     StepStatus = "Retrying"     // a transient failure; effect uncertain; retry at NextRetryAt
	StepSucceeded    StepStatus = "Succeeded"    // done
	StepRefused      StepStatus = "Refused"      // business refusal: final, nothing applied
	StepExhausted    StepStatus = "Exhausted"    // transient failures up to the limit: effect uncertain
	StepCompensating StepStatus = "Compensating" // undo failed transiently; retry at NextRetryAt
	StepCompensated  StepStatus = "Compensated"  // undo done (or nothing to undo)
	StepStalled      StepStatus = "Stalled"      // an undo or a retriable step was refused: a person must act
)

// StepState is what is recorded for one step.
type StepState struct {
	Name         string
	Status       StepStatus
	Attempts     int // forward attempts
	UndoAttempts int // compensation attempts
	Probes       int // probe attempts that failed transiently (the pivot only; see Step.Probe)
	LastError    string
	NextRetryAt  time.Time // zero when no retry is scheduled
	StartedAt    time.Time
	FinishedAt   time.Time
}

// State is the recorded state of one saga run.
type State struct {
	Steps    []StepState // index-aligned with Definition.Steps (missing entries are Pending)
	Deadline time.Time   // zero: none; past it before the pivot succeeded, compensate
	Abort    bool        // undo everything that was done, pivot included (deletion)
	Seed     uint64      // makes jitter deterministic per saga (e.g. a hash of the Order UID)
}

// ActionType is what the caller must do next.
type ActionType string

const (
	ActDo     ActionType = "Do"     // call Definition.Steps[Step].Name
	ActUndo   ActionType = "Undo"   // call Definition.Steps[Step].Undo
	ActWait   ActionType = "Wait"   // nothing to do until Until
	ActFinish ActionType = "Finish" // terminal: see Result
	ActStall  ActionType = "Stall"  // a person must act (Retry); see Step and Reason
	// ActProbe: call Definition.Steps[Step].Probe, the pivot's read, before compensating
	// while the pivot's effect is in doubt. Reason says why the saga would compensate.
	ActProbe ActionType = "Probe"
)

// Result is the terminal outcome of a saga.
type Result string

const (
	ResultSucceeded   Result = "Succeeded"   // every step done
	ResultCompensated Result = "Compensated" // failed (or aborted), every done step undone
)

// Action is the engine's decision.
type Action struct {
	Type   ActionType
	Step   int       // index in Definition.Steps (Do, Undo, Stall)
	Name   string    // the call to make (Do: step name; Undo: undo name; Probe: probe name)
	Until  time.Time // Wait
	Result Result    // Finish
	Reason string    // CamelCase why, e.g. "StepRefused", "DeadlineExceeded", "Aborted"
}

// Class classifies a call's outcome.
type Class string

const (
	Success   Class = "Success"
	Refusal   Class = "Refusal"   // business refusal (4xx): final
	Transient Class = "Transient" // 5xx, timeout, connection refused: retry
)

// Outcome is what a call returned.
type Outcome struct {
	Class Class
	Err   string // message for lastError; empty on success
}
