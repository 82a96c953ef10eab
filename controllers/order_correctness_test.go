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

package controllers_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/controllers"
	"github.com/kubesaga/kubesaga/internal/participants"
)

// Routes of the calls after the pivot, for injected faults.
const (
	commitRoute  = "POST /api/reservations/" // .../commit: the only POST on reservations
	releaseRoute = "DELETE /api/reservations/"
)

// metricValue sums the samples of a saga metric whose labels include every pair of want
// (a histogram's: its observation counts).
func metricValue(name string, want map[string]string) float64 {
	families, err := ctrlmetrics.Registry.Gather()
	Expect(err).NotTo(HaveOccurred())
	total := 0.0
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	samples:
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if labels[k] != v {
					continue samples
				}
			}
			switch {
			case m.GetCounter() != nil:
				total += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				total += m.GetGauge().GetValue()
			case m.GetHistogram() != nil: // how many observations
				total += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return total
}

// occurrences counts the Events of one reason about an Order, repeats included (the
// recorder folds identical Events into a series).
func occurrences(o *sagav1.Order, reason string) int32 {
	list := &eventsv1.EventList{}
	Expect(k8sClient.List(ctx, list, client.InNamespace(o.Namespace))).To(Succeed())
	var n int32
	for _, e := range list.Items {
		if e.Regarding.UID != o.UID || e.Reason != reason {
			continue
		}
		if e.Series != nil {
			n += e.Series.Count
		} else {
			n++
		}
	}
	return n
}

// eventNotes lists the notes of the Events of one reason about an Order.
func eventNotes(o *sagav1.Order, reason string) []string {
	list := &eventsv1.EventList{}
	Expect(k8sClient.List(ctx, list, client.InNamespace(o.Namespace))).To(Succeed())
	var out []string
	for _, e := range list.Items {
		if e.Regarding.UID == o.UID && e.Reason == reason {
			out = append(out, e.Note)
		}
	}
	return out
}

func orderGone(o *sagav1.Order) func() bool {
	return func() bool {
		return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(o), &sagav1.Order{}))
	}
}

const pastLimitGauge = "kubesaga_sagas_retrying_past_limit"

// settle waits until no Order of an earlier spec is in flight, so that a spec that
// measures process-wide metrics or injects a fault on a shared route sees only its own.
func settle() {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		list := &sagav1.OrderList{}
		g.Expect(k8sClient.List(ctx, list, client.InNamespace(testNamespace))).To(Succeed())
		for _, o := range list.Items {
			g.Expect(o.Status.Phase).To(BeElementOf(sagav1.PhaseSucceeded, sagav1.PhaseFailed, sagav1.PhaseStalled), o.Name)
		}
	}).WithTimeout(60 * time.Second).WithPolling(100 * time.Millisecond).Should(Succeed())
}

var _ = Describe("Saga correctness", func() {
	BeforeEach(settle)
	AfterEach(func() {
		for _, p := range []*participant{cartsSvc, stocksSvc, salesSvc} {
			p.Heal()
			p.AfterServe(nil)
			if !p.Running() {
				p.Start()
			}
		}
	})

	It("keeps a step after the pivot retrying past --max-attempts, tells it, and finishes by itself", func() {
		product := newProduct(store, 5)
		cart := newCart(store, product, 1, "3.00")
		before := metricValue(pastLimitGauge, nil)
		stocksSvc.FailWith(commitRoute, http.StatusServiceUnavailable)
		o := newOrder(cart, store)

		limit := int32(testOptions().MaxAttempts)
		Eventually(func(g Gomega) {
			got := fetch(o)
			commit := step(got, "CommitReservation")
			g.Expect(commit.Attempts).To(BeNumerically(">", limit+1), "retries go on past the limit")
			g.Expect(commit.State).To(Equal("Retrying"))
			g.Expect(commit.NextRetryAt).NotTo(BeNil())
			g.Expect(got.Status.Phase).To(Equal(sagav1.PhaseRunning))
			g.Expect(got.Status.NextRetryAt).NotTo(BeNil())
			g.Expect(got.Status.LastError).To(ContainSubstring("503"))
			g.Expect(condition(got, sagav1.ConditionStalled).Status).To(Equal(metav1.ConditionFalse))
			g.Expect(condition(got, sagav1.ConditionProgressing).Reason).To(Equal(sagav1.ReasonRetryLimitExceeded))
			g.Expect(metricValue(pastLimitGauge, nil)).To(Equal(before + 1))
			g.Expect(eventReasons(got, corev1.EventTypeWarning)).To(ContainElement(sagav1.EventReasonRetryLimitExceeded))
		}).WithTimeout(40 * time.Second).WithPolling(100 * time.Millisecond).Should(Succeed())
		Expect(occurrences(o, sagav1.EventReasonRetryLimitExceeded)).To(Equal(int32(1)), "raised once, not at every attempt")
		// The history keeps the story: one folded entry for the retries, not 32 of them.
		Expect(historyEvents(fetch(o))).To(Equal([]string{sagav1.HistoryOrderCreated, sagav1.HistoryCartLocked,
			sagav1.HistoryStockReserved, sagav1.HistorySaleCreated, sagav1.HistoryStepRetrying,
			sagav1.HistoryRetryLimitExceeded, sagav1.HistoryStepRetrying}))

		stocksSvc.Heal()
		got := waitForPhase(o, sagav1.PhaseSucceeded, 20*time.Second)
		Expect(metricValue(pastLimitGauge, nil)).To(Equal(before), "the gauge clears itself")
		Eventually(func() []string { return eventReasons(got, corev1.EventTypeNormal) }).
			Should(ContainElement(sagav1.EventReasonStepRecovered))
		Expect(cartStatus(cart)).To(Equal("CHECKED_OUT"))
		res, err := stocksAPI.GetReservation(ctx, string(got.UID))
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Status).To(Equal("COMMITTED"))
		Expect(salesOf(got)).To(HaveLen(1))
		Expect(stockOf(store, product)).To(Equal(int64(4)))
	})

	It("stalls a step after the pivot that is refused, and forgets the Order's stall when it is gone", func() {
		product := newProduct(store, 5)
		cart := newCart(store, product, 1, "3.00")
		before := metricValue("kubesaga_sagas_stalled", nil)
		stocksSvc.FailWith(commitRoute, http.StatusUnprocessableEntity)
		o := newOrder(cart, store)

		got := waitForPhase(o, sagav1.PhaseStalled, 20*time.Second)
		Expect(condition(got, sagav1.ConditionStalled).Reason).To(Equal(sagav1.ReasonRetriableStepRefused))
		Expect(step(got, "CommitReservation").Attempts).To(Equal(int32(1)), "a refusal is not retried")
		Expect(metricValue("kubesaga_sagas_stalled", nil)).To(Equal(before + 1))
		Eventually(func() []string { return eventNotes(got, sagav1.EventReasonStalled) }).
			Should(ContainElement(HavePrefix("CommitReservation cannot succeed")))

		// A person deletes the Order (the finalizer holds it: the sale stands, the saga is
		// stalled) and removes the finalizer by hand: it is gone, and the gauge must not
		// count it for ever.
		Expect(k8sClient.Delete(ctx, fetch(o))).To(Succeed())
		Eventually(func() bool { return fetch(o).DeletionTimestamp != nil }).Should(BeTrue())
		cur := fetch(o)
		patch := client.MergeFrom(cur.DeepCopy())
		cur.Finalizers = nil
		Expect(k8sClient.Patch(ctx, cur, patch)).To(Succeed())
		Eventually(orderGone(o)).WithTimeout(10 * time.Second).Should(BeTrue())
		Eventually(func() float64 { return metricValue("kubesaga_sagas_stalled", nil) }).
			WithTimeout(10 * time.Second).Should(Equal(before))
	})

	It("finishes forward an Order deleted with Retain after its sale: the sale stands", func() {
		product := newProduct(store, 5)
		cart := newCart(store, product, 2, "2.50")
		stocksSvc.FailWith(commitRoute, http.StatusServiceUnavailable)
		o := newOrder(cart, store) // deletionPolicy defaults to Retain
		Eventually(func() string { return step(fetch(o), "CommitReservation").State }).
			WithTimeout(20 * time.Second).Should(Equal("Retrying"))
		Expect(salesOf(o)).To(HaveLen(1))

		Expect(k8sClient.Delete(ctx, o)).To(Succeed())
		// The Order is held while commit and checkout are still to do; nothing is undone.
		Consistently(func(g Gomega) {
			got := fetch(o)
			g.Expect(got.DeletionTimestamp).NotTo(BeNil())
			g.Expect(step(got, "CreateSale").State).To(Equal("Succeeded"))
			g.Expect(step(got, "CreateSale").CompensationAttempts).To(BeZero())
			g.Expect(got.Status.Phase).To(Equal(sagav1.PhaseRunning))
		}).WithTimeout(time.Second).Should(Succeed())

		stocksSvc.Heal()
		Eventually(orderGone(o)).WithTimeout(20 * time.Second).Should(BeTrue())
		sales := salesOf(o)
		Expect(sales).To(HaveLen(1))
		Expect(sales[0].Status).To(Equal("CREATED"))
		Expect(cartStatus(cart)).To(Equal("CHECKED_OUT"))
		res, err := stocksAPI.GetReservation(ctx, string(o.UID))
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Status).To(Equal("COMMITTED"))
		Expect(stockOf(store, product)).To(Equal(int64(3)))
	})

	It("shows Running, not Pending, in the first status once a step ran", func() {
		product := newProduct(store, 5)
		cart := newCart(store, product, 1, "1.00")
		wc, err := client.NewWithWatch(cfg, client.Options{Scheme: controllers.Scheme()})
		Expect(err).NotTo(HaveOccurred())
		name := "first-pass-" + strings.ToLower(strings.ReplaceAll(time.Now().UTC().Format("150405.000"), ".", "-"))
		w, err := wc.Watch(ctx, &sagav1.OrderList{}, client.InNamespace(testNamespace),
			client.MatchingFields{"metadata.name": name})
		Expect(err).NotTo(HaveOccurred())
		defer w.Stop()

		salesSvc.Stop() // the first pass locks and reserves, then waits for the sale
		o := newOrder(cart, store, func(o *sagav1.Order) { o.Name = name })
		var seen []sagav1.OrderPhase
		Eventually(func(g Gomega) {
			select {
			case ev := <-w.ResultChan():
				if ev.Type == watch.Added || ev.Type == watch.Modified {
					got := ev.Object.(*sagav1.Order)
					if len(got.Status.Steps) > 0 {
						seen = append(seen, got.Status.Phase)
					}
				}
			default:
			}
			g.Expect(seen).NotTo(BeEmpty())
		}).WithTimeout(20 * time.Second).WithPolling(10 * time.Millisecond).Should(Succeed())
		Expect(seen[0]).To(Equal(sagav1.PhaseRunning), "the first status with steps")
		salesSvc.Start()
		waitForPhase(o, sagav1.PhaseSucceeded, 20*time.Second)
	})

	It("counts and tells a pass once when its status write conflicts", func() {
		product := newProduct(store, 5)
		cart := newCart(store, product, 1, "1.00")
		name := "conflict-" + strings.ToLower(strings.ReplaceAll(time.Now().UTC().Format("150405.000"), ".", "-"))
		var bumped atomic.Bool
		cartsSvc.AfterServe(func(r *http.Request) {
			if strings.HasSuffix(r.URL.Path, cart+"/lock") && r.Header.Get(participants.CorrelationHeader) != "" &&
				bumped.CompareAndSwap(false, true) {
				// Someone else writes the Order while the pass runs: its status write conflicts.
				// (A handler goroutine: no assertions here; the spec checks bumped and the counts.)
				bump := &sagav1.Order{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNamespace}}
				patch := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"annotations":{"test.kubesaga.io/bump":"1"}}}`))
				if err := k8sClient.Patch(ctx, bump, patch); err != nil {
					bumped.Store(false)
				}
			}
		})
		started := metricValue("kubesaga_sagas_started_total", nil)
		completed := metricValue("kubesaga_sagas_completed_total", nil)
		o := newOrder(cart, store, func(o *sagav1.Order) { o.Name = name })
		got := waitForPhase(o, sagav1.PhaseSucceeded, 20*time.Second)
		Expect(bumped.Load()).To(BeTrue())
		Expect(metricValue("kubesaga_sagas_started_total", nil)).To(Equal(started + 1))
		Expect(metricValue("kubesaga_sagas_completed_total", nil)).To(Equal(completed + 1))
		Eventually(func() int32 { return occurrences(got, sagav1.EventReasonCompleted) }).Should(Equal(int32(1)))
		Expect(eventReasons(got, "")).To(ConsistOf(sagav1.EventReasonCompleted), "the happy path's one Event")
	})

	It("does not count a Compensate deletion of a Succeeded Order as a failure", func() {
		product := newProduct(store, 5)
		cart := newCart(store, product, 1, "2.00")
		o := newOrder(cart, store, func(o *sagav1.Order) { o.Spec.DeletionPolicy = sagav1.DeletionCompensate })
		got := waitForPhase(o, sagav1.PhaseSucceeded, 20*time.Second)
		Expect(got.Status.CompletedAt).NotTo(BeNil())
		failed := metricValue("kubesaga_sagas_failed_total", nil)
		Expect(k8sClient.Delete(ctx, got)).To(Succeed())
		Eventually(orderGone(o)).WithTimeout(20 * time.Second).Should(BeTrue())
		Expect(salesOf(got)[0].Status).To(Equal("CANCELLED"))
		Expect(metricValue("kubesaga_sagas_failed_total", nil)).To(Equal(failed))
	})

	It("labels a failure with its step and its reason, and ends the history with FAILED", func() {
		product := newProduct(store, 1)
		cart := newCart(store, product, 2, "4.00")
		labels := map[string]string{"step": "ReserveStock", "reason": sagav1.ReasonStepRefused}
		before := metricValue("kubesaga_sagas_failed_total", labels)
		got := waitForPhase(newOrder(cart, store), sagav1.PhaseFailed, 20*time.Second)
		Expect(metricValue("kubesaga_sagas_failed_total", labels)).To(Equal(before + 1))
		h := historyEvents(got)
		Expect(h[len(h)-2:]).To(Equal([]string{sagav1.HistoryCompensated, sagav1.HistoryFailed}))
	})

	It("starts compensating at the deadline, not when a long backoff ends", func() {
		stopManager()
		DeferCleanup(func() { stopManager(); startManager() })
		opts := testOptions()
		opts.BackoffBase, opts.BackoffMax = 30*time.Second, time.Minute
		startManagerWith(opts)

		product := newProduct(store, 5)
		cart := newCart(store, product, 1, "1.00")
		stocksSvc.FailWith("PUT /api/reservations/", http.StatusServiceUnavailable)
		o := newOrder(cart, store, func(o *sagav1.Order) { o.Spec.Timeout = &metav1.Duration{Duration: 2 * time.Second} })
		var backoffEnds time.Time
		Eventually(func(g Gomega) {
			r := step(fetch(o), "ReserveStock")
			g.Expect(r.NextRetryAt).NotTo(BeNil())
			backoffEnds = r.NextRetryAt.Time
		}).WithTimeout(10 * time.Second).Should(Succeed())
		Expect(backoffEnds).To(BeTemporally(">", fetch(o).CreationTimestamp.Add(10*time.Second)))

		got := waitForPhase(o, sagav1.PhaseFailed, 90*time.Second)
		Expect(condition(got, sagav1.ConditionSucceeded).Reason).To(Equal(sagav1.ReasonDeadlineExceeded))
		var compensated time.Time
		for _, h := range got.Status.History {
			if h.Event == sagav1.HistoryCompensated {
				compensated = h.Time.Time
			}
		}
		Expect(compensated).To(BeTemporally("<", backoffEnds), "compensated before the backoff of the failed step ended")
		Expect(step(got, "ReserveStock").Attempts).To(Equal(int32(1)))
		Expect(cartStatus(cart)).To(Equal("OPEN"))
		Expect(stockOf(store, product)).To(Equal(int64(5)))
	})
})

var _ = Describe("Bounded error text", func() {
	AfterEach(func() { salesSvc.Heal() })

	It("cuts a participant's 100 KiB problem detail and keeps the Order progressing", func() {
		product := newProduct(store, 5)
		cart := newCart(store, product, 1, "1.00")
		huge := strings.Repeat("x", 100<<10)
		salesSvc.FailWithDetail("PUT /api/sales/", http.StatusServiceUnavailable, huge)
		o := newOrder(cart, store)

		Eventually(func(g Gomega) {
			got := fetch(o)
			g.Expect(step(got, "CreateSale").Attempts).To(BeNumerically(">=", 2))
			g.Expect(got.Status.LastError).To(ContainSubstring("[cut: "))
			g.Expect(len(got.Status.LastError)).To(BeNumerically("<", 2048))
			g.Expect(len(step(got, "CreateSale").LastError)).To(BeNumerically("<", 2048))
			for _, h := range got.Status.History {
				g.Expect(len(h.Message)).To(BeNumerically("<", 2048))
			}
			for _, c := range got.Status.Conditions {
				g.Expect(len(c.Message)).To(BeNumerically("<", 2048))
			}
		}).WithTimeout(20 * time.Second).Should(Succeed())
		salesSvc.Heal()
		waitForPhase(o, sagav1.PhaseSucceeded, 20*time.Second)
	})
})
