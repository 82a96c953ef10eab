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

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/internal/sagacel"
)

// SagaTemplateReconciler validates SagaTemplates beyond what the CRD's rules check (every
// CEL expression compiles and gives the right type, steps are read only after they ran,
// every participant is declared) and reports it in the Valid condition.
type SagaTemplateReconciler struct {
	client.Client
	Limits sagacel.Limits
}

// +kubebuilder:rbac:groups=saga.kubesaga.io,resources=sagatemplates/status,verbs=get;patch

// Reconcile sets the Valid condition of one template.
func (r *SagaTemplateReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	tmpl := &sagav1.SagaTemplate{}
	if err := r.Get(ctx, req.NamespacedName, tmpl); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	before := tmpl.DeepCopy()
	list := &sagav1.ParticipantList{}
	if err := r.List(ctx, list); err != nil {
		return ctrl.Result{}, fmt.Errorf("list participants: %w", err)
	}
	names := map[string]bool{}
	for _, p := range list.Items {
		names[p.Name] = true
	}
	cond := metav1.Condition{Type: sagav1.ConditionValid, Status: metav1.ConditionTrue,
		Reason: sagav1.ReasonTemplateValid, Message: "every expression compiles and every participant is declared",
		ObservedGeneration: tmpl.Generation}
	if _, err := sagacel.Compile(&tmpl.Spec, func(n string) bool { return names[n] }, r.Limits); err != nil {
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, sagav1.ReasonTemplateInvalid, oneLine(err)
	}
	meta.SetStatusCondition(&tmpl.Status.Conditions, cond)
	tmpl.Status.ObservedGeneration = tmpl.Generation
	if equality.Semantic.DeepEqual(before.Status, tmpl.Status) {
		return ctrl.Result{}, nil
	}
	logf.FromContext(ctx).V(1).Info("template validated", "uid", tmpl.UID, "valid", cond.Status, "message", cond.Message)
	if err := r.Status().Patch(ctx, tmpl, client.MergeFrom(before)); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(fmt.Errorf("write template status: %w", err))
	}
	return ctrl.Result{}, nil
}

// SetupWithManager registers the reconciler; a Participant created or deleted revalidates
// every template (they are few, and it is rare).
func (r *SagaTemplateReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&sagav1.SagaTemplate{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&sagav1.Participant{}, handler.EnqueueRequestsFromMapFunc(r.allTemplates)).
		Named("sagatemplate").
		Complete(r)
}

func (r *SagaTemplateReconciler) allTemplates(ctx context.Context, _ client.Object) []reconcile.Request {
	list := &sagav1.SagaTemplateList{}
	if err := r.List(ctx, list); err != nil {
		logf.FromContext(ctx).Error(err, "list templates")
		return nil
	}
	out := make([]reconcile.Request, 0, len(list.Items))
	for _, t := range list.Items {
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&t)})
	}
	return out
}
