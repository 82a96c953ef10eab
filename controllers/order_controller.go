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

// Package controllers holds the OrderReconciler, which drives each Order's saga.
package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/internal/ordersaga"
	"github.com/kubesaga/kubesaga/internal/participants"
	"github.com/kubesaga/kubesaga/internal/saga"
)

// OrderReconciler drives each Order's saga: it loads the recorded state, asks the engine
// what to do, performs the participant calls, and records what happened. It decides
// nothing about saga order itself.
type OrderReconciler struct {
	client.Client
	Recorder     events.EventRecorder
	Participants ordersaga.Participants
	Policy       saga.Policy
	// StepTimeout bounds one participant call.
	StepTimeout time.Duration
	// MaxStepsPerPass is how many calls one reconcile may make before it writes status.
	// Participant calls are idempotent, so several fast steps can share one status write.
	MaxStepsPerPass int
	Metrics         *Metrics
	// Now is the clock; tests may replace it.
	Now func() time.Time
}

// orderScope is what one reconcile pass works on.
type orderScope struct {
	order   *sagav1.Order
	before  *sagav1.Order // as read, for the status patch
	def     saga.Definition
	state   saga.State
	saved   saga.State // the state as last written, for MustCheckpoint
	out     ordersaga.Output
	plain   saga.Action // what the engine says before deletion and retry are applied
	action  saga.Action // the engine's last decision in this pass
	retried bool        // a one-shot retry annotation was taken: remove it
	result  ctrl.Result
	log     logr.Logger
	// effects are the Events and metric counts of what the pass did, kept until the status
	// that records it is written: a pass whose write fails (a conflict) is repeated, and
	// must not count or tell anything twice.
	effects []func()
}

// effect queues f until the next successful status write.
func (s *orderScope) effect(f func()) { s.effects = append(s.effects, f) }

// flush runs the queued effects: their status is written.
func (s *orderScope) flush() {
	for _, f := range s.effects {
		f()
	}
	s.effects = nil
}

// +kubebuilder:rbac:groups=saga.kubesaga.io,resources=orders,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=saga.kubesaga.io,resources=orders/status,verbs=get;update
// +kubebuilder:rbac:groups=saga.kubesaga.io,resources=orders/finalizers,verbs=update
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;update;patch;delete

// Reconcile runs one pass over an Order: finalizer first, then the saga, then one status
// write (only when it changed), then the metadata that depends on it.
func (r *OrderReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	order := &sagav1.Order{}
	if err := r.Get(ctx, req.NamespacedName, order); err != nil {
		if apierrors.IsNotFound(err) {
			// Gone, perhaps with its finalizer removed by hand: nothing will report it again.
			r.Metrics.Forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	log := logf.FromContext(ctx).WithValues("uid", order.UID)
	ctx = logf.IntoContext(ctx, log)
	s := r.newScope(order, log)
	ctx, pass := startPass(ctx, sagav1.SpanReconcileOrder, "Order", order, order.Status.TraceParent, string(order.Status.Phase)) // tracing.go
	var passErr error
	defer func() { pass.end(string(order.Status.Phase), order.Status.CurrentStep, passErr) }()

	res, err := runPass(ctx, log, s,
		r.ensureFinalizer,
		r.runSaga,
		r.patchStatus,
		r.removeRetryAnnotation,
		r.releaseFinalizer,
	)
	passErr = err
	return passResult(res, err, s.result)
}

func (r *OrderReconciler) newScope(o *sagav1.Order, log logr.Logger) *orderScope {
	def := ordersaga.Definition(r.Policy)
	st := sagaState(def, o)
	return &orderScope{
		order: o, before: o.DeepCopy(), def: def, state: st, saved: st, out: sagaOutput(o),
		plain: saga.Next(def, st, r.now()), log: log,
	}
}

// finishedNeedsNothing is true when the saga is over and nothing holds the Order: a
// success kept by the Retain policy, or a failure already compensated.
func (s *orderScope) finishedNeedsNothing() bool {
	if s.plain.Type != saga.ActFinish {
		return false
	}
	return s.plain.Result == saga.ResultCompensated || s.order.Spec.DeletionPolicy != sagav1.DeletionCompensate
}

func (r *OrderReconciler) ensureFinalizer(ctx context.Context, s *orderScope) error {
	o := s.order
	if !o.DeletionTimestamp.IsZero() || controllerutil.ContainsFinalizer(o, sagav1.Finalizer) || s.finishedNeedsNothing() {
		return nil
	}
	patch := client.MergeFromWithOptions(o.DeepCopy(), client.MergeFromWithOptimisticLock{})
	controllerutil.AddFinalizer(o, sagav1.Finalizer)
	if err := r.Patch(ctx, o, patch); err != nil {
		return fmt.Errorf("add finalizer: %w", err)
	}
	s.before = o.DeepCopy() // the patch answer carries the new resourceVersion
	return nil
}

// runSaga asks the engine for the next action and performs it, several times per pass
// when steps answer at once, and stops at a wait, the end, a stall, or the step budget.
func (r *OrderReconciler) runSaga(ctx context.Context, s *orderScope) error {
	o := s.order
	if !o.DeletionTimestamp.IsZero() && !controllerutil.ContainsFinalizer(o, sagav1.Finalizer) {
		return nil // not ours to hold
	}
	if !o.DeletionTimestamp.IsZero() && s.finishedNeedsNothing() {
		// A finished Order going away with nothing to undo: write nothing more, only let
		// it go (releaseFinalizer).
		s.action = s.plain
		return nil
	}
	now := r.now()
	started := len(o.Status.Conditions) > 0
	if !started {
		o.Status.StartedAt = &metav1.Time{Time: now}
		appendHistory(o, sagav1.HistoryOrderCreated, now, "")
		s.effect(r.Metrics.Started.Inc) // no Event: starting has no side effect, and Events cost API writes
	}
	if retry, remove := retryRequest(o, &o.Status.LastHandledRetry, started); retry {
		s.state = saga.Retry(s.def, s.state, now)
		s.retried = remove
		appendHistory(o, sagav1.HistoryRetryRequested, now, "")
		r.event(s, corev1.EventTypeNormal, sagav1.EventReasonRetryRequested, "Retry", "retry requested by annotation %s", sagav1.RetryAnnotation)
	}

	in := ordersaga.Input{OrderID: string(o.UID), CartID: o.Spec.CartID, StoreID: o.Spec.StoreID}
	for calls := 0; ; calls++ {
		// Again at every call: a probe that finds the sale puts a Retain deletion past the pivot.
		s.state.Abort = abortOnDeletion(o, s.def, s.state, s.finishedNeedsNothing())
		s.action = saga.Next(s.def, s.state, now)
		if t := s.action.Type; t != saga.ActDo && t != saga.ActUndo && t != saga.ActProbe {
			break
		}
		if calls >= r.maxSteps() {
			s.result = ctrl.Result{RequeueAfter: time.Millisecond} // checkpoint, then go on
			break
		}
		if saga.MustCheckpoint(s.def, s.saved, s.state, now) {
			// A restart from the last write could decide differently: write first.
			if err := r.checkpoint(ctx, s, now); err != nil {
				return err
			}
		}
		outcome, took := r.call(ctx, s, in)
		if ctx.Err() != nil {
			// Shutting down: record nothing, the next manager repeats this idempotent call.
			return fmt.Errorf("%s interrupted: %w", s.action.Name, ctx.Err())
		}
		now = r.now()
		s.state = saga.Record(s.def, s.state, s.action, outcome, now)
		r.observeCall(s, outcome, took, now)
	}
	r.observeDecision(s, now)
	return nil
}

func (r *OrderReconciler) maxSteps() int {
	if r.MaxStepsPerPass < 1 {
		return 1
	}
	return r.MaxStepsPerPass
}

// call performs one participant call and classifies its outcome.
func (r *OrderReconciler) call(ctx context.Context, s *orderScope, in ordersaga.Input) (saga.Outcome, time.Duration) {
	callCtx, cancel := context.WithTimeout(ctx, r.StepTimeout)
	defer cancel()
	start := time.Now()
	err := ordersaga.Call(callCtx, r.Participants, s.action, in, &s.out)
	took := time.Since(start)
	switch {
	case err == nil:
		return saga.Outcome{Class: saga.Success}, took
	case s.action.Type == saga.ActUndo && participants.RefusalType(err) == alreadyCompensated:
		// The undo already ran: what it had to achieve holds.
		return saga.Outcome{Class: saga.Success}, took
	case participants.IsRefusal(err):
		return saga.Outcome{Class: saga.Refusal, Err: participants.Cut(err.Error())}, took
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		return saga.Outcome{Class: saga.Transient, Err: fmt.Sprintf("%s: no answer within %s", s.action.Name, r.StepTimeout)}, took
	default:
		// Cut: the text goes into the status several times and into Events.
		return saga.Outcome{Class: saga.Transient, Err: participants.Cut(err.Error())}, took
	}
}

// alreadyCompensated is the problem type of a call whose undo already ran.
const alreadyCompensated = "already-compensated"

// observeCall records one call in history, Events, metrics and logs.
func (r *OrderReconciler) observeCall(s *orderScope, out saga.Outcome, took time.Duration, now time.Time) {
	o, act := s.order, s.action
	step := s.def.Steps[act.Step]
	after := s.state.Steps[act.Step]
	action, attempts, limit := "do", after.Attempts, s.def.Policy.MaxAttempts
	switch act.Type {
	case saga.ActUndo:
		action, attempts, limit = "undo", after.UndoAttempts, s.def.Policy.CompensationMaxAttempts
		s.effect(r.Metrics.Compensations.WithLabelValues(step.Name, outcomeLabel(out.Class)).Inc)
	case saga.ActProbe:
		action, attempts = "probe", after.Probes
	}
	retrying := after.Status == saga.StepRetrying || (act.Type == saga.ActProbe && out.Class == saga.Transient)
	s.effect(func() {
		r.Metrics.StepDuration.WithLabelValues(step.Name, action, outcomeLabel(out.Class)).Observe(took.Seconds())
	})
	s.log.V(1).Info("participant call", "call", act.Name, "outcome", out.Class, "took", took, "error", out.Err)

	switch {
	case act.Type == saga.ActProbe && out.Class == saga.Success:
		// A pass that crashed after the pivot left no record of it (the pivot has no
		// checkpoint of its own): the saga goes forward instead of compensating.
		appendHistory(o, step.DoneEvent, now, act.Name+" found it after a restart")
		r.event(s, corev1.EventTypeNormal, sagav1.EventReasonPivotConfirmed, act.Name,
			"%s had succeeded before a restart (%s found it): going forward instead of compensating (%s)", step.Name, act.Name, act.Reason)
	case act.Type == saga.ActProbe && out.Class == saga.Refusal:
		// Nothing happened past the pivot: compensation goes ahead, and its Events tell it.
		s.log.V(1).Info("pivot not found: compensating", "call", act.Name, "reason", act.Reason)
	case out.Class == saga.Success && act.Type == saga.ActDo:
		appendHistory(o, step.DoneEvent, now, "")
		// No Event for a step done at its first attempt: status and history say it, and
		// every Event is an API write (one Event per successful Order, on completion). A
		// step that needed retries says that it healed, once its Warnings were told; past
		// the limit StepRecovered (below) says it.
		if attempts > 1 && attempts <= limit {
			r.event(s, corev1.EventTypeNormal, reasonOf(step.DoneEvent), act.Name, "%s done after %d attempts", act.Name, attempts)
		}
	case out.Class == saga.Success:
		appendHistory(o, step.UndoneEvent, now, "")
		r.event(s, corev1.EventTypeNormal, reasonOf(step.UndoneEvent), act.Name, "%s done (compensating %s)", act.Name, step.Name)
	case after.Status == saga.StepCompensating:
		appendHistory(o, sagav1.HistoryCompensationRetrying, now, retryNote(act.Name, attempts, out.Err))
		r.event(s, corev1.EventTypeWarning, sagav1.EventReasonCompensationRetrying, act.Name, "%s failed (attempt %d), retrying at %s: %s",
			act.Name, attempts, after.NextRetryAt.UTC().Format(time.RFC3339), out.Err)
	case retrying:
		appendHistory(o, sagav1.HistoryStepRetrying, now, retryNote(act.Name, attempts, out.Err))
		r.event(s, corev1.EventTypeWarning, sagav1.EventReasonStepRetrying, act.Name, "%s failed (attempt %d), retrying at %s: %s",
			act.Name, attempts, after.NextRetryAt.UTC().Format(time.RFC3339), out.Err)
	default:
		appendHistory(o, sagav1.HistoryStepFailed, now, out.Err)
		r.event(s, corev1.EventTypeWarning, sagav1.EventReasonStepFailed, act.Name, "%s failed after %d attempt(s): %s",
			act.Name, attempts, out.Err)
	}

	// Past the attempt limit a step after the pivot, or an undo, keeps retrying (the saga
	// only goes forward, and an undo must happen): say so once, and once more when it heals.
	switch {
	case out.Class == saga.Transient && attempts == limit && (retrying || after.Status == saga.StepCompensating):
		appendHistory(o, sagav1.HistoryRetryLimitExceeded, now, retryNote(act.Name, attempts, out.Err))
		r.event(s, corev1.EventTypeWarning, sagav1.EventReasonRetryLimitExceeded, act.Name,
			"%s failed %d times, the limit; it keeps retrying at most every %s until it succeeds: %s",
			act.Name, attempts, s.def.Policy.BackoffMax, out.Err)
	case out.Class == saga.Success && attempts > limit:
		r.event(s, corev1.EventTypeNormal, sagav1.EventReasonStepRecovered, act.Name, "%s succeeded after %d attempts", act.Name, attempts)
	}
}

// retryNote is the history message of a failed attempt; it starts with the call's name so
// that consecutive retries of one call fold into one entry (see appendHistory).
func retryNote(call string, attempt int, err string) string {
	return fmt.Sprintf("%s attempt %d: %s", call, attempt, err)
}

// observeDecision turns the engine's last decision into conditions, requeue, and the
// Events and metrics of a transition (finish, stall).
func (r *OrderReconciler) observeDecision(s *orderScope, now time.Time) {
	o, act := s.order, s.action
	sum := saga.StatusAt(s.def, s.state, now)
	wasPhase := s.before.Status.Phase
	setConditions(o, sum, act)

	o.Status.ObservedGeneration = o.Generation
	o.Status.LastError = sum.LastError
	o.Status.NextRetryAt = nil
	o.Status.CurrentStep = ""
	switch act.Type {
	case saga.ActWait:
		// The step's own retry time; the pass wakes up earlier when the deadline comes first.
		o.Status.NextRetryAt = metaTime(s.state.Steps[act.Step].NextRetryAt)
		o.Status.CurrentStep = s.def.Steps[act.Step].Name
		s.result = ctrl.Result{RequeueAfter: max(act.Until.Sub(now), time.Millisecond)}
	case saga.ActDo, saga.ActUndo, saga.ActStall:
		o.Status.CurrentStep = s.def.Steps[act.Step].Name
	}
	storeSagaState(s.state, s.out, o)
	key := client.ObjectKeyFromObject(o)
	r.Metrics.SetStalled(key, act.Type == saga.ActStall)
	r.Metrics.SetPastLimit(key, sum.PastAttemptLimit)

	if o.Status.Phase == wasPhase {
		return
	}
	switch o.Status.Phase {
	case sagav1.PhaseSucceeded:
		o.Status.CompletedAt = metaTime(now)
		appendHistory(o, sagav1.HistoryCompleted, now, "")
		s.effect(r.Metrics.Completed.Inc)
		s.effect(func() {
			r.Metrics.SagaDuration.WithLabelValues("succeeded").Observe(now.Sub(o.CreationTimestamp.Time).Seconds())
		})
		r.event(s, corev1.EventTypeNormal, sagav1.EventReasonCompleted, "Complete", "saga completed: sale %s, total %s",
			o.Status.SaleID, o.Status.Total)
	case sagav1.PhaseFailed:
		appendHistory(o, sagav1.HistoryCompensated, now, sum.LastError)
		r.event(s, corev1.EventTypeNormal, sagav1.EventReasonCompensated, "Compensate", "every done step was undone (%s)", act.Reason)
		if o.Status.CompletedAt != nil {
			break // a completed saga undone on deletion (policy Compensate) did not fail
		}
		appendHistory(o, sagav1.HistoryFailed, now, sum.LastError)
		failed := failedStep(s.def, s.state)
		s.effect(r.Metrics.Failed.WithLabelValues(failed, act.Reason).Inc)
		s.effect(func() {
			r.Metrics.SagaDuration.WithLabelValues("compensated").Observe(now.Sub(o.CreationTimestamp.Time).Seconds())
		})
	case sagav1.PhaseStalled:
		appendHistory(o, sagav1.HistoryStalled, now, sum.LastError)
		// act.Name is the call that cannot succeed: the undo, when compensation stalled.
		r.event(s, corev1.EventTypeWarning, sagav1.EventReasonStalled, "Stall",
			"%s cannot succeed: fix the cause, then set the Order's annotation %s to a new token, e.g. with kubectl saga retry (%s)",
			act.Name, sagav1.RetryAnnotation, sum.LastError)
	}
}

// checkpoint writes the status mid-pass and goes on from the written version.
func (r *OrderReconciler) checkpoint(ctx context.Context, s *orderScope, now time.Time) error {
	r.observeDecision(s, now)
	if err := r.patchStatus(ctx, s); err != nil {
		return err
	}
	s.before = s.order.DeepCopy()
	s.saved = s.state
	return nil
}

// patchStatus writes the status when it changed, then lets the effects of what it records
// happen (Events, metric counts): never before, so a failed write counts nothing. The
// write is an update of the status subresource at the resourceVersion read (a conflict
// repeats the pass): in the bench's runs the API server took it 1.0 to 1.6 times as fast
// as the same change as a JSON merge patch, which it must apply to the stored object and
// decode again (docs/benchmarks.md, "The API server's rate for each kind of Order write").
func (r *OrderReconciler) patchStatus(ctx context.Context, s *orderScope) error {
	if !equality.Semantic.DeepEqual(s.before.Status, s.order.Status) {
		recordTrace(ctx, &s.order.Status.TraceID, &s.order.Status.TraceParent) // rides on this write (tracing.go)
		if err := r.Status().Update(ctx, s.order); err != nil {
			return fmt.Errorf("write status: %w", err)
		}
	}
	s.flush()
	return nil
}

func (r *OrderReconciler) removeRetryAnnotation(ctx context.Context, s *orderScope) error {
	if !s.retried {
		return nil
	}
	return removeRetryAnnotation(ctx, r.Client, s.order)
}

// releaseFinalizer lets a deleted Order go once nothing is left to undo. A finished Order
// that is not deleted keeps its finalizer: releasing it would cost one more write per
// Order (docs/architecture.md, "API writes and crash safety"); its deletion is then one
// patch by the operator, or by a person when the operator is not installed.
func (r *OrderReconciler) releaseFinalizer(ctx context.Context, s *orderScope) error {
	o := s.order
	if o.DeletionTimestamp.IsZero() || !controllerutil.ContainsFinalizer(o, sagav1.Finalizer) || s.action.Type != saga.ActFinish {
		return nil
	}
	patch := client.MergeFromWithOptions(o.DeepCopy(), client.MergeFromWithOptimisticLock{})
	controllerutil.RemoveFinalizer(o, sagav1.Finalizer)
	if err := r.Patch(ctx, o, patch); err != nil {
		return client.IgnoreNotFound(fmt.Errorf("remove finalizer: %w", err))
	}
	r.Metrics.Forget(client.ObjectKeyFromObject(o))
	return nil
}

func (r *OrderReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// event queues a Kubernetes Event about the Order until its status is written.
func (r *OrderReconciler) event(s *orderScope, typ, reason, action, note string, args ...any) {
	if r.Recorder == nil {
		return
	}
	o := s.order
	s.effect(func() { r.Recorder.Eventf(o, nil, typ, reason, action, note, args...) })
}

// appendHistory adds a saga event to an Order's bounded history (see withHistory).
func appendHistory(o *sagav1.Order, event string, at time.Time, msg string) {
	o.Status.History = withHistory(o.Status.History, event, at, msg)
}

// sameRetry reports whether two history entries are retries of the same call.
func sameRetry(last, next sagav1.HistoryEntry) bool {
	if last.Event != next.Event || (next.Event != sagav1.HistoryStepRetrying && next.Event != sagav1.HistoryCompensationRetrying) {
		return false
	}
	call, _, ok := strings.Cut(next.Message, " ")
	return ok && strings.HasPrefix(last.Message, call+" ")
}

// reasonOf turns a history event such as CART_LOCKED into an Event reason: CartLocked.
func reasonOf(event string) string {
	var b strings.Builder
	for _, w := range strings.Split(strings.ToLower(event), "_") {
		if w != "" {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

// SetupWithManager registers the reconciler. Status-only updates (our own writes) do not
// trigger a pass: spec, deletion (both bump the generation) and annotations do.
func (r *OrderReconciler) SetupWithManager(mgr ctrl.Manager, maxConcurrent int) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&sagav1.Order{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		WithOptions(controller.Options{MaxConcurrentReconciles: maxConcurrent}).
		Named("order").
		Complete(r)
}
