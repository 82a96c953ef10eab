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
	"fmt"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// declareParticipants applies the three reference services as Participants, as a cluster
// admin would, pointing at the suite's processes.
func declareParticipants() {
	GinkgoHelper()
	doc := ""
	for name, url := range map[string]string{"carts": stack.CartsURL(), "stocks": stack.StocksURL(), "sales": stack.SalesURL()} {
		doc += fmt.Sprintf("apiVersion: saga.kubesaga.io/v1alpha1\nkind: Participant\nmetadata:\n  name: %s\nspec:\n  url: %s\n---\n", name, url)
	}
	path := filepath.Join(workDir, "participants.yaml")
	Expect(os.WriteFile(path, []byte(doc), 0o640)).To(Succeed())
	kubectl("apply", "-f", path)
}

// writeSaga writes a Saga of the checkout template (config/samples) for cartID.
func writeSaga(name, cartID string, storeID int64) string {
	GinkgoHelper()
	doc := fmt.Sprintf(`apiVersion: saga.kubesaga.io/v1alpha1
kind: Saga
metadata:
  name: %s
spec:
  templateRef:
    name: checkout
  input:
    cartId: %s
    storeId: %d
`, name, cartID, storeID)
	path := filepath.Join(workDir, "saga-"+name+".yaml")
	Expect(os.WriteFile(path, []byte(doc), 0o640)).To(Succeed())
	return path
}

func sagaPath(name, expr string) string {
	GinkgoHelper()
	return kubectl("get", "saga", name, "-o", "jsonpath="+expr)
}

// sameSale compares what an Order and a Saga sold: one sale each, same lines and total.
func sameSale(orderUID, sagaUID string) {
	GinkgoHelper()
	o, s := salesOf(orderUID), salesOf(sagaUID)
	Expect(o).To(HaveLen(1))
	Expect(s).To(HaveLen(1))
	Expect(s[0].Status).To(Equal(o[0].Status))
	Expect(s[0].Lines).To(Equal(o[0].Lines))
	Expect(s[0].Total).To(Equal(o[0].Total))
	Expect(s[0].ID).To(Equal(sagaUID), "the Saga's UID keys its calls, as an Order's does")
}

var _ = Describe("a Saga of the Order saga's template beside an Order, on the same services", Ordered, func() {
	BeforeAll(func() {
		declareParticipants()
		kubectl("apply", "-f", filepath.Join("..", "..", "config", "samples", "saga_v1alpha1_sagatemplate_checkout.yaml"))
		kubectl("wait", "--for=condition=Valid", "sagatemplate/checkout", "--timeout=60s")
	})

	It("has the same effects and history as the Order when both succeed", func() {
		product := newProduct(store, 20)
		orderCart, sagaCart := newCart(store, product, 3, "12.50"), newCart(store, product, 3, "12.50")
		kubectl("apply", "-f", writeOrder("", "twin-order", orderCart, store))
		kubectl("apply", "-f", writeSaga("twin-saga", sagaCart, store))
		kubectl("wait", "--for=condition=Succeeded", "order/twin-order", "--timeout=60s")
		kubectl("wait", "--for=condition=Succeeded", "saga/twin-saga", "--timeout=60s")

		orderHistory := jsonpath("twin-order", "{.status.history[*].event}")
		Expect(orderHistory).To(Equal(
			"ORDER_CREATED CART_LOCKED STOCK_RESERVED SALE_CREATED RESERVATION_COMMITTED CART_CHECKED_OUT COMPLETED"))
		Expect(sagaPath("twin-saga", "{.status.history[*].event}")).To(Equal(orderHistory))
		Expect(sagaPath("twin-saga", "{.status.steps[*].state}")).To(Equal(jsonpath("twin-order", "{.status.steps[*].state}")))
		Expect(sagaPath("twin-saga", "{.status.outputs.total}")).To(Equal(jsonpath("twin-order", "{.status.total}")))
		orderUID, sagaUID := jsonpath("twin-order", "{.metadata.uid}"), sagaPath("twin-saga", "{.metadata.uid}")
		Expect(sagaPath("twin-saga", "{.status.outputs.saleId}")).To(Equal(sagaUID))
		sameSale(orderUID, sagaUID)
		Expect(stockOf(store, product)).To(Equal(int64(14)), "3 units each")
		Expect(cartStatus(orderCart)).To(Equal("CHECKED_OUT"))
		Expect(cartStatus(sagaCart)).To(Equal("CHECKED_OUT"))
		for _, uid := range []string{orderUID, sagaUID} {
			res, err := stocksAPI.GetReservation(ctx, uid)
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Status).To(Equal("COMMITTED"))
		}

		// What a user sees in the table: the Order's columns, with the template's name.
		Expect(kubectl("get", "sagas", "twin-saga")).To(MatchRegexp(`twin-saga\s+checkout\s+Succeeded\s`))
	})

	It("has the same effects and history as the Order when both roll back", func() {
		product := newProduct(store, 1)
		orderCart, sagaCart := newCart(store, product, 2, "4.00"), newCart(store, product, 2, "4.00")
		kubectl("apply", "-f", writeOrder("", "twin-order-short", orderCart, store))
		kubectl("apply", "-f", writeSaga("twin-saga-short", sagaCart, store))
		kubectl("wait", "--for=condition=Compensated", "order/twin-order-short", "--timeout=60s")
		kubectl("wait", "--for=condition=Compensated", "saga/twin-saga-short", "--timeout=60s")

		Expect(sagaPath("twin-saga-short", "{.status.phase}")).To(Equal("Failed"))
		orderHistory := jsonpath("twin-order-short", "{.status.history[*].event}")
		Expect(orderHistory).To(Equal("ORDER_CREATED CART_LOCKED STEP_FAILED CART_UNLOCKED COMPENSATED FAILED"))
		Expect(sagaPath("twin-saga-short", "{.status.history[*].event}")).To(Equal(orderHistory))
		Expect(sagaPath("twin-saga-short", "{.status.lastError}")).To(ContainSubstring("insufficient-stock"))
		Expect(sagaPath("twin-saga-short", `{.status.conditions[?(@.type=="Succeeded")].reason}`)).
			To(Equal(jsonpath("twin-order-short", `{.status.conditions[?(@.type=="Succeeded")].reason}`)))
		Expect(stockOf(store, product)).To(Equal(int64(1)))
		Expect(cartStatus(orderCart)).To(Equal("OPEN"))
		Expect(cartStatus(sagaCart)).To(Equal("OPEN"))
		Expect(salesOf(sagaPath("twin-saga-short", "{.metadata.uid}"))).To(BeEmpty())
		Expect(salesOf(jsonpath("twin-order-short", "{.metadata.uid}"))).To(BeEmpty())
	})

	It("documents the Saga APIs: kubectl explain describes their fields", func() {
		for res, fields := range map[string][]string{
			"saga.spec":                       {"templateRef", "input", "deletionPolicy", "timeout"},
			"saga.status":                     {"phase", "steps", "outputs", "lastError", "nextRetryAt", "history", "conditions", "template"},
			"sagatemplate.spec":               {"inputSchema", "startedEvent", "steps"},
			"sagatemplate.spec.steps":         {"name", "kind", "do", "undo", "outputs", "doneEvent", "undoneEvent"},
			"sagatemplate.spec.steps.do":      {"participant", "method", "path", "body", "responses"},
			"participant.spec":                {"url", "tokenSecretRef", "timeout"},
			"participant.spec.tokenSecretRef": {"namespace", "name", "key"},
		} {
			out := kubectl("explain", res)
			for _, f := range fields {
				Expect(out).To(MatchRegexp(`(?m)^\s+`+f+`\s`), "kubectl explain %s lists %s", res, f)
			}
		}
		Expect(kubectl("explain", "sagatemplate.spec.steps.do.path")).To(ContainSubstring("CEL expression"))

		// The whole tree at once, as a user exploring the API types it; every field of every
		// CRD has a description (api/v1alpha1's TestEveryCRDFieldIsDescribed).
		tree := kubectl("explain", "--recursive", "saga.spec")
		Expect(tree).To(ContainSubstring("asks for one run of a SagaTemplate"), "the description of saga.spec")
		for _, f := range []string{"templateRef", "name", "input", "deletionPolicy", "timeout"} {
			Expect(tree).To(MatchRegexp(`(?m)^\s+`+f+`\s`), "kubectl explain --recursive saga.spec lists %s", f)
		}
		Expect(kubectl("explain", "saga.spec.templateRef.name")).To(ContainSubstring("Name of the SagaTemplate"))
	})
})
