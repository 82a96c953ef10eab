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

package ordersaga_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kubesaga/kubesaga/internal/ordersaga"
	"github.com/kubesaga/kubesaga/internal/participants"
	"github.com/kubesaga/kubesaga/internal/saga"
	"github.com/kubesaga/kubesaga/services/carts"
	"github.com/kubesaga/kubesaga/services/sales"
)

// cartsService runs the real carts service on a SQLite file behind a real HTTP server.
func cartsService(t *testing.T) (*participants.Carts, *httptest.Server) {
	t.Helper()
	s, err := carts.Open(filepath.Join(t.TempDir(), "carts.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); _ = s.Close() })
	c, err := participants.NewCarts(srv.URL, nil, participants.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}

func act(name string) saga.Action {
	def := ordersaga.Definition(saga.Policy{})
	for i, s := range def.Steps {
		if s.Name == name {
			return saga.Action{Type: saga.ActDo, Step: i, Name: name}
		}
	}
	panic(name)
}

// A lock repeated after the process died between giving back a cart of another store and
// recording the refusal must still say store mismatch (not already-compensated).
func TestLockCartOfAnotherStoreSaysSoAgain(t *testing.T) {
	c, _ := cartsService(t)
	ctx := context.Background()
	cart, err := c.Create(ctx, uuid.NewString(), 102, []participants.Line{{ProductID: 1, Quantity: 1, UnitPrice: "1.00"}})
	if err != nil {
		t.Fatal(err)
	}
	p := ordersaga.Participants{Carts: c}
	in := ordersaga.Input{OrderID: uuid.NewString(), CartID: cart.ID, StoreID: 101}
	for attempt := 1; attempt <= 2; attempt++ {
		err := ordersaga.Call(ctx, p, act("LockCart"), in, &ordersaga.Output{})
		if participants.RefusalType(err) != "store-mismatch" || !strings.Contains(err.Error(), "belongs to store 102") {
			t.Fatalf("attempt %d: %v, want a store-mismatch refusal", attempt, err)
		}
	}
	if got, err := c.Get(ctx, cart.ID); err != nil || got.Status != carts.StatusOpen {
		t.Fatalf("cart %+v (%v), want it OPEN", got, err)
	}
}

// Errors name their call once, and checking out a cart that is OPEN says it is not locked
// by this order.
func TestErrorMessages(t *testing.T) {
	c, srv := cartsService(t)
	ctx := context.Background()
	cart, err := c.Create(ctx, uuid.NewString(), 101, []participants.Line{{ProductID: 1, Quantity: 1, UnitPrice: "1.00"}})
	if err != nil {
		t.Fatal(err)
	}
	p := ordersaga.Participants{Carts: c}
	in := ordersaga.Input{OrderID: uuid.NewString(), CartID: cart.ID, StoreID: 101}

	err = ordersaga.Call(ctx, p, act("CheckoutCart"), in, &ordersaga.Output{})
	if !participants.IsRefusal(err) || !strings.Contains(err.Error(), "is not locked by order "+in.OrderID) {
		t.Fatalf("checkout of an OPEN cart: %v", err)
	}
	if n := strings.Count(err.Error(), "checkout cart"); n != 1 {
		t.Fatalf("refusal names its call %d times: %v", n, err)
	}

	srv.Close() // connection refused: a transient error
	err = ordersaga.Call(ctx, p, act("CheckoutCart"), in, &ordersaga.Output{})
	if participants.IsRefusal(err) || strings.Count(err.Error(), "checkout cart") != 1 {
		t.Fatalf("transient error: %v, want it to name its call once", err)
	}
}

// The pivot's probe (GetSale) against the real sales service: a sale that stands is found
// with its id and total; no sale, and a cancelled one, are refusals (compensation may go
// ahead); an unreachable service is transient (the saga must wait, never guess).
func TestGetSaleProbe(t *testing.T) {
	s, err := sales.Open(filepath.Join(t.TempDir(), "sales.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); _ = s.Close() })
	c, err := participants.NewSales(srv.URL, nil, participants.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p := ordersaga.Participants{Sales: c}
	in := ordersaga.Input{OrderID: uuid.NewString(), StoreID: 101}
	def := ordersaga.Definition(saga.Policy{})
	probe := saga.Action{Type: saga.ActProbe, Step: 2, Name: def.Steps[2].Probe}
	if def.Steps[2].Kind != saga.Pivot || probe.Name != "GetSale" {
		t.Fatalf("step 2 is %+v, want the pivot with the probe GetSale", def.Steps[2])
	}
	call := func() (ordersaga.Output, error) {
		var out ordersaga.Output
		err := ordersaga.Call(ctx, p, probe, in, &out)
		return out, err
	}

	if _, err := call(); !participants.IsRefusal(err) {
		t.Fatalf("no sale yet: %v, want a refusal", err)
	}
	if _, err := c.Create(ctx, in.OrderID, in.StoreID, in.OrderID, []participants.Line{{ProductID: 7, Quantity: 2, UnitPrice: "3.25"}}); err != nil {
		t.Fatal(err)
	}
	if out, err := call(); err != nil || out.SaleID != in.OrderID || out.Total != "6.50" {
		t.Fatalf("sale created: %+v, %v; want it found with its total", out, err)
	}
	if err := c.Cancel(ctx, in.OrderID); err != nil {
		t.Fatal(err)
	}
	if out, err := call(); !participants.IsRefusal(err) || out.SaleID != "" {
		t.Fatalf("sale cancelled: %+v, %v; want a refusal: its effect is undone", out, err)
	}
	srv.Close()
	var transient *participants.TransientError
	if _, err := call(); !errors.As(err, &transient) {
		t.Fatalf("sales unreachable: %v, want a transient error", err)
	}
}
