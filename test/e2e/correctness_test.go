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

package e2e

import (
	"net/http"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/kubesaga/kubesaga/internal/dev/devstack"
)

// commitRoute is stocks' commit, the first call after the sale.
const commitRoute = "/api/reservations/*/commit"

var _ = Describe("a sale that stands is finished", func() {
	It("rides out 30 s of 503 from stocks' commit after the sale: Succeeded by itself", func() {
		product := newProduct(store, 6)
		cart := newCart(store, product, 2, "5.00")
		// 30 s is far more than --max-attempts=10 at a backoff of at most 1 s.
		stack.Proxy(devstack.Stocks).FailRoute(http.MethodPost, commitRoute, http.StatusServiceUnavailable, 30*time.Second)
		path := writeOrder("", "outage-after-sale", cart, store)
		kubectl("apply", "-f", path)

		Eventually(func(g Gomega) {
			attempts, err := strconv.Atoi(jsonpath("outage-after-sale", `{.status.steps[?(@.name=="CommitReservation")].attempts}`))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(attempts).To(BeNumerically(">", 10), "more than --max-attempts attempts")
			g.Expect(jsonpath("outage-after-sale", "{.status.phase}")).To(Equal("Running"))
		}).WithTimeout(60 * time.Second).WithPolling(time.Second).Should(Succeed())
		Expect(kubectl("wait", "--for=condition=Succeeded", "order/outage-after-sale", "--timeout=90s")).To(ContainSubstring("condition met"))

		uid := jsonpath("outage-after-sale", "{.metadata.uid}")
		Expect(cartStatus(cart)).To(Equal("CHECKED_OUT"))
		res, err := stocksAPI.GetReservation(ctx, uid)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Status).To(Equal("COMMITTED"))
		Expect(salesOf(uid)).To(HaveLen(1), "exactly one sale")
		Expect(stockOf(store, product)).To(Equal(int64(4)))
	})

	It("keeps the sale of a Retain Order deleted right after it: the Order finishes, then goes", func() {
		product := newProduct(store, 6)
		cart := newCart(store, product, 1, "7.00")
		// Commit fails for a while, so that the deletion lands between the sale and the end.
		stack.Proxy(devstack.Stocks).FailRoute(http.MethodPost, commitRoute, http.StatusServiceUnavailable, 5*time.Second)
		path := writeOrder("", "delete-after-sale", cart, store)
		kubectl("apply", "-f", path)
		Eventually(func() string { return jsonpath("delete-after-sale", "{.status.saleId}") }).
			WithTimeout(60 * time.Second).WithPolling(200 * time.Millisecond).ShouldNot(BeEmpty())
		uid := jsonpath("delete-after-sale", "{.metadata.uid}")
		Expect(jsonpath("delete-after-sale", `{.status.steps[?(@.name=="CommitReservation")].state}`)).NotTo(Equal("Succeeded"))

		kubectl("delete", "order", "delete-after-sale", "--wait=true", "--timeout=90s")
		_, err := kubectlE("get", "order", "delete-after-sale")
		Expect(err).To(MatchError(ContainSubstring("NotFound")))
		sales := salesOf(uid)
		Expect(sales).To(HaveLen(1))
		Expect(sales[0].Status).To(Equal("CREATED"), "the sale stands")
		Expect(cartStatus(cart)).To(Equal("CHECKED_OUT"))
		res, err := stocksAPI.GetReservation(ctx, uid)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Status).To(Equal("COMMITTED"))
		Expect(stockOf(store, product)).To(Equal(int64(5)))
	})
})
