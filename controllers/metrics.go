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
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/kubesaga/kubesaga/internal/saga"
)

// Metrics are the saga metrics, registered in controller-runtime's registry so that the
// manager's /metrics serves them. No label carries an Order name or UID.
type Metrics struct {
	Started       prometheus.Counter
	Completed     prometheus.Counter
	Failed        *prometheus.CounterVec // by the step that made the saga fail and the reason
	Compensations *prometheus.CounterVec // by step and outcome
	Stalled       prometheus.Gauge
	// PastLimit counts Orders whose current step (or undo) failed more than its attempt
	// limit and still retries: alert on it, it clears itself when the step succeeds.
	PastLimit    prometheus.Gauge
	SagaDuration *prometheus.HistogramVec // by result
	StepDuration *prometheus.HistogramVec // by step, action and outcome

	mu        sync.Mutex
	stalled   map[types.NamespacedName]struct{}
	pastLimit map[types.NamespacedName]struct{}
}

// labelStep labels a metric by saga step name (a bounded set, never an Order).
const labelStep = "step"

// noStep is the step label of a failure that no step caused (deadline, deletion).
const noStep = "none"

// outcomeLabel is a call's outcome as a label value. Our own label values are lower case
// (success, refusal, transient), like controller-runtime's result="success"; values
// copied from the API (phase, reason, step names) keep their API spelling, as in
// kube-state-metrics. docs/operations.md states the rule.
func outcomeLabel(c saga.Class) string { return strings.ToLower(string(c)) }

var (
	metricsOnce sync.Once
	sagaMetrics *Metrics
)

// SagaMetrics returns the process-wide saga metrics, registering them once.
func SagaMetrics() *Metrics {
	metricsOnce.Do(func() {
		sagaMetrics = newMetrics()
		metrics.Registry.MustRegister(sagaMetrics.Started, sagaMetrics.Completed, sagaMetrics.Failed,
			sagaMetrics.Compensations, sagaMetrics.Stalled, sagaMetrics.PastLimit, sagaMetrics.SagaDuration, sagaMetrics.StepDuration)
	})
	return sagaMetrics
}

func newMetrics() *Metrics {
	return &Metrics{
		Started: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kubesaga_sagas_started_total", Help: "Sagas started (Orders seen for the first time)."}),
		Completed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kubesaga_sagas_completed_total", Help: "Sagas whose every step is done."}),
		Failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kubesaga_sagas_failed_total",
			Help: "Sagas that failed and were compensated, by the step that failed (none: deadline or deletion) and the reason."},
			[]string{labelStep, "reason"}),
		Compensations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kubesaga_compensations_total", Help: "Compensation calls, by step and outcome (success, refusal, transient)."},
			[]string{labelStep, "outcome"}),
		Stalled: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kubesaga_sagas_stalled", Help: "Sagas waiting for a person (condition Stalled=True)."}),
		PastLimit: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kubesaga_sagas_retrying_past_limit",
			Help: "Sagas whose current step or undo failed more than its attempt limit and still retries (an outage that lasts)."}),
		SagaDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kubesaga_saga_duration_seconds", Help: "Time from an Order's creation to its saga's end, by result.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 14)}, []string{"result"}),
		StepDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kubesaga_step_duration_seconds",
			Help:    "Participant call duration, by step, action (do, undo) and outcome (success, refusal, transient).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}, []string{labelStep, "action", "outcome"}),
		stalled:   map[types.NamespacedName]struct{}{},
		pastLimit: map[types.NamespacedName]struct{}{},
	}
}

// SetStalled tracks which Orders are stalled, so that the gauge is right after a restart
// (every Order is reconciled again) and never counts one twice.
func (m *Metrics) SetStalled(order types.NamespacedName, stalled bool) {
	m.set(m.stalled, m.Stalled, order, stalled)
}

// SetPastLimit tracks which Orders retry past their attempt limit, as SetStalled.
func (m *Metrics) SetPastLimit(order types.NamespacedName, past bool) {
	m.set(m.pastLimit, m.PastLimit, order, past)
}

// Forget clears an Order that is gone (deleted, or its finalizer removed by hand) from
// the gauges: nothing will reconcile it again.
func (m *Metrics) Forget(order types.NamespacedName) {
	m.SetStalled(order, false)
	m.SetPastLimit(order, false)
}

func (m *Metrics) set(set map[types.NamespacedName]struct{}, g prometheus.Gauge, order types.NamespacedName, in bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if in {
		set[order] = struct{}{}
	} else {
		delete(set, order)
	}
	g.Set(float64(len(set)))
}
