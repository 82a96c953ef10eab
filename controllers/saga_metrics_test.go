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
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	sagav1 "github.com/kubesaga/kubesaga/api/v1alpha1"
)

var _ = Describe("Saga metrics", func() {
	BeforeEach(func() {
		declare("carts", cartsSvc.URL(), nil)
		declare("stocks", stocksSvc.URL(), nil)
		declare("sales", salesSvc.URL(), nil)
	})

	It("counts a Saga's success and its compensation with kind=Saga, apart from Orders", func() {
		saga := map[string]string{"kind": "Saga"}
		with := func(kv ...string) map[string]string {
			m := map[string]string{"kind": "Saga"}
			for i := 0; i+1 < len(kv); i += 2 {
				m[kv[i]] = kv[i+1]
			}
			return m
		}
		started := metricValue("kubesaga_sagas_started_total", saga)
		completed := metricValue("kubesaga_sagas_completed_total", saga)
		failed := metricValue("kubesaga_sagas_failed_total", with("step", "ReserveStock", "reason", "StepRefused"))
		unlocks := metricValue("kubesaga_compensations_total", with("step", "LockCart", "outcome", "success"))
		ordersCompleted := metricValue("kubesaga_sagas_completed_total", map[string]string{"kind": "Order"})
		lockCalls := metricValue("kubesaga_step_duration_seconds", with("step", "LockCart", "action", "do", "outcome", "success"))
		succeededDurations := metricValue("kubesaga_saga_duration_seconds", with("result", "succeeded"))
		compensatedDurations := metricValue("kubesaga_saga_duration_seconds", with("result", "compensated"))
		succeededNow := metricValue("kubesaga_sagas", map[string]string{"phase": "Succeeded"})
		failedNow := metricValue("kubesaga_sagas", map[string]string{"phase": "Failed"})

		tmpl := checkoutTemplate()
		product := newProduct(store, 3)
		ok := checkoutSaga(tmpl.Name, newCart(store, product, 2, "5.00"))
		waitForSagaPhase(ok, sagav1.PhaseSucceeded, 20*time.Second)
		short := checkoutSaga(tmpl.Name, newCart(store, product, 2, "5.00")) // 1 unit left
		waitForSagaPhase(short, sagav1.PhaseFailed, 20*time.Second)

		// Counted right after the status write returns, which a reader may see first.
		Eventually(func(g Gomega) {
			g.Expect(metricValue("kubesaga_sagas_started_total", saga)).To(Equal(started + 2))
			g.Expect(metricValue("kubesaga_sagas_completed_total", saga)).To(Equal(completed + 1))
			g.Expect(metricValue("kubesaga_sagas_failed_total", with("step", "ReserveStock", "reason", "StepRefused"))).
				To(Equal(failed+1), "the refused step and the reason label the failure")
			g.Expect(metricValue("kubesaga_compensations_total", with("step", "LockCart", "outcome", "success"))).
				To(Equal(unlocks + 1))
			g.Expect(metricValue("kubesaga_step_duration_seconds", with("step", "LockCart", "action", "do", "outcome", "success"))).
				To(Equal(lockCalls + 2))
			g.Expect(metricValue("kubesaga_saga_duration_seconds", with("result", "succeeded"))).To(Equal(succeededDurations + 1))
			g.Expect(metricValue("kubesaga_saga_duration_seconds", with("result", "compensated"))).To(Equal(compensatedDurations + 1))
		}).Should(Succeed())
		Expect(metricValue("kubesaga_sagas_completed_total", map[string]string{"kind": "Order"})).
			To(Equal(ordersCompleted), "a Saga is not counted as an Order")
		Expect(metricValue("kubesaga_sagas_stalled", saga)).To(BeZero())

		// The state metrics count Sagas by phase from the cache, beside kubesaga_orders.
		Eventually(func() float64 { return metricValue("kubesaga_sagas", map[string]string{"phase": "Succeeded"}) }).
			Should(Equal(succeededNow + 1))
		Eventually(func() float64 { return metricValue("kubesaga_sagas", map[string]string{"phase": "Failed"}) }).
			Should(Equal(failedNow + 1))
	})
})
