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

package sales

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

func newService(t testing.TB) *st.Client { return st.New(t, Open, "sales.db") }

type line = map[string]any

func saleBody(store int64, order string, lines ...line) map[string]any {
	return map[string]any{"storeId": store, "orderId": order, "lines": lines}
}

func TestSaleCarriesPricesAndExactTotal(t *testing.T) {
	c := newService(t)
	id := uuid.NewString()
	body := saleBody(101, id,
		line{"productId": 501, "quantity": 3, "unitPrice": "12.50"},
		line{"productId": 502, "quantity": 3, "unitPrice": "0.10"}) // 0.1 × 3 is not exact in floats
	var sale Sale
	first := c.Do("PUT", "/api/sales/"+id, body, httpapi.HeaderCorrelationID, id).Expect(t, 201, &sale)
	if sale.ID != id || sale.OrderID != id || sale.StoreID != 101 || sale.Status != StatusCreated || sale.Total != "37.80" || sale.CreatedAt.IsZero() {
		t.Fatalf("sale = %+v", sale)
	}
	var got Sale
	c.Do("GET", "/api/sales/"+id, nil).Expect(t, 200, &got)
	if got.Total != "37.80" || len(got.Lines) != 2 || got.Lines[0].UnitPrice != "12.50" || got.Lines[0].Quantity != 3 ||
		got.Lines[1].UnitPrice != "0.10" || !got.CreatedAt.Equal(sale.CreatedAt) {
		t.Fatalf("GET = %+v", got)
	}
	again := c.Do("PUT", "/api/sales/"+id, body, httpapi.HeaderCorrelationID, id)
	if again.Status != 201 || string(again.Body) != string(first.Body) {
		t.Fatalf("replay = %d %s", again.Status, again.Body)
	}
	var list SaleList
	c.Do("GET", "/api/sales?orderId="+id, nil).Expect(t, 200, &list)
	if len(list.Items) != 1 || list.Items[0].Total != "37.80" {
		t.Fatalf("list = %+v", list)
	}
	for i := 0; i < 2; i++ {
		c.Do("DELETE", "/api/sales/"+id, nil, httpapi.HeaderCorrelationID, id).Expect(t, 204, nil)
	}
	c.Do("GET", "/api/sales/"+id, nil).Expect(t, 200, &got)
	if got.Status != StatusCancelled {
		t.Fatalf("status = %s", got.Status)
	}
	c.Do("PUT", "/api/sales/"+id, body, httpapi.HeaderCorrelationID, id).ExpectProblem(t, 409, httpapi.SlugAlreadyCompensated)

	var page events.Page
	c.Do("GET", "/api/events?correlationId="+id, nil).Expect(t, 200, &page)
	seq := st.EventSequence(page.Items)
	if want := "CREATE_SALE:SUCCESS CANCEL_SALE:SUCCESS CREATE_SALE:FAILURE"; seq != want {
		t.Fatalf("events = %v, want %s", seq, want)
	}
}

func TestListFilters(t *testing.T) {
	c := newService(t)
	o1, o2 := uuid.NewString(), uuid.NewString()
	l := line{"productId": 1, "quantity": 1, "unitPrice": "1.00"}
	c.Do("PUT", "/api/sales/"+o1, saleBody(1, o1, l)).Expect(t, 201, nil)
	c.Do("PUT", "/api/sales/"+o2, saleBody(2, o2, l)).Expect(t, 201, nil)
	c.Do("PUT", "/api/sales/"+uuid.NewString(), saleBody(2, o2, l)).Expect(t, 201, nil)
	count := func(q string) int {
		var list SaleList
		c.Do("GET", "/api/sales"+q, nil).Expect(t, 200, &list)
		return len(list.Items)
	}
	if n := count(""); n != 3 {
		t.Fatalf("all = %d", n)
	}
	if n := count("?storeId=2"); n != 2 {
		t.Fatalf("store 2 = %d", n)
	}
	if n := count("?storeId=2&orderId=" + o1); n != 0 {
		t.Fatalf("store 2, order 1 = %d", n)
	}
	if n := count("?limit=1"); n != 1 {
		t.Fatalf("limit 1 = %d", n)
	}
	c.Do("GET", "/api/sales?storeId=x", nil).ExpectProblem(t, 400, httpapi.SlugInvalidRequest)
	c.Do("GET", "/api/sales?orderId=x", nil).ExpectProblem(t, 400, httpapi.SlugInvalidRequest)
	c.Do("GET", "/api/sales?limit=0", nil).ExpectProblem(t, 400, httpapi.SlugInvalidRequest)
}

func TestIdempotencyAcrossRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sales.db")
	_, c, stop := open(t, path)
	id, early := uuid.NewString(), uuid.NewString()
	body := saleBody(1, id, line{"productId": 1, "quantity": 2, "unitPrice": "9.99"})
	first := c.Do("PUT", "/api/sales/"+id, body).Expect(t, 201, nil)
	c.Do("DELETE", "/api/sales/"+early, nil).Expect(t, 204, nil) // undo before do
	stop()

	_, c, stop = open(t, path)
	defer stop()
	again := c.Do("PUT", "/api/sales/"+id, body)
	if again.Status != 201 || string(again.Body) != string(first.Body) {
		t.Fatalf("replay after restart = %d %s, want %s", again.Status, again.Body, first.Body)
	}
	changed := saleBody(1, id, line{"productId": 1, "quantity": 2, "unitPrice": "9.98"})
	c.Do("PUT", "/api/sales/"+id, changed).ExpectProblem(t, 422, httpapi.SlugIdempotencyMismatch)
	c.Do("PUT", "/api/sales/"+early, saleBody(1, early, line{"productId": 1, "quantity": 1, "unitPrice": "1.00"})).
		ExpectProblem(t, 409, httpapi.SlugAlreadyCompensated)
	c.Do("GET", "/api/sales/"+early, nil).ExpectProblem(t, 404, httpapi.SlugNotFound)
}

func TestBadRequestsWriteNothing(t *testing.T) {
	c := newService(t)
	id := uuid.NewString()
	good := `"productId":1,"quantity":1,"unitPrice":"1.00"`
	cases := map[string]struct {
		body  string
		field string
	}{
		"unknown field":    {`{"storeId":1,"orderId":"` + id + `","lines":[{` + good + `}],"discount":"1.00"}`, "discount"},
		"unknown in line":  {`{"storeId":1,"orderId":"` + id + `","lines":[{` + good + `,"sku":"x"}]}`, "sku"},
		"missing orderId":  {`{"storeId":1,"lines":[{` + good + `}]}`, "orderId"},
		"orderId not uuid": {`{"storeId":1,"orderId":"order-1","lines":[{` + good + `}]}`, "orderId"},
		"price as number":  {`{"storeId":1,"orderId":"` + id + `","lines":[{"productId":1,"quantity":1,"unitPrice":12.5}]}`, "lines.unitPrice"},
		"price 3 decimals": {`{"storeId":1,"orderId":"` + id + `","lines":[{"productId":1,"quantity":1,"unitPrice":"1.005"}]}`, "lines[0].unitPrice"},
		"negative price":   {`{"storeId":1,"orderId":"` + id + `","lines":[{"productId":1,"quantity":1,"unitPrice":"-1.00"}]}`, "lines[0].unitPrice"},
		"exponent price":   {`{"storeId":1,"orderId":"` + id + `","lines":[{"productId":1,"quantity":1,"unitPrice":"1e3"}]}`, "lines[0].unitPrice"},
		"huge price":       {`{"storeId":1,"orderId":"` + id + `","lines":[{"productId":1,"quantity":1,"unitPrice":"99999999999999999999.00"}]}`, "lines[0].unitPrice"},
		"missing price":    {`{"storeId":1,"orderId":"` + id + `","lines":[{"productId":1,"quantity":1}]}`, "lines[0].unitPrice"},
		"zero quantity":    {`{"storeId":1,"orderId":"` + id + `","lines":[{"productId":1,"quantity":0,"unitPrice":"1.00"}]}`, "lines[0].quantity"},
		"store zero":       {`{"storeId":0,"orderId":"` + id + `","lines":[{` + good + `}]}`, "storeId"},
		"no lines":         {`{"storeId":1,"orderId":"` + id + `"}`, "lines"},
		"trailing":         {`{"storeId":1,"orderId":"` + id + `","lines":[{` + good + `}]}]`, "body"},
		"oversize":         {`{"storeId":1,"orderId":"` + id + `","lines":[` + strings.Repeat(`{`+good+`},`, 30000) + `{` + good + `}]}`, "body"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := c.Do("PUT", "/api/sales/"+id, st.Raw(tc.body)).ExpectProblem(t, 400, httpapi.SlugInvalidRequest)
			if p.Field != tc.field {
				t.Fatalf("field = %q, want %q (%s)", p.Field, tc.field, p.Detail)
			}
		})
	}
	c.Do("PUT", "/api/sales/nope", st.Raw(`{}`)).ExpectProblem(t, 400, httpapi.SlugInvalidRequest)
	c.Do("DELETE", "/api/sales/nope", nil).ExpectProblem(t, 400, httpapi.SlugInvalidRequest)
	var list SaleList
	c.Do("GET", "/api/sales", nil).Expect(t, 200, &list)
	var page events.Page
	c.Do("GET", "/api/events", nil).Expect(t, 200, &page)
	if len(list.Items) != 0 || len(page.Items) != 0 {
		t.Fatalf("bad requests wrote %d sales and %d events", len(list.Items), len(page.Items))
	}
	c.Do("PUT", "/api/sales/"+id, saleBody(1, id, line{"productId": 1, "quantity": 1, "unitPrice": "1.00"})).Expect(t, 201, nil)
}

func TestOpsEndpoints(t *testing.T) {
	c := newService(t)
	c.Do("GET", "/healthz", nil).Expect(t, 200, nil)
	c.Do("GET", "/readyz", nil).Expect(t, 200, nil)
	id := uuid.NewString()
	c.Do("PUT", "/api/sales/"+id, saleBody(1, id, line{"productId": 1, "quantity": 1, "unitPrice": "1.00"})).Expect(t, 201, nil)
	m := string(c.Do("GET", "/metrics", nil).Expect(t, 200, nil).Body)
	for _, want := range []string{
		`kubesaga_http_requests_total{code="201",route="PUT /api/sales/{id}",service_name="sales"} 1`,
		`kubesaga_business_events_total{action="create_sale",outcome="success",service_name="sales"} 1`,
		`kubesaga_http_request_duration_seconds_count{route="PUT /api/sales/{id}",service_name="sales"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(m, id) {
		t.Error("an id leaked into a metric label")
	}
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	s, c, stop := open(t, filepath.Join(t.TempDir(), "sales.db"))
	defer stop()
	st.CheckOpenAPI(t, st.RepoFile(t, "docs/openapi/sales.yaml"), s.routes(), c)
}
