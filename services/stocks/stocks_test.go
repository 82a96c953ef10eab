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

package stocks

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/kubesaga/kubesaga/services/events"
	"github.com/kubesaga/kubesaga/services/httpapi"
	st "github.com/kubesaga/kubesaga/services/internal/servicetest"
)

// open starts the service on a real SQLite file behind a real HTTP server.
func open(t testing.TB, path string) (*Service, *st.Client, func()) { return st.Open(t, Open, path) }

func newService(t testing.TB) *st.Client { return st.New(t, Open, "stocks.db") }

func setStock(t testing.TB, c *st.Client, store, product, qty int64) {
	t.Helper()
	c.Do("PUT", fmt.Sprintf("/api/stocks/%d/%d", store, product), map[string]any{"quantity": qty}).Expect(t, 200, nil)
}

func stockOf(t testing.TB, c *st.Client, store, product int64) int64 {
	t.Helper()
	var l StockLevel
	c.Do("GET", fmt.Sprintf("/api/stocks/%d/%d", store, product), nil).Expect(t, 200, &l)
	return l.Quantity
}

func reservationBody(store int64, lines ...int64) map[string]any {
	var ls []map[string]any
	for i := 0; i+1 < len(lines); i += 2 {
		ls = append(ls, map[string]any{"productId": lines[i], "quantity": lines[i+1]})
	}
	return map[string]any{"storeId": store, "lines": ls}
}

func listEvents(t testing.TB, c *st.Client, corr string) []events.Event {
	t.Helper()
	var page events.Page
	c.Do("GET", "/api/events?correlationId="+corr, nil).Expect(t, 200, &page)
	return page.Items
}

func TestStockLevels(t *testing.T) {
	c := newService(t)
	c.Do("GET", "/api/stocks/101/501", nil).ExpectProblem(t, 404, httpapi.SlugNotFound)
	var l StockLevel
	c.Do("PUT", "/api/stocks/101/501", map[string]any{"quantity": 15}).Expect(t, 200, &l)
	if l != (StockLevel{StoreID: 101, ProductID: 501, Quantity: 15, OnHand: 15}) {
		t.Fatalf("put = %+v", l)
	}
	setStock(t, c, 101, 501, 0) // zero is a valid level
	if q := stockOf(t, c, 101, 501); q != 0 {
		t.Fatalf("stock = %d", q)
	}
	c.Do("PUT", "/api/stocks/0/501", map[string]any{"quantity": 1}).ExpectProblem(t, 400, httpapi.SlugInvalidRequest)
	c.Do("PUT", "/api/stocks/x/501", map[string]any{"quantity": 1}).ExpectProblem(t, 400, httpapi.SlugInvalidRequest)
	c.Do("GET", "/api/stocks/101/-1", nil).ExpectProblem(t, 400, httpapi.SlugInvalidRequest)
	p := c.Do("PUT", "/api/stocks/101/501", map[string]any{"quantity": -1}).ExpectProblem(t, 400, httpapi.SlugInvalidRequest)
	if p.Field != "quantity" {
		t.Fatalf("field = %q", p.Field)
	}
	c.Do("PUT", "/api/stocks/101/501", map[string]any{}).ExpectProblem(t, 400, httpapi.SlugInvalidRequest)
	if q := stockOf(t, c, 101, 501); q != 0 {
		t.Fatalf("a refused PUT changed the stock to %d", q)
	}
}

// TestReservationLifecycle is the saga's path: reserve 3 of 15, commit, and the
// deletion-with-Compensate path: releasing a committed reservation restores it.
func TestReservationLifecycle(t *testing.T) {
	c := newService(t)
	setStock(t, c, 101, 501, 15)
	setStock(t, c, 101, 502, 4)
	id := uuid.NewString()
	hdr := []string{httpapi.HeaderCorrelationID, id}

	var res Reservation
	c.Do("PUT", "/api/reservations/"+id, reservationBody(101, 501, 3, 502, 4), hdr...).Expect(t, 201, &res)
	want := Reservation{ID: id, StoreID: 101, Status: StatusReserved, Lines: []Line{{501, 3}, {502, 4}}}
	if fmt.Sprint(res) != fmt.Sprint(want) {
		t.Fatalf("reservation = %+v, want %+v", res, want)
	}
	if a, b := stockOf(t, c, 101, 501), stockOf(t, c, 101, 502); a != 12 || b != 0 {
		t.Fatalf("stock = %d, %d; want 12, 0", a, b)
	}
	c.Do("GET", "/api/reservations/"+id, nil).Expect(t, 200, &res)
	if res.Status != StatusReserved || len(res.Lines) != 2 {
		t.Fatalf("get = %+v", res)
	}
	for i := 0; i < 2; i++ { // commit is idempotent
		c.Do("POST", "/api/reservations/"+id+"/commit", nil, hdr...).Expect(t, 200, &res)
		if res.Status != StatusCommitted {
			t.Fatalf("commit #%d = %+v", i, res)
		}
	}
	for i := 0; i < 2; i++ { // release gives stock back once
		c.Do("DELETE", "/api/reservations/"+id, nil, hdr...).Expect(t, 204, nil)
	}
	if a, b := stockOf(t, c, 101, 501), stockOf(t, c, 101, 502); a != 15 || b != 4 {
		t.Fatalf("stock after release = %d, %d; want 15, 4", a, b)
	}
	c.Do("GET", "/api/reservations/"+id, nil).Expect(t, 200, &res)
	if res.Status != StatusReleased {
		t.Fatalf("status = %s", res.Status)
	}
	// A do after its undo is refused, never re-applied.
	c.Do("PUT", "/api/reservations/"+id, reservationBody(101, 501, 3, 502, 4), hdr...).ExpectProblem(t, 409, httpapi.SlugAlreadyCompensated)
	c.Do("POST", "/api/reservations/"+id+"/commit", nil, hdr...).ExpectProblem(t, 409, httpapi.SlugAlreadyCompensated)
	if a := stockOf(t, c, 101, 501); a != 15 {
		t.Fatalf("stock = %d after refused replay", a)
	}

	got := listEvents(t, c, id)
	for _, e := range got {
		if e.CorrelationID != id || e.CreatedAt.IsZero() || e.Detail == "" {
			t.Errorf("event %+v", e)
		}
	}
	seq := st.EventSequence(got)
	wantSeq := "CREATE_RESERVATION:SUCCESS COMMIT_RESERVATION:SUCCESS RELEASE_RESERVATION:SUCCESS CREATE_RESERVATION:FAILURE COMMIT_RESERVATION:FAILURE"
	if seq != wantSeq {
		t.Fatalf("events = %s\nwant      %s", seq, wantSeq)
	}
}

// TestInsufficientStockIsARefusal is the reference failure: stock 1, 2 wanted.
func TestInsufficientStockIsARefusal(t *testing.T) {
	c := newService(t)
	setStock(t, c, 101, 501, 1)
	setStock(t, c, 101, 502, 10)
	id := uuid.NewString()
	body := reservationBody(101, 502, 5, 501, 2)
	first := c.Do("PUT", "/api/reservations/"+id, body, httpapi.HeaderCorrelationID, id)
	p := first.ExpectProblem(t, 409, httpapi.SlugInsufficientStock)
	if p.Extensions["productId"] != float64(501) || !strings.Contains(p.Detail, "501") {
		t.Fatalf("problem does not name product 501: %+v", p)
	}
	// All or nothing: product 502's line was fine but nothing was taken.
	if a, b := stockOf(t, c, 101, 501), stockOf(t, c, 101, 502); a != 1 || b != 10 {
		t.Fatalf("stock = %d, %d; want 1, 10", a, b)
	}
	c.Do("GET", "/api/reservations/"+id, nil).ExpectProblem(t, 404, httpapi.SlugNotFound)
	// The refusal is the first answer: replaying it answers the same, even after restocking.
	setStock(t, c, 101, 501, 100)
	again := c.Do("PUT", "/api/reservations/"+id, body)
	if again.Status != 409 || string(again.Body) != string(first.Body) {
		t.Fatalf("replay = %d %s, want the first 409", again.Status, again.Body)
	}
	// An unknown product has no stock: also a refusal, never a 5xx.
	c.Do("PUT", "/api/reservations/"+uuid.NewString(), reservationBody(101, 999, 1)).ExpectProblem(t, 409, httpapi.SlugInsufficientStock)
	if evs := listEvents(t, c, id); len(evs) != 1 || evs[0].Action != ActionCreateReservation || evs[0].Outcome != events.Failure {
		t.Fatalf("events = %+v", evs)
	}
}

func TestSameIDDifferentBody(t *testing.T) {
	c := newService(t)
	setStock(t, c, 1, 1, 10)
	id := uuid.NewString()
	c.Do("PUT", "/api/reservations/"+id, reservationBody(1, 1, 2)).Expect(t, 201, nil)
	c.Do("PUT", "/api/reservations/"+id, reservationBody(1, 1, 3)).ExpectProblem(t, 422, httpapi.SlugIdempotencyMismatch)
	// Same request with other whitespace and key order is the same request.
	c.Do("PUT", "/api/reservations/"+id, st.Raw(` { "lines" : [ {"quantity":2, "productId":1} ], "storeId": 1 } `)).Expect(t, 201, nil)
	if q := stockOf(t, c, 1, 1); q != 8 {
		t.Fatalf("stock = %d, want 8", q)
	}
}

// TestUndoBeforeDo: the release arrives first (the saga timed out and
// compensated); the late reservation must be refused and take nothing.
func TestUndoBeforeDo(t *testing.T) {
	c := newService(t)
	setStock(t, c, 1, 1, 10)
	id := uuid.NewString()
	c.Do("DELETE", "/api/reservations/"+id, nil).Expect(t, 204, nil)
	c.Do("DELETE", "/api/reservations/"+id, nil).Expect(t, 204, nil)
	c.Do("PUT", "/api/reservations/"+id, reservationBody(1, 1, 2)).ExpectProblem(t, 409, httpapi.SlugAlreadyCompensated)
	c.Do("POST", "/api/reservations/"+id+"/commit", nil).ExpectProblem(t, 409, httpapi.SlugAlreadyCompensated)
	c.Do("POST", "/api/reservations/"+uuid.NewString()+"/commit", nil).ExpectProblem(t, 404, httpapi.SlugNotFound)
	if q := stockOf(t, c, 1, 1); q != 10 {
		t.Fatalf("stock = %d, want 10", q)
	}
}

// TestReplayAfterRestart closes the service between a call and its replay: the
// idempotency record and the tombstone live in the database, not in memory.
func TestReplayAfterRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "stocks.db")
	_, c, stop := open(t, path)
	setStock(t, c, 1, 1, 10)
	id, released := uuid.NewString(), uuid.NewString()
	first := c.Do("PUT", "/api/reservations/"+id, reservationBody(1, 1, 4)).Expect(t, 201, nil)
	c.Do("PUT", "/api/reservations/"+released, reservationBody(1, 1, 1)).Expect(t, 201, nil)
	c.Do("DELETE", "/api/reservations/"+released, nil).Expect(t, 204, nil)
	stop()

	_, c, stop = open(t, path)
	defer stop()
	again := c.Do("PUT", "/api/reservations/"+id, reservationBody(1, 1, 4))
	if again.Status != 201 || string(again.Body) != string(first.Body) {
		t.Fatalf("replay after restart = %d %s, want %d %s", again.Status, again.Body, first.Status, first.Body)
	}
	c.Do("PUT", "/api/reservations/"+id, reservationBody(1, 1, 5)).ExpectProblem(t, 422, httpapi.SlugIdempotencyMismatch)
	c.Do("PUT", "/api/reservations/"+released, reservationBody(1, 1, 1)).ExpectProblem(t, 409, httpapi.SlugAlreadyCompensated)
	c.Do("DELETE", "/api/reservations/"+released, nil).Expect(t, 204, nil)
	if q := stockOf(t, c, 1, 1); q != 6 {
		t.Fatalf("stock = %d, want 6", q)
	}
}

// TestConcurrentReservations: 100 concurrent 1-unit reservations against 40
// units: exactly 40 succeed; then every release is sent twice, concurrently,
// and exactly 40 come back.
func TestConcurrentReservations(t *testing.T) {
	c := newService(t)
	setStock(t, c, 7, 9, 40)
	ids := make([]string, 100)
	codes := make([]int, 100)
	var wg sync.WaitGroup
	for i := range ids {
		ids[i] = uuid.NewString()
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			codes[i] = c.Do("PUT", "/api/reservations/"+ids[i], reservationBody(7, 9, 1)).Status
		}(i)
	}
	wg.Wait()
	count := map[int]int{}
	for _, code := range codes {
		count[code]++
	}
	if count[201] != 40 || count[409] != 60 || len(count) != 2 {
		t.Fatalf("status counts = %v, want 40×201 and 60×409", count)
	}
	if q := stockOf(t, c, 7, 9); q != 0 {
		t.Fatalf("stock = %d, want 0", q)
	}
	for i := range ids {
		for range 2 {
			wg.Add(1)
			go func(id string) {
				defer wg.Done()
				if code := c.Do("DELETE", "/api/reservations/"+id, nil).Status; code != 204 {
					t.Errorf("DELETE = %d", code)
				}
			}(ids[i])
		}
	}
	wg.Wait()
	if q := stockOf(t, c, 7, 9); q != 40 {
		t.Fatalf("stock after releasing everything twice = %d, want 40", q)
	}
}

// TestBadRequestsWriteNothing sends every class of bad input and checks for a
// 400 problem naming the field, and that no stock, reservation, record or
// event was written.
func TestBadRequestsWriteNothing(t *testing.T) {
	c := newService(t)
	setStock(t, c, 1, 1, 10)
	id := uuid.NewString()
	cases := []struct {
		name, path, field string
		body              any
		headers           []string
	}{
		{"path id not a UUID", "/api/reservations/42", "id", reservationBody(1, 1, 1), nil},
		{"unknown field", "", "color", st.Raw(`{"storeId":1,"lines":[{"productId":1,"quantity":1}],"color":"red"}`), nil},
		{"wrong type", "", "storeId", st.Raw(`{"storeId":"1","lines":[{"productId":1,"quantity":1}]}`), nil},
		{"float quantity", "", "lines.quantity", st.Raw(`{"storeId":1,"lines":[{"productId":1,"quantity":1.5}]}`), nil},
		{"missing storeId", "", "storeId", st.Raw(`{"lines":[{"productId":1,"quantity":1}]}`), nil},
		{"no lines", "", "lines", st.Raw(`{"storeId":1,"lines":[]}`), nil},
		{"zero quantity", "", "lines[0].quantity", reservationBody(1, 1, 0), nil},
		{"negative quantity", "", "lines[0].quantity", reservationBody(1, 1, -3), nil},
		{"huge quantity", "", "lines[0].quantity", reservationBody(1, 1, 1_000_001), nil},
		{"duplicate product", "", "lines[1].productId", reservationBody(1, 1, 1, 1, 1), nil},
		{"missing productId", "", "lines[0].productId", st.Raw(`{"storeId":1,"lines":[{"quantity":1}]}`), nil},
		{"trailing data", "", "body", st.Raw(`{"storeId":1,"lines":[{"productId":1,"quantity":1}]} {}`), nil},
		{"malformed", "", "body", st.Raw(`{"storeId":1,`), nil},
		{"empty", "", "body", st.Raw(``), nil},
		{"array", "", "body", st.Raw(`[]`), nil},
		{"oversize", "", "body", st.Raw(`{"storeId":1,"lines":[{"productId":1,"quantity":1}],"x":"` + strings.Repeat("a", 1<<20) + `"}`), nil},
		{"wrong content type", "", "Content-Type", reservationBody(1, 1, 1), []string{"Content-Type", "text/plain"}},
		{"bad correlation id", "", httpapi.HeaderCorrelationID, reservationBody(1, 1, 1), []string{httpapi.HeaderCorrelationID, strings.Repeat("x", 200)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path
			if path == "" {
				path = "/api/reservations/" + id
			}
			p := c.Do("PUT", path, tc.body, tc.headers...).ExpectProblem(t, 400, httpapi.SlugInvalidRequest)
			if p.Field != tc.field {
				t.Fatalf("field = %q, want %q (detail %q)", p.Field, tc.field, p.Detail)
			}
		})
	}
	c.Do("DELETE", "/api/reservations/not-a-uuid", nil).ExpectProblem(t, 400, httpapi.SlugInvalidRequest)
	c.Do("POST", "/api/reservations/not-a-uuid/commit", nil).ExpectProblem(t, 400, httpapi.SlugInvalidRequest)
	c.Do("GET", "/api/reservations/not-a-uuid", nil).ExpectProblem(t, 400, httpapi.SlugInvalidRequest)
	if q := stockOf(t, c, 1, 1); q != 10 {
		t.Fatalf("stock = %d, want 10", q)
	}
	if evs := listEvents(t, c, ""); len(evs) != 0 {
		t.Fatalf("events written by bad requests: %+v", evs)
	}
	// The id was never used, so a valid request now succeeds: no record was left.
	c.Do("PUT", "/api/reservations/"+id, reservationBody(1, 1, 1)).Expect(t, 201, nil)
}

func TestOpsEndpoints(t *testing.T) {
	s, c, stop := open(t, filepath.Join(t.TempDir(), "stocks.db"))
	defer stop()
	c.Do("GET", "/healthz", nil).Expect(t, 200, nil)
	c.Do("GET", "/readyz", nil).Expect(t, 200, nil)
	setStock(t, c, 1, 1, 1)
	id := uuid.NewString()
	c.Do("PUT", "/api/reservations/"+id, reservationBody(1, 1, 1)).Expect(t, 201, nil)
	c.Do("PUT", "/api/reservations/"+uuid.NewString(), reservationBody(1, 1, 1)).ExpectProblem(t, 409, httpapi.SlugInsufficientStock)
	c.Do("GET", "/no/such/path", nil).ExpectProblem(t, 404, httpapi.SlugNotFound)
	r := c.Do("PATCH", "/api/reservations/"+id, nil)
	r.ExpectProblem(t, 405, httpapi.SlugMethodNotAllowed)
	if r.Header.Get("Allow") == "" {
		t.Fatal("405 without Allow header")
	}
	m := string(c.Do("GET", "/metrics", nil).Expect(t, 200, nil).Body)
	for _, want := range []string{
		`kubesaga_http_requests_total{code="201",route="PUT /api/reservations/{id}",service_name="stocks"} 1`,
		`kubesaga_http_requests_total{code="409",route="PUT /api/reservations/{id}",service_name="stocks"} 1`,
		`kubesaga_http_requests_total{code="404",route="unmatched",service_name="stocks"} 1`,
		`kubesaga_http_request_duration_seconds_bucket{route="PUT /api/reservations/{id}",service_name="stocks",le="+Inf"} 2`,
		`kubesaga_business_events_total{action="create_reservation",outcome="failure",service_name="stocks"} 1`,
		`kubesaga_business_events_total{action="create_reservation",outcome="success",service_name="stocks"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(m, id) {
		t.Error("an id leaked into a metric label")
	}
	// Readiness follows the database.
	if err := s.DB.Close(); err != nil {
		t.Fatal(err)
	}
	c.Do("GET", "/readyz", nil).ExpectProblem(t, 503, httpapi.SlugUnavailable)
	c.Do("GET", "/healthz", nil).Expect(t, 200, nil)
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	s, c, stop := open(t, filepath.Join(t.TempDir(), "stocks.db"))
	defer stop()
	st.CheckOpenAPI(t, st.RepoFile(t, "docs/openapi/stocks.yaml"), s.routes(), c)
}

func TestOpenFailsOnUnusablePath(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if _, err := Open(file, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(filepath.Join(file, "below-a-file.db"), nil); err == nil {
		t.Fatal("want an error when the parent is a file")
	}
}

// TestStockLevelsMeanOneThing: PUT sets the units on hand; available (quantity) is on hand
// minus what open reservations hold; a release never creates units, even when the count
// was set while units were held; a commit takes the units off the shelf.
func TestStockLevelsMeanOneThing(t *testing.T) {
	c := newService(t)
	level := func() StockLevel {
		var l StockLevel
		c.Do("GET", "/api/stocks/101/501", nil).Expect(t, 200, &l)
		return l
	}
	want := func(step string, available, onHand int64) {
		t.Helper()
		if l := level(); l.Quantity != available || l.OnHand != onHand {
			t.Fatalf("%s: available %d, on hand %d; want %d and %d", step, l.Quantity, l.OnHand, available, onHand)
		}
	}
	setStock(t, c, 101, 501, 5)
	a, b := uuid.NewString(), uuid.NewString()
	c.Do("PUT", "/api/reservations/"+a, reservationBody(101, 501, 5)).Expect(t, 201, nil)
	want("5 reserved", 0, 5)

	// An inventory count says 5 are on the shelf: the 5 held are among them.
	setStock(t, c, 101, 501, 5)
	want("count of 5 while 5 are held", 0, 5)
	c.Do("DELETE", "/api/reservations/"+a, nil).Expect(t, 204, nil)
	want("release", 5, 5) // not 10: releasing creates nothing

	c.Do("PUT", "/api/reservations/"+b, reservationBody(101, 501, 3)).Expect(t, 201, nil)
	want("3 reserved", 2, 5)
	setStock(t, c, 101, 501, 1) // fewer on the shelf than held: nothing is available
	want("count below what is held", 0, 1)
	c.Do("POST", "/api/reservations/"+b+"/commit", nil).Expect(t, 200, nil)
	want("commit", 0, 0)
	setStock(t, c, 101, 501, 10)
	c.Do("DELETE", "/api/reservations/"+b, nil).Expect(t, 204, nil)
	want("release of a committed reservation returns its units", 13, 13)
}
