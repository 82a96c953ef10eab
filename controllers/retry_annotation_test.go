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
	"sigs.k8s.io/controller-runtime/pkg/client"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
)

// annotate merges annotations into obj's, as kubectl annotate or a GitOps apply would.
func annotate(obj client.Object, kv map[string]string) {
	GinkgoHelper()
	Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), obj)).To(Succeed())
	patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	a := obj.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	for k, v := range kv {
		a[k] = v
	}
	obj.SetAnnotations(a)
	Expect(k8sClient.Patch(ctx, obj, patch)).To(Succeed())
}

// retries is how many RETRY_REQUESTED a history holds.
func retries(history []string) int {
	n := 0
	for _, e := range history {
		if e == sagav1.HistoryRetryRequested {
			n++
		}
	}
	return n
}

const (
	tokenAtCreation = "2026-01-01T00:00:00Z"
	token1          = "2026-01-02T00:00:00Z"
	token2          = "2026-01-03T00:00:00Z"
	// touch is an annotation a GitOps re-sync may change along with the same retry token.
	touch = "example.com/synced-at"
)

var _ = Describe("Retry annotation", func() {
	AfterEach(func() {
		for _, p := range []*participant{cartsSvc, stocksSvc, salesSvc} {
			p.Heal()
			if !p.Running() {
				p.Start()
			}
		}
	})

	It("retries an Order once per new token, keeps the annotation, and still takes and removes the old value now", func() {
		product := newProduct(store, 5)
		cart := newCart(store, product, 1, "3.00")
		stocksSvc.FailWith(commitRoute, http.StatusUnprocessableEntity)
		// A manifest applied with a token already set: nothing has failed yet, so the token
		// is recorded as handled without a retry.
		o := newOrder(cart, store, func(o *sagav1.Order) {
			o.Annotations = map[string]string{sagav1.RetryAnnotation: tokenAtCreation}
		})
		got := waitForPhase(o, sagav1.PhaseStalled, 20*time.Second)
		Expect(got.Status.LastHandledRetry).To(Equal(tokenAtCreation))
		Expect(historyEvents(got)).NotTo(ContainElement(sagav1.HistoryRetryRequested))
		Expect(got.Annotations).To(HaveKeyWithValue(sagav1.RetryAnnotation, tokenAtCreation))

		// A new token: one retry (still refused, so it stalls again); the annotation stays.
		annotate(o, map[string]string{sagav1.RetryAnnotation: token1})
		Eventually(func(g Gomega) {
			got = fetch(o)
			g.Expect(got.Status.LastHandledRetry).To(Equal(token1))
			g.Expect(got.Status.Phase).To(Equal(sagav1.PhaseStalled))
		}).WithTimeout(20 * time.Second).Should(Succeed())
		Expect(retries(historyEvents(got))).To(Equal(1))
		Expect(got.Annotations).To(HaveKeyWithValue(sagav1.RetryAnnotation, token1))

		// The same token again, after an operator restart and with a re-sync touching the
		// Order: every pass sees the token as handled.
		stopManager()
		startManager()
		annotate(o, map[string]string{touch: "1", sagav1.RetryAnnotation: token1})
		Consistently(func() int { return retries(historyEvents(fetch(o))) }).
			WithTimeout(time.Second).Should(Equal(1), "a handled token does not retry again")
		Expect(fetch(o).Status.Phase).To(Equal(sagav1.PhaseStalled))

		// Another new token retries once more.
		annotate(o, map[string]string{sagav1.RetryAnnotation: token2})
		Eventually(func(g Gomega) {
			got = fetch(o)
			g.Expect(got.Status.LastHandledRetry).To(Equal(token2))
			g.Expect(got.Status.Phase).To(Equal(sagav1.PhaseStalled))
		}).WithTimeout(20 * time.Second).Should(Succeed())
		Expect(retries(historyEvents(got))).To(Equal(2))
		Expect(got.Annotations).To(HaveKeyWithValue(sagav1.RetryAnnotation, token2))

		// The old one-shot form: taken, then removed; the last token stays recorded.
		stocksSvc.Heal()
		annotate(o, map[string]string{sagav1.RetryAnnotation: sagav1.RetryNow})
		got = waitForPhase(o, sagav1.PhaseSucceeded, 20*time.Second)
		Expect(retries(historyEvents(got))).To(Equal(3))
		Eventually(func() map[string]string { return fetch(o).Annotations }).ShouldNot(HaveKey(sagav1.RetryAnnotation))
		Expect(fetch(o).Status.LastHandledRetry).To(Equal(token2))
		Expect(cartStatus(cart)).To(Equal("CHECKED_OUT"))
	})

	It("retries a Saga once per new token, keeps the annotation, and still takes and removes the old value now", func() {
		declare("carts", cartsSvc.URL(), nil)
		declare("stocks", stocksSvc.URL(), nil)
		declare("sales", salesSvc.URL(), nil)
		tmpl := checkoutTemplate()
		product := newProduct(store, 5)
		cart := newCart(store, product, 1, "3.00")
		cartsSvc.FailWith("POST /api/carts/"+cart+"/checkout", http.StatusUnprocessableEntity)
		s := checkoutSaga(tmpl.Name, cart, func(s *sagav1.Saga) {
			s.Annotations = map[string]string{sagav1.RetryAnnotation: tokenAtCreation}
		})
		got := waitForSagaPhase(s, sagav1.PhaseStalled, 30*time.Second)
		Expect(got.Status.LastHandledRetry).To(Equal(tokenAtCreation))
		Expect(sagaHistory(got)).NotTo(ContainElement(sagav1.HistoryRetryRequested))

		annotate(s, map[string]string{sagav1.RetryAnnotation: token1})
		Eventually(func(g Gomega) {
			got = fetchSaga(s)
			g.Expect(got.Status.LastHandledRetry).To(Equal(token1))
			g.Expect(got.Status.Phase).To(Equal(sagav1.PhaseStalled))
		}).WithTimeout(20 * time.Second).Should(Succeed())
		Expect(retries(sagaHistory(got))).To(Equal(1))
		Expect(got.Annotations).To(HaveKeyWithValue(sagav1.RetryAnnotation, token1))

		annotate(s, map[string]string{touch: "1", sagav1.RetryAnnotation: token1})
		Consistently(func() int { return retries(sagaHistory(fetchSaga(s))) }).
			WithTimeout(time.Second).Should(Equal(1), "a handled token does not retry again")

		annotate(s, map[string]string{sagav1.RetryAnnotation: token2})
		Eventually(func(g Gomega) {
			got = fetchSaga(s)
			g.Expect(got.Status.LastHandledRetry).To(Equal(token2))
			g.Expect(got.Status.Phase).To(Equal(sagav1.PhaseStalled))
		}).WithTimeout(20 * time.Second).Should(Succeed())
		Expect(retries(sagaHistory(got))).To(Equal(2))
		Expect(got.Annotations).To(HaveKeyWithValue(sagav1.RetryAnnotation, token2))

		cartsSvc.Heal()
		annotate(s, map[string]string{sagav1.RetryAnnotation: sagav1.RetryNow})
		got = waitForSagaPhase(s, sagav1.PhaseSucceeded, 20*time.Second)
		Expect(retries(sagaHistory(got))).To(Equal(3))
		Eventually(func() map[string]string { return fetchSaga(s).Annotations }).ShouldNot(HaveKey(sagav1.RetryAnnotation))
		Expect(fetchSaga(s).Status.LastHandledRetry).To(Equal(token2))
		Expect(cartStatus(cart)).To(Equal("CHECKED_OUT"))
	})
})
