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
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
	"github.com/kubesaga/kubesaga/internal/ordersaga"
	"github.com/kubesaga/kubesaga/internal/saga"
)

// A successful Order has no status write between its first call and its end (the pivot
// has no checkpoint: docs/architecture.md, "API writes and crash safety"). A manager that
// crashes after the sale therefore leaves a status from before it. These specs make that
// crash for real: the manager is stopped, the whole saga is called directly with the
// Order's UID, as the lost pass did, and a fresh manager meets what would make it
// compensate a status that predates the pivot (the deadline, a deletion). It must ask the
// sales service first (GetSale) and go forward.
var _ = Describe("An Order whose pass crashed after the pivot", func() {
	BeforeEach(settle)
	AfterEach(func() {
		salesSvc.Heal()
		if mgrCancel == nil {
			startManager()
		}
	})

	// crashedAfterPivot creates an Order while no manager runs and performs every step of
	// its saga as a pass would have before it crashed, without any status write.
	crashedAfterPivot := func(product int64, mutate ...func(*sagav1.Order)) (*sagav1.Order, string) {
		GinkgoHelper()
		cart := newCart(store, product, 2, "3.25")
		stopManager()
		o := newOrder(cart, store, mutate...)
		p := ordersaga.Participants{Carts: cartsAPI, Stocks: stocksAPI, Sales: salesAPI}
		in := ordersaga.Input{OrderID: string(o.UID), CartID: cart, StoreID: store}
		def := ordersaga.Definition(saga.Policy{})
		var out ordersaga.Output
		for i := range def.Steps {
			Expect(ordersaga.Call(ctx, p, saga.Action{Type: saga.ActDo, Step: i}, in, &out)).To(Succeed(), def.Steps[i].Name)
		}
		Expect(fetch(o).Status.Steps).To(BeEmpty(), "the crashed pass wrote nothing")
		return o, cart
	}

	expectForward := func(o *sagav1.Order, cart string, product int64) {
		GinkgoHelper()
		sales := salesOf(o)
		Expect(sales).To(HaveLen(1))
		Expect(sales[0].Status).To(Equal("CREATED"))
		Expect(sales[0].Total).To(Equal("6.50"))
		Expect(cartStatus(cart)).To(Equal("CHECKED_OUT"))
		res, err := stocksAPI.GetReservation(ctx, string(o.UID))
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Status).To(Equal("COMMITTED"))
		Expect(stockOf(store, product)).To(Equal(int64(3)))
	}

	It("goes forward past its deadline when the sale exists, even while sales is down at first", func() {
		product := newProduct(store, 5)
		o, cart := crashedAfterPivot(product, func(o *sagav1.Order) {
			o.Spec.Timeout = &metav1.Duration{Duration: time.Second}
		})
		time.Sleep(time.Until(fetch(o).CreationTimestamp.Add(1500 * time.Millisecond))) // past the deadline
		salesSvc.FailWith("GET /api/sales/", http.StatusServiceUnavailable)
		startManager()

		// Without an answer the saga decides nothing: it retries the probe and compensates nothing.
		Eventually(func() int32 { return step(fetch(o), "CreateSale").ProbeAttempts }).
			WithTimeout(20 * time.Second).Should(BeNumerically(">=", 2))
		got := fetch(o)
		Expect(got.Status.Phase).To(Equal(sagav1.PhaseRunning))
		Expect(got.Status.LastError).To(ContainSubstring("get sale"))
		Expect(cartStatus(cart)).To(Equal("CHECKED_OUT"), "nothing undone while the probe has no answer")

		salesSvc.Heal()
		got = waitForPhase(o, sagav1.PhaseSucceeded, 20*time.Second)
		Expect(got.Status.SaleID).To(Equal(string(o.UID)))
		Expect(got.Status.Total).To(Equal("6.50"))
		Expect(step(got, "CreateSale").State).To(Equal(string(saga.StepSucceeded)))
		Expect(step(got, "CreateSale").CompensationAttempts).To(BeZero())
		Expect(historyEvents(got)).NotTo(ContainElement(sagav1.HistorySaleCancelled))
		Eventually(func() []string { return eventReasons(got, "") }).
			Should(ContainElements(sagav1.EventReasonPivotConfirmed, sagav1.EventReasonCompleted))
		expectForward(o, cart, product)
	})

	It("finishes forward when it is deleted under Retain before a manager saw it: the sale stands", func() {
		product := newProduct(store, 5)
		// The finalizer as the admission policy (or an earlier pass) would have added it.
		o, cart := crashedAfterPivot(product, func(o *sagav1.Order) { o.Finalizers = []string{sagav1.Finalizer} })
		Expect(k8sClient.Delete(ctx, o)).To(Succeed())
		Expect(fetch(o).DeletionTimestamp).NotTo(BeNil(), "held by the finalizer")
		startManager()

		Eventually(orderGone(o)).WithTimeout(20 * time.Second).Should(BeTrue())
		expectForward(o, cart, product)
	})

	It("compensates when its pass crashed before the sale: the probe finds none", func() {
		product := newProduct(store, 5)
		cart := newCart(store, product, 2, "3.25")
		stopManager()
		o := newOrder(cart, store, func(o *sagav1.Order) { o.Spec.Timeout = &metav1.Duration{Duration: time.Second} })
		p := ordersaga.Participants{Carts: cartsAPI, Stocks: stocksAPI, Sales: salesAPI}
		in := ordersaga.Input{OrderID: string(o.UID), CartID: cart, StoreID: store}
		var out ordersaga.Output
		for i := range 2 { // LockCart, ReserveStock
			Expect(ordersaga.Call(ctx, p, saga.Action{Type: saga.ActDo, Step: i}, in, &out)).To(Succeed())
		}
		time.Sleep(time.Until(fetch(o).CreationTimestamp.Add(1500 * time.Millisecond)))
		startManager()

		got := waitForPhase(o, sagav1.PhaseFailed, 20*time.Second)
		Expect(condition(got, sagav1.ConditionSucceeded).Reason).To(Equal(sagav1.ReasonDeadlineExceeded))
		Expect(eventReasons(got, "")).NotTo(ContainElement(sagav1.EventReasonPivotConfirmed))
		Expect(salesOf(got)).To(BeEmpty())
		Expect(cartStatus(cart)).To(Equal("OPEN"))
		Expect(stockOf(store, product)).To(Equal(int64(5)))
		// The sale's undo left a tombstone: a create still on its way is refused.
		_, err := salesAPI.Create(ctx, string(o.UID), store, string(o.UID), out.Lines)
		Expect(err).To(HaveOccurred())
	})
})
