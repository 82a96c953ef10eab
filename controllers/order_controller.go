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
	retried bool        // the retry annotation was taken
	result  ctrl.Result
	log     logr.Logger
}

// +kubebuilder:rbac:groups=saga.kubesaga.io,resources=orders,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=saga.kubesaga.io,resources=orders/status,verbs=get;patch
// +kubebuilder:rbac:groups=saga.kubesaga.io,resources=orders/finalizers,verbs=update
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;update;patch;delete

// Reconcile runs one pass over an Order: finalizer first, then the saga, then one status
// write (only when it changed), then the metadata that depends on it.
func (r *OrderReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	order := &sagav1.Order{}
	if err := r.Get(ctx, req.NamespacedName, order); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	log := logf.FromContext(ctx).WithValues("uid", order.UID)
	ctx = logf.IntoContext(ctx, log)
	s := r.newScope(order, log)

	for _, step := range []func(context.Context, *orderScope) error{
		r.ensureFinalizer,
		r.runSaga,
		r.patchStatus,
		r.removeRetryAnnotation,
		r.releaseFinalizer,
	} {
		if err := step(ctx, s); err != nil {
			if apierrors.IsConflict(err) {
				// Our copy is stale (the cache lags our own writes); start again from the
				// newer version. Every call the pass made is idempotent.
				log.V(1).Info("order changed during the pass; requeueing", "error", err.Error())
				return ctrl.Result{RequeueAfter: 50 * time.Millisecond}, nil
			}
			return ctrl.Result{}, err
		}
	}
	return s.result, nil
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
	now := r.now()
	if len(o.Status.Conditions) == 0 {
		o.Status.StartedAt = &metav1.Time{Time: now}
		appendHistory(o, "ORDER_CREATED", now, "")
		r.Metrics.Started.Inc() // no Event: starting has no side effect, and Events cost API writes
	}
	if !o.DeletionTimestamp.IsZero() && !s.finishedNeedsNothing() {
		s.state.Abort = true
	}
	if _, ok := o.Annotations[sagav1.RetryAnnotation]; ok {
		s.state = saga.Retry(s.def, s.state, now)
		s.retried = true
		appendHistory(o, "RETRY_REQUESTED", now, "")
		r.event(o, corev1.EventTypeNormal, "RetryRequested", "Retry", "retry requested by annotation %s", sagav1.RetryAnnotation)
	}

	in := ordersaga.Input{OrderID: string(o.UID), CartID: o.Spec.CartID, StoreID: o.Spec.StoreID}
	for calls := 0; ; calls++ {
		s.action = saga.Next(s.def, s.state, now)
		if s.action.Type != saga.ActDo && s.action.Type != saga.ActUndo {
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
	case participants.IsRefusal(err):
		return saga.Outcome{Class: saga.Refusal, Err: err.Error()}, took
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		return saga.Outcome{Class: saga.Transient, Err: fmt.Sprintf("%s: no answer within %s", s.action.Name, r.StepTimeout)}, took
	default:
		return saga.Outcome{Class: saga.Transient, Err: err.Error()}, took
	}
}

// observeCall records one call in history, Events, metrics and logs.
func (r *OrderReconciler) observeCall(s *orderScope, out saga.Outcome, took time.Duration, now time.Time) {
	o, act := s.order, s.action
	step := s.def.Steps[act.Step]
	after := s.state.Steps[act.Step]
	action := "do"
	if act.Type == saga.ActUndo {
		action = "undo"
		r.Metrics.Compensations.WithLabelValues(step.Name, string(out.Class)).Inc()
	}
	r.Metrics.StepDuration.WithLabelValues(step.Name, action, string(out.Class)).Observe(took.Seconds())
	s.log.V(1).Info("participant call", "call", act.Name, "outcome", out.Class, "took", took, "error", out.Err)

	switch {
	case out.Class == saga.Success && act.Type == saga.ActDo:
		appendHistory(o, step.DoneEvent, now, "")
		r.event(o, corev1.EventTypeNormal, reasonOf(step.DoneEvent), act.Name, "%s done", act.Name)
	case out.Class == saga.Success:
		appendHistory(o, step.UndoneEvent, now, "")
		r.event(o, corev1.EventTypeNormal, reasonOf(step.UndoneEvent), act.Name, "%s done (compensating %s)", act.Name, step.Name)
	case act.Type == saga.ActUndo:
		appendHistory(o, "COMPENSATION_RETRYING", now, out.Err)
		r.event(o, corev1.EventTypeWarning, "CompensationRetrying", act.Name, "%s failed (attempt %d): %s",
			act.Name, after.UndoAttempts, out.Err)
	case after.Status == saga.StepRetrying:
		appendHistory(o, "STEP_RETRYING", now, out.Err)
		r.event(o, corev1.EventTypeWarning, "StepRetrying", act.Name, "%s failed (attempt %d), retrying at %s: %s",
			act.Name, after.Attempts, after.NextRetryAt.UTC().Format(time.RFC3339), out.Err)
	default:
		appendHistory(o, "STEP_FAILED", now, out.Err)
		r.event(o, corev1.EventTypeWarning, "StepFailed", act.Name, "%s failed after %d attempt(s): %s",
			act.Name, after.Attempts, out.Err)
	}
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
		o.Status.NextRetryAt = metaTime(act.Until)
		o.Status.CurrentStep = s.def.Steps[act.Step].Name
		s.result = ctrl.Result{RequeueAfter: max(act.Until.Sub(now), time.Millisecond)}
	case saga.ActDo, saga.ActUndo, saga.ActStall:
		o.Status.CurrentStep = s.def.Steps[act.Step].Name
	}
	storeSagaState(s.state, s.out, o)
	r.Metrics.SetStalled(o.UID, act.Type == saga.ActStall)

	if o.Status.Phase == wasPhase {
		return
	}
	switch o.Status.Phase {
	case sagav1.PhaseSucceeded:
		appendHistory(o, "COMPLETED", now, "")
		r.Metrics.Completed.Inc()
		r.Metrics.SagaDuration.WithLabelValues("succeeded").Observe(now.Sub(o.CreationTimestamp.Time).Seconds())
		r.event(o, corev1.EventTypeNormal, "Completed", "Complete", "saga completed: sale %s, total %s", o.Status.SaleID, o.Status.Total)
	case sagav1.PhaseFailed:
		appendHistory(o, "COMPENSATED", now, sum.LastError)
		r.Metrics.Failed.WithLabelValues(failedStep(s.def, s.state, act)).Inc()
		r.Metrics.SagaDuration.WithLabelValues("compensated").Observe(now.Sub(o.CreationTimestamp.Time).Seconds())
		r.event(o, corev1.EventTypeNormal, "Compensated", "Compensate", "every done step was undone (%s)", act.Reason)
	case sagav1.PhaseStalled:
		appendHistory(o, "STALLED", now, sum.LastError)
		r.event(o, corev1.EventTypeWarning, "Stalled", "Stall",
			"%s cannot succeed: fix the cause, then annotate the Order with %s (%s)", o.Status.CurrentStep, sagav1.RetryAnnotation, sum.LastError)
	}
}

// failedStep names the step that made the saga fail, for the failure metric.
func failedStep(def saga.Definition, st saga.State, act saga.Action) string {
	for i, s := range st.Steps {
		if s.Status == saga.StepRefused || s.Status == saga.StepExhausted {
			return def.Steps[i].Name
		}
	}
	return act.Reason
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

func (r *OrderReconciler) patchStatus(ctx context.Context, s *orderScope) error {
	if equality.Semantic.DeepEqual(s.before.Status, s.order.Status) {
		return nil
	}
	patch := client.MergeFromWithOptions(s.before, client.MergeFromWithOptimisticLock{})
	if err := r.Status().Patch(ctx, s.order, patch); err != nil {
		return fmt.Errorf("write status: %w", err)
	}
	return nil
}

func (r *OrderReconciler) removeRetryAnnotation(ctx context.Context, s *orderScope) error {
	if !s.retried {
		return nil
	}
	patch := client.MergeFromWithOptions(s.order.DeepCopy(), client.MergeFromWithOptimisticLock{})
	delete(s.order.Annotations, sagav1.RetryAnnotation)
	if err := r.Patch(ctx, s.order, patch); err != nil {
		return fmt.Errorf("remove retry annotation: %w", err)
	}
	return nil
}

// releaseFinalizer lets the Order go once nothing is left to undo: a deleted Order whose
// saga is finished, or a live one whose finished saga needs no compensation on deletion.
func (r *OrderReconciler) releaseFinalizer(ctx context.Context, s *orderScope) error {
	o := s.order
	if !controllerutil.ContainsFinalizer(o, sagav1.Finalizer) || s.action.Type != saga.ActFinish {
		return nil
	}
	if o.DeletionTimestamp.IsZero() && s.action.Result == saga.ResultSucceeded && o.Spec.DeletionPolicy == sagav1.DeletionCompensate {
		return nil // deleting it later must undo the sale: keep holding it
	}
	patch := client.MergeFromWithOptions(o.DeepCopy(), client.MergeFromWithOptimisticLock{})
	controllerutil.RemoveFinalizer(o, sagav1.Finalizer)
	if err := r.Patch(ctx, o, patch); err != nil {
		return client.IgnoreNotFound(fmt.Errorf("remove finalizer: %w", err))
	}
	if !o.DeletionTimestamp.IsZero() {
		r.Metrics.SetStalled(o.UID, false)
	}
	return nil
}

func (r *OrderReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *OrderReconciler) event(o *sagav1.Order, typ, reason, action, note string, args ...any) {
	if r.Recorder != nil {
		r.Recorder.Eventf(o, nil, typ, reason, action, note, args...)
	}
}

// appendHistory adds a saga event and keeps only the newest MaxHistory entries.
func appendHistory(o *sagav1.Order, event string, at time.Time, msg string) {
	entry := sagav1.HistoryEntry{Event: event, Time: metav1.NewTime(at.Truncate(time.Second)), Message: msg}
	o.Status.History = append(o.Status.History, entry)
	if n := len(o.Status.History); n > sagav1.MaxHistory {
		o.Status.History = append(o.Status.History[:0:0], o.Status.History[n-sagav1.MaxHistory:]...)
	}
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
