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
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/internal/eventbus"
	"github.com/kubesaga/kubesaga/internal/eventbus/sagalog"
)

// OrderEventsReconciler publishes each Order's saga log (status.history) on the event
// bus, one CloudEvent per entry on kubesaga.orders.<EVENT>, with id <Order UID>-<index>.
// It is its own controller: it only reads Orders (never writes them) and its failures
// never reach the saga, which the OrderReconciler drives regardless of the bus.
//
// What is already published lives in memory (a sagalog.Cursor per Order), rebuilt from
// the stream when the controller starts; the message id makes the stream drop what a
// crash between publish and cursor update sends twice. See docs/events.md.
type OrderEventsReconciler struct {
	client.Client
	JS jetstream.JetStream
	// RetryAfter is the wait before publishing again after a failure (default 2s).
	RetryAfter time.Duration
	Metrics    *OrderEventsMetrics

	mu      sync.Mutex
	loaded  bool
	cursors map[types.UID]sagalog.Cursor
	uids    map[types.NamespacedName]types.UID // to forget a deleted Order's cursor
	pending map[types.UID]int                  // entries not yet published, for the lag gauge
}

// +kubebuilder:rbac:groups=saga.kubesaga.io,resources=orders,verbs=get;list;watch

// Reconcile publishes the Order's history entries that the bus has not acknowledged.
func (r *OrderEventsReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	order := &sagav1.Order{}
	if err := r.Get(ctx, req.NamespacedName, order); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(req.NamespacedName)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	log := logf.FromContext(ctx).WithValues("uid", order.UID)
	if err := r.load(ctx); err != nil {
		return r.retry(ctx, order, err)
	}
	history := entriesOf(order)
	r.mu.Lock()
	r.uids[req.NamespacedName] = order.UID
	cur := r.cursors[order.UID]
	r.mu.Unlock()
	plan := sagalog.Pending(cur, history)
	if plan.Lost > 0 {
		r.Metrics.Lost.Add(float64(plan.Lost))
		log.Info("saga log entries left status.history before the bus took them", "published", cur.Next, "windowStart", plan.Offset)
	}
	r.setPending(order.UID, len(history)-plan.From)
	for p := plan.From; p < len(history); p++ {
		if err := r.publish(ctx, order, p, plan.Offset+p); err != nil {
			return r.retry(ctx, order, err)
		}
		r.mu.Lock()
		r.cursors[order.UID] = sagalog.Advance(plan, history, p)
		r.mu.Unlock()
		r.Metrics.Published.Inc()
		r.setPending(order.UID, len(history)-p-1)
	}
	return ctrl.Result{}, nil
}

// retry counts the failure and comes back later: a bus that is away is a state, not an
// error of the Order (no exponential backoff towards minutes, no error log per Order).
func (r *OrderEventsReconciler) retry(ctx context.Context, o *sagav1.Order, err error) (ctrl.Result, error) {
	r.Metrics.Failures.Inc()
	logf.FromContext(ctx).V(1).Info("event bus: cannot publish the saga log; will retry", "uid", o.UID, "error", err.Error())
	wait := r.RetryAfter
	if wait <= 0 {
		wait = 2 * time.Second
	}
	return ctrl.Result{RequeueAfter: wait}, nil
}

// publish sends history[pos] as the entry of absolute index index.
func (r *OrderEventsReconciler) publish(ctx context.Context, o *sagav1.Order, pos, index int) error {
	h := o.Status.History[pos]
	e, err := eventbus.New(OrderEventID(o.UID, index), OrderEventSource(o.Namespace, o.Name), eventbus.OrdersService, h.Event,
		string(o.UID), h.Time.Time,
		eventbus.OrderData{Event: h.Event, Namespace: o.Namespace, Name: o.Name, UID: string(o.UID), Index: index, Message: h.Message})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err = eventbus.Publish(ctx, r.JS, eventbus.Subject(eventbus.OrdersService, h.Event), e)
	return err
}

// OrderEventID is the CloudEvent id of an Order's saga log entry: <UID>-<index>.
func OrderEventID(uid types.UID, index int) string { return string(uid) + "-" + strconv.Itoa(index) }

// OrderEventSource is the CloudEvent source of an Order's saga log: the Order's path
// in the Kubernetes API.
func OrderEventSource(namespace, name string) string {
	return "/apis/" + sagav1.GroupVersion.String() + "/namespaces/" + namespace + "/orders/" + name
}

func entriesOf(o *sagav1.Order) []sagalog.Entry {
	out := make([]sagalog.Entry, len(o.Status.History))
	for i, h := range o.Status.History {
		out[i] = sagalog.Entry{Event: h.Event, Time: h.Time.Time, Message: h.Message}
	}
	return out
}

// load rebuilds the cursors from the stream, once: for each Order, the last entry the
// stream holds. Until it succeeds (the bus may be away at start) nothing is published.
func (r *OrderEventsReconciler) load(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.loaded {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if _, err := eventbus.EnsureStream(ctx, r.JS); err != nil {
		return err
	}
	cursors := map[types.UID]sagalog.Cursor{}
	err := eventbus.Follow(ctx, r.JS, eventbus.FollowOptions{Subject: eventbus.Subject(eventbus.OrdersService, ">"), NoFollow: true},
		func(m eventbus.Received) error {
			var d eventbus.OrderData
			if err := json.Unmarshal(m.Event.Data, &d); err != nil || d.UID == "" {
				return nil // not ours to understand; skip
			}
			uid := types.UID(d.UID)
			if c := cursors[uid]; d.Index+1 > c.Next {
				cursors[uid] = sagalog.Cursor{Next: d.Index + 1,
					Last: sagalog.Entry{Event: d.Event, Time: m.Event.Time, Message: d.Message}}
			}
			return nil
		})
	if err != nil {
		return fmt.Errorf("read the saga log from the stream: %w", err)
	}
	r.cursors, r.loaded = cursors, true
	logf.FromContext(ctx).Info("event bus: saga log position rebuilt from the stream", "orders", len(cursors))
	return nil
}

func (r *OrderEventsReconciler) forget(name types.NamespacedName) {
	r.mu.Lock()
	defer r.mu.Unlock()
	uid, ok := r.uids[name]
	if !ok {
		return
	}
	delete(r.uids, name)
	delete(r.cursors, uid)
	r.setPendingLocked(uid, 0)
}

func (r *OrderEventsReconciler) setPending(uid types.UID, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.setPendingLocked(uid, n)
}

func (r *OrderEventsReconciler) setPendingLocked(uid types.UID, n int) {
	if n > 0 {
		r.pending[uid] = n
	} else {
		delete(r.pending, uid)
	}
	total := 0
	for _, v := range r.pending {
		total += v
	}
	r.Metrics.Unpublished.Set(float64(total))
}

// SetupWithManager registers the controller. It watches every change of an Order,
// status included (each history entry is a status write), and only reads.
func (r *OrderEventsReconciler) SetupWithManager(mgr ctrl.Manager, maxConcurrent int) error {
	if r.Metrics == nil {
		r.Metrics = OrderEventsMetricsOnce()
	}
	r.cursors = map[types.UID]sagalog.Cursor{}
	r.uids = map[types.NamespacedName]types.UID{}
	r.pending = map[types.UID]int{}
	return ctrl.NewControllerManagedBy(mgr).
		For(&sagav1.Order{}).
		WithOptions(controller.Options{MaxConcurrentReconciles: maxConcurrent}).
		Named("orderevents").
		Complete(r)
}

// OrderEventsMetrics are the saga log publisher's metrics.
type OrderEventsMetrics struct {
	Unpublished prometheus.Gauge
	Published   prometheus.Counter
	Failures    prometheus.Counter
	Lost        prometheus.Counter
}

var (
	orderEventsMetricsOnce sync.Once
	orderEventsMetrics     *OrderEventsMetrics
)

// OrderEventsMetricsOnce returns the process-wide publisher metrics, registered once in
// controller-runtime's registry.
func OrderEventsMetricsOnce() *OrderEventsMetrics {
	orderEventsMetricsOnce.Do(func() {
		m := &OrderEventsMetrics{
			Unpublished: prometheus.NewGauge(prometheus.GaugeOpts{Name: "kubesaga_order_events_unpublished",
				Help: "Saga log entries (status.history) recorded but not yet acknowledged by the event bus: the lag."}),
			Published: prometheus.NewCounter(prometheus.CounterOpts{Name: "kubesaga_order_events_published_total",
				Help: "Saga log entries the event bus acknowledged."}),
			Failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "kubesaga_order_events_publish_failures_total",
				Help: "Failed attempts to publish saga log entries (retried)."}),
			Lost: prometheus.NewCounter(prometheus.CounterOpts{Name: "kubesaga_order_events_lost_total",
				Help: "Gaps where saga log entries left the bounded status.history before the bus took them."}),
		}
		metrics.Registry.MustRegister(m.Unpublished, m.Published, m.Failures, m.Lost)
		orderEventsMetrics = m
	})
	return orderEventsMetrics
}
