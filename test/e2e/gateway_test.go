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
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/uuid"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/kubesaga/kubesaga/internal/dev/devstack"
	"github.com/kubesaga/kubesaga/internal/gateway"
	"github.com/kubesaga/kubesaga/internal/participants"
	"github.com/kubesaga/kubesaga/services/httpapi"
)

// gatewayAnswer is one HTTP answer of the gateway.
type gatewayAnswer struct {
	status int
	header http.Header
	body   []byte
}

func (a gatewayAnswer) order() gateway.Order {
	GinkgoHelper()
	var v gateway.Order
	Expect(json.Unmarshal(a.body, &v)).To(Succeed(), "%s", a.body)
	return v
}

func (a gatewayAnswer) problem(status int, slug string) httpapi.Problem {
	GinkgoHelper()
	Expect(a.status).To(Equal(status), "%s", a.body)
	Expect(a.header.Get("Content-Type")).To(Equal(httpapi.ContentTypeProblem))
	var p httpapi.Problem
	Expect(json.Unmarshal(a.body, &p)).To(Succeed())
	Expect(p.Slug()).To(Equal(slug), "%s", a.body)
	return p
}

// callGateway sends a request to the gateway process of the stack.
func callGateway(method, path, key, body string) gatewayAnswer {
	GinkgoHelper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, stack.URL(devstack.Gateway)+path, rd)
	Expect(err).NotTo(HaveOccurred())
	if key != "" {
		req.Header.Set(gateway.HeaderIdempotencyKey, key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	return gatewayAnswer{resp.StatusCode, resp.Header, b}
}

func orderBody(cart string, storeID int64) string {
	return fmt.Sprintf(`{"cartId":%q,"storeId":%d}`, cart, storeID)
}

var _ = Describe("the HTTP gateway, in front of the operator and the services", func() {
	It("replays the reference walkthrough: hp-1 succeeds once, a replay is the same answer, rb-1 rolls back", func() {
		key := "hp-1-" + uuid.NewString()[:8]
		product := newProduct(store, 15)
		cart := newCart(store, product, 3, "12.50")

		// ?wait=60s: the shared CI cores may be slower than the default 10 s.
		first := callGateway("POST", "/api/orders?wait=60s", key, orderBody(cart, store))
		Expect(first.status).To(Equal(http.StatusCreated), "%s", first.body)
		v := first.order()
		Expect(v.Phase).To(Equal("Succeeded"))
		Expect(v.Order).To(Equal(gateway.OrderName(key)))
		Expect(v.SaleID).To(Equal(v.UID))
		Expect(v.Total).To(Equal("37.50"))
		Expect(v.History).NotTo(BeEmpty())
		Expect(v.History[len(v.History)-1].Event).To(Equal("COMPLETED"))
		Expect(stockOf(store, product)).To(Equal(int64(12)))
		sales := salesOf(v.UID)
		Expect(sales).To(HaveLen(1))
		Expect(sales[0].Lines).To(Equal([]participants.Line{{ProductID: product, Quantity: 3, UnitPrice: "12.50"}}))

		// What kubectl shows is the same Order, with the key and the body's hash.
		Expect(jsonpath(v.Order, "{.metadata.uid}")).To(Equal(v.UID))
		Expect(jsonpath(v.Order, `{.metadata.annotations.saga\.kubesaga\.io/idempotency-key}`)).To(Equal(key))
		Expect(jsonpath(v.Order, `{.metadata.annotations.saga\.kubesaga\.io/request-hash}`)).
			To(Equal(gateway.Request{CartID: cart, StoreID: store}.Hash()))

		again := callGateway("POST", "/api/orchestrator/", key, orderBody(cart, store))
		Expect(again.status).To(Equal(http.StatusCreated))
		Expect(string(again.body)).To(Equal(string(first.body)), "the same answer")
		Expect(salesOf(v.UID)).To(HaveLen(1), "still one sale")
		Expect(stockOf(store, product)).To(Equal(int64(12)))

		got := callGateway("GET", "/api/orders/"+key, "", "")
		Expect(got.status).To(Equal(http.StatusOK))
		Expect(got.order().SaleID).To(Equal(v.UID))

		// rb-1: stock 1, quantity 2.
		rbKey := "rb-1-" + uuid.NewString()[:8]
		short := newProduct(store, 1)
		rbCart := newCart(store, short, 2, "4.00")
		p := callGateway("POST", "/api/orders?wait=60s", rbKey, orderBody(rbCart, store)).problem(http.StatusConflict, gateway.SlugSagaFailed)
		Expect(p.Extensions["failedStep"]).To(Equal("ReserveStock"))
		Expect(p.Extensions["lastError"]).To(ContainSubstring("insufficient-stock"))
		Expect(p.Detail).To(ContainSubstring("insufficient-stock"))
		Expect(cartStatus(rbCart)).To(Equal("OPEN"))
		Expect(stockOf(store, short)).To(Equal(int64(1)))
		Expect(salesOf(fmt.Sprint(p.Extensions["uid"]))).To(BeEmpty())
		callGateway("GET", "/api/orders/"+rbKey, "", "").problem(http.StatusConflict, gateway.SlugSagaFailed)
	})

	It("answers 202 with a Location while the saga runs, and the Location answers when it ends", func() {
		key := "slow-" + uuid.NewString()[:8]
		product := newProduct(store, 4)
		cart := newCart(store, product, 1, "1.00")
		a := callGateway("POST", "/api/orders?wait=0", key, orderBody(cart, store))
		Expect(a.status).To(Equal(http.StatusAccepted), "%s", a.body)
		Expect(a.header.Get("Location")).To(Equal("/api/orders/" + key))
		done := callGateway("GET", a.header.Get("Location")+"?wait=30s", "", "")
		Expect(done.status).To(Equal(http.StatusOK), "%s", done.body)
		Expect(done.order().Phase).To(Equal("Succeeded"))
	})

	It("refuses what it cannot take: 422 for a reused key, 400 for a missing key or a bad body, 404 for an unknown key", func() {
		key := "reuse-" + uuid.NewString()[:8]
		product := newProduct(store, 4)
		cart := newCart(store, product, 1, "1.00")
		Expect(callGateway("POST", "/api/orders?wait=0", key, orderBody(cart, store)).status).
			To(BeElementOf(http.StatusAccepted, http.StatusCreated))
		callGateway("POST", "/api/orders", key, orderBody(cart, store+1)).problem(http.StatusUnprocessableEntity, httpapi.SlugIdempotencyMismatch)

		p := callGateway("POST", "/api/orders", "", orderBody(cart, store)).problem(http.StatusBadRequest, httpapi.SlugInvalidRequest)
		Expect(p.Field).To(Equal(gateway.HeaderIdempotencyKey))
		p = callGateway("POST", "/api/orders", "bad-"+uuid.NewString()[:8], orderBody("not-a-uuid", store)).
			problem(http.StatusBadRequest, httpapi.SlugInvalidRequest)
		Expect(p.Field).To(Equal("cartId"))
		Expect(p.Detail).To(ContainSubstring("uuid"), "the API server's message")
		callGateway("GET", "/api/orders/never-"+uuid.NewString()[:8], "", "").problem(http.StatusNotFound, httpapi.SlugNotFound)
	})
})
