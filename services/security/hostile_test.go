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

package security_test

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/kubesaga/kubesaga/services/httpapi"
)

// hostile is one request that must be refused with a 4xx problem document and
// must write nothing.
type hostile struct {
	name, method, path string
	body               string // sent verbatim; "" sends no body
	headers            []string
	status             int // expected status; 0 accepts any 4xx
	// records: a refused saga call (409, or 404 for a lock or checkout of an unknown
	// cart) whose refusal is recorded by design, as a business event and an
	// idempotent answer; it may write to those two tables only.
	records bool
}

const sqlText = `'; DROP TABLE carts; --`

// Bodies shared by the three services.
var (
	fiveMiB    = `{"storeId":1,"lines":[{"productId":1,"quantity":1,"unitPrice":"` + strings.Repeat("9", 5<<20) + `"}]}`
	fiveMiBPad = strings.Repeat(" ", 5<<20) + `{}`
	deepArrays = `{"storeId":` + strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000) + `}`
	deepObjs   = `{"lines":[` + strings.Repeat(`{"a":`, 10_000) + `1` + strings.Repeat(`}`, 10_000) + `]}`
	deeper     = `{"lines":` + strings.Repeat(`[{"x":`, 100_000) // truncated too
	notJSON    = map[string]string{
		"binary": "\x00\x01\x02\xff\xfe\xfd", "xml": `<cart storeId="1"/>`, "form": "storeId=1&lines=2",
		"array": `[{"storeId":1}]`, "null": `null`, "string": `"x"`, "number": `42`, "empty": ``, "open brace": `{`,
		"trailing garbage": `{"storeId":1} DROP`, "two objects": `{}{}`, "utf16 bom": "\xfe\xff\x00{\x00}",
		"nul in key": "{\"store\x00Id\":1}", "comment": `{/* x */}`, "single quotes": `{'storeId':1}`,
	}
	quantities = []string{`-1`, `0`, `1e30`, `9223372036854775808`, `-9223372036854775809`, `1.5`, `"3"`, `null`,
		`1000001`, `true`, `[]`, `{}`, `1e2`, `0x10`}
	prices = []string{`"99999999999999999999.99"`, `"1e3"`, `"-1.00"`, `"1.005"`, `""`, `" 1.00"`, `"NaN"`, `"1.0"`,
		`"12"`, `"0x10.00"`, `"１.00"`, `12.50`, `null`, `"1000000.01"`, `"01.00"`, `"+1.00"`, `"` + sqlText + `"`}
	badIDs = []string{"nope", "123", url.PathEscape(sqlText), "00000000-0000-0000-0000-00000000000g",
		"0b7a9c523d1e4f6a8b2c9d0e1f2a3b4c", "{0b7a9c52-3d1e-4f6a-8b2c-9d0e1f2a3b4c}", strings.Repeat("a", 4000),
		"0b7a9c52-3d1e-4f6a-8b2c-9d0e1f2a3b4c0", "%00", "..%2f..%2fetc%2fpasswd"}
	badStoreIDs = []string{"0", "-1", "9223372036854775808", "9007199254740992", "1e3", "01", "abc", "1.0", url.PathEscape(sqlText)}
)

// lines builds n distinct lines; priced adds a unit price.
func lines(n int, priced bool) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		if priced {
			fmt.Fprintf(&b, `{"productId":%d,"quantity":1,"unitPrice":"1.00"}`, i+1)
		} else {
			fmt.Fprintf(&b, `{"productId":%d,"quantity":1}`, i+1)
		}
	}
	b.WriteByte(']')
	return b.String()
}

// bodyCases applies the body-level attacks to one endpoint. line(q, p) renders a
// body with one line of quantity q (raw JSON) and price p (raw JSON, ignored by
// unpriced endpoints); full(lines) a body with the given lines array.
func bodyCases(method, path string, line func(q, p string) string, full func(lines string) string, priced bool) []hostile {
	cs := []hostile{
		{name: "5 MiB body", body: fiveMiB, status: 400},
		{name: "5 MiB of spaces", body: fiveMiBPad, status: 400},
		{name: "10000-deep arrays", body: deepArrays, status: 400},
		{name: "10000-deep objects", body: deepObjs, status: 400},
		{name: "100000-deep truncated", body: deeper, status: 400},
		{name: "XML content type", body: line(`1`, `"1.00"`), headers: []string{"Content-Type", "application/xml"}, status: 400},
		{name: "SQL in correlation id", body: line(`-1`, `"1.00"`), headers: []string{httpapi.HeaderCorrelationID, "';DROP/**/TABLE/**/carts;--"}, status: 400},
		{name: "correlation id with spaces", body: line(`1`, `"1.00"`), headers: []string{httpapi.HeaderCorrelationID, sqlText}, status: 400},
		{name: "correlation id too long", body: line(`1`, `"1.00"`), headers: []string{httpapi.HeaderCorrelationID, strings.Repeat("x", 129)}, status: 400},
	}
	if full != nil {
		item := lines(1, priced)
		cs = append(cs,
			hostile{name: "1001 lines", body: full(lines(httpapi.MaxLines+1, priced)), status: 400},
			hostile{name: "20000 lines", body: full(lines(20_000, priced)), status: 400},
			hostile{name: "no lines", body: full(`[]`), status: 400},
			hostile{name: "lines null", body: full(`null`), status: 400},
			hostile{name: "lines object", body: full(`{}`), status: 400},
			hostile{name: "duplicate lines", body: full(item[:len(item)-1] + "," + item[1:]), status: 400},
		)
	}
	for name, b := range notJSON {
		cs = append(cs, hostile{name: "not JSON: " + name, body: b, status: 400})
	}
	for _, q := range quantities {
		cs = append(cs, hostile{name: "quantity " + q, body: line(q, `"1.00"`), status: 400})
	}
	if priced {
		for _, p := range prices {
			cs = append(cs, hostile{name: "price " + p, body: line(`1`, p), status: 400})
		}
	}
	for i := range cs {
		cs[i].method, cs[i].path = method, path
	}
	return cs
}

// cases lists the hostile requests of one service; fixture ids exist already.
func cases(t *testing.T, in *instance, name string) []hostile {
	order, unknown := uuid.NewString(), uuid.NewString()
	var cs []hostile
	add := func(h ...hostile) { cs = append(cs, h...) }
	idCases := func(method, pathFmt, body string) {
		for _, id := range badIDs {
			add(hostile{name: "path id " + id, method: method, path: fmt.Sprintf(pathFmt, id), body: body})
		}
	}
	switch name {
	case "carts":
		cart := string(in.json("POST", "/api/carts", map[string]any{"storeId": 1, "lines": []map[string]any{
			{"productId": 1, "quantity": 2, "unitPrice": "3.00"}}}).must(t, 201).Body)
		cartID := cart[strings.Index(cart, `"id":"`)+6:][:36]
		cartBody := func(lines string) string { return `{"storeId":1,"lines":` + lines + `}` }
		cartLine := func(q, p string) string {
			return cartBody(`[{"productId":1,"quantity":` + q + `,"unitPrice":` + p + `}]`)
		}
		add(bodyCases("POST", "/api/carts", cartLine, cartBody, true)...)
		for _, v := range []string{`"` + sqlText + `"`, `"nope"`, `"{` + unknown + `}"`, `123`, `""`} { // null is an absent id: the service chooses one
			add(hostile{name: "body id " + v, method: "POST", path: "/api/carts", body: `{"id":` + v + `,"storeId":1,"lines":[{"productId":1,"quantity":1,"unitPrice":"1.00"}]}`, status: 400})
		}
		for _, v := range []string{`0`, `-1`, `9223372036854775808`, `1e30`, `"1"`, `"` + sqlText + `"`} {
			add(hostile{name: "storeId " + v, method: "POST", path: "/api/carts", body: `{"storeId":` + v + `,"lines":[{"productId":1,"quantity":1,"unitPrice":"1.00"}]}`, status: 400})
			add(hostile{name: "productId " + v, method: "POST", path: "/api/carts", body: `{"storeId":1,"lines":[{"productId":` + v + `,"quantity":1,"unitPrice":"1.00"}]}`, status: 400})
		}
		orderBody := `{"orderId":"` + order + `"}`
		for _, action := range []string{"lock", "unlock", "checkout"} {
			idCases("POST", "/api/carts/%s/"+action, orderBody)
			for _, v := range []string{`"` + sqlText + `"`, `"nope"`, `1`, `null`, `""`} {
				add(hostile{name: action + " orderId " + v, method: "POST", path: "/api/carts/" + cartID + "/" + action, body: `{"orderId":` + v + `}`, status: 400})
			}
			add(hostile{name: action + " 5 MiB", method: "POST", path: "/api/carts/" + cartID + "/" + action, body: fiveMiB, status: 400})
			add(hostile{name: action + " deep", method: "POST", path: "/api/carts/" + cartID + "/" + action, body: deepObjs, status: 400})
			add(hostile{name: action + " not JSON", method: "POST", path: "/api/carts/" + cartID + "/" + action, body: notJSON["binary"], status: 400})
		}
		// Unknown carts: nothing to lock or check out. (An unlock of an unknown cart is
		// an undo arriving first: it succeeds and leaves a tombstone by design.)
		add(hostile{name: "lock unknown cart", method: "POST", path: "/api/carts/" + unknown + "/lock", body: orderBody, status: 404, records: true},
			hostile{name: "checkout unknown cart", method: "POST", path: "/api/carts/" + unknown + "/checkout", body: orderBody, status: 404, records: true},
			hostile{name: "get unknown cart", method: "GET", path: "/api/carts/" + unknown, status: 404},
			hostile{name: "checkout unlocked cart", method: "POST", path: "/api/carts/" + cartID + "/checkout", body: orderBody, status: 409, records: true})
		idCases("GET", "/api/carts/%s", "")
	case "stocks":
		in.do("PUT", "/api/stocks/1/1", []byte(`{"quantity":10}`)).must(t, 200)
		resBody := func(lines string) string { return `{"storeId":1,"lines":` + lines + `}` }
		resLine := func(q, _ string) string { return resBody(`[{"productId":1,"quantity":` + q + `}]`) }
		add(bodyCases("PUT", "/api/reservations/"+uuid.NewString(), resLine, resBody, false)...)
		levelLine := func(q, _ string) string { return `{"quantity":` + q + `}` }
		for _, h := range bodyCases("PUT", "/api/stocks/1/1", levelLine, nil, false) {
			// An empty shelf is a valid level; the level call is administrative, not a saga
			// step: it neither reads nor records X-Correlation-ID.
			if h.name == "quantity 0" || strings.Contains(h.name, "correlation id") {
				continue
			}
			add(h)
		}
		for _, s := range badStoreIDs {
			add(hostile{name: "level store " + s, method: "PUT", path: "/api/stocks/" + s + "/1", body: `{"quantity":1}`},
				hostile{name: "level product " + s, method: "PUT", path: "/api/stocks/1/" + s, body: `{"quantity":1}`},
				hostile{name: "get level store " + s, method: "GET", path: "/api/stocks/" + s + "/1"})
		}
		idCases("PUT", "/api/reservations/%s", `{"storeId":1,"lines":[{"productId":1,"quantity":1}]}`)
		idCases("DELETE", "/api/reservations/%s", "")
		idCases("POST", "/api/reservations/%s/commit", "")
		idCases("GET", "/api/reservations/%s", "")
		add(hostile{name: "reserve more than stocked", method: "PUT", path: "/api/reservations/" + uuid.NewString(),
			body: `{"storeId":1,"lines":[{"productId":1,"quantity":11}]}`, status: 409, records: true},
			hostile{name: "reserve unknown product", method: "PUT", path: "/api/reservations/" + uuid.NewString(),
				body: `{"storeId":1,"lines":[{"productId":999,"quantity":1}]}`, status: 409, records: true},
			hostile{name: "commit unknown reservation", method: "POST", path: "/api/reservations/" + unknown + "/commit", status: 404},
			hostile{name: "get unknown reservation", method: "GET", path: "/api/reservations/" + unknown, status: 404},
			hostile{name: "get unknown level", method: "GET", path: "/api/stocks/1/999", status: 404})
	case "sales":
		saleBody := func(lines string) string { return `{"storeId":1,"orderId":"` + order + `","lines":` + lines + `}` }
		saleLine := func(q, p string) string {
			return saleBody(`[{"productId":1,"quantity":` + q + `,"unitPrice":` + p + `}]`)
		}
		add(bodyCases("PUT", "/api/sales/"+uuid.NewString(), saleLine, saleBody, true)...)
		for _, v := range []string{`"` + sqlText + `"`, `"nope"`, `1`, `null`, `""`} {
			add(hostile{name: "orderId " + v, method: "PUT", path: "/api/sales/" + uuid.NewString(),
				body: `{"storeId":1,"orderId":` + v + `,"lines":[{"productId":1,"quantity":1,"unitPrice":"1.00"}]}`, status: 400})
		}
		idCases("PUT", "/api/sales/%s", saleLine(`1`, `"1.00"`))
		idCases("DELETE", "/api/sales/%s", "")
		idCases("GET", "/api/sales/%s", "")
		add(hostile{name: "get unknown sale", method: "GET", path: "/api/sales/" + unknown, status: 404},
			hostile{name: "list with SQL limit", method: "GET", path: "/api/sales?limit=" + url.QueryEscape("1; DROP TABLE sales"), status: 400},
			hostile{name: "list with huge limit", method: "GET", path: "/api/sales?limit=99999999999999999999", status: 400})
	}
	add(hostile{name: "events limit SQL", method: "GET", path: "/api/events?limit=" + url.QueryEscape("1 OR 1=1"), status: 400},
		hostile{name: "events limit overflow", method: "GET", path: "/api/events?limit=9223372036854775808", status: 400})
	return cs
}

func TestHostileInputIsRefusedAndWritesNothing(t *testing.T) {
	for _, svc := range services {
		t.Run(svc.name, func(t *testing.T) {
			in := start(t, svc.name)
			cs := cases(t, in, svc.name)
			before := snapshot(t, in.DB)
			send := func(h hostile) {
				var body []byte
				if h.body != "" {
					body = []byte(h.body)
				}
				r := in.do(h.method, h.path, body, h.headers...)
				name := h.method + " " + h.name
				if r.Status < 400 || r.Status > 499 || (h.status != 0 && r.Status != h.status) {
					t.Errorf("%s: status %d, want %d: %.300s", name, r.Status, h.status, r.Body)
					return
				}
				if strings.Contains(string(r.Body), strings.Repeat("9", 100)) || len(r.Body) > 4096 {
					t.Errorf("%s: the answer echoes the input (%d bytes)", name, len(r.Body))
				}
				if r.Status != 404 || r.Header.Get("Content-Type") == httpapi.ContentTypeProblem {
					r.problem(t, 0)
				}
			}
			for _, h := range cs {
				if !h.records {
					send(h)
					if os.Getenv("HOSTILE_DEBUG") != "" {
						sameRows(t, before, snapshot(t, in.DB))
						if t.Failed() {
							t.Fatalf("after %s %s", h.method, h.name)
						}
					}
				}
			}
			sameRows(t, before, snapshot(t, in.DB))
			for _, h := range cs {
				if h.records {
					send(h)
				}
			}
			after := snapshot(t, in.DB)
			for _, audit := range []string{"events", "idempotency_records"} {
				delete(before, audit)
				delete(after, audit)
			}
			sameRows(t, before, after)
			in.healthy(t)
			t.Logf("%d hostile requests refused, nothing written, still ready", len(cs))
		})
	}
}

// TestSQLLookingTextIsData sends SQL in the one free-text field a caller
// controls, the correlation id: it is stored and found as plain data, and the
// tables are all still there.
func TestSQLLookingTextIsData(t *testing.T) {
	in := start(t, "stocks")
	in.do("PUT", "/api/stocks/1/1", []byte(`{"quantity":5}`)).must(t, 200)
	corr := `');DROP/**/TABLE/**/stock_levels;--`
	in.do("PUT", "/api/reservations/"+uuid.NewString(), []byte(`{"storeId":1,"lines":[{"productId":1,"quantity":2}]}`),
		httpapi.HeaderCorrelationID, corr).must(t, 201)
	r := in.do("GET", "/api/events?correlationId="+url.QueryEscape(corr), nil).must(t, 200)
	if !strings.Contains(string(r.Body), `DROP/**/TABLE`) {
		t.Fatalf("event of the correlation id not found: %s", r.Body)
	}
	if r := in.do("GET", "/api/stocks/1/1", nil).must(t, 200); !strings.Contains(string(r.Body), `"quantity":3`) {
		t.Fatalf("level %s, want 3", r.Body)
	}
	if r := in.do("GET", "/api/events?correlationId="+url.QueryEscape("x' OR '1'='1"), nil).must(t, 200); strings.Contains(string(r.Body), "DROP") {
		t.Fatalf("a quoted OR matched other sagas' events: %s", r.Body)
	}
	in.healthy(t)
}
