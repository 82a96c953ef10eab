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

package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kubesaga/kubesaga/internal/ordersaga"
	"github.com/kubesaga/kubesaga/internal/participants"
	"github.com/kubesaga/kubesaga/internal/saga"
)

// The in-memory participant must run the Order saga through our real clients exactly as
// the services do: every Order succeeds, except the refused share, which compensates.
func TestInmemParticipantRunsTheOrderSaga(t *testing.T) {
	im, err := startInmemParticipant()
	if err != nil {
		t.Fatal(err)
	}
	defer im.close()
	po := participants.Options{Timeout: 5 * time.Second, MaxIdleConnsPerHost: 4}
	hc := participants.NewHTTPClient(po)
	carts, _ := participants.NewCarts(im.url, hc, po)
	stocks, _ := participants.NewStocks(im.url, hc, po)
	sales, _ := participants.NewSales(im.url, hc, po)
	ctx := context.Background()
	ids, err := seedCarts(ctx, carts, 50, 4, 20)
	if err != nil {
		t.Fatal(err)
	}
	policy := saga.Policy{MaxAttempts: 2, CompensationMaxAttempts: 2, BackoffBase: time.Millisecond, BackoffMax: time.Millisecond}
	r, err := direct(ctx, ordersaga.Participants{Carts: carts, Stocks: stocks, Sales: sales}, policy, ids, 4)
	if err != nil {
		t.Fatal(err)
	}
	if r.Succeeded != 40 || r.Refused != 10 {
		t.Fatalf("succeeded %d, refused %d; want 40 and 10", r.Succeeded, r.Refused)
	}
	if _, err := carts.Get(ctx, "3f2b6c1e-8d0a-4c5e-9f1b-2a7d6e4c8b90"); !participants.IsRefusal(err) {
		t.Fatalf("an unknown cart: %v, want a 404 refusal", err)
	}
}

// The peer's participant speaks dtm's branch protocol: SUCCESS, or 409 FAILURE for the
// reserve-stock action of a saga asked to be refused (never for its compensation).
func TestPeerParticipantAnswers(t *testing.T) {
	pp, err := startPeerParticipant()
	if err != nil {
		t.Fatal(err)
	}
	defer pp.close()
	for _, c := range []struct {
		path, body string
		code       int
		result     string
	}{
		{"/dtm/reserve-stock", `{"refuse":false}`, http.StatusOK, "SUCCESS"},
		{"/dtm/reserve-stock", `{"refuse":true}`, http.StatusConflict, "FAILURE"},
		{"/dtm/release-stock", `{"refuse":true}`, http.StatusOK, "SUCCESS"},
		{"/dtm/lock-cart", `{"refuse":true}`, http.StatusOK, "SUCCESS"},
	} {
		resp, err := http.Post(pp.url+c.path, "application/json", strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != c.code || !strings.Contains(string(b), c.result) {
			t.Errorf("%s %s: %d %s; want %d %s", c.path, c.body, resp.StatusCode, b, c.code, c.result)
		}
	}
}

func TestManagedFieldsOK(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want bool
	}{
		{[]string{"bench Update (main resource)", "manager Update status"}, true},
		{[]string{"bench Update (main resource)", "manager Update (main resource)", "manager Update status"}, true},
		{[]string{"manager Update status", "manager Apply status"}, false},
		{nil, false},
	} {
		if got := managedFieldsOK(c.in); got != c.want {
			t.Errorf("managedFieldsOK(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}
