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

// Metrics are the saga metrics of one kind of saga resource (Order or Saga), registered
// in controller-runtime's registry so that the manager's /metrics serves them. Every
// family carries a kind label ("Order", "Saga"); no label carries a resource's name or
// UID. A Saga's step label is its template's step name: bounded by the templates' steps.
type Metrics struct {
	Started       prometheus.Counter
	Completed     prometheus.Counter
	Failed        *prometheus.CounterVec // by the step that made the saga fail and the reason
	Compensations *prometheus.CounterVec // by step and outcome
	Stalled       prometheus.Gauge
	// PastLimit counts sagas whose current step (or undo) failed more than its attempt
	// limit and still retries: alert on it, it clears itself when the step succeeds.
	PastLimit    prometheus.Gauge
	SagaDuration prometheus.ObserverVec // by result
	StepDuration prometheus.ObserverVec // by step, action and outcome

	mu        sync.Mutex
	stalled   map[types.NamespacedName]struct{}
	pastLimit map[types.NamespacedName]struct{}
}

// labelStep labels a metric by saga step name (a bounded set, never an Order).
const labelStep = "step"

// labelKind labels a saga metric by the kind of resource that runs the saga.
const labelKind = "kind"

// Kinds of saga resources, the values of the kind label.
const (
	KindOrder = "Order"
	KindSaga  = "Saga"
)

// noStep is the step label of a failure that no step caused (deadline, deletion).
const noStep = "none"

// outcomeLabel is a call's outcome as a label value. Our own label values are lower case
// (success, refusal, transient), like controller-runtime's result="success"; values
// copied from the API (kind, phase, reason, step names) keep their API spelling, as in
// kube-state-metrics. docs/operations.md states the rule.
func outcomeLabel(c saga.Class) string { return strings.ToLower(string(c)) }

// metricFamilies are the process-wide families that every kind's Metrics are views of.
type metricFamilies struct {
	started, completed, failed, compensations *prometheus.CounterVec
	stalled, pastLimit                        *prometheus.GaugeVec
	sagaDuration, stepDuration                *prometheus.HistogramVec
}

var (
	metricsOnce sync.Once
	families    *metricFamilies
	kindsMu     sync.Mutex
	kinds       = map[string]*Metrics{}
)

// SagaMetrics returns the process-wide metrics of Orders, registering the families once.
func SagaMetrics() *Metrics { return MetricsFor(KindOrder) }

// MetricsFor returns the process-wide metrics of one kind of saga resource (KindOrder,
// KindSaga), registering the families once; its series exist from then on, at zero.
func MetricsFor(kind string) *Metrics {
	metricsOnce.Do(func() {
		families = newMetricFamilies()
		metrics.Registry.MustRegister(families.started, families.completed, families.failed,
			families.compensations, families.stalled, families.pastLimit, families.sagaDuration, families.stepDuration)
	})
	kindsMu.Lock()
	defer kindsMu.Unlock()
	if m, ok := kinds[kind]; ok {
		return m
	}
	m := families.of(kind)
	kinds[kind] = m
	return m
}

func newMetricFamilies() *metricFamilies {
	return &metricFamilies{
		started: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kubesaga_sagas_started_total", Help: "Sagas started (Orders or Sagas seen for the first time), by kind."},
			[]string{labelKind}),
		completed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kubesaga_sagas_completed_total", Help: "Sagas whose every step is done, by kind."},
			[]string{labelKind}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kubesaga_sagas_failed_total",
			Help: "Sagas that failed and were compensated, by kind, the step that failed (none: deadline or deletion) and the reason."},
			[]string{labelKind, labelStep, "reason"}),
		compensations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kubesaga_compensations_total", Help: "Compensation calls, by kind, step and outcome (success, refusal, transient)."},
			[]string{labelKind, labelStep, "outcome"}),
		stalled: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kubesaga_sagas_stalled", Help: "Sagas waiting for a person (condition Stalled=True), by kind."},
			[]string{labelKind}),
		pastLimit: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kubesaga_sagas_retrying_past_limit",
			Help: "Sagas whose current step or undo failed more than its attempt limit and still retries (an outage that lasts), by kind."},
			[]string{labelKind}),
		sagaDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kubesaga_saga_duration_seconds", Help: "Time from a saga resource's creation to its saga's end, by kind and result.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 14)}, []string{labelKind, "result"}),
		stepDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kubesaga_step_duration_seconds",
			Help:    "Participant call duration, by kind, step, action (do, undo) and outcome (success, refusal, transient).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}, []string{labelKind, labelStep, "action", "outcome"}),
	}
}

// of is the view of one kind: the families curried with its kind label.
func (f *metricFamilies) of(kind string) *Metrics {
	k := prometheus.Labels{labelKind: kind}
	return &Metrics{
		Started:       f.started.With(k),
		Completed:     f.completed.With(k),
		Failed:        f.failed.MustCurryWith(k),
		Compensations: f.compensations.MustCurryWith(k),
		Stalled:       f.stalled.With(k),
		PastLimit:     f.pastLimit.With(k),
		SagaDuration:  f.sagaDuration.MustCurryWith(k),
		StepDuration:  f.stepDuration.MustCurryWith(k),
		stalled:       map[types.NamespacedName]struct{}{},
		pastLimit:     map[types.NamespacedName]struct{}{},
	}
}

// SetStalled tracks which resources of the kind are stalled, so that the gauge is right
// after a restart (every one is reconciled again) and never counts one twice.
func (m *Metrics) SetStalled(order types.NamespacedName, stalled bool) {
	m.set(m.stalled, m.Stalled, order, stalled)
}

// SetPastLimit tracks which resources retry past their attempt limit, as SetStalled.
func (m *Metrics) SetPastLimit(order types.NamespacedName, past bool) {
	m.set(m.pastLimit, m.PastLimit, order, past)
}

// Forget clears a resource that is gone (deleted, or its finalizer removed by hand) from
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
