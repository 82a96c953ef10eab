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
	"fmt"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/kubesaga/kubesaga/internal/participants"
	"github.com/kubesaga/kubesaga/internal/sagacel"
)

// maxParticipantTimeout is the largest timeout a Participant may set (its CRD's rule):
// each call's context carries its own, shorter, deadline.
const maxParticipantTimeout = 5 * time.Minute

// setupSagas registers the Saga and SagaTemplate reconcilers (docs/sagas.md): the same
// engine and retry policy as Orders, and participants declared as resources.
func setupSagas(mgr ctrl.Manager, o ManagerOptions) error {
	httpClient := participants.NewHTTPClient(participants.Options{
		Timeout: maxParticipantTimeout, MaxIdleConnsPerHost: 2 * o.MaxConcurrentReconciles})
	sr := &SagaReconciler{
		Client:          mgr.GetClient(),
		APIReader:       mgr.GetAPIReader(),
		Recorder:        mgr.GetEventRecorder("kubesaga"),
		HTTP:            httpClient,
		Policy:          o.Policy(),
		Limits:          o.sagaLimits(),
		MaxStepsPerPass: o.MaxStepsPerPass,
		Metrics:         MetricsFor(KindSaga),
	}
	if err := sr.SetupWithManager(mgr, o.MaxConcurrentReconciles); err != nil {
		return fmt.Errorf("set up saga controller: %w", err)
	}
	tr := &SagaTemplateReconciler{Client: mgr.GetClient(), Limits: o.sagaLimits()}
	if err := tr.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up saga template controller: %w", err)
	}
	return nil
}

// sagaLimits are the CEL cost and size limits of Sagas; zero options take the defaults.
func (o ManagerOptions) sagaLimits() sagacel.Limits {
	l := sagacel.DefaultLimits
	if o.SagaCELCostLimit > 0 {
		l.Cost = o.SagaCELCostLimit
	}
	return l
}
