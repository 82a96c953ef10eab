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

package carts

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/kubesaga/kubesaga/services/events"
	"github.com/kubesaga/kubesaga/services/httpapi"
	st "github.com/kubesaga/kubesaga/services/internal/servicetest"
)

// open starts the service on a real SQLite file behind a real HTTP server.
func open(t testing.TB, path string) (*Service, *st.Client, func()) { return st.Open(t, Open, path) }

func newService(t testing.TB) *st.Client { return st.New(t, Open, "carts.db") }

type line = map[string]any

// newCart creates the reference cart: 3 × product 501 at 12.50 in store 101.
func newCart(t testing.TB, c *st.Client) string {
	t.Helper()
	var cart Cart
	c.Do("POST", "/api/carts", map[string]any{"storeId": 101, "lines": []line{{"productId": 501, "quantity": 3, "unitPrice": "12.50"}}}).
		Expect(t, 201, &cart)
	return cart.ID
}

func order(id string) map[string]any { return map[string]any{"orderId": id} }

func hdr(id string) []string { return []string{httpapi.HeaderCorrelationID, id} }

func TestCreateAndGet(t *testing.T) {
	c := newService(t)
	var cart Cart
	r := c.Do("POST", "/api/carts", map[string]any{"storeId": 101, "lines": []line{
		{"productId": 501, "quantity": 3, "unitPrice": "12.50"},
		{"productId": 502, "quantity": 1, "unitPrice": "0.99"},
	}}).Expect(t, 201, &cart)
	if _, err := uuid.Parse(cart.ID); err != nil || cart.Status != StatusOpen || cart.Total != "38.49" || cart.LockedBy != "" || len(cart.Lines) != 2 {
		t.Fatalf("cart = %+v", cart)
	}
	if r.Header.Get("Location") != "/api/carts/"+cart.ID {
		t.Fatalf("Location = %q", r.Header.Get("Location"))
	}
	if strings.Contains(string(r.Body), "lockedBy") {
		t.Fatalf("lockedBy must be omitted while OPEN: %s", r.Body)
	}
	var got Cart
	c.Do("GET", "/api/carts/"+cart.ID, nil).Expect(t, 200, &got)
	if got.Total != "38.49" || got.Lines[0].UnitPrice != "12.50" || got.Lines[1].UnitPrice != "0.99" {
		t.Fatalf("GET = %+v", got)
	}
	c.Do("GET", "/api/carts/"+uuid.NewString(), nil).ExpectProblem(t, 404, httpapi.SlugNotFound)
	c.Do("GET", "/api/carts/abc", nil).ExpectProblem(t, 400, httpapi.SlugInvalidRequest)
}

// TestCreateWithChosenID: seeding is repeatable; the same id with other content conflicts.
func TestCreateWithChosenID(t *testing.T) {
	c := newService(t)
	id := uuid.NewString()
	body := map[string]any{"id": id, "storeId": 1, "lines": []line{{"productId": 1, "quantity": 2, "unitPrice": "5.00"}}}
	var cart Cart
	c.Do("POST", "/api/carts", body).Expect(t, 201, &cart)
	if cart.ID != id {
		t.Fatalf("id = %s, want %s", cart.ID, id)
	}
	c.Do("POST", "/api/carts", body).Expect(t, 200, &cart)
	if cart.ID != id || cart.Total != "10.00" {
		t.Fatalf("repeat = %+v", cart)
	}
	other := map[string]any{"id": id, "storeId": 1, "lines": []line{{"productId": 1, "quantity": 3, "unitPrice": "5.00"}}}
	c.Do("POST", "/api/carts", other).ExpectProblem(t, 409, httpapi.SlugConflict)
	c.Do("POST", "/api/carts", map[string]any{"id": "x", "storeId": 1, "lines": body["lines"]}).ExpectProblem(t, 400, httpapi.SlugInvalidRequest)
}

// TestSagaHappyPath: lock (repeatable) returns the lines with prices; checkout
// (repeatable) ends the cart; events carry the correlation id.
func TestSagaHappyPath(t *testing.T) {
	c := newService(t)
	cartID, orderID := newCart(t, c), uuid.NewString()
	var cart Cart
	for i := 0; i < 2; i++ {
		c.Do("POST", "/api/carts/"+cartID+"/lock", order(orderID), hdr(orderID)...).Expect(t, 200, &cart)
		if cart.Status != StatusLocked || cart.LockedBy != orderID || cart.Lines[0].UnitPrice != "12.50" || cart.Lines[0].Quantity != 3 || cart.Total != "37.50" {
			t.Fatalf("lock #%d = %+v", i, cart)
		}
	}
	for i := 0; i < 2; i++ {
		c.Do("POST", "/api/carts/"+cartID+"/checkout", order(orderID), hdr(orderID)...).Expect(t, 200, &cart)
		if cart.Status != StatusCheckedOut || cart.LockedBy != orderID {
			t.Fatalf("checkout #%d = %+v", i, cart)
		}
	}
	// A lock repeated after checkout (a crashed reconcile replaying) still answers 200.
	c.Do("POST", "/api/carts/"+cartID+"/lock", order(orderID), hdr(orderID)...).Expect(t, 200, &cart)
	// Another order can neither lock, check out nor unlock it.
	other := uuid.NewString()
	c.Do("POST", "/api/carts/"+cartID+"/lock", order(other)).ExpectProblem(t, 409, httpapi.SlugCartUnavailable)
	c.Do("POST", "/api/carts/"+cartID+"/checkout", order(other)).ExpectProblem(t, 409, httpapi.SlugCartUnavailable)
	c.Do("POST", "/api/carts/"+cartID+"/unlock", order(other)).Expect(t, 204, nil)
	c.Do("GET", "/api/carts/"+cartID, nil).Expect(t, 200, &cart)
	if cart.Status != StatusCheckedOut || cart.LockedBy != orderID {
		t.Fatalf("another order's unlock changed the cart: %+v", cart)
	}

	var page events.Page
	c.Do("GET", "/api/events?correlationId="+orderID, nil).Expect(t, 200, &page)
	seq := st.EventSequence(page.Items)
	if want := "LOCK_CART:SUCCESS CHECKOUT_CART:SUCCESS"; seq != want {
		t.Fatalf("events = %v, want %s", seq, want)
	}
	c.Do("GET", "/api/events?correlationId="+other, nil).Expect(t, 200, &page)
	if len(page.Items) != 3 || page.Items[0].Outcome != events.Failure || page.Items[2].Action != ActionUnlockCart {
		t.Fatalf("other order's events = %+v", page.Items)
	}
}

// TestCompensation: the reference failure path (reservation refused → unlock),
// and the deletion-with-Compensate path (unlock after checkout).
func TestCompensation(t *testing.T) {
	c := newService(t)
	cartID, orderID := newCart(t, c), uuid.NewString()
	var cart Cart
	c.Do("POST", "/api/carts/"+cartID+"/lock", order(orderID)).Expect(t, 200, nil)
	for i := 0; i < 2; i++ {
		c.Do("POST", "/api/carts/"+cartID+"/unlock", order(orderID)).Expect(t, 204, nil)
	}
	c.Do("GET", "/api/carts/"+cartID, nil).Expect(t, 200, &cart)
	if cart.Status != StatusOpen || cart.LockedBy != "" {
		t.Fatalf("after unlock: %+v", cart)
	}
	// The same order cannot come back; a new order can take the cart.
	c.Do("POST", "/api/carts/"+cartID+"/lock", order(orderID)).ExpectProblem(t, 409, httpapi.SlugAlreadyCompensated)
	c.Do("POST", "/api/carts/"+cartID+"/checkout", order(orderID)).ExpectProblem(t, 409, httpapi.SlugAlreadyCompensated)
	second := uuid.NewString()
	c.Do("POST", "/api/carts/"+cartID+"/lock", order(second)).Expect(t, 200, nil)
	c.Do("POST", "/api/carts/"+cartID+"/checkout", order(second)).Expect(t, 200, nil)
	c.Do("POST", "/api/carts/"+cartID+"/unlock", order(second)).Expect(t, 204, nil)
	c.Do("GET", "/api/carts/"+cartID, nil).Expect(t, 200, &cart)
	if cart.Status != StatusOpen {
		t.Fatalf("unlock after checkout: %+v", cart)
	}
}

// TestUndoBeforeDo: the unlock arrives before the lock (the saga gave up);
// the late lock is refused and leaves the cart OPEN. Unknown carts too.
func TestUndoBeforeDo(t *testing.T) {
	c := newService(t)
	cartID, orderID := newCart(t, c), uuid.NewString()
	c.Do("POST", "/api/carts/"+cartID+"/unlock", order(orderID)).Expect(t, 204, nil)
	c.Do("POST", "/api/carts/"+cartID+"/lock", order(orderID)).ExpectProblem(t, 409, httpapi.SlugAlreadyCompensated)
	var cart Cart
	c.Do("GET", "/api/carts/"+cartID, nil).Expect(t, 200, &cart)
	if cart.Status != StatusOpen {
		t.Fatalf("cart = %+v", cart)
	}
	unknown := uuid.NewString()
	c.Do("POST", "/api/carts/"+unknown+"/unlock", order(orderID)).Expect(t, 204, nil)
	c.Do("POST", "/api/carts/"+unknown+"/lock", order(orderID)).ExpectProblem(t, 404, httpapi.SlugNotFound)
	c.Do("POST", "/api/carts/"+unknown+"/checkout", order(orderID)).ExpectProblem(t, 404, httpapi.SlugNotFound)
}

func TestStateSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "carts.db")
	_, c, stop := open(t, path)
	cartID, orderID, early := newCart(t, c), uuid.NewString(), uuid.NewString()
	first := c.Do("POST", "/api/carts/"+cartID+"/lock", order(orderID)).Expect(t, 200, nil)
	other := newCart(t, c)
	c.Do("POST", "/api/carts/"+other+"/unlock", order(early)).Expect(t, 204, nil)
	stop()

	_, c, stop = open(t, path)
	defer stop()
	again := c.Do("POST", "/api/carts/"+cartID+"/lock", order(orderID))
	if again.Status != 200 || string(again.Body) != string(first.Body) {
		t.Fatalf("lock replay after restart = %d %s, want %s", again.Status, again.Body, first.Body)
	}
	c.Do("POST", "/api/carts/"+other+"/lock", order(early)).ExpectProblem(t, 409, httpapi.SlugAlreadyCompensated)
}

func TestBadRequestsWriteNothing(t *testing.T) {
	c := newService(t)
	cartID, orderID := newCart(t, c), uuid.NewString()
	creates := map[string]struct{ body, field string }{
		"no lines":        {`{"storeId":1,"lines":[]}`, "lines"},
		"missing store":   {`{"lines":[{"productId":1,"quantity":1,"unitPrice":"1.00"}]}`, "storeId"},
		"negative qty":    {`{"storeId":1,"lines":[{"productId":1,"quantity":-1,"unitPrice":"1.00"}]}`, "lines[0].quantity"},
		"bad price":       {`{"storeId":1,"lines":[{"productId":1,"quantity":1,"unitPrice":"1,00"}]}`, "lines[0].unitPrice"},
		"price as number": {`{"storeId":1,"lines":[{"productId":1,"quantity":1,"unitPrice":1}]}`, "lines.unitPrice"},
		"unknown field":   {`{"storeId":1,"lines":[{"productId":1,"quantity":1,"unitPrice":"1.00"}],"owner":"x"}`, "owner"},
		"trailing":        {`{"storeId":1,"lines":[{"productId":1,"quantity":1,"unitPrice":"1.00"}]}{}`, "body"},
	}
	for name, tc := range creates {
		t.Run("create "+name, func(t *testing.T) {
			p := c.Do("POST", "/api/carts", st.Raw(tc.body)).ExpectProblem(t, 400, httpapi.SlugInvalidRequest)
			if p.Field != tc.field {
				t.Fatalf("field = %q, want %q (%s)", p.Field, tc.field, p.Detail)
			}
		})
	}
	for _, action := range []string{"lock", "unlock", "checkout"} {
		for name, tc := range map[string]struct{ body, field string }{
			"missing orderId": {`{}`, "orderId"},
			"orderId number":  {`{"orderId":1}`, "orderId"},
			"orderId braces":  {`{"orderId":"{` + orderID + `}"}`, "orderId"},
			"unknown field":   {`{"orderId":"` + orderID + `","force":true}`, "force"},
			"not JSON":        {`orderId=` + orderID, "body"},
		} {
			t.Run(action+" "+name, func(t *testing.T) {
				p := c.Do("POST", "/api/carts/"+cartID+"/"+action, st.Raw(tc.body)).ExpectProblem(t, 400, httpapi.SlugInvalidRequest)
				if p.Field != tc.field {
					t.Fatalf("field = %q, want %q (%s)", p.Field, tc.field, p.Detail)
				}
			})
		}
		c.Do("POST", "/api/carts/nope/"+action, order(orderID)).ExpectProblem(t, 400, httpapi.SlugInvalidRequest)
	}
	var cart Cart
	c.Do("GET", "/api/carts/"+cartID, nil).Expect(t, 200, &cart)
	var page events.Page
	c.Do("GET", "/api/events?correlationId="+orderID, nil).Expect(t, 200, &page)
	if cart.Status != StatusOpen || len(page.Items) != 0 {
		t.Fatalf("bad requests changed the cart (%s) or wrote %d events", cart.Status, len(page.Items))
	}
	// No tombstone was left by the refused unlocks: the order can still lock.
	c.Do("POST", "/api/carts/"+cartID+"/lock", order(orderID)).Expect(t, 200, nil)
}

func TestOpsEndpoints(t *testing.T) {
	c := newService(t)
	c.Do("GET", "/healthz", nil).Expect(t, 200, nil)
	c.Do("GET", "/readyz", nil).Expect(t, 200, nil)
	cartID := newCart(t, c)
	c.Do("POST", "/api/carts/"+cartID+"/lock", order(uuid.NewString())).Expect(t, 200, nil)
	c.Do("POST", "/api/carts/"+cartID+"/lock", order(uuid.NewString())).ExpectProblem(t, 409, httpapi.SlugCartUnavailable)
	m := string(c.Do("GET", "/metrics", nil).Expect(t, 200, nil).Body)
	for _, want := range []string{
		`kubesaga_http_requests_total{code="200",route="POST /api/carts/{id}/lock",service_name="carts"} 1`,
		`kubesaga_http_requests_total{code="409",route="POST /api/carts/{id}/lock",service_name="carts"} 1`,
		`kubesaga_business_events_total{action="lock_cart",outcome="failure",service_name="carts"} 1`,
		`kubesaga_business_events_total{action="lock_cart",outcome="success",service_name="carts"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(m, cartID) {
		t.Error("an id leaked into a metric label")
	}
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	s, c, stop := open(t, filepath.Join(t.TempDir(), "carts.db"))
	defer stop()
	st.CheckOpenAPI(t, st.RepoFile(t, "docs/openapi/carts.yaml"), s.routes(), c)
}
