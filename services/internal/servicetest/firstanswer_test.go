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

package servicetest_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/kubesaga/kubesaga/services/carts"
	st "github.com/kubesaga/kubesaga/services/internal/servicetest"
	"github.com/kubesaga/kubesaga/services/sales"
	"github.com/kubesaga/kubesaga/services/stocks"
)

// participants are the three services, each on its own SQLite file and HTTP server.
type participants struct{ carts, stocks, sales *st.Client }

// doCall is a do call, the status of its first answer, and a change of the state that the
// answer was decided on.
type doCall struct {
	svc          *st.Client
	method, path string
	body         any
	first        int
	change       func()
}

// TestEveryDoRemembersItsFirstAnswer covers every do endpoint of every participant
// (docs/participant-protocol.md): a call repeated with the same key after the state it
// was decided on changed answers the first answer, status and body, refusals included.
// Only an undo of the call changes its answer (to 409 already-compensated); each
// service's own tests cover that.
func TestEveryDoRemembersItsFirstAnswer(t *testing.T) {
	const store, product = 101, 501
	newCart := func(t *testing.T, p participants) string {
		var c carts.Cart
		p.carts.Do("POST", "/api/carts", map[string]any{"storeId": store,
			"lines": []map[string]any{{"productId": product, "quantity": 2, "unitPrice": "1.50"}}}).Expect(t, 201, &c)
		return c.ID
	}
	order := func(id string) map[string]any { return map[string]any{"orderId": id} }
	setStock := func(t *testing.T, p participants, qty int64) {
		p.stocks.Do("PUT", fmt.Sprintf("/api/stocks/%d/%d", store, product), map[string]any{"quantity": qty}).Expect(t, 200, nil)
	}
	reservation := map[string]any{"storeId": store, "lines": []map[string]any{{"productId": product, "quantity": 2}}}
	sale := func(order string) map[string]any {
		return map[string]any{"storeId": store, "orderId": order,
			"lines": []map[string]any{{"productId": product, "quantity": 2, "unitPrice": "1.50"}}}
	}

	tests := []struct {
		name  string
		setup func(t *testing.T, p participants) doCall
	}{
		{"carts lock refused (held by another order), then that order lets go", func(t *testing.T, p participants) doCall {
			id, x := newCart(t, p), uuid.NewString()
			p.carts.Do("POST", "/api/carts/"+id+"/lock", order(x)).Expect(t, 200, nil)
			return doCall{p.carts, "POST", "/api/carts/" + id + "/lock", order(uuid.NewString()), 409, func() {
				p.carts.Do("POST", "/api/carts/"+id+"/unlock", order(x)).Expect(t, 204, nil)
			}}
		}},
		{"carts lock granted, then the cart is checked out", func(t *testing.T, p participants) doCall {
			id, y := newCart(t, p), uuid.NewString()
			return doCall{p.carts, "POST", "/api/carts/" + id + "/lock", order(y), 200, func() {
				p.carts.Do("POST", "/api/carts/"+id+"/checkout", order(y)).Expect(t, 200, nil)
			}}
		}},
		{"carts checkout refused (cart not locked by the order), then the order locks it", func(t *testing.T, p participants) doCall {
			id, y := newCart(t, p), uuid.NewString()
			return doCall{p.carts, "POST", "/api/carts/" + id + "/checkout", order(y), 409, func() {
				p.carts.Do("POST", "/api/carts/"+id+"/lock", order(y)).Expect(t, 200, nil)
			}}
		}},
		{"carts checkout granted, then another order is refused the cart", func(t *testing.T, p participants) doCall {
			id, y := newCart(t, p), uuid.NewString()
			p.carts.Do("POST", "/api/carts/"+id+"/lock", order(y)).Expect(t, 200, nil)
			return doCall{p.carts, "POST", "/api/carts/" + id + "/checkout", order(y), 200, func() {
				p.carts.Do("POST", "/api/carts/"+id+"/lock", order(uuid.NewString())).Expect(t, 409, nil)
			}}
		}},
		{"stocks reservation refused (insufficient stock), then stock arrives", func(t *testing.T, p participants) doCall {
			setStock(t, p, 1)
			return doCall{p.stocks, "PUT", "/api/reservations/" + uuid.NewString(), reservation, 409, func() { setStock(t, p, 100) }}
		}},
		{"stocks reservation granted, then the stock is gone", func(t *testing.T, p participants) doCall {
			setStock(t, p, 5)
			return doCall{p.stocks, "PUT", "/api/reservations/" + uuid.NewString(), reservation, 201, func() { setStock(t, p, 0) }}
		}},
		{"stocks commit granted, then the stock level changes", func(t *testing.T, p participants) doCall {
			setStock(t, p, 5)
			id := uuid.NewString()
			p.stocks.Do("PUT", "/api/reservations/"+id, reservation).Expect(t, 201, nil)
			return doCall{p.stocks, "POST", "/api/reservations/" + id + "/commit", nil, 200, func() { setStock(t, p, 50) }}
		}},
		{"sales sale created, then other sales of the store are created", func(t *testing.T, p participants) doCall {
			id := uuid.NewString()
			return doCall{p.sales, "PUT", "/api/sales/" + id, sale(id), 201, func() {
				other := uuid.NewString()
				p.sales.Do("PUT", "/api/sales/"+other, sale(other)).Expect(t, 201, nil)
			}}
		}},
	}
	covered := map[string]bool{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := participants{
				carts:  st.New(t, carts.Open, "carts.db"),
				stocks: st.New(t, stocks.Open, "stocks.db"),
				sales:  st.New(t, sales.Open, "sales.db"),
			}
			c := tc.setup(t, p)
			covered[endpoint(c.method, c.path)] = true
			first := c.svc.Do(c.method, c.path, c.body)
			if first.Status != c.first {
				t.Fatalf("first answer %d, want %d: %s", first.Status, c.first, first.Body)
			}
			c.change()
			again := c.svc.Do(c.method, c.path, c.body)
			if again.Status != first.Status || !bytes.Equal(again.Body, first.Body) {
				t.Fatalf("the repeat after the state changed answered\n %d %s\nnot the first answer\n %d %s",
					again.Status, again.Body, first.Status, first.Body)
			}
		})
	}
	// Every do endpoint of the participant protocol is in the table.
	for _, want := range []string{"POST carts/lock", "POST carts/checkout", "PUT reservations", "POST reservations/commit", "PUT sales"} {
		if !covered[want] {
			t.Errorf("no case covers %s", want)
		}
	}
}

// endpoint names a call without its ids: "POST carts/lock".
func endpoint(method, path string) string {
	parts := strings.Split(strings.TrimPrefix(path, "/api/"), "/")
	name := parts[0]
	if len(parts) > 2 {
		name += "/" + parts[2]
	}
	return method + " " + name
}
