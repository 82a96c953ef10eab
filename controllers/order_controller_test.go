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
	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/internal/participants"
)

const (
	store     = int64(101)
	validCart = "6f1c1f52-8f8e-4b2b-9d0a-2a8c6b1e0c11"
)

var _ = Describe("Order saga", func() {
	AfterEach(func() {
		// A spec that takes a service down must not leave it down for the next one.
		for _, p := range []*participant{cartsSvc, stocksSvc, salesSvc} {
			p.Heal()
			p.AfterServe(nil)
			if !p.Running() {
				p.Start()
			}
		}
	})

	It("checks a cart out: stock reserved and committed, one sale with the cart's prices", func() {
		product := newProduct(store, 15)
		cart := newCart(store, product, 3, "12.50")
		o := newOrder(cart, store)

		got := waitForPhase(o, sagav1.PhaseSucceeded, 20*time.Second)
		Expect(condition(got, sagav1.ConditionSucceeded).Status).To(Equal(metav1.ConditionTrue))
		Expect(condition(got, sagav1.ConditionCompensated).Status).To(Equal(metav1.ConditionFalse))
		Expect(condition(got, sagav1.ConditionStalled).Status).To(Equal(metav1.ConditionFalse))
		Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
		Expect(got.Status.SaleID).To(Equal(string(got.UID)))
		Expect(got.Status.Total).To(Equal("37.50"))
		Expect(historyEvents(got)).To(Equal([]string{"ORDER_CREATED", "CART_LOCKED", "STOCK_RESERVED",
			"SALE_CREATED", "RESERVATION_COMMITTED", "CART_CHECKED_OUT", "COMPLETED"}))
		for _, s := range got.Status.Steps {
			Expect(s.State).To(Equal("Succeeded"), s.Name)
			Expect(s.Attempts).To(Equal(int32(1)), s.Name)
			Expect(s.StartedAt).To(BeNil(), "the history holds the times: nothing is said twice")
			Expect(s.FinishedAt).To(BeNil())
		}

		Expect(stockOf(store, product)).To(Equal(int64(12)))
		sales := salesOf(got)
		Expect(sales).To(HaveLen(1))
		Expect(sales[0].Lines).To(Equal([]participants.Line{{ProductID: product, Quantity: 3, UnitPrice: "12.50"}}))
		Expect(sales[0].Total).To(Equal("37.50"))
		Expect(cartStatus(cart)).To(Equal("CHECKED_OUT"))
		res, err := stocksAPI.GetReservation(ctx, string(got.UID)) // the reservation id is the UID
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Status).To(Equal("COMMITTED"))

		// Every participant's business log carries the Order's UID as correlation id.
		for _, list := range []func() ([]participants.Event, error){
			func() ([]participants.Event, error) { return cartsAPI.Events(ctx, string(got.UID)) },
			func() ([]participants.Event, error) { return stocksAPI.Events(ctx, string(got.UID)) },
			func() ([]participants.Event, error) { return salesAPI.Events(ctx, string(got.UID)) },
		} {
			evs, err := list()
			Expect(err).NotTo(HaveOccurred())
			Expect(evs).NotTo(BeEmpty())
			for _, e := range evs {
				Expect(e.CorrelationID).To(Equal(string(got.UID)))
				Expect(e.Outcome).To(Equal("SUCCESS"))
			}
		}
		// One Event, on completion: the steps done at once have none (order_apicost_test.go
		// counts them after the manager stopped).
		Eventually(func() []string { return eventReasons(got, corev1.EventTypeNormal) }).Should(ContainElement("Completed"))
		// The finished saga keeps its finalizer until it is deleted (releasing it would be
		// one more write); the deletion specs below show it goes at once then.
		Expect(fetch(o).Finalizers).To(ContainElement(sagav1.Finalizer))
	})

	It("compensates when the stock refuses, without retrying the refusal", func() {
		product := newProduct(store, 1)
		cart := newCart(store, product, 2, "4.00")
		o := newOrder(cart, store)

		got := waitForPhase(o, sagav1.PhaseFailed, 20*time.Second)
		Expect(condition(got, sagav1.ConditionCompensated).Status).To(Equal(metav1.ConditionTrue))
		Expect(condition(got, sagav1.ConditionSucceeded).Status).To(Equal(metav1.ConditionFalse))
		Expect(condition(got, sagav1.ConditionSucceeded).Reason).To(Equal("StepRefused"))
		Expect(got.Status.LastError).To(ContainSubstring("insufficient"))
		Expect(step(got, "ReserveStock").State).To(Equal("Refused"))
		Expect(step(got, "ReserveStock").Attempts).To(Equal(int32(1)), "a refusal is final: no retry")
		Expect(step(got, "LockCart").State).To(Equal("Compensated"))
		Expect(step(got, "CreateSale").Attempts).To(BeZero())
		Expect(historyEvents(got)).To(Equal([]string{"ORDER_CREATED", "CART_LOCKED", "STEP_FAILED", "CART_UNLOCKED", "COMPENSATED", "FAILED"}))

		Expect(cartStatus(cart)).To(Equal("OPEN"))
		Expect(stockOf(store, product)).To(Equal(int64(1)))
		Expect(salesOf(got)).To(BeEmpty())
		Eventually(func() []string { return eventReasons(got, corev1.EventTypeWarning) }).Should(ContainElement("StepFailed"))
	})

	It("refuses a cart of another store, gives the lock back, and serves the right store", func() {
		const otherStore = int64(102)
		product := newProduct(otherStore, 4)
		cart := newCart(otherStore, product, 1, "8.00")

		wrong := waitForPhase(newOrder(cart, store), sagav1.PhaseFailed, 20*time.Second)
		Expect(wrong.Status.LastError).To(ContainSubstring("store-mismatch"))
		Expect(step(wrong, "LockCart").State).To(Equal("Refused"))
		Expect(cartStatus(cart)).To(Equal("OPEN"))

		right := waitForPhase(newOrder(cart, otherStore), sagav1.PhaseSucceeded, 20*time.Second)
		Expect(right.Status.Total).To(Equal("8.00"))
		Expect(stockOf(otherStore, product)).To(Equal(int64(3)))
	})

	It("runs one saga per Order name and one sale per cart", func() {
		product := newProduct(store, 10)
		cart := newCart(store, product, 1, "2.00")
		o := newOrder(cart, store)
		first := waitForPhase(o, sagav1.PhaseSucceeded, 20*time.Second)

		// Re-applying the same manifest (a merge patch of the same spec, as kubectl apply
		// sends) changes nothing.
		again := &sagav1.Order{ObjectMeta: metav1.ObjectMeta{Name: o.Name, Namespace: o.Namespace}}
		patch := client.MergeFrom(again.DeepCopy())
		again.Spec = o.Spec
		Expect(k8sClient.Patch(ctx, again, patch)).To(Succeed())
		Consistently(func(g Gomega) {
			cur := fetch(o)
			g.Expect(cur.Generation).To(Equal(first.Generation))
			g.Expect(cur.Status.Phase).To(Equal(sagav1.PhaseSucceeded))
		}).WithTimeout(time.Second).Should(Succeed())
		Expect(salesOf(first)).To(HaveLen(1))
		Expect(stockOf(store, product)).To(Equal(int64(9)))

		// A second Order on the same (checked out) cart fails and leaves the winner alone.
		other := newOrder(cart, store)
		lost := waitForPhase(other, sagav1.PhaseFailed, 20*time.Second)
		Expect(condition(lost, sagav1.ConditionCompensated).Status).To(Equal(metav1.ConditionTrue))
		Expect(lost.Status.LastError).To(ContainSubstring("cart-unavailable"))
		Expect(salesOf(lost)).To(BeEmpty())
		Expect(cartStatus(cart)).To(Equal("CHECKED_OUT"))
		Expect(stockOf(store, product)).To(Equal(int64(9)))
	})

	It("lets two Orders race for one cart: exactly one sale", func() {
		product := newProduct(store, 10)
		cart := newCart(store, product, 2, "3.10")
		a, b := newOrder(cart, store), newOrder(cart, store)

		var winners, losers int
		for _, o := range []*sagav1.Order{a, b} {
			Eventually(func(g Gomega) {
				g.Expect(fetch(o).Status.Phase).To(BeElementOf(sagav1.PhaseSucceeded, sagav1.PhaseFailed))
			}).WithTimeout(20 * time.Second).Should(Succeed())
			switch got := fetch(o); got.Status.Phase {
			case sagav1.PhaseSucceeded:
				winners++
				Expect(salesOf(got)).To(HaveLen(1))
			default:
				losers++
				Expect(condition(got, sagav1.ConditionCompensated).Status).To(Equal(metav1.ConditionTrue))
				Expect(salesOf(got)).To(BeEmpty())
			}
		}
		Expect([]int{winners, losers}).To(Equal([]int{1, 1}))
		Expect(cartStatus(cart)).To(Equal("CHECKED_OUT"), "the loser's compensation must not unlock the winner's cart")
		Expect(stockOf(store, product)).To(Equal(int64(8)))
	})

	It("retries a transient fault with growing backoff recorded in status, then succeeds", func() {
		product := newProduct(store, 5)
		cart := newCart(store, product, 1, "9.99")
		salesSvc.Stop()
		o := newOrder(cart, store)

		Eventually(func(g Gomega) {
			got := fetch(o)
			g.Expect(step(got, "CreateSale").State).To(Equal("Retrying"))
			g.Expect(step(got, "CreateSale").Attempts).To(BeNumerically(">=", 2))
			g.Expect(got.Status.NextRetryAt).NotTo(BeNil())
			g.Expect(got.Status.LastError).To(ContainSubstring("create sale"))
			g.Expect(got.Status.Phase).To(Equal(sagav1.PhaseRunning))
		}).WithTimeout(10 * time.Second).Should(Succeed())
		salesSvc.Start()

		got := waitForPhase(o, sagav1.PhaseSucceeded, 20*time.Second)
		Expect(salesOf(got)).To(HaveLen(1))
		Expect(stockOf(store, product)).To(Equal(int64(4)))
		Expect(historyEvents(got)).To(ContainElement("STEP_RETRYING"))
	})

	It("compensates when a step's attempts are exhausted, keeping the transient error", func() {
		product := newProduct(store, 5)
		cart := newCart(store, product, 1, "1.00")
		salesSvc.FailWith("PUT /api/sales/", http.StatusServiceUnavailable)
		o := newOrder(cart, store)

		got := waitForPhase(o, sagav1.PhaseFailed, 30*time.Second)
		Expect(condition(got, sagav1.ConditionCompensated).Status).To(Equal(metav1.ConditionTrue))
		Expect(condition(got, sagav1.ConditionSucceeded).Reason).To(Equal("AttemptsExhausted"))
		Expect(step(got, "CreateSale").State).To(Equal("Compensated"))
		Expect(step(got, "CreateSale").Attempts).To(Equal(int32(testOptions().MaxAttempts)))
		Expect(got.Status.LastError).To(ContainSubstring("503"))
		Expect(stockOf(store, product)).To(Equal(int64(5)))
		Expect(cartStatus(cart)).To(Equal("OPEN"))
		salesSvc.Heal()
		Expect(salesOf(got)).To(BeEmpty())
	})

	It("retries a compensation that fails transiently, stalls one that is refused, and finishes it on the retry annotation", func() {
		product := newProduct(store, 5)
		cart := newCart(store, product, 2, "5.00")
		// The sale is refused (its id was already compensated), so the saga must release
		// the stock, which the stocks service cannot do for now.
		stocksSvc.Stop()
		o := newOrder(cart, store)
		Eventually(func() int32 { return step(fetch(o), "ReserveStock").Attempts }).
			WithTimeout(10 * time.Second).Should(BeNumerically(">=", 1))
		Expect(salesAPI.Cancel(ctx, string(fetch(o).UID))).To(Succeed())
		stocksSvc.FailWith("DELETE /api/reservations/", http.StatusServiceUnavailable)
		stocksSvc.Start()

		// A transient failure of an undo is retried past the limit; it never stalls.
		limit := int32(testOptions().CompensationMaxAttempts)
		Eventually(func(g Gomega) {
			got := fetch(o)
			g.Expect(step(got, "ReserveStock").CompensationAttempts).To(BeNumerically(">", limit))
			g.Expect(step(got, "ReserveStock").State).To(Equal("Compensating"))
			g.Expect(got.Status.Phase).To(Equal(sagav1.PhaseCompensating))
		}).WithTimeout(40 * time.Second).Should(Succeed())
		Eventually(func() []string { return eventReasons(o, corev1.EventTypeWarning) }).Should(ContainElement("RetryLimitExceeded"))

		// A refusal no retry can fix stalls at once.
		stocksSvc.FailWith("DELETE /api/reservations/", http.StatusUnprocessableEntity)
		got := waitForPhase(o, sagav1.PhaseStalled, 30*time.Second)
		Expect(condition(got, sagav1.ConditionStalled).Status).To(Equal(metav1.ConditionTrue))
		Expect(condition(got, sagav1.ConditionStalled).Reason).To(Equal("CompensationRefused"))
		Expect(step(got, "ReserveStock").State).To(Equal("Stalled"))
		Expect(step(got, "CreateSale").State).To(Equal("Refused"))
		Expect(stockOf(store, product)).To(Equal(int64(3)), "the reservation still holds the stock")
		Eventually(func() []string { return eventNotes(got, "Stalled") }).
			Should(ContainElement(HavePrefix("ReleaseStock cannot succeed")), "the Stalled Event names the undo")
		stalledAt := step(got, "ReserveStock").CompensationAttempts
		Consistently(func() int32 { return step(fetch(o), "ReserveStock").CompensationAttempts }).
			WithTimeout(time.Second).Should(Equal(stalledAt), "a stalled saga never loops")

		stocksSvc.Heal()
		retry := fetch(o)
		patch := client.MergeFrom(retry.DeepCopy())
		retry.Annotations = map[string]string{sagav1.RetryAnnotation: "now"}
		Expect(k8sClient.Patch(ctx, retry, patch)).To(Succeed())

		got = waitForPhase(o, sagav1.PhaseFailed, 20*time.Second)
		Expect(condition(got, sagav1.ConditionCompensated).Status).To(Equal(metav1.ConditionTrue))
		Expect(condition(got, sagav1.ConditionStalled).Status).To(Equal(metav1.ConditionFalse))
		// The annotation is removed right after the status that took it is written.
		Eventually(func() map[string]string { return fetch(o).Annotations }).ShouldNot(HaveKey(sagav1.RetryAnnotation))
		Expect(step(got, "LockCart").Attempts).To(Equal(int32(1)), "finished steps are not redone")
		Expect(stockOf(store, product)).To(Equal(int64(5)))
		Expect(cartStatus(cart)).To(Equal("OPEN"))
	})

	It("compensates a saga that passes its deadline before the sale", func() {
		product := newProduct(store, 5)
		cart := newCart(store, product, 1, "1.00")
		stocksSvc.FailWith("PUT /api/reservations/", http.StatusServiceUnavailable)
		o := newOrder(cart, store, func(o *sagav1.Order) { o.Spec.Timeout = &metav1.Duration{Duration: 2 * time.Second} })

		got := waitForPhase(o, sagav1.PhaseFailed, 20*time.Second)
		Expect(condition(got, sagav1.ConditionSucceeded).Reason).To(Equal("DeadlineExceeded"))
		Expect(got.Status.LastError).To(ContainSubstring("deadline"))
		Expect(step(got, "ReserveStock").Attempts).To(BeNumerically("<", testOptions().MaxAttempts))
		Expect(step(got, "LockCart").State).To(Equal("Compensated"))
		Expect(stockOf(store, product)).To(Equal(int64(5)))
		Expect(cartStatus(cart)).To(Equal("OPEN"))
	})

	It("exports saga metrics without Order names or UIDs as labels", func() {
		completed := func() float64 {
			return metricValue("kubesaga_sagas_completed_total", map[string]string{"kind": "Order"})
		}
		before := completed()
		product := newProduct(store, 1)
		waitForPhase(newOrder(newCart(store, product, 1, "1.00"), store), sagav1.PhaseSucceeded, 20*time.Second)
		// Counted right after the status write returns, which a reader may see first.
		Eventually(completed).Should(Equal(before + 1))
		// A refused Order too, so that the failure and compensation series exist even when
		// this spec runs alone.
		failed := func() float64 {
			return metricValue("kubesaga_sagas_failed_total", map[string]string{"kind": "Order"})
		}
		failedBefore := failed()
		waitForPhase(newOrder(newCart(store, newProduct(store, 0), 1, "1.00"), store), sagav1.PhaseFailed, 20*time.Second)
		Eventually(failed).Should(Equal(failedBefore + 1))

		families, err := ctrlmetrics.Registry.Gather()
		Expect(err).NotTo(HaveOccurred())
		byName := map[string]*dto.MetricFamily{}
		for _, f := range families {
			byName[f.GetName()] = f
		}
		for _, name := range []string{"kubesaga_sagas_started_total", "kubesaga_sagas_completed_total",
			"kubesaga_sagas_failed_total", "kubesaga_compensations_total", "kubesaga_sagas_stalled", "kubesaga_sagas_retrying_past_limit",
			"kubesaga_saga_duration_seconds", "kubesaga_step_duration_seconds"} {
			Expect(byName).To(HaveKey(name))
		}
		for _, f := range families {
			if !strings.HasPrefix(f.GetName(), "kubesaga_") {
				continue
			}
			for _, m := range f.GetMetric() {
				for _, l := range m.GetLabel() {
					Expect(l.GetName()).To(BeElementOf("kind", "step", "action", "outcome", "result", "reason", "phase", "version", "revision", "goversion"),
						f.GetName())
				}
			}
		}
	})

	Describe("crash safety", func() {
		// The route each step calls, in saga order.
		boundaries := []struct{ step, route string }{
			{"LockCart", "POST /api/carts/"}, // .../lock
			{"ReserveStock", "PUT /api/reservations/"},
			{"CreateSale", "PUT /api/sales/"},
			{"CommitReservation", "POST /api/reservations/"}, // .../commit
			{"CheckoutCart", "POST /api/carts/"},             // .../checkout
		}
		for k, b := range boundaries {
			It("finishes once when the manager dies right after "+b.step, func() {
				product := newProduct(store, 7)
				cart := newCart(store, product, 2, "6.25")
				svc := map[string]*participant{"LockCart": cartsSvc, "CheckoutCart": cartsSvc, "ReserveStock": stocksSvc,
					"CommitReservation": stocksSvc, "CreateSale": salesSvc}[b.step]
				suffix := map[string]string{"LockCart": "/lock", "CheckoutCart": "/checkout", "CommitReservation": "/commit"}[b.step]
				var crashed atomic.Bool
				svc.AfterServe(func(r *http.Request) {
					if strings.HasPrefix(r.Method+" "+r.URL.Path, b.route) && strings.HasSuffix(r.URL.Path, suffix) &&
						r.Header.Get(participants.CorrelationHeader) != "" && crashed.CompareAndSwap(false, true) {
						go stopManager()
					}
				})
				o := newOrder(cart, store)
				Eventually(crashed.Load).WithTimeout(20 * time.Second).Should(BeTrue())
				Eventually(func() bool { return mgrCancel == nil }).WithTimeout(30 * time.Second).Should(BeTrue())
				svc.AfterServe(nil)
				startManager()

				got := waitForPhase(o, sagav1.PhaseSucceeded, 30*time.Second)
				Expect(stockOf(store, product)).To(Equal(int64(5)), "stock decremented once (boundary %d)", k+1)
				Expect(salesOf(got)).To(HaveLen(1))
				Expect(salesOf(got)[0].Total).To(Equal("12.50"))
				Expect(cartStatus(cart)).To(Equal("CHECKED_OUT"))
			})
		}
	})

	Describe("deletion", func() {
		It("compensates an in-flight Order before it disappears", func() {
			product := newProduct(store, 5)
			cart := newCart(store, product, 1, "2.50")
			salesSvc.Stop()
			o := newOrder(cart, store)
			Eventually(func() string { return step(fetch(o), "CreateSale").State }).
				WithTimeout(10 * time.Second).Should(Equal("Retrying"))
			Expect(stockOf(store, product)).To(Equal(int64(4)))

			Expect(k8sClient.Delete(ctx, o)).To(Succeed())
			// The sale's outcome is uncertain, so it must be cancelled first: the Order waits.
			Consistently(func() error { return k8sClient.Get(ctx, client.ObjectKeyFromObject(o), &sagav1.Order{}) }).
				WithTimeout(300 * time.Millisecond).Should(Succeed())
			salesSvc.Start()
			Eventually(func() bool {
				return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(o), &sagav1.Order{}))
			}).WithTimeout(20 * time.Second).Should(BeTrue())
			Expect(stockOf(store, product)).To(Equal(int64(5)))
			Expect(cartStatus(cart)).To(Equal("OPEN"))
			Expect(salesOf(o)).To(BeEmpty(), "no sale was ever created: its cancellation only left a tombstone")
		})

		It("keeps the sale of a Succeeded Order deleted with Retain", func() {
			product := newProduct(store, 5)
			cart := newCart(store, product, 1, "2.50")
			o := newOrder(cart, store)
			got := waitForPhase(o, sagav1.PhaseSucceeded, 20*time.Second)
			Expect(got.Finalizers).To(ContainElement(sagav1.Finalizer), "held until deletion, whatever the policy")
			Expect(k8sClient.Delete(ctx, got)).To(Succeed())
			Eventually(func() bool {
				return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(o), &sagav1.Order{}))
			}).WithTimeout(10 * time.Second).Should(BeTrue())
			sales := salesOf(got)
			Expect(sales).To(HaveLen(1))
			Expect(sales[0].Status).To(Equal("CREATED"))
			Expect(stockOf(store, product)).To(Equal(int64(4)))
			Expect(cartStatus(cart)).To(Equal("CHECKED_OUT"))
		})

		It("undoes a Succeeded Order deleted with Compensate", func() {
			product := newProduct(store, 5)
			cart := newCart(store, product, 2, "2.50")
			o := newOrder(cart, store, func(o *sagav1.Order) { o.Spec.DeletionPolicy = sagav1.DeletionCompensate })
			got := waitForPhase(o, sagav1.PhaseSucceeded, 20*time.Second)
			Expect(got.Finalizers).To(ContainElement(sagav1.Finalizer), "Compensate keeps the Order held")
			Expect(stockOf(store, product)).To(Equal(int64(3)))

			Expect(k8sClient.Delete(ctx, got)).To(Succeed())
			Eventually(func() bool {
				return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(o), &sagav1.Order{}))
			}).WithTimeout(20 * time.Second).Should(BeTrue())
			sales := salesOf(got)
			Expect(sales).To(HaveLen(1))
			Expect(sales[0].Status).To(Equal("CANCELLED"))
			Expect(stockOf(store, product)).To(Equal(int64(5)))
			Expect(cartStatus(cart)).To(Equal("OPEN"))
		})
	})

	DescribeTable("refuses invalid Orders with a message naming the field and the rule",
		func(spec sagav1.OrderSpec, wants ...string) {
			o := &sagav1.Order{ObjectMeta: metav1.ObjectMeta{GenerateName: "invalid-", Namespace: testNamespace}, Spec: spec}
			err := k8sClient.Create(ctx, o)
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "got %v", err)
			for _, want := range wants {
				Expect(err.Error()).To(ContainSubstring(want))
			}
		},
		Entry("cartId not a UUID", sagav1.OrderSpec{CartID: "cart-1", StoreID: 1}, "spec.cartId", "uuid"),
		Entry("cartId empty", sagav1.OrderSpec{StoreID: 1}, "spec.cartId", "uuid"),
		Entry("storeId zero", sagav1.OrderSpec{CartID: validCart, StoreID: 0}, "spec.storeId", "greater than or equal to 1"),
		Entry("storeId negative", sagav1.OrderSpec{CartID: validCart, StoreID: -3}, "spec.storeId", "greater than or equal to 1"),
		Entry("unknown deletionPolicy", sagav1.OrderSpec{CartID: validCart, StoreID: 1, DeletionPolicy: "Forget"},
			"spec.deletionPolicy", `supported values: "Retain", "Compensate"`),
		Entry("negative timeout", sagav1.OrderSpec{CartID: validCart, StoreID: 1, Timeout: &metav1.Duration{Duration: -time.Second}},
			"spec.timeout", "should match"),
		Entry("zero timeout", sagav1.OrderSpec{CartID: validCart, StoreID: 1, Timeout: &metav1.Duration{}},
			"spec.timeout", "timeout must be a positive duration"),
	)

	It("refuses to change an Order's spec", func() {
		product := newProduct(store, 1)
		o := newOrder(newCart(store, product, 1, "1.00"), store)
		changed := fetch(o)
		patch := client.MergeFrom(changed.DeepCopy())
		changed.Spec.StoreID = 102
		err := k8sClient.Patch(ctx, changed, patch)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "got %v", err)
		Expect(err.Error()).To(ContainSubstring("spec is immutable"))
	})
})
