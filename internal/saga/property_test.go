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
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// The property test drives Next/Record against in-memory participants that behave like the
// real services (docs/participant-protocol.md) under thousands of random schedules of
// refusals, transient faults, lost and late responses, outages, crashes with lost records,
// deadlines, deletions under both policies and manual retries, and checks the end state.

var (
	flagSchedules = flag.Int("saga.schedules", 3000, "property test: schedules per definition family")
	flagSeed      = flag.Uint64("saga.seed", 1, "property test: base seed")
	flagOne       = flag.Uint64("saga.one", 0, "property test: run only this schedule seed, with a trace")
)

// participant is one step's service for one saga, idempotent exactly like the real ones:
// a repeated do returns the first answer, refusals included; an undo before its do leaves
// a tombstone so a late do is refused; a do after its undo is refused. It counts effects.
//
// A participant that does not remember (forgets) answers a do it has not applied from its
// current state instead, as carts once did: a refusal for a reason that goes away (the
// cart held by another order, which then releases it) turns into a success for a late or
// repeated call. TestSagaPropertyCatchesForgetfulParticipants proves the test sees that.
type participant struct {
	retriable bool
	forgets   bool
	// Schedule: a business refusal of the do while blocked (the state it depends on, which
	// may change during the storm), an undo refused until healed, and an outage of the
	// next down calls.
	blocked, brokenUndo bool
	down                int

	answered bool
	answer   Class
	tomb     bool
	applied  int // times the effect was applied
	undone   int // times the effect was reversed
}

func (p *participant) do() Class {
	switch {
	case p.tomb:
		return Refusal // 409 already-compensated, never re-applied
	case p.answered:
		return p.answer
	case p.blocked && p.forgets:
		return Refusal // answered from the current state, not remembered
	case p.blocked:
		p.answered, p.answer = true, Refusal
		return Refusal
	}
	p.answered, p.answer = true, Success
	p.applied++
	return Success
}

func (p *participant) undo() Class {
	if p.brokenUndo {
		return Refusal
	}
	if !p.tomb {
		p.tomb = true
		if p.answered && p.answer == Success {
			p.undone++
		}
	}
	return Success
}

type call struct {
	step int
	undo bool
}

type event struct {
	at   time.Duration
	act  Action
	out  Outcome
	note string
}

type world struct {
	// probes counts the probes' answers (found, absent), for coverage.
	probes map[Class]int
	t      *testing.T
	onFail func(msg string) // nil: the test fails
	seed   uint64
	def    Definition
	rng    *rand.Rand
	parts  []participant
	late   []call // calls on their way, delivered later (slow network, timed out caller)
	trace  []event
	now    time.Time

	pConnFail, pLost, pSlow float64
	faults                  bool
}

func (w *world) fail(format string, args ...any) {
	w.t.Helper()
	var b strings.Builder
	for _, e := range w.trace {
		fmt.Fprintf(&b, "\n  +%-8v %-6s %d %-18s %-10s %s", e.at, e.act.Type, e.act.Step, e.act.Name, e.out.Class, e.note)
	}
	msg := fmt.Sprintf("schedule seed %d (rerun: go test ./internal/saga -run TestSagaProperty -saga.one=%d): %s\ntrace:%s",
		w.seed, w.seed, fmt.Sprintf(format, args...), b.String())
	if w.onFail != nil {
		w.onFail(msg)
	}
	w.t.Fatal(msg)
}

func (w *world) note(act Action, out Outcome, format string, args ...any) {
	w.trace = append(w.trace, event{at: w.now.Sub(t0), act: act, out: out, note: fmt.Sprintf(format, args...)})
}

func (w *world) deliver(c call) Class {
	p := &w.parts[c.step]
	var cl Class
	if c.undo {
		cl = p.undo()
	} else {
		cl = p.do()
	}
	if p.applied > 1 || p.undone > 1 {
		w.fail("step %d: effect applied %d times, undone %d times", c.step, p.applied, p.undone)
	}
	return cl
}

func (w *world) deliverLate(all bool) {
	for len(w.late) > 0 && (all || w.rng.IntN(2) == 0) {
		k := w.rng.IntN(len(w.late))
		c := w.late[k]
		w.late = append(w.late[:k], w.late[k+1:]...)
		cl := w.deliver(c)
		w.note(Action{Type: "Late", Step: c.step}, Outcome{Class: cl}, "undo=%v", c.undo)
	}
}

// perform makes the call that act asks for, through a faulty network.
func (w *world) perform(act Action) Outcome {
	c := call{step: act.Step, undo: act.Type == ActUndo}
	p := &w.parts[c.step]
	if p.down > 0 {
		p.down--
		return Outcome{Class: Transient, Err: "connection refused"}
	}
	if act.Type == ActProbe {
		// A read: it fails or answers, it never applies anything.
		if w.faults && w.rng.Float64() < w.pConnFail+w.pLost+w.pSlow {
			return Outcome{Class: Transient, Err: "timeout"}
		}
		if w.probes == nil {
			w.probes = map[Class]int{}
		}
		if p.applied > p.undone {
			w.probes[Success]++
			return Outcome{Class: Success}
		}
		w.probes[Refusal]++
		return Outcome{Class: Refusal, Err: "not found"}
	}
	if w.faults {
		switch r := w.rng.Float64(); {
		case r < w.pConnFail:
			return Outcome{Class: Transient, Err: "connection reset"}
		case r < w.pConnFail+w.pLost:
			w.deliver(c) // applied, but the response is lost
			return Outcome{Class: Transient, Err: "response lost"}
		case r < w.pConnFail+w.pLost+w.pSlow:
			w.late = append(w.late, c)
			return Outcome{Class: Transient, Err: "timeout"}
		}
	}
	if cl := w.deliver(c); cl != Success {
		return Outcome{Class: cl, Err: "refused"}
	}
	return Outcome{Class: Success}
}

func clone(st State) State {
	st.Steps = append([]StepState(nil), st.Steps...)
	return st
}

// schedule is one random run. It returns how it ended, for coverage accounting, and
// adds the answers of its probes to probes.
func schedule(t *testing.T, seed uint64, def Definition, probes map[Class]int) string {
	t.Helper()
	w := &world{t: t}
	end := scheduleWith(w, seed, def, false)
	for c, n := range w.probes {
		probes[c] += n
	}
	return end
}

// scheduleWith runs one random schedule in w; forgetful makes every participant answer
// from its current state instead of remembering refusals.
func scheduleWith(w *world, seed uint64, def Definition, forgetful bool) string {
	rng := rand.New(rand.NewPCG(seed, 0x5a6a))
	w.seed, w.def, w.rng, w.now, w.faults = seed, def, rng, t0, true
	w.pConnFail, w.pLost, w.pSlow = rng.Float64()*0.15, rng.Float64()*0.15, rng.Float64()*0.15
	w.parts = make([]participant, len(def.Steps))
	for i := range w.parts {
		w.parts[i] = participant{
			retriable:  def.Steps[i].Kind == Retriable,
			forgets:    forgetful,
			blocked:    rng.IntN(12) == 0,
			brokenUndo: rng.IntN(10) == 0,
		}
	}
	var (
		pPersist        = 0.1 + 0.9*rng.Float64() // checkpoint after a call
		pCrash          = rng.Float64() * 0.1     // crash after a call, before its record
		checkpointWaits = rng.IntN(2) == 0        // the reconciler checkpoints before a wait
		abortAt         = -1                      // iteration at which the Order is deleted
		abortAfter      = rng.IntN(4) == 0        // delete once succeeded
		retain          = rng.IntN(2) == 0        // deletion policy Retain (else Compensate)
		chaosBudget     = 20 + rng.IntN(300)
	)
	if rng.IntN(3) == 0 {
		abortAt = rng.IntN(40)
	}
	persisted := State{Seed: rng.Uint64()}
	if rng.IntN(5) < 3 {
		persisted.Deadline = t0.Add(time.Duration(rng.Int64N(int64(6 * time.Second))))
	}
	mem := clone(persisted)
	abort := false                              // the Order is deleted
	undoRefused := make([]bool, len(def.Steps)) // the last undo outcome recorded was a refusal
	doRefused := make([]bool, len(def.Steps))   // the last do outcome recorded was a refusal
	compensatingSeen := false                   // an undo was issued since the last restart
	// aborting is the reconciler's rule (docs/operations.md, deletion policies): a deletion
	// aborts the saga, except under Retain once the pivot succeeded: then it finishes forward.
	aborting := func(st State) bool { return abort && (!retain || !PastPivot(def, st)) }

	for iter := 0; ; iter++ {
		chaos := iter < chaosBudget
		if !chaos && w.faults {
			// The storm is over: services heal and the network behaves, so the saga must end.
			w.faults = false
			for i := range w.parts {
				// The other holder lets go: a forgetful participant would now apply a late do.
				w.parts[i].blocked = false
				w.parts[i].brokenUndo, w.parts[i].down = false, 0
			}
			w.deliverLate(true)
			w.note(Action{Type: "Calm"}, Outcome{}, "")
		}
		if iter > chaosBudget+50*len(def.Steps)+50 {
			w.fail("no end after %d iterations in calm conditions", iter)
		}
		if iter == abortAt {
			abort = true
		}
		mem.Abort, persisted.Abort = aborting(mem), aborting(persisted)
		if chaos {
			if rng.IntN(4) == 0 {
				w.deliverLate(false)
			}
			if rng.IntN(20) == 0 {
				w.parts[rng.IntN(len(w.parts))].blocked = false // the state a refusal depended on changes
			}
			if rng.IntN(30) == 0 {
				w.parts[rng.IntN(len(w.parts))].down = 1 + rng.IntN(2*def.Policy.MaxAttempts)
			}
		}

		act := Next(def, mem, w.now)
		switch act.Type {
		case ActWait:
			if !act.Until.After(w.now) {
				w.fail("wait until %v is not in the future (now %v): hot loop", act.Until, w.now)
			}
			if checkpointWaits {
				persisted = clone(mem)
			}
			w.note(act, Outcome{}, "")
			w.now = act.Until
			continue

		case ActFinish:
			persisted = clone(mem)
			w.note(act, Outcome{}, "%s %s", act.Result, act.Reason)
			if act.Result == ResultSucceeded && abortAfter && !abort {
				abort = true
				if retain {
					w.note(Action{Type: "Delete"}, Outcome{}, "policy Retain: the sale stands")
				}
				continue
			}
			for i := range w.parts {
				w.parts[i].blocked = false // later, the state a refusal depended on changes...
			}
			w.deliverLate(true) // ...and whatever is still on its way arrives
			w.checkFinished(act, mem.Abort)
			return "finished " + string(act.Result) + " " + act.Reason

		case ActStall:
			persisted = clone(mem)
			w.note(act, Outcome{}, "%s", act.Reason)
			i, p := act.Step, &w.parts[act.Step]
			impossible := false
			// Only a refusal stalls: transient failures are retried for ever.
			switch act.Reason {
			case ReasonCompensationRefused:
				if !undoRefused[i] {
					w.fail("undo of step %d stalled without a refusal", i)
				}
				for j := i + 1; j < len(def.Steps); j++ {
					if def.Steps[j].Undo != "" && needsUndo(statusAt(mem, j), j, firstRefused(def, mem)) && mem.Steps[j].Status != StepCompensated {
						w.fail("stalled on step %d while newer step %d is %s", i, j, mem.Steps[j].Status)
					}
				}
				impossible = p.brokenUndo
			case ReasonRetriableStepRefused:
				if def.Steps[i].Kind != Retriable || !doRefused[i] {
					w.fail("forward stall of %s step %d without a refusal", def.Steps[i].Kind, i)
				}
				// The participant remembers its refusal: no retry changes it, the saga waits
				// for a person for good, which is the right end.
				w.checkInvariants()
				return "stalled " + act.Reason
			default:
				w.fail("stall reason %q", act.Reason)
			}
			if chaos && impossible && rng.IntN(4) == 0 {
				// A person has not acted yet: the saga stays Stalled, which is legitimate only
				// because the schedule made the step impossible.
				w.checkInvariants()
				return "stalled " + act.Reason
			}
			if chaos && rng.IntN(2) == 0 {
				p.brokenUndo = false
			}
			mem = Retry(def, mem, w.now)
			if next := Next(def, mem, w.now); next.Type == ActStall || next.Type == ActWait {
				w.fail("after Retry the saga still does not act: %+v", next)
			}
			persisted = clone(mem)
			undoRefused[i], doRefused[i] = false, false
			w.note(Action{Type: "Retry", Step: i}, Outcome{}, "")
			continue

		case ActProbe:
			if def.Steps[act.Step].Kind != Pivot || def.Steps[act.Step].Probe == "" {
				w.fail("probe of step %d, which is not a pivot with a probe", act.Step)
			}
		case ActDo:
			if compensatingSeen {
				w.fail("step %d done forward after compensation started", act.Step)
			}
		case ActUndo:
			compensatingSeen = true
			if PastPivot(def, mem) && !mem.Abort {
				w.fail("undo of step %d after the pivot succeeded, without an abort", act.Step)
			}
		default:
			w.fail("unknown action %+v", act)
		}

		if MustCheckpoint(def, persisted, mem, w.now) {
			// The reconciler's contract: persist a decision a restart could reverse before acting on it.
			persisted = clone(mem)
			w.note(Action{Type: "Save"}, Outcome{}, "checkpoint")
		}
		out := w.perform(act)
		w.now = w.now.Add(time.Duration(rng.Int64N(int64(200 * time.Millisecond))))
		if chaos && rng.Float64() < pCrash {
			// The process dies after the call: its record and everything not checkpointed is lost.
			mem = clone(persisted)
			compensatingSeen = false
			w.note(act, out, "crash: restart from the checkpoint")
			continue
		}
		mem = Record(def, mem, act, out, w.now)
		switch act.Type {
		case ActUndo:
			undoRefused[act.Step] = out.Class == Refusal
		case ActDo:
			doRefused[act.Step] = out.Class == Refusal
		}
		if s := mem.Steps[act.Step]; s.Status == StepStalled && (out.Class != Refusal || act.Type == ActProbe) {
			w.fail("step %d stalled after a %s outcome: only a refusal stalls", act.Step, out.Class)
		}
		w.note(act, out, "-> %s", mem.Steps[act.Step].Status)
		if rng.Float64() < pPersist {
			persisted = clone(mem)
		}
	}
}

func (w *world) checkInvariants() {
	for i, p := range w.parts {
		if p.applied > 1 || p.undone > 1 || p.undone > p.applied {
			w.fail("step %d: applied %d, undone %d", i, p.applied, p.undone)
		}
	}
}

func (w *world) checkFinished(act Action, abort bool) {
	w.checkInvariants()
	switch act.Result {
	case ResultSucceeded:
		if abort {
			w.fail("aborted saga finished Succeeded")
		}
		for i, p := range w.parts {
			if p.applied != 1 || p.undone != 0 {
				w.fail("succeeded, but step %d applied %d times and undone %d times", i, p.applied, p.undone)
			}
		}
	case ResultCompensated:
		if abort != (act.Reason == ReasonAborted) {
			w.fail("compensated with reason %q, abort=%v", act.Reason, abort)
		}
		for i, p := range w.parts {
			// Once the pivot succeeded only an abort compensates: a failed saga never ran a retriable step.
			if !abort && w.def.Steps[i].Kind == Retriable && p.applied > 0 {
				w.fail("compensated without abort, but retriable step %d was applied", i)
			}
		}
		for i, p := range w.parts {
			// A step without undo has its effect reversed by an earlier step's undo.
			if w.def.Steps[i].Undo != "" && p.applied != p.undone {
				w.fail("compensated, but step %d applied %d times and undone %d times", i, p.applied, p.undone)
			}
		}
	default:
		w.fail("finished with result %q", act.Result)
	}
}

// randomDef generates a valid definition: 0-3 compensatable steps, a pivot with or without
// an undo, 0-3 retriable steps some of which have an undo (used only on abort).
func randomDef(rng *rand.Rand) Definition {
	var def Definition
	for i := range rng.IntN(4) {
		def.Steps = append(def.Steps, Step{Name: fmt.Sprintf("C%d", i), Kind: Compensatable, Undo: fmt.Sprintf("UndoC%d", i)})
	}
	pivot := Step{Name: "P", Kind: Pivot}
	if rng.IntN(4) > 0 {
		pivot.Undo = "UndoP"
	}
	if rng.IntN(2) == 0 {
		pivot.Probe = "ProbeP" // else MustCheckpoint keeps the pivot's own checkpoint
	}
	def.Steps = append(def.Steps, pivot)
	for i := range rng.IntN(4) {
		s := Step{Name: fmt.Sprintf("R%d", i), Kind: Retriable}
		if rng.IntN(3) == 0 {
			s.Undo = fmt.Sprintf("UndoR%d", i)
		}
		def.Steps = append(def.Steps, s)
	}
	base := time.Duration(1+rng.IntN(1000)) * time.Millisecond
	def.Policy = Policy{
		MaxAttempts:             1 + rng.IntN(5),
		CompensationMaxAttempts: 1 + rng.IntN(5),
		BackoffBase:             base,
		BackoffMax:              base * time.Duration(1+rng.IntN(50)),
	}
	return def
}

func TestSagaProperty(t *testing.T) {
	if *flagOne != 0 {
		seed := *flagOne
		def := orderDef()
		if seed%2 == 1 {
			def = randomDef(rand.New(rand.NewPCG(seed, 1)))
		}
		t.Logf("definition %+v", def)
		t.Log(schedule(t, seed, def, map[Class]int{}))
		return
	}
	n := *flagSchedules
	if testing.Short() {
		n /= 10
	}
	ends, probes := map[string]int{}, map[Class]int{}
	base := rand.New(rand.NewPCG(*flagSeed, 0))
	for k := 0; k < 2*n; k++ {
		seed := base.Uint64()
		// Even seeds run the order saga, odd ones a definition generated from the seed, so a
		// failing seed alone reproduces the run.
		def := orderDef()
		if k%2 == 1 {
			seed |= 1
			def = randomDef(rand.New(rand.NewPCG(seed, 1)))
		} else {
			seed &^= 1
		}
		if err := def.Validate(); err != nil {
			t.Fatalf("seed %d: generated an invalid definition: %v", seed, err)
		}
		ends[schedule(t, seed, def, probes)]++
	}
	// The schedules must reach every kind of end, or the test proves little.
	for _, want := range []string{
		"finished Succeeded ", "finished Compensated StepRefused", "finished Compensated AttemptsExhausted",
		"finished Compensated DeadlineExceeded", "finished Compensated Aborted",
		"stalled CompensationRefused", "stalled RetriableStepRefused",
	} {
		if ends[want] == 0 {
			t.Errorf("no schedule ended %q: %v", want, ends)
		}
	}
	// ...and the pivot's probe must have found the pivot after a crash, and not found it.
	if probes[Success] == 0 || probes[Refusal] == 0 {
		t.Errorf("probes never answered both ways: %v", probes)
	}
	t.Logf("ends of %d schedules: %v; probe answers: %v", 2*n, ends, probes)
}

// errCaught stops a schedule whose failure the caller expects.
type errCaught struct{ msg string }

// TestSagaPropertyCatchesForgetfulParticipants runs the same schedules against participants
// that answer a do from their current state instead of remembering a refusal (as carts
// once did for lock and checkout): the property test must catch the effect that such a
// participant applies for a saga that was already compensated.
func TestSagaPropertyCatchesForgetfulParticipants(t *testing.T) {
	n := *flagSchedules // even in -short: the bug shows in under 1 % of the schedules
	caught := 0
	var first string
	base := rand.New(rand.NewPCG(*flagSeed, 0))
	for k := 0; k < n; k++ {
		seed := base.Uint64() &^ 1
		func() {
			defer func() {
				if r := recover(); r != nil {
					c, ok := r.(errCaught)
					if !ok {
						panic(r)
					}
					caught++
					if first == "" {
						first = c.msg
					}
				}
			}()
			w := &world{t: t, onFail: func(msg string) { panic(errCaught{msg}) }}
			scheduleWith(w, seed, orderDef(), true)
		}()
	}
	if caught == 0 {
		t.Fatalf("none of %d schedules with forgetful participants was caught", n)
	}
	t.Logf("%d of %d schedules with forgetful participants caught; the first:\n%s", caught, n, first)
}
