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
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/internal/saga"
)

// A Saga exports the Order's saga metrics with kind="Saga" (metrics.go). As for an Order,
// nothing counts before the status that records it is written: a pass whose write fails
// is done again, and must not count twice.

func (r *SagaReconciler) metrics() *Metrics {
	if r.Metrics == nil {
		return MetricsFor(KindSaga)
	}
	return r.Metrics
}

// timedCall performs the engine's action and queues its step metrics (duration, and the
// compensation count of an undo) until the status that records it is written.
func (r *SagaReconciler) timedCall(ctx context.Context, s *sagaScope) saga.Outcome {
	start := time.Now()
	out := r.call(ctx, s)
	took := time.Since(start)
	m, step, action := r.metrics(), s.def.Steps[s.action.Step].Name, "do"
	if s.action.Type == saga.ActUndo {
		action = "undo"
		s.pending = append(s.pending, m.Compensations.WithLabelValues(step, outcomeLabel(out.Class)).Inc)
	}
	s.pending = append(s.pending, func() {
		m.StepDuration.WithLabelValues(step, action, outcomeLabel(out.Class)).Observe(took.Seconds())
	})
	return out
}

// written counts what a status write recorded: the queued step metrics, and the start
// and end of the saga (from the written status against the previous one); then the
// gauges follow the Saga's state.
func (r *SagaReconciler) written(s *sagaScope) {
	m, o, was := r.metrics(), s.obj, s.before
	for _, f := range s.pending {
		f()
	}
	s.pending = nil
	key := client.ObjectKeyFromObject(o)
	if s.tpl == nil || o.Status.StartedAt == nil {
		m.Forget(key) // it never started: nothing to count
		return
	}
	if was.Status.StartedAt == nil {
		m.Started.Inc()
	}
	if o.Status.Phase != was.Status.Phase {
		age := r.now().Sub(o.CreationTimestamp.Time) // as an Order's: from creation to the end
		switch {
		case o.Status.Phase == sagav1.PhaseSucceeded:
			m.Completed.Inc()
			m.SagaDuration.WithLabelValues("succeeded").Observe(age.Seconds())
		case o.Status.Phase == sagav1.PhaseFailed && !hasHistory(was.Status.History, sagav1.HistoryCompleted):
			// A Saga undone on deletion (policy Compensate) after it completed did not fail.
			m.Failed.WithLabelValues(failedStep(s.def, s.state), s.action.Reason).Inc()
			m.SagaDuration.WithLabelValues("compensated").Observe(age.Seconds())
		}
	}
	m.SetStalled(key, o.Status.Phase == sagav1.PhaseStalled)
	m.SetPastLimit(key, saga.StatusAt(s.def, s.state, r.now()).PastAttemptLimit)
}
