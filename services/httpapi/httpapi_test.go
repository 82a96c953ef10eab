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

package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type sample struct {
	Name  *string `json:"name"`
	Count int64   `json:"count"`
	Tags  []struct {
		Key string `json:"key"`
	} `json:"tags"`
}

func TestDecodeBytes(t *testing.T) {
	var ok sample
	if p := DecodeBytes([]byte(` {"name":"a","count":2} `), &ok); p != nil || *ok.Name != "a" || ok.Count != 2 {
		t.Fatalf("valid body: %v %+v", p, ok)
	}
	cases := map[string]string{
		``:                               "body",
		`   `:                            "body",
		`[1]`:                            "body",
		`null`:                           "body",
		`{"name":`:                       "body",
		`{"name":"a"}{}`:                 "body",
		`{"name":"a"} x`:                 "body",
		`{"name":"a",}`:                  "body",
		`{"count":"2"}`:                  "count",
		`{"count":1.5}`:                  "count",
		`{"count":99999999999999999999}`: "count",
		`{"name":1}`:                     "name",
		`{"tags":[{"key":1}]}`:           "tags.key",
		`{"other":1}`:                    "other",
		`{"tags":[{"k":"v"}]}`:           "k",
	}
	for body, field := range cases {
		var s sample
		p := DecodeBytes([]byte(body), &s)
		if p == nil || p.Status != 400 || p.Field != field || p.Slug() != SlugInvalidRequest || !strings.HasPrefix(p.Detail, field+": ") {
			t.Errorf("%q: problem %+v, want field %q", body, p, field)
		}
	}
	if p := DecodeBytes(bytes.Repeat([]byte(" "), MaxBodyBytes+1), &sample{}); p == nil || p.Field != "body" {
		t.Errorf("oversize: %+v", p)
	}
}

func TestDecodeJSONRequestRules(t *testing.T) {
	do := func(ct, body string) *Problem {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		var s sample
		return DecodeJSON(httptest.NewRecorder(), r, &s)
	}
	if p := do("", `{"count":1}`); p != nil {
		t.Errorf("no content type: %v", p)
	}
	if p := do("application/json; charset=utf-8", `{"count":1}`); p != nil {
		t.Errorf("json with charset: %v", p)
	}
	if p := do("application/merge-patch+json", `{"count":1}`); p != nil {
		t.Errorf("+json: %v", p)
	}
	if p := do("application/x-www-form-urlencoded", `{"count":1}`); p == nil || p.Field != "Content-Type" {
		t.Errorf("form: %v", p)
	}
	big := `{"name":"` + strings.Repeat("a", MaxBodyBytes) + `"}`
	if p := do("application/json", big); p == nil || p.Field != "body" || !strings.Contains(p.Detail, "exceed") {
		t.Errorf("oversize: %v", p)
	}
}

func TestProblemRoundTrip(t *testing.T) {
	p := Invalid("lines[0].quantity", "must be positive")
	p.Extensions = map[string]any{"productId": float64(501)}
	rec := httptest.NewRecorder()
	WriteProblem(rec, p)
	if rec.Code != 400 || rec.Header().Get("Content-Type") != ContentTypeProblem {
		t.Fatalf("response %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	var back Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Type != ProblemBase+SlugInvalidRequest || back.Status != 400 || back.Title == "" ||
		back.Detail != "lines[0].quantity: must be positive" || back.Field != "lines[0].quantity" || back.Extensions["productId"] != float64(501) {
		t.Fatalf("round trip = %+v", back)
	}
}

func TestHandlerUnmatchedPanicAndRedirect(t *testing.T) {
	m := NewMetrics("test")
	h, err := NewHandler([]Route{
		{Pattern: "GET /things/{id}", Handler: func(w http.ResponseWriter, r *http.Request) { _ = WriteJSON(w, 200, r.PathValue("id")) }},
		{Pattern: "GET /panic", Handler: func(http.ResponseWriter, *http.Request) { panic("boom") }},
	}, m, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	serve := func(method, path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		return rec
	}
	check := func(rec *httptest.ResponseRecorder, status int, slug string) {
		t.Helper()
		var p Problem
		if rec.Code != status || rec.Header().Get("Content-Type") != ContentTypeProblem || json.Unmarshal(rec.Body.Bytes(), &p) != nil || p.Slug() != slug {
			t.Fatalf("got %d %q %s, want %d %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body, status, slug)
		}
	}
	if rec := serve("GET", "/things/1"); rec.Code != 200 {
		t.Fatalf("matched route: %d", rec.Code)
	}
	check(serve("GET", "/nothing"), 404, SlugNotFound)
	rec := serve("DELETE", "/things/1")
	check(rec, 405, SlugMethodNotAllowed)
	if rec.Header().Get("Allow") == "" {
		t.Fatal("405 lost its Allow header")
	}
	check(serve("GET", "/panic"), 500, SlugInternal)
	if rec := serve("GET", "/things/../things/1"); rec.Code/100 != 3 || rec.Header().Get("Location") == "" {
		t.Fatalf("path-cleaning redirect rewritten: %d %s", rec.Code, rec.Body)
	}
	if _, err := NewHandler([]Route{{Pattern: "/no-method"}}, NewMetrics("x"), slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("a pattern without a method must be refused")
	}
}

func TestParams(t *testing.T) {
	if id, p := ParseUUID("id", "3F2B6C1E-8D0A-4C5E-9F1B-2A7D6E4C8B90"); p != nil || id != "3f2b6c1e-8d0a-4c5e-9f1b-2a7d6e4c8b90" {
		t.Errorf("upper-case UUID: %q %v", id, p)
	}
	for _, bad := range []string{"", "x", "3f2b6c1e8d0a4c5e9f1b2a7d6e4c8b90", "{3f2b6c1e-8d0a-4c5e-9f1b-2a7d6e4c8b90}", "3f2b6c1e-8d0a-4c5e-9f1b-2a7d6e4c8b9z"} {
		if _, p := ParseUUID("id", bad); p == nil || p.Field != "id" {
			t.Errorf("ParseUUID(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"0", "-1", "01", "+1", "1.0", "9007199254740992", ""} {
		if _, p := ParseID("storeId", bad); p == nil {
			t.Errorf("ParseID(%q) accepted", bad)
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	if c, p := CorrelationID(r, "fallback"); p != nil || c != "fallback" {
		t.Errorf("fallback: %q %v", c, p)
	}
	r.Header.Set(HeaderCorrelationID, "has space")
	if _, p := CorrelationID(r, ""); p == nil {
		t.Error("a correlation id with a space was accepted")
	}
}

// TestStrictJSON: field names match case-sensitively and a key appears once per object;
// the problem names the field.
func TestStrictJSON(t *testing.T) {
	type line struct {
		ProductID int64 `json:"productId"`
		Quantity  int64 `json:"quantity"`
	}
	type req struct {
		StoreID int64          `json:"storeId"`
		Lines   []line         `json:"lines"`
		Labels  map[string]int `json:"labels"`
	}
	tests := []struct {
		body, field, rule string
	}{
		{`{"storeid":1}`, "storeid", `case-sensitive: "storeId"`},
		{`{"StoreId":1}`, "StoreId", `case-sensitive: "storeId"`},
		{`{"lines":[{"productId":1,"Quantity":2}]}`, "Quantity", `case-sensitive: "quantity"`},
		{`{"storeId":1,"storeId":2}`, "storeId", "duplicated key"},
		{`{"lines":[{"productId":1,"quantity":2,"quantity":200}]}`, "quantity", "duplicated key"},
		{`{"labels":{"a":1,"a":2}}`, "a", "duplicated key"},
	}
	for _, tc := range tests {
		var dst req
		p := DecodeBytes([]byte(tc.body), &dst)
		if p == nil || p.Status != http.StatusBadRequest || p.Field != tc.field || !strings.Contains(p.Detail, tc.rule) {
			t.Errorf("%s: problem %+v, want 400 naming %q with %q", tc.body, p, tc.field, tc.rule)
		}
	}
	var ok req
	if p := DecodeBytes([]byte(`{"storeId":1,"lines":[{"productId":1,"quantity":2},{"productId":1,"quantity":3}],"labels":{"a":1,"b":1}}`), &ok); p != nil {
		t.Fatalf("a valid body was refused: %+v", p)
	}
}
