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
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/internal/buildinfo"
)

// State metric names: computed at scrape time from the informer cache (kube-state-metrics
// style), so they are right after a restart and on a standby replica too, with no
// hand-kept map to drift.
const (
	MetricOrders              = "kubesaga_orders"
	MetricSagas               = "kubesaga_sagas"
	MetricOldestInFlightAge   = "kubesaga_oldest_inflight_saga_age_seconds"
	stateMetricsScrapeTimeout = 5 * time.Second
)

var allPhases = []sagav1.OrderPhase{sagav1.PhasePending, sagav1.PhaseRunning, sagav1.PhaseCompensating,
	sagav1.PhaseSucceeded, sagav1.PhaseFailed, sagav1.PhaseStalled}

// StateCollector reports Orders and Sagas by phase and the age of the oldest saga in
// flight (Order or Saga), read from a cache. (The sagas retrying past their attempt limit are
// kubesaga_sagas_retrying_past_limit, in metrics.go: the engine's own verdict.)
type StateCollector struct {
	reader atomic.Pointer[client.Reader]
	now    func() time.Time

	orders, sagas, oldest *prometheus.Desc
}

// NewStateCollector returns a collector with no reader yet (it reports nothing until
// SetReader).
func NewStateCollector() *StateCollector {
	return &StateCollector{
		now: time.Now,
		// No "namespace" label: a ServiceMonitor gives the target's namespace that name, and
		// ours would become exported_namespace. `kubectl saga list -A` tells where they are.
		orders: prometheus.NewDesc(MetricOrders, "Orders, by phase (from the informer cache).",
			[]string{"phase"}, nil),
		sagas: prometheus.NewDesc(MetricSagas, "Sagas (runs of SagaTemplates), by phase (from the informer cache).",
			[]string{"phase"}, nil),
		oldest: prometheus.NewDesc(MetricOldestInFlightAge,
			"Age of the oldest Order or Saga whose saga is in flight (Pending, Running or Compensating); 0 when none is.", nil, nil),
	}
}

// SetReader points the collector at a manager's cache; the latest call wins (tests start
// several managers in one process).
func (c *StateCollector) SetReader(r client.Reader) {
	c.reader.Store(&r)
}

// Describe implements prometheus.Collector.
func (c *StateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.orders
	ch <- c.sagas
	ch <- c.oldest
}

// Collect implements prometheus.Collector: one List of the cache per scrape.
func (c *StateCollector) Collect(ch chan<- prometheus.Metric) {
	rp := c.reader.Load()
	if rp == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), stateMetricsScrapeTimeout)
	defer cancel()
	var orders sagav1.OrderList
	var sagas sagav1.SagaList
	// Not synced yet, or stopping: report nothing rather than wrong zeros.
	if err := (*rp).List(ctx, &orders); err != nil {
		return
	}
	if err := (*rp).List(ctx, &sagas); err != nil {
		return
	}
	t := tally{now: c.now()}
	orderCounts, sagaCounts := map[sagav1.OrderPhase]int{}, map[sagav1.OrderPhase]int{}
	for i := range orders.Items {
		o := &orders.Items[i]
		t.add(orderCounts, o.Status.Phase, o.CreationTimestamp.Time)
	}
	for i := range sagas.Items {
		sg := &sagas.Items[i]
		t.add(sagaCounts, sg.Status.Phase, sg.CreationTimestamp.Time)
	}
	// Every phase, zeros included, so that a rule or a graph sees 0 rather than nothing.
	for _, p := range allPhases {
		ch <- prometheus.MustNewConstMetric(c.orders, prometheus.GaugeValue, float64(orderCounts[p]), string(p))
		ch <- prometheus.MustNewConstMetric(c.sagas, prometheus.GaugeValue, float64(sagaCounts[p]), string(p))
	}
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, t.oldest.Seconds())
}

// tally counts by phase and finds the oldest in flight, over Orders and Sagas.
type tally struct {
	now    time.Time
	oldest time.Duration
}

func (t *tally) add(counts map[sagav1.OrderPhase]int, phase sagav1.OrderPhase, created time.Time) {
	if phase == "" {
		phase = sagav1.PhasePending
	}
	counts[phase]++
	if !inFlight(phase) {
		return
	}
	if age := t.now.Sub(created); age > t.oldest {
		t.oldest = age
	}
}

// inFlight: the saga has not reached a final state. A Stalled Order is not in flight: it
// waits for a person, and has its own metric and alert.
func inFlight(phase sagav1.OrderPhase) bool {
	switch phase {
	case sagav1.PhaseSucceeded, sagav1.PhaseFailed, sagav1.PhaseStalled:
		return false
	}
	return true
}

var (
	stateOnce      sync.Once
	stateCollector *StateCollector
)

// RegisterStateMetrics registers, once per process, the state collector and
// kubesaga_build_info in controller-runtime's registry (served on the manager's /metrics),
// and points the collector at r (the manager's cache).
func RegisterStateMetrics(r client.Reader) *StateCollector {
	stateOnce.Do(func() {
		stateCollector = NewStateCollector()
		metrics.Registry.MustRegister(stateCollector, buildinfo.Collector())
	})
	stateCollector.SetReader(r)
	return stateCollector
}
