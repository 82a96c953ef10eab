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

package controllers

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/internal/saga"
	"github.com/kubesaga/kubesaga/internal/sagacel"
)

// SagaReconciler drives each Saga with the same engine and the same status semantics as
// the OrderReconciler; its steps come from the SagaTemplate snapshot in its status, and it
// calls only declared Participants.
type SagaReconciler struct {
	client.Client
	// APIReader reads the Participants' token Secrets straight from the API server: the
	// operator holds no Secret informer (RBAC: get only, no list or watch).
	APIReader client.Reader
	Recorder  events.EventRecorder
	// HTTP is the client of participant calls; each call's deadline is its Participant's timeout.
	HTTP            *http.Client
	Policy          saga.Policy
	Limits          sagacel.Limits
	MaxStepsPerPass int
	// Metrics are the saga metrics with kind="Saga" (saga_metrics.go); nil: MetricsFor(KindSaga).
	Metrics *Metrics
	// Now is the clock; tests may replace it.
	Now func() time.Time
}

// sagaScope is what one reconcile pass works on.
type sagaScope struct {
	obj      *sagav1.Saga
	before   *sagav1.Saga
	tpl      *sagacel.Template
	def      saga.Definition
	state    saga.State
	saved    saga.State
	vars     sagacel.Vars
	kept     map[string]string // raw kept responses by step
	plain    saga.Action
	action   saga.Action
	retried  bool // a one-shot retry annotation was taken: remove it
	result   ctrl.Result
	log      logr.Logger
	notStart bool     // the template is missing or invalid, or the input was refused: no saga runs
	pending  []func() // metrics counted once the status recording them is written
}

// +kubebuilder:rbac:groups=saga.kubesaga.io,resources=sagas,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=saga.kubesaga.io,resources=sagas/status,verbs=get;patch
// +kubebuilder:rbac:groups=saga.kubesaga.io,resources=sagas/finalizers,verbs=update
// +kubebuilder:rbac:groups=saga.kubesaga.io,resources=sagatemplates,verbs=get;list;watch
// +kubebuilder:rbac:groups=saga.kubesaga.io,resources=participants,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get

// Reconcile runs one pass over a Saga: resolve its template (once), finalizer, the saga,
// one status write, then the metadata that depends on it — the Order's pass.
func (r *SagaReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	obj := &sagav1.Saga{}
	if err := r.Get(ctx, req.NamespacedName, obj); err != nil {
		if apierrors.IsNotFound(err) {
			r.metrics().Forget(req.NamespacedName) // gone: nothing will report it again
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	log := logf.FromContext(ctx).WithValues("uid", obj.UID)
	ctx = logf.IntoContext(ctx, log)
	s := &sagaScope{obj: obj, before: obj.DeepCopy(), log: log}
	ctx, pass := startPass(ctx, sagav1.SpanReconcileSaga, "Saga", obj, obj.Status.TraceParent, string(obj.Status.Phase)) // tracing.go
	var passErr error
	defer func() { pass.end(string(obj.Status.Phase), obj.Status.CurrentStep, passErr) }()

	res, err := runPass(ctx, log, s,
		r.resolveTemplate,
		r.ensureFinalizer,
		r.runSaga,
		r.patchStatus,
		r.removeRetryAnnotation,
		r.releaseFinalizer,
	)
	passErr = err
	return passResult(res, err, s.result)
}

// resolveTemplate compiles the Saga's snapshot, or, on the first pass, the SagaTemplate it
// names: a missing or invalid template leaves the Saga Pending (it starts when the
// template is fixed); an input that does not match the schema fails it at once.
func (r *SagaReconciler) resolveTemplate(ctx context.Context, s *sagaScope) error {
	o := s.obj
	if o.Status.Template == nil {
		if !o.DeletionTimestamp.IsZero() {
			s.notStart = true // deleted before it started: nothing to undo, nothing holds it
			return nil
		}
		tmpl := &sagav1.SagaTemplate{}
		err := r.Get(ctx, types.NamespacedName{Namespace: o.Namespace, Name: o.Spec.TemplateRef.Name}, tmpl)
		switch {
		case apierrors.IsNotFound(err):
			r.notStarted(s, sagav1.ReasonTemplateNotFound, fmt.Sprintf("SagaTemplate %q not found in namespace %s",
				o.Spec.TemplateRef.Name, o.Namespace))
			return nil
		case err != nil:
			return fmt.Errorf("get template: %w", err)
		}
		declared, err := r.declared(ctx)
		if err != nil {
			return err
		}
		if _, err := sagacel.Compile(&tmpl.Spec, declared, r.Limits); err != nil {
			r.notStarted(s, sagav1.ReasonTemplateInvalid, fmt.Sprintf("SagaTemplate %q is invalid: %v", tmpl.Name, oneLine(err)))
			return nil
		}
		o.Status.Template = &sagav1.TemplateSnapshot{Name: tmpl.Name, UID: string(tmpl.UID),
			Generation: tmpl.Generation, Spec: *tmpl.Spec.DeepCopy()}
	}
	tpl, err := sagacel.Compile(&o.Status.Template.Spec, nil, r.Limits)
	if err != nil {
		r.notStarted(s, sagav1.ReasonTemplateInvalid, fmt.Sprintf("the template snapshot is invalid: %v", oneLine(err)))
		return nil
	}
	var raw []byte
	if o.Spec.Input != nil {
		raw = o.Spec.Input.Raw
	}
	input, err := sagacel.Input(o.Status.Template.Spec.InputSchema, raw)
	if err != nil {
		r.refuseInput(s, oneLine(err))
		return nil
	}
	s.tpl, s.def = tpl, tpl.Definition(r.Policy)
	s.kept = map[string]string{}
	responses := map[string]any{}
	for _, k := range o.Status.Responses {
		s.kept[k.Step] = k.Body
		if v, err := sagacel.DecodeJSON([]byte(k.Body)); err == nil {
			responses[k.Step] = v
		}
	}
	s.vars = sagacel.Vars{Input: input, UID: string(o.UID), Name: o.Name, Namespace: o.Namespace, Responses: responses}
	st := engineState(s.def, o.Status.Steps, string(o.UID), o.CreationTimestamp.Time, o.Spec.Timeout)
	s.state, s.saved = st, st
	s.plain = saga.Next(s.def, st, r.now())
	return nil
}

// declared reports which Participants exist (from the cache).
func (r *SagaReconciler) declared(ctx context.Context) (func(string) bool, error) {
	list := &sagav1.ParticipantList{}
	if err := r.List(ctx, list); err != nil {
		return nil, fmt.Errorf("list participants: %w", err)
	}
	names := make(map[string]bool, len(list.Items))
	for _, p := range list.Items {
		names[p.Name] = true
	}
	return func(n string) bool { return names[n] }, nil
}

// notStarted records why a Saga waits before its first step (Pending, Progressing=False).
func (r *SagaReconciler) notStarted(s *sagaScope, reason, msg string) {
	o := s.obj
	s.notStart = true
	gen := o.Generation
	meta.SetStatusCondition(&o.Status.Conditions, metav1.Condition{Type: sagav1.ConditionSucceeded,
		Status: metav1.ConditionUnknown, Reason: reason, Message: msg, ObservedGeneration: gen})
	meta.SetStatusCondition(&o.Status.Conditions, metav1.Condition{Type: sagav1.ConditionProgressing,
		Status: metav1.ConditionFalse, Reason: reason, Message: msg + "; the Saga starts once it is fixed", ObservedGeneration: gen})
	o.Status.ObservedGeneration = gen
	o.Status.Phase = sagav1.PhasePending
	o.Status.LastError = msg
}

// refuseInput fails a Saga whose input does not match its template: nothing was done,
// so nothing is compensated, and the spec is immutable, so no retry can help.
func (r *SagaReconciler) refuseInput(s *sagaScope, msg string) {
	o := s.obj
	s.notStart = true
	if meta.IsStatusConditionFalse(o.Status.Conditions, sagav1.ConditionSucceeded) {
		return // already recorded
	}
	now := r.now()
	gen := o.Generation
	set := func(typ string, st metav1.ConditionStatus, reason, m string) {
		meta.SetStatusCondition(&o.Status.Conditions, metav1.Condition{Type: typ, Status: st, Reason: reason,
			Message: m, ObservedGeneration: gen})
	}
	set(sagav1.ConditionSucceeded, metav1.ConditionFalse, sagav1.ReasonInputInvalid, msg)
	set(sagav1.ConditionCompensated, metav1.ConditionTrue, sagav1.ReasonInputInvalid, "no step ran: nothing to compensate")
	set(sagav1.ConditionProgressing, metav1.ConditionFalse, sagav1.ReasonInputInvalid, "the saga is finished")
	set(sagav1.ConditionStalled, metav1.ConditionFalse, sagav1.ReasonNotStalled, "")
	o.Status.ObservedGeneration = gen
	o.Status.Phase = sagav1.PhaseFailed
	o.Status.LastError = msg
	o.Status.History = withHistory(o.Status.History, "INPUT_INVALID", now, msg)
	r.event(o, corev1.EventTypeWarning, sagav1.ReasonInputInvalid, "Validate", "input refused: %s", msg)
}

// finishedNeedsNothing is true when the saga is over and nothing holds the Saga.
func (s *sagaScope) finishedNeedsNothing() bool {
	if s.notStart {
		return true
	}
	if s.plain.Type != saga.ActFinish {
		return false
	}
	return s.plain.Result == saga.ResultCompensated || s.obj.Spec.DeletionPolicy != sagav1.DeletionCompensate
}

func (r *SagaReconciler) ensureFinalizer(ctx context.Context, s *sagaScope) error {
	o := s.obj
	if !o.DeletionTimestamp.IsZero() || controllerutil.ContainsFinalizer(o, sagav1.Finalizer) || s.finishedNeedsNothing() {
		return nil
	}
	// The patch answer carries the new resourceVersion and the stored status; the status
	// this pass computed so far (the template snapshot) is written later, from it.
	status := *o.Status.DeepCopy()
	patch := client.MergeFromWithOptions(o.DeepCopy(), client.MergeFromWithOptimisticLock{})
	controllerutil.AddFinalizer(o, sagav1.Finalizer)
	if err := r.Patch(ctx, o, patch); err != nil {
		return fmt.Errorf("add finalizer: %w", err)
	}
	s.before = o.DeepCopy()
	o.Status = status
	return nil
}

// runSaga asks the engine for the next action and performs it, several times per pass
// when steps answer at once, and stops at a wait, the end, a stall, or the step budget.
func (r *SagaReconciler) runSaga(ctx context.Context, s *sagaScope) error {
	o := s.obj
	if s.notStart || (!o.DeletionTimestamp.IsZero() && !controllerutil.ContainsFinalizer(o, sagav1.Finalizer)) {
		return nil
	}
	if !o.DeletionTimestamp.IsZero() && s.finishedNeedsNothing() {
		s.action = s.plain // going away with nothing to undo: write nothing, let it go
		return nil
	}
	now := r.now()
	started := o.Status.StartedAt != nil
	if !started {
		o.Status.StartedAt = &metav1.Time{Time: now}
		started := o.Status.Template.Spec.StartedEvent
		if started == "" {
			started = sagav1.EventSagaCreated
		}
		o.Status.History = withHistory(o.Status.History, started, now, "")
	}
	if !o.DeletionTimestamp.IsZero() && !s.finishedNeedsNothing() {
		s.state.Abort = true
	}
	if retry, remove := retryRequest(o, &o.Status.LastHandledRetry, started); retry {
		s.state = saga.Retry(s.def, s.state, now)
		s.retried = remove
		o.Status.History = withHistory(o.Status.History, sagav1.HistoryRetryRequested, now, "")
		r.event(o, corev1.EventTypeNormal, "RetryRequested", "Retry", "retry requested by annotation %s", sagav1.RetryAnnotation)
	}
	for calls := 0; ; calls++ {
		s.action = saga.Next(s.def, s.state, now)
		if s.action.Type != saga.ActDo && s.action.Type != saga.ActUndo {
			break
		}
		if calls >= max(r.MaxStepsPerPass, 1) {
			s.result = ctrl.Result{RequeueAfter: time.Millisecond}
			break
		}
		// The template snapshot is written before the first call: a restart must run the
		// template the calls came from, even if it was edited in between.
		if s.before.Status.Template == nil || saga.MustCheckpoint(s.def, s.saved, s.state, now) {
			if err := r.checkpoint(ctx, s, now); err != nil {
				return err
			}
		}
		outcome := r.timedCall(ctx, s)
		if ctx.Err() != nil {
			return fmt.Errorf("%s interrupted: %w", s.action.Name, ctx.Err())
		}
		now = r.now()
		s.state = saga.Record(s.def, s.state, s.action, outcome, now)
		r.observeCall(s, outcome, now)
	}
	r.observeDecision(s, now)
	return nil
}

// observeCall records one call in history, Events and logs, as for an Order.
func (r *SagaReconciler) observeCall(s *sagaScope, out saga.Outcome, now time.Time) {
	o, act := s.obj, s.action
	step := s.def.Steps[act.Step]
	after := s.state.Steps[act.Step]
	s.log.V(1).Info("participant call", "call", act.Name, "outcome", out.Class, "error", out.Err)
	h := &o.Status.History
	switch {
	case out.Class == saga.Success && act.Type == saga.ActDo:
		*h = withHistory(*h, step.DoneEvent, now, "")
		if after.Attempts > 1 { // as for an Order: a step done at once has no Event of its own
			r.event(o, corev1.EventTypeNormal, reasonOf(step.DoneEvent), act.Name, "%s done after %d attempts", act.Name, after.Attempts)
		}
	case out.Class == saga.Success:
		*h = withHistory(*h, step.UndoneEvent, now, "")
		r.event(o, corev1.EventTypeNormal, reasonOf(step.UndoneEvent), act.Name, "%s done (compensating %s)", act.Name, step.Name)
	case act.Type == saga.ActUndo:
		msg := out.Err
		if after.Status == saga.StepCompensating {
			msg = retryNote(act.Name, after.UndoAttempts, out.Err) // folds with the previous retry
		}
		*h = withHistory(*h, sagav1.HistoryCompensationRetrying, now, msg)
		r.event(o, corev1.EventTypeWarning, sagav1.EventReasonCompensationRetrying, act.Name, "%s failed (attempt %d): %s",
			act.Name, after.UndoAttempts, out.Err)
	case after.Status == saga.StepRetrying:
		*h = withHistory(*h, sagav1.HistoryStepRetrying, now, retryNote(act.Name, after.Attempts, out.Err))
		r.event(o, corev1.EventTypeWarning, sagav1.EventReasonStepRetrying, act.Name, "%s failed (attempt %d), retrying at %s: %s",
			act.Name, after.Attempts, after.NextRetryAt.UTC().Format(time.RFC3339), out.Err)
	default:
		*h = withHistory(*h, sagav1.HistoryStepFailed, now, out.Err)
		r.event(o, corev1.EventTypeWarning, sagav1.EventReasonStepFailed, act.Name, "%s failed after %d attempt(s): %s",
			act.Name, after.Attempts, out.Err)
	}
}

// observeDecision turns the engine's last decision into conditions, requeue and the
// Events of a transition (finish, stall).
func (r *SagaReconciler) observeDecision(s *sagaScope, now time.Time) {
	o, act := s.obj, s.action
	sum := saga.StatusAt(s.def, s.state, now)
	wasPhase := s.before.Status.Phase
	o.Status.Steps = stepStatuses(s.state, o.Status.Steps)
	o.Status.Phase = deriveConditions(&o.Status.Conditions, o.Generation, sum, act, len(o.Status.Steps) > 0)
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
	o.Status.Responses = keptResponses(s.def, s.kept)

	if o.Status.Phase == wasPhase {
		return
	}
	switch o.Status.Phase {
	case sagav1.PhaseSucceeded:
		o.Status.History = withHistory(o.Status.History, sagav1.HistoryCompleted, now, "")
		r.event(o, corev1.EventTypeNormal, sagav1.EventReasonCompleted, "Complete", "saga completed")
	case sagav1.PhaseFailed:
		completed := hasHistory(o.Status.History, sagav1.HistoryCompleted)
		o.Status.History = withHistory(o.Status.History, sagav1.HistoryCompensated, now, sum.LastError)
		r.event(o, corev1.EventTypeNormal, sagav1.EventReasonCompensated, "Compensate", "every done step was undone (%s)", act.Reason)
		if !completed {
			// As an Order's log: a saga that failed ends FAILED; one undone on deletion
			// (policy Compensate) after it completed did not fail.
			o.Status.History = withHistory(o.Status.History, sagav1.HistoryFailed, now, sum.LastError)
		}
	case sagav1.PhaseStalled:
		o.Status.History = withHistory(o.Status.History, sagav1.HistoryStalled, now, sum.LastError)
		r.event(o, corev1.EventTypeWarning, sagav1.EventReasonStalled, "Stall",
			"%s cannot succeed: fix the cause, then set the Saga's annotation %s to a new token (%s)",
			o.Status.CurrentStep, sagav1.RetryAnnotation, sum.LastError)
	}
}

// keptResponses lists the kept responses in step order, so that status does not churn.
func keptResponses(def saga.Definition, kept map[string]string) []sagav1.KeptResponse {
	var out []sagav1.KeptResponse
	for _, st := range def.Steps {
		if body, ok := kept[st.Name]; ok {
			out = append(out, sagav1.KeptResponse{Step: st.Name, Body: body})
		}
	}
	return out
}

func (r *SagaReconciler) checkpoint(ctx context.Context, s *sagaScope, now time.Time) error {
	r.observeDecision(s, now)
	if err := r.patchStatus(ctx, s); err != nil {
		return err
	}
	s.before = s.obj.DeepCopy()
	s.saved = s.state
	return nil
}

func (r *SagaReconciler) patchStatus(ctx context.Context, s *sagaScope) error {
	if !equality.Semantic.DeepEqual(s.before.Status, s.obj.Status) {
		recordTrace(ctx, &s.obj.Status.TraceID, &s.obj.Status.TraceParent) // rides on this write (tracing.go)
		patch := client.MergeFromWithOptions(s.before, client.MergeFromWithOptimisticLock{})
		if err := r.Status().Patch(ctx, s.obj, patch); err != nil {
			return fmt.Errorf("write status: %w", err)
		}
	}
	r.written(s) // metrics: only what is written counts
	return nil
}

func (r *SagaReconciler) removeRetryAnnotation(ctx context.Context, s *sagaScope) error {
	if !s.retried {
		return nil
	}
	return removeRetryAnnotation(ctx, r.Client, s.obj)
}

// releaseFinalizer lets a deleted Saga go once nothing is left to undo, with the Order's
// rules: a finished Saga keeps its finalizer until it is deleted.
func (r *SagaReconciler) releaseFinalizer(ctx context.Context, s *sagaScope) error {
	o := s.obj
	if o.DeletionTimestamp.IsZero() || !controllerutil.ContainsFinalizer(o, sagav1.Finalizer) {
		return nil
	}
	if s.notStart && len(o.Status.Steps) > 0 {
		return nil // started, then its snapshot stopped compiling (an operator downgrade?): keep holding it
	}
	if !s.notStart && s.action.Type != saga.ActFinish {
		return nil
	}
	patch := client.MergeFromWithOptions(o.DeepCopy(), client.MergeFromWithOptimisticLock{})
	controllerutil.RemoveFinalizer(o, sagav1.Finalizer)
	if err := r.Patch(ctx, o, patch); err != nil {
		return client.IgnoreNotFound(fmt.Errorf("remove finalizer: %w", err))
	}
	if !o.DeletionTimestamp.IsZero() {
		r.metrics().Forget(client.ObjectKeyFromObject(o))
	}
	return nil
}

func (r *SagaReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *SagaReconciler) event(o *sagav1.Saga, typ, reason, action, note string, args ...any) {
	if r.Recorder != nil {
		r.Recorder.Eventf(o, nil, typ, reason, action, note, args...)
	}
}

// SetupWithManager registers the reconciler. Status-only updates do not trigger a pass;
// a SagaTemplate's change wakes the Sagas that wait for it (those without a snapshot).
func (r *SagaReconciler) SetupWithManager(mgr ctrl.Manager, maxConcurrent int) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&sagav1.Saga{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Watches(&sagav1.SagaTemplate{}, handler.EnqueueRequestsFromMapFunc(r.waitingFor)).
		WithOptions(controller.Options{MaxConcurrentReconciles: maxConcurrent}).
		Named("saga").
		Complete(r)
}

// waitingFor lists the Sagas of a template's namespace that name it and have not started.
func (r *SagaReconciler) waitingFor(ctx context.Context, tmpl client.Object) []reconcile.Request {
	list := &sagav1.SagaList{}
	if err := r.List(ctx, list, client.InNamespace(tmpl.GetNamespace())); err != nil {
		logf.FromContext(ctx).Error(err, "list sagas waiting for a template", "template", tmpl.GetName())
		return nil
	}
	var out []reconcile.Request
	for _, s := range list.Items {
		if s.Spec.TemplateRef.Name == tmpl.GetName() && s.Status.Template == nil {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&s)})
		}
	}
	return out
}
